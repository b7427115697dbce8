// The model store in the Origin Private File System (worker side): one
// directory per model (hearth-models/KEY/) with its parts and a meta.json
// ({id, urls, files: [{name, url, size, etag, src, sha256, expectSize, pin}], complete}; src, the URL
// fetched, and the rest: store_download.mjs pinParts). Parts are written
// and then read through synchronous access handles, so the engine's
// positioned reads go straight from disk into wasm memory.
// A complete model opens with no network request; a partial one resumes with
// Range/If-Range from the bytes it has.
import { AbortError, ModelIntegrityError, QuotaExceededError, UnsupportedModelError } from './errors.mjs';
import { partsSource } from './store_file.mjs';
import { eachPart, openParts, pinParts, progressReporter, pumpPart, verification } from './store_download.mjs';
import { checkParts } from './store_gguf.mjs';

export const OPFS_DIR = 'hearth-models';
const enc = new TextEncoder();

export async function modelsDir(create) {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(OPFS_DIR, { create });
}

// meta.json is written crash-safely in two alternating slots (meta-0.json, meta-1.json, each with
// a sequence number seq): a crash mid-write damages only the slot being written, and the other still
// describes the model. The newest readable slot wins; meta.json, as older versions wrote it, counts as seq 0.
const META_SLOTS = ['meta-0.json', 'meta-1.json'];
async function readSlot(dir, name) {
  try {
    const meta = JSON.parse(await (await (await dir.getFileHandle(name)).getFile()).text());
    return meta && typeof meta.id === 'string' && Array.isArray(meta.files) ? meta : null;
  } catch { return null; }
}
export async function readMeta(dir) {
  const found = (await Promise.all([...META_SLOTS, 'meta.json'].map((n) => readSlot(dir, n)))).filter(Boolean);
  return found.sort((a, b) => (b.seq || 0) - (a.seq || 0))[0] || null;
}

async function writeMeta(dir, meta) {
  meta.seq = (meta.seq || 0) + 1;
  const h = await (await dir.getFileHandle(META_SLOTS[meta.seq % 2], { create: true })).createSyncAccessHandle();
  try {
    const b = enc.encode(JSON.stringify(meta));
    h.truncate(0);
    h.write(b, { at: 0 });
    h.flush();
  } finally { h.close(); }
}

// The bytes a model directory holds (its parts), for partial downloads and orphans.
export async function storedBytes(dir) {
  let n = 0;
  for await (const [name, h] of dir.entries()) {
    if (h.kind === 'file' && /^part-\d+\.gguf$/.test(name)) n += (await h.getFile()).size;
  }
  return n;
}

async function openHandle(dir, name, readOnly) {
  const fh = await dir.getFileHandle(name, { create: true });
  try {
    // 'read-only' lets two tabs read one cached model; older browsers ignore the mode.
    return await fh.createSyncAccessHandle(readOnly ? { mode: 'read-only' } : undefined);
  } catch (e) {
    if (e?.name === 'NoModificationAllowedError') {
      throw new Error(`${name} is open in another tab or worker; close it there or wait for its download to finish`);
    }
    throw e;
  }
}

function readHandle(h, offset, dst) {
  let n;
  try { n = h.read(dst, { at: offset }); } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    // A view of shared wasm memory may be refused: read into a private buffer and copy.
    const tmp = new Uint8Array(dst.length);
    n = h.read(tmp, { at: offset });
    dst.set(tmp);
  }
  if (n !== dst.length) throw new Error(`unexpected end of the cached file at byte ${offset + n}`);
}

function quotaFull() {
  return new QuotaExceededError('the browser\'s storage quota is full: delete cached models (deleteCachedModel) ' +
    'or free disk space, then load again; the download resumes from where it stopped');
}

function writeHandle(h, chunk, at) {
  let n;
  try { n = h.write(chunk, { at }); } catch (e) {
    if (e?.name === 'QuotaExceededError') throw quotaFull();
    throw e;
  }
  // A write the quota cut short reports fewer bytes instead of throwing.
  if (typeof n === 'number' && n < chunk.length) throw quotaFull();
}

