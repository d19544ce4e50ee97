// IndexedDB, promised: the tablet's copy of its cases and its queue of visits.
//   meta:  {key, value}: the sync cursor, the area payload, the last sync time;
//   cases: the case objects of the sync API, by id;
//   queue: visits waiting to upload, by client_id;
//   routeQueue: changes to "Today"'s route (done, skipped, added) waiting to
//               upload, by client_id; the route itself is meta "today".
// One database per login: on a device shared by two volunteers or members, each
// sees only their own cases, and a queued visit uploads only under its author.
const USER = document.getElementById("tablet-app")?.dataset.user || "anonymous";
export const NAME = "takhai-my-area-" + USER;
const VERSION = 2;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let opening = null;
let closed = false;

export function open() {
  // Wiped: opening would make the database again, empty, under the wipe's nose.
  if (closed) return Promise.reject(new Error("the tablet's data was wiped"));
  if (!opening) {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = () => {
      // From any earlier version: a tablet updated in the field keeps its queue.
      const db = request.result;
      const stores = { meta: "key", cases: "id", queue: "client_id", routeQueue: "client_id" };
      for (const [name, keyPath] of Object.entries(stores)) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath });
      }
    };
    opening = promised(request);
  }
  return opening;
}

// Closes the connection (a database cannot be deleted while it is open); once
// closed, this page must not open it again (app.js stops after a wipe).
export function close() {
  closed = true;
  const closing = opening;
  opening = null;
  if (closing) closing.then((db) => db.close(), () => {});
}

// Runs work(stores) in one transaction; resolves with its result once committed,
// so a caller never reads back a write that did not happen.
export async function transact(names, mode, work) {
  const db = await open();
  const tx = db.transaction(names, mode);
  const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
  const result = await work(stores);
  await done;
  return result;
}

export function all(name) {
  return transact([name], "readonly", (s) => promised(s[name].getAll()));
}

export function get(name, key) {
  return transact([name], "readonly", (s) => promised(s[name].get(key)));
}

export function put(name, value) {
  return transact([name], "readwrite", (s) => promised(s[name].put(value)));
}

export function remove(name, key) {
  return transact([name], "readwrite", (s) => promised(s[name].delete(key)));
}

export async function getMeta(key, fallback = null) {
  const row = await get("meta", key);
  return row === undefined ? fallback : row.value;
}

export function setMeta(key, value) {
  return put("meta", { key, value });
}

export { promised };
