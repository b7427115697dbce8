// Sampling, first pass: workgroup c keeps the u.n_cand largest logits of its
// CHUNK (PER_T a thread) as (id, logit) in cands[c * 64 ..], best first; ties
// go to the lower id, as the CPU sampler's ordering. With u.masked, tokens
// not set in mask[] (a grammar's) count as missing, so the candidates and
// the draw over them are the masked distribution's, as on the CPU.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let c = wid.x;
  let base = c * WG * PER_T;
  var vals: array<f32, PER_T>;
  for (var k = 0u; k < PER_T; k++) {
    let i = base + k * WG + tid;
    let j = min(i, NVOCAB - 1u);
    let allowed = u.masked == 0u || ((mask[j >> 5u] >> (j & 31u)) & 1u) != 0u;
    vals[k] = select(-3.0e38, logits[j], i < NVOCAB && allowed);
  }
  for (var round = 0u; round < u.n_cand; round++) {
    var best = -3.4e38;
    var bk = 0u;
    for (var k = 0u; k < PER_T; k++) {
      if (vals[k] > best) { best = vals[k]; bk = k; }
    }
    wg_argmax(best, base + bk * WG + tid, tid);
    let win = bi[0];
    let wv = bv[0];
    workgroupBarrier();
    if (win >= base && (win - base) % WG == tid) { vals[(win - base) / WG] = -3.4e38; }
    if (tid == 0u) { cands[c * 64u + round] = vec2<u32>(win, bitcast<u32>(wv)); }
  }
}
