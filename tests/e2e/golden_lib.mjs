// Comparing a run with a golden fixture of llama.cpp's outputs
// (tests/fixtures/golden/*.json, made by tools/golden.mjs). Shared by the
// native (golden.test.mjs) and WebAssembly (wasm.test.mjs) tests.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sha256, ROOT } from './util.mjs';

export const GOLDEN_DIR = path.join(ROOT, 'tests/fixtures/golden');
// llama.cpp's top-2 margin under which a greedy step is a near-tie.
export const MARGIN = 1e-3;

// The model fixtures (not stories260K), optionally those whose file name contains `only`.
export function goldenFixtures(only) {
  return fs.readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json') && f !== 'stories260K.json')
    .filter((f) => !only || f.includes(only)).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, f), 'utf8')));
}

// The K-quant mixture fixtures (tests/fixtures/golden/kquant/, index key "kquant" of
// models.json, made from tools/kquant_models.mjs): every one for `where` = 'native';
// for 'wasm' and 'webgpu' the subset marked so in the index, or every one with
// HEARTH_KQUANT_ALL=1; none with HEARTH_KQUANT=0. `only`: a part of the name.
export function kquantFixtures(where = 'native', only) {
  if (process.env.HEARTH_KQUANT === '0') return [];
  const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/models.json'), 'utf8')).kquant || [];
  const all = where === 'native' || process.env.HEARTH_KQUANT_ALL === '1';
  return index.filter((e) => (all || e[where]) && (!only || e.name.includes(only)))
    .map((e) => JSON.parse(fs.readFileSync(path.join(ROOT, e.golden), 'utf8')));
}

// The fixture's model file, regenerated unless already there with its sha256.
// Slow tensors (the K-quant mixtures') are cached by content key under
// build/models/.tensor-cache (HEARTH_TENSOR_CACHE), so a tensor shared by several
// mixtures (a tied Q6_K token_embd) is quantized once.
export function ensureModel(fx) {
  const file = path.join(ROOT, fx.file);
  if (fs.existsSync(file) && fs.statSync(file).size === fx.size && sha256(file) === fx.sha256) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const env = { ...process.env, HEARTH_TENSOR_CACHE: process.env.HEARTH_TENSOR_CACHE || path.join(ROOT, 'build/models/.tensor-cache') };
  const r = spawnSync('node', ['tools/make_test_model.mjs', ...fx.args], { cwd: ROOT, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${fx.name}: make_test_model failed: ${r.stderr}`);
  return file;
}

// Greedy tokens equal until the first step where llama.cpp itself had a
// near-tie (after which the continuations may rightly part).
export function compareGreedy(fx, tokens) {
  let compared = 0, bad = -1;
  for (let i = 0; i < fx.generated.length; i++) {
    if (tokens[i] === fx.generated[i]) { compared++; continue; }
    if (fx.margins[i] > MARGIN) bad = i;
    break;
  }
  const ok = bad < 0 && (compared === fx.generated.length || tokens.length > compared);
  const why = bad >= 0 ? `step ${bad}: ${tokens[bad]} vs ${fx.generated[bad]} (margin ${fx.margins[bad]})` :
    `stopped after ${tokens.length} tokens`;
  return { ok, compared, why };
}

// Largest relative logit difference over llama.cpp's 16 best tokens of the
// first `steps` steps (while the histories agree), and how many of those
// tokens are missing from the run's top-64 lists.
export function logitError(fx, out, steps) {
  let maxRel = 0, missing = 0;
  for (let s = 0; s < Math.min(steps, fx.steps.length, out.logits.length); s++) {
    if (out.tokens[s] !== fx.generated[s]) break; // different history, different logits
    const ours = new Map(out.logits[s]);
    const scale = Math.max(...fx.steps[s].top.map(([, v]) => Math.abs(v)));
    for (const [id, v] of fx.steps[s].top.slice(0, 16)) {
      if (!ours.has(id)) { missing++; continue; }
      maxRel = Math.max(maxRel, Math.abs(ours.get(id) - v) / scale);
    }
  }
  return { maxRel, missing };
}
