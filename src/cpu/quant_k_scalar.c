/* Q4_K, Q5_K and Q6_K: dequantization and the scalar reference products,
 * in the float order of llama.cpp's zen4 build (quant_k.h says which ggml
 * routine each follows). Also the product wasm runs for these types. */
#include <string.h>

#include "fma_exact.h"
#include "model/ggml_types.h"
#include "quant_k.h"

/* ---- dequantization (ggml's dequantize_row_*_K, step by step: each
 * product and difference rounded to float on its own) ---- */

static void deq_q4_k(const block_q4_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ggml_fp16_to_fp32(x[i].d), min = ggml_fp16_to_fp32(x[i].dmin);
        uint8_t sc[8], m[8];
        kq_scales_mins(x[i].scales, sc, m);
        for (int j = 0; j < 8; j++, y += 32) {
            const float dj = d * sc[j], mj = min * m[j];
            for (int l = 0; l < 32; l++) {
                const uint8_t b = x[i].qs[32 * (j / 2) + l];
                const float p = dj * (float)(j & 1 ? b >> 4 : b & 0xf);
                y[l] = p - mj;
            }
        }
    }
}

static void deq_q5_k(const block_q5_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++) {
        const float d = ggml_fp16_to_fp32(x[i].d), min = ggml_fp16_to_fp32(x[i].dmin);
        uint8_t sc[8], m[8];
        kq_scales_mins(x[i].scales, sc, m);
        for (int j = 0; j < 8; j++, y += 32) {
            const float dj = d * sc[j], mj = min * m[j];
            for (int l = 0; l < 32; l++) {
                const uint8_t b = x[i].qs[32 * (j / 2) + l];
                const int q = (j & 1 ? b >> 4 : b & 0xf) + ((x[i].qh[l] >> j) & 1) * 16;
                const float p = dj * (float)q;
                y[l] = p - mj;
            }
        }
    }
}

static void deq_q6_k(const block_q6_K *x, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += QK_K) {
        const float d = ggml_fp16_to_fp32(x[i].d);
        for (int e = 0; e < QK_K; e++) {
            const float ds = d * (float)x[i].scales[e / 16];
            y[e] = ds * (float)(q6_code(&x[i], e) - 32);
        }
    }
}

void kernels_dequantize_k(uint32_t type, const void *src, float *dst, int n) {
    const int nb = n / QK_K;
    switch (type) {
    case GGML_TYPE_Q4_K: deq_q4_k(src, dst, nb); break;
    case GGML_TYPE_Q5_K: deq_q5_k(src, dst, nb); break;
    case GGML_TYPE_Q6_K: deq_q6_k(src, dst, nb); break;
    default: break;
    }
}

/* ---- products ---- */

static void quant_q8_k(const float *x, void *dst, int n) {
    kernels_fill_q8_K_row(x, dst, n);
}

/* One super-block of a row as unsigned codes in element order, with the
 * integer scales (and mins) of its sub-blocks. */
typedef struct {
    uint8_t q[QK_K];
    int sc[16], m[8]; /* Q4_K/Q5_K: 8 scales of 32; Q6_K: 16 signed scales of 16 */
    float d, dmin;
} kblock;

static void dec_k(uint32_t type, const uint8_t *p, kblock *o) {
    if (type == GGML_TYPE_Q6_K) {
        const block_q6_K *x = (const block_q6_K *)p;
        for (int e = 0; e < QK_K; e++) o->q[e] = (uint8_t)q6_code(x, e);
        for (int s = 0; s < 16; s++) o->sc[s] = x->scales[s];
        o->d = ggml_fp16_to_fp32(x->d);
        o->dmin = 0;
        return;
    }
    /* Q4_K and Q5_K share the head (d, dmin, scales) and the nibble order */
    const block_q4_K *h = (const block_q4_K *)p;
    const uint8_t *qs = p + (type == GGML_TYPE_Q5_K ? KQ5_QS : KQ4_QS), *qh = p + KQ5_QH;
    uint8_t sc[8], m[8];
    kq_scales_mins(h->scales, sc, m);
    for (int j = 0; j < 8; j++) {
        o->sc[j] = sc[j];
        o->m[j] = m[j];
        for (int l = 0; l < 32; l++) {
            const uint8_t b = qs[32 * (j / 2) + l];
            int q = j & 1 ? b >> 4 : b & 0xf;
            if (type == GGML_TYPE_Q5_K) q += ((qh[l] >> j) & 1) * 16;
            o->q[32 * j + l] = (uint8_t)q;
        }
    }
    o->d = ggml_fp16_to_fp32(h->d);
    o->dmin = ggml_fp16_to_fp32(h->dmin);
}

/* Integer dot of elements e0..e0+3. */
static inline int dot4(const uint8_t *q, const int8_t *y, int e0) {
    return q[e0] * y[e0] + q[e0 + 1] * y[e0 + 1] + q[e0 + 2] * y[e0 + 2] + q[e0 + 3] * y[e0 + 3];
}

/* ggml's hsum_float_8. */
static inline float hsum8(const float *a) {
    return ((a[4] + a[0]) + (a[6] + a[2])) + ((a[5] + a[1]) + (a[7] + a[3]));
}

