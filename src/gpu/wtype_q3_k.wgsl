// Q3_K in pairs of super-blocks (110 bytes is not a whole number of words,
// 220 is; nothing added): 55 words = [d0 | d1 (f16)] then each block's other
// bytes as GGUF orders them, 27 words: [hmask: 8 words] [qs: 16 words]
// [scales: 3 words, 16 packed 6-bit scales, decoded here: 4 bytes a
// super-block fewer than pre-decoded ones]. Group g is sub-block J = g % 8
// of super-block g / 8 (n = J / 4, k = J % 4): element l's code is bits
// 2k, 2k+1 of qs byte 32 n + l, minus 4 unless bit J of hmask byte l is
// set; w = d * (s - 32) * q, s scale 2J (elements 0..15) or 2J + 1.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
fn WBUF_at(g: u32) -> u32 { return (g >> 4u) * 55u + 1u + ((g >> 3u) & 1u) * 27u; }
// Scale i (0..15) of the 12 bytes at word o, minus 32, as ggml unpacks them.
fn WBUF_sc(o: u32, i: u32) -> i32 {
  let lo = (byte_of(WBUF[o + ((i & 7u) >> 2u)], i & 3u) >> (4u * (i >> 3u))) & 15u;
  let hi = (byte_of(WBUF[o + 2u], i & 3u) >> (2u * (i >> 2u))) & 3u;
  return i32(lo | (hi << 4u)) - 32;
}
// d * (s - 32) of each half, as ggml's dl.
fn WBUF_d(g: u32) -> vec2<f32> {
  let d = unpack2x16float(WBUF[(g >> 4u) * 55u])[(g >> 3u) & 1u];
  let o = WBUF_at(g) + 24u;
  let J = g & 7u;
  return vec2<f32>(d * f32(WBUF_sc(o, 2u * J)), d * f32(WBUF_sc(o, 2u * J + 1u)));
}
// Codes q + 4 (0..7, one a byte) of qs words q and hmask words h of sub-block J.
fn WBUF_codes(q: vec4<u32>, h: vec4<u32>, J: u32) -> vec4<u32> {
  return ((q >> vec4<u32>(2u * (J & 3u))) & vec4<u32>(0x03030303u)) | (((h >> vec4<u32>(J)) & vec4<u32>(0x01010101u)) << vec4<u32>(2u));
}
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let o = WBUF_at(g);
  let a = o + 8u + 8u * ((g & 7u) >> 2u);
  let J = g & 7u;
  return array<vec4<u32>, 2>(
    sub_bytes(WBUF_codes(vec4<u32>(WBUF[a], WBUF[a + 1u], WBUF[a + 2u], WBUF[a + 3u]), vec4<u32>(WBUF[o], WBUF[o + 1u], WBUF[o + 2u], WBUF[o + 3u]), J), 0x04040404u),
    sub_bytes(WBUF_codes(vec4<u32>(WBUF[a + 4u], WBUF[a + 5u], WBUF[a + 6u], WBUF[a + 7u]), vec4<u32>(WBUF[o + 4u], WBUF[o + 5u], WBUF[o + 6u], WBUF[o + 7u]), J), 0x04040404u));
}
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let o = WBUF_at(g);
  let a = o + 8u + 8u * ((g & 7u) >> 2u) + 2u * j;
  let c = sub_bytes(WBUF_codes(vec4<u32>(WBUF[a], WBUF[a + 1u], 0u, 0u), vec4<u32>(WBUF[o + 2u * j], WBUF[o + 2u * j + 1u], 0u, 0u), g & 7u), 0x04040404u);
  let d = WBUF_d(g)[j >> 1u];
  return mat2x4<f32>(d * i8x4_f32(c.x), d * i8x4_f32(c.y));
}
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

const WBUF_HALVES: bool = true;
const WBUF_OFFS: bool = false;
// Exact mode (dot_exact_k.wgsl): the super-block's (d, dmin), the group's
// integer (scale, scale, min, min) of its halves and its codes as the CPU
// kernel decodes them; WBUF_EXACT names the CPU kernel's order.
fn WBUF_kd(g: u32) -> vec2<f32> { return vec2<f32>(unpack2x16float(WBUF[(g >> 4u) * 55u])[(g >> 3u) & 1u], 0.0); }
fn WBUF_ksc(g: u32) -> vec4<i32> {
  let o = WBUF_at(g) + 24u;
  return vec4<i32>(WBUF_sc(o, 2u * (g & 7u)), WBUF_sc(o, 2u * (g & 7u) + 1u), 0, 0);
}
fn WBUF_qu(g: u32) -> array<vec4<u32>, 2> { return WBUF_q8(g); }
const WBUF_EXACT: u32 = 4u;
