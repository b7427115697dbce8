// One query head against cache positions p0..n_pos-1 of kv head kvh, fast:
// a tile of WG positions at a time in parallel with a running softmax in
// f32 (one pass over the cache). Differs from the CPU path in the last bits
// (attend.wgsl reproduces it exactly, for tests; the plan picks one). The
// position `fresh` (decode) is read from kn/vn instead of the cache, which
// another workgroup may be writing.
// The same attention whichever way a model scales (attend.wgsl's Q_MUL).
const Q_MUL: f32 = 1.0;
var<workgroup> qs: array<f32, HD>;
var<workgroup> kn: array<f32, HD>;
var<workgroup> vn: array<f32, HD>;
var<workgroup> sc: array<f32, WG>;
var<workgroup> pv: array<vec4<f32>, WG>;
// The value loop: thread = (position group, unit of DU dims); NG groups.
const DU: u32 = select(2u, 4u, HD % 4u == 0u);
const NU: u32 = HD / DU;
const NG: u32 = max(1u, WG / NU);

// A share of the positions, [p0, p1): the unnormalized sums, the maximum and
// the softmax denominator, for attn_combine.wgsl (or attend below).
struct Part {
  acc: array<f32, DPT>,
  m: f32,
  l: f32,
}

// Value dims DU*w .. DU*w+DU-1 of position p (zeros past DU): the position
// `fresh` from vn, the others from the f16 cache rows from `base` on.
fn v_at(p: u32, fresh: u32, base: u32, w: u32) -> vec4<f32> {
  if (p == fresh) {
    let v = vec4<f32>(vn[DU * w], vn[DU * w + 1u], 0.0, 0.0);
    if (DU == 4u) { return vec4<f32>(v.xy, vn[DU * w + 2u], vn[DU * w + 3u]); }
    return v;
  }
  let o = (base + p) * (HD / 2u) + w * (DU / 2u);
  let v = vec4<f32>(unpack2x16float(vc[o]), 0.0, 0.0);
  if (DU == 4u) { return vec4<f32>(v.xy, unpack2x16float(vc[o + 1u])); }
  return v;
}

fn attend(kvh: u32, p0: u32, n_pos: u32, fresh: u32, tid: u32) -> array<f32, DPT> {
  var r = attend_part(kvh, p0, n_pos, fresh, tid);
  for (var k = 0u; k < DPT; k++) { r.acc[k] /= r.l; }
  return r.acc;
}

// The scores of positions t0 .. t0+n-1 (n <= WG) into sc, capped and
// scaled: QT threads a position, each every QT-th pair of dims (their sums
// joined by subgroup shuffles: qt_sum), so that a share of a few dozen
// positions keeps the workgroup busy and a head of 256 dims is not one
// thread's 128-step chain. The fresh position's key is kn, the others' the
// f16 cache rows from `base` on; plain f32 (attend.wgsl's qk sums exactly).
fn tile_scores(t0: u32, n: u32, fresh: u32, base: u32, tid: u32) {
  let part = tid % QT;
  for (var q0 = 0u; q0 < n; q0 += WG / QT) {
    let q = q0 + tid / QT;
    // (past n: the last position again, so that every lane joins the shuffles)
    let p = t0 + min(q, n - 1u);
    var d = 0.0;
    if (p == fresh) {
      for (var w = part; w < HD / 2u; w += QT) { d += qs[2u * w] * kn[2u * w] + qs[2u * w + 1u] * kn[2u * w + 1u]; }
    } else {
      let row = (base + p) * (HD / 2u);
      for (var w = part; w < HD / 2u; w += QT) {
        let k = unpack2x16float(kc[row + w]);
        d += qs[2u * w] * k.x + qs[2u * w + 1u] * k.y;
      }
    }
    d = qt_sum(d);
    if (part == 0u && q < n) { sc[q] = capped(d * SCALE); }
  }
  workgroupBarrier();
}

fn attend_part(kvh: u32, p0: u32, p1: u32, fresh: u32, tid: u32) -> Part {
  var acc4 = vec4<f32>(0.0);  // this thread's DU dims, its positions only
  var m = -3.0e38;
  var l = 0.0;
  let base = kvh * NCTX;
  for (var t0 = p0; t0 < p1; t0 += WG) {
    let n_here = min(WG, p1 - t0);
    tile_scores(t0, n_here, fresh, base, tid);
    var s = -3.0e38;
    if (tid < n_here) { s = sc[tid]; }
    // (wg_max's barriers also order this read of sc before the write below)
    let m_new = max(m, wg_max(s, tid));
    let corr = exp(m - m_new);
    var e = 0.0;
    if (tid < n_here) { e = exp(s - m_new); }
    sc[tid] = e;
    workgroupBarrier();
    let tile_sum = wg_sum(e, tid);
    // Values: thread = (position group, unit of DU dims); each group takes
    // every NG-th position of the tile, so NG loads are in flight at once.
    acc4 *= corr;
    if (tid < NG * NU) {
      let w = tid % NU;
      let pg = tid / NU;
      for (var q = pg; q < n_here; q += NG) { acc4 += sc[q] * v_at(t0 + q, fresh, base, w); }
    }
    l = l * corr + tile_sum;
    m = m_new;
    workgroupBarrier();
  }
  // The groups' partial sums, added per dim.
  pv[tid] = acc4;
  workgroupBarrier();
  var acc: array<f32, DPT>;
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) {
      var a = 0.0;
      for (var g = 0u; g < NG; g++) { a += pv[g * NU + dim / DU][dim % DU]; }
      acc[k] = a;
    }
  }
  workgroupBarrier();
  return Part(acc, m, l);
}
