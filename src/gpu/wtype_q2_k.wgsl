// Q2_K: super-blocks of 256 as GGUF stores them, 21 words: [scales: 4
// words, a byte per 16 values: scale (low nibble) and min (high)] [qs: 16
// words] [d | dmin (f16)]. Group g is sub-block J = g % 8 of super-block
// g / 8 (n = J / 4, k = J % 4): element l's code is bits 2k, 2k+1 of qs
// byte 32 n + l; w = d * sc * q - dmin * m with the scale byte 2J (elements
// 0..15) or 2J + 1 (16..31). Unit j: elements 8j..8j+7.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
// The two scale bytes of group g (low and high half) and (d, dmin).
fn WBUF_sb(g: u32) -> vec2<u32> {
  let w = WBUF[(g >> 3u) * 21u + ((g & 7u) >> 1u)] >> (16u * (g & 1u));
  return vec2<u32>(w & 255u, (w >> 8u) & 255u);
}
fn WBUF_dd(g: u32) -> vec2<f32> { return unpack2x16float(WBUF[(g >> 3u) * 21u + 20u]); }
// d * sc of each half, as ggml's dl.
fn WBUF_d(g: u32) -> vec2<f32> { return WBUF_dd(g).x * vec2<f32>(WBUF_sb(g) & vec2<u32>(15u)); }
// The offsets of the halves, -dmin * m (ggml's ml).
fn WBUF_m(g: u32) -> vec2<f32> { return -(WBUF_dd(g).y * vec2<f32>(WBUF_sb(g) >> vec2<u32>(4u))); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let a = (g >> 3u) * 21u + 4u + 8u * ((g & 7u) >> 2u);
  let sh = vec4<u32>(2u * (g & 3u));
  let m = vec4<u32>(0x03030303u);
  return array<vec4<u32>, 2>((vec4<u32>(WBUF[a], WBUF[a + 1u], WBUF[a + 2u], WBUF[a + 3u]) >> sh) & m,
                             (vec4<u32>(WBUF[a + 4u], WBUF[a + 5u], WBUF[a + 6u], WBUF[a + 7u]) >> sh) & m);
}
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> {
  let a = (g >> 3u) * 21u + 4u + 8u * ((g & 7u) >> 2u) + 2u * j;
  let sh = vec4<u32>(0u, 8u, 16u, 24u) + 2u * (g & 3u);
  let d = WBUF_d(g)[j >> 1u];
  return mat2x4<f32>(d * vec4<f32>((vec4<u32>(WBUF[a]) >> sh) & vec4<u32>(3u)),
                     d * vec4<f32>((vec4<u32>(WBUF[a + 1u]) >> sh) & vec4<u32>(3u)));
}
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let m = WBUF_m(g)[j >> 1u];
  let w = WBUF_deqd(g, j);
  return mat2x4<f32>(w[0] + vec4<f32>(m), w[1] + vec4<f32>(m));
}

// A scale and a min per 16 values: the integer sums go by halves.
const WBUF_HALVES: bool = true;
const WBUF_OFFS: bool = true;
// Exact mode (dot_exact_k.wgsl): the super-block's (d, dmin), the group's
// integer (scale, scale, min, min) of its halves and its codes as the CPU
// kernel decodes them; WBUF_EXACT names the CPU kernel's order.
fn WBUF_kd(g: u32) -> vec2<f32> { return WBUF_dd(g); }
fn WBUF_ksc(g: u32) -> vec4<i32> { let s = vec2<i32>(WBUF_sb(g)); return vec4<i32>(s & vec2<i32>(15), s >> vec2<u32>(4u)); }
fn WBUF_qu(g: u32) -> array<vec4<u32>, 2> { return WBUF_q8(g); }
const WBUF_EXACT: u32 = 0u;
