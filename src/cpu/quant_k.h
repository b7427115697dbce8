/* Q4_K, Q5_K and Q6_K products and dequantization: what the scalar
 * reference (quant_k_scalar.c) and the x86 kernels (quant_k_x86.h) share.
 *
 * The order each product reproduces, per output (llama.cpp's zen4 CPU
 * build; the integer sums are exact, so only these float steps matter):
 *   Q4_K: ggml's repack q4_K_8x8_q8_K (x86 repack.cpp), which llama.cpp
 *         uses for every Q4_K matrix with a multiple of 8 rows (assumed
 *         here, as for Q4_0). Of a product's n_tok tokens, the first
 *         n_tok - n_tok % 4 go through its gemm, the rest through its gemv:
 *           gemm: per pair of 32-element sub-blocks p (4 per super-block),
 *                 acc = fma(float(sc_2p dot_2p + sc_2p+1 dot_2p+1), dw*da, acc),
 *                 accm = fma(float(m_2p bsum_2p + m_2p+1 bsum_2p+1), dmin*da, accm);
 *           gemv: the same, once per super-block with the sums of all 8;
 *         out = acc - accm.
 *   Q5_K: ggml_vec_dot_q5_K_q8_K (AVX2 branch; there is no AVX-512 one):
 *         8 float lanes, lane l = fma(da*dw, float(S_l), lane l) per
 *         super-block, S_l = sum over the 8 sub-blocks j of sc_j times the
 *         integer dot of elements 4l..4l+3 of sub-block j; summs =
 *         fma(-da*dmin, float(sum_j m_j bsum_j), summs); out = hsum8 + summs.
 *   Q6_K: ggml_vec_dot_q6_K_q8_K (AVX2 branch): the same 8 lanes over the
 *         8 chunks c of 32 elements (codes 0..63, scale of the chunk's
 *         16-element half), minus 32 (sc_2l bsum_2l + sc_2l+1 bsum_2l+1)
 *         in lane l (ggml's -32 offset); out = hsum8.
 * Activations are Q8_K rows (kernels_fill_q8_K_row): the repack's own
 * quantize_mat_q8_K_4x8 makes the same codes, d and sums (it may pick the
 * sign of d the other way when +max and -max both occur, which negates d
 * and every code and leaves each product's bits unchanged). ggml's llamafile
 * sgemm takes no K-quants, so several tokens use the same routines. */
#ifndef HEARTH_CPU_QUANT_K_H
#define HEARTH_CPU_QUANT_K_H

#include <stdint.h>

#include "kernels.h"
#include "model/ggml_types.h"

/* Byte offsets inside the blocks (ggml_types.h's layouts). */
#define KQ4_QS 16  /* block_q4_K: d, dmin, scales[12], qs[128] */
#define KQ5_QH 16  /* block_q5_K: d, dmin, scales[12], qh[32], qs[128] */
#define KQ5_QS 48
#define KQ6_QH 128 /* block_q6_K: ql[128], qh[64], scales[16], d */
#define KQ6_SC 192
#define KQ6_D 208

/* The 8 six-bit scales and mins of a Q4_K / Q5_K block (ggml's
 * get_scale_min_k4 for j = 0..7). */
static inline void kq_scales_mins(const uint8_t *q, uint8_t sc[8], uint8_t m[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        m[j] = q[j + 4] & 63;
        sc[j + 4] = (uint8_t)((q[j + 8] & 0xf) | ((q[j] >> 6) << 4));
        m[j + 4] = (uint8_t)((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
    }
}

/* Q6_K code (0..63) of element e of a block: chunk c = e / 32 of the
 * 128-element half h takes ql's low (c even) or high nibbles of bytes
 * 64h + 32 (c & 1) + l and bits 2c, 2c + 1 of qh[32h + l]. */
static inline int q6_code(const block_q6_K *x, int e) {
    const int h = e / 128, c = (e / 32) % 4, l = e % 32;
    const uint8_t lo = x->ql[64 * h + 32 * (c & 1) + l], hi = x->qh[32 * h + l];
    return ((c & 2 ? lo >> 4 : lo & 0xf) | (((hi >> (2 * c)) & 3) << 4));
}

/* Whether token t of a product of n_tok tokens goes through ggml's repack
 * gemm (else its gemv). */
static inline int kq4_gemm_token(int t, int n_tok) {
    return t < n_tok - n_tok % 4;
}

/* Dequantization as ggml's dequantize_row_q4_K / q5_K / q6_K (quant_k_scalar.c). */
void kernels_dequantize_k(uint32_t type, const void *src, float *dst, int n);
/* The K-quant entries of each kernel set (quant and matmul slots), called
 * by kernels_scalar_fill / kernels_avx2_fill / kernels_avx512_fill. */
void kernels_k_scalar_fill(hearth_kernels *k);
void kernels_k_avx2_fill(hearth_kernels *k);
void kernels_k_avx512_fill(hearth_kernels *k);

#endif
