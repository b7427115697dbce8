// The WebAssembly SIMD128 kernels (src/cpu/*simd128*):
// - the kernel unit tests compiled for wasm32-wasi (make wasm builds them into
//   build/wasm-tests/) run under Node's WASI: every SIMD128 matmul and
//   activation quantization bit-identical with the scalar reference (K-quants
//   and IQ4 included), the fast ones within 1e-5 of the exact ones, the
//   outputs pinned to llama.cpp's bits, and the exact-FMA arithmetic; the
//   same program linked with the relaxed build's objects
//   (test_kernels_relaxed.wasm, under --experimental-wasm-relaxed-simd) also
//   checks the relaxed-SIMD Q4_0_X4 and K-quant products;
// - the engine in web/dist/hearth.wasm picks them ("kernels":"simd128") and
//   gives the same greedy tokens and logits as its scalar kernels
//   (HEARTH_NO_SIMD=1) on a golden model of every weight type, and over a
//   longer context (the attention row).
// `node tests/e2e/wasm_kernels.test.mjs --wasi FILE.wasm` runs one program.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, done } from '../lib.mjs';
import { BUILD, ROOT } from './util.mjs';
import { ensureModel, goldenFixtures } from './golden_lib.mjs';

if (process.argv[2] === '--wasi') {
  const { WASI } = await import('node:wasi');
  const wasi = new WASI({ version: 'preview1', args: [path.basename(process.argv[3])], env: {} });
  const mod = await WebAssembly.compile(fs.readFileSync(process.argv[3]));
  process.exitCode = wasi.start(await WebAssembly.instantiate(mod, wasi.getImportObject()));
} else {
  // Unit tests: their "ok - " lines, prefixed, plus the exit status and count.
  const relaxedFlag = '--experimental-wasm-relaxed-simd';
  for (const [name, min, flags = []] of [['test_kernels', 90], ['test_kernels_relaxed', 95, [relaxedFlag]],
    ['wasm_simd128_exact', 5]]) {
    const file = path.join(BUILD, 'wasm-tests', `${name}.wasm`);
    if (!check(`wasm ${name}: built (make wasm)`, fs.existsSync(file), `missing ${file}`)) continue;
    const r = spawnSync('node', ['--no-warnings', ...flags, fileURLToPath(import.meta.url), '--wasi', file],
      { encoding: 'utf8', maxBuffer: 1 << 26 });
    let count = 0;
    for (const line of r.stdout.split('\n')) {
      const m = /^(not ok|ok) - (.*)$/.exec(line);
      if (m) { count++; console.log(`${m[1]} - wasm ${name}: ${m[2]}`); } else if (line.startsWith('#')) console.log(line);
    }
    if (name === 'test_kernels_relaxed') {
      check('wasm test_kernels_relaxed: the fast set is simd128-relaxed and its Q4_0_X4 products were checked',
        /^ok - simd128-relaxed matmul q4_0_x4/m.test(r.stdout), r.stdout.slice(-400));
      check('wasm test_kernels_relaxed: its K-quant products were checked',
        /^ok - simd128-relaxed matmul q4_K: within 1e-5/m.test(r.stdout), r.stdout.slice(-400));
    }
    if (name === 'test_kernels') {
      check('wasm test_kernels: the SIMD128 K-quant/IQ4 products were checked, exact and fast',
        /^ok - simd128 matmul q4_K bit-exact/m.test(r.stdout) && /^ok - simd128 matmul iq4_xs bit-exact/m.test(r.stdout) &&
        /^ok - simd128-fast matmul q6_K: within 1e-5/m.test(r.stdout), r.stdout.slice(-400));
    }
    if (name.startsWith('test_kernels')) {
      check(`wasm ${name}: the best kernels are simd128`, /^# kernels: simd128$/m.test(r.stdout), r.stdout.slice(0, 200));
    }
    check(`wasm ${name}: exits 0 after ${min}+ checks (${count})`, r.status === 0 && count >= min, `status ${r.status} ${r.stderr}`);
  }

  // The engine: SIMD128 against its own scalar kernels, one model per weight type (exact numerics;
  // the fast ones are compared with llama.cpp in wasm.test.mjs).
  const CLI = path.join(ROOT, 'web/cli.mjs');
  const run = (file, fx, env, prompt = fx.prompt) => spawnSync('node', [CLI, 'run', '--model', file, '--prompt', prompt,
    '--temperature', '0', '--max-tokens', '12', '--json', '--ctx', '512', '--logits', '3', '--threads', '1'],
  { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, HEARTH_EXACT: '1', ...env } });
  const types = ['f32', 'f16', 'bf16', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q8_0'];
  const fixtures = goldenFixtures('qwen2-qwen3').concat(goldenFixtures('phi3-llama2-q'));
  for (const type of types) {
    const fx = fixtures.find((f) => f.name.endsWith(`-${type}`));
    if (!check(`wasm engine ${type}: a golden model`, !!fx, 'no fixture')) continue;
    const file = ensureModel(fx);
    const simd = run(file, fx, {}), scalar = run(file, fx, { HEARTH_NO_SIMD: '1' });
    if (!check(`wasm engine ${fx.name}: runs with and without SIMD`, simd.status === 0 && scalar.status === 0,
      simd.stderr + scalar.stderr)) continue;
    const a = JSON.parse(simd.stdout), b = JSON.parse(scalar.stdout);
    check(`wasm engine ${fx.name}: kernels simd128 / scalar`, a.stats.kernels === 'simd128' && b.stats.kernels === 'scalar',
      `${a.stats.kernels} / ${b.stats.kernels}`);
    check(`wasm engine ${fx.name}: simd128 greedy tokens equal scalar's (${b.tokens.length})`,
      JSON.stringify(a.tokens) === JSON.stringify(b.tokens), `${a.tokens} vs ${b.tokens}`);
    check(`wasm engine ${fx.name}: simd128 top-64 logits of 3 steps bit-equal scalar's`,
      JSON.stringify(a.logits) === JSON.stringify(b.logits), 'logits differ');
  }
  // A longer context: the SIMD128 attention row against the scalar one over a few hundred positions.
  const fx = fixtures.find((f) => f.name.endsWith('-q8_0'));
  if (fx) {
    const file = ensureModel(fx), prompt = Array(12).fill(fx.prompt).join(' ');
    const simd = run(file, fx, {}, prompt), scalar = run(file, fx, { HEARTH_NO_SIMD: '1' }, prompt);
    const a = simd.status === 0 && JSON.parse(simd.stdout), b = scalar.status === 0 && JSON.parse(scalar.stdout);
    check(`wasm engine ${fx.name}, ${b ? b.prompt_tokens.length : '?'}-token prompt: simd128 tokens and logits equal scalar's`,
      a && b && b.prompt_tokens.length > 150 && JSON.stringify([a.tokens, a.logits]) === JSON.stringify([b.tokens, b.logits]),
      simd.stderr + scalar.stderr);
  }
  done();
}
