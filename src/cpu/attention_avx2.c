/* AVX2 + F16C attention row (see attention.h); compiled with -mavx2 -mfma -mf16c. */
#include "attention.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "expf_avx2.h"

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

/* Eight positions' scores advanced over elements d..d+7: the 8x8 block
 * K[i][d + e] is loaded and transposed in registers, so lane i's chain takes
 * its elements in order of d, as the scalar loop does. */
static inline __attribute__((always_inline)) __m256 chain8(const uint16_t *K, int stride, const float *q, __m256 s) {
    const __m256 r0 = LOAD16(K), r1 = LOAD16(K + stride), r2 = LOAD16(K + 2 * stride), r3 = LOAD16(K + 3 * stride);
    const __m256 r4 = LOAD16(K + 4 * stride), r5 = LOAD16(K + 5 * stride), r6 = LOAD16(K + 6 * stride),
                 r7 = LOAD16(K + 7 * stride);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    s = _mm256_fmadd_ps(_mm256_set1_ps(q[0]), _mm256_permute2f128_ps(u0, u4, 0x20), s);
    s = _mm256_fmadd_ps(_mm256_set1_ps(q[1]), _mm256_permute2f128_ps(u1, u5, 0x20), s);
    s = _mm256_fmadd_ps(_mm256_set1_ps(q[2]), _mm256_permute2f128_ps(u2, u6, 0x20), s);
    s = _mm256_fmadd_ps(_mm256_set1_ps(q[3]), _mm256_permute2f128_ps(u3, u7, 0x20), s);
    s = _mm256_fmadd_ps(_mm256_set1_ps(q[4]), _mm256_permute2f128_ps(u0, u4, 0x31), s);
    s = _mm256_fmadd_ps(_mm256_set1_ps(q[5]), _mm256_permute2f128_ps(u1, u5, 0x31), s);
    s = _mm256_fmadd_ps(_mm256_set1_ps(q[6]), _mm256_permute2f128_ps(u2, u6, 0x31), s);
    return _mm256_fmadd_ps(_mm256_set1_ps(q[7]), _mm256_permute2f128_ps(u3, u7, 0x31), s);
}

/* A chain is FMA-latency bound, so 32 positions run as four independent
 * chains side by side. */
static void tile_scores(const float *q, const uint16_t *K, int n, int hd, int stride, float *kq) {
    int j = 0;
    if (hd % 8 == 0) {
        for (; j + 32 <= n; j += 32) {
            __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            const uint16_t *k = K + (size_t)j * stride;
            for (int d = 0; d < hd; d += 8) {
                s0 = chain8(k + d, stride, q + d, s0);
                s1 = chain8(k + (size_t)8 * stride + d, stride, q + d, s1);
                s2 = chain8(k + (size_t)16 * stride + d, stride, q + d, s2);
                s3 = chain8(k + (size_t)24 * stride + d, stride, q + d, s3);
            }
            _mm256_storeu_ps(kq + j, s0);
            _mm256_storeu_ps(kq + j + 8, s1);
            _mm256_storeu_ps(kq + j + 16, s2);
            _mm256_storeu_ps(kq + j + 24, s3);
        }
        for (; j + 8 <= n; j += 8) {
            __m256 s0 = _mm256_setzero_ps();
            for (int d = 0; d < hd; d += 8) s0 = chain8(K + (size_t)j * stride + d, stride, q + d, s0);
            _mm256_storeu_ps(kq + j, s0);
        }
    }
    for (; j < n; j++) {
        const uint16_t *k = K + (size_t)j * stride;
        float s = 0;
        for (int d = 0; d < hd; d++) s = fmaf(q[d], h2f(k[d]), s);
        kq[j] = s;
    }
}

static void tile_exp(float *kq, float max) {
    const __m256 m = _mm256_set1_ps(max);
    for (int j = 0; j < ATTENTION_TILE_KV; j += 8)
        _mm256_storeu_ps(kq + j, v_expf(_mm256_sub_ps(_mm256_loadu_ps(kq + j), m)));
}

/* Each output's chain runs over the positions in order; four vectors of
 * outputs go side by side, as in tile_scores. */
static void tile_accum(const float *p, const uint16_t *V, int n, int hd, int stride, float *acc) {
    int d = 0;
    for (; d + 32 <= hd; d += 32) {
        __m256 a0 = _mm256_loadu_ps(acc + d), a1 = _mm256_loadu_ps(acc + d + 8);
        __m256 a2 = _mm256_loadu_ps(acc + d + 16), a3 = _mm256_loadu_ps(acc + d + 24);
        for (int j = 0; j < n; j++) {
            const __m256 pj = _mm256_set1_ps(p[j]);
            const uint16_t *v = V + (size_t)j * stride + d;
            a0 = _mm256_fmadd_ps(pj, LOAD16(v), a0);
            a1 = _mm256_fmadd_ps(pj, LOAD16(v + 8), a1);
            a2 = _mm256_fmadd_ps(pj, LOAD16(v + 16), a2);
            a3 = _mm256_fmadd_ps(pj, LOAD16(v + 24), a3);
        }
        _mm256_storeu_ps(acc + d, a0);
        _mm256_storeu_ps(acc + d + 8, a1);
        _mm256_storeu_ps(acc + d + 16, a2);
        _mm256_storeu_ps(acc + d + 24, a3);
    }
    for (; d + 8 <= hd; d += 8) {
        __m256 a = _mm256_loadu_ps(acc + d);
        for (int j = 0; j < n; j++) a = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), LOAD16(V + (size_t)j * stride + d), a);
        _mm256_storeu_ps(acc + d, a);
    }
    for (; d < hd; d++)
        for (int j = 0; j < n; j++) acc[d] = fmaf(p[j], h2f(V[(size_t)j * stride + d]), acc[d]);
}

bool attention_tile_fns_avx2(attention_tile_fns *out) {
    *out = (attention_tile_fns){tile_scores, tile_exp, tile_accum};
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
