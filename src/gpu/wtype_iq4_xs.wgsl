// IQ4_XS: super-blocks of 256 as GGUF stores them, 34 words:
// [d (f16) | scales_h (u16)] [scales_l: 1 word] [qs: 32 words]. Group g (32
// values) is sub-block ib = g % 8 of super-block g / 8: w = d * (ls - 32) *
// book[q] (IQ4_BOOK), ls the 6-bit scale (4 low bits in scales_l, 2 high in
// scales_h); its qs are words 4 ib..4 ib + 3, low nibbles elements 0..15,
// high ones 16..31 (unit j: word j, as Q4_0).
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(4u * j, 16u + 4u * j); }
// d * (ls - 32), as ggml's dl.
fn WBUF_dl(g: u32) -> f32 {
  let p = (g >> 3u) * 34u;
  let ib = g & 7u;
  let hw = WBUF[p];
  let lo = (byte_of(WBUF[p + 1u], ib >> 1u) >> (4u * (ib & 1u))) & 15u;
  let hi = (hw >> (16u + 2u * ib)) & 3u;
  return unpack2x16float(hw).x * f32(i32(lo | (hi << 4u)) - 32);
}
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let dl = WBUF_dl(g);
  let w = WBUF[(g >> 3u) * 34u + 2u + (g & 7u) * 4u + j];
  return mat2x4<f32>(dl * i8x4_f32(iq4_word(w, 0u)), dl * i8x4_f32(iq4_word(w, 4u)));
}
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

// Integer products: the group's scale, and its values (int8) four to a
// word: elements 0..15, then 16..31.
fn WBUF_d(g: u32) -> vec2<f32> { return vec2<f32>(WBUF_dl(g)); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let p = (g >> 3u) * 34u + 2u + (g & 7u) * 4u;
  let w = vec4<u32>(WBUF[p], WBUF[p + 1u], WBUF[p + 2u], WBUF[p + 3u]);
  return array<vec4<u32>, 2>(iq4_words(w, 0u), iq4_words(w, 4u));
}

const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = false;
// Exact mode (dot_exact_k.wgsl): the super-block's (d, dmin), the group's
// integer (scale, scale, min, min) of its halves and its codes as the CPU
// kernel decodes them; WBUF_EXACT names the CPU kernel's order.
fn WBUF_kd(g: u32) -> vec2<f32> { return vec2<f32>(unpack2x16float(WBUF[(g >> 3u) * 34u]).x, 0.0); }
fn WBUF_ksc(g: u32) -> vec4<i32> {
  let p = (g >> 3u) * 34u;
  let ib = g & 7u;
  let lo = (byte_of(WBUF[p + 1u], ib >> 1u) >> (4u * (ib & 1u))) & 15u;
  let ls = i32(lo | (((WBUF[p] >> (16u + 2u * ib)) & 3u) << 4u)) - 32;
  return vec4<i32>(ls, ls, 0, 0);
}
fn WBUF_qu(g: u32) -> array<vec4<u32>, 2> { return WBUF_q8(g); }
const WBUF_EXACT: u32 = 5u;
