// "Today" on the device: a member's route re-ordered offline after a stop is done,
// skipped or added. Pure functions, no DOM or IndexedDB, so node can test them
// (tests/js/route.test.mjs). The server re-plans properly with its solver when
// online; this is the stand-in until then: nearest neighbour from where the
// member is, then 2-opt, on the server's own cost model (great circle times the
// plan's circuity, at the travel mode's speed). When households have visiting
// hours, both steps keep every visit inside one of its windows where they can
// (waiting at the door when early, as the server's solver does); a stop no order
// found reaches in time goes last, marked `late`, rather than off the route.
//
// A plan is the object of GET /api/v1/today/ ("plan"); stops carry lon, lat,
// sequence, arrives/leaves ("HH:MM"), distance_m (from the previous stop), state
// ("planned" | "done" | "skipped"), state_at (ISO) and windows ([{opens, closes}],
// "HH:MM"; none: any time). As on the server, `arrives` is the arrival and
// `leaves` the end of the visit, so a wait for the window lies between them.

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

// --- time windows ------------------------------------------------------------------------

function windowsOf(stop) {
  return (stop.windows || []).map((w) => [seconds(w.opens), seconds(w.closes)]);
}

// When a visit reached at `arrival` can start: the earliest moment inside a window
// that holds the whole visit; null when none can. No windows: at once.
export function serviceStart(arrival, windows, service) {
  if (!windows || !windows.length) return arrival;
  let best = null;
  for (const [opens, closes] of windows) {
    const begin = Math.max(arrival, opens);
    if (begin + service <= closes && (best === null || begin < best)) best = begin;
  }
  return best;
}

// Road metres between every pair of the points, `from` at index n and `end` (if
// any) at n + 1: the window search below looks each one up many times.
function metresTable(from, points, end, circuity) {
  const all = [...points, from, end];
  return all.map((a) => all.map((b) => roadMetres(a, b, circuity)));
}

// Walks `order` from `from` (index n of the table) leaving at `t`: the number of
// stops reached outside every window of theirs, the metres to the end, and when
// the last visit ends.
function walk(order, table, windows, { t, service, speedKmh, end }) {
  const n = windows.length;
  let here = n;
  let late = 0;
  let metres = 0;
  for (const i of order) {
    const leg = table[here][i];
    const arrival = t + travelSeconds(leg, speedKmh);
    const begin = serviceStart(arrival, windows[i], service);
    if (begin === null) {
      late += 1;
      t = arrival + service;
    } else {
      t = begin + service;
    }
    metres += leg;
    here = i;
  }
  if (end) metres += table[here][n + 1];
  return { late, metres, done: t };
}

// Of two equally long paths the one done sooner: it has not waited the morning
// away at a door that opens in the afternoon.
function better(a, b) {
  if (a.late !== b.late) return a.late < b.late;
  return a.metres < b.metres || (a.metres === b.metres && a.done < b.done);
}

