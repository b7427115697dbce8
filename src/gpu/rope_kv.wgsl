// Prefill: RoPE of every q and k head of the chunk in place (after their
// QK norms, if any), and the chunk's keys and values stored in the f16
// cache at u.pos + t. One workgroup per (token, head), heads being NH
// query heads then NKV kv heads.
var<workgroup> hv: array<f32, HD>;
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = wid.y;
  if (t >= u.n_tok) { return; }
  let h = wid.x;
  let pos = u.pos + t;
  var off = t * QKVD + h * HD;
  if (h >= NH) { off = t * QKVD + QD + (h - NH) * HD; }
  rope_head(&hv, off, pos, tid, false, 1.0, h >= NH);
  for (var d = tid; d < HD; d += WG) { src[off + d] = hv[d]; }
  if (h >= NH) {
    let kvh = h - NH;
    let row = (kvh * NCTX + pos) * (HD / 2u);
    let voff = t * QKVD + QD + KVD + kvh * HD;
    for (var w = tid; w < HD / 2u; w += WG) {
      kc[row + w] = pack_f16(vec2<f32>(hv[2u * w], hv[2u * w + 1u]));
      vc[row + w] = pack_f16(vec2<f32>(src[voff + 2u * w], src[voff + 2u * w + 1u]));
    }
  }
}
