#!/usr/bin/env node
// The Node entry point of the WebAssembly build: the native CLI's `run` and
// `tokenize` (same flags, same --json shape) over web/hearth.mjs.
import fs from 'node:fs';
import { Hearth, HearthError, nodeFileSource } from './hearth.mjs';

const COMMANDS = {
  run: {
    usage: '--model F (--prompt TEXT | --prompt-file F) [options]',
    opts: {
      '--model': ['string', 'GGUF model file (first part of a split model)'],
      '--prompt': ['string', 'text to complete'],
      '--prompt-file': ['string', 'read the prompt from a file'],
      '--max-tokens': ['int', 'tokens to generate at most (default 128)'],
      '--temperature': ['float', '0 = greedy (default 0.8)'],
      '--top-k': ['int', 'keep the K most likely tokens, 0 = off (default 40)'],
      '--top-p': ['float', 'nucleus sampling, 1 = off (default 0.95)'],
      '--min-p': ['float', 'drop tokens below P x the best one, 0 = off (default 0.05)'],
      '--repeat-penalty': ['float', 'penalise the last 64 tokens, 1 = off (default 1)'],
      '--seed': ['u64', 'random seed for sampling'],
      '--threads': ['int', 'CPU threads (only 1 for now)'],
      '--ctx': ['int', 'context size in tokens (default: min(model, 4096))'],
      '--json': ['flag', 'print one JSON object with tokens, text and timings'],
      '--logits': ['int', 'with --json: top-64 logits of the first N steps'],
    },
  },
  tokenize: {
    usage: '--model F (--text T | --text-file F) [--special] [--json]',
    opts: {
      '--model': ['string', 'GGUF model file (its tokenizer is used)'],
      '--text': ['string', 'text to tokenize'],
      '--text-file': ['string', 'read the text from a file'],
      '--special': ['flag', 'parse special-token text such as <|im_end|> as special tokens'],
      '--json': ['flag', 'print {"tokens":[...]} instead of one id per line'],
    },
  },
};

class UsageError extends Error {}

function usage(name) {
  const c = COMMANDS[name];
  let s = `usage: node web/cli.mjs ${name} ${c.usage}\n`;
  for (const [k, [t, help]] of Object.entries(c.opts)) s += `  ${(t === 'flag' ? k : `${k} ${t.toUpperCase()}`).padEnd(26)}${help}\n`;
  return s;
}

function parse(name, argv) {
  const spec = COMMANDS[name].opts, out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { process.stdout.write(usage(name)); process.exit(0); }
    const eq = a.indexOf('=');
    const key = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const s = spec[key];
    if (!s) throw new UsageError(`unknown option ${a}`);
    if (s[0] === 'flag') { out[key] = true; continue; }
    const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`${key} needs a value`);
    if (s[0] === 'string') out[key] = v;
    else if (s[0] === 'u64') {
      if (!/^\d+$/.test(v) || BigInt(v) >= 1n << 64n) throw new UsageError(`${key}: not an unsigned 64-bit integer: ${v}`);
      out[key] = BigInt(v);
    } else {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || (s[0] === 'int' && !Number.isInteger(n))) throw new UsageError(`${key}: not a number: ${v}`);
      out[key] = n;
    }
  }
  return out;
}

function textArg(o, a, b) {
  if (!o[a] === !o[b] && !(o[a] === '' && !o[b])) throw new UsageError(`give exactly one of ${a} and ${b}`);
  return o[b] !== undefined ? fs.readFileSync(o[b], 'utf8') : o[a];
}

async function open(o, opts) {
  if (!o['--model']) throw new UsageError('--model is required');
  const h = await Hearth.create();
  return h.load(await nodeFileSource(o['--model']), opts);
}

// The 64 largest logits as [id, value] (the first index on ties, as the native CLI).
function top64(l) {
  const top = [];
  for (let i = 0; i < l.length; i++) {
    if (top.length < 64) top.push(i);
    else if (l[i] > l[top[63]]) top[63] = i;
    else continue;
    for (let j = top.length - 1; j > 0 && l[top[j]] > l[top[j - 1]]; j--) [top[j], top[j - 1]] = [top[j - 1], top[j]];
  }
  return top.map((i) => [i, l[i]]);
}

