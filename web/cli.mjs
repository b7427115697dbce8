#!/usr/bin/env node
// The Node entry point of the WebAssembly build: the native CLI's `run`,
// `chat`, `tokenize` and `bench` (same flags, same --json shapes) over
// web/hearth.mjs, the code the browser's engine worker runs, plus
// --backend cpu|webgpu.
import fs from 'node:fs';
import os from 'node:os';
import readline from 'node:readline';
import { Hearth, HearthError, nodeFileSource } from './hearth.mjs';

const ENGINE_OPTS = {
  '--threads': ['int', 'CPU threads (default: all cores)'],
  '--ctx': ['int', 'context size in tokens (default: min(model, 4096))'],
  '--backend': ['string', 'cpu (WebAssembly, default), webgpu, or auto (webgpu, else cpu)'],
};
// Help texts with the core's defaults (src/sampler.c, the one place they are
// written), filled in by usage().
const SAMPLING_OPTS = {
  '--temperature': ['float', (d) => `0 = greedy (default ${d.temperature})`],
  '--top-k': ['int', (d) => `keep the K most likely tokens, 0 = off (default ${d.topK})`],
  '--top-p': ['float', (d) => `nucleus sampling, 1 = off (default ${d.topP})`],
  '--min-p': ['float', (d) => `drop tokens below P x the best one, 0 = off (default ${d.minP})`],
  '--repeat-penalty': ['float', (d) => `penalise the last ${d.repeatLastN} tokens, 1 = off (default ${d.repeatPenalty})`],
  '--seed': ['u64', () => 'random seed for sampling (same seed, same text)'],
};

