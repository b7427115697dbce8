#!/usr/bin/env node
// The shape sweep: small random-weight models of other shapes than the
// golden set (head sizes 16-256, 1-8 query heads per KV head, FFN widths
// that are not multiples of 256, 1-4 layers, prompts and generations past
// 64 and 256 positions, llama / phi3 / qwen2), and llama.cpp's outputs on them
// (through node-llama-cpp, as tools/golden.mjs records the goldens) in
// tests/fixtures/shapes.json. tests/e2e/shapes.test.mjs regenerates each
// model from its arguments (checked by sha256) and compares.
//
//   node tools/golden_shapes.mjs                 every shape
//   node tools/golden_shapes.mjs --only REGEX    only these (the others kept)
//   node tools/golden_shapes.mjs --verify        no llama.cpp: regenerate, check sha256
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { makeTestModel, parseArgs } from './make_test_model.mjs';
import { loadNodeLlamaCpp, runGreedy, fmt } from './golden.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const FIXTURE = path.join(root, 'tests/fixtures/shapes.json');
const MODELS_DIR = 'build/models/shapes';
const CONTEXT_SIZE = 512;
const THREADS = 2; // llama.cpp's thread count (the test runs hearth with the same)
const TOPK_STEPS = 4; // steps 0..3 with their top-32 logits, and the last step

export const PROMPTS = {
  // 5-6 tokens: llama.cpp's one-row flash attention everywhere
  short: 'The quick brown fox',
  // 77 tokens (llama2 vocabulary): a batch of >= 64 rows, ggml's tiled flash attention
  long: 'Once upon a time, in a small village at the edge of a great forest, there lived an old clockmaker '
    + 'named Elias. Every morning he opened the shutters of his tiny shop, wound the hundred clocks that hung '
    + 'on its walls, and listened to them tick together like a quiet orchestra. Children from the village '
    + 'often stopped by the window to watch him work.',
};

// [arch, type, n_embd, heads, kv heads, head_dim, n_ff, layers, prompt, greedy tokens, extra args]
const SHAPES = [
  // the two models of issue 14
  ['phi3', 'q4_0', 256, 8, 8, 32, 640, 2, 'short', 8],
  ['phi3', 'f32', 256, 8, 8, 32, 640, 2, 'short', 8],
  ['phi3', 'q8_0', 256, 8, 8, 32, 640, 2, 'long', 8],
  ['llama', 'q8_0', 192, 6, 2, 32, 512, 3, 'short', 72, ['--tokenizer', 'llama3']],
  // head sizes, groups, FFN widths, depths
  ['llama', 'f32', 64, 2, 2, 32, 160, 1, 'long', 8],
  ['qwen2', 'q8_0', 160, 2, 1, 80, 416, 2, 'short', 72],
  ['phi3', 'q4_0', 192, 2, 2, 96, 384, 1, 'long', 8],
  ['llama', 'q4_0', 256, 2, 1, 128, 736, 2, 'long', 8],
  ['phi3', 'q8_0', 256, 1, 1, 256, 640, 1, 'short', 8],
  ['qwen2', 'q4_0', 512, 8, 1, 64, 1376, 2, 'short', 8],
  ['llama', 'f16', 96, 3, 3, 32, 288, 4, 'long', 8],
  ['qwen2', 'f32', 128, 8, 1, 16, 352, 2, 'long', 8],
  ['llama', 'q5_1', 128, 4, 2, 32, 224, 2, 'short', 72],
  ['qwen2', 'bf16', 128, 2, 1, 64, 320, 3, 'long', 8],
  ['phi3', 'q5_0', 192, 6, 3, 32, 416, 2, 'long', 8],
  ['llama', 'q8_0', 128, 4, 1, 64, 352, 2, 'long', 8],
  ['phi3', 'f32', 160, 2, 2, 80, 448, 2, 'long', 8],
  ['qwen2', 'q4_1', 256, 4, 1, 64, 672, 2, 'short', 72],
  ['llama', 'q4_0', 384, 4, 1, 96, 992, 1, 'short', 8],
  // past 256 positions: decode over 512 KV cells, ggml's split-KV path
  ['llama', 'q8_0', 128, 4, 2, 32, 224, 2, 'short', 300],
  ['qwen2', 'f16', 128, 2, 1, 64, 352, 2, 'long', 260],
];

