// Exact mode's SwiGLU gate, as the CPU path's swiglu_scalar (and its AVX2
// twin) computes it: x / (1 + e^-x) with e^-x from ggml's polynomial
// (ggml_poly_expf, ggml_v_expf's: FMAs rounded once, fma_once) and the
// division rounded once (div_cr; exactmath.wgsl). The CPU path takes libm's
// expf for the last FF % 16 values instead: not followed here (ffn_gate
// has no index), so an FFN width off a multiple of 16 is exact but for those.
fn poly_expf(x: f32) -> f32 {
  let r = 0x1.8p23f;
  let z = fma_once(x, 0x1.715476p+0f, r);
  let n = z - r;
  let b = fma_once(-n, 0x1.7f7d1cp-20f, fma_once(-n, 0x1.62e4p-1f, x));
  let u = b * b;
  let j = fma_once(fma_once(fma_once(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fma_once(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                   fma_once(0x1.ffffecp-1f, b, 1.0f));
  // (|n| <= 192 here: two steps keep each scale a normal float)
  let k = i32(n);
  return ldexp(ldexp(j, k / 2), k - k / 2);
}
fn ffn_gate(x: f32) -> f32 {
  let m = 0.0 - x;
  // e^m past 2^192: x / inf (-0 for x < 0); below 2^-192: x / 1
  if (m * 0x1.715476p+0f > 192.5) { return x * 0.0; }
  if (m * 0x1.715476p+0f < -192.5) { return x; }
  return div_cr(x, 1.0 + poly_expf(m));
}
