// Every test model (architecture x tensor type x tokenizer) against
// llama.cpp's stored outputs: prompt tokens, greedy tokens wherever
// llama.cpp's top-2 margin is clear, and the logits of the first steps.
// Also every K-quant mixture (llama-quantize's Q4_K_M, Q4_K_S, Q5_K_M, Q6_K,
// Q3_K_M, Q2_K, IQ4_XS, IQ4_NL, Q4_0, Q8_0 of four small models; HEARTH_KQUANT=0
// leaves them out). `node tests/e2e/golden.test.mjs NAME_PART` runs a subset.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { hearth, sha256, ROOT } from './util.mjs';
import { GOLDEN_DIR, compareGreedy, ensureModel, goldenFixtures, kquantFixtures, logitError } from './golden_lib.mjs';

// Relative logit error allowed. hearth reproduces llama.cpp's arithmetic
// (docs/numerics.md), so every type agrees to print precision (~6e-7); the
// bound is far tighter than the 1e-3 the issue asks for f32, and any
// regression in the order of a float sum shows up here as ~1e-2.
const TOL = 1e-5;
const TOLERANCE = { f32: TOL, f16: TOL, bf16: TOL, q8_0: TOL, q4_0: TOL, q4_1: TOL, q5_0: TOL, q5_1: TOL };
const LOGIT_STEPS = 3;

const fixtures = [...goldenFixtures(process.argv[2]), ...kquantFixtures('native', process.argv[2])];
check('golden fixtures exist', fixtures.length >= 24 || !!process.argv[2], `${fixtures.length} fixtures`);

// Both the best SIMD kernels of this CPU and the portable scalar code
// (HEARTH_NO_SIMD) must reproduce llama.cpp. The scalar run takes the K-quant
// mixtures of one model (all ten ftypes, so every type; the scalar kernels are
// also pinned to ggml's in tests/unit), every model with HEARTH_KQUANT_ALL=1 or a name.
const SCALAR_KQUANT = process.env.HEARTH_KQUANT_ALL === '1' || process.argv[2] ? '' : 'kq-phi3-llama2-e256-';
let regen = 0;
for (const mode of ['simd', 'scalar']) {
  const env = mode === 'scalar' ? { ...process.env, HEARTH_NO_SIMD: '1' } : process.env;
  const worst = {};
  for (const fx of fixtures) {
    if (mode === 'scalar' && fx.ftype && !fx.name.startsWith(SCALAR_KQUANT)) continue;
    // a K-quant mixture's key is its ftype (hearth reproduces those products exactly too)
    const type = fx.ftype || fx.args[fx.args.indexOf('--type') + 1];
    const t0 = Date.now();
    const file = ensureModel(fx);
    if (mode === 'simd' && fx.ftype) regen += Date.now() - t0;
    if (mode === 'simd' && !check(`${fx.name}: regenerated model is byte-identical`, sha256(file) === fx.sha256,
      'sha256 differs')) continue;
    const r = hearth(['run', '--model', file, '--prompt', fx.prompt, '--temperature', '0', '--max-tokens',
      String(fx.generated.length), '--logits', String(LOGIT_STEPS), '--json', '--threads', '2', '--ctx', '512'], { env });
    if (!check(`${fx.name} (${mode}): runs`, r.status === 0, r.stderr)) continue;
    const out = JSON.parse(r.stdout);
    check(`${fx.name} (${mode}): prompt tokens equal llama.cpp`, JSON.stringify(out.prompt_tokens) === JSON.stringify(fx.prompt_tokens),
      `${out.prompt_tokens} vs ${fx.prompt_tokens}`);

    const greedy = compareGreedy(fx, out.tokens);
    check(`${fx.name} (${mode}): greedy tokens equal llama.cpp (${greedy.compared}/${fx.generated.length} compared)`,
      greedy.ok, greedy.why);

    // Logits of the first steps, over llama.cpp's top candidates.
    const { maxRel, missing } = logitError(fx, out, LOGIT_STEPS);
    worst[type] = Math.max(worst[type] || 0, maxRel);
    const tol = TOLERANCE[type] ?? TOL;
    check(`${fx.name} (${mode}): first-step logits within ${tol} relative (got ${maxRel.toExponential(2)})`,
      missing === 0 && maxRel <= tol, missing ? `${missing} of llama.cpp's top tokens not in ours` : `${maxRel}`);
}
console.log(`# ${mode}: worst relative logit error per type: ${JSON.stringify(worst)}`);
}
if (regen) console.log(`# K-quant mixtures regenerated (or checked) in ${(regen / 1000).toFixed(1)} s`);
// A split model (NAME-0000k-of-00003.gguf, opened from its first part)
// gives the same greedy tokens as llama.cpp gave for the single file.
{
  const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/models.json'), 'utf8'));
  const split = index.split;
  const single = JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, 'llama-llama2-q8_0.json'), 'utf8'));
  const stale = split.files.some((f) => !fs.existsSync(path.join(ROOT, f.file)) || sha256(path.join(ROOT, f.file)) !== f.sha256);
  if (stale) spawnSync('node', ['tools/make_test_model.mjs', ...split.args], { cwd: ROOT, encoding: 'utf8' });
  const same = split.files.every((f) => fs.existsSync(path.join(ROOT, f.file)) && sha256(path.join(ROOT, f.file)) === f.sha256);
  check('split model: regenerated parts are byte-identical', same, 'sha256 differs');
  const r = hearth(['run', '--model', path.join(ROOT, split.files[0].file), '--prompt', single.prompt, '--temperature', '0',
    '--max-tokens', String(single.generated.length), '--json', '--ctx', '512']);
  const out = r.status === 0 ? JSON.parse(r.stdout) : null;
  check(`split model (${split.files.length} parts): greedy tokens equal llama.cpp's on the single file`,
    out && JSON.stringify(out.tokens) === JSON.stringify(single.generated), out ? `${out.tokens}` : r.stderr);
}
done();
