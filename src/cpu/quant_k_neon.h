/* ARM64 NEON products of Q4_K, Q5_K and Q6_K with Q8_K activation rows,
 * in the float order of the scalar reference (quant_k_scalar.c, quant_k.h):
 * the same bits. Included by each NEON level's file after neon_dot.h. */
#ifndef HEARTH_CPU_QUANT_K_NEON_H
#define HEARTH_CPU_QUANT_K_NEON_H

#include <math.h>
#include <string.h>

#include "model/ggml_types.h"
#include "neon_dot.h"
#include "quant_k.h"

/* A super-block as 256 signed codes (16 vectors in element order) and its
 * integer scales: Q4_K/Q5_K 8 of 32 with 8 mins, Q6_K 16 signed of 16
 * (quant_lowbit_neon.h: Q2_K 16 with 16 mins, Q3_K and IQ4_XS 16). */
typedef struct {
    int8x16_t q[16];
    int32_t sc[16], m[16];
    float d, dmin;
} neon_kblock;

/* quant_k.h's kq_scales_mins on 32-bit words, 4 bytes at a time (the
 * masks ggml uses; ARM64 systems are little-endian): its byte loop cost
 * 80 instructions a super-block. */
NEON_AI void neon_scales_mins(const uint8_t *q, uint8_t sc[8], uint8_t m[8]) {
    uint32_t u[3];
    memcpy(u, q, 12);
    const uint32_t s_lo = u[0] & 0x3f3f3f3fu, m_lo = u[1] & 0x3f3f3f3fu;
    const uint32_t s_hi = (u[2] & 0x0f0f0f0fu) | ((u[0] >> 6) & 0x03030303u) << 4;
    const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0fu) | ((u[1] >> 6) & 0x03030303u) << 4;
    memcpy(sc, &s_lo, 4);
    memcpy(sc + 4, &s_hi, 4);
    memcpy(m, &m_lo, 4);
    memcpy(m + 4, &m_hi, 4);
}

/* Q4_K and Q5_K: sub-block j is the low (j even) or high nibbles of bytes
 * 32 (j / 2) .. +31, Q5_K adding bit j of qh[l] as 16. */
NEON_AI void neon_dec_q45_k(const uint8_t *p, bool q5, neon_kblock *o) {
    const block_q4_K *h = (const block_q4_K *)p;
    const uint8_t *qs = p + (q5 ? KQ5_QS : KQ4_QS);
    uint8_t sc[8], m[8];
    neon_scales_mins(h->scales, sc, m);
    uint8x16_t qh[2] = {vdupq_n_u8(0), vdupq_n_u8(0)};
    if (q5) qh[0] = vld1q_u8(p + KQ5_QH), qh[1] = vld1q_u8(p + KQ5_QH + 16);
    NEON_UNROLL
    for (int j = 0; j < 8; j++) {
        o->sc[j] = sc[j];
        o->m[j] = m[j];
        NEON_UNROLL
        for (int i = 0; i < 2; i++) {
            const uint8x16_t b = vld1q_u8(qs + 32 * (j / 2) + 16 * i);
            uint8x16_t q = j & 1 ? vshrq_n_u8(b, 4) : vandq_u8(b, vdupq_n_u8(0x0f));
            if (q5) q = vorrq_u8(q, vandq_u8(vtstq_u8(qh[i], vdupq_n_u8((uint8_t)(1u << j))), vdupq_n_u8(16)));
            o->q[2 * j + i] = vreinterpretq_s8_u8(q);
        }
    }
    o->d = neon_half(h->d);
    o->dmin = neon_half(h->dmin);
}

/* Q6_K: chunk c of half h takes ql's low (c < 2) or high nibbles of bytes
 * 64h + 32 (c & 1) + l and bits 2c, 2c + 1 of qh[32h + l] (codes 0..63). */
NEON_AI void neon_dec_q6_k(const uint8_t *p, neon_kblock *o) {
    const block_q6_K *x = (const block_q6_K *)p;
    NEON_UNROLL
    for (int h = 0; h < 2; h++)
        NEON_UNROLL
        for (int i = 0; i < 2; i++) {
            const uint8x16_t a = vld1q_u8(x->ql + 64 * h + 16 * i), b = vld1q_u8(x->ql + 64 * h + 32 + 16 * i),
                             hi = vld1q_u8(x->qh + 32 * h + 16 * i), m4 = vdupq_n_u8(0x0f), m3 = vdupq_n_u8(0x30);
            int8x16_t *q = &o->q[8 * h + i];
            const uint8x16_t c0 = vorrq_u8(vandq_u8(a, m4), vandq_u8(vshlq_n_u8(hi, 4), m3));
            const uint8x16_t c1 = vorrq_u8(vandq_u8(b, m4), vandq_u8(vshlq_n_u8(hi, 2), m3));
            const uint8x16_t c2 = vorrq_u8(vshrq_n_u8(a, 4), vandq_u8(hi, m3));
            const uint8x16_t c3 = vorrq_u8(vshrq_n_u8(b, 4), vandq_u8(vshrq_n_u8(hi, 2), m3));
            q[0] = vreinterpretq_s8_u8(c0), q[2] = vreinterpretq_s8_u8(c1);
            q[4] = vreinterpretq_s8_u8(c2), q[6] = vreinterpretq_s8_u8(c3);
        }
    NEON_UNROLL
    for (int s = 0; s < 16; s++) o->sc[s] = x->scales[s];
    o->d = neon_half(x->d);
    o->dmin = 0.0f;
}

