/* Builds the GPU plan of a model (see plan.h): the buffers
 * (plan_upload.c), the kernels (plan_kernel.c, plan_ops.c, shaped by
 * plan_shapes.c) and the dispatch lists of the forward pass
 * (plan_layers.c). */
#include <stdlib.h>

#include "gpu/plan_internal.h"
#include "gpu/weights.h"

hearth_status gpu_model_create(gpu_model **out, const model *m, const hearth_host *host, const gpu_host *gh,
                               const gpu_options *opt, hearth_error *err) {
    *out = NULL;
    const model_hparams *hp = &m->hp;
    if (opt->n_ctx < 1 || opt->max_batch < 1)
        return hearth_fail(err, HEARTH_E_ARG, "context and batch must be positive");
    hearth_status st = model_arch_runs_on(hp->desc, true, hp->arch_name, err);
    if (st) return st;
    if (hp->head_dim > 256 || hp->n_embd % GPU_Q8_BLOCK || hp->n_ff % GPU_Q8_BLOCK)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "the GPU backend needs heads of at most 256 and widths that are multiples of 32 "
                           "(head %d, embedding %d, feed-forward %d)",
                           hp->head_dim, hp->n_embd, hp->n_ff);
    gpu_model *g = calloc(1, sizeof *g);
    if (!g) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    g->m = m;
    g->host = host;
    g->gh = gh;
    g->opt = *opt;
    g->n_ctx = opt->n_ctx;
    g->batch = opt->max_batch < opt->n_ctx ? opt->max_batch : opt->n_ctx;
    /* prefill kernels dispatch a workgroup a token in one grid dimension */
    if (g->batch > 65535) g->batch = 65535;
    /* decode attention split over positions (16 workgroups a head, then
     * joined); one workgroup a head asked for (attn_split 1) runs in one
     * dispatch (attn_one.wgsl) where the context's scores fit in workgroup
     * memory: a dispatch fewer, but on the H100 slower (docs/benchmarks.md) */
    if (opt->attn_split == 1) g->split = g->n_ctx <= ONE_CTX ? 0 : ATTN_SPLIT;
    else g->split = opt->attn_split > 1 && opt->attn_split <= 64 ? opt->attn_split : ATTN_SPLIT;
    g->q_dim = hp->n_head * hp->head_dim;
    g->kv_dim = hp->n_head_kv * hp->head_dim;
    g->qkv_dim = g->q_dim + 2 * g->kv_dim;
    g->n_chunks = (hp->n_vocab + 256 * SAMPLE_PER_T - 1) / (256 * SAMPLE_PER_T);
    g->next_buf = GPU_BUF_FIRST_FREE;
    g->scratch_bytes = 8u << 20;
    st = gh->limits(gh->ctx, &g->lim, err);
    if (!st && g->lim.max_workgroup_storage < 32768)
        st = hearth_fail(err, HEARTH_E_UNSUPPORTED,
                         "this GPU offers %.0f bytes of workgroup memory; the GPU backend needs 32768",
                         g->lim.max_workgroup_storage);
    if (!st) {
        g->layers = calloc((size_t)hp->n_layer, sizeof *g->layers);
        if (!g->layers) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    if (!st) st = plan_create_buffers(g, err);
    if (!st) {
        g->scratch = malloc(g->scratch_bytes);
        g->packed = malloc(g->scratch_bytes + 256);
        if (!g->scratch || !g->packed) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory for the upload buffer");
    }
    if (!st) st = plan_build_decode(g, err);
    if (!st) st = plan_build_prefill(g, GPU_LIST_PREFILL, err);
    if (!st) st = plan_build_prefill(g, GPU_LIST_PREFILL_LAST, err);
    if (st) {
        gpu_model_free(g);
        return st;
    }
    *out = g;
    return HEARTH_OK;
}

void gpu_model_free(gpu_model *g) {
    if (!g) return;
    for (int i = 0; i < g->n_pipes; i++) free(g->pipes[i].src);
    free(g->pipes);
    free(g->layers);
    free(g->upl);
    free(g->scratch);
    free(g->packed);
    free(g);
}

int gpu_model_ctx(const gpu_model *g) { return g->n_ctx; }
int gpu_model_batch(const gpu_model *g) { return g->batch; }
int gpu_model_vocab(const gpu_model *g) { return g->m->hp.n_vocab; }
int gpu_model_dispatches(const gpu_model *g, int list) { return list >= 0 && list < GPU_LIST_COUNT ? g->n_dispatch[list] : 0; }
int gpu_model_pipelines(const gpu_model *g) { return g->n_pipes; }
uint64_t gpu_model_bytes(const gpu_model *g) { return g->bytes; }

hearth_status gpu_model_write_mask(gpu_model *g, const uint32_t *allowed, hearth_error *err) {
    return g->gh->write_buffer(g->gh->ctx, g->b_mask, 0, allowed, ((size_t)g->m->hp.n_vocab + 31) / 32 * 4, err);
}

hearth_status gpu_model_write_step(gpu_model *g, const gpu_step *s, const int32_t *tokens, int n_tokens,
                                   hearth_error *err) {
    hearth_status st = HEARTH_OK;
    if (n_tokens > 0) st = g->gh->write_buffer(g->gh->ctx, GPU_BUF_TOKENS, 0, tokens, (size_t)n_tokens * 4, err);
    if (!st) st = g->gh->write_buffer(g->gh->ctx, GPU_BUF_STEP, 0, s, sizeof *s, err);
    return st;
}
