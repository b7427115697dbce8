// Which ggml type llama-quantize gives each tensor of a model for a mixture (ftype),
// and in which order it writes them: a port of the parts of llama.cpp's
// src/llama-quant.cpp (release v0.5.0 as node-llama-cpp 3.22.1 ships it) that
// apply to hearth's test models (llama, phi3, qwen2; no experts, not Falcon, not a
// 70B, no imatrix, no --pure / --tensor-type / --output-tensor-type overrides):
// tensor_allows_quantization, tensor_get_category, llama_tensor_get_type(_impl),
// tensor_type_fallback, init_quantize_state_counters, and the tensor order of
// llama_model_loader::weights_map (weight_name_comparer).
import { GGML, FTYPES } from './gguf_write.mjs';

// weight_name_comparer: by the N of "blk.N." (-1 without one), then by name
export function llamaTensorOrder(a, b) {
  const la = layerOf(a), lb = layerOf(b);
  if (la !== lb) return la - lb;
  return a < b ? -1 : a > b ? 1 : 0;
}
function layerOf(name) {
  const m = /^blk\.(-?\d+)\./.exec(name);
  return m ? Number(m[1]) : -1;
}

const CAT = {
  TOKEN_EMBD: 'token_embd', ATTENTION_Q: 'attn_q', ATTENTION_V: 'attn_v', ATTENTION_K: 'attn_k',
  ATTENTION_QKV: 'attn_qkv', ATTENTION_KV_B: 'attn_kv_b', ATTENTION_OUTPUT: 'attn_output',
  FFN_UP: 'ffn_up', FFN_GATE: 'ffn_gate', FFN_DOWN: 'ffn_down', OUTPUT: 'output', OTHER: 'other',
};

function category(name) {
  if (name === 'output.weight') return CAT.OUTPUT;
  if (name === 'token_embd.weight' || name === 'per_layer_token_embd.weight') return CAT.TOKEN_EMBD;
  if (name.includes('attn_qkv.weight')) return CAT.ATTENTION_QKV;
  if (name.includes('attn_kv_b.weight')) return CAT.ATTENTION_KV_B;
  if (name.includes('attn_v.weight')) return CAT.ATTENTION_V;
  if (name.includes('attn_k.weight')) return CAT.ATTENTION_K;
  if (name.includes('attn_q.weight')) return CAT.ATTENTION_Q;
  if (name.includes('attn_output.weight')) return CAT.ATTENTION_OUTPUT;
  if (name.includes('ffn_up')) return CAT.FFN_UP;
  if (name.includes('ffn_gate')) return CAT.FFN_GATE;
  if (name.includes('ffn_down')) return CAT.FFN_DOWN;
  return CAT.OTHER;
}
const isAttnV = (c) => c === CAT.ATTENTION_V || c === CAT.ATTENTION_QKV || c === CAT.ATTENTION_KV_B;

// ggml_n_dims >= 2, a name ending in "weight", not a norm (the other exclusions of
// tensor_allows_quantization name tensors these models don't have)
function allowsQuantization(name, ne) {
  let nDims = 1;
  for (let i = ne.length - 1; i >= 1; i--) if (ne[i] > 1) { nDims = i + 1; break; }
  if (nDims < 2) return false;
  return name.endsWith('weight') && !name.includes('_norm.weight') && !name.includes('ffn_gate_inp.weight');
}

const FALLBACK = {
  iq4_xs: 'iq4_nl', q2_K: 'q4_0', q3_K: 'q4_0', q4_K: 'q5_0', q5_K: 'q5_1', q6_K: 'q8_0',
};
function fallback(ne0, target) {
  if (ne0 % GGML[target].blck === 0) return target;
  let ret = FALLBACK[target];
  if (!ret) {
    if (GGML[target].blck <= 32) ret = target;
    else throw new Error(`no tensor type fallback is defined for type ${target}`);
  }
  if (ne0 % GGML[ret].blck !== 0) ret = 'f16';
  return ret;
}

const useMoreBits = (i, n) => i < Math.trunc(n / 8) || i >= Math.trunc((7 * n) / 8) || (i - Math.trunc(n / 8)) % 3 === 2;

