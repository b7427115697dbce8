/* Builds the GPU plan of a model (see plan.h): every kernel's WGSL is the
 * generated prefix (constants, bindings, weight accessors) followed by the
 * embedded kernel files, so a kernel's source and its binding layout are
 * written by the same code and cannot disagree. */
#include "gpu/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_types.h"
#include "gpu/sbuf.h"
#include "gpu/weights.h"
#include "gpu/wgsl.h"

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

typedef struct {
    const gguf_tensor *t;
    uint32_t type;
    int rows, cols;
    int n_slices;
    uint32_t buf[MAX_SLICES];
    int slice_rows[MAX_SLICES];
} gpu_weight;

typedef struct {
    uint32_t attn_norm, ffn_norm, bias, k, v;
    gpu_weight wq, wk, wv, wqkv, wo, gate, up, gate_up, down;
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
    uint32_t b_out_norm, b_rope, b_x, b_xn, b_xb, b_qkv, b_attn, b_act, b_cands, b_zero, b_part;
    uint32_t b_xq, b_xd; /* prefill: a quantized product's input as Q8 blocks (q8_act.wgsl) */
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

/* ---- buffers ---- */

static hearth_status make_buffer(gpu_model *g, uint32_t id, uint64_t size, gpu_buffer_usage usage, const char *what,
                                 hearth_error *err) {
    size = (size + 15) & ~(uint64_t)15;
    if (!size) size = 16;
    if ((double)size > g->lim.max_buffer || (usage == GPU_BUFFER_STORAGE && (double)size > g->lim.max_storage_binding))
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "the GPU backend needs a buffer of %.1f MB for %s, more than this GPU allows (%.1f MB); "
                           "use a smaller context or the CPU backend",
                           size / 1e6, what, g->lim.max_storage_binding / 1e6);
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
    if (!gpu_type_supported(w->type))
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "tensor %s has type %s, which the GPU backend cannot run (it runs f32, f16, bf16, q8_0, "
                           "q4_0, q4_1, q5_0, q5_1); use the CPU backend",
                           name, ggml_type_name(w->type));
    if (w->cols % 32)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED, "tensor %s has rows of %d values, not a multiple of 32", name,
                           w->cols);
    *gw = (gpu_weight){.t = w->src, .type = w->type, .rows = w->rows, .cols = w->cols};
    double limit = g->lim.max_storage_binding < g->lim.max_buffer ? g->lim.max_storage_binding : g->lim.max_buffer;
    uint64_t row_bound = gpu_blocks_bytes(w->type, (uint64_t)w->cols / 32 + 1);
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
        hearth_status st = new_buffer(g, gpu_blocks_bytes(w->type, (uint64_t)rows * (w->cols / 32)), name,
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

/* ---- kernels ---- */

typedef struct {
    gpu_model *g;
    sbuf src;
    const char *label;
    gpu_layout_entry layout[MAX_BINDS];
    gpu_bind_entry bind[MAX_BINDS];
    int n;
    int n_storage;
} kb;

static void kb_begin(kb *k, gpu_model *g, int wg, const char *label) {
    *k = (kb){.g = g, .label = label};
    if (g->lim.subgroups && !g->opt.no_subgroups) sb_add(&k->src, "enable subgroups;\n");
    sb_printf(&k->src, "const WG: u32 = %du;\n", wg);
}

static void kb_u(kb *k, const char *name, uint64_t v) { sb_printf(&k->src, "const %s: u32 = %lluu;\n", name, (unsigned long long)v); }
static void kb_f(kb *k, const char *name, float v) { sb_printf(&k->src, "const %s: f32 = %.9e;\n", name, (double)v); }
static void kb_b(kb *k, const char *name, bool v) { sb_printf(&k->src, "const %s: bool = %s;\n", name, v ? "true" : "false"); }

static void kb_bind(kb *k, const char *name, const char *type, gpu_bind_kind kind, uint32_t buffer) {
    if (k->n == MAX_BINDS) {
        k->src.oom = true;
        return;
    }
    static const char *const decl[] = {"uniform", "storage, read", "storage, read_write"};
    sb_printf(&k->src, "@group(0) @binding(%d) var<%s> %s: %s;\n", k->n, decl[kind], name, type);
    k->layout[k->n] = (gpu_layout_entry){(uint32_t)k->n, (uint32_t)kind};
    k->bind[k->n] = (gpu_bind_entry){(uint32_t)k->n, buffer};
    k->n++;
    if (kind != GPU_BIND_UNIFORM) k->n_storage++;
}

static void kb_file(kb *k, const char *name) {
    const char *text = gpu_wgsl(name);
    if (!text) {
        k->src.oom = true;
        return;
    }
    sb_add(&k->src, text);
}

/* dot4(a, b): the dot product of two words of four int8 each. */
static void kb_dot4(kb *k) {
    if (k->g->lim.dot4)
        sb_add(&k->src, "fn dot4(a: u32, b: u32) -> i32 { return dot4I8Packed(a, b); }\n");
    else
        sb_add(&k->src, "fn dot4(a: u32, b: u32) -> i32 {\n"
                        "  let x = bitcast<i32>(a);\n  let y = bitcast<i32>(b);\n"
                        "  return extractBits(x, 0u, 8u) * extractBits(y, 0u, 8u) + extractBits(x, 8u, 8u) * extractBits(y, 8u, 8u) +\n"
                        "         extractBits(x, 16u, 8u) * extractBits(y, 16u, 8u) + extractBits(x, 24u, 8u) * extractBits(y, 24u, 8u);\n}\n");
}

enum { ROWS_NONE = 0, ROWS_FLOAT = 1, ROWS_Q8 = 2, ROWS_Q8_IN = 3 };

/* The weight bindings of a kernel: the slices of the given matrices in
 * order, as one logical matrix (e.g. [Wq; Wk; Wv]), with wsel_deq(row, b, j)
 * and, for the decode products (rows), rows_at(row, tid) and prep_input:
 * ROWS_FLOAT rows.wgsl, ROWS_Q8 the integer products of rows_q.wgsl (on
 * the input quantized by prep_q.wgsl, or ROWS_Q8_IN read by prep_q_in.wgsl). */
static hearth_status kb_weights(kb *k, gpu_weight *const *ws, int n_ws, int rows_kind, hearth_error *err) {
    bool with_rows = rows_kind != ROWS_NONE;
    uint32_t bounds[MAX_SEGS];
    int n = 0;
    uint32_t rows = 0;
    for (int i = 0; i < n_ws; i++) {
        if (ws[i]->type != ws[0]->type || ws[i]->cols != ws[0]->cols)
            return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                               "the GPU backend needs %s and %s to have one type and width (they are %s and %s)",
                               ws[0]->t ? ws[0]->t->name.data : "?", ws[i]->t ? ws[i]->t->name.data : "?",
                               ggml_type_name(ws[0]->type), ggml_type_name(ws[i]->type));
        for (int s = 0; s < ws[i]->n_slices; s++) {
            if (n == MAX_SEGS) return hearth_fail(err, HEARTH_E_UNSUPPORTED, "too many weight slices in one kernel");
            char name[16];
            snprintf(name, sizeof name, "w%d", n);
            kb_bind(k, name, "array<u32>", GPU_BIND_READ, ws[i]->buf[s]);
            sb_printf(&k->src, "const w%d_NROWS: u32 = %du;\n", n, ws[i]->slice_rows[s]);
            sb_add_replacing(&k->src, gpu_wgsl(gpu_type_wgsl(ws[i]->type)), "WBUF", name);
            if (with_rows)
                sb_add_replacing(&k->src, gpu_wgsl(rows_kind >= ROWS_Q8 ? "rows_q.wgsl" : "rows.wgsl"), "WBUF", name);
            rows += (uint32_t)ws[i]->slice_rows[s];
            bounds[n++] = rows;
        }
    }
    kb_file(k, "quants.wgsl");
    kb_u(k, "BPR", (uint64_t)ws[0]->cols / 32);
    kb_u(k, "ACT", (uint64_t)gpu_type_act(ws[0]->type));
    kb_file(k, "act.wgsl");
    kb_u(k, "COLS", (uint64_t)ws[0]->cols);
    /* wsel_deq / wsel_deqd (without Q4_1/Q5_1's offset) / wsel_m of a row of the logical matrix */
    static const struct {
        const char *name, *params, *ret, *call;
    } sel[] = {{"deq", "b: u32, j: u32", "mat2x4<f32>", "(row - %uu) * BPR + b, j"},
               {"deqd", "b: u32, j: u32", "mat2x4<f32>", "(row - %uu) * BPR + b, j"},
               {"m", "b: u32", "f32", "(row - %uu) * BPR + b"}};
    /* and, for the integer products (mmq.wgsl), wsel_q8 / wsel_d */
    static const struct {
        const char *name, *params, *ret, *call;
    } qsel[] = {{"q8", "b: u32", "array<vec4<u32>, 2>", "(row - %uu) * BPR + b"}, {"d", "b: u32", "f32", "(row - %uu) * BPR + b"}};
    size_t n_sel = sizeof sel / sizeof *sel + (gpu_type_act(ws[0]->type) == 3 ? 2 : 0);
    for (size_t f = 0; f < n_sel; f++) {
        bool q = f >= sizeof sel / sizeof *sel;
        const char *fname = q ? qsel[f - 3].name : sel[f].name, *params = q ? qsel[f - 3].params : sel[f].params;
        const char *ret = q ? qsel[f - 3].ret : sel[f].ret, *fcall = q ? qsel[f - 3].call : sel[f].call;
        sb_printf(&k->src, "fn wsel_%s(row: u32, %s) -> %s {\n", fname, params, ret);
        for (int s = 0; s < n; s++) {
            char call[64];
            snprintf(call, sizeof call, fcall, s ? bounds[s - 1] : 0);
            if (s < n - 1) sb_printf(&k->src, "  if (row < %uu) { return w%d_%s(%s); }\n", bounds[s], s, fname, call);
            else sb_printf(&k->src, "  return w%d_%s(%s);\n}\n", s, fname, call);
        }
    }
    if (with_rows) {
        sb_add(&k->src, "fn rows_at(row: u32, tid: u32, xs: f32) -> array<vec2<f32>, R> {\n");
        for (int s = 0; s < n; s++) {
            uint32_t from = s ? bounds[s - 1] : 0;
            if (s < n - 1) sb_printf(&k->src, "  if (row < %uu) { return w%d_rows(row - %uu, tid, xs); }\n", bounds[s], s, from);
            else sb_printf(&k->src, "  return w%d_rows(row - %uu, tid, xs);\n}\n", s, from);
        }
        kb_file(k, "reduce_tree.wgsl");
        if (rows_kind >= ROWS_Q8) {
            kb_file(k, rows_kind == ROWS_Q8_IN ? "prep_q_in.wgsl" : "prep_q.wgsl");
            kb_dot4(k);
        } else {
            sb_add(&k->src, "fn prep_input(xs: f32, tid: u32) {}\n");
        }
    }
    return HEARTH_OK;
}

