// Q8_0, repacked by src/gpu/upload.c in pairs of blocks: 17 words =
// [d0 | d1 (f16)] [qs0: 8 words] [qs1: 8 words]. Unit j: elements 8j..8j+7.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
fn WBUF_i8x4(w: u32) -> vec4<f32> {
  let s = bitcast<i32>(w);
  return vec4<f32>(f32(extractBits(s, 0u, 8u)), f32(extractBits(s, 8u, 8u)), f32(extractBits(s, 16u, 8u)),
                   f32(extractBits(s, 24u, 8u)));
}
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let p = (g >> 1u) * 17u;
  let h = g & 1u;
  let d = unpack2x16float(WBUF[p])[h];
  let q = p + 1u + h * 8u + 2u * j;
  return mat2x4<f32>(WBUF_i8x4(WBUF[q]) * d, WBUF_i8x4(WBUF[q + 1u]) * d);
}

// No separate offset term: the whole weight is d * q.
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

// Integer products (mmq.wgsl): the block's scale, and its quants as signed
// int8 four to a word: elements 0..15, then 16..31.
fn WBUF_d(g: u32) -> vec2<f32> { return vec2<f32>(unpack2x16float(WBUF[(g >> 1u) * 17u])[g & 1u]); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let p = (g >> 1u) * 17u + 1u + (g & 1u) * 8u;
  return array<vec4<u32>, 2>(vec4<u32>(WBUF[p], WBUF[p + 1u], WBUF[p + 2u], WBUF[p + 3u]),
                             vec4<u32>(WBUF[p + 4u], WBUF[p + 5u], WBUF[p + 6u], WBUF[p + 7u]));
}

// One scale for the whole block (the kernels sum its 32 products at once), no offset.
const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = false;
// Exact mode (rows_q_exact.wgsl, mmq_exact.wgsl): ggml's 8 lanes of 4
// products a block, one FMA each (quant_scalar.c, lanes true).
const WBUF_LANES: bool = true;
