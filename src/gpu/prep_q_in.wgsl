// The input of a decode product already as Q8 blocks (written by the
// producer, q8_out.wgsl), loaded into workgroup memory for rows_q.wgsl.
var<workgroup> sxq: array<vec4<u32>, BPR * 2u>;
var<workgroup> sxd: array<vec2<f32>, BPR>;
fn prep_input(xs: f32, tid: u32) {
  for (var b = tid; b < BPR; b += WG) {
    sxq[2u * b] = xqin[2u * b];
    sxq[2u * b + 1u] = xqin[2u * b + 1u];
    sxd[b] = xdin[b];
  }
  workgroupBarrier();
}
