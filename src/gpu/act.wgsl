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
