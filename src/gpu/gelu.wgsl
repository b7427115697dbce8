// GEGLU's gate, gelu(x) with GELU's tanh form, as ggml's CPU backend takes
// it from its f16 table (src/cpu/activation.c, gelu_table_init / geglu):
// x rounded to f16 (round_f16), GELU of that value in f32 (1 + a*x*x one FMA, as GCC
// contracts ggml_gelu_f32; tanh as glibc's tanhf) rounded to f16; 0 at or
// below -10 and x itself at or above 10. Computed directly rather than
// through a 64K-entry table: the same f16 value for every f16 input
// (tests/e2e/webgpu_kernels.test.mjs checks all of them). Needs exactmath.wgsl.
fn gelu_f16(x: f32) -> f32 {
  if (x <= -10.0) { return 0.0; }
  if (x >= 10.0) { return x; }
  let h = round_f16(vec2<f32>(x, 0.0)).x;
  let g = 0.5 * h * (1.0 + tanh_libm(0.79788456080286535587989211986876 * h * fma_once(0.044715 * h, h, 1.0)));
  return round_f16(vec2<f32>(g, 0.0)).x;
}
fn ffn_gate(x: f32) -> f32 { return gelu_f16(x); }
