// Exact mode's decode attention, one workgroup per query head (decode_head.wgsl, then
// attention over positions first_key(u.pos)..u.pos in one pass, or over 512+ cells in the CPU
// path's chunks: attend_split).
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.x;
  decode_head(h, u.pos, tid, true);
  let kv0 = first_key(u.pos);
  // split as the CPU path with XSPLIT threads (0: never); not a window's keys nor capped scores, as there
  let n_kv = select(0u, split_kv(u.pos), XSPLIT > 0u && kv0 == 0u && SOFTCAP == 0.0);
  var o: array<f32, DPT>;
  if (n_kv > 0u) { o = attend_split(h / GROUP, u.pos + 1u, u.pos, n_kv, tid); } else { o = attend(h / GROUP, kv0, u.pos + 1u, u.pos, tid); }
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) { outv[h * HD + dim] = o[k]; }
  }
}
