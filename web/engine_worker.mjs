// The engine's dedicated worker (a module Web Worker in the browser, a
// worker_threads Worker in Node; the same file). It owns one backend and one
// model, downloads and reads the model synchronously here, and generates one
// token per event-loop turn so that an abort message is seen within one token.
//
// Protocol (docs/runtime.md): the client sends {id, op, ...}; ops run one at a
// time in arrival order, except 'abort' ({op: 'abort', target}) and 'ack'
// ({op: 'ack', target, taken}: stream chunks the consumer took), which act at
// once. Replies carry the request's id:
//   {id, type: 'progress', progress}   load progress (download, cached, load)
//   {id, type: 'delta', text, reasoning} streamed text (and reasoning) of a generation
//   {id, type: 'done', result}         the op's result (last message of an op)
//   {id, type: 'error', error}         serialized EngineError (last message of an op)
import { AbortError, EngineError, GenerationError, ModelNotFoundError, ModelTooLargeError, NetworkError, QuotaExceededError,
  serializeError, UnsupportedBackendError, UnsupportedModelError } from './errors.mjs';
import { checkFitsCpu, checkFitsGpu, checkGgufHeader, GGUF_HEADER_BYTES } from './store_gguf.mjs';
import { nodeImport } from './locate.mjs';

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof WorkerGlobalScope === 'undefined';

// {post(msg), listen(fn)} over the browser's worker scope or Node's parentPort.
async function channel() {
  if (!isNode) return { post: (m) => self.postMessage(m), listen: (fn) => { self.onmessage = (e) => fn(e.data); } };
  const { parentPort } = await nodeImport('node:worker_threads');
  return { post: (m) => parentPort.postMessage(m), listen: (fn) => parentPort.on('message', fn) };
}

// One macrotask turn, so queued messages (abort) are delivered between tokens.
const turn = isNode ? () => new Promise((r) => setImmediate(r)) : (() => {
  const ch = new MessageChannel();
  const waiting = [];
  ch.port1.onmessage = () => waiting.shift()?.();
  return () => new Promise((r) => { waiting.push(r); ch.port2.postMessage(0); });
})();

// All cores up to 8 (the compute workers share one memory; beyond 8 the
// small models here gain little).
async function defaultThreads() {
  const n = isNode ? (await nodeImport('node:os')).availableParallelism() : navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(8, n));
}

// ---- backends: each gives a Hearth-shaped engine (web/hearth.mjs's interface).
const BACKENDS = {
  async cpu({ threads, log, files }) {
    const { Hearth } = await import('./hearth.mjs');
    const h = await Hearth.create({ threads: threads ?? await defaultThreads(), log, files });
    return { engine: h, checkSize: (bytes) => checkFitsCpu(bytes) };
  },
  // web/gpu/backend.mjs (issue 6) exports createBackend({log}) -> {engine, checkSize?}.
  async webgpu(opts) {
    let mod;
    try { mod = await import('./gpu/backend.mjs'); } catch (e) {
      if (!/Cannot find|Failed to fetch|ERR_MODULE_NOT_FOUND|404|error loading dynamically imported module/i.test(String(e?.message || e))) throw e;
      throw new UnsupportedBackendError('the WebGPU backend is not part of this build yet (issue 6): use backend "cpu" or "auto"');
    }
    let b;
    // (threads: exact attention splits long decode as the CPU backend with its default threads would)
    try { b = await mod.createBackend({ ...opts, threads: opts.threads ?? await defaultThreads() }); } catch (e) {
      throw e instanceof EngineError ? e : new UnsupportedBackendError(`WebGPU cannot run here: ${e.message}`);
    }
    // The worker streams through step-wise generation; a backend without it cannot serve requests.
    if (typeof b.engine.beginChat !== 'function' || typeof b.engine.beginCompletion !== 'function') {
      b.engine.destroy?.();
      throw new UnsupportedBackendError('the WebGPU backend has no step-wise generation (beginChat/beginCompletion) yet: use backend "cpu" or "auto"');
    }
    // Its weights live in GPU buffers, not in wasm memory: the backend's own limit, else the WebGPU cap.
    return { checkSize: (bytes) => checkFitsGpu(bytes), ...b };
  },
};

async function createBackend(name, opts) {
  if (name === 'cpu' || name === 'webgpu') return { name, note: '', ...(await BACKENDS[name](opts)) };
  if (name !== 'auto') throw new UnsupportedBackendError(`unknown backend ${JSON.stringify(name)}: use "auto", "webgpu" or "cpu"`);
  try {
    return { name: 'webgpu', note: '', ...(await BACKENDS.webgpu(opts)) };
  } catch (e) {
    return { name: 'cpu', note: `WebGPU not used: ${e.message}`, ...(await BACKENDS.cpu(opts)) };
  }
}

