// Side-by-side CPU benchmark: hearth and llama.cpp on the same files, same
// threads, same prompt and generation lengths. Prints one JSON line per run
// and a closing JSON summary.
//
// usage: node bench/bench.mjs [--shape qwen2.5-0.5b] [--types q4_0,q8_0,q4_k_m] [--threads 2 | 1,2]
//                             [--prompt-tokens 128] [--gen-tokens 64] [--repetitions 3] [--no-reference]
//                             [--busy N]
// --busy N runs N busy processes (one CPU-bound loop each) beside every measurement, as a user's
// machine runs other work; with --threads 1,2 the one-thread and two-thread speeds print side by side.
// Every hearth run also measures the memory's read bandwidth with its threads (`hearth bench
// --bandwidth`); the summary gives each engine's decode as a share of it (decode_share: the bytes a
// token reads, every matrix once, times tokens/s, over the best bandwidth measured at that thread count).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelTypeArgs } from '../tools/make_test_model.mjs';
import { startBusy } from './busy.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const shape = arg('--shape', 'qwen2.5-0.5b');
const types = arg('--types', 'q4_0,q8_0').split(',');
const threadCounts = arg('--threads', '2').split(',');
const busy = Number(arg('--busy', '0'));
const promptTokens = arg('--prompt-tokens', '128');
const genTokens = arg('--gen-tokens', '64');
const reps = Number(arg('--repetitions', '3'));
const reference = !process.argv.includes('--no-reference');
const archOf = { 'qwen2.5-0.5b': ['qwen2', 'qwen3'], 'llama3.2-1b': ['llama', 'llama3'], 'phi3-mini': ['phi3', 'llama2'],
  'qwen3-0.6b': ['qwen3', 'qwen3'], 'gemma3-1b': ['gemma3', 'gemma3'] };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const stopBusy = startBusy(busy);
const cpu = os.cpus()[0]?.model ?? 'unknown';

const best = (rows, key) => rows.reduce((a, b) => (b[key] > a[key] ? b : a))[key];
const results = [];
for (const type of types) {
  const [arch, tok] = archOf[shape];
  const file = path.join(root, 'build/models/bench', `${shape}-${type}.gguf`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    run('node', ['tools/make_test_model.mjs', '--arch', arch, '--tokenizer', tok, ...modelTypeArgs(type), '--shape', shape, '--out', file]);
  }
  const engines = {};
  for (const threads of threadCounts) {
    engines[`hearth/${threads}`] = () => JSON.parse(run(path.join(root, 'build/hearth'), ['bench', '--model', file,
      '--threads', threads, '--prompt-tokens', promptTokens, '--gen-tokens', genTokens, '--bandwidth']));
    if (reference) engines[`llama.cpp/${threads}`] = () => JSON.parse(run('node', ['bench/llama_cpp_bench.mjs', '--model', file,
      '--threads', threads, '--prompt-tokens', promptTokens, '--gen-tokens', genTokens]));
  }
  // Alternate the engines so that drift in machine load hits both alike.
  const rows = Object.fromEntries(Object.keys(engines).map((e) => [e, []]));
  for (let r = 0; r < reps; r++) {
    for (const [name, fn] of Object.entries(engines)) {
      const row = { ...fn(), shape, type, busy, cpu };
      console.log(JSON.stringify(row));
      rows[name].push(row);
    }
  }
  for (const [key, list] of Object.entries(rows)) {
    const [name, threads] = key.split('/');
    const bw = rows[`hearth/${threads}`].map((r) => r.bandwidth);
    const readGbs = Math.max(...bw.map((b) => b.read_gb_s)), decode = best(list, 'decode_tok_s');
    results.push({ engine: name, shape, type, threads: Number(threads), busy, kernels: list[0].kernels, cpu, prompt_tokens: Number(promptTokens),
      gen_tokens: Number(genTokens), prefill_tok_s: best(list, 'prefill_tok_s'), decode_tok_s: decode,
      read_gb_s: readGbs, decode_share: +(decode * bw[0].decode_bytes_per_token / 1e9 / readGbs).toFixed(3) });
  }
}
console.log(JSON.stringify({ summary: results }));
stopBusy();
