/* Dumps the GPU plan of a GGUF file for per-kernel tests on a real WebGPU
 * device (tests/e2e/webgpu_kernels.test.mjs, Dawn on SwiftShader): every
 * buffer, pipeline (WGSL, layout) and dispatch list, the bytes the plan and
 * its upload write (norms, RoPE table, repacked weights), and kernel cases:
 * a few dispatches to run from the start of their list, their inputs
 * (deterministic random data) and outputs expected by the CPU kernels
 * (src/cpu/kernels.h, scalar reference) on the same data:
 *   rmsnorm    prefill rmsnorm.wgsl: xb = x / rms(x) * attn_norm
 *   product    prefill output product of layer 0 (mm.wgsl, or q8_act.wgsl +
 *              mmq.wgsl): x += Wo * act(attn)
 *   qkv        decode mv_qkv.wgsl of layer 0 (rows.wgsl or rows_q.wgsl):
 *              qkv = Wqkv * act(xn / rms(x)) + bias
 *   attention  decode attention of layer 0 (attn_split.wgsl + attn_combine.wgsl,
 *              attn_one.wgsl or attn_decode.wgsl): RoPE, the new K/V row
 *              stored in the f16 cache, softmax(q K) V (attention_row_scalar)
 *   prefill attention  rope_kv.wgsl + attn_tile.wgsl / attn_prefill.wgsl, causal
 *   embed, mv_res, head  embed.wgsl (decode: the step's token; prefill: the tokens buffer); mv_res.wgsl (x += Wo a, xn = x * ffn_norm);
 *              mv_out.wgsl + sample_a/b.wgsl (logits, repetition penalty, greedy token)
 *   swiglu     decode mv_swiglu.wgsl + mv_res.wgsl (the down product, on SwiGLU's Q8 output
 *              where fused); prefill rmsnorm(_q8).wgsl + mm.wgsl / mmq.wgsl
 *              MODE 2: act = silu(Wgate a) * (Wup a)
 * Usage: plan_dump MODEL.gguf OUT [--limits B,MAXBUF,WGMEM,NSTORAGE,SUBGROUPS,F16,DOT4]
 *        [--no-mmq] [--exact] [--attn-one] [--no-subgroups] [--max-binding BYTES] [--tokens N]
 *        [--retype TYPE [--retype-v VTYPE]] (every matrix replaced by random blocks of TYPE,
 *        e.g. q4_K, attn_v by VTYPE's: the K-quants and IQ4 against a reference
 *        dequantization written here, and QKV groups of two types);
 * writes OUT.json and OUT.bin.
 * plan_dump --gelu OUT: the CPU path's GELU table (gelu_table_init: 65536
 * f16), libm's tanhf of the floats with bits i * 1103 for i < 2^20
 * (f32), then 2^20 (x, expf(x)) pairs (f32), in OUT (exactmath.wgsl /
 * gelu.wgsl against them). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/activation.h"
#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "engine.h"
#include "model/ggml_types.h"
#include "gpu/gpu_host.h"
#include "gpu/plan.h"
#include "gpu/weights.h"
#include "host_native.h"

/* ---- a host that keeps everything ---- */

typedef struct {
    uint64_t size;
    int usage;
} dbuf;
typedef struct {
    uint32_t id;
    uint64_t off, len, at; /* at: offset in the blob */
} dwrite;
typedef struct {
    char *label, *wgsl;
    gpu_layout_entry layout[32];
    int n;
} dpipe;
typedef struct {
    int list;
    uint32_t pipe, x, y, z;
    gpu_bind_entry b[32];
    int n;
} ddisp;

typedef struct {
    gpu_limits lim;
    dbuf *bufs;
    uint32_t n_bufs;
    dwrite *w;
    int n_w, cap_w;
    uint8_t *blob;
    uint64_t blob_n, blob_cap;
    dpipe *p;
    int n_p, cap_p;
    ddisp *d;
    int n_d, cap_d;
} dump;

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "plan_dump: out of memory\n");
        exit(2);
    }
    return q;
}

static uint64_t blob_add(dump *d, const void *src, uint64_t len) {
    if (d->blob_n + len > d->blob_cap) {
        d->blob_cap = (d->blob_n + len) * 2 + (1 << 20);
        d->blob = xrealloc(d->blob, d->blob_cap);
    }
    uint64_t at = d->blob_n;
    if (len) memcpy(d->blob + at, src, len);
    d->blob_n += (len + 3) & ~(uint64_t)3;
    return at;
}

static hearth_status h_limits(void *ctx, gpu_limits *out, hearth_error *err) {
    *out = ((dump *)ctx)->lim;
    return HEARTH_OK;
}
static hearth_status h_buffer(void *ctx, uint32_t id, uint64_t size, gpu_buffer_usage usage, hearth_error *err) {
    dump *d = ctx;
    if (id >= d->n_bufs) {
        d->bufs = xrealloc(d->bufs, (id + 1) * sizeof *d->bufs);
        memset(d->bufs + d->n_bufs, 0, (id + 1 - d->n_bufs) * sizeof *d->bufs);
        d->n_bufs = id + 1;
    }
    d->bufs[id] = (dbuf){size, (int)usage};
    return HEARTH_OK;
}
static hearth_status h_write(void *ctx, uint32_t id, uint64_t off, const void *src, size_t len, hearth_error *err) {
    dump *d = ctx;
    if (d->n_w == d->cap_w) d->w = xrealloc(d->w, (size_t)(d->cap_w = d->cap_w * 2 + 64) * sizeof *d->w);
    d->w[d->n_w++] = (dwrite){id, off, len, blob_add(d, src, len)};
    return HEARTH_OK;
}
static hearth_status h_pipeline(void *ctx, uint32_t id, const char *label, const char *wgsl, size_t len,
                                const gpu_layout_entry *layout, int n, hearth_error *err) {
    dump *d = ctx;
    if (d->n_p == d->cap_p) d->p = xrealloc(d->p, (size_t)(d->cap_p = d->cap_p * 2 + 16) * sizeof *d->p);
    dpipe *p = &d->p[d->n_p++];
    p->label = strdup(label);
    p->wgsl = xrealloc(NULL, len + 1);
    memcpy(p->wgsl, wgsl, len);
    p->wgsl[len] = 0;
    p->n = n < 32 ? n : 32;
    memcpy(p->layout, layout, (size_t)p->n * sizeof *layout);
    return HEARTH_OK;
}
static hearth_status h_dispatch(void *ctx, int list, uint32_t pipe, const gpu_bind_entry *b, int n, uint32_t x,
                                uint32_t y, uint32_t z, hearth_error *err) {
    dump *d = ctx;
    if (d->n_d == d->cap_d) d->d = xrealloc(d->d, (size_t)(d->cap_d = d->cap_d * 2 + 64) * sizeof *d->d);
    ddisp *e = &d->d[d->n_d++];
    *e = (ddisp){.list = list, .pipe = pipe, .x = x, .y = y, .z = z, .n = n < 32 ? n : 32};
    memcpy(e->b, b, (size_t)e->n * sizeof *b);
    return HEARTH_OK;
}

/* ---- reading the plan back ---- */

/* The buffer a dispatch binds under a WGSL variable name, or UINT32_MAX. */
static uint32_t bound(const dump *d, const ddisp *e, const char *name) {
    const char *w = d->p[e->pipe].wgsl;
    char pat[64];
    snprintf(pat, sizeof pat, "> %s:", name);
    for (const char *s = strstr(w, "@binding("); s; s = strstr(s + 1, "@binding(")) {
        const char *semi = strchr(s, ';'), *hit = strstr(s, pat);
        if (hit && semi && hit < semi) {
            uint32_t b = (uint32_t)atoi(s + 9);
            for (int i = 0; i < e->n; i++)
                if (e->b[i].binding == b) return e->b[i].buffer;
        }
    }
    return UINT32_MAX;
}

