// F16 weights: 16 words per block of 32 (two halves a word, low half first).
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let b = g * 16u + j * 4u;
  return mat2x4<f32>(
    vec4<f32>(unpack2x16float(WBUF[b]), unpack2x16float(WBUF[b + 1u])),
    vec4<f32>(unpack2x16float(WBUF[b + 2u]), unpack2x16float(WBUF[b + 3u])));
}

// No separate offset term: the whole weight is d * q.
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

// One scale for the whole block (the kernels sum its 32 products at once), no offset.
const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = false;
