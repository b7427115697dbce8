#!/usr/bin/env node
// Generates the test models into build/models/ and records llama.cpp's
// behaviour on them (through node-llama-cpp) as small JSON fixtures in
// tests/fixtures/golden/, plus the index tests/fixtures/models.json.
//
//   node tools/golden.mjs                 all models + stories260K
//   node tools/golden.mjs --only REGEX    only fixtures whose name matches
//   node tools/golden.mjs --verify        no llama.cpp: regenerate every model
//                                         listed in models.json, check sha256
//   node tools/golden.mjs --only '^kq-'   the K-quant mixtures (tools/kquant_models.mjs;
//                                         fixtures in tests/fixtures/golden/kquant/,
//                                         index key "kquant"; prove them first with
//                                         tools/check_quantize.mjs)
//
// node-llama-cpp is resolved from tools/reference/node_modules (npm ci there),
// then $NODE_LLAMA_CPP_DIR, then /tmp/ref/node_modules, then plain import.
// See docs/test-models.md for what is stored and how logits are captured.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTestModel, parseArgs } from './make_test_model.mjs';
import { kquantModelList, KQ_SUBSET_WASM, KQ_SUBSET_WEBGPU } from './kquant_models.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const GOLDEN_DIR = path.join(root, 'tests/fixtures/golden');
const INDEX = path.join(root, 'tests/fixtures/models.json');
const MODELS_DIR = 'build/models'; // relative to the repo root

export const PROMPT = 'The old lighthouse keeper climbed the stairs every night to light the lamp.';
const N_GREEDY = 32;
const N_STEPS_TOPK = 4; // generation steps with the top-K list recorded
const TOPK = 32;
const CONTEXT_SIZE = 512;
const SEED = 1;
const TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1'];
const D64 = ['--embd', '64', '--heads', '4', '--ff', '128'];
function NEW_TYPES(name, args) { return { name, args, types: ['f16', 'q8_0'], webgpu: ['q8_0'] }; }
const FAMILIES = [
  { name: 'llama-llama2', args: ['--arch', 'llama', '--tokenizer', 'llama2'] },
  { name: 'llama-llama3', args: ['--arch', 'llama', '--tokenizer', 'llama3', '--rope-freqs'] },
  { name: 'phi3-llama2', args: ['--arch', 'phi3', '--tokenizer', 'llama2'] },
  { name: 'phi3-llama2-ropefactors', args: ['--arch', 'phi3', '--tokenizer', 'llama2', '--rope-factors'] },
  { name: 'qwen2-qwen3', args: ['--arch', 'qwen2', '--tokenizer', 'qwen3'] },
  // issue 16's architectures: F16 and Q8_0 only (their Q4_K_M mixtures are in
  // tools/kquant_models.mjs), 64 wide so the 150k-262k vocabularies stay small;
  // q-dim (heads x head_dim) above n_embd as in the real models. The Q8_0 of each
  // is marked for the WebGPU test.
  NEW_TYPES('qwen3-qwen3', ['--arch', 'qwen3', '--tokenizer', 'qwen3', ...D64, '--kv-heads', '2', '--head-dim', '32', '--layers', '2']),
  // window 16: the prompt (15 tokens) fits, the generation crosses it; pattern 2 =
  // layer 0 sliding, layer 1 global
  NEW_TYPES('gemma3-gemma3', ['--arch', 'gemma3', '--tokenizer', 'gemma3', ...D64, '--kv-heads', '1', '--head-dim', '32', '--layers', '2', '--swa', '16', '--swa-pattern', '2']),
  // window 8: crossed inside the prompt; no pattern key (llama.cpp's gemma2 default 2)
  NEW_TYPES('gemma2-gemma3', ['--arch', 'gemma2', '--tokenizer', 'gemma3', ...D64, '--kv-heads', '2', '--head-dim', '32', '--layers', '2', '--swa', '8']),
  // 4 layers: layer 3 has no RoPE (llama.cpp: every 4th layer)
  NEW_TYPES('smollm3-llama3', ['--arch', 'smollm3', '--tokenizer', 'llama3', ...D64, '--kv-heads', '1', '--layers', '4']),
  // Phi-4-mini style: rope on 24 of 32 head dims, LongRoPE factors (12 each), tied
  NEW_TYPES('phi3-gpt4o', ['--arch', 'phi3', '--tokenizer', 'gpt4o', '--embd', '64', '--heads', '2', '--kv-heads', '1', '--head-dim', '32', '--ff', '128', '--layers', '2',
    '--rope-dim', '24', '--rope-factors', '--tied', '--swa', '0']),
];
const VOCABS = ['llama2', 'llama3', 'qwen3', 'gemma3', 'gpt4o'];
const SPLIT = { name: 'split-llama-llama2-q8_0', args: ['--arch', 'llama', '--tokenizer', 'llama2', '--type', 'q8_0', '--split', '3'] };

