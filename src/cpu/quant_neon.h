/* ARM64 NEON products of the 32-element block types (Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0) with their Q8_0 / Q8_1 activation rows, in the float order
 * of the scalar reference (quant_scalar.c, kernels.h): the same bits.
 * Included by each NEON level's file, which picks the dot primitive
 * (neon_dot.h); everything here is static to that file. */
#ifndef HEARTH_CPU_QUANT_NEON_H
#define HEARTH_CPU_QUANT_NEON_H

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "kernels.h"
#include "model/ggml_types.h"
#include "neon_dot.h"

/* A weight block as 32 signed codes (elements 0..15, 16..31), its scale
 * and min (0 for the types without one). */
typedef struct {
    int8x16_t q[2];
    float d, m;
} neon_wblock;

NEON_AI void neon_nibbles(const uint8_t *qs, int8_t offset, int8x16_t q[2]) {
    const uint8x16_t b = vld1q_u8(qs);
    const int8x16_t off = vdupq_n_s8(offset);
    q[0] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(0x0f))), off);
    q[1] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), off);
}

/* Q5's fifth bits (bit j of qh for element j) as 0 or 16 per byte. */
NEON_AI void neon_q5_high(const uint8_t qh4[4], uint8x16_t h[2]) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t vb = vld1q_u8(bit), sixteen = vdupq_n_u8(16);
    NEON_UNROLL
    for (int i = 0; i < 2; i++) {
        const uint8x16_t bytes = vcombine_u8(vdup_n_u8(qh4[2 * i]), vdup_n_u8(qh4[2 * i + 1]));
        h[i] = vandq_u8(vtstq_u8(bytes, vb), sixteen);
    }
}

NEON_AI void neon_dec_q4_0(const void *p, neon_wblock *o) {
    const block_q4_0 *x = p;
    neon_nibbles(x->qs, 8, o->q);
    o->d = neon_half(x->d);
    o->m = 0.0f;
}

NEON_AI void neon_dec_q4_1(const void *p, neon_wblock *o) {
    const block_q4_1 *x = p;
    neon_nibbles(x->qs, 0, o->q);
    o->d = neon_half(x->d);
    o->m = neon_half(x->m);
}

/* Q5_0 and Q5_1: the nibbles or'ed with the fifth bit, minus offset. */
NEON_AI void neon_q5_codes(const uint8_t *qs, const uint8_t *qh, int8_t offset, int8x16_t q[2]) {
    int8x16_t lo[2];
    uint8x16_t h[2];
    neon_nibbles(qs, 0, lo);
    neon_q5_high(qh, h);
    NEON_UNROLL
    for (int i = 0; i < 2; i++) q[i] = vsubq_s8(vorrq_s8(lo[i], vreinterpretq_s8_u8(h[i])), vdupq_n_s8(offset));
}

NEON_AI void neon_dec_q5_0(const void *p, neon_wblock *o) {
    const block_q5_0 *x = p;
    neon_q5_codes(x->qs, x->qh, 16, o->q);
    o->d = neon_half(x->d);
    o->m = 0.0f;
}

NEON_AI void neon_dec_q5_1(const void *p, neon_wblock *o) {
    const block_q5_1 *x = p;
    neon_q5_codes(x->qs, x->qh, 0, o->q);
    o->d = neon_half(x->d);
    o->m = neon_half(x->m);
}

NEON_AI void neon_dec_q8_0(const void *p, neon_wblock *o) {
    const block_q8_0 *x = p;
    o->q[0] = vld1q_s8(x->qs);
    o->q[1] = vld1q_s8(x->qs + 16);
    o->d = neon_half(x->d);
    o->m = 0.0f;
}

typedef void (*neon_dec_fn)(const void *, neon_wblock *);

#define NEON_TOK_TILE 4

/* One row times the tokens of a tile (nt of them, act and out at the
 * tile's first): each weight block is decoded once for all of them.
 * lanes false (Q4_0): acc = fma(block sum, dw*da, acc); lanes true: 8
 * lanes of 4-element sums, hsum8 at the end, plus (Q8_1 rows, q81) the
 * mins fma'ed separately, exactly as the scalar reference. */
