#!/usr/bin/env node
// Constrained decoding on the WebGPU backend: per-token decode time with a
// JSON Schema whose mask reaches GPU sampling by upload (the step's bitmask
// written before the sampling dispatch; the GPU draws only allowed tokens)
// or by readback (the GPU samples unconstrained and a forbidden token costs a
// logits readback and a redraw on the CPU), and without a grammar, on one
// loaded model (docs/structured-output.md, "On the GPU").
//   node bench/grammar_gpu_bench.mjs --file M.gguf [--schema tests/fixtures/schemas/11_person.json]
//        [--tokens 64] [--seeds 3] [--modes none,upload,readback] [--label NAME]
// Prints one JSON line per mode, then a summary line. Per-token time is the
// wall time from the first generated token to the last, over the tokens after
// the first (the first includes the prompt); it includes the grammar's mask on
// the CPU (wasm, one thread), which both grammar modes pay alike. Random
// weights: nearly every unconstrained sample is forbidden, the worst case
// for readback (a real model's answers are forbidden less often).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const FILE = arg('--file');
if (!FILE) { console.error('usage: node bench/grammar_gpu_bench.mjs --file M.gguf [--schema S.json] [--tokens N] [--seeds N] [--modes none,upload,readback]'); process.exit(2); }
const SCHEMA_FILE = path.resolve(arg('--schema', path.join(root, 'tests/fixtures/schemas/11_person.json')));
const TOKENS = Number(arg('--tokens', 64));
const SEEDS = Number(arg('--seeds', 3));
const MODES = arg('--modes', 'none,upload,readback').split(',');
const LABEL = arg('--label', path.basename(FILE));
const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));

const { nodeFileSource } = await import('../web/hearth.mjs');
const { createBackend } = await import('../web/gpu/backend.mjs');
const { engine } = await createBackend({ log: () => {} });
const t0 = performance.now();
await engine.load(await nodeFileSource(FILE), { contextSize: 1024 });
const loadMs = performance.now() - t0;
const gpu = engine.gpu;

// One answer: its tokens, the wall time of the tokens after the first, the readbacks.
async function answer(mode, seed, maxTokens) {
  if (mode !== 'none') gpu.mask = mode;
  const reads0 = gpu.logitsReadbacks;
  const g = engine.beginChat([{ role: 'user', content: 'Answer with JSON for the schema.' }], {
    temperature: 1, seed, maxTokens,
    ...(mode === 'none' ? {} : { responseFormat: { type: 'json_schema', json_schema: { name: 'bench', schema } } }),
  });
  let first = 0, n = 0;
  while (!g.done) {
    const r = await g.next();
    if (g.done && !r.text) break;
    if (++n === 1) first = performance.now();
  }
  const r = g.result;
  const tokens = r.usage.completion_tokens;
  return { tokens, ms: tokens > 1 ? performance.now() - first : 0, steps: tokens - 1, readbacks: gpu.logitsReadbacks - reads0,
    coreDecodeMs: r.timings.decode_ms, stop: r.stop, text: r.text };
}

await answer('upload', 1000, 4); // warm-up: the trie and the pipelines' first use
const rows = {};
for (const mode of MODES) {
  let ms = 0, steps = 0, tokens = 0, readbacks = 0, core = 0;
  const stops = {};
  for (let s = 1; s <= SEEDS; s++) {
    const a = await answer(mode, s, TOKENS);
    ms += a.ms; steps += a.steps; tokens += a.tokens; readbacks += a.readbacks; core += a.coreDecodeMs;
    stops[a.stop] = (stops[a.stop] || 0) + 1;
    if (mode !== 'none') {
      try { JSON.parse(a.text); } catch { if (a.stop !== 'length') stops.invalid = (stops.invalid || 0) + 1; }
    }
  }
  rows[mode] = ms / Math.max(1, steps);
  console.log(JSON.stringify({ bench: 'grammar_gpu', model: LABEL, adapter: gpu.adapter, schema: path.basename(SCHEMA_FILE),
    mode, seeds: SEEDS, max_tokens: TOKENS, tokens, ms_per_token: +(ms / Math.max(1, steps)).toFixed(3),
    tok_s: +(steps * 1e3 / Math.max(1e-9, ms)).toFixed(1), core_decode_ms_per_token: +(core / Math.max(1, steps)).toFixed(3),
    readbacks, readbacks_per_token: +(readbacks / Math.max(1, tokens)).toFixed(3), stops }));
}
const pct = (a, b) => (rows[a] && rows[b] ? +((rows[a] / rows[b] - 1) * 100).toFixed(1) : null);
console.log(JSON.stringify({ bench: 'grammar_gpu_summary', model: LABEL, adapter: gpu.adapter, load_ms: Math.round(loadMs),
  ms_per_token: Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, +v.toFixed(3)])),
  upload_over_none_pct: pct('upload', 'none'), readback_over_none_pct: pct('readback', 'none'),
  readback_over_upload_pct: pct('readback', 'upload'),
  faster: rows.upload && rows.readback ? (rows.upload <= rows.readback ? 'upload' : 'readback') : null }));
engine.destroy();
