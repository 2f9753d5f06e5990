/* Switchboard service worker: push notifications and an offline shell.
 *
 * Served from /sw.js (scope /). It caches only the shell (the start page, manifest
 * and icons) so the installed app opens without a network; everything else,
 * including the socket to the backend, goes to the network untouched. Payloads of
 * push messages come from app/services/push_sender.py:
 *   {"title", "body", "kind", "tag", "url"}
 */
const CACHE = "switchboard-shell-v1";
const SHELL = ["/", "/manifest.json", "/icon-192.png", "/icon-512.png"];

// The start page names every bundle it needs (modulepreload links): keep them
// with it, so the app opens offline, not only its HTML.
function cacheStartPage(response) {
  return response
    .text()
    .then((html) => {
      const assets = new Set(html.match(/\/assets\/[A-Za-z0-9._@-]+/g) || []);
      return caches.open(CACHE).then((cache) =>
        Promise.all(
          [...assets].map((url) =>
            cache
              .match(url, { ignoreVary: true })
              .then((hit) => hit || cache.add(url))
          )
        )
      );
    })
    .catch(() => undefined);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => caches.match("/"))
      .then((page) => page && cacheStartPage(page))
      .catch(() => undefined) // offline at install time: cache on a later visit
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))
      )
      .then(() => self.clients.claim())
  );
});

function isShell(url) {
  return url.origin === self.location.origin && SHELL.includes(url.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (request.mode === "navigate") {
    // Network first: pages are always fresh online; the cached shell offline.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && url.pathname === "/") {
            const copy = response.clone();
            const scan = response.clone();
            caches.open(CACHE).then((cache) => cache.put("/", copy));
            cacheStartPage(scan);
          }
          return response;
        })
        .catch(() =>
          caches.match(request).then((hit) => hit || caches.match("/"))
        )
    );
    return;
  }
  if (isShell(url)) {
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request))
    );
    return;
  }
  if (url.origin === self.location.origin && url.pathname.startsWith("/assets/")) {
    // The production build's bundles have hashed names: cache first, keep them.
    // ignoreVary: a bundle cached by URL answers a module request whatever its
    // Origin or encoding headers.
    event.respondWith(
      caches.match(request, { ignoreVary: true }).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              caches.open(CACHE).then((cache) => cache.put(request, copy));
            }
            return response;
          })
      )
    );
  }
});

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (err) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const title = data.title || "Switchboard";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      tag: data.tag || undefined,
      icon: "/icon-192.png",
      badge: "/icon-192.png",
      data: { url: data.url || "/alerts" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(
    (event.notification.data && event.notification.data.url) || "/",
    self.location.origin
  ).href;
  event.waitUntil(
    self.clients
      .matchAll({ type: "window", includeUncontrolled: true })
      .then((windows) => {
        for (const client of windows) {
          if (client.url.startsWith(self.location.origin) && "focus" in client) {
            client.navigate(target);
            return client.focus();
          }
        }
        return self.clients.openWindow(target);
      })
  );
});
