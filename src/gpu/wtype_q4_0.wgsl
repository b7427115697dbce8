// Q4_0 in pairs of blocks: 9 words = [d0 | d1 (f16)] [qs0: 4 words] [qs1: 4 words].
// Unit j is qs word j: low nibbles are elements 4j..4j+3, high ones 16+4j..
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(4u * j, 16u + 4u * j); }
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let p = (g >> 1u) * 9u;
  let h = g & 1u;
  let d = unpack2x16float(WBUF[p])[h];
  let w = WBUF[p + 1u + h * 4u + j];
  let q = nibbles(w);
  return mat2x4<f32>((vec4<f32>(q[0]) - 8.0) * d, (vec4<f32>(q[1]) - 8.0) * d);
}

// No separate offset term: the whole weight is d * q.
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

// Integer products (mmq.wgsl): the block's scale, and its quants as signed
// int8 four to a word: elements 0..15, then 16..31.
fn WBUF_d(g: u32) -> vec2<f32> { return vec2<f32>(unpack2x16float(WBUF[(g >> 1u) * 9u])[g & 1u]); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let p = (g >> 1u) * 9u + 1u + (g & 1u) * 4u;
  let w = vec4<u32>(WBUF[p], WBUF[p + 1u], WBUF[p + 2u], WBUF[p + 3u]);
  let m = vec4<u32>(0x0f0f0f0fu);
  let k = vec4<u32>(0x08080808u);
  let s = vec4<u32>(0x80808080u);
  return array<vec4<u32>, 2>((((w & m) | s) - k) ^ s, ((((w >> vec4<u32>(4u)) & m) | s) - k) ^ s);
}

// One scale for the whole block (the kernels sum its 32 products at once), no offset.
const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = false;
// Exact mode (rows_q_exact.wgsl, mmq_exact.wgsl): one FMA of the
// block's whole sum (quant_scalar.c lanes false, mm_iq4_nl).
const WBUF_LANES: bool = false;
