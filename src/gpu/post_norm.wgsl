// A branch's output with a norm of its own (gemma's post-attention and
// post-FFN norms): x[t] += rmsnorm(xb[t]) * pw, one workgroup per token,
// as the CPU path ((xb * scale) * w, then the residual add); decode
// (DECODE) also writes xn = x * nw (the next RMSNorm's weights). Exact
// mode (EXACT) sums the scale as the CPU path's rmsnorm, in order by one
// thread (rms_exact.wgsl).
var<workgroup> post_sc: f32;
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.x;
  if (t >= u.n_tok) { return; }
  var scale: f32;
  if (EXACT) {
    if (tid == 0u) {
      var s2 = vec2<f32>(0.0);
      for (var i = 0u; i < E; i++) { s2 = sq_acc(s2, xb[t * E + i]); }
      post_sc = rms_exact(s2, f32(E));
    }
    workgroupBarrier();
    scale = post_sc;
  } else {
    var s = 0.0;
    for (var i = tid; i < E; i += WG) { let v = xb[t * E + i]; s += v * v; }
    scale = 1.0 / sqrt(wg_sum(s, tid) / f32(E) + EPS);
  }
  for (var i = tid; i < E; i += WG) {
    let v = x[t * E + i] + xb[t * E + i] * scale * pw[i];
    x[t * E + i] = v;
    if (DECODE) { xn[i] = v * nw[i]; }
  }
}
