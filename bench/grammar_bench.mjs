#!/usr/bin/env node
// What constrained output costs per token (issue 20 asks <= 10% of a decode
// step with a typical schema): for each schema kind, `hearth bench
// --json-schema S --answer A` times a decode step of the model and, in the
// same run, the grammar's mask + accept per token over a realistic answer
// (tokenized by the model's tokenizer, fed to a fresh matcher as the
// generation loop does; the vocabulary trie is built once, as a chat builds
// it). overhead_pct = mask per token / decode step: the mask runs between two
// steps on one thread, so this is the slowdown. The mask is timed in the
// thread's CPU time (what other processes' load disturbs least); the decode
// step in wall time, best of --reps. On a shared machine the step is slower
// than when idle, so --step-ms 1:13.9,2:9.9 also gives the overhead against
// steps measured idle (overhead_idle_pct). Default model: the
// Qwen2.5-0.5B-shaped Q4_0 bench model (151,646-token vocabulary):
//   node tools/make_test_model.mjs --arch qwen2 --tokenizer qwen3 --type q4_0 --shape qwen2.5-0.5b --out F
//
//   node bench/grammar_bench.mjs [--model F] [--threads 1,2] [--reps N] [--step-ms T:MS,...] [KIND...]
//
// Prints one JSON object: the CPU, the kernels, and per kind and thread count
// the decode step, the mask per token (mean, first step, slowest step) and
// the overhead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
let model = path.join(ROOT, 'build/models/bench/qwen2.5-0.5b-q4_0.gguf'), threads = [1, 2], reps = 3;
const only = [], idleStep = {};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--model') model = args[++i];
  else if (args[i] === '--threads') threads = args[++i].split(',').map(Number);
  else if (args[i] === '--reps') reps = Number(args[++i]);
  else if (args[i] === '--step-ms') for (const p of args[++i].split(',')) { const [t, ms] = p.split(':').map(Number); idleStep[t] = ms; }
  else only.push(args[i]);
}

const str = { type: 'string' };
const CASES = {
  // unbounded strings, an integer, a boolean, an array of strings
  typical: {
    schema: { type: 'object', properties: { name: str, age: { type: 'integer' }, email: str, member: { type: 'boolean' }, tags: { type: 'array', items: str } }, required: ['name', 'age'] },
    answer: { name: 'Ada Lovelace', age: 36, email: 'ada@example.org', member: true, tags: ['mathematics', 'poetry', 'engines'] },
  },
  // strings with maxLength (every character a new grammar state)
  max_length: {
    schema: { type: 'object', properties: { title: { type: 'string', maxLength: 24 }, start: { type: 'string', minLength: 10, maxLength: 10 }, attendees: { type: 'array', items: { type: 'string', maxLength: 12 }, maxItems: 4 }, room: { type: 'string', maxLength: 8 } }, required: ['title', 'start'] },
    answer: { title: 'Quarterly planning', start: '2025-03-14', attendees: ['Ana Lima', 'Bo Chen', 'Kofi'], room: 'B-204' },
  },
  enums: {
    schema: { type: 'object', properties: { label: { enum: ['positive', 'negative', 'neutral'] }, priority: { enum: ['low', 'medium', 'high', 'urgent'] }, channel: { enum: ['email', 'phone', 'chat', 'in person'] }, flags: { type: 'array', items: { enum: ['spam', 'vip', 'repeat'] }, maxItems: 3 } }, required: ['label', 'priority'] },
    answer: { label: 'negative', priority: 'urgent', channel: 'phone', flags: ['vip', 'repeat'] },
  },
  arrays: {
    schema: { type: 'object', properties: { lines: { type: 'array', minItems: 1, maxItems: 4, items: { type: 'object', properties: { sku: str, qty: { type: 'integer' } }, required: ['sku', 'qty'] } }, scores: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 6 } }, required: ['lines', 'scores'] },
    answer: { lines: [{ sku: 'A-1001', qty: 2 }, { sku: 'B-77', qty: 10 }, { sku: 'C-3', qty: 1 }], scores: [4, 8, 15, 16, 23] },
  },
  numbers: {
    schema: { type: 'object', properties: { lat: { type: 'number' }, lon: { type: 'number' }, elevation: { type: 'integer' }, readings: { type: 'array', items: { type: 'number' }, maxItems: 5 } }, required: ['lat', 'lon'] },
    answer: { lat: 59.9139, lon: 10.7522, elevation: 23, readings: [12.5, -3.25, 1e-3, 1013.25] },
  },
};

// A model's JSON: a space after ':' and ',' (what chat models write), so the grammar's ws is used.
const text = (v) => JSON.stringify(v).replace(/([,:])(?=["\[{\-\d tfn])/g, '$1 ');

const cpu = (() => {
  try { return fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model; } catch { return os.cpus()[0]?.model; }
})();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-grammar-bench-'));
const results = [];
let kernels = null;
try {
  for (const [kind, c] of Object.entries(CASES)) {
    if (only.length && !only.includes(kind)) continue;
    const schema = path.join(tmp, `${kind}.json`), answer = path.join(tmp, `${kind}.txt`);
    fs.writeFileSync(schema, JSON.stringify(c.schema));
    fs.writeFileSync(answer, text(c.answer));
    for (const t of threads) {
      const r = spawnSync(path.join(ROOT, 'build/hearth'), ['bench', '--model', model, '--threads', String(t), '--prompt-tokens', '16',
        '--gen-tokens', '32', '--repetitions', String(reps), '--json-schema', schema, '--answer', answer], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`hearth bench (${kind}, ${t} threads): ${r.stderr}`);
      const b = JSON.parse(r.stdout);
      kernels = b.kernels;
      const step = b.decode_ms / b.gen_tokens;
      results.push({ kind, threads: b.threads, decode_ms_per_token: +step.toFixed(3), answer_tokens: b.grammar.answer_tokens,
        mask_ms_per_token: b.grammar.ms_per_token, first_ms: b.grammar.first_ms, max_ms: b.grammar.max_ms,
        overhead_pct: b.grammar.overhead_pct,
        ...(idleStep[t] ? { idle_step_ms: idleStep[t], overhead_idle_pct: +(100 * b.grammar.ms_per_token / idleStep[t]).toFixed(1) } : {}) });
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'grammar', model: path.basename(model), cpu, cores: os.cpus().length, kernels, results }, null, 1));
