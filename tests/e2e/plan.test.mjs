// The WebGPU plan (src/gpu/plan.c) of real GGUF files: makes the golden test
// models (every architecture x weight type; Phi-3 with rope factors, Llama 3
// with rope frequencies, Qwen2 tied with biases; qwen3, gemma3, gemma2,
// smollm3) and runs build/test_plan on
// them (tests/unit/test_plan.c: a recording GPU host, the engine loaded with
// no_cpu_weights as in the browser, every option set and limit profile, the
// upload byte for byte), then the ASan/UBSan build (make asan) on a few.
// `node tests/e2e/plan.test.mjs NAME...` picks fixtures by name.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { BUILD } from './util.mjs';
import { ensureModel, goldenFixtures } from './golden_lib.mjs';

// (and issue 16's architectures: QK norms, post norms, sliding windows, soft-capping, layers without RoPE)
const DEFAULT = /^(llama-llama2-|phi3-llama2-ropefactors-|qwen2-qwen3-|qwen3-|gemma3-|gemma2-|smollm3-)|^llama-llama3-q4_0$/;
const ASAN = ['llama-llama2-q4_1', 'phi3-llama2-ropefactors-q8_0', 'qwen2-qwen3-bf16'];
const names = process.argv.slice(2);
const fixtures = goldenFixtures().filter((fx) => (names.length ? names.includes(fx.name) : DEFAULT.test(fx.name)));
check(`plan test models chosen (${fixtures.length})`, fixtures.length >= (names.length ? names.length : 25),
  `${fixtures.length} fixtures`);

const files = new Map();
for (const fx of fixtures) {
  try {
    files.set(fx.name, ensureModel(fx));
  } catch (e) {
    check(`${fx.name}: test model made`, false, e.message);
  }
}

// Runs one test_plan binary and relays its lines (tests/run.sh counts them).
function run(bin, models, label) {
  if (!fs.existsSync(bin)) {
    console.log(`# ${label}: ${bin} not built (make ${label === 'asan' ? 'asan' : 'unit'})`);
    return;
  }
  const r = spawnSync(bin, models, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = (r.stdout || '').split('\n').filter((l) => l);
  for (const l of lines) console.log(label === 'asan' && /^(not )?ok - /.test(l) ? l.replace(/^((?:not )?ok - )/, '$1(asan) ') : l);
  const failed = lines.some((l) => l.startsWith('not ok - '));
  if (failed) process.exitCode = 1;
  check(`test_plan (${label}) on ${models.length} models exits cleanly`, r.status === 0 || failed,
    `status ${r.status} ${r.signal || ''}: ${(r.stderr || '').slice(-2000)}`);
}

run(path.join(BUILD, 'test_plan'), [...files.values()], 'native');
run(path.join(BUILD, 'asan/test_plan'), ASAN.filter((n) => files.has(n)).map((n) => files.get(n)), 'asan');
const failedBefore = process.exitCode;
done();
if (failedBefore) process.exitCode = 1;
