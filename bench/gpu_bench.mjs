#!/usr/bin/env node
// hearth's WebGPU backend beside llama.cpp's Vulkan build on the same GGUF
// files, in one run on one GPU: random-weight models in real shapes (made
// here by tools/make_test_model.mjs), both engines warmed up first, then a
// prompt of --prompt-tokens (prefill tok/s, time to first token) and
// --gen-tokens decoded one at a time (decode tok/s). Prints one JSON line
// per engine and model, then a summary line.
//
// Needs the npm `webgpu` package (Dawn; tests/node_modules) and, for the
// reference, node-llama-cpp with @node-llama-cpp/linux-x64-vulkan (found as
// bench/llama_cpp_bench.mjs finds it, or under --ref DIR).
//   node bench/gpu_bench.mjs [--models qwen,llama,phi3] [--dir build/gpu-models] [--prompt-tokens 512]
//        [--gen-tokens 128] [--engines hearth,llama.cpp] [--big] [--profile] [--ref DIR] [--tag NAME] [--repeat N]
// --repeat N: best of N measured runs per engine (each rate its own best).
// --profile adds GPU time per kernel (timestamp queries: a prompt chunk and a decode step);
// --tag names a variant (e.g. with HEARTH_GPU_NOMMQ=1) in the engine field.
// --big also loads a Llama-3.1-8B-shaped Q4_0 file (about 4.7 GB) through the
// streaming upload and decodes from it, reporting the wasm memory it needed.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SHAPES, makeTestModel, parseArgs } from '../tools/make_test_model.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const flag = (name) => process.argv.includes(name);

const PROMPT = Number(arg('--prompt-tokens', 512));
const GEN = Number(arg('--gen-tokens', 128));
const REPEAT = Math.max(1, Number(arg('--repeat', 1)));
const DIR = path.resolve(arg('--dir', path.join(root, 'build/gpu-models')));
const ENGINES = arg('--engines', 'hearth,llama.cpp').split(',');

// Llama-3.1-8B's shape, for the streaming-load check (not among the tool's shapes).
SHAPES['llama3.1-8b'] ??= { n_embd: 4096, n_head: 32, n_head_kv: 8, n_ff: 14336, n_layer: 32, n_ctx: 131072,
  n_vocab: 128256, tied: false };
const MODELS = {
  qwen: { label: 'Qwen2.5-0.5B-shaped Q4_0', arch: 'qwen2', shape: 'qwen2.5-0.5b', tokenizer: 'qwen3', type: 'q4_0' },
  llama: { label: 'Llama-3.2-1B-shaped Q8_0', arch: 'llama', shape: 'llama3.2-1b', tokenizer: 'llama3', type: 'q8_0' },
  phi3: { label: 'Phi-3-mini-shaped Q4_0', arch: 'phi3', shape: 'phi3-mini', tokenizer: 'llama2', type: 'q4_0' },
  llama8b: { label: 'Llama-3.1-8B-shaped Q4_0', arch: 'llama', shape: 'llama3.1-8b', tokenizer: 'llama3', type: 'q4_0' },
  // llama-quantize's Q4_K_M mixture (make_test_model --ftype): the files people download
  qwenk: { label: 'Qwen2.5-0.5B-shaped Q4_K_M', arch: 'qwen2', shape: 'qwen2.5-0.5b', tokenizer: 'qwen3', ftype: 'q4_k_m' },
  llamak: { label: 'Llama-3.2-1B-shaped Q4_K_M', arch: 'llama', shape: 'llama3.2-1b', tokenizer: 'llama3', ftype: 'q4_k_m' },
  phi3k: { label: 'Phi-3-mini-shaped Q4_K_M', arch: 'phi3', shape: 'phi3-mini', tokenizer: 'llama2', ftype: 'q4_k_m' },
  // the newer architectures (issue 16)
  gemmak: { label: 'Gemma-3-1B-shaped Q4_K_M', arch: 'gemma3', shape: 'gemma3-1b', tokenizer: 'gemma3', ftype: 'q4_k_m' },
  qwen3k: { label: 'Qwen3-0.6B-shaped Q4_K_M', arch: 'qwen3', shape: 'qwen3-0.6b', tokenizer: 'qwen3', ftype: 'q4_k_m' },
};