static bool same_pipe(const pipe_entry *p, const kb *k) {
    if (p->n_layout != k->n || strcmp(p->src, k->src.p)) return false;
    for (int i = 0; i < k->n; i++)
        if (p->layout[i].kind != k->layout[i].kind) return false;
    return true;
}

/* A 1D count of workgroups as a 2D grid within the per-dimension limit. */
static void grid(uint64_t n, uint32_t *x, uint32_t *y) {
    *x = n <= 65535 ? (uint32_t)(n ? n : 1) : 32768;
    *y = (uint32_t)((n + *x - 1) / *x);
    if (!*y) *y = 1;
}

static hearth_status kb_dispatch(kb *k, int list, uint32_t x, uint32_t y, hearth_error *err) {
    gpu_model *g = k->g;
    hearth_status st = HEARTH_OK;
    if (k->src.oom) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory building the GPU kernel %s", k->label);
    else if (k->n_storage > g->lim.max_storage_buffers)
        st = hearth_fail(err, HEARTH_E_UNSUPPORTED, "the GPU kernel %s needs %d storage buffers, this GPU allows %.0f",
                         k->label, k->n_storage, g->lim.max_storage_buffers);
    int id = -1;
    for (int i = 0; !st && i < g->n_pipes && id < 0; i++)
        if (same_pipe(&g->pipes[i], k)) id = i;
    if (!st && id < 0) {
        if (g->n_pipes == g->cap_pipes) {
            int cap = g->cap_pipes ? 2 * g->cap_pipes : 32;
            pipe_entry *p = realloc(g->pipes, (size_t)cap * sizeof *p);
            if (!p) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
            else {
                g->pipes = p;
                g->cap_pipes = cap;
            }
        }
        if (!st) {
            id = g->n_pipes++;
            pipe_entry *p = &g->pipes[id];
            p->src = k->src.p;
            k->src = (sbuf){0};
            memcpy(p->layout, k->layout, sizeof k->layout);
            p->n_layout = k->n;
            st = g->gh->create_pipeline(g->gh->ctx, (uint32_t)id, k->label, p->src, strlen(p->src), p->layout,
                                        p->n_layout, err);
        }
    }
    if (!st) st = g->gh->add_dispatch(g->gh->ctx, list, (uint32_t)id, k->bind, k->n, x, y, 1, err);
    if (!st) g->n_dispatch[list]++;
    sb_free(&k->src);
    return st;
}

