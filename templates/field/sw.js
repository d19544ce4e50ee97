{% comment %}The tablet app's service worker, rendered by field.tablet_views.service_worker.
Cached data is never expired on a timer: a search team may work for a week without
a connection, and the old copy is what lets it keep working.{% endcomment %}/* The service worker of the field app, "My area" or a volunteer's "My zone" (rendered by the server). */
"use strict";
const CONFIG = {{ config|safe }};
const STATIC_CACHE = "static-" + CONFIG.version;
// Pages and API reads live across versions: an update must not throw away the
// only copy a tablet without signal has.
const DATA_CACHE = "data";
const TILE_CACHE = "tiles";
// Trimming lists every key of the tile cache: done once per this many new tiles.
const TRIM_EVERY = 50;
let tilesSinceTrim = 0;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(STATIC_CACHE);
      await cache.addAll(CONFIG.precache);
      // The shell is behind the login: kept only when it came back as itself,
      // not as the login page it redirects to.
      try {
        const response = await fetch(CONFIG.shell, { credentials: "same-origin" });
        if (response.ok && !response.redirected) {
          await (await caches.open(DATA_CACHE)).put(CONFIG.shell, response);
        }
      } catch (error) {
        // Offline at install: the first visit online will store it.
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith("static-") && name !== STATIC_CACHE)
          .map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

function shellKey(url) {
  // One copy of the shell, whatever query string or fragment the visit had.
  return url.origin + url.pathname;
}

async function networkFirst(request, key) {
  const cache = await caches.open(DATA_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) {
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (!cached) {
      throw error;
    }
    // Marked, so that the app never takes an old answer for a new one.
    const headers = new Headers(cached.headers);
    headers.set("X-Takhai-Cache", "hit");
    return new Response(cached.body, {
      status: cached.status,
      statusText: cached.statusText,
      headers,
    });
  }
}

async function cacheFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  const cached = await cache.match(request, { ignoreVary: true });
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok || response.type === "opaque") {
    await cache.put(request, response.clone());
    if (cacheName === TILE_CACHE) {
      tilesSinceTrim += 1;
      if (tilesSinceTrim >= TRIM_EVERY) {
        tilesSinceTrim = 0;
        await trimTiles(cache);
      }
    }
  }
  return response;
}

async function trimTiles(cache) {
  // Keys come back in the order they were put: the oldest go first.
  const keys = await cache.keys();
  const excess = keys.length - CONFIG.tileLimit;
  for (let i = 0; i < excess; i += 1) {
    await cache.delete(keys[i]);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    // Visits are posted by the app's own queue, which retries until the server answers.
    return;
  }
  const url = new URL(request.url);
  if (CONFIG.tilePrefix && request.url.startsWith(CONFIG.tilePrefix)) {
    event.respondWith(cacheFirst(request, TILE_CACHE));
    return;
  }
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname === CONFIG.shell) {
    event.respondWith(networkFirst(request, shellKey(url)));
  } else if (url.pathname.startsWith("/api/v1/")) {
    event.respondWith(networkFirst(request, request.url));
  } else if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(cacheFirst(request, STATIC_CACHE));
  }
});
