/* AVX2 + F16C attention row (see attention.h); compiled with -mavx2 -mfma -mf16c. */
#include "attention.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#include <math.h>

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }
static inline uint16_t f2h(float f) { return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }
#define LOAD16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define STORE16(p, v) _mm_storeu_si128((__m128i *)(p), _mm256_cvtps_ph((v), _MM_FROUND_TO_NEAREST_INT))

static void row(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int hd, int stride, float scale,
                uint16_t *acc, float *out) {
    float qf[512];
    int vec = hd & ~7;
    for (int d = 0; d < hd; d++) {
        qf[d] = h2f(f2h(q[d]));
        acc[d] = 0;
    }
    float M = -INFINITY, S = 0;
    for (int j = 0; j < n_pos; j++) {
        const uint16_t *k = K + (size_t)j * stride, *v = V + (size_t)j * stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        int d = 0;
        for (; d + 16 <= vec; d += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qf + d), LOAD16(k + d), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qf + d + 8), LOAD16(k + d + 8), a1);
        }
        for (; d < vec; d += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qf + d), LOAD16(k + d), a0);
        float s = hsum(_mm256_add_ps(a0, a1));
        for (; d < hd; d++) s += qf[d] * h2f(k[d]);
        s *= scale;
        float ms = 1.0f, vs = 1.0f;
        if (s > M) {
            float old = M;
            M = s;
            ms = expf(old - M);
            __m256 m = _mm256_set1_ps(ms);
            for (d = 0; d < vec; d += 8) STORE16(acc + d, _mm256_mul_ps(LOAD16(acc + d), m));
            for (; d < hd; d++) acc[d] = f2h(h2f(acc[d]) * ms);
        } else {
            vs = expf(s - M);
        }
        __m256 w = _mm256_set1_ps(vs);
        for (d = 0; d < vec; d += 8) STORE16(acc + d, _mm256_fmadd_ps(LOAD16(v + d), w, LOAD16(acc + d)));
        for (; d < hd; d++) acc[d] = f2h(h2f(acc[d]) + h2f(v[d]) * vs);
        S = S * ms + vs;
    }
    float inv = S == 0 ? 0 : 1.0f / S;
    for (int d = 0; d < hd; d++) out[d] = h2f(acc[d]) * inv;
}

attention_row_fn attention_row_avx2(void) { return row; }
#else
attention_row_fn attention_row_avx2(void) { return 0; }
#endif
