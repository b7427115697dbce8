/* ggml's AVX v_expf, 8 lanes, each lane the same arithmetic as
 * ggml_poly_expf (activation.c), so results are bit-equal to it; for the
 * files compiled with -mavx2 -mfma (SwiGLU, the tiled attention's softmax). */
#ifndef HEARTH_CPU_EXPF_AVX2_H
#define HEARTH_CPU_EXPF_AVX2_H

#include <immintrin.h>
#include <math.h>

/* j * 2^n for |n| <= 192 with one rounding, like AVX-512's scalef: two
 * exact power-of-two factors, each a normal float. */
static inline __m256 scale_pow2(__m256 j, __m256 n) {
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i half = _mm256_srai_epi32(ni, 1);
    __m256i rest = _mm256_sub_epi32(ni, half);
    __m256 p1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    __m256 p2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(j, p1), p2);
}

static inline __m256 v_expf(__m256 x) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    __m256 n = _mm256_sub_ps(z, r);
    __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    __m256 u = _mm256_mul_ps(b, b);
    __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    __m256 absn = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    __m256 big = _mm256_cmp_ps(absn, _mm256_set1_ps(192), _CMP_GT_OQ);
    /* Clamp before building exponents; the blend below replaces those lanes. */
    __m256 nc = _mm256_min_ps(_mm256_max_ps(n, _mm256_set1_ps(-192)), _mm256_set1_ps(192));
    __m256 res = scale_pow2(j, nc);
    if (_mm256_testz_ps(big, big)) return res;
    __m256 alt = _mm256_blendv_ps(_mm256_setzero_ps(), _mm256_set1_ps(INFINITY),
                                  _mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_GT_OQ));
    return _mm256_blendv_ps(res, alt, big);
}

#endif