function modelList() {
  const out = [];
  for (const f of FAMILIES) {
    for (const t of f.types || TYPES) {
      const name = `${f.name}-${t}`;
      out.push({
        name, args: [...f.args, '--type', t, '--seed', String(SEED), '--out', `${MODELS_DIR}/${name}.gguf`],
        ...(f.webgpu?.includes(t) ? { webgpu: true } : {}),
      });
    }
  }
  return out;
}
function vocabList() {
  return VOCABS.map((v) => ({
    name: `vocab-${v}`,
    args: ['--arch', 'llama', '--tokenizer', v, '--vocab-only', '--out', `${MODELS_DIR}/vocab-${v}.gguf`],
  }));
}
function splitEntry() {
  const name = SPLIT.name;
  return { name, args: [...SPLIT.args, '--seed', String(SEED), '--out', `${MODELS_DIR}/${name}.gguf`] };
}

function parseCli(argv) {
  const o = { only: null, verify: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') o.only = new RegExp(argv[++i]);
    else if (argv[i] === '--verify') o.verify = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

function optsFromArgs(args) {
  const o = parseArgs(args);
  o.quiet = true;
  o.out = path.join(root, o.out);
  return o;
}

function sha256(file) {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 22);
  let n;
  while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  fs.closeSync(fd);
  return h.digest('hex');
}

function generate(entry) {
  const paths = makeTestModel(optsFromArgs(entry.args));
  return paths.map((p) => ({ file: path.relative(root, p), sha256: sha256(p), size: fs.statSync(p).size }));
}

export async function loadNodeLlamaCpp() {
  const candidates = [
    path.join(here, 'reference/node_modules'),
    process.env.NODE_LLAMA_CPP_DIR,
    '/tmp/ref/node_modules',
  ].filter(Boolean);
  for (const dir of candidates) {
    const p = path.join(dir, 'node-llama-cpp/dist/index.js');
    if (fs.existsSync(p)) return { mod: await import(pathToFileURL(p).href), dir: path.join(dir, 'node-llama-cpp') };
  }
  return { mod: await import('node-llama-cpp'), dir: null };
}

const f32 = (x) => Number(Math.fround(x).toPrecision(9));

// ggml type name -> count of tensors, from the GGUF tensor table
const GGML_NAMES = { 0: 'f32', 1: 'f16', 2: 'q4_0', 3: 'q4_1', 6: 'q5_0', 7: 'q5_1', 8: 'q8_0', 10: 'q2_K', 11: 'q3_K',
  12: 'q4_K', 13: 'q5_K', 14: 'q6_K', 20: 'iq4_nl', 23: 'iq4_xs', 30: 'bf16' };
function tensorTypes(file) {
  const b = fs.readFileSync(file);
  let o = 8;
  const u32 = () => { const v = b.readUInt32LE(o); o += 4; return v; };
  const u64 = () => { const v = Number(b.readBigUInt64LE(o)); o += 8; return v; };
  const str = () => { const n = u64(); const s = b.toString('utf8', o, o + n); o += n; return s; };
  const SZ = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skip = (t) => {
    if (t === 8) str();
    else if (t === 9) { const et = u32(); const n = u64(); for (let i = 0; i < n; i++) skip(et); } else o += SZ[t];
  };
  const nt = u64(), nkv = u64();
  for (let i = 0; i < nkv; i++) { str(); skip(u32()); }
  const types = {};
  for (let i = 0; i < nt; i++) {
    const name = str(); const nd = u32(); o += 8 * nd; const t = GGML_NAMES[u32()] ?? 'unknown'; u64();
    types[name] = t;
  }
  return types;
}

// Greedy decoding with raw logits, one token per controlledEvaluate call.
export async function runGreedy(llama, file, prompt, nGreedy,
  { topkSteps = N_STEPS_TOPK, contextSize = CONTEXT_SIZE, threads } = {}) {
  const model = await llama.loadModel({ modelPath: path.resolve(root, file) });
  // llama.cpp as its users run it: its default F16 KV cache and flash
  // attention on "auto" (on, for the CPU). hearth reproduces that
  // arithmetic exactly (docs/numerics.md); with flash attention off and an F32
  // cache llama.cpp's logits move by up to 0.16 on quantized models. Asked for
  // explicitly: node-llama-cpp's own "auto" turns it off for gemma2 (an old
  // llama.cpp limit on soft-capping that llama.cpp no longer has).
  const ctx = await model.createContext({ contextSize, batchSize: contextSize, flashAttention: true,
    ...(threads ? { threads } : {}) });
  const seq = ctx.getSequence();
  const textTokens = Array.from(model.tokenize(prompt, false));
  const bos = model.tokens.bos;
  const addBos = model.tokens.shouldPrependBosToken && bos != null;
  const promptTokens = addBos ? [bos, ...textTokens] : textTokens;
  if (model.tokens.shouldAppendEosToken && model.tokens.eos != null) promptTokens.push(model.tokens.eos);
  const generated = [];
  const margins = [];
  const steps = [];
  let input = promptTokens;
  for (let step = 0; step < nGreedy; step++) {
    const k = step < topkSteps ? TOPK : 2;
    const items = input.map((t, i) => (i === input.length - 1
      ? [t, { generateNext: { token: true, logits: { filter: { tokens: [], includeTop: k } } } }]
      : t));
    const res = await seq.controlledEvaluate(items);
    const next = res[items.length - 1].next;
    const top = [...next.logits.entries()];
    const tok = next.token;
    if (top[0][0] !== tok && top[0][1] !== top[1][1]) throw new Error(`${file}: sampled ${tok} is not the argmax ${top[0][0]}`);
    const margin = f32(top[0][1] - top[1][1]);
    margins.push(margin);
    if (step < topkSteps) steps.push({ step, n_past: seq.nextTokenIndex - 1, margin, top: top.map(([id, l]) => [id, f32(l)]) });
    generated.push(tok);
    input = [tok];
  }
  const info = {
    add_bos: addBos,
    bos: bos ?? null,
    prompt_tokens: promptTokens,
    generated,
    generated_text: model.detokenize(generated),
    margins,
    steps,
  };
  await ctx.dispose();
  await model.dispose();
  return info;
}

// JSON with one key per line but arrays of plain values (and arrays of such
// arrays, like the top-K [id, logit] pairs) kept on one line: small and diffable.
export function fmt(v, ind = '') {
  const flat = (x) => x === null || typeof x !== 'object' || (Array.isArray(x) && x.every((y) => y === null || typeof y !== 'object'));
  if (flat(v)) return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.every(flat)) return `[${v.map((x) => JSON.stringify(x)).join(',')}]`;
    return `[\n${v.map((x) => `${ind} ${fmt(x, `${ind} `)}`).join(',\n')}\n${ind}]`;
  }
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  return `{\n${keys.map((k) => `${ind} ${JSON.stringify(k)}: ${fmt(v[k], `${ind} `)}`).join(',\n')}\n${ind}}`;
}

