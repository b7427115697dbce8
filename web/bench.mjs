#!/usr/bin/env node
// CPU speed of the WebAssembly build against the native CLI on the same files,
// in one run: node web/bench.mjs MODEL.gguf... [--tokens N] [--reps R] [--threads T]
//   [--modes wasm,wasm_scalar,native_scalar,native_simd]
// Prints one JSON line per model: for each mode the decode/prefill tokens/s
// (best of R runs by decode speed), the load time and the kernels the run
// reported ("simd128" / "scalar" in wasm; "avx512", "avx2" or "scalar"
// natively); then the wasm SIMD128 build's decode speed over the others'.
// wasm_scalar and native_scalar force the portable kernels (HEARTH_NO_SIMD=1).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); if (i < 0) return d; const v = argv[i + 1]; argv.splice(i, 2); return v; };
const tokens = Number(opt('--tokens', 100)), reps = Number(opt('--reps', 3)), threads = Number(opt('--threads', 1));
const prompt = 'Once upon a time there was a little girl who lived in a village near the forest.';
const wasm = (env) => (m) => ['node', [path.join(ROOT, 'web/cli.mjs'), 'run', '--model', m], env];
const native = (env) => (m) => [path.join(ROOT, 'build/hearth'), ['run', '--model', m], env];
const allModes = {
  wasm: wasm({}),
  wasm_scalar: wasm({ HEARTH_NO_SIMD: '1' }),
  native_scalar: native({ HEARTH_NO_SIMD: '1' }),
  native_simd: native({}),
};
const modes = opt('--modes', Object.keys(allModes).join(',')).split(',');
for (const m of modes) if (!allModes[m]) throw new Error(`unknown mode ${m} (known: ${Object.keys(allModes).join(', ')})`);
if (!argv.length) {
  console.error('usage: node web/bench.mjs MODEL.gguf... [--tokens N] [--reps R] [--threads T] [--modes a,b]');
  process.exit(2);
}

const ratio = (a, b) => (a?.decode_tok_s && b?.decode_tok_s ? +(a.decode_tok_s / b.decode_tok_s).toFixed(3) : undefined);
for (const model of argv) {
  const row = { model: path.basename(model), threads, tokens };
  for (const name of modes) {
    const [bin, args, env] = allModes[name](model);
    let best = null;
    for (let r = 0; r < reps; r++) {
      const p = spawnSync(bin, [...args, '--prompt', prompt, '--max-tokens', String(tokens), '--temperature', '0', '--json',
        '--ctx', '512', '--threads', String(threads)], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...env } });
      if (p.status !== 0) { best = { error: p.stderr.trim() }; break; }
      const s = JSON.parse(p.stdout).stats;
      if (!best || s.decode_tok_s > best.decode_tok_s) {
        best = { decode_tok_s: s.decode_tok_s, prefill_tok_s: s.prefill_tok_s, load_ms: s.load_ms, kernels: s.kernels };
      }
    }
    row[name] = best;
  }
  row.wasm_vs_wasm_scalar = ratio(row.wasm, row.wasm_scalar);
  row.wasm_vs_native_scalar = ratio(row.wasm, row.native_scalar);
  row.wasm_vs_native_simd = ratio(row.wasm, row.native_simd);
  console.log(JSON.stringify(row));
}
