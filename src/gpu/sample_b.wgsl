// Sampling, second pass (one workgroup): the u.n_cand best of all chunks'
// candidates, then the CPU sampler's chain over them: greedy, or top-k (the
// candidates), top-p and min-p on the temperature-1 probabilities, then the
// temperature and a draw with u.rand. result[0] = the token.
var<workgroup> top_v: array<f32, 64>;
var<workgroup> top_i: array<u32, 64>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  let total = NCHUNK * u.n_cand;
  var vals: array<f32, PER_B>;
  var ids: array<u32, PER_B>;
  for (var k = 0u; k < PER_B; k++) {
    let i = k * WG + tid;
    vals[k] = -3.4e38;
    ids[k] = 0xffffffffu;
    if (i < total) {
      let e = cands[(i / u.n_cand) * 64u + i % u.n_cand];
      ids[k] = e.x;
      vals[k] = bitcast<f32>(e.y);
    }
  }
  for (var round = 0u; round < u.n_cand; round++) {
    var best = -3.4e38;
    var bid = 0xffffffffu;
    var bk = 0u;
    for (var k = 0u; k < PER_B; k++) {
      if (vals[k] > best || (vals[k] == best && ids[k] < bid)) { best = vals[k]; bid = ids[k]; bk = k; }
    }
    wg_argmax(best, bid, tid);
    let win = bi[0];
    if (tid == 0u) { top_i[round] = win; top_v[round] = bv[0]; }
    workgroupBarrier();
    if (bid == win) { vals[bk] = -3.4e38; ids[bk] = 0xffffffffu; }
  }
  if (tid != 0u) { return; }
  var pick = top_i[0];
  if (u.temp > 0.0) {
    var n = u.n_cand;
    let mx = top_v[0];
    var sum = 0.0;
    for (var i = 0u; i < n; i++) { sum += exp(top_v[i] - mx); }
    if (u.top_p < 1.0) {
      var cum = 0.0;
      for (var i = 0u; i < n; i++) {
        cum += exp(top_v[i] - mx) / sum;
        if (cum >= u.top_p) { n = i + 1u; break; }
      }
    }
    if (u.min_p > 0.0) {
      var keep = 1u;
      while (keep < n && exp(top_v[keep] - mx) >= u.min_p) { keep++; }
      n = keep;
    }
    sum = 0.0;
    for (var i = 0u; i < n; i++) { sum += exp((top_v[i] - mx) / u.temp); }
    let r = u.rand * sum;
    var acc = 0.0;
    pick = top_i[n - 1u];
    for (var i = 0u; i < n; i++) {
      acc += exp((top_v[i] - mx) / u.temp);
      if (r < acc) { pick = top_i[i]; break; }
    }
  }
  result[0] = pick;
}