async function run(o) {
  const prompt = textArg(o, '--prompt', '--prompt-file');
  const maxTokens = o['--max-tokens'] ?? 128;
  if (maxTokens < 0) throw new UsageError('--max-tokens must not be negative');
  if (o['--ctx'] !== undefined && o['--ctx'] <= 0) throw new UsageError('--ctx must be positive');
  if (o['--threads'] !== undefined && o['--threads'] > 1) console.error('warning: the wasm build runs one thread for now');
  const json = !!o['--json'];
  const h = await open(o, { contextSize: o['--ctx'] || 0, noSimd: !!process.env.HEARTH_NO_SIMD });
  let written = 0;
  const logitSteps = o['--logits'] ?? 0, topLogits = [];
  if (logitSteps < 0) throw new UsageError('--logits must not be negative');
  try {
    const ptoks = h.promptTokens(prompt);
    const r = h.generate(ptoks, {
      maxTokens, temperature: o['--temperature'] ?? 0.8, topK: o['--top-k'] ?? 40, topP: o['--top-p'] ?? 0.95,
      minP: o['--min-p'] ?? 0.05, repeatPenalty: o['--repeat-penalty'] ?? 1, seed: o['--seed'] ?? 0x9e3779b97f4a7c15n,
      onToken: (id, t, logits) => {
        if (json && topLogits.length < logitSteps) topLogits.push(top64(logits()));
        if (!json && t) { process.stdout.write(t); written += t.length; }
      },
    });
    if (!json) {
      process.stdout.write(`${r.text.slice(written)}\n`); // and what the end flushed
      if (r.stop === 'context') console.error(`hearth: stopped: the context of ${h.contextSize} tokens is full`);
      return 0;
    }
    const s = r.stats, decoded = s.gen_tokens > 1 ? s.gen_tokens - 1 : 0;
    const round = (x) => Math.round(x * 100) / 100;
    console.log(JSON.stringify({
      prompt_tokens: ptoks, tokens: r.tokens, text: r.text, stop: r.stop,
      stats: {
        load_ms: round(h.loadMs), prompt_tokens: s.prompt_tokens, prefill_ms: round(s.prefill_ms),
        prefill_tok_s: round(s.prefill_ms > 0 ? s.prompt_tokens * 1e3 / s.prefill_ms : 0), gen_tokens: s.gen_tokens,
        decode_ms: round(s.decode_ms), decode_tok_s: round(s.decode_ms > 0 ? decoded * 1e3 / s.decode_ms : 0),
        ttft_ms: round(s.ttft_ms), threads: h.threads, kernels: h.kernels, backend: 'wasm-cpu',
      },
      ...(logitSteps ? { logits: topLogits } : {}),
    }));
    return 0;
  } finally { h.unload(); }
}

async function tokenize(o) {
  const text = textArg(o, '--text', '--text-file');
  const h = await open(o, { vocabOnly: true });
  try {
    const ids = h.tokenize(text, { special: !!o['--special'] });
    process.stdout.write(o['--json'] ? `${JSON.stringify({ tokens: ids })}\n` : ids.map((i) => `${i}\n`).join(''));
    return 0;
  } finally { h.unload(); }
}

const [cmd, ...rest] = process.argv.slice(2);
if (!COMMANDS[cmd]) {
  process.stderr.write(`usage: node web/cli.mjs (run | tokenize) [options]; --help after a command lists its options\n`);
  process.exit(2);
}
try {
  process.exitCode = await (cmd === 'run' ? run : tokenize)(parse(cmd, rest));
} catch (e) {
  if (e instanceof UsageError) { process.stderr.write(`hearth ${cmd}: ${e.message}\n${usage(cmd)}`); process.exitCode = 2; }
  else if (e instanceof HearthError) { process.stderr.write(`hearth: ${e.message}\n`); process.exitCode = 1; }
  else throw e;
}
