// Prefill: the input of a quantized product (xin, COLS floats a token) to
// Q8 blocks (q8_store.wgsl), once for all of the product's workgroups
// (mmq.wgsl). One thread a block.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = wg_index(wid, nwg) * WG + tid;
  if (i >= u.n_tok * BPR) { return; }
  var v: array<vec4<f32>, 8>;
  for (var c = 0u; c < 8u; c++) { v[c] = xin[i * 8u + c]; }
  q8_store(i, v);
}
