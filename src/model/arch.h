/* Architecture descriptions: one row per architecture (arch.c) says what
 * its GGUF holds and what its layers do. model.c reads hyper-parameters
 * and binds tensors by walking the description; the backends (forward.c,
 * gpu/) only read the flags it leaves in model_hparams and the uniform
 * model_layer, so neither names an architecture. Adding an architecture
 * whose operations hearth already runs is one row in arch.c. */
#ifndef HEARTH_ARCH_H
#define HEARTH_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Row ids (arch.c's rows), for tools that print them. */
typedef enum { ARCH_LLAMA, ARCH_PHI3, ARCH_QWEN2, ARCH_QWEN3, ARCH_GEMMA3, ARCH_GEMMA2, ARCH_SMOLLM3 } model_arch;

/* What a row asks of the loader and of the layer recipe (model_hparams.flags). */
enum arch_flag {
    ARCH_FUSED_QKV = 1u << 0,     /* one attn_qkv matrix of [q | k | v] rows (phi3) */
    ARCH_FUSED_GATE_UP = 1u << 1, /* ffn_up holds [gate | up], 2 x n_ff rows (phi3) */
    ARCH_QKV_BIAS = 1u << 2,      /* q, k, v biases required (qwen2); else optional, none when fused */
    ARCH_LONG_ROPE = 1u << 3,     /* rope_factors_long/short, rope.scaling.original_context_length (phi3) */
    ARCH_TIED_EMBD = 1u << 4,     /* output.weight may be absent: logits from token_embd */
    ARCH_Q_PRESCALE = 1u << 5,    /* Q is multiplied by 1/sqrt(head_dim) after RoPE and the scores by 1,
                                   * as llama.cpp's graph does (phi3, gemma): other bits than scaling the scores */
    ARCH_QK_NORM = 1u << 8,         /* RMSNorm of each q and k head before RoPE (qwen3, gemma3) */
    ARCH_POST_NORMS = 1u << 9,      /* norms of the attention's and the FFN's outputs before each residual (gemma2/3) */
    ARCH_EMBD_SCALE = 1u << 10,     /* embeddings times sqrt(n_embd) (gemma) */
    ARCH_SLIDING_WINDOW = 1u << 11, /* local attention on a pattern of layers, with their own RoPE base (gemma2/3) */
    ARCH_SOFTCAP = 1u << 12,        /* attention and final logit soft-capping (gemma2) */
    ARCH_ROPE_SKIP = 1u << 13,      /* no RoPE every n-th layer (smollm3) */
};
/* The flags the CPU backend implements (model_load refuses a row with
 * others), and those the WebGPU backend does (model_arch_runs_on). */
#define ARCH_RUNS                                                                                                 \
    (ARCH_FUSED_QKV | ARCH_FUSED_GATE_UP | ARCH_QKV_BIAS | ARCH_LONG_ROPE | ARCH_TIED_EMBD | ARCH_Q_PRESCALE |     \
     ARCH_QK_NORM | ARCH_POST_NORMS | ARCH_EMBD_SCALE | ARCH_SLIDING_WINDOW | ARCH_SOFTCAP | ARCH_ROPE_SKIP)
#define ARCH_RUNS_GPU                                                                                             \
    (ARCH_FUSED_QKV | ARCH_FUSED_GATE_UP | ARCH_QKV_BIAS | ARCH_LONG_ROPE | ARCH_TIED_EMBD | ARCH_Q_PRESCALE |     \
     ARCH_QK_NORM | ARCH_POST_NORMS | ARCH_EMBD_SCALE | ARCH_SLIDING_WINDOW | ARCH_SOFTCAP | ARCH_ROPE_SKIP)

/* Which dimensions RoPE rotates together. GGUF's llama weights are
 * permuted for interleaved pairs (2i, 2i+1); the others keep NeoX halves
 * (i, i + rope_dim/2). Partial rotary is rope.dimension_count < head size. */
typedef enum { ROPE_INTERLEAVED, ROPE_NEOX } rope_style;
/* The FFN's gate: silu(gate) * up, or gelu(gate) * up (GELU's tanh form, gemma). */
typedef enum { FFN_SWIGLU, FFN_GEGLU } ffn_activation;

