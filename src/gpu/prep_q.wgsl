// The input vector of a decode product (xin, COLS floats, times xs: the
// RMSNorm scale or 1) as Q8 blocks in workgroup memory, for rows_q.wgsl:
// one thread a block, rounded as rows.wgsl and ggml's CPU round it.
var<workgroup> sxq: array<vec4<u32>, BPR * 2u>;
var<workgroup> sxd: array<vec2<f32>, BPR>;
fn pack_q8(q: vec4<f32>) -> u32 {
  let b = bitcast<vec4<u32>>(vec4<i32>(q)) & vec4<u32>(255u);
  return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}
fn prep_input(xs: f32, tid: u32) {
  for (var b = tid; b < BPR; b += WG) {
    var v: array<vec4<f32>, 8>;
    var amax = 0.0;
    for (var c = 0u; c < 8u; c++) {
      v[c] = xin[b * 8u + c] * xs;
      let a = abs(v[c]);
      amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
    }
    let s = q8_scale(amax);
    var qsum = 0.0;
    var w: array<u32, 8>;
    for (var c = 0u; c < 8u; c++) {
      let q = round(v[c] * s.y);
      qsum += q.x + q.y + q.z + q.w;
      w[c] = pack_q8(q);
    }
    sxq[2u * b] = vec4<u32>(w[0], w[1], w[2], w[3]);
    sxq[2u * b + 1u] = vec4<u32>(w[4], w[5], w[6], w[7]);
    sxd[b] = vec2<f32>(s.x, q8_sum(qsum, amax));
  }
  workgroupBarrier();
}
