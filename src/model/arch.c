/* The architectures hearth runs, and the catalogues of hyper-parameters and
 * tensors their rows select from (arch.h). */
#include "model/arch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/model.h"

/* One row per architecture. */
static const arch_desc rows[] = {
    {ARCH_LLAMA, "llama", ARCH_TIED_EMBD, ROPE_INTERLEAVED, FFN_SWIGLU, 0, 0, 0},
    {ARCH_PHI3, "phi3", ARCH_FUSED_QKV | ARCH_FUSED_GATE_UP | ARCH_LONG_ROPE | ARCH_TIED_EMBD | ARCH_Q_PRESCALE,
     ROPE_NEOX, FFN_SWIGLU, 0, 0, 0},
    {ARCH_QWEN2, "qwen2", ARCH_QKV_BIAS | ARCH_TIED_EMBD, ROPE_NEOX, FFN_SWIGLU, 0, 0, 0},
    {ARCH_QWEN3, "qwen3", ARCH_QK_NORM | ARCH_TIED_EMBD, ROPE_NEOX, FFN_SWIGLU, 0, 0, 0},
    /* llama.cpp: Gemma 3 has a window only when the file gives one, and
     * every 6th layer global; Gemma 2 a window of 4096 on every 2nd */
    {ARCH_GEMMA3, "gemma3",
     ARCH_QK_NORM | ARCH_POST_NORMS | ARCH_EMBD_SCALE | ARCH_SLIDING_WINDOW | ARCH_TIED_EMBD | ARCH_Q_PRESCALE,
     ROPE_NEOX, FFN_GEGLU, 0, 6, 0},
    {ARCH_GEMMA2, "gemma2",
     ARCH_POST_NORMS | ARCH_EMBD_SCALE | ARCH_SLIDING_WINDOW | ARCH_SOFTCAP | ARCH_TIED_EMBD | ARCH_Q_PRESCALE,
     ROPE_NEOX, FFN_GEGLU, 4096, 2, 0},
    {ARCH_SMOLLM3, "smollm3", ARCH_ROPE_SKIP | ARCH_TIED_EMBD, ROPE_INTERLEAVED, FFN_SWIGLU, 0, 0, 4},
};

#define HP(f) offsetof(model_hparams, f)
const arch_u32_key arch_u32_keys[] = {
    {"embedding_length", HP(n_embd), KEY_REQUIRED, 0, KEY_CONST, 65536, 0},
    {"block_count", HP(n_layer), KEY_REQUIRED, 0, KEY_CONST, 1024, 0},
    {"feed_forward_length", HP(n_ff), KEY_REQUIRED, 0, KEY_CONST, 1 << 20, 0},
    {"attention.head_count", HP(n_head), KEY_REQUIRED, 0, KEY_CONST, 4096, 0},
    {"attention.head_count_kv", HP(n_head_kv), KEY_N_HEAD, 0, KEY_CONST, 4096, 0},
    {"context_length", HP(n_ctx_train), KEY_CONST, 2048, KEY_CONST, 1 << 24, 0},
    {"attention.key_length", HP(head_dim), KEY_EMBD_PER_HEAD, 0, KEY_CONST, 4096, 0},
    {"rope.dimension_count", HP(rope_dim), KEY_HEAD_DIM, 0, KEY_HEAD_DIM, 0, 0},
    {"rope.scaling.original_context_length", HP(n_ctx_orig), KEY_CTX_TRAIN, 0, KEY_CONST, 1 << 24, ARCH_LONG_ROPE},
};
const size_t arch_n_u32_keys = sizeof arch_u32_keys / sizeof *arch_u32_keys;

const arch_f32_key arch_f32_keys[] = {
    {"attention.layer_norm_rms_epsilon", HP(rms_eps), 1e-5f, 0.0f, 1.0f, 0},
    {"rope.freq_base", HP(rope_base), 10000.0f, 1.0f, INFINITY, 0},
    /* Phi-3.5's long-rope scales cos and sin by it */
    {"rope.scaling.attn_factor", HP(rope_attn_factor), 1.0f, 0.0f, INFINITY, 0},
    /* the local layers' base (llama.cpp's default for both gemmas' files) */
    {"rope.freq_base_swa", HP(rope_base_swa), 10000.0f, 1.0f, INFINITY, ARCH_SLIDING_WINDOW},
    {"attn_logit_softcapping", HP(attn_softcap), 50.0f, 0.0f, INFINITY, ARCH_SOFTCAP},
    {"final_logit_softcapping", HP(final_softcap), 30.0f, 0.0f, INFINITY, ARCH_SOFTCAP},
};
const size_t arch_n_f32_keys = sizeof arch_f32_keys / sizeof *arch_f32_keys;
#undef HP

#define M(f) offsetof(model, f)
const arch_tensor arch_global_tensors[] = {
    {"token_embd.weight", true, DIM_EMBD, DIM_VOCAB, M(tok_embd), 0, 0, NEED_REQUIRED, 0},
    {"output_norm.weight", false, DIM_EMBD, 0, M(output_norm), 0, 0, NEED_REQUIRED, 0},
    {"output.weight", true, DIM_EMBD, DIM_VOCAB, M(output), 0, 0, NEED_UNLESS_FLAG, ARCH_TIED_EMBD},
    /* llama-3's frequency factors */
    {"rope_freqs.weight", false, DIM_ROPE_HALF, 0, M(rope_freqs), 0, 0, NEED_OPTIONAL, 0},
    {"rope_factors_long.weight", false, DIM_ROPE_HALF, 0, M(rope_long), ARCH_LONG_ROPE, 0, NEED_OPTIONAL, 0},
    {"rope_factors_short.weight", false, DIM_ROPE_HALF, 0, M(rope_short), ARCH_LONG_ROPE, 0, NEED_OPTIONAL, 0},
};
const size_t arch_n_global_tensors = sizeof arch_global_tensors / sizeof *arch_global_tensors;
#undef M

