// ggml's K-quant and IQ4 quantizers, ported from ggml/src/ggml-quants.c (llama.cpp
// release v0.5.0 as node-llama-cpp 3.22.1 ships it) to plain JS with f32 semantics:
// every float operation is rounded to f32 (Math.fround), in C's evaluation order
// (a*b*c is (a*b)*c), ints converted to float where C converts them.
//
// These are the functions llama-quantize runs without an importance matrix
// (ggml_quantize_chunk -> quantize_qN_K -> quantize_row_qN_K_ref; quantize_iq4_nl and
// quantize_iq4_xs -> quantize_row_iq4_nl_impl with ntry = 7). They are checked
// byte-identical against the built llama-quantize by tools/check_quantize.mjs.
//
// Compiler notes (why f32 per operation is right): these functions live in ggml-base,
// which ggml builds without -march flags even with GGML_NATIVE=ON, so gcc/clang on
// x86-64 cannot contract a*b+c into FMAs (baseline x86-64 has none) and SSE arithmetic
// has no excess precision; without -ffast-math the float reductions are not reordered
// or vectorized. (An arm64 build, where FMA is baseline and clang contracts by default,
// may write different bytes.)
//
// Block layouts (ggml-common.h, QK_K = 256):
//   q2_K  84 B: scales[16] (lo 4 bits scale, hi 4 bits min), qs[64], d, dmin
//   q3_K 110 B: hmask[32], qs[64], scales[12] (6-bit, packed), d
//   q4_K 144 B: d, dmin, scales[12] (6-bit scales and mins, packed), qs[128]
//   q5_K 176 B: d, dmin, scales[12], qh[32], qs[128]
//   q6_K 210 B: ql[128], qh[64], scales[16] (int8), d
//   iq4_nl 18 B (32 values): d, qs[16]
//   iq4_xs 136 B: d, scales_h (u16), scales_l[4], qs[128]
import { f32ToF16, f16ToF32 } from './gguf_write.mjs';

const fr = Math.fround;
const QK_K = 256;
const GROUP_MAX_EPS = fr(1e-15);
const F01 = fr(0.1);

const nf = new Float32Array(1);
const nu = new Uint32Array(nf.buffer);
// ggml's nearest_int: round half to even through the 1.5*2^23 trick (f32 add)
function nearestInt(f) {
  nf[0] = f + 12582912;
  return (nu[0] & 0x007fffff) - 0x00400000;
}
const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);

export const KVALUES_IQ4NL = Int8Array.from([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]);

function bestIndexInt8(n, val, x) {
  if (x <= val[0]) return 0;
  if (x >= val[n - 1]) return n - 1;
  let ml = 0, mu = n - 1;
  while (mu - ml > 1) {
    const mav = (ml + mu) >> 1;
    if (x < val[mav]) mu = mav; else ml = mav;
  }
  return fr(x - val[mu - 1]) < fr(val[mu] - x) ? mu - 1 : mu;
}

// make_qx_quants with qw == NULL and rmse_type == 1 (the only use here: q6_K)
function makeQxQuants(n, nmax, x, xo, L, Lo) {
  let max = 0, amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) { amax = ax; max = x[xo + i]; }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[Lo + i] = 0;
    return 0;
  }
  let iscale = fr(-nmax / max);
  let sumlx = 0, suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
    L[Lo + i] = l + nmax;
    const w = fr(xi * xi);
    sumlx = fr(sumlx + fr(fr(w * xi) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  let scale = suml2 ? fr(sumlx / suml2) : 0;
  let best = fr(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(F01 * is)) / max);
    sumlx = 0; suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
      const w = fr(xi * xi);
      sumlx = fr(sumlx + fr(fr(w * xi) * l));
      suml2 = fr(suml2 + fr(fr(w * l) * l));
    }
    if (suml2 > 0 && fr(sumlx * sumlx) > fr(best * suml2)) {
      for (let i = 0; i < n; i++) {
        L[Lo + i] = nmax + clamp(nearestInt(fr(iscale * x[xo + i])), -nmax, nmax - 1);
      }
      scale = fr(sumlx / suml2); best = fr(scale * sumlx);
    }
  }
  return scale;
}

