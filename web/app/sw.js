// Offline support: the app's own files (page, scripts, styles, the engine's
// worker and wasm) are cached on install and refreshed from the network on
// every online visit (network first, cache when offline). Models are not
// handled here: the engine keeps them in its own storage, and cross-origin
// requests, ranged requests and .gguf files pass straight through.
const CACHE = 'hearth-app-v1';
const APP_FILES = [
  './', 'index.html', 'styles.css', 'app.mjs', 'engine.mjs', 'markdown.mjs', 'messages_view.mjs', 'conversations.mjs',
  'format.mjs', 'load_errors.mjs', 'presets.json', 'vendor/marked.esm.js', 'vendor/purify.es.mjs',
  'engine/client.mjs', 'engine/engine_worker.mjs', 'engine/errors.mjs', 'engine/hearth.mjs', 'engine/thread_worker.mjs',
  'engine/store.mjs', 'engine/store_cache.mjs', 'engine/store_download.mjs', 'engine/store_file.mjs', 'engine/store_gguf.mjs',
  'engine/store_opfs.mjs', 'engine/dist/hearth.wasm', 'engine/dist/hearth-mt.wasm',
];
// The engine's files are copied under engine/ (make app) so that its workers, whose requests a service
// worker sees only when the worker's own URL is in its scope, load offline too. Files not listed above
// (GPU backend, new modules) are cached when first fetched.

self.addEventListener('install', (ev) => {
  ev.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // One missing optional file must not stop the rest from being cached.
    await Promise.all(APP_FILES.map((f) => cache.add(new Request(f, { cache: 'reload' })).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil((async () => {
    for (const k of await caches.keys()) if (k !== CACHE) await caches.delete(k);
    await self.clients.claim();
  })());
});

function handled(req) {
  if (req.method !== 'GET' || req.headers.has('range')) return false;
  const url = new URL(req.url);
  return url.origin === self.location.origin && !/\.gguf$/i.test(url.pathname);
}

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (!handled(req)) return;
  ev.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.ok && res.status === 200) await cache.put(req, res.clone());
      return res;
    } catch (err) {
      const hit = await cache.match(req, { ignoreSearch: req.mode === 'navigate' });
      if (hit) return hit;
      throw err;
    }
  })());
});
