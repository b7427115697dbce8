// Tokenization against Hugging Face (npm @huggingface/tokenizers, built from
// ../shared/tokenizers/NAME/tokenizer.json + tokenizer_config.json) on the
// generated multilingual corpus (tools/gen_corpus.mjs, ~1.2 MB): for every
// line, hearth's ids equal HF's encode(line, {add_special_tokens: false}),
// decode(encode(line)) gives the line back (after the tokenizer's
// normalization), and streaming decode one token at a time gives the same
// bytes as decoding the whole sequence. HF matches added tokens in the text
// always, as hearth does with parse_special, so hearth runs with --special.
// Lines listed in tests/fixtures/tokenize/hf_known.json are documented
// deviations and must still differ (so the list cannot go stale).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { check, done } from '../lib.mjs';
import { BUILD, HEARTH, ROOT, SHARED } from './util.mjs';
import { generateCorpus } from '../../tools/gen_corpus.mjs';
import { ensureModel, escapeLine, unescapeLine } from '../../tools/golden_tokenize.mjs';

export const HF_NAMES = ['llama2', 'llama3', 'qwen3', 'gemma3', 'gpt4o'];

// @huggingface/tokenizers from tests/node_modules (npm ci --prefix tests).
export async function loadHF() {
  const require = createRequire(path.join(ROOT, 'tests/package.json'));
  let file;
  try {
    file = require.resolve('@huggingface/tokenizers');
  } catch {
    return null;
  }
  const mod = await import(file.replace(/\.cjs$/, '.mjs'));
  return (name) => {
    const dir = path.join(SHARED, 'tokenizers', name);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    return new mod.Tokenizer(json, config);
  };
}

// The driver (tests/unit/tokenize_hf_driver.c), rebuilt when a source is newer.
export function buildDriver() {
  const driver = path.join(BUILD, 'tokenize_hf_driver');
  const src = (f) => path.join(ROOT, 'src', f);
  const tok = fs.readdirSync(path.join(ROOT, 'src/tokenizer'));
  const sources = [path.join(ROOT, 'tests/unit/tokenize_hf_driver.c'),
    ...['error.c', 'model/gguf.c', 'model/ggml_types.c'].map(src),
    ...tok.filter((f) => f.endsWith('.c')).map((f) => src(`tokenizer/${f}`))];
  const headers = ['', 'model/', 'tokenizer/'].flatMap((d) =>
    fs.readdirSync(src(d)).filter((f) => f.endsWith('.h')).map((f) => src(`${d}${f}`)));
  const mtime = (f) => fs.statSync(f).mtimeMs;
  if (fs.existsSync(driver) && ![...sources, ...headers].some((f) => mtime(f) > mtime(driver))) return { driver };
  fs.mkdirSync(BUILD, { recursive: true });
  const r = spawnSync(process.env.CC || 'cc', ['-std=c11', '-O2', '-Wall', '-Wextra', `-I${path.join(ROOT, 'src')}`,
    ...sources, '-o', driver, '-lm', '-lpthread'], { encoding: 'utf8' });
  return { driver, error: r.status !== 0 || r.stderr.includes('warning') ? r.stderr || `exit ${r.status}` : null };
}

export function corpusFile() {
  const file = path.join(BUILD, 'tokenize', 'corpus_hf.txt');
  const text = generateCorpus();
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return file;
}

// What HF's normalizer does to the text, as far as the round trip sees it.
const NORMALIZE = { qwen3: (s) => s.normalize('NFC') };

