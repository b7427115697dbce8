// Tokenization against llama.cpp's golden ids (tools/golden_tokenize.mjs):
// every corpus line alone, special-token lines with and without --special,
// each file as one text, and pieces, for stories260K and the four real
// tokenizers; the corpus also for llama3's vocabulary under the other
// pre-tokenizers (gpt-2, smollm, default, falcon, qwen35, dbrx, deepseek-llm,
// deepseek-coder; the deepseek ones also on a sample of the generated
// multilingual corpus).
// Per-line checks go through tests/unit/tokenize_driver.c (one process for
// all lines, built here from the sources); whole files also go through the
// CLI (`hearth tokenize --json`). Where llama.cpp and Hugging Face differ and
// hearth follows HF, exactly the lines in tests/fixtures/tokenize/llamacpp_vs_hf.json
// are skipped (and must still differ).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { check, done } from '../lib.mjs';
import { BUILD, HEARTH, ROOT, hearth, sha256, testModel } from './util.mjs';
import { MODELS, corpusSample, ensureModel, escapeLine, unescapeLine } from '../../tools/golden_tokenize.mjs';

const fixtures = path.join(ROOT, 'tests/fixtures/tokenize');
const corpusFile = path.join(fixtures, 'corpus_en_code.txt');
const specialFile = path.join(fixtures, 'corpus_special.txt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-tok-'));

// ---- the driver: rebuilt when a source is newer ----
const driver = path.join(BUILD, 'tokenize_driver');
// the tokenizer (src/tokenizer/) and what it reads vocabularies with
const sources = [
  'tests/unit/tokenize_driver.c', 'src/error.c', 'src/model/gguf.c', 'src/model/ggml_types.c',
  ...fs.readdirSync(path.join(ROOT, 'src/tokenizer')).filter((f) => f.endsWith('.c')).map((f) => `src/tokenizer/${f}`),
].map((f) => path.join(ROOT, f));
const headers = ['src', 'src/model', 'src/tokenizer'].flatMap((d) =>
  fs.readdirSync(path.join(ROOT, d)).filter((f) => f.endsWith('.h')).map((f) => path.join(ROOT, d, f)));
const mtime = (f) => fs.statSync(f).mtimeMs;
if (!fs.existsSync(driver) || [...sources, ...headers].some((f) => mtime(f) > mtime(driver))) {
  fs.mkdirSync(BUILD, { recursive: true });
  const cc = (inputs) => spawnSync(process.env.CC || 'cc', ['-std=c11', '-O2', '-Wall', '-Wextra',
    `-I${path.join(ROOT, 'src')}`, ...inputs, '-o', driver, '-lm', '-lpthread'], { encoding: 'utf8' });
  let r = cc(sources);
  // should the GGUF reader come to need more of the core, link the library instead
  const lib = path.join(BUILD, 'libhearth.a');
  if (r.status !== 0 && fs.existsSync(lib)) r = cc([sources[0], lib]);
  check('tokenize_driver builds without warnings', r.status === 0 && !r.stderr.includes('warning'), r.stderr);
  if (r.status !== 0) {
    done();
    process.exit();
  }
}

