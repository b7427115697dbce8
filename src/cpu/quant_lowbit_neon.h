/* ARM64 NEON products of Q2_K, Q3_K, IQ4_NL and IQ4_XS, in the float
 * order of the scalar reference (quant_lowbit_scalar.c, quant_lowbit.h):
 * the same bits. Included by each NEON level's file after quant_neon.h
 * and quant_k_neon.h, whose block decoding and lanes it shares. */
#ifndef HEARTH_CPU_QUANT_LOWBIT_NEON_H
#define HEARTH_CPU_QUANT_LOWBIT_NEON_H

#include "quant_k_neon.h"
#include "quant_lowbit.h"
#include "quant_neon.h"

/* IQ4 code book lookups of the low and high nibbles of 16 bytes. */
NEON_AI void neon_iq4_codes(const uint8_t *qs, int8x16_t q[2]) {
    const int8x16_t book = vld1q_s8(kvalues_iq4nl);
    const uint8x16_t b = vld1q_u8(qs);
    q[0] = vqtbl1q_s8(book, vandq_u8(b, vdupq_n_u8(0x0f)));
    q[1] = vqtbl1q_s8(book, vshrq_n_u8(b, 4));
}

NEON_AI void neon_dec_iq4_nl(const void *p, neon_wblock *o) {
    const block_iq4_nl *x = p;
    neon_iq4_codes(x->qs, o->q);
    o->d = neon_half(x->d);
    o->m = 0.0f;
}

/* IQ4_NL multiplies like Q4_0 (one fma of the block sum per block) with
 * the Q8_0 weights' activation rows. */
static void neon_mm_iq4_nl(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_quant(GGML_TYPE_IQ4_NL, neon_dec_iq4_nl, sizeof(block_iq4_nl), false, false, w, n, r0, r1, a, nt, o,
                      os);
}

/* Q2_K and Q3_K's low bits: element 128h + 32j + l is bits 2j..2j+1 of
 * qs[32h + l]; Q3_K subtracts 4 where bit 4h + j of hmask[l] is clear. */
NEON_AI void neon_low2_codes(const uint8_t *qs, const uint8_t *hmask, neon_kblock *o) {
    const uint8x16_t three = vdupq_n_u8(3), four = vdupq_n_u8(4);
    NEON_UNROLL
    for (int h = 0; h < 2; h++)
        NEON_UNROLL
        for (int i = 0; i < 2; i++) {
            const uint8x16_t b = vld1q_u8(qs + 32 * h + 16 * i);
            NEON_UNROLL
            for (int j = 0; j < 4; j++) {
                uint8x16_t q = vandq_u8(vshlq_u8(b, vdupq_n_s8((int8_t)(-2 * j))), three);
                if (hmask) {
                    const uint8x16_t set = vtstq_u8(vld1q_u8(hmask + 16 * i), vdupq_n_u8((uint8_t)(1u << (4 * h + j))));
                    q = vsubq_u8(q, vbicq_u8(four, set));
                }
                o->q[8 * h + 2 * j + i] = vreinterpretq_s8_u8(q);
            }
        }
}

NEON_AI void neon_dec_q2_k(const void *p, neon_kblock *o) {
    const block_q2_K *x = p;
    neon_low2_codes(x->qs, NULL, o);
    NEON_UNROLL
    for (int s = 0; s < 16; s++) {
        o->sc[s] = x->scales[s] & 0x0f;
        o->m[s] = x->scales[s] >> 4;
    }
    o->d = neon_half(x->d);
    o->dmin = neon_half(x->dmin);
}

NEON_AI void neon_dec_q3_k(const void *p, neon_kblock *o) {
    const block_q3_K *x = p;
    neon_low2_codes(x->qs, x->hmask, o);
    int8_t sc[16];
    q3_K_scales(x->scales, sc);
    NEON_UNROLL
    for (int s = 0; s < 16; s++) o->sc[s] = sc[s];
    o->d = neon_half(x->d);
    o->dmin = 0.0f;
}

NEON_AI void neon_dec_iq4_xs(const void *p, neon_kblock *o) {
    const block_iq4_xs *x = p;
    NEON_UNROLL
    for (int ib = 0; ib < QK_K / 32; ib++) {
        neon_iq4_codes(x->qs + 16 * ib, &o->q[2 * ib]);
        o->sc[2 * ib] = o->sc[2 * ib + 1] = iq4_xs_scale(x, ib);
    }
    o->d = neon_half(x->d);
    o->dmin = 0.0f;
}

/* Sum over the 16-element sub-blocks s0..s0+7 of sc[s] times their dot. */
NEON_AI int32_t neon_scaled_dots8(const neon_kblock *w, const int8_t *y, int s0) {
    int32x4_t acc = vdupq_n_s32(0);
    NEON_UNROLL
    for (int s = s0; s < s0 + 8; s++)
        acc = vmlaq_n_s32(acc, neon_dot4(vdupq_n_s32(0), w->q[s], vld1q_s8(y + 16 * s)), w->sc[s]);
    return vaddvq_s32(acc);
}

