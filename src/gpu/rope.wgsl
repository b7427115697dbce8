// RoPE of one head (HD floats at src[off]) into workgroup memory, with the
// cos/sin table rope[pos][ROPE_DIM] (pairs; built on the CPU as ggml does;
// the plan binds the sliding-window layers' own table where they have one).
// NEOX rotates (i, i + ROPE_DIM/2), otherwise (2i, 2i + 1); dimensions past
// ROPE_DIM pass through; layers without RoPE (ROPE false) pass all. With
// Q_NORM / K_NORM a q / k head is RMS-normed first (the q or k norm
// weights, qk_norm_w: generated), its sum of squares, with EXACT as the CPU
// path's (f32 squares summed in double: here compensated in f32, by one
// thread, then 1 / sqrtf rounded as the CPU's: rms_exact.wgsl). Values are rounded to
// f16 when ROUND is set.
var<workgroup> rtmp: array<f32, HD>;
var<workgroup> rnorm: f32;
fn rope_head(dst: ptr<workgroup, array<f32, HD>>, off: u32, pos: u32, tid: u32, round: bool, mul: f32, is_k: bool) {
  for (var d = tid; d < HD; d += WG) { rtmp[d] = src[off + d]; }
  workgroupBarrier();
  if (select(Q_NORM, K_NORM, is_k)) {
    if (!EXACT) {
      // the fast attention: a sum over the workgroup (a 256-long chain in one
      // thread was a tenth of a gemma decode attention's time on the H100)
      var part = 0.0;
      for (var d = tid; d < HD; d += WG) { part += rtmp[d] * rtmp[d]; }
      let s = wg_sum(part, tid);
      if (tid == 0u) { rnorm = 1.0 / sqrt(s / f32(HD) + EPS); }
    } else if (tid == 0u) {
      var s = vec2<f32>(0.0);
      for (var d = 0u; d < HD; d++) { s = sq_acc(s, rtmp[d]); }
      rnorm = rms_exact(s, f32(HD)); // (a GPU's sqrt and division may be an ulp off)
    }
    workgroupBarrier();
    let scale = rnorm;
    for (var d = tid; d < HD; d += WG) { rtmp[d] = rtmp[d] * scale * qk_norm_w(d, is_k); }
    workgroupBarrier();
  }
  for (var d = tid; d < HD; d += WG) {
    var v = rtmp[d];
    if (ROPE && d < ROPE_DIM) {
      var i: u32; var a: u32; var b: u32;
      if (NEOX) {
        i = d % (ROPE_DIM / 2u); a = i; b = i + ROPE_DIM / 2u;
      } else {
        i = d / 2u; a = 2u * i; b = a + 1u;
      }
      let c = rope[pos * ROPE_DIM + 2u * i];
      let s = rope[pos * ROPE_DIM + 2u * i + 1u];
      // the CPU's FMAs (ggml's compiled rope); exact mode rounds them once
      // (fma_once): SwiftShader's fma() is a product and a sum, which moved
      // a query's bits at a few positions (a 4e-3 logit step in the sweep)
      let x1 = select(rtmp[b] * c, -(rtmp[b] * s), d == a);
      let cs = select(s, c, d == a);
      if (EXACT) { v = fma_once(rtmp[a], cs, x1); } else { v = fma(rtmp[a], cs, x1); }
    }
    v *= mul; // Q_MUL for phi3's queries (attend.wgsl), else 1
    if (round) { v = round_f16(vec2<f32>(v, 0.0)).x; }
    (*dst)[d] = v;
  }
  workgroupBarrier();
}

// The first key a query at position p sees: sliding-window layers (SWA > 0,
// the window) see (p - SWA, p], as model_first_key says (src/model/rope_table.c).
fn first_key(p: u32) -> u32 { return select(0u, p + 1u - SWA, SWA != 0u && p >= SWA); }
// A score soft-capped (SOFTCAP > 0: cap * tanh(s / cap)) for the fast
// attention; exact attention caps as the CPU path does (attend.wgsl).
fn capped(s: f32) -> f32 { return select(s, SOFTCAP * tanh(s / SOFTCAP), SOFTCAP != 0.0); }
