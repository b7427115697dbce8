// Decode: a product right after a branch with a norm of its own (gemma's
// post-attention and post-FFN norms), with post_norm.wgsl folded into its
// start instead of a dispatch of its own. Every workgroup forms the new
// residual x' = x + rmsnorm(xb) * pw itself, with post_norm.wgsl's
// operations in its order (so the same bits), and takes its product's
// input from it: x' * nw (the product's own norm weights) and the norm's
// scale of x', as norm_scale.wgsl does from a stored x. The first
// workgroup stores x' in xo, the other residual buffer: every workgroup
// reads x, so x' can't be written over it.
var<private> post_scale: f32;
fn resid4(i: u32) -> vec4<f32> { return x[i] + xb[i] * post_scale * pw[i]; }
fn xin_at(i: u32) -> vec4<f32> { return resid4(i) * nw[i]; }
fn norm_scale(tid: u32, first: bool) -> f32 {
  var s = 0.0;
  for (var i = tid; i < E; i += WG) { let v = xb[i / 4u][i % 4u]; s += v * v; }
  post_scale = 1.0 / sqrt(wg_sum(s, tid) / f32(E) + EPS);
  var s2 = 0.0;
  for (var i = tid; i < E / 4u; i += WG) {
    let v = resid4(i);
    s2 += dot(v, v);
    if (first) { xo[i] = v; }
  }
  return 1.0 / sqrt(wg_sum(s2, tid) / f32(E) + EPS);
}