static long wgsl_u(const dump *d, const ddisp *e, const char *name) {
    char pat[64];
    snprintf(pat, sizeof pat, "const %s: u32 = ", name);
    const char *s = strstr(d->p[e->pipe].wgsl, pat);
    return s ? atol(s + strlen(pat)) : -1;
}

/* Index of the n-th dispatch (0-based) of a list whose pipeline is `label`. */
static int find(const dump *d, int list, const char *label, int nth, long mode) {
    for (int i = 0; i < d->n_d; i++)
        if (d->d[i].list == list && !strcmp(d->p[d->d[i].pipe].label, label) && (mode < 0 || wgsl_u(d, &d->d[i], "MODE") == mode) &&
            nth-- == 0)
            return i;
    return -1;
}

/* Position of dispatch i within its list. */
static int list_pos(const dump *d, int i) {
    int n = 0;
    for (int k = 0; k < i; k++) n += d->d[k].list == d->d[i].list;
    return n;
}

/* ---- cases ---- */

typedef struct {
    uint32_t id;
    uint64_t off, at, len;
    int half; /* outputs: 1 f16 values (the KV cache), 2 u32 (exact), else f32 */
} region;

typedef struct {
    char name[160];
    int list, first, count;
    region in[6];
    int n_in;
    region out[12]; /* expected values at `at` in the blob, len bytes */
    int n_out;
    double tol;
} kcase;

