// Prefill attention, one workgroup per (token, query head): causal over the
// cache (rope_kv has stored this chunk's keys and values already).
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.y;
  if (t >= u.n_tok) { return; }
  let h = wid.x;
  for (var d = tid; d < HD; d += WG) { qs[d] = round_f16(vec2<f32>(src[t * QKVD + h * HD + d] * Q_MUL, 0.0)).x; }
  workgroupBarrier();
  let o = attend(h / GROUP, u.pos + t + 1u, 0xffffffffu, tid);
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) { outv[t * QD + h * HD + dim] = o[k]; }
  }
}
