// The model store's fallback where OPFS sync access handles are missing: the
// Cache API. Parts are stored as responses under their URLs, meta.json as a
// response under a key of its own; the engine reads the cached blobs with
// FileReaderSync. Dropped connections resume with Range while the body is
// being stored, but a download stopped by closing the page starts over
// (the Cache API cannot append to an entry).
import { AbortError } from './errors.mjs';
import { blobSource } from './store_file.mjs';
import { eachPart, openParts, pinParts, progressReporter, pumpPart, verification } from './store_download.mjs';
import { checkParts } from './store_gguf.mjs';

export const CACHE_NAME = 'hearth-models';

// The key of a model's meta entry (never fetched; same origin so the Cache API takes it).
export function metaKey(key) { return new URL(`/.hearth-model-meta/${key}`, globalThis.location.href).href; }

export async function readCacheMeta(cache, key) {
  try {
    const r = await cache.match(metaKey(key));
    const meta = r && await r.json();
    return meta && typeof meta.id === 'string' && Array.isArray(meta.files) ? meta : null;
  } catch { return null; }
}

// Opens (downloading what is missing) the model {id, key, urls, names}; see store_opfs.mjs.
export async function openCacheModel(model, { onProgress, signal, checkSize, checkHeader, expect }) {
  const cache = await caches.open(CACHE_NAME);
  const meta = await readCacheMeta(cache, model.key);
  if (meta?.complete && meta.id === model.id) {
    const blobs = await Promise.all(meta.files.map(async (f) => (await cache.match(f.url))?.blob()));
    if (blobs.every((b, i) => b && b.size === meta.files[i].size)) {
      const bytes = blobs.reduce((a, b) => a + b.size, 0);
      checkSize(bytes);
      onProgress?.({ phase: 'cached', bytes, totalBytes: bytes, files: meta.files.map((f) => ({ name: f.name, loaded: f.size, total: f.size })) });
      return { source: blobSource(blobs, model.names), cached: true, bytes, verify: verification(meta.files) };
    }
  }
  if (signal?.aborted) throw new AbortError('model download aborted');
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  signal?.addEventListener('abort', stop);
  try {
    const parts = model.urls.map((url, i) => ({ url, name: model.names[i], total: null, etag: null, have: 0 }));
    await pinParts(parts, expect, ctl.signal);
    const reqs = await openParts(parts, ctl.signal);
    const checkSoFar = await checkParts(parts, checkSize);
    const report = progressReporter(parts, onProgress, 'download', checkSoFar);
    await eachPart(parts.length, async (i) => {
      const p = parts[i];
      let controller;
      const body = new ReadableStream({ start(c) { controller = c; } });
      const stored = cache.put(p.url, new Response(body, { headers: { 'Content-Type': 'application/octet-stream' } }));
      const sink = { write: (chunk) => controller.enqueue(chunk.slice()) };
      const onRestart = () => { throw new Error('the server restarted the file from its first byte'); };
      try {
        await pumpPart(p, reqs[i], sink, { signal: ctl.signal, onBytes: (pos) => report(i, pos), onRestart, checkHeader });
        controller.close();
      } catch (e) {
        controller.error(e);
        stored.catch(() => {});
        throw e;
      }
      await stored;
    });
    const blobs = await Promise.all(parts.map(async (p) => (await cache.match(p.url)).blob()));
    blobs.forEach((b, i) => {
      if (parts[i].total != null && b.size !== parts[i].total) throw new Error(`${parts[i].name}: ${b.size} bytes stored, ${parts[i].total} expected`);
      report(i, b.size, true);
    });
    const bytes = blobs.reduce((a, b) => a + b.size, 0);
    checkSize(bytes);
    const done = { id: model.id, urls: model.urls, files: parts.map((p, i) => ({ name: p.name, url: p.url, size: blobs[i].size, etag: p.etag, src: p.src, sha256: p.sha256, pin: p.pin })), complete: true, createdAt: Date.now() };
    await cache.put(metaKey(model.key), new Response(JSON.stringify(done), { headers: { 'Content-Type': 'application/json' } }));
    return { source: blobSource(blobs, model.names), cached: false, bytes, verify: verification(parts) };
  } catch (e) {
    ctl.abort(); // ends the other parts' requests and bodies
    throw e;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
