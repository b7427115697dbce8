/* The GPU plan's buffers: activations, the KV cache, norms and biases,
 * the RoPE table, and weight matrices in slices, uploaded in pieces by
 * gpu_model_upload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ggml_types.h"
#include "gpu/plan_internal.h"
#include "gpu/weights.h"

/* ---- buffers ---- */

static hearth_status make_buffer(gpu_model *g, uint32_t id, uint64_t size, gpu_buffer_usage usage, const char *what,
                                 hearth_error *err) {
    size = (size + 15) & ~(uint64_t)15;
    if (!size) size = 16;
    double limit = usage == GPU_BUFFER_STORAGE && g->lim.max_storage_binding < g->lim.max_buffer
                       ? g->lim.max_storage_binding
                       : g->lim.max_buffer;
    if ((double)size > limit)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "the GPU backend needs a buffer of %.1f MB for %s, more than this GPU allows (%.1f MB); "
                           "use a smaller context or the CPU backend",
                           size / 1e6, what, limit / 1e6);
    g->bytes += size;
    return g->gh->create_buffer(g->gh->ctx, id, size, usage, err);
}

static hearth_status new_buffer(gpu_model *g, uint64_t size, const char *what, uint32_t *id, hearth_error *err) {
    *id = g->next_buf++;
    return make_buffer(g, *id, size, GPU_BUFFER_STORAGE, what, err);
}

static hearth_status vector_buffer(gpu_model *g, const float *v, int n, const char *what, uint32_t *id,
                                   hearth_error *err) {
    hearth_status st = new_buffer(g, (uint64_t)n * 4, what, id, err);
    if (!st && v) st = g->gh->write_buffer(g->gh->ctx, *id, 0, v, (size_t)n * 4, err);
    return st;
}

/* A matrix in row slices no larger than the adapter lets one binding be. */
static hearth_status weight_setup(gpu_model *g, const weight *w, gpu_weight *gw, hearth_error *err) {
    const char *name = w->src ? w->src->name.data : "?";
    if (!gpu_type_supported(w->type)) {
        char list[160];
        ggml_type_list(true, list, sizeof list);
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "tensor %s has type %s, which the GPU backend cannot run (it runs %s); use the CPU backend",
                           name, ggml_type_name(w->type), list);
    }
    const int block = gpu_type_block(w->type);
    if (w->cols % block)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED, "tensor %s has rows of %d values, not a multiple of %d", name,
                           w->cols, block);
    *gw = (gpu_weight){.t = w->src, .type = w->type, .rows = w->rows, .cols = w->cols};
    double limit = g->lim.max_storage_binding < g->lim.max_buffer ? g->lim.max_storage_binding : g->lim.max_buffer;
    /* a row's bytes with a pair's padding; slices of even rows (row groups of 2) */
    uint64_t row_bound = gpu_blocks_bytes(w->type, (uint64_t)(w->cols / block) + 1);
    int64_t per_slice = (int64_t)(limit / (double)row_bound) & ~(int64_t)1;
    if (per_slice < 2)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED, "tensor %s: one row is larger than a GPU buffer may be", name);
    for (int done = 0; done < w->rows;) {
        if (gw->n_slices == MAX_SLICES)
            return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                               "tensor %s needs more than %d GPU buffers at this GPU's binding size limit (%.0f MB)",
                               name, MAX_SLICES, limit / 1e6);
        int rows = w->rows - done < per_slice ? w->rows - done : (int)per_slice;
        int s = gw->n_slices++;
        gw->slice_rows[s] = rows;
        hearth_status st = new_buffer(g, gpu_blocks_bytes(w->type, (uint64_t)rows * (w->cols / block)), name,
                                      &gw->buf[s], err);
        if (st) return st;
        done += rows;
    }
    if (g->n_upl == g->cap_upl) {
        int cap = g->cap_upl ? 2 * g->cap_upl : 64;
        gpu_weight **p = realloc(g->upl, (size_t)cap * sizeof *p);
        if (!p) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        g->upl = p;
        g->cap_upl = cap;
    }
    g->upl[g->n_upl++] = gw;
    g->upl_left += w->src ? w->src->size : 0;
    uint64_t raw_row = 0;
    ggml_row_bytes(w->type, (uint64_t)w->cols, &raw_row);
    if (2 * raw_row > g->scratch_bytes) g->scratch_bytes = (size_t)(2 * raw_row);
    return HEARTH_OK;
}

/* The whole context's RoPE table, as the CPU builds its rows (local: the
 * sliding-window layers'). */
