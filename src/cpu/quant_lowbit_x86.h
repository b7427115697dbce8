/* x86 SIMD bodies of the Q2_K, Q3_K, IQ4_NL and IQ4_XS products, shared by
 * quant_lowbit_avx2.c and quant_lowbit_avx512.c (each includes it once
 * with its instruction set: LB_512 is the AVX512-VNNI build). Not a public
 * header: it defines static functions. Orders and their ggml sources:
 * quant_lowbit.h; the bits equal quant_lowbit_scalar.c's. This file holds
 * what the parts share; the parts: quant_lowbit_x86_kdec.h (K-type
 * super-block decoding and integer dots), quant_lowbit_x86_kmm.h (K-type
 * products), quant_lowbit_x86_nl.h (IQ4_NL products).
 *
 * K types (Q2_K, Q3_K, IQ4_XS), decode and Q3_K's (and IQ4_XS's 4-7 token)
 * prefill: rows are taken as ggml's vec_dot takes them, 32 elements per
 * 256-bit chunk (chunk pairs in 512-bit registers), so that 32-bit lane l
 * of an integer dot holds ggml's lane l (elements 4l..4l+3 of each 32):
 * maddubs of codes (|code|, the code's sign moved onto the activation, for
 * signed types) then madd with the int16 scales of the two 16-element
 * sub-blocks. Decode streams rows with each super-block in registers;
 * prefill decodes LB_ROWS rows' super-block once for a chunk of tokens.
 *
 * Q2_K from 4 tokens and IQ4_XS from 8 (one float chain per row): 8-row
 * transposed super-block tiles (lb_matmul_tiles).
 *
 * IQ4_NL: Q4_0's transposed tiles (quant_simd_x86.h, quant_avx512.c):
 * lane i is row i, code bytes from the code book by one byte shuffle; 8
 * rows, 16 for prefill at the AVX-512 level. */
#ifndef HEARTH_QUANT_LOWBIT_X86_H
#define HEARTH_QUANT_LOWBIT_X86_H

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "model/ggml_types.h"
#include "quant_lowbit.h"

#define LB_AI static inline __attribute__((always_inline))

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__) && !defined(LB_NO_512)
#define LB_512 1
#else
#define LB_512 0
#endif

#define LB_CHUNK 64 /* tokens whose accumulators stay in L1 */

/* ---------------- shared helpers ---------------- */

LB_AI float lb_h2f(ggml_half h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

LB_AI uint16_t lb_ld16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

LB_AI int lb_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/* ggml's hsum_float_8. */
LB_AI float lb_hsum_f32(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* acc += w (u8) . the 4 bytes at p (s8) broadcast, folded into the
 * instruction's memory operand. */
#if LB_512
LB_AI __m256i lb_dpbusd_b(__m256i acc, __m256i w, const int8_t *p) {
    __asm__("vpdpbusd %2%{1to8%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const uint32_t *)(const void *)p));
    return acc;
}
#endif

/* The first cnt of 8 floats. */
LB_AI void lb_store8(float *dst, __m256 v, int cnt) {
    if (cnt == 8) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, v);
    memcpy(dst, tmp, sizeof(float) * (size_t)cnt);
}

#include "quant_lowbit_x86_kdec.h"
#include "quant_lowbit_x86_kmm.h"
#include "quant_lowbit_x86_nl.h"

static void lowbit_x86_fill(hearth_kernels *k) {
    k->quant[KW_IQ4_NL] = k->quant[KW_Q8_0];
    k->matmul[KW_Q2_K] = lbx_mm_q2_K;
    k->matmul[KW_Q3_K] = lbx_mm_q3_K;
    k->matmul[KW_IQ4_XS] = lbx_mm_iq4_xs;
    k->matmul[KW_IQ4_NL] = lbx_mm_iq4_nl;
}

#endif
