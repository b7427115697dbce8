// BF16 weights: 16 words per block of 32; a bf16 is the high half of an f32.
fn WBUF_pos(j: u32) -> vec2<u32> { return vec2<u32>(8u * j, 8u * j + 4u); }
fn WBUF_bf2(w: u32) -> vec2<f32> { return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)); }
fn WBUF_deq(g: u32, j: u32) -> mat2x4<f32> {
  let b = g * 16u + j * 4u;
  return mat2x4<f32>(vec4<f32>(WBUF_bf2(WBUF[b]), WBUF_bf2(WBUF[b + 1u])),
                     vec4<f32>(WBUF_bf2(WBUF[b + 2u]), WBUF_bf2(WBUF[b + 3u])));
}

// No separate offset term: the whole weight is d * q.
fn WBUF_deqd(g: u32, j: u32) -> mat2x4<f32> { return WBUF_deq(g, j); }
fn WBUF_m(g: u32) -> vec2<f32> { return vec2<f32>(0.0); }

// One scale for the whole block (the kernels sum its 32 products at once), no offset.
const WBUF_HALVES: bool = false;
const WBUF_OFFS: bool = false;