/* ---- the forward pass as dispatches ---- */

static int rows_per_wg(const int *bounds, int n) {
    for (int r = 4; r > 1; r /= 2) {
        bool ok = true;
        for (int i = 0; i < n; i++) ok = ok && bounds[i] % r == 0;
        if (ok) return r;
    }
    return 1;
}

static void norm_consts(kb *k, const gpu_model *g) {
    kb_u(k, "E", (uint64_t)g->m->hp.n_embd);
    kb_f(k, "EPS", g->m->hp.rms_eps);
}

static hearth_status k_embed(gpu_model *g, int list, bool decode, hearth_error *err) {
    kb k;
    kb_begin(&k, g, 256, "embed.wgsl");
    int E = g->m->hp.n_embd;
    kb_u(&k, "E", (uint64_t)E);
    kb_u(&k, "NVOCAB", (uint64_t)g->m->hp.n_vocab);
    kb_b(&k, "DECODE", decode);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "tokens", "array<u32>", GPU_BIND_READ, GPU_BUF_TOKENS);
    kb_bind(&k, "x", "array<vec4<f32>>", GPU_BIND_RW, g->b_x);
    kb_bind(&k, "xn", "array<vec4<f32>>", GPU_BIND_RW, g->b_xn);
    kb_bind(&k, "nw", "array<vec4<f32>>", GPU_BIND_READ, g->layers[0].attn_norm);
    gpu_weight *w = &g->tok_embd;
    hearth_status st = kb_weights(&k, &w, 1, ROWS_NONE, err);
    kb_file(&k, "embed.wgsl");
    uint32_t x, y;
    grid(((uint64_t)(decode ? 1 : g->batch) * (E / 8) + 255) / 256, &x, &y);
    if (st) {
        sb_free(&k.src);
        return st;
    }
    return kb_dispatch(&k, list, x, y, err);
}

/* A decode matrix-vector product: file mv_qkv / mv_res / mv_swiglu / mv_out. */
typedef struct {
    const char *file;
    gpu_weight *ws[3];
    int n_ws;
    uint32_t xin, out, aux; /* aux: bias (qkv), the next norm (res) */
    int out_rows;           /* rows computed (per slice for mv_out) */
    int row_base;           /* mv_out: first row of the slice */
    bool q8_out;            /* mv_swiglu: also writes its output as Q8 blocks (b_xq / b_xd) */
    bool q8_in;             /* mv_res: its input is those blocks (written by mv_swiglu) */
} mv_job;

/* The shape of a decode product: integer (q8) or float, threads a
 * workgroup, lanes a row, rows a lane. Quantized weights: integer products
 * on the input quantized once per workgroup (rows_q.wgsl), 256 threads, up
 * to 32 lanes a row, where the input's blocks fit in workgroup memory;
 * else rows.wgsl. Lanes per row: a power of two up to the row's units of
 * work (8 values, or 32-value blocks for Q8 input), so narrow matrices keep
 * threads busy; (WG / TPR) * R rows a workgroup, R lowered until there are
 * workgroups enough to fill a large GPU. */
static void mv_shape(const gpu_model *g, const mv_job *j, bool *q8, int *wg, int *tpr, int *R) {
    int bpr = j->ws[0]->cols / 32;
    *q8 = gpu_type_act(j->ws[0]->type) == 3 && !g->opt.no_mmq && bpr * 40 <= 20480;
    *wg = *q8 ? MVQ_WG : MV_WG;
    int bounds[MAX_SEGS], nb = 0, acc = 0;
    for (int i = 0; i < j->n_ws; i++)
        for (int s = 0; s < j->ws[i]->n_slices && nb < MAX_SEGS; s++) bounds[nb++] = acc += j->ws[i]->slice_rows[s];
    int units = j->ws[0]->cols / (gpu_type_act(j->ws[0]->type) == 3 ? 32 : 8);
    int max_tpr = *q8 ? (g->opt.mvq_tpr ? g->opt.mvq_tpr : 32) : *wg, min_wgs = *q8 ? (g->opt.mvq_wgs ? g->opt.mvq_wgs : 256) : 512;
    *tpr = 1;
    while (*tpr * 2 <= units && *tpr * 2 <= max_tpr) *tpr *= 2;
    *R = rows_per_wg(bounds, nb);
    while (*R > 1 && (uint64_t)j->out_rows / ((uint64_t)(*wg / *tpr) * *R) < (uint64_t)min_wgs) *R /= 2;
}