// ---- model sources by kind ({kind: 'path', path} | {kind: 'url', urls} | {kind: 'files', files}).
async function openPath(file, checkSize) {
  const fs = await nodeImport('node:fs');
  const { nodeFileSource, splitPartPath } = await import('./hearth.mjs');
  let fd;
  try { fd = fs.openSync(file, 'r'); } catch (e) {
    if (e.code === 'ENOENT') throw new ModelNotFoundError(`${file}: no such file`, { path: file });
    throw new EngineError(`${file}: cannot open: ${e.message}`, { path: file });
  }
  let size;
  const head = new Uint8Array(GGUF_HEADER_BYTES);
  try {
    size = fs.fstatSync(fd).size;
    checkGgufHeader(head.subarray(0, fs.readSync(fd, head, 0, head.length, 0)), file);
  } finally { fs.closeSync(fd); }
  // A split model's other parts count towards the size.
  const m = /-00001-of-(\d{5})\.gguf$/.exec(file);
  for (let i = 1; m && i < Number(m[1]); i++) {
    try { size += fs.statSync(splitPartPath(file, i, Number(m[1]))).size; } catch { /* the core names the missing part */ }
  }
  checkSize(size);
  return { source: await nodeFileSource(file), id: file, cached: true, bytes: size, storage: 'file' };
}

async function openSource(model, { checkSize, checkHeader, onProgress, signal, storage }) {
  if (model.kind === 'path') {
    if (!isNode) throw new EngineError('a file path works in Node only; in a browser give a URL or a File');
    return openPath(model.path, checkSize);
  }
  if (model.kind === 'files') {
    if (typeof FileReaderSync === 'undefined') throw new EngineError('a File or Blob loads in a browser only (FileReaderSync); in Node give a file path');
    const { blobSource, checkBlobs } = await import('./store_file.mjs');
    const names = model.files.map((f, i) => f.name || `part ${i + 1}`);
    checkSize(checkBlobs(model.files, names));
    return { source: blobSource(model.files, names), id: names[0], cached: true, bytes: model.files.reduce((a, f) => a + f.size, 0), storage: 'file' };
  }
  if (model.kind === 'url') {
    if (isNode) throw new EngineError('URLs load through the browser\'s model store; in Node give a file path');
    const { openUrlModel } = await import('./store.mjs');
    return openUrlModel(model.urls, { storage, onProgress, signal, checkSize, checkHeader, expect: model.expect });
  }
  throw new EngineError('model: give a URL, an array of URLs (split model), a File, or (Node) a file path');
}

// ---- state
let backend = null; // {name, note, engine, checkSize}
let loaded = null; // {id, bytes, cached, storage, loadMs}
let last = null; // result of the latest generation
const running = new Map(); // request id -> {ctl: AbortController, flow}

function loadError(e) {
  if (e instanceof EngineError) return e;
  const msg = e?.message || String(e);
  if (/out of memory|cannot allocate|memory/i.test(msg)) return new ModelTooLargeError(msg);
  return new UnsupportedModelError(msg);
}

async function load({ model, backend: name = 'auto', threads, contextSize, storage, exactNumerics, files }, { post, signal }) {
  if (loaded) throw new EngineError('a model is loaded in this engine already: unload() first, or create another engine');
  const log = (level, msg) => post({ type: 'log', level, message: msg });
  const onProgress = (p) => post({ type: 'progress', progress: p });
  // The store's modules load while the backend starts (fetching and compiling the wasm, starting threads):
  // both stand between a reload and the first token.
  if (model?.kind === 'url') import('./store.mjs').catch(() => {}); // (openSource reports a failure)
  // exactNumerics: the CPU path's products keep llama.cpp's accumulation order and the GPU's
  // attention reproduces the CPU path's arithmetic (slower; tests compare tokens bit for bit).
  backend ??= await createBackend(name, { threads, log, exactAttention: !!exactNumerics, files });
  const args = { model, contextSize, storage, onProgress, signal, exactNumerics: !!exactNumerics };
  try {
    try {
      return await loadOn(args);
    } catch (e) {
      // 'auto': a model WebGPU cannot take (size, tensor type...) still runs on the CPU.
      const notTheModelsFault = e instanceof AbortError || e instanceof NetworkError || e instanceof ModelNotFoundError || e instanceof QuotaExceededError;
      if (name !== 'auto' || backend.name !== 'webgpu' || notTheModelsFault) throw e;
      backend.engine.destroy?.();
      backend = { name: 'cpu', note: `WebGPU could not load this model: ${e.message}`, ...(await BACKENDS.cpu({ threads, log, files })) };
      return await loadOn(args);
    }
  } catch (e) {
    // A downloaded file the CPU path cannot parse keeps no bytes: it would never load, and a link
    // could otherwise leave junk in the store.
    if (model?.kind === 'url' && backend.name === 'cpu' && e instanceof UnsupportedModelError) {
      try {
        const { describeModel, deleteCachedModel } = await import('./store.mjs');
        await deleteCachedModel((await describeModel(model.urls)).id);
        e.message += ' (its downloaded bytes were deleted)';
      } catch { /* in use elsewhere, or already gone: it stays listed under Models */ }
    }
    throw e;
  }
}

