// Offline support: the app's own files (page, scripts, styles, the engine's
// worker and wasm) are cached on install and refreshed from the network on
// every online visit (network first, cache when offline). Models are not
// handled here: the engine keeps them in its own storage, and cross-origin
// requests, ranged requests and .gguf files pass straight through.
const CACHE = 'hearth-app-v1';
const APP_FILES = [
  './', 'index.html', 'styles.css', 'app.mjs', 'engine.mjs', 'markdown.mjs', 'messages_view.mjs', 'conversations.mjs',
  'format.mjs', 'load_errors.mjs', 'presets.json', 'vendor/marked.esm.js', 'vendor/purify.es.mjs',
];
// The engine's files are copied under engine/ by make app, which lists them in engine/files.txt. They
// live inside this worker's scope because a service worker sees a dedicated worker's requests only
// when the worker's own URL is in its scope: so the engine's workers load offline too.
async function engineFiles() {
  try {
    const r = await fetch('engine/files.txt', { cache: 'reload' });
    return r.ok ? (await r.text()).split('\n').filter((f) => /^engine\/[\w./-]+$/.test(f)) : [];
  } catch { return []; }
}

self.addEventListener('install', (ev) => {
  ev.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // One missing optional file must not stop the rest from being cached.
    const files = [...APP_FILES, ...await engineFiles()];
    await Promise.all(files.map((f) => cache.add(new Request(f, { cache: 'reload' })).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil((async () => {
    // Old app caches go; the engine's model store (Cache API fallback: hearth-models) stays.
    for (const k of await caches.keys()) if (k.startsWith('hearth-app-') && k !== CACHE) await caches.delete(k);
    await self.clients.claim();
  })());
});

// Only the app's own files (this worker's scope: the page, its modules, vendor/, engine/) of the
// kinds an app is made of: a model served from the same origin under another name must stream
// straight to the engine, not be buffered and copied into the app cache.
const APP_KINDS = /(\/|\.(html|css|mjs|js|json|wasm|txt|svg|png|ico))$/i;
function handled(req) {
  if (req.method !== 'GET' || req.headers.has('range')) return false;
  const url = new URL(req.url);
  return url.origin === self.location.origin && url.pathname.startsWith(new URL(self.registration.scope).pathname) &&
    APP_KINDS.test(url.pathname);
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
