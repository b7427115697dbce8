/* Q2_K, Q3_K, IQ4_NL and IQ4_XS: dequantization and the scalar reference
 * products, in llama.cpp's zen4 accumulation orders (quant_lowbit.h). Each
 * weight super-block (block, for IQ4_NL) is decoded to signed codes and
 * integer scales once and used for up to TOK_TILE tokens. */
#include <math.h>
#include <string.h>

#include "fma_exact.h"
#include "model/ggml_types.h"
#include "quant_lowbit.h"

#define TOK_TILE 4

/* ---- decoding ---- */

/* A super-block of 256 weights: code e times scale sc[e / 16] (and, for
 * Q2_K, minus mn[e / 16] times dmin) times d. */
typedef struct {
    int8_t q[QK_K];
    int16_t sc[16], mn[16];
    float d, dmin;
} ksuper;

/* Q2_K: element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l]. */
static void dec_q2_K(const void *p, ksuper *o) {
    const block_q2_K *x = p;
    for (int e = 0; e < QK_K; e++) o->q[e] = (int8_t)((x->qs[32 * (e / 128) + e % 32] >> (2 * (e % 128 / 32))) & 3);
    for (int s = 0; s < 16; s++) {
        o->sc[s] = x->scales[s] & 0x0f;
        o->mn[s] = x->scales[s] >> 4;
    }
    o->d = ggml_fp16_to_fp32(x->d);
    o->dmin = ggml_fp16_to_fp32(x->dmin);
}

/* Q3_K: the low bits as Q2_K's; bit 4h + j of hmask[l] set adds 4 (ggml:
 * clear subtracts 4). */
static void dec_q3_K(const void *p, ksuper *o) {
    const block_q3_K *x = p;
    for (int e = 0; e < QK_K; e++) {
        const int h = e / 128, j = e % 128 / 32, l = e % 32;
        const int lo = (x->qs[32 * h + l] >> (2 * j)) & 3;
        o->q[e] = (int8_t)(lo - ((x->hmask[l] >> (4 * h + j)) & 1 ? 0 : 4));
    }
    int8_t sc[16];
    q3_K_scales(x->scales, sc);
    for (int s = 0; s < 16; s++) o->sc[s] = sc[s];
    o->d = ggml_fp16_to_fp32(x->d);
}

/* IQ4_XS: sub-block ib's elements j (low nibble of qs[16ib + j]) and
 * j + 16 (high nibble) index the IQ4 code book. */
static void dec_iq4_xs(const void *p, ksuper *o) {
    const block_iq4_xs *x = p;
    for (int ib = 0; ib < QK_K / 32; ib++) {
        for (int j = 0; j < 16; j++) {
            o->q[32 * ib + j] = kvalues_iq4nl[x->qs[16 * ib + j] & 0x0f];
            o->q[32 * ib + 16 + j] = kvalues_iq4nl[x->qs[16 * ib + j] >> 4];
        }
        o->sc[2 * ib] = o->sc[2 * ib + 1] = (int16_t)iq4_xs_scale(x, ib);
    }
    o->d = ggml_fp16_to_fp32(x->d);
}

/* ---- dequantization, as ggml's dequantize_row_*: each float product
 * rounded on its own (separate statements: no contraction) ---- */

bool lowbit_dequantize_row(uint32_t type, const void *src, float *y, int n) {
    const unsigned char *p = src;
    if (type == GGML_TYPE_IQ4_NL) {
        for (int b = 0; b < n / QK4_NL; b++, p += sizeof(block_iq4_nl), y += QK4_NL) {
            const block_iq4_nl *x = (const block_iq4_nl *)p;
            const float d = ggml_fp16_to_fp32(x->d);
            for (int j = 0; j < 16; j++) {
                y[j] = d * (float)kvalues_iq4nl[x->qs[j] & 0x0f];
                y[j + 16] = d * (float)kvalues_iq4nl[x->qs[j] >> 4];
            }
        }
        return true;
    }
    size_t bs;
    void (*dec)(const void *, ksuper *);
    switch (type) {
    case GGML_TYPE_Q2_K: bs = sizeof(block_q2_K), dec = dec_q2_K; break;
    case GGML_TYPE_Q3_K: bs = sizeof(block_q3_K), dec = dec_q3_K; break;
    case GGML_TYPE_IQ4_XS: bs = sizeof(block_iq4_xs), dec = dec_iq4_xs; break;
    default: return false;
    }
    for (int b = 0; b < n / QK_K; b++, p += bs, y += QK_K) {
        ksuper k;
        dec(p, &k);
        for (int s = 0; s < 16; s++) {
            const float dl = k.d * (float)k.sc[s];
            const float ml = type == GGML_TYPE_Q2_K ? k.dmin * (float)k.mn[s] : 0.0f;
            for (int e = 16 * s; e < 16 * s + 16; e++) {
                const float v = dl * (float)k.q[e];
                y[e] = type == GGML_TYPE_Q2_K ? v - ml : v;
            }
        }
    }
    return true;
}

