// After the last layer's attention in the last prefill chunk (rows last and 0
// differ, or are the same row): the last token's residual moves to row 0,
// where the decode kernels of its FFN and the output product read it, and
// xn = x * nw (the FFN's norm weights).
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  let last = u.n_tok - 1u;
  for (var i = tid; i < E; i += WG) {
    let v = x[last * E + i];
    x[i] = v;
    xn[i] = v * nw[i];
  }
}
