// Exact mode's norm_scale (norm_scale.wgsl): the residual x's scale summed
// by one thread as the CPU path sums it (rms_exact.wgsl).
var<workgroup> norm_sc: f32;
fn norm_scale(tid: u32, first: bool) -> f32 {
  if (tid == 0u) {
    var s = vec2<f32>(0.0);
    for (var i = 0u; i < E / 4u; i++) {
      let v = x[i];
      s = sq_acc(sq_acc(sq_acc(sq_acc(s, v.x), v.y), v.z), v.w);
    }
    norm_sc = rms_exact(s, f32(E));
  }
  workgroupBarrier();
  return norm_sc;
}
