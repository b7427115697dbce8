// The K-quant mixture test models: llama-quantize's mixtures (make_test_model
// --ftype) of small models whose rows are multiples of 256 (so the K-quants apply),
// plus one 896-wide model (Qwen2.5-0.5B's width: 896 % 256 = 128, so most K-quant
// rows fall back to Q5_0/Q5_1/Q8_0/Q4_0/IQ4_NL while ffn_down, 4864 = 19 x 256 wide,
// stays a K-quant). Used by tools/golden.mjs, tools/check_quantize.mjs and the tests
// (through tests/fixtures/models.json, key "kquant").
export const KQ_FTYPES = ['q4_k_m', 'q4_k_s', 'q5_k_m', 'q6_k', 'q3_k_m', 'q2_k', 'iq4_xs', 'iq4_nl', 'q4_0', 'q8_0'];

const E256 = ['--embd', '256', '--head-dim', '64', '--ff', '768', '--layers', '2'];
const W256 = ['--embd', '256', '--ff', '768'];
export const KQ_FAMILIES = [
  // Llama 3.2 style: llama3 tokenizer, rope freqs, tied embeddings, GQA 4
  { name: 'kq-llama-llama3-e256', args: ['--arch', 'llama', '--tokenizer', 'llama3', '--rope-freqs', '--tied', ...E256, '--heads', '4', '--kv-heads', '1'] },
  // Phi-3 style: llama2 tokenizer, untied output, kv heads = heads
  { name: 'kq-phi3-llama2-e256', args: ['--arch', 'phi3', '--tokenizer', 'llama2', ...E256, '--heads', '4', '--kv-heads', '4'] },
  // Qwen style: qwen3 tokenizer, tied embeddings, qkv biases, GQA 2
  { name: 'kq-qwen2-qwen3-e256', args: ['--arch', 'qwen2', '--tokenizer', 'qwen3', ...E256, '--heads', '4', '--kv-heads', '2'] },
  // Qwen2.5-0.5B's widths (896, 14/2 heads x 64, FFN 4864), 2 layers; the llama2
  // tokenizer (32000 tokens) keeps the tied 896 x vocab embedding at 28.7M values
  // (qwen3's 151669 would make it 136M: a 144 MB file and ~15 s per model)
  { name: 'kq-qwen2-llama2-w896', args: ['--arch', 'qwen2', '--tokenizer', 'llama2', '--embd', '896', '--heads', '14', '--kv-heads', '2', '--head-dim', '64', '--ff', '4864', '--layers', '2'] },
  // issue 16's architectures, Q4_K_M only (their F16 / Q8_0 are in tools/golden.mjs),
  // 256 wide, 2 layers (smollm3: 4, so layer 3 has no RoPE); the same windows as there
  { name: 'kq-qwen3-qwen3-e256', ftypes: ['q4_k_m'], args: ['--arch', 'qwen3', '--tokenizer', 'qwen3', ...W256, '--heads', '4', '--kv-heads', '2', '--head-dim', '128', '--layers', '2'] },
  { name: 'kq-gemma3-gemma3-e256', ftypes: ['q4_k_m'], args: ['--arch', 'gemma3', '--tokenizer', 'gemma3', ...W256, '--heads', '4', '--kv-heads', '1', '--head-dim', '128', '--layers', '2', '--swa', '16', '--swa-pattern', '2'] },
  { name: 'kq-gemma2-gemma3-e256', ftypes: ['q4_k_m'], args: ['--arch', 'gemma2', '--tokenizer', 'gemma3', ...W256, '--heads', '4', '--kv-heads', '2', '--head-dim', '128', '--layers', '2', '--swa', '8'] },
  { name: 'kq-smollm3-llama3-e256', ftypes: ['q4_k_m'], args: ['--arch', 'smollm3', '--tokenizer', 'llama3', ...W256, '--heads', '4', '--kv-heads', '1', '--head-dim', '64', '--layers', '4'] },
  { name: 'kq-phi3-gpt4o-e256', ftypes: ['q4_k_m'], args: ['--arch', 'phi3', '--tokenizer', 'gpt4o', ...W256, '--heads', '4', '--kv-heads', '2', '--head-dim', '64', '--layers', '2', '--rope-dim', '48', '--rope-factors', '--tied', '--swa', '0'] },
];

// Natively (SIMD and scalar) every model runs; on WebAssembly these six (every K-quant and
// IQ4 type appears in one of them: q4_k_m q4_K+q6_K, q3_k_m q3_K+q4_K+q5_K+q6_K, q2_k
// q2_K+q3_K, iq4_xs, iq4_nl+q5_K, and the 896-wide fallback model); on WebGPU the Phi-3
// Q2_K mix (Q2_K, Q3_K, Q4_K, Q6_K; SwiftShader compiles each shape's pipelines in minutes,
// and every type's products are checked kernel by kernel, tests/e2e/webgpu_kernels.test.mjs);
// the rest there with HEARTH_KQUANT_ALL=1.
const KQ_SUBSET = ['kq-llama-llama3-e256-q4_k_m', 'kq-phi3-llama2-e256-q3_k_m', 'kq-phi3-llama2-e256-q2_k',
  'kq-qwen2-qwen3-e256-iq4_xs', 'kq-llama-llama3-e256-iq4_nl'];
// issue 16's Q4_K_M models: on WebAssembly the Gemma 3 one (GEGLU, windows, post and Q/K norms)
// and the Phi-4-mini-style one (partial rotary, the 200k gpt-4o vocabulary), the others'
// operations being the same C there as natively (their Q8_0 and F16 models run on wasm too);
// on WebGPU none in CI (SwiftShader takes minutes over a 262k x 256 output; gemma2's Q8_0 model
// and its long prompt stand for the architectures there, tests/e2e/webgpu.test.mjs), the Gemma 3
// one with HEARTH_KQUANT_ALL=1 or by name
const KQ_NEW = ['kq-gemma3-gemma3-e256-q4_k_m', 'kq-phi3-gpt4o-e256-q4_k_m'];
export const KQ_SUBSET_WEBGPU = ['kq-phi3-llama2-e256-q2_k'];
export const KQ_SUBSET_WASM = [...KQ_SUBSET, 'kq-qwen2-llama2-w896-q4_k_m', ...KQ_NEW];

export function kquantModelList(dir = 'build/models', seed = 1, ftypes = KQ_FTYPES) {
  const out = [];
  for (const f of KQ_FAMILIES) {
    for (const t of ftypes.filter((x) => !f.ftypes || f.ftypes.includes(x))) {
      const name = `${f.name}-${t}`;
      out.push({ name, family: f.name, ftype: t, args: [...f.args, '--ftype', t, '--seed', String(seed), '--out', `${dir}/${name}.gguf`] });
    }
  }
  return out;
}
