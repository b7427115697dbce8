/* AVX2 + F16C attention row (see attention.h); compiled with -mavx2 -mfma -mf16c. */
#include "attention.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#include <math.h>

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }
static inline uint16_t f2h(float f) { return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }
#define LOAD16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define STORE16(p, v) _mm_storeu_si128((__m128i *)(p), _mm256_cvtps_ph((v), _MM_FROUND_TO_NEAREST_INT))

/* ggml_vec_dot_f16 as llama.cpp's AVX-512 build computes it: 64 elements
 * per step in four 16-lane FMA accumulators, folded (0+2, 1+3, 0+1) and
 * reduced as GCC's _mm512_reduce_add_ps does, then the rest added in double.
 * Each 16-lane accumulator is a pair of 8-lane registers here. */
static inline float dot_f16(const float *q, const uint16_t *k, int n) {
    int np = n & ~63;
    double sum = 0;
    if (np) {
        __m256 lo[4], hi[4];
        for (int j = 0; j < 4; j++) lo[j] = hi[j] = _mm256_setzero_ps();
        for (int i = 0; i < np; i += 64)
            for (int j = 0; j < 4; j++) {
                lo[j] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16 * j), LOAD16(k + i + 16 * j), lo[j]);
                hi[j] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16 * j + 8), LOAD16(k + i + 16 * j + 8), hi[j]);
            }
        lo[0] = _mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3]));
        hi[0] = _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3]));
        __m256 t3 = _mm256_add_ps(hi[0], lo[0]);
        __m128 t6 = _mm_add_ps(_mm256_extractf128_ps(t3, 1), _mm256_castps256_ps128(t3));
        __m128 t8 = _mm_add_ps(t6, _mm_shuffle_ps(t6, t6, _MM_SHUFFLE(1, 0, 3, 2)));
        sum = (double)(_mm_cvtss_f32(t8) + _mm_cvtss_f32(_mm_shuffle_ps(t8, t8, 1)));
    }
    for (int i = np; i < n; i++) sum += (double)(q[i] * h2f(k[i]));
    return (float)sum;
}

static void part(const float *q, const uint16_t *K, const uint16_t *V, int j0, int j1, int hd, int stride, float scale,
                 uint16_t *acc, float ms_out[2]) {
    float qf[512];
    int vec = hd & ~7;
    for (int d = 0; d < hd; d++) {
        qf[d] = h2f(f2h(q[d]));
        acc[d] = 0;
    }
    float M = -INFINITY, S = 0;
    for (int j = j0; j < j1; j++) {
        const uint16_t *k = K + (size_t)j * stride, *v = V + (size_t)j * stride;
        float s = dot_f16(qf, k, hd);
        int d;
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
        for (; d < hd; d++) acc[d] = f2h(fmaf(h2f(v[d]), vs, h2f(acc[d])));
        S = S * ms + vs;
    }
    ms_out[0] = M;
    ms_out[1] = S;
}

static void row(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int hd, int stride, float scale,
                uint16_t *acc, float *out) {
    float ms[2];
    part(q, K, V, 0, n_pos, hd, stride, scale, acc, ms);
    float inv = ms[1] == 0 ? 0 : 1.0f / ms[1];
    for (int d = 0; d < hd; d++) out[d] = h2f(acc[d]) * inv;
}

attention_row_fn attention_row_avx2(void) { return row; }
attention_part_fn attention_part_avx2(void) { return part; }

/* The tiled path's loops (attention.c), 8 positions or 8 outputs a vector,
 * each lane the same sequential FMA chain. */
static void tile_scores(const float *q, const uint16_t *K, int n, int hd, int stride, float *kq) {
    float kt[512 * 8];
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        /* transposed: kt[d * 8 + i] = K[j + i][d] */
        for (int i = 0; i < 8; i++) {
            const uint16_t *k = K + (size_t)(j + i) * stride;
            int d = 0;
            float tmp[8];
            for (; d + 8 <= hd; d += 8) {
                _mm256_storeu_ps(tmp, LOAD16(k + d));
                for (int e = 0; e < 8; e++) kt[(d + e) * 8 + i] = tmp[e];
            }
            for (; d < hd; d++) kt[d * 8 + i] = h2f(k[d]);
        }
        __m256 s = _mm256_setzero_ps();
        for (int d = 0; d < hd; d++) s = _mm256_fmadd_ps(_mm256_set1_ps(q[d]), _mm256_loadu_ps(kt + d * 8), s);
        _mm256_storeu_ps(kq + j, s);
    }
    for (; j < n; j++) {
        const uint16_t *k = K + (size_t)j * stride;
        float s = 0;
        for (int d = 0; d < hd; d++) s = fmaf(q[d], h2f(k[d]), s);
        kq[j] = s;
    }
}

static void tile_accum(const float *p, const uint16_t *V, int n, int hd, int stride, float *acc) {
    int d = 0;
    for (; d + 8 <= hd; d += 8) {
        __m256 a = _mm256_loadu_ps(acc + d);
        for (int j = 0; j < n; j++) a = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), LOAD16(V + (size_t)j * stride + d), a);
        _mm256_storeu_ps(acc + d, a);
    }
    for (; d < hd; d++)
        for (int j = 0; j < n; j++) acc[d] = fmaf(p[j], h2f(V[(size_t)j * stride + d]), acc[d]);
}

bool attention_tile_fns_avx2(attention_tile_fns *out) {
    *out = (attention_tile_fns){tile_scores, tile_accum};
    return true;
}
#else
attention_row_fn attention_row_avx2(void) { return 0; }
bool attention_tile_fns_avx2(attention_tile_fns *out) {
    (void)out;
    return false;
}
attention_part_fn attention_part_avx2(void) { return 0; }
#endif