static hearth_status k_matvec(gpu_model *g, int list, const mv_job *j, hearth_error *err) {
    kb k;
    bool q8;
    int wg, tpr, R;
    mv_shape(g, j, &q8, &wg, &tpr, &R);
    kb_begin(&k, g, wg, j->file);
    kb_u(&k, "R", (uint64_t)R);
    kb_u(&k, "TPR", (uint64_t)tpr);
    kb_u(&k, "OUT_ROWS", (uint64_t)j->out_rows);
    kb_u(&k, "ROW_BASE", (uint64_t)j->row_base);
    kb_u(&k, "FF", (uint64_t)g->m->hp.n_ff);
    norm_consts(&k, g);
    kb_file(&k, "common.wgsl");
    bool res = strcmp(j->file, "mv_res.wgsl") == 0;
    if (!res) {
        kb_bind(&k, "x", "array<vec4<f32>>", GPU_BIND_READ, g->b_x);
        kb_file(&k, "norm_scale.wgsl");
    } else {
        kb_bind(&k, "x", "array<f32>", GPU_BIND_RW, g->b_x);
        kb_bind(&k, "xn", "array<f32>", GPU_BIND_RW, g->b_xn);
        kb_bind(&k, "nw", "array<f32>", GPU_BIND_READ, j->aux);
    }
    kb_bind(&k, "xin", "array<vec4<f32>>", GPU_BIND_READ, j->xin);
    if (strcmp(j->file, "mv_qkv.wgsl") == 0) {
        kb_bind(&k, "bias", "array<f32>", GPU_BIND_READ, j->aux);
        kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, j->out);
    } else if (strcmp(j->file, "mv_swiglu.wgsl") == 0) {
        kb_bind(&k, "act", "array<f32>", GPU_BIND_RW, j->out);
    }
    if (j->q8_out) {
        kb_bind(&k, "xq", "array<u32>", GPU_BIND_RW, g->b_xq);
        kb_bind(&k, "xd", "array<vec2<f32>>", GPU_BIND_RW, g->b_xd);
        kb_u(&k, "RPW", (uint64_t)(wg / tpr) * R);
        kb_file(&k, "q8_store.wgsl");
        kb_file(&k, "q8_out.wgsl");
    } else if (strcmp(j->file, "mv_swiglu.wgsl") == 0) {
        sb_add(&k.src, "fn q8_out(tid: u32, lane: u32, first: u32, v: array<f32, R>) {}\n");
    }
    if (j->q8_in) {
        kb_bind(&k, "xqin", "array<vec4<u32>>", GPU_BIND_READ, g->b_xq);
        kb_bind(&k, "xdin", "array<vec2<f32>>", GPU_BIND_READ, g->b_xd);
    } else if (strcmp(j->file, "mv_out.wgsl") == 0) {
        kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
        kb_bind(&k, "logits", "array<f32>", GPU_BIND_RW, GPU_BUF_LOGITS);
    }
    hearth_status st = kb_weights(&k, j->ws, j->n_ws, j->q8_in ? ROWS_Q8_IN : q8 ? ROWS_Q8 : ROWS_FLOAT, err);
    kb_file(&k, j->file);
    if (st) {
        sb_free(&k.src);
        return st;
    }
    uint32_t x, y;
    uint64_t per_wg = (uint64_t)(wg / tpr) * R;
    grid(((uint64_t)j->out_rows + per_wg - 1) / per_wg, &x, &y);
    return kb_dispatch(&k, list, x, y, err);
}

static void attn_consts(kb *k, const gpu_model *g) {
    const model_hparams *hp = &g->m->hp;
    kb_u(k, "HD", (uint64_t)hp->head_dim);
    kb_u(k, "NH", (uint64_t)hp->n_head);
    kb_u(k, "GROUP", (uint64_t)(hp->n_head / hp->n_head_kv));
    kb_u(k, "QD", (uint64_t)g->q_dim);
    kb_u(k, "KVD", (uint64_t)g->kv_dim);
    kb_u(k, "QKVD", (uint64_t)g->qkv_dim);
    kb_u(k, "NCTX", (uint64_t)g->n_ctx);
    kb_u(k, "ROPE_DIM", (uint64_t)hp->rope_dim);
    kb_b(k, "NEOX", hp->rope_neox);
    kb_f(k, "SCALE", 1.0f / sqrtf((float)hp->head_dim));
    /* exact attention (attend.wgsl): phi3 scales Q as llama.cpp does, not the scores */
    kb_f(k, "QSCALE", hp->arch == ARCH_PHI3 ? 1.0f / sqrtf((float)hp->head_dim) : 1.0f);
    kb_f(k, "KQSCALE", hp->arch == ARCH_PHI3 ? 1.0f : 1.0f / sqrtf((float)hp->head_dim));
    kb_u(k, "SPLIT", (uint64_t)g->split);
}

/* Attention (decode: one head a workgroup; prefill: a (token, head) a
 * workgroup) or, for prefill, RoPE and the cache stores before it. */
static hearth_status k_attention(gpu_model *g, int list, const char *file, int il, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    bool rope_kv = strcmp(file, "rope_kv.wgsl") == 0, one = strcmp(file, "attn_one.wgsl") == 0;
    int wg = one ? 256 : ATTN_WG;
    kb k;
    kb_begin(&k, g, wg, file);
    attn_consts(&k, g);
    kb_u(&k, "DPT", (uint64_t)(hp->head_dim + wg - 1) / wg);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "src", "array<f32>", rope_kv ? GPU_BIND_RW : GPU_BIND_READ, g->b_qkv);
    kb_bind(&k, "kc", "array<u32>", GPU_BIND_RW, g->layers[il].k);
    kb_bind(&k, "vc", "array<u32>", GPU_BIND_RW, g->layers[il].v);
    kb_bind(&k, "rope", "array<f32>", GPU_BIND_READ, g->b_rope);
    bool split = strcmp(file, "attn_split.wgsl") == 0;
    if (!rope_kv) kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, split ? g->b_part : g->b_attn);
    kb_file(&k, "rope.wgsl");
    if (!rope_kv && strcmp(file, "attn_tile.wgsl")) kb_file(&k, g->opt.exact_attention ? "attend.wgsl" : "attend_fast.wgsl");
    if (split || one || strcmp(file, "attn_decode.wgsl") == 0) kb_file(&k, "decode_head.wgsl");
    kb_file(&k, file);
    if (split) return kb_dispatch(&k, list, (uint32_t)hp->n_head, (uint32_t)g->split, err);
    if (one || strcmp(file, "attn_decode.wgsl") == 0) return kb_dispatch(&k, list, (uint32_t)hp->n_head, 1, err);
    if (strcmp(file, "attn_tile.wgsl") == 0) {
        uint64_t rows = (uint64_t)g->batch * (hp->n_head / hp->n_head_kv);
        return kb_dispatch(&k, list, (uint32_t)hp->n_head_kv, (uint32_t)((rows + 31) / 32), err);
    }
    uint32_t heads = (uint32_t)(rope_kv ? hp->n_head + hp->n_head_kv : hp->n_head);
    return kb_dispatch(&k, list, heads, (uint32_t)g->batch, err);
}

