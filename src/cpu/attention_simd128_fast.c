/* WebAssembly SIMD128 attention row for the fast numerics
 * (kernels_prefer_speed). The exact row (attention_simd128.c) reproduces
 * llama.cpp's bits: scores as f64 sums, libm expf position by position, and
 * took a fifth of a Qwen2.5-0.5B decode step at 160 tokens of context. This
 * one keeps llama.cpp's steps, the f16 accumulator of V rounded after every
 * update and rescaled at every new maximum (an f32 accumulator moved
 * random-weight models' logits by 1e-2 and their greedy tokens off
 * llama.cpp's) and the f64 sums of the scores, but in 4 lanes of dimensions
 * rather than across positions (no transposition), and takes 4 positions'
 * exps with one SIMD128 v_expf, so results differ from the exact row in
 * the last bits. */
#include "attention.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "../ggml_types.h"
#include "expf_simd128.h"

#define MAX_HEAD_DIM 512

/* Four f16 at p as f32 (inf and NaN read as finite values, 2^16 and up:
 * the cache holds what the model computed, rounded to f16). */
static inline v128_t load_half4_finite(const uint16_t *p) {
    const v128_t h = wasm_u32x4_load16x4(p);
    const v128_t m13 = wasm_u32x4_shr(wasm_i32x4_shl(h, 17), 4);
    const v128_t sign = wasm_v128_and(wasm_i32x4_shl(h, 16), wasm_i32x4_const_splat((int32_t)0x80000000u));
    return wasm_v128_or(wasm_f32x4_mul(m13, SPLATF(0x1p112f)), sign);
}

/* q . k over hd (a multiple of 4) dimensions: each product is exact in f32
 * (f16 x f16) and their sum in f64 is exact unless the terms' exponents
 * spread over 30 binades, so this is the exact row's element-order sum in
 * all but such cases. (An f32 sum here moved greedy tokens off llama.cpp's
 * on random-weight models: a score's last bits decide the f16 roundings of
 * the accumulator.) */
static inline double dot_f64(const v128_t *q, const uint16_t *k, int hd) {
    v128_t lo = wasm_f64x2_splat(0.0), hi = lo;
    for (int d = 0; d < hd; d += 4) {
        const v128_t p = wasm_f32x4_mul(q[d / 4], load_half4_finite(k + d));
        lo = wasm_f64x2_add(lo, wasm_f64x2_promote_low_f32x4(p));
        hi = wasm_f64x2_add(hi, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(p, p, 2, 3, 0, 1)));
    }
    lo = wasm_f64x2_add(lo, hi);
    return wasm_f64x2_extract_lane(lo, 0) + wasm_f64x2_extract_lane(lo, 1);
}

/* x rounded to f16 precision (ties to even), as f32: simd128_exact.h's
 * round_f16 without its inf/NaN steps (values past f16's range stay large
 * and finite). */
static inline v128_t round_f16_finite(v128_t x) {
    const v128_t e = wasm_u32x4_max(wasm_v128_and(x, wasm_i32x4_const_splat(0x7f800000)), wasm_i32x4_const_splat(113 << 23));
    const v128_t m = wasm_i32x4_add(e, wasm_i32x4_const_splat((13 << 23) | 0x400000));
    return wasm_f32x4_sub(wasm_f32x4_add(x, m), m);
}

static void row_fast(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int hd, int stride, float scale,
                     uint16_t *acc_scratch, float *out) {
    if (hd > MAX_HEAD_DIM || hd % 4) {
        attention_row_simd128()(q, K, V, n_pos, hd, stride, scale, acc_scratch, out);
        return;
    }
    v128_t qv[MAX_HEAD_DIM / 4], acc[MAX_HEAD_DIM / 4]; /* acc: f32 values of f16 precision */
    for (int d = 0; d < hd; d += 4) {
        float r[4];
        for (int i = 0; i < 4; i++) r[i] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(q[d + i]));
        qv[d / 4] = wasm_v128_load(r);
        acc[d / 4] = wasm_f32x4_splat(0.0f);
    }
    float M = -INFINITY, S = 0.0f;
    for (int j0 = 0; j0 < n_pos; j0 += 4) {
        const int cnt = n_pos - j0 < 4 ? n_pos - j0 : 4;
        const uint16_t *k[4];
        for (int i = 0; i < 4; i++) k[i] = K + (size_t)(j0 + (i < cnt ? i : cnt - 1)) * stride;
        float sc[4], before[4], e[4];
        for (int i = 0; i < 4; i++) sc[i] = (float)dot_f64(qv, k[i], hd) * scale;
        /* The exact row's steps, its exps 4 at a time: position i finds the
         * running maximum `before[i]`; a new maximum rescales what came before
         * by exp(before - s), any other position weighs exp(s - before). */
        for (int i = 0; i < 4; i++) {
            before[i] = M;
            if (i < cnt && sc[i] > M) M = sc[i];
        }
        const v128_t sv = wasm_v128_load(sc), bv = wasm_v128_load(before);
        wasm_v128_store(e, v_expf(wasm_f32x4_neg(wasm_f32x4_abs(wasm_f32x4_sub(sv, bv)))));
        for (int i = 0; i < cnt; i++) {
            const uint16_t *v = V + (size_t)(j0 + i) * stride;
            const bool up = sc[i] > before[i];
            const float ms = up ? e[i] : 1.0f, vs = up ? 1.0f : e[i];
            const v128_t msv = wasm_f32x4_splat(ms), vsv = wasm_f32x4_splat(vs);
            if (up)
                for (int d = 0; d < hd; d += 4) acc[d / 4] = round_f16_finite(wasm_f32x4_mul(acc[d / 4], msv));
            for (int d = 0; d < hd; d += 4)
                acc[d / 4] = round_f16_finite(wasm_f32x4_add(acc[d / 4], wasm_f32x4_mul(load_half4_finite(v + d), vsv)));
            S = S * ms + vs;
        }
    }
    const v128_t inv = wasm_f32x4_splat(S == 0 ? 0 : 1.0f / S);
    for (int d = 0; d < hd; d += 4) wasm_v128_store(out + d, wasm_f32x4_mul(acc[d / 4], inv));
}

attention_row_fn attention_row_simd128_fast(void) {
    return row_fast;
}
#else
attention_row_fn attention_row_simd128_fast(void) {
    return 0;
}
#endif
