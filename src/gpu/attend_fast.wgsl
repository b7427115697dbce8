// One query head against cache positions 0..n_pos-1 of kv head kvh, fast:
// a tile of WG positions at a time in parallel with a running softmax in
// f32 (one pass over the cache). Differs from the CPU path in the last bits
// (attend.wgsl reproduces it exactly, for tests; the plan picks one). The
// position `fresh` (decode) is read from kn/vn instead of the cache, which
// another workgroup may be writing.
var<workgroup> qs: array<f32, HD>;
var<workgroup> kn: array<f32, HD>;
var<workgroup> vn: array<f32, HD>;
var<workgroup> sc: array<f32, WG>;
var<workgroup> pv: array<vec2<f32>, WG>;
const NG: u32 = max(1u, WG / (HD / 2u)); // position groups of the value loop

// A share of the positions, [p0, p1): the unnormalized sums, the maximum and
// the softmax denominator, for attn_combine.wgsl (or attend below).
struct Part {
  acc: array<f32, DPT>,
  m: f32,
  l: f32,
}

fn attend(kvh: u32, n_pos: u32, fresh: u32, tid: u32) -> array<f32, DPT> {
  var r = attend_part(kvh, 0u, n_pos, fresh, tid);
  for (var k = 0u; k < DPT; k++) { r.acc[k] /= r.l; }
  return r.acc;
}

fn attend_part(kvh: u32, p0: u32, p1: u32, fresh: u32, tid: u32) -> Part {
  var acc2 = vec2<f32>(0.0);  // this thread's two dims, its positions only
  var m = -3.0e38;
  var l = 0.0;
  let base = kvh * NCTX;
  for (var t0 = p0; t0 < p1; t0 += WG) {
    let p = t0 + tid;
    var s = -3.0e38;
    if (p < p1) {
      var d = 0.0;
      if (p == fresh) {
        for (var i = 0u; i < HD; i++) { d += qs[i] * kn[i]; }
      } else {
        let row = (base + p) * (HD / 2u);
        for (var w = 0u; w < HD / 2u; w++) {
          let k = unpack2x16float(kc[row + w]);
          d += qs[2u * w] * k.x + qs[2u * w + 1u] * k.y;
        }
      }
      s = d * SCALE;
    }
    let m_new = max(m, wg_max(s, tid));
    let corr = exp(m - m_new);
    var e = 0.0;
    if (p < p1) { e = exp(s - m_new); }
    sc[tid] = e;
    workgroupBarrier();
    let n_here = min(WG, p1 - t0);
    let tile_sum = wg_sum(e, tid);
    // Values: thread = (position group, word of two dims); each group takes
    // every NG-th position of the tile, so NG loads are in flight at once.
    acc2 *= corr;
    if (tid < NG * (HD / 2u)) {
      let w = tid % (HD / 2u);
      let pg = tid / (HD / 2u);
      for (var q = pg; q < n_here; q += NG) {
        let pq = t0 + q;
        var v: vec2<f32>;
        if (pq == fresh) { v = vec2<f32>(vn[2u * w], vn[2u * w + 1u]); } else { v = unpack2x16float(vc[(base + pq) * (HD / 2u) + w]); }
        acc2 += sc[q] * v;
      }
    }
    l = l * corr + tile_sum;
    m = m_new;
    workgroupBarrier();
  }
  // The groups' partial sums, added per dim.
  pv[tid] = acc2;
  workgroupBarrier();
  var acc: array<f32, DPT>;
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) {
      var a = 0.0;
      for (var g = 0u; g < NG; g++) { a += pv[g * (HD / 2u) + dim / 2u][dim & 1u]; }
      acc[k] = a;
    }
  }
  workgroupBarrier();
  return Part(acc, m, l);
}
