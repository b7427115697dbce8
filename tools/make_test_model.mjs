#!/usr/bin/env node
// Writes a GGUF v3 test model the way llama.cpp's convert_hf_to_gguf.py would
// store it: real tokenizer metadata from ../shared/tokenizers/NAME, random
// weights from a seeded PRNG (same arguments => byte-identical file).
//
//   node tools/make_test_model.mjs --arch llama|phi3|qwen2|qwen3|gemma3|gemma2|smollm3
//       --type f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1
//       --tokenizer llama2|llama3|qwen3|gemma3|gpt4o --out FILE.gguf
//       [--seed N] [--shape tiny|qwen2.5-0.5b|llama3.2-1b|phi3-mini]
//       [--rope-freqs] [--rope-factors] [--vocab-only] [--split N]
//       [--tied|--untied] [--spm-scores id|merge] [--quiet]
//       [--embd N --heads N --kv-heads N --head-dim N --ff N --layers N --ctx N]
//       (explicit dimensions, each overriding the shape's; exact weights as tiny)
//       [--rope-dim N] (partial rotary, phi3) [--swa N] [--swa-pattern N] (sliding window)
//       [--ftype q4_k_m|q4_k_s|q5_k_m|q5_k_s|q6_k|q3_k_s|q3_k_m|q3_k_l|q2_k|iq4_xs|iq4_nl
//               |q4_0|q4_1|q5_0|q5_1|q8_0]
//       (llama-quantize's mixture: the file llama-quantize writes from the --type f16
//       model of the same arguments, byte for byte; tools/check_quantize.mjs proves it)
//
// See docs/test-models.md for the conventions.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GGUFWriter, T, GGML, FILE_TYPE, FTYPES, rowBytes, encodeRows, f32ToF16, f16ToF32, f32ToBf16, f32Bits,
} from './gguf_write.mjs';
import { KVALUES_IQ4NL } from './ggml_kquants.mjs';
import { mixtureTypes, llamaTensorOrder } from './llama_quant_types.mjs';
import crypto from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const SHARED = process.env.HEARTH_SHARED || path.resolve(repoRoot, '..', 'shared');

