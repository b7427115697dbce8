/* The GPU plan's kernel builder: a kernel's WGSL is the generated prefix
 * (constants, bindings, weight accessors) followed by the embedded kernel
 * files, so its source and its binding layout are written by the same
 * code; equal kernels share one pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ggml_types.h"
#include "gpu/plan_internal.h"
#include "gpu/weights.h"
#include "gpu/wgsl.h"
#include "cpu/quant_lowbit.h"

void kb_begin(kb *k, gpu_model *g, int wg, const char *label) {
    *k = (kb){.g = g, .label = label};
    if (g->lim.subgroups && !g->opt.no_subgroups) sb_add(&k->src, "enable subgroups;\n");
    sb_printf(&k->src, "const WG: u32 = %du;\n", wg);
}

void kb_u(kb *k, const char *name, uint64_t v) { sb_printf(&k->src, "const %s: u32 = %lluu;\n", name, (unsigned long long)v); }
void kb_f(kb *k, const char *name, float v) { sb_printf(&k->src, "const %s: f32 = %.9e;\n", name, (double)v); }
void kb_b(kb *k, const char *name, bool v) { sb_printf(&k->src, "const %s: bool = %s;\n", name, v ? "true" : "false"); }

void kb_bind(kb *k, const char *name, const char *type, gpu_bind_kind kind, uint32_t buffer) {
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

void kb_file(kb *k, const char *name) {
    if (strcmp(name, "exactmath.wgsl") == 0) {
        if (k->exactmath) return;
        k->exactmath = true;
    }
    const char *text = gpu_wgsl(name);
    if (!text) {
        k->src.oom = true;
        return;
    }
    sb_add(&k->src, text);
}

/* act.wgsl for input rounding `act`, its divisions rounded once in exact
 * mode (the CPU's quantization bit for bit), WGSL's in the fast one. */
void kb_act(kb *k, int act) {
    kb_u(k, "ACT", (uint64_t)act);
    if (k->g->opt.exact_attention) {
        kb_file(k, "exactmath.wgsl");
        sb_add(&k->src, "fn act_div(a: f32, b: f32) -> f32 { return div_cr(a, b); }\n");
    } else {
        sb_add(&k->src, "fn act_div(a: f32, b: f32) -> f32 { return a / b; }\n");
    }
    kb_file(k, "act.wgsl");
}

/* dot4(a, b): the dot product of two words of four int8 each. */
void kb_dot4(kb *k) {
    if (k->g->lim.dot4)
        sb_add(&k->src, "fn dot4(a: u32, b: u32) -> i32 { return dot4I8Packed(a, b); }\n");
    else
        sb_add(&k->src, "fn dot4(a: u32, b: u32) -> i32 {\n"
                        "  let x = bitcast<i32>(a);\n  let y = bitcast<i32>(b);\n"
                        "  return extractBits(x, 0u, 8u) * extractBits(y, 0u, 8u) + extractBits(x, 8u, 8u) * extractBits(y, 8u, 8u) +\n"
                        "         extractBits(x, 16u, 8u) * extractBits(y, 16u, 8u) + extractBits(x, 24u, 8u) * extractBits(y, 24u, 8u);\n}\n");
}


/* Exact mode's dot_exact(row, t) for weights of this type: Q8 blocks of
 * 32 (dot_exact.wgsl) or Q8_K input (dot_exact_k.wgsl, with the token
 * count from which the CPU's IQ4_XS product takes ggml's panel gemm). */
void kb_dot_exact(kb *k, uint32_t type) {
    kb_file(k, "exactmath.wgsl");
    if (gpu_type_act(type) == 4) {
        kb_u(k, "IQ4XS_PANEL", LOWBIT_IQ4_XS_PANEL_MIN);
        kb_file(k, "dot_exact_k.wgsl");
    } else {
        kb_file(k, "dot_exact.wgsl");
    }
}

/* The weight bindings of a kernel: the slices of the given matrices in
 * order, as one logical matrix (e.g. [Wq; Wk; Wv]), with wsel_deq(row, b, j)
 * and, for the decode products (rows), rows_at(row, tid) and prep_input:
 * ROWS_FLOAT rows.wgsl, ROWS_Q8 the integer products of rows_q.wgsl (on
 * the input quantized by prep_q.wgsl, or ROWS_Q8_IN read by prep_q_in.wgsl). */