#define L(f) offsetof(model_layer, f)
const arch_tensor arch_layer_tensors[] = {
    {"attn_norm.weight", false, DIM_EMBD, 0, L(attn_norm), 0, 0, NEED_REQUIRED, 0},
    {"ffn_norm.weight", false, DIM_EMBD, 0, L(ffn_norm), 0, 0, NEED_REQUIRED, 0},
    {"attn_output.weight", true, DIM_Q, DIM_EMBD, L(wo), 0, 0, NEED_REQUIRED, 0},
    {"ffn_down.weight", true, DIM_FF, DIM_EMBD, L(down), 0, 0, NEED_REQUIRED, 0},
    {"attn_qkv.weight", true, DIM_EMBD, DIM_QKV, L(qkv[0]), ARCH_FUSED_QKV, 0, NEED_REQUIRED, 0},
    {"ffn_up.weight", true, DIM_EMBD, DIM_FF2, L(gate_up[0]), ARCH_FUSED_GATE_UP, 0, NEED_REQUIRED, 0},
    {"attn_q.weight", true, DIM_EMBD, DIM_Q, L(qkv[0]), 0, ARCH_FUSED_QKV, NEED_REQUIRED, 0},
    {"attn_k.weight", true, DIM_EMBD, DIM_KV, L(qkv[1]), 0, ARCH_FUSED_QKV, NEED_REQUIRED, 0},
    {"attn_v.weight", true, DIM_EMBD, DIM_KV, L(qkv[2]), 0, ARCH_FUSED_QKV, NEED_REQUIRED, 0},
    {"ffn_gate.weight", true, DIM_EMBD, DIM_FF, L(gate_up[0]), 0, ARCH_FUSED_GATE_UP, NEED_REQUIRED, 0},
    {"ffn_up.weight", true, DIM_EMBD, DIM_FF, L(gate_up[1]), 0, ARCH_FUSED_GATE_UP, NEED_REQUIRED, 0},
    {"attn_q.bias", false, DIM_Q, 0, L(qkv_bias[0]), 0, ARCH_FUSED_QKV, NEED_IF_FLAG, ARCH_QKV_BIAS},
    {"attn_k.bias", false, DIM_KV, 0, L(qkv_bias[1]), 0, ARCH_FUSED_QKV, NEED_IF_FLAG, ARCH_QKV_BIAS},
    {"attn_v.bias", false, DIM_KV, 0, L(qkv_bias[2]), 0, ARCH_FUSED_QKV, NEED_IF_FLAG, ARCH_QKV_BIAS},
    {"attn_q_norm.weight", false, DIM_HEAD, 0, L(q_norm), ARCH_QK_NORM, 0, NEED_REQUIRED, 0},
    {"attn_k_norm.weight", false, DIM_HEAD, 0, L(k_norm), ARCH_QK_NORM, 0, NEED_REQUIRED, 0},
    {"post_attention_norm.weight", false, DIM_EMBD, 0, L(attn_post_norm), ARCH_POST_NORMS, 0, NEED_REQUIRED, 0},
    {"post_ffw_norm.weight", false, DIM_EMBD, 0, L(ffn_post_norm), ARCH_POST_NORMS, 0, NEED_REQUIRED, 0},
};
const size_t arch_n_layer_tensors = sizeof arch_layer_tensors / sizeof *arch_layer_tensors;
#undef L

const arch_desc *arch_find(const char *name) {
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        if (strcmp(rows[i].name, name) == 0) return &rows[i];
    return NULL;
}

const arch_desc *arch_row(size_t i) { return i < sizeof rows / sizeof *rows ? &rows[i] : NULL; }

void arch_missing(const arch_desc *d, unsigned runs, char *buf, size_t size) {
    static const struct {
        unsigned flag;
        const char *name;
    } ops[] = {{ARCH_QK_NORM, "QK-norm"},
               {ARCH_POST_NORMS, "post-attention/FFN norms"},
               {ARCH_EMBD_SCALE, "embedding scale"},
               {ARCH_SLIDING_WINDOW, "sliding-window attention"},
               {ARCH_SOFTCAP, "logit soft-capping"},
               {ARCH_ROPE_SKIP, "layers without RoPE"}};
    const size_t n_ops = sizeof ops / sizeof *ops;
    size_t at = 0;
    unsigned missing = d->flags & ~runs, unnamed = missing;
    if (!size) return;
    buf[0] = 0;
    for (size_t i = 0; i < n_ops; i++) unnamed &= ~ops[i].flag;
    for (size_t i = 0; i <= n_ops; i++) {
        const char *name = i < n_ops ? ((missing & ops[i].flag) ? ops[i].name : NULL) : unnamed ? "other operations" : NULL;
        if (!name) continue;
        int n = snprintf(buf + at, size - at, "%s%s", at ? ", " : "", name);
        if (n < 0 || (size_t)n >= size - at) return;
        at += (size_t)n;
    }
}

void arch_names(char *buf, size_t size) {
    size_t at = 0;
    if (!size) return;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        int n = snprintf(buf + at, size - at, "%s%s", at ? ", " : "", rows[i].name);
        if (n < 0 || (size_t)n >= size - at) return;
        at += (size_t)n;
    }
}