/* Scratch memory of the cases, freed together at the end. */
static void *scratch[1024];
static int n_scratch;
static void *talloc(size_t n) {
    if (n_scratch == 1024) {
        fprintf(stderr, "plan_dump: too many scratch blocks\n");
        exit(2);
    }
    return scratch[n_scratch++] = xrealloc(NULL, n);
}
static void scratch_free(void) {
    while (n_scratch) free(scratch[--n_scratch]);
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static float rnd(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static float *rnd_vec(size_t n, float scale) {
    float *v = talloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = rnd() * scale;
    return v;
}

static float rms_scale(const float *x, int n, float eps) {
    float s = 0;
    for (int i = 0; i < n; i++) s += x[i] * x[i];
    return 1.0f / sqrtf(s / (float)n + eps);
}

/* The scale as the CPU path's rmsnorm (src/cpu/forward.c) sums it, in
 * double: exact mode's kernels (rms_exact.wgsl) follow it. */
static float rms_scale_cpu(const float *x, int n, float eps) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    return 1.0f / sqrtf((float)(sum / n) + eps);
}

/* A decode product's input: exact mode's (x * scale) * the norm's weights,
 * as the CPU path's rmsnorm; else xn (x * the weights, written before it)
 * times the scale, as the fast kernels take it. */
static void norm_input(bool exact, const float *x, const float *xn, const float *w, int n, float eps, float *out) {
    float s = exact ? rms_scale_cpu(x, n, eps) : rms_scale(x, n, eps);
    for (int j = 0; j < n; j++) out[j] = exact ? x[j] * s * w[j] : xn[j] * s;
}

/* ---- the K-quants and IQ4 (--retype): a reference written here, as ggml's
 * dequantize_row_* (ggml-quants.c) and quantize_row_q8_K_ref / the Q8_0
 * rounding the GPU gives their products' input, until the CPU kernels have
 * them ---- */

static bool ref_type(uint32_t t) {
    return t == GGML_TYPE_Q2_K || t == GGML_TYPE_Q3_K || t == GGML_TYPE_Q4_K || t == GGML_TYPE_Q5_K || t == GGML_TYPE_Q6_K ||
           t == GGML_TYPE_IQ4_NL || t == GGML_TYPE_IQ4_XS;
}

static float h2f(const uint8_t *p) { return ggml_fp16_to_fp32((ggml_half)(p[0] | p[1] << 8)); }

/* ggml's get_scale_min_k4 */
static void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* One row of n values (whole blocks) of a --retype type, as ggml dequantizes it. */
static void ref_dequant(uint32_t type, const uint8_t *x, float *y, int n) {
    if (type == GGML_TYPE_IQ4_NL) {
        for (int i = 0; i < n / 32; i++, x += 18) {
            const float d = h2f(x);
            for (int j = 0; j < 16; j++) {
                y[32 * i + j] = d * kvalues_iq4nl[x[2 + j] & 0xf];
                y[32 * i + j + 16] = d * kvalues_iq4nl[x[2 + j] >> 4];
            }
        }
        return;
    }
    for (int i = 0; i < n / QK_K; i++) {
        switch (type) {
        case GGML_TYPE_Q2_K: {
            const uint8_t *sc = x, *q = x + 16;
            const float d = h2f(x + 80), dmin = h2f(x + 82);
            int is = 0;
            for (int nn = 0; nn < QK_K; nn += 128, q += 32)
                for (int shift = 0; shift < 8; shift += 2)
                    for (int half = 0; half < 2; half++) {
                        uint8_t s = sc[is++];
                        float dl = d * (s & 0xF), ml = dmin * (s >> 4);
                        for (int l = 0; l < 16; l++) *y++ = dl * ((int8_t)((q[l + 16 * half] >> shift) & 3)) - ml;
                    }
            x += sizeof(block_q2_K);
            break;
        }
        case GGML_TYPE_Q3_K: {
            const uint8_t *hm = x, *q = x + 32, *sc = x + 96;
            const float d_all = h2f(x + 108);
            int8_t scales[16];
            for (int k = 0; k < 16; k++)
                scales[k] = (int8_t)((((sc[k % 8] >> (4 * (k / 8))) & 0xF) | (((sc[8 + k % 4] >> (2 * (k / 4))) & 3) << 4)) - 32);
            int is = 0;
            uint8_t m = 1;
            for (int nn = 0; nn < QK_K; nn += 128, q += 32)
                for (int shift = 0; shift < 8; shift += 2, m <<= 1)
                    for (int half = 0; half < 2; half++) {
                        float dl = d_all * scales[is++];
                        for (int l = 16 * half; l < 16 * half + 16; l++)
                            *y++ = dl * ((int8_t)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                    }
            x += sizeof(block_q3_K);
            break;
        }
        case GGML_TYPE_Q4_K:
        case GGML_TYPE_Q5_K: {
            const bool five = type == GGML_TYPE_Q5_K;
            const float d = h2f(x), dmin = h2f(x + 2);
            const uint8_t *scales = x + 4, *qh = x + 16, *ql = x + (five ? 48 : 16);
            int is = 0;
            uint8_t u1 = 1, u2 = 2, sc, m;
            for (int j = 0; j < QK_K; j += 64, ql += 32, u1 <<= 2, u2 <<= 2) {
                scale_min_k4(is + 0, scales, &sc, &m);
                const float d1 = d * sc, m1 = dmin * m;
                scale_min_k4(is + 1, scales, &sc, &m);
                const float d2 = d * sc, m2 = dmin * m;
                for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (five && (qh[l] & u1) ? 16 : 0)) - m1;
                for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (five && (qh[l] & u2) ? 16 : 0)) - m2;
                is += 2;
            }
            x += five ? sizeof(block_q5_K) : sizeof(block_q4_K);
            break;
        }
        case GGML_TYPE_Q6_K: {
            const uint8_t *ql = x, *qh = x + 128;
            const int8_t *sc = (const int8_t *)(x + 192);
            const float d = h2f(x + 208);
            for (int nn = 0; nn < QK_K; nn += 128, ql += 64, qh += 32, sc += 8, y += 128)
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    const int8_t q1 = (int8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    const int8_t q3 = (int8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * sc[is + 0] * q1;
                    y[l + 32] = d * sc[is + 2] * q2;
                    y[l + 64] = d * sc[is + 4] * q3;
                    y[l + 96] = d * sc[is + 6] * q4;
                }
            x += sizeof(block_q6_K);
            break;
        }
        default: { /* IQ4_XS */
            const float d = h2f(x);
            const unsigned scales_h = (unsigned)(x[2] | x[3] << 8);
            const uint8_t *qs = x + 8;
            for (int ib = 0; ib < QK_K / 32; ib++, qs += 16, y += 32) {
                const int ls = ((x[4 + ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);
                const float dl = d * (ls - 32);
                for (int j = 0; j < 16; j++) {
                    y[j] = dl * kvalues_iq4nl[qs[j] & 0xf];
                    y[j + 16] = dl * kvalues_iq4nl[qs[j] >> 4];
                }
            }
            x += sizeof(block_iq4_xs);
            break;
        }
        }
    }
}

/* x rounded as the GPU rounds a product's input for weights of this type:
 * Q8_K (ggml's quantize_row_q8_K_ref) or, IQ4_NL, Q8_0 blocks (f16 d,
 * codes round_even(x * 127 / max|x|)). */
static void ref_act(uint32_t type, const float *x, float *out, int n) {
    if (type == GGML_TYPE_IQ4_NL) {
        for (int b = 0; b < n / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
            const float d = ggml_fp16_to_fp32(ggml_fp32_to_fp16(amax / 127)), id = amax != 0 ? 127.0f / amax : 0;
            for (int j = 0; j < 32; j++) out[32 * b + j] = nearbyintf(x[32 * b + j] * id) * d;
        }
        return;
    }
    block_q8_K *q = talloc((size_t)(n / QK_K) * sizeof *q);
    kernels_fill_q8_K_row(x, q, n);
    for (int i = 0; i < n; i++) out[i] = q[i / QK_K].d * q[i / QK_K].qs[i % QK_K];
}

/* W times act(x) in double, from the dequantized rows. */
static void ref_product(const weight *w, const uint8_t *wbytes, const float *x, int n_tok, float *out) {
    float *row = talloc((size_t)w->cols * 4), *a = talloc((size_t)n_tok * w->cols * 4);
    for (int t = 0; t < n_tok; t++) ref_act(w->type, x + (size_t)t * w->cols, a + (size_t)t * w->cols, w->cols);
    for (int r = 0; r < w->rows; r++) {
        ref_dequant(w->type, wbytes + (size_t)r * w->row_bytes, row, w->cols);
        for (int t = 0; t < n_tok; t++) {
            double s = 0;
            for (int k = 0; k < w->cols; k++) s += (double)row[k] * a[(size_t)t * w->cols + k];
            out[(size_t)t * w->rows + r] = (float)s;
        }
    }
}

/* Whether the CPU kernels multiply this type (the K-quants and IQ4 since main's kq1/kq2 merge). */
static bool cpu_has(uint32_t type) {
    const ggml_type_info *t = ggml_type_info_of(type);
    return t && (t->cpu & TYPE_CPU_SCALAR);
}

/* A row dequantized: the CPU's kernels_dequantize_row; for a --retype type
 * also this file's reference, which must agree bit for bit (two
 * independent readings of ggml's dequantize_row_*). */
static void dequantize_row(uint32_t type, const void *src, float *dst, int n) {
    if (!ref_type(type)) {
        kernels_dequantize_row(type, src, dst, n);
        return;
    }
    ref_dequant(type, src, dst, n);
    if (!cpu_has(type)) return;
    float *c = talloc((size_t)n * 4);
    kernels_dequantize_row(type, src, c, n);
    if (memcmp(c, dst, (size_t)n * 4)) {
        fprintf(stderr, "plan_dump: kernels_dequantize_row and the reference here differ on a %s row\n", ggml_type_name(type));
        exit(1);
    }
}

/* W (rows x cols of type) times act(x) for n_tok tokens, by the CPU's scalar kernels: out[t * rows + r]
 * (or, for a type they lack, this file's reference in double). */
static void cpu_product(const weight *w, const uint8_t *wbytes, const float *x, int n_tok, float *out) {
    if (ref_type(w->type) && !cpu_has(w->type)) {
        ref_product(w, wbytes, x, n_tok, out);
        return;
    }
    hearth_kernels k;
    kernels_init(&k, false);
    size_t rb = kernels_act_row_bytes(w->type, w->cols);
    uint8_t *act = talloc(rb * (size_t)n_tok + 64);
    for (int t = 0; t < n_tok; t++) kernels_quantize_act(&k, w->type, x + (size_t)t * w->cols, act + rb * t, w->cols);
    kernels_matmul(&k, w->type, wbytes, w->cols, 0, w->rows, act, n_tok, out, (size_t)w->rows);
}

static uint8_t *read_weight(const hearth_host *h, const weight *w) {
    uint8_t *b = talloc((size_t)w->src->size);
    hearth_error err;
    if (h->read(h->ctx, w->src->part, w->src->offset, b, (size_t)w->src->size, &err)) {
        fprintf(stderr, "plan_dump: %s\n", err.message);
        exit(1);
    }
    return b;
}

static void add_in(dump *d, kcase *c, uint32_t id, uint64_t off, const void *src, uint64_t len) {
    /* (a binding the plan's kernels do not have: exact mode's products read x and the norm, not xn) */
    if (id == UINT32_MAX) return;
    c->in[c->n_in++] = (region){id, off, blob_add(d, src, len), len, 0};
}
static void add_out(dump *d, kcase *c, uint32_t id, const float *v, size_t n) {
    c->out[c->n_out++] = (region){id, 0, blob_add(d, v, n * 4), n * 4, 0};
}
static void add_out_half(dump *d, kcase *c, uint32_t id, uint64_t off, const uint16_t *v, size_t n) {
    c->out[c->n_out++] = (region){id, off, blob_add(d, v, n * 2), n * 2, 1};
}

/* The bytes the plan wrote at creation to buffer id (its one write), copied. */
static float *init_floats(const dump *d, uint32_t id, size_t *n) {
    for (int i = 0; i < d->n_w; i++)
        if (d->w[i].id == id && d->w[i].off == 0) {
            float *v = talloc((size_t)d->w[i].len);
            memcpy(v, d->blob + d->w[i].at, (size_t)d->w[i].len);
            *n = (size_t)d->w[i].len / 4;
            return v;
        }
    return NULL;
}

/* RoPE of one head as the CPU does it (forward.c; the GPU's rope.wgsl the same way), with the plan's table. */
static void rope_ref(const model_hparams *hp, const float *table, int pos, const float *in, float *out) {
    int rd = hp->rope_dim;
    memcpy(out, in, (size_t)hp->head_dim * 4);
    for (int i = 0; i < rd / 2; i++) {
        int a = hp->rope_neox ? i : 2 * i, b = hp->rope_neox ? i + rd / 2 : 2 * i + 1;
        float c = table[(size_t)pos * rd + 2 * i], s = table[(size_t)pos * rd + 2 * i + 1];
        out[a] = fmaf(in[a], c, -(in[b] * s));
        out[b] = fmaf(in[a], s, in[b] * c);
    }
}

/* Attention of layer 0 for T tokens at positions pos.. over a cache of random f16 rows: the new
 * k / v rows stored, out[t][h] = softmax(q k / sqrt(hd)) v over positions up to pos + t, by the
 * CPU's attention row (f16 numerics, exact) or exact sums (the fast attentions accumulate in f32). */
static void attention_case(dump *d, const model_hparams *hp, int i, int count, int pos, int T, int n_ctx, bool exact,
                           kcase *c) {
    const ddisp *e = &d->d[i];
    uint32_t src = bound(d, e, "src"), kc = bound(d, e, "kc"), vc = bound(d, e, "vc"), out = bound(d, &d->d[i + count - 1], "outv");
    size_t n_table = 0;
    float *table = init_floats(d, bound(d, e, "rope"), &n_table);
    int HD = hp->head_dim, QD = hp->n_head * HD, KVD = hp->n_head_kv * HD, QKVD = QD + 2 * KVD, G = hp->n_head / hp->n_head_kv;
    if (!table || n_table < (size_t)(pos + T) * hp->rope_dim || pos + T > 4096) {
        fprintf(stderr, "plan_dump: no RoPE table\n");
        exit(1);
    }
    float *x = rnd_vec((size_t)T * QKVD, 1);
    size_t n_cache = (size_t)hp->n_head_kv * n_ctx * HD;
    uint16_t *K = talloc(n_cache * 2), *V = talloc(n_cache * 2), *acc = talloc((size_t)HD * 2);
    memset(K, 0, n_cache * 2);
    memset(V, 0, n_cache * 2);
    for (int h = 0; h < hp->n_head_kv; h++)
        for (int p = 0; p < pos; p++)
            for (int k = 0; k < HD; k++) {
                K[((size_t)h * n_ctx + p) * HD + k] = ggml_fp32_to_fp16(rnd());
                V[((size_t)h * n_ctx + p) * HD + k] = ggml_fp32_to_fp16(rnd());
            }
    gpu_step st = {.pos = (uint32_t)pos, .n_tok = (uint32_t)T, .n_cand = 1, .top_p = 1, .penalty = 1};
    add_in(d, c, GPU_BUF_STEP, 0, &st, sizeof st);
    add_in(d, c, src, 0, x, (size_t)T * QKVD * 4);
    add_in(d, c, kc, 0, K, n_cache * 2);
    add_in(d, c, vc, 0, V, n_cache * 2);
    float *r = talloc((size_t)HD * 4), *o = talloc((size_t)T * QD * 4);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < hp->n_head_kv; h++) { /* the new rows, as the CPU stores them */
            rope_ref(hp, table, pos + t, x + (size_t)t * QKVD + QD + (size_t)h * HD, r);
            for (int k = 0; k < HD; k++) {
                K[((size_t)h * n_ctx + pos + t) * HD + k] = ggml_fp32_to_fp16(r[k]);
                V[((size_t)h * n_ctx + pos + t) * HD + k] = ggml_fp32_to_fp16(x[(size_t)t * QKVD + QD + KVD + (size_t)h * HD + k]);
            }
        }
    for (int t = 0; t < T; t++)
        for (int h = 0; h < hp->n_head; h++) {
            int n_pos = pos + t + 1;
            float *oh = o + (size_t)t * QD + (size_t)h * HD;
            rope_ref(hp, table, pos + t, x + (size_t)t * QKVD + (size_t)h * HD, r);
            const uint16_t *Kh = K + (size_t)(h / G) * n_ctx * HD, *Vh = V + (size_t)(h / G) * n_ctx * HD;
            if (exact) { /* a batch of 64+ rows: ggml's tiled path, as forward.c picks it */
                if (attention_tiled_applies(T, HD))
                    attention_tiled_row(r, Kh, Vh, 0, 0, n_pos, HD, HD, 1.0f / sqrtf((float)HD), 0.0f, oh,
                                        attention_tiled_select(false));
                else attention_row_scalar(r, Kh, Vh, n_pos, HD, HD, 1.0f / sqrtf((float)HD), acc, oh);
                continue;
            }
            double sc[4096], mx = -1e300, l = 0;
            for (int p = 0; p < n_pos; p++) {
                double dot = 0;
                for (int k = 0; k < HD; k++)
                    dot += (double)ggml_fp16_to_fp32(ggml_fp32_to_fp16(r[k])) * ggml_fp16_to_fp32(Kh[(size_t)p * HD + k]);
                sc[p] = dot / sqrt((double)HD);
                if (sc[p] > mx) mx = sc[p];
            }
            for (int p = 0; p < n_pos; p++) l += sc[p] = exp(sc[p] - mx);
            for (int k = 0; k < HD; k++) {
                double a = 0;
                for (int p = 0; p < n_pos; p++) a += sc[p] * ggml_fp16_to_fp32(Vh[(size_t)p * HD + k]);
                oh[k] = (float)(a / l);
            }
        }
    add_out(d, c, out, o, (size_t)T * QD);
    for (int h = 0; h < hp->n_head_kv && c->n_out + 2 <= 12; h++) {
        size_t row = ((size_t)h * n_ctx + pos) * HD;
        add_out_half(d, c, kc, row * 2, K + row, (size_t)T * HD);
        add_out_half(d, c, vc, row * 2, V + row, (size_t)T * HD);
    }
}

/* A product's tolerance: none in exact mode where the GPU sums in the CPU
 * kernels' order (plan_exact_product: the integer products), else
 * f32 sums in another order. */
static double product_tol(bool exact, uint32_t type) {
    return exact && gpu_type_act(type) >= 3 ? 0 : 2e-5;
}

static int make_cases(dump *d, const model *m, const hearth_host *h, int T, int n_ctx, int batch, bool exact_attention,
                      kcase *cases) {
    const model_hparams *hp = &m->hp;
    int n = 0, E = hp->n_embd;
    gpu_step step = {.pos = 0, .n_tok = (uint32_t)T, .n_cand = 1, .temp = 0, .top_p = 1, .penalty = 1};
    /* rmsnorm (plans whose first norm is the float one) */
    int i = find(d, GPU_LIST_PREFILL, "rmsnorm.wgsl", 0, -1);
    if (i >= 0) {
        kcase *c = &cases[n++];
        *c = (kcase){.list = GPU_LIST_PREFILL, .first = list_pos(d, i), .count = 1, .tol = 1e-5};
        snprintf(c->name, sizeof c->name, "rmsnorm.wgsl (prefill, %d tokens)", T);
        float *x = rnd_vec((size_t)T * E, 3), *out = talloc((size_t)T * E * 4);
        for (int t = 0; t < T; t++) {
            float s = exact_attention ? rms_scale_cpu(x + (size_t)t * E, E, hp->rms_eps) : rms_scale(x + (size_t)t * E, E, hp->rms_eps);
            for (int j = 0; j < E; j++) out[(size_t)t * E + j] = x[(size_t)t * E + j] * s * m->layers[0].attn_norm[j];
        }
        add_in(d, c, GPU_BUF_STEP, 0, &step, sizeof step);
        add_in(d, c, bound(d, &d->d[i], "x"), 0, x, (size_t)T * E * 4);
        add_out(d, c, bound(d, &d->d[i], "xb"), out, (size_t)T * E);
    }
    /* layer 0's output product, prefill: x += Wo * act(attn) */
    const weight *wo = &m->layers[0].wo;
    bool mmq = find(d, GPU_LIST_PREFILL, "mmq.wgsl", 0, 1) >= 0;
    i = find(d, GPU_LIST_PREFILL, mmq ? "mmq.wgsl" : "mm.wgsl", 0, 1);
    if (i >= 0) {
        int first = mmq ? i - 1 : i; /* q8_act.wgsl quantizes its input first */
        if (mmq && strcmp(d->p[d->d[first].pipe].label, "q8_act.wgsl")) first = -1;
        if (first >= 0) {
            kcase *c = &cases[n++];
            *c = (kcase){.list = GPU_LIST_PREFILL, .first = list_pos(d, first), .count = i - first + 1, .tol = product_tol(exact_attention, wo->type)};
            snprintf(c->name, sizeof c->name, "%s%s (prefill output product, %s, %d tokens)", mmq ? "q8_act.wgsl + " : "",
                     mmq ? "mmq.wgsl" : "mm.wgsl", ggml_type_name(wo->type), T);
            uint32_t xin = bound(d, &d->d[first], "xin"), outv = bound(d, &d->d[i], "outv");
            float *a = rnd_vec((size_t)T * wo->cols, 1), *res = rnd_vec((size_t)T * E, 1);
            float *p = talloc((size_t)T * wo->rows * 4);
            uint8_t *wb = read_weight(h, wo);
            cpu_product(wo, wb, a, T, p);
            for (size_t k = 0; k < (size_t)T * E; k++) p[k] += res[k];
            add_in(d, c, GPU_BUF_STEP, 0, &step, sizeof step);
            add_in(d, c, xin, 0, a, (size_t)T * wo->cols * 4);
            add_in(d, c, outv, 0, res, (size_t)T * E * 4);
            add_out(d, c, outv, p, (size_t)T * E);
        }
    }
    /* layer 0's QKV product, decode */
    i = find(d, GPU_LIST_DECODE, "mv_qkv.wgsl", 0, -1);
    if (i >= 0) {
        const model_layer *l = &m->layers[0];
        const weight *ws[3];
        int nw = 0;
        for (int k = 0; k < l->n_qkv; k++) ws[nw++] = &l->qkv[k];
        int rows = 0;
        for (int k = 0; k < nw; k++) rows += ws[k]->rows;
        /* a group of several types: a dispatch per run of one type, one after the other */
        int count = 1;
        while (i + count < d->n_d && !strcmp(d->p[d->d[i + count].pipe].label, "mv_qkv.wgsl")) count++;
        kcase *c = &cases[n++];
        *c = (kcase){.list = GPU_LIST_DECODE, .first = list_pos(d, i), .count = count, .tol = 0};
        for (int k = 0; k < nw; k++) c->tol = fmax(c->tol, product_tol(exact_attention, ws[k]->type));
        bool q = strstr(d->p[d->d[i].pipe].wgsl, "fn prep_input(xs: f32, tid: u32) {}") == NULL;
        snprintf(c->name, sizeof c->name, "mv_qkv.wgsl (decode QKV product, %s%s%s, %s)", ggml_type_name(ws[0]->type),
                 ws[nw - 1]->type != ws[0]->type ? " with v in " : "", ws[nw - 1]->type != ws[0]->type ? ggml_type_name(ws[nw - 1]->type) : "",
                 count > 1 ? "a dispatch per type" : q ? "integer rows_q.wgsl" : "rows.wgsl");
        float *x = rnd_vec((size_t)E, 2), *xn = rnd_vec((size_t)E, 1), *xs = talloc((size_t)E * 4);
        float *out = talloc((size_t)rows * 4);
        norm_input(exact_attention, x, xn, l->attn_norm, E, hp->rms_eps, xs);
        int at = 0;
        for (int k = 0; k < nw; k++) {
            uint8_t *wb = read_weight(h, ws[k]);
            cpu_product(ws[k], wb, xs, 1, out + at);
            at += ws[k]->rows;
        }
        if (l->qkv_bias[0]) {
            int qd = hp->n_head * hp->head_dim, kd = hp->n_head_kv * hp->head_dim;
            for (int j = 0; j < rows; j++)
                out[j] += j < qd ? l->qkv_bias[0][j] : j < qd + kd ? l->qkv_bias[1][j - qd] : l->qkv_bias[2][j - qd - kd];
        }
        gpu_step s1 = step;
        s1.n_tok = 1;
        add_in(d, c, GPU_BUF_STEP, 0, &s1, sizeof s1);
        add_in(d, c, bound(d, &d->d[i], "x"), 0, x, (size_t)E * 4);
        add_in(d, c, bound(d, &d->d[i], "xin"), 0, xn, (size_t)E * 4);
        add_out(d, c, bound(d, &d->d[i], "outv"), out, (size_t)rows);
    }
    /* layer 0's feed-forward gate and up products with SwiGLU: decode mv_swiglu.wgsl (on xn / rms(x)),
     * prefill the norm (rmsnorm.wgsl or rmsnorm_q8.wgsl) then mm.wgsl / mmq.wgsl in MODE 2 */
    {
        const model_layer *l = &m->layers[0];
        const weight *gw = &l->gate_up[0], *uw = l->n_gate_up == 2 ? &l->gate_up[1] : NULL;
        int F = hp->n_ff;
        for (int pre = 0; pre < 2; pre++) {
            int j = pre ? find(d, GPU_LIST_PREFILL, mmq ? "mmq.wgsl" : "mm.wgsl", 0, 2) : find(d, GPU_LIST_DECODE, "mv_swiglu.wgsl", 0, -1);
            if (j < 0 || (pre && (j == 0 || !strstr(d->p[d->d[j - 1].pipe].label, "rmsnorm")))) continue;
            int TT = pre ? T : 1, first = pre ? j - 1 : j;
            /* decode: with the down product after it (mv_res.wgsl; its input quantized by mv_swiglu where fused) */
            bool down = !pre && j + 1 < d->n_d && !strcmp(d->p[d->d[j + 1].pipe].label, "mv_res.wgsl");
            bool fused = down && bound(d, &d->d[j + 1], "xqin") != UINT32_MAX;
            kcase *c = &cases[n++];
            *c = (kcase){.list = pre ? GPU_LIST_PREFILL : GPU_LIST_DECODE, .first = list_pos(d, first), .count = j - first + 1 + down,
                        .tol = fmax(product_tol(exact_attention, gw->type), down ? product_tol(exact_attention, l->down.type) : 0)};
            snprintf(c->name, sizeof c->name, "%s%s (%s gate/up products and SwiGLU%s, %s, %d token%s)", pre ? d->p[d->d[first].pipe].label : "",
                     pre ? (mmq ? " + mmq.wgsl" : " + mm.wgsl") : down ? "mv_swiglu.wgsl + mv_res.wgsl" : "mv_swiglu.wgsl",
                     pre ? "prefill" : "decode", down ? (fused ? ", the down product on its Q8 output" : ", the down product") : "",
                     ggml_type_name(gw->type), TT, TT > 1 ? "s" : "");
            float *x = rnd_vec((size_t)TT * E, 2), *xn = pre ? NULL : rnd_vec((size_t)E, 1), *xs = talloc((size_t)TT * E * 4);
            float *g = talloc((size_t)TT * 2 * F * 4), *u = talloc((size_t)TT * F * 4), *o = talloc((size_t)TT * F * 4);
            for (int t = 0; t < TT; t++) {
                const float *xt = x + (size_t)t * E;
                if (!pre) {
                    norm_input(exact_attention, xt, xn, l->ffn_norm, E, hp->rms_eps, xs);
                    continue;
                }
                /* prefill: the rmsnorm (x * scale) * weights, its scale summed as the CPU path's in exact mode */
                float sc = exact_attention ? rms_scale_cpu(xt, E, hp->rms_eps) : rms_scale(xt, E, hp->rms_eps);
                for (int k = 0; k < E; k++) xs[(size_t)t * E + k] = xt[k] * sc * l->ffn_norm[k];
            }
            uint8_t *wb = read_weight(h, gw);
            cpu_product(gw, wb, xs, TT, g); /* phi3: gate rows then up rows */
            if (uw) {
                wb = read_weight(h, uw);
                cpu_product(uw, wb, xs, TT, u);
            }
            for (int t = 0; t < TT; t++) {
                const float *gt = uw ? g + (size_t)t * F : g + (size_t)t * 2 * F, *ut = uw ? u + (size_t)t * F : gt + F;
                /* exact mode: the CPU path's SwiGLU itself (ggml's exp polynomial) */
                if (exact_attention) swiglu_scalar(gt, ut, o + (size_t)t * F, F);
                else
                    for (int k = 0; k < F; k++) o[(size_t)t * F + k] = gt[k] / (1.0f + expf(-gt[k])) * ut[k];
            }
            gpu_step st = step;
            st.n_tok = (uint32_t)TT;
            add_in(d, c, GPU_BUF_STEP, 0, &st, sizeof st);
            add_in(d, c, bound(d, &d->d[first], "x"), 0, x, (size_t)TT * E * 4);
            if (!pre) add_in(d, c, bound(d, &d->d[j], "xin"), 0, xn, (size_t)E * 4);
            add_out(d, c, bound(d, &d->d[j], pre ? "outv" : "act"), o, (size_t)TT * F);
            if (down) { /* x += Wdown * act(act), xn = x * the next norm's weights */
                const float *next = hp->n_layer > 1 ? m->layers[1].attn_norm : m->output_norm;
                float *y = talloc((size_t)E * 4), *yn = talloc((size_t)E * 4);
                cpu_product(&l->down, read_weight(h, &l->down), o, 1, y);
                for (int k = 0; k < E; k++) {
                    y[k] += x[k];
                    yn[k] = y[k] * next[k];
                }
                add_out(d, c, bound(d, &d->d[j + 1], "x"), y, (size_t)E);
                add_out(d, c, bound(d, &d->d[j + 1], "xn"), yn, (size_t)E);
            }
        }
    }
    /* decode embedding: x = the token's row, xn = x * attn_norm */
    i = find(d, GPU_LIST_DECODE, "embed.wgsl", 0, -1);
    if (i >= 0) {
        const weight *te = &m->tok_embd;
        uint32_t tok = (uint32_t)((int64_t)hp->n_vocab * 5 / 7); /* in a later slice where the matrix is sliced */
        kcase *c = &cases[n++];
        *c = (kcase){.list = GPU_LIST_DECODE, .first = list_pos(d, i), .count = 1, .tol = 0};
        snprintf(c->name, sizeof c->name, "embed.wgsl (decode, token %u, %s)", tok, ggml_type_name(te->type));
        uint8_t *wb = read_weight(h, te);
        float *x = talloc((size_t)E * 4), *xn = talloc((size_t)E * 4);
        dequantize_row(te->type, wb + te->row_bytes * tok, x, E);
        for (int k = 0; k < E; k++) xn[k] = x[k] * m->layers[0].attn_norm[k];
        gpu_step st = step;
        st.n_tok = 1;
        st.token = tok;
        add_in(d, c, GPU_BUF_STEP, 0, &st, sizeof st);
        add_out(d, c, bound(d, &d->d[i], "x"), x, (size_t)E);
        add_out(d, c, bound(d, &d->d[i], "xn"), xn, (size_t)E);
    }
    /* prefill embedding: x[t] = the rows of tokens[t] (the first, the last, across slices) */
    i = find(d, GPU_LIST_PREFILL, "embed.wgsl", 0, -1);
    if (i >= 0) {
        const weight *te = &m->tok_embd;
        uint32_t toks[64];
        int TT = T < 64 ? T : 64;
        for (int t = 0; t < TT; t++) toks[t] = t == 0 ? 0 : t == 1 ? (uint32_t)hp->n_vocab - 1 : (uint32_t)((int64_t)hp->n_vocab * t / TT + t);
        kcase *c = &cases[n++];
        *c = (kcase){.list = GPU_LIST_PREFILL, .first = list_pos(d, i), .count = 1, .tol = 0};
        snprintf(c->name, sizeof c->name, "embed.wgsl (prefill, %d tokens from the tokens buffer, %s)", TT, ggml_type_name(te->type));
        uint8_t *wb = read_weight(h, te);
        float *x = talloc((size_t)TT * E * 4);
        for (int t = 0; t < TT; t++) dequantize_row(te->type, wb + te->row_bytes * toks[t], x + (size_t)t * E, E);
        gpu_step st = step;
        st.n_tok = (uint32_t)TT;
        add_in(d, c, GPU_BUF_STEP, 0, &st, sizeof st);
        add_in(d, c, GPU_BUF_TOKENS, 0, toks, (size_t)TT * 4);
        add_out(d, c, bound(d, &d->d[i], "x"), x, (size_t)TT * E);
    }
    /* decode residual product (layer 0's output product): x += Wo * act(attn), xn = x * ffn_norm */
    i = find(d, GPU_LIST_DECODE, "mv_res.wgsl", 0, -1);
    if (i >= 0) {
        kcase *c = &cases[n++];
        *c = (kcase){.list = GPU_LIST_DECODE, .first = list_pos(d, i), .count = 1, .tol = product_tol(exact_attention, wo->type)};
        snprintf(c->name, sizeof c->name, "mv_res.wgsl (decode output product and the next norm's weights, %s)", ggml_type_name(wo->type));
        float *a = rnd_vec((size_t)wo->cols, 1), *x = rnd_vec((size_t)E, 1), *o = talloc((size_t)E * 4), *on = talloc((size_t)E * 4);
        uint8_t *wb = read_weight(h, wo);
        cpu_product(wo, wb, a, 1, o);
        for (int k = 0; k < E; k++) {
            o[k] += x[k];
            on[k] = o[k] * m->layers[0].ffn_norm[k];
        }
        gpu_step st = step;
        st.n_tok = 1;
        add_in(d, c, GPU_BUF_STEP, 0, &st, sizeof st);
        add_in(d, c, bound(d, &d->d[i], "xin"), 0, a, (size_t)wo->cols * 4);
        add_in(d, c, bound(d, &d->d[i], "x"), 0, x, (size_t)E * 4);
        add_out(d, c, bound(d, &d->d[i], "x"), o, (size_t)E);
        add_out(d, c, bound(d, &d->d[i], "xn"), on, (size_t)E);
    }
    /* decode head: logits = Wout * act(xn / rms(x)) (slices), the repetition penalty on the recent
     * tokens, then greedy sampling (sample_a.wgsl + sample_b.wgsl): the token of the largest logit */
    i = find(d, GPU_LIST_DECODE, "mv_out.wgsl", 0, -1);
    if (i >= 0) {
        const weight *ow = &m->output;
        int last = i;
        while (last + 1 < d->n_d && d->d[last + 1].list == GPU_LIST_DECODE) last++;
        kcase *c = &cases[n++];
        *c = (kcase){.list = GPU_LIST_DECODE, .first = list_pos(d, i), .count = last - i + 1, .tol = product_tol(exact_attention, m->output.type)};
        snprintf(c->name, sizeof c->name, "mv_out.wgsl + sample_a.wgsl + sample_b.wgsl (decode logits with a repetition penalty, greedy token, %s)",
                 ggml_type_name(ow->type));
        float *x = rnd_vec((size_t)E, 2), *xn = rnd_vec((size_t)E, 1), *xs = talloc((size_t)E * 4);
        float *lg = talloc((size_t)hp->n_vocab * 4);
        norm_input(exact_attention, x, xn, m->output_norm, E, hp->rms_eps, xs);
        uint8_t *wb = read_weight(h, ow);
        cpu_product(ow, wb, xs, 1, lg);
        gpu_step st = step;
        st.n_tok = 1;
        st.penalty = 1.5f;
        uint32_t recent[] = {7, 100, 7, (uint32_t)hp->n_vocab - 1, 31};
        st.n_recent = 5;
        memcpy(st.recent, recent, sizeof recent);
        for (int k = 0; k < 5; k++) {
            bool seen = false;
            for (int j = 0; j < k; j++) seen = seen || recent[j] == recent[k];
            float *v = &lg[recent[k]];
            if (!seen) *v = *v > 0 ? *v / st.penalty : *v * st.penalty;
        }
        uint32_t best = 0;
        for (uint32_t k = 1; k < (uint32_t)hp->n_vocab; k++)
            if (lg[k] > lg[best]) best = k;
        add_in(d, c, GPU_BUF_STEP, 0, &st, sizeof st);
        add_in(d, c, bound(d, &d->d[i], "x"), 0, x, (size_t)E * 4);
        add_in(d, c, bound(d, &d->d[i], "xin"), 0, xn, (size_t)E * 4);
        add_out(d, c, GPU_BUF_LOGITS, lg, (size_t)hp->n_vocab);
        c->out[c->n_out++] = (region){GPU_BUF_RESULT, 0, blob_add(d, &best, 4), 4, 2};
    }
    /* layer 0's decode attention (split + combine, one dispatch, or the exact one) */
    static const char *const attn[] = {"attn_split.wgsl", "attn_one.wgsl", "attn_decode.wgsl"};
    for (int a = 0; a < 3; a++) {
        i = find(d, GPU_LIST_DECODE, attn[a], 0, -1);
        if (i < 0) continue;
        int count = a == 0 ? 2 : 1, pos = 40;
        if (a == 0 && (i + 1 >= d->n_d || strcmp(d->p[d->d[i + 1].pipe].label, "attn_combine.wgsl"))) break;
        kcase *c = &cases[n++];
        /* the exact attention reproduces the CPU's f16 accumulation; the others accumulate in f32 */
        *c = (kcase){.list = GPU_LIST_DECODE, .first = list_pos(d, i), .count = count, .tol = a == 2 ? 1e-6 : 2e-5};
        snprintf(c->name, sizeof c->name, "%s%s (decode attention at position %d, K/V stored; %s)", attn[a],
                 a == 0 ? " + attn_combine.wgsl" : "", pos, a == 2 ? "attention_row_scalar" : "exact sums");
        attention_case(d, hp, i, count, pos, 1, n_ctx, a == 2, c);
        break;
    }
    /* layer 0's prefill attention: rope_kv.wgsl (RoPE in place, the chunk's K/V stored), then
     * attn_tile.wgsl or attn_prefill.wgsl (exact with --exact) */
    i = find(d, GPU_LIST_PREFILL, "rope_kv.wgsl", 0, -1);
    if (i >= 0 && i + 1 < d->n_d) {
        const char *next = d->p[d->d[i + 1].pipe].label;
        bool exact = exact_attention; /* attend.wgsl, else attend_fast.wgsl or attn_tile.wgsl */
        kcase *c = &cases[n++];
        int pos = 19;
        *c = (kcase){.list = GPU_LIST_PREFILL, .first = list_pos(d, i), .count = 2, .tol = exact ? 1e-6 : 2e-5};
        snprintf(c->name, sizeof c->name, "rope_kv.wgsl + %s (prefill attention, %d tokens at position %d, K/V stored; %s)",
                 next, T, pos, exact ? "attention_row_scalar" : "exact sums");
        attention_case(d, hp, i, 2, pos, T, n_ctx, exact, c);
        if (exact && batch >= ATTENTION_TILED_MIN_ROWS) { /* and a batch of 64 rows: the tiled path */
            const int TT = ATTENTION_TILED_MIN_ROWS;
            c = &cases[n++];
            *c = (kcase){.list = GPU_LIST_PREFILL, .first = list_pos(d, i), .count = 2, .tol = 1e-6};
            snprintf(c->name, sizeof c->name, "rope_kv.wgsl + %s (prefill attention, %d tokens at position %d, K/V stored; %s)",
                     next, TT, pos, attention_tiled_applies(TT, hp->head_dim) ? "attention_tiled_row" : "attention_row_scalar");
            attention_case(d, hp, i, 2, pos, TT, n_ctx, exact, c);
        }
    }
    return n;
}

/* ---- --retype: every matrix of the model as another type ---- */

/* The retyped matrices' bytes: random codes and scales, sensible f16 d
 * (and dmin) fields; read through a host that serves them at part RT_PART
 * and forwards everything else. */
#define RT_PART 1000
static uint8_t *rt_blob;
static uint64_t rt_n;
static const hearth_host *rt_inner;

static hearth_status rt_read(void *ctx, int part, uint64_t offset, void *dst, size_t len, hearth_error *err) {
    if (part != RT_PART) return rt_inner->read(rt_inner->ctx, part, offset, dst, len, err);
    if (offset > rt_n || len > rt_n - offset) return hearth_fail(err, HEARTH_E_IO, "retyped read out of range");
    memcpy(dst, rt_blob + offset, len);
    return HEARTH_OK;
}

static void put_half(uint8_t *p, float v) {
    ggml_half h = ggml_fp32_to_fp16(v);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

/* Random blocks of the type: bytes from the generator, then each block's
 * f16 fields set to scales of about `scale` (dmin too). */
static void rt_fill(uint32_t type, uint8_t *p, uint64_t n_blocks) {
    size_t bb = ggml_block_bytes(type);
    for (uint64_t i = 0; i < n_blocks * bb; i++) p[i] = (uint8_t)((rnd() + 1.0f) * 127.99f);
    for (uint64_t b = 0; b < n_blocks; b++, p += bb) {
        float d = 0.0005f * (1.5f + rnd()), m = 0.0005f * (1.5f + rnd());
        switch (type) {
        case GGML_TYPE_Q2_K: put_half(p + 80, 4 * d); put_half(p + 82, m); break;
        case GGML_TYPE_Q3_K: put_half(p + 108, d); break;
        case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: put_half(p, d / 4); put_half(p + 2, m); break;
        case GGML_TYPE_Q6_K: put_half(p + 208, d / 8); break;
        case GGML_TYPE_IQ4_XS: put_half(p, d / 8); break;
        default: put_half(p, d / 8); break; /* IQ4_NL */
        }
    }
}

static int retype_model(model *m, uint32_t type, uint32_t vtype) {
    weight *ws[1024];
    int n = 0;
    ws[n++] = &m->tok_embd;
    bool tied = m->output.src == m->tok_embd.src;
    if (!tied) ws[n++] = &m->output;
    for (int il = 0; il < m->hp.n_layer && n + 8 <= 1024; il++) {
        model_layer *l = &m->layers[il];
        for (int k = 0; k < l->n_qkv; k++) ws[n++] = &l->qkv[k];
        for (int k = 0; k < l->n_gate_up; k++) ws[n++] = &l->gate_up[k];
        ws[n++] = &l->wo;
        ws[n++] = &l->down;
    }
    /* --retype-v: attn_v in another type (as llama-quantize's mixes give it more bits) */
    uint32_t types[1024];
    for (int i = 0; i < n; i++) types[i] = type;
    for (int i = 0; i < n && vtype; i++)
        for (int il = 0; il < m->hp.n_layer; il++)
            if (m->layers[il].n_qkv == 3 && ws[i] == &m->layers[il].qkv[2]) types[i] = vtype;
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        uint64_t rb;
        if (!ggml_row_bytes(types[i], (uint64_t)ws[i]->cols, &rb)) {
            fprintf(stderr, "plan_dump: %s has rows of %d values, not whole %s blocks\n", ws[i]->src->name.data, ws[i]->cols,
                    ggml_type_name(type));
            return -1;
        }
        total += rb * (uint64_t)ws[i]->rows;
    }
    rt_blob = xrealloc(NULL, (size_t)total);
    rt_n = total;
    gguf_tensor *ts = talloc((size_t)n * sizeof *ts);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        weight *w = ws[i];
        uint64_t rb = 0;
        ggml_row_bytes(types[i], (uint64_t)w->cols, &rb);
        ts[i] = *w->src;
        ts[i].type = types[i];
        ts[i].part = RT_PART;
        ts[i].offset = at;
        ts[i].size = rb * (uint64_t)w->rows;
        rt_fill(types[i], rt_blob + at, ts[i].size / ggml_block_bytes(types[i]));
        at += ts[i].size;
        *w = (weight){.type = types[i], .rows = w->rows, .cols = w->cols, .row_bytes = rb, .src = &ts[i]};
    }
    if (tied) m->output = m->tok_embd;
    return 0;
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_region(FILE *f, const region *r) {
    fprintf(f, "{\"id\":%u,\"offset\":%llu,\"at\":%llu,\"len\":%llu,\"half\":%d}", r->id, (unsigned long long)r->off,
            (unsigned long long)r->at, (unsigned long long)r->len, r->half);
}

/* The GELU table and tanhf samples (usage above). */
static int dump_gelu(const char *out) {
    static uint16_t table[1u << 16];
    gelu_table_init(table);
    FILE *f = fopen(out, "wb");
    if (!f) return 1;
    bool ok = fwrite(table, sizeof table, 1, f) == 1;
    for (uint32_t i = 0; ok && i < 1u << 20; i++) {
        uint32_t bits = i * 1103u;
        float x, y;
        memcpy(&x, &bits, 4);
        y = tanhf(x);
        ok = fwrite(&y, 4, 1, f) == 1;
    }
    /* then libm's expf (attention's softmax): 2^19 floats evenly over
     * [-104, 0), 2^19 of every magnitude from 5e-10 to 64, negated */
    for (uint32_t i = 0; ok && i < 1u << 20; i++) {
        uint32_t bits = 0xb0000000u + (i - (1u << 19)) * 592u;
        float x, y;
        if (i < 1u << 19) x = -104.0f * (float)i / (float)(1u << 19);
        else memcpy(&x, &bits, 4);
        y = expf(x);
        ok = fwrite(&x, 4, 1, f) == 1 && fwrite(&y, 4, 1, f) == 1;
    }
    return fclose(f) || !ok;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--gelu")) return dump_gelu(argv[2]);
    if (argc < 3) {
        fprintf(stderr, "usage: plan_dump MODEL.gguf OUT [--limits B,MAXBUF,WGMEM,NSTORAGE,SG,F16,DOT4] [--no-mmq] [--exact] [--tokens N]\n");
        return 2;
    }
    dump d = {.lim = {1 << 30, 1 << 30, 32768, 10, 0, 0, 0}};
    gpu_options go = {.n_ctx = 256, .max_batch = 64};
    int T = 5;
    uint32_t retype = 0; /* --retype TYPE: every matrix as random blocks of this type */
    uint32_t retype_v = 0; /* --retype-v TYPE: attn_v in this one */
    double max_binding = 0; /* a smaller maxStorageBufferBindingSize (the vocabulary matrices in slices) */
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--no-mmq")) go.no_mmq = true;
        else if (!strcmp(argv[i], "--exact")) go.exact_attention = true;
        else if (!strcmp(argv[i], "--attn-one")) go.attn_split = 1;
        else if (!strcmp(argv[i], "--no-subgroups")) go.no_subgroups = true;
        else if (!strcmp(argv[i], "--max-binding") && i + 1 < argc) max_binding = atof(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) T = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--retype") && i + 1 < argc) {
            const char *want = argv[++i];
            for (uint32_t t = 0; t < GGML_TYPE_COUNT && !retype; t++)
                if (ggml_type_name(t) && !strcmp(ggml_type_name(t), want)) retype = t;
            if (!retype) return 2;
        } else if (!strcmp(argv[i], "--retype-v") && i + 1 < argc) {
            const char *want = argv[++i];
            for (uint32_t t = 0; t < GGML_TYPE_COUNT && !retype_v; t++)
                if (ggml_type_name(t) && !strcmp(ggml_type_name(t), want)) retype_v = t;
            if (!retype_v) return 2;
        }
        else if (!strcmp(argv[i], "--limits") && i + 1 < argc) {
            double v[7] = {0};
            if (sscanf(argv[++i], "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) != 7) return 2;
            d.lim = (gpu_limits){v[0], v[1], v[2], v[3], v[4] != 0, v[5] != 0, v[6] != 0};
        } else return 2;
    }
    if (max_binding > 0) d.lim.max_storage_binding = max_binding;
    hearth_error err = {0};
    native_host *nh = NULL;
    hearth_engine *e = NULL;
    gpu_model *g = NULL;
    hearth_engine_options eo = {.n_ctx = go.n_ctx, .max_batch = go.max_batch, .no_cpu_weights = true};
    gpu_host gh = {&d, h_limits, h_buffer, h_write, h_pipeline, h_dispatch};
    uint64_t left = 1;
    if (native_host_create(&nh, argv[1], 1, &err) || hearth_engine_load(&e, native_host_iface(nh), &eo, &err)) {
        fprintf(stderr, "plan_dump: %s\n", err.message);
        return 1;
    }
    hearth_host rt_host = *hearth_engine_host(e);
    const hearth_host *host = hearth_engine_host(e);
    if (retype) {
        /* the engine's model, changed in place (this tool's own: nothing else runs it) */
        if (retype_model((model *)hearth_engine_model(e), retype, retype_v)) return 1;
        rt_inner = hearth_engine_host(e);
        rt_host.read = rt_read;
        host = &rt_host;
    }
    if (gpu_model_create(&g, hearth_engine_model(e), host, &gh, &go, &err)) {
        fprintf(stderr, "plan_dump: %s\n", err.message);
        return 1;
    }
    while (left)
        if (gpu_model_upload(g, 64 << 20, &left, &err)) {
            fprintf(stderr, "plan_dump: %s\n", err.message);
            return 1;
        }
    int n_init = d.n_w;
    kcase cases[16] = {0};
    int n_cases = make_cases(&d, hearth_engine_model(e), host, T, gpu_model_ctx(g), gpu_model_batch(g), go.exact_attention, cases);

    char path[4096];
    snprintf(path, sizeof path, "%s.bin", argv[2]);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d.blob, 1, (size_t)d.blob_n, f) != d.blob_n || fclose(f)) {
        fprintf(stderr, "plan_dump: cannot write %s\n", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s.json", argv[2]);
    f = fopen(path, "w");
    if (!f) return 1;
    const model_hparams *hp = &hearth_engine_model(e)->hp;
    int n_head_slices = 0;
    for (int i = 0; i < d.n_d; i++) n_head_slices += d.d[i].list == GPU_LIST_DECODE && !strcmp(d.p[d.d[i].pipe].label, "mv_out.wgsl");
    fprintf(f, "{\"n_embd\":%d,\"n_vocab\":%d,\"type\":\"%s\",\"tokens\":%d,\"head_slices\":%d,\"buffers\":[", hp->n_embd,
            hp->n_vocab, ggml_type_name(hearth_engine_model(e)->tok_embd.type), T, n_head_slices);
    for (uint32_t i = 0; i < d.n_bufs; i++)
        fprintf(f, "%s{\"id\":%u,\"size\":%llu,\"usage\":%d}", i ? "," : "", i, (unsigned long long)d.bufs[i].size, d.bufs[i].usage);
    fprintf(f, "],\"pipelines\":[");
    for (int i = 0; i < d.n_p; i++) {
        fprintf(f, "%s{\"label\":", i ? "," : "");
        json_str(f, d.p[i].label);
        fprintf(f, ",\"layout\":[");
        for (int k = 0; k < d.p[i].n; k++) fprintf(f, "%s[%u,%u]", k ? "," : "", d.p[i].layout[k].binding, d.p[i].layout[k].kind);
        fprintf(f, "],\"wgsl\":");
        json_str(f, d.p[i].wgsl);
        fprintf(f, "}");
    }
    fprintf(f, "],\"dispatches\":[");
    for (int i = 0; i < d.n_d; i++) {
        const ddisp *x = &d.d[i];
        fprintf(f, "%s{\"list\":%d,\"pipe\":%u,\"x\":%u,\"y\":%u,\"z\":%u,\"binds\":[", i ? "," : "", x->list, x->pipe, x->x, x->y, x->z);
        for (int k = 0; k < x->n; k++) fprintf(f, "%s[%u,%u]", k ? "," : "", x->b[k].binding, x->b[k].buffer);
        fprintf(f, "]}");
    }
    fprintf(f, "],\"init\":[");
    for (int i = 0; i < n_init; i++) {
        region r = {d.w[i].id, d.w[i].off, d.w[i].at, d.w[i].len, 0};
        if (i) fputc(',', f);
        json_region(f, &r);
    }
    fprintf(f, "],\"cases\":[");
    for (int i = 0; i < n_cases; i++) {
        const kcase *c = &cases[i];
        fprintf(f, "%s{\"name\":", i ? "," : "");
        json_str(f, c->name);
        fprintf(f, ",\"list\":%d,\"first\":%d,\"count\":%d,\"tol\":%g,\"inputs\":[", c->list, c->first, c->count, c->tol);
        for (int k = 0; k < c->n_in; k++) {
            if (k) fputc(',', f);
            json_region(f, &c->in[k]);
        }
        fprintf(f, "],\"outputs\":[");
        for (int k = 0; k < c->n_out; k++) {
            if (k) fputc(',', f);
            json_region(f, &c->out[k]);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
    if (fclose(f)) return 1;
    gpu_model_free(g);
    hearth_engine_free(e);
    native_host_free(nh);
    for (int i = 0; i < d.n_p; i++) {
        free(d.p[i].label);
        free(d.p[i].wgsl);
    }
    free(d.p);
    free(d.d);
    free(d.w);
    free(d.bufs);
    free(d.blob);
    free(rt_blob);
    scratch_free();
    return 0;
}
