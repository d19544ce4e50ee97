// The tablet's offline re-planning (static/field/tablet/route.js), run by node:
//   node --test tests/js/  (tests/field/test_route_js.py runs it under pytest).
// The module is served to browsers as a plain .js file; node would take that for
// CommonJS, so it is imported from its source text instead.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const source = readFileSync(new URL("../../static/field/tablet/route.js", import.meta.url), "utf8");
const route = await import("data:text/javascript," + encodeURIComponent(source));

// About 5 N, where the test places lie: 0.001 degree of longitude is about 111 m.
const X = 102.0;
const Y = 5.0;

function stop(id, dx, sequence, extra = {}) {
  return {
    id, sequence, case: 100 + id, household: id, address: `house ${id}`,
    lon: X + dx, lat: Y, arrives: "09:00", leaves: "09:30", distance_m: 500,
    state: "planned", state_at: null, added_in_field: false, ...extra,
  };
}

function plan(stops, extra = {}) {
  return {
    id: 1, day: "2026-01-05", mode: "motorcycle", speed_kmh: 30, circuity: 1.3,
    service_minutes: 30, starts: "08:00", ends: "17:00", start: [X, Y], end: [X, Y],
    stops, totals: null, ...extra,
  };
}

test("clock and seconds read and write HH:MM, clamped to the day", () => {
  assert.equal(route.seconds("08:30"), 30600);
  assert.equal(route.clock(30600), "08:30");
  assert.equal(route.clock(30659), "08:30");
  assert.equal(route.clock(90000), "23:59");
  assert.equal(route.clock(-5), "00:00");
});

test("road metres are the great circle times circuity, as on the server", () => {
  const straight = route.roadMetres([X, Y], [X + 0.01, Y], 1);
  assert.ok(Math.abs(straight - 1108) <= 2, String(straight));
  const road = route.roadMetres([X, Y], [X + 0.01, Y], 1.3);
  assert.ok(Math.abs(road - straight * 1.3) <= 1, String(road));
  assert.equal(route.travelSeconds(500, 30), 60);
  assert.equal(route.travelSeconds(501, 30), 61);
});

test("nearest neighbour goes to the closest point each time", () => {
  const points = [[X + 0.003, Y], [X + 0.001, Y], [X + 0.002, Y]];
  assert.deepEqual(route.nearestNeighbour([X, Y], points), [1, 2, 0]);
});

test("2-opt undoes a crossing that nearest neighbour makes", () => {
  // Five houses north-east of the start (offsets in degrees): nearest neighbour
  // goes 3, 1, 0, 4, 2 and comes back across its own path; 2-opt uncrosses it.
  const points = [[0, 0.0016], [0.0011, 0.0015], [0.0024, 0.0026], [0.0006, 0.0001], [0.0002, 0.0032]]
    .map(([dx, dy]) => [X + dx, Y + dy]);
  const nn = route.nearestNeighbour([X, Y], points, 1.3);
  assert.deepEqual(nn, [3, 1, 0, 4, 2]);
  const better = route.twoOpt([X, Y], nn, points, [X, Y], 1.3);
  const length = (order, pts = points) => {
    let prev = [X, Y];
    let total = 0;
    for (const i of order) { total += route.roadMetres(prev, pts[i], 1.3); prev = pts[i]; }
    return total + route.roadMetres(prev, [X, Y], 1.3);
  };
  assert.deepEqual(better, [3, 1, 2, 4, 0]);
  assert.ok(length(better) < length(nn) - 150, `${length(better)} < ${length(nn)}`);
  assert.deepEqual(route.orderPoints([X, Y], points, [X, Y], 1.3), better);
  // Never worse than nearest neighbour, on random points too.
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let n = 0; n < 20; n += 1) {
    const pts = Array.from({ length: 12 }, () => [X + random() * 0.02, Y + random() * 0.02]);
    const first = route.nearestNeighbour([X, Y], pts, 1.3);
    const opt = route.twoOpt([X, Y], first, pts, [X, Y], 1.3);
    assert.deepEqual([...opt].sort((a, b) => a - b), pts.map((_, i) => i));
    assert.ok(length(opt, pts) <= length(first, pts));
  }
});

