// squeeze's service worker. `cargo xtask postbuild` (a Trunk post_build hook) writes
// this file into every build with three constants above this line:
//   BUILD   a hash of every file of the build (and of this script),
//   FILES   the files to keep for offline use, relative to this script,
//   HEADERS the headers the build's `_headers` file asks for, added to what this
//           worker answers (hosts without header support, such as GitHub Pages, then
//           still give the engine's worker its policy, and from the second visit on
//           the page is cross-origin isolated: COOP + COEP, so the engine runs threaded).
//
// One cache per build: a new deploy installs a new worker that fills a new cache; it
// waits until the page asks it to take over (or every tab is closed), then deletes the
// old cache. The page never mixes files of two builds.

const CACHE = `squeeze-build-${BUILD}`;
const CACHE_PREFIX = "squeeze-build-";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // "no-cache": revalidate with the server (a 304 reuses what the page just downloaded)
      // rather than trust a stale HTTP cache or download everything twice.
      cache.addAll(FILES.map((file) => new Request(new URL(file, self.location), { cache: "no-cache" }))),
    ),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith(CACHE_PREFIX) && key !== CACHE) {
          await caches.delete(key);
        }
      }
      await self.clients.claim();
    })(),
  );
});

// The page's "Reload" on the new-version notice.
self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") {
    self.skipWaiting();
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  // Other origins (the Hugging Face Hub) and paths outside the site go to the network.
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) {
    return;
  }
  event.respondWith(answer(request, url));
});

/** A page address (no file extension) gets the app shell; a file its cached copy. */
async function answer(request, url) {
  const cache = await caches.open(CACHE);
  const last = url.pathname.split("/").pop();
  const isPage = request.mode === "navigate" && !last.includes(".");
  const cached = isPage
    ? await cache.match(new URL("index.html", self.location))
    : await cache.match(request);
  if (cached === undefined) {
    // Not kept offline (a second model folder, say): the network's answer,
    // with the site's headers too, so a page or worker this answers stays isolated.
    const response = await fetch(request);
    return response.type === "basic" && !response.redirected ? withSiteHeaders(response) : response;
  }
  return withSiteHeaders(cached);
}

function withSiteHeaders(response) {
  if (HEADERS.length === 0) {
    return response;
  }
  const headers = new Headers(response.headers);
  for (const [name, value] of HEADERS) {
    headers.set(name, value);
  }
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
