// Exact mode's SwiGLU gate, as the CPU path's swiglu_scalar (and its AVX2
// twin) computes it: x / (1 + e^-x) with e^-x from ggml's polynomial
// (poly_expf) and the division rounded once (div_cr; exactmath.wgsl). The
// CPU path takes libm's expf for the last FF % 16 values instead: not
// followed here (ffn_gate has no index), so an FFN width off a multiple of
// 16 is exact but for those.
fn ffn_gate(x: f32) -> f32 {
  let m = 0.0 - x;
  // e^m past 2^192: x / inf (-0 for x < 0); below 2^-192: x / 1
  if (m * 0x1.715476p+0f > 192.5) { return x * 0.0; }
  if (m * 0x1.715476p+0f < -192.5) { return x; }
  return div_cr(x, 1.0 + poly_expf(m));
}