// ---------------------------------------------------------------- options
export function parseArgs(argv) {
  const o = {
    arch: 'llama', type: 'f32', tokenizer: 'llama2', out: null, seed: 1, shape: 'tiny',
    ropeFreqs: false, ropeFactors: false, vocabOnly: false, split: 0, tied: null,
    spmScores: 'merge', quiet: false, dims: {}, ftype: null, ropeDim: null, swa: null, swaPattern: null,
  };
  let typeGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--arch': o.arch = val(); break;
      case '--type': o.type = val(); typeGiven = true; break;
      case '--ftype': o.ftype = val().toLowerCase(); break;
      case '--tokenizer': o.tokenizer = val(); break;
      case '--out': o.out = val(); break;
      case '--seed': o.seed = Number(val()); break;
      case '--shape': o.shape = val(); break;
      case '--rope-freqs': o.ropeFreqs = true; break;
      case '--rope-factors': o.ropeFactors = true; break;
      case '--vocab-only': o.vocabOnly = true; break;
      case '--split': o.split = Number(val()); break;
      case '--tied': o.tied = true; break;
      case '--untied': o.tied = false; break;
      case '--spm-scores': o.spmScores = val(); break;
      case '--quiet': o.quiet = true; break;
      case '--embd': o.dims.n_embd = Number(val()); break;
      case '--heads': o.dims.n_head = Number(val()); break;
      case '--kv-heads': o.dims.n_head_kv = Number(val()); break;
      case '--head-dim': o.dims.head_dim = Number(val()); break;
      case '--ff': o.dims.n_ff = Number(val()); break;
      case '--layers': o.dims.n_layer = Number(val()); break;
      case '--ctx': o.dims.n_ctx = Number(val()); break;
      case '--rope-dim': o.ropeDim = Number(val()); break;
      case '--swa': o.swa = Number(val()); break;
      case '--swa-pattern': o.swaPattern = Number(val()); break;
      case '-h': case '--help':
        console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 20)
          .map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
        process.exit(0);
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!(o.arch in ARCH)) throw new Error(`--arch ${o.arch}?`);
  if (o.ftype) {
    if (!(o.ftype in FTYPES)) throw new Error(`--ftype ${o.ftype}? (${Object.keys(FTYPES).join(' ')})`);
    if (typeGiven && o.type !== 'f16') throw new Error('--ftype quantizes the --type f16 model: give no other --type');
    if (o.split > 1) throw new Error('--ftype with --split is not supported');
    o.type = 'f16';
  }
  if (!['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1'].includes(o.type)) throw new Error(`--type ${o.type}?`);
  if (!['llama2', 'llama3', 'qwen3', 'gemma3', 'gpt4o'].includes(o.tokenizer)) throw new Error(`--tokenizer ${o.tokenizer}?`);
  if (!(o.shape in SHAPES)) throw new Error(`--shape ${o.shape}?`);
  if (!o.out) throw new Error('--out FILE.gguf is required');
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new Error('--seed must be a non-negative integer');
  if (!['id', 'merge'].includes(o.spmScores)) throw new Error('--spm-scores id|merge');
  if (o.ropeFactors && o.arch !== 'phi3') throw new Error('--rope-factors is for --arch phi3');
  if (o.ropeFreqs && o.arch !== 'llama') throw new Error('--rope-freqs is for --arch llama');
  if (o.ropeDim !== null && (o.arch !== 'phi3' || !Number.isInteger(o.ropeDim) || o.ropeDim <= 0 || o.ropeDim % 2)) {
    throw new Error('--rope-dim N (even) is for --arch phi3');
  }
  if (o.swa !== null && (!['gemma2', 'gemma3', 'phi3'].includes(o.arch) || !Number.isInteger(o.swa) || o.swa < 0)) {
    throw new Error('--swa N is for --arch gemma2|gemma3|phi3');
  }
  if (o.swaPattern !== null && (!['gemma2', 'gemma3'].includes(o.arch) || !Number.isInteger(o.swaPattern) || o.swaPattern < 0)) {
    throw new Error('--swa-pattern N is for --arch gemma2|gemma3');
  }
  if (GEMMA.has(o.arch) && o.tied === false) throw new Error(`--arch ${o.arch} always ties token_embd and output`);
  for (const [k, v] of Object.entries(o.dims)) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${k} must be a positive integer`);
  }
  return o;
}

// ---------------------------------------------------------------- shapes
export const SHAPES = {
  tiny: { n_embd: 64, n_head: 4, n_head_kv: 2, n_ff: 128, n_layer: 2, n_ctx: 512 },
  'qwen2.5-0.5b': {
    n_embd: 896, n_head: 14, n_head_kv: 2, n_ff: 4864, n_layer: 24, n_ctx: 32768, n_vocab: 151936, tied: true,
  },
  'llama3.2-1b': {
    n_embd: 2048, n_head: 32, n_head_kv: 8, n_ff: 8192, n_layer: 16, n_ctx: 131072, n_vocab: 128256, tied: true,
  },
  'phi3-mini': {
    n_embd: 3072, n_head: 32, n_head_kv: 32, n_ff: 8192, n_layer: 32, n_ctx: 4096, n_vocab: 32064,
  },
};

const ARCH = {
  llama: { rms_eps: 1e-5, freq_base: 10000, name: 'Llama' },
  phi3: { rms_eps: 1e-5, freq_base: 10000, name: 'Phi3' },
  qwen2: { rms_eps: 1e-6, freq_base: 1000000, name: 'Qwen2' },
  // the newer architectures (issue 16), with their real models' values
  qwen3: { rms_eps: 1e-6, freq_base: 1000000, name: 'Qwen3' }, // Qwen3-0.6B
  gemma3: { rms_eps: 1e-6, freq_base: 1000000, freq_base_swa: 10000, swa: 16, name: 'Gemma3' }, // Gemma-3-1B
  gemma2: { rms_eps: 1e-6, freq_base: 10000, swa: 8, attn_softcap: 50, final_softcap: 30, name: 'Gemma2' }, // gemma-2-2b
  smollm3: { rms_eps: 1e-6, freq_base: 5000000, name: 'SmolLM3' }, // SmolLM3-3B
};
const GEMMA = new Set(['gemma2', 'gemma3']);

// ---------------------------------------------------------------- PRNG
// xoshiro128** seeded through splitmix32 from FNV-1a(seed, tensor name):
// every tensor has its own stream, independent of tensor order and split.
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}
class Rng {
  constructor(seed, name) {
    let x = fnv1a(`${seed}\u0000${name}`);
    const sm = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if (!(this.s[0] | this.s[1] | this.s[2] | this.s[3])) this.s[0] = 1;
  }
  u32() {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 11);
    return r;
  }
  uniform() { return this.u32() / 4294967296; } // [0,1)
  // approximately standard normal: Irwin-Hall(4), pure arithmetic so it is
  // bit-identical on every platform (no transcendental functions).
  gauss() { return (this.uniform() + this.uniform() + this.uniform() + this.uniform() - 2) * 1.7320508075688772; }
}
function rotl(x, k) { return ((x << k) | (x >>> (32 - k))) >>> 0; }

// ---------------------------------------------------------------- tokenizer
function readJson(p) { return JSON.parse(fs.readFileSync(p, 'utf8')); }

// convert_hf_to_gguf.py: TextModel.does_token_look_special
function looksSpecial(t) {
  return ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(t)
    || (t.startsWith('<|') && t.endsWith('|>'))
    || (t.startsWith('<\uff5c') && t.endsWith('\uff5c>'))
    || (t.startsWith('<unused') && t.endsWith('>'));
}

const TT = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 };

// Returns { model, pre, tokens[], scores?, types[], merges?, special ids,
// add_bos, add_eos, add_space_prefix?, chat_template? }
export function loadTokenizer(name, nVocabOverride = 0, spmScores = 'id') {
  const dir = path.join(SHARED, 'tokenizers', name);
  const tj = readJson(path.join(dir, 'tokenizer.json'));
  const tc = readJson(path.join(dir, 'tokenizer_config.json'));
  const spm = name === 'llama2' || name === 'gemma3';
  const vocab = tj.model.vocab;
  const added = new Map(tj.added_tokens.map((a) => [a.id, a]));
  let maxId = -1;
  for (const k in vocab) if (vocab[k] > maxId) maxId = vocab[k];
  for (const id of added.keys()) if (id > maxId) maxId = id;
  const n = Math.max(maxId + 1, nVocabOverride);
  const byId = new Array(n).fill(null);
  for (const k in vocab) byId[vocab[k]] = k;
  for (const [id, a] of added) byId[id] = a.content;

  const tokens = new Array(n);
  const types = new Int32Array(n);
  const scores = spm ? new Float32Array(n) : null;

  // SentencePiece scores are not in tokenizer.json: derive them so that a
  // higher score means an earlier BPE merge (see docs/test-models.md).
  let mergeRank = null;
  if (spm && spmScores === 'merge') {
    mergeRank = new Map();
    tj.model.merges.forEach((m, r) => {
      const [a, b] = Array.isArray(m) ? m : splitMerge(m);
      const t = a + b;
      if (!mergeRank.has(t)) mergeRank.set(t, r);
    });
  }

  for (let id = 0; id < n; id++) {
    let text = byId[id];
    if (text === null) {
      // gap or padding up to the model's vocab size (converter: [PAD{id}], UNUSED)
      tokens[id] = `[PAD${id}]`;
      types[id] = TT.UNUSED;
      if (spm) scores[id] = -1000;
      continue;
    }
    const a = added.get(id);
    let type;
    if (a) {
      if (spm && id === vocab[tj.model.unk_token] && text === tj.model.unk_token) type = TT.UNKNOWN;
      else if (a.special || looksSpecial(text)) type = TT.CONTROL;
      else {
        type = TT.USER_DEFINED;
        text = text.replaceAll('\u2581', ' '); // converter pre-normalizes user-defined spaces
      }
    } else if (spm && /^<0x[0-9A-Fa-f]{2}>$/.test(text)) type = TT.BYTE;
    else type = TT.NORMAL;
    tokens[id] = text;
    types[id] = type;
    if (spm) {
      if (type === TT.NORMAL) {
        if (mergeRank) scores[id] = mergeRank.has(text) ? -mergeRank.get(text) : -(tj.model.merges.length + id);
        else scores[id] = -id;
      } else if (type === TT.BYTE || type === TT.UNKNOWN) scores[id] = 0;
      else scores[id] = -1000; // control / user-defined, as the converter writes for added tokens
    }
  }

  const idOf = (t) => {
    if (t == null) return undefined;
    const s = typeof t === 'string' ? t : t.content;
    for (const [id, a] of added) if (a.content === s) return id;
    return vocab[s];
  };
  const r = {
    model: spm ? 'llama' : 'gpt2',
    pre: spm ? 'default' : { llama3: 'llama-bpe', qwen3: 'qwen2', gpt4o: 'gpt-4o' }[name],
    tokens, types, scores,
    merges: spm ? null : tj.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m)),
    bos: idOf(tc.bos_token), eos: idOf(tc.eos_token), unk: idOf(tc.unk_token), pad: idOf(tc.pad_token),
    eot: undefined,
    add_bos: tc.add_bos_token, add_eos: tc.add_eos_token,
    add_space_prefix: undefined,
    chat_template: typeof tc.chat_template === 'string' ? tc.chat_template : undefined,
  };
  if (name === 'llama3') {
    // tokenizer.json's post-processor here is plain ByteLevel, but Llama 3
    // GGUFs carry add_bos_token = true (llama.cpp's llama-bpe default).
    r.add_bos = true;
    r.eot = idOf('<|eot_id|>');
  }
  if (name === 'qwen3') {
    // bos is null in tokenizer_config; Qwen GGUFs get 151643 from config.json
    r.bos = idOf('<|endoftext|>');
    r.eot = idOf('<|im_end|>');
  }
  if (name === 'gemma3') {
    r.add_space_prefix = false;
    r.eot = idOf('<end_of_turn>');
  }
  return r;
}
function splitMerge(m) {
  const i = m.indexOf(' ', 1);
  return [m.slice(0, i), m.slice(i + 1)];
}

function addTokenizerKV(w, tk) {
  w.str('tokenizer.ggml.model', tk.model);
  w.str('tokenizer.ggml.pre', tk.pre);
  w.arr('tokenizer.ggml.tokens', T.STRING, tk.tokens);
  if (tk.scores) w.arr('tokenizer.ggml.scores', T.FLOAT32, tk.scores);
  w.arr('tokenizer.ggml.token_type', T.INT32, tk.types);
  if (tk.merges) w.arr('tokenizer.ggml.merges', T.STRING, tk.merges);
  if (tk.bos !== undefined) w.u32('tokenizer.ggml.bos_token_id', tk.bos);
  if (tk.eos !== undefined) w.u32('tokenizer.ggml.eos_token_id', tk.eos);
  if (tk.eot !== undefined) w.u32('tokenizer.ggml.eot_token_id', tk.eot);
  if (tk.unk !== undefined) w.u32('tokenizer.ggml.unknown_token_id', tk.unk);
  if (tk.pad !== undefined) w.u32('tokenizer.ggml.padding_token_id', tk.pad);
  if (tk.add_bos !== undefined) w.bool('tokenizer.ggml.add_bos_token', tk.add_bos);
  if (tk.add_eos !== undefined) w.bool('tokenizer.ggml.add_eos_token', tk.add_eos);
  if (tk.add_space_prefix !== undefined) w.bool('tokenizer.ggml.add_space_prefix', tk.add_space_prefix);
  if (tk.chat_template !== undefined) w.str('tokenizer.chat_template', tk.chat_template);
}

// ---------------------------------------------------------------- tensors
const CHUNK_BYTES = 8 << 20;

// Exact path: float values from the PRNG, then converted/quantized exactly
// as ggml would. gen(rng, i) gives element i (row-major, ne[0] fastest).
function exactData(type, ne, rng, gen) {
  return function* () {
    const rowLen = ne[0];
    let rows = 1;
    for (let i = 1; i < ne.length; i++) rows *= ne[i];
    const rb = rowBytes(type, rowLen);
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / rb));
    const r = rng();
    let idx = 0;
    for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
      const nr = Math.min(rowsPerChunk, rows - r0);
      const x = new Float32Array(nr * rowLen);
      for (let i = 0; i < x.length; i++) x[i] = gen(r, idx++);
      const buf = Buffer.alloc(nr * rb);
      for (let k = 0; k < nr; k++) encodeRows(type, x.subarray(k * rowLen, (k + 1) * rowLen), buf, k * rb);
      yield buf;
    }
  };
}

// Fast path for the big shapes: random encoded values / quantized blocks
// with sane scales written directly (speed matters more than the values).
function fastData(type, ne, rng, std) {
  return function* () {
    let n = 1;
    for (const d of ne) n *= d;
    const r = rng();
    const total = (n / GGML[type].blck) * GGML[type].bytes;
    const t = GGML[type];
    if (t.blck === 1) {
      // table of 4096 encoded gaussians; 12-bit random indices
      const table = new Uint32Array(4096);
      for (let i = 0; i < 4096; i++) {
        const v = Math.fround(r.gauss() * std);
        table[i] = type === 'f32' ? f32Bits(v) : type === 'f16' ? f32ToF16(v) : f32ToBf16(v);
      }
      const per = Math.floor(CHUNK_BYTES / t.bytes);
      for (let e0 = 0; e0 < n; e0 += per) {
        const m = Math.min(per, n - e0);
        const buf = Buffer.alloc(m * t.bytes);
        if (type === 'f32') {
          const u = new Uint32Array(buf.buffer, buf.byteOffset, m);
          for (let i = 0; i < m; i += 2) {
            const x = r.u32();
            u[i] = table[x & 4095];
            if (i + 1 < m) u[i + 1] = table[(x >>> 12) & 4095];
          }
        } else {
          const u = new Uint16Array(buf.buffer, buf.byteOffset, m);
          for (let i = 0; i < m; i += 2) {
            const x = r.u32();
            u[i] = table[x & 4095];
            if (i + 1 < m) u[i + 1] = table[(x >>> 12) & 4095];
          }
        }
        yield buf;
      }
      return;
    }
    // quantized: fixed fp16 scale chosen so that the dequantized std ~ std
    const qstd = { q4_0: 4.6, q4_1: 4.6, q5_0: 9.2, q5_1: 9.2, q8_0: 73.9 }[type];
    const d = f32ToF16(std / qstd);
    const mins = { q4_1: -7.5, q5_1: -15.5 };
    const m = type in mins ? f32ToF16((std / qstd) * mins[type]) : 0;
    const hdr = type === 'q4_1' || type === 'q5_1' ? 4 : 2;
    const blocksPerChunk = Math.floor(CHUNK_BYTES / t.bytes);
    const nb = n / t.blck;
    for (let b0 = 0; b0 < nb; b0 += blocksPerChunk) {
      const k = Math.min(blocksPerChunk, nb - b0);
      // random bytes everywhere, then the scale (and min) of every block
      const raw = new Uint32Array(Math.ceil((k * t.bytes) / 4));
      for (let i = 0; i < raw.length; i++) raw[i] = r.u32();
      const buf = Buffer.from(raw.buffer, 0, k * t.bytes);
      for (let o = 0; o < buf.length; o += t.bytes) {
        buf[o] = d & 0xff; buf[o + 1] = d >>> 8;
        if (hdr === 4) { buf[o + 2] = m & 0xff; buf[o + 3] = m >>> 8; }
      }
      yield buf;
    }
    void total;
  };
}

// Fast path for K-quant / IQ4 types: random quants (every bit random) and, per block,
// a header (scales, mins, d, dmin) picked from 256 valid patterns: small random 6-bit
// (q2_K: 4-bit) sub-block scales, mins chosen so each sub-block is about centred, and
// one fp16 super-block scale per tensor chosen so the dequantized std is `std`.
const KFAST = {
  // level count of a quant, sub-blocks per block, header byte ranges
  q2_K: { bytes: 84, sub: 16, levels: 4, hdr: [[0, 16], [80, 84]] },
  q3_K: { bytes: 110, sub: 16, levels: 8, hdr: [[96, 110]] },
  q4_K: { bytes: 144, sub: 8, levels: 16, hdr: [[0, 16]] },
  q5_K: { bytes: 176, sub: 8, levels: 32, hdr: [[0, 16]] },
  q6_K: { bytes: 210, sub: 16, levels: 64, hdr: [[192, 210]] },
  iq4_nl: { bytes: 18, sub: 1, levels: 16, hdr: [[0, 2]] },
  iq4_xs: { bytes: 136, sub: 8, levels: 16, hdr: [[0, 8]] },
};
function putH(b, o, h) { b[o] = h & 0xff; b[o + 1] = h >>> 8; }
function kFastPatterns(type, r, std) {
  const k = KFAST[type];
  const P = 256;
  const pats = [];
  let e2 = 0; // mean of x^2 / D^2 over patterns and levels
  const kv2 = KVALUES_IQ4NL.reduce((a, v) => a + v * v, 0) / 16;
  const lv = (n, f) => { let a = 0; for (let q = 0; q < n; q++) a += f(q) ** 2; return a / n; };
  for (let p = 0; p < P; p++) {
    const b = new Uint8Array(k.bytes);
    const rand = (lo, hi) => lo + (r.u32() % (hi - lo + 1));
    const sign = () => (r.u32() & 1 ? 1 : -1);
    if (type === 'q2_K') { // x = D*(sc*q - m), dmin = D, m ~ 1.5 sc
      for (let j = 0; j < 16; j++) {
        const sc = rand(4, 10), m = Math.round(1.5 * sc);
        b[j] = sc | (m << 4);
        e2 += lv(4, (q) => sc * q - m) / 16;
      }
    } else if (type === 'q3_K') { // x = D*(sc-32)*(q-4)
      for (let j = 0; j < 16; j++) {
        const s = sign() * rand(8, 31);
        const l = s + 32;
        if (j < 8) b[96 + j] = l & 0xf; else b[96 + j - 8] |= (l & 0xf) << 4;
        b[96 + 8 + (j % 4)] |= (l >> 4) << (2 * (j >> 2));
        e2 += lv(8, (q) => s * (q - 4)) / 16;
      }
    } else if (type === 'q4_K' || type === 'q5_K') { // x = D*sc*q - (k*D)*m, m ~ sc*mid/k
      const n = k.levels, kk = n / 2;
      for (let j = 0; j < 8; j++) {
        const sc = rand(16, 63), m = Math.min(63, Math.round((sc * (n - 1)) / 2 / kk));
        if (j < 4) { b[4 + j] = sc; b[4 + j + 4] = m; } else {
          b[4 + j + 4] = (sc & 0xf) | ((m & 0xf) << 4);
          b[4 + j - 4] |= (sc >> 4) << 6;
          b[4 + j] |= (m >> 4) << 6;
        }
        e2 += lv(n, (q) => sc * q - kk * m) / 8;
      }
    } else if (type === 'q6_K') { // x = D*sc*(q-32)
      for (let j = 0; j < 16; j++) {
        const sc = sign() * rand(32, 127);
        b[192 + j] = sc & 0xff;
        e2 += lv(64, (q) => sc * (q - 32)) / 16;
      }
    } else if (type === 'iq4_nl') {
      e2 += kv2;
    } else if (type === 'iq4_xs') { // x = D*(ls-32)*kvalues[q]
      let h = 0;
      for (let j = 0; j < 8; j++) {
        const s = sign() * rand(8, 31), l = s + 32;
        if (j % 2 === 0) b[4 + (j >> 1)] = l & 0xf; else b[4 + (j >> 1)] |= (l & 0xf) << 4;
        h |= (l >> 4) << (2 * j);
        e2 += (s * s * kv2) / 8;
      }
      putH(b, 2, h);
    }
    pats.push(b);
  }
  const D = std / Math.sqrt(e2 / P);
  const d = f32ToF16(D);
  for (const b of pats) {
    if (type === 'q2_K') { putH(b, 80, d); putH(b, 82, d); }
    else if (type === 'q3_K') putH(b, 108, d);
    else if (type === 'q4_K') { putH(b, 0, d); putH(b, 2, f32ToF16(D * 8)); }
    else if (type === 'q5_K') { putH(b, 0, d); putH(b, 2, f32ToF16(D * 16)); }
    else if (type === 'q6_K') putH(b, 208, d);
    else putH(b, 0, d);
  }
  return pats;
}
function fastKData(type, ne, rng, std) {
  return function* () {
    let n = 1;
    for (const d of ne) n *= d;
    const r = rng();
    const k = KFAST[type];
    const pats = kFastPatterns(type, r, std);
    const nb = n / GGML[type].blck;
    const per = Math.floor(CHUNK_BYTES / k.bytes);
    for (let b0 = 0; b0 < nb; b0 += per) {
      const m = Math.min(per, nb - b0);
      const raw = new Uint32Array(Math.ceil((m * k.bytes) / 4));
      for (let i = 0; i < raw.length; i++) raw[i] = r.u32();
      const buf = Buffer.from(raw.buffer, 0, m * k.bytes);
      for (let o = 0; o < buf.length; o += k.bytes) {
        const p = pats[r.u32() & 255];
        for (const [a, e] of k.hdr) buf.set(p.subarray(a, e), o + a);
      }
      yield buf;
    }
  };
}

// Tensor data cache (HEARTH_TENSOR_CACHE=DIR): the bytes of a slow tensor (K-quants,
// IQ4, vocabulary-sized) are kept under DIR by a key of everything that makes them
// (generator sources, seed, name, shape, type, how values are drawn), so that models
// sharing a tensor (e.g. one Q6_K token_embd in every mixture) compute it once.
let CODE_HASH = null;
function codeHash() {
  if (!CODE_HASH) {
    const h = crypto.createHash('sha256');
    for (const f of ['make_test_model.mjs', 'gguf_write.mjs', 'ggml_kquants.mjs']) h.update(fs.readFileSync(path.join(here, f)));
    CODE_HASH = h.digest('hex');
  }
  return CODE_HASH;
}
function cachedData(keyObj, nbytes, data) {
  const dir = process.env.HEARTH_TENSOR_CACHE;
  if (!dir || nbytes < (1 << 20)) return data;
  const key = crypto.createHash('sha256').update(codeHash()).update(JSON.stringify(keyObj)).digest('hex');
  const file = path.join(dir, `${key}.bin`);
  return function* () {
    if (fs.existsSync(file) && fs.statSync(file).size === nbytes) {
      const fd = fs.openSync(file, 'r');
      try {
        for (let off = 0; off < nbytes; off += CHUNK_BYTES) {
          const b = Buffer.alloc(Math.min(CHUNK_BYTES, nbytes - off));
          fs.readSync(fd, b, 0, b.length, off);
          yield b;
        }
      } finally { fs.closeSync(fd); }
      return;
    }
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const b of data()) { fs.writeSync(fd, b); yield b; }
    } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, file);
  };
}

// llama-quantize's rewrite of the F16 model: per-tensor types of the mixture, tensors
// in llama_model_loader's order, general.quantization_version and general.file_type
// moved to the end (gguf_set_val removes a key and appends it).
function applyMixture(w, o, hp, fast) {
  const types = mixtureTypes(o.ftype, w.tensors.map((t) => ({ name: t.name, ne: t.ne, type: t.type })), hp);
  w.tensors.sort((a, b) => llamaTensorOrder(a.name, b.name));
  for (const t of w.tensors) {
    const nt = types.get(t.name);
    if (nt === t.type) continue;
    const { rng, std, name } = t.src;
    let nbytes = rowBytes(nt, t.ne[0]);
    for (let i = 1; i < t.ne.length; i++) nbytes *= t.ne[i];
    t.type = nt;
    t.nbytes = nbytes;
    if (fast) t.data = nt in KFAST ? fastKData(nt, t.ne, rng, std) : fastData(nt, t.ne, rng, std);
    else {
      // the values llama-quantize reads: the F16 model's, converted back to f32
      const gen = (r) => f16ToF32(f32ToF16(Math.fround(r.gauss() * std)));
      t.data = cachedData({ seed: o.seed, name, ne: t.ne, type: nt, std, via: 'f16' }, nbytes, exactData(nt, t.ne, rng, gen));
    }
  }
  w.kv = w.kv.filter(([k]) => k !== 'general.file_type' && k !== 'general.quantization_version');
  w.u32('general.quantization_version', 2);
  w.u32('general.file_type', FTYPES[o.ftype].id);
}

// Llama 3 rope scaling factors, computed as convert_hf_to_gguf.py does
// (factor 32, low 1, high 4, original context 8192: Llama 3.2's values).
function llama3RopeFactors(headDim, base) {
  const factor = 32, low = 1, high = 4, old = 8192;
  const lowWl = old / low, highWl = old / high;
  const out = [];
  for (let i = 0; i < headDim; i += 2) {
    const freq = 1 / Math.fround(base ** Math.fround(i / headDim));
    const wl = (2 * Math.PI) / freq;
    if (wl < highWl) out.push(1);
    else if (wl > lowWl) out.push(factor);
    else {
      const smooth = (old / wl - low) / (high - low);
      out.push(1 / ((1 - smooth) / factor + smooth));
    }
  }
  return Float32Array.from(out);
}

// ---------------------------------------------------------------- model
export function buildModel(o) {
  // explicit dimensions (--embd, --heads, ...) override the preset's; a
  // model without them is byte-identical to what the preset always gave
  const custom = Object.keys(o.dims || {}).length > 0;
  const shape = { ...SHAPES[o.shape], ...(o.dims || {}) };
  const arch = ARCH[o.arch];
  const tk = loadTokenizer(o.tokenizer, shape.n_vocab || 0, o.spmScores);
  const nVocab = tk.tokens.length;
  const { n_embd, n_head, n_head_kv, n_ff, n_layer } = shape;
  const hd = shape.head_dim || n_embd / n_head;
  if (!Number.isInteger(hd) || hd % 2) throw new Error(`head_dim ${hd} must be an even integer`);
  if (n_head % n_head_kv) throw new Error(`heads ${n_head} not a multiple of kv-heads ${n_head_kv}`);
  const qDim = n_head * hd; // = n_embd for the presets
  const NEW = ['qwen3', 'gemma3', 'gemma2', 'smollm3'].includes(o.arch);
  // Qwen3 (0.6B-4B), SmolLM3 and Gemma tie their output to token_embd; llama.cpp's
  // gemma2 even refuses an output.weight (it never reads one)
  const tied = o.tied ?? (shape.tied ?? (o.arch === 'qwen2' || NEW));
  // partial rotary (Phi-4-mini: rope.dimension_count 96 of head 128)
  const rd = o.ropeDim ?? hd;
  if (rd > hd) throw new Error(`--rope-dim ${rd} exceeds head_dim ${hd}`);
  let freqBase = arch.freq_base;
  if (o.arch === 'llama' && o.tokenizer === 'llama3') freqBase = 500000;
  let nCtx = shape.n_ctx;
  let nCtxOrig = 0;
  if (o.ropeFactors) {
    // Phi-3 "128k" style LongRoPE: context_length = 32 x original. The tiny
    // shape uses original 256, context 512: llama.cpp takes the long factors
    // when the context per sequence exceeds 256 (it pads contexts to 256).
    if (o.shape === 'tiny') { nCtxOrig = 256; nCtx = 512; } else { nCtxOrig = nCtx; nCtx = 32 * nCtx; }
  }
  const fast = o.shape !== 'tiny' && !custom;

  const w = new GGUFWriter();
  const A = o.arch;
  w.str('general.architecture', A);
  w.str('general.type', 'model');
  // neither "phi3" nor "phi-3" in the name: llama.cpp applies a Phi-3
  // token-attribute hack when general.name contains them (and fails on
  // vocabularies without <|endoftext|>)
  let label = o.shape.replace(/phi-?3/gi, 'phi_3');
  if (custom) label = `custom ${n_embd}x${n_layer} h${n_head}/${n_head_kv}x${hd} ff${n_ff}`;
  w.str('general.name', `hearth test model ${label} ${o.tokenizer} ${o.type} seed ${o.seed}`);
  if (NEW) writeNewArchKV(w, o, arch, { nCtx, n_embd, n_ff, n_layer, n_head, n_head_kv, hd, qDim, nVocab });
  else {
    w.u32(`${A}.block_count`, n_layer);
    w.u32(`${A}.context_length`, nCtx);
    w.u32(`${A}.embedding_length`, n_embd);
    w.u32(`${A}.feed_forward_length`, n_ff);
    w.u32(`${A}.attention.head_count`, n_head);
    w.u32(`${A}.attention.head_count_kv`, n_head_kv);
    w.f32(`${A}.rope.freq_base`, freqBase);
    w.f32(`${A}.attention.layer_norm_rms_epsilon`, arch.rms_eps);
    w.u32('general.file_type', FILE_TYPE[o.type]);
    if (A === 'llama') w.u32(`${A}.vocab_size`, nVocab);
    w.u32(`${A}.rope.dimension_count`, rd);
    if (o.swa !== null) w.u32(`${A}.attention.sliding_window`, o.swa); // Phi-4-mini: 0
    if (qDim !== n_embd) {
      w.u32(`${A}.attention.key_length`, hd);
      w.u32(`${A}.attention.value_length`, hd);
    }
    if (o.ropeFactors) {
      w.u32(`${A}.rope.scaling.original_context_length`, nCtxOrig);
      const scale = nCtx / nCtxOrig;
      w.f32(`${A}.rope.scaling.attn_factor`, Math.sqrt(1 + Math.log(scale) / Math.log(nCtxOrig)));
    }
  }
  addTokenizerKV(w, tk);
  w.u32('general.quantization_version', 2);

  if (o.vocabOnly) {
    if (o.ftype) applyMixture(w, o, { n_layer, n_head, n_head_kv }, fast);
    return { w, nVocab };
  }

  const seed = o.seed;
  const rngFor = (name) => () => new Rng(seed, name);
  const F32 = (name, ne, gen) => w.addTensor(name, ne, 'f32', exactData('f32', ne, rngFor(name), gen));
  const MAT = (name, ne, std) => {
    const type = o.type;
    if (fast) w.addTensor(name, ne, type, fastData(type, ne, rngFor(name), std));
    else w.addTensor(name, ne, type, exactData(type, ne, rngFor(name), (r) => r.gauss() * std));
    w.tensors[w.tensors.length - 1].src = { rng: rngFor(name), std, name };
  };
  const norm = (r) => 1 + 0.1 * r.gauss();
  const small = (s) => (r) => s * r.gauss();

  // tensor order as the converter emits it: generated extra tensors first
  if (o.ropeFreqs) {
    const f = llama3RopeFactors(hd, freqBase);
    F32('rope_freqs.weight', [hd / 2], (r, i) => f[i]);
  }
  if (o.ropeFactors) {
    // LongRoPE factors: short ~1, long growing with the dimension index
    F32('rope_factors_long.weight', [rd / 2], (r, i) => 1 + (i / (rd / 2)) * 8 * (0.75 + 0.5 * r.uniform()));
    F32('rope_factors_short.weight', [rd / 2], (r) => 1 + 0.1 * r.uniform());
  }
  const sIn = 1 / Math.sqrt(n_embd);
  // Gemma scales the embeddings by sqrt(n_embd) and shares them with the output: with
  // tiny's 0.25 the current token's own embedding dominates the residual and greedy
  // decoding repeats it. Real Gemma's scaled embeddings have an rms of about 1 and its
  // post-attention / post-FFN norms have gains well above 1: so here std 1/sqrt(n_embd),
  // gains ~2 on the output norm (logits std ~2 again) and ~2·sqrt(n_embd/64) on the post
  // norms (the own-token logit grows with sqrt(n_embd) x the embedding's share of the
  // residual: the layers' share must grow with the width).
  // The other tied models of the new architectures (qwen3, smollm3, Phi-4-style phi3)
  // take 2/sqrt(n_embd) (0.25 at 64 wide, as tiny): at 256 wide 0.25 made the own-token
  // logit win and greedy decoding loop on one or two tokens.
  const embStd = GEMMA.has(A) ? sIn : tied && (NEW || A === 'phi3') ? 2 / Math.sqrt(n_embd) : 0.25;
  MAT('token_embd.weight', [n_embd, nVocab], embStd);
  const gain2 = (r) => 2 + 0.2 * r.gauss();
  const gPost = n_embd <= 64 ? 1 : Math.sqrt(n_embd / 64); // sqrt is correctly rounded: the same everywhere
  const gainPost = (r) => gPost * (2 + 0.2 * r.gauss());
  for (let l = 0; l < n_layer; l++) {
    const b = `blk.${l}.`;
    F32(`${b}attn_norm.weight`, [n_embd], norm);
    if (A === 'phi3') {
      MAT(`${b}attn_qkv.weight`, [n_embd, qDim + 2 * n_head_kv * hd], sIn);
    } else {
      MAT(`${b}attn_q.weight`, [n_embd, n_head * hd], sIn);
      MAT(`${b}attn_k.weight`, [n_embd, n_head_kv * hd], sIn);
      MAT(`${b}attn_v.weight`, [n_embd, n_head_kv * hd], sIn);
      if (A === 'qwen2') {
        F32(`${b}attn_q.bias`, [n_head * hd], small(0.1));
        F32(`${b}attn_k.bias`, [n_head_kv * hd], small(0.1));
        F32(`${b}attn_v.bias`, [n_head_kv * hd], small(0.1));
      }
    }
    if (A === 'qwen3' || A === 'gemma3') {
      // per-head RMSNorm of q and k (before RoPE); gemma's stored value is 1 + w
      F32(`${b}attn_q_norm.weight`, [hd], norm);
      F32(`${b}attn_k_norm.weight`, [hd], norm);
    }
    MAT(`${b}attn_output.weight`, [qDim, n_embd], custom ? 1 / Math.sqrt(qDim) : sIn);
    if (GEMMA.has(A)) F32(`${b}post_attention_norm.weight`, [n_embd], gainPost);
    F32(`${b}ffn_norm.weight`, [n_embd], norm);
    if (A === 'phi3') {
      MAT(`${b}ffn_up.weight`, [n_embd, 2 * n_ff], sIn);
    } else {
      MAT(`${b}ffn_gate.weight`, [n_embd, n_ff], sIn);
      MAT(`${b}ffn_up.weight`, [n_embd, n_ff], sIn);
    }
    MAT(`${b}ffn_down.weight`, [n_ff, n_embd], 1 / Math.sqrt(n_ff));
    if (GEMMA.has(A)) F32(`${b}post_ffw_norm.weight`, [n_embd], gainPost);
  }
  F32('output_norm.weight', [n_embd], GEMMA.has(A) ? gain2 : norm);
  if (!tied) MAT('output.weight', [n_embd, nVocab], 0.25);
  if (o.ftype) applyMixture(w, o, { n_layer, n_head, n_head_kv }, fast);
  return { w, nVocab };
}

// Hyper-parameters of qwen3, gemma3, gemma2 and smollm3 in the order and with the keys
// convert_hf_to_gguf.py writes them (TextModel.set_gguf_parameters, Gemma2Model,
// Gemma3Model, LlamaModel for smollm3).
function writeNewArchKV(w, o, arch, d) {
  const A = o.arch;
  const dims = {
    block_count: d.n_layer, context_length: d.nCtx, embedding_length: d.n_embd, feed_forward_length: d.n_ff,
    'attention.head_count': d.n_head, 'attention.head_count_kv': d.n_head_kv,
  };
  const putDims = (keys) => { for (const k of keys) w.u32(`${A}.${k}`, dims[k]); };
  const kvLen = () => {
    w.u32(`${A}.attention.key_length`, d.hd);
    w.u32(`${A}.attention.value_length`, d.hd);
  };
  if (A === 'gemma2') {
    // Gemma2Model writes its own list (no rope.freq_base: llama.cpp's default 10000,
    // also for the sliding-window layers)
    putDims(['context_length', 'embedding_length', 'block_count', 'feed_forward_length',
      'attention.head_count', 'attention.head_count_kv']);
    w.f32(`${A}.attention.layer_norm_rms_epsilon`, arch.rms_eps);
    kvLen();
    w.u32('general.file_type', FILE_TYPE[o.type]);
    w.f32(`${A}.attn_logit_softcapping`, arch.attn_softcap);
    w.f32(`${A}.final_logit_softcapping`, arch.final_softcap);
    w.u32(`${A}.attention.sliding_window`, o.swa ?? arch.swa);
  } else {
    putDims(Object.keys(dims));
    w.f32(`${A}.rope.freq_base`, arch.freq_base);
    if (A === 'gemma3') w.f32(`${A}.rope.freq_base_swa`, arch.freq_base_swa); // rope_parameters.sliding_attention
    w.f32(`${A}.attention.layer_norm_rms_epsilon`, arch.rms_eps);
    // key/value length: written whenever config.json has head_dim (Qwen3, Gemma 3 do;
    // SmolLM3 does not)
    if (A !== 'smollm3' || d.qDim !== d.n_embd) kvLen();
    w.u32('general.file_type', FILE_TYPE[o.type]);
    if (A === 'smollm3') {
      w.u32(`${A}.vocab_size`, d.nVocab);
      w.u32(`${A}.rope.dimension_count`, d.hd);
    }
    if (A === 'gemma3') w.u32(`${A}.attention.sliding_window`, o.swa ?? arch.swa);
  }
  // not written by the converter for Gemma (llama.cpp's defaults: 6 for gemma3, 2 for
  // gemma2); the small test models name theirs
  if (o.swaPattern !== null) w.u32(`${A}.attention.sliding_window_pattern`, o.swaPattern);
}

// Command-line arguments for a bench model named by its type: a tensor type
// (q4_0: every matrix in it, as before) or one of llama-quantize's mixtures
// (q4_k_m, iq4_xs...: --ftype).
export function modelTypeArgs(name) {
  return /^(f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1)$/.test(name) ? ['--type', name] : ['--ftype', name];
}

export function makeTestModel(o) {
  const { w } = buildModel(o);
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  return o.split > 1 ? w.writeSplit(o.out, o.split) : w.write(o.out);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const o = parseArgs(process.argv.slice(2));
    const t0 = Date.now();
    const paths = makeTestModel(o);
    if (!o.quiet) {
      for (const p of paths) console.log(`${p} ${fs.statSync(p).size} bytes`);
      console.error(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } catch (e) {
    console.error(`make_test_model: ${e.message}`);
    process.exit(1);
  }
}
