// Prefill product of quantized weights with the Q8 input (q8_act.wgsl) in
// integers, as ggml's CPU does: per block of 32 an exact sum of int8
// products (dot4, four at a time), scaled by d_w * d_x and accumulated in
// f32 (Q4_1/Q5_1 add m * the input block's sum apart, last). A workgroup
// (256 threads) takes BM = 16 * TM weight rows x 64 tokens, each thread TM
// rows x 4 tokens (rows tr + 16 i, tokens tt + 16 j), NB blocks of the
// inner dimension a stage through workgroup memory (quants as
// [block][half][row] vec4 words). MODE 0: out = acc + bias; 1: out += acc
// (residual); 2: the thread's rows i < TM / 2 are gate rows and the others
// the matching up rows (FF + row): out = silu(gate) * up, BM / 2 outputs a
// workgroup.
const BM: u32 = 16u * TM;
var<workgroup> sw: array<vec4<u32>, NB * 2u * BM>;  // weights [blk][half][row]
var<workgroup> sd: array<vec2<f32>, NB * BM>;       // [blk][row]: (d, m)
var<workgroup> sx: array<vec4<u32>, NB * 128u>;     // input [blk][half][token of 64]
var<workgroup> sxd: array<vec2<f32>, NB * 64u>;     // [blk][token]: (d, sum)

const OUT_TILE: u32 = select(BM, BM / 2u, MODE == 2u);
const OFFS: bool = ACT_M;  // Q4_1 / Q5_1

fn d4(w: vec4<u32>, a: vec4<u32>) -> i32 { return dot4(w.x, a.x) + dot4(w.y, a.y) + dot4(w.z, a.z) + dot4(w.w, a.w); }

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let out0 = wid.x * OUT_TILE;
  let tok0 = wid.y * 64u;
  if (tok0 >= u.n_tok) { return; }
  let tr = tid % 16u;
  let tt = tid / 16u;
  // (initializers: some compilers hoist a loop's var and zero it once)
  var acc = array<vec4<f32>, TM>();
  var accm = array<vec4<f32>, TM>();
  // This thread's loads of a stage, WI weight (row, block) items (row lr
  // of the tile, block lb) and XI input words, fetched into registers one
  // stage ahead so that their latency hides behind the products.
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
  var pd: array<vec2<f32>, WI>;
  var px: array<vec4<u32>, XI>;
  var pxd = vec2<f32>(0.0);
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
          sd[i] = pd[k];
        }
      }
      for (var k = 0u; k < XI; k++) {
        let i = tid + 256u * k;
        if (i < NB * 128u) { sx[i] = px[k]; }
      }
      if (tid < NB * 64u) { sxd[tid] = pxd; }
      workgroupBarrier();
    }
    if (b0 < BPR) {
      for (var k = 0u; k < WI; k++) {
        let i = tid + 256u * k;
        if (i < NB * BM) {
          let b = b0 + i / BM;
          pw[k] = wsel_q8(wrow[k], b);
          var m = 0.0;
          if (OFFS) { m = wsel_m(wrow[k], b); }
          pd[k] = vec2<f32>(wsel_d(wrow[k], b), m);
        }
      }
      for (var k = 0u; k < XI; k++) {
        let i = tid + 256u * k;
        if (i < NB * 128u) {
          let bh = i / 64u;
          let xt = min(tok0 + i % 64u, u.n_tok - 1u);
          px[k] = xq[(xt * BPR + b0 + bh / 2u) * 2u + bh % 2u];
        }
      }
      if (tid < NB * 64u) { pxd = xd[min(tok0 + tid % 64u, u.n_tok - 1u) * BPR + b0 + tid / 64u]; }
    }
    if (b0 == 0u) { continue; }
    for (var blk = 0u; blk < NB; blk++) {
      var isum = array<vec4<i32>, TM>();
      for (var h = 0u; h < 2u; h++) {
        let xb = (blk * 2u + h) * 64u + tt;
        let a0 = sx[xb];
        let a1 = sx[xb + 16u];
        let a2 = sx[xb + 32u];
        let a3 = sx[xb + 48u];
        for (var i = 0u; i < TM; i++) {
          let w = sw[(blk * 2u + h) * BM + tr + 16u * i];
          isum[i] += vec4<i32>(d4(w, a0), d4(w, a1), d4(w, a2), d4(w, a3));
        }
      }
      let xb = blk * 64u + tt;
      let xs = array<vec2<f32>, 4>(sxd[xb], sxd[xb + 16u], sxd[xb + 32u], sxd[xb + 48u]);
      let xdv = vec4<f32>(xs[0].x, xs[1].x, xs[2].x, xs[3].x);
      let xsv = vec4<f32>(xs[0].y, xs[1].y, xs[2].y, xs[3].y);
      for (var i = 0u; i < TM; i++) {
        let wd = sd[blk * BM + tr + 16u * i];
        acc[i] += vec4<f32>(isum[i]) * (wd.x * xdv);
        if (OFFS) { accm[i] += wd.y * xsv; }
      }
    }
    workgroupBarrier();
  }
  for (var j = 0u; j < 4u; j++) {
    let t = tok0 + tt + 16u * j;
    if (t >= u.n_tok) { continue; }
    if (MODE == 2u) {
      for (var i = 0u; i < TM / 2u; i++) {
        let r = out0 + tr + 16u * i;
        if (r < FF) { outv[t * OUTS + r] = silu(acc[i][j] + accm[i][j]) * (acc[i + TM / 2u][j] + accm[i + TM / 2u][j]); }
      }
    } else {
      for (var i = 0u; i < TM; i++) {
        let r = out0 + tr + 16u * i;
        if (r >= OUT_ROWS) { continue; }
        let v = acc[i][j] + accm[i][j];
        if (MODE == 0u) { outv[t * OUTS + r] = v + bias[r]; } else { outv[t * OUTS + r] += v; }
      }
    }
  }
}
