// "My area": a search team member's cases on a map and in a list, and the visits
// they record, offline first; a volunteer's "My zone" is the same app, with their
// zone for area and their home for base. Everything is drawn from IndexedDB; the
// network only refreshes it (sync.js).
/* global L */
import * as db from "./db.js";
import { FOUND, MOVED, RANK, movesHousehold, progressOf } from "./rule.js";
import { wipe } from "./device.js";
import { origin as routeOrigin } from "./route.js";
import { SyncError, changeToday, fetchArea, sync, syncToday } from "./sync.js";
import { escapeHtml } from "./text.js";

const T = JSON.parse(document.getElementById("tablet-strings").textContent);
const SYNC_EVERY_MS = 60_000;
const COLOURS = { new: "#c62828", visited: "#ef6c00", found: "#1565c0", resolved: "#2e7d32" };

const state = {
  area: null, cases: [], queue: [], fix: null, open: null, bounded: false, newHome: null,
  today: null, tab: "list", routeBounded: false,
};

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child != null));
  return node;
}

function label(list, value) {
  const found = (list || []).find((item) => item.value === value);
  return found ? found.label : value;
}

// --- what a case looks like with its queued visits ------------------------------------

function pendingOf(caseId) {
  return state.queue.filter((visit) => visit.case === caseId);
}

// A case lies where the child lives: the new home the field reported, else the
// registry's household. The map, distances and "the house is here" use that place.
function view(one) {
  const pending = pendingOf(one.id);
  const progress = progressOf([...one.visits, ...pending]);
  const best = RANK[progress] > RANK[one.progress] ? progress : one.progress;
  const place = { ...(one.whereabouts || one.household) };
  for (const visit of pending) {
    if (movesHousehold(visit)) {
      Object.assign(place, { lon: visit.lon, lat: visit.lat, precision: "field_gps" });
    }
  }
  return { ...one, progress: best, place, pending };
}

function origin() {
  if (state.fix) return [state.fix.lon, state.fix.lat];
  if (state.area?.zone?.base) return state.area.zone.base;
  const team = (state.area?.teams || []).find((t) => t.base);
  return team ? team.base : null;
}

function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

function distanceText(metres) {
  if (metres == null) return T.none;
  return metres < 1000
    ? format(T.m, { d: Math.round(metres) })
    : format(T.km, { d: (metres / 1000).toFixed(1) });
}

// --- map --------------------------------------------------------------------------------

