// Exact mode's rms_scale (rms_scale.wgsl): token t's scale summed by one
// thread as the CPU path sums it (rms_exact.wgsl).
var<workgroup> rms_sc: f32;
fn rms_scale(t: u32, tid: u32) -> f32 {
  if (tid == 0u) {
    var s = vec2<f32>(0.0);
    for (var i = 0u; i < E; i++) { s = sq_acc(s, x[t * E + i]); }
    rms_sc = rms_exact(s, f32(E));
  }
  workgroupBarrier();
  return rms_sc;
}