// make_q3_quants(n, nmax, x, L, do_rmse = true)
function makeQ3Quants(n, nmax, x, xo, L, Lo) {
  let max = 0, amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) { amax = ax; max = x[xo + i]; }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[Lo + i] = 0;
    return 0;
  }
  const iscale = fr(-nmax / max);
  let sumlx = 0, suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
    L[Lo + i] = l;
    const w = fr(xi * xi);
    sumlx = fr(sumlx + fr(fr(w * xi) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i];
      const w = fr(xi * xi);
      const Li = L[Lo + i];
      let slx = fr(sumlx - fr(fr(w * xi) * Li));
      if (slx > 0) {
        let sl2 = fr(suml2 - fr(fr(w * Li) * Li));
        const newL = clamp(nearestInt(fr(fr(xi * sl2) / slx)), -nmax, nmax - 1);
        if (newL !== Li) {
          slx = fr(slx + fr(fr(w * xi) * newL));
          sl2 = fr(sl2 + fr(fr(w * newL) * newL));
          if (sl2 > 0 && fr(fr(slx * slx) * suml2) > fr(fr(sumlx * sumlx) * sl2)) {
            L[Lo + i] = newL; sumlx = slx; suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (!nChanged) break;
  }
  for (let i = 0; i < n; i++) L[Lo + i] += nmax;
  return suml2 > 0 ? fr(sumlx / suml2) : 0;
}

// make_qkx2_quants; returns the scale, stores -min in out[0]
const XM = new Float32Array(32); // x[i] - min, rounded to f32 (a Float32Array store rounds)
function makeQkx2Quants(n, nmax, x, xo, weights, L, Lo, Laux, rmin, rdelta, nstep, useMad, out) {
  let min = x[xo], max = x[xo];
  let sumW = weights[0];
  let sumX = fr(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const xi = x[xo + i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const w = weights[i];
    sumW = fr(sumW + w);
    sumX = fr(sumX + fr(w * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[Lo + i] = 0;
    out[0] = -min;
    return 0;
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) XM[i] = x[xo + i] - min;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i];
    let l = nearestInt(fr(iscale * XM[i]));
    l = l < 0 ? 0 : l > nmax ? nmax : l;
    L[Lo + i] = l;
    let diff = fr(fr(fr(scale * l) + min) - xi);
    diff = useMad ? Math.abs(diff) : fr(diff * diff);
    bestError = fr(bestError + fr(weights[i] * diff));
  }
  if (nstep < 1) { out[0] = -min; return scale; }
  for (let is = 0; is <= nstep; is++) {
    // min changes when a step improves: C re-reads it here and below
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / fr(max - min));
    let sumL = 0, sumL2 = 0, sumXL = 0;
    for (let i = 0; i < n; i++) {
      let l = nearestInt(fr(iscale * XM[i]));
      l = l < 0 ? 0 : l > nmax ? nmax : l;
      Laux[i] = l;
      const wl = fr(weights[i] * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * x[xo + i]));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        let diff = fr(fr(fr(thisScale * Laux[i]) + thisMin) - x[xo + i]);
        diff = useMad ? Math.abs(diff) : fr(diff * diff);
        curError = fr(curError + fr(weights[i] * diff));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[Lo + i] = Laux[i];
        bestError = curError;
        scale = thisScale;
        if (thisMin !== min) {
          min = thisMin;
          for (let i = 0; i < n; i++) XM[i] = x[xo + i] - min;
        }
      }
    }
  }
  out[0] = -min;
  return scale;
}