NEON_AI void neon_quant_tile(neon_dec_fn dec, size_t bsize, bool q81, bool lanes, const unsigned char *x, int nb,
                             const unsigned char *act, size_t arow, size_t aux_off, int nt, float *out, size_t os) {
    const size_t ablk = q81 ? sizeof(block_q8_1) : sizeof(block_q8_0), qoff = q81 ? 4 : 2;
    float32x4_t lo[NEON_TOK_TILE], hi[NEON_TOK_TILE];
    float acc[NEON_TOK_TILE] = {0}, summs[NEON_TOK_TILE] = {0};
    for (int t = 0; t < NEON_TOK_TILE; t++) lo[t] = hi[t] = vdupq_n_f32(0.0f);
    for (int b = 0; b < nb; b++) {
        neon_wblock wb;
        dec(x + (size_t)b * bsize, &wb);
        for (int t = 0; t < nt; t++) {
            const unsigned char *at = act + (size_t)t * arow;
            const int8_t *yq = (const int8_t *)(at + (size_t)b * ablk + qoff);
            float aux[2]; /* both aux layouts start with {float d; 4 bytes} */
            memcpy(aux, at + aux_off + 8 * (size_t)b, 8);
            const float dd = wb.d * aux[0];
            if (!lanes) {
                acc[t] = fmaf((float)neon_block_sum(wb.q, yq), dd, acc[t]);
                continue;
            }
            neon_fma8(&lo[t], &hi[t], neon_block_dots(wb.q, yq), dd);
            if (q81) summs[t] = fmaf(wb.m, aux[1], summs[t]);
        }
    }
    for (int t = 0; t < nt; t++)
        out[(size_t)t * os] = !lanes ? acc[t] : (q81 ? neon_hsum8(lo[t], hi[t]) + summs[t] : neon_hsum8(lo[t], hi[t]));
}

NEON_AI void neon_matmul_quant(uint32_t type, neon_dec_fn dec, size_t bsize, bool q81, bool lanes, const void *w, int n,
                               int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / 32;
    const size_t wrow = (size_t)nb * bsize, arow = kernels_act_row_bytes(type, n), aux_off = kernels_act_aux_offset(n, q81);
    for (int r = r0; r < r1; r++) {
        const unsigned char *x = (const unsigned char *)w + (size_t)r * wrow;
        for (int t0 = 0; t0 < n_tok; t0 += NEON_TOK_TILE) {
            const int nt = n_tok - t0 < NEON_TOK_TILE ? n_tok - t0 : NEON_TOK_TILE;
            const unsigned char *a = (const unsigned char *)act + (size_t)t0 * arow;
            float *o = out + (size_t)t0 * os + (size_t)r;
            if (nt == 1) neon_quant_tile(dec, bsize, q81, lanes, x, nb, a, arow, aux_off, 1, o, os); /* decode */
            else neon_quant_tile(dec, bsize, q81, lanes, x, nb, a, arow, aux_off, nt, o, os);
        }
    }
}

static void neon_mm_q4_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_quant(GGML_TYPE_Q4_0, neon_dec_q4_0, sizeof(block_q4_0), false, false, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_q4_1(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_quant(GGML_TYPE_Q4_1, neon_dec_q4_1, sizeof(block_q4_1), true, true, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_q5_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_quant(GGML_TYPE_Q5_0, neon_dec_q5_0, sizeof(block_q5_0), false, true, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_q5_1(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_quant(GGML_TYPE_Q5_1, neon_dec_q5_1, sizeof(block_q5_1), true, true, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_q8_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_quant(GGML_TYPE_Q8_0, neon_dec_q8_0, sizeof(block_q8_0), false, true, w, n, r0, r1, a, nt, o, os);
}

/* The products above into a kernel set (activation quantizers stay the
 * scalar reference's: the same rows). */
static void neon_quant_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_0] = neon_mm_q4_0;
    k->matmul[KW_Q4_1] = neon_mm_q4_1;
    k->matmul[KW_Q5_0] = neon_mm_q5_0;
    k->matmul[KW_Q5_1] = neon_mm_q5_1;
    k->matmul[KW_Q8_0] = neon_mm_q8_0;
}

#endif
