/* Helpers shared by the WebAssembly SIMD128 kernels (quant_simd128.c,
 * float_simd128.c). Not a public header: it defines static functions and is
 * only included where __wasm_simd128__ is defined.
 *
 * Why f64: hearth's numerics copy ggml's x86 build, whose accumulations are
 * FMAs (one rounding per step); a 1-ulp difference anywhere grows into a
 * different greedy token (docs/numerics.md). Baseline SIMD128 has no fused
 * multiply-add, but the products these kernels need are exact in f64 (block
 * scale x integer sum: 22 + 16 bits; f32 x f32: 48 bits), so a step is an f64
 * add rounded to f32. That double rounding (f64, then f32) differs from one
 * rounding only when the f64 sum lands exactly halfway between two floats
 * and is inexact; fma64 checks for that and then rounds those lanes once
 * (fma_once), so results are those of a true FMA, as in llama.cpp. */
#ifndef HEARTH_SIMD128_EXACT_H
#define HEARTH_SIMD128_EXACT_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <wasm_simd128.h>

#include "kernels.h"

#define AI static inline __attribute__((always_inline))

/* fmaf(a, b, c) rounded once, for the rare steps whose f64 sum could round
 * twice. (Not libm's fmaf: wasi-libc's, from 2022 musl, assumes the
 * rounding error is positive there and is then 1 ulp off.) The product is
 * exact in f64; TwoSum gives the sum's exact rounding error, and a halfway
 * sum is moved one f64 ulp towards the true value before the f32 rounding. */
static float fma_once(double a, double b, double c) {
    const double p = a * b;
    double s = p + c;
    const double bb = s - p, err = (p - (s - bb)) + (c - bb);
    uint64_t u;
    memcpy(&u, &s, 8);
    if ((u & 0x1fffffffu) == 0x10000000u && err != 0.0 && isfinite(s)) {
        if ((err > 0.0) == (s > 0.0)) u++;
        else u--;
        memcpy(&s, &u, 8);
    }
    return (float)s;
}
__attribute__((noinline)) static v128_t fma64_slow(v128_t acc, v128_t a, v128_t b) {
    return wasm_f64x2_make(
        fma_once(wasm_f64x2_extract_lane(a, 0), wasm_f64x2_extract_lane(b, 0), wasm_f64x2_extract_lane(acc, 0)),
        fma_once(wasm_f64x2_extract_lane(a, 1), wasm_f64x2_extract_lane(b, 1), wasm_f64x2_extract_lane(acc, 1)));
}

/* acc[i] = fmaf(a[i], b[i], acc[i]) lane by lane for NV f64x2 vectors that
 * hold f32 values, when a * b is exact in f64. The f64 sum rounded to f32
 * equals fmaf unless the sum was inexact and landed exactly halfway between
 * two floats (its 29 bits below f32 precision read 1000...0). Short exact
 * sums often look halfway, so a lane is only sent to fma64_slow when the
 * sum is also inexact: s - acc != p or s - p != acc (one of the two
 * differences is exact, Fast2Sum, so together they detect any rounding). */
AI void fma64(const int NV, v128_t *acc, const v128_t *a, const v128_t *b) {
    v128_t s[4], p[4];
#pragma clang loop unroll(full)
    for (int i = 0; i < NV; i++) {
        p[i] = wasm_f64x2_mul(a[i], b[i]);
        s[i] = wasm_f64x2_add(acc[i], p[i]);
    }
    /* the low 32 bits of two sums' lanes side by side, tested at once */
    v128_t any = wasm_i32x4_const_splat(0);
#pragma clang loop unroll(full)
    for (int i = 0; i < NV; i += 2) {
        const v128_t lo = wasm_i32x4_shuffle(s[i], s[i + 1 < NV ? i + 1 : i], 0, 2, 4, 6);
        any = wasm_v128_or(any, wasm_i32x4_eq(wasm_v128_and(lo, wasm_i32x4_const_splat(0x1fffffff)),
                                              wasm_i32x4_const_splat(0x10000000)));
    }
    if (__builtin_expect(wasm_v128_any_true(any), 0)) {
        /* halfway-looking lanes (short exact sums often are): those that
         * are also inexact (s - acc != p or s - p != acc; one of the two
         * differences is exact, Fast2Sum) get rounded once by fma_once */
        v128_t hard = wasm_i64x2_const_splat(0);
#pragma clang loop unroll(full)
        for (int i = 0; i < NV; i++) {
            const v128_t half = wasm_i64x2_eq(wasm_v128_and(s[i], wasm_i64x2_const_splat(0x1fffffff)),
                                              wasm_i64x2_const_splat(0x10000000));
            const v128_t exact = wasm_v128_and(wasm_f64x2_eq(wasm_f64x2_sub(s[i], acc[i]), p[i]),
                                               wasm_f64x2_eq(wasm_f64x2_sub(s[i], p[i]), acc[i]));
            hard = wasm_v128_or(hard, wasm_v128_andnot(half, exact));
        }
        if (wasm_v128_any_true(hard)) {
#pragma clang loop unroll(full)
            for (int i = 0; i < NV; i++) acc[i] = fma64_slow(acc[i], a[i], b[i]);
            return;
        }
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < NV; i++) acc[i] = wasm_f64x2_promote_low_f32x4(wasm_f32x4_demote_f64x2_zero(s[i]));
}

