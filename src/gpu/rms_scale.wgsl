// 1 / sqrt(mean(x[t]^2) + eps) of token t's row of x (prefill, x an f32
// array), by the whole workgroup: rmsnorm.wgsl, rmsnorm_q8.wgsl. Decode's
// products use norm_scale.wgsl (one row, read as vec4).
fn rms_scale(t: u32, tid: u32) -> f32 {
  var s = 0.0;
  for (var i = tid; i < E; i += WG) { let v = x[t * E + i]; s += v * v; }
  return 1.0 / sqrt(wg_sum(s, tid) / f32(E) + EPS);
}
