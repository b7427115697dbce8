// Stores block i (32 values) of a quantized product's input as Q8, as
// ggml's CPU quantizes it (act.wgsl): the quants packed four to a word in
// xq, (f16(d), Q8_1's sum) in xd. For q8_act.wgsl and rmsnorm_q8.wgsl.
fn q8_store(i: u32, v: array<vec4<f32>, 8>) {
  let blk = q8_block(v);
  for (var c = 0u; c < 8u; c++) { xq[i * 8u + c] = pack_q8(blk.q[c]); }
  xd[i] = vec2<f32>(blk.d, blk.s);
}
// The same for a block of Q8_K input (ACT 4), its super-block's scale sc
// (q8k_scale) known.
fn q8k_store(i: u32, v: array<vec4<f32>, 8>, sc: vec2<f32>) {
  let blk = q8k_block(v, sc);
  for (var c = 0u; c < 8u; c++) { xq[i * 8u + c] = pack_q8(blk.q[c]); }
  xd[i] = vec2<f32>(blk.d, blk.s);
}
