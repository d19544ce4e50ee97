// This tablet's device id, and the wipe a coordinator's revocation asks for.
// The id is made once and kept in localStorage, shared by everyone who logs in on
// this browser; every API call carries it (X-Takhai-Device), which is how the
// server ties sessions to the device and how a revoked device learns it is.
import * as db from "./db.js";

const KEY = "takhai-device-id";
// Everything this app keeps in the browser's storage is named with this prefix.
const PREFIX = "takhai";

function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside a secure context randomUUID is missing; a version-4 UUID by hand.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function deviceId() {
  let id = localStorage.getItem(KEY);
  if (!id) {
    id = randomId();
    localStorage.setItem(KEY, id);
  }
  return id;
}

function deleteDatabase(name) {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    // Blocked: another tab holds it open; it goes when that tab closes.
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}

// The device was revoked: every case, queued visit and route of every login on
// this browser goes, with the cached pages and API answers, the service worker
// and the device id. Unsynced visits are lost with it, as the coordinator was told.
export async function wipe() {
  db.close();
  const names = indexedDB.databases
    ? (await indexedDB.databases()).map((info) => info.name)
    : [db.NAME];
  await Promise.all(names.filter((name) => name && name.startsWith(PREFIX)).map(deleteDatabase));
  if ("caches" in self) {
    await Promise.all((await caches.keys()).map((name) => caches.delete(name)));
  }
  for (const storage of [localStorage, sessionStorage]) {
    for (const key of Object.keys(storage)) {
      if (key.startsWith(PREFIX)) storage.removeItem(key);
    }
  }
  if ("serviceWorker" in navigator) {
    const registrations = await navigator.serviceWorker.getRegistrations();
    await Promise.all(registrations.map((registration) => registration.unregister()));
  }
}