test("skipping and marking done re-orders and re-times the rest from the last stop done", () => {
  // Planned in a zigzag: 1 at 300 m east, 2 at 900 m, 3 at 100 m, 4 at 600 m.
  const day = plan([stop(1, 0.003, 1), stop(2, 0.009, 2), stop(3, 0.001, 3), stop(4, 0.006, 4)]);
  let changed = route.applyChange(day, { client_id: "a", stop: 3, state: "skipped", at: "2026-01-05T09:00:00+07:00" });
  changed = route.applyChange(changed, { client_id: "b", stop: 1, state: "done", at: "2026-01-05T09:05:00+07:00" });
  const after = route.replanLocal(changed, { now: route.seconds("09:10") });
  // Marked first, in the order marked; then the rest nearest first from stop 1.
  assert.deepEqual(after.stops.map((s) => s.id), [3, 1, 4, 2]);
  assert.deepEqual(after.stops.map((s) => s.sequence), [1, 2, 3, 4]);
  assert.deepEqual(after.stops.map((s) => s.state), ["skipped", "done", "planned", "planned"]);
  const [, , next, last] = after.stops;
  // 300 m to 600 m: 333 m by the straight line, 433 m by road, 52 s by motorcycle.
  assert.equal(next.distance_m, route.roadMetres([X + 0.003, Y], [X + 0.006, Y], 1.3));
  assert.equal(next.arrives, "09:10");
  assert.equal(next.leaves, "09:40");
  assert.equal(last.arrives, "09:41");
  assert.equal(after.totals.visits, 3);
  assert.equal(after.totals.done, 1);
  assert.equal(after.totals.skipped, 1);
  assert.equal(after.totals.remaining, 2);
  // Leaves stop 2 at 10:11, then 1.3 km back to the start.
  assert.equal(after.totals.back, "10:13");
  // The original is left as it was: the caller decides what to keep.
  assert.equal(day.stops[0].state, "planned");
});

test("the GPS position, when known, is where the rest starts", () => {
  const day = plan([stop(1, 0.001, 1), stop(2, 0.009, 2)]);
  const after = route.replanLocal(day, { position: [X + 0.0095, Y], now: route.seconds("10:00") });
  assert.deepEqual(after.stops.map((s) => s.id), [2, 1]);
  assert.equal(after.stops[0].arrives, "10:00");
});

test("before the day starts, the rest is timed from its start", () => {
  const after = route.replanLocal(plan([stop(1, 0.001, 1)]), { now: route.seconds("06:00") });
  assert.ok(after.stops[0].arrives >= "08:00");
});

test("an older change does not undo a newer one", () => {
  const day = plan([stop(1, 0.001, 1, { state: "done", state_at: "2026-01-05T10:00:00+07:00" })]);
  const same = route.applyChange(day, { client_id: "x", stop: 1, state: "skipped", at: "2026-01-05T09:00:00+07:00" });
  assert.equal(same.stops[0].state, "done");
});

test("a case added offline joins the route where it fits, and is found again by its case", () => {
  const day = plan([stop(1, 0.001, 1), stop(2, 0.009, 2)]);
  const added = route.applyChange(
    day,
    { client_id: "c1", add_case: 555, at: "2026-01-05T09:00:00+07:00" },
    { lon: X + 0.005, lat: Y, address: "new house" },
  );
  const after = route.replanLocal(added, { now: route.seconds("09:00") });
  assert.deepEqual(after.stops.map((s) => s.case), [101, 555, 102]);
  const fresh = after.stops[1];
  assert.equal(fresh.id, "new-c1");
  assert.equal(fresh.added_in_field, true);
  const done = route.applyChange(after, { client_id: "c2", case: 555, state: "done", at: "2026-01-05T09:30:00+07:00" });
  assert.equal(done.stops.find((s) => s.case === 555).state, "done");
  // Adding it again changes nothing.
  const twice = route.applyChange(added, { client_id: "c1", add_case: 555, at: "2026-01-05T09:00:00+07:00" }, { lon: X, lat: Y });
  assert.equal(twice.stops.length, 3);
});

