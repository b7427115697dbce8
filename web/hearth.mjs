// The JS host of the WebAssembly build (web/dist/hearth.wasm, `make wasm`):
// instantiates the module, provides its imports (model bytes on request,
// clock, logs, a three-function WASI shim) and wraps the exports.
//
// Model bytes: the core allocates its buffers in wasm memory and asks for
// byte ranges; a source's read(offset, dst) fills a Uint8Array view of that
// memory directly, so the model never passes whole through JS memory.
// A source is { open(part, count) -> { name, size, read(offset, dst) } }
// (part 0 is the file the user named; parts 1.. of a split model).
//
// Threads: with threads > 1 and SharedArrayBuffer available (Node, or a
// cross-origin-isolated page), the shared-memory build hearth-mt.wasm runs
// and threads - 1 workers (thread_worker.mjs) take the core's parallel
// regions; otherwise hearth.wasm on one thread, and threadsNote says why.
// Where the engine validates relaxed SIMD (Chromium since 114;
// Node 20 only with --experimental-wasm-relaxed-simd), the same builds with
// relaxed-SIMD Q4_0 kernels (hearth-relaxed*.wasm) run instead, unless
// relaxedSimd is false or HEARTH_NO_RELAXED=1 in Node's environment.

import { beside, moduleWorker, nodeImport } from './locate.mjs';

// Each written out in place, so that bundlers copy and fingerprint it (web/locate.mjs); Hearth.create's
// files ({name: URL}, createEngine's locateFile) may put any elsewhere.
const WASM_URLS = {
  'hearth.wasm': new URL('./dist/hearth.wasm', import.meta.url),
  'hearth-mt.wasm': new URL('./dist/hearth-mt.wasm', import.meta.url),
  'hearth-relaxed.wasm': new URL('./dist/hearth-relaxed.wasm', import.meta.url),
  'hearth-relaxed-mt.wasm': new URL('./dist/hearth-relaxed-mt.wasm', import.meta.url),
};
const isNode = typeof process !== 'undefined' && !!process.versions?.node;
// Pages of 64 KiB; the shared build is linked with --initial-memory=32 MiB.
const MT_INITIAL_PAGES = 512, MAX_PAGES = 65536;

export class HearthError extends Error {}

const dec = new TextDecoder();
const enc = new TextEncoder();

// NAME-00001-of-00003.gguf -> NAME-0000{part+1}-of-00003.gguf (as the native host).
export function splitPartPath(first, part, count) {
  const m = /^(.*)-\d{5}(-of-\d{5}\.gguf)$/.exec(first);
  if (!m) throw new HearthError(`${first}: the model is split into ${count} parts, but the file name does not ` +
    `follow NAME-00001-of-${String(count).padStart(5, '0')}.gguf, so the other parts cannot be found`);
  return `${m[1]}-${String(part + 1).padStart(5, '0')}${m[2]}`;
}

// A model on the local file system (Node): positioned reads, in chunks.
export async function nodeFileSource(file) {
  const fs = await nodeImport('node:fs');
  const path = await nodeImport('node:path');
  const fds = [];
  return {
    open(part, count) {
      const p = part === 0 ? file : splitPartPath(file, part, count);
      let fd;
      try { fd = fs.openSync(p, 'r'); } catch (e) { throw new HearthError(`${p}: cannot open: ${e.message}`); }
      const st = fs.fstatSync(fd);
      if (!st.isFile()) { fs.closeSync(fd); throw new HearthError(`${p}: not a regular file`); }
      fds.push(fd);
      return {
        name: path.basename(p),
        size: st.size,
        read(offset, dst) {
          const CHUNK = 1 << 26;
          for (let done = 0; done < dst.length;) {
            const n = fs.readSync(fd, dst, done, Math.min(CHUNK, dst.length - done), offset + done);
            if (n <= 0) throw new HearthError(`${path.basename(p)}: unexpected end of file at ${offset + done}`);
            done += n;
          }
        },
      };
    },
    close() { for (const fd of fds.splice(0)) fs.closeSync(fd); },
  };
}

