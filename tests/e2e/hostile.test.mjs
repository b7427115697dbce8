// Hostile model files through the whole CLI (GGUF header, tokenizer
// metadata, hyper-parameters, weights): random byte changes must end in a
// result or in one clear error, never a crash. Runs the ASan/UBSan build
// (make asan) so that an out-of-bounds read fails the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { check, done } from '../lib.mjs';
import { BUILD, testModel } from './util.mjs';

const asan = path.join(BUILD, 'asan/hearth');
if (!check('ASan build of the CLI exists (make asan)', fs.existsSync(asan), asan)) {
  done();
  process.exit();
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-hostile-'));
const models = [
  testModel(['--arch', 'llama', '--type', 'q8_0', '--tokenizer', 'llama2'], 'hostile-llama-llama2-q8_0'),
  testModel(['--arch', 'qwen2', '--type', 'q4_1', '--tokenizer', 'qwen3'], 'hostile-qwen2-qwen3-q4_1'),
  testModel(['--arch', 'phi3', '--type', 'f16', '--tokenizer', 'llama2', '--rope-factors'], 'hostile-phi3-f16'),
];

let seed = 20261125;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;

for (const model of models) {
  const src = fs.readFileSync(model);
  // Most of a test model's header is tokenizer metadata; aim most changes there.
  const header = Math.min(src.length, 2_000_000);
  let results = 0, errors = 0;
  const bad = [];
  for (let i = 0; i < 60; i++) {
    const b = Buffer.from(src);
    const n = 1 + Math.floor(rnd() * 8);
    for (let k = 0; k < n; k++) {
      const at = Math.floor(rnd() * (rnd() < 0.8 ? header : b.length));
      b[at] = Math.floor(rnd() * 256);
    }
    const file = path.join(tmp, `mutant-${i}.gguf`);
    fs.writeFileSync(file, b);
    const r = spawnSync(asan, ['run', '--model', file, '--prompt', 'The keeper climbed the stairs.', '--max-tokens', '3',
      '--temperature', '0', '--ctx', '64'], { encoding: 'utf8', timeout: 120000 });
    const clean = !/Sanitizer|runtime error/.test(r.stderr);
    if (r.status === 0 && clean) results++;
    else if (r.status === 1 && clean && r.stderr.startsWith('hearth: ')) errors++;
    else bad.push(`mutant ${i}: status ${r.status} ${r.signal || ''} ${r.stderr.slice(0, 300)}`);
    fs.unlinkSync(file);
  }
  check(`${path.basename(model)}: 60 corrupted copies give a result or one clear error (${results} ran, ${errors} refused)`,
    bad.length === 0, bad.join('\n'));
}
fs.rmSync(tmp, { recursive: true, force: true });
done();
