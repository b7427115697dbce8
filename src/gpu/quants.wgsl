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
