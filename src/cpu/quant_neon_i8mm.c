/* The ARM64 i8mm level: the dot-product level's kernels, and for prefill
 * (2 tokens or more) of the types whose float step takes whole 32-element
 * block sums (Q4_0, IQ4_NL) SMMLA (vmmlaq_s32), which makes the
 * sums of 2 weight rows x 2 tokens at once: a 2x8 by 8x2 product of 8-bit
 * codes per instruction, half the instructions of SDOT for the same sums.
 * Same exact integers, same float order (the scalar reference's), so the
 * same bits. Compiled with -march=armv8.2-a+dotprod+i8mm (FEAT_I8MM:
 * Apple M2 on, Graviton 3 on, Cortex-A510/A710 on); elsewhere a stub. */
#include "kernels.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD) && defined(__ARM_FEATURE_MATMUL_INT8)
#include "quant_float_neon.h"
#include "quant_lowbit_neon.h" /* with quant_neon.h and quant_k_neon.h */

/* 16 bytes of row a and of row b as the two 8-byte rows of SMMLA's
 * operands: lo takes bytes 0..7 of each, hi bytes 8..15. */
static inline void i8mm_pair(int8x16_t a, int8x16_t b, int8x16_t *lo, int8x16_t *hi) {
    *lo = vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
    *hi = vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

/* The 32-element dots of 2 rows (w0, w1, already paired by i8mm_pair in
 * wp[4]) with 2 tokens' codes y0, y1: {w0.y0, w0.y1, w1.y0, w1.y1}. */
static inline int32x4_t i8mm_block(const int8x16_t wp[4], const int8_t *y0, const int8_t *y1) {
    int32x4_t s = vdupq_n_s32(0);
    for (int k = 0; k < 2; k++) {
        int8x16_t lo, hi;
        i8mm_pair(vld1q_s8(y0 + 16 * k), vld1q_s8(y1 + 16 * k), &lo, &hi);
        s = vmmlaq_s32(s, wp[2 * k], lo);
        s = vmmlaq_s32(s, wp[2 * k + 1], hi);
    }
    return s;
}

static inline void i8mm_pair_rows(const int8x16_t w0[2], const int8x16_t w1[2], int8x16_t wp[4]) {
    i8mm_pair(w0[0], w1[0], &wp[0], &wp[1]);
    i8mm_pair(w0[1], w1[1], &wp[2], &wp[3]);
}

/* Stores {r.t, r.t+1, r+1.t, r+1.t+1}. */
static inline void i8mm_store(float32x4_t v, float *out, size_t os, int t, int r) {
    out[(size_t)t * os + (size_t)r] = vgetq_lane_f32(v, 0);
    out[(size_t)(t + 1) * os + (size_t)r] = vgetq_lane_f32(v, 1);
    out[(size_t)t * os + (size_t)r + 1] = vgetq_lane_f32(v, 2);
    out[(size_t)(t + 1) * os + (size_t)r + 1] = vgetq_lane_f32(v, 3);
}

#define I8MM_PAIRS 4 /* token pairs per pass over a pair of rows */

/* Q4_0 and IQ4_NL: acc = fma(float(block sum), dw*da, acc) per block, for
 * pairs of rows and pairs of tokens; an odd row or token takes the SDOT
 * kernel (the same order, so the same bits). */
NEON_AI void i8mm_matmul_sum(uint32_t type, neon_dec_fn dec, size_t bsize, const void *w, int n, int r0, int r1,
                             const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / 32, n2 = n_tok & ~1;
    const size_t wrow = (size_t)nb * bsize, arow = kernels_act_row_bytes(type, n), aux_off = kernels_act_aux_offset(n, false);
    int r = r0;
    for (; r + 2 <= r1 && n2 > 0; r += 2) {
        const unsigned char *x = (const unsigned char *)w + (size_t)r * wrow;
        for (int t0 = 0; t0 < n2; t0 += 2 * I8MM_PAIRS) {
            const int np = (n2 - t0) / 2 < I8MM_PAIRS ? (n2 - t0) / 2 : I8MM_PAIRS;
            float32x4_t acc[I8MM_PAIRS];
            for (int p = 0; p < I8MM_PAIRS; p++) acc[p] = vdupq_n_f32(0.0f);
            for (int b = 0; b < nb; b++) {
                neon_wblock w0, w1;
                dec(x + (size_t)b * bsize, &w0);
                dec(x + wrow + (size_t)b * bsize, &w1);
                int8x16_t wp[4];
                i8mm_pair_rows(w0.q, w1.q, wp);
                const float32x4_t dw = {w0.d, w0.d, w1.d, w1.d};
                for (int p = 0; p < np; p++) {
                    const unsigned char *a0 = (const unsigned char *)act + (size_t)(t0 + 2 * p) * arow, *a1 = a0 + arow;
                    const size_t q = (size_t)b * sizeof(block_q8_0) + 2, aux = aux_off + sizeof(act_aux_q8_0) * (size_t)b;
                    float da0, da1;
                    memcpy(&da0, a0 + aux, 4);
                    memcpy(&da1, a1 + aux, 4);
                    const float32x4_t da = {da0, da1, da0, da1};
                    const int32x4_t s = i8mm_block(wp, (const int8_t *)(a0 + q), (const int8_t *)(a1 + q));
                    acc[p] = vfmaq_f32(acc[p], vcvtq_f32_s32(s), vmulq_f32(dw, da)); /* fma(sum, dw*da, acc) */
                }
            }
            for (int p = 0; p < np; p++) i8mm_store(acc[p], out, os, t0 + 2 * p, r);
        }
        if (n2 < n_tok)
            neon_matmul_quant(type, dec, bsize, false, false, w, n, r, r + 2, (const unsigned char *)act + (size_t)n2 * arow, 1,
                              out + (size_t)n2 * os, os);
    }
    if (r < r1) neon_matmul_quant(type, dec, bsize, false, false, w, n, r, r1, act, n_tok, out, os);
}

static void i8mm_mm_q4_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    i8mm_matmul_sum(GGML_TYPE_Q4_0, neon_dec_q4_0, sizeof(block_q4_0), w, n, r0, r1, a, nt, o, os);
}
static void i8mm_mm_iq4_nl(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    i8mm_matmul_sum(GGML_TYPE_IQ4_NL, neon_dec_iq4_nl, sizeof(block_iq4_nl), w, n, r0, r1, a, nt, o, os);
}

bool kernels_neon_i8mm_fill(hearth_kernels *k) {
    neon_float_fill(k);
    neon_quant_fill(k);
    neon_k_fill(k);
    neon_lowbit_fill(k);
    k->matmul[KW_Q4_0] = i8mm_mm_q4_0;
    k->matmul[KW_IQ4_NL] = i8mm_mm_iq4_nl;
    k->name = "neon-i8mm";
    return true;
}
#else
bool kernels_neon_i8mm_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