const mapNode = document.getElementById("map");
const map = L.map(mapNode, { zoomControl: true, tap: true }).setView([15.0, 101.0], 6);
L.tileLayer(mapNode.dataset.tileUrl, {
  maxZoom: 19,
  attribution: mapNode.dataset.tileAttribution,
}).addTo(map);
const areaLayer = L.geoJSON(null, {
  style: { color: "#0b3d91", weight: 3, fillOpacity: 0.06 },
}).addTo(map);
const villageLayer = L.geoJSON(null, {
  pointToLayer: (feature, latlng) =>
    L.circleMarker(latlng, { radius: 5, color: "#333", weight: 2, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(escapeHtml(`${feature.properties.name} (${feature.properties.moo ?? ""})`)),
}).addTo(map);
// A volunteer's zone: every household in it, a case or not, under the cases'
// markers, and the volunteer's home.
const zoneLayer = L.layerGroup().addTo(map);
const households = L.markerClusterGroup({ maxClusterRadius: 40, disableClusteringAtZoom: 18 }).addTo(map);
let me = null;

function houseText(house) {
  return [format(T.household, { house_no: house.house_no }), house.moo ? `ม.${house.moo}` : "",
    house.village_name].filter(Boolean).join(" ");
}

function drawZone(zone) {
  zoneLayer.clearLayers();
  const summary = document.getElementById("zone-summary");
  if (!zone) return;
  for (const house of zone.households) {
    if (house.lon == null || house.lat == null) continue;
    L.circleMarker([house.lat, house.lon], {
      radius: 6, color: "#455a64", weight: 2, fillColor: "#eceff1", fillOpacity: 1,
      className: "zone-household",
    }).bindTooltip(escapeHtml(houseText(house))).addTo(zoneLayer);
  }
  if (zone.base) {
    L.marker([zone.base[1], zone.base[0]], {
      icon: L.divIcon({ className: "zone-home", html: "⌂", iconSize: [34, 34] }),
      keyboard: false,
    }).bindTooltip(T.home).addTo(zoneLayer);
  }
  if (summary) summary.textContent = format(T.zone, { name: zone.name, n: zone.households.length });
}

function drawArea() {
  areaLayer.clearLayers();
  villageLayer.clearLayers();
  if (!state.area) return;
  areaLayer.addData(state.area.areas);
  villageLayer.addData(state.area.villages);
  drawZone(state.area.zone);
  const home = state.area.zone?.base;
  if (!state.bounded && areaLayer.getLayers().length) {
    const bounds = areaLayer.getBounds();
    // A volunteer sets out from home: it belongs in the first view of the zone.
    if (home) bounds.extend([home[1], home[0]]);
    map.fitBounds(bounds, { padding: [20, 20] });
    state.bounded = true;
  } else if (!state.bounded && home) {
    // A zone with no placed household yet: the volunteer's street is where it will be.
    map.setView([home[1], home[0]], 16);
    state.bounded = true;
  }
}

function drawHouseholds(views) {
  households.clearLayers();
  for (const one of views) {
    const { lon, lat } = one.place;
    if (lon == null || lat == null) continue;
    const marker = L.circleMarker([lat, lon], {
      radius: 11,
      color: "#000",
      weight: 2,
      fillColor: COLOURS[one.progress],
      fillOpacity: 0.9,
      className: `household progress-${one.progress}`,
    });
    marker.bindTooltip(escapeHtml(one.child.name));
    marker.on("click", () => openCase(one.id));
    households.addLayer(marker);
  }
}

function drawMe() {
  if (!state.fix) return;
  const latlng = [state.fix.lat, state.fix.lon];
  if (!me) {
    me = {
      circle: L.circle(latlng, { radius: state.fix.accuracy, color: "#1565c0", weight: 1 }).addTo(map),
      dot: L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 3, fillColor: "#1565c0", fillOpacity: 1 }).addTo(map),
    };
  } else {
    me.circle.setLatLng(latlng).setRadius(state.fix.accuracy);
    me.dot.setLatLng(latlng);
  }
}

// --- list -------------------------------------------------------------------------------

const list = document.getElementById("case-list");
const filterProgress = document.getElementById("filter-progress");
const filterKind = document.getElementById("filter-kind");

function drawList(views) {
  const from = origin();
  const rows = views
    .filter((one) => !filterProgress.value || one.progress === filterProgress.value)
    .filter((one) => !filterKind.value || one.kind === filterKind.value)
    .map((one) => {
      const { lon, lat } = one.place;
      const d = from && lon != null && lat != null ? distanceM(from, [lon, lat]) : null;
      return { one, d };
    })
    .sort((a, b) => (a.d ?? Infinity) - (b.d ?? Infinity) || a.one.child.name.localeCompare(b.one.child.name));
  document.getElementById("list-count").textContent = rows.length
    ? format(T.cases, { n: rows.length })
    : T.noCases;
  list.replaceChildren(
    ...rows.map(({ one, d }) =>
      el("li", {},
        el("button", { type: "button", class: "case-row", "data-case": String(one.id), "data-progress": one.progress },
          el("span", { class: "case-name", text: one.child.name }),
          el("span", { class: "case-meta", text: [
            one.child.age != null ? format(T.age, { n: one.child.age }) : null,
            one.place.village_name || one.place.subdistrict_name,
          ].filter(Boolean).join(" · ") }),
          el("span", { class: "case-distance", text: distanceText(d) }),
          el("span", { class: `badge progress-${one.progress}`, text: T.progress[one.progress] }),
          one.pending.length ? el("span", { class: "badge pending", text: T.waiting }) : null,
        ),
      ),
    ),
  );
  list.querySelectorAll(".case-row").forEach((button) =>
    button.addEventListener("click", () => openCase(Number(button.dataset.case))),
  );
}

