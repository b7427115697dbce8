// One query head against cache positions 0..n_pos-1 of kv head kvh, as the
// CPU path (src/cpu/attention.c, after ggml's CPU flash attention) computes
// it, because quantized matrix products after it amplify any difference:
// the query rounded to f16 (qs holds it), exact q.k products summed
// (compensated, for the CPU's double sum), a running maximum, and the
// output accumulated in f16 position by position. Scores are computed a
// tile of WG positions at a time in parallel; thread 0 walks the tile's
// maximum and weights; each thread then accumulates its DPT dims in order.
// The position `fresh` (decode) is read from kn/vn instead of the cache,
// which another workgroup may be writing.
// llama.cpp's phi3 multiplies the roped query by 1/sqrt(head_dim) (f32,
// before the f16 rounding) and scales the scores by 1; other models scale
// the scores (plan.c: QSCALE, KQSCALE).
const Q_MUL: f32 = QSCALE;
const S_MUL: f32 = KQSCALE;
var<workgroup> qs: array<f32, HD>;
var<workgroup> kn: array<f32, HD>;
var<workgroup> vn: array<f32, HD>;
var<workgroup> sc: array<f32, WG>;  // scores, then the value weights vs
var<workgroup> ms: array<f32, WG>;  // the accumulator's rescale at each position
var<workgroup> tot: f32;            // running sum of the weights

// exp(x) for x <= 0, rounded as the C library's expf nearly always is
// (correctly): a GPU's exp is a few ulps off, which moves f16 roundings.
// x = k ln2 + r (Cody-Waite, ln2 in two parts), exp(r) = 1 + p with p's
// tail and the sum's error carried in a second float, one final rounding.
fn exp_cr(x: f32) -> f32 {
  if (x < -104.0) { return 0.0; }
  let k = round(x * 1.442695041);
  var r = fma(-k, 0.693359375, x);
  r = fma(-k, -2.12194440e-4, r);
  let q = r * r * (0.5 + r * (0.16666667 + r * (0.041666668 + r * (0.008333334 + r * (0.0013888889 + r * 0.0001984127)))));
  let p_hi = r + q;
  let p_lo = (r - p_hi) + q;
  let s = 1.0 + p_hi;
  let e = (1.0 - s) + p_hi;
  return ldexp(s + (e + p_lo), i32(k));
}

fn qk(p: u32, fresh: u32, base: u32) -> f32 {
  var s = 0.0;
  var c = 0.0;
  for (var w = 0u; w < HD / 2u; w++) {
    var k: vec2<f32>;
    if (p == fresh) { k = vec2<f32>(kn[2u * w], kn[2u * w + 1u]); } else { k = unpack2x16float(kc[(base + p) * (HD / 2u) + w]); }
    for (var e = 0u; e < 2u; e++) {
      let term = qs[2u * w + e] * k[e]; // exact: two f16 values
      let t = s + term;
      if (abs(s) >= abs(term)) { c += (s - t) + term; } else { c += (term - t) + s; }
      s = t;
    }
  }
  return s + c;
}

fn attend(kvh: u32, n_pos: u32, fresh: u32, tid: u32) -> array<f32, DPT> {
  var acc: array<f32, DPT>;
  var m = -3.4e38;
  if (tid == 0u) { tot = 0.0; }
  let base = kvh * NCTX;
  for (var t0 = 0u; t0 < n_pos; t0 += WG) {
    let p = t0 + tid;
    if (p < n_pos) { sc[tid] = qk(p, fresh, base) * S_MUL; }
    workgroupBarrier();
    let n_here = min(WG, n_pos - t0);
    if (tid == 0u) {
      var mx = m;
      var S = tot;
      for (var q = 0u; q < n_here; q++) {
        let s = sc[q];
        var f = 1.0;
        var v = 1.0;
        if (s > mx) { f = exp_cr(mx - s); mx = s; } else { v = exp_cr(s - mx); }
        ms[q] = f;
        sc[q] = v;
        S = S * f + v;
      }
      tot = S;
    }
    workgroupBarrier();
    for (var q = 0u; q < n_here; q++) {
      let pq = t0 + q;
      let f = ms[q];
      let v = sc[q];
      for (var k = 0u; k < DPT; k++) {
        let dim = tid + k * WG;
        if (dim < HD) {
          var val: f32;
          if (pq == fresh) { val = vn[dim]; } else { val = unpack2x16float(vc[(base + pq) * (HD / 2u) + dim / 2u])[dim & 1u]; }
          var a = acc[k];
          if (f != 1.0) { a = round_f16(vec2<f32>(a * f, 0.0)).x; }
          acc[k] = round_f16(vec2<f32>(a + val * v, 0.0)).x;
        }
      }
    }
    workgroupBarrier();
  }
  let S = tot;
  for (var k = 0u; k < DPT; k++) { acc[k] = select(acc[k] * (1.0 / S), 0.0, S == 0.0); }
  return acc;
}
