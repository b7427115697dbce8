// Prefill attention, tiled (the default attention; attn_prefill.wgsl keeps
// one workgroup per token and head for exact attention and for GPUs without
// subgroups). A workgroup (128 threads) takes 32 query rows of one kv head:
// rows are (token, query head of the group) in token order, 4 threads a row,
// each with a quarter of the head's dims of the query (rounded to f16) and
// of the output. Keys and values come through workgroup memory KT positions
// at a time; a score is the 4 threads' partial dot products summed with
// subgroup shuffles (identical in all four); the softmax runs online in f32.
// Sliding-window layers start at the first key of the workgroup's first
// token and mask each row's keys before its own first_key.
const KT: u32 = 16u;
const QV: u32 = HD / 16u;  // vec4s of dims a thread
var<workgroup> kt: array<vec4<f32>, KT * HD / 4u>;
var<workgroup> vt: array<vec4<f32>, KT * HD / 4u>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let kvh = wid.x;
  let rho0 = wid.y * 32u;
  let n_rows = u.n_tok * GROUP;
  if (rho0 >= n_rows) { return; }
  let r = tid / 4u;
  let part = tid % 4u;
  let rho = min(rho0 + r, n_rows - 1u);
  let t = rho / GROUP;
  let h = kvh * GROUP + rho % GROUP;
  let qpos = u.pos + t;
  var q: array<vec4<f32>, QV>;
  let qoff = t * QKVD + h * HD + part * (HD / 4u);
  for (var i = 0u; i < QV; i++) {
    let o = qoff + 4u * i;
    q[i] = vec4<f32>(round_f16(vec2<f32>(src[o], src[o + 1u])), round_f16(vec2<f32>(src[o + 2u], src[o + 3u])));
  }
  var acc = array<vec4<f32>, QV>();
  var m = -3.0e38;
  var l = 0.0;
  let n_keys = u.pos + min((rho0 + 31u) / GROUP, u.n_tok - 1u) + 1u;
  let base = kvh * NCTX;
  let kmin = first_key(u.pos + rho0 / GROUP);
  let qfirst = first_key(qpos);
  for (var k0 = kmin; k0 < n_keys; k0 += KT) {
    for (var i = tid; i < KT * HD / 4u; i += WG) {
      let j = i / (HD / 4u);
      let c = i % (HD / 4u);
      var kk = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (k0 + j < n_keys) {
        let w = (base + k0 + j) * (HD / 2u) + 2u * c;
        kk = vec4<f32>(unpack2x16float(kc[w]), unpack2x16float(kc[w + 1u]));
        vv = vec4<f32>(unpack2x16float(vc[w]), unpack2x16float(vc[w + 1u]));
      }
      kt[i] = kk;
      vt[i] = vv;
    }
    workgroupBarrier();
    var s: array<f32, KT>;
    var mt = m;
    for (var j = 0u; j < KT; j++) {
      var d = 0.0;
      let kb = j * (HD / 4u) + part * QV;
      for (var i = 0u; i < QV; i++) { d += dot(q[i], kt[kb + i]); }
      d += subgroupShuffleXor(d, 1u);
      d += subgroupShuffleXor(d, 2u);
      s[j] = select(-3.0e38, capped(d * SCALE), k0 + j <= qpos && k0 + j >= qfirst);
      mt = max(mt, s[j]);
    }
    let corr = exp(m - mt);
    l *= corr;
    for (var i = 0u; i < QV; i++) { acc[i] *= corr; }
    for (var j = 0u; j < KT; j++) {
      let e = select(0.0, exp(s[j] - mt), k0 + j <= qpos && k0 + j >= qfirst);
      l += e;
      let vb = j * (HD / 4u) + part * QV;
      for (var i = 0u; i < QV; i++) { acc[i] += e * vt[vb + i]; }
    }
    m = mt;
    workgroupBarrier();
  }
  if (rho0 + r < n_rows) {
    let o = t * QD + h * HD + part * (HD / 4u);
    for (var i = 0u; i < QV; i++) {
      let a = acc[i] / l;
      outv[o + 4u * i] = a.x;
      outv[o + 4u * i + 1u] = a.y;
      outv[o + 4u * i + 2u] = a.z;
      outv[o + 4u * i + 3u] = a.w;
    }
  }
}
