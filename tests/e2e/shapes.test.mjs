// The shape sweep (tests/fixtures/shapes.json, made by tools/golden_shapes.mjs):
// random-weight models of many shapes (head sizes 16-256, 1-8 query heads
// per KV head, FFN widths off multiples of 256, 1-4 layers, prompts of 77
// tokens and generations past 64 positions, llama / phi3 / qwen2) against
// llama.cpp: prompt tokens, greedy tokens until llama.cpp's first near-tie,
// and the logits of the recorded steps (0-3 and the last) while the
// histories agree: relative error (to the largest logit) at most 1e-4 for
// float weights, 1e-3 for quantized ones.
//
// Runs the native CLI (best SIMD kernels, and the portable scalar code with
// HEARTH_NO_SIMD=1), the wasm build in exact mode when web/dist/hearth.wasm
// is there (HEARTH_SHAPES_WASM=0 skips it), and the WebGPU backend in exact
// mode with HEARTH_SHAPES_GPU=1 (SwiftShader: about a minute a model).
// wasm and WebGPU are held to 1e-3 for every type: their RoPE angles come
// from other sinf/cosf than glibc's (wasi-libc's differ in ~2% of the
// angles, by an ulp), which the 77-token prompts through 4 layers of an f16
// model turn into 3e-4 (docs/numerics.md).
// `node tests/e2e/shapes.test.mjs SUBSTRING` runs the models whose name contains it;
// HEARTH_SHAPES_RUNNER=SUBSTRING the runners whose label contains it (native, wasm, webgpu).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { hearth, sha256, ROOT } from './util.mjs';
import { MARGIN } from './golden_lib.mjs';

const FIXTURE = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/shapes.json'), 'utf8'));
const CLI = path.join(ROOT, 'web/cli.mjs');
const FLOAT_TYPES = new Set(['f32', 'f16', 'bf16']);
const only = process.argv[2];

function ensureModel(m) {
  const file = path.join(ROOT, m.file);
  if (fs.existsSync(file) && fs.statSync(file).size === m.size && sha256(file) === m.sha256) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const r = spawnSync('node', ['tools/make_test_model.mjs', ...m.args], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${m.name}: make_test_model failed: ${r.stderr}`);
  return file;
}

function node(args, env) {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  return r;
}

const RUNNERS = [
  { label: 'native', exact: true, run: (a) => hearth([...a, '--threads', String(FIXTURE.reference.threads)]) },
  { label: 'native scalar', exact: true, run: (a) => hearth([...a, '--threads', '2'], { env: { ...process.env, HEARTH_NO_SIMD: '1' } }) },
];
if (process.env.HEARTH_SHAPES_WASM !== '0' && fs.existsSync(path.join(ROOT, 'web/dist/hearth.wasm')))
  RUNNERS.push({ label: 'wasm exact', run: (a) => node([...a, '--threads', String(FIXTURE.reference.threads)], { HEARTH_EXACT: '1' }) });
if (process.env.HEARTH_SHAPES_GPU === '1') {
  process.env.VK_ICD_FILENAMES ||= '/usr/lib/chromium/vk_swiftshader_icd.json';
  // (llama.cpp's threads: exact attention splits decode over 512+ cells as the CPU path with as many)
  RUNNERS.push({ label: 'webgpu exact', run: (a) => node([...a, '--backend', 'webgpu', '--threads', String(FIXTURE.reference.threads)], { HEARTH_GPU_EXACT: '1' }) });
}

// HEARTH_SHAPES_RUNNER=webgpu (say) keeps the runners whose label contains it
const RUNNER = process.env.HEARTH_SHAPES_RUNNER;
const worst = {};
for (const m of FIXTURE.models.filter((x) => !only || x.name.includes(only))) {
  const type = m.args[m.args.indexOf('--type') + 1];
  const tol = FLOAT_TYPES.has(type) ? 1e-4 : 1e-3;
  const file = ensureModel(m);
  if (!check(`${m.name}: regenerated model is byte-identical`, sha256(file) === m.sha256, 'sha256 differs')) continue;
  const args = ['run', '--model', file, '--prompt', FIXTURE.prompts[m.prompt], '--temperature', '0',
    '--max-tokens', String(m.generated.length), '--logits', String(m.generated.length), '--json', '--ctx',
    String(FIXTURE.reference.context_size)];
  for (const { label, run, exact } of RUNNERS.filter((x) => !RUNNER || x.label.includes(RUNNER))) {
    const tolHere = exact ? tol : Math.max(tol, 1e-3);
    const t0 = Date.now();
    const r = run(args);
    if (!check(`${m.name} (${label}): runs`, r.status === 0, r.stderr)) continue;
    const out = JSON.parse(r.stdout);
    check(`${m.name} (${label}): prompt tokens equal llama.cpp's`,
      JSON.stringify(out.prompt_tokens) === JSON.stringify(m.prompt_tokens), `${out.prompt_tokens}`);
    // greedy tokens until llama.cpp's first near-tie
    let agree = 0, bad = -1;
    for (; agree < m.generated.length && out.tokens[agree] === m.generated[agree]; agree++);
    if (agree < m.generated.length && m.margins[agree] > MARGIN) bad = agree;
    check(`${m.name} (${label}): greedy tokens equal llama.cpp's (${agree}/${m.generated.length})`, bad < 0,
      bad >= 0 ? `step ${bad}: ${out.tokens[bad]} vs ${m.generated[bad]} (margin ${m.margins[bad]})` : '');
    // logits of the recorded steps whose history agrees
    let maxRel = 0, missing = 0, steps = 0;
    for (const s of m.steps) {
      if (s.step > agree || !out.logits[s.step]) continue;
      steps++;
      const ours = new Map(out.logits[s.step]);
      const scale = Math.max(...s.top.map(([, v]) => Math.abs(v)));
      for (const [id, v] of s.top.slice(0, 16)) {
        if (!ours.has(id)) { missing++; continue; }
        maxRel = Math.max(maxRel, Math.abs(ours.get(id) - v) / scale);
      }
    }
    worst[label] = Math.max(worst[label] || 0, maxRel);
    check(`${m.name} (${label}): logits of ${steps} steps within ${tolHere} (${maxRel.toExponential(2)}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      steps > 0 && missing === 0 && maxRel <= tolHere, missing ? `${missing} of llama.cpp's top tokens not in ours` : `${maxRel}`);
  }
}
console.log(`# worst relative logit error: ${JSON.stringify(worst)}`);
done();
