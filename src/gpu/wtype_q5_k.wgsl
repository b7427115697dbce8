// Q5_K: super-blocks of 256 as GGUF stores them, 44 words: [d | dmin (f16)]
// [scales: 3 words, as Q4_K's] [qh: 8 words] [qs: 32 words]. Group g is
// sub-block j = g % 8 of super-block g / 8: w = d * sc * q - dmin * m, q
// (0..31) the Q4_K nibble of element l (byte l of qs words 8 (j / 2)..)
// with bit j of qh byte l as its fifth bit. Unit j: elements 8j..8j+7.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
fn WBUF_dm(g: u32) -> vec2<f32> {
  let p = (g >> 3u) * 44u;
  let sm = k4_scale_min(vec3<u32>(WBUF[p + 1u], WBUF[p + 2u], WBUF[p + 3u]), g & 7u);
  let dd = unpack2x16float(WBUF[p]);
  return vec2<f32>(dd.x * f32(sm.x), dd.y * f32(sm.y));
}
// The codes (0..31, one a byte) of qs word w and qh word h of sub-block s.
fn WBUF_codes(w: vec4<u32>, h: vec4<u32>, s: u32) -> vec4<u32> {
  return ((w >> vec4<u32>(4u * (s & 1u))) & vec4<u32>(0x0f0f0f0fu)) | (((h >> vec4<u32>(s)) & vec4<u32>(0x01010101u)) << vec4<u32>(4u));
}
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> {
  let s = g & 7u;
  let p = (g >> 3u) * 44u;
  let o = p + 12u + (s >> 1u) * 8u + 2u * j;
  let c = WBUF_codes(vec4<u32>(WBUF[o], WBUF[o + 1u], 0u, 0u), vec4<u32>(WBUF[p + 4u + 2u * j], WBUF[p + 5u + 2u * j], 0u, 0u), s);
  let d = WBUF_dm(g).x;
  let b = vec4<u32>(0u, 8u, 16u, 24u);
  return mat2x4<f32>(d * vec4<f32>((vec4<u32>(c.x) >> b) & vec4<u32>(255u)), d * vec4<f32>((vec4<u32>(c.y) >> b) & vec4<u32>(255u)));
}
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let m = WBUF_dm(g).y;
  let w = WBUF_deqd(g, j);
  return mat2x4<f32>(w[0] - vec4<f32>(m), w[1] - vec4<f32>(m));
}
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(-WBUF_dm(g).y); }

// Integer products: the group's scale, and its codes 0..31 as int8 four to
// a word: elements 0..15, then 16..31 (the offset is added apart).
fn WBUF_d(g: u32) -> vec2<f32> { return vec2<f32>(WBUF_dm(g).x); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let s = g & 7u;
  let p = (g >> 3u) * 44u;
  let o = p + 12u + (s >> 1u) * 8u;
  return array<vec4<u32>, 2>(
    WBUF_codes(vec4<u32>(WBUF[o], WBUF[o + 1u], WBUF[o + 2u], WBUF[o + 3u]), vec4<u32>(WBUF[p + 4u], WBUF[p + 5u], WBUF[p + 6u], WBUF[p + 7u]), s),
    WBUF_codes(vec4<u32>(WBUF[o + 4u], WBUF[o + 5u], WBUF[o + 6u], WBUF[o + 7u]), vec4<u32>(WBUF[p + 8u], WBUF[p + 9u], WBUF[p + 10u], WBUF[p + 11u]), s));
}

const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = true;
// Exact mode (dot_exact_k.wgsl): the super-block's (d, dmin), the group's
// integer (scale, scale, min, min) of its halves and its codes as the CPU
// kernel decodes them; WBUF_EXACT names the CPU kernel's order.
fn WBUF_kd(g: u32) -> vec2<f32> { return unpack2x16float(WBUF[(g >> 3u) * 44u]); }
fn WBUF_ksc(g: u32) -> vec4<i32> { let p = (g >> 3u) * 44u; return k4_ksc(vec3<u32>(WBUF[p + 1u], WBUF[p + 2u], WBUF[p + 3u]), g & 7u); }
fn WBUF_qu(g: u32) -> array<vec4<u32>, 2> { return WBUF_q8(g); }
const WBUF_EXACT: u32 = 2u;