/* Joins the split decode attention's shares (attn_combine.wgsl). */
static hearth_status k_combine(gpu_model *g, int list, hearth_error *err) {
    kb k;
    kb_begin(&k, g, ATTN_WG, "attn_combine.wgsl");
    kb_u(&k, "HD", (uint64_t)g->m->hp.head_dim);
    kb_u(&k, "SPLIT", (uint64_t)g->split);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "part", "array<f32>", GPU_BIND_READ, g->b_part);
    kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, g->b_attn);
    kb_file(&k, "attn_combine.wgsl");
    return kb_dispatch(&k, list, (uint32_t)g->m->hp.n_head, 1, err);
}

/* Prefill RMSNorm into b_xb, or (q8: for an integer product) straight to
 * its Q8 input in b_xq / b_xd. */
static hearth_status k_rmsnorm(gpu_model *g, int list, uint32_t nw, bool q8, hearth_error *err) {
    kb k;
    const char *file = q8 ? "rmsnorm_q8.wgsl" : "rmsnorm.wgsl";
    kb_begin(&k, g, 256, file);
    norm_consts(&k, g);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "x", "array<f32>", GPU_BIND_READ, g->b_x);
    kb_file(&k, "rms_scale.wgsl");
    if (q8) {
        kb_u(&k, "BPR", (uint64_t)g->m->hp.n_embd / 32);
        kb_u(&k, "ACT", 3);
        kb_file(&k, "act.wgsl");
        kb_bind(&k, "xq", "array<u32>", GPU_BIND_RW, g->b_xq);
        kb_bind(&k, "xd", "array<vec2<f32>>", GPU_BIND_RW, g->b_xd);
        kb_file(&k, "q8_store.wgsl");
    } else {
        kb_bind(&k, "xb", "array<f32>", GPU_BIND_RW, g->b_xb);
    }
    kb_bind(&k, "nw", "array<f32>", GPU_BIND_READ, nw);
    kb_file(&k, file);
    return kb_dispatch(&k, list, (uint32_t)g->batch, 1, err);
}

/* Whether the prefill product of these weights runs in integers (mmq.wgsl). */
static bool integer_product(const gpu_model *g, const gpu_weight *w) {
    return gpu_type_act(w->type) == 3 && !g->opt.no_mmq;
}

/* Prefill: the input of a quantized product (cols floats a token) to Q8
 * blocks in b_xq / b_xd, for mmq.wgsl. */
static hearth_status k_quant(gpu_model *g, int list, uint32_t xin, int cols, hearth_error *err) {
    kb k;
    kb_begin(&k, g, 256, "q8_act.wgsl");
    kb_u(&k, "BPR", (uint64_t)cols / 32);
    kb_u(&k, "ACT", 3);
    kb_file(&k, "common.wgsl");
    kb_file(&k, "act.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "xin", "array<vec4<f32>>", GPU_BIND_READ, xin);
    kb_bind(&k, "xq", "array<u32>", GPU_BIND_RW, g->b_xq);
    kb_bind(&k, "xd", "array<vec2<f32>>", GPU_BIND_RW, g->b_xd);
    kb_file(&k, "q8_store.wgsl");
    kb_file(&k, "q8_act.wgsl");
    uint32_t x, y;
    grid(((uint64_t)g->batch * (cols / 32) + 255) / 256, &x, &y);
    return kb_dispatch(&k, list, x, y, err);
}

/* Prefill product of quantized weights in integers (mmq.wgsl), on the
 * input quantized by k_quant. */
static hearth_status k_matmul_q(gpu_model *g, int list, gpu_weight *const *ws, int n_ws, int mode, uint32_t xin,
                                uint32_t out, int out_rows, uint32_t bias, hearth_error *err) {
    hearth_status st = xin == g->b_xq ? HEARTH_OK : k_quant(g, list, xin, ws[0]->cols, err);
    if (st) return st;
    kb k;
    kb_begin(&k, g, 256, "mmq.wgsl");
    /* 8 rows a thread (128-row tiles), or 4 (64) where 128 would give
     * fewer than 600 workgroups: about 4.5 per SM of an H100, whose last
     * wave of workgroups is then full enough (Phi-3's QKV product, 576
     * 128-row tiles, is 8-9% faster with 4 rows there). Up to 4 blocks a
     * stage with 4 rows a thread, 2 with 8 (fewer registers holding the
     * next stage: Phi-3's gate/up product 6-7% faster on the H100), each
     * dividing the row and 30 KB of workgroup memory at most; WI / XI
     * weight / input loads a thread a stage. */
    int bpr = ws[0]->cols / 32;
    /* 8 tokens a thread for Q8_0 weights (their loads amortized over more
     * tokens: faster on the H100), 4 for the others (8 was slower there) */
    int tn = g->opt.mmq_tn == 8 || g->opt.mmq_tn == 4 ? g->opt.mmq_tn : ws[0]->type == GGML_TYPE_Q8_0 ? 8 : 4, bn = 16 * tn;
    uint64_t tiles = (uint64_t)(out_rows + (mode == 2 ? 63 : 127)) / (mode == 2 ? 64 : 128) * ((g->batch + bn - 1) / bn);
    int tm = tiles < 600 ? 4 : 8, bm = 16 * tm, nb = tm == 8 ? 2 : 4;
    while (nb > 1 && (bpr % nb || nb * (bm * 40 + bn * 40) > 30720)) nb /= 2;
    kb_u(&k, "MODE", (uint64_t)mode);
    kb_u(&k, "TM", (uint64_t)tm);
    kb_u(&k, "TN", (uint64_t)tn);
    kb_u(&k, "NB", (uint64_t)nb);
    kb_u(&k, "WI", (uint64_t)(nb * bm + 255) / 256);
    kb_u(&k, "XI", (uint64_t)(nb * 2 * bn + 255) / 256);
    kb_u(&k, "XDI", (uint64_t)(nb * bn + 255) / 256);
    kb_u(&k, "OUT_ROWS", (uint64_t)out_rows);
    kb_u(&k, "OUTS", (uint64_t)out_rows);
    kb_u(&k, "FF", (uint64_t)g->m->hp.n_ff);
    kb_b(&k, "ACT_M", ws[0]->type == GGML_TYPE_Q4_1 || ws[0]->type == GGML_TYPE_Q5_1);
    kb_dot4(&k);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "xq", "array<vec4<u32>>", GPU_BIND_READ, g->b_xq);
    kb_bind(&k, "xd", "array<vec2<f32>>", GPU_BIND_READ, g->b_xd);
    kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, out);
    kb_bind(&k, "bias", "array<f32>", GPU_BIND_READ, bias);
    st = kb_weights(&k, ws, n_ws, ROWS_NONE, err);
    kb_file(&k, "mmq.wgsl");
    if (st) {
        sb_free(&k.src);
        return st;
    }
    uint32_t tile = (uint32_t)(mode == 2 ? 8 * tm : 16 * tm);
    return kb_dispatch(&k, list, (uint32_t)(out_rows + tile - 1) / tile, (uint32_t)(g->batch + bn - 1) / bn, err);
}