function modelFile(m) {
  const out = path.join(DIR, `${m.shape}-${m.ftype || m.type}.gguf`);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(DIR, { recursive: true });
    const t0 = performance.now();
    makeTestModel(parseArgs(['--arch', m.arch, ...(m.ftype ? ['--ftype', m.ftype] : ['--type', m.type]),
      '--tokenizer', m.tokenizer, '--out', `${out}.tmp`, '--seed', '1', '--shape', m.shape, '--quiet']));
    fs.renameSync(`${out}.tmp`, out);
    console.error(`made ${out} (${(fs.statSync(out).size / 1e9).toFixed(2)} GB) in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  }
  return out;
}

// The same synthetic prompt for both engines.
const promptOf = (nVocab, n) => Array.from({ length: n }, (_, i) => (i * 7919 + 1) % Math.min(nVocab, 30000));
const r2 = (x) => Math.round(x * 100) / 100;

async function benchHearth(m, file) {
  const { createBackend } = await import('../web/gpu/backend.mjs');
  const { nodeFileSource } = await import('../web/hearth.mjs');
  const { engine } = await createBackend();
  try {
    const t0 = performance.now();
    await engine.load(await nodeFileSource(file), { contextSize: PROMPT + GEN + 16, maxBatch: 512 });
    const loadMs = performance.now() - t0;
    const gpu = engine.gpu, nVocab = engine.info?.nVocab ?? gpu.stats.vocab ?? 32000;
    const prompt = promptOf(nVocab, PROMPT);
    const opts = { temperature: 0, maxTokens: GEN + 1, ignoreEog: true };
    await engine.generate(prompt.slice(0, 64), { ...opts, maxTokens: 16 }); // warm-up beyond load's own step
    // Best of --repeat runs, each rate its own best (as for llama.cpp below).
    let r = null;
    for (let i = 0; i < REPEAT; i++) {
      const x = await engine.generate(prompt, opts);
      if (!r) r = x;
      else r = { ...x, stats: { ...x.stats, prefill_ms: Math.min(r.stats.prefill_ms, x.stats.prefill_ms),
        ttft_ms: Math.min(r.stats.ttft_ms, x.stats.ttft_ms), decode_ms: Math.min(r.stats.decode_ms, x.stats.decode_ms) } };
    }
    const decoded = r.stats.gen_tokens - 1;
    // GPU time per kernel (timestamp queries) over one more prompt and 8 decode steps, else submit-timed decode kernels.
    const profile = !flag('--profile') ? undefined : gpu.features.includes('timestamp-query')
      ? await gpu.profileGenerate(prompt, { ...opts, maxTokens: 9 }) : await gpu.profile(0, 3);
    return {
      engine: `hearth-webgpu${arg('--tag') ? `-${arg('--tag')}` : ''}`, model: m.label, dot4: gpu.stats.dot4, file: path.basename(file), adapter: gpu.adapter, features: gpu.features,
      load_ms: r2(loadMs), upload_ms: r2(gpu.stats.upload_ms), compile_ms: r2(gpu.stats.compile_ms),
      warmup_ms: r2(gpu.stats.warmup_ms), prompt_tokens: PROMPT, prefill_ms: r2(r.stats.prefill_ms),
      prefill_tok_s: r2(PROMPT * 1e3 / r.stats.prefill_ms), ttft_ms: r2(r.stats.ttft_ms), gen_tokens: decoded,
      decode_ms: r2(r.stats.decode_ms), decode_tok_s: r2(decoded * 1e3 / r.stats.decode_ms),
      dispatches_per_token: gpu.stats.dispatches.decode, pipelines: gpu.stats.pipelines,
      gpu_mb: r2(gpu.stats.gpu_bytes / 1e6), file_mb: r2(fs.statSync(file).size / 1e6),
      peak_rss_mb: r2(process.resourceUsage().maxRSS / 1024), profile,
    };
  } finally { engine.destroy(); }
}

async function loadNodeLlamaCpp() {
  const places = [arg('--ref'), path.join(root, 'tools/reference'), process.cwd()].filter(Boolean).map((p) => `${p}/`);
  for (const p of places) {
    try { return await import(pathToFileURL(createRequire(p).resolve('node-llama-cpp')).href); } catch { /* next */ }
  }
  throw new Error('node-llama-cpp not found (see the header of bench/gpu_bench.mjs)');
}

let llama = null;
async function benchLlamaCpp(m, file) {
  const { getLlama } = await loadNodeLlamaCpp();
  llama ??= await getLlama({ gpu: 'vulkan', build: 'never', logLevel: 'error' });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 'max' });
  const context = await model.createContext({ contextSize: PROMPT + GEN + 16, batchSize: 512 });
  const loadMs = performance.now() - t0;
  const prompt = promptOf(model.tokens.count ?? 32000, PROMPT);
  async function once(p, n) {
    const seq = context.getSequence();
    const start = performance.now();
    let first = 0, k = 0;
    for await (const _t of seq.evaluate(p, { temperature: 0 })) {
      if (k === 0) first = performance.now();
      if (++k > n) break;
    }
    const end = performance.now();
    seq.dispose();
    return { prefillMs: first - start, decodeMs: end - first };
  }
  await once(prompt, 16); // warm-up
  let r = null;
  for (let i = 0; i < REPEAT; i++) {
    const x = await once(prompt, GEN);
    r = r ? { prefillMs: Math.min(r.prefillMs, x.prefillMs), decodeMs: Math.min(r.decodeMs, x.decodeMs) } : x;
  }
  await context.dispose();
  await model.dispose();
  return {
    engine: 'llama.cpp-vulkan', model: m.label, file: path.basename(file), gpu: llama.gpu, load_ms: r2(loadMs),
    prompt_tokens: PROMPT, prefill_ms: r2(r.prefillMs), prefill_tok_s: r2(PROMPT * 1e3 / r.prefillMs),
    ttft_ms: r2(r.prefillMs), gen_tokens: GEN, decode_ms: r2(r.decodeMs), decode_tok_s: r2(GEN * 1e3 / r.decodeMs),
  };
}

// The 8B file through the streaming upload: the wasm memory stays small.
async function bigLoad() {
  const m = MODELS.llama8b, file = modelFile(m);
  const { createBackend } = await import('../web/gpu/backend.mjs');
  const { nodeFileSource } = await import('../web/hearth.mjs');
  const { engine } = await createBackend();
  try {
    const t0 = performance.now();
    await engine.load(await nodeFileSource(file), { contextSize: 256, maxBatch: 64 });
    const loadMs = performance.now() - t0;
    const r = await engine.generate(promptOf(128256, 32), { temperature: 0, maxTokens: 33, ignoreEog: true });
    return {
      engine: `hearth-webgpu${arg('--tag') ? `-${arg('--tag')}` : ''}`, model: m.label, dot4: engine.gpu.stats.dot4, check: 'streaming load', file_gb: r2(fs.statSync(file).size / 1e9),
      load_ms: r2(loadMs), gpu_mb: r2(engine.gpu.stats.gpu_bytes / 1e6), decode_tok_s: r2((r.stats.gen_tokens - 1) * 1e3 / r.stats.decode_ms),
      tokens: r.tokens.length, peak_rss_mb: r2(process.resourceUsage().maxRSS / 1024),
      wasm_memory_mb: r2(engine.wasmMemoryBytes / 1e6),
    };
  } finally { engine.destroy(); }
}

// --make-only KEY: only write that model's file (to make several in parallel processes).
if (arg('--make-only')) {
  modelFile(MODELS[arg('--make-only')]);
  process.exit(0);
}
const results = [];
for (const key of arg('--models', 'qwen,llama,phi3').split(',')) {
  const m = MODELS[key];
  if (!m) throw new Error(`--models: ${key}? (${Object.keys(MODELS).join(', ')})`);
  const file = modelFile(m);
  for (const e of ENGINES.filter((n) => n === 'hearth' || n === 'llama.cpp')) {
    try {
      const r = e === 'hearth' ? await benchHearth(m, file) : await benchLlamaCpp(m, file);
      results.push(r);
      console.log(JSON.stringify(r));
    } catch (err) {
      console.log(JSON.stringify({ engine: e, model: m.label, error: err.message }));
    }
  }
}
if (flag('--big')) {
  try { console.log(JSON.stringify(await bigLoad())); } catch (err) { console.log(JSON.stringify({ check: 'streaming load', error: err.message })); }
}
const summary = {};
for (const r of results) {
  const s = (summary[r.model] ??= {});
  s[r.engine] = { prefill_tok_s: r.prefill_tok_s, decode_tok_s: r.decode_tok_s, ttft_ms: r.ttft_ms, load_ms: r.load_ms };
}
console.log(JSON.stringify({ summary, prompt_tokens: PROMPT, gen_tokens: GEN, repeat: REPEAT }));