function writeJson(file, obj) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = `${fmt(obj)}\n`;
  JSON.parse(text);
  fs.writeFileSync(file, text);
}

async function main() {
  const o = parseCli(process.argv.slice(2));
  if (o.verify) {
    const index = JSON.parse(fs.readFileSync(INDEX, 'utf8'));
    let bad = 0;
    for (const e of [...index.models, ...(index.kquant || []), ...index.vocab, ...(index.split ? [index.split] : [])]) {
      if (o.only && !o.only.test(e.name)) continue;
      const t0 = process.cpuUsage();
      const got = generate(e);
      const cpu = (process.cpuUsage(t0).user / 1e6).toFixed(1);
      const want = e.files;
      const ok = got.length === want.length && got.every((g, i) => g.sha256 === want[i].sha256 && g.file === want[i].file);
      console.log(`${ok ? 'ok' : 'not ok'} - ${e.name} (${cpu} s cpu)`);
      if (!ok) bad++;
    }
    process.exitCode = bad ? 1 : 0;
    return;
  }

  const { mod, dir } = await loadNodeLlamaCpp();
  const { getLlama } = mod;
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const nlcVersion = dir ? JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version : 'unknown';
  const reference = {
    tool: `node-llama-cpp ${nlcVersion}`,
    llama_cpp_release: llama.llamaCppRelease?.release ?? null,
    backend: 'cpu',
    system_info: llama.systemInfo.trim(),
    context_size: CONTEXT_SIZE,
    flash_attention: 'auto (on for the CPU)',
    kv_cache_type: 'f16',
    sampling: 'greedy (temperature 0, no penalties); llama_get_logits_ith values',
  };

  const oldIndex = fs.existsSync(INDEX) ? JSON.parse(fs.readFileSync(INDEX, 'utf8')) : null;
  const keep = (list, name) => (o.only && oldIndex ? (oldIndex[list] || []).find((e) => e.name === name) : null);
  const index = {
    about: 'Test models: regenerate each with `node tools/make_test_model.mjs ARGS` from the repo root; files must match sha256. Goldens from tools/golden.mjs (docs/test-models.md).',
    generator: 'tools/make_test_model.mjs',
    prompt: PROMPT,
    models: [],
    kquant: [],
    split: null,
    vocab: [],
    real: [],
  };

  for (const e of modelList()) {
    if (o.only && !o.only.test(e.name)) {
      const k = keep('models', e.name);
      if (k) index.models.push(k);
      continue;
    }
    const t0 = Date.now();
    const files = generate(e);
    const g = await runGreedy(llama, files[0].file, PROMPT, N_GREEDY);
    const golden = {
      name: e.name,
      command: `node tools/make_test_model.mjs ${e.args.join(' ')}`,
      args: e.args,
      file: files[0].file,
      sha256: files[0].sha256,
      size: files[0].size,
      reference,
      prompt: PROMPT,
      ...g,
    };
    const gfile = `tests/fixtures/golden/${e.name}.json`;
    writeJson(path.join(root, gfile), golden);
    index.models.push({ name: e.name, args: e.args, files, golden: gfile, ...(e.webgpu ? { webgpu: true } : {}) });
    console.log(`${e.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s, min margin ${Math.min(...g.margins).toFixed(4)}: ${JSON.stringify(g.generated_text.slice(0, 60))}`);
  }

  // llama-quantize's mixtures (K-quants, IQ4) of models with 256-multiple rows, and the
  // 896-wide fallback model
  for (const e of kquantModelList(MODELS_DIR, SEED)) {
    if (o.only && !o.only.test(e.name)) {
      const k = keep('kquant', e.name);
      if (k) index.kquant.push(k);
      continue;
    }
    const t0 = Date.now();
    const c0 = process.cpuUsage();
    const files = generate(e);
    const genCpu = process.cpuUsage(c0).user / 1e6;
    const g = await runGreedy(llama, files[0].file, PROMPT, N_GREEDY);
    const golden = {
      name: e.name,
      command: `node tools/make_test_model.mjs ${e.args.join(' ')}`,
      args: e.args,
      ftype: e.ftype,
      file: files[0].file,
      sha256: files[0].sha256,
      size: files[0].size,
      tensor_types: tensorTypes(path.join(root, files[0].file)),
      reference,
      prompt: PROMPT,
      ...g,
    };
    const gfile = `tests/fixtures/golden/kquant/${e.name}.json`;
    writeJson(path.join(root, gfile), golden);
    index.kquant.push({
      name: e.name, args: e.args, files, golden: gfile,
      ...(KQ_SUBSET_WASM.includes(e.name) ? { wasm: true } : {}), ...(KQ_SUBSET_WEBGPU.includes(e.name) ? { webgpu: true } : {}),
    });
    console.log(`${e.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s (make ${genCpu.toFixed(1)} s cpu), min margin ${Math.min(...g.margins).toFixed(4)}: ${JSON.stringify(g.generated_text.slice(0, 60))}`);
  }

  // split files: llama.cpp must give the same greedy output as the single file
  {
    const e = splitEntry();
    if (!o.only || o.only.test(e.name)) {
      const files = generate(e);
      const g = await runGreedy(llama, files[0].file, PROMPT, N_GREEDY);
      const single = index.models.find((m) => m.name === 'llama-llama2-q8_0');
      const sg = single && JSON.parse(fs.readFileSync(path.join(root, single.golden), 'utf8'));
      const same = sg && JSON.stringify(sg.generated) === JSON.stringify(g.generated);
      console.log(`${e.name}: ${files.length} parts, same greedy output as llama-llama2-q8_0: ${same}`);
      if (sg && !same) throw new Error('split model output differs from the single-file model');
      index.split = { name: e.name, args: e.args, files, same_as: 'llama-llama2-q8_0' };
    } else if (oldIndex?.split) index.split = oldIndex.split;
  }

  for (const e of vocabList()) {
    if (o.only && !o.only.test(e.name)) {
      const k = keep('vocab', e.name);
      if (k) index.vocab.push(k);
      continue;
    }
    index.vocab.push({ name: e.name, args: e.args, files: generate(e) });
    console.log(`${e.name}: written`);
  }

  // stories260K: a real trained model from ../shared/models
  {
    const name = 'stories260K';
    const file = '../shared/models/stories260K.gguf';
    if (!o.only || o.only.test(name)) {
      const g = await runGreedy(llama, file, 'Once upon a time', 200, { topkSteps: 4 });
      const golden = {
        name, file, sha256: sha256(path.join(root, file)), reference, prompt: 'Once upon a time', ...g,
      };
      writeJson(path.join(GOLDEN_DIR, `${name}.json`), golden);
      index.real.push({ name, file, sha256: golden.sha256, golden: `tests/fixtures/golden/${name}.json` });
      console.log(`${name}: ${JSON.stringify(g.generated_text.slice(0, 100))}`);
    } else if (oldIndex?.real) index.real.push(...oldIndex.real);
  }

  writeJson(INDEX, index);
  await llama.dispose();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`golden: ${e.stack || e.message}`);
    process.exit(1);
  });
}
