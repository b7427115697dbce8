// Structured output (src/grammar/, response_format json_schema): each schema
// of tests/fixtures/schemas is answered at temperature 1 by random-weight test
// models, several seeds each, and every answer must be complete JSON that a
// real validator (ajv) accepts for the schema: through the native CLI
// (`hearth chat --json-schema`), the wasm CPU build and the WebGPU backend
// (SwiftShader) through the in-process API. Random weights make the model's
// choices close to uniform over what the grammar allows, so every branch of a
// schema gets taken.
//
// CI runs a subset (SUBSET below, 2 seeds, native and wasm: about 20 s).
// HEARTH_SCHEMA_ALL=1 runs every schema with 10 seeds on native, wasm and
// WebGPU (slow: SwiftShader); HEARTH_SCHEMA_WEBGPU=1 adds WebGPU to the
// subset, =0 leaves it out of the full run.
// For long runs (the WebGPU corpus on a real GPU: tools/gpu_run.sh GRAMMAR=1):
// HEARTH_SCHEMA_SHARD=k/n runs the k-th of n shares of the schemas (one
// process each, in parallel); HEARTH_SCHEMA_UNBOUNDED_MAX=N gives the
// schemas that bound nothing N tokens instead of MAX_TOKENS (their cut
// answers are counted apart anyway). With WebGPU, maskModes() below also
// checks that both ways the GPU sampler takes the mask give the CPU path's
// tokens.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import Ajv2020 from 'ajv/dist/2020.js';
import { check, done } from '../lib.mjs';
import { HEARTH, ROOT, testModel } from './util.mjs';

const ALL = process.env.HEARTH_SCHEMA_ALL === '1';
const WEBGPU = process.env.HEARTH_SCHEMA_WEBGPU ? process.env.HEARTH_SCHEMA_WEBGPU === '1' : ALL;
const DIR = path.join(ROOT, 'tests/fixtures/schemas');
const SUBSET = ['11_person', '13_mixed_required', '17_array_exact', '23_anyof_objects', '26_recursive_tree',
  '35_unicode_keys', '36_unicode_enum', '41_nullable_fields', '47_ref_root_items', '49_pydantic_style'];
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const names = shard(ALL ? files.map((f) => f.slice(0, -5)) : SUBSET);
const SEEDS = ALL ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [1, 2];
// An unbounded string closes only when the model happens to pick a quote:
// room enough for that on a random model.
const CTX = 2048, MAX_TOKENS = 1500;
const UNBOUNDED_MAX = Number(process.env.HEARTH_SCHEMA_UNBOUNDED_MAX || MAX_TOKENS);
// HEARTH_SCHEMA_MODELS=qwen or =llama runs one of the two.
const MODELS = [
  testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0'),
  testModel(['--arch', 'llama', '--type', 'q8_0', '--tokenizer', 'llama2'], 'chat-llama-llama2-q8_0'),
].filter((m) => !process.env.HEARTH_SCHEMA_MODELS || m.includes(process.env.HEARTH_SCHEMA_MODELS));
const BACKENDS = (process.env.HEARTH_SCHEMA_BACKENDS || 'native,wasm,webgpu').split(',');
const ajv = new Ajv2020({ strict: false });

// HEARTH_SCHEMA_SHARD=k/n: every n-th schema from the k-th (0-based).
function shard(list) {
  const m = /^(\d+)\/(\d+)$/.exec(process.env.HEARTH_SCHEMA_SHARD || '');
  return m ? list.filter((_, i) => i % Number(m[2]) === Number(m[1])) : list;
}
const maxTokensOf = (name) => (UNBOUNDED.has(name) ? Math.min(UNBOUNDED_MAX, MAX_TOKENS) : MAX_TOKENS);
const schemaOf = (name) => JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
const prompt = (name) => `Answer with JSON for the schema ${name}.`;