// An in-memory model (ArrayBuffer / Uint8Array per part), e.g. a browser File read whole.
export function bufferSource(buffers) {
  const list = Array.isArray(buffers) ? buffers : [buffers];
  return {
    open(part) {
      const b = list[part];
      if (!b) throw new HearthError(`model part ${part + 1} was not given`);
      const u = b instanceof Uint8Array ? b : new Uint8Array(b);
      return { name: `part ${part + 1}`, size: u.length, read(offset, dst) { dst.set(u.subarray(offset, offset + dst.length)); } };
    },
    close() {},
  };
}

async function wasmBytes(url) {
  if (isNode && url.protocol === 'file:') {
    const fs = await nodeImport('node:fs');
    return fs.readFileSync(url);
  }
  const r = await fetch(url);
  if (!r.ok) throw new HearthError(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

const modules = new Map();
function compiled(url) {
  const key = String(url);
  if (!modules.has(key)) {
    modules.set(key, wasmBytes(url).then((b) => WebAssembly.compile(b)).catch((e) => {
      if (!/Content Security Policy|unsafe-eval/i.test(e?.message)) throw e;
      throw new HearthError(`${e.message} Allow WebAssembly in the page's Content-Security-Policy: script-src 'wasm-unsafe-eval' ` +
        '(a Chrome extension: "content_security_policy": {"extension_pages": "script-src \'self\' \'wasm-unsafe-eval\'"} in manifest.json).');
    }));
  }
  return modules.get(key);
}

// A module whose one function uses i16x8.relaxed_dot_i8x16_i7x16_s (0xfd 0x112).
const RELAXED_PROBE = new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, // magic, version
  1, 5, 1, 0x60, 0, 1, 0x7b, // type: () -> v128
  3, 2, 1, 0, // function 0 has type 0
  10, 43, 1, 41, 0, // code: one body of 41 bytes, no locals
  0xfd, 0x0c, ...new Array(16).fill(0), 0xfd, 0x0c, ...new Array(16).fill(0), // two v128.const 0
  0xfd, 0x92, 0x02, 0x0b, // i16x8.relaxed_dot_i8x16_i7x16_s, end
]);
export function relaxedSimdAvailable() {
  try { return WebAssembly.validate(RELAXED_PROBE); } catch { return false; }
}

