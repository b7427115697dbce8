// Q5_0 in pairs of blocks: 11 words = [d0 | d1] [qh0] [qh1] [qs0: 4] [qs1: 4].
// Bit e of qh is the fifth bit of element e; w = d * (q - 16).
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(4u * j, 16u + 4u * j); }
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let p = (g >> 1u) * 11u;
  let h = g & 1u;
  let d = unpack2x16float(WBUF[p])[h];
  let qh = WBUF[p + 1u + h];
  let w = WBUF[p + 3u + h * 4u + j];
  let q = q5_quants(w, qh, j);
  return mat2x4<f32>((vec4<f32>(q[0]) - 16.0) * d, (vec4<f32>(q[1]) - 16.0) * d);
}

// No separate offset term: the whole weight is d * q.
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> f32 { return 0.0; }
