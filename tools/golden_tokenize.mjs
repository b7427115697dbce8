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
// missing, or llama3 with another tokenizer.ggml.pre (llama3-pre-X), which
// exercises the other pre-tokenizers on the corpus (those fixtures hold the
// corpus only, and the deepseek ones also a multilingual sample of the
// generated corpus, see corpusSample). DIR holds node_modules/node-llama-cpp
// (default /tmp/ref).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sha256, testModel } from '../tests/e2e/util.mjs';
import { generateCorpus } from './gen_corpus.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, 'tests/fixtures/tokenize');

export const MODELS = {
  stories260K: { file: path.resolve(root, '../shared/models/stories260K.gguf') },
  llama2: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'llama2', '--vocab-only'] },
  llama3: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'llama3', '--vocab-only'] },
  qwen3: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'qwen3', '--vocab-only'] },
  gemma3: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'gemma3', '--vocab-only'] },
  gpt4o: { make: ['--arch', 'llama', '--type', 'f32', '--tokenizer', 'gpt4o', '--vocab-only'] },
};
for (const pre of ['gpt-2', 'smollm', 'default', 'falcon', 'qwen35', 'dbrx', 'deepseek-llm', 'deepseek-coder']) {
  MODELS[`llama3-pre-${pre}`] = { base: 'llama3', pre, sample: pre.startsWith('deepseek') };
}

// Every 40th line of the generated corpus (tools/gen_corpus.mjs: all its
// scripts, white space and symbols), then the lines of corpus_pretok.txt
// (escaped as corpus_special.txt; real text of those scripts, full-width and
// CJK punctuation, quotes, symbol runs, white space runs), for the
// pre-tokenizers whose regexes name scripts and code point ranges.
export function corpusSample() {
  const generated = generateCorpus().split('\n').slice(0, -1).filter((l, i) => i % 40 === 0);
  return [...generated, ...corpusLines('corpus_pretok.txt').map(unescapeLine)];
}

// Copies a vocabulary-only GGUF (no tensors) with tokenizer.ggml.pre set to pre.
export function withPre(src, pre, out) {
  const b = fs.readFileSync(src);
  let o = 0;
  const u32 = () => ((o += 4), b.readUInt32LE(o - 4));
  const u64 = () => ((o += 8), Number(b.readBigUInt64LE(o - 8)));
  const str = () => {
    const n = u64();
    o += n;
    return b.toString('utf8', o - n, o);
  };
  const SIZE = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skip = (type) => {
    if (type === 8) str();
    else if (type === 9) {
      const et = u32();
      const n = u64();
      if (et === 8 || et === 9) for (let i = 0; i < n; i++) skip(et);
      else o += SIZE[et] * n;
    } else o += SIZE[type];
  };
  if (u32() !== 0x46554747 || u32() !== 3) throw new Error(`${src}: not a GGUF v3 file`);
  if (u64() !== 0) throw new Error(`${src}: has tensors; only vocabulary-only files are rewritten`);
  const nKv = u64();
  const kvs = [];
  for (let i = 0; i < nKv; i++) {
    const start = o;
    const key = str();
    skip(u32());
    if (key !== 'tokenizer.ggml.pre') kvs.push(b.subarray(start, o));
  }
  const enc = (x) => Buffer.from(x, 'utf8');
  const len = (n) => { const x = Buffer.alloc(8); x.writeBigUInt64LE(BigInt(n)); return x; };
  const typ = (t) => { const x = Buffer.alloc(4); x.writeUInt32LE(t); return x; };
  kvs.push(Buffer.concat([len(enc('tokenizer.ggml.pre').length), enc('tokenizer.ggml.pre'), typ(8), len(enc(pre).length), enc(pre)]));
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0x46554747, 0);
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(0n, 8);
  head.writeBigUInt64LE(BigInt(kvs.length), 16);
  let body = Buffer.concat([head, ...kvs]);
  body = Buffer.concat([body, Buffer.alloc((32 - (body.length % 32)) % 32)]);
  fs.writeFileSync(out, body);
}

// The escapes of corpus_special.txt: \n \t \r \\ (one text per line).
export function escapeLine(s) {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

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
  if (m.base) {
    const base = ensureModel(m.base);
    const out = path.join(path.dirname(base), `${path.basename(base, '.gguf')}-pre-${m.pre}.gguf`);
    if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(base).mtimeMs) {
      withPre(base, m.pre, `${out}.tmp-${process.pid}`);
      fs.renameSync(`${out}.tmp-${process.pid}`, out);
    }
    return out;
  }
  return m.file ?? testModel(m.make, `vocab-${name}`);
}

function vocabSize(model) {
  return model.fileInfo.metadata.tokenizer.ggml.tokens.length;
}

// Every id the fixture's texts use, the first and last 300 ids (control,
// byte and added tokens live there) and 1000 more from a fixed PRNG.
function pieceIds(fixture, n) {
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
      model: MODELS[name].make ? `make_test_model.mjs ${MODELS[name].make.join(' ')}`
        : MODELS[name].base ? `${MODELS[name].base} with tokenizer.ggml.pre = ${MODELS[name].pre}` : path.basename(file),
      model_sha256: sha256(file),
      corpus: corpus.map((l) => tok(l, false)),
      // whole files as one text each (the CLI tokenizes whole files)
      corpus_whole: tok(corpus.join('\n') + '\n', false),
    };
    if (MODELS[name].sample) fixture.sample = corpusSample().map((l) => tok(l, false));
    if (!MODELS[name].base) {
      fixture.special_plain = special.map((l) => tok(l, false));
      fixture.special_parsed = special.map((l) => tok(l, true));
      fixture.special_whole_plain = tok(special.join('\n') + '\n', false);
      fixture.special_whole_parsed = tok(special.join('\n') + '\n', true);
      // [id, detokenize([id], false), detokenize([id], true)] for a sample of ids
      fixture.pieces = [];
      for (const id of pieceIds(fixture, vocabSize(model))) {
        fixture.pieces.push([id, model.detokenize([id], false), model.detokenize([id], true)]);
      }
    }
    await model.dispose();
    const out = path.join(fixtures, `${name}.json`);
    // one line per text keeps diffs readable
    const body = Object.entries(fixture).map(([k, v]) => Array.isArray(v) && Array.isArray(v[0])
      ? `  ${JSON.stringify(k)}: [\n${v.map((ids) => `    ${JSON.stringify(ids)}`).join(',\n')}\n  ]`
      : `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n');
    fs.writeFileSync(out, `{\n${body}\n}\n`);
    const n = fixture.corpus.reduce((a, ids) => a + ids.length, 0);
    console.log(`${out}: ${fixture.corpus.length} corpus lines, ${n} tokens`);
  }
  await llama.dispose();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
