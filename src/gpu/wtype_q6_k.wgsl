// Q6_K in pairs of super-blocks (210 bytes is not a whole number of words,
// 420 is; nothing added): 105 words = [d0 | d1 (f16)] then each block's
// other bytes as GGUF orders them, 52 words: [ql: 32 words] [qh: 16 words]
// [scales: 4 words, int8 per 16 values]. Group g is sub-block J = g % 8 of
// super-block g / 8 (n = J / 4, k = J % 4): element l's code is the nibble
// (low for k < 2) of ql byte 64 n + 32 (k & 1) + l with bits 2k, 2k+1 of qh
// byte 32 n + l above it, minus 32; w = d * sc * q, sc scale 8 n + 2 k
// (elements 0..15) or the next (16..31). Unit j: elements 8j..8j+7.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
// The super-block's words start at o = WBUF_at(g); d of the pair's half.
fn WBUF_at(g: u32) -> u32 { return (g >> 4u) * 105u + 1u + ((g >> 3u) & 1u) * 52u; }
// d * sc of each half, as ggml's d * sc[is].
fn WBUF_d(g: u32) -> vec2<f32> {
  let d = unpack2x16float(WBUF[(g >> 4u) * 105u])[(g >> 3u) & 1u];
  let J = g & 7u;
  let w = bitcast<i32>(WBUF[WBUF_at(g) + 48u + (J >> 1u)]);
  let b = 16u * (J & 1u);
  return vec2<f32>(d * f32(extractBits(w, b, 8u)), d * f32(extractBits(w, b + 8u, 8u)));
}
// Codes (0..63, one a byte) of ql words ql and qh words qh of sub-block J.
fn WBUF_codes(ql: vec4<u32>, qh: vec4<u32>, J: u32) -> vec4<u32> {
  let k = J & 3u;
  return ((ql >> vec4<u32>(4u * (k >> 1u))) & vec4<u32>(0x0f0f0f0fu)) |
         (((qh >> vec4<u32>(2u * k)) & vec4<u32>(0x03030303u)) << vec4<u32>(4u));
}
// Words of sub-block J's ql (from word a) and qh (from word h).
fn WBUF_ql(g: u32) -> u32 { let J = g & 7u; return WBUF_at(g) + 16u * (J >> 2u) + 8u * (J & 1u); }
fn WBUF_qh(g: u32) -> u32 { return WBUF_at(g) + 32u + 8u * ((g & 7u) >> 2u); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let a = WBUF_ql(g);
  let h = WBUF_qh(g);
  let J = g & 7u;
  return array<vec4<u32>, 2>(
    sub_bytes(WBUF_codes(vec4<u32>(WBUF[a], WBUF[a + 1u], WBUF[a + 2u], WBUF[a + 3u]), vec4<u32>(WBUF[h], WBUF[h + 1u], WBUF[h + 2u], WBUF[h + 3u]), J), 0x20202020u),
    sub_bytes(WBUF_codes(vec4<u32>(WBUF[a + 4u], WBUF[a + 5u], WBUF[a + 6u], WBUF[a + 7u]), vec4<u32>(WBUF[h + 4u], WBUF[h + 5u], WBUF[h + 6u], WBUF[h + 7u]), J), 0x20202020u));
}
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let a = WBUF_ql(g) + 2u * j;
  let h = WBUF_qh(g) + 2u * j;
  let c = sub_bytes(WBUF_codes(vec4<u32>(WBUF[a], WBUF[a + 1u], 0u, 0u), vec4<u32>(WBUF[h], WBUF[h + 1u], 0u, 0u), g & 7u), 0x20202020u);
  let d = WBUF_d(g)[j >> 1u]; // units 0, 1: elements 0..15
  return mat2x4<f32>(d * i8x4_f32(c.x), d * i8x4_f32(c.y));
}
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

// A scale per 16 values: the integer sums go by halves.
const WBUF_HALVES: bool = true;
const WBUF_OFFS: bool = false;
// Exact mode (dot_exact_k.wgsl): the super-block's (d, dmin), the group's
// integer (scale, scale, min, min) of its halves and its codes as the CPU
// kernel decodes them; WBUF_EXACT names the CPU kernel's order.
fn WBUF_kd(g: u32) -> vec2<f32> { return vec2<f32>(unpack2x16float(WBUF[(g >> 4u) * 105u])[(g >> 3u) & 1u], 0.0); }
fn WBUF_ksc(g: u32) -> vec4<i32> {
  let w = bitcast<i32>(WBUF[WBUF_at(g) + 48u + ((g & 7u) >> 1u)]);
  let b = 16u * (g & 1u);
  return vec4<i32>(extractBits(w, b, 8u), extractBits(w, b + 8u, 8u), 0, 0);
}
// (the codes 0..63: ggml's Q6_K product subtracts 32 times the input's sums apart)
fn WBUF_qu(g: u32) -> array<vec4<u32>, 2> {
  let a = WBUF_ql(g);
  let h = WBUF_qh(g);
  let J = g & 7u;
  return array<vec4<u32>, 2>(
    WBUF_codes(vec4<u32>(WBUF[a], WBUF[a + 1u], WBUF[a + 2u], WBUF[a + 3u]), vec4<u32>(WBUF[h], WBUF[h + 1u], WBUF[h + 2u], WBUF[h + 3u]), J),
    WBUF_codes(vec4<u32>(WBUF[a + 4u], WBUF[a + 5u], WBUF[a + 6u], WBUF[a + 7u]), vec4<u32>(WBUF[h + 4u], WBUF[h + 5u], WBUF[h + 6u], WBUF[h + 7u]), J));
}
const WBUF_EXACT: u32 = 3u;
