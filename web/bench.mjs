#!/usr/bin/env node
// One-thread CPU speed of the WebAssembly build against the native CLI on the
// same files, in one run: node web/bench.mjs MODEL.gguf... [--tokens N] [--reps R]
// Prints one JSON line per model: decode/prefill tokens/s of wasm, native
// scalar (HEARTH_NO_SIMD=1) and native SIMD, best of R runs each.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); if (i < 0) return d; const v = Number(argv[i + 1]); argv.splice(i, 2); return v; };
const tokens = opt('--tokens', 100), reps = opt('--reps', 3);
const prompt = 'Once upon a time there was a little girl who lived in a village near the forest.';
const modes = {
  wasm: (m) => ['node', [path.join(ROOT, 'web/cli.mjs'), 'run', '--model', m], {}],
  native_scalar: (m) => [path.join(ROOT, 'build/hearth'), ['run', '--model', m, '--threads', '1'], { HEARTH_NO_SIMD: '1' }],
  native_simd: (m) => [path.join(ROOT, 'build/hearth'), ['run', '--model', m, '--threads', '1'], {}],
};
for (const model of argv) {
  const row = { model: path.basename(model), threads: 1, tokens };
  for (const [name, cmd] of Object.entries(modes)) {
    const [bin, args, env] = cmd(model);
    let best = null;
    for (let r = 0; r < reps; r++) {
      const p = spawnSync(bin, [...args, '--prompt', prompt, '--max-tokens', String(tokens), '--temperature', '0', '--json', '--ctx', '512'],
        { encoding: 'utf8', env: { ...process.env, ...env } });
      if (p.status !== 0) { best = { error: p.stderr.trim() }; break; }
      const s = JSON.parse(p.stdout).stats;
      if (!best || s.decode_tok_s > best.decode_tok_s) best = { decode_tok_s: s.decode_tok_s, prefill_tok_s: s.prefill_tok_s, load_ms: s.load_ms, kernels: s.kernels };
    }
    row[name] = best;
  }
  if (row.wasm.decode_tok_s && row.native_scalar.decode_tok_s) {
    row.wasm_vs_native_scalar = +(row.wasm.decode_tok_s / row.native_scalar.decode_tok_s).toFixed(3);
    row.wasm_vs_native_simd = +(row.wasm.decode_tok_s / row.native_simd.decode_tok_s).toFixed(3);
  }
  console.log(JSON.stringify(row));
}
