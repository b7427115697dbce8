// Prefill product of quantized weights with the Q8 input (q8_act.wgsl) in
// integers, as ggml's CPU does: per block of 32 an exact sum of int8
// products (dot4, four at a time), scaled by d_w * d_x and accumulated in
// f32 (Q4_1/Q5_1 add m * the input block's sum apart, last; the K-quants'
// mins likewise, per half, with Q8_K input's half sums; Q2_K, Q3_K and
// Q6_K, a scale per 16 values, sum each half of a block apart). A workgroup
// (256 threads) takes BM = 16 * TM weight rows x BN = 16 * TN tokens, each
// thread TM rows x TN tokens (rows tr + 16 i, tokens tt + 16 j), NB blocks
// of the inner dimension a stage through workgroup memory (quants as
// [block][half][row or token] vec4 words), the next stage fetched into
// registers while the current one is multiplied. MODE 0: out = acc + bias
// (rows from ROW_BASE of OUTS a token: one type's part of a QKV group);
// 1: out += acc (residual); 2: the thread's rows i < TM / 2 are gate rows
// and the others the matching up rows (FF + row): out = ffn_gate(gate) * up
// (silu or GEGLU's gelu),
// BM / 2 outputs a workgroup.
const BM: u32 = 16u * TM;
const BN: u32 = 16u * TN;
const TG: u32 = TN / 4u;  // vec4s of tokens a thread
const OUT_TILE: u32 = select(BM, BM / 2u, MODE == 2u);
const OFFS: bool = w0_OFFS;      // Q4_1 / Q5_1, Q2_K / Q4_K / Q5_K
const HALVES: bool = w0_HALVES;  // Q2_K / Q3_K / Q6_K
const OFFS2: bool = OFFS && ACT == 4u;  // offsets per half (Q8_K input)
var<workgroup> sw: array<vec4<u32>, NB * 2u * BM>;  // weights [blk][half][row]
var<workgroup> sx: array<vec4<u32>, NB * 2u * BN>;  // input [blk][half][token]
// The scales as vec4s of the four rows (tokens) one thread takes from one
// load, [blk][i / 4][tr] with rows tr + 16 i (tokens likewise): 3 loads a
// block for 8 rows x 4 tokens instead of 12, the hot loop's instruction
// count being what bounds it on the H100 (Phi-3 prefill 2% faster than
// the vec2 (d, m) a row it loaded before).
var<workgroup> sd: array<vec4<f32>, NB * BM / 4u>;                  // d (of the first half)
var<workgroup> sd2: array<vec4<f32>, select(1u, NB * BM / 4u, HALVES)>;  // d of the second half
var<workgroup> sm: array<vec4<f32>, select(1u, NB * BM / 4u, OFFS)>;  // m
var<workgroup> sm2: array<vec4<f32>, select(1u, NB * BM / 4u, OFFS2)>;  // m of the second half
var<workgroup> sxd: array<vec4<f32>, NB * BN / 4u>;                 // d
var<workgroup> sxs: array<vec4<f32>, select(1u, NB * BN / 4u, OFFS)>; // sum (act_sums)
var<workgroup> sxs2: array<vec4<f32>, select(1u, NB * BN / 4u, OFFS2)>; // the second half's

