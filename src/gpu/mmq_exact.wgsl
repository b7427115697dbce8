// Exact mode's prefill products of quantized weights (ACT 3 and 4): mmq.wgsl's
// tiles, constants, bindings and modes, each output summed alone by
// dot_exact (dot_exact.wgsl, dot_exact_k.wgsl) in the CPU kernels' order (slow: the test mode), on the
// input q8_act.wgsl quantized into xq / xd.
const BN: u32 = 16u * TN;
const OUT_TILE: u32 = select(16u * TM, 8u * TM, MODE == 2u);
fn xin_q8(t: u32, b: u32) -> array<vec4<u32>, 2> { return array<vec4<u32>, 2>(xq[(t * BPR + b) * 2u], xq[(t * BPR + b) * 2u + 1u]); }
fn xin_d(t: u32, b: u32) -> vec2<f32> { return xd[t * BPR + b]; }
fn xin_ntok() -> u32 { return u.n_tok; }

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let out0 = wid.x * OUT_TILE;
  let tok0 = wid.y * BN;
  if (tok0 >= u.n_tok) { return; }
  let tr = tid % 16u;
  let tt = tid / 16u;
  for (var j = 0u; j < TN; j++) {
    let t = tok0 + tt + 16u * j;
    if (t >= u.n_tok) { continue; }
    if (MODE == 2u) {
      for (var i = 0u; i < TM / 2u; i++) {
        let r = out0 + tr + 16u * i;
        if (r < FF) { outv[t * OUTS + r] = ffn_gate(dot_exact(r, t)) * dot_exact(FF + r, t); }
      }
    } else {
      for (var i = 0u; i < TM; i++) {
        let r = out0 + tr + 16u * i;
        if (r >= OUT_ROWS) { continue; }
        let v = dot_exact(r, t);
        if (MODE == 0u) { outv[t * OUTS + ROW_BASE + r] = v + bias[ROW_BASE + r]; } else { outv[t * OUTS + r] += v; }
      }
    }
  }
}
