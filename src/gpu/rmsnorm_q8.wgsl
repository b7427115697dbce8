// Prefill: RMSNorm (as rmsnorm.wgsl: x[t] / sqrt(mean(x[t]^2) + eps) * nw)
// straight to the Q8 input of the quantized product after it
// (q8_store.wgsl), one workgroup per token.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.x;
  if (t >= u.n_tok) { return; }
  let scale = rms_scale(t, tid);
  if (ACT == 4u) { // Q8_K: a thread a super-block of 8 blocks, read twice
    for (var s = tid; s < BPR / 8u; s += WG) {
      var m = vec2<f32>(0.0);
      for (var b = 8u * s; b < 8u * s + 8u; b++) { m = q8k_max(m, normed(t, b, scale)); }
      let sc = q8k_scale(m);
      for (var b = 8u * s; b < 8u * s + 8u; b++) { q8k_store(t * BPR + b, normed(t, b, scale), sc); }
    }
    return;
  }
  for (var b = tid; b < BPR; b += WG) { q8_store(t * BPR + b, normed(t, b, scale)); }
}
// Block b of token t's normed row.
fn normed(t: u32, b: u32, scale: f32) -> array<vec4<f32>, 8> {
  var v: array<vec4<f32>, 8>;
  for (var c = 0u; c < 8u; c++) {
    let i = b * 32u + 4u * c;
    let o = t * E + i;
    v[c] = vec4<f32>(x[o] * scale * nw[i], x[o + 1u] * scale * nw[i + 1u], x[o + 2u] * scale * nw[i + 2u],
                     x[o + 3u] * scale * nw[i + 3u]);
  }
  return v;
}