static hearth_status rope_table(gpu_model *g, bool local, uint32_t *id, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    size_t n = (size_t)g->n_ctx * (size_t)hp->rope_dim;
    float *cs = malloc(n * sizeof *cs);
    if (!cs) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory for the RoPE table");
    model_rope_table(g->m, g->n_ctx, local, 0, g->n_ctx, cs);
    hearth_status st = vector_buffer(g, cs, (int)n, "the RoPE table", id, err);
    free(cs);
    return st;
}

/* [q | k | v] biases in one buffer (a missing one as zeros), or the zeros. */
static hearth_status qkv_bias(gpu_model *g, const model_layer *ml, gpu_layer *ly, hearth_error *err) {
    if (!ml->qkv_bias[0] && !ml->qkv_bias[1] && !ml->qkv_bias[2]) {
        ly->bias = g->b_zero;
        return HEARTH_OK;
    }
    float *b = calloc((size_t)g->qkv_dim, sizeof *b);
    if (!b) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    const int at[3] = {0, g->q_dim, g->q_dim + g->kv_dim}, len[3] = {g->q_dim, g->kv_dim, g->kv_dim};
    for (int i = 0; i < 3; i++)
        if (ml->qkv_bias[i]) memcpy(b + at[i], ml->qkv_bias[i], (size_t)len[i] * sizeof *b);
    hearth_status st = vector_buffer(g, b, g->qkv_dim, "a bias", &ly->bias, err);
    free(b);
    return st;
}

hearth_status plan_create_buffers(gpu_model *g, hearth_error *err) {
    const model *m = g->m;
    const model_hparams *hp = &m->hp;
    uint64_t B = (uint64_t)g->batch;
    int widest = hp->n_ff > g->qkv_dim ? hp->n_ff : g->qkv_dim;
    hearth_status st = make_buffer(g, GPU_BUF_STEP, sizeof(gpu_step), GPU_BUFFER_UNIFORM, "the step", err);
    if (!st) st = make_buffer(g, GPU_BUF_TOKENS, B * 4, GPU_BUFFER_STORAGE, "tokens", err);
    if (!st) st = make_buffer(g, GPU_BUF_RESULT, 16, GPU_BUFFER_STORAGE, "the sampled token", err);
    if (!st) st = make_buffer(g, GPU_BUF_LOGITS, (uint64_t)hp->n_vocab * 4, GPU_BUFFER_STORAGE, "logits", err);
    if (!st) st = new_buffer(g, B * hp->n_embd * 4, "activations", &g->b_x, err);
    if (!st) st = new_buffer(g, B * hp->n_embd * 4, "activations", &g->b_xb, err);
    if (!st) st = new_buffer(g, (uint64_t)hp->n_embd * 4, "activations", &g->b_xn, err);
    if (!st && m->layers[0].attn_post_norm) st = new_buffer(g, (uint64_t)hp->n_embd * 4, "activations", &g->b_x2, err);
    if (!st) st = new_buffer(g, B * g->qkv_dim * 4, "activations", &g->b_qkv, err);
    if (!st) st = new_buffer(g, B * g->q_dim * 4, "activations", &g->b_attn, err);
    if (!st) st = new_buffer(g, B * hp->n_ff * 4, "activations", &g->b_act, err);
    if (!st) st = new_buffer(g, (uint64_t)g->n_chunks * CAND_STRIDE * 8, "sampling", &g->b_cands, err);
    if (!st) st = new_buffer(g, ((uint64_t)hp->n_vocab + 31) / 32 * 4, "the grammar's mask", &g->b_mask, err);
    int widest_in = hp->n_ff > g->q_dim ? hp->n_ff : g->q_dim;
    if (hp->n_embd > widest_in) widest_in = hp->n_embd;
    if (!st) st = new_buffer(g, B * widest_in, "activations", &g->b_xq, err);
    if (!st) st = new_buffer(g, B * (widest_in / GPU_Q8_BLOCK) * 8, "activations", &g->b_xd, err);
    if (!st) st = new_buffer(g, (uint64_t)hp->n_head * (g->split ? g->split : 1) * (hp->head_dim + 2) * 4, "attention", &g->b_part, err);
    if (hp->n_embd > widest) widest = hp->n_embd; /* (a product into b_xb before a post norm: zero bias) */
    if (!st) st = vector_buffer(g, NULL, widest, "zeros", &g->b_zero, err);
    if (!st) st = vector_buffer(g, m->output_norm, hp->n_embd, "a norm", &g->b_out_norm, err);
    if (!st) st = rope_table(g, false, &g->b_rope, err);
    if (!st && model_rope_local_table(m)) st = rope_table(g, true, &g->b_rope_local, err);
    if (!st) st = weight_setup(g, &m->tok_embd, &g->tok_embd, err);
    if (!st) {
        if (m->output.src == m->tok_embd.src) g->output = g->tok_embd; /* tied: the same buffers */
        else st = weight_setup(g, &m->output, &g->output, err);
    }
    uint64_t kv_bytes = (uint64_t)g->n_ctx * g->kv_dim * 2;
    for (int il = 0; !st && il < hp->n_layer; il++) {
        const model_layer *ml = &m->layers[il];
        gpu_layer *ly = &g->layers[il];
        st = vector_buffer(g, ml->attn_norm, hp->n_embd, "a norm", &ly->attn_norm, err);
        if (!st) st = vector_buffer(g, ml->ffn_norm, hp->n_embd, "a norm", &ly->ffn_norm, err);
        if (!st) st = qkv_bias(g, ml, ly, err);
        if (!st && ml->q_norm) st = vector_buffer(g, ml->q_norm, hp->head_dim, "a norm", &ly->q_norm, err);
        if (!st && ml->k_norm) st = vector_buffer(g, ml->k_norm, hp->head_dim, "a norm", &ly->k_norm, err);
        if (!st && ml->attn_post_norm) st = vector_buffer(g, ml->attn_post_norm, hp->n_embd, "a norm", &ly->attn_post, err);
        if (!st && ml->ffn_post_norm) st = vector_buffer(g, ml->ffn_post_norm, hp->n_embd, "a norm", &ly->ffn_post, err);
        ly->rope = ml->local && g->b_rope_local ? g->b_rope_local : g->b_rope;
        if (!st) st = new_buffer(g, kv_bytes, "the KV cache", &ly->k, err);
        if (!st) st = new_buffer(g, kv_bytes, "the KV cache", &ly->v, err);
        ly->n_qkv = ml->n_qkv;
        ly->n_gate_up = ml->n_gate_up;
        for (int i = 0; !st && i < ml->n_qkv; i++) st = weight_setup(g, &ml->qkv[i], &ly->qkv[i], err);
        for (int i = 0; !st && i < ml->n_gate_up; i++) st = weight_setup(g, &ml->gate_up[i], &ly->gate_up[i], err);
        if (!st) st = weight_setup(g, &ml->wo, &ly->wo, err);
        if (!st) st = weight_setup(g, &ml->down, &ly->down, err);
    }
    return st;
}

