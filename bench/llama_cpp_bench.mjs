// llama.cpp's speed on a GGUF file, measured the way `hearth bench` measures
// hearth: a warm-up, then a prompt of N tokens (prefill) and M greedy tokens
// decoded one at a time, with the same thread count. Prints one JSON line.
//
// Needs node-llama-cpp (the reference, not a dependency of hearth):
//   npm install --prefix tools/reference --ignore-scripts --omit=optional node-llama-cpp @node-llama-cpp/linux-x64
// usage: node bench/llama_cpp_bench.mjs --model F [--prompt-tokens 128] [--gen-tokens 64] [--threads 2]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function loadNodeLlamaCpp() {
  const places = [path.join(root, 'tools/reference/'), path.join(process.cwd(), '/'), '/tmp/ref/'];
  for (const p of places) {
    try {
      const req = createRequire(p);
      return await import(pathToFileURL(req.resolve('node-llama-cpp')).href);
    } catch { /* try the next place */ }
  }
  throw new Error('node-llama-cpp not found; install it into tools/reference (see this file)');
}

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}

const modelPath = arg('--model');
const promptTokens = Number(arg('--prompt-tokens', 128));
const genTokens = Number(arg('--gen-tokens', 64));
const threads = Number(arg('--threads', 2));
if (!modelPath) {
  console.error('usage: node bench/llama_cpp_bench.mjs --model F [--prompt-tokens N] [--gen-tokens N] [--threads N]');
  process.exit(2);
}

const { getLlama } = await loadNodeLlamaCpp();
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
const t0 = performance.now();
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: promptTokens + genTokens + 16, threads, batchSize: 512 });
const loadMs = performance.now() - t0;
const nVocab = model.tokens.count ?? 32000;
const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 1) % Math.min(nVocab, 30000));

async function once() {
  const seq = context.getSequence();
  const start = performance.now();
  let first = 0, n = 0;
  for await (const _t of seq.evaluate(prompt, { temperature: 0 })) {
    if (n === 0) first = performance.now();
    if (++n > genTokens) break;
  }
  const end = performance.now();
  seq.dispose();
  return { prefillMs: first - start, decodeMs: end - first };
}

await once(); // warm-up
const r = await once();
console.log(JSON.stringify({
  engine: 'llama.cpp', model: modelPath, threads, load_ms: +loadMs.toFixed(2),
  prompt_tokens: promptTokens, prefill_ms: +r.prefillMs.toFixed(2),
  prefill_tok_s: +(promptTokens * 1000 / r.prefillMs).toFixed(2),
  gen_tokens: genTokens, decode_ms: +r.decodeMs.toFixed(2),
  decode_tok_s: +(genTokens * 1000 / r.decodeMs).toFixed(2),
  peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
}));
await context.dispose();
await model.dispose();
