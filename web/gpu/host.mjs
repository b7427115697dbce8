// The WebGPU host of the GPU backend: implements the "hearth_gpu" imports
// (src/gpu/gpu_host.h) over the WebGPU API and drives the core's GPU plan.
// The same code runs in a browser worker (navigator.gpu) and in Node (the
// npm `webgpu` package, see nodeGpu()).
//
// The core calls imports synchronously, but WebGPU's pipeline compilation
// and readbacks are asynchronous, so the work is split: during load the
// core describes buffers, pipelines and dispatch lists (recorded here; the
// pipelines start compiling at once); ready() then uploads the weights in
// slices (the core reads each slice from the model source into a bounded
// buffer), awaits the pipelines and runs one warm-up step; each generation
// step the core's generation loop writes the uniform block and returns
// "pending"; runPending() encodes the step's list, submits once, awaits the
// 4-byte readback of the sampled token and completes the step.
//
// Use: const gpu = await createGpu({ gpu: navigator.gpu });
//      const h = await Hearth.create({ gpu }); h.load(source, { backend: 'webgpu' });
//      await gpu.ready(); const r = await gpu.generate(h.promptTokens(text), opts);
//      (or h.beginChat(messages, opts), whose next() awaits the GPU's steps)
import { cstringAt, generationSteps } from '../hearth.mjs';
import { beside, nodeImport } from '../locate.mjs';

export class GpuError extends Error {}

// Awaits a WebGPU promise with a timer held: Node exits while only Dawn's
// promises are pending, as if the work would never finish.
async function held(p) {
  const keep = setInterval(() => {}, 1000);
  try { return await p; } finally { clearInterval(keep); }
}

const dec = new TextDecoder();
const UPLOAD_SLICE = 32 << 20;      // bytes per upload call
const UPLOAD_DRAIN = 256 << 20;     // wait for the queue after this many bytes

// navigator.gpu in Node: the `webgpu` package (Dawn), from the caller's
// node_modules or the repository's tests/node_modules (nodeImport: a bundler building for browsers
// would otherwise look for the package, which a browser never loads).
export async function nodeGpu() {
  let mod;
  try { mod = await nodeImport('webgpu'); } catch {
    const { createRequire } = await nodeImport('node:module');
    const { pathToFileURL } = await nodeImport('node:url');
    const req = createRequire(beside('../tests/package.json'));
    try { mod = await nodeImport(pathToFileURL(req.resolve('webgpu')).href); } catch (e) {
      throw new GpuError(`WebGPU in Node needs the npm package "webgpu": npm install webgpu (in hearth's repository: npm ci --prefix tests); ${e.message.split("\n")[0]}`);
    }
  }
  Object.assign(globalThis, mod.globals);
  return mod.create([]);
}

// exactAttention: attention reproduces the CPU path bit for bit (its f16
// accumulation, position by position; slower): for tests against llama.cpp.
// noDot4: the integer products without WGSL's dot4I8Packed (tests the fallback).
// noMmq: products of quantized weights in f32 as before the integer ones (comparisons);
// attnSplit: workgroups per head of decode attention (0: the plan's default;
// 1: one dispatch, attn_one.wgsl);
// tune: { tprLog2, wgs } of the integer decode products, { tn } (4 or 8) of
// the prefill ones, noFuse (SwiGLU does not quantize down's input), noFold (post
// norms in dispatches of their own, not folded into the next product) (0: defaults). For tuning.
// mask: how a grammar's mask reaches GPU sampling, 'upload' (the default) or
// 'readback' (src/gpu/gpu_backend.h; also settable later as gpu.mask).
// exactSplit: with exactAttention, decode over 512+ cells in that many chunks, as the CPU path with
// that many threads (ggml's split; 0: none).
export async function createGpu({ gpu, noSubgroups = false, noDot4 = false, noMmq = false, attnSplit = 0, tune = {}, exactAttention = false, exactSplit = 0, mask = 'upload', log } = {}) {
  gpu ??= globalThis.navigator?.gpu;
  if (!gpu) throw new GpuError('WebGPU is not available here (no navigator.gpu)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new GpuError('no WebGPU adapter was found');
  const features = [];
  if (adapter.features.has('subgroups') && !noSubgroups) features.push('subgroups');
  if (adapter.features.has('shader-f16')) features.push('shader-f16');
  if (adapter.features.has('timestamp-query')) features.push('timestamp-query'); // profileGenerate()
  const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
    'maxStorageBuffersPerShaderStage', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX'];
  const requiredLimits = {};
  for (const k of want) if (adapter.limits[k] !== undefined) requiredLimits[k] = adapter.limits[k];
  let device;
  try { device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits }); } catch (e) {
    throw new GpuError(`cannot open the WebGPU device: ${e.message}`);
  }
  const info = adapter.info || {};
  const b = new WebGpuBackend(device, features, `${info.vendor || ''} ${info.architecture || ''} ${info.description || ''}`.trim(), log);
  b.exactAttention = exactAttention;
  b.exactSplit = Math.max(0, exactSplit | 0);
  b.mask = mask;
  b.noMmq = noMmq;
  b.attnSplit = attnSplit;
  b.tune = { tprLog2: tune.tprLog2 || 0, wgs: tune.wgs || 0, tn: tune.tn || 0, noFuse: !!tune.noFuse, noFold: !!tune.noFold };
  b.dot4 = !noDot4 && !!gpu.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product');
  if (b.dot4) b.languageFeatures = ['packed_4x8_integer_dot_product'];
  b.keepAlive = [gpu, adapter]; // Dawn in Node tears the device down when its GPU object is collected
  return b;
}

