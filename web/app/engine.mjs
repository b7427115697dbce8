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
  return { phase, loaded, total, rate, eta, file: ev.file ?? '', message: ev.message ?? '' };
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
  const note = [stats.backendNote, stats.threadsNote].filter(Boolean).join('; ');
  if (/gpu/i.test(stats.backend ?? '')) {
    const a = stats.adapter ?? {};
    const name = a.name ?? a.description ?? a.device ?? a.vendor ?? stats.adapterName ?? 'unknown adapter';
    const feats = a.features ?? stats.features ?? [];
    return `WebGPU on ${name}${feats.length ? ` (features: ${[...feats].join(', ')})` : ''}${note ? ` — ${note}` : ''}`;
  }
  const t = stats.threads ?? 1;
  return `CPU (WebAssembly, ${t} thread${t === 1 ? '' : 's'}${stats.kernels ? `, ${stats.kernels} kernels` : ''})${note ? ` — ${note}` : ''}`;
}
