// Sampling's workgroup arg-max, shared by both passes.
var<workgroup> bv: array<f32, WG>;
var<workgroup> bi: array<u32, WG>;

// Workgroup arg-max of (v, i): the larger value, then the lower id.
fn wg_argmax(v: f32, i: u32, tid: u32) {
  bv[tid] = v;
  bi[tid] = i;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      let ov = bv[tid + s];
      let oi = bi[tid + s];
      if (ov > bv[tid] || (ov == bv[tid] && oi < bi[tid])) { bv[tid] = ov; bi[tid] = oi; }
    }
    workgroupBarrier();
  }
}
