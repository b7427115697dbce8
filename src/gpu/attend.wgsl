// One query head against cache positions p0..n_pos-1 of kv head kvh (p0 > 0:
// a sliding window), as the
// CPU path (src/cpu/attention.c, after ggml's CPU flash attention) computes
// it, because quantized matrix products after it amplify any difference.
// attend: ggml's one-row path: the query rounded to f16 (qs holds it), the
// exact q.k products summed as ggml_vec_dot_f16 (64 lanes per whole step
// of 64, the rest compensated for the CPU's double sum), a running maximum,
// and the output accumulated in f16 position by position with one FMA.
// Scores are computed a tile of WG positions at a time in parallel; thread
// 0 walks the tile's maximum and weights; each thread then accumulates its
// DPT dims in order. attend_tiled: ggml's tiled path for batches of
// TILED_ROWS rows or more (f32 query, f32 FMA chains, v_expf weights).
// The position `fresh` (decode) is read from kn/vn instead of the cache,
// which another workgroup may be writing.
// llama.cpp's phi3 multiplies the roped query by 1/sqrt(head_dim) (f32,
// before the f16 rounding) and scales the scores by 1; other models scale
// the scores (plan.c: QSCALE, KQSCALE). Soft-capped scores (SOFTCAP > 0,
// gemma2) are SOFTCAP * tanhf(q.k * KQSCALE), KQSCALE divided by the cap
// once, as ggml does (exact_score). Needs exactmath.wgsl.
const Q_MUL: f32 = QSCALE;
const S_MUL: f32 = KQSCALE;
fn exact_score(d: f32) -> f32 {
  let s = d * S_MUL;
  if (SOFTCAP != 0.0) { return SOFTCAP * tanh_libm(s); }
  return s;
}
var<workgroup> qs: array<f32, HD>;
var<workgroup> kn: array<f32, HD>;
var<workgroup> vn: array<f32, HD>;
var<workgroup> sc: array<f32, WG>;  // scores, then the value weights vs
var<workgroup> ms: array<f32, WG>;  // the accumulator's rescale at each position
var<workgroup> tot: f32;            // running sum of the weights
var<workgroup> tmax: f32;           // and their maximum (attend_split)

fn kpair(p: u32, fresh: u32, base: u32, w: u32) -> vec2<f32> {
  if (p == fresh) { return vec2<f32>(kn[2u * w], kn[2u * w + 1u]); }
  return unpack2x16float(kc[(base + p) * (HD / 2u) + w]);
}

// ggml_vec_dot_f16 (zen4): whole steps of 64 in 64 FMA lanes (the products
// of two f16 values are exact in f32, so a sum is that FMA's rounding),
// folded 0+2, 1+3, then 0+1, reduced as _mm512_reduce_add_ps; the rest
// added in double (compensated here).
const NP: u32 = HD / 64u * 64u;
fn qk(p: u32, fresh: u32, base: u32) -> f32 {
  var s = 0.0;
  var c = 0.0;
  if (NP > 0u) {
    var lane: array<f32, 64>;
    for (var w = 0u; w < NP / 2u; w++) {
      let k = kpair(p, fresh, base, w);
      let d = 2u * w;
      lane[d & 63u] += qs[d] * k.x;
      lane[(d + 1u) & 63u] += qs[d + 1u] * k.y;
    }
    var x: array<f32, 16>;
    for (var l = 0u; l < 16u; l++) { x[l] = (lane[l] + lane[32u + l]) + (lane[16u + l] + lane[48u + l]); }
    for (var l = 0u; l < 8u; l++) { x[l] = x[8u + l] + x[l]; }
    for (var l = 0u; l < 4u; l++) { x[l] = x[4u + l] + x[l]; }
    s = (x[0] + x[2]) + (x[1] + x[3]);
  }
  for (var w = NP / 2u; w < HD / 2u; w++) {
    let k = kpair(p, fresh, base, w);
    for (var e = 0u; e < 2u; e++) {
      let term = qs[2u * w + e] * k[e]; // exact: two f16 values
      let t = s + term;
      if (abs(s) >= abs(term)) { c += (s - t) + term; } else { c += (term - t) + s; }
      s = t;
    }
  }
  return s + c;
}

