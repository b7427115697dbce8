// RoPE of one head (HD floats at src[off]) into workgroup memory, with the
// cos/sin table rope[pos][ROPE_DIM] (pairs; built on the CPU as ggml does).
// NEOX rotates (i, i + ROPE_DIM/2), otherwise (2i, 2i + 1); dimensions past
// ROPE_DIM pass through. Values are rounded to f16 when ROUND is set.
var<workgroup> rtmp: array<f32, HD>;
fn rope_head(dst: ptr<workgroup, array<f32, HD>>, off: u32, pos: u32, tid: u32, round: bool, mul: f32) {
  for (var d = tid; d < HD; d += WG) { rtmp[d] = src[off + d]; }
  workgroupBarrier();
  for (var d = tid; d < HD; d += WG) {
    var v = rtmp[d];
    if (d < ROPE_DIM) {
      var i: u32; var a: u32; var b: u32;
      if (NEOX) {
        i = d % (ROPE_DIM / 2u); a = i; b = i + ROPE_DIM / 2u;
      } else {
        i = d / 2u; a = 2u * i; b = a + 1u;
      }
      let c = rope[pos * ROPE_DIM + 2u * i];
      let s = rope[pos * ROPE_DIM + 2u * i + 1u];
      if (d == a) { v = fma(rtmp[a], c, -(rtmp[b] * s)); } else { v = fma(rtmp[a], s, rtmp[b] * c); }
    }
    v *= mul; // Q_MUL for phi3's queries (attend.wgsl), else 1
    if (round) { v = round_f16(vec2<f32>(v, 0.0)).x; }
    (*dst)[d] = v;
  }
  workgroupBarrier();
}
