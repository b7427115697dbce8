// Prefill: the input of a quantized product (xin, COLS floats a token) to
// Q8 blocks (q8_store.wgsl), once for all of the product's workgroups
// (mmq.wgsl). One thread a block, or (Q8_K) a super-block of 8.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = wg_index(wid, nwg) * WG + tid;
  if (ACT == 4u) {
    // super-blocks never straddle tokens: BPR is a multiple of 8
    if (i >= u.n_tok * BPR / 8u) { return; }
    var m = vec2<f32>(0.0);
    var v: array<vec4<f32>, 8>;
    for (var k = 0u; k < 8u; k++) {
      for (var c = 0u; c < 8u; c++) { v[c] = xin[(8u * i + k) * 8u + c]; }
      m = q8k_max(m, v);
    }
    let sc = q8k_scale(m);
    for (var k = 0u; k < 8u; k++) {
      for (var c = 0u; c < 8u; c++) { v[c] = xin[(8u * i + k) * 8u + c]; }
      q8k_store(8u * i + k, v, sc);
    }
    return;
  }
  if (i >= u.n_tok * BPR) { return; }
  var v: array<vec4<f32>, 8>;
  for (var c = 0u; c < 8u; c++) { v[c] = xin[i * 8u + c]; }
  q8_store(i, v);
}
