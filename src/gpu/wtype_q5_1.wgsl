// Q5_1 in pairs of blocks: 12 words = [d0 | d1] [m0 | m1] [qh0] [qh1] [qs0: 4] [qs1: 4]; w = d*q + m.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(4u * j, 16u + 4u * j); }
// The d * q part alone and the block's offset m (as wtype_q4_1.wgsl).
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(unpack2x16float(WBUF[(g >> 1u) * 12u + 1u])[g & 1u], 0.0); }
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> { let m = WBUF_m(g).x; return WBUF_deqd(g, j) + mat2x4<f32>(vec4<f32>(m), vec4<f32>(m)); }
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> {
  let p = (g >> 1u) * 12u;
  let h = g & 1u;
  let d = unpack2x16float(WBUF[p])[h];
  let qh = WBUF[p + 2u + h];
  let w = WBUF[p + 4u + h * 4u + j];
  let q = q5_quants(w, qh, j);
  return mat2x4<f32>(vec4<f32>(q[0]) * d, vec4<f32>(q[1]) * d);
}

// Integer products (mmq.wgsl): the block's scale, and its quants 0..31 as
// int8 four to a word: elements 0..15, then 16..31 (m is added apart).
fn WBUF_d(g: u32) -> vec2<f32> { return vec2<f32>(unpack2x16float(WBUF[(g >> 1u) * 12u])[g & 1u]); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let p = (g >> 1u) * 12u;
  let h = g & 1u;
  let qh = WBUF[p + 2u + h];
  let o = p + 4u + h * 4u;
  return q5_codes(vec4<u32>(WBUF[o], WBUF[o + 1u], WBUF[o + 2u], WBUF[o + 3u]), qh);
}

// One scale for the whole block (the kernels sum its 32 products at once), and an offset m.
const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = true;
// Exact mode (rows_q_exact.wgsl, mmq_exact.wgsl): ggml's 8 lanes of 4
// products a block, one FMA each (quant_scalar.c, lanes true).
const WBUF_LANES: bool = true;
