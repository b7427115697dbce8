/* Kernels for ggml's Q2_K, Q3_K, IQ4_NL and IQ4_XS weights (the "low-bit"
 * types): dequantization and products, each level's entries filled in by
 * its kernels_*_fill (kernels.h).
 *
 * Accumulation orders are those of llama.cpp's zen4 CPU build, per output
 * (row r, token t of n_tok), with exact integer sums in between:
 *   Q2_K (ggml repacks matrices whose row count is a multiple of 8, assumed
 *         here, and multiplies them with q2_K_8x8_q8_K): per super-block
 *         isum = sum of scale x code x activation, imin = sum of min x the
 *         activation block's bsums; acc = fma(float(isum), d*da, acc),
 *         accmin = fma(float(imin), dmin*da, accmin); out = acc - accmin.
 *         Tokens t < n_tok - n_tok % 4 go through ggml's gemm, which does the
 *         two fmas once per half super-block (128 elements), the rest
 *         through its gemv, once per super-block. (The gemm's own Q8_K rows
 *         can differ from quantize_row_q8_K_ref only by the sign of codes
 *         and d together, when +max and -max tie: the products are the same
 *         bits, so one activation row serves both; the pinned tests force
 *         such ties.)
 *   IQ4_XS, n_tok >= 8 (ggml's IQ panel gemm, iqp.cpp, for row counts
 *         multiple of 8, assumed): acc = fma(float(isum), dw*da, acc) per
 *         super-block, isum the sum of scale x code x activation;
 *   Q3_K, and IQ4_XS for 1-7 tokens (ggml_vec_dot_q3_K_q8_K /
 *         iq4_xs_q8_K, their __AVX2__ branch: ggml has no AVX-512 one):
 *         8 float lanes; lane l takes, per super-block, the integer sum over
 *         the elements e with e % 32 in [4l, 4l+4) of scale(e) x code x
 *         activation, as lane = fma(d, float(sum), lane) with d = dw * da
 *         (one f32 product); then hsum_float_8;
 *   IQ4_NL (repacked as iq4_nl_8x8_q8_0 for a row count multiple of 8,
 *         assumed, ahead of llamafile's tinyBLAS; as Q4_0): acc = fma(float(block int sum), dw*da, acc) per block of 32.
 * Activations: Q8_K rows (kernels_fill_q8_K_row) for the K types and IQ4_XS;
 * IQ4_NL takes the Q8_0 weights' row (aux entries and group biases), filled
 * by the level's Q8_0 quantizer. */
#ifndef HEARTH_CPU_QUANT_LOWBIT_H
#define HEARTH_CPU_QUANT_LOWBIT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernels.h"
#include "model/ggml_types.h"

/* Q3_K's 16 six-bit scales, unpacked from its 12 bytes, minus 32. */
static inline void q3_K_scales(const uint8_t *packed, int8_t out[16]) {
    for (int s = 0; s < 16; s++) {
        const int lo = s < 8 ? packed[s] & 0x0f : packed[s - 8] >> 4;
        const int hi = (packed[8 + s % 4] >> (2 * (s / 4))) & 3;
        out[s] = (int8_t)((lo | hi << 4) - 32);
    }
}
/* IQ4_XS's scale of sub-block ib (32 elements), minus 32. */
static inline int iq4_xs_scale(const block_iq4_xs *x, int ib) {
    return (((x->scales_l[ib / 2] >> 4 * (ib % 2)) & 0x0f) | (((x->scales_h >> 2 * ib) & 3) << 4)) - 32;
}

/* ggml's dequantize_row_{q2_K,q3_K,iq4_nl,iq4_xs}, bit for bit; false for
 * any other type. */
/* Tokens from which IQ4_XS products take ggml's IQ panel order. */
#define LOWBIT_IQ4_XS_PANEL_MIN 8

bool lowbit_dequantize_row(uint32_t type, const void *src, float *dst, int n);

/* Each level's products (and IQ4_NL's activation quantizer, the level's
 * Q8_0 one: call after the level's own fill). The SIMD ones return false,
 * touching nothing, when compiled without their instruction set. */
void lowbit_scalar_fill(hearth_kernels *k);
bool lowbit_avx2_fill(hearth_kernels *k);
bool lowbit_avx512_fill(hearth_kernels *k);

#endif
