// Sync with the server: upload the queue of visits, then fetch what changed.
// The queue is emptied only by the server's answer for each visit, so a visit
// survives any number of failed attempts, and its client_id keeps a retry from
// saving it twice.
import * as db from "./db.js";

const BATCH = 100;
const AREA_URL = "/api/v1/area/";
const SYNC_URL = "/api/v1/sync/";
const UPLOAD_URL = "/api/v1/sync/visits/";

export class SyncError extends Error {
  constructor(message, { signedOut = false } = {}) {
    super(message);
    this.signedOut = signedOut;
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
    headers: { Accept: "application/json", ...(options.headers || {}) },
  });
  if (response.redirected || response.status === 401 || response.status === 403) {
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
