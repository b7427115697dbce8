// The model store: models downloaded once, kept in the Origin Private File
// System (Cache API where OPFS sync access handles are missing), listed and
// deleted by id. A model's id is the absolute URL of its first file; a split
// model NAME-00001-of-0000N.gguf brings its other parts, downloaded in
// parallel. Page side: listCachedModels, deleteCachedModel, storageEstimate,
// requestPersistentStorage. Worker side: openUrlModel (see engine_worker.mjs).
import { EngineError, QuotaExceededError, UnsupportedModelError } from './errors.mjs';
import { CACHE_NAME, metaKey, openCacheModel, readCacheMeta } from './store_cache.mjs';
import { modelsDir, openOpfsModel, readMeta, storedBytes } from './store_opfs.mjs';

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/;
const MAX_PARTS = 256; // as the wasm host (web/wasm/host_wasm.c)

// The URLs of every part of a model, given the first (or only) one.
export function modelUrls(url) {
  const u = new URL(url);
  const m = SPLIT.exec(u.pathname);
  if (!m) return [u.href];
  const count = Number(m[2]);
  if (m[1] !== '00001' || count < 1) {
    throw new EngineError(`${u.href}: give the first part of a split model (…-00001-of-${m[2]}.gguf)`);
  }
  if (count > MAX_PARTS) throw new UnsupportedModelError(`${u.href}: ${count} parts; hearth reads models of up to ${MAX_PARTS} parts`);
  return Array.from({ length: count }, (_, i) => {
    const p = new URL(u.href);
    p.pathname = u.pathname.replace(SPLIT, `-${String(i + 1).padStart(5, '0')}-of-${m[2]}.gguf`);
    return p.href;
  });
}

export function fileNameOf(url) {
  const last = new URL(url).pathname.split('/').pop() || 'model.gguf';
  try { return decodeURIComponent(last); } catch { return last; }
}

// Directory / cache key of a model id: hex SHA-256 (ids are URLs, too long and odd for names).
export async function modelKey(id) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)));
  return Array.from(d.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function describeModel(urls) {
  const all = urls.length === 1 ? modelUrls(urls[0]) : urls.map((u) => new URL(u).href);
  return { id: all[0], key: await modelKey(all[0]), urls: all, names: all.map(fileNameOf) };
}

function opfsUsable() {
  return typeof navigator !== 'undefined' && !!navigator.storage?.getDirectory &&
    typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
}

// Worker side: the model at urls (cached, or downloaded into the cache now).
// storage: 'auto' (OPFS, else Cache API) | 'opfs' | 'cache'. expect[i]: {sha256, size} of part i where
// the caller knows them (a preset); hub files are pinned and checked as well (web/hf.mjs).
// Returns {source, cached, bytes, id, storage, verify} (verify: store_download.mjs verification).
export async function openUrlModel(urls, { storage = 'auto', onProgress, signal, checkSize, checkHeader, expect }) {
  const model = await describeModel(urls);
  const useOpfs = storage === 'opfs' || (storage === 'auto' && opfsUsable());
  if (useOpfs && !opfsUsable()) throw new EngineError('this browser has no OPFS sync access handles (storage: "opfs")');
  if (!useOpfs && typeof caches === 'undefined') {
    throw new EngineError('this browser offers neither OPFS nor the Cache API to keep models (a private window, or not https?)');
  }
  try {
    const opened = await (useOpfs ? openOpfsModel : openCacheModel)(model, { onProgress, signal, checkSize, checkHeader, expect });
    return { ...opened, id: model.id, storage: useOpfs ? 'opfs' : 'cache' };
  } catch (e) {
    // The browser's own quota error (DOMException), from any storage call.
    if (e?.name === 'QuotaExceededError' && !(e instanceof QuotaExceededError)) {
      throw new QuotaExceededError(`storing ${model.names[0]} went over the browser's storage quota: delete cached ` +
        'models (deleteCachedModel) or free disk space, then load again');
    }
    throw e;
  }
}

// bytes: what is stored (a partial download's parts as they are); totalBytes: the whole model, null
// while a part's size is unknown.
function summary(meta, storage, stored = null) {
  const known = meta.files.every((f) => f.size != null);
  const total = meta.files.reduce((a, f) => a + (f.size || 0), 0);
  return {
    id: meta.id, storage, complete: !!meta.complete, bytes: meta.complete || stored == null ? total : stored,
    totalBytes: known ? total : null, createdAt: meta.createdAt,
    files: meta.files.map((f) => ({ name: f.name, url: f.url, size: f.size })),
  };
}

// Prefix of the id of a stored directory with no readable description (a download that crashed
// before writing it, or damaged): listed, with its bytes, so that it can be deleted.
const ORPHAN = 'orphan:';

// Every model in the store, complete or partly downloaded:
// [{id, storage: 'opfs'|'cache', complete, bytes, totalBytes, createdAt, files: [{name, url, size}], orphan?}].
export async function listCachedModels() {
  const out = [];
  if (navigator.storage?.getDirectory) {
    const dir = await modelsDir(true);
    for await (const [name, handle] of dir.entries()) {
      if (handle.kind !== 'directory') continue;
      const meta = await readMeta(handle);
      if (meta) out.push(summary(meta, 'opfs', meta.complete ? null : await storedBytes(handle)));
      else out.push({ id: `${ORPHAN}${name}`, orphan: true, storage: 'opfs', complete: false, bytes: await storedBytes(handle), totalBytes: null, files: [] });
    }
  }
  if (typeof caches !== 'undefined' && await caches.has(CACHE_NAME)) {
    const cache = await caches.open(CACHE_NAME);
    for (const req of await cache.keys()) {
      const key = /\/\.hearth-model-meta\/([0-9a-f]+)$/.exec(new URL(req.url).pathname)?.[1];
      const meta = key && await readCacheMeta(cache, key);
      if (meta) out.push(summary(meta, 'cache'));
    }
  }
  return out;
}

// Removes a model (all its parts) from the store, or an orphan by its listed id; true if it was there.
// A model loaded by an engine must be unloaded first.
export async function deleteCachedModel(id) {
  const key = id.startsWith(ORPHAN) ? id.slice(ORPHAN.length) : await modelKey(id);
  let found = false;
  if (navigator.storage?.getDirectory) {
    const dir = await modelsDir(true);
    try {
      await dir.removeEntry(key, { recursive: true });
      found = true;
    } catch (e) {
      if (e?.name === 'NoModificationAllowedError' || e?.name === 'InvalidModificationError') {
        throw new EngineError(`${id} is in use (loaded or downloading in an engine): unload it first`);
      }
      if (e?.name !== 'NotFoundError') throw e;
    }
  }
  if (typeof caches !== 'undefined' && await caches.has(CACHE_NAME)) {
    const cache = await caches.open(CACHE_NAME);
    const meta = await readCacheMeta(cache, key);
    if (meta) {
      for (const f of meta.files) await cache.delete(f.url);
      await cache.delete(metaKey(key));
      found = true;
    }
  }
  return found;
}

// {usage, quota} in bytes for this origin (all storage, not only models), and
// whether the browser promised not to evict it.
export async function storageEstimate() {
  const est = await navigator.storage?.estimate?.() || {};
  const persisted = await navigator.storage?.persisted?.() || false;
  return { usage: est.usage ?? null, quota: est.quota ?? null, persisted };
}

// Asks the browser to keep the store under storage pressure; true if granted.
export async function requestPersistentStorage() {
  return (await navigator.storage?.persist?.()) || false;
}
