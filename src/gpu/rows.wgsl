// Partial dot products of R consecutive rows of weight binding WBUF (from r0,
// clamped to its WBUF_NROWS rows) with xs * the input vector xin (COLS floats
// as vec4, rounded as the CPU does: act.wgsl), over this lane's share (of
// TPR lanes) of the row: units of 8 values, or whole blocks of 32 when the
// input is quantized to Q8 blocks (which need the block's largest value).
fn WBUF_rows(r0: u32, lane: u32, xs: f32) -> array<f32, R> {
  var acc: array<f32, R>;
  if (ACT == 3u) {
    for (var b = lane; b < BPR; b += TPR) {
      var xv: array<vec4<f32>, 8>;
      var amax = 0.0;
      for (var c = 0u; c < 8u; c++) {
        xv[c] = xin[b * 8u + c] * xs;
        let a = abs(xv[c]);
        amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
      }
      let s = q8_scale(amax);
      var qsum = 0.0;
      for (var c = 0u; c < 8u; c++) {
        let q = round(xv[c] * s.y);
        qsum += q.x + q.y + q.z + q.w;
        xv[c] = q * s.x;
      }
      let sum16 = q8_sum(qsum, amax);
      for (var r = 0u; r < R; r++) {
        let g = min(r0 + r, WBUF_NROWS - 1u) * BPR + b;
        var a = WBUF_m(g) * sum16;
        for (var j = 0u; j < 4u; j++) {
          let p = WBUF_pos(j);
          let w = WBUF_deqd(g, j);
          a += dot(w[0], xv[p.x >> 2u]) + dot(w[1], xv[p.y >> 2u]);
        }
        acc[r] += a;
      }
    }
    return acc;
  }
  for (var u = lane; u < BPR * 4u; u += TPR) {
    let b = u >> 2u;
    let j = u & 3u;
    let p = WBUF_pos(j);
    let x0 = act_round(xin[(b * 32u + p.x) >> 2u] * xs);
    let x1 = act_round(xin[(b * 32u + p.y) >> 2u] * xs);
    for (var r = 0u; r < R; r++) {
      let w = WBUF_deq(min(r0 + r, WBUF_NROWS - 1u) * BPR + b, j);
      acc[r] += dot(w[0], x0) + dot(w[1], x1);
    }
  }
  return acc;
}