// Why threads cannot run here, or '' when they can.
export function threadsUnavailable() {
  if (!isNode && globalThis.crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin ' +
      'and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  if (!isNode && typeof Worker === 'undefined') return 'Web Workers are not available here';
  return '';
}

// Starts one compute thread; onFailed(message) hears of a trap after start-up; url: where
// locateFile put thread_worker.mjs, or undefined.
async function startWorker(data, onFailed, url) {
  let w;
  if (isNode) {
    const { Worker } = await nodeImport('node:worker_threads');
    w = new Worker(url ? new URL(url) : beside('./thread_worker.mjs'));
  } else {
    const name = `hearth compute ${data.id}`;
    w = url ? moduleWorker(url, name) : new Worker(new URL('./thread_worker.mjs', import.meta.url), { type: 'module', name });
  }
  const on = (fn) => (isNode ? w.on('message', fn) : w.addEventListener('message', (ev) => fn(ev.data)));
  const ready = new Promise((resolve, reject) => {
    on((m) => {
      if (m.ready) resolve();
      else if (m.failed) onFailed(m);
      else if (m.error) reject(new HearthError(`compute thread ${data.id}: ${m.error}`));
    });
    if (isNode) w.on('error', reject);
    else w.addEventListener('error', (e) => reject(new HearthError(`compute thread ${data.id}: ${e.message || 'failed to start'}`)));
  });
  w.postMessage(data);
  await ready;
  if (isNode) w.unref();
  return w;
}

// One module instance per loaded model (the C host holds one model).
export class Hearth {
  // threads: CPU threads wanted (default 1); gpu: the WebGPU host's import
  // provider ({ imports(getMemory) -> { name: fn } } for module "hearth_gpu"); files: {name: URL}
  // of the engine's files placed elsewhere (web/locate.mjs).
  static async create({ wasmUrl, log, threads = 1, gpu, files = {},
    relaxedSimd = globalThis.process?.env?.HEARTH_NO_RELAXED !== '1' } = {}) {
    const h = new Hearth();
    const n = Math.max(1, Math.min(64, Math.floor(threads) || 1));
    const why = n > 1 ? threadsUnavailable() : '';
    const mt = n > 1 && !why;
    h.threadsNote = why ? `running on one thread: ${why}` : '';
    const relaxed = relaxedSimd && relaxedSimdAvailable();
    const name = `hearth${relaxed ? '-relaxed' : ''}${mt ? '-mt' : ''}.wasm`;
    wasmUrl ??= files[name] ? new URL(files[name]) : WASM_URLS[name];
    await h.#init(await compiled(wasmUrl), log, mt, gpu);
    if (mt) await h.#startThreads(n, files['thread_worker.mjs']);
    return h;
  }

  #gpu = null; #onGpu = false; // the WebGPU backend (web/gpu/host.mjs), when given
  #x; #mem; #parts = []; #source = null; #engine = 0; #log; #module; #workers = []; #threads = 1;
  threadsNote = '';

  async #startThreads(n, workerUrl) {
    const x = this.#x;
    const tops = x.hearth_wasm_threads_prepare(n) >>> 0;
    if (!tops) throw new HearthError(`cannot prepare ${n} threads (out of memory?)`);
    const stackTops = Array.from(new Uint32Array(this.#mem.buffer, tops, n - 1));
    const started = await Promise.allSettled(stackTops.map((stackTop, i) =>
      startWorker({ module: this.#module, memory: this.#mem, id: i + 1, stackTop }, (m) => this.#log(1, `compute thread ${m.failed}: ${m.error}`), workerUrl)));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      x.hearth_wasm_threads_stop();
      for (const r of started) if (r.status === 'fulfilled') r.value.terminate();
      throw failed.reason;
    }
    this.#workers = started.map((r) => r.value);
    x.hearth_wasm_threads_ready(n);
    this.#threads = n;
  }

  // Stops the compute threads (after unload; the instance is unusable then).
  destroy() {
    this.unload();
    if (this.#workers.length) {
      this.#x.hearth_wasm_threads_stop();
      for (const w of this.#workers.splice(0)) w.terminate();
    }
    this.#threads = 1;
  }

  async #init(module, log, shared, gpu) {
    this.#module = module;
    this.#log = log || ((level, msg) => console.error(level ? `warning: ${msg}` : msg));
    const self = this;
    const u8 = () => new Uint8Array(this.#mem.buffer);
    // slice: TextDecoder refuses views of shared memory.
    const str = (p, n) => dec.decode(u8().slice(p >>> 0, (p >>> 0) + n));
    const putStr = (p, cap, s) => {
      const b = enc.encode(s).subarray(0, Math.max(0, cap - 1));
      u8().set(b, p >>> 0);
      u8()[(p >>> 0) + b.length] = 0;
    };
    const fail = (msg, cap, e) => { putStr(msg, cap, e instanceof Error ? e.message : String(e)); return -1; };
    const imports = {
      hearth: {
        open_part(part, count, sizePtr, msg, cap) {
          try {
            const p = self.#source.open(part, count);
            self.#parts[part] = p;
            new DataView(self.#mem.buffer).setFloat64(sizePtr >>> 0, p.size, true);
            return 0;
          } catch (e) { return fail(msg, cap, e); }
        },
        read(part, offset, dst, len, msg, cap) {
          try {
            self.#parts[part].read(offset, new Uint8Array(self.#mem.buffer, dst >>> 0, len >>> 0));
            return 0;
          } catch (e) { return fail(msg, cap, e); }
        },
        part_name(part, buf, cap) { putStr(buf, cap, self.#parts[part]?.name || 'model'); },
        now_ms: () => performance.now(),
        log: (level, p, n) => self.#log(level, str(p, n)),
      },
      // libc's stdio is linked in but the core writes nothing; enough WASI for it.
      wasi_snapshot_preview1: {
        fd_write(fd, iovs, iovsLen, nwritten) {
          const dv = new DataView(self.#mem.buffer);
          let total = 0, text = '';
          for (let i = 0; i < iovsLen; i++) {
            const p = dv.getUint32((iovs >>> 0) + 8 * i, true), n = dv.getUint32((iovs >>> 0) + 8 * i + 4, true);
            text += str(p, n);
            total += n;
          }
          if (text) self.#log(0, text.replace(/\n$/, ''));
          dv.setUint32(nwritten >>> 0, total, true);
          return 0;
        },
        fd_close: () => 8, // EBADF
        fd_seek: () => 8,
      },
    };
    // The GPU backend's imports, or stubs that say it is not there.
    const gpuImports = gpu ? gpu.imports(() => this.#mem) : {};
    imports.hearth_gpu = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.module !== 'hearth_gpu') continue;
      imports.hearth_gpu[imp.name] = gpuImports[imp.name] ?? (() => -1);
    }
    if (shared) {
      this.#mem = new WebAssembly.Memory({ initial: MT_INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
      imports.env = { memory: this.#mem };
    }
    const inst = await WebAssembly.instantiate(module, imports);
    this.#x = inst.exports;
    if (!shared) this.#mem = inst.exports.memory;
    this.#x._initialize();
    this.#gpu = gpu || null;
    gpu?.attach?.({ exports: this.#x, memory: () => this.#mem });
  }

  #cstr(s) {
    const b = enc.encode(s);
    const p = this.#x.hearth_wasm_malloc(b.length + 1) >>> 0;
    if (!p) throw new HearthError('out of memory');
    const u = new Uint8Array(this.#mem.buffer);
    u.set(b, p);
    u[p + b.length] = 0;
    return [p, b.length];
  }
  #error() { return new HearthError(this.#cstrAt(this.#x.hearth_wasm_error())); }
  #ints(fn) {
    const out = this.#x.hearth_wasm_malloc(4) >>> 0;
    try {
      const n = fn(out);
      if (n < 0) throw this.#error();
      const arr = new DataView(this.#mem.buffer).getUint32(out, true);
      const res = Array.from(new Int32Array(this.#mem.buffer, arr, n));
      this.#x.hearth_wasm_free(arr);
      return res;
    } finally { this.#x.hearth_wasm_free(out); }
  }

  // Loads a model from a source; options: contextSize, maxBatch, noSimd, vocabOnly, exactNumerics
  // (the CPU path's products keep llama.cpp's exact accumulation order, slower in wasm; default
  // false, or HEARTH_EXACT=1 in Node's environment; docs/numerics.md).
  // backend 'webgpu': the weights go to the GPU given to create(); then await gpu.ready().
  load(source, { contextSize = 0, maxBatch = 0, noSimd = false, vocabOnly = false, backend = 'cpu',
    exactNumerics = globalThis.process?.env?.HEARTH_EXACT === '1' } = {}) {
    if (this.#engine) throw new HearthError('a model is loaded already');
    this.#source = source;
    const t0 = performance.now();
    if (backend === 'webgpu') {
      try { this.#engine = this.#gpu.loadEngine({ contextSize, maxBatch }); } catch (e) { source.close?.(); this.#source = null; throw e; }
      this.#onGpu = true;
      this.loadMs = performance.now() - t0;
      return this;
    }
    const flags = (noSimd ? 1 : 0) | (vocabOnly ? 2 : 0) | (exactNumerics ? 0 : 4);
    const e = this.#x.hearth_wasm_load(contextSize, maxBatch, flags) >>> 0;
    if (!e) { const err = this.#error(); source.close?.(); throw err; }
    this.#engine = e;
    this.loadMs = performance.now() - t0;
    return this;
  }

  // Whether the first bytes of a model file (Uint8Array `head` of a file of
  // `fileSize` bytes) describe a model this engine's backend (gpu: WebGPU)
  // runs, before the rest is fetched: { needMore: true } when the header goes
  // on past `head`; throws HearthError naming the architecture or the tensor
  // and type that stops it.
  checkHeader(head, fileSize, name, { gpu = false } = {}) {
    const p = this.#x.hearth_wasm_malloc(head.length) >>> 0;
    if (!p) throw new HearthError('out of memory');
    try {
      new Uint8Array(this.#mem.buffer).set(head, p);
      return this.#withText(name, (np) => {
        const r = this.#x.hearth_wasm_check_header(p, head.length, fileSize, gpu ? 1 : 0, np);
        if (r < 0) throw this.#error();
        return { needMore: r === 1 };
      });
    } finally { this.#x.hearth_wasm_free(p); }
  }

  get kernels() { return this.#cstrAt(this.#x.hearth_wasm_kernels(this.#engine)); }
  get contextSize() { return this.#x.hearth_wasm_ctx(this.#engine); }
  get threads() { return this.#threads; }

  #withText(text, fn) {
    const [p, n] = this.#cstr(text);
    try { return fn(p, n); } finally { this.#x.hearth_wasm_free(p); }
  }
  // Tokens of a raw-completion prompt (BOS as the file says).
  promptTokens(text) { return this.#withText(text, (p, n) => this.#ints((out) => this.#x.hearth_wasm_prompt_tokens(this.#engine, p, n, out))); }
  // Token ids of a text, without BOS.
  tokenize(text, { special = false } = {}) {
    return this.#withText(text, (p, n) => this.#ints((out) => this.#x.hearth_wasm_tokenize(this.#engine, p, n, special ? 1 : 0, out)));
  }

  // The chat session's idea of the KV cache is void once generate/bench rewrite it.
  #forgetSession() {
    if (this.#active && !this.#active.done) throw new HearthError('a generation is running; finish or abort it first');
    if (this.#session) this.#x.hearth_wasm_session_free(this.#session);
    this.#session = 0;
  }

  // The sampler's defaults, as the core defines them (src/sampler.c).
  get samplerDefaults() { return samplerDefaults(this.#x, () => this.#mem); }

  // Generates after the prompt tokens (nPast of them already in the KV cache);
  // options: maxTokens (128), the sampling ones (samplerDefaults), seed,
  // onToken(id, text, logits) (may return false to stop; logits() gives a
  // Float32Array view of the step's logits, valid during the call only).
  // Returns { tokens, text, stop, stats }. On the CPU this is synchronous;
  // a model on the GPU generates through its backend (web/gpu/backend.mjs).
  generate(prompt, opts = {}) {
    this.#forgetSession();
    const it = generationSteps(this.#x, () => this.#mem, this.#engine, prompt, opts);
    const r = it.next();
    if (!r.done) {
      it.return();
      throw new HearthError('the model is on an asynchronous backend (WebGPU): generate through it');
    }
    return r.value;
  }

  // Prefill and decode speed (src/bench.h): { prefill_ms, decode_ms }, best of repetitions.
  bench(promptTokens, genTokens, repetitions = 1) {
    const x = this.#x;
    this.#forgetSession();
    const out = x.hearth_wasm_malloc(16) >>> 0;
    try {
      if (x.hearth_wasm_bench(this.#engine, promptTokens, genTokens, repetitions, out) < 0) throw this.#error();
      const [prefill_ms, decode_ms] = new Float64Array(this.#mem.buffer, out, 2);
      return { prefill_ms, decode_ms };
    } finally { x.hearth_wasm_free(out); }
  }

  // The NUL-terminated string at p (slice: TextDecoder refuses views of shared memory).
  #cstrAt(p) { return cstringAt(this.#mem, p); }

  // What the loaded model is.
  get info() {
    const x = this.#x, e = this.#engine, num = (i) => x.hearth_wasm_info_num(e, i);
    return {
      name: this.#cstrAt(x.hearth_wasm_info_str(e, 0)),
      architecture: this.#cstrAt(x.hearth_wasm_info_str(e, 1)),
      hasChatTemplate: this.#cstrAt(x.hearth_wasm_info_str(e, 2)).length > 0,
      ...this.#chatFeatures(),
      layers: num(0), embeddingWidth: num(1), nVocab: num(2), weightBytes: num(3), trainingContext: num(4),
      heads: num(5), kvHeads: num(6), ffnWidth: num(7),
      contextSize: this.contextSize, kernels: this.kernels, threads: this.threads,
    };
  }

  #session = 0;
  #active = null;
  #sessionPtr() {
    if (!this.#engine) throw new HearthError('no model is loaded');
    if (!this.#session) {
      const d = new Date();
      this.#session = this.#x.hearth_wasm_session_create(this.#engine, d.getFullYear(), d.getMonth() + 1, d.getDate()) >>> 0;
      if (!this.#session) throw this.#error();
    }
    return this.#session;
  }

  // What the chat template does with reasoning (src/chat.h HEARTH_CHAT_*):
  // reasoning: answers are split into reasoning_content and content (the
  // template has think tags); enableThinking: it reads enable_thinking.
  #chatFeatures() {
    if (!this.#engine) return {};
    const f = this.#x.hearth_wasm_session_features(this.#sessionPtr());
    return { reasoning: !!(f & 1), enableThinking: !!(f & 2) };
  }

  // A warning about chats with this model ('' when none), e.g. no chat template.
  get chatWarning() { return this.#cstrAt(this.#x.hearth_wasm_session_warning(this.#sessionPtr())); }

  // Step-wise generation for hosts that yield between tokens (see Generation).
  // messages: [{role, content}] rendered through the model's chat template
  // (ChatML when it has none); the KV cache serves the common token prefix
  // with the previous request. opts: maxTokens, temperature, topK, topP,
  // minP, repeatPenalty, seed (random when left out), stop (string[]),
  // chatTemplateKwargs (template variables), enableThinking (Qwen3's switch),
  // responseFormat (OpenAI's response_format), grammar (GBNF text), tools and
  // toolChoice (OpenAI's tools, tool_choice: next() and result give the
  // answer's toolCalls, src/tool_calls.h). Messages may carry tool_calls,
  // tool_call_id and name.
  // Messages may carry reasoning_content; next() gives the answer's text and
  // its reasoning apart (src/think.h).
  beginChat(messages, opts = {}) { return this.#begin({ messages }, opts); }
  // A raw completion of prompt text (BOS as the file says, no template).
  beginCompletion(prompt, opts = {}) { return this.#begin({ prompt: String(prompt) }, opts); }

  #begin(input, o) {
    if (this.#active && !this.#active.done) throw new HearthError('a generation is running; finish or abort it first');
    const s = this.#sessionPtr();
    const req = {
      ...input,
      max_tokens: o.maxTokens, temperature: o.temperature, top_k: o.topK, top_p: o.topP, min_p: o.minP,
      repeat_penalty: o.repeatPenalty,
      seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
      stop: o.stop,
      chat_template_kwargs: o.chatTemplateKwargs, enable_thinking: o.enableThinking,
      response_format: o.responseFormat, grammar: o.grammar,
      tools: o.tools, tool_choice: o.toolChoice,
    };
    // 64-bit seeds travel as decimal strings (JSON numbers stop at 2^53).
    const json = JSON.stringify(req, (k, v) => (typeof v === 'bigint' ? BigInt.asUintN(64, v).toString() : v));
    this.#withText(json, (p, n) => { if (this.#x.hearth_wasm_begin(s, p, n) < 0) throw this.#error(); });
    const g = new Generation(this, s);
    this.#active = g;
    return g;
  }

  // Used by Generation (one at a time).
  _next(s) {
    const x = this.#x;
    const out = x.hearth_wasm_malloc(16) >>> 0;
    try {
      const rc = x.hearth_wasm_next(s, out);
      const [p, n, rp, rn] = new Uint32Array(this.#mem.buffer, out, 4);
      if (rc < 0) return { error: this.#error() };
      if (rc === 2) return { pending: true };
      const u8 = new Uint8Array(this.#mem.buffer);
      const r = { text: dec.decode(u8.slice(p, p + n)), reasoning: rn ? dec.decode(u8.slice(rp, rp + rn)) : '', done: rc === 1, toolCalls: [] };
      x.hearth_wasm_next_tool_calls(s, out);
      const [cp, cn] = new Uint32Array(this.#mem.buffer, out, 2);
      if (cn > 2) r.toolCalls = JSON.parse(dec.decode(new Uint8Array(this.#mem.buffer).slice(cp, cp + cn)));
      return r;
    } finally { x.hearth_wasm_free(out); }
  }
  _interrupt(s) { this.#x.hearth_wasm_interrupt(s); }
  // Completes the GPU step the chat left in flight.
  _runPending() { return this.#gpu.runPending(); }
  _end(s) {
    const x = this.#x;
    const sp = x.hearth_wasm_malloc(9 * 8) >>> 0;
    try {
      const rc = x.hearth_wasm_end(s, sp);
      const v = Array.from(new Float64Array(this.#mem.buffer, sp, 9));
      if (rc < 0) return { error: this.#error() };
      v.toolCalls = JSON.parse(this.#cstrAt(x.hearth_wasm_tool_calls(s)));
      return v;
    } finally { x.hearth_wasm_free(sp); }
  }

  unload() {
    if (this.#active && !this.#active.done) this.#active.abort();
    if (this.#session) this.#x.hearth_wasm_session_free(this.#session);
    this.#session = 0;
    if (this.#onGpu) this.#gpu.unloadEngine();
    this.#onGpu = false;
    if (this.#engine) this.#x.hearth_wasm_unload(this.#engine);
    this.#engine = 0;
    this.#source?.close?.();
    this.#source = null;
  }
}

const STOPS = ['eog', 'stop', 'length', 'context', 'interrupted', 'grammar'];

// One answer being generated: next() runs one token and returns the text
// and reasoning that became final and the tool calls it completed { text,
// reasoning, toolCalls, done }; abort() ends it at once. After done, result
// holds { text, reasoning, toolCalls, finishReason, stop, usage, timings }.
export class Generation {
  #h; #s; #text = ''; #reasoning = ''; #result = null;
  done = false;
  constructor(h, s) { this.#h = h; this.#s = s; }

  // Synchronous on the CPU; a Promise where the step runs on the GPU.
  next() {
    if (this.done) return { text: '', reasoning: '', toolCalls: [], done: true };
    const r = this.#h._next(this.#s);
    if (r.pending) {
      return this.#h._runPending().then(() => this.next(), (e) => {
        try { this.abort(); } catch { /* the answer is gone either way; e says why */ }
        throw e;
      });
    }
    if (r.error) {
      try { this.#finish(); } catch { /* the answer is gone either way; r.error says why */ }
      throw r.error;
    }
    this.#text += r.text;
    this.#reasoning += r.reasoning;
    if (r.done) this.#finish();
    return { text: r.text, reasoning: r.reasoning, toolCalls: r.toolCalls, done: r.done };
  }

  abort() {
    if (this.done) return;
    this.#h._interrupt(this.#s);
    this.#finish();
  }

  #finish() {
    this.done = true;
    const v = this.#h._end(this.#s);
    if (v.error) throw v.error;
    const stop = STOPS[v[8]] ?? 'length';
    this.#result = {
      text: this.#text,
      reasoning: this.#reasoning,
      stop,
      toolCalls: v.toolCalls,
      finishReason: v.toolCalls.length ? 'tool_calls' : stop === 'length' || stop === 'context' ? 'length' : 'stop',
      usage: { prompt_tokens: v[0], completion_tokens: v[3], total_tokens: v[0] + v[3] },
      timings: { reused_tokens: v[1], evaluated_tokens: v[2], dropped_messages: v[4], prefill_ms: v[5], decode_ms: v[6], ttft_ms: v[7] },
    };
  }

  get result() { return this.#result; }
}

// The NUL-terminated string at address p of a wasm memory (a copy: TextDecoder
// refuses views of shared memory).
export function cstringAt(memory, p) {
  const u = new Uint8Array(memory.buffer);
  let e = p >>> 0;
  while (u[e]) e++;
  return dec.decode(u.slice(p >>> 0, e));
}

// The sampler's defaults from the core (src/sampler.c: the one place they are written).
export function samplerDefaults(x, memory) {
  const p = x.hearth_wasm_malloc(8 * 8) >>> 0;
  try {
    x.hearth_wasm_sampler_defaults(p);
    const v = new Float64Array(memory().buffer, p, 8);
    const f32 = (x) => Number(x.toPrecision(7)); // the shortest text of a float's value (0.95, not 0.949999988)
    return {
      temperature: f32(v[0]), topK: v[1], topP: f32(v[2]), minP: f32(v[3]), repeatPenalty: f32(v[4]), repeatLastN: v[5],
      seed: (BigInt(v[7]) << 32n) | BigInt(v[6]),
    };
  } finally { x.hearth_wasm_free(p); }
}

const GEN_STOPS = ['length', 'eog', 'context', 'callback'];

// The JS side of the one generation loop (src/generate.h), for every
// backend: generates after the prompt tokens on the engine's backend, a step
// at a time. A generator: where the backend's step is in flight (the GPU) it
// yields the number of tokens so far, and its driver completes the step
// (web/gpu/host.mjs runPending) before resuming it; on the CPU it never
// yields. Returns { tokens, text, stop, stats }.
export function* generationSteps(x, memory, engine, prompt, opts = {}) {
  const d = samplerDefaults(x, memory);
  const { maxTokens = 128, temperature = d.temperature, topK = d.topK, topP = d.topP, minP = d.minP,
    repeatPenalty = d.repeatPenalty, seed = d.seed, nPast = 0, onToken, ignoreEog = false } = opts;
  const err = () => new HearthError(cstringAt(memory(), x.hearth_wasm_error()));
  const pp = x.hearth_wasm_malloc(4 * Math.max(1, prompt.length)) >>> 0;
  new Int32Array(memory().buffer, pp, prompt.length).set(prompt);
  const g = x.hearth_wasm_gen_begin(engine, pp, prompt.length, nPast, maxTokens, temperature, topK, topP, minP,
    repeatPenalty, BigInt.asUintN(64, BigInt(seed)), ignoreEog ? 1 : 0) >>> 0;
  x.hearth_wasm_free(pp);
  if (!g) throw err();
  const out = x.hearth_wasm_malloc(8 * 8) >>> 0;
  const tokens = [];
  let text = '';
  try {
    for (;;) {
      const id = x.hearth_wasm_gen_next(g, out);
      if (id === -3) throw err();
      if (id === -2) { yield tokens.length; continue; }
      const [p, n] = new Uint32Array(memory().buffer, out, 2);
      const t = dec.decode(new Uint8Array(memory().buffer).slice(p, p + n));
      text += t;
      if (id < 0) break;
      tokens.push(id);
      const logits = () => {
        const l = x.hearth_wasm_gen_logits(g) >>> 0;
        return l ? new Float32Array(memory().buffer, l, x.hearth_wasm_info_num(engine, 2)) : null;
      };
      if (onToken && onToken(id, t, logits) === false) x.hearth_wasm_gen_stop(g);
    }
    x.hearth_wasm_gen_stats(g, out);
    const s = Array.from(new Float64Array(memory().buffer, out, 8));
    return {
      tokens, text, stop: GEN_STOPS[s[7]],
      stats: { prompt_tokens: s[0], reused_tokens: s[1], gen_tokens: s[2], cache_tokens: s[3], prefill_ms: s[4], decode_ms: s[5], ttft_ms: s[6] },
    };
  } finally {
    x.hearth_wasm_free(out);
    x.hearth_wasm_gen_free(g);
  }
}
