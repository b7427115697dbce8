// Prefill: xb[t] = x[t] / sqrt(mean(x[t]^2) + eps) * nw, one workgroup per token.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.x;
  if (t >= u.n_tok) { return; }
  let scale = rms_scale(t, tid);
  for (var i = tid; i < E; i += WG) { xb[t * E + i] = x[t * E + i] * scale * nw[i]; }
}