async function loadOn({ model, contextSize, storage, onProgress, signal, exactNumerics }) {
  // Before a download: the backend reads the file's first megabytes and refuses what it cannot run
  // (an architecture, a tensor type), naming it, before the rest moves (store_download.mjs).
  const checkHeader = (head, fileSize, name) => {
    try { return backend.engine.checkHeader(head, fileSize, name); } catch (e) { throw loadError(e); }
  };
  const opened = await openSource(model, { checkSize: backend.checkSize, checkHeader, onProgress, signal, storage });
  onProgress({ phase: 'load', bytes: 0, totalBytes: opened.bytes });
  const t0 = performance.now();
  try {
    // A backend may finish loading asynchronously (WebGPU uploads and compiles).
    await backend.engine.load(countingReads(opened.source, opened.bytes, onProgress), { contextSize: contextSize || 0, exactNumerics });
  } catch (e) {
    opened.source.close?.();
    throw loadError(e);
  }
  loaded = { id: opened.id, bytes: opened.bytes, cached: opened.cached, storage: opened.storage, verify: opened.verify, loadMs: performance.now() - t0 };
  onProgress({ phase: 'ready', bytes: opened.bytes, totalBytes: opened.bytes });
  return describe();
}

// The source with 'load' progress (bytes read into the backend so far, at most
// every 100 ms): loading a large model takes seconds, all of it synchronous
// here, and the page still hears of it (postMessage does not wait for us).
function countingReads(source, total, onProgress) {
  let loaded = 0, last = 0;
  return {
    ...source,
    open(part, count) {
      const p = source.open(part, count);
      return {
        ...p,
        read(offset, dst) {
          p.read(offset, dst);
          loaded += dst.length;
          const now = performance.now();
          if (now - last >= 100) {
            last = now;
            onProgress({ phase: 'load', bytes: Math.min(loaded, total), totalBytes: total });
          }
        },
      };
    },
    close: () => source.close?.(),
  };
}

function describe() {
  const h = backend.engine;
  return {
    model: { id: loaded.id, bytes: loaded.bytes, storage: loaded.storage, fromCache: loaded.cached, ...(loaded.verify ? { verify: loaded.verify } : {}), ...(h.info || {}) },
    backend: backend.name, backendNote: backend.note, threads: h.threads, threadsNote: h.threadsNote || '',
    kernels: h.kernels, contextSize: h.contextSize, loadMs: loaded.loadMs,
  };
}

function needModel() {
  if (!loaded) throw new EngineError('no model is loaded (the engine was unloaded)');
  return backend.engine;
}

const SAMPLING = { max_tokens: 'maxTokens', temperature: 'temperature', top_k: 'topK', top_p: 'topP', min_p: 'minP', repeat_penalty: 'repeatPenalty', seed: 'seed' };

