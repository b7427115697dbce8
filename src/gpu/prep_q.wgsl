// The input vector of a decode product (xin_at: the binding xin, or
// post_norm_in.wgsl's; COLS floats, times xs: the
// RMSNorm scale or 1) as Q8 blocks in workgroup memory, for rows_q.wgsl:
// one thread a block, rounded as rows.wgsl and ggml's CPU round it.
var<workgroup> sxq: array<vec4<u32>, BPR * 2u>;
var<workgroup> sxd: array<vec2<f32>, BPR>;
// Q8_K: each super-block's (d, iscale)
var<workgroup> sxk: array<vec2<f32>, select(1u, BPR / 8u, ACT == 4u)>;
fn prep_block(b: u32, xs: f32) -> array<vec4<f32>, 8> {
  var v = array<vec4<f32>, 8>();
  for (var c = 0u; c < 8u; c++) { v[c] = xin_scaled(b * 8u + c, xs); }
  return v;
}
fn prep_input(xs: f32, tid: u32) {
  if (ACT == 4u) {
    // Q8_K: each block's (|max|, max) (in sxd for now), then each super-block's scale
    for (var b = tid; b < BPR; b += WG) { sxd[b] = q8k_max(vec2<f32>(0.0), prep_block(b, xs)); }
    workgroupBarrier();
    for (var s = tid; s < BPR / 8u; s += WG) {
      var m = vec2<f32>(0.0);
      for (var k = 0u; k < 8u; k++) { m = q8k_join(m, sxd[8u * s + k]); }
      sxk[s] = q8k_scale(m);
    }
    workgroupBarrier();
  }
  for (var b = tid; b < BPR; b += WG) {
    let v = prep_block(b, xs);
    var blk: Q8Block;
    if (ACT == 4u) { blk = q8k_block(v, sxk[b / 8u]); } else { blk = q8_block(v); }
    let q = blk.q;
    sxq[2u * b] = vec4<u32>(pack_q8(q[0]), pack_q8(q[1]), pack_q8(q[2]), pack_q8(q[3]));
    sxq[2u * b + 1u] = vec4<u32>(pack_q8(q[4]), pack_q8(q[5]), pack_q8(q[6]), pack_q8(q[7]));
    sxd[b] = vec2<f32>(blk.d, blk.s);
  }
  workgroupBarrier();
}
