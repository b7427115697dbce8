// Prefill attention, one workgroup per (token, query head): causal over the
// cache (rope_kv has stored this chunk's keys and values already; from
// first_key on sliding-window layers), by
// ggml's one-row or tiled path as the CPU picks them for this batch.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.y;
  if (t >= u.n_tok) { return; }
  let h = wid.x;
  // ggml's tiled path for batches of TILED_ROWS rows or more (0: never for
  // this head size): the query stays f32
  let tiled = TILED_ROWS != 0u && u.n_tok >= TILED_ROWS;
  for (var d = tid; d < HD; d += WG) {
    let q = src[t * QKVD + h * HD + d] * Q_MUL;
    qs[d] = select(round_f16(vec2<f32>(q, 0.0)).x, q, tiled);
  }
  workgroupBarrier();
  var o: array<f32, DPT>;
  let kv0 = first_key(u.pos + t);
  if (tiled) { o = attend_tiled(h / GROUP, kv0, u.pos + t + 1u, tid); } else { o = attend(h / GROUP, kv0, u.pos + t + 1u, 0xffffffffu, tid); }
  for (var k = 0u; k < DPT; k++) {
    let dim = tid + k * WG;
    if (dim < HD) { outv[t * QD + h * HD + dim] = o[k]; }
  }
}
