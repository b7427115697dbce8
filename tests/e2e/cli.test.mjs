// The CLI as a user meets it: usage errors, bad files, real weights, JSON output.
import fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import os from 'node:os';
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { hearth, testModel, SHARED, ROOT } from './util.mjs';

const stories = path.join(SHARED, 'models/stories260K.gguf');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-cli-'));

let r = hearth([]);
check('no command is a usage error', r.status === 2, `status ${r.status}`);
r = hearth(['frobnicate']);
check('unknown command is a usage error', r.status === 2, `status ${r.status}`);
const extra = { run: ['--prompt', 'x'], tokenize: ['--text', 'x'], info: [], bench: [] };
for (const cmd of ['run', 'tokenize', 'info', 'bench']) {
  r = hearth([cmd, '--help']);
  check(`${cmd} --help`, r.status === 0 && r.stdout.includes('--model'), `status ${r.status}`);
  r = hearth([cmd, '--model', stories, '--no-such-flag']);
  check(`${cmd}: unknown flag is a usage error`, r.status === 2 && r.stderr.includes('--no-such-flag'), r.stderr);
  r = hearth([cmd, '--model', path.join(tmp, 'missing.gguf'), ...extra[cmd]]);
  check(`${cmd}: missing model file is a usage error`, r.status === 2 && r.stderr.includes('missing.gguf'), r.stderr);
}
r = hearth(['run', '--model', stories, '--prompt', 'x', '--max-tokens', 'lots']);
check('non-numeric value is a usage error', r.status === 2, r.stderr);
r = hearth(['run', '--model', stories]);
check('run without a prompt is a usage error', r.status === 2, r.stderr);

// Bad files: exit 1, one line naming the file and the problem.
const notGguf = path.join(tmp, 'notes.gguf');
fs.writeFileSync(notGguf, 'hello, this is not a model\n');
r = hearth(['info', '--model', notGguf]);
check('a non-GGUF file fails with one clear line', r.status === 1 && r.stderr.trim().split('\n').length === 1 &&
  r.stderr.includes('notes.gguf') && r.stderr.includes('not a GGUF file'), r.stderr);
const truncated = path.join(tmp, 'truncated.gguf');
fs.writeFileSync(truncated, fs.readFileSync(stories).subarray(0, 5000));
r = hearth(['run', '--model', truncated, '--prompt', 'Once']);
check('a truncated model fails with one clear line', r.status === 1 && r.stderr.includes('truncated.gguf') &&
  r.stderr.trim().split('\n').length === 1, r.stderr);
const cut = path.join(tmp, 'cut.gguf');
const full = fs.readFileSync(stories);
fs.writeFileSync(cut, full.subarray(0, full.length - 4096));
r = hearth(['run', '--model', cut, '--prompt', 'Once']);
check('a model missing tensor data names the tensor', r.status === 1 && r.stderr.includes('extends past end of file'), r.stderr);

// A K-quant tensor: readable file, clear refusal.
const tiny = testModel(['--arch', 'llama', '--type', 'f32', '--tokenizer', 'llama2'], 'llama-llama2-f32');
const kq = Buffer.from(fs.readFileSync(tiny));
const at = kq.indexOf('output_norm.weight') + 'output_norm.weight'.length + 4 + 8;
kq.writeUInt32LE(12, at); // q4_K
const kqFile = path.join(tmp, 'kquant.gguf');
fs.writeFileSync(kqFile, kq);
r = hearth(['info', '--model', kqFile]);
check('a K-quant tensor is refused with its name and type', r.status === 1 && r.stderr.includes('output_norm.weight') &&
  r.stderr.includes('q4_K'), r.stderr);

// Real weights: llama.cpp's greedy story, token for token.
const golden = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/golden/stories260K.json'), 'utf8'));
r = hearth(['run', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '200', '--temperature', '0', '--json']);
let out = r.status === 0 ? JSON.parse(r.stdout) : null;
check('stories260K prompt tokens equal llama.cpp', out && JSON.stringify(out.prompt_tokens) === JSON.stringify(golden.prompt_tokens),
  out ? `${out.prompt_tokens} vs ${golden.prompt_tokens}` : r.stderr);
const same = out ? out.tokens.findIndex((t, i) => t !== golden.generated[i]) : 0;
check('stories260K: 200 greedy tokens equal llama.cpp', out && same === -1 && out.tokens.length === golden.generated.length,
  out ? `first difference at ${same}, ${out.tokens.length} tokens` : r.stderr);
check('stories260K: the text equals llama.cpp', out && out.text === golden.generated_text, out ? JSON.stringify(out.text.slice(0, 80)) : '');
check('run --json has the stats', out && ['load_ms', 'prompt_tokens', 'prefill_ms', 'prefill_tok_s', 'gen_tokens',
  'decode_ms', 'decode_tok_s', 'ttft_ms'].every((k) => typeof out.stats[k] === 'number'), JSON.stringify(out && out.stats));
r = hearth(['run', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '200', '--temperature', '0']);
check('streamed text equals the JSON text', r.status === 0 && r.stdout === golden.generated_text + '\n', JSON.stringify(r.stdout.slice(0, 80)));

// Sampling is reproducible under a seed and varies across seeds.
const sample = (seed) => hearth(['run', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '40',
  '--temperature', '1', '--seed', String(seed), '--json']);
