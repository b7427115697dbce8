// Stores block i (32 values) of a quantized product's input as Q8, as
// ggml's CPU quantizes it (act.wgsl): the quants packed four to a word in
// xq, (f16(d), Q8_1's sum) in xd. For q8_act.wgsl and rmsnorm_q8.wgsl.
fn q8_store(i: u32, v: array<vec4<f32>, 8>) {
  var amax = 0.0;
  for (var c = 0u; c < 8u; c++) {
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
