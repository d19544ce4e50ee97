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
