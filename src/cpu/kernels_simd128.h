/* WebAssembly SIMD128 kernel level (quant_simd128.c, float_simd128.c):
 * kernels_init installs it in wasm builds compiled with -msimd128. */
#ifndef HEARTH_CPU_KERNELS_SIMD128_H
#define HEARTH_CPU_KERNELS_SIMD128_H

#include <stdbool.h>

#include "attention.h"
#include "kernels.h"

/* Overwrites every matmul and the Q8_0/Q8_1 activation quantization with
 * SIMD128 versions (bit-identical with the scalar reference) and names the
 * set "simd128"; returns false and touches nothing when compiled without
 * SIMD128. */
bool kernels_simd128_fill(hearth_kernels *k);
/* Replaces the Q4_0, Q5_0 and Q8_0 products with the f32-accumulating ones of
 * quant_simd128_fast.c (not bit-identical with llama.cpp), and those of the
 * K-quants and IQ4 types with quant_k_simd128_fast.c's and
 * quant_iq4nl_simd128.c's, and names the set
 * "simd128-fast"; call after kernels_simd128_fill. Returns false and
 * touches nothing when compiled without SIMD128. */
bool kernels_simd128_fast_fill(hearth_kernels *k);
/* Adds the relaxed-SIMD products of Q4_0_X4, Q8_0_X4, Q4_K_X4 and Q6_K_X4
 * weights and their activation rows (quant_simd128_relaxed.c,
 * quant_k_x4_simd128_relaxed.c; kernels_pack_weight then repacks Q4_0,
 * Q8_0, Q4_K and Q6_K matrices), replaces the Q2_K..Q6_K products with
 * quant_k_simd128_relaxed.c's and names the set
 * "simd128-relaxed"; call after kernels_simd128_fast_fill. Returns false and
 * touches nothing when compiled without relaxed SIMD. */
bool kernels_simd128_relaxed_fill(hearth_kernels *k);
/* The exact products of quant_simd128.c, which the fast ones fall back to
 * for rows longer than they take. */
void kernels_simd128_matmul_q4_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os);
void kernels_simd128_matmul_q5_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os);
void kernels_simd128_matmul_q8_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os);
/* One block of Q8_0 activations (kernels_q8_block_fn), bit-identical with
 * the scalar reference. */
float kernels_simd128_quant_block(const float *x, int8_t *qs, int *sum);
/* The Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS products
 * (quant_k_simd128.c), bit-identical with the scalar references; used by
 * kernels_simd128_fill. */
void kernels_k_simd128_fill(hearth_kernels *k);
/* Their f32-accumulating versions (quant_k_simd128_fast.c); used by
 * kernels_simd128_fast_fill. */
void kernels_k_simd128_fast_fill(hearth_kernels *k);
/* The relaxed-SIMD versions of the Q2_K..Q6_K ones (quant_k_simd128_relaxed.c);
 * used by kernels_simd128_relaxed_fill. */
void kernels_k_simd128_relaxed_fill(hearth_kernels *k);
/* The relaxed-SIMD products of the Q4_K_X4 and Q6_K_X4 layouts and their
 * activation rows (quant_k_x4_simd128_relaxed.c; kernels_pack_weight then
 * repacks Q4_K and Q6_K matrices); used by kernels_simd128_relaxed_fill. */
void kernels_k_x4_simd128_relaxed_fill(hearth_kernels *k);
/* IQ4_NL's product (quant_iq4nl_simd128.c): the exact one and its
 * activation quantizer (the set's Q8_0 one: call after setting it), or
 * (fast) the f32-accumulating one. */
void kernels_iq4nl_simd128_fill(hearth_kernels *k, bool fast);
/* The F32/F16/BF16 matmuls; used by kernels_simd128_fill. */
void kernels_simd128_float_fill(hearth_kernels *k);
/* The attention row (attention_simd128.c), bit-identical with
 * attention_row_scalar; NULL when compiled without SIMD128. */
attention_row_fn attention_row_simd128(void);
/* The fast numerics' row (attention_simd128_fast.c: f32 sums and
 * accumulator, SIMD128 exp); NULL when compiled without SIMD128. */
attention_row_fn attention_row_simd128_fast(void);
attention_group_fn attention_group_simd128_fast(void);

#endif