test("totals match the server's for an untouched plan", () => {
  const day = plan([stop(1, 0.003, 1, { distance_m: 433, arrives: "08:01", leaves: "08:31" })]);
  const t = route.totals(day, day.stops);
  assert.equal(t.distance_m, 433 + route.roadMetres([X + 0.003, Y], [X, Y], 1.3));
  assert.equal(t.departs, "08:00");
  assert.equal(t.visits, 1);
});

// --- time windows ---------------------------------------------------------------------

function timedPlain(day, now) {
  // The plain heuristic's order (nearest neighbour, 2-opt), timed with waits as the
  // new one is: what the tablet did before it knew of windows.
  const placed = day.stops;
  const order = route.orderPoints(day.start, placed.map((s) => [s.lon, s.lat]), day.end, day.circuity);
  let t = now;
  let prev = day.start;
  return order.map((i) => {
    const s = placed[i];
    const arrival = t + route.travelSeconds(route.roadMetres(prev, [s.lon, s.lat], day.circuity), day.speed_kmh);
    const windows = (s.windows || []).map((w) => [route.seconds(w.opens), route.seconds(w.closes)]);
    const begin = route.serviceStart(arrival, windows, day.service_minutes * 60);
    t = (begin ?? arrival) + day.service_minutes * 60;
    prev = [s.lon, s.lat];
    return { id: s.id, late: begin === null };
  });
}

test("a visit starts inside a window that holds all of it, waiting when early", () => {
  const half = 1800;
  assert.equal(route.serviceStart(100, [], half), 100);
  assert.equal(route.serviceStart(100, [[3600, 7200]], half), 3600);
  assert.equal(route.serviceStart(5400, [[3600, 7200]], half), 5400);
  assert.equal(route.serviceStart(5401, [[3600, 7200]], half), null);
  // The first window is missed, the second one taken.
  assert.equal(route.serviceStart(6000, [[3600, 7200], [9000, 12000]], half), 9000);
});

test("a window closing early is visited first, where nearest neighbour would miss it", () => {
  // House 1 is 144 m away with no window; house 2, 1.4 km away, only until 09:00.
  const day = plan([
    stop(1, 0.001, 1),
    stop(2, 0.01, 2, { windows: [{ opens: "08:00", closes: "09:00" }] }),
  ]);
  const now = route.seconds("08:00");
  // Nearest neighbour goes to 1 first, leaves at 08:30 and reaches 2 at 08:33:
  // the half-hour visit would end after 09:00.
  assert.deepEqual(timedPlain(day, now), [{ id: 1, late: false }, { id: 2, late: true }]);

  const after = route.replanLocal(day, { now });
  assert.deepEqual(after.stops.map((s) => s.id), [2, 1]);
  assert.deepEqual(after.stops.map((s) => s.late), [false, false]);
  assert.equal(after.stops[0].arrives, "08:02");
  assert.equal(after.stops[0].leaves, "08:32");
  assert.ok(after.stops[0].leaves <= "09:00");
});

test("going somewhere that would make another house miss its window waits", () => {
  // 1 and 2 have no window, 3 closes at 09:10: after 1, going to 2 first would
  // bring 3 in at 09:01, too late for a half-hour visit.
  const day = plan([
    stop(1, 0.001, 1),
    stop(2, 0.002, 2),
    stop(3, 0.004, 3, { windows: [{ opens: "08:00", closes: "09:10" }] }),
  ]);
  const now = route.seconds("08:00");
  assert.ok(timedPlain(day, now).some((s) => s.late));
  const after = route.replanLocal(day, { now });
  assert.deepEqual(after.stops.map((s) => s.late), [false, false, false]);
  const third = after.stops.find((s) => s.id === 3);
  assert.ok(third.leaves <= "09:10", third.leaves);
});

