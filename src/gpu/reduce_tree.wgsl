// Sums R values per thread over the TPR lanes of each row group (threads
// g*TPR .. g*TPR+TPR-1) with a tree in workgroup memory (no subgroups);
// each row's two parts (rows.wgsl) are added last. Valid in each group's lane 0.
var<workgroup> redr: array<vec2<f32>, WG * R>;
fn reduce_rows(acc: array<vec2<f32>, R>, tid: u32) -> array<f32, R> {
  for (var r = 0u; r < R; r++) { redr[r * WG + tid] = acc[r]; }
  workgroupBarrier();
  let lane = tid % TPR;
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      for (var r = 0u; r < R; r++) { redr[r * WG + tid] += redr[r * WG + tid + s]; }
    }
    workgroupBarrier();
  }
  var out: array<f32, R>;
  for (var r = 0u; r < R; r++) { out[r] = redr[r * WG + tid].x + redr[r * WG + tid].y; }
  workgroupBarrier();
  return out;
}
