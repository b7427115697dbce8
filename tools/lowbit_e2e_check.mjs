// hearth (SIMD and scalar kernels) against llama.cpp (node-llama-cpp, as
// tools/golden.mjs runs it) on models of the low-bit weight types made by
// tools/ggml_requant.c: greedy tokens and the first 4 steps' top-16 logits
// (hearth prints 4 decimals: equal means equal to llama.cpp's rounded so).
//
//   node tools/lowbit_e2e_check.mjs MODEL.gguf...
import { spawnSync } from 'node:child_process';
import { loadNodeLlamaCpp, runGreedy, PROMPT } from './golden.mjs';
const { mod } = await loadNodeLlamaCpp();
const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
let bad = 0;
for (const file of process.argv.slice(2)) {
  const fx = await runGreedy(llama, file, PROMPT, 16, { threads: 2 });
  for (const mode of ['simd', 'scalar']) {
    const env = mode === 'scalar' ? { ...process.env, HEARTH_NO_SIMD: '1' } : process.env;
    const r = spawnSync(new URL('../build/hearth', import.meta.url).pathname, ['run', '--model', file, '--prompt', PROMPT, '--temperature', '0', '--max-tokens', '16',
      '--logits', '4', '--json', '--threads', '2', '--ctx', '512'], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
    if (r.status) { console.log(file, mode, 'failed', r.stderr); bad++; continue; }
    const out = JSON.parse(r.stdout);
    let same = 0;
    while (same < fx.generated.length && out.tokens[same] === fx.generated[same]) same++;
    let maxAbs = 0, n = 0, exact = 0;
    for (let s = 0; s < Math.min(4, fx.steps.length); s++) {
      if (out.tokens[s] !== fx.generated[s]) break;
      const ours = new Map(out.logits[s]);
      for (const [id, v] of fx.steps[s].top.slice(0, 16)) {
        if (!ours.has(id)) continue;
        const d = Math.abs(ours.get(id) - v); n++;
        if (Math.abs(ours.get(id) - Number(v.toFixed(4))) < 1e-9) exact++;
        maxAbs = Math.max(maxAbs, d);
      }
    }
    if (same < fx.generated.length || exact < n) bad++;
    console.log(`${file} ${mode}: greedy ${same}/${fx.generated.length} equal; first-4-step top-16 logits: ${exact}/${n} equal to llama.cpp's rounded to hearth's 4 printed decimals, max |diff| ${maxAbs.toExponential(2)}`);
  }
}
process.exitCode = bad ? 1 : 0;
