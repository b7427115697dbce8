// GGUF v3 writer, ggml number formats and ggml's reference quantizers, in
// plain Node (no dependencies). Used by tools/make_test_model.mjs.
//
// Bit-exactness notes:
//  - f32 -> f16 is IEEE round-to-nearest-even with subnormals (what F16C's
//    _cvtss_sh(x, 0) and numpy's astype(float16) do).
//  - f32 -> bf16 is ggml_compute_fp32_to_bf16 (round-to-nearest-even, NaN
//    kept quiet), the same as gguf-py's quantize to BF16.
//  - Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 follow quantize_row_*_ref from ggml-quants.c,
//    every float operation rounded to f32 (Math.fround) as C would.
//  - Q2_K..Q6_K, IQ4_NL, IQ4_XS: tools/ggml_kquants.mjs (what llama-quantize runs
//    without an importance matrix).
import fs from 'node:fs';
import { quantizeRowK, KQUANT_BLOCKS } from './ggml_kquants.mjs';

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

export const T = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6,
  BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
};

// ggml tensor types: id, block size (elements), bytes per block.
export const GGML = {
  f32: { id: 0, blck: 1, bytes: 4 },
  f16: { id: 1, blck: 1, bytes: 2 },
  q4_0: { id: 2, blck: 32, bytes: 18 },
  q4_1: { id: 3, blck: 32, bytes: 20 },
  q5_0: { id: 6, blck: 32, bytes: 22 },
  q5_1: { id: 7, blck: 32, bytes: 24 },
  q8_0: { id: 8, blck: 32, bytes: 34 },
  q2_K: { id: 10, blck: 256, bytes: 84 },
  q3_K: { id: 11, blck: 256, bytes: 110 },
  q4_K: { id: 12, blck: 256, bytes: 144 },
  q5_K: { id: 13, blck: 256, bytes: 176 },
  q6_K: { id: 14, blck: 256, bytes: 210 },
  iq4_nl: { id: 20, blck: 32, bytes: 18 },
  iq4_xs: { id: 23, blck: 256, bytes: 136 },
  bf16: { id: 30, blck: 1, bytes: 2 },
};

// llama_ftype values for general.file_type
export const FILE_TYPE = {
  f32: 0, f16: 1, q4_0: 2, q4_1: 3, q8_0: 7, q5_0: 8, q5_1: 9, bf16: 32,
};

// llama_ftype of llama-quantize's mixtures (include/llama.h), by llama-quantize's
// name in lower case, with the mixture's default tensor type
export const FTYPES = {
  q4_0: { id: 2, type: 'q4_0' }, q4_1: { id: 3, type: 'q4_1' }, q8_0: { id: 7, type: 'q8_0' },
  q5_0: { id: 8, type: 'q5_0' }, q5_1: { id: 9, type: 'q5_1' },
  q2_k: { id: 10, type: 'q2_K' }, q3_k_s: { id: 11, type: 'q3_K' }, q3_k_m: { id: 12, type: 'q3_K' },
  q3_k_l: { id: 13, type: 'q3_K' }, q4_k_s: { id: 14, type: 'q4_K' }, q4_k_m: { id: 15, type: 'q4_K' },
  q5_k_s: { id: 16, type: 'q5_K' }, q5_k_m: { id: 17, type: 'q5_K' }, q6_k: { id: 18, type: 'q6_K' },
  iq4_nl: { id: 25, type: 'iq4_nl' }, iq4_xs: { id: 30, type: 'iq4_xs' },
};

export function rowBytes(type, ne0) {
  const t = GGML[type];
  if (ne0 % t.blck) throw new Error(`row of ${ne0} not a multiple of ${t.blck} for ${type}`);
  return (ne0 / t.blck) * t.bytes;
}

// ---------------------------------------------------------------- numbers
const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

export function f32Bits(x) { f32buf[0] = x; return u32buf[0]; }
export function bitsF32(u) { u32buf[0] = u >>> 0; return f32buf[0]; }

// f32 -> f16 bits, round to nearest even, with subnormals/inf/nan.
export function f32ToF16(x) {
  const u = f32Bits(x);
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to (signed) zero
    mant |= 0x800000; // implicit bit
    const shift = 14 - e; // 14..24
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into exponent: correct
  return sign | h;
}

