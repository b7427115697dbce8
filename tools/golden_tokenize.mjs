#!/usr/bin/env node
// Golden token ids from llama.cpp (through node-llama-cpp) for the tokenizer
// tests: every line of tests/fixtures/tokenize/corpus_en_code.txt, tokenized
// alone without special-token parsing, and every line of corpus_special.txt
// (escapes \n \t \r \\ undone) both without and with it; also each file
// whole, as one text. One fixture per tokenizer: tests/fixtures/tokenize/NAME.json.
//
//   node tools/golden_tokenize.mjs [--ref DIR] [NAME...]
//
// NAME is stories260K or one of the vocab-only test models (llama2 llama3
// qwen3 gemma3), which make_test_model.mjs writes to build/models/ when
// missing. DIR holds node_modules/node-llama-cpp (default /tmp/ref).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sha256, testModel } from '../tests/e2e/util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, 'tests/fixtures/tokenize');

export const MODELS = {
  stories260K: { file: path.resolve(root, '../shared/models/stories260K.gguf') },
  llama2: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'llama2', '--vocab-only'] },
  llama3: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'llama3', '--vocab-only'] },
  qwen3: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'qwen3', '--vocab-only'] },
  gemma3: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'gemma3', '--vocab-only'] },
};

export function unescapeLine(s) {
  return s.replace(/\\([ntr\\])/g, (_, c) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]);
}

export function corpusLines(name) {
  const text = fs.readFileSync(path.join(fixtures, name), 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

// Path of the model for NAME (written by make_test_model.mjs unless a file
// made with the same arguments is in build/models already).
export function ensureModel(name) {
  const m = MODELS[name];
  return m.file ?? testModel(m.make, `vocab-${name}`);
}

function vocabSize(model) {
  return model.fileInfo.metadata.tokenizer.ggml.tokens.length;
}

// Every id the fixture's texts use, the first and last 300 ids (control,
// byte and added tokens live there) and 1000 more from a fixed PRNG.
function pieceIds(_, fixture, n) {
  const ids = new Set();
  for (const k of ['corpus', 'special_plain', 'special_parsed']) for (const l of fixture[k]) for (const id of l) ids.add(id);
  for (let i = 0; i < Math.min(300, n); i++) ids.add(i), ids.add(n - 1 - i);
  let x = 12345;
  for (let i = 0; i < 1000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    ids.add(x % n);
  }
  return [...ids].sort((a, b) => a - b);
}

async function main() {
  const argv = process.argv.slice(2);
  let ref = '/tmp/ref';
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--ref') ref = argv[++i];
    else if (argv[i] in MODELS) names.push(argv[i]);
    else throw new Error(`unknown argument ${argv[i]} (models: ${Object.keys(MODELS).join(' ')})`);
  }
  if (!names.length) names.push(...Object.keys(MODELS));

  const nlc = path.join(ref, 'node_modules/node-llama-cpp/dist/index.js');
  const { getLlama } = await import(pathToFileURL(nlc).href);
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const version = JSON.parse(fs.readFileSync(path.join(ref, 'node_modules/node-llama-cpp/package.json'), 'utf8')).version;

  const corpus = corpusLines('corpus_en_code.txt');
  const special = corpusLines('corpus_special.txt').map(unescapeLine);
  for (const name of names) {
    const file = ensureModel(name);
    const model = await llama.loadModel({ modelPath: file, vocabOnly: true });
    const tok = (text, sp) => Array.from(model.tokenize(text, sp));
    const fixture = {
      reference: `node-llama-cpp ${version}`,
      model: MODELS[name].make ? `make_test_model.mjs ${MODELS[name].make.join(' ')}` : path.basename(file),
      model_sha256: sha256(file),
      corpus: corpus.map((l) => tok(l, false)),
      special_plain: special.map((l) => tok(l, false)),
      special_parsed: special.map((l) => tok(l, true)),
      // whole files as one text each (the CLI tokenizes whole files)
      corpus_whole: tok(corpus.join('\n') + '\n', false),
      special_whole_plain: tok(special.join('\n') + '\n', false),
      special_whole_parsed: tok(special.join('\n') + '\n', true),
      // [id, detokenize([id], false), detokenize([id], true)] for a sample of ids
      pieces: [],
    };
    for (const id of pieceIds(null, fixture, vocabSize(model))) {
      fixture.pieces.push([id, model.detokenize([id], false), model.detokenize([id], true)]);
    }
    await model.dispose();
    const out = path.join(fixtures, `${name}.json`);
    // one line per text keeps diffs readable
    const body = Object.entries(fixture).map(([k, v]) => Array.isArray(v) && Array.isArray(v[0])
      ? `  ${JSON.stringify(k)}: [\n${v.map((ids) => `    ${JSON.stringify(ids)}`).join(',\n')}\n  ]`
      : `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n');
    fs.writeFileSync(out, `{\n${body}\n}\n`);
    const n = fixture.corpus.reduce((a, ids) => a + ids.length, 0);
    console.log(`${out}: ${corpus.length} + ${special.length} lines, ${n} corpus tokens`);
  }
  await llama.dispose();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
