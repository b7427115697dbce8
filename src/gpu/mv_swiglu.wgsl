// Decode: act = gate(Wgate * rmsnorm(x)) * (Wup * rmsnorm(x)), the gate
// silu or GEGLU's gelu (ffn_gate: generated, or gelu.wgsl); the up rows
// follow the gate rows in the (logical) matrix: row r and row FF + r.
// q8_out (q8_out.wgsl, or nothing) may also store act as Q8 blocks.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let lane = tid % TPR;
  let row0 = wg_index(wid, nwg) * (WG / TPR) * R + (tid / TPR) * R;
  if (wg_index(wid, nwg) * (WG / TPR) * R >= FF) { return; }
  let scale = norm_scale(tid, wg_index(wid, nwg) == 0u);
  prep_input(scale, tid);
  let g = reduce_rows(rows_at(row0, lane, scale), tid);
  let up = reduce_rows(rows_at(FF + row0, lane, scale), tid);
  var v: array<f32, R>;
  for (var i = 0u; i < R; i++) {
    v[i] = ffn_gate(g[i]) * up[i];
    if (lane != 0u || row0 + i >= FF) { continue; }
    act[row0 + i] = v[i];
  }
  // (where the down product reads it so) the outputs as its Q8 input too
  q8_out(tid, lane, wg_index(wid, nwg) * (WG / TPR) * R, v);
}
