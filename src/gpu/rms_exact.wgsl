// Exact mode's RMSNorm scale, as the CPU path's rmsnorm (src/cpu/forward.c)
// computes it: the f32 squares summed in order in double (here a
// compensated f32 pair by one thread: exactmath.wgsl's two_sum), then
// (float)(sum / n) + eps and 1 / sqrtf(...), each rounded once.
fn sq_acc(a: vec2<f32>, v: f32) -> vec2<f32> {
  let t = two_sum(a.x, v * v);
  return vec2<f32>(t.x, a.y + t.y);
}
// sqrt rounded to nearest (a GPU's sqrt need not be): of s and its two
// neighbours, the one whose square is nearest v.
fn sqrt_cr(v: f32) -> f32 {
  let s = sqrt(v);
  let up = bitcast<f32>(bitcast<u32>(s) + 1u);
  let dn = bitcast<f32>(max(bitcast<u32>(s), 1u) - 1u);
  var best = s;
  var e = abs(fma_once(-s, s, v));
  let eu = abs(fma_once(-up, up, v));
  if (eu < e) { best = up; e = eu; }
  if (abs(fma_once(-dn, dn, v)) < e) { best = dn; }
  return best;
}
// 1 / sqrt(sum / n + EPS) of the pair s = (hi, lo)
fn rms_exact(s: vec2<f32>, n: f32) -> f32 {
  let q = s.x / n;
  let m = q + (fma_once(-q, n, s.x) + s.y) / n;
  return div_cr(1.0, sqrt_cr(m + EPS));
}