/* Float state of one output: 8 lanes and the mins term (Q4_K: acc in
 * acc, accm in summs). */
typedef struct {
    float32x4_t lo, hi;
    float acc, summs;
} neon_kacc;

/* The integer dot of sub-block j (32 elements) in 4 partial lanes. */
NEON_AI int32x4_t neon_sub_dot(const neon_kblock *w, const int8_t *y, int j) {
    return neon_dot4(neon_dot4(vdupq_n_s32(0), w->q[2 * j], vld1q_s8(y + 32 * j)), w->q[2 * j + 1],
                     vld1q_s8(y + 32 * j + 16));
}

/* Lane j of the result: bsums[2j] + bsums[2j + 1] for j = 0..7, each the sum of a 32-element sub-block. */
NEON_AI int16x8_t neon_bsums32(const block_q8_K *y) {
    return vpaddq_s16(vld1q_s16(y->bsums), vld1q_s16(y->bsums + 8));
}

NEON_AI void neon_step_q4_k(const neon_kblock *w, const block_q8_K *y, bool gemm, neon_kacc *a) {
    int32x4_t v[4];
    NEON_UNROLL
    for (int p = 0; p < 4; p++)
        v[p] = vmlaq_n_s32(vmulq_n_s32(neon_sub_dot(w, y->qs, 2 * p), w->sc[2 * p]), neon_sub_dot(w, y->qs, 2 * p + 1),
                           w->sc[2 * p + 1]);
    /* isum[p] = sc_2p dot_2p + sc_2p+1 dot_2p+1, imin[p] likewise with the mins */
    const int32x4_t isum = vpaddq_s32(vpaddq_s32(v[0], v[1]), vpaddq_s32(v[2], v[3]));
    const int16x8_t bs = neon_bsums32(y);
    const int32x4_t m0 = {w->m[0], w->m[1], w->m[2], w->m[3]}, m1 = {w->m[4], w->m[5], w->m[6], w->m[7]};
    const int32x4_t imin = vpaddq_s32(vmulq_s32(vmovl_s16(vget_low_s16(bs)), m0), vmulq_s32(vmovl_high_s16(bs), m1));
    const float dd = w->d * y->d, dm = w->dmin * y->d;
    if (gemm) {
        int32_t is[4], im[4];
        vst1q_s32(is, isum);
        vst1q_s32(im, imin);
        NEON_UNROLL
        for (int p = 0; p < 4; p++) {
            a->acc = fmaf((float)is[p], dd, a->acc);
            a->summs = fmaf((float)im[p], dm, a->summs);
        }
    } else {
        a->acc = fmaf((float)vaddvq_s32(isum), dd, a->acc);
        a->summs = fmaf((float)vaddvq_s32(imin), dm, a->summs);
    }
}

NEON_AI void neon_step_q5_k(const neon_kblock *w, const block_q8_K *y, neon_kacc *a) {
    const float d = y->d * w->d, dmin = -y->d * w->dmin;
    neon_dot8 s = {vdupq_n_s32(0), vdupq_n_s32(0)};
    NEON_UNROLL
    for (int j = 0; j < 8; j++) {
        const neon_dot8 dj = neon_block_dots(&w->q[2 * j], y->qs + 32 * j);
        s.lo = vmlaq_n_s32(s.lo, dj.lo, w->sc[j]);
        s.hi = vmlaq_n_s32(s.hi, dj.hi, w->sc[j]);
    }
    neon_fma8(&a->lo, &a->hi, s, d);
    const int16x8_t bs = neon_bsums32(y);
    const int32x4_t m0 = {w->m[0], w->m[1], w->m[2], w->m[3]}, m1 = {w->m[4], w->m[5], w->m[6], w->m[7]};
    const int32_t mins = vaddvq_s32(vmlaq_s32(vmulq_s32(vmovl_s16(vget_low_s16(bs)), m0), vmovl_high_s16(bs), m1));
    a->summs = fmaf(dmin, (float)mins, a->summs);
}

/* ggml's 8 lanes over a super-block of 16 scales: lane l sums, over the 8
 * chunks c of 32, sc[2c + l / 4] times the dot of elements 32c + 4l..+3. */