const a = sample(7), b = sample(7), c = sample(8);
check('same seed, same text', a.status === 0 && JSON.parse(a.stdout).text === JSON.parse(b.stdout).text, a.stderr);
check('other seed, other text', c.status === 0 && JSON.parse(a.stdout).text !== JSON.parse(c.stdout).text, c.stderr);

// --json-schema / --grammar (the options chat has): the completion parses and validates.
const schema = { type: 'object', properties: { name: { type: 'string', maxLength: 8 }, age: { type: 'integer' },
  tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 2 } }, required: ['name', 'age'], additionalProperties: false };
const schemaFile = path.join(tmp, 'schema.json'), grammarFile = path.join(tmp, 'answer.gbnf');
fs.writeFileSync(schemaFile, JSON.stringify(schema));
fs.writeFileSync(grammarFile, 'root ::= ( "yes" | "no" ) "." [ ]?\n');
const validate = new Ajv2020({ strict: false }).compile(schema);
for (const seed of [1, 2]) {
  r = hearth(['run', '--model', stories, '--prompt', 'Once upon a time', '--json-schema', schemaFile, '--max-tokens', '200',
    '--temperature', '1', '--seed', String(seed), '--json']);
  out = r.status === 0 ? JSON.parse(r.stdout) : null;
  let value;
  try { value = JSON.parse(out.text); } catch { /* judged below */ }
  check(`run --json-schema seed ${seed}: the text parses and validates`, out && out.stop === 'eog' && validate(value),
    out ? `${JSON.stringify(out.text)} (${out.stop})` : r.stderr);
}
r = hearth(['run', '--model', stories, '--prompt', 'Once upon a time', '--grammar', grammarFile, '--temperature', '1', '--json']);
out = r.status === 0 ? JSON.parse(r.stdout) : null;
check('run --grammar: the text matches the grammar', out && /^(yes|no)\. ?$/.test(out.text) && out.stop === 'eog',
  out ? JSON.stringify(out) : r.stderr);
r = hearth(['run', '--model', stories, '--prompt', 'x', '--grammar', grammarFile, '--json-schema', schemaFile]);
check('run --grammar with --json-schema is a usage error', r.status === 2 && r.stderr.includes('not both'), r.stderr);
fs.writeFileSync(grammarFile, 'root ::= missing\n');
r = hearth(['run', '--model', stories, '--prompt', 'x', '--grammar', grammarFile]);
check('run --grammar with a broken grammar names the file', r.status === 1 && r.stderr.includes(grammarFile), r.stderr);

// The context limit is an error, not a silent truncation.
r = hearth(['run', '--model', stories, '--ctx', '8', '--prompt', 'Once upon a time there was a girl who liked to play']);
check('a prompt longer than the context is an error', r.status === 1 && r.stderr.includes('context'), r.stderr);
r = hearth(['run', '--model', stories, '--ctx', '0', '--prompt', 'x']);
check('--ctx 0 is refused', r.status !== 0, r.stderr);

const vocabOnly = testModel(['--arch', 'llama', '--type', 'f32', '--tokenizer', 'llama3', '--vocab-only'], 'vocab-llama3');
r = hearth(['tokenize', '--model', vocabOnly, '--text', 'Hello world', '--json']);
check('tokenize reads a vocabulary-only file', r.status === 0 && JSON.stringify(JSON.parse(r.stdout).tokens) === '[9906,1917]',
  r.stdout + r.stderr);
r = hearth(['run', '--model', vocabOnly, '--prompt', 'Hello']);
check('run refuses a vocabulary-only file clearly', r.status === 1 && r.stderr.includes('token_embd.weight'), r.stderr);

r = hearth(['info', '--model', stories]);
check('info describes the model', r.status === 0 && /architecture:\s+llama/.test(r.stdout) && /layers:\s+5/.test(r.stdout) &&
  /tokenizer:\s+llama/.test(r.stdout) && /chat template:\s+no/.test(r.stdout), r.stdout + r.stderr);

r = hearth(['bench', '--model', stories, '--prompt-tokens', '16', '--gen-tokens', '8', '--threads', '2']);
out = r.status === 0 ? JSON.parse(r.stdout) : null;
check('bench prints one JSON line', out && out.prefill_tok_s > 0 && out.decode_tok_s > 0 && out.threads === 2 &&
  out.peak_rss_mb > 0 && r.stdout.trim().split('\n').length === 1, r.stdout + r.stderr);

// --bandwidth: stories260K's tensor table (F32; 5 layers of q 64x64, k and v 64x32, o 64x64, gate/up/down
// 64x172; the 512x64 token table tied as the output matrix) makes a decode step read
// 5 * (4096 + 2*2048 + 4096 + 3*11008) * 4 + 512*64*4 = 1,037,312 bytes.
r = hearth(['bench', '--model', stories, '--prompt-tokens', '4', '--gen-tokens', '4', '--threads', '2', '--bandwidth']);
out = r.status === 0 ? JSON.parse(r.stdout).bandwidth : null;
check('bench --bandwidth measures the read bandwidth and the bytes a decode step reads', out && out.read_gb_s > 0 &&
  out.decode_bytes_per_token === 1037312 && Math.abs(out.decode_share - out.decode_gb_s / out.read_gb_s) < 0.01 &&
  /^(avx512|avx2|scalar)$/.test(out.loads), r.stdout + r.stderr);

fs.rmSync(tmp, { recursive: true, force: true });
done();
