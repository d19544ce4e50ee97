// "Today" on the device: a member's route re-ordered offline after a stop is done,
// skipped or added. Pure functions, no DOM or IndexedDB, so node can test them
// (tests/js/route.test.mjs). The server re-plans properly with its solver when
// online; this is the stand-in until then: nearest neighbour from where the
// member is, then 2-opt, on the server's own cost model (great circle times the
// plan's circuity, at the travel mode's speed), with no time windows.
//
// A plan is the object of GET /api/v1/today/ ("plan"); stops carry lon, lat,
// sequence, arrives/leaves ("HH:MM"), distance_m (from the previous stop), state
// ("planned" | "done" | "skipped") and state_at (ISO).

const EARTH_RADIUS_M = 6_371_008.8;
const LAST_SECOND = 24 * 3600 - 1;

export function seconds(hhmm) {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 3600 + m * 60;
}

export function clock(total) {
  const s = Math.max(0, Math.min(Math.round(total), LAST_SECOND));
  return `${String(Math.floor(s / 3600)).padStart(2, "0")}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}`;
}

function place(stop) {
  return stop.lon == null || stop.lat == null ? null : [stop.lon, stop.lat];
}

// Road metres between two [lon, lat] points, rounded as the server rounds them.
export function roadMetres(a, b, circuity) {
  if (!a || !b) return 0;
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return Math.round(2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, h))) * circuity);
}

// Rounded up, as on the server: a plan is never optimistic.
export function travelSeconds(metres, speedKmh) {
  return Math.ceil(metres / (speedKmh / 3.6));
}

function pathLength(from, order, points, end, circuity) {
  let total = 0;
  let prev = from;
  for (const i of order) {
    total += roadMetres(prev, points[i], circuity);
    prev = points[i];
  }
  return total + (end ? roadMetres(prev, end, circuity) : 0);
}

// The indices of points, each next one the nearest to the last.
export function nearestNeighbour(from, points, circuity = 1) {
  const left = new Set(points.map((_, i) => i));
  const order = [];
  let here = from;
  while (left.size) {
    let best = null;
    let bestM = Infinity;
    for (const i of left) {
      const m = roadMetres(here, points[i], circuity);
      if (m < bestM) {
        best = i;
        bestM = m;
      }
    }
    order.push(best);
    left.delete(best);
    here = points[best];
  }
  return order;
}

// Reverses stretches of the path from `from` through `order` to `end` (none: the
// path ends at the last stop) while that shortens it.
export function twoOpt(from, order, points, end, circuity = 1) {
  const route = [...order];
  const at = (k) => (k < 0 ? from : k >= route.length ? end : points[route[k]]);
  const d = (a, b) => (a && b ? roadMetres(a, b, circuity) : 0);
  let improved = true;
  let rounds = 0;
  while (improved && rounds < 100) {
    improved = false;
    rounds += 1;
    for (let i = 0; i < route.length - 1; i += 1) {
      for (let j = i + 1; j < route.length; j += 1) {
        const before = d(at(i - 1), at(i)) + d(at(j), at(j + 1));
        const after = d(at(i - 1), at(j)) + d(at(i), at(j + 1));
        if (after < before) {
          route.splice(i, j - i + 1, ...route.slice(i, j + 1).reverse());
          improved = true;
        }
      }
    }
  }
  return route;
}

export function orderPoints(from, points, end, circuity) {
  const first = nearestNeighbour(from, points, circuity);
  const better = twoOpt(from, first, points, end, circuity);
  // 2-opt only ever shortens; the check keeps that true whatever rounding does.
  return pathLength(from, better, points, end, circuity) <= pathLength(from, first, points, end, circuity)
    ? better : first;
}

function byMarked(a, b) {
  const time = (s) => (s.state_at ? Date.parse(s.state_at) : 0);
  return time(a) - time(b) || a.sequence - b.sequence;
}

