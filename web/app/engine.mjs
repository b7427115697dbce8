// The app's one door to the engine (web/client.mjs, running the model in a
// worker). It loads the client lazily, so the page, its conversations and its
// settings work even when the engine cannot start, and it turns the engine's
// progress events into one shape the loading view shows:
// { phase: 'download'|'cached'|'compile'|'ready', loaded, total, rate, eta }.
let clientPromise = null;
export function client() {
  clientPromise ??= import('../client.mjs');
  return clientPromise;
}
export async function errorsModule() {
  try { return await import('../errors.mjs'); } catch { return {}; }
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

// What the engine reports, whatever its field names, as the view's shape.
function normalizeProgress(ev, meter) {
  const raw = String(ev.phase ?? ev.stage ?? ev.status ?? 'download').toLowerCase();
  const cached = ev.cached === true || ev.fromCache === true || /cache/.test(raw);
  let phase = 'download';
  if (/compil|warm|shader|pipeline|init|load(ing)?$|prepar/.test(raw)) phase = 'compile';
  if (/ready|done/.test(raw)) phase = 'ready';
  if (cached && phase === 'download') phase = 'cached';
  const loaded = Number(ev.loaded ?? ev.bytes ?? ev.received ?? 0);
  const total = Number(ev.total ?? ev.size ?? 0);
  const rate = phase === 'download' ? (Number(ev.rate) || meter(loaded)) : 0;
  const eta = rate > 0 && total > loaded ? (total - loaded) / rate : NaN;
  return { phase, loaded, total, rate, eta, file: ev.file ?? ev.url ?? '', message: ev.message ?? '' };
}

// Starts an engine on `model` (URL, URL list or File); onProgress gets normalized events.
export async function startEngine({ model, backend, threads, contextSize, onProgress }) {
  const { createEngine } = await client();
  const meter = rateMeter();
  const opts = { model, backend, onProgress: (ev) => onProgress?.(normalizeProgress(ev || {}, meter)) };
  if (threads) opts.threads = threads;
  if (contextSize) opts.contextSize = contextSize;
  return createEngine(opts);
}

// Cached models as [{ id, name, size, urls }].
export async function cachedModels() {
  const { listCachedModels } = await client();
  const list = await listCachedModels();
  return list.map((m) => ({
    id: m.id ?? m.key ?? m.url,
    name: m.name ?? m.fileName ?? String(m.url ?? m.id).split('/').pop(),
    size: Number(m.size ?? m.bytes ?? m.totalBytes ?? 0),
    urls: m.urls ?? (m.url ? [m.url] : []),
  }));
}

export async function deleteCached(id) {
  const { deleteCachedModel } = await client();
  return deleteCachedModel(id);
}

// What runs, in words, from the engine's stats.
export function describeBackend(stats) {
  if (!stats) return 'No model loaded.';
  const b = stats.backend ?? stats.device ?? '';
  if (/gpu/i.test(b)) {
    const a = stats.adapter ?? {};
    const name = a.name ?? a.description ?? a.device ?? stats.adapterName ?? 'unknown adapter';
    const feats = a.features ?? stats.features ?? [];
    return `WebGPU on ${name}${feats.length ? ` (features: ${[...feats].join(', ')})` : ''}`;
  }
  const t = stats.threads ?? 1;
  const note = stats.threadsNote ? ` — ${stats.threadsNote}` : '';
  return `CPU (WebAssembly, ${t} thread${t === 1 ? '' : 's'}${stats.kernels ? `, ${stats.kernels} kernels` : ''})${note}`;
}
