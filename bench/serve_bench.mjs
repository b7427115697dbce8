#!/usr/bin/env node
// hearth serve's decode speed: `hearth bench` on the model, then a server with --parallel 8 and
// N = 1, 2, 4, 8 concurrent streams of --gen-tokens each (greedy, end-of-generation ignored by
// asking for the length: max_tokens); prints one JSON line per N with, best of the repetitions
// (and each of them):
// - aggregate_tok_s: all streams' tokens over the time from sending the requests to the last
//   token: what the clients get, prompts included;
// - decode_tok_s: the tokens that arrive while all N streams are decoding (from the last stream's
//   first token to the first stream's last one) over that time: the batched decode rate alone.
// (Before, one figure counted the tokens after each stream's first from the earliest first token
// on: a server that evaluates prompts one slot at a time was charged for the prompts after the
// first, one that evaluates them together for none.)
// With --llama-server PATH, llama.cpp's server runs beside it on the same file with the same
// threads, slots and context per slot (-c is all slots' together there), and each repetition
// measures both, one after the other, so that both see the same load on a shared machine.
//   node bench/serve_bench.mjs --model F [--threads N] [--gen-tokens 64] [--streams 1,2,4,8] [--repetitions 3]
//                              [--llama-server build/bin/llama-server]
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HEARTH = path.join(ROOT, process.env.BUILD || 'build', 'hearth');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const model = arg('--model');
if (!model) { console.error('usage: node bench/serve_bench.mjs --model F [--threads N] [--gen-tokens 64] [--streams 1,2,4,8]'); process.exit(2); }
const threads = arg('--threads', '0'), gen = Number(arg('--gen-tokens', '64')), reps = Number(arg('--repetitions', '3'));
const counts = arg('--streams', '1,2,4,8').split(',').map(Number);
const llamaServer = arg('--llama-server');
const slots = Math.max(...counts), ctx = gen + 128;

const bench = spawnSync(HEARTH, ['bench', '--model', model, '--threads', threads, '--gen-tokens', String(gen), '--prompt-tokens', '16',
  '--repetitions', String(reps)], { encoding: 'utf8' });
console.log(JSON.stringify({ what: 'hearth bench', ...JSON.parse(bench.stdout.trim().split('\n').at(-1)) }));

const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGTERM')));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));
const server = spawn(HEARTH, ['serve', '--model', model, '--threads', threads, '--port', '0', '--parallel', String(slots),
  '--ctx', String(ctx)]);
children.push(server);
const servers = [{ name: 'hearth serve', url: await new Promise((resolve, reject) => {
  let err = '';
  server.stderr.on('data', (d) => { err += d; const m = /on (http:\/\/[^ ]+?)\/? \(/.exec(err); if (m) resolve(m[1]); });
  server.on('exit', () => reject(new Error(err)));
}) }];

if (llamaServer) {
  const port = await new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
  const t = threads === '0' ? [] : ['-t', threads, '-tb', threads];
  const ls = spawn(llamaServer, ['-m', model, ...t, '-np', String(slots), '-c', String(ctx * slots), '--host', '127.0.0.1',
    '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(ls);
  let log = '';
  ls.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  for (;;) { /* ready when /health says 200 (503 while loading) */
    if (ls.exitCode !== null) throw new Error(`llama-server exited: ${log}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  servers.push({ name: 'llama-server', url });
}

// One stream: [time its request went, the times of its tokens, its tokens, the engine's decode tok/s (timings)].
async function stream(url, i) {
  const sent = performance.now();
  const r = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: `Stream ${i}: once upon a time`, max_tokens: gen, temperature: 0, stream: true,
      stream_options: { include_usage: true } }) });
  const times = [];
  let tokens = 0, buf = '', engineTokS = 0;
  const dec = new TextDecoder();
  for await (const part of r.body) {
    buf += dec.decode(part, { stream: true });
    let k;
    while ((k = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, k); buf = buf.slice(k + 2);
      if (ev === 'data: [DONE]') continue;
      const c = JSON.parse(ev.slice(6));
      if (c.usage) tokens = c.usage.completion_tokens, engineTokS = c.timings?.predicted_per_second;
      else if (c.choices[0]?.text) times.push(performance.now());
    }
  }
  return { sent, times, tokens, engineTokS };
}

// The two rates of one run of n streams (see the top).
function rates(runs) {
  const sent = Math.min(...runs.map((r) => r.sent)), end = Math.max(...runs.map((r) => r.times.at(-1)));
  const aggregate = runs.reduce((sum, r) => sum + r.tokens, 0) / ((end - sent) / 1000);
  const from = Math.max(...runs.map((r) => r.times[0])), to = Math.min(...runs.map((r) => r.times.at(-1)));
  /* tokens after `from` up to `to`: each stream's tokens in that time */
  const inside = runs.reduce((sum, r) => sum + r.times.filter((t) => t > from && t <= to).length, 0);
  const decode = to > from ? inside / ((to - from) / 1000) : NaN;
  return [Number(aggregate.toFixed(2)), Number(decode.toFixed(2))];
}

try {
  for (const n of counts) {
    const all = servers.map(() => []), engine = servers.map(() => 0);
    for (let rep = 0; rep < reps; rep++) {
      for (const [k, s] of servers.entries()) {
        const runs = await Promise.all(Array.from({ length: n }, (_, i) => stream(s.url, i)));
        all[k].push(rates(runs));
        engine[k] = Math.max(engine[k], runs[0].engineTokS ?? 0);
      }
    }
    for (const [k, s] of servers.entries())
      console.log(JSON.stringify({ what: s.name, streams: n, gen_tokens: gen,
        aggregate_tok_s: Math.max(...all[k].map((r) => r[0])), decode_tok_s: Math.max(...all[k].map((r) => r[1])),
        runs: all[k], ...(n === 1 ? { engine_decode_tok_s: engine[k] } : {}) }));
  }
} finally {
  children.forEach((c) => c.kill('SIGTERM'));
}