// A stream runs at most one token ahead of its consumer: the client acks each
// chunk as the consumer takes it, and token k+1 starts only once chunk k-1 was
// taken. So an abort from a consumer that has seen chunk k stops at k+1, however
// late its messages arrive, and a slow consumer slows the generation down.
async function generate(kind, params, { post, signal, stream, flow }) {
  const h = needModel();
  const opts = {};
  for (const [k, v] of Object.entries(SAMPLING)) if (params[k] != null) opts[v] = params[k];
  if (params.stop != null) opts.stop = Array.isArray(params.stop) ? params.stop : [params.stop];
  if (opts.maxTokens == null) opts.maxTokens = h.contextSize;
  if (params.chat_template_kwargs != null) opts.chatTemplateKwargs = params.chat_template_kwargs;
  if (params.enable_thinking != null) opts.enableThinking = params.enable_thinking;
  if (params.response_format != null) opts.responseFormat = params.response_format;
  if (params.grammar != null) opts.grammar = params.grammar;
  if (params.tools != null) opts.tools = params.tools;
  if (params.tool_choice != null) opts.toolChoice = params.tool_choice;
  let g;
  try {
    g = kind === 'chat' ? h.beginChat(params.messages, opts) : h.beginCompletion(params.prompt, opts);
  } catch (e) { throw new GenerationError(e.message); }
  let aborted = false, sent = 0;
  for (;;) {
    if (stream) await flow.taken(sent - 1);
    if (signal.aborted) { g.abort(); aborted = true; break; }
    let step;
    // (await: a GPU backend's step may be asynchronous)
    try { step = await g.next(); } catch (e) { g.abort?.(); throw new GenerationError(e.message); }
    // Every token, even one whose text is not complete UTF-8 yet (''), so flow control counts tokens.
    if (stream) { post({ type: 'delta', text: step.text, reasoning: step.reasoning ?? '', toolCalls: step.toolCalls ?? [] }); sent++; }
    if (step.done) break;
    await turn();
  }
  last = g.result;
  return { ...g.result, finishReason: aborted ? 'abort' : g.result.finishReason };
}

// Chunks taken by a stream's consumer ({op: 'ack', target, taken}); abort wakes the wait too.
function flowControl(signal) {
  let acked = 0, wake = null;
  signal.addEventListener('abort', () => wake?.());
  return {
    ack(n) { acked = Math.max(acked, n); wake?.(); },
    async taken(n) {
      while (acked < n && !signal.aborted) await new Promise((r) => { wake = r; });
      wake = null;
    },
  };
}

function stats() {
  const base = loaded ? describe() : { backend: backend?.name || null, threads: backend?.engine.threads ?? null };
  const t = last?.timings, u = last?.usage;
  return {
    ...base,
    promptTokens: u?.prompt_tokens ?? null, completionTokens: u?.completion_tokens ?? null,
    reusedTokens: t?.reused_tokens ?? null, prefillMs: t?.prefill_ms ?? null, decodeMs: t?.decode_ms ?? null,
    timeToFirstTokenMs: t?.ttft_ms ?? null,
    // decode: tokens after the first over the time they took (the first comes with prefill)
    tokensPerSecond: t && u && u.completion_tokens > 1 && t.decode_ms > 0 ? ((u.completion_tokens - 1) * 1000) / t.decode_ms : null,
    prefillTokensPerSecond: t && t.prefill_ms > 0 ? ((t.evaluated_tokens ?? 0) * 1000) / t.prefill_ms : null,
  };
}

// Frees the model and the backend (compute threads, GPU device); the client ends the worker next.
function unload() {
  if (loaded) backend.engine.unload();
  backend?.engine.destroy?.();
  backend = null;
  loaded = null;
  last = null;
}

const OPS = {
  load,
  chat: (m, ctx) => generate('chat', m.params, { ...ctx, stream: !!m.stream }),
  complete: (m, ctx) => generate('complete', m.params, { ...ctx, stream: !!m.stream }),
  tokenize: (m) => needModel().tokenize(String(m.text), { special: !!m.special }),
  stats: () => stats(),
  unload: () => unload(),
};

// No top-level await: bundlers may build workers as classic scripts (Vite's default worker format).
channel().then((port) => {
  let queue = Promise.resolve();
  port.listen((m) => {
    if (!m || typeof m !== 'object') return;
    if (m.op === 'abort') { running.get(m.target)?.ctl.abort(); return; }
    if (m.op === 'ack') { running.get(m.target)?.flow.ack(Number(m.taken) || 0); return; }
    const ctl = new AbortController();
    const flow = flowControl(ctl.signal);
    running.set(m.id, { ctl, flow });
    const post = (msg) => port.post({ id: m.id, ...msg });
    queue = queue.then(async () => {
      try {
        if (ctl.signal.aborted) throw new AbortError('aborted before it started');
        const op = OPS[m.op];
        if (!op) throw new EngineError(`unknown op ${JSON.stringify(m.op)}`);
        post({ type: 'done', result: await op(m, { post, signal: ctl.signal, flow }) });
      } catch (e) {
        post({ type: 'error', error: serializeError(e) });
      } finally { running.delete(m.id); }
    });
  });
  port.post({ type: 'ready' });
});