/* ---- products ---- */

/* ggml's hsum_float_8. */
static inline float hsum8f(const float *a) {
    return ((a[4] + a[0]) + (a[6] + a[2])) + ((a[5] + a[1]) + (a[7] + a[3]));
}

static inline int dot16(const int8_t *q, const int8_t *y) {
    int s = 0;
    for (int i = 0; i < 16; i++) s += q[i] * y[i];
    return s;
}

static void mm_q2_K(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K, n_gemm = n_tok - n_tok % 4;
    const block_q8_K *a = act;
    for (int r = r0; r < r1; r++) {
        const block_q2_K *x = (const block_q2_K *)w + (size_t)r * nb;
        for (int t0 = 0; t0 < n_tok; t0 += TOK_TILE) {
            const int nt = n_tok - t0 < TOK_TILE ? n_tok - t0 : TOK_TILE;
            float acc[TOK_TILE] = {0}, accmin[TOK_TILE] = {0};
            for (int b = 0; b < nb; b++) {
                ksuper k;
                dec_q2_K(&x[b], &k);
                for (int t = 0; t < nt; t++) {
                    const block_q8_K *y = &a[(size_t)(t0 + t) * nb + b];
                    int isum[2] = {0, 0}, imin[2] = {0, 0};
                    for (int s = 0; s < 16; s++) {
                        isum[s / 8] += k.sc[s] * dot16(k.q + 16 * s, y->qs + 16 * s);
                        imin[s / 8] += k.mn[s] * y->bsums[s];
                    }
                    const float dd = k.d * y->d, dm = k.dmin * y->d;
                    if (t0 + t < n_gemm) { /* ggml's gemm: per half super-block */
                        for (int h = 0; h < 2; h++) {
                            acc[t] = FMAF((float)isum[h], dd, acc[t]);
                            accmin[t] = FMAF((float)imin[h], dm, accmin[t]);
                        }
                    } else {
                        acc[t] = FMAF((float)(isum[0] + isum[1]), dd, acc[t]);
                        accmin[t] = FMAF((float)(imin[0] + imin[1]), dm, accmin[t]);
                    }
                }
            }
            for (int t = 0; t < nt; t++) out[(size_t)(t0 + t) * os + (size_t)r] = acc[t] - accmin[t];
        }
    }
}

/* Q3_K and IQ4_XS: ggml's 8 lanes (quant_lowbit.h). */
static inline void mm_lanes(void (*dec)(const void *, ksuper *), size_t bs, const void *w, int n, int r0,                             int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K;
    const block_q8_K *a = act;
    for (int r = r0; r < r1; r++) {
        const unsigned char *x = (const unsigned char *)w + (size_t)r * nb * bs;
        for (int t0 = 0; t0 < n_tok; t0 += TOK_TILE) {
            const int nt = n_tok - t0 < TOK_TILE ? n_tok - t0 : TOK_TILE;
            float acc[TOK_TILE][8] = {{0}};
            for (int b = 0; b < nb; b++) {
                ksuper k;
                dec(x + (size_t)b * bs, &k);
                for (int t = 0; t < nt; t++) {
                    const block_q8_K *y = &a[(size_t)(t0 + t) * nb + b];
                    const float d = k.d * y->d; /* ggml: one f32 product */
                    for (int l = 0; l < 8; l++) {
                        int sum = 0;
                        for (int c = 0; c < 8; c++) {
                            int s4 = 0;
                            for (int i = 32 * c + 4 * l; i < 32 * c + 4 * l + 4; i++) s4 += k.q[i] * y->qs[i];
                            sum += k.sc[2 * c + l / 4] * s4;
                        }
                        acc[t][l] = FMAF(d, (float)sum, acc[t][l]);
                    }
                }
            }
            for (int t = 0; t < nt; t++) out[(size_t)(t0 + t) * os + (size_t)r] = hsum8f(acc[t]);
        }
    }
}