/* Sizes a shape rule names, from the hyper-parameters. */
typedef enum {
    DIM_EMBD,      /* n_embd */
    DIM_Q,         /* n_head x head_dim */
    DIM_KV,        /* n_head_kv x head_dim */
    DIM_QKV,       /* q + 2 kv */
    DIM_FF,        /* n_ff */
    DIM_FF2,       /* 2 n_ff */
    DIM_HEAD,      /* head_dim */
    DIM_VOCAB,     /* rows of token_embd */
    DIM_ROPE_HALF, /* rope_dim / 2 */
} arch_dim;

typedef enum {
    NEED_REQUIRED,
    NEED_OPTIONAL,
    NEED_IF_FLAG,     /* required when the row has `flag`, else optional */
    NEED_UNLESS_FLAG, /* required unless the row has `flag`, then optional */
} arch_need;

/* A tensor: its GGUF name (after "blk.N." for layer tensors), a matrix of
 * rows x cols or a vector of cols, where it binds (offsetof into model_layer
 * or model: a weight, or a const float * for vectors, converted to f32),
 * and when it is read: for rows with every flag of only_if and none of not_if. */
typedef struct {
    const char *name;
    bool matrix;
    arch_dim cols, rows;
    size_t field;
    unsigned only_if, not_if;
    arch_need need;
    unsigned flag;
} arch_tensor;

/* Integer hyper-parameter keys (after "<architecture>."): default and upper bound. */
typedef enum {
    KEY_REQUIRED,
    KEY_CONST,          /* value */
    KEY_N_HEAD,         /* attention.head_count */
    KEY_EMBD_PER_HEAD,  /* n_embd / n_head */
    KEY_HEAD_DIM,       /* head_dim */
    KEY_CTX_TRAIN,      /* context_length */
} arch_key_value;

typedef struct {
    const char *key;
    size_t field; /* offsetof(model_hparams, an int) */
    arch_key_value def;
    uint32_t value;
    arch_key_value max_kind; /* KEY_CONST: max, KEY_HEAD_DIM: at most the head size */
    uint32_t max;
    unsigned only_if;
} arch_u32_key;

/* Float keys: default, and the open range (lo, hi) a value must be in;
 * read by rows with every flag of only_if (the others get the default). */
typedef struct {
    const char *key;
    size_t field; /* offsetof(model_hparams, a float) */
    float def, lo, hi;
    unsigned only_if;
} arch_f32_key;

typedef struct {
    model_arch id;
    const char *name; /* general.architecture */
    unsigned flags;   /* arch_flag */
    rope_style rope;
    ffn_activation ffn;
    /* ARCH_SLIDING_WINDOW: the window when attention.sliding_window is
     * absent (0: no window), and the pattern when
     * attention.sliding_window_pattern is: every n-th layer is global */
    uint32_t swa_default, swa_pattern;
    /* ARCH_ROPE_SKIP: layer il has no RoPE when (il + 1) % rope_skip == 0
     * (llama.cpp fixes it per architecture; no GGUF key holds it) */
    uint32_t rope_skip;
} arch_desc;

/* The row of general.architecture, or NULL. */
const arch_desc *arch_find(const char *name);
/* Row i, NULL past the end; arch_names lists them ("llama, phi3, qwen2"). */
const arch_desc *arch_row(size_t i);
void arch_names(char *buf, size_t size);
/* What of a row a backend that runs the flags `runs` does not run
 * ("QK-norm, soft-capping"), empty when it runs all of it. */
void arch_missing(const arch_desc *d, unsigned runs, char *buf, size_t size);

/* The catalogues the loader walks for every row, reading the entries the
 * row's flags select: hyper-parameters in order (later defaults use
 * earlier values), global tensors, then each layer's tensors. */
extern const arch_u32_key arch_u32_keys[];
extern const size_t arch_n_u32_keys;
extern const arch_f32_key arch_f32_keys[];
extern const size_t arch_n_f32_keys;
extern const arch_tensor arch_global_tensors[];
extern const size_t arch_n_global_tensors;
extern const arch_tensor arch_layer_tensors[];
extern const size_t arch_n_layer_tensors;

#endif
