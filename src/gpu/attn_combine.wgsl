// Joins attn_split.wgsl's shares of each head: rescaled to the largest
// maximum, summed, divided by the summed denominators.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.x;
  var mx = -3.0e38;
  for (var s = 0u; s < SPLIT; s++) { mx = max(mx, part[(h * SPLIT + s) * (HD + 2u) + HD]); }
  var l = 0.0;
  for (var s = 0u; s < SPLIT; s++) {
    let b = (h * SPLIT + s) * (HD + 2u);
    l += part[b + HD + 1u] * exp(part[b + HD] - mx);
  }
  for (var d = tid; d < HD; d += WG) {
    var a = 0.0;
    for (var s = 0u; s < SPLIT; s++) {
      let b = (h * SPLIT + s) * (HD + 2u);
      a += part[b + d] * exp(part[b + HD] - mx);
    }
    outv[h * HD + d] = a / l;
  }
}