function runDriver(model, args) {
  const r = spawnSync(driver, ['--model', model, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) return { error: `exit ${r.status}: ${r.stderr}` };
  return { out: r.stdout };
}

// Compares lists of id lists; returns '' or a description of the first
// mismatches. Lines in skip (1-based, documented in llamacpp_vs_hf.json) must differ.
function diff(got, want, texts, skip = []) {
  const bad = [];
  for (let i = 0; i < want.length; i++) {
    const same = JSON.stringify(got[i]) === JSON.stringify(want[i]);
    if (skip.includes(i + 1) ? same : !same) bad.push(i);
  }
  if (got.length !== want.length) return `${got.length} lines, expected ${want.length}`;
  if (!bad.length) return '';
  const i = bad[0];
  return `${bad.length}/${want.length} lines differ; first: line ${i + 1} ${JSON.stringify(texts[i]).slice(0, 120)}\n` +
    `    got  ${JSON.stringify(got[i])}\n    want ${JSON.stringify(want[i])}`;
}

// Documented llama.cpp-vs-Hugging Face differences where hearth follows HF.
const deviations = JSON.parse(fs.readFileSync(path.join(fixtures, 'llamacpp_vs_hf.json'), 'utf8'));

const corpusLines = fs.readFileSync(corpusFile, 'utf8').split('\n').slice(0, -1);
const specialLines = fs.readFileSync(specialFile, 'utf8').split('\n').slice(0, -1).map(unescapeLine);
const corpusWhole = path.join(tmp, 'corpus.txt');
fs.copyFileSync(corpusFile, corpusWhole);
const specialWhole = path.join(tmp, 'special.txt');
fs.writeFileSync(specialWhole, specialLines.join('\n') + '\n');
const sampleLines = corpusSample();
const sampleFile = path.join(tmp, 'sample.txt');
fs.writeFileSync(sampleFile, sampleLines.map(escapeLine).join('\n') + '\n');

for (const name of Object.keys(MODELS)) {
  const fx = JSON.parse(fs.readFileSync(path.join(fixtures, `${name}.json`), 'utf8'));
  const model = ensureModel(name);
  if (sha256(model) !== fx.model_sha256) {
    console.log(`# ${name}: the model differs from the fixture's (make_test_model.mjs changed?); ` +
      'if tokens differ, rerun node tools/golden_tokenize.mjs');
  }
  const lines = (args) => {
    const r = runDriver(model, args);
    return r.error ? r : { ids: r.out.split('\n').slice(0, -1).map((l) => JSON.parse(l)) };
  };
  const variant = !fx.special_plain; /* llama3-pre-X: corpus only */
  const dev = deviations[name] ?? {};
  const cases = [
    ['corpus lines', ['--text-file', corpusFile, '--lines'], fx.corpus, corpusLines],
    ['special lines, plain', ['--text-file', specialFile, '--lines', '--unescape'], fx.special_plain, specialLines],
    ['special lines, --special', ['--text-file', specialFile, '--lines', '--unescape', '--special'],
      fx.special_parsed, specialLines, dev.special_parsed_lines ?? []],
  ];
  const sample = fx.sample ? [['sample lines (generated corpus, corpus_pretok.txt)', ['--text-file', sampleFile, '--lines', '--unescape'], fx.sample, sampleLines]] : [];
  for (const [what, args, want, texts, skip] of [...(variant ? cases.slice(0, 1) : cases), ...sample]) {
    const r = lines(args);
    const d = r.error ?? diff(r.ids, want, texts, skip);
    const note = skip?.length ? ` (lines ${skip.join(', ')} follow Hugging Face, see llamacpp_vs_hf.json)` : '';
    check(`${name}: ${what} match llama.cpp${note}`, d === '', d);
  }
  const wholes = [
    ['corpus file', corpusWhole, [], fx.corpus_whole],
    ['special file, plain', specialWhole, [], fx.special_whole_plain],
    ['special file, --special', specialWhole, ['--special'], fx.special_whole_parsed],
  ];
  for (const [what, file, extra, want] of variant ? wholes.slice(0, 1) : wholes) {
    const r = runDriver(model, ['--text-file', file, ...extra]);
    const got = r.error ? null : JSON.parse(r.out).tokens;
    if (dev.whole?.includes(what)) {
      check(`${name}: ${what} as one text differs from llama.cpp as documented (hearth follows Hugging Face)`,
        !r.error && JSON.stringify(got) !== JSON.stringify(want), r.error ?? 'now equal: update llamacpp_vs_hf.json');
      continue;
    }
    check(`${name}: ${what} as one text matches llama.cpp`, JSON.stringify(got) === JSON.stringify(want),
      r.error ?? `${got.length} tokens, expected ${want.length}`);
  }

  if (variant) continue;

  // Pieces. The reference is llama.cpp's detokenize([id]), which also drops
  // one leading space for SPM vocabularies with a space prefix and, for
  // llama3 (clean_spaces), spaces before ?!.,' — pieces touched by that, and
  // pieces that are not valid UTF-8 (the reference is a JS string), are skipped.
  {
    const stripSpace = ['stories260K', 'llama2'].includes(name);
    const cleanSpaces = name === 'llama3';
    const r = runDriver(model, ['--pieces', fx.pieces.map((p) => p[0]).join(',')]);
    const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    let bad = [], skipped = 0;
    if (!r.error) {
      const rows = r.out.split('\n').slice(0, -1).map((l) => l.split(' '));
      fx.pieces.forEach(([id, plain, shown], i) => {
        const [gid, ...hex] = rows[i] ?? [];
        if (Number(gid) !== id) return bad.push(`id ${id}: driver answered ${gid}`);
        if (dev.pieces?.includes(id)) {
          // documented: hearth shows the piece, llama.cpp hides it
          const t = Buffer.from(hex[0], 'hex').toString('utf8');
          if (t === plain) bad.push(`id ${id}: documented deviation now matches llama.cpp`);
          else skipped++;
          return;
        }
        hex.forEach((h, k) => {
          let text;
          try {
            text = dec.decode(Buffer.from(h, 'hex'));
          } catch {
            skipped++;
            return;
          }
          if (stripSpace && text.startsWith(' ')) text = text.slice(1);
          const want = k ? shown : plain;
          if (text === want) return;
          if (cleanSpaces && /[ ][?!.,']/.test(text)) return skipped++;
          bad.push(`id ${id}${k ? ' (show special)' : ''}: ${JSON.stringify(text)}, expected ${JSON.stringify(want)}`);
        });
      });
    }
    check(`${name}: pieces of ${fx.pieces.length} tokens match llama.cpp (${skipped} skipped)`, !r.error && !bad.length,
      r.error ?? `${bad.length} differ, first: ${bad.slice(0, 3).join('; ')}`);
  }

  // The CLI. It loads the whole model, so a vocabulary-only file is replaced
  // by a tiny model with the same tokenizer when the CLI refuses it.
  if (!fs.existsSync(HEARTH)) {
    console.log(`# ${name}: ${HEARTH} not built, CLI checks skipped`);
    continue;
  }
  let cliModel = model;
  let r = hearth(['tokenize', '--model', cliModel, '--text', 'x', '--json']);
  if (r.status !== 0 && MODELS[name].make) {
    const args = MODELS[name].make.filter((a) => a !== '--vocab-only').map((a) => (a === 'f32' ? 'q8_0' : a));
    cliModel = testModel(args, `llama-${name}-q8_0`);
  }
  for (const [what, file, extra, want] of wholes) {
    r = hearth(['tokenize', '--model', cliModel, '--text-file', file, '--json', ...extra]);
    let got = null;
    try {
      got = JSON.parse(r.stdout).tokens;
    } catch {}
    if (dev.whole?.includes(what)) {
      check(`${name}: CLI tokenize, ${what}, differs from llama.cpp as documented (hearth follows Hugging Face)`,
        got !== null && JSON.stringify(got) !== JSON.stringify(want), r.status ? `exit ${r.status}: ${r.stderr}` : 'now equal');
      continue;
    }
    check(`${name}: CLI tokenize, ${what}, matches llama.cpp`, JSON.stringify(got) === JSON.stringify(want),
      r.status ? `exit ${r.status}: ${r.stderr}` : `${got?.length} tokens, expected ${want.length}`);
  }
}

fs.rmSync(tmp, { recursive: true, force: true });
done();
