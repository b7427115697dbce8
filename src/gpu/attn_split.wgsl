// Decode attention split over positions: workgroup (h, s) takes the s-th of
// SPLIT shares of first_key(u.pos)..u.pos for query head h and writes its unnormalized
// sums, maximum and denominator to outv[(h * SPLIT + s) * (HD + 2)];
// attn_combine.wgsl joins them. More workgroups read the cache at once.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.x;
  let s = wid.y;
  decode_head(h, u.pos, tid, s == 0u);
  let n = u.pos + 1u;
  let first = first_key(u.pos);
  let share = (n - first + SPLIT - 1u) / SPLIT;
  let p0 = min(first + s * share, n);
  let r = attend_part(h / GROUP, p0, min(p0 + share, n), u.pos, tid);
  let base = (h * SPLIT + s) * (HD + 2u);
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) { outv[base + dim] = r.acc[k]; }
  }
  if (tid == 0u) {
    outv[base + HD] = r.m;
    outv[base + HD + 1u] = r.l;
  }
}
