// The app's one door to the engine (web/client.mjs, copied to engine/ by make app; running the model in a
// worker). It loads the client lazily, so the page, its conversations and its
// settings work even when the engine cannot start, and it turns the engine's
// progress events into one shape the loading view shows:
// { phase: 'download'|'cached'|'compile'|'ready', loaded, total, rate, eta }.
let clientPromise = null;
export function client() {
  clientPromise ??= import('./engine/client.mjs');
  return clientPromise;
}
// presets.json's entries with their download URLs (urls), each built from repo, revision (a commit
// where pinned, else main) and file by the engine's one URL builder (web/hf.mjs).
export async function withPresetUrls(presets) {
  const { hfFileUrl } = await import('./engine/hf.mjs');
  return presets.map((p) => ({ ...p, urls: [hfFileUrl(p.repo, p.revision || 'main', p.file)] }));
}

// The size of a Hugging Face file as the hub's API publishes it for the commit its URL names, or 0
// (not a hub URL, the API unreachable): shown before a download, which it then caps.
export async function hubSize(url) {
  try { return (await (await import('./engine/hf.mjs')).pinFile(url)).size || 0; } catch { return 0; }
}

// The engine's model argument for a URL source: a pinned preset's sha256 and exact size (both from
// tools/pin_presets.mjs) go with its URL, so the download is checked against them
// (web/store_download.mjs); an unpinned preset's size, from the publisher's page, is only shown.
export function modelArg(urls, preset) {
  const sha256 = preset?.sha256 || null, size = sha256 && !preset.sizeApproximate ? preset.size : null;
  if (urls.length === 1 && (sha256 || size)) return { url: urls[0], sha256, size };
  return urls.length === 1 ? urls[0] : urls;
}

// The engine's verification of a download (web/store_download.mjs verification) in words.
export function verifyText(v) {
  if (!v) return '';
  if (v.sha256) return `checked against the published SHA-256${v.commits?.length ? ` (commit ${v.commits.map((c) => c.slice(0, 12)).join(', ')})` : ''}`;
  return `unverified: ${v.unchecked || 'no SHA-256 is published for this file'}`;
}

export async function errorsModule() {
  try { return await import('./engine/errors.mjs'); } catch { return {}; }
}

// Bytes per second over the last few seconds of progress.
function rateMeter() {
  const samples = [];
  return (loaded) => {
    const now = performance.now();
    samples.push([now, loaded]);
    while (samples.length > 2 && now - samples[0][0] > 3000) samples.shift();
    const [t0, b0] = samples[0];
    return now > t0 ? ((loaded - b0) * 1000) / (now - t0) : 0;
  };
}

// The engine's events (web/store_download.mjs: {phase: 'download'|'cached'|'load'|'ready', bytes,
// totalBytes, rate, file, ...}) as the view's shape; 'load' is the weights going into the backend
// (and, on WebGPU, its pipelines compiling and warming up).
function normalizeProgress(ev, meter) {
  const raw = String(ev.phase ?? 'download');
  const phase = { download: 'download', cached: 'cached', load: 'compile', ready: 'ready' }[raw] ?? 'compile';
  const loaded = Number(ev.bytes ?? ev.loaded ?? 0);
  const total = Number(ev.totalBytes ?? ev.total ?? 0);
  const rate = phase === 'download' ? meter(loaded) || Number(ev.rate) || 0 : 0;
  const eta = rate > 0 && total > loaded ? (total - loaded) / rate : NaN;
  return { phase, loaded, total, rate, eta, file: ev.file ?? '', message: ev.message ?? '', verify: verifyText(ev.verify) };
}

// Starts an engine on `model` (URL, URL list or File); onProgress gets normalized events.
export async function startEngine({ model, backend, threads, contextSize, onProgress }) {
  const { createEngine } = await client();
  const meter = rateMeter();
  const opts = { model, backend, onProgress: (ev) => onProgress?.(normalizeProgress(ev || {}, meter)) };
  if (threads) opts.threads = threads;
  if (contextSize) opts.contextSize = contextSize;
  // ?exact (or the older ?gpu=exact): createEngine's exactNumerics, llama.cpp's accumulation order on
  // the CPU path and the CPU path's attention arithmetic on WebGPU (tests compare answers with the CLI).
  const q = new URLSearchParams(globalThis.location?.search || '');
  if (q.has('exact') || q.get('gpu') === 'exact') opts.exactNumerics = true;
  return createEngine(opts);
}

// Cached models as [{ id, name, size (stored bytes), total (null: unknown), urls, complete, orphan }]
// (web/store.mjs's listCachedModels).
export async function cachedModels() {
  const { listCachedModels } = await client();
  return (await listCachedModels()).map((m) => ({
    id: m.id, name: m.files?.[0]?.name ?? String(m.id).split('/').pop(), size: Number(m.bytes ?? 0),
    total: m.totalBytes ?? null, urls: (m.files ?? []).map((f) => f.url).filter(Boolean),
    complete: m.complete !== false, orphan: !!m.orphan,
  }));
}

// Asks the browser to keep stored models under storage pressure (it may say no; nothing breaks).
export async function persistStorage() {
  try { return await (await client()).requestPersistentStorage?.(); } catch { return false; }
}

export async function deleteCached(id) {
  const { deleteCachedModel } = await client();
  return deleteCachedModel(id);
}

// What runs, in words, from engine.stats() (web/engine_worker.mjs's describe()).
export function describeBackend(stats) {
  if (!stats) return 'No model loaded.';
  if (stats.backend === 'server') return `This machine's server (hearth serve at ${stats.origin}), model ${stats.model}`;
  const note = [stats.backendNote, stats.threadsNote, verifyText(stats.model?.verify)].filter(Boolean).join('; ');
  if (/gpu/i.test(stats.backend ?? '')) {
    const a = stats.adapter ?? {};
    const name = a.name ?? a.description ?? a.device ?? a.vendor ?? stats.adapterName ?? 'unknown adapter';
    const feats = a.features ?? stats.features ?? [];
    return `WebGPU on ${name}${feats.length ? ` (features: ${[...feats].join(', ')})` : ''}${note ? ` — ${note}` : ''}`;
  }
  const t = stats.threads ?? 1;
  return `CPU (WebAssembly, ${t} thread${t === 1 ? '' : 's'}${stats.kernels ? `, ${stats.kernels} kernels` : ''})${note ? ` — ${note}` : ''}`;
}