// One dispatch of a list ({ p: pipeline, group, x, y, z }) into a compute pass.
function encodeDispatch(pass, d) {
  pass.setPipeline(d.p.pipeline);
  pass.setBindGroup(0, d.group);
  pass.dispatchWorkgroups(d.x, d.y, d.z);
}

class WebGpuBackend {
  #dev; #features; #mem = null; #x = null; #session = 0; #engine = 0; #err = null;
  #buffers = []; #pipes = []; #lists = [[], [], []]; #lost = null; #errors = [];
  #resultRead = null; #logitsRead = null; #vocab = 0; #cache = new Map(); #prof = null; #mask;
  stats = {};
  logitsReadbacks = 0; // steps whose logits were read back for a grammar (benchmarks)

  constructor(device, features, adapterName, log) {
    this.#dev = device;
    this.#features = features;
    this.adapter = adapterName || 'unknown adapter';
    this.log = log || (() => {});
    device.lost.then((i) => { this.#lost = `the GPU device was lost (${i.reason}): ${i.message}`; });
    device.addEventListener?.('uncapturederror', (ev) => { this.#errors.push(ev.error.message); });
  }

  get features() { return [...this.#features]; }

  // How a grammar's mask reaches GPU sampling: 'upload' or 'readback'.
  get mask() { return this.#mask; }
  set mask(m) {
    if (m !== 'upload' && m !== 'readback') throw new GpuError(`the GPU mask mode is "upload" or "readback", not "${m}"`);
    this.#mask = m;
    if (this.#session) this.#x.hearth_wasm_gpu_set_mask(this.#session, m === 'readback' ? 1 : 0);
  }
  // Bytes of the WebAssembly memory (the streaming upload keeps it small).
  get wasmMemoryBytes() { return this.#mem ? this.#mem().buffer.byteLength : 0; }

  // The "hearth_gpu" imports; getMemory returns the module's memory.
  imports(getMemory) {
    const self = this;
    const u8 = () => new Uint8Array(getMemory().buffer);
    const put = (p, cap, s) => {
      const b = new TextEncoder().encode(s).subarray(0, Math.max(0, cap - 1));
      u8().set(b, p >>> 0);
      u8()[(p >>> 0) + b.length] = 0;
    };
    const guard = (msg, cap, fn) => {
      try {
        if (self.#lost) throw new GpuError(self.#lost);
        fn();
        return 0;
      } catch (e) { put(msg, cap, e.message || String(e)); return -1; }
    };
    const str = (p, n) => dec.decode(u8().slice(p >>> 0, (p >>> 0) + n));
    return {
      limits: (out, msg, cap) => guard(msg, cap, () => {
        const l = self.#dev.limits;
        new Float64Array(getMemory().buffer, out >>> 0, 7).set([l.maxStorageBufferBindingSize, l.maxBufferSize,
          l.maxComputeWorkgroupStorageSize, l.maxStorageBuffersPerShaderStage,
          self.#features.includes('subgroups') ? 1 : 0, self.#features.includes('shader-f16') ? 1 : 0,
          self.dot4 ? 1 : 0]);
      }),
      create_buffer: (id, size, usage, msg, cap) => guard(msg, cap, () => {
        const U = GPUBufferUsage;
        self.#buffers[id] = self.#dev.createBuffer({
          size, usage: usage === 1 ? U.UNIFORM | U.COPY_DST : U.STORAGE | U.COPY_DST | U.COPY_SRC,
        });
      }),
      write_buffer: (id, offset, src, len, msg, cap) => guard(msg, cap, () => {
        self.#dev.queue.writeBuffer(self.#buffers[id], offset, new Uint8Array(getMemory().buffer, src >>> 0, len >>> 0));
      }),
      create_pipeline: (id, label, labelLen, src, len, layout, n, msg, cap) => guard(msg, cap, () => {
        const name = str(label, labelLen), code = str(src, len);
        const lv = new Uint32Array(getMemory().buffer, layout >>> 0, 2 * n);
        const types = ['uniform', 'read-only-storage', 'storage'];
        const entries = [];
        for (let i = 0; i < n; i++) {
          entries.push({ binding: lv[2 * i], visibility: GPUShaderStage.COMPUTE, buffer: { type: types[lv[2 * i + 1]] } });
        }
        // Compiled pipelines are kept per device: a model loaded again, or
        // another one of the same shapes, reuses them.
        const key = `${Array.from(lv).join(',')}\n${code}`;
        const cached = self.#cache.get(key);
        if (cached) { self.#pipes[id] = cached; return; }
        const bgl = self.#dev.createBindGroupLayout({ label: name, entries });
        const module = self.#dev.createShaderModule({ label: name, code });
        // (rw: the bindings it writes, for HEARTH_GPU_DUMP only)
        const p = { name, code, module, bgl, pipeline: null, rw: self.#dump ? entries.filter((e) => e.buffer.type === 'storage').map((e) => e.binding) : null };
        self.#cache.set(key, p);
        p.promise = self.#dev.createComputePipelineAsync({
          label: name, layout: self.#dev.createPipelineLayout({ bindGroupLayouts: [bgl] }),
          compute: { module, entryPoint: 'main' },
        }).then((pl) => { p.pipeline = pl; }, async (e) => {
          const info = await module.getCompilationInfo?.().catch(() => null);
          const msgs = info?.messages?.filter((m) => m.type === 'error')
            .map((m) => `${name}:${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
          self.#cache.delete(key);
          throw new GpuError(`the GPU kernel ${name} does not compile: ${msgs || e.message}`);
        });
        p.promise.catch(() => {}); // awaited in ready()
        self.#pipes[id] = p;
      }),
      add_dispatch: (list, pipe, binds, n, x, y, z, msg, cap) => guard(msg, cap, () => {
        const bv = new Uint32Array(getMemory().buffer, binds >>> 0, 2 * n);
        const entries = [];
        for (let i = 0; i < n; i++) entries.push({ binding: bv[2 * i], resource: { buffer: self.#buffers[bv[2 * i + 1]] } });
        const p = self.#pipes[pipe];
        const rw = [];
        if (p.rw) for (let i = 0; i < n; i++) if (p.rw.includes(bv[2 * i])) rw.push([bv[2 * i], bv[2 * i + 1]]);
        self.#lists[list].push({ p, group: self.#dev.createBindGroup({ layout: p.bgl, entries }), x, y, z, rw });
      }),
    };
  }

  // Called by Hearth once the module is instantiated.
  attach({ exports, memory }) {
    this.#x = exports;
    this.#mem = memory;
  }

  #error() {
    return new GpuError(this.#lost || cstringAt(this.#mem(), this.#x.hearth_wasm_gpu_error(this.#session)));
  }

  // Hearth.load(source, { backend: 'webgpu' }) calls this (the source is open):
  // the engine pointer for Hearth, the plan recorded here. Throws on failure.
  loadEngine({ contextSize = 0, maxBatch = 0, noSubgroups = false } = {}) {
    const t = this.tune;
    const flags = (noSubgroups ? 1 : 0) | (this.exactAttention ? 2 : 0) | (this.noMmq ? 4 : 0) | ((this.attnSplit & 255) << 8) |
      ((t.tprLog2 & 15) << 16) | (((t.wgs / 32) & 255) << 20) | (t.tn === 8 ? 1 << 28 : t.tn === 4 ? 1 << 30 : 0) | (t.noFuse ? 1 << 29 : 0) | (t.noFold ? 8 : 0);
    if (!this.#x) throw new GpuError('the GPU backend is not attached to a module (Hearth.create({ gpu }))');
    this.#dev.pushErrorScope('out-of-memory');
    this.#dev.pushErrorScope('validation');
    const t0 = performance.now();
    const s = this.#x.hearth_wasm_gpu_load(contextSize, maxBatch, flags, this.exactSplit) >>> 0;
    if (!s) throw new GpuError('out of memory');
    this.#session = s;
    const e = this.#x.hearth_wasm_gpu_engine(s) >>> 0;
    if (!e) {
      const err = this.#error();
      this.unloadEngine();
      throw err;
    }
    this.#engine = e;
    this.mask = this.#mask;
    const info = this.#f64((p) => this.#x.hearth_wasm_gpu_info(s, p), 8);
    this.#vocab = info[5];
    this.stats = {
      adapter: this.adapter, features: this.features, plan_ms: performance.now() - t0,
      exact_attention: this.exactAttention, dot4: this.dot4,
      dispatches: { decode: info[0], prefill_chunk: info[1], prefill_last: info[2] }, pipelines: info[3],
      gpu_bytes: info[4], batch: info[6], context: info[7],
    };
    return e;
  }

  #f64(fn, n) {
    const p = this.#x.hearth_wasm_malloc(8 * n) >>> 0;
    try {
      fn(p);
      return Array.from(new Float64Array(this.#mem().buffer, p, n));
    } finally { this.#x.hearth_wasm_free(p); }
  }

  // Uploads the weights, compiles every pipeline, runs one warm-up step.
  async ready({ onProgress } = {}) {
    const x = this.#x, s = this.#session;
    const t0 = performance.now();
    let sinceDrain = 0, total = -1;
    for (;;) {
      const left = x.hearth_wasm_gpu_upload(s, UPLOAD_SLICE);
      if (left < 0) throw this.#error();
      if (total < 0) total = left + UPLOAD_SLICE;
      onProgress?.({ uploaded: Math.max(0, total - left), total });
      if (left === 0) break;
      if ((sinceDrain += UPLOAD_SLICE) >= UPLOAD_DRAIN) {
        sinceDrain = 0;
        await held(this.#dev.queue.onSubmittedWorkDone()); // lets the queue free its staging memory
      }
      if (this.#lost) throw new GpuError(this.#lost);
    }
    await held(this.#dev.queue.onSubmittedWorkDone());
    const t1 = performance.now();
    await held(Promise.all(this.#pipes.map((p) => p.promise)));
    const t2 = performance.now();
    const validation = await held(this.#dev.popErrorScope());
    const oom = await held(this.#dev.popErrorScope());
    if (oom) throw new GpuError(`the GPU ran out of memory loading the model: ${oom.message}`);
    if (validation) throw new GpuError(`WebGPU rejected the plan: ${validation.message}`);
    const U = GPUBufferUsage;
    this.#resultRead = this.#dev.createBuffer({ size: 16, usage: U.MAP_READ | U.COPY_DST });
    await this.generate([0], { maxTokens: 1, temperature: 0 });
    const t3 = performance.now();
    Object.assign(this.stats, { upload_ms: t1 - t0, compile_ms: t2 - t1, warmup_ms: t3 - t2, ready_ms: t3 - t0 });
    return this.stats;
  }

  #run(list, samples, wantLogits) {
    const enc = this.#dev.createCommandEncoder();
    const prof = this.#prof;
    if (prof) {
      // One pass a dispatch with timestamps at its start and end (GPU time per kernel).
      const ds = this.#lists[list];
      prof.set ??= this.#dev.createQuerySet({ type: 'timestamp', count: 4096 });
      if (2 * ds.length > 4096) throw new GpuError('profile: too many dispatches in one list');
      const n = 2 * ds.length;
      ds.forEach((d, i) => {
        const pass = enc.beginComputePass({ timestampWrites: { querySet: prof.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        encodeDispatch(pass, d);
        pass.end();
      });
      const U = GPUBufferUsage;
      const res = this.#dev.createBuffer({ size: 8 * n, usage: U.QUERY_RESOLVE | U.COPY_SRC });
      const rd = this.#dev.createBuffer({ size: 8 * n, usage: U.MAP_READ | U.COPY_DST });
      enc.resolveQuerySet(prof.set, 0, n, res, 0);
      enc.copyBufferToBuffer(res, 0, rd, 0, 8 * n);
      prof.pending = { list, rd, res, ds };
    } else if (this.#dumpWanted(list)) {
      this.#dumpEncode(enc, list);
    } else {
      const pass = enc.beginComputePass();
      for (const d of this.#lists[list]) {
        encodeDispatch(pass, d);
      }
      pass.end();
    }
    if (samples) {
      enc.copyBufferToBuffer(this.#buffers[2], 0, this.#resultRead, 0, 16);
      if (wantLogits) {
        this.#logitsRead ??= this.#dev.createBuffer({ size: this.#vocab * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        enc.copyBufferToBuffer(this.#buffers[3], 0, this.#logitsRead, 0, this.#vocab * 4);
      }
    }
    this.#dev.queue.submit([enc.finish()]);
  }

  async #read(buf, ctor) {
    try { await held(buf.mapAsync(GPUMapMode.READ)); } catch (e) { throw new GpuError(this.#lost || `GPU readback failed: ${e.message}`); }
    const v = new ctor(buf.getMappedRange().slice(0));
    buf.unmap();
    return v;
  }

  // Runs the step the core's generation loop left in flight (src/gpu/gpu_backend.h):
  // encodes its list, submits it, reads back the sampled token (and the
  // logits when wantLogits) and completes the step.
  async runPending({ wantLogits = false } = {}) {
    const x = this.#x, s = this.#session;
    if (this.#lost) throw new GpuError(this.#lost);
    const step = x.hearth_wasm_gpu_pending(s);
    if (step < 0) return;
    const list = step % 256 & 15, samples = (step % 256 & 16) !== 0, id = Math.floor(step / 256);
    let withLogits = samples && wantLogits;
    this.#run(list, samples, withLogits);
    if (this.#prof?.pending) await this.#profCollect();
    if (this.#dump?.pending) await this.#dumpCollect();
    let token = -1;
    if (samples) {
      [token] = await this.#read(this.#resultRead, Uint32Array);
      // A token a grammar forbids: the core draws again from the logits (src/gpu/gpu_backend.h).
      if (!withLogits && x.hearth_wasm_gpu_wants_logits(s, token | 0)) {
        withLogits = true;
        this.logitsReadbacks++;
        this.#logitsRead ??= this.#dev.createBuffer({ size: this.#vocab * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        const enc = this.#dev.createCommandEncoder();
        enc.copyBufferToBuffer(this.#buffers[3], 0, this.#logitsRead, 0, this.#vocab * 4);
        this.#dev.queue.submit([enc.finish()]);
      }
      if (withLogits) {
        const l = await this.#read(this.#logitsRead, Float32Array);
        new Float32Array(this.#mem().buffer, x.hearth_wasm_gpu_logits_slot(s) >>> 0, this.#vocab).set(l);
      }
    }
    if (this.#errors.length) throw new GpuError(`WebGPU error: ${this.#errors.join('; ')}`);
    x.hearth_wasm_gpu_complete(s, id, token | 0, withLogits ? 1 : 0);
  }

  // Generates after the prompt tokens through the core's generation loop
  // (web/hearth.mjs generationSteps, options as Hearth.generate), awaiting
  // each GPU step; ignoreEog: end-of-generation tokens do not stop it
  // (benchmarks); logits() in onToken gives a Float32Array for the first
  // `logitSteps` tokens (read back only for those), else null.
  async generate(prompt, { logitSteps = 0, ...opts } = {}) {
    if (this.#lost) throw new GpuError(this.#lost);
    const it = generationSteps(this.#x, this.#mem, this.#engine, prompt, opts);
    for (let r = it.next(); ; r = it.next()) {
      if (r.done) return r.value;
      try { await this.runPending({ wantLogits: r.value < logitSteps }); } catch (e) { it.return(); throw e; }
    }
  }

  // GPU time of each kernel over the steps of one generate() call, from
  // timestamp queries (feature 'timestamp-query'): { decode: [{ name, ms,
  // n }] per step, prefill: [...] per chunk }. For tuning.
  async profileGenerate(prompt, opts = {}) {
    if (!this.#features.includes('timestamp-query')) throw new GpuError('profile: the device has no timestamp-query');
    this.#prof = { lists: [new Map(), new Map(), new Map()], steps: [0, 0, 0] };
    try { await this.generate(prompt, opts); } finally { this.#prof.set?.destroy(); }
    const p = this.#prof;
    this.#prof = null;
    const table = (maps, steps) => {
      const m = new Map();
      for (const mp of maps) for (const [k, v] of mp) { const o = m.get(k) || { ms: 0, n: 0 }; o.ms += v.ms; o.n += v.n; m.set(k, o); }
      return [...m].map(([name, v]) => ({ name, ms: Math.round(v.ms / steps * 1e4) / 1e4, n: v.n / steps }))
        .sort((a, b) => b.ms - a.ms);
    };
    return { decode: table([p.lists[0]], Math.max(1, p.steps[0])), prefill: table([p.lists[1], p.lists[2]], Math.max(1, p.steps[1] + p.steps[2])) };
  }

  async #profCollect() {
    const { list, rd, res, ds } = this.#prof.pending;
    this.#prof.pending = null;
    try { await held(rd.mapAsync(GPUMapMode.READ)); } catch (e) { throw new GpuError(this.#lost || `GPU readback failed: ${e.message}`); }
    const t = new BigInt64Array(rd.getMappedRange().slice(0));
    rd.unmap(); rd.destroy(); res.destroy();
    const m = this.#prof.lists[list];
    ds.forEach((d, i) => {
      const o = m.get(d.p.name) || { ms: 0, n: 0 };
      o.ms += Number(t[2 * i + 1] - t[2 * i]) / 1e6;
      o.n += 1;
      m.set(d.p.name, o);
    });
    this.#prof.steps[list]++;
  }

  // HEARTH_GPU_DUMP=DIR HEARTH_GPU_DUMP_RUN=N (Node, debugging): the N-th
  // list run (counted from 0, the load's warm-up included) is encoded one
  // dispatch a pass, and every buffer a dispatch writes is copied after it
  // into DIR/NNN_kernel_bBINDING_bufID.bin (as stored), to compare
  // intermediate tensors with the CPU path's.
  #dump = typeof process !== 'undefined' && process.env?.HEARTH_GPU_DUMP
    ? { dir: process.env.HEARTH_GPU_DUMP, run: Number(process.env.HEARTH_GPU_DUMP_RUN || 0), seen: 0, pending: null } : null;
  #dumpWanted(list) {
    if (!this.#dump) return false;
    console.error(`gpu dump: run ${this.#dump.seen} list ${list} (${this.#lists[list].length} dispatches)`);
    return this.#dump.seen++ === this.#dump.run;
  }
  #dumpEncode(enc, list) {
    const U = GPUBufferUsage, copies = [];
    this.#lists[list].forEach((d, i) => {
      const pass = enc.beginComputePass();
      encodeDispatch(pass, d);
      pass.end();
      for (const [binding, id] of d.rw) {
        const src = this.#buffers[id];
        const rd = this.#dev.createBuffer({ size: src.size, usage: U.MAP_READ | U.COPY_DST });
        enc.copyBufferToBuffer(src, 0, rd, 0, src.size);
        copies.push({ file: `${String(i).padStart(3, '0')}_${d.p.name.replace(/[^\w.-]/g, '_')}_b${binding}_buf${id}.bin`, rd });
      }
    });
    this.#dump.pending = copies;
  }
  async #dumpCollect() {
    const fs = await nodeImport('node:fs'), path = await nodeImport('node:path');
    fs.mkdirSync(this.#dump.dir, { recursive: true });
    for (const { file, rd } of this.#dump.pending) {
      fs.writeFileSync(path.join(this.#dump.dir, file), new Uint8Array(await this.#read(rd, Uint8Array)));
      rd.destroy();
    }
    this.#dump.pending = null;
  }

  // Time of each kernel of a list (submitted one at a time, so it includes a
  // submit's overhead): [{ name, ms }], summed by kernel file. For tuning.
  async profile(list = 0, repeat = 1) {
    const byName = new Map();
    for (let r = 0; r < repeat; r++) {
      for (const d of this.#lists[list]) {
        const enc = this.#dev.createCommandEncoder();
        const pass = enc.beginComputePass();
        encodeDispatch(pass, d);
        pass.end();
        const t0 = performance.now();
        this.#dev.queue.submit([enc.finish()]);
        await held(this.#dev.queue.onSubmittedWorkDone());
        byName.set(d.p.name, (byName.get(d.p.name) || 0) + (performance.now() - t0) / repeat);
      }
    }
    return [...byName].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  }

  // Frees the plan's GPU memory (Hearth.unload calls this before freeing the engine).
  unloadEngine() {
    if (this.#session) this.#x.hearth_wasm_gpu_free(this.#session);
    this.#session = this.#engine = 0;
    for (const b of this.#buffers.splice(0)) b?.destroy();
    this.#resultRead?.destroy();
    this.#logitsRead?.destroy();
    this.#resultRead = this.#logitsRead = null;
    this.#pipes = [];
    this.#lists = [[], [], []];
  }

  destroy() {
    this.unloadEngine();
    this.#dev.destroy();
  }
}
