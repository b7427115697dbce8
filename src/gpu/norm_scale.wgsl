// RMSNorm's 1/sqrt(mean(x^2) + eps) of the residual x (E floats as vec4).
// The matrix products multiply their dot products with it, their input
// being x times the norm weights already (written by the producer of x).
// (`first`, the dispatch's first workgroup, matters to post_norm_in.wgsl's.)
fn norm_scale(tid: u32, first: bool) -> f32 {
  var s = 0.0;
  for (var i = tid; i < E / 4u; i += WG) { let v = x[i]; s += dot(v, v); }
  return 1.0 / sqrt(wg_sum(s, tid) / f32(E) + EPS);
}
