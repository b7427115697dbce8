// Decode attention, one workgroup per query head (decode_head.wgsl, then
// attention over positions first_key(u.pos)..u.pos in one pass).
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.x;
  decode_head(h, u.pos, tid, true);
  let o = attend(h / GROUP, first_key(u.pos), u.pos + 1u, u.pos, tid);
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) { outv[h * HD + dim] = o[k]; }
  }
}
