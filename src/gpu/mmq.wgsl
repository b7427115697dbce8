// Prefill product of quantized weights with the Q8 input (q8_act.wgsl) in
// integers, as ggml's CPU does: per block of 32 an exact sum of int8
// products (dot4, four at a time), scaled by d_w * d_x and accumulated in
// f32 (Q4_1/Q5_1 add m * the input block's sum apart, last). A workgroup
// (256 threads) takes 128 weight rows x 64 tokens, each thread 8 rows x 4
// tokens (rows tr + 16 i, tokens tt + 16 j), NB blocks of the inner
// dimension a stage through workgroup memory (quants as [block][half][row]
// vec4 words). MODE 0: out = acc + bias; 1: out += acc (residual); 2: the
// thread's rows 0..3 are gate rows and 4..7 the matching up rows (FF + row):
// out = silu(gate) * up, 64 outputs a workgroup.
var<workgroup> sw: array<vec4<u32>, NB * 256u>;  // weights [blk][half][row of 128]
var<workgroup> sd: array<vec2<f32>, NB * 128u>;  // [blk][row]: (d, m)
var<workgroup> sx: array<vec4<u32>, NB * 128u>;  // input [blk][half][token of 64]
var<workgroup> sxd: array<vec2<f32>, NB * 64u>;  // [blk][token]: (d, sum)

const OUT_TILE: u32 = select(128u, 64u, MODE == 2u);
const OFFS: bool = ACT_M;  // Q4_1 / Q5_1

fn d4(w: vec4<u32>, a: vec4<u32>) -> i32 { return dot4(w.x, a.x) + dot4(w.y, a.y) + dot4(w.z, a.z) + dot4(w.w, a.w); }

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let out0 = wid.x * OUT_TILE;
  let tok0 = wid.y * 64u;
  if (tok0 >= u.n_tok) { return; }
  let tr = tid % 16u;
  let tt = tid / 16u;
  var acc = array<vec4<f32>, 8>();
  var accm = array<vec4<f32>, 8>();
  // This thread's share of the loads (NB is 1 or 2): weight row lr of the
  // tile for block lb of the stage; input (block, half) tid / 64 of token lt.
  let lr = tid % 128u;
  let lb = tid / 128u;
  var wrow: u32;
  if (MODE == 2u) {
    let r = min(out0 + lr % 64u, FF - 1u);
    wrow = select(r, FF + r, lr >= 64u);
  } else {
    wrow = min(out0 + lr, OUT_ROWS - 1u);
  }
  let lt = tid % 64u;
  let xt = min(tok0 + lt, u.n_tok - 1u);
  for (var b0 = 0u; b0 < BPR; b0 += NB) {
    if (lb < NB) {
      let q = wsel_q8(wrow, b0 + lb);
      sw[lb * 256u + lr] = q[0];
      sw[lb * 256u + 128u + lr] = q[1];
      var m = 0.0;
      if (OFFS) { m = wsel_m(wrow, b0 + lb); }
      sd[tid] = vec2<f32>(wsel_d(wrow, b0 + lb), m);
      let bh = tid / 64u;
      sx[tid] = xq[(xt * BPR + b0 + bh / 2u) * 2u + bh % 2u];
    }
    if (tid < NB * 64u) { sxd[tid] = xd[xt * BPR + b0 + tid / 64u]; }
    workgroupBarrier();
    for (var blk = 0u; blk < NB; blk++) {
      // (an initializer: some compilers hoist a loop's var and zero it once)
      var isum = array<vec4<i32>, 8>();
      for (var h = 0u; h < 2u; h++) {
        let xb = (blk * 2u + h) * 64u + tt;
        let a0 = sx[xb];
        let a1 = sx[xb + 16u];
        let a2 = sx[xb + 32u];
        let a3 = sx[xb + 48u];
        for (var i = 0u; i < 8u; i++) {
          let w = sw[(blk * 2u + h) * 128u + tr + 16u * i];
          isum[i] += vec4<i32>(d4(w, a0), d4(w, a1), d4(w, a2), d4(w, a3));
        }
      }
      let xb = blk * 64u + tt;
      let xs = array<vec2<f32>, 4>(sxd[xb], sxd[xb + 16u], sxd[xb + 32u], sxd[xb + 48u]);
      let xdv = vec4<f32>(xs[0].x, xs[1].x, xs[2].x, xs[3].x);
      let xsv = vec4<f32>(xs[0].y, xs[1].y, xs[2].y, xs[3].y);
      for (var i = 0u; i < 8u; i++) {
        let wd = sd[blk * 128u + tr + 16u * i];
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
      for (var i = 0u; i < 4u; i++) {
        let r = out0 + tr + 16u * i;
        if (r < FF) { outv[t * OUTS + r] = silu(acc[i][j] + accm[i][j]) * (acc[i + 4u][j] + accm[i + 4u][j]); }
      }
    } else {
      for (var i = 0u; i < 8u; i++) {
        let r = out0 + tr + 16u * i;
        if (r >= OUT_ROWS) { continue; }
        let v = acc[i][j] + accm[i][j];
        if (MODE == 0u) { outv[t * OUTS + r] = v + bias[r]; } else { outv[t * OUTS + r] += v; }
      }
    }
  }
}