function getScaleMinK4(j, q, qo) {
  if (j < 4) return [q[qo + j] & 63, q[qo + j + 4] & 63];
  return [(q[qo + j + 4] & 0xf) | ((q[qo + j - 4] >> 6) << 4), (q[qo + j + 4] >> 4) | ((q[qo + j] >> 6) << 4)];
}

function putF16(buf, o, x) { const h = f32ToF16(x); buf[o] = h & 0xff; buf[o + 1] = h >>> 8; return h; }

// scratch
const L8 = new Int8Array(QK_K);
const LU = new Uint8Array(QK_K);
const Laux = new Uint8Array(32);
const W = new Float32Array(32);
const SC = new Float32Array(16);
const MN = new Float32Array(16);
const out1 = new Float32Array(1);

function q2K(x, xo, buf, o) {
  const L = LU;
  buf.fill(0, o, o + 84);
  let maxScale = 0, maxMin = 0;
  for (let j = 0; j < 16; j++) {
    for (let l = 0; l < 16; l++) W[l] = Math.abs(x[xo + 16 * j + l]);
    SC[j] = makeQkx2Quants(16, 3, x, xo + 16 * j, W, L, 16 * j, Laux, -0.5, F01, 15, true, out1);
    MN[j] = out1[0];
    if (SC[j] > maxScale) maxScale = SC[j];
    if (MN[j] > maxMin) maxMin = MN[j];
  }
  let d16 = 0, m16 = 0;
  if (maxScale > 0) {
    const iscale = fr(15 / maxScale);
    for (let j = 0; j < 16; j++) buf[o + j] = nearestInt(fr(iscale * SC[j])) & 0xff;
    d16 = putF16(buf, o + 80, fr(maxScale / 15));
  }
  if (maxMin > 0) {
    const iscale = fr(15 / maxMin);
    for (let j = 0; j < 16; j++) buf[o + j] |= (nearestInt(fr(iscale * MN[j])) << 4) & 0xff;
    m16 = putF16(buf, o + 82, fr(maxMin / 15));
  }
  const dAll = f16ToF32(d16), mAll = f16ToF32(m16);
  for (let j = 0; j < 16; j++) {
    const d = fr(dAll * (buf[o + j] & 0xf));
    if (!d) continue;
    const dm = fr(mAll * (buf[o + j] >> 4));
    for (let ii = 0; ii < 16; ii++) {
      L[16 * j + ii] = clamp(nearestInt(fr(fr(x[xo + 16 * j + ii] + dm) / d)), 0, 3);
    }
  }
  for (let j = 0; j < QK_K; j += 128) {
    for (let l = 0; l < 32; l++) {
      buf[o + 16 + j / 4 + l] = (L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6)) & 0xff;
    }
  }
}

function q3K(x, xo, buf, o) {
  const L = L8;
  buf.fill(0, o, o + 110);
  const S = o + 96;
  let maxScale = 0, amax = 0;
  for (let j = 0; j < 16; j++) {
    SC[j] = makeQ3Quants(16, 4, x, xo + 16 * j, L, 16 * j);
    const s = Math.abs(SC[j]);
    if (s > amax) { amax = s; maxScale = SC[j]; }
  }
  let d16 = 0;
  if (maxScale) {
    const iscale = fr(-32 / maxScale);
    for (let j = 0; j < 16; j++) {
      let l = (nearestInt(fr(iscale * SC[j])) << 24) >> 24; // int8_t
      l = clamp(l, -32, 31) + 32;
      if (j < 8) buf[S + j] = l & 0xf;
      else buf[S + j - 8] |= (l & 0xf) << 4;
      l >>= 4;
      buf[S + (j % 4) + 8] |= (l << (2 * (j >> 2))) & 0xff;
    }
    d16 = putF16(buf, o + 108, fr(1 / iscale));
  }
  const dAll = f16ToF32(d16);
  for (let j = 0; j < 16; j++) {
    let sc = j < 8 ? buf[S + j] & 0xf : buf[S + j - 8] >> 4;
    sc = (sc | (((buf[S + 8 + (j % 4)] >> (2 * (j >> 2))) & 3) << 4)) - 32;
    const d = fr(dAll * sc);
    if (!d) continue;
    for (let ii = 0; ii < 16; ii++) {
      L[16 * j + ii] = clamp(nearestInt(fr(x[xo + 16 * j + ii] / d)), -4, 3) + 4;
    }
  }
  let m = 0, hm = 1;
  for (let j = 0; j < QK_K; j++) {
    if (L[j] > 3) { buf[o + m] |= hm; L[j] -= 4; }
    if (++m === QK_K / 8) { m = 0; hm <<= 1; }
  }
  for (let j = 0; j < QK_K; j += 128) {
    for (let l = 0; l < 32; l++) {
      buf[o + 32 + j / 4 + l] = (L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6)) & 0xff;
    }
  }
}

