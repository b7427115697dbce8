#!/usr/bin/env node
// A K-quant model (tools/kquant_model.c) through llama.cpp (node-llama-cpp's
// CPU build, as tools/golden.mjs runs it) and through hearth (its best SIMD
// kernels and HEARTH_NO_SIMD=1): prompt tokens, 12 greedy tokens, and the
// top logits of the first 3 steps, which must agree to hearth's print
// precision (a 1-ulp difference in any product grows into ~1e-2).
//
//   node tools/kquant_check.mjs build/models/k256-k0.gguf
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNodeLlamaCpp, runGreedy, PROMPT } from './golden.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.resolve(process.argv[2]);
const N = 12, STEPS = 3, TOL = 5e-6; // relative to the step's largest |logit|: hearth prints 6 digits
const { mod } = await loadNodeLlamaCpp();
const llama = await mod.getLlama({ gpu: false, logLevel: 'error' });
const ref = await runGreedy(llama, file, PROMPT, N, { threads: 2 });
let bad = 0;
for (const mode of ['simd', 'scalar']) {
  const env = mode === 'scalar' ? { ...process.env, HEARTH_NO_SIMD: '1' } : process.env;
  const r = spawnSync(path.join(root, 'build/hearth'), ['run', '--model', file, '--prompt', PROMPT, '--temperature', '0',
    '--max-tokens', String(N), '--logits', String(STEPS), '--json', '--threads', '2', '--ctx', '512'],
  { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status) { console.log(`not ok - ${mode}: hearth failed: ${r.stderr}`); bad++; continue; }
  const out = JSON.parse(r.stdout);
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  let worst = 0, compared = 0;
  for (const st of ref.steps.slice(0, STEPS)) {
    if (out.tokens[st.step] !== ref.generated[st.step]) break; // another history: other logits
    const ours = new Map(out.logits[st.step]);
    const scale = Math.max(...st.top.map(([, v]) => Math.abs(v)));
    for (const [id, v] of st.top) if (ours.has(id)) { compared++; worst = Math.max(worst, Math.abs(ours.get(id) - v) / scale); }
  }
  const ok = same(out.prompt_tokens, ref.prompt_tokens) && same(out.tokens, ref.generated) && compared > 0 && worst <= TOL;
  if (!ok) bad++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${mode}: ${same(out.tokens, ref.generated) ? 'greedy tokens equal' : 'greedy tokens differ'}, `
    + `worst logit difference ${worst.toExponential(2)} of the scale over ${compared} top logits`);
}
process.exit(bad ? 1 : 0);
