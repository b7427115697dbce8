// Prefill matrix product, tiled: out[t][row] for 64 tokens x 64 rows a
// workgroup (256 threads, 4 x 4 each), one 32-wide block of the inner
// dimension at a time through workgroup memory. MODE 0: out = acc + bias
// (rows from ROW_BASE of OUTS a token: one type's part of a QKV group);
// 1: out += acc (residual); 2: out = ffn_gate(acc) * acc_up (rows FF + row;
// the gate silu or GEGLU's gelu).
var<workgroup> xs: array<vec4<f32>, 512>;
var<workgroup> ws: array<vec4<f32>, 512>;
var<workgroup> ws2: array<vec4<f32>, 512>;
var<workgroup> tq: array<vec2<f32>, 64>;
var<workgroup> ts: array<vec2<f32>, 64>;   // per token: the block's sums for the offsets (act_sums)
var<workgroup> wm: array<vec2<f32>, 64>;   // per row: the block's offsets (Q4_1, Q5_1, K-quants' mins)
var<workgroup> wm2: array<vec2<f32>, 64>;
var<workgroup> tk: array<vec2<f32>, select(1u, 64u, ACT == 4u)>;   // Q8_K: per token, its super-block's (d, iscale)

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let row_tile = wid.x * 64u;
  let tok_tile = wid.y * 64u;
  if (tok_tile >= u.n_tok) { return; }
  let tr = tid % 16u;
  let tt = tid / 16u;
  var acc: array<vec4<f32>, 4>;
  var acc2: array<vec4<f32>, 4>;
  var accm: array<vec4<f32>, 4>;   // Q4_1/Q5_1 offset terms, added last as ggml does
  var accm2: array<vec4<f32>, 4>;
  let wrow = tid / 4u;
  let wj = tid % 4u;
  let wr = min(row_tile + wrow, OUT_ROWS - 1u);
  let p = w0_pos(wj);
  for (var b = 0u; b < BPR; b++) {
    var w: mat2x4<f32>;
    if (ACT >= 3u) {
      w = wsel_deqd(wr, b, wj);
      if (wj == 0u) { wm[wrow] = wsel_m(wr, b); }
    } else {
      w = wsel_deq(wr, b, wj);
    }
    ws[wrow * 8u + p.x / 4u] = w[0];
    ws[wrow * 8u + p.y / 4u] = w[1];
    if (MODE == 2u) {
      var w2: mat2x4<f32>;
      if (ACT >= 3u) {
        w2 = wsel_deqd(FF + wr, b, wj);
        if (wj == 0u) { wm2[wrow] = wsel_m(FF + wr, b); }
      } else {
        w2 = wsel_deq(FF + wr, b, wj);
      }
      ws2[wrow * 8u + p.x / 4u] = w2[0];
      ws2[wrow * 8u + p.y / 4u] = w2[1];
    }
    for (var k = 0u; k < 2u; k++) {
      let i = tid + k * 256u;
      let t = tok_tile + i / 8u;
      var v = vec4<f32>(0.0);
      if (t < u.n_tok) { v = act_round(xin[(t * COLS + b * 32u) / 4u + i % 8u]); }
      xs[i] = v;
    }
    if (ACT == 4u && b % 8u == 0u) { // Q8_K: each token's super-block scale (its 256 inputs)
      if (tid < 64u) {
        let t = min(tok_tile + tid, u.n_tok - 1u);
        var mx = vec2<f32>(0.0);
        var v: array<vec4<f32>, 8>;
        for (var k = 0u; k < 8u; k++) {
          for (var c = 0u; c < 8u; c++) { v[c] = xin[(t * COLS + (b + k) * 32u) / 4u + c]; }
          mx = q8k_max(mx, v);
        }
        tk[tid] = q8k_scale(mx);
      }
    }
    workgroupBarrier();
    if (ACT == 4u) {
      if (tid < 64u) {
        var v: array<vec4<f32>, 8>;
        for (var c = 0u; c < 8u; c++) { v[c] = xs[tid * 8u + c]; }
        let blk = q8k_block(v, tk[tid]);
        for (var c = 0u; c < 8u; c++) { xs[tid * 8u + c] = blk.q[c] * blk.d; }
        ts[tid] = act_sums(vec2<f32>(blk.d, blk.s));
      }
      workgroupBarrier();
    }
    if (ACT == 3u) { // each token's block to Q8, as the CPU quantizes its input
      if (tid < 64u) {
        var amax = 0.0;
        for (var c = 0u; c < 8u; c++) {
          let a = abs(xs[tid * 8u + c]);
          amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
        }
        let s = q8_scale(amax);
        var qsum = 0.0;
        for (var c = 0u; c < 8u; c++) {
          let q = round(xs[tid * 8u + c] * s.y);
          qsum += q.x + q.y + q.z + q.w;
        }
        tq[tid] = s;
        ts[tid] = vec2<f32>(q8_sum(qsum, amax), 0.0);
      }
      workgroupBarrier();
      for (var k = 0u; k < 2u; k++) {
        let i = tid + k * 256u;
        xs[i] = q8_round(xs[i], tq[i / 8u]);
      }
      workgroupBarrier();
    }
    for (var c = 0u; c < 8u; c++) {
      let w0 = ws[(tr * 4u) * 8u + c];
      let w1 = ws[(tr * 4u + 1u) * 8u + c];
      let w2 = ws[(tr * 4u + 2u) * 8u + c];
      let w3 = ws[(tr * 4u + 3u) * 8u + c];
      for (var i = 0u; i < 4u; i++) {
        let xv = xs[(tt * 4u + i) * 8u + c];
        acc[i] += vec4<f32>(dot(w0, xv), dot(w1, xv), dot(w2, xv), dot(w3, xv));
      }
      if (MODE == 2u) {
        let u0 = ws2[(tr * 4u) * 8u + c];
        let u1 = ws2[(tr * 4u + 1u) * 8u + c];
        let u2 = ws2[(tr * 4u + 2u) * 8u + c];
        let u3 = ws2[(tr * 4u + 3u) * 8u + c];
        for (var i = 0u; i < 4u; i++) {
          let xv = xs[(tt * 4u + i) * 8u + c];
          acc2[i] += vec4<f32>(dot(u0, xv), dot(u1, xv), dot(u2, xv), dot(u3, xv));
        }
      }
    }
    if (ACT >= 3u) {
      for (var i = 0u; i < 4u; i++) {
        let st = ts[tt * 4u + i];
        let r = tr * 4u;
        accm[i] += vec4<f32>(dot(wm[r], st), dot(wm[r + 1u], st), dot(wm[r + 2u], st), dot(wm[r + 3u], st));
        if (MODE == 2u) { accm2[i] += vec4<f32>(dot(wm2[r], st), dot(wm2[r + 1u], st), dot(wm2[r + 2u], st), dot(wm2[r + 3u], st)); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    acc[i] += accm[i];
    acc2[i] += accm2[i];
    let t = tok_tile + tt * 4u + i;
    if (t >= u.n_tok) { continue; }
    for (var r = 0u; r < 4u; r++) {
      let row = row_tile + tr * 4u + r;
      if (row >= OUT_ROWS) { continue; }
      let o = t * OUTS + row;
      if (MODE == 0u) { outv[o + ROW_BASE] = acc[i][r] + bias[ROW_BASE + row]; }
      else if (MODE == 1u) { outv[o] += acc[i][r]; }
      else { outv[o] = ffn_gate(acc[i][r]) * acc2[i][r]; }
    }
  }
}
