// Exact mode's products of K-quant and IQ4_XS weights on Q8_K input (ACT
// 4): dot_exact (dot_exact.wgsl's, for these types) walking a row's
// super-blocks in order, with the CPU kernels' integer sums and FMAs (src/
// cpu/quant_k_scalar.c, quant_lowbit_scalar.c; w0_EXACT in the type's
// accessor file names its order):
//   0 Q2_K: integer sums a half super-block, FMA'd per half for the tokens
//     ggml's gemm takes (t < n_tok - n_tok % 4), else once; mins likewise
//   1 Q4_K: integer sums a pair of blocks, the same gemm rule
//   2 Q5_K: 8 lanes (word l of each block) and the mins' sum apart
//   3 Q6_K: 8 lanes of unsigned codes, each less 32 times block l's
//     halves' input sums (ggml's bsums) by their scales
//   4 Q3_K, 5 IQ4_XS: 8 lanes, a scale per half block; IQ4_XS from
//     IQ4XS_PANEL tokens on: ggml's panel gemm, one FMA a super-block
// The input's d is its super-block's; each block's half sums come packed
// as q8k_block packs them (act.wgsl). xin_ntok(): the tokens of the batch.
fn hsum8(a: array<f32, 8>) -> f32 { return ((a[4] + a[0]) + (a[6] + a[2])) + ((a[5] + a[1]) + (a[7] + a[3])); }
// a block's two half sums of input codes, as integers
fn half_sums(s: f32) -> vec2<i32> {
  let hi = round(s / 8192.0);
  return vec2<i32>(i32(s - 8192.0 * hi), i32(hi));
}
fn dot_exact(row: u32, t: u32) -> f32 {
  let n = xin_ntok();
  let gemm = t < n - n % 4u;
  let kind = select(w0_EXACT, 6u, w0_EXACT == 5u && n >= IQ4XS_PANEL);
  var lane = array<f32, 8>();
  var summs = 0.0;
  for (var s = 0u; s < BPR / 8u; s++) {
    let kd = wsel_kd(row, 8u * s);
    let yd = xin_d(t, 8u * s).x;
    var il = array<i32, 8>();  // lanes' integer sums
    var ip = array<i32, 4>();  // sums a pair of blocks (Q4_K) or a half super-block (Q2_K)
    var im = array<i32, 4>();  // their mins
    var mins = 0;
    for (var j = 0u; j < 8u; j++) {
      let g = 8u * s + j;
      var w = wsel_qu(row, g);
      var x = xin_q8(t, g);
      let sc = wsel_ksc(row, g);
      let bs = half_sums(xin_d(t, g).y);
      var d = array<i32, 8>();
      for (var l = 0u; l < 4u; l++) {
        d[l] = dot4(w[0][l], x[0][l]);
        d[l + 4u] = dot4(w[1][l], x[1][l]);
      }
      let h0 = d[0] + d[1] + d[2] + d[3];
      let h1 = d[4] + d[5] + d[6] + d[7];
      for (var l = 0u; l < 8u; l++) { il[l] += select(sc.x, sc.y, l >= 4u) * d[l]; }
      let p = select(j / 2u, j / 4u, kind == 0u);
      ip[p] += sc.x * h0 + sc.y * h1;
      im[p] += sc.z * bs.x + sc.w * bs.y;
      mins += sc.z * (bs.x + bs.y);
      // Q6_K: lane j's correction (block j's halves)
      if (kind == 3u) { il[j] -= 32 * (bs.x * sc.x + bs.y * sc.y); }
    }
    if (kind <= 1u) {
      let dd = kd.x * yd;
      let dm = kd.y * yd;
      if (gemm) {
        for (var p = 0u; p < 4u; p++) {
          if (kind == 0u && p >= 2u) { break; }
          lane[0] = fma_once(f32(ip[p]), dd, lane[0]);
          summs = fma_once(f32(im[p]), dm, summs);
        }
      } else {
        lane[0] = fma_once(f32(ip[0] + ip[1] + ip[2] + ip[3]), dd, lane[0]);
        summs = fma_once(f32(im[0] + im[1] + im[2] + im[3]), dm, summs);
      }
    } else if (kind == 6u) {
      lane[0] = fma_once(f32(ip[0] + ip[1] + ip[2] + ip[3]), kd.x * yd, lane[0]);
    } else {
      let dd = yd * kd.x;
      for (var l = 0u; l < 8u; l++) { lane[l] = fma_once(dd, f32(il[l]), lane[l]); }
      if (kind == 2u) { summs = fma_once((-yd) * kd.y, f32(mins), summs); }
    }
  }
  if (kind <= 1u) { return lane[0] - summs; }
  if (kind == 6u) { return lane[0]; }
  if (kind == 2u) { return hsum8(lane) + summs; }
  return hsum8(lane);
}
