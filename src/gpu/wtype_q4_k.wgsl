// Q4_K: super-blocks of 256 as GGUF stores them, 36 words: [d | dmin (f16)]
// [scales: 3 words, 6-bit scale and min per sub-block, decoded here: 4 bytes
// a super-block fewer than pre-decoded ones] [qs: 32 words]. Group g (32
// values) is sub-block j = g % 8 of super-block g / 8: w = d * sc * q -
// dmin * m, q the low (j even) or high (j odd) nibbles of qs words
// 8 (j / 2)..8 (j / 2) + 7, element l in byte l. Unit j: elements 8j..8j+7.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
// (d * sc, dmin * m) of group g, as ggml's d1 and m1.
fn WBUF_dm(g: u32) -> vec2<f32> {
  let p = (g >> 3u) * 36u;
  let sm = k4_scale_min(vec3<u32>(WBUF[p + 1u], WBUF[p + 2u], WBUF[p + 3u]), g & 7u);
  let dd = unpack2x16float(WBUF[p]);
  return vec2<f32>(dd.x * f32(sm.x), dd.y * f32(sm.y));
}
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> {
  let s = g & 7u;
  let o = (g >> 3u) * 36u + 4u + (s >> 1u) * 8u + 2u * j;
  let sh = vec4<u32>(0u, 8u, 16u, 24u) + 4u * (s & 1u);
  let d = WBUF_dm(g).x;
  return mat2x4<f32>(d * vec4<f32>((vec4<u32>(WBUF[o]) >> sh) & vec4<u32>(15u)),
                     d * vec4<f32>((vec4<u32>(WBUF[o + 1u]) >> sh) & vec4<u32>(15u)));
}
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let m = WBUF_dm(g).y;
  let w = WBUF_deqd(g, j);
  return mat2x4<f32>(w[0] - vec4<f32>(m), w[1] - vec4<f32>(m));
}
// The offset of each half (one value for the whole group): -dmin * m.
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(-WBUF_dm(g).y); }

// Integer products: the group's scale, and its quants 0..15 as int8 four
// to a word: elements 0..15, then 16..31 (the offset is added apart).
fn WBUF_d(g: u32) -> vec2<f32> { return vec2<f32>(WBUF_dm(g).x); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let s = g & 7u;
  let o = (g >> 3u) * 36u + 4u + (s >> 1u) * 8u;
  let sh = vec4<u32>(4u * (s & 1u));
  let m = vec4<u32>(0x0f0f0f0fu);
  return array<vec4<u32>, 2>((vec4<u32>(WBUF[o], WBUF[o + 1u], WBUF[o + 2u], WBUF[o + 3u]) >> sh) & m,
                             (vec4<u32>(WBUF[o + 4u], WBUF[o + 5u], WBUF[o + 6u], WBUF[o + 7u]) >> sh) & m);
}

const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = true;
// Exact mode (dot_exact_k.wgsl): the super-block's (d, dmin), the group's
// integer (scale, scale, min, min) of its halves and its codes as the CPU
// kernel decodes them; WBUF_EXACT names the CPU kernel's order.
fn WBUF_kd(g: u32) -> vec2<f32> { return unpack2x16float(WBUF[(g >> 3u) * 36u]); }
fn WBUF_ksc(g: u32) -> vec4<i32> { let p = (g >> 3u) * 36u; return k4_ksc(vec3<u32>(WBUF[p + 1u], WBUF[p + 2u], WBUF[p + 3u]), g & 7u); }
fn WBUF_qu(g: u32) -> array<vec4<u32>, 2> { return WBUF_q8(g); }
const WBUF_EXACT: u32 = 1u;