let F16_TABLE = null;
export function f16ToF32(h) {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) F16_TABLE[i] = f16ToF32Slow(i);
  }
  return F16_TABLE[h];
}
function f16ToF32Slow(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function f32ToBf16(x) {
  const u = f32Bits(x);
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 64) & 0xffff;
  return ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) & 0xffff;
}

// ---------------------------------------------------------------- quantizers
const fr = Math.fround;
const trunc8 = (v) => { // (int8_t)(float) for values in range
  const t = Math.trunc(v);
  return ((t << 24) >> 24);
};
const roundf = (v) => (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));

function putF16(buf, o, x) { buf.writeUInt16LE(f32ToF16(x), o); }

// x: Float32Array (k % 32 == 0); writes k/32 blocks at buf[o..]
export function quantizeRow(type, x, buf, o) {
  const k = x.length;
  const nb = k / 32;
  switch (type) {
    case 'q4_0':
      for (let i = 0; i < nb; i++, o += 18) {
        let amax = 0, max = 0;
        for (let j = 0; j < 32; j++) {
          const v = x[i * 32 + j];
          if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
        }
        const d = fr(max / -8);
        const id = d ? fr(1 / d) : 0;
        putF16(buf, o, d);
        for (let j = 0; j < 16; j++) {
          const x0 = fr(x[i * 32 + j] * id);
          const x1 = fr(x[i * 32 + 16 + j] * id);
          const xi0 = Math.min(15, trunc8(fr(x0 + 8.5))) & 0xff;
          const xi1 = Math.min(15, trunc8(fr(x1 + 8.5))) & 0xff;
          buf[o + 2 + j] = (xi0 | (xi1 << 4)) & 0xff;
        }
      }
      return o;
    case 'q4_1':
      for (let i = 0; i < nb; i++, o += 20) {
        let min = Infinity, max = -Infinity;
        for (let j = 0; j < 32; j++) {
          const v = x[i * 32 + j];
          if (v < min) min = v;
          if (v > max) max = v;
        }
        const d = fr(fr(max - min) / 15);
        const id = d ? fr(1 / d) : 0;
        putF16(buf, o, d);
        putF16(buf, o + 2, min);
        for (let j = 0; j < 16; j++) {
          const x0 = fr(fr(x[i * 32 + j] - min) * id);
          const x1 = fr(fr(x[i * 32 + 16 + j] - min) * id);
          const xi0 = Math.min(15, trunc8(fr(x0 + 0.5))) & 0xff;
          const xi1 = Math.min(15, trunc8(fr(x1 + 0.5))) & 0xff;
          buf[o + 4 + j] = (xi0 | (xi1 << 4)) & 0xff;
        }
      }
      return o;
    case 'q5_0':
      for (let i = 0; i < nb; i++, o += 22) {
        let amax = 0, max = 0;
        for (let j = 0; j < 32; j++) {
          const v = x[i * 32 + j];
          if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
        }
        const d = fr(max / -16);
        const id = d ? fr(1 / d) : 0;
        putF16(buf, o, d);
        let qh = 0;
        for (let j = 0; j < 16; j++) {
          const x0 = fr(x[i * 32 + j] * id);
          const x1 = fr(x[i * 32 + 16 + j] * id);
          const xi0 = Math.min(31, trunc8(fr(x0 + 16.5))) & 0xff;
          const xi1 = Math.min(31, trunc8(fr(x1 + 16.5))) & 0xff;
          buf[o + 6 + j] = ((xi0 & 0x0f) | ((xi1 & 0x0f) << 4)) & 0xff;
          qh |= ((xi0 & 0x10) >>> 4) << j;
          qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
        }
        buf.writeUInt32LE(qh >>> 0, o + 2);
      }
      return o;
    case 'q5_1':
      for (let i = 0; i < nb; i++, o += 24) {
        let min = Infinity, max = -Infinity;
        for (let j = 0; j < 32; j++) {
          const v = x[i * 32 + j];
          if (v < min) min = v;
          if (v > max) max = v;
        }
        const d = fr(fr(max - min) / 31);
        const id = d ? fr(1 / d) : 0;
        putF16(buf, o, d);
        putF16(buf, o + 2, min);
        let qh = 0;
        for (let j = 0; j < 16; j++) {
          const x0 = fr(fr(x[i * 32 + j] - min) * id);
          const x1 = fr(fr(x[i * 32 + 16 + j] - min) * id);
          const xi0 = Math.trunc(fr(x0 + 0.5)) & 0xff;
          const xi1 = Math.trunc(fr(x1 + 0.5)) & 0xff;
          buf[o + 8 + j] = ((xi0 & 0x0f) | ((xi1 & 0x0f) << 4)) & 0xff;
          qh |= ((xi0 & 0x10) >>> 4) << j;
          qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
        }
        buf.writeUInt32LE(qh >>> 0, o + 4);
      }
      return o;
    case 'q8_0':
      for (let i = 0; i < nb; i++, o += 34) {
        let amax = 0;
        for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[i * 32 + j]));
        const d = fr(amax / 127);
        const id = d ? fr(1 / d) : 0;
        putF16(buf, o, d);
        for (let j = 0; j < 32; j++) buf[o + 2 + j] = roundf(fr(x[i * 32 + j] * id)) & 0xff;
      }
      return o;
    default:
      throw new Error(`quantizeRow: ${type}`);
  }
}