// Schemas that bound nothing (any value, unbounded strings, arrays or
// recursion): a random model may never close them, so an answer cut off by
// max_tokens is counted apart; every answer that ends must still validate.
const UNBOUNDED = new Set(['26_recursive_tree', '31_generic_object', '32_any_value', '33_true_schema', '34_array_any',
  '47_ref_root_items', '50_unbounded_string', '51_unbounded_array']);
const counts = {};
function judge(backend, model, name, seed, text, stop) {
  const c = (counts[backend] ??= { ok: 0, bad: 0, cut: 0 });
  if (stop === 'length' && UNBOUNDED.has(name)) { c.cut++; return; }
  let value, why = '';
  try { value = JSON.parse(text); } catch (e) { why = `not JSON (${e.message}), stop ${stop}: ${JSON.stringify(text.slice(0, 300))}`; }
  let validate;
  try { validate = ajv.compile(schemaOf(name)); } catch (e) { why ||= `ajv cannot compile the schema: ${e.message}`; }
  if (!why && !validate(value)) why = `invalid: ${ajv.errorsText(validate.errors)}: ${JSON.stringify(text.slice(0, 300))}`;
  if (!why && stop !== 'eog') why = `stopped by ${stop}`;
  if (why) c.bad++; else c.ok++;
  // one line per failure, and one per (backend, model) when all pass (below)
  if (why) check(`${backend} ${path.basename(model)} ${name} seed ${seed}: valid JSON`, false, why);
}

function summary(backend, model, before) {
  const c = counts[backend] ?? { ok: 0, bad: 0, cut: 0 };
  const ok = c.ok - before.ok, bad = c.bad - before.bad, cut = c.cut - (before.cut ?? 0);
  check(`${backend} ${path.basename(model)}: ${ok} of ${ok + bad} answers (${names.length} schemas x ${SEEDS.length} seeds; ${cut} of unbounded schemas cut off by max_tokens) are valid JSON for their schema`, bad === 0, `${bad} failed`);
}

// native: one process per answer
for (const model of BACKENDS.includes('native') ? MODELS : []) {
  const before = { ...(counts.native ?? { ok: 0, bad: 0, cut: 0 }) };
  for (const name of names)
    for (const seed of SEEDS) {
      const r = spawnSync(HEARTH, ['chat', '--model', model, '--json-schema', path.join(DIR, `${name}.json`), '--message', prompt(name),
        '--temperature', '1', '--seed', String(seed), '--max-tokens', String(maxTokensOf(name)), '--ctx', String(CTX), '--threads', '1', '--json'], { encoding: 'utf8' });
      if (r.status !== 0) { (counts.native ??= { ok: 0, bad: 0, cut: 0 }).bad++; check(`native ${name} seed ${seed}: runs`, false, r.stderr.slice(-500)); continue; }
      const turn = JSON.parse(r.stdout).turns[0];
      judge('native', model, name, seed, turn.assistant, turn.stop);
      if (ALL && seed === SEEDS.at(-1)) console.log(`# native ${path.basename(model)} ${name}: ${JSON.stringify(counts.native)}`);
    }
  summary('native', model, before);
}

// wasm (CPU) and WebGPU: one engine per model, every answer through beginChat
const { Hearth, nodeFileSource } = await import('../../web/hearth.mjs');
async function runApi(backend, h, model) {
  const before = { ...(counts[backend] ?? { ok: 0, bad: 0, cut: 0 }) };
  for (const name of names)
    for (const seed of SEEDS) {
      const g = h.beginChat([{ role: 'user', content: prompt(name) }], {
        temperature: 1, seed, maxTokens: maxTokensOf(name),
        responseFormat: { type: 'json_schema', json_schema: { name: 'test', schema: schemaOf(name) } },
      });
      let text = '';
      while (!g.done) text += (await g.next()).text;
      judge(backend, model, name, seed, text, g.result.stop);
      // progress of long runs: after every answer on WebGPU (slow), after every schema otherwise
      if (ALL && (backend === 'webgpu' || seed === SEEDS.at(-1)))
        console.log(`# ${backend} ${path.basename(model)} ${name} seed ${seed}: ${JSON.stringify(counts[backend])}`);
    }
  summary(backend, model, before);
}