// --- case panel -------------------------------------------------------------------------

const panel = document.getElementById("case-panel");
const listView = document.getElementById("list-view");
const form = document.getElementById("visit-form");

function fact(term, value) {
  return el("div", {}, el("dt", { text: term }), el("dd", { text: value || T.none }));
}

function drawPanel() {
  const raw = state.cases.find((one) => one.id === state.open);
  if (!raw) {
    closeCase();
    return;
  }
  const one = view(raw);
  const h = one.household;
  const w = one.whereabouts;
  panel.dataset.case = String(one.id);
  const onRoute = todayPlan()?.stops.find((stop) => stop.case === one.id);
  addToday.hidden = !todayPlan() || (onRoute && onRoute.state !== "skipped") || one.place.lon == null;
  document.getElementById("case-name").textContent = one.child.name;
  const address = [h.house_no, h.moo ? `ม.${h.moo}` : "", h.village_name, h.subdistrict_name]
    .filter(Boolean).join(" ");
  document.getElementById("case-facts").replaceChildren(...[
    fact(T.labels.progress, T.progress[one.progress]),
    fact(T.labels.kind, T.kinds[one.kind]),
    fact(T.labels.age, one.child.age != null ? format(T.age, { n: one.child.age }) : null),
    fact(T.labels.birthDate, one.child.birth_date),
    fact(T.labels.nationalId, one.child.national_id),
    one.child.g_code ? fact(T.labels.gCode, one.child.g_code) : null,
    fact(T.labels.address, h.address || address),
    w ? fact(T.labels.livesNow, [w.address, w.subdistrict_name].filter(Boolean).join(" · ")) : null,
    fact(T.labels.precision, T.precisions[one.place.precision] || one.place.precision),
    fact(T.labels.note, one.note),
  ].filter(Boolean));
  const outcomes = state.area?.outcomes || [];
  const resolutions = state.area?.resolutions || [];
  const history = [
    ...one.visits.map((visit) => ({ visit, pending: false })),
    ...one.pending.map((visit) => ({ visit, pending: true })),
  ].sort((a, b) => (a.visit.at < b.visit.at ? -1 : 1));
  document.getElementById("case-visits").replaceChildren(
    ...(history.length
      ? history.map(({ visit, pending }) =>
        el("li", { class: pending ? "visit pending" : "visit" },
          el("span", { class: "visit-at", text: new Date(visit.at).toLocaleString(document.documentElement.lang) }),
          " ",
          el("strong", { text: label(outcomes, visit.outcome) }),
          visit.resolution ? ` · ${label(resolutions, visit.resolution)}` : null,
          visit.detail ? ` · ${visit.detail}` : null,
          visit.note ? el("div", { class: "visit-note", text: visit.note }) : null,
          pending ? el("span", { class: "badge pending", text: T.waiting }) : null,
        ))
      : [el("li", { class: "visit none", text: T.noVisits })]),
  );
}

function fillSelect(select, items, withBlank) {
  select.replaceChildren(
    ...(withBlank ? [el("option", { value: "", text: T.choose })] : []),
    ...items.map((item) => el("option", { value: item.value, text: item.label })),
  );
}

function formVisibility() {
  const found = FOUND.includes(form.outcome.value);
  form.querySelector("[data-when=found]").hidden = !found;
  if (!found) form.resolution.value = "";
  const school = found && form.resolution.value === "returned_to_school";
  form.querySelector("[data-when=school]").hidden = !school;
  if (!school) form.school.value = "";
  const moved = MOVED.includes(form.outcome.value);
  form.querySelector("[data-when=moved]").hidden = !moved;
  if (!moved) state.newHome = null;
  form.querySelector("[data-when=found-id]").hidden = !(moved || found);
  if (!(moved || found)) form.found_id.value = "";
  document.getElementById("new-home").textContent = state.newHome
    ? format(T.newHomeSet, { m: Math.round(state.newHome.accuracy) })
    : T.newHomeNone;
  form.house_here.disabled = !state.fix;
  form.use_gps.disabled = !state.fix;
  document.getElementById("fix").textContent = state.fix
    ? format(T.fix, { m: Math.round(state.fix.accuracy) })
    : T.noFix;
}