export function shapeList() {
  return SHAPES.map(([arch, type, e, h, kv, hd, ff, l, prompt, n, extra = []]) => {
    const tok = extra.includes('--tokenizer') ? extra[extra.indexOf('--tokenizer') + 1] : 'llama2';
    const name = `${arch}-${type}-e${e}-h${h}_${kv}x${hd}-ff${ff}-l${l}${tok === 'llama2' ? '' : `-${tok}`}`;
    const args = ['--arch', arch, '--tokenizer', tok, '--type', type, '--embd', String(e), '--heads', String(h),
      '--kv-heads', String(kv), '--head-dim', String(hd), '--ff', String(ff), '--layers', String(l),
      '--seed', '1', '--out', `${MODELS_DIR}/${name}.gguf`];
    return { name, args, prompt: prompt, n_greedy: n };
  });
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function generate(e) {
  const o = parseArgs(e.args);
  o.quiet = true;
  o.out = path.join(root, o.out);
  const [p] = makeTestModel(o);
  return { file: path.relative(root, p), sha256: sha256(p), size: fs.statSync(p).size };
}

async function main() {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? new RegExp(argv[argv.indexOf('--only') + 1]) : null;
  const old = fs.existsSync(FIXTURE) ? JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) : null;
  if (argv.includes('--verify')) {
    let bad = 0;
    for (const m of old.models) {
      if (only && !only.test(m.name)) continue;
      const g = generate(m);
      const ok = g.sha256 === m.sha256 && g.size === m.size;
      console.log(`${ok ? 'ok' : 'not ok'} - ${m.name}`);
      if (!ok) bad++;
    }
    process.exitCode = bad ? 1 : 0;
    return;
  }
  const { mod, dir } = await loadNodeLlamaCpp();
  const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const nlcVersion = dir ? JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version : 'unknown';
  const out = {
    about: 'Shape sweep (tools/golden_shapes.mjs): llama.cpp on random-weight models of many shapes; '
      + 'regenerate each model with `node tools/make_test_model.mjs ARGS` (sha256 must match). '
      + 'steps: top-32 [id, logit] at generation steps 0-3 and the last one.',
    reference: {
      tool: `node-llama-cpp ${nlcVersion}`,
      llama_cpp_release: llama.llamaCppRelease?.release ?? null,
      backend: 'cpu',
      system_info: llama.systemInfo.trim(),
      context_size: CONTEXT_SIZE,
      threads: THREADS,
      flash_attention: 'auto (on for the CPU)',
      kv_cache_type: 'f16',
    },
    prompts: PROMPTS,
    models: [],
  };
  for (const e of shapeList()) {
    if (only && !only.test(e.name)) {
      const k = old?.models.find((m) => m.name === e.name);
      if (k) out.models.push(k);
      continue;
    }
    const t0 = Date.now();
    const f = generate(e);
    const g = await runGreedy(llama, f.file, PROMPTS[e.prompt], e.n_greedy,
      { topkSteps: e.n_greedy, contextSize: CONTEXT_SIZE, threads: THREADS });
    const keep = new Set([0, 1, 2, 3, e.n_greedy - 1].filter((s) => s < TOPK_STEPS || s === e.n_greedy - 1));
    out.models.push({
      name: e.name, args: e.args, ...f, prompt: e.prompt,
      add_bos: g.add_bos, prompt_tokens: g.prompt_tokens, generated: g.generated, margins: g.margins,
      steps: g.steps.filter((s) => keep.has(s.step)),
    });
    console.log(`${e.name}: ${g.prompt_tokens.length} + ${g.generated.length} tokens, min margin `
      + `${Math.min(...g.margins).toFixed(4)}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  fs.mkdirSync(path.dirname(FIXTURE), { recursive: true });
  fs.writeFileSync(FIXTURE, `${fmt(out)}\n`);
  await llama.dispose();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`golden_shapes: ${e.stack || e.message}`);
    process.exit(1);
  });
}