// Encode a Float32Array (whole rows) into buf at o in the given type.
export function encodeRows(type, x, buf, o = 0) {
  switch (type) {
    case 'f32':
      for (let i = 0; i < x.length; i++, o += 4) buf.writeUInt32LE(f32Bits(x[i]), o);
      return o;
    case 'f16':
      for (let i = 0; i < x.length; i++, o += 2) buf.writeUInt16LE(f32ToF16(x[i]), o);
      return o;
    case 'bf16':
      for (let i = 0; i < x.length; i++, o += 2) buf.writeUInt16LE(f32ToBf16(x[i]), o);
      return o;
    default:
      return type in KQUANT_BLOCKS ? quantizeRowK(type, x, buf, o) : quantizeRow(type, x, buf, o);
  }
}

// ---------------------------------------------------------------- writer
class Bytes {
  constructor() { this.chunks = []; this.len = 0; }
  push(b) { this.chunks.push(b); this.len += b.length; }
  u8(v) { const b = Buffer.alloc(1); b.writeUInt8(v); this.push(b); }
  i8(v) { const b = Buffer.alloc(1); b.writeInt8(v); this.push(b); }
  u16(v) { const b = Buffer.alloc(2); b.writeUInt16LE(v); this.push(b); }
  i16(v) { const b = Buffer.alloc(2); b.writeInt16LE(v); this.push(b); }
  u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); this.push(b); }
  i32(v) { const b = Buffer.alloc(4); b.writeInt32LE(v); this.push(b); }
  f32(v) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.push(b); }
  f64(v) { const b = Buffer.alloc(8); b.writeDoubleLE(v); this.push(b); }
  u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  i64(v) { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v)); this.push(b); }
  str(s) {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  concat() { return Buffer.concat(this.chunks, this.len); }
}

function writeScalar(bw, type, v) {
  switch (type) {
    case T.UINT8: return bw.u8(v);
    case T.INT8: return bw.i8(v);
    case T.UINT16: return bw.u16(v);
    case T.INT16: return bw.i16(v);
    case T.UINT32: return bw.u32(v);
    case T.INT32: return bw.i32(v);
    case T.FLOAT32: return bw.f32(v);
    case T.BOOL: return bw.u8(v ? 1 : 0);
    case T.STRING: return bw.str(v);
    case T.UINT64: return bw.u64(v);
    case T.INT64: return bw.i64(v);
    case T.FLOAT64: return bw.f64(v);
    default: throw new Error(`bad scalar type ${type}`);
  }
}

