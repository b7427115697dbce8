/* The GPU plan's private parts, shared by src/gpu/plan*.c. */
#ifndef HEARTH_GPU_PLAN_INTERNAL_H
#define HEARTH_GPU_PLAN_INTERNAL_H

#include "gpu/plan.h"
#include "gpu/sbuf.h"

#define MAX_SLICES 8
#define MAX_BINDS 16
#define MAX_SEGS 8
#define MV_WG 64
#define MVQ_WG 256 /* decode products in integers (rows_q.wgsl) */
#define ATTN_WG 128
#define SAMPLE_PER_T 16
#define CAND_STRIDE 64
#define ATTN_SPLIT 16 /* decode attention: workgroups per head (fast attention), unless gpu_options says */
#define ONE_CTX 2048   /* contexts up to this many positions: attention in one dispatch possible (attn_one.wgsl) */

/* A weight matrix on the GPU: row slices, each its own buffer, no larger
 * than the adapter lets one binding be. */
typedef struct {
    const gguf_tensor *t;
    uint32_t type;
    int rows, cols;
    int n_slices;
    uint32_t buf[MAX_SLICES];
    int slice_rows[MAX_SLICES];
} gpu_weight;

/* A layer's buffers, as model_layer: the QKV and gate/up groups hold one
 * fused matrix or their parts, in output order. */
typedef struct {
    uint32_t attn_norm, ffn_norm, bias, k, v;
    uint32_t q_norm, k_norm;         /* QK norms (head_dim weights each), or 0 */
    uint32_t attn_post, ffn_post;    /* the branches' own norms before the residual, or 0 */
    uint32_t rope;                   /* its RoPE table: b_rope, or the sliding-window layers' own */
    gpu_weight qkv[3], wo, gate_up[2], down;
    int n_qkv, n_gate_up;
} gpu_layer;

typedef struct {
    char *src;
    gpu_layout_entry layout[MAX_BINDS];
    int n_layout;
} pipe_entry;

struct gpu_model {
    const model *m;
    const hearth_host *host;
    const gpu_host *gh;
    gpu_limits lim;
    gpu_options opt;
    int q_dim, kv_dim, qkv_dim, n_ctx, batch, n_chunks;
    int split; /* decode attention: workgroups per head (0: one dispatch, attn_one.wgsl) */
    uint32_t next_buf;
    uint64_t bytes;
    gpu_weight tok_embd, output;
    gpu_layer *layers;
    uint32_t b_x2; /* decode with post norms folded into the next products: the other residual buffer */
    uint32_t b_mask; /* a grammar's allowed tokens, a bit each (gpu_model_write_mask, sample_a.wgsl) */
    uint32_t b_out_norm, b_rope, b_x, b_xn, b_xb, b_qkv, b_attn, b_act, b_cands, b_zero, b_part;
    uint32_t b_xq, b_xd; /* prefill: a quantized product's input as Q8 blocks (q8_act.wgsl) */
    uint32_t b_rope_local; /* the sliding-window layers' RoPE table where they have their own (model_rope_local_table), else 0 */
    pipe_entry *pipes;
    int n_pipes, cap_pipes;
    int n_dispatch[GPU_LIST_COUNT];
    /* weights still to upload: upl[upl_i], slice upl_slice, from row upl_row */
    gpu_weight **upl;
    int n_upl, cap_upl, upl_i, upl_slice, upl_row;
    uint64_t upl_left;
    uint8_t *scratch, *packed;
    size_t scratch_bytes;
};

/* ---- kernels (plan_kernel.c) ---- */

typedef struct {
    gpu_model *g;
    sbuf src;
    const char *label;
    gpu_layout_entry layout[MAX_BINDS];
    gpu_bind_entry bind[MAX_BINDS];
    int n;
    int n_storage;
    bool exactmath; /* exactmath.wgsl added (several parts of a kernel may need it) */
} kb;

enum { ROWS_NONE = 0, ROWS_FLOAT = 1, ROWS_Q8 = 2, ROWS_Q8_IN = 3 };

