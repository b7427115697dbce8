// hearth in a dedicated module worker: the C engine thread spins while its
// compute threads work, and the compute threads block on Atomics.wait, which
// a page's main thread may not do. One model per worker.
//   {op:'load', url, threads, contextSize, exactNumerics, relaxedSimd} -> {fetch_ms, create_ms, load_ms, threads, threadsNote, kernels, nVocab}
//   {op:'promptTokens', text}               -> token ids of a raw prompt (BOS as the file says)
//   {op:'run', tokens, genTokens}          -> {stats, gen_tokens, ttft_wall_ms, wall_ms, stop}
//   {op:'destroy'}                          -> {}
import { Hearth, bufferSource } from '/web/hearth.mjs';

let h = null;

async function load({ url, threads, contextSize, exactNumerics, relaxedSimd = true }) {
  const t0 = performance.now();
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  const buf = await r.arrayBuffer();
  const t1 = performance.now();
  h = await Hearth.create({ threads, log: () => {}, relaxedSimd });
  const t2 = performance.now();
  h.load(bufferSource(buf), { contextSize, exactNumerics: !!exactNumerics });
  const t3 = performance.now();
  return {
    fetch_ms: t1 - t0, create_ms: t2 - t1, load_ms: t3 - t2,
    threads: h.threads, threadsNote: h.threadsNote, kernels: h.kernels, nVocab: h.info.nVocab,
  };
}

function run({ tokens, genTokens }) {
  let first = 0;
  const t0 = performance.now();
  const out = h.generate(tokens, {
    maxTokens: genTokens, temperature: 0,
    onToken: () => { if (!first) first = performance.now(); return true; },
  });
  const t1 = performance.now();
  return { stats: out.stats, stop: out.stop, gen_tokens: out.tokens.length, ttft_wall_ms: first - t0, wall_ms: t1 - t0 };
}

const ops = {
  load,
  run,
  promptTokens: ({ text }) => h.promptTokens(text),
  destroy() { h?.destroy(); h = null; return {}; },
};

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ id: data.id, result: await ops[data.op](data) });
  } catch (e) {
    self.postMessage({ id: data.id, error: String(e?.message || e) });
  }
};
