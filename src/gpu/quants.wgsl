// Quant unpacking shared by the weight types (wtype_*.wgsl).
// The 4-bit quants of qs word w: [low nibbles, high nibbles], as vectors.
fn nibbles(w: u32) -> array<vec4<u32>, 2> {
  return array<vec4<u32>, 2>(vec4<u32>(w, w >> 8u, w >> 16u, w >> 24u) & vec4<u32>(15u),
                             vec4<u32>(w >> 4u, w >> 12u, w >> 20u, w >> 28u) & vec4<u32>(15u));
}
// Q5: the nibbles of unit j with their fifth bits from qh (bit e for element e).
fn q5_quants(w: u32, qh: u32, j: u32) -> array<vec4<u32>, 2> {
  let n = nibbles(w);
  let e = vec4<u32>(0u, 1u, 2u, 3u) + 4u * j;
  return array<vec4<u32>, 2>(n[0] | (((vec4<u32>(qh) >> e) & vec4<u32>(1u)) << vec4<u32>(4u)),
                             n[1] | (((vec4<u32>(qh) >> (e + 16u)) & vec4<u32>(1u)) << vec4<u32>(4u)));
}
// Q5's fifth bits of four elements (bits 0..3 of h) at bit 4 of each byte.
fn q5_spread(h: u32) -> u32 { return ((h & 1u) << 4u) | ((h & 2u) << 11u) | ((h & 4u) << 18u) | ((h & 8u) << 25u); }
// Q5's 32 codes (0..31) of one block, four to a word: the 4 qs words w with
// their fifth bits from qh, elements 0..15 then 16..31 (mmq.wgsl's layout).
fn q5_codes(w: vec4<u32>, qh: u32) -> array<vec4<u32>, 2> {
  let m = vec4<u32>(0x0f0f0f0fu);
  return array<vec4<u32>, 2>(
    (w & m) | vec4<u32>(q5_spread(qh & 15u), q5_spread((qh >> 4u) & 15u), q5_spread((qh >> 8u) & 15u), q5_spread((qh >> 12u) & 15u)),
    ((w >> vec4<u32>(4u)) & m) | vec4<u32>(q5_spread((qh >> 16u) & 15u), q5_spread((qh >> 20u) & 15u),
                                          q5_spread((qh >> 24u) & 15u), q5_spread(qh >> 28u)));
}
// Byte k of word w.
fn byte_of(w: u32, k: u32) -> u32 { return (w >> (8u * k)) & 255u; }
// The four bytes of w as floats, each read as int8.
fn i8x4_f32(w: u32) -> vec4<f32> {
  let s = bitcast<i32>(w);
  return vec4<f32>(f32(extractBits(s, 0u, 8u)), f32(extractBits(s, 8u, 8u)), f32(extractBits(s, 16u, 8u)), f32(extractBits(s, 24u, 8u)));
}
// c - k in each byte (bytes of c at most 127, of k at most 128), without borrows between bytes.
fn sub_bytes(c: vec4<u32>, k: u32) -> vec4<u32> {
  let s = vec4<u32>(0x80808080u);
  return ((c | s) - vec4<u32>(k)) ^ s;
}
// IQ4_NL's and IQ4_XS's code book (ggml's kvalues_iq4nl), int8 four to a
// word: -127 -104 -83 -65 | -49 -35 -22 -10 | 1 13 25 38 | 53 69 89 113.
const IQ4_BOOK = array<u32, 4>(0xbfad9881u, 0xf6eaddcfu, 0x26190d01u, 0x71594535u);
// The book's byte for index n (only its low 4 bits are used: a code can
// never index past the book).
fn iq4_byte(n: u32) -> u32 {
  let t = IQ4_BOOK;
  return (t[(n >> 2u) & 3u] >> ((n & 3u) * 8u)) & 255u;
}
// The book's values (int8 bytes, four to a word) of the four nibbles at bit
// `sh` of each byte of w.
fn iq4_word(w: u32, sh: u32) -> u32 {
  return iq4_byte(w >> sh) | (iq4_byte(w >> (8u + sh)) << 8u) | (iq4_byte(w >> (16u + sh)) << 16u) |
         (iq4_byte(w >> (24u + sh)) << 24u);
}
fn iq4_words(w: vec4<u32>, sh: u32) -> vec4<u32> {
  return vec4<u32>(iq4_word(w.x, sh), iq4_word(w.y, sh), iq4_word(w.z, sh), iq4_word(w.w, sh));
}
// Q4_K's and Q5_K's 6-bit (scale, min) of sub-block j (0..7) from their 12
// scale bytes s (three words), as ggml's get_scale_min_k4.
// (and as exact mode's (scale, scale, min, min): WBUF_ksc)
fn k4_ksc(s: vec3<u32>, j: u32) -> vec4<i32> {
  let sm = vec2<i32>(k4_scale_min(s, j));
  return vec4<i32>(sm.x, sm.x, sm.y, sm.y);
}
fn k4_scale_min(s: vec3<u32>, j: u32) -> vec2<u32> {
  let k = j & 3u;
  let b0 = byte_of(s.x, k);
  let b1 = byte_of(s.y, k);
  let b2 = byte_of(s.z, k);
  if (j < 4u) { return vec2<u32>(b0 & 63u, b1 & 63u); }
  return vec2<u32>((b2 & 15u) | ((b0 >> 6u) << 4u), (b2 >> 4u) | ((b1 >> 6u) << 4u));
}