test("an early visit waits for the window to open", () => {
  const day = plan([
    stop(1, 0.001, 1, { windows: [{ opens: "16:00", closes: "19:00" }] }),
    stop(2, 0.003, 2),
  ], { ends: "19:00" });
  const after = route.replanLocal(day, { now: route.seconds("08:00") });
  assert.deepEqual(after.stops.map((s) => s.id), [2, 1]);
  const evening = after.stops[1];
  assert.equal(evening.late, false);
  assert.ok(evening.arrives < "16:00", evening.arrives);
  assert.equal(evening.leaves, "16:30");
});

test("a stop no window can be met goes last, flagged late, never dropped", () => {
  const day = plan([
    stop(1, 0.001, 1),
    // Close by, but its window is over by now, and another is shorter than a visit.
    stop(2, 0.0015, 2, { windows: [{ opens: "06:00", closes: "07:00" }] }),
    stop(3, 0.0012, 3, { windows: [{ opens: "08:00", closes: "08:20" }] }),
    stop(4, 0.003, 4),
  ]);
  const after = route.replanLocal(day, { now: route.seconds("08:00") });
  assert.equal(after.stops.length, 4);
  assert.deepEqual(after.stops.slice(0, 2).map((s) => s.id), [1, 4]);
  assert.deepEqual(new Set(after.stops.slice(2).map((s) => s.id)), new Set([2, 3]));
  assert.deepEqual(after.stops.map((s) => s.late), [false, false, true, true]);
  assert.deepEqual(after.stops.map((s) => s.sequence), [1, 2, 3, 4]);
  assert.equal(after.totals.remaining, 4);
});

test("without windows the order is the plain heuristic's", () => {
  const stops = [stop(1, 0.003, 1), stop(2, 0.009, 2), stop(3, 0.001, 3), stop(4, 0.006, 4)];
  const after = route.replanLocal(plan(stops), { now: route.seconds("08:00") });
  assert.deepEqual(after.stops.map((s) => s.id), [3, 1, 4, 2]);
  assert.ok(after.stops.every((s) => s.late === false));
});

test("eighty stops with windows: quick, none lost, none worse than the plain order", () => {
  let seed = 11;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const hours = ["08:00", "10:00", "13:00", "15:00", "17:00"];
  for (let round = 0; round < 3; round += 1) {
    const stops = Array.from({ length: 80 }, (_, k) => {
      const dx = random() * 0.03;
      const dy = random() * 0.03;
      const windowed = random() < 0.4;
      const opens = hours[Math.floor(random() * 4)];
      const closes = hours[hours.indexOf(opens) + 1];
      return stop(k + 1, dx, k + 1, {
        lat: Y + dy, service: 0, windows: windowed ? [{ opens, closes }] : [],
      });
    });
    const day = plan(stops, { service_minutes: 5, ends: "19:00" });
    const now = route.seconds("08:00");
    const t0 = performance.now();
    const after = route.replanLocal(day, { now });
    const took = performance.now() - t0;
    assert.ok(took < 1500, `${took} ms`);
    assert.deepEqual(after.stops.map((s) => s.id).sort((a, b) => a - b), stops.map((s) => s.id));
    const late = after.stops.filter((s) => s.late).length;
    assert.ok(late <= timedPlain(day, now).filter((s) => s.late).length);
    // Late ones at the end; every other one ends inside a window of its own.
    const firstLate = after.stops.findIndex((s) => s.late);
    if (firstLate >= 0) assert.ok(after.stops.slice(firstLate).every((s) => s.late));
    for (const s of after.stops.filter((x) => !x.late && x.windows.length)) {
      assert.ok(s.windows.some((w) => s.leaves <= w.closes && s.leaves >= w.opens), JSON.stringify(s));
    }
  }
});