// q4_K and q5_K share everything but nmax, the search parameters and the packing
function q45K(x, xo, buf, o, five) {
  const L = LU;
  const nmax = five ? 31 : 15;
  const bytes = five ? 176 : 144;
  buf.fill(0, o, o + bytes);
  let maxScale = 0, maxMin = 0;
  for (let j = 0; j < 8; j++) {
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) { const v = x[xo + 32 * j + l]; sumX2 = fr(sumX2 + fr(v * v)); }
    const avX = fr(Math.sqrt(fr(sumX2 / 32)));
    for (let l = 0; l < 32; l++) W[l] = fr(avX + Math.abs(x[xo + 32 * j + l]));
    SC[j] = five
      ? makeQkx2Quants(32, 31, x, xo + 32 * j, W, L, 32 * j, Laux, -0.5, F01, 15, false, out1)
      : makeQkx2Quants(32, 15, x, xo + 32 * j, W, L, 32 * j, Laux, -1, F01, 20, false, out1);
    MN[j] = out1[0];
    if (SC[j] > maxScale) maxScale = SC[j];
    if (MN[j] > maxMin) maxMin = MN[j];
  }
  const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
  const S = o + 4;
  for (let j = 0; j < 8; j++) {
    let ls = nearestInt(fr(invScale * SC[j])) & 0xff;
    let lm = nearestInt(fr(invMin * MN[j])) & 0xff;
    ls = Math.min(63, ls);
    lm = Math.min(63, lm);
    if (j < 4) {
      buf[S + j] = ls;
      buf[S + j + 4] = lm;
    } else {
      buf[S + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      buf[S + j - 4] |= (ls >> 4) << 6;
      buf[S + j] |= (lm >> 4) << 6;
    }
  }
  const d16 = putF16(buf, o, fr(maxScale / 63));
  const m16 = putF16(buf, o + 2, fr(maxMin / 63));
  const dAll = f16ToF32(d16), mAll = f16ToF32(m16);
  for (let j = 0; j < 8; j++) {
    const [sc, m] = getScaleMinK4(j, buf, S);
    const d = fr(dAll * sc);
    if (!d) continue;
    const dm = fr(mAll * m);
    for (let ii = 0; ii < 32; ii++) {
      L[32 * j + ii] = clamp(nearestInt(fr(fr(x[xo + 32 * j + ii] + dm) / d)), 0, nmax);
    }
  }
  if (!five) {
    let q = o + 16;
    for (let j = 0; j < QK_K; j += 64) {
      for (let l = 0; l < 32; l++) buf[q + l] = L[j + l] | (L[j + l + 32] << 4);
      q += 32;
    }
    return;
  }
  const qh = o + 16;
  let ql = o + 48;
  let m1 = 1, m2 = 2;
  for (let n = 0; n < QK_K; n += 64) {
    for (let j = 0; j < 32; j++) {
      let l1 = L[n + j];
      if (l1 > 15) { l1 -= 16; buf[qh + j] |= m1; }
      let l2 = L[n + j + 32];
      if (l2 > 15) { l2 -= 16; buf[qh + j] |= m2; }
      buf[ql + j] = l1 | (l2 << 4);
    }
    m1 <<= 2; m2 <<= 2;
    ql += 32;
  }
}

