// Decode: qkv = (Wq | Wk | Wv) * rmsnorm(x) + bias, (WG / TPR) * R rows per workgroup;
// matrices of other types in their own dispatches, from row ROW_BASE.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let lane = tid % TPR;
  let row0 = wg_index(wid, nwg) * (WG / TPR) * R + (tid / TPR) * R;
  if (wg_index(wid, nwg) * (WG / TPR) * R >= OUT_ROWS) { return; }
  let scale = norm_scale(tid, wg_index(wid, nwg) == 0u);
  prep_input(scale, tid);
  let sums = reduce_rows(rows_at(row0, lane, scale), tid);
  for (var i = 0u; i < R; i++) {
    if (lane != 0u || row0 + i >= OUT_ROWS) { continue; }
    let r = ROW_BASE + row0 + i;
    outv[r] = sums[i] + bias[r];
  }
}