NEON_AI neon_dot8 neon_lanes16(const neon_kblock *w, const int8_t *y) {
    neon_dot8 s = {vdupq_n_s32(0), vdupq_n_s32(0)};
    NEON_UNROLL
    for (int c = 0; c < 8; c++) {
        const neon_dot8 dc = neon_block_dots(&w->q[2 * c], y + 32 * c);
        s.lo = vmlaq_n_s32(s.lo, dc.lo, w->sc[2 * c]);
        s.hi = vmlaq_n_s32(s.hi, dc.hi, w->sc[2 * c + 1]);
    }
    return s;
}

NEON_AI void neon_step_q6_k(const neon_kblock *w, const block_q8_K *y, neon_kacc *a) {
    const float d = y->d * w->d;
    neon_dot8 s = neon_lanes16(w, y->qs);
    /* ggml's -32 offset: lane l loses 32 (sc_2l bsum_2l + sc_2l+1 bsum_2l+1) */
    int32x4_t p[4];
    NEON_UNROLL
    for (int i = 0; i < 4; i++) {
        const int32x4_t sc = {w->sc[4 * i], w->sc[4 * i + 1], w->sc[4 * i + 2], w->sc[4 * i + 3]};
        p[i] = vmulq_s32(vmovl_s16(vld1_s16(y->bsums + 4 * i)), sc);
    }
    s.lo = vsubq_s32(s.lo, vshlq_n_s32(vpaddq_s32(p[0], p[1]), 5));
    s.hi = vsubq_s32(s.hi, vshlq_n_s32(vpaddq_s32(p[2], p[3]), 5));
    neon_fma8(&a->lo, &a->hi, s, d);
}

#define NEON_KTOK 8 /* tokens per pass over a row: each block decoded once for them */

/* One row times the nt tokens of a tile (y and out at its first). */
NEON_AI void neon_k_tile(uint32_t type, const uint8_t *x, int nb, const block_q8_K *y, int t0, int n_tok, int nt,
                         float *out, size_t os) {
    const size_t bs = ggml_block_bytes(type);
    neon_kacc a[NEON_KTOK];
    for (int t = 0; t < NEON_KTOK; t++) a[t] = (neon_kacc){vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), 0.0f, 0.0f};
    for (int b = 0; b < nb; b++) {
        neon_kblock wb;
        if (type == GGML_TYPE_Q6_K) neon_dec_q6_k(x + (size_t)b * bs, &wb);
        else neon_dec_q45_k(x + (size_t)b * bs, type == GGML_TYPE_Q5_K, &wb);
        for (int t = 0; t < nt; t++) {
            const block_q8_K *yb = y + (size_t)t * nb + b;
            if (type == GGML_TYPE_Q4_K) neon_step_q4_k(&wb, yb, kq4_gemm_token(t0 + t, n_tok), &a[t]);
            else if (type == GGML_TYPE_Q5_K) neon_step_q5_k(&wb, yb, &a[t]);
            else neon_step_q6_k(&wb, yb, &a[t]);
        }
    }
    for (int t = 0; t < nt; t++)
        out[(size_t)t * os] = type == GGML_TYPE_Q4_K   ? a[t].acc - a[t].summs
                              : type == GGML_TYPE_Q5_K ? neon_hsum8(a[t].lo, a[t].hi) + a[t].summs
                                                       : neon_hsum8(a[t].lo, a[t].hi);
}

NEON_AI void neon_matmul_k(uint32_t type, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                           size_t os) {
    const int nb = n / QK_K;
    const size_t wrow = (size_t)nb * ggml_block_bytes(type);
    const block_q8_K *y = act;
    for (int r = r0; r < r1; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * wrow;
        for (int t0 = 0; t0 < n_tok; t0 += NEON_KTOK) {
            const int nt = n_tok - t0 < NEON_KTOK ? n_tok - t0 : NEON_KTOK;
            float *o = out + (size_t)t0 * os + (size_t)r;
            if (nt == 1) neon_k_tile(type, x, nb, y + (size_t)t0 * nb, t0, n_tok, 1, o, os); /* decode */
            else neon_k_tile(type, x, nb, y + (size_t)t0 * nb, t0, n_tok, nt, o, os);
        }
    }
}

static void neon_mm_q4_k(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_k(GGML_TYPE_Q4_K, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_q5_k(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_k(GGML_TYPE_Q5_K, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_q6_k(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_k(GGML_TYPE_Q6_K, w, n, r0, r1, a, nt, o, os);
}

static void neon_k_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_K] = neon_mm_q4_k;
    k->matmul[KW_Q5_K] = neon_mm_q5_k;
    k->matmul[KW_Q6_K] = neon_mm_q6_k;
}

#endif