// tensors: [{name, ne}] in the input file; hp: {n_layer, n_head, n_head_kv}.
// Returns a Map name -> ggml type name for every tensor (unquantized ones keep `type`).
export function mixtureTypes(ftypeName, tensors, hp) {
  const F = FTYPES[ftypeName];
  if (!F) throw new Error(`unknown ftype ${ftypeName}`);
  const ftype = ftypeName;
  const defaultType = F.type;
  const nGqa = hp.n_head / hp.n_head_kv;
  const sorted = [...tensors].sort((a, b) => llamaTensorOrder(a.name, b.name));
  const qs = {
    n_attention_wv: 0, i_attention_wv: 0, n_ffn_down: hp.n_layer, i_ffn_down: 0,
    n_ffn_gate: hp.n_layer, i_ffn_gate: 0, n_ffn_up: hp.n_layer, i_ffn_up: 0, tied: true,
  };
  for (const t of sorted) {
    const c = category(t.name);
    if (isAttnV(c)) qs.n_attention_wv++;
    if (c === CAT.OUTPUT) qs.tied = false;
  }
  const out = new Map();
  for (const t of sorted) {
    if (!allowsQuantization(t.name, t.ne)) { out.set(t.name, t.type); continue; }
    const cat = category(t.name);
    let nt = defaultType;
    // (every ftype here has a quantized default type)
    nt = getTypeImpl(qs, nt, t, ftype, cat, nGqa);
    nt = fallback(t.ne[0], nt);
    out.set(t.name, nt);
  }
  return out;
}

function getTypeImpl(qs, newType, t, ftype, cat, nGqa) {
  if (cat === CAT.OUTPUT || (qs.tied && cat === CAT.TOKEN_EMBD)) {
    const nx = t.ne[0];
    if (nx % GGML[newType].blck !== 0) newType = 'q8_0';
    else if (newType !== 'q8_0') newType = 'q6_K';
  } else if (cat === CAT.TOKEN_EMBD) {
    // only the IQ1/IQ2/IQ3_XXS/TQ/Q2_0 mixtures change the token embeddings
  } else if (isAttnV(cat)) {
    if (ftype === 'q2_k') newType = nGqa >= 4 ? 'q4_K' : 'q3_K';
    else if (ftype === 'q3_k_m') newType = qs.i_attention_wv < 2 ? 'q5_K' : 'q4_K';
    else if (ftype === 'q3_k_l') newType = 'q5_K';
    else if ((ftype === 'iq4_nl' || ftype === 'iq4_xs') && nGqa >= 4) newType = 'q5_K';
    else if ((ftype === 'q4_k_m' || ftype === 'q5_k_m') && useMoreBits(qs.i_attention_wv, qs.n_attention_wv)) newType = 'q6_K';
    else if (ftype === 'q4_k_s' && qs.i_attention_wv < 4) newType = 'q5_K';
    ++qs.i_attention_wv;
  } else if (cat === CAT.ATTENTION_K || cat === CAT.ATTENTION_Q) {
    // only IQ3_XS / IQ3_XXS (and 8-expert models) change these
  } else if (cat === CAT.FFN_DOWN) {
    const i = qs.i_ffn_down, n = qs.n_ffn_down;
    if (ftype === 'q2_k') newType = 'q3_K';
    else if (ftype === 'q3_k_m') newType = i < Math.trunc(n / 16) ? 'q5_K' : 'q4_K'; // (q3_K only for Falcon)
    else if (ftype === 'q3_k_l') newType = 'q5_K';
    else if (ftype === 'q4_k_m') { if (useMoreBits(i, n)) newType = 'q6_K'; }
    else if (i < Math.trunc(n / 8) && (ftype === 'iq4_nl' || ftype === 'iq4_xs')) newType = 'q5_K'; // no imatrix
    else if (ftype === 'q5_k_m' && useMoreBits(i, n)) newType = 'q6_K';
    else if (ftype === 'q4_k_s' && i < Math.trunc(n / 8)) newType = 'q5_K';
    ++qs.i_ffn_down;
  } else if (cat === CAT.ATTENTION_OUTPUT) {
    if (ftype === 'q2_k') newType = 'q3_K';
    else if (ftype === 'q3_k_m') newType = 'q4_K';
    else if (ftype === 'q3_k_l') newType = 'q5_K';
  } else if (cat === CAT.FFN_GATE) {
    ++qs.i_ffn_gate;
  } else if (cat === CAT.FFN_UP) {
    ++qs.i_ffn_up;
  }
  return newType;
}