/* Float state of one output: 8 lanes and the mins term (Q4_K: acc in
 * lane 0, accm in summs). */
typedef struct {
    float lane[8], summs;
} kacc;

static void step_q4_k(const kblock *w, const block_q8_K *y, bool gemm, kacc *a) {
    int isum[4], imin[4];
    for (int p = 0; p < 4; p++) {
        int dot[2];
        for (int h = 0; h < 2; h++) {
            const int j = 2 * p + h;
            dot[h] = 0;
            for (int e = 32 * j; e < 32 * j + 32; e += 4) dot[h] += dot4(w->q, y->qs, e);
        }
        isum[p] = w->sc[2 * p] * dot[0] + w->sc[2 * p + 1] * dot[1];
        imin[p] = w->m[2 * p] * (y->bsums[4 * p] + y->bsums[4 * p + 1]) +
                  w->m[2 * p + 1] * (y->bsums[4 * p + 2] + y->bsums[4 * p + 3]);
    }
    const float dd = w->d * y->d, dm = w->dmin * y->d;
    if (gemm) {
        for (int p = 0; p < 4; p++) {
            a->lane[0] = FMAF((float)isum[p], dd, a->lane[0]);
            a->summs = FMAF((float)imin[p], dm, a->summs);
        }
    } else {
        a->lane[0] = FMAF((float)(isum[0] + isum[1] + isum[2] + isum[3]), dd, a->lane[0]);
        a->summs = FMAF((float)(imin[0] + imin[1] + imin[2] + imin[3]), dm, a->summs);
    }
}

static void step_q5_k(const kblock *w, const block_q8_K *y, kacc *a) {
    const float d = y->d * w->d, dmin = -y->d * w->dmin;
    for (int l = 0; l < 8; l++) {
        int s = 0;
        for (int j = 0; j < 8; j++) s += w->sc[j] * dot4(w->q, y->qs, 32 * j + 4 * l);
        a->lane[l] = FMAF(d, (float)s, a->lane[l]);
    }
    int mins = 0;
    for (int j = 0; j < 8; j++) mins += w->m[j] * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
    a->summs = FMAF(dmin, (float)mins, a->summs);
}

static void step_q6_k(const kblock *w, const block_q8_K *y, kacc *a) {
    const float d = y->d * w->d;
    for (int l = 0; l < 8; l++) {
        int s = 0;
        for (int c = 0; c < 8; c++) s += w->sc[2 * c + l / 4] * dot4(w->q, y->qs, 32 * c + 4 * l);
        s -= 32 * (y->bsums[2 * l] * w->sc[2 * l] + y->bsums[2 * l + 1] * w->sc[2 * l + 1]);
        a->lane[l] = FMAF(d, (float)s, a->lane[l]);
    }
}

#define KTOK 8 /* tokens per pass over a row: each block decoded once for them */

static void matmul_k(uint32_t type, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                     size_t os) {
    const int nb = n / QK_K;
    const size_t bs = ggml_block_bytes(type), wrow = (size_t)nb * bs;
    const block_q8_K *y = act;
    for (int r = r0; r < r1; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * wrow;
        for (int t0 = 0; t0 < n_tok; t0 += KTOK) {
            const int nt = n_tok - t0 < KTOK ? n_tok - t0 : KTOK;
            kacc a[KTOK];
            memset(a, 0, sizeof a);
            for (int b = 0; b < nb; b++) {
                kblock wb;
                dec_k(type, x + (size_t)b * bs, &wb);
                for (int t = 0; t < nt; t++) {
                    const block_q8_K *yb = y + (size_t)(t0 + t) * nb + b;
                    if (type == GGML_TYPE_Q4_K) step_q4_k(&wb, yb, kq4_gemm_token(t0 + t, n_tok), &a[t]);
                    else if (type == GGML_TYPE_Q5_K) step_q5_k(&wb, yb, &a[t]);
                    else step_q6_k(&wb, yb, &a[t]);
                }
            }
            for (int t = 0; t < nt; t++)
                out[(size_t)(t0 + t) * os + (size_t)r] = type == GGML_TYPE_Q4_K   ? a[t].lane[0] - a[t].summs
                                                         : type == GGML_TYPE_Q5_K ? hsum8(a[t].lane) + a[t].summs
                                                                                  : hsum8(a[t].lane);
        }
    }
}

static void mm_q4_k(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_k(GGML_TYPE_Q4_K, w, n, r0, r1, a, nt, o, os);
}
static void mm_q5_k(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_k(GGML_TYPE_Q5_K, w, n, r0, r1, a, nt, o, os);
}
static void mm_q6_k(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_k(GGML_TYPE_Q6_K, w, n, r0, r1, a, nt, o, os);
}

void kernels_k_scalar_fill(hearth_kernels *k) {
    k->quant[KW_Q4_K] = k->quant[KW_Q5_K] = k->quant[KW_Q6_K] = quant_q8_k;
    k->matmul[KW_Q4_K] = mm_q4_k;
    k->matmul[KW_Q5_K] = mm_q5_k;
    k->matmul[KW_Q6_K] = mm_q6_k;
}
