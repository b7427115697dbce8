// F32 weights: 32 words per block of 32. A unit (j = 0..3) is elements 8j..8j+7.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let b = g * 32u + j * 8u;
  return mat2x4<f32>(
    vec4<f32>(bitcast<f32>(WBUF[b]), bitcast<f32>(WBUF[b + 1u]), bitcast<f32>(WBUF[b + 2u]), bitcast<f32>(WBUF[b + 3u])),
    vec4<f32>(bitcast<f32>(WBUF[b + 4u]), bitcast<f32>(WBUF[b + 5u]), bitcast<f32>(WBUF[b + 6u]), bitcast<f32>(WBUF[b + 7u])));
}

// No separate offset term: the whole weight is d * q.
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

// One scale for the whole block (the kernels sum its 32 products at once), no offset.
const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = false;
