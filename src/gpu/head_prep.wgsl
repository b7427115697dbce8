// After a prefill chunk (rows last and 0 differ, or are the same row): the last token's residual moves to row 0, where the
// output product (shared with decode) reads it, and xn = x * output norm.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  let last = u.n_tok - 1u;
  for (var i = tid; i < E; i += WG) {
    let v = x[last * E + i];
    x[i] = v;
    xn[i] = v * nw[i];
  }
}
