/* The forward pass as dispatch lists: decode (one token), prefill, and
 * the head that turns the last row into a sampled token. Every layer runs
 * the same recipe (model.h's model_layer) for every architecture. */
#include "gpu/plan_internal.h"
#include "gpu/weights.h"

/* Logits of the token in row 0 (x, xn) and the sampled token. */
static hearth_status build_head(gpu_model *g, int list, hearth_error *err) {
    hearth_status st = HEARTH_OK;
    int base = 0;
    for (int s = 0; !st && s < g->output.n_slices; s++) {
        gpu_weight slice = g->output;
        slice.n_slices = 1;
        slice.buf[0] = g->output.buf[s];
        slice.slice_rows[0] = g->output.slice_rows[s];
        mv_job j = {"mv_out.wgsl", {&slice}, 1, g->b_xn, GPU_BUF_LOGITS, 0, slice.slice_rows[0], base, false, false};
        st = k_matvec(g, list, &j, err);
        base += slice.slice_rows[0];
    }
    if (!st) st = k_simple(g, list, "sample_a.wgsl", (uint32_t)g->n_chunks, err);
    if (!st) st = k_simple(g, list, "sample_b.wgsl", 1, err);
    return st;
}

/* A layer's product groups as the kernels take them: its QKV and gate/up
 * matrices (fused or not), in output order. */
typedef struct {
    gpu_weight *qkv[3], *ffn[2];
    int n_qkv, n_ffn;
} layer_groups;

/* Rows of the QKV group from matrix i on that have its type (n of them):
 * llama-quantize's K-quant mixes give attn_v more bits than attn_q and
 * attn_k, and a kernel runs one type, so such a group is multiplied in runs
 * of one type, each into its rows of the output. */
static int qkv_run(const layer_groups *lg, int i, int *n) {
    int rows = lg->qkv[i]->rows;
    for (*n = 1; i + *n < lg->n_qkv && lg->qkv[i + *n]->type == lg->qkv[i]->type; ++*n) rows += lg->qkv[i + *n]->rows;
    return rows;
}

static layer_groups groups_of(gpu_layer *ly) {
    layer_groups lg = {.n_qkv = ly->n_qkv, .n_ffn = ly->n_gate_up};
    for (int i = 0; i < ly->n_qkv; i++) lg.qkv[i] = &ly->qkv[i];
    for (int i = 0; i < ly->n_gate_up; i++) lg.ffn[i] = &ly->gate_up[i];
    return lg;
}

/* The FFN of row 0 by the decode kernels (norm fused: xn = x * ffn_norm
 * was written), then the next norm's input xn = x * next. */
static hearth_status decode_ffn(gpu_model *g, int L, gpu_layer *ly, const layer_groups *lg, uint32_t next,
                                hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    mv_job f = {"mv_swiglu.wgsl", {lg->ffn[0], lg->ffn[1]}, lg->n_ffn, g->b_xn, g->b_act, 0, hp->n_ff, 0, false, false};
    /* (before a post norm the next norm is post_norm's: mv_res binds the post norm, unused) */
    mv_job d = {"mv_res.wgsl", {&ly->down}, 1, g->b_act, ly->ffn_post ? g->b_xb : 0, ly->ffn_post ? ly->ffn_post : next,
                hp->n_embd, 0, false, false};
    plan_fuse_q8(g, &f, &d);
    hearth_status st = k_matvec(g, L, &f, err);
    if (!st) st = k_matvec(g, L, &d, err);
    if (!st && ly->ffn_post) st = k_post_norm(g, L, true, ly->ffn_post, next, err);
    return st;
}