hearth_status gpu_model_upload(gpu_model *g, uint64_t budget, uint64_t *left, hearth_error *err) {
    uint64_t done = 0;
    while (g->upl_i < g->n_upl && done < budget) {
        gpu_weight *w = g->upl[g->upl_i];
        int bpr = w->cols / gpu_type_block(w->type), rows = w->slice_rows[g->upl_slice];
        uint64_t raw_row = 0;
        ggml_row_bytes(w->type, (uint64_t)w->cols, &raw_row);
        int n = (int)(g->scratch_bytes / raw_row);
        if (n >= rows - g->upl_row) n = rows - g->upl_row;
        else if (gpu_type_pairs(w->type)) n &= ~1; /* chunks start on an even block: whole pairs */
        int first = g->upl_row;
        for (int s = 0; s < g->upl_slice; s++) first += w->slice_rows[s];
        hearth_status st = g->host->read(g->host->ctx, w->t->part, w->t->offset + (uint64_t)first * raw_row,
                                         g->scratch, (size_t)n * raw_row, err);
        if (st) return st;
        size_t len = gpu_repack(w->type, g->scratch, (size_t)n * bpr, g->packed);
        uint64_t at = gpu_blocks_bytes(w->type, (uint64_t)g->upl_row * bpr);
        st = g->gh->write_buffer(g->gh->ctx, w->buf[g->upl_slice], at, g->packed, len, err);
        if (st) return st;
        done += (uint64_t)n * raw_row;
        g->upl_left -= (uint64_t)n * raw_row < g->upl_left ? (uint64_t)n * raw_row : g->upl_left;
        g->upl_row += n;
        if (g->upl_row == rows) {
            g->upl_row = 0;
            if (++g->upl_slice == w->n_slices) {
                g->upl_slice = 0;
                g->upl_i++;
            }
        }
    }
    if (g->upl_i == g->n_upl) g->upl_left = 0;
    *left = g->upl_left;
    return HEARTH_OK;
}
