/* How the GPU plan shapes its products and attention: threads and rows a
 * workgroup, integer or float products, which kernels fuse. */
#include <string.h>

#include "gpu/plan_internal.h"
#include "gpu/weights.h"

int plan_rows_per_wg(const int *bounds, int n) {
    for (int r = 4; r > 1; r /= 2) {
        bool ok = true;
        for (int i = 0; i < n; i++) ok = ok && bounds[i] % r == 0;
        if (ok) return r;
    }
    return 1;
}

/* The shape of a decode product: integer (q8) or float, threads a
 * workgroup, lanes a row, rows a lane. Quantized weights: integer products
 * on the input quantized once per workgroup (rows_q.wgsl), 256 threads, up
 * to 32 lanes a row, where the input's blocks fit in workgroup memory;
 * else rows.wgsl. Lanes per row: a power of two up to the row's units of
 * work (8 values, or 32-value blocks for Q8 input), so narrow matrices keep
 * threads busy; (WG / TPR) * R rows a workgroup, R lowered until there are
 * workgroups enough to fill a large GPU. */
void plan_mv_shape(const gpu_model *g, const mv_job *j, bool *q8, int *wg, int *tpr, int *R) {
    int bpr = j->ws[0]->cols / GPU_Q8_BLOCK; /* the input's Q8 blocks */
    *q8 = gpu_type_act(j->ws[0]->type) >= 3 && !g->opt.no_mmq && bpr * 40 <= 20480;
    *wg = *q8 ? MVQ_WG : MV_WG;
    int bounds[MAX_SEGS], nb = 0, acc = 0;
    for (int i = 0; i < j->n_ws; i++)
        for (int s = 0; s < j->ws[i]->n_slices && nb < MAX_SEGS; s++) bounds[nb++] = acc += j->ws[i]->slice_rows[s];
    int units = j->ws[0]->cols / (gpu_type_act(j->ws[0]->type) >= 3 ? GPU_Q8_BLOCK : 8);
    /* exact mode: one lane a row (rows_q_exact.wgsl sums a row alone) */
    int max_tpr = *q8 && plan_exact_product(g, j->ws[0]->type) ? 1 : *q8 ? (g->opt.mvq_tpr ? g->opt.mvq_tpr : 32) : *wg, min_wgs = *q8 ? (g->opt.mvq_wgs ? g->opt.mvq_wgs : 256) : 512;
    *tpr = 1;
    while (*tpr * 2 <= units && *tpr * 2 <= max_tpr) *tpr *= 2;
    *R = plan_rows_per_wg(bounds, nb);
    while (*R > 1 && (uint64_t)j->out_rows / ((uint64_t)(*wg / *tpr) * *R) < (uint64_t)min_wgs) *R /= 2;
}

/* Whether a product of weights of this type sums in the CPU kernels'
 * order (dot_exact.wgsl, dot_exact_k.wgsl: rows_q_exact.wgsl,
 * mmq_exact.wgsl): in exact mode (the tests'), for the types of integer
 * products (input in Q8 blocks of 32 or Q8_K). */
bool plan_exact_product(const gpu_model *g, uint32_t type) {
    return g->opt.exact_attention && !g->opt.no_mmq && gpu_type_act(type) >= 3;
}

/* Whether the prefill product of these weights runs in integers (mmq.wgsl). */
bool plan_integer_product(const gpu_model *g, const gpu_weight *w) {
    return gpu_type_act(w->type) >= 3 && !g->opt.no_mmq;
}

/* SwiGLU's product writes the down product's Q8 input itself where both
 * run in integers on Q8 blocks of 32 (not Q8_K: a workgroup makes 32 rows
 * at most, never a super-block of 256) and each of its workgroups makes
 * whole blocks of 32 outputs (and the bindings fit, a folded post norm's
 * too): the down product then
 * only loads it. */
void plan_fuse_q8(const gpu_model *g, mv_job *f, mv_job *d) {
    bool fq, dq;
    int wg, tpr, R, dwg, dtpr, dR;
    plan_mv_shape(g, f, &fq, &wg, &tpr, &R);
    plan_mv_shape(g, d, &dq, &dwg, &dtpr, &dR);
    int rpw = wg / tpr * R, slices = 0;
    for (int i = 0; i < f->n_ws; i++) slices += f->ws[i]->n_slices;
    if (g->opt.no_fuse || !fq || !dq || gpu_type_act(f->ws[0]->type) != 3 || gpu_type_act(d->ws[0]->type) != 3 || rpw % 32 || f->out_rows % rpw || (f->fold.x ? 8 : 5) + slices > g->lim.max_storage_buffers ||
        6 + d->ws[0]->n_slices > g->lim.max_storage_buffers)
        return;
    f->q8_out = d->q8_in = true;
}

/* Prefill attention tiled (attn_tile.wgsl): the default attention, where
 * subgroups are there and heads are of at most 128 dims, a multiple of 16. */
bool plan_tiled_attention(const gpu_model *g) {
    int hd = g->m->hp.head_dim;
    return !g->opt.exact_attention && g->lim.subgroups && !g->opt.no_subgroups && hd <= 128 && hd % 16 == 0;
}