function openCase(id) {
  state.open = id;
  state.newHome = null;
  form.reset();
  fillSelect(form.outcome, state.area?.outcomes || [], true);
  fillSelect(form.resolution, state.area?.resolutions || [], true);
  fillSelect(form.school, (state.area?.schools || []).map((s) => ({ value: s.code, label: s.name })), true);
  formVisibility();
  drawPanel();
  listView.hidden = true;
  todayView.hidden = true;
  panel.hidden = false;
  panel.scrollTop = 0;
}

function closeCase() {
  state.open = null;
  panel.hidden = true;
  showTab(state.tab);
}

// Milliseconds too: the order two stops were marked in, a tap apart, is the order
// the server keeps them in.
function isoMillis(date) {
  const iso = isoWithOffset(date);
  return `${iso.slice(0, 19)}.${String(date.getMilliseconds()).padStart(3, "0")}${iso.slice(19)}`;
}

function isoWithOffset(date) {
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

form.outcome.addEventListener("change", formVisibility);
form.resolution.addEventListener("change", formVisibility);
document.getElementById("new-home-gps").addEventListener("click", () => {
  if (!state.fix) {
    notify(T.needFix);
    return;
  }
  // Taken now, not at saving: the member may walk back to the road before saving.
  state.newHome = { ...state.fix };
  formVisibility();
});
form.house_here.addEventListener("change", () => {
  // The house's position is the GPS fix: one needs the other.
  if (form.house_here.checked) form.use_gps.checked = true;
});
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (state.open == null) return;
  const withFix = state.fix && (form.use_gps.checked || form.house_here.checked);
  const newHome = MOVED.includes(form.outcome.value) ? state.newHome : null;
  if ((form.use_gps.checked || form.house_here.checked) && !state.fix) {
    notify(T.needFix);
    return;
  }
  const visit = {
    client_id: crypto.randomUUID(),
    case: state.open,
    at: isoWithOffset(new Date()),
    outcome: form.outcome.value,
    resolution: form.resolution.value,
    school: form.school.value,
    detail: form.detail.value.trim(),
    note: form.note.value.trim(),
    lon: withFix ? state.fix.lon : null,
    lat: withFix ? state.fix.lat : null,
    accuracy_m: withFix ? state.fix.accuracy : null,
    house_here: Boolean(withFix && form.house_here.checked),
    moved_lon: newHome ? newHome.lon : null,
    moved_lat: newHome ? newHome.lat : null,
    found_id: form.found_id.value.trim(),
  };
  await db.put("queue", visit);
  await reload();
  openCase(visit.case);
  notify(T.saved, false);
  trySync();
});

document.getElementById("back").addEventListener("click", closeCase);
filterProgress.addEventListener("change", () => drawList(state.cases.map(view)));
filterKind.addEventListener("change", () => drawList(state.cases.map(view)));

// --- "Today": the member's route of the day -----------------------------------------------

const listTab = document.getElementById("tab-list");
const todayTab = document.getElementById("tab-today");
const todayView = document.getElementById("today-view");
const todayStops = document.getElementById("today-stops");
const addToday = document.getElementById("add-today");
const routeLayer = L.layerGroup();
const STATE_MARK = { done: "✓", skipped: "✕" };

function fixPoint() {
  return state.fix ? [state.fix.lon, state.fix.lat] : null;
}

// The kept route, if it is today's: yesterday's, kept offline, is no plan for today.
function todayPlan() {
  const plan = state.today;
  return plan && plan.day === isoWithOffset(new Date()).slice(0, 10) ? plan : null;
}

