// Prefill: the input of a quantized product (xin, COLS floats a token) to
// Q8 blocks of 32 as ggml's CPU quantizes it (act.wgsl): the quants packed
// four to a word (xq) and per block (f16(d), Q8_1's sum) (xd), once for all
// of the product's workgroups (mmq.wgsl). One thread a block.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = wg_index(wid, nwg) * WG + tid;
  if (i >= u.n_tok * BPR) { return; }
  var v: array<vec4<f32>, 8>;
  var amax = 0.0;
  for (var c = 0u; c < 8u; c++) {
    v[c] = xin[i * 8u + c];
    let a = abs(v[c]);
    amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
  }
  let s = q8_scale(amax);
  var qsum = 0.0;
  for (var c = 0u; c < 8u; c++) {
    let q = round(v[c] * s.y);
    qsum += q.x + q.y + q.z + q.w;
    let b = bitcast<vec4<u32>>(vec4<i32>(q)) & vec4<u32>(255u);
    xq[i * 8u + c] = b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
  }
  xd[i] = vec2<f32>(s.x, q8_sum(qsum, amax));
}