// Opens (downloading what is missing) the model {id, key, urls, names}.
// checkSize(totalBytes) throws when the model cannot run on the chosen backend; expect[i]: {sha256,
// size} of part i where the caller knows them. Returns {source, cached, bytes, verify}.
export async function openOpfsModel(model, { onProgress, signal, checkSize, checkHeader, expect }) {
  const dir = await (await modelsDir(true)).getDirectoryHandle(model.key, { create: true });
  let meta = await readMeta(dir);
  if (!meta || meta.id !== model.id || meta.files.length !== model.urls.length) {
    meta = { id: model.id, urls: model.urls, files: model.urls.map((url, i) => ({ name: model.names[i], url, size: null, etag: null })), complete: false, createdAt: Date.now() };
  }
  const handles = [];
  const closeAll = () => { for (const h of handles.splice(0)) h.close(); };
  try {
    for (let i = 0; i < meta.files.length; i++) handles.push(await openHandle(dir, `part-${i + 1}.gguf`, meta.complete));
    const bytes = meta.files.reduce((a, f) => a + (f.size || 0), 0);
    if (meta.complete && meta.files.every((f, i) => handles[i].getSize() === f.size)) {
      checkSize(bytes);
      onProgress?.({ phase: 'cached', bytes, totalBytes: bytes, files: meta.files.map((f) => ({ name: f.name, loaded: f.size, total: f.size })) });
      return { source: source(meta, handles, closeAll), cached: true, bytes, verify: verification(meta.files) };
    }
    if (meta.complete) { // a part changed size behind our back: download again
      closeAll();
      meta.complete = false;
      meta.files.forEach((f) => { f.etag = null; });
      for (let i = 0; i < meta.files.length; i++) handles.push(await openHandle(dir, `part-${i + 1}.gguf`, false));
    }
    await download(dir, meta, handles, { onProgress, signal, checkSize, checkHeader, expect });
    // Downloaded: reopened read-only, so another tab can open the same model while this one runs it.
    closeAll();
    for (let i = 0; i < meta.files.length; i++) handles.push(await openHandle(dir, `part-${i + 1}.gguf`, true));
    return { source: source(meta, handles, closeAll), cached: false, bytes: meta.files.reduce((a, f) => a + f.size, 0), verify: verification(meta.files) };
  } catch (e) {
    closeAll();
    // Refused before anything was kept (too large, not found...): leave no empty directory behind;
    // a file the header check refused keeps no bytes either (it would never load), nor one whose bytes
    // are not the ones published (SHA-256 or size).
    if (e instanceof UnsupportedModelError || e instanceof ModelIntegrityError || !await readMeta(dir)) await (await modelsDir(true)).removeEntry(model.key, { recursive: true }).catch(() => {});
    throw e;
  }
}

function source(meta, handles, close) {
  return partsSource(meta.files.map((f, i) => ({ name: f.name, size: f.size, read: (offset, dst) => readHandle(handles[i], offset, dst) })), close);
}

// The fields of meta.files that pinParts sets.
const PIN_FIELDS = ['src', 'sha256', 'expectSize', 'pin'];

async function download(dir, meta, handles, { onProgress, signal, checkSize, checkHeader, expect }) {
  // Any part failing stops the others.
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  signal?.addEventListener('abort', stop);
  if (signal?.aborted) throw new AbortError('model download aborted');
  try {
    const parts = meta.files.map((f, i) => ({ ...f, total: f.size, have: f.etag ? handles[i].getSize() : 0 }));
    await pinParts(parts, expect, ctl.signal);
    const reqs = await openParts(parts, ctl.signal);
    reqs.forEach((r, i) => {
      if (r && r.start !== parts[i].have) { // the server sends the file from its start
        handles[i].truncate(0);
        parts[i].have = 0;
      }
    });
    const checkSoFar = await checkParts(parts, checkSize);
    meta.files.forEach((f, i) => {
      f.size = parts[i].total;
      f.etag = parts[i].etag;
      for (const k of PIN_FIELDS) f[k] = parts[i][k];
    });
    await writeMeta(dir, meta); // from here a reload resumes, from the same pinned version
    const report = progressReporter(parts, onProgress, 'download', checkSoFar);
    // (pumpPart checks each part's header as it arrives, a resumed part's from the bytes kept)
    const sink = (i) => ({ write: (chunk, at) => writeHandle(handles[i], chunk, at), read: (at, dst) => readHandle(handles[i], at, dst) });
    await eachPart(parts.length, (i) => pumpPart(parts[i], reqs[i], sink(i), {
      checkHeader,
      signal: ctl.signal, onBytes: (pos) => report(i, pos), onRestart: () => handles[i].truncate(0),
    }));
    parts.forEach((p, i) => {
      handles[i].flush();
      const size = handles[i].getSize();
      if (p.total != null && size !== p.total) throw new Error(`${p.name}: ${size} bytes stored, ${p.total} expected`);
      meta.files[i].size = size;
      meta.files[i].etag = p.etag;
      report(i, size, true);
    });
    checkSize(meta.files.reduce((a, f) => a + f.size, 0));
    meta.complete = true;
    await writeMeta(dir, meta);
  } catch (e) {
    ctl.abort(); // ends the other parts' requests and bodies
    throw e;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
