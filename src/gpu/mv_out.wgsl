// Logits = Wout * rmsnorm(x) for rows ROW_BASE.. (one slice of the output
// matrix), soft-capped where the model says (FINAL_CAP > 0: tanh(l / cap) *
// cap, as ggml: exactmath.wgsl's tanh_libm), with the repetition penalty on
// the recent tokens (as llama.cpp: positive logits divided, negative ones
// multiplied, once per token).
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
    var v = sums[i];
    if (FINAL_CAP != 0.0) { v = tanh_libm(v * FINAL_CAP_INV) * FINAL_CAP; }
    if (u.penalty != 1.0) {
      for (var k = 0u; k < u.n_recent; k++) {
        if (u.recent[k / 4u][k % 4u] == r) {
          v = select(v * u.penalty, v / u.penalty, v > 0.0);
          break;
        }
      }
    }
    logits[r] = v;
  }
}
