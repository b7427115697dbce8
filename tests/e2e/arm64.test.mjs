// The ARM64 build (`make arm64`: build-arm64/, Debian's cross compiler) run under qemu-user for
// both CPU feature sets: -cpu max (dotprod and i8mm: hearth picks the neon-i8mm kernels) and
// -cpu cortex-a53 (plain NEON: the neon kernels). Each checks the kernels hearth picks, runs the
// kernel unit tests (every ARM level against the scalar reference and llama.cpp's pinned bits)
// and the golden test (tests/e2e/golden.test.mjs, SIMD and scalar) on llama.cpp's stored outputs.
// CI runs a subset (the unit tests under max, where they test plain NEON too; the golden test on
// the Q4_0..Q8_0 models of one architecture and one Q4_K_M mixture); HEARTH_ARM64_ALL=1 runs the
// unit tests under both CPUs and every golden fixture under both (slow: the w896 models take a
// minute each under emulation).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { ROOT } from './util.mjs';
import { ensureModel, goldenFixtures } from './golden_lib.mjs';

const BUILD = 'build-arm64';
const ALL = process.env.HEARTH_ARM64_ALL === '1';
const qemu = (cpu) => ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', '-cpu', cpu];
const CPUS = [
  { cpu: 'max', kernels: 'neon-i8mm', units: true, golden: ['llama-llama2-q', 'kq-phi3-llama2-e256-q4_k_m'] },
  { cpu: 'cortex-a53', kernels: 'neon', units: ALL, golden: ['kq-phi3-llama2-e256-q4_k_m'] },
];

// The lines of a test program run for one CPU, its checks renamed after the CPU.
function relay(cpu, what, r) {
  const lines = `${r.stdout || ''}`.split('\n').filter(Boolean);
  let reported = 0;
  for (const l of lines) {
    const m = /^(not )?ok - (.*)$/.exec(l);
    if (!m) continue;
    reported++;
    check(`arm64 ${cpu}: ${m[2]}`, !m[1], '');
  }
  check(`arm64 ${cpu}: ${what} ran (${reported} checks)`, r.status === 0 && reported > 0,
    `status ${r.status}: ${(r.stderr || '').slice(-2000)}`);
}

const haveQemu = spawnSync('qemu-aarch64', ['--version']).status === 0;
const haveCC = spawnSync('aarch64-linux-gnu-gcc', ['--version']).status === 0;
if (!haveQemu || !haveCC) {
  console.log('# skipped: no aarch64-linux-gnu-gcc or qemu-aarch64 (tools/setup.sh installs them)');
} else if (check('make arm64 built hearth and test_kernels',
  ['hearth', 'test_kernels'].every((f) => fs.existsSync(path.join(ROOT, BUILD, f))), 'run make arm64')) {
  const model = ensureModel(goldenFixtures('llama-llama2-q4_0')[0]);
  for (const c of CPUS) {
    const run = spawnSync(qemu(c.cpu)[0], [...qemu(c.cpu).slice(1), path.join(ROOT, BUILD, 'hearth'), 'run', '--model', model,
      '--prompt', 'Once', '--max-tokens', '1', '--temperature', '0', '--json'], { encoding: 'utf8' });
    const kernels = run.status === 0 ? JSON.parse(run.stdout).stats.kernels : run.stderr;
    check(`arm64 ${c.cpu}: hearth picks the ${c.kernels} kernels`, kernels === c.kernels, kernels);
    if (c.units) {
      relay(c.cpu, 'test_kernels', spawnSync(qemu(c.cpu)[0], [...qemu(c.cpu).slice(1), path.join(ROOT, BUILD, 'test_kernels')],
        { encoding: 'utf8', maxBuffer: 1 << 26 }));
    }
    const env = { ...process.env, BUILD, HEARTH_EXEC: qemu(c.cpu).join(' ') };
    for (const only of ALL ? [''] : c.golden) {
      relay(c.cpu, `golden.test.mjs ${only || '(all)'}`, spawnSync('node', [path.join(ROOT, 'tests/e2e/golden.test.mjs'),
        ...(only ? [only] : [])], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 26 }));
    }
  }
}
done();
