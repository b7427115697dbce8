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
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

// Integer products (mmq.wgsl): the block's scale, and its quants as signed
// int8 four to a word: elements 0..15, then 16..31.
fn WBUF_d(g: u32) -> vec2<f32> { return vec2<f32>(unpack2x16float(WBUF[(g >> 1u) * 11u])[g & 1u]); }
fn WBUF_q8(g: u32) -> array<vec4<u32>, 2> {
  let p = (g >> 1u) * 11u;
  let h = g & 1u;
  let qh = WBUF[p + 1u + h];
  let o = p + 3u + h * 4u;
  let c = q5_codes(vec4<u32>(WBUF[o], WBUF[o + 1u], WBUF[o + 2u], WBUF[o + 3u]), qh);
  // q - 16 in each byte, without borrows between bytes
  let k = vec4<u32>(0x10101010u);
  let s = vec4<u32>(0x80808080u);
  return array<vec4<u32>, 2>(((c[0] | s) - k) ^ s, ((c[1] | s) - k) ^ s);
}

// One scale for the whole block (the kernels sum its 32 products at once), no offset.
const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = false;
// Exact mode (rows_q_exact.wgsl, mmq_exact.wgsl): ggml's 8 lanes of 4
// products a block, one FMA each (quant_scalar.c, lanes true).
const WBUF_LANES: bool = true;
