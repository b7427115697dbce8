// Prefill: RMSNorm (as rmsnorm.wgsl: x[t] / sqrt(mean(x[t]^2) + eps) * nw)
// straight to the Q8 input of the quantized product after it
// (q8_store.wgsl), one workgroup per token.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.x;
  if (t >= u.n_tok) { return; }
  let scale = rms_scale(t, tid);
  for (var b = tid; b < BPR; b += WG) {
    var v: array<vec4<f32>, 8>;
    for (var c = 0u; c < 8u; c++) {
      let i = b * 32u + 4u * c;
      let o = t * E + i;
      v[c] = vec4<f32>(x[o] * scale * nw[i], x[o + 1u] * scale * nw[i + 1u], x[o + 2u] * scale * nw[i + 2u],
                       x[o + 3u] * scale * nw[i + 3u]);
    }
    q8_store(t * BPR + b, v);
  }
}
