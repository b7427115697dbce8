/* WebAssembly SIMD128 attention row (see attention.h), bit-identical with
 * attention_row_scalar, which the wasm build otherwise runs:
 * - scores: the f16 dot products summed in double in element order, as the
 *   scalar code does, for 4 positions at once (one f64 lane each, so every
 *   lane keeps that order); q x k is exact in f32;
 * - the online softmax step by step with libm expf, as the scalar code;
 * - the f16 accumulator of V kept as f32 values rounded to f16 precision
 *   after every update (one FMA each, as ggml), exactly as a round trip
 *   through f16 would;
 * - head sizes of 64 and more: the scalar row (ggml's FMA lanes).
 * Compiled only for wasm with -msimd128 (stub otherwise). */
#include "attention.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include <math.h>

#include "model/ggml_types.h"
#include "simd128_exact.h"

#define MAX_HEAD_DIM 512

/* Four f16 at p as f32. */
AI v128_t load_half4(const uint16_t *p) {
    return half4_to_f32(wasm_u32x4_load16x4(p));
}

/* Scores of positions j0..j0+3 (rows k[0..3]): sum over d, in order, of
 * (double)(q[d] * k[d]); lanes 0-1 in lo, 2-3 in hi. */
static void dots4(const float *qf, const uint16_t *const *k, int hd, double *dot) {
    v128_t lo = wasm_f64x2_splat(0.0), hi = lo;
    int d = 0;
    for (; d + 4 <= hd; d += 4) {
        /* rows = positions, columns = d..d+3, transposed to one vector per d */
        const v128_t r0 = load_half4(k[0] + d), r1 = load_half4(k[1] + d);
        const v128_t r2 = load_half4(k[2] + d), r3 = load_half4(k[3] + d);
        const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        const v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        const v128_t col[4] = {wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5), wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7),
                               wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5), wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7)};
#pragma clang loop unroll(full)
        for (int i = 0; i < 4; i++) {
            const v128_t p = wasm_f32x4_mul(col[i], wasm_f32x4_splat(qf[d + i])); /* exact */
            lo = wasm_f64x2_add(lo, wasm_f64x2_promote_low_f32x4(p));
            hi = wasm_f64x2_add(hi, wasm_f64x2_promote_low_f32x4(high_pair(p)));
        }
    }
    double s[4] = {wasm_f64x2_extract_lane(lo, 0), wasm_f64x2_extract_lane(lo, 1), wasm_f64x2_extract_lane(hi, 0),
                   wasm_f64x2_extract_lane(hi, 1)};
    for (; d < hd; d++)
        for (int i = 0; i < 4; i++) s[i] += (double)(qf[d] * ggml_fp16_to_fp32(k[i][d]));
    for (int i = 0; i < 4; i++) dot[i] = s[i];
}

static void row(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int hd, int stride, float scale,
                uint16_t *acc_scratch, float *out) {
    if (hd > MAX_HEAD_DIM || hd >= 64) {
        /* ggml sums the scores of whole 64-element steps in FMA lanes: the
         * scalar row does that */
        attention_row_scalar(q, K, V, n_pos, hd, stride, scale, acc_scratch, out);
        return;
    }
    float qf[MAX_HEAD_DIM], accf[MAX_HEAD_DIM]; /* the accumulator: f32 values of f16 precision */
    const int vec = hd & ~3;
    for (int d = 0; d < hd; d++) {
        qf[d] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(q[d]));
        accf[d] = 0.0f;
    }
    float M = -INFINITY, S = 0;
    for (int j0 = 0; j0 < n_pos; j0 += 4) {
        const int cnt = n_pos - j0 < 4 ? n_pos - j0 : 4;
        const uint16_t *k[4];
        for (int i = 0; i < 4; i++) k[i] = K + (size_t)(j0 + (i < cnt ? i : cnt - 1)) * stride;
        double dot[4];
        dots4(qf, k, hd, dot);
        for (int i = 0; i < cnt; i++) {
            const uint16_t *v = V + (size_t)(j0 + i) * stride;
            const float s = (float)dot[i] * scale;
            float ms = 1.0f, vs = 1.0f;
            int d;
            if (s > M) {
                const float old = M;
                M = s;
                ms = expf(old - M);
                const v128_t m = wasm_f32x4_splat(ms);
                for (d = 0; d < vec; d += 4)
                    wasm_v128_store(accf + d, round_f16(wasm_f32x4_mul(wasm_v128_load(accf + d), m)));
                for (; d < hd; d++) accf[d] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(accf[d] * ms));
            } else {
                vs = expf(s - M);
            }
            /* fmaf(v, vs, acc) as ggml_vec_mad_f16 (exactly, in f64 lanes), then to f16 */
            const v128_t w2 = wasm_f64x2_splat((double)vs), ws[2] = {w2, w2};
            for (d = 0; d < vec; d += 4) {
                const v128_t a4 = wasm_v128_load(accf + d), v4 = load_half4(v + d);
                v128_t acc2[2] = {wasm_f64x2_promote_low_f32x4(a4), wasm_f64x2_promote_low_f32x4(high_pair(a4))};
                const v128_t v2[2] = {wasm_f64x2_promote_low_f32x4(v4), wasm_f64x2_promote_low_f32x4(high_pair(v4))};
                fma64(2, acc2, v2, ws);
                const v128_t a = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(acc2[0]),
                                                    wasm_f32x4_demote_f64x2_zero(acc2[1]), 0, 1, 4, 5);
                wasm_v128_store(accf + d, round_f16(a));
            }
            for (; d < hd; d++)
                accf[d] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(fma_once(ggml_fp16_to_fp32(v[d]), vs, accf[d])));
            S = S * ms + vs;
        }
    }
    const float inv = S == 0 ? 0 : 1.0f / S;
    for (int d = 0; d < hd; d++) out[d] = accf[d] * inv;
}

attention_row_fn attention_row_simd128(void) {
    return row;
}
#else
attention_row_fn attention_row_simd128(void) {
    return 0;
}
#endif
