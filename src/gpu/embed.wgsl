// Token embeddings: x[t] = the token's row of the embedding matrix, for
// t < n_tok (DECODE: the step's token from the uniform block, else tokens[t]);
// row 0 also gets xn = x * nw (the first RMSNorm's weights) for decode.
// Rows are multiplied by EMBD_SCALE (gemma: sqrt(n_embd); else 1).
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = wg_index(wid, nwg) * WG + tid;
  let t = id / (E / 8u);
  if (t >= u.n_tok) { return; }
  let k = id % (E / 8u);
  let b = k >> 2u;
  let j = k & 3u;
  var tok = u.token;
  if (!DECODE) { tok = tokens[t]; }
  tok = min(tok, NVOCAB - 1u);
  var w = wsel_deq(tok, b, j);
  if (EMBD_SCALE != 1.0) { w = w * EMBD_SCALE; }
  let p = w0_pos(j);
  let i0 = (t * E + b * 32u + p.x) >> 2u;
  let i1 = (t * E + b * 32u + p.y) >> 2u;
  x[i0] = w[0];
  x[i1] = w[1];
  if (t == 0u) {
    xn[i0] = w[0] * nw[i0];
    xn[i1] = w[1] * nw[i1];
  }
}