fn attend(kvh: u32, p0: u32, n_pos: u32, fresh: u32, tid: u32) -> array<f32, DPT> {
  let acc = attend_part(kvh, p0, n_pos, fresh, tid);
  let S = tot;
  // 1/S rounded once as the CPU's (WGSL's division may be an ulp off)
  var out: array<f32, DPT>;
  for (var k = 0u; k < DPT; k++) { out[k] = select(acc[k] * div_cr(1.0, S), 0.0, S == 0.0); }
  return out;
}

// ggml's decode over n_kv >= 512 cache cells (attention_split_row, src/cpu/attention.c): the padded
// n_kv in XSPLIT chunks (one per CPU thread), each as attend() without its division, merged with
// glibc's expf and the CPU's FMAs (a*b + c*d with the first product fused).
fn attend_split(kvh: u32, n_pos: u32, fresh: u32, n_kv: u32, tid: u32) -> array<f32, DPT> {
  let parts = max(XSPLIT, 1u); // (XSPLIT 0: never called)
  let chunk = (n_kv + parts - 1u) / parts;
  var vkq: array<f32, DPT>;
  var M = 0.0;
  var S = 0.0;
  var started = false;
  for (var c = 0u; c < XSPLIT; c++) {
    let j0 = c * chunk;
    if (j0 >= n_pos) { break; } // only masked cells (or none) left
    let acc = attend_part(kvh, j0, min(j0 + chunk, n_pos), fresh, tid);
    let pm = tmax;
    let ps = workgroupUniformLoad(&tot); // (uniform: the skip below may pass the next part's barriers)
    workgroupBarrier(); // every thread has read them before the next part resets them
    if (ps == 0.0) { continue; } // (as the CPU: a part with no weight changes nothing)
    // (the CPU's running maximum starts at -inf: the first part's so is expf(-inf) = 0)
    let mn = select(pm, max(M, pm), started);
    let so = select(0.0, expf_libm(M - mn), started);
    let sn = expf_libm(pm - mn);
    for (var k = 0u; k < DPT; k++) { vkq[k] = fma_once(vkq[k], so, acc[k] * sn); }
    S = fma_once(S, so, ps * sn);
    M = mn;
    started = true;
  }
  let inv = select(1.0, div_cr(1.0, S), S != 0.0);
  for (var k = 0u; k < DPT; k++) { vkq[k] = vkq[k] * inv; }
  return vkq;
}

// attention_split_kv: the cells llama.cpp views for a decode step at pos (the context padded to
// 256, the used cells rounded up to 256, at least 256), or 0 where it does not split (under 512)
fn split_kv(pos: u32) -> u32 {
  let size = (NCTX + 255u) / 256u * 256u;
  let used = (pos + 1u + 255u) / 256u * 256u;
  let n_kv = select(size, max(used, 256u), used < size);
  return select(0u, n_kv, n_kv >= 512u);
}

// The one-row path over positions p0..n_pos-1: the f16 accumulator (not yet divided by the sum),
// the sum in tot and the maximum in tmax.
fn attend_part(kvh: u32, p0: u32, n_pos: u32, fresh: u32, tid: u32) -> array<f32, DPT> {
  var acc: array<f32, DPT>;
  var m = -3.4e38;
  if (tid == 0u) { tot = 0.0; }
  let base = kvh * NCTX;
  for (var t0 = p0; t0 < n_pos; t0 += WG) {
    let p = t0 + tid;
    if (p < n_pos) { sc[tid] = exact_score(qk(p, fresh, base)); }
    workgroupBarrier();
    let n_here = min(WG, n_pos - t0);
    if (tid == 0u) {
      var mx = m;
      var S = tot;
      for (var q = 0u; q < n_here; q++) {
        let s = sc[q];
        var f = 1.0;
        var v = 1.0;
        if (s > mx) { f = expf_libm(mx - s); mx = s; } else { v = expf_libm(s - mx); }
        ms[q] = f;
        sc[q] = v;
        S = S * f + v;
      }
      tot = S;
      tmax = mx;
      m = mx;
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
          acc[k] = round_f16(vec2<f32>(fma_once(val, v, a), 0.0)).x; // ggml_vec_mad_f16: one FMA
        }
      }
    }
    workgroupBarrier();
  }
  return acc;
}

