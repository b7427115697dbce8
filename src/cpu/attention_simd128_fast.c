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
#include "model/ggml_types.h"
#include "expf_simd128.h"
#include "simd128_exact.h"

#define MAX_DIM 256 /* head size; larger heads take the exact row */
#define MAX_REP 16  /* query heads a KV head */

/* Four f16 of the cache at p as f32 (inf and NaN read as finite values,
 * 2^16 and up: the cache holds what the model computed, rounded to f16). */
static inline v128_t load_half4_finite(const uint16_t *p) {
    return half4_to_f32_finite(wasm_u32x4_load16x4(p));
}

/* q . k over hd (a multiple of 4) dimensions, k already as f32: each
 * product is exact in f32 (f16 x f16) and their sum in f64 is exact unless
 * the terms' exponents spread over 30 binades, so this is the exact row's
 * element-order sum in all but such cases. (An f32 sum here moved greedy
 * tokens off llama.cpp's on random-weight models: a score's last bits
 * decide the f16 roundings of the accumulator.) */
static inline double dot_f64(const v128_t *q, const v128_t *k, int hd) {
    v128_t lo = wasm_f64x2_splat(0.0), hi = lo;
    for (int d = 0; d < hd / 4; d++) {
        const v128_t p = wasm_f32x4_mul(q[d], k[d]);
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

/* One query head's running state: its query (rounded to f16, as llama.cpp),
 * the accumulator (f32 values of f16 precision), maximum and denominator. */
typedef struct {
    v128_t q[MAX_DIM / 4], acc[MAX_DIM / 4];
    float M, S;
} head_state;

/* cnt (1..4) positions, their K and V rows as f32 (4 rows of hd / 4
 * vectors; K rows past cnt repeat the last), into one head's state. */
static inline void head_step(head_state *h, const v128_t *kf, const v128_t *vf, int cnt, int hd, float scale) {
    float sc[4], before[4], e[4];
    for (int i = 0; i < 4; i++) sc[i] = (float)dot_f64(h->q, kf + i * (hd / 4), hd) * scale;
    /* The exact row's steps, its exps 4 at a time: position i finds the
     * running maximum `before[i]`; a new maximum rescales what came before
     * by exp(before - s), any other position weighs exp(s - before). */
    for (int i = 0; i < 4; i++) {
        before[i] = h->M;
        if (i < cnt && sc[i] > h->M) h->M = sc[i];
    }
    wasm_v128_store(e, v_expf(wasm_f32x4_neg(wasm_f32x4_abs(wasm_f32x4_sub(wasm_v128_load(sc), wasm_v128_load(before))))));
    for (int i = 0; i < cnt; i++) {
        const v128_t *v = vf + i * (hd / 4);
        const bool up = sc[i] > before[i];
        const float ms = up ? e[i] : 1.0f, vs = up ? 1.0f : e[i];
        const v128_t msv = wasm_f32x4_splat(ms), vsv = wasm_f32x4_splat(vs);
        if (up)
            for (int d = 0; d < hd / 4; d++) h->acc[d] = round_f16_finite(wasm_f32x4_mul(h->acc[d], msv));
        for (int d = 0; d < hd / 4; d++) h->acc[d] = round_f16_finite(wasm_f32x4_add(h->acc[d], wasm_f32x4_mul(v[d], vsv)));
        h->S = h->S * ms + vs;
    }
}

/* n_rep query heads (q and out: n_rep rows of hd) that share one KV head:
 * each cache row is converted from f16 once for all of them (7 heads a KV
 * head in Qwen2.5-0.5B, 4 in Llama-3.2-1B). */
static void group_fast(const float *q, int n_rep, const uint16_t *K, const uint16_t *V, int n_pos, int hd, int stride,
                       float scale, float *out) {
    if (hd > MAX_DIM || hd % 4 || n_rep > MAX_REP) {
        uint16_t scratch[512];
        for (int r = 0; r < n_rep; r++)
            attention_row_simd128()(q + (size_t)r * hd, K, V, n_pos, hd, stride, scale, scratch, out + (size_t)r * hd);
        return;
    }
    head_state st[MAX_REP];
    v128_t kf[4 * MAX_DIM / 4], vf[4 * MAX_DIM / 4];
    for (int r = 0; r < n_rep; r++) {
        head_state *h = &st[r];
        for (int d = 0; d < hd; d += 4) {
            float x[4];
            for (int i = 0; i < 4; i++) x[i] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(q[(size_t)r * hd + d + i]));
            h->q[d / 4] = wasm_v128_load(x);
            h->acc[d / 4] = wasm_f32x4_splat(0.0f);
        }
        h->M = -INFINITY;
        h->S = 0.0f;
    }
    for (int j0 = 0; j0 < n_pos; j0 += 4) {
        const int cnt = n_pos - j0 < 4 ? n_pos - j0 : 4;
        for (int i = 0; i < 4; i++) {
            const size_t j = (size_t)(j0 + (i < cnt ? i : cnt - 1)) * stride;
            for (int d = 0; d < hd; d += 4) {
                kf[i * (hd / 4) + d / 4] = load_half4_finite(K + j + d);
                vf[i * (hd / 4) + d / 4] = load_half4_finite(V + j + d);
            }
        }
        for (int r = 0; r < n_rep; r++) head_step(&st[r], kf, vf, cnt, hd, scale);
    }
    for (int r = 0; r < n_rep; r++) {
        const v128_t inv = wasm_f32x4_splat(st[r].S == 0 ? 0 : 1.0f / st[r].S);
        for (int d = 0; d < hd; d += 4) wasm_v128_store(out + (size_t)r * hd + d, wasm_f32x4_mul(st[r].acc[d / 4], inv));
    }
}

static void row_fast(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int hd, int stride, float scale,
                     uint16_t *acc_scratch, float *out) {
    (void)acc_scratch;
    group_fast(q, 1, K, V, n_pos, hd, stride, scale, out);
}

attention_row_fn attention_row_simd128_fast(void) {
    return row_fast;
}
attention_group_fn attention_group_simd128_fast(void) {
    return group_fast;
}
#else
attention_row_fn attention_row_simd128_fast(void) {
    return 0;
}
attention_group_fn attention_group_simd128_fast(void) {
    return 0;
}
#endif