/* Prefill product: mode 0 out = acc + bias, 1 out += acc, 2 SwiGLU. */
static hearth_status k_matmul(gpu_model *g, int list, gpu_weight *const *ws, int n_ws, int mode, uint32_t xin,
                              uint32_t out, int out_rows, uint32_t bias, hearth_error *err) {
    if (integer_product(g, ws[0])) return k_matmul_q(g, list, ws, n_ws, mode, xin, out, out_rows, bias, err);
    kb k;
    kb_begin(&k, g, 256, "mm.wgsl");
    kb_u(&k, "MODE", (uint64_t)mode);
    kb_u(&k, "OUT_ROWS", (uint64_t)out_rows);
    kb_u(&k, "OUTS", (uint64_t)out_rows);
    kb_u(&k, "FF", (uint64_t)g->m->hp.n_ff);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    kb_bind(&k, "xin", "array<vec4<f32>>", GPU_BIND_READ, xin);
    kb_bind(&k, "outv", "array<f32>", GPU_BIND_RW, out);
    kb_bind(&k, "bias", "array<f32>", GPU_BIND_READ, bias);
    hearth_status st = kb_weights(&k, ws, n_ws, ROWS_NONE, err);
    kb_file(&k, "mm.wgsl");
    if (st) {
        sb_free(&k.src);
        return st;
    }
    return kb_dispatch(&k, list, (uint32_t)(out_rows + 63) / 64, (uint32_t)(g->batch + 63) / 64, err);
}

static hearth_status k_simple(gpu_model *g, int list, const char *file, uint32_t x, hearth_error *err) {
    kb k;
    int per_b = (g->n_chunks * CAND_STRIDE + 255) / 256;
    kb_begin(&k, g, 256, file);
    norm_consts(&k, g);
    kb_u(&k, "NVOCAB", (uint64_t)g->m->hp.n_vocab);
    kb_u(&k, "PER_T", SAMPLE_PER_T);
    kb_u(&k, "PER_B", (uint64_t)per_b);
    kb_u(&k, "NCHUNK", (uint64_t)g->n_chunks);
    kb_file(&k, "common.wgsl");
    kb_bind(&k, "u", "Step", GPU_BIND_UNIFORM, GPU_BUF_STEP);
    if (strcmp(file, "head_prep.wgsl") == 0) {
        kb_bind(&k, "x", "array<f32>", GPU_BIND_RW, g->b_x);
        kb_bind(&k, "xn", "array<f32>", GPU_BIND_RW, g->b_xn);
        kb_bind(&k, "nw", "array<f32>", GPU_BIND_READ, g->b_out_norm);
    } else {
        kb_bind(&k, "cands", "array<vec2<u32>>", GPU_BIND_RW, g->b_cands);
        if (strcmp(file, "sample_a.wgsl") == 0) kb_bind(&k, "logits", "array<f32>", GPU_BIND_READ, GPU_BUF_LOGITS);
        else kb_bind(&k, "result", "array<u32>", GPU_BIND_RW, GPU_BUF_RESULT);
        kb_file(&k, "argmax.wgsl");
    }
    kb_file(&k, file);
    return kb_dispatch(&k, list, x, 1, err);
}

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

static void layer_weights(gpu_layer *ly, bool fused, gpu_weight **qkv, int *n_qkv, gpu_weight **ffn, int *n_ffn) {
    if (fused) {
        qkv[0] = &ly->wqkv;
        *n_qkv = 1;
        ffn[0] = &ly->gate_up;
        *n_ffn = 1;
    } else {
        qkv[0] = &ly->wq;
        qkv[1] = &ly->wk;
        qkv[2] = &ly->wv;
        *n_qkv = 3;
        ffn[0] = &ly->gate;
        ffn[1] = &ly->up;
        *n_ffn = 2;
    }
}

/* SwiGLU's product writes the down product's Q8 input itself where both
 * run in integers and each of its workgroups makes whole blocks of 32
 * outputs (and the bindings fit): the down product then only loads it. */
static void fuse_q8(const gpu_model *g, mv_job *f, mv_job *d) {
    bool fq, dq;
    int wg, tpr, R, dwg, dtpr, dR;
    mv_shape(g, f, &fq, &wg, &tpr, &R);
    mv_shape(g, d, &dq, &dwg, &dtpr, &dR);
    int rpw = wg / tpr * R, slices = 0;
    for (int i = 0; i < f->n_ws; i++) slices += f->ws[i]->n_slices;
    if (g->opt.no_fuse || !fq || !dq || rpw % 32 || f->out_rows % rpw || 5 + slices > g->lim.max_storage_buffers ||
        6 + d->ws[0]->n_slices > g->lim.max_storage_buffers)
        return;
    f->q8_out = d->q8_in = true;
}