function q6K(x, xo, buf, o) {
  const L = L8;
  buf.fill(0, o, o + 210);
  let maxScale = 0, maxAbsScale = 0;
  for (let ib = 0; ib < 16; ib++) {
    const scale = makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib);
    SC[ib] = scale;
    const a = Math.abs(scale);
    if (a > maxAbsScale) { maxAbsScale = a; maxScale = scale; }
  }
  if (maxAbsScale < GROUP_MAX_EPS) return; // all zero, d = +0
  const iscale = fr(-128 / maxScale);
  const d16 = putF16(buf, o + 208, fr(1 / iscale));
  const S = o + 192;
  for (let ib = 0; ib < 16; ib++) buf[S + ib] = Math.min(127, nearestInt(fr(iscale * SC[ib]))) & 0xff;
  const dAll = f16ToF32(d16);
  for (let j = 0; j < 16; j++) {
    const d = fr(dAll * ((buf[S + j] << 24) >> 24));
    if (!d) continue;
    for (let ii = 0; ii < 16; ii++) {
      L[16 * j + ii] = clamp(nearestInt(fr(x[xo + 16 * j + ii] / d)), -32, 31) + 32;
    }
  }
  let ql = o, qh = o + 128;
  for (let j = 0; j < QK_K; j += 128) {
    for (let l = 0; l < 32; l++) {
      const q1 = L[j + l] & 0xf, q2 = L[j + l + 32] & 0xf, q3 = L[j + l + 64] & 0xf, q4 = L[j + l + 96] & 0xf;
      buf[ql + l] = q1 | (q3 << 4);
      buf[ql + l + 32] = q2 | (q4 << 4);
      buf[qh + l] = ((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6)) & 0xff;
    }
    ql += 64; qh += 32;
  }
}

