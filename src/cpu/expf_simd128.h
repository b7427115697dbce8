/* ggml's v_expf polynomial on 4 f32 lanes with each FMA a multiply and an
 * add (SIMD128 has no FMA): the fast numerics' exp (activation_simd128.c's
 * SwiGLU, attention_simd128_fast.c's softmax). Not a public header: static
 * functions, included only where __wasm_simd128__ is defined. */
#ifndef HEARTH_EXPF_SIMD128_H
#define HEARTH_EXPF_SIMD128_H

#include <math.h>
#include <wasm_simd128.h>

#define MADDF(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#define SPLATF(v) wasm_f32x4_const_splat(v)

/* j * 2^n for integral |n| <= 192: two exact power-of-two factors. */
static inline v128_t scale_pow2(v128_t j, v128_t n) {
    const v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
    const v128_t half = wasm_i32x4_shr(ni, 1), rest = wasm_i32x4_sub(ni, half);
    const v128_t p1 = wasm_i32x4_shl(wasm_i32x4_add(half, wasm_i32x4_const_splat(127)), 23);
    const v128_t p2 = wasm_i32x4_shl(wasm_i32x4_add(rest, wasm_i32x4_const_splat(127)), 23);
    return wasm_f32x4_mul(wasm_f32x4_mul(j, p1), p2);
}

static inline v128_t v_expf(v128_t x) {
    const v128_t r = SPLATF(0x1.8p23f);
    const v128_t n = wasm_f32x4_sub(MADDF(x, SPLATF(0x1.715476p+0f), r), r);
    const v128_t b = wasm_f32x4_sub(wasm_f32x4_sub(x, wasm_f32x4_mul(n, SPLATF(0x1.62e4p-1f))), wasm_f32x4_mul(n, SPLATF(0x1.7f7d1cp-20f)));
    const v128_t u = wasm_f32x4_mul(b, b);
    const v128_t j = MADDF(MADDF(MADDF(SPLATF(0x1.0e4020p-7f), b, SPLATF(0x1.573e2ep-5f)), u, MADDF(SPLATF(0x1.555e66p-3f), b, SPLATF(0x1.fffdb6p-2f))), u,
                          MADDF(SPLATF(0x1.ffffecp-1f), b, SPLATF(1.0f)));
    const v128_t nc = wasm_f32x4_pmin(wasm_f32x4_pmax(n, SPLATF(-192.0f)), SPLATF(192.0f));
    const v128_t res = scale_pow2(j, nc);
    /* |n| > 192 (or NaN input): inf above, 0 below, as ggml */
    const v128_t big = wasm_f32x4_gt(wasm_f32x4_abs(n), SPLATF(192.0f));
    if (!wasm_v128_any_true(big)) return res;
    const v128_t alt = wasm_v128_and(wasm_f32x4_gt(n, SPLATF(0.0f)), SPLATF(INFINITY));
    return wasm_v128_bitselect(alt, res, big);
}

#endif