const COMMANDS = {
  run: {
    usage: '--model F (--prompt TEXT | --prompt-file F) [options]',
    opts: {
      '--model': ['string', 'GGUF model file (first part of a split model)'],
      '--prompt': ['string', 'text to complete'],
      '--prompt-file': ['string', 'read the prompt from a file'],
      '--max-tokens': ['int', 'tokens to generate at most (default 128)'],
      ...SAMPLING_OPTS,
      ...ENGINE_OPTS,
      '--json': ['flag', 'print one JSON object with tokens, text and timings'],
      '--logits': ['int', 'with --json: top-64 logits of the first N steps'],
    },
  },
  chat: {
    usage: '--model F [--system S] [--message TEXT ...] [--json] [options]',
    opts: {
      '--model': ['string', 'GGUF model file'],
      '--system': ['string', 'system message'],
      '--message': ['list', 'a user turn, answered in order (repeatable); none: interactive'],
      '--json': ['flag', 'with --message: print one JSON object with every turn and its stats'],
      '--max-tokens': ['int', 'answer length limit (default 512)'],
      '--stop': ['list', 'also stop an answer at this text (repeatable)'],
      '--chat-template-kwargs': ['string', 'variables for the chat template, e.g. \'{"enable_thinking": false}\' (Qwen3)'],
      '--grammar': ['string', 'constrain every answer to this GBNF grammar (a file)'],
      '--json-schema': ['string', 'constrain every answer to JSON valid for this JSON Schema (a file)'],
      ...SAMPLING_OPTS,
      ...ENGINE_OPTS,
    },
  },
  bench: {
    usage: '--model F [--prompt-tokens 128] [--gen-tokens 64] [--threads N] [--backend B]',
    opts: {
      '--model': ['string', 'GGUF model file'],
      '--prompt-tokens': ['int', 'prompt length for prefill (default 128)'],
      '--gen-tokens': ['int', 'tokens to decode (default 64)'],
      '--repetitions': ['int', 'measure N times and report the best (default 1)'],
      ...ENGINE_OPTS,
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

async function usage(name) {
  const c = COMMANDS[name];
  let d = null;
  if (Object.values(c.opts).some(([, help]) => typeof help === 'function')) {
    const h = await Hearth.create();
    d = h.samplerDefaults;
    h.destroy();
  }
  let s = `usage: node web/cli.mjs ${name} ${c.usage}\n`;
  for (const [k, [t, help]] of Object.entries(c.opts)) {
    s += `  ${(t === 'flag' ? k : `${k} ${t === 'list' ? 'TEXT' : t.toUpperCase()}`).padEnd(26)}${typeof help === 'function' ? help(d) : help}\n`;
  }
  return s;
}

function parse(name, argv) {
  const spec = COMMANDS[name].opts, out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return { help: true };
    const eq = a.indexOf('=');
    const key = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const s = spec[key];
    if (!s) throw new UsageError(`unknown option ${a}`);
    if (s[0] === 'flag') { out[key] = true; continue; }
    const v = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`${key} needs a value`);
    if (s[0] === 'string') out[key] = v;
    else if (s[0] === 'list') (out[key] ??= []).push(v);
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

// A Hearth-shaped engine on the chosen backend, with the model loaded.
async function open(o, opts = {}) {
  if (!o['--model']) throw new UsageError('--model is required');
  if (o['--ctx'] !== undefined && o['--ctx'] <= 0) throw new UsageError('--ctx must be positive');
  const threads = o['--threads'] ?? (os.availableParallelism?.() ?? os.cpus().length);
  if (threads < 1) throw new UsageError('--threads must be positive');
  const backend = o['--backend'] ?? 'cpu';
  let h;
  if (backend === 'cpu') {
    h = await Hearth.create({ threads });
  } else if (backend === 'webgpu' || backend === 'auto') {
    let mod;
    try { mod = await import('./gpu/backend.mjs'); } catch (e) {
      if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
      throw new HearthError('the WebGPU backend is not part of this build');
    }
    // auto: the GPU when it loads the model, else the CPU path (web/gpu/backend.mjs).
    if (backend === 'auto') return mod.openAuto(o['--model'], { contextSize: o['--ctx'] || 0, ...opts }, { threads });
    h = (await mod.createBackend({ threads })).engine;
  } else {
    throw new UsageError(`--backend: ${backend}: use cpu, webgpu or auto`);
  }
  if (h.threadsNote && !opts.vocabOnly) console.error(`warning: ${h.threadsNote}`);
  try {
    return h.load(await nodeFileSource(o['--model']), { contextSize: o['--ctx'] || 0, ...opts });
  } catch (e) { h.destroy?.(); throw e; }
}

// The sampling flags given; the core's defaults fill in the rest (the seed too,
// so that a seed left out is the native CLI's).
function samplingOf(o, h) {
  return {
    temperature: o['--temperature'], topK: o['--top-k'], topP: o['--top-p'], minP: o['--min-p'],
    repeatPenalty: o['--repeat-penalty'], seed: o['--seed'] ?? h.samplerDefaults.seed,
  };
}
const round = (x) => Math.round(x * 100) / 100;

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
  const json = !!o['--json'];
  const h = await open(o, { noSimd: !!process.env.HEARTH_NO_SIMD });
  let written = 0;
  const logitSteps = o['--logits'] ?? 0, topLogits = [];
  if (logitSteps < 0) throw new UsageError('--logits must not be negative');
  try {
    const ptoks = h.promptTokens(prompt);
    const r = await h.generate(ptoks, {
      maxTokens, ...samplingOf(o, h), logitSteps: json ? logitSteps : 0,
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
    console.log(JSON.stringify({
      prompt_tokens: ptoks, tokens: r.tokens, text: r.text, stop: r.stop,
      stats: {
        load_ms: round(h.loadMs), prompt_tokens: s.prompt_tokens, prefill_ms: round(s.prefill_ms),
        prefill_tok_s: round(s.prefill_ms > 0 ? s.prompt_tokens * 1e3 / s.prefill_ms : 0), gen_tokens: s.gen_tokens,
        decode_ms: round(s.decode_ms), decode_tok_s: round(s.decode_ms > 0 ? decoded * 1e3 / s.decode_ms : 0),
        ttft_ms: round(s.ttft_ms), threads: h.threads, kernels: h.kernels, backend: h.backend ?? 'wasm-cpu',
      },
      ...(logitSteps ? { logits: topLogits } : {}),
    }));
    return 0;
  } finally { h.destroy(); }
}

async function tokenize(o) {
  const text = textArg(o, '--text', '--text-file');
  const h = await open(o, { vocabOnly: true });
  try {
    const ids = h.tokenize(text, { special: !!o['--special'] });
    process.stdout.write(o['--json'] ? `${JSON.stringify({ tokens: ids })}\n` : ids.map((i) => `${i}\n`).join(''));
    return 0;
  } finally { h.destroy(); }
}

// One answer, a token at a time; between tokens the event loop runs (Ctrl-C).
// A reasoning model's thinking goes to stderr (onReasoning), as the native CLI does.
async function answer(h, messages, opts, onText, stopRequested, onReasoning = () => {}) {
  const g = h.beginChat(messages, opts);
  while (!g.done) {
    if (stopRequested()) { g.abort(); break; }
    const { text, reasoning } = await g.next(); // a GPU step is asynchronous
    if (reasoning) onReasoning(reasoning);
    if (text) onText(text);
    await new Promise((r) => setImmediate(r));
  }
  return g.result;
}

function chatStats(r) {
  const t = r.timings, decoded = r.usage.completion_tokens > 1 ? r.usage.completion_tokens - 1 : 0;
  return {
    prompt_tokens: r.usage.prompt_tokens, reused_tokens: t.reused_tokens, evaluated_tokens: t.evaluated_tokens,
    gen_tokens: r.usage.completion_tokens, dropped_messages: t.dropped_messages, prefill_ms: round(t.prefill_ms),
    decode_ms: round(t.decode_ms), decode_tok_s: round(t.decode_ms > 0 ? decoded * 1e3 / t.decode_ms : 0),
    ttft_ms: round(t.ttft_ms),
  };
}

// --grammar F / --json-schema F as the options of beginChat (the core compiles them).
function constraintOf(o) {
  const g = o['--grammar'], s = o['--json-schema'];
  if (g != null && s != null) throw new UsageError('give --grammar or --json-schema, not both');
  const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch (e) { throw new UsageError(`${f}: ${e.message}`); } };
  if (g != null) return { grammar: read(g) };
  if (s == null) return {};
  let schema;
  try { schema = JSON.parse(read(s)); } catch (e) { throw new UsageError(`${s}: ${e.message}`); }
  return { responseFormat: { type: 'json_schema', json_schema: { name: 'schema', schema } } };
}

async function chat(o) {
  const maxTokens = o['--max-tokens'] ?? 512;
  if (maxTokens < 1) throw new UsageError('--max-tokens must be positive');
  const turns = o['--message'] ?? [];
  if (o['--json'] && !turns.length) throw new UsageError('--json needs at least one --message');
  const h = await open(o);
  const opts = { maxTokens, ...samplingOf(o, h), stop: o['--stop'] ?? [] };
  if (o['--chat-template-kwargs'] != null) {
    let kw;
    try { kw = JSON.parse(o['--chat-template-kwargs']); } catch (e) { throw new UsageError(`--chat-template-kwargs: ${e.message}`); }
    if (!kw || typeof kw !== 'object' || Array.isArray(kw)) throw new UsageError('--chat-template-kwargs must be a JSON object, e.g. \'{"enable_thinking": false}\'');
    opts.chatTemplateKwargs = kw;
  }
  Object.assign(opts, constraintOf(o));
  const toStderr = (t) => process.stderr.write(t);
  // The conversation as the OpenAI API keeps it: the whole list each turn (the KV cache reuses the prefix).
  const messages = o['--system'] ? [{ role: 'system', content: o['--system'] }] : [];
  let interrupted = false;
  const onSigint = () => { interrupted = true; };
  try {
    if (h.chatWarning) console.error(`warning: ${h.chatWarning}`);
    const say = (user, r) => {
      messages.push({ role: 'user', content: user },
        r.reasoning ? { role: 'assistant', content: r.text, reasoning_content: r.reasoning } : { role: 'assistant', content: r.text });
      // The native CLI drops the oldest turns to fit the context; so does the core (dropped_messages).
      if (r.timings.dropped_messages) messages.splice(messages[0]?.role === 'system' ? 1 : 0, r.timings.dropped_messages);
    };
    if (turns.length) {
      const out = [];
      for (const user of turns) {
        const r = await answer(h, [...messages, { role: 'user', content: user }], opts,
          (t) => { if (!o['--json']) process.stdout.write(t); }, () => false, o['--json'] ? undefined : toStderr);
        if (!o['--json']) process.stdout.write('\n');
        out.push({ user, assistant: r.text, reasoning: r.reasoning, stop: r.stop, stats: chatStats(r) });
        say(user, r);
      }
      if (o['--json']) console.log(JSON.stringify({ turns: out, warning: h.chatWarning }));
      return 0;
    }
    process.on('SIGINT', onSigint);
    console.error('hearth chat: type a message and Enter; Ctrl-C stops an answer, /reset forgets the conversation, /exit or Ctrl-D leaves.');
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    const lines = rl[Symbol.asyncIterator]();
    for (;;) {
      process.stdout.write('> ');
      const { value: line, done } = await lines.next();
      if (done) { process.stdout.write('\n'); break; }
      const text = line.replace(/\r$/, '');
      if (text === '/exit' || text === '/quit') break;
      if (text === '/reset') { messages.splice(o['--system'] ? 1 : 0); console.log('(conversation cleared)'); continue; }
      if (!text) continue;
      interrupted = false;
      try {
        const r = await answer(h, [...messages, { role: 'user', content: text }], opts, (t) => process.stdout.write(t), () => interrupted, toStderr);
        process.stdout.write('\n');
        if (r.timings.dropped_messages) console.error(`(dropped the ${r.timings.dropped_messages} oldest messages to fit the context)`);
        if (r.stop === 'interrupted') console.log('(stopped)');
        say(text, r);
      } catch (e) {
        if (!(e instanceof HearthError)) throw e;
        console.error(`\nhearth: ${e.message}`);
      }
    }
    rl.close();
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    h.destroy();
  }
}

async function bench(o) {
  const p = o['--prompt-tokens'] ?? 128, g = o['--gen-tokens'] ?? 64, reps = o['--repetitions'] ?? 1;
  if (p < 1 || g < 1 || reps < 1) throw new UsageError('--prompt-tokens, --gen-tokens and --repetitions must be positive');
  const h = await open({ ...o, '--ctx': p + g });
  try {
    const r = h.bench(p, g, reps);
    const info = h.info;
    console.log(JSON.stringify({
      engine: 'hearth', model: o['--model'], arch: info.architecture, backend: h.backend ?? 'wasm-cpu', threads: h.threads,
      kernels: h.kernels, load_ms: round(h.loadMs), prompt_tokens: p, prefill_ms: round(r.prefill_ms),
      prefill_tok_s: round(p * 1e3 / r.prefill_ms), gen_tokens: g, decode_ms: round(r.decode_ms),
      decode_tok_s: round(g * 1e3 / r.decode_ms), peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
    }));
    return 0;
  } finally { h.destroy(); }
}

const [cmd, ...rest] = process.argv.slice(2);
if (!COMMANDS[cmd]) {
  process.stderr.write(`usage: node web/cli.mjs (run | chat | tokenize | bench) [options]; --help after a command lists its options\n`);
  process.exit(2);
}
// Every error ends as one line and exit status 1 (2 for usage errors), never a stack trace.
try {
  const o = parse(cmd, rest);
  if (o.help) process.stdout.write(await usage(cmd));
  else process.exitCode = await ({ run, chat, tokenize, bench })[cmd](o);
} catch (e) {
  if (e instanceof UsageError) { process.stderr.write(`hearth ${cmd}: ${e.message}\n${await usage(cmd)}`); process.exitCode = 2; }
  else { process.stderr.write(`hearth: ${e?.message ?? e}\n`); process.exitCode = 1; }
}