// quantize_row_iq4_nl_impl without quant_weights, ntry = 7 (what quantize_iq4_nl and
// quantize_iq4_xs pass). superBlock 32 (iq4_nl) or 256 (iq4_xs), block 32.
function iq4(x, xo, buf, o, superBlock) {
  const L = LU;
  const values = KVALUES_IQ4NL;
  const ntry = 7;
  const nb = superBlock / 32;
  let maxScale = 0, amaxScale = 0;
  for (let ib = 0; ib < nb; ib++) {
    const xb = xo + ib * 32;
    for (let j = 0; j < 32; j++) W[j] = fr(x[xb + j] * x[xb + j]);
    let amax = 0, max = 0;
    for (let j = 0; j < 32; j++) {
      const ax = Math.abs(x[xb + j]);
      if (ax > amax) { amax = ax; max = x[xb + j]; }
    }
    if (amax < GROUP_MAX_EPS) { SC[ib] = 0; continue; }
    let d = fr(-max / values[0]);
    let id = fr(1 / d);
    let sumqx = 0, sumq2 = 0;
    for (let j = 0; j < 32; j++) {
      const l = bestIndexInt8(16, values, fr(id * x[xb + j]));
      L[ib * 32 + j] = l;
      const q = values[l];
      const w = W[j];
      sumqx = fr(sumqx + fr(fr(w * q) * x[xb + j]));
      sumq2 = fr(sumq2 + fr(fr(w * q) * q));
    }
    d = sumq2 > 0 ? fr(sumqx / sumq2) : 0;
    let best = fr(d * sumqx);
    for (let itry = -ntry; itry <= ntry; itry++) {
      id = fr((itry + values[0]) / max);
      sumqx = 0; sumq2 = 0;
      for (let j = 0; j < 32; j++) {
        const l = bestIndexInt8(16, values, fr(id * x[xb + j]));
        const q = values[l];
        const w = W[j];
        sumqx = fr(sumqx + fr(fr(w * q) * x[xb + j]));
        sumq2 = fr(sumq2 + fr(fr(w * q) * q));
      }
      if (sumq2 > 0 && fr(sumqx * sumqx) > fr(best * sumq2)) {
        d = fr(sumqx / sumq2); best = fr(d * sumqx);
      }
    }
    SC[ib] = d;
    const ad = Math.abs(d);
    if (ad > amaxScale) { amaxScale = ad; maxScale = d; }
  }
  let q4o;
  if (nb > 1) {
    // iq4_xs: d, scales_h, scales_l[4], qs[128]
    buf.fill(0, o, o + 8);
    const d = fr(-maxScale / 32);
    putF16(buf, o, d);
    const id = d ? fr(1 / d) : 0;
    let scalesH = 0;
    for (let ib = 0; ib < nb; ib++) {
      let l = clamp(nearestInt(fr(id * SC[ib])), -32, 31);
      const dl = fr(d * l);
      const idl = dl ? fr(1 / dl) : 0;
      for (let j = 0; j < 32; j++) L[ib * 32 + j] = bestIndexInt8(16, values, fr(idl * x[xo + ib * 32 + j]));
      l += 32;
      const lL = l & 0xf, lH = l >> 4;
      if (ib % 2 === 0) buf[o + 4 + (ib >> 1)] = lL;
      else buf[o + 4 + (ib >> 1)] |= lL << 4;
      scalesH |= lH << (2 * (ib % 8));
    }
    buf[o + 2] = scalesH & 0xff; buf[o + 3] = (scalesH >>> 8) & 0xff;
    q4o = o + 8;
  } else {
    putF16(buf, o, SC[0]);
    const id = SC[0] ? fr(1 / SC[0]) : 0;
    for (let j = 0; j < 32; j++) L[j] = bestIndexInt8(16, values, fr(id * x[xo + j]));
    q4o = o + 2;
  }
  for (let i = 0; i < superBlock / 32; i++) {
    for (let j = 0; j < 16; j++) buf[q4o + 16 * i + j] = L[32 * i + j] | (L[32 * i + 16 + j] << 4);
  }
}

export const KQUANT_BLOCKS = {
  q2_K: { blck: 256, bytes: 84 },
  q3_K: { blck: 256, bytes: 110 },
  q4_K: { blck: 256, bytes: 144 },
  q5_K: { blck: 256, bytes: 176 },
  q6_K: { blck: 256, bytes: 210 },
  iq4_nl: { blck: 32, bytes: 18 },
  iq4_xs: { blck: 256, bytes: 136 },
};

// x: Float32Array of whole blocks; writes them at buf[o..]; returns the end offset
export function quantizeRowK(type, x, buf, o) {
  const t = KQUANT_BLOCKS[type];
  if (!t) throw new Error(`quantizeRowK: ${type}`);
  if (x.length % t.blck) throw new Error(`${type}: ${x.length} values is not a multiple of ${t.blck}`);
  const nb = x.length / t.blck;
  for (let i = 0; i < nb; i++, o += t.bytes) {
    const xo = i * t.blck;
    switch (type) {
      case 'q2_K': q2K(x, xo, buf, o); break;
      case 'q3_K': q3K(x, xo, buf, o); break;
      case 'q4_K': q45K(x, xo, buf, o, false); break;
      case 'q5_K': q45K(x, xo, buf, o, true); break;
      case 'q6_K': q6K(x, xo, buf, o); break;
      case 'iq4_nl': iq4(x, xo, buf, o, 32); break;
      case 'iq4_xs': iq4(x, xo, buf, o, 256); break;
      default: throw new Error(type);
    }
  }
  return o;
}
