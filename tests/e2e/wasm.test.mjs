// The WebAssembly build (make wasm) through its Node entry point
// `node web/cli.mjs`: greedy tokens equal llama.cpp's on the golden fixtures
// (same rule as golden.test.mjs: until llama.cpp's first near-tie) and the
// native CLI's on stories260K, and tokenize equals the native CLI.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { hearth, ROOT, SHARED, testModel } from './util.mjs';
import { compareGreedy, ensureModel, FAST_TOLERANCE, fastMargin, goldenFixtures, kquantFixtures, logitError, MARGIN } from './golden_lib.mjs';

const CLI = path.join(ROOT, 'web/cli.mjs');
const WASM = path.join(ROOT, 'web/dist/hearth.wasm');

// HEARTH_EXACT=1: the CPU path's exact numerics (llama.cpp's accumulation order), which these
// checks compare bit for bit; the fast default (simd128-fast) has its own section below.
function wasm(args, { noCli, ...opts } = {}) {
  const r = spawnSync('node', noCli ? args : [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, ...opts,
    env: { ...process.env, HEARTH_EXACT: '1', ...opts.env } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

check('web/dist/hearth.wasm is built (make wasm)', fs.existsSync(WASM), 'missing');

// stories260K: the same tokens, text and prompt tokens as the native CLI.
const stories = path.join(SHARED, 'models/stories260K.gguf');
if (fs.existsSync(stories)) {
  for (const prompt of ['Once upon a time', 'The little dog']) {
    const args = ['run', '--model', stories, '--prompt', prompt, '--max-tokens', '100', '--temperature', '0', '--json'];
    const n = hearth([...args, '--threads', '1']);
    const w = wasm(args);
    if (!check(`stories260K "${prompt}": wasm runs`, w.status === 0 && n.status === 0, w.stderr + n.stderr)) continue;
    const a = JSON.parse(w.stdout), b = JSON.parse(n.stdout);
    check(`stories260K "${prompt}": prompt tokens equal native`, JSON.stringify(a.prompt_tokens) === JSON.stringify(b.prompt_tokens));
    check(`stories260K "${prompt}": greedy tokens equal native (${b.tokens.length})`,
      JSON.stringify(a.tokens) === JSON.stringify(b.tokens) && a.text === b.text, `${a.tokens} vs ${b.tokens}`);
    check(`stories260K "${prompt}": JSON has the native keys`,
      Object.keys(b).every((k) => k in a) && Object.keys(b.stats).every((k) => k in a.stats),
      `${Object.keys(a)} / ${Object.keys(a.stats)}`);
  }
  // Sampling with a seed gives the native CLI's tokens too.
  const args = ['run', '--model', stories, '--prompt', 'Lily', '--max-tokens', '60', '--temperature', '0.9', '--seed', '42', '--json'];
  const w = wasm(args), n = hearth([...args, '--threads', '1']);
  check('stories260K sampled with --seed 42: tokens equal native', w.status === 0 &&
    JSON.stringify(JSON.parse(w.stdout).tokens) === JSON.stringify(JSON.parse(n.stdout).tokens), w.stderr);
  // Streaming text (no --json) equals the JSON text.
  const s = wasm(['run', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '40', '--temperature', '0']);
  const j = wasm(['run', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '40', '--temperature', '0', '--json']);
  check('stories260K: streamed text equals the JSON text', s.status === 0 && j.status === 0 &&
    s.stdout === `${JSON.parse(j.stdout).text}\n`, JSON.stringify(s.stdout));
}

// Golden fixtures: every architecture and tensor type against llama.cpp, and six
// K-quant mixtures (every K-quant and IQ4 type; all of them with HEARTH_KQUANT_ALL=1).
const LOGIT_STEPS = 3;
let worstNative = 0, worstRef = 0;
const fixtures = [...goldenFixtures(process.argv[2]), ...kquantFixtures('wasm', process.argv[2])];
for (const fx of fixtures) {
  const file = ensureModel(fx);
  const args = ['run', '--model', file, '--prompt', fx.prompt, '--temperature', '0', '--max-tokens',
    String(fx.generated.length), '--json', '--ctx', '512', '--logits', String(LOGIT_STEPS)];
  const r = wasm(args);
  if (!check(`${fx.name} (wasm): runs`, r.status === 0, r.stderr)) continue;
  const out = JSON.parse(r.stdout);
  // The native scalar kernels: the same tokens throughout, logits within golden.test.mjs's 1e-5.
  // (Seen: wasm is within 1e-8 of llama.cpp everywhere; native differs from both by up to 4e-6 on
  // llama3 f16/bf16, so the two are not bit-identical.)
  const n = hearth([...args, '--threads', '1'], { env: { ...process.env, HEARTH_NO_SIMD: '1' } });
  if (check(`${fx.name} (native scalar): runs`, n.status === 0, n.stderr)) {
    const nat = JSON.parse(n.stdout);
    check(`${fx.name} (wasm): tokens equal the native scalar kernels' (${nat.tokens.length})`,
      JSON.stringify(out.tokens) === JSON.stringify(nat.tokens), `${out.tokens} vs ${nat.tokens}`);
    let maxRel = 0, missing = 0;
    for (let st = 0; st < nat.logits.length; st++) {
      const ours = new Map(out.logits[st] || []);
      const scale = Math.max(...nat.logits[st].map(([, v]) => Math.abs(v)));
      for (const [id, v] of nat.logits[st]) {
        if (!ours.has(id)) { missing++; continue; }
        maxRel = Math.max(maxRel, Math.abs(ours.get(id) - v) / scale);
      }
    }
    worstNative = Math.max(worstNative, maxRel);
    check(`${fx.name} (wasm): top-64 logits of ${LOGIT_STEPS} steps within 1e-5 of native scalar (${maxRel.toExponential(1)})`,
      missing === 0 && maxRel <= 1e-5, missing ? `${missing} ids missing` : `${maxRel}`);
  }
  const { maxRel: rel, missing } = logitError(fx, out, LOGIT_STEPS);
  worstRef = Math.max(worstRef, rel);
  check(`${fx.name} (wasm): first-step logits within 1e-5 of llama.cpp (${rel.toExponential(1)})`,
    missing === 0 && rel <= 1e-5, missing ? `${missing} of llama.cpp's top tokens not in ours` : `${rel}`);
  check(`${fx.name} (wasm): prompt tokens equal llama.cpp`, JSON.stringify(out.prompt_tokens) === JSON.stringify(fx.prompt_tokens),
    `${out.prompt_tokens} vs ${fx.prompt_tokens}`);
  const greedy = compareGreedy(fx, out.tokens);
  check(`${fx.name} (wasm): greedy tokens equal llama.cpp (${greedy.compared}/${fx.generated.length} compared)`,
    greedy.ok, greedy.why);
}

console.log(`# worst relative logit difference: wasm vs native scalar ${worstNative}, wasm vs llama.cpp ${worstRef}`);

// The default numerics (fast): Q4_0, Q5_0 and Q8_0 products accumulate in plain f32
// (kernels_prefer_speed), so tokens follow llama.cpp's until its first near-tie and logits are
// close, not bit-equal. Every golden model with such weights, greedy.
// The same for the relaxed-SIMD build (hearth-relaxed.wasm, which Node 20 runs with
// --experimental-wasm-relaxed-simd) on the Q4_0 and Q8_0 models: their matrices with rows of a
// multiple of 128 (here the FFN down products) are repacked as Q4_0_X4 / Q8_0_X4 and multiplied
// with relaxed SIMD; Q5_0 runs the same kernels as in hearth.wasm.
let worstFast = 0;
for (const [label, kernels, node, types] of [['fast numerics', 'simd128-fast', [], /-q[458]_0(-|$)/],
  ['relaxed SIMD', 'simd128-relaxed', ['--experimental-wasm-relaxed-simd'], /-q[48]_0(-|$)/]]) {
  // (and the K-quant mixtures of the wasm subset: their K-quant and IQ4 products have fast and,
  // for Q2_K..Q6_K, relaxed kernels; their other matrices run as above)
  for (const fx of fixtures.filter((f) => f.ftype || types.test(f.name))) {
    const args = [...node, CLI, 'run', '--model', ensureModel(fx), '--prompt', fx.prompt, '--temperature', '0',
      '--max-tokens', String(fx.generated.length), '--json', '--ctx', '512', '--logits', String(LOGIT_STEPS)];
    // (the baseline build even on a Node whose V8 has relaxed SIMD without the flag)
    const r = wasm(args, { env: { HEARTH_EXACT: '0', HEARTH_NO_RELAXED: node.length ? '0' : '1' }, noCli: true });
    if (!check(`${fx.name} (wasm, ${label}): runs`, r.status === 0, r.stderr)) continue;
    const out = JSON.parse(r.stdout);
    check(`${fx.name} (wasm, ${label}): kernels ${kernels}`, out.stats.kernels === kernels, out.stats.kernels);
    // The 256-wide K-quant mixtures have rows of several blocks where another float order shows
    // (the tiny golden models' rows of 64 hardly differ): the fast tolerance (golden_lib.mjs). So
    // has qwen3's Q8_0 model (3.4e-3): its Q/K norms make scores of up to head_dim, where the fast
    // attention's polynomial exps move the softmax more than on the models without them.
    const loose = fx.ftype || /^qwen3-/.test(fx.name);
    const tol = loose ? FAST_TOLERANCE : 1e-3;
    const greedy = compareGreedy(fx, out.tokens, loose ? fastMargin(fx) : MARGIN);
    check(`${fx.name} (wasm, ${label}): greedy tokens equal llama.cpp (${greedy.compared}/${fx.generated.length} compared)`,
      greedy.ok, greedy.why);
    const { maxRel, missing } = logitError(fx, out, LOGIT_STEPS);
    worstFast = Math.max(worstFast, maxRel);
    check(`${fx.name} (wasm, ${label}): logits of ${LOGIT_STEPS} steps within ${tol} of llama.cpp (${maxRel.toExponential(1)})`,
      missing === 0 && maxRel <= tol, missing ? `${missing} of llama.cpp's top tokens not in ours` : `${maxRel}`);
  }
}
console.log(`# worst relative logit difference with fast numerics (both builds): ${worstFast}`);

// Tokenize: the same ids as the native CLI, on every golden model's tokenizer.
const texts = ['Hello world', ' leading space and  double  spaces', 'naïve café, 東京 🚀 123456', '<|im_end|> <s> </s>\nline\n'];
const seen = new Set();
for (const fx of fixtures) {
  const tok = fx.args[fx.args.indexOf('--tokenizer') + 1];
  if (seen.has(tok)) continue;
  seen.add(tok);
  const file = path.join(ROOT, fx.file);
  for (const special of [false, true]) {
    let same = true, why = '';
    for (const t of texts) {
      const args = ['tokenize', '--model', file, '--text', t, '--json', ...(special ? ['--special'] : [])];
      const a = wasm(args), b = hearth(args);
      if (a.status !== 0 || a.stdout !== b.stdout) { same = false; why = `${JSON.stringify(t)}: ${a.stdout}${a.stderr} vs ${b.stdout}`; break; }
    }
    check(`tokenize (${tok}${special ? ', --special' : ''}): wasm equals native`, same, why);
  }
}

// chat: the same answers and stop reasons as the native CLI, turn by turn (KV reuse included),
// greedy and seeded, with a stop string; then the bench command's JSON.
for (const [name, args] of [['qwen2-qwen3', ['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3']],
  ['llama-llama2', ['--arch', 'llama', '--type', 'q8_0', '--tokenizer', 'llama2']]]) {
  const file = testModel(args, `chat-${name}-q8_0`);
  for (const sampling of [['--temperature', '0'], ['--temperature', '0.9', '--seed', '7', '--stop', 'e']]) {
    const a = ['chat', '--model', file, '--system', 'Be brief.', '--message', 'hi', '--message', 'and more?', '--max-tokens', '12',
      '--json', ...sampling];
    const w = wasm(a), n = hearth([...a, '--threads', '1']);
    if (!check(`chat ${name} ${sampling.join(' ')}: runs`, w.status === 0 && n.status === 0, w.stderr + n.stderr)) continue;
    const turns = (r) => JSON.parse(r.stdout).turns.map((t) => [t.assistant, t.stop, t.stats.prompt_tokens, t.stats.reused_tokens]);
    check(`chat ${name} ${sampling.join(' ')}: answers, stops and KV reuse equal native`,
      JSON.stringify(turns(w)) === JSON.stringify(turns(n)), `${JSON.stringify(turns(w))} vs ${JSON.stringify(turns(n))}`);
  }
  // One thread and two give the same answer (the threads split rows, not sums).
  const one = wasm(['chat', '--model', file, '--message', 'hi', '--max-tokens', '16', '--temperature', '0', '--json', '--threads', '1']);
  const two = wasm(['chat', '--model', file, '--message', 'hi', '--max-tokens', '16', '--temperature', '0', '--json', '--threads', '2']);
  check(`chat ${name}: 1 and 2 threads answer the same`, one.status === 0 && two.status === 0 &&
    JSON.parse(one.stdout).turns[0].assistant === JSON.parse(two.stdout).turns[0].assistant, one.stderr + two.stderr);
}
{
  const r = wasm(['bench', '--model', path.join(SHARED, 'models/stories260K.gguf'), '--prompt-tokens', '16', '--gen-tokens', '8', '--threads', '2']);
  const j = r.status === 0 ? JSON.parse(r.stdout) : {};
  check('bench: JSON with prefill and decode speed on 2 threads', j.threads === 2 && j.prefill_tok_s > 0 && j.decode_tok_s > 0 &&
    j.backend === 'wasm-cpu', r.stdout + r.stderr);
}

// Errors are readable and the exit statuses match the native CLI's.
{
  const r = wasm(['run', '--model', path.join(ROOT, 'no-such-model.gguf'), '--prompt', 'x']);
  check('missing model: exit 1 with the path in the message', r.status === 1 && /no-such-model\.gguf/.test(r.stderr), r.stderr);
  const u = wasm(['run', '--prompt', 'x', '--bogus']);
  check('unknown option: exit 2 with usage', u.status === 2 && /usage/.test(u.stderr), u.stderr);
}
done();
