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
        mv_job j = {.file = "mv_out.wgsl", .ws = {&slice}, .n_ws = 1, .xin = g->b_xn, .out = GPU_BUF_LOGITS,
                    .norm = g->b_out_norm, .out_rows = slice.slice_rows[0], .row_base = base};
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

/* The decode product of the QKV group's run of one type from matrix i on
 * (*n matrices), into its rows from row at. */
static mv_job qkv_job(const gpu_model *g, const gpu_layer *ly, const layer_groups *lg, int i, int *n, int at) {
    int rows = qkv_run(lg, i, n);
    return (mv_job){.file = "mv_qkv.wgsl", .ws = {lg->qkv[i], *n > 1 ? lg->qkv[i + 1] : NULL, *n > 2 ? lg->qkv[i + 2] : NULL},
                    .n_ws = *n, .xin = g->b_xn, .out = g->b_qkv, .aux = ly->bias, .norm = ly->attn_norm, .out_rows = rows,
                    .row_base = at};
}

/* The decode gate/up product (SwiGLU or GEGLU). */
static mv_job ffn_job(const gpu_model *g, const gpu_layer *ly, const layer_groups *lg) {
    return (mv_job){.file = "mv_swiglu.wgsl", .ws = {lg->ffn[0], lg->ffn[1]}, .n_ws = lg->n_ffn, .xin = g->b_xn,
                    .out = g->b_act, .norm = ly->ffn_norm, .out_rows = g->m->hp.n_ff};
}

/* The FFN of row 0 by the decode kernels (norm fused: xn = x * ffn_norm
 * was written, or the attention's post norm is folded into the gate/up
 * product: fold), then the next norm's input xn = x * next (or, folding, the
 * down product's output stays in b_xb for the next product's fold). */
static hearth_status decode_ffn(gpu_model *g, int L, gpu_layer *ly, const layer_groups *lg, uint32_t next,
                                const mv_job *fold, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    mv_job f = ffn_job(g, ly, lg);
    if (fold) f.fold = fold->fold;
    /* (before a post norm the next norm is post_norm's: mv_res binds the post norm, unused) */
    mv_job d = {.file = "mv_res.wgsl", .ws = {&ly->down}, .n_ws = 1, .xin = g->b_act, .out = ly->ffn_post ? g->b_xb : 0,
                .aux = ly->ffn_post ? ly->ffn_post : next, .out_rows = hp->n_embd};
    plan_fuse_q8(g, &f, &d);
    hearth_status st = k_matvec(g, L, &f, err);
    if (!st) st = k_matvec(g, L, &d, err);
    if (!st && ly->ffn_post && !fold) st = k_post_norm(g, L, true, ly->ffn_post, next, err);
    return st;
}

/* A QKV group's products, in runs of one type (fold: the post norm before
 * them folded in, as decode_ffn's). */
static hearth_status decode_qkv(gpu_model *g, int L, gpu_layer *ly, const layer_groups *lg, const mv_job *fold,
                                hearth_error *err) {
    hearth_status st = HEARTH_OK;
    for (int i = 0, n = 0, at = 0; !st && i < lg->n_qkv; i += n) {
        mv_job j = qkv_job(g, ly, lg, i, &n, at);
        if (fold) j.fold = fold->fold;
        st = k_matvec(g, L, &j, err);
        at += j.out_rows;
    }
    return st;
}

/* Whether the decode list folds each post norm into the product after it
 * (post_norm_in.wgsl: a dispatch fewer per post norm): where every layer
 * has both (the residual then moves b_x -> b_x2 at each FFN and back at
 * the next layer's QKV), the products run in integers with 256 threads
 * (the post norm's own sums, in its order: the same bits as unfolded) and
 * their bindings fit. The last layer keeps its post norms (the head reads
 * b_x and xn). */
static bool fold_fits(const gpu_model *g, const mv_job *j, int binds) {
    bool q8;
    int wg, tpr, R, slices = 0;
    plan_mv_shape(g, j, &q8, &wg, &tpr, &R);
    for (int k = 0; k < j->n_ws; k++) slices += j->ws[k]->n_slices;
    return q8 && wg == 256 && binds + slices <= g->lim.max_storage_buffers;
}

static bool fold_post_norms(const gpu_model *g) {
    /* (not in exact mode: the folded input is (x' * nw) * scale, where the
     * CPU path's rmsnorm makes (x' * scale) * nw) */
    if (g->opt.no_fold || g->opt.exact_attention || !g->b_x2) return false;
    for (int il = 0; il < g->m->hp.n_layer; il++) {
        gpu_layer *ly = &g->layers[il];
        if (!ly->attn_post || !ly->ffn_post) return false;
        layer_groups lg = groups_of(ly);
        /* bindings besides the weights: x, xb, pw, nw, xo, then bias and outv (QKV) or act (gate/up) */
        for (int i = 0, n = 0; i < lg.n_qkv; i += n) {
            mv_job j = qkv_job(g, ly, &lg, i, &n, 0);
            if (!fold_fits(g, &j, 7)) return false;
        }
        mv_job f = ffn_job(g, ly, &lg);
        if (!fold_fits(g, &f, 6)) return false;
    }
    return true;
}

hearth_status plan_build_decode(gpu_model *g, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    const int L = GPU_LIST_DECODE;
    const bool fold = fold_post_norms(g);
    hearth_status st = k_embed(g, L, true, err);
    for (int il = 0; !st && il < hp->n_layer; il++) {
        gpu_layer *ly = &g->layers[il];
        layer_groups lg = groups_of(ly);
        const bool last = il == hp->n_layer - 1;
        /* folding: the last layer's FFN post norm is in b_xb, the residual in b_x2 */
        mv_job qkv_fold = {.fold = {g->b_x2, g->b_x, il ? g->layers[il - 1].ffn_post : 0, ly->attn_norm}};
        st = decode_qkv(g, L, ly, &lg, fold && il ? &qkv_fold : NULL, err);
        if (!st && g->opt.exact_attention) st = k_attention(g, L, "attn_decode.wgsl", il, err);
        else if (!st && !g->split) st = k_attention(g, L, "attn_one.wgsl", il, err);
        else if (!st) {
            st = k_attention(g, L, "attn_split.wgsl", il, err);
            if (!st) st = k_combine(g, L, err);
        }
        /* a branch with a norm of its own (attn_post, ffn_post) writes b_xb,
         * which post_norm.wgsl norms and adds (or the next product, folding) */
        if (!st) {
            mv_job o = {.file = "mv_res.wgsl", .ws = {&ly->wo}, .n_ws = 1, .xin = g->b_attn, .out = ly->attn_post ? g->b_xb : 0,
                        .aux = ly->attn_post ? ly->attn_post : ly->ffn_norm, .out_rows = hp->n_embd};
            st = k_matvec(g, L, &o, err);
        }
        mv_job ffn_fold = {.fold = {g->b_x, g->b_x2, ly->attn_post, ly->ffn_norm}};
        if (!st && ly->attn_post && !(fold && !last)) st = k_post_norm(g, L, true, ly->attn_post, ly->ffn_norm, err);
        uint32_t next = !last ? g->layers[il + 1].attn_norm : g->b_out_norm;
        if (!st) st = decode_ffn(g, L, ly, &lg, next, fold && !last ? &ffn_fold : NULL, err);
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
            if (!st && L == GPU_LIST_PREFILL_LAST) st = decode_ffn(g, L, ly, &lg, g->b_out_norm, NULL, err);
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