/* A decode matrix-vector product: file mv_qkv / mv_res / mv_swiglu / mv_out. */
typedef struct {
    const char *file;
    gpu_weight *ws[3];
    int n_ws;
    uint32_t xin, out, aux; /* aux: bias (qkv), the next norm (res); out: mv_res's output (b_xb) before a post norm, or 0 */
    uint32_t norm;          /* mv_qkv / mv_swiglu / mv_out: its norm's weights (xin = x * them), or 0 */
    int out_rows;           /* rows computed (per slice for mv_out) */
    int row_base;           /* mv_out: first row of the slice */
    bool q8_out;            /* mv_swiglu: also writes its output as Q8 blocks (b_xq / b_xd) */
    bool q8_in;             /* mv_res: its input is those blocks (written by mv_swiglu) */
    /* mv_qkv / mv_swiglu right after a branch's post norm, folded in (post_norm_in.wgsl): the
     * residual x (read), x' (written), the post norm's weights and the product's own norm's; x 0: none */
    struct {
        uint32_t x, out, pw, nw;
    } fold;
} mv_job;

/* ---- buffers and uploads (plan_upload.c) ---- */

hearth_status plan_create_buffers(gpu_model *g, hearth_error *err);

/* ---- the kernel builder (plan_kernel.c) ---- */

void kb_begin(kb *k, gpu_model *g, int wg, const char *label);
void kb_u(kb *k, const char *name, uint64_t v);
void kb_f(kb *k, const char *name, float v);
void kb_b(kb *k, const char *name, bool v);
void kb_bind(kb *k, const char *name, const char *type, gpu_bind_kind kind, uint32_t buffer);
void kb_file(kb *k, const char *name);
void kb_dot_exact(kb *k, uint32_t type);
void kb_act(kb *k, int act);
void kb_dot4(kb *k);
hearth_status kb_weights(kb *k, gpu_weight *const *ws, int n_ws, int rows_kind, hearth_error *err);
void plan_grid(uint64_t n, uint32_t *x, uint32_t *y);
hearth_status kb_dispatch(kb *k, int list, uint32_t x, uint32_t y, hearth_error *err);

/* ---- shapes (plan_shapes.c) ---- */

int plan_rows_per_wg(const int *bounds, int n);
void plan_mv_shape(const gpu_model *g, const mv_job *j, bool *q8, int *wg, int *tpr, int *R);
bool plan_integer_product(const gpu_model *g, const gpu_weight *w);
bool plan_exact_product(const gpu_model *g, uint32_t type);
void plan_fuse_q8(const gpu_model *g, mv_job *f, mv_job *d);
bool plan_tiled_attention(const gpu_model *g);

/* ---- kernels of the forward pass (plan_ops.c) ---- */

hearth_status k_embed(gpu_model *g, int list, bool decode, hearth_error *err);
hearth_status k_matvec(gpu_model *g, int list, const mv_job *j, hearth_error *err);
hearth_status k_attention(gpu_model *g, int list, const char *file, int il, hearth_error *err);
hearth_status k_combine(gpu_model *g, int list, hearth_error *err);
hearth_status k_rmsnorm(gpu_model *g, int list, uint32_t nw, int act, hearth_error *err);
hearth_status k_matmul(gpu_model *g, int list, gpu_weight *const *ws, int n_ws, int mode, uint32_t xin, uint32_t out,
                       int out_rows, uint32_t bias, hearth_error *err);
hearth_status k_matmul_at(gpu_model *g, int list, gpu_weight *const *ws, int n_ws, int mode, uint32_t xin, uint32_t out,
                          int out_rows, int outs, int row_base, uint32_t bias, hearth_error *err);
hearth_status k_simple(gpu_model *g, int list, const char *file, uint32_t x, hearth_error *err);
hearth_status k_post_norm(gpu_model *g, int list, bool decode, uint32_t pw, uint32_t nw, hearth_error *err);
hearth_status k_last_row(gpu_model *g, int list, uint32_t nw, hearth_error *err);

/* ---- dispatch lists (plan_layers.c) ---- */

hearth_status plan_build_decode(gpu_model *g, hearth_error *err);
hearth_status plan_build_prefill(gpu_model *g, int list, hearth_error *err);

#endif
