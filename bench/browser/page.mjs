// The benchmark page's side: window.bench runs one engine step at a time for
// bench/browser_bench.mjs (page.evaluate), so that Node decides the order of
// runs and keeps the numbers. hearth runs in its own module worker
// (hearth_worker.mjs); wllama starts its own worker and pthreads.
import { Wllama } from '/wllama/index.js';

const WLLAMA_WASM = new URL('/wllama/wasm/wllama.wasm', location.href).href;
let hearthWorker = null, nextId = 1;
const pending = new Map();
let wllama = null;

function hearthCall(msg) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    hearthWorker.postMessage({ ...msg, id });
  });
}

function startHearthWorker() {
  hearthWorker = new Worker(new URL('./hearth_worker.mjs', import.meta.url), { type: 'module', name: 'hearth engine' });
  hearthWorker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    pending.delete(data.id);
    if (data.error) p.reject(new Error(`hearth: ${data.error}`));
    else p.resolve(data.result);
  };
  hearthWorker.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(`hearth worker: ${e.message || 'failed'}`));
    pending.clear();
  };
}

const quietLogger = {
  debug() {}, log() {}, warn: (...a) => console.warn('wllama:', ...a), error: (...a) => console.error('wllama:', ...a),
};

window.bench = {
  isolated: () => ({ crossOriginIsolated: self.crossOriginIsolated, sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
    hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent }),

  async hearthLoad({ url, threads, contextSize, exactNumerics, relaxedSimd }) {
    startHearthWorker();
    return hearthCall({ op: 'load', url, threads, contextSize, exactNumerics, relaxedSimd });
  },
  hearthPromptTokens: (text) => hearthCall({ op: 'promptTokens', text }),
  hearthRun: ({ tokens, genTokens }) => hearthCall({ op: 'run', tokens, genTokens }),
  async hearthUnload() {
    if (!hearthWorker) return;
    await hearthCall({ op: 'destroy' });
    hearthWorker.terminate();
    hearthWorker = null;
  },

  async wllamaLoad({ url, threads, contextSize }) {
    const t0 = performance.now();
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    const blob = await r.blob();
    const t1 = performance.now();
    wllama = new Wllama({ default: WLLAMA_WASM }, { suppressNativeLog: !globalThis.WLLAMA_LOG, logger: globalThis.WLLAMA_LOG ? console : quietLogger });
    // CPU only (n_gpu_layers 0 also keeps WebGPU off), no built-in warm-up:
    // the driver warms every engine up the same way.
    await wllama.loadModel([blob], { n_threads: threads, n_ctx: contextSize, n_gpu_layers: 0, n_parallel: 1, warmup: false });
    const t2 = performance.now();
    const info = wllama.getLoadedContextInfo();
    return {
      fetch_ms: t1 - t0, load_ms: t2 - t1, multithread: wllama.isMultithread(), threads: wllama.getNumThreads(),
      version: Wllama.getLibllamaVersion(), nVocab: info.n_vocab, n_ctx: info.n_ctx,
    };
  },
  // The prompt is text: wllama 3.13 fails on a prompt of token ids (its
  // worker reads a garbage reply length). Not streamed: wllama's client polls its worker for results, and a
  // stream would add page-side work per token. The timings are llama.cpp's
  // own (server-context: prompt_ms from the start of prompt processing to
  // the first sampled token; predicted_ms from there to the last token).
  async wllamaRun({ text, genTokens }) {
    const t0 = performance.now();
    const res = await wllama.createCompletion({
      prompt: text, max_tokens: genTokens, n_predict: genTokens, temperature: 0, ignore_eos: true, cache_prompt: false,
    });
    const t1 = performance.now();
    return { timings: res.timings ?? null, usage: res.usage ?? null, finish_reason: res.choices?.[0]?.finish_reason, wall_ms: t1 - t0 };
  },
  async wllamaUnload() {
    await wllama?.exit();
    wllama = null;
  },
};
window.benchReady = true;