/* The high two lanes of a 32-bit-lane vector moved low (for the *_low
 * conversions to f64). */
AI v128_t high_pair(v128_t v) {
    return wasm_i32x4_shuffle(v, v, 2, 3, 2, 3);
}

/* Four fp16 values (one in the low 16 bits of each 32-bit lane, high bits
 * zero) to f32, exactly as ggml_fp16_to_fp32: the magnitude bits moved into
 * an f32 exponent/mantissa and scaled by 2^112 (exact for normals,
 * subnormals and zero); exponent 31 (then >= 2^16) becomes inf/NaN. Shifts
 * rather than masks: fewer vector constants. */
AI v128_t half4_to_f32(v128_t h) {
    const v128_t m13 = wasm_u32x4_shr(wasm_i32x4_shl(h, 17), 4); /* (h & 0x7fff) << 13 */
    v128_t f = wasm_f32x4_mul(m13, wasm_f32x4_const_splat(0x1p112f));
    const v128_t big = wasm_f32x4_ge(f, wasm_f32x4_const_splat(65536.0f));
    f = wasm_v128_or(f, wasm_i32x4_shl(wasm_u32x4_shr(big, 24), 23));       /* exponent 255 */
    return wasm_v128_or(f, wasm_i32x4_shl(wasm_u32x4_shr(h, 15), 31));     /* sign */
}

/* half4_to_f32 for the fast numerics' scales and f16 cache rows
 * (quant_simd128_fast.c, attention_simd128_fast.c), without its inf/NaN step:
 * exponent 31 (inf, NaN) reads as a finite 2^16 .. 2^17 instead. Normal and
 * subnormal values and zero convert exactly. */
AI v128_t half4_to_f32_finite(v128_t h) {
    const v128_t m13 = wasm_u32x4_shr(wasm_i32x4_shl(h, 17), 4); /* (h & 0x7fff) << 13 */
    const v128_t sign = wasm_v128_and(wasm_i32x4_shl(h, 16), wasm_i32x4_const_splat((int32_t)0x80000000u));
    return wasm_v128_or(wasm_f32x4_mul(m13, wasm_f32x4_const_splat(0x1p112f)), sign);
}

/* x rounded to the nearest f16 value (ties to even), as f32: exactly
 * ggml_fp16_to_fp32(ggml_fp32_to_fp16(x)). Adding and subtracting
 * 1.5 * 2^(e+13) rounds at f16's last mantissa bit for x's exponent e (at
 * 2^-24 below f16's normal range); from 65520 up it is inf; NaN becomes the
 * quiet NaN ggml makes; a value that rounds to zero keeps its sign. */
AI v128_t round_f16(v128_t x) {
    const v128_t e = wasm_u32x4_max(wasm_v128_and(x, wasm_i32x4_const_splat(0x7f800000)), wasm_i32x4_const_splat(113 << 23));
    const v128_t m = wasm_i32x4_add(e, wasm_i32x4_const_splat((13 << 23) | 0x400000));
    v128_t r = wasm_f32x4_sub(wasm_f32x4_add(x, m), m);
    const v128_t big = wasm_f32x4_ge(wasm_f32x4_abs(x), wasm_f32x4_const_splat(65520.0f));
    r = wasm_v128_bitselect(wasm_f32x4_const_splat(INFINITY), r, big);
    r = wasm_v128_bitselect(wasm_i32x4_const_splat(0x7fc00000), r, wasm_f32x4_ne(x, x));
    return wasm_v128_or(r, wasm_v128_and(x, wasm_i32x4_const_splat((int32_t)0x80000000u)));
}

/* 32 signed 8-bit codes at p as i16: w[k] = elements 8k..8k+7 (Q8_0 weight
 * blocks, Q8_0/Q8_1 activation blocks). */
AI void widen_i8x32(const uint8_t *p, v128_t *w) {
    const v128_t a = wasm_v128_load(p), b = wasm_v128_load(p + 16);
    w[0] = wasm_i16x8_extend_low_i8x16(a);
    w[1] = wasm_i16x8_extend_high_i8x16(a);
    w[2] = wasm_i16x8_extend_low_i8x16(b);
    w[3] = wasm_i16x8_extend_high_i8x16(b);
}

/* Q5 codes: w[i] |= 0x10 in the lanes whose bit mask[i] is set in the
 * splatted half of qh bits[i]. */
AI void or_fifth_bits(v128_t *w, const v128_t *bits, const v128_t *mask) {
    const v128_t x10 = wasm_i16x8_const_splat(0x10);
    for (int i = 0; i < 4; i++)
        w[i] = wasm_v128_or(w[i], wasm_v128_and(wasm_i16x8_eq(wasm_v128_and(bits[i], mask[i]), mask[i]), x10));
}

/* A kernel table entry point: one constant-folded instance of body (a
 * matmul taking the type first) per weight type. */
#define MATMUL_ENTRY(name, body, ty)                                                                         \
    static void name(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) { \
        body(ty, w, n, r0, r1, a, nt, o, os);                                                            \
    }

#endif
