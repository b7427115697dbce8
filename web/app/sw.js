// Offline support: the app's own files (page, scripts, styles, the engine's worker and wasm) are kept
// as one snapshot per version: a cache named by the SHA-256 of all their bytes (hearth-app-<hash>),
// filled whole and only then made current (its name kept in the cache hearth-sw-index). Online every
// request goes to the network; offline it is answered from the current snapshot only, so the page,
// its modules and the engine always come from one version, never a mix of two. A snapshot is taken
// at install, and again when a file the page fetched online differs from the snapshot's copy (its
// ETag or Last-Modified): a new version deployed. A snapshot cut short (offline, the server gone)
// changes nothing. Models are not handled here: the engine keeps them in its own storage, and
// cross-origin requests, ranged requests and .gguf files pass straight through.
const PREFIX = 'hearth-app-';
const INDEX = 'hearth-sw-index';
const APP_FILES = [
  './', 'index.html', 'styles.css', 'app.mjs', 'engine.mjs', 'markdown.mjs', 'messages_view.mjs', 'conversations.mjs',
  'format.mjs', 'load_errors.mjs', 'server_backend.mjs', 'tool_calls.mjs', 'presets.json', 'vendor/marked.esm.js',
  'vendor/purify.es.mjs',
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

async function currentName() {
  const hit = await (await caches.open(INDEX)).match('current');
  return hit ? hit.text() : null;
}
async function currentCache() {
  const name = await currentName();
  return name && caches.open(name);
}

async function snapshot() {
  const files = [...APP_FILES, ...await engineFiles()];
  // Any request failing outright (offline) ends the snapshot; a file the server lacks is left out.
  const got = (await Promise.all(files.map(async (f) => {
    const req = new Request(f, { cache: 'no-cache' });
    const res = await fetch(req);
    return res.ok && res.status === 200 ? { req, res, body: await res.arrayBuffer() } : null;
  }))).filter(Boolean);
  const enc = new TextEncoder();
  const parts = got.flatMap(({ req, body }) => [enc.encode(`${req.url}\0${body.byteLength}\0`), new Uint8Array(body)]);
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  const name = PREFIX + Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
  if (name === await currentName()) return;
  const cache = await caches.open(name);
  await Promise.all(got.map(({ req, res, body }) => cache.put(req, new Response(body, { status: 200, statusText: res.statusText, headers: res.headers }))));
  await (await caches.open(INDEX)).put('current', new Response(name));
  // Older snapshots go (hearth-app-v1 too); the engine's model store (Cache API fallback: hearth-models) stays.
  for (const k of await caches.keys()) if (k.startsWith(PREFIX) && k !== name) await caches.delete(k);
}

// One snapshot at a time; requests that find a change meanwhile share it.
let pending = null;
function snapshotSoon() {
  pending ??= new Promise((r) => setTimeout(r, 300)).then(snapshot).catch(() => {}).finally(() => { pending = null; });
  return pending;
}

// A response fetched online against the snapshot's copy: another version deployed?
async function noteVersion(req, res) {
  const old = await (await currentCache())?.match(req);
  if (!old) return undefined;
  const tag = (r) => `${r.headers.get('ETag') || ''} ${r.headers.get('Last-Modified') || ''}`;
  return tag(old) !== tag(res) && tag(res).trim() ? snapshotSoon() : undefined;
}

self.addEventListener('install', (ev) => {
  ev.waitUntil((async () => {
    await snapshot().catch(() => {});
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));

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
    try {
      const res = await fetch(req);
      if (res.ok && res.status === 200) ev.waitUntil(noteVersion(req, res.clone()));
      return res;
    } catch (err) {
      const hit = await (await currentCache())?.match(req, { ignoreSearch: req.mode === 'navigate' });
      if (hit) return hit;
      throw err;
    }
  })());
});