/* IQ4_XS for 8 tokens or more: ggml's IQ panel gemm (iqp.cpp), one fma
 * of the super-block's integer sum per super-block. */
static void mm_iq4_xs_panel(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K;
    const block_q8_K *a = act;
    for (int r = r0; r < r1; r++) {
        const block_iq4_xs *x = (const block_iq4_xs *)w + (size_t)r * nb;
        for (int t0 = 0; t0 < n_tok; t0 += TOK_TILE) {
            const int nt = n_tok - t0 < TOK_TILE ? n_tok - t0 : TOK_TILE;
            float acc[TOK_TILE] = {0};
            for (int b = 0; b < nb; b++) {
                ksuper k;
                dec_iq4_xs(&x[b], &k);
                for (int t = 0; t < nt; t++) {
                    const block_q8_K *y = &a[(size_t)(t0 + t) * nb + b];
                    int sum = 0;
                    for (int s = 0; s < 16; s++) sum += k.sc[s] * dot16(k.q + 16 * s, y->qs + 16 * s);
                    acc[t] = FMAF((float)sum, k.d * y->d, acc[t]);
                }
            }
            for (int t = 0; t < nt; t++) out[(size_t)(t0 + t) * os + (size_t)r] = acc[t];
        }
    }
}

static void mm_q3_K(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    mm_lanes(dec_q3_K, sizeof(block_q3_K), w, n, r0, r1, a, nt, o, os);
}
static void mm_iq4_xs(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    if (nt >= LOWBIT_IQ4_XS_PANEL_MIN)
        mm_iq4_xs_panel(w, n, r0, r1, a, nt, o, os);
    else
        mm_lanes(dec_iq4_xs, sizeof(block_iq4_xs), w, n, r0, r1, a, nt, o, os);
}

/* IQ4_NL: Q8_0 activation rows (kernels.h: blocks, then f32 scales in the
 * aux entries). */
static void mm_iq4_nl(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK4_NL;
    const size_t arow = kernels_act_row_bytes(GGML_TYPE_IQ4_NL, n), aux_off = kernels_act_aux_offset(n, false);
    for (int r = r0; r < r1; r++) {
        const block_iq4_nl *x = (const block_iq4_nl *)w + (size_t)r * nb;
        for (int t0 = 0; t0 < n_tok; t0 += TOK_TILE) {
            const int nt = n_tok - t0 < TOK_TILE ? n_tok - t0 : TOK_TILE;
            float acc[TOK_TILE] = {0};
            for (int b = 0; b < nb; b++) {
                int8_t q[32];
                for (int j = 0; j < 16; j++) {
                    q[j] = kvalues_iq4nl[x[b].qs[j] & 0x0f];
                    q[j + 16] = kvalues_iq4nl[x[b].qs[j] >> 4];
                }
                const float dw = ggml_fp16_to_fp32(x[b].d);
                for (int t = 0; t < nt; t++) {
                    const unsigned char *row = (const unsigned char *)act + (size_t)(t0 + t) * arow;
                    const block_q8_0 *y = (const block_q8_0 *)row + b;
                    float da;
                    memcpy(&da, row + aux_off + sizeof(act_aux_q8_0) * (size_t)b, sizeof da);
                    int sum = 0;
                    for (int j = 0; j < 32; j++) sum += q[j] * y->qs[j];
                    acc[t] = FMAF((float)sum, dw * da, acc[t]);
                }
            }
            for (int t = 0; t < nt; t++) out[(size_t)(t0 + t) * os + (size_t)r] = acc[t];
        }
    }
}

void lowbit_scalar_fill(hearth_kernels *k) {
    k->quant[KW_Q2_K] = kernels_fill_q8_K_row;
    k->quant[KW_Q3_K] = kernels_fill_q8_K_row;
    k->quant[KW_IQ4_XS] = kernels_fill_q8_K_row;
    k->quant[KW_IQ4_NL] = k->quant[KW_Q8_0];
    k->matmul[KW_Q2_K] = mm_q2_K;
    k->matmul[KW_Q3_K] = mm_q3_K;
    k->matmul[KW_IQ4_XS] = mm_iq4_xs;
    k->matmul[KW_IQ4_NL] = mm_iq4_nl;
}