async function main() {
  const makeHF = await loadHF();
  if (!check('@huggingface/tokenizers is installed (npm ci --prefix tests)', makeHF !== null,
    'run: npm ci --prefix tests')) return done();
  const { driver, error } = buildDriver();
  if (!check('tokenize_hf_driver builds without warnings', !error, error)) return done();
  const file = corpusFile();
  const lines = fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
  const bytes = fs.statSync(file).size;
  check(`corpus is at least 1 MB (${bytes} bytes, ${lines.length} lines)`, bytes >= 1 << 20);
  // llama.cpp-vs-HF lines recorded by bench/tokenize_bench.mjs --diff: for qwen3 exactly the non-NFC lines,
  // for gpt4o lines with a combining mark or a non-ASCII lower-to-upper case change, none for the rest
  {
    const rec = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/tokenize/llamacpp_vs_hf_corpus.json'), 'utf8'));
    const sha = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const nonNfc = lines.flatMap((l, i) => (l.normalize('NFC') !== l ? [i + 1] : []));
    const markOrCase = /\p{M}|(?=[^\x00-\x7F])\p{Ll}[\p{Lu}\p{Lt}]|\p{Ll}(?=[^\x00-\x7F])[\p{Lu}\p{Lt}]/u;
    check(`llamacpp_vs_hf_corpus.json is for this corpus; llama.cpp differs from HF exactly on its ${nonNfc.length} non-NFC lines (qwen3), ` +
      `on ${rec.gpt4o?.count} lines with marks or non-ASCII case changes (gpt4o)`,
      rec.corpus_sha256 === sha && JSON.stringify(rec.qwen3.lines) === JSON.stringify(nonNfc) &&
        rec.gpt4o?.lines.length === rec.gpt4o.count && rec.gpt4o.lines.every((n) => markOrCase.test(lines[n - 1])) &&
        HF_NAMES.every((n) => n === 'qwen3' || n === 'gpt4o' || rec[n]?.count === 0),
      rec.corpus_sha256 !== sha ? 'corpus changed: rerun node bench/tokenize_bench.mjs --diff' : 'line lists differ');
  }
  const known = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/tokenize/hf_known.json'), 'utf8'));

  const specialFile = path.join(ROOT, 'tests/fixtures/tokenize/corpus_special.txt');
  // multi-line texts: the corpus in chunks of 1..40 lines joined by newline runs
  const chunks = [];
  for (let i = 0, k = 0; i < lines.length; k++) {
    const m = 1 + ((k * 7919) % 40);
    const seps = ['\n', '\n\n', '\r\n', ' \n', '\n\n\n', '\t\n', '\n ', '\r\n\r\n'];
    chunks.push(lines.slice(i, i + m).reduce((a, l, j) => (j ? a + seps[(k + j) % seps.length] + l : l), ''));
    i += m;
  }
  const chunkFile = path.join(BUILD, 'tokenize', 'corpus_hf_chunks.txt');
  fs.writeFileSync(chunkFile, chunks.map(escapeLine).join('\n') + '\n');
  const corpora = [
    { what: 'corpus', file, lines, args: [], roundTrip: true },
    { what: 'multi-line chunks', file: chunkFile, lines: chunks, args: ['--unescape'], roundTrip: true },
    // special-token texts (escaped: \n \t \r \\); no round trip, SPM decode puts spaces around them
    { what: 'special lines', file: specialFile, args: ['--unescape'],
      lines: fs.readFileSync(specialFile, 'utf8').split('\n').slice(0, -1).map(unescapeLine) },
  ];
  for (const name of HF_NAMES) {
    const hf = makeHF(name);
    for (const { what, file: f, lines: texts, args, roundTrip } of corpora) {
      const t0 = Date.now();
      const want = texts.map((l) => hf.encode(l, { add_special_tokens: false }).ids);
      const hfMs = Date.now() - t0;
      const r = spawnSync(driver, ['--model', ensureModel(name), '--text-file', f, '--special', ...args],
        { encoding: 'utf8', maxBuffer: 1 << 30 });
      if (!check(`${name} ${what}: driver runs`, r.status === 0, r.stderr)) continue;
      const rows = r.stdout.split('\n').slice(0, -1).map((l) => l.split('\t'));
      if (!check(`${name} ${what}: one result per line`, rows.length === texts.length, `${rows.length} vs ${texts.length}`)) continue;
      const skip = new Map((known[name] ?? []).filter((k) => k.corpus === what).map((k) => [k.line, k]));
      const bad = [], stale = [], trip = [], stream = [];
      texts.forEach((line, i) => {
        const [ids, hex, st] = rows[i];
        const got = ids ? ids.split(',').map(Number) : [];
        const same = got.length === want[i].length && got.every((x, k) => x === want[i][k]);
        if (skip.has(i + 1)) {
          if (same) stale.push(i + 1);
        } else if (!same) bad.push(i);
        const norm = (NORMALIZE[name] ?? ((x) => x))(line);
        if (roundTrip && Buffer.from(hex, 'hex').toString('utf8') !== norm) trip.push(i);
        if (st !== '1') stream.push(i);
      });
      const show = (list, fn) => list.slice(0, 3).map((i) => `\n    line ${i + 1} ${JSON.stringify(texts[i]).slice(0, 100)}${fn ? fn(i) : ''}`).join('');
      const lineBytes = texts.reduce((a, l, i) => a + (bad.includes(i) || skip.has(i + 1) ? 0 : Buffer.byteLength(l) + 1), 0);
      check(`${name} ${what}: ids equal Hugging Face's on ${texts.length - bad.length - skip.size}/${texts.length - skip.size} lines ` +
        `(${lineBytes} bytes; ${skip.size} documented deviations; HF took ${hfMs} ms)`, bad.length === 0,
      `${bad.length} lines differ:${show(bad, (i) => `\n      hearth ${rows[i][0].slice(0, 120)}\n      hf     ${want[i].join(',').slice(0, 120)}`)}`);
      if (skip.size) {
        check(`${name} ${what}: every documented deviation still differs`, stale.length === 0,
          `lines ${stale.join(', ')} now match: remove them from hf_known.json`);
      }
      if (roundTrip) {
        check(`${name} ${what}: decode(encode(line)) == line on all lines`, trip.length === 0,
          `${trip.length} lines differ:${show(trip, (i) => `\n      decoded ${JSON.stringify(Buffer.from(rows[i][1], 'hex').toString('utf8')).slice(0, 100)}`)}`);
      }
      check(`${name} ${what}: streaming decode equals whole decode on all lines`, stream.length === 0,
        `${stream.length} lines differ:${show(stream)}`);
    }
    // the special-token file as one text, through the CLI (vocabulary-only model)
    if (fs.existsSync(HEARTH) && !(known[name] ?? []).some((k) => k.corpus === 'special lines')) {
      const text = corpora[2].lines.join('\n') + '\n';
      const tmp = path.join(BUILD, 'tokenize', 'special_whole.txt');
      fs.writeFileSync(tmp, text);
      const r = spawnSync(HEARTH, ['tokenize', '--model', ensureModel(name), '--text-file', tmp, '--special', '--json'],
        { encoding: 'utf8', maxBuffer: 1 << 28 });
      let got = null;
      try {
        got = JSON.parse(r.stdout).tokens;
      } catch {}
      const want = hf.encode(text, { add_special_tokens: false }).ids;
      check(`${name}: CLI tokenize --special of the special file as one text equals Hugging Face's`,
        JSON.stringify(got) === JSON.stringify(want), r.status ? `exit ${r.status}: ${r.stderr}` : `${got?.length} tokens, expected ${want.length}`);
    }
  }
  done();
}

// `node tests/e2e/tokenize_hf.test.mjs --models` prints the vocabulary-only
// models of HF_NAMES separated by ':' (FUZZ_TOK_MODELS for tests/fuzz/fuzz_tok.c).
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  if (process.argv[2] === '--models') console.log(HF_NAMES.map((n) => ensureModel(n)).join(':'));
  else await main();
}
