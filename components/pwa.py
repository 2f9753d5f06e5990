"""What makes the app installable: manifest link, theme colour, service worker."""

from __future__ import annotations

import reflex as rx

THEME_COLOR = "#3e63dd"

# Plain "/sw.js" (not rx.asset, which adds a ?v= query): its scope is the whole app.
# Files in assets/ are served from the site root (assets/sw.js -> /sw.js). The
# script may run after the load event (rx.script is injected client-side), so it
# registers at once in that case.
REGISTER_SW = """
if ('serviceWorker' in navigator) {
  var sbRegisterWorker = function () {
    navigator.serviceWorker.register('/sw.js', {scope: '/'}).catch(function (err) {
      console.warn('service worker registration failed', err);
    });
  };
  if (document.readyState === 'complete') { sbRegisterWorker(); }
  else { window.addEventListener('load', sbRegisterWorker); }
}
// The first visit loads its bundles before the worker controls the page, so they
// would never reach its cache: put this page's bundles and the start page there
// now, and the app opens with no network next time (assets/sw.js serves them).
if ('caches' in window && navigator.onLine) {
  setTimeout(function () {
    var urls = performance.getEntriesByType('resource')
      .map(function (e) { return e.name; })
      .filter(function (u) { return u.indexOf(location.origin + '/assets/') === 0; });
    caches.open('switchboard-shell-v1').then(function (cache) {
      return cache.addAll(['/'].concat(Array.from(new Set(urls))));
    }).catch(function () { return undefined; });
  }, 3000);
}
"""


def head_components() -> list[rx.Component]:
    return [
        rx.el.link(rel="manifest", href="/manifest.json"),
        rx.el.meta(name="theme-color", content=THEME_COLOR),
        rx.el.meta(name="mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
        rx.el.link(rel="icon", href="/favicon.ico", sizes="32x32"),
        rx.el.link(rel="apple-touch-icon", href="/icon-192.png"),
        rx.script(REGISTER_SW),
    ]
