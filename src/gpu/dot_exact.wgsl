// Exact mode's products of quantized weights on Q8 blocks of 32 (ACT 3):
// one thread an output, walking the row's blocks in order and adding the
// scaled block sums as the CPU kernels do (src/cpu/quant_scalar.c's
// matmul_quant, mm_iq4_nl; the SIMD kernels and llama.cpp's zen4 build
// give the same bits): 8 lanes of 4 products a block, each lane one FMA
// of d_w * d_x and its sum (w0_LANES), or one FMA of the block's sum;
// Q4_1/Q5_1's m times the input block's sum (Q8_1's s) FMA'd apart and
// added last; the lanes joined as ggml's hsum_float_8. FMAs are fma_once
// (exactmath.wgsl): a GPU's fma() need not be fused. The input's blocks
// come from xin_q8 / xin_d (token t, block b) of the kernel that includes
// this (rows_q_exact.wgsl, mmq_exact.wgsl).
fn hsum8(a: array<f32, 8>) -> f32 { return ((a[4] + a[0]) + (a[6] + a[2])) + ((a[5] + a[1]) + (a[7] + a[3])); }
fn dot_exact(row: u32, t: u32) -> f32 {
  var acc = array<f32, 8>();
  var summs = 0.0;
  for (var b = 0u; b < BPR; b++) {
    var w = wsel_q8(row, b);
    var x = xin_q8(t, b);
    let xd = xin_d(t, b);
    let dd = wsel_d(row, b).x * xd.x;
    if (w0_LANES) {
      for (var l = 0u; l < 4u; l++) {
        acc[l] = fma_once(dd, f32(dot4(w[0][l], x[0][l])), acc[l]);
        acc[l + 4u] = fma_once(dd, f32(dot4(w[1][l], x[1][l])), acc[l + 4u]);
      }
      if (w0_OFFS) { summs = fma_once(wsel_m(row, b).x, act_sums(xd).x, summs); }
    } else {
      var s = 0;
      for (var l = 0u; l < 4u; l++) { s += dot4(w[0][l], x[0][l]) + dot4(w[1][l], x[1][l]); }
      acc[0] = fma_once(f32(s), dd, acc[0]);
    }
  }
  if (!w0_LANES) { return acc[0]; }
  if (w0_OFFS) { return hsum8(acc) + summs; }
  return hsum8(acc);
}
