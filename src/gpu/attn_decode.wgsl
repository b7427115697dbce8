// Decode attention, one workgroup per query head: RoPE of q and of the new
// k, the new k/v stored in the f16 cache at u.pos (by the group's first
// head), then attention over positions 0..u.pos.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.x;
  let kvh = h / GROUP;
  let pos = u.pos;
  rope_head(&qs, h * HD, pos, tid, true);
  rope_head(&kn, QD + kvh * HD, pos, tid, true);
  for (var d = tid; d < HD; d += WG) { vn[d] = round_f16(vec2<f32>(src[QD + KVD + kvh * HD + d], 0.0)).x; }
  workgroupBarrier();
  if (h % GROUP == 0u) {
    let row = (kvh * NCTX + pos) * (HD / 2u);
    for (var w = tid; w < HD / 2u; w += WG) {
      kc[row + w] = pack2x16float(vec2<f32>(kn[2u * w], kn[2u * w + 1u]));
      vc[row + w] = pack2x16float(vec2<f32>(vn[2u * w], vn[2u * w + 1u]));
    }
  }
  let o = attend(kvh, pos + 1u, pos, tid);
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) { outv[h * HD + dim] = o[k]; }
  }
}