// ggml's tiled flash attention for one row (attention_tiled_row): tiles of
// TKV positions (ATTENTION_TILE_KV); scores as f32 FMA chains of the f32 query (qs) and the
// f16 keys, scaled; the tile's maximum and an expf rescale of the f32
// accumulator and sum; v_expf weights summed per 16 lanes as
// _mm512_reduce_add_ps, those sums added in double (compensated here); V
// added with one FMA a position. Positions before kv0 (a sliding window)
// are masked in their tiles, which stay where ggml's are (from 0).
var<workgroup> tmx: f32; // running maximum
var<workgroup> tms: f32; // this tile's rescale
fn attend_tiled(kvh: u32, kv0: u32, n_pos: u32, tid: u32) -> array<f32, DPT> {
  var acc: array<f32, DPT>;
  if (tid == 0u) { tot = 0.0; tmx = -3.4e38; }
  let base = kvh * NCTX;
  for (var t0 = kv0 / TKV * TKV; t0 < n_pos; t0 += TKV) {
    let n = min(TKV, n_pos - t0);
    for (var j = tid; j < n; j += WG) {
      var s = 0.0;
      for (var w = 0u; w < HD / 2u; w++) {
        let k = unpack2x16float(kc[(base + t0 + j) * (HD / 2u) + w]);
        s = fma_once(qs[2u * w], k.x, s);
        s = fma_once(qs[2u * w + 1u], k.y, s);
      }
      sc[j] = select(-3.4e38, exact_score(s), t0 + j >= kv0);
    }
    workgroupBarrier();
    if (tid == 0u) {
      let old = tmx;
      var mx = old;
      for (var j = 0u; j < n; j++) { if (t0 + j >= kv0) { mx = max(mx, sc[j]); } }
      var f = 1.0;
      if (mx > old) { f = expf_libm(old - mx); }
      tms = f;
      tmx = mx;
    }
    workgroupBarrier();
    let mx = tmx;
    for (var j = tid; j < TKV; j += WG) { sc[j] = select(0.0, poly_expf(sc[j] - mx), j < n && t0 + j >= kv0); }
    workgroupBarrier();
    if (tid == 0u) {
      var S = two_sum(tot * tms, 0.0);
      for (var g = 0u; g < TKV; g += 16u) {
        var x: array<f32, 8>;
        for (var l = 0u; l < 8u; l++) { x[l] = sc[g + 8u + l] + sc[g + l]; }
        for (var l = 0u; l < 4u; l++) { x[l] = x[4u + l] + x[l]; }
        let t = two_sum(S.x, (x[0] + x[2]) + (x[1] + x[3]));
        S = vec2<f32>(t.x, S.y + t.y);
      }
      tot = S.x + S.y;
    }
    let f = tms;
    for (var k = 0u; k < DPT; k++) {
      let dim = tid + k * WG;
      if (dim < HD) {
        var a = acc[k] * f;
        for (var j = 0u; j < n; j++) {
          a = fma_once(sc[j], unpack2x16float(vc[(base + t0 + j) * (HD / 2u) + dim / 2u])[dim & 1u], a);
        }
        acc[k] = a;
      }
    }
    workgroupBarrier();
  }
  let S = tot;
  // 1/S rounded once as the CPU's (WGSL's division may be an ulp off)
  for (var k = 0u; k < DPT; k++) { acc[k] = select(acc[k] * div_cr(1.0, S), 0.0, S == 0.0); }
  return acc;
}