// Nearest neighbour in time: next, among the stops that can still be visited in
// a window, the one whose visit starts soonest, unless going there makes another
// stop miss a window it could still meet. What can no longer be met comes last.
function windowNeighbour(table, windows, { t, service, speedKmh }) {
  const n = windows.length;
  const left = new Set(windows.map((_, i) => i));
  const order = [];
  let here = n;
  while (left.size) {
    const reachable = new Map();
    for (const i of left) {
      const begin = serviceStart(t + travelSeconds(table[here][i], speedKmh), windows[i], service);
      if (begin !== null) reachable.set(i, begin);
    }
    let best = null;
    let bestKey = null;
    for (const [i, begin] of reachable) {
      let spoiled = 0;
      for (const j of reachable.keys()) {
        if (j !== i && serviceStart(begin + service + travelSeconds(table[i][j], speedKmh),
          windows[j], service) === null) spoiled += 1;
      }
      const key = [spoiled, begin, table[here][i]];
      if (bestKey === null || key[0] < bestKey[0] || (key[0] === bestKey[0] &&
        (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
        best = i;
        bestKey = key;
      }
    }
    if (best === null) break;
    order.push(best);
    left.delete(best);
    here = best;
    t = bestKey[1] + service;
  }
  // Nothing left can meet a window: the nearest first, from where the walk ended.
  while (left.size) {
    let next = null;
    for (const i of left) if (next === null || table[here][i] < table[here][next]) next = i;
    order.push(next);
    left.delete(next);
    here = next;
  }
  return order;
}

// 2-opt that keeps a reversal only when it shortens the path without missing more
// windows: the distance change is checked first, so the whole walk is timed only
// for reversals that could be kept.
function windowTwoOpt(order, table, windows, opts) {
  const n = windows.length;
  const route = [...order];
  const at = (k) => (k < 0 ? n : k >= route.length ? (opts.end ? n + 1 : null) : route[k]);
  const d = (a, b) => (a === null || b === null ? 0 : table[a][b]);
  let current = walk(route, table, windows, opts);
  let improved = true;
  let rounds = 0;
  while (improved && rounds < 50) {
    improved = false;
    rounds += 1;
    for (let i = 0; i < route.length - 1; i += 1) {
      for (let j = i + 1; j < route.length; j += 1) {
        const gain = d(at(i - 1), at(j)) + d(at(i), at(j + 1)) - d(at(i - 1), at(i)) - d(at(j), at(j + 1));
        if (gain >= 0) continue;
        const trial = [...route.slice(0, i), ...route.slice(i, j + 1).reverse(), ...route.slice(j + 1)];
        const timed = walk(trial, table, windows, opts);
        if (timed.late <= current.late) {
          route.splice(0, route.length, ...trial);
          current = timed;
          improved = true;
        }
      }
    }
  }
  return route;
}

// The order of `points` from `from` at second `t` of the day, each with its
// `windows` ([opens, closes] seconds), for visits of `service` seconds at
// `speedKmh`: the fewest stops missing their windows, then the shortest path.
// `late` lists the stops no window is met for, already at the end of `order`.
export function orderWithWindows(from, points, end, windows, { circuity = 1, t = 0, service = 0, speedKmh = 30 } = {}) {
  const plain = orderPoints(from, points, end, circuity);
  if (!windows.some((w) => w && w.length)) return { order: plain, late: [] };
  const table = metresTable(from, points, end, circuity);
  const opts = { t, service, speedKmh, end };
  const tight = windowTwoOpt(windowNeighbour(table, windows, opts), table, windows, opts);
  let order = better(walk(tight, table, windows, opts), walk(plain, table, windows, opts))
    ? tight : plain;
  // A stop that misses its windows goes last; taking it out can only make the
  // others earlier, but the rounding of each leg may tip one more over: again then.
  let late = [];
  for (;;) {
    const kept = [];
    const missed = [];
    let here = points.length;
    let time = t;
    for (const i of order) {
      const begin = serviceStart(time + travelSeconds(table[here][i], speedKmh), windows[i], service);
      if (begin === null) {
        missed.push(i);
      } else {
        kept.push(i);
        time = begin + service;
        here = i;
      }
    }
    late = [...late, ...missed];
    order = kept;
    if (!missed.length) break;
  }
  // The late ones nearest first from the last visit kept.
  const last = order.length ? points[order[order.length - 1]] : from;
  const tail = nearestNeighbour(last, late.map((i) => points[i]), circuity).map((k) => late[k]);
  return { order: [...order, ...tail], late: tail };
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
  const start = Math.max(seconds(plan.starts), now);
  const service = plan.service_minutes * 60;
  const windows = placed.map(windowsOf);
  const { order } = from
    ? orderWithWindows(from, placed.map(place), plan.end, windows, {
      circuity: plan.circuity, t: start, service, speedKmh: plan.speed_kmh })
    : { order: [] };
  let t = start;
  let prev = from;
  const timed = order.map((i) => {
    const stop = placed[i];
    const metres = roadMetres(prev, place(stop), plan.circuity);
    const arrives = t + travelSeconds(metres, plan.speed_kmh);
    // Said of the times as they come out, so a late stop that still fits at the
    // end of the route is not flagged.
    const begin = serviceStart(arrives, windows[i], service);
    t = (begin ?? arrives) + service;
    prev = place(stop);
    return { ...stop, distance_m: metres, arrives: clock(arrives), leaves: clock(t), late: begin === null };
  });
  const rest = unplaced.map((s) => ({ ...s, distance_m: 0, arrives: clock(t), leaves: clock(t), late: false }));
  const done = visited.map(({ late, ...s }) => s);
  const stops = [...done, ...timed, ...rest]
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
