/* Model definitions: hyper-parameters and weights of the supported
 * architectures (arch.h describes them), read from GGUF metadata (never
 * from file names). */
#ifndef HEARTH_MODEL_H
#define HEARTH_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "model/arch.h"
#include "error.h"
#include "model/gguf.h"
#include "host.h"

typedef struct {
    model_arch arch;
    char arch_name[32];
    const arch_desc *desc;
    unsigned flags;        /* the row's arch_flag: what the layer recipe does */
    int n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab;
    int n_ctx_train;
    float rms_eps;
    float rope_base;
    int rope_dim;          /* rotated dimensions per head (<= head_dim) */
    bool rope_neox;        /* rotate (i, i+d/2) pairs instead of (2i, 2i+1) */
    int n_ctx_orig;        /* long-rope: original context length (else n_ctx_train) */
    float rope_attn_factor;/* long-rope: scale of cos/sin */
    float rope_freq_scale; /* rope.scaling.type linear: 1 / rope.scaling.factor (global layers); else 1 */
    int n_swa;             /* ARCH_SLIDING_WINDOW: a local layer's query at p sees keys (p - n_swa, p]; 0: none */
    float rope_base_swa;   /* ARCH_SLIDING_WINDOW: the local layers' RoPE base */
    float attn_softcap, final_softcap; /* ARCH_SOFTCAP: scores and logits become cap * tanh(x / cap) */
    float embd_scale;      /* ARCH_EMBD_SCALE: embeddings are multiplied by it (sqrt(n_embd)); else 1 */
    float q_scale;         /* ARCH_Q_PRESCALE: Q is multiplied by it after RoPE (1 / sqrt(head_dim)) */
    uint32_t file_type;
} model_hparams;

/* A matrix: rows of `cols` elements of a ggml type, contiguous. */
typedef struct {
    uint32_t type;
    const void *data;
    int rows, cols;
    uint64_t row_bytes;
    const gguf_tensor *src; /* where the bytes are in the file (a GPU backend uploads them itself) */
    bool own_copy;          /* data was read into the model's memory, not mapped: it may be repacked */
} weight;

/* One layer, the same for every architecture: norm, the QKV products
 * (+ bias), per-head Q and K norms (if any), RoPE (unless the layer has
 * none), attention (over a window on local layers), Wo, its norm (if any) +
 * residual, norm, the gate/up products, SwiGLU or GEGLU, down, its norm (if
 * any) + residual. The products that share an input form a group whose
 * outputs go side by side, as a fused matrix writes them. */
typedef struct {
    const float *attn_norm, *ffn_norm;
    weight qkv[3];            /* [q | k | v] rows: one fused matrix (n_qkv 1) or q, k, v */
    int n_qkv;
    const float *qkv_bias[3]; /* q, k, v biases, each or NULL */
    const float *q_norm, *k_norm;               /* ARCH_QK_NORM: head_dim weights, or NULL */
    const float *attn_post_norm, *ffn_post_norm; /* ARCH_POST_NORMS: n_embd weights, or NULL */
    bool local;               /* sliding-window layer: attends to hp.n_swa keys, RoPE base hp.rope_base_swa */
    bool rope;                /* false on the layers ARCH_ROPE_SKIP exempts */
    weight wo;
    weight gate_up[2];        /* [gate | up] rows: one fused matrix (n_gate_up 1) or gate, up */
    int n_gate_up;
    weight down;
} model_layer;

typedef struct model {
    model_hparams hp;
    weight tok_embd, output;
    const float *output_norm;
    const float *rope_freqs;       /* llama-3 frequency factors, head_dim/2, or NULL */
    const float *rope_long, *rope_short; /* long-rope factors (ARCH_LONG_ROPE), or NULL */
    model_layer *layers;
    uint64_t weight_bytes;

    /* Memory the model owns: converted vectors, and tensor data read through
     * the host when it could not map the file. */
    void **owned;
    int n_owned, cap_owned;
} model;

hearth_status model_load(model **out, const gguf_file *g, const hearth_host *host, hearth_error *err);
/* As model_load, but matrices are only checked, not read (data stays NULL):
 * for a backend that streams them from the file to its own memory. */
hearth_status model_load_shapes(model **out, const gguf_file *g, const hearth_host *host, hearth_error *err);
/* Lets the kernels repack the matrices held in the model's own memory into
 * layouts they multiply faster (kernels_pack_weight); type then names the
 * layout. Call once, before the first forward pass. */
struct hearth_kernels;
void model_pack_weights(model *m, const struct hearth_kernels *k);
void model_free(model *m);
/* Every matrix of the model (token_embd and output once each, even tied),
 * up to max; returns how many there are. */
int model_matrices(const model *m, const weight **out, int max);
/* The bytes of matrices one decode step reads: every layer's, the output
 * matrix, and one row of the token table (none more when it is tied). */
uint64_t model_decode_bytes(const model *m);
/* The RoPE table for a context of n_ctx positions, as ggml builds it:
 * cos and sin of rotated pair i at position pos0 + t go to
 * out[t * rope_dim + 2i] and [.. + 1], for t in [0, n_pos). n_ctx picks the
 * long-rope factors (above the original context) or the short ones; local:
 * the sliding-window layers' table (their base, no scaling). */
void model_rope_table(const model *m, int n_ctx, bool local, int pos0, int n_pos, float *out);
/* Whether the local layers need a table of their own (a base of their own). */
bool model_rope_local_table(const model *m);
/* The first key position a query at pos sees on layer ly. */
int model_first_key(const model *m, const model_layer *ly, int pos);
const char *model_arch_name(model_arch a);
/* The architecture row of general.architecture, or an error a user can act
 * on (unknown architecture, or one with parts hearth does not run yet). */
hearth_status model_arch_of(const gguf_file *g, const char *file, const arch_desc **out, hearth_error *err);
/* Whether the WebGPU backend (gpu) or the CPU runs every operation of the
 * row; an error a user can act on when not. */
hearth_status model_arch_runs_on(const arch_desc *d, bool gpu, const char *file, hearth_error *err);
/* Whether the first avail bytes of a file of file_size bytes (a download's
 * first megabytes) describe a model that backend (gpu or CPU) can run:
 * the header parses, the architecture is known, and every tensor's type has
 * that backend's kernels. On a header longer than avail it fails with
 * *need_more set. The tensor data is not looked at. */
hearth_status model_check_header(const void *data, size_t avail, uint64_t file_size, const char *name, bool gpu,
                                 bool *need_more, hearth_error *err);

#endif
