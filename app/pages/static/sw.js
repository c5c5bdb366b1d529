// The member page's service worker: the shell (HTML, JS, CSS, icon, manifest) is cached at
// install and answered from the cache first, so /app opens with no network; the cache name
// carries a digest of the shell, so a new release replaces it. API calls are never cached:
// the page keeps its own data (IndexedDB queue, last answers in localStorage).
"use strict";
var CACHE = "zhucun-app-__SHELL_VERSION__";
var SHELL = ["/app", "/app/app.js", "/app/pages.css", "/app/icon.svg", "/app/manifest.webmanifest"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("zhucun-app-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  var path = url.pathname;
  if (SHELL.indexOf(path) < 0) return; // the API and everything else: straight to the network
  event.respondWith(caches.open(CACHE).then(function (c) {
    return c.match(path).then(function (hit) {
      return hit || fetch(req).then(function (res) {
        if (res.ok) c.put(path, res.clone());
        return res;
      });
    });
  }));
});