hearth_status kb_weights(kb *k, gpu_weight *const *ws, int n_ws, int rows_kind, hearth_error *err) {
    bool with_rows = rows_kind != ROWS_NONE;
    /* exact mode's decode products: rows_q_exact.wgsl on the logical matrix */
    bool exact = rows_kind >= ROWS_Q8 && plan_exact_product(k->g, ws[0]->type);
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
            if (with_rows && !exact)
                sb_add_replacing(&k->src, gpu_wgsl(rows_kind >= ROWS_Q8 ? "rows_q.wgsl" : "rows.wgsl"), "WBUF", name);
            rows += (uint32_t)ws[i]->slice_rows[s];
            bounds[n++] = rows;
        }
    }
    kb_file(k, "quants.wgsl");
    /* blocks of 32 a row: the groups every weight type's accessors take (a
     * K-quant super-block is 8 of them) and the input's Q8 blocks */
    kb_u(k, "BPR", (uint64_t)(ws[0]->cols / GPU_Q8_BLOCK));
    kb_act(k, gpu_type_act(ws[0]->type));
    kb_u(k, "COLS", (uint64_t)ws[0]->cols);
    /* wsel_deq / wsel_deqd (without Q4_1/Q5_1's offset) / wsel_m of a row of the logical matrix */
    static const struct {
        const char *name, *params, *ret, *call;
    } sel[] = {{"deq", "b: u32, j: u32", "mat2x4<f32>", "(row - %uu) * BPR + b, j"},
               {"deqd", "b: u32, j: u32", "mat2x4<f32>", "(row - %uu) * BPR + b, j"},
               {"m", "b: u32", "vec2<f32>", "(row - %uu) * BPR + b"}};
    /* and, for the integer products (mmq.wgsl), wsel_q8 / wsel_d; in exact
     * mode for the K-quants (dot_exact_k.wgsl) wsel_qu / wsel_ksc / wsel_kd */
    static const struct {
        const char *name, *params, *ret, *call;
    } qsel[] = {{"q8", "b: u32", "array<vec4<u32>, 2>", "(row - %uu) * BPR + b"}, {"d", "b: u32", "vec2<f32>", "(row - %uu) * BPR + b"},
                {"qu", "b: u32", "array<vec4<u32>, 2>", "(row - %uu) * BPR + b"}, {"ksc", "b: u32", "vec4<i32>", "(row - %uu) * BPR + b"},
                {"kd", "b: u32", "vec2<f32>", "(row - %uu) * BPR + b"}};
    const int act = gpu_type_act(ws[0]->type);
    size_t n_sel = sizeof sel / sizeof *sel + (act == 4 && plan_exact_product(k->g, ws[0]->type) ? 5 : act >= 3 ? 2 : 0);
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
    if (exact) {
        kb_u(k, "WROWS", rows);
        kb_file(k, "exactmath.wgsl");
        kb_dot_exact(k, ws[0]->type);
        kb_file(k, "rows_q_exact.wgsl");
    } else if (with_rows) {
        sb_add(&k->src, "fn rows_at(row: u32, tid: u32, xs: f32) -> array<vec2<f32>, R> {\n");
        for (int s = 0; s < n; s++) {
            uint32_t from = s ? bounds[s - 1] : 0;
            if (s < n - 1) sb_printf(&k->src, "  if (row < %uu) { return w%d_rows(row - %uu, tid, xs); }\n", bounds[s], s, from);
            else sb_printf(&k->src, "  return w%d_rows(row - %uu, tid, xs);\n}\n", s, from);
        }
    }
    if (with_rows) {
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

bool same_pipe(const pipe_entry *p, const kb *k) {
    if (p->n_layout != k->n || strcmp(p->src, k->src.p)) return false;
    for (int i = 0; i < k->n; i++)
        if (p->layout[i].kind != k->layout[i].kind) return false;
    return true;
}

/* A 1D count of workgroups as a 2D grid within the per-dimension limit. */
void plan_grid(uint64_t n, uint32_t *x, uint32_t *y) {
    *x = n <= 65535 ? (uint32_t)(n ? n : 1) : 32768;
    *y = (uint32_t)((n + *x - 1) / *x);
    if (!*y) *y = 1;
}

hearth_status kb_dispatch(kb *k, int list, uint32_t x, uint32_t y, hearth_error *err) {
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
