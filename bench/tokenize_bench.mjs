#!/usr/bin/env node
// Tokenization speed on the generated corpus (tools/gen_corpus.mjs, ~1.2 MB)
// for hearth (C, tests/unit/tokenize_hf_driver.c --bench), llama.cpp
// (node-llama-cpp, vocabulary-only model) and Hugging Face's tokenizers.js
// (@huggingface/tokenizers). Each tokenizes every line alone ("lines") and the
// whole file as one text ("whole"); MB/s = corpus bytes / seconds, best of
// --reps runs. Also lists the corpus lines where llama.cpp's ids differ from
// Hugging Face's (--diff FILE writes them as JSON).
//
//   node bench/tokenize_bench.mjs [--ref DIR] [--reps N] [--out FILE] [--diff FILE] [NAME...]
//
// DIR holds node_modules/node-llama-cpp (default /tmp/ref, see tools/reference);
// without it the llama.cpp columns are null. Prints one JSON object.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { HF_NAMES, buildDriver, corpusFile, loadHF } from '../tests/e2e/tokenize_hf.test.mjs';
import { ensureModel } from '../tools/golden_tokenize.mjs';

const args = process.argv.slice(2);
let ref = '/tmp/ref', reps = 3, out = null, diffOut = null;
const names = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--ref') ref = args[++i];
  else if (args[i] === '--reps') reps = Number(args[++i]);
  else if (args[i] === '--out') out = args[++i];
  else if (args[i] === '--diff') diffOut = args[++i];
  else names.push(args[i]);
}

const file = corpusFile();
const text = fs.readFileSync(file, 'utf8');
const lines = text.split('\n').slice(0, -1);
const bytes = Buffer.byteLength(text);
const mbps = (s) => +(bytes / 1e6 / s).toFixed(2);
const best = (f) => {
  let t = Infinity, r;
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    r = f();
    t = Math.min(t, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return [t, r];
};

const { driver, error } = buildDriver();
if (error) throw new Error(error);
const makeHF = await loadHF();
let llama = null;
const nlc = path.join(ref, 'node_modules/node-llama-cpp/dist/index.js');
if (fs.existsSync(nlc)) {
  const { getLlama } = await import(pathToFileURL(nlc).href);
  llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
}

const result = { corpus: { bytes, lines: lines.length, generator: 'tools/gen_corpus.mjs' }, unit: 'MB/s', reps, tokenizers: {} };
const diffs = {};
for (const name of names.length ? names : HF_NAMES) {
  const model = ensureModel(name);
  const row = {};
  // hearth: the driver times itself (no process start-up in the numbers)
  let h = null;
  for (let i = 0; i < reps; i++) {
    const r = spawnSync(driver, ['--model', model, '--text-file', file, '--special', '--bench'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const j = JSON.parse(r.stdout);
    if (!h || j.lines_s < h.lines_s) h = { ...j, whole_s: Math.min(j.whole_s, h?.whole_s ?? Infinity) };
    else h.whole_s = Math.min(h.whole_s, j.whole_s);
  }
  row.hearth = { lines: mbps(h.lines_s), whole: mbps(h.whole_s), tokens: h.tokens };
  const hf = makeHF ? makeHF(name) : null;
  let hfIds = null;
  if (hf) {
    const [tl, ids] = best(() => lines.map((l) => hf.encode(l, { add_special_tokens: false }).ids));
    const [tw] = best(() => hf.encode(text, { add_special_tokens: false }).ids);
    hfIds = ids;
    row.huggingface_js = { lines: mbps(tl), whole: mbps(tw), tokens: ids.reduce((a, x) => a + x.length, 0) };
  }
  if (llama) {
    const m = await llama.loadModel({ modelPath: model, vocabOnly: true });
    const [tl, ids] = best(() => lines.map((l) => Array.from(m.tokenize(l, true))));
    const [tw] = best(() => m.tokenize(text, true));
    row.llama_cpp = { lines: mbps(tl), whole: mbps(tw), tokens: ids.reduce((a, x) => a + x.length, 0) };
    if (hfIds) {
      const d = [];
      ids.forEach((x, i) => {
        if (JSON.stringify(x) !== JSON.stringify(hfIds[i])) d.push({ line: i + 1, text: lines[i], llama_cpp: x, hf: hfIds[i] });
      });
      row.llama_cpp.lines_differing_from_hf = d.length;
      diffs[name] = d;
    }
    await m.dispose();
  }
  result.tokenizers[name] = row;
}
if (llama) await llama.dispose();
const json = JSON.stringify(result, null, 2);
console.log(json);
if (out) fs.writeFileSync(out, json + '\n');
if (diffOut) fs.writeFileSync(diffOut, JSON.stringify(diffs, null, 1) + '\n');
