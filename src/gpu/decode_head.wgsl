// Decode attention's start, per query head h: RoPE of q and of the new k
// (after their QK norms, if any)
// into qs / kn (f16-rounded), the new v into vn, and (store) the new k/v
// written to the f16 cache at pos by the group's first head.
fn decode_head(h: u32, pos: u32, tid: u32, store: bool) {
  let kvh = h / GROUP;
  rope_head(&qs, h * HD, pos, tid, true, Q_MUL, false);
  rope_head(&kn, QD + kvh * HD, pos, tid, true, 1.0, true);
  for (var d = tid; d < HD; d += WG) { vn[d] = round_f16(vec2<f32>(src[QD + KVD + kvh * HD + d], 0.0)).x; }
  workgroupBarrier();
  if (store && h % GROUP == 0u) {
    let row = (kvh * NCTX + pos) * (HD / 2u);
    for (var w = tid; w < HD / 2u; w += WG) {
      kc[row + w] = pack_f16(vec2<f32>(kn[2u * w], kn[2u * w + 1u]));
      vc[row + w] = pack_f16(vec2<f32>(vn[2u * w], vn[2u * w + 1u]));
    }
  }
}
