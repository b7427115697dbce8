// Partial dot products of R consecutive rows of weight binding WBUF (from r0,
// clamped to its WBUF_NROWS rows) with xs * the input vector xin_at (COLS floats
// as vec4, rounded as the CPU does: act.wgsl), over this lane's share (of
// TPR lanes) of the row, as (products, Q4_1/Q5_1 offset terms): units of 8 values, or whole blocks of 32 when the
// input is quantized to Q8 blocks (which need the block's largest value).
fn WBUF_rows(r0: u32, lane: u32, xs: f32) -> array<vec2<f32>, R> {
  var acc: array<vec2<f32>, R>;
  if (ACT >= 3u) {
    for (var b = lane; b < BPR; b += TPR) {
      var xv = array<vec4<f32>, 8>();
      var blk: Q8Block;
      if (ACT == 4u) {
        // Q8_K: the scale of the block's super-block, from its 8 blocks (a
        // fallback path: each lane reads them again)
        var mx = vec2<f32>(0.0);
        for (var k = b & ~7u; k < (b & ~7u) + 8u; k++) {
          for (var c = 0u; c < 8u; c++) { xv[c] = xin_scaled(k * 8u + c, xs); }
          mx = q8k_max(mx, xv);
        }
        for (var c = 0u; c < 8u; c++) { xv[c] = xin_scaled(b * 8u + c, xs); }
        blk = q8k_block(xv, q8k_scale(mx));
      } else {
        for (var c = 0u; c < 8u; c++) { xv[c] = xin_scaled(b * 8u + c, xs); }
        blk = q8_block(xv);
      }
      for (var c = 0u; c < 8u; c++) { xv[c] = blk.q[c] * blk.d; }
      let sums = act_sums(vec2<f32>(blk.d, blk.s));
      for (var r = 0u; r < R; r++) {
        let g = min(r0 + r, WBUF_NROWS - 1u) * BPR + b;
        var a = 0.0;
        for (var j = 0u; j < 4u; j++) {
          let p = WBUF_pos(j);
          let w = WBUF_deqd(g, j);
          a += dot(w[0], xv[p.x >> 2u]) + dot(w[1], xv[p.y >> 2u]);
        }
        // Q4_1/Q5_1's offsets are summed apart, as ggml adds them at the end
        // (they are large and cancel: mixing them in would change roundings).
        acc[r] += vec2<f32>(a, dot(WBUF_m(g), sums));
      }
    }
    return acc;
  }
  for (var u = lane; u < BPR * 4u; u += TPR) {
    let b = u >> 2u;
    let j = u & 3u;
    let p = WBUF_pos(j);
    let x0 = act_round(xin_scaled((b * 32u + p.x) >> 2u, xs));
    let x1 = act_round(xin_scaled((b * 32u + p.y) >> 2u, xs));
    for (var r = 0u; r < R; r++) {
      let w = WBUF_deq(min(r0 + r, WBUF_NROWS - 1u) * BPR + b, j);
      acc[r].x += dot(w[0], x0) + dot(w[1], x1);
    }
  }
  return acc;
}