/* Sum over sub-blocks s0..s0+7 of mins times the activation's bsums. */
NEON_AI int32_t neon_mins8(const neon_kblock *w, const block_q8_K *y, int s0) {
    const int16x8_t bs = vld1q_s16(y->bsums + s0);
    const int32x4_t m0 = vld1q_s32(w->m + s0), m1 = vld1q_s32(w->m + s0 + 4);
    return vaddvq_s32(vmlaq_s32(vmulq_s32(vmovl_s16(vget_low_s16(bs)), m0), vmovl_high_s16(bs), m1));
}

enum neon_lowbit { NL_Q2_K, NL_Q3_K, NL_IQ4_XS, NL_IQ4_XS_PANEL };

NEON_AI void neon_matmul_lowbit(enum neon_lowbit kind, const void *w, int n, int r0, int r1, const void *act,
                                      int n_tok, float *out, size_t os) {
    const int nb = n / QK_K, n_gemm = n_tok - n_tok % 4;
    const size_t bs = kind == NL_Q2_K ? sizeof(block_q2_K) : kind == NL_Q3_K ? sizeof(block_q3_K) : sizeof(block_iq4_xs);
    const block_q8_K *a = act;
    for (int r = r0; r < r1; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * nb * bs;
        for (int t0 = 0; t0 < n_tok; t0 += NEON_KTOK) {
            const int nt = n_tok - t0 < NEON_KTOK ? n_tok - t0 : NEON_KTOK;
            neon_kacc acc[NEON_KTOK];
            for (int t = 0; t < NEON_KTOK; t++) acc[t] = (neon_kacc){vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), 0.0f, 0.0f};
            for (int b = 0; b < nb; b++) {
                neon_kblock k;
                if (kind == NL_Q2_K) neon_dec_q2_k(x + (size_t)b * bs, &k);
                else if (kind == NL_Q3_K) neon_dec_q3_k(x + (size_t)b * bs, &k);
                else neon_dec_iq4_xs(x + (size_t)b * bs, &k);
                for (int t = 0; t < nt; t++) {
                    const block_q8_K *y = &a[(size_t)(t0 + t) * nb + b];
                    neon_kacc *c = &acc[t];
                    if (kind == NL_Q2_K) {
                        const int32_t isum[2] = {neon_scaled_dots8(&k, y->qs, 0), neon_scaled_dots8(&k, y->qs, 8)},
                                      imin[2] = {neon_mins8(&k, y, 0), neon_mins8(&k, y, 8)};
                        const float dd = k.d * y->d, dm = k.dmin * y->d;
                        if (t0 + t < n_gemm) { /* ggml's gemm: per half super-block */
                            NEON_UNROLL
                            for (int h = 0; h < 2; h++) {
                                c->acc = fmaf((float)isum[h], dd, c->acc);
                                c->summs = fmaf((float)imin[h], dm, c->summs);
                            }
                        } else {
                            c->acc = fmaf((float)(isum[0] + isum[1]), dd, c->acc);
                            c->summs = fmaf((float)(imin[0] + imin[1]), dm, c->summs);
                        }
                    } else if (kind == NL_IQ4_XS_PANEL) {
                        const int32_t sum = neon_scaled_dots8(&k, y->qs, 0) + neon_scaled_dots8(&k, y->qs, 8);
                        c->acc = fmaf((float)sum, k.d * y->d, c->acc);
                    } else {
                        neon_fma8(&c->lo, &c->hi, neon_lanes16(&k, y->qs), k.d * y->d);
                    }
                }
            }
            for (int t = 0; t < nt; t++)
                out[(size_t)(t0 + t) * os + (size_t)r] = kind == NL_Q2_K           ? acc[t].acc - acc[t].summs
                                                         : kind == NL_IQ4_XS_PANEL ? acc[t].acc
                                                                                   : neon_hsum8(acc[t].lo, acc[t].hi);
        }
    }
}

static void neon_mm_q2_k(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_lowbit(NL_Q2_K, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_q3_k(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_lowbit(NL_Q3_K, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_iq4_xs(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_lowbit(nt >= LOWBIT_IQ4_XS_PANEL_MIN ? NL_IQ4_XS_PANEL : NL_IQ4_XS, w, n, r0, r1, a, nt, o, os);
}

static void neon_lowbit_fill(hearth_kernels *k) {
    k->matmul[KW_Q2_K] = neon_mm_q2_k;
    k->matmul[KW_Q3_K] = neon_mm_q3_k;
    k->matmul[KW_IQ4_XS] = neon_mm_iq4_xs;
    k->matmul[KW_IQ4_NL] = neon_mm_iq4_nl;
}

#endif
