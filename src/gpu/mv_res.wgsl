// Decode: x += W * xin (a residual branch), then xn = x * nw (the next
// RMSNorm's weights, so the next product only scales). POST (a branch with
// a norm of its own before the residual): x = W * xin only, x being another
// buffer, which post_norm.wgsl then norms and adds.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let lane = tid % TPR;
  let row0 = wg_index(wid, nwg) * (WG / TPR) * R + (tid / TPR) * R;
  if (wg_index(wid, nwg) * (WG / TPR) * R >= OUT_ROWS) { return; }
  prep_input(1.0, tid);
  let sums = reduce_rows(rows_at(row0, lane, 1.0), tid);
  for (var i = 0u; i < R; i++) {
    if (lane != 0u || row0 + i >= OUT_ROWS) { continue; }
    let r = row0 + i;
    if (POST) {
      x[r] = sums[i];
      continue;
    }
    let v = x[r] + sums[i];
    x[r] = v;
    xn[r] = v * nw[r];
  }
}