// Encodes one key/value pair. value for arrays: {elem: T.x, values: [...]}
// or a typed array (Float32Array/Int32Array/Uint32Array) for speed.
function encodeKV(bw, key, type, value) {
  bw.str(key);
  bw.u32(type);
  if (type !== T.ARRAY) return writeScalar(bw, type, value);
  const { elem, values } = value;
  bw.u32(elem);
  bw.u64(values.length);
  if (elem === T.FLOAT32 || elem === T.INT32 || elem === T.UINT32) {
    const b = Buffer.alloc(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      if (elem === T.FLOAT32) b.writeFloatLE(values[i], i * 4);
      else if (elem === T.INT32) b.writeInt32LE(values[i], i * 4);
      else b.writeUInt32LE(values[i] >>> 0, i * 4);
    }
    bw.push(b);
  } else if (elem === T.STRING) {
    // one buffer for all strings: much faster for 262k-token vocabularies
    const enc = values.map((s) => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8')));
    let n = 0;
    for (const e of enc) n += 8 + e.length;
    const b = Buffer.alloc(n);
    let o = 0;
    for (const e of enc) {
      b.writeBigUInt64LE(BigInt(e.length), o);
      o += 8;
      e.copy(b, o);
      o += e.length;
    }
    bw.push(b);
  } else {
    for (const v of values) writeScalar(bw, elem, v);
  }
}

const pad = (n, a) => (n + a - 1) - ((n + a - 1) % a);

// A GGUF file being assembled. Tensors carry a `fill(buf)` callback or
// `chunks()` generator producing their bytes, so huge tensors stream.
export class GGUFWriter {
  constructor({ alignment = GGUF_DEFAULT_ALIGNMENT } = {}) {
    this.kv = []; // [key, type, value]
    this.tensors = []; // {name, ne[], type, nbytes, data: () => iterable of Buffers}
    this.alignment = alignment;
  }
  add(key, type, value) {
    if (this.kv.some((e) => e[0] === key)) throw new Error(`duplicate key ${key}`);
    this.kv.push([key, type, value]);
  }
  str(k, v) { this.add(k, T.STRING, v); }
  u32(k, v) { this.add(k, T.UINT32, v); }
  i32(k, v) { this.add(k, T.INT32, v); }
  u16(k, v) { this.add(k, T.UINT16, v); }
  f32(k, v) { this.add(k, T.FLOAT32, v); }
  bool(k, v) { this.add(k, T.BOOL, v); }
  arr(k, elem, values) { this.add(k, T.ARRAY, { elem, values }); }

  addTensor(name, ne, type, data) {
    let nbytes = rowBytes(type, ne[0]);
    for (let i = 1; i < ne.length; i++) nbytes *= ne[i];
    this.tensors.push({ name, ne, type, nbytes, data });
  }

  _header(kv, tensors) {
    const bw = new Bytes();
    bw.u32(GGUF_MAGIC);
    bw.u32(GGUF_VERSION);
    bw.u64(tensors.length);
    bw.u64(kv.length);
    for (const [k, t, v] of kv) encodeKV(bw, k, t, v);
    let off = 0;
    for (const t of tensors) {
      bw.str(t.name);
      bw.u32(t.ne.length);
      for (const d of t.ne) bw.u64(d);
      bw.u32(GGML[t.type].id);
      bw.u64(off);
      off = pad(off + t.nbytes, this.alignment);
    }
    const h = bw.concat();
    const total = pad(h.length, this.alignment);
    return Buffer.concat([h, Buffer.alloc(total - h.length)]);
  }

  _writeFile(path, kv, tensors) {
    const fd = fs.openSync(path, 'w');
    try {
      fs.writeSync(fd, this._header(kv, tensors));
      for (const t of tensors) {
        let n = 0;
        for (const b of t.data()) {
          fs.writeSync(fd, b);
          n += b.length;
        }
        if (n !== t.nbytes) throw new Error(`${t.name}: wrote ${n} bytes, expected ${t.nbytes}`);
        const p = pad(n, this.alignment) - n;
        if (p) fs.writeSync(fd, Buffer.alloc(p));
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  write(path) {
    this._writeFile(path, this.kv, this.tensors);
    return [path];
  }

  // gguf-split layout: NAME-0000i-of-0000N.gguf; the first part holds all
  // metadata, every part holds split.no (u16), split.count (u16) and
  // split.tensors.count (i32). Tensors are distributed in order, as evenly as
  // possible by count (part i gets tensors [floor(i*n/N), floor((i+1)*n/N))).
  writeSplit(path, nSplit) {
    const base = path.replace(/\.gguf$/, '');
    const n = this.tensors.length;
    if (nSplit > n) throw new Error(`cannot split ${n} tensors into ${nSplit} parts`);
    const paths = [];
    for (let i = 0; i < nSplit; i++) {
      const kv = i === 0 ? [...this.kv] : [];
      kv.push(['split.no', T.UINT16, i]);
      kv.push(['split.count', T.UINT16, nSplit]);
      kv.push(['split.tensors.count', T.INT32, n]);
      const p = `${base}-${String(i + 1).padStart(5, '0')}-of-${String(nSplit).padStart(5, '0')}.gguf`;
      this._writeFile(p, kv, this.tensors.slice(Math.floor((i * n) / nSplit), Math.floor(((i + 1) * n) / nSplit)));
      paths.push(p);
    }
    return paths;
  }
}