static hearth_status build_decode(gpu_model *g, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    const int L = GPU_LIST_DECODE;
    hearth_status st = k_embed(g, L, true, err);
    for (int il = 0; !st && il < hp->n_layer; il++) {
        gpu_layer *ly = &g->layers[il];
        gpu_weight *qkv[3] = {0}, *ffn[2] = {0};
        int n_qkv, n_ffn;
        layer_weights(ly, hp->arch == ARCH_PHI3, qkv, &n_qkv, ffn, &n_ffn);
        mv_job j = {"mv_qkv.wgsl", {qkv[0], qkv[1], qkv[2]}, n_qkv, g->b_xn, g->b_qkv, ly->bias, g->qkv_dim, 0, false, false};
        st = k_matvec(g, L, &j, err);
        if (!st && g->opt.exact_attention) st = k_attention(g, L, "attn_decode.wgsl", il, err);
        else if (!st && !g->split) st = k_attention(g, L, "attn_one.wgsl", il, err);
        else if (!st) {
            st = k_attention(g, L, "attn_split.wgsl", il, err);
            if (!st) st = k_combine(g, L, err);
        }
        if (!st) {
            mv_job o = {"mv_res.wgsl", {&ly->wo}, 1, g->b_attn, 0, ly->ffn_norm, hp->n_embd, 0, false, false};
            st = k_matvec(g, L, &o, err);
        }
        uint32_t next = il + 1 < hp->n_layer ? g->layers[il + 1].attn_norm : g->b_out_norm;
        mv_job f = {"mv_swiglu.wgsl", {ffn[0], ffn[1]}, n_ffn, g->b_xn, g->b_act, 0, hp->n_ff, 0, false, false};
        mv_job d = {"mv_res.wgsl", {&ly->down}, 1, g->b_act, 0, next, hp->n_embd, 0, false, false};
        fuse_q8(g, &f, &d);
        if (!st) st = k_matvec(g, L, &f, err);
        if (!st) st = k_matvec(g, L, &d, err);
    }
    if (!st) st = build_head(g, L, err);
    return st;
}

/* Prefill attention tiled (attn_tile.wgsl): the default attention, where
 * subgroups are there and heads are of at most 128 dims, a multiple of 16. */
static bool tiled_attention(const gpu_model *g) {
    int hd = g->m->hp.head_dim;
    return !g->opt.exact_attention && g->lim.subgroups && !g->opt.no_subgroups && hd <= 128 && hd % 16 == 0;
}

static hearth_status build_prefill(gpu_model *g, int L, hearth_error *err) {
    const model_hparams *hp = &g->m->hp;
    hearth_status st = k_embed(g, L, false, err);
    for (int il = 0; !st && il < hp->n_layer; il++) {
        gpu_layer *ly = &g->layers[il];
        gpu_weight *qkv[3] = {0}, *ffn[2] = {0};
        int n_qkv, n_ffn;
        layer_weights(ly, hp->arch == ARCH_PHI3, qkv, &n_qkv, ffn, &n_ffn);
        /* xin b_xq: the norm wrote the integer product's Q8 input itself */
        bool q8 = integer_product(g, qkv[0]);
        st = k_rmsnorm(g, L, ly->attn_norm, q8, err);
        if (!st) st = k_matmul(g, L, qkv, n_qkv, 0, q8 ? g->b_xq : g->b_xb, g->b_qkv, g->qkv_dim, ly->bias, err);
        if (!st) st = k_attention(g, L, "rope_kv.wgsl", il, err);
        if (!st) st = k_attention(g, L, tiled_attention(g) ? "attn_tile.wgsl" : "attn_prefill.wgsl", il, err);
        gpu_weight *wo = &ly->wo, *down = &ly->down;
        if (!st) st = k_matmul(g, L, &wo, 1, 1, g->b_attn, g->b_x, hp->n_embd, g->b_zero, err);
        q8 = integer_product(g, ffn[0]);
        if (!st) st = k_rmsnorm(g, L, ly->ffn_norm, q8, err);
        if (!st) st = k_matmul(g, L, ffn, n_ffn, 2, q8 ? g->b_xq : g->b_xb, g->b_act, hp->n_ff, g->b_zero, err);
        if (!st) st = k_matmul(g, L, &down, 1, 1, g->b_act, g->b_x, hp->n_embd, g->b_zero, err);
    }
    if (!st && L == GPU_LIST_PREFILL_LAST) {
        st = k_simple(g, L, "head_prep.wgsl", 1, err);
        if (!st) st = build_head(g, L, err);
    }
    return st;
}

/* cos/sin per position and rotated pair, as forward.c builds them for the CPU. */
static hearth_status rope_table(gpu_model *g, hearth_error *err) {
    const model *m = g->m;
    const model_hparams *hp = &m->hp;
    const float *factors = m->rope_freqs;
    if (m->rope_long && g->n_ctx > hp->n_ctx_orig) factors = m->rope_long;
    else if (m->rope_short) factors = m->rope_short;
    int half = hp->rope_dim / 2;
    float theta_scale = powf(hp->rope_base, -2.0f / (float)hp->rope_dim);
    size_t n = (size_t)g->n_ctx * (size_t)hp->rope_dim;
    float *cs = malloc(n * sizeof *cs);
    if (!cs) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory for the RoPE table");
    for (int p = 0; p < g->n_ctx; p++) {
        float theta = (float)p;
        for (int i = 0; i < half; i++) {
            float th = factors ? theta / factors[i] : theta;
            cs[(size_t)p * hp->rope_dim + 2 * i] = cosf(th) * hp->rope_attn_factor;
            cs[(size_t)p * hp->rope_dim + 2 * i + 1] = sinf(th) * hp->rope_attn_factor;
            theta *= theta_scale;
        }
    }
    hearth_status st = vector_buffer(g, cs, (int)n, "the RoPE table", &g->b_rope, err);
    free(cs);
    return st;
}

