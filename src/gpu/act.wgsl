// The rounding ggml's CPU matrix products apply to their input vector, so
// that GPU results agree with the CPU path (and llama.cpp): ACT 0 none (f32
// weights), 1 to f16 (f16 weights), 2 to bf16 (bf16 weights), 3 to Q8 blocks
// of 32 (quantized weights: d = max|x| / 127 stored as f16, q = round(x / d)).
fn bf16_round(v: vec4<f32>) -> vec4<f32> {
  let u = bitcast<vec4<u32>>(v);
  return bitcast<vec4<f32>>((u + vec4<u32>(0x7fffu) + ((u >> vec4<u32>(16u)) & vec4<u32>(1u))) & vec4<u32>(0xffff0000u));
}
fn act_round(v: vec4<f32>) -> vec4<f32> {
  if (ACT == 1u) { return vec4<f32>(round_f16(v.xy), round_f16(v.zw)); }
  if (ACT == 2u) { return bf16_round(v); }
  return v;
}
// (f16(d), 1/d) of a Q8 block whose largest magnitude is amax.
fn q8_scale(amax: f32) -> vec2<f32> {
  return vec2<f32>(round_f16(vec2<f32>(amax / 127.0, 0.0)).x, select(0.0, 127.0 / amax, amax != 0.0));
}
fn q8_round(v: vec4<f32>, s: vec2<f32>) -> vec4<f32> { return round(v * s.y) * s.x; }
// Q8_1's s: f16(d * the sum of the block's quants), with d unrounded; the
// products with Q4_1/Q5_1 weights add m * s per block.
fn q8_sum(qsum: f32, amax: f32) -> f32 { return round_f16(vec2<f32>(amax / 127.0 * qsum, 0.0)).x; }
// A block of 32 inputs quantized to Q8 (ACT 3): the quants (as floats),
// f16(d) and Q8_1's s, as ggml's CPU quantizes it (rows.wgsl, prep_q.wgsl,
// q8_store.wgsl).
struct Q8Block {
  q: array<vec4<f32>, 8>,
  d: f32,
  s: f32,
}
fn q8_block(v: array<vec4<f32>, 8>) -> Q8Block {
  var amax = 0.0;
  for (var c = 0u; c < 8u; c++) {
    let a = abs(v[c]);
    amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
  }
  let sc = q8_scale(amax);
  var r = Q8Block();
  var qsum = 0.0;
  for (var c = 0u; c < 8u; c++) {
    r.q[c] = round(v[c] * sc.y);
    qsum += r.q[c].x + r.q[c].y + r.q[c].z + r.q[c].w;
  }
  r.d = sc.x;
  r.s = q8_sum(qsum, amax);
  return r;
}
// Four quants packed into a word, as ggml stores int8 (low byte first).
fn pack_q8(q: vec4<f32>) -> u32 {
  let b = bitcast<vec4<u32>>(vec4<i32>(q)) & vec4<u32>(255u);
  return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}
