// The rounding ggml's CPU matrix products apply to their input vector, so
// that GPU results agree with the CPU path (and llama.cpp): ACT 0 none (f32
// weights), 1 to f16 (f16 weights), 2 to bf16 (bf16 weights), 3 to Q8 blocks
// of 32 (quantized weights: d = max|x| / 127 stored as f16, q = round(x / d)),
// 4 to Q8_K (K-quants, IQ4_XS: one f32 scale per 256 values, below).
// Divisions by act_div (kb_act): rounded once in exact mode (div_cr; a
// GPU's may be an ulp off, which Q8_K's f32 scale keeps), else WGSL's.
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
  return vec2<f32>(round_f16(vec2<f32>(act_div(amax, 127.0), 0.0)).x, select(0.0, act_div(127.0, amax), amax != 0.0));
}
fn q8_round(v: vec4<f32>, s: vec2<f32>) -> vec4<f32> { return round(v * s.y) * s.x; }
// Q8_1's s: f16(d * the sum of the block's quants), with d unrounded; the
// products with Q4_1/Q5_1 weights add m * s per block.
fn q8_sum(qsum: f32, amax: f32) -> f32 { return round_f16(vec2<f32>(act_div(amax, 127.0) * qsum, 0.0)).x; }
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
// ACT 4: Q8_K, as ggml's quantize_row_q8_K (and src/cpu/kernels.c's
// kernels_fill_q8_K_row): per 256 values (8 blocks) iscale = -127 / max,
// max the value of largest magnitude (the first of equals), codes
// min(127, round_even(iscale * x)), d = 1 / iscale in f32. The blocks of
// 32 keep (d, the sums of their two halves' codes) so that products with
// mins per 16 or 32 values (Q2_K, Q4_K, Q5_K) can add them apart.
// The running (|max|, max) of a super-block after a block's values, in order.
fn q8k_max(m: vec2<f32>, v: array<vec4<f32>, 8>) -> vec2<f32> {
  var r = m;
  for (var c = 0u; c < 8u; c++) {
    for (var e = 0u; e < 4u; e++) {
      let x = v[c][e];
      if (abs(x) > r.x) { r = vec2<f32>(abs(x), x); }
    }
  }
  return r;
}
// The (|max|, max) of 8 blocks' in order.
fn q8k_join(m: vec2<f32>, b: vec2<f32>) -> vec2<f32> { return select(m, b, b.x > m.x); }
// (d, iscale) of a super-block whose (|max|, max) is m (all zero: zeros).
fn q8k_scale(m: vec2<f32>) -> vec2<f32> {
  if (m.x == 0.0) { return vec2<f32>(0.0); }
  let is = act_div(-127.0, m.y);
  return vec2<f32>(act_div(1.0, is), is);
}
// The half sums as one f32: lo + 8192 hi (|lo|, |hi| <= 16 * 128: exact,
// under 2^24), unpacked by act_sums.
fn q8k_block(v: array<vec4<f32>, 8>, sc: vec2<f32>) -> Q8Block {
  var r = Q8Block();
  var lo = 0.0;
  var hi = 0.0;
  for (var c = 0u; c < 8u; c++) {
    r.q[c] = min(round(v[c] * sc.y), vec4<f32>(127.0));
    let s = r.q[c].x + r.q[c].y + r.q[c].z + r.q[c].w;
    if (c < 4u) { lo += s; } else { hi += s; }
  }
  r.d = sc.x;
  r.s = lo + 8192.0 * hi;
  return r;
}
// The sums an input block gives the weights' offsets (WBUF_m, one a half):
// ACT 3: Q8_1's s (f16(d * the block's sum)) for the first, 0; ACT 4: d *
// each half's sum of codes.
fn act_sums(xd: vec2<f32>) -> vec2<f32> {
  if (ACT == 4u) {
    let hi = round(xd.y / 8192.0);
    return xd.x * vec2<f32>(xd.y - 8192.0 * hi, hi);
  }
  return vec2<f32>(xd.y, 0.0);
}
// Four quants packed into a word, as ggml stores int8 (low byte first).
fn pack_q8(q: vec4<f32>) -> u32 {
  let b = bitcast<vec4<u32>>(vec4<i32>(q)) & vec4<u32>(255u);
  return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}
