// Decode SwiGLU: its outputs (each row group's lane 0 holds R of them) as
// the down product's Q8 input too (q8_store.wgsl): a workgroup's RPW rows
// (a multiple of 32, from row `first`) gathered in workgroup memory, then a
// thread a block. The down product loads them (prep_q_in.wgsl).
var<workgroup> sact: array<f32, RPW>;
fn q8_out(tid: u32, lane: u32, first: u32, v: array<f32, R>) {
  if (lane == 0u) {
    for (var i = 0u; i < R; i++) { sact[(tid / TPR) * R + i] = v[i]; }
  }
  workgroupBarrier();
  for (var k = tid; k < RPW / 32u; k += WG) {
    var b: array<vec4<f32>, 8>;
    for (var c = 0u; c < 8u; c++) {
      let o = k * 32u + 4u * c;
      b[c] = vec4<f32>(sact[o], sact[o + 1u], sact[o + 2u], sact[o + 3u]);
    }
    q8_store(first / 32u + k, b);
  }
}
