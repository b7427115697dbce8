// The input vector of a decode product (xin, COLS floats, times xs: the
// RMSNorm scale or 1) as Q8 blocks in workgroup memory, for rows_q.wgsl:
// one thread a block, rounded as rows.wgsl and ggml's CPU round it.
var<workgroup> sxq: array<vec4<u32>, BPR * 2u>;
var<workgroup> sxd: array<vec2<f32>, BPR>;
fn prep_input(xs: f32, tid: u32) {
  for (var b = tid; b < BPR; b += WG) {
    var v = array<vec4<f32>, 8>();
    for (var c = 0u; c < 8u; c++) { v[c] = xin[b * 8u + c] * xs; }
    let blk = q8_block(v);
    let q = blk.q;
    sxq[2u * b] = vec4<u32>(pack_q8(q[0]), pack_q8(q[1]), pack_q8(q[2]), pack_q8(q[3]));
    sxq[2u * b + 1u] = vec4<u32>(pack_q8(q[4]), pack_q8(q[5]), pack_q8(q[6]), pack_q8(q[7]));
    sxd[b] = vec2<f32>(blk.d, blk.s);
  }
  workgroupBarrier();
}