fn d4(w: vec4<u32>, a: vec4<u32>) -> i32 { return dot4(w.x, a.x) + dot4(w.y, a.y) + dot4(w.z, a.z) + dot4(w.w, a.w); }
// A block's integer sum as f32 without an int-to-float conversion (a slow
// instruction on some GPUs): the sums start from BIAS, the bits of the
// float 1.5 * 2^23, so that for |sum| < 2^22 they are the bits of
// 1.5 * 2^23 + sum, exactly (starting from BIAS rather than adding it
// after saves an add an output a block: Phi-3 prefill 2-5% faster on the
// H100).
const BIAS: i32 = 0x4b400000;
fn i2f(v: vec4<i32>) -> vec4<f32> { return bitcast<vec4<f32>>(v) - vec4<f32>(12582912.0); }

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let out0 = wid.x * OUT_TILE;
  let tok0 = wid.y * BN;
  if (tok0 >= u.n_tok) { return; }
  let tr = tid % 16u;
  let tt = tid / 16u;
  // (initializers: some compilers hoist a loop's var and zero it once)
  var acc = array<vec4<f32>, TM * TG>();
  var accm = array<vec4<f32>, TM * TG>();
  // This thread's loads of a stage: WI weight (row, block) items and XI
  // input words, fetched into registers one stage ahead.
  var wrow: array<u32, WI>;
  for (var k = 0u; k < WI; k++) {
    let lr = (tid + 256u * k) % BM;
    if (MODE == 2u) {
      let r = min(out0 + lr % (BM / 2u), FF - 1u);
      wrow[k] = select(r, FF + r, lr >= BM / 2u);
    } else {
      wrow[k] = min(out0 + lr, OUT_ROWS - 1u);
    }
  }
  var pw: array<array<vec4<u32>, 2>, WI>;
  var pd: array<vec4<f32>, WI>;  // d (two halves), m (two halves)
  var px: array<vec4<u32>, XI>;
  var pxd: array<vec2<f32>, XDI>;
  for (var b0 = 0u; b0 < BPR + NB; b0 += NB) {
    if (b0 > 0u) {
      // the stage fetched last time round into workgroup memory
      for (var k = 0u; k < WI; k++) {
        let i = tid + 256u * k;
        if (i < NB * BM) {
          let lr = i % BM;
          let lb = i / BM;
          sw[lb * 2u * BM + lr] = pw[k][0];
          sw[lb * 2u * BM + BM + lr] = pw[k][1];
          let q = (lb * (TM / 4u) + lr / 64u) * 16u + lr % 16u;
          sd[q][(lr / 16u) % 4u] = pd[k].x;
          if (HALVES) { sd2[q][(lr / 16u) % 4u] = pd[k].y; }
          if (OFFS) { sm[q][(lr / 16u) % 4u] = pd[k].z; }
          if (OFFS2) { sm2[q][(lr / 16u) % 4u] = pd[k].w; }
        }
      }
      for (var k = 0u; k < XI; k++) {
        let i = tid + 256u * k;
        if (i < NB * 2u * BN) { sx[i] = px[k]; }
      }
      for (var k = 0u; k < XDI; k++) {
        let i = tid + 256u * k;
        if (i < NB * BN) {
          let t = i % BN;
          let q = ((i / BN) * TG + t / 64u) * 16u + t % 16u;
          sxd[q][(t / 16u) % 4u] = pxd[k].x;
          let a = act_sums(pxd[k]);
          if (OFFS) { sxs[q][(t / 16u) % 4u] = a.x; }
          if (OFFS2) { sxs2[q][(t / 16u) % 4u] = a.y; }
        }
      }
      workgroupBarrier();
    }
    if (b0 < BPR) {
      for (var k = 0u; k < WI; k++) {
        let i = tid + 256u * k;
        if (i < NB * BM) {
          let b = b0 + i / BM;
          pw[k] = wsel_q8(wrow[k], b);
          var m = vec2<f32>(0.0);
          if (OFFS) { m = wsel_m(wrow[k], b); }
          pd[k] = vec4<f32>(wsel_d(wrow[k], b), m);
        }
      }
      for (var k = 0u; k < XI; k++) {
        let i = tid + 256u * k;
        if (i < NB * 2u * BN) {
          let bh = i / BN;
          let xt = min(tok0 + i % BN, u.n_tok - 1u);
          px[k] = xq[(xt * BPR + b0 + bh / 2u) * 2u + bh % 2u];
        }
      }
      for (var k = 0u; k < XDI; k++) {
        let i = tid + 256u * k;
        if (i < NB * BN) { pxd[k] = xd[min(tok0 + i % BN, u.n_tok - 1u) * BPR + b0 + i / BN]; }
      }
    }
    if (b0 == 0u) { continue; }
    for (var blk = 0u; blk < NB; blk++) {
      var isum: array<vec4<i32>, TM * TG>;
      for (var q = 0u; q < TM * TG; q++) { isum[q] = vec4<i32>(BIAS); }
      for (var h = 0u; h < 2u; h++) {
        let xb = (blk * 2u + h) * BN + tt;
        var a: array<vec4<u32>, TN>;
        for (var j = 0u; j < TN; j++) { a[j] = sx[xb + 16u * j]; }
        for (var i = 0u; i < TM; i++) {
          let w = sw[(blk * 2u + h) * BM + tr + 16u * i];
          for (var g = 0u; g < TG; g++) {
            isum[i * TG + g] += vec4<i32>(d4(w, a[4u * g]), d4(w, a[4u * g + 1u]), d4(w, a[4u * g + 2u]), d4(w, a[4u * g + 3u]));
          }
        }
        if (HALVES) { // a scale per 16 values: each half's sums scaled apart
          for (var g = 0u; g < TG; g++) {
            let xi = (blk * TG + g) * 16u + tt;
            for (var i = 0u; i < TM; i++) {
              let q = (blk * (TM / 4u) + i / 4u) * 16u + tr;
              let dw = select(sd[q][i % 4u], sd2[q][i % 4u], h == 1u);
              acc[i * TG + g] += i2f(isum[i * TG + g]) * (dw * sxd[xi]);
              isum[i * TG + g] = vec4<i32>(BIAS);
            }
          }
        }
      }
      for (var g = 0u; g < TG; g++) {
        let xi = (blk * TG + g) * 16u + tt;
        for (var i = 0u; i < TM; i++) {
          let q = (blk * (TM / 4u) + i / 4u) * 16u + tr;
          if (!HALVES) { acc[i * TG + g] += i2f(isum[i * TG + g]) * (sd[q][i % 4u] * sxd[xi]); }
          if (OFFS) { accm[i * TG + g] += sm[q][i % 4u] * sxs[xi]; }
          if (OFFS2) { accm[i * TG + g] += sm2[q][i % 4u] * sxs2[xi]; }
        }
      }
    }
    workgroupBarrier();
  }
  for (var j = 0u; j < TN; j++) {
    let t = tok0 + tt + 16u * j;
    if (t >= u.n_tok) { continue; }
    let g = j / 4u;
    let c = j % 4u;
    if (MODE == 2u) {
      for (var i = 0u; i < TM / 2u; i++) {
        let r = out0 + tr + 16u * i;
        let up = (TM / 2u + i) * TG + g;
        if (r < FF) { outv[t * OUTS + r] = ffn_gate(acc[i * TG + g][c] + accm[i * TG + g][c]) * (acc[up][c] + accm[up][c]); }
      }
    } else {
      for (var i = 0u; i < TM; i++) {
        let r = out0 + tr + 16u * i;
        if (r >= OUT_ROWS) { continue; }
        let v = acc[i * TG + g][c] + accm[i * TG + g][c];
        if (MODE == 0u) { outv[t * OUTS + ROW_BASE + r] = v + bias[ROW_BASE + r]; } else { outv[t * OUTS + r] += v; }
      }
    }
  }
}