static hearth_status qkv_bias(gpu_model *g, const model_layer *ml, gpu_layer *ly, hearth_error *err) {
    if (!ml->bq) {
        ly->bias = g->b_zero;
        return HEARTH_OK;
    }
    float *b = malloc((size_t)g->qkv_dim * sizeof *b);
    if (!b) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    memcpy(b, ml->bq, (size_t)g->q_dim * sizeof *b);
    memcpy(b + g->q_dim, ml->bk, (size_t)g->kv_dim * sizeof *b);
    memcpy(b + g->q_dim + g->kv_dim, ml->bv, (size_t)g->kv_dim * sizeof *b);
    hearth_status st = vector_buffer(g, b, g->qkv_dim, "a bias", &ly->bias, err);
    free(b);
    return st;
}

static hearth_status create_buffers(gpu_model *g, hearth_error *err) {
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
    if (!st) st = new_buffer(g, B * g->qkv_dim * 4, "activations", &g->b_qkv, err);
    if (!st) st = new_buffer(g, B * g->q_dim * 4, "activations", &g->b_attn, err);
    if (!st) st = new_buffer(g, B * hp->n_ff * 4, "activations", &g->b_act, err);
    if (!st) st = new_buffer(g, (uint64_t)g->n_chunks * CAND_STRIDE * 8, "sampling", &g->b_cands, err);
    int widest_in = hp->n_ff > g->q_dim ? hp->n_ff : g->q_dim;
    if (hp->n_embd > widest_in) widest_in = hp->n_embd;
    if (!st) st = new_buffer(g, B * widest_in, "activations", &g->b_xq, err);
    if (!st) st = new_buffer(g, B * (widest_in / 32) * 8, "activations", &g->b_xd, err);
    if (!st) st = new_buffer(g, (uint64_t)hp->n_head * (g->split ? g->split : 1) * (hp->head_dim + 2) * 4, "attention", &g->b_part, err);
    if (!st) st = vector_buffer(g, NULL, widest, "zeros", &g->b_zero, err);
    if (!st) st = vector_buffer(g, m->output_norm, hp->n_embd, "a norm", &g->b_out_norm, err);
    if (!st) st = rope_table(g, err);
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
        if (!st) st = new_buffer(g, kv_bytes, "the KV cache", &ly->k, err);
        if (!st) st = new_buffer(g, kv_bytes, "the KV cache", &ly->v, err);
        if (!st && hp->arch == ARCH_PHI3) {
            st = weight_setup(g, &ml->wqkv, &ly->wqkv, err);
            if (!st) st = weight_setup(g, &ml->gate_up, &ly->gate_up, err);
        } else if (!st) {
            st = weight_setup(g, &ml->wq, &ly->wq, err);
            if (!st) st = weight_setup(g, &ml->wk, &ly->wk, err);
            if (!st) st = weight_setup(g, &ml->wv, &ly->wv, err);
            if (!st) st = weight_setup(g, &ml->gate, &ly->gate, err);
            if (!st) st = weight_setup(g, &ml->up, &ly->up, err);
        }
        if (!st) st = weight_setup(g, &ml->wo, &ly->wo, err);
        if (!st) st = weight_setup(g, &ml->down, &ly->down, err);
    }
    return st;
}

hearth_status gpu_model_create(gpu_model **out, const model *m, const hearth_host *host, const gpu_host *gh,
                               const gpu_options *opt, hearth_error *err) {
    *out = NULL;
    const model_hparams *hp = &m->hp;
    if (opt->n_ctx < 1 || opt->max_batch < 1)
        return hearth_fail(err, HEARTH_E_ARG, "context and batch must be positive");
    if (hp->head_dim > 256 || hp->n_embd % 32 || hp->n_ff % 32)
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
    hearth_status st = gh->limits(gh->ctx, &g->lim, err);
    if (!st && g->lim.max_workgroup_storage < 32768)
        st = hearth_fail(err, HEARTH_E_UNSUPPORTED,
                         "this GPU offers %.0f bytes of workgroup memory; the GPU backend needs 32768",
                         g->lim.max_workgroup_storage);
    if (!st) {
        g->layers = calloc((size_t)hp->n_layer, sizeof *g->layers);
        if (!g->layers) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    if (!st) st = create_buffers(g, err);
    if (!st) {
        g->scratch = malloc(g->scratch_bytes);
        g->packed = malloc(g->scratch_bytes + 256);
        if (!g->scratch || !g->packed) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory for the upload buffer");
    }
    if (!st) st = build_decode(g, err);
    if (!st) st = build_prefill(g, GPU_LIST_PREFILL, err);
    if (!st) st = build_prefill(g, GPU_LIST_PREFILL_LAST, err);
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

hearth_status gpu_model_upload(gpu_model *g, uint64_t budget, uint64_t *left, hearth_error *err) {
    uint64_t done = 0;
    while (g->upl_i < g->n_upl && done < budget) {
        gpu_weight *w = g->upl[g->upl_i];
        int bpr = w->cols / 32, rows = w->slice_rows[g->upl_slice];
        uint64_t raw_row = 0;
        ggml_row_bytes(w->type, (uint64_t)w->cols, &raw_row);
        int n = (int)(g->scratch_bytes / raw_row);
        if (n >= rows - g->upl_row) n = rows - g->upl_row;
        else n &= ~1; /* chunks start on an even block: whole pairs */
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

int gpu_model_ctx(const gpu_model *g) { return g->n_ctx; }
int gpu_model_batch(const gpu_model *g) { return g->batch; }
int gpu_model_vocab(const gpu_model *g) { return g->m->hp.n_vocab; }
int gpu_model_dispatches(const gpu_model *g, int list) { return list >= 0 && list < GPU_LIST_COUNT ? g->n_dispatch[list] : 0; }
int gpu_model_pipelines(const gpu_model *g) { return g->n_pipes; }
uint64_t gpu_model_bytes(const gpu_model *g) { return g->bytes; }

hearth_status gpu_model_write_step(gpu_model *g, const gpu_step *s, const int32_t *tokens, int n_tokens,
                                   hearth_error *err) {
    hearth_status st = HEARTH_OK;
    if (n_tokens > 0) st = g->gh->write_buffer(g->gh->ctx, GPU_BUF_TOKENS, 0, tokens, (size_t)n_tokens * 4, err);
    if (!st) st = g->gh->write_buffer(g->gh->ctx, GPU_BUF_STEP, 0, s, sizeof *s, err);
    return st;
}
