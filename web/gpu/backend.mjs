// The WebGPU backend behind a Hearth-shaped engine, for hosts that pick a
// backend (node web/cli.mjs --backend webgpu|auto): load() streams the
// weights to the GPU and compiles every pipeline before it resolves;
// generate() samples on the GPU and resolves with the CPU path's result
// shape. Tokenizing and model information come from the same core.
import { Hearth } from '../hearth.mjs';
import { createGpu, nodeGpu } from './host.mjs';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

// exactAttention (default: HEARTH_GPU_EXACT=1 in Node's environment): see createGpu.
// noDot4 (HEARTH_GPU_NODOT4=1): the integer products' fallback without dot4I8Packed.
// mask (HEARTH_GPU_MASK=upload|readback): how a grammar's mask reaches GPU sampling (createGpu).
// files: where createEngine's locateFile put the engine's files (web/locate.mjs).
// threads: exact attention splits decode over 512+ cells as the CPU path with that many threads does.
export async function createBackend({ gpu, noSubgroups, noDot4, noMmq, exactAttention, mask, log, wasmUrl, files, threads = 0 } = {}) {
  exactAttention ??= isNode && process.env.HEARTH_GPU_EXACT === '1';
  noSubgroups ??= isNode && process.env.HEARTH_GPU_NOSUBGROUPS === '1';
  noDot4 ??= isNode && process.env.HEARTH_GPU_NODOT4 === '1';
  noMmq ??= isNode && process.env.HEARTH_GPU_NOMMQ === '1';
  mask ??= (isNode && process.env.HEARTH_GPU_MASK) || undefined;
  const attnSplit = isNode ? Number(process.env.HEARTH_GPU_SPLIT || 0) : 0;
  const [tprLog2, wgs] = (isNode && process.env.HEARTH_GPU_MVQ || '0,0').split(',').map(Number); // tuning
  const tn = isNode ? Number(process.env.HEARTH_GPU_MMQ_TN || 0) : 0;
  const noFuse = isNode && process.env.HEARTH_GPU_NOFUSE === '1';
  const noFold = isNode && process.env.HEARTH_GPU_NOFOLD === '1';
  const g = await createGpu({ gpu: gpu ?? (isNode ? await nodeGpu() : undefined), noSubgroups, noDot4, noMmq, attnSplit, tune: { tprLog2, wgs, tn, noFuse, noFold }, exactAttention, exactSplit: threads, mask, log });
  let h;
  try { h = await Hearth.create({ gpu: g, log, wasmUrl, files }); } catch (e) { g.destroy(); throw e; }
  return { engine: new GpuEngine(h, g) };
}

class GpuEngine {
  #h; #gpu;
  backend = 'webgpu';
  threadsNote = '';
  loadStats = null;
  constructor(h, gpu) { this.#h = h; this.#gpu = gpu; }

  // Options as Hearth.load (contextSize, maxBatch, vocabOnly); resolves when the model is on the GPU.
  async load(source, opts = {}) {
    const t0 = performance.now();
    if (opts.vocabOnly) {
      this.#h.load(source, opts);
    } else {
      this.#h.load(source, { ...opts, backend: 'webgpu' });
      try { this.loadStats = await this.#gpu.ready({ onProgress: opts.onProgress }); } catch (e) { this.#h.unload(); throw e; }
    }
    this.loadMs = performance.now() - t0;
    return this;
  }

  get kernels() { return `webgpu (${this.#gpu.adapter}${this.#gpu.features.length ? `; ${this.#gpu.features.join(', ')}` : ''})`; }
  get threads() { return 1; }
  checkHeader(head, fileSize, name) { return this.#h.checkHeader(head, fileSize, name, { gpu: true }); }
  get contextSize() { return this.#h.contextSize; }
  get info() { return this.#h.info; }
  get samplerDefaults() { return this.#h.samplerDefaults; }
  get chatWarning() { return this.#h.chatWarning; }
  get gpu() { return this.#gpu; }
  get wasmMemoryBytes() { return this.#gpu.wasmMemoryBytes; }
  promptTokens(text) { return this.#h.promptTokens(text); }

  // Step-wise answers for the engine worker: the core's chat loop, whose
  // next() awaits each GPU step (web/hearth.mjs Generation).
  beginChat(messages, opts) { return this.#h.beginChat(messages, opts); }
  beginCompletion(prompt, opts) { return this.#h.beginCompletion(prompt, opts); }
  tokenize(text, opts) { return this.#h.tokenize(text, opts); }

  // As Hearth.generate, asynchronous; onToken's logits() gives the step's
  // logits for the first logitSteps tokens (read back only for those), else null.
  generate(prompt, opts = {}) { return this.#gpu.generate(prompt, opts); }

  unload() { this.#h.unload(); }
  destroy() {
    this.#h.destroy();
    this.#gpu.destroy();
  }
}

// backend 'auto': the model on the GPU when that works, else on the CPU
// path, with a warning saying why (no adapter, device lost, out of memory,
// a kernel that does not compile, an unsupported tensor type).
export async function openAuto(file, loadOpts = {}, { threads = 1, log, warn = (m) => console.error(`warning: ${m}`) } = {}) {
  const { nodeFileSource } = await import('../hearth.mjs');
  let engine = null;
  try {
    engine = (await createBackend({ log, threads })).engine;
    return await engine.load(await nodeFileSource(file), loadOpts);
  } catch (e) {
    engine?.destroy();
    warn(`the WebGPU backend is not available (${e.message}); running on the CPU`);
  }
  const h = await Hearth.create({ threads, log });
  try { return h.load(await nodeFileSource(file), loadOpts); } catch (e) { h.destroy(); throw e; }
}
