#!/usr/bin/env node
// hearth serve's decode speed: `hearth bench` on the model, then a server with --parallel 8 and
// N = 1, 2, 4, 8 concurrent streams of --gen-tokens each (greedy, end-of-generation ignored by
// asking for the length: max_tokens); prints one JSON line per N with the aggregate tokens/s
// (all streams' tokens after their first, over the time from the first token to the last).
//   node bench/serve_bench.mjs --model F [--threads N] [--gen-tokens 64] [--streams 1,2,4,8] [--repetitions 3]
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HEARTH = path.join(ROOT, process.env.BUILD || 'build', 'hearth');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const model = arg('--model');
if (!model) { console.error('usage: node bench/serve_bench.mjs --model F [--threads N] [--gen-tokens 64] [--streams 1,2,4,8]'); process.exit(2); }
const threads = arg('--threads', '0'), gen = Number(arg('--gen-tokens', '64')), reps = Number(arg('--repetitions', '3'));
const counts = arg('--streams', '1,2,4,8').split(',').map(Number);

const bench = spawnSync(HEARTH, ['bench', '--model', model, '--threads', threads, '--gen-tokens', String(gen), '--prompt-tokens', '16',
  '--repetitions', String(reps)], { encoding: 'utf8' });
console.log(JSON.stringify({ what: 'hearth bench', ...JSON.parse(bench.stdout.trim().split('\n').at(-1)) }));

const server = spawn(HEARTH, ['serve', '--model', model, '--threads', threads, '--port', '0', '--parallel', String(Math.max(...counts)),
  '--ctx', String(gen + 128)]);
process.on('exit', () => server.kill('SIGTERM'));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));
const url = await new Promise((resolve, reject) => {
  let err = '';
  server.stderr.on('data', (d) => { err += d; const m = /on (http:\/\/[^ ]+?)\/? \(/.exec(err); if (m) resolve(m[1]); });
  server.on('exit', () => reject(new Error(err)));
});

// One stream: [time of its first token, time of its last, tokens, the engine's decode tok/s (timings)].
async function stream(i) {
  const r = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: `Stream ${i}: once upon a time`, max_tokens: gen, temperature: 0, stream: true,
      stream_options: { include_usage: true } }) });
  let first = 0, last = 0, tokens = 0, buf = '', engineTokS = 0;
  const dec = new TextDecoder();
  for await (const part of r.body) {
    buf += dec.decode(part, { stream: true });
    let k;
    while ((k = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, k); buf = buf.slice(k + 2);
      if (ev === 'data: [DONE]') continue;
      const c = JSON.parse(ev.slice(6));
      if (c.usage) tokens = c.usage.completion_tokens, engineTokS = c.timings?.predicted_per_second;
      else if (c.choices[0]?.text) { last = performance.now(); first ||= last; }
    }
  }
  return [first, last, tokens, engineTokS];
}

try {
  for (const n of counts) {
    let best = 0, engine = 0;
    for (let rep = 0; rep < reps; rep++) {
      const runs = await Promise.all(Array.from({ length: n }, (_, i) => stream(i)));
      const t0 = Math.min(...runs.map((r) => r[0])), t1 = Math.max(...runs.map((r) => r[1]));
      const tokens = runs.reduce((s, r) => s + r[2] - 1, 0);
      best = Math.max(best, tokens / ((t1 - t0) / 1000));
      engine = Math.max(engine, runs[0][3]);
    }
    console.log(JSON.stringify({ what: 'hearth serve', streams: n, gen_tokens: gen, aggregate_tok_s: Number(best.toFixed(2)),
      ...(n === 1 ? { engine_decode_tok_s: engine } : {}) }));
  }
} finally {
  server.kill('SIGTERM');
}
