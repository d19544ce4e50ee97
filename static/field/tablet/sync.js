// Sync with the server: upload the queue of visits, then fetch what changed.
// The queue is emptied only by the server's answer for each visit, so a visit
// survives any number of failed attempts, and its client_id keeps a retry from
// saving it twice.
import * as db from "./db.js";
import { deviceId } from "./device.js";
import { applyChange, replanLocal } from "./route.js";

const BATCH = 100;
const AREA_URL = "/api/v1/area/";
const SYNC_URL = "/api/v1/sync/";
const UPLOAD_URL = "/api/v1/sync/visits/";
const TODAY_URL = "/api/v1/today/";
const TODAY_CHANGES_URL = "/api/v1/today/stops/";

export class SyncError extends Error {
  constructor(message, { signedOut = false, revoked = false } = {}) {
    super(message);
    this.signedOut = signedOut;
    // A coordinator revoked this device: the app wipes what it keeps.
    this.revoked = revoked;
  }
}

async function errorCode(response) {
  try {
    return (await response.clone().json()).code || "";
  } catch (error) {
    return "";
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function request(url, options = {}) {
  const response = await fetch(url, {
    credentials: "same-origin",
    ...options,
    headers: {
      Accept: "application/json",
      "X-Takhai-Device": deviceId(),
      ...(options.headers || {}),
    },
  });
  if (response.status === 401 || response.status === 403) {
    if ((await errorCode(response)) === "device_revoked") {
      throw new SyncError("revoked", { revoked: true });
    }
    throw new SyncError(String(response.status), { signedOut: true });
  }
  if (response.redirected) {
    throw new SyncError(String(response.status), { signedOut: true });
  }
  if (!response.ok) {
    throw new SyncError(`HTTP ${response.status}`);
  }
  // An answer the service worker kept from an earlier visit: fine to draw the
  // area from, never to move the sync cursor on.
  const cached = response.headers.get("X-Takhai-Cache") === "hit";
  return { data: await response.json(), cached };
}

export async function fetchArea() {
  const { data } = await request(AREA_URL);
  await db.setMeta("area", data);
  return data;
}

async function upload(onRefused) {
  const queued = await db.all("queue");
  queued.sort((a, b) => (a.at < b.at ? -1 : 1));
  for (let start = 0; start < queued.length; start += BATCH) {
    const batch = queued.slice(start, start + BATCH);
    const visits = batch.map(({ client_id, case: caseId, at, outcome, resolution, school,
      detail, note, lon, lat, accuracy_m, house_here, moved_lon, moved_lat, found_id }) => ({
      client_id, case: caseId, at, outcome, resolution, school, detail, note, lon, lat,
      accuracy_m, house_here, moved_lon: moved_lon ?? null, moved_lat: moved_lat ?? null,
      found_id: found_id || "",
    }));
    const { data } = await request(UPLOAD_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ visits }),
    });
    for (const result of data.results || []) {
      if (result.status === "refused") {
        onRefused(result);
      }
      if (["saved", "duplicate", "refused"].includes(result.status)) {
        await db.remove("queue", result.client_id);
      }
    }
  }
}

async function pull() {
  const since = await db.getMeta("cursor", "");
  const url = since ? `${SYNC_URL}?since=${encodeURIComponent(since)}` : SYNC_URL;
  const { data, cached } = await request(url);
  if (cached) {
    throw new SyncError("offline");
  }
  const keep = new Set(data.case_ids || []);
  await db.transact(["cases", "meta"], "readwrite", async (s) => {
    for (const one of data.cases || []) {
      s.cases.put(one);
    }
    // A case that left the team's area leaves the tablet; its queued visits
    // stay in the queue until the server has them.
    const ids = await db.promised(s.cases.getAllKeys());
    for (const id of ids) {
      if (!keep.has(id)) {
        s.cases.delete(id);
      }
    }
    s.meta.put({ key: "cursor", value: data.cursor });
    s.meta.put({ key: "lastSync", value: new Date().toISOString() });
  });
}

let running = null;

// One sync at a time: a second call while one runs waits for that one.
export function sync({ onRefused = () => {} } = {}) {
  if (!running) {
    running = (async () => {
      try {
        await upload(onRefused);
        await pull();
      } finally {
        running = null;
      }
    })();
  }
  return running;
}

// --- "Today" ----------------------------------------------------------------------------

function secondsNow(date = new Date()) {
  return date.getHours() * 3600 + date.getMinutes() * 60 + date.getSeconds();
}

// The kept route with the changes still queued laid over it and the rest of it
// re-ordered on the device: what the member sees until the server answers.
export async function localToday(plan, { position = null } = {}) {
  if (!plan) return null;
  const queued = (await db.all("routeQueue")).sort((a, b) => (a.at < b.at ? -1 : 1));
  let mine = plan;
  for (const change of queued) mine = applyChange(mine, change, change.adding);
  return queued.length ? replanLocal(mine, { position, now: secondsNow() }) : mine;
}

// A change made on the device: queued for upload, and applied to the kept route
// at once, re-ordered offline.
export async function changeToday(change, { position = null } = {}) {
  await db.put("routeQueue", change);
  const plan = await db.getMeta("today");
  if (!plan) return null;
  const mine = replanLocal(applyChange(plan, change, change.adding), { position, now: secondsNow() });
  await db.setMeta("today", mine);
  return mine;
}

function upstream(change) {
  // A stop added offline has no id the server knows: it is named by its case.
  const byId = typeof change.stop === "number";
  return {
    client_id: change.client_id,
    at: change.at,
    ...(change.add_case != null
      ? { add_case: change.add_case }
      : { state: change.state, stop: byId ? change.stop : null, case: byId ? null : change.case }),
  };
}

// Uploads the queued changes of the route, or fetches the route when none are
// queued; either way keeps the server's route, re-planned by its solver, with
// whatever was queued meanwhile laid over it.
export async function syncToday({ position = null, isoNow, onRefused = () => {} } = {}) {
  const queued = (await db.all("routeQueue")).sort((a, b) => (a.at < b.at ? -1 : 1));
  let plan;
  if (queued.length) {
    const { data } = await request(TODAY_CHANGES_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ changes: queued.map(upstream), position, now: isoNow }),
    });
    for (const result of data.results || []) {
      if (result.status === "refused") onRefused(result);
      await db.remove("routeQueue", result.client_id);
    }
    plan = data.plan;
  } else {
    const { data, cached } = await request(TODAY_URL);
    // An old answer kept by the service worker would undo the device's own changes.
    if (cached) return db.getMeta("today");
    plan = data.plan;
  }
  const mine = await localToday(plan, { position });
  await db.setMeta("today", mine);
  return mine;
}