function showTab(tab) {
  state.tab = tab;
  listTab.setAttribute("aria-selected", String(tab === "list"));
  todayTab.setAttribute("aria-selected", String(tab === "today"));
  if (state.open == null) {
    listView.hidden = tab !== "list";
    todayView.hidden = tab !== "today";
  }
  if (tab === "today") routeLayer.addTo(map);
  else routeLayer.remove();
  drawToday();
}

function durationText(total) {
  const minutes = Math.ceil(total / 60);
  return minutes >= 60
    ? format(T.hoursMinutes, { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, "0") })
    : format(T.minutes, { m: minutes });
}

function stopName(stop) {
  const one = state.cases.find((c) => c.id === stop.case);
  return one ? one.child.name : stop.address;
}

function drawRoute(plan) {
  routeLayer.clearLayers();
  if (!plan) return;
  const at = (p) => [p[1], p[0]];
  const placed = plan.stops.filter((s) => s.lon != null && s.lat != null);
  const done = placed.filter((s) => s.state === "done");
  const rest = placed.filter((s) => s.state === "planned");
  if (plan.start && done.length) {
    L.polyline([at(plan.start), ...done.map((s) => [s.lat, s.lon])], {
      color: "#546e7a", weight: 4, dashArray: "6 8", className: "route-done-path",
    }).addTo(routeLayer);
  }
  const from = routeOrigin(plan, fixPoint());
  const path = [from, ...rest.map((s) => [s.lon, s.lat]), plan.end].filter(Boolean).map(at);
  if (path.length > 1) {
    L.polyline(path, { color: "#6a1b9a", weight: 5, opacity: 0.85, className: "route-path" })
      .addTo(routeLayer);
  }
  if (plan.start) {
    L.marker(at(plan.start), {
      icon: L.divIcon({ className: "route-base", html: "⌂", iconSize: [30, 30] }), keyboard: false,
    }).bindTooltip(T.routeBase).addTo(routeLayer);
  }
  for (const stop of placed) {
    const text = STATE_MARK[stop.state] || String(stop.sequence);
    L.marker([stop.lat, stop.lon], {
      icon: L.divIcon({
        className: `route-stop state-${stop.state}`,
        html: `<span data-stop="${stop.id}" data-sequence="${stop.sequence}" data-state="${stop.state}">${text}</span>`,
        iconSize: [34, 34],
      }),
      zIndexOffset: stop.state === "planned" ? 1000 : 0,
    }).bindTooltip(escapeHtml(`${stop.sequence}. ${stopName(stop)} · ${stop.arrives}`))
      .on("click", () => openCase(stop.case))
      .addTo(routeLayer);
  }
  if (!state.routeBounded && state.tab === "today" && path.length) {
    const bounds = L.latLngBounds([...path, ...placed.map((s) => [s.lat, s.lon])]);
    map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17 });
    state.routeBounded = true;
  }
}

