// Shared by every kernel: the per-step uniform block and workgroup reductions.
// The generated prefix before this file defines WG (threads per workgroup),
// SUBGROUPS (whether the subgroup built-ins may be used) and the bindings.

struct Step {
  pos: u32,        // first KV position this step writes
  n_tok: u32,      // tokens in this step (1 for decode)
  token: u32,      // the token a decode step embeds
  n_cand: u32,     // candidates kept for sampling (1: greedy)
  temp: f32,
  top_p: f32,
  min_p: f32,
  rand: f32,       // uniform draw in [0, 1) for this step
  penalty: f32,    // repetition penalty (1: off)
  n_recent: u32,   // tokens in recent[]
  top_k: u32,
  masked: u32,    // 1: sampling takes only the tokens set in mask[] (a grammar's, a bit each)
  recent: array<vec4<u32>, 16>,
}

var<workgroup> red: array<f32, WG>;

// Sum over the workgroup of one value per thread; every thread gets it.
fn wg_sum(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn wg_max(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] = max(red[tid], red[tid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn silu(x: f32) -> f32 { return x / (1.0 + exp(-x)); }

// f32 -> f16 -> f32, as the KV cache and ggml's f16 query rounding do (to
// nearest even); below f16's normal range by hand: SwiftShader's
// pack2x16float rounded a value just above a tie there down, as if the bits
// past the kept ones were dropped.
fn round_f16(v: vec2<f32>) -> vec2<f32> {
  return select(unpack2x16float(pack2x16float(v)), round(v * 16777216.0) * 5.9604644775390625e-08, abs(v) < vec2<f32>(6.103515625e-05));
}
// Two values as the f16 pair of a cache word, rounded as round_f16.
fn pack_f16(v: vec2<f32>) -> u32 { return pack2x16float(round_f16(v)); }

// Linear workgroup index of a 2D grid (x fastest).
fn wg_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
