// Exact mode's decode products of quantized weights (ACT 3 and 4): rows_at of
// rows_q.wgsl with one lane a row (TPR 1, plan_mv_shape), each row summed
// by dot_exact (dot_exact.wgsl or dot_exact_k.wgsl) in the CPU kernels' order on the input prep_q.wgsl
// (or prep_q_in.wgsl) quantized into sxq / sxd; the reduction tree then
// adds nothing. Rows past the logical matrix's WROWS repeat its last.
fn xin_q8(t: u32, b: u32) -> array<vec4<u32>, 2> { return array<vec4<u32>, 2>(sxq[2u * b], sxq[2u * b + 1u]); }
fn xin_d(t: u32, b: u32) -> vec2<f32> { return sxd[b]; }
fn xin_ntok() -> u32 { return 1u; }
fn rows_at(row: u32, lane: u32, xs: f32) -> array<vec2<f32>, R> {
  var out = array<vec2<f32>, R>();
  if (lane != 0u) { return out; }
  for (var r = 0u; r < R; r++) { out[r] = vec2<f32>(dot_exact(min(row + r, WROWS - 1u), 0u), 0.0); }
  return out;
}