hearth_status plan_build_decode(gpu_model *g, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    const int L = GPU_LIST_DECODE;
    hearth_status st = k_embed(g, L, true, err);
    for (int il = 0; !st && il < hp->n_layer; il++) {
        gpu_layer *ly = &g->layers[il];
        layer_groups lg = groups_of(ly);
        for (int i = 0, n = 0, at = 0; !st && i < lg.n_qkv; i += n) {
            int rows = qkv_run(&lg, i, &n);
            mv_job j = {"mv_qkv.wgsl", {lg.qkv[i], n > 1 ? lg.qkv[i + 1] : NULL, n > 2 ? lg.qkv[i + 2] : NULL}, n, g->b_xn, g->b_qkv, ly->bias, rows, at, false, false};
            st = k_matvec(g, L, &j, err);
            at += rows;
        }
        if (!st && g->opt.exact_attention) st = k_attention(g, L, "attn_decode.wgsl", il, err);
        else if (!st && !g->split) st = k_attention(g, L, "attn_one.wgsl", il, err);
        else if (!st) {
            st = k_attention(g, L, "attn_split.wgsl", il, err);
            if (!st) st = k_combine(g, L, err);
        }
        /* a branch with a norm of its own (attn_post, ffn_post) writes b_xb,
         * which post_norm.wgsl norms and adds */
        if (!st) {
            mv_job o = {"mv_res.wgsl", {&ly->wo}, 1, g->b_attn, ly->attn_post ? g->b_xb : 0, ly->attn_post ? ly->attn_post : ly->ffn_norm,
                        hp->n_embd, 0, false, false};
            st = k_matvec(g, L, &o, err);
        }
        if (!st && ly->attn_post) st = k_post_norm(g, L, true, ly->attn_post, ly->ffn_norm, err);
        uint32_t next = il + 1 < hp->n_layer ? g->layers[il + 1].attn_norm : g->b_out_norm;
        if (!st) st = decode_ffn(g, L, ly, &lg, next, err);
    }
    if (!st) st = build_head(g, L, err);
    return st;
}

hearth_status plan_build_prefill(gpu_model *g, int L, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    hearth_status st = k_embed(g, L, false, err);
    for (int il = 0; !st && il < hp->n_layer; il++) {
        gpu_layer *ly = &g->layers[il];
        layer_groups lg = groups_of(ly);
        /* xin b_xq: the norm wrote the integer product's Q8 input itself
         * (where the group is of one type; runs of several types each
         * quantize the norm's output as their type rounds it) */
        int n_first = 0;
        qkv_run(&lg, 0, &n_first);
        bool q8 = n_first == lg.n_qkv && plan_integer_product(g, lg.qkv[0]);
        st = k_rmsnorm(g, L, ly->attn_norm, q8 ? gpu_type_act(lg.qkv[0]->type) : 0, err);
        for (int i = 0, n = 0, at = 0; !st && i < lg.n_qkv; i += n) {
            int rows = qkv_run(&lg, i, &n);
            st = k_matmul_at(g, L, &lg.qkv[i], n, 0, q8 ? g->b_xq : g->b_xb, g->b_qkv, rows, g->qkv_dim, at, ly->bias, err);
            at += rows;
        }
        if (!st) st = k_attention(g, L, "rope_kv.wgsl", il, err);
        if (!st) st = k_attention(g, L, plan_tiled_attention(g) ? "attn_tile.wgsl" : "attn_prefill.wgsl", il, err);
        gpu_weight *wo = &ly->wo, *down = &ly->down;
        /* a branch with a norm of its own: its product into b_xb, then post_norm.wgsl */
        if (!st && ly->attn_post) st = k_matmul(g, L, &wo, 1, 0, g->b_attn, g->b_xb, hp->n_embd, g->b_zero, err);
        if (!st && ly->attn_post) st = k_post_norm(g, L, false, ly->attn_post, ly->attn_post, err);
        else if (!st) st = k_matmul(g, L, &wo, 1, 1, g->b_attn, g->b_x, hp->n_embd, g->b_zero, err);
        /* After the last attention only the last row matters, as in the CPU
         * path (and llama.cpp): a chunk without logits stops here; the last
         * chunk moves its last row to row 0 and runs that row's FFN with the
         * decode kernels, as the CPU path runs it with one token. */
        if (il == hp->n_layer - 1) {
            if (!st && L == GPU_LIST_PREFILL_LAST) st = k_last_row(g, L, ly->ffn_norm, err);
            if (!st && L == GPU_LIST_PREFILL_LAST) st = decode_ffn(g, L, ly, &lg, g->b_out_norm, err);
            break;
        }
        q8 = plan_integer_product(g, lg.ffn[0]);
        if (!st) st = k_rmsnorm(g, L, ly->ffn_norm, q8 ? gpu_type_act(lg.ffn[0]->type) : 0, err);
        if (!st) st = k_matmul(g, L, lg.ffn, lg.n_ffn, 2, q8 ? g->b_xq : g->b_xb, g->b_act, hp->n_ff, g->b_zero, err);
        if (!st && ly->ffn_post) st = k_matmul(g, L, &down, 1, 0, g->b_act, g->b_xb, hp->n_embd, g->b_zero, err);
        if (!st && ly->ffn_post) st = k_post_norm(g, L, false, ly->ffn_post, ly->ffn_post, err);
        else if (!st) st = k_matmul(g, L, &down, 1, 1, g->b_act, g->b_x, hp->n_embd, g->b_zero, err);
    }
    if (!st && L == GPU_LIST_PREFILL_LAST) st = build_head(g, L, err);
    return st;
}