// The day's distance, time and visits, skipped stops left out: the server's
// field.today_selectors.totals, counted the same way.
export function totals(plan, stops) {
  const kept = stops.filter((s) => s.state !== "skipped");
  const count = (state) => stops.filter((s) => s.state === state).length;
  if (!kept.length) {
    return { distance_m: 0, duration_s: 0, visits: 0, done: 0, skipped: stops.length,
      remaining: 0, departs: null, back: null };
  }
  const last = kept[kept.length - 1];
  const backM = roadMetres(place(last), plan.end, plan.circuity);
  const departs = seconds(kept[0].arrives) - travelSeconds(kept[0].distance_m, plan.speed_kmh);
  const back = seconds(last.leaves) + travelSeconds(backM, plan.speed_kmh);
  return {
    distance_m: kept.reduce((sum, s) => sum + s.distance_m, 0) + backM,
    duration_s: Math.max(0, back - departs),
    visits: kept.length,
    done: count("done"),
    skipped: count("skipped"),
    remaining: count("planned"),
    departs: clock(Math.max(0, departs)),
    back: clock(back),
  };
}

// Where the rest of the route starts: the member's GPS position, else the last
// stop done, else the plan's start.
export function origin(plan, position = null) {
  if (position) return position;
  const done = plan.stops.filter((s) => s.state === "done" && place(s)).sort(byMarked);
  if (done.length) return place(done[done.length - 1]);
  return plan.start || null;
}

// The plan with its remaining stops re-ordered from `position` (see origin) at
// `now` (seconds since midnight; never before the day starts) and timed again;
// stops done or skipped keep their times and come first, in the order marked.
export function replanLocal(plan, { position = null, now = 0 } = {}) {
  const visited = plan.stops.filter((s) => s.state !== "planned").sort(byMarked);
  const remaining = plan.stops.filter((s) => s.state === "planned");
  const placed = remaining.filter((s) => place(s));
  const unplaced = remaining.filter((s) => !place(s));
  const from = origin(plan, position) || (placed.length ? place(placed[0]) : null);
  const order = from ? orderPoints(from, placed.map(place), plan.end, plan.circuity) : [];
  let t = Math.max(seconds(plan.starts), now);
  let prev = from;
  const service = plan.service_minutes * 60;
  const timed = order.map((i) => {
    const stop = placed[i];
    const metres = roadMetres(prev, place(stop), plan.circuity);
    const arrives = t + travelSeconds(metres, plan.speed_kmh);
    t = arrives + service;
    prev = place(stop);
    return { ...stop, distance_m: metres, arrives: clock(arrives), leaves: clock(t) };
  });
  const rest = unplaced.map((s) => ({ ...s, distance_m: 0, arrives: clock(t), leaves: clock(t) }));
  const stops = [...visited.map((s) => ({ ...s })), ...timed, ...rest]
    .map((s, k) => ({ ...s, sequence: k + 1 }));
  return { ...plan, stops, totals: totals(plan, stops) };
}

// One queued change applied to the plan: a stop's new state (by id, or by case
// for a stop added offline), or a case added (`adding`: its lon, lat, address).
// A change older than what the stop holds does nothing, as on the server.
export function applyChange(plan, change, adding = null) {
  const stops = plan.stops.map((s) => ({ ...s }));
  const caseId = change.add_case ?? change.case;
  const stop = change.stop != null
    ? stops.find((s) => s.id === change.stop)
    : stops.find((s) => s.case === caseId);
  const state = change.add_case != null ? "planned" : change.state;
  if (stop) {
    if (!stop.state_at || new Date(change.at) > new Date(stop.state_at)) {
      stop.state = state;
      stop.state_at = change.at;
    }
  } else if (change.add_case != null && adding) {
    stops.push({
      id: `new-${change.client_id}`,
      sequence: stops.length + 1,
      case: change.add_case,
      household: null,
      address: adding.address || "",
      lon: adding.lon ?? null,
      lat: adding.lat ?? null,
      arrives: plan.ends,
      leaves: plan.ends,
      distance_m: 0,
      state: "planned",
      state_at: change.at,
      added_in_field: true,
    });
  }
  return { ...plan, stops };
}
