// Decode attention in one dispatch, the default where the context fits in
// workgroup memory (attn_split.wgsl and attn_combine.wgsl otherwise): one
// workgroup per query head; RoPE and the cache store (decode_head), every
// position's score into workgroup memory, their maximum and the softmax
// sum (f32, as attend_fast.wgsl), then the values, each thread DU dims of
// every NG-th position (attend_fast.wgsl's constants), joined per dim.
var<workgroup> scores: array<f32, NCTX>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.x;
  decode_head(h, u.pos, tid, true);
  let n = u.pos + 1u;
  let first = first_key(u.pos);
  let fresh = u.pos;
  let base = (h / GROUP) * NCTX;
  var mx = -3.0e38;
  for (var t0 = first; t0 < n; t0 += WG) {
    let c = min(WG, n - t0);
    tile_scores(t0, c, fresh, base, tid);
    if (tid < c) {
      scores[t0 + tid] = sc[tid];
      mx = max(mx, sc[tid]);
    }
    workgroupBarrier();
  }
  let m = wg_max(mx, tid);
  var l = 0.0;
  for (var p = first + tid; p < n; p += WG) {
    let e = exp(scores[p] - m);
    scores[p] = e;
    l += e;
  }
  let tot = wg_sum(l, tid);
  var acc4 = vec4<f32>(0.0);
  if (tid < NG * NU) {
    let w = tid % NU;
    let pg = tid / NU;
    for (var q = first + pg; q < n; q += NG) { acc4 += scores[q] * v_at(q, fresh, base, w); }
  }
  pv[tid] = acc4;
  workgroupBarrier();
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) {
      var a = 0.0;
      for (var g = 0u; g < NG; g++) { a += pv[g * NU + dim / DU][dim % DU]; }
      outv[h * HD + dim] = a / tot;
    }
  }
}