for (const model of BACKENDS.includes('wasm') ? MODELS : []) {
  const h = await Hearth.create({ threads: 1, log: () => {} });
  try {
    h.load(await nodeFileSource(model), { contextSize: CTX });
    await runApi('wasm', h, model);
  } catch (e) { check(`wasm ${path.basename(model)}: runs`, false, e.stack); } finally { h.unload(); }
}

// The two ways the GPU sampler takes the grammar's mask (src/gpu/gpu_backend.h)
// against the CPU path (exact numerics, attention included): greedy, the same
// tokens all three ways; at temperature 1 with one seed, upload uses the
// step's one draw on the masked candidates as the CPU does, so the same
// tokens too (readback spends a second draw on each rejection: other tokens).
async function maskModes(createBackend) {
  const model = MODELS.find((m) => m.includes('llama')) ?? MODELS[0];
  const name = '11_person', N = 12;
  const run = async (h, temperature) => {
    const g = h.beginChat([{ role: 'user', content: prompt(name) }], { temperature, seed: 7, maxTokens: N,
      responseFormat: { type: 'json_schema', json_schema: { name: 'test', schema: schemaOf(name) } } });
    let text = '';
    while (!g.done) text += (await g.next()).text;
    return text;
  };
  const cpu = await Hearth.create({ threads: 1, log: () => {} });
  let gh;
  try {
    cpu.load(await nodeFileSource(model), { contextSize: 256, exactNumerics: true });
    gh = (await createBackend({ exactAttention: true })).engine;
    await gh.load(await nodeFileSource(model), { contextSize: 256 });
    for (const temperature of [0, 1]) {
      const want = await run(cpu, temperature);
      gh.gpu.mask = 'upload';
      const reads0 = gh.gpu.logitsReadbacks, up = await run(gh, temperature);
      gh.gpu.mask = 'readback';
      const reads = gh.gpu.logitsReadbacks, back = await run(gh, temperature);
      check(`webgpu mask upload, temperature ${temperature}: the CPU path's ${N} tokens, no readback`,
        up === want && reads === reads0, `${JSON.stringify(up)} vs ${JSON.stringify(want)}, ${reads - reads0} readbacks`);
      if (temperature === 0) check(`webgpu mask readback, greedy: the CPU path's ${N} tokens (${gh.gpu.logitsReadbacks - reads} readbacks)`,
        back === want, `${JSON.stringify(back)} vs ${JSON.stringify(want)}`);
    }
  } catch (e) { check('webgpu mask modes: run', false, e.stack); } finally { cpu.destroy(); gh?.destroy?.(); }
}

if (WEBGPU && BACKENDS.includes('webgpu')) {
  // SwiftShader where Chromium's is installed (this VM); a machine with a GPU keeps its own driver
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (!process.env.VK_ICD_FILENAMES && fs.existsSync(swiftshader)) process.env.VK_ICD_FILENAMES = swiftshader;
  const { createBackend } = await import('../../web/gpu/backend.mjs');
  if (process.env.HEARTH_SCHEMA_MASK_MODES !== '0') await maskModes(createBackend);
  for (const model of MODELS) {
    let h;
    try {
      h = (await createBackend({ threads: 1 })).engine;
      await h.load(await nodeFileSource(model), { contextSize: CTX });
      await runApi('webgpu', h, model);
    } catch (e) { check(`webgpu ${path.basename(model)}: runs`, false, e.stack); } finally { h?.unload?.(); h?.destroy?.(); }
  }
}
console.log(`# ${JSON.stringify(counts)}`);
done();