function clockOf(minutes) {
  const m = ((minutes % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

// When the family is home later than the member arrives, the visit waits: say when it starts.
function visitStart(stop, plan) {
  if (!stop.windows?.length || !stop.arrives || !stop.leaves) return null;
  const [ah, am] = stop.arrives.split(":").map(Number);
  const [lh, lm] = stop.leaves.split(":").map(Number);
  const starts = lh * 60 + lm - (plan.service_minutes || 0);
  return starts > ah * 60 + am ? clockOf(starts) : null;
}

function stopButtons(stop) {
  if (stop.state === "planned") {
    return [
      el("button", { type: "button", class: "big-button stop-done", "data-stop": String(stop.id), text: T.stopDone }),
      el("button", { type: "button", class: "big-button secondary stop-skip", "data-stop": String(stop.id), text: T.stopSkip }),
    ];
  }
  return [el("button", { type: "button", class: "link-button dark stop-undo", "data-stop": String(stop.id), text: T.stopUndo })];
}

function drawToday() {
  const plan = todayPlan();
  drawRoute(state.tab === "today" ? plan : null);
  const summary = document.getElementById("today-totals");
  const counts = document.getElementById("today-counts");
  if (!plan) {
    summary.textContent = T.noRoute;
    counts.textContent = "";
    todayStops.replaceChildren();
    return;
  }
  const t = plan.totals;
  summary.textContent = format(T.routeTotals, {
    n: t.visits, distance: distanceText(t.distance_m), duration: durationText(t.duration_s),
    back: t.back || T.none,
  });
  counts.textContent = format(T.routeCounts, { done: t.done, skipped: t.skipped, remaining: t.remaining });
  todayStops.replaceChildren(...plan.stops.map((stop) =>
    el("li", { class: `today-stop state-${stop.state}`, "data-stop": String(stop.id),
      "data-state": stop.state, "data-sequence": String(stop.sequence) },
    el("span", { class: "stop-number", text: STATE_MARK[stop.state] || String(stop.sequence) }),
    el("button", { type: "button", class: "stop-open", "data-case": String(stop.case) },
      el("span", { class: "stop-name", text: stopName(stop) }),
      el("span", { class: "stop-meta", text: [
        stop.state === "planned" ? format(T.arrives, { time: stop.arrives }) : T.stopStates[stop.state],
        stop.state === "planned" && visitStart(stop, plan) ? format(T.visitAt, { time: visitStart(stop, plan) }) : null,
        stop.state === "planned" ? distanceText(stop.distance_m) : null,
        stop.added_in_field ? T.addedInField : null,
        stop.windows?.length
          ? format(T.stopWindows, { times: stop.windows.map((w) => `${w.opens}–${w.closes}`).join(", ") })
          : null,
      ].filter(Boolean).join(" · ") }),
      stop.state === "planned" && stop.late ? el("span", { class: "stop-late", text: T.stopLate }) : null,
    ),
    el("span", { class: "stop-actions" }, ...stopButtons(stop)),
    )));
}

async function changeStop(id, stateTo) {
  const plan = todayPlan();
  const stop = plan?.stops.find((s) => String(s.id) === id);
  if (!stop) return;
  await changeToday({
    client_id: crypto.randomUUID(), at: isoMillis(new Date()),
    stop: stop.id, case: stop.case, state: stateTo,
  }, { position: fixPoint() });
  await reload();
  trySync();
}

todayStops.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.classList.contains("stop-open")) openCase(Number(button.dataset.case));
  else if (button.classList.contains("stop-done")) changeStop(button.dataset.stop, "done");
  else if (button.classList.contains("stop-skip")) changeStop(button.dataset.stop, "skipped");
  else if (button.classList.contains("stop-undo")) changeStop(button.dataset.stop, "planned");
});
listTab.addEventListener("click", () => { closeCase(); showTab("list"); });
todayTab.addEventListener("click", () => { closeCase(); showTab("today"); });
addToday.addEventListener("click", async () => {
  const raw = state.cases.find((one) => one.id === state.open);
  if (!raw || !todayPlan()) return;
  const one = view(raw);
  const h = one.household;
  await changeToday({
    client_id: crypto.randomUUID(), at: isoMillis(new Date()), add_case: one.id,
    adding: { lon: one.place.lon, lat: one.place.lat, address: h.address || h.house_no || "" },
  }, { position: fixPoint() });
  await reload();
  notify(T.addedToday, false);
  trySync();
});

// --- status and sync --------------------------------------------------------------------

const notice = document.getElementById("notice");
let noticeTimer = null;

function notify(text, sticky = true) {
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  if (!sticky) noticeTimer = setTimeout(() => { notice.hidden = true; }, 4000);
}

// Set once the device was revoked and wiped: nothing is drawn, kept or synced again.
let wiped = false;

async function wipeDevice() {
  wiped = true;
  clearInterval(syncTimer);
  document.body.dataset.revoked = "true";
  for (const id of ["sync-now", "queue", "last-sync"]) {
    document.getElementById(id).hidden = true;
  }
  document.querySelector(".tablet-main").hidden = true;
  try {
    await wipe();
  } finally {
    document.body.dataset.wiped = "true";
    notify(T.revoked);
  }
}

