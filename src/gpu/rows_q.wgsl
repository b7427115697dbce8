// Decode products of quantized weights in integers (the default where the
// input fits in workgroup memory): prep_input quantizes the input vector
// once per workgroup (xin * xs to Q8 blocks, as rows.wgsl and ggml's CPU do)
// into sxq / sxd; WBUF_rows then takes R consecutive rows of weight binding
// WBUF (from r0, clamped to its rows) over this lane's blocks (of TPR
// lanes): per block an exact int8 dot product (dot4), scaled by d_w * d_x,
// as (products, offset terms: Q4_1/Q5_1's m * the input block's sum, the
// K-quants' mins * their halves' sums).
fn WBUF_rows(r0: u32, lane: u32, xs: f32) -> array<vec2<f32>, R> {
  var acc = array<vec2<f32>, R>();
  for (var b = lane; b < BPR; b += TPR) {
    let xa = sxq[2u * b];
    let xb = sxq[2u * b + 1u];
    let xd = sxd[b];
    for (var r = 0u; r < R; r++) {
      let g = min(r0 + r, WBUF_NROWS - 1u) * BPR + b;
      let q = WBUF_q8(g);
      let s0 = dot4(q[0].x, xa.x) + dot4(q[0].y, xa.y) + dot4(q[0].z, xa.z) + dot4(q[0].w, xa.w);
      let s1 = dot4(q[1].x, xb.x) + dot4(q[1].y, xb.y) + dot4(q[1].z, xb.z) + dot4(q[1].w, xb.w);
      let d = WBUF_d(g);
      var p: f32;
      // a scale per 16 values (Q2_K, Q3_K, Q6_K): the halves' sums apart
      if (WBUF_HALVES) { p = f32(s0) * (d.x * xd.x) + f32(s1) * (d.y * xd.x); } else { p = f32(s0 + s1) * (d.x * xd.x); }
      var m = 0.0;
      if (WBUF_OFFS) { m = dot(WBUF_m(g), act_sums(xd)); }
      acc[r] += vec2<f32>(p, m);
    }
  }
  return acc;
}