// The session ended (idle, the day's limit, the browser closed): the queue stays
// in IndexedDB, which belongs to this login, and the log-in link comes back here,
// where the first sync uploads it.
function askToLogIn() {
  notify(T.signedOut);
  document.getElementById("log-in-again").hidden = false;
}

async function drawStatus() {
  if (wiped) return;
  const net = document.getElementById("net");
  net.dataset.online = String(navigator.onLine);
  net.textContent = navigator.onLine ? T.online : T.offline;
  // The route's changes wait with the visits: both are lost if the tablet is wiped.
  const waiting = state.queue.length + (await db.all("routeQueue")).length;
  const queue = document.getElementById("queue");
  queue.dataset.count = String(waiting);
  queue.textContent = format(T.queue, { n: waiting });
  const last = await db.getMeta("lastSync");
  document.getElementById("last-sync").textContent = last
    ? format(T.lastSync, { time: new Date(last).toLocaleString(document.documentElement.lang) })
    : T.neverSynced;
}

// Reads everything back from IndexedDB and draws it: the one way the screen
// changes, so what it shows is always what the tablet holds.
async function reload() {
  if (wiped) return;
  state.area = await db.getMeta("area");
  state.cases = await db.all("cases");
  state.queue = await db.all("queue");
  // Kept with the queued changes already laid over it (sync.js changeToday).
  state.today = await db.getMeta("today");
  const views = state.cases.map(view);
  drawArea();
  drawHouseholds(views);
  drawList(views);
  if (state.open != null) drawPanel();
  drawToday();
  await drawStatus();
}

let syncing = false;
// One request for the area at a time: start() and trySync() both want it on a
// first visit, and asking twice cost a cold start a whole round trip.
let areaFetch = null;
function refreshArea() {
  if (!areaFetch) areaFetch = fetchArea().finally(() => { areaFetch = null; });
  return areaFetch;
}

async function trySync() {
  if (wiped) return;
  if (!navigator.onLine || syncing) {
    await drawStatus();
    return;
  }
  syncing = true;
  document.body.dataset.syncing = "true";
  try {
    // The cases do not wait for the area: both travel at once.
    await Promise.all([
      state.area ? null : refreshArea(),
      sync({ onRefused: (result) => notify(format(T.refused, { reason: result.reason })) }),
    ]);
    // After the visits: a stop done goes up with the visit that was made there.
    await syncToday({
      position: fixPoint(),
      isoNow: isoWithOffset(new Date()),
      onRefused: (result) => notify(format(T.routeRefused, { reason: result.reason })),
    });
  } catch (error) {
    if (error instanceof SyncError && error.revoked) await wipeDevice();
    else if (error instanceof SyncError && error.signedOut) askToLogIn();
    else if (navigator.onLine) notify(format(T.syncFailed, { reason: error.message }));
  } finally {
    syncing = false;
    delete document.body.dataset.syncing;
    await reload();
  }
}

document.getElementById("sync-now").addEventListener("click", () => trySync());
window.addEventListener("online", () => trySync());
window.addEventListener("offline", () => drawStatus());
const syncTimer = setInterval(() => trySync(), SYNC_EVERY_MS);

if ("geolocation" in navigator) {
  navigator.geolocation.watchPosition(
    (position) => {
      state.fix = {
        lon: position.coords.longitude,
        lat: position.coords.latitude,
        accuracy: position.coords.accuracy,
      };
      drawMe();
      drawList(state.cases.map(view));
      drawToday();
      if (state.open != null) formVisibility();
    },
    () => {},
    { enableHighAccuracy: true, maximumAge: 10_000 },
  );
}

if ("serviceWorker" in navigator) {
  const url = document.getElementById("tablet-app").dataset.sw;
  navigator.serviceWorker.register(url, { scope: "/" }).catch(() => {});
}

async function start() {
  await reload();
  if (navigator.onLine) {
    // The area (outcomes, schools, polygons) may have changed since it was kept;
    // a failure leaves the kept copy drawn, and the sync reports the problem.
    await Promise.all([refreshArea().catch(() => {}), trySync()]);
  }
  document.body.dataset.ready = "true";
}

start();
