/* WebAssembly SIMD128 kernels for float weights (F32, F16, BF16), in
 * ggml's accumulation orders exactly as quant_scalar.c computes them (see
 * kernels.h): one token (or a row length off the tile) as ggml_vec_dot
 * (64 lanes for F32/F16, two 16-lane dpbf16 chains for BF16), several
 * tokens as tinyBLAS (one 16-lane chain per row and token).
 *
 * F16 and BF16 products are exact in f32 (11 x 11 and 8 x 8 significant
 * bits, the activations being rounded to the weight type), so a plain
 * multiply and add equals ggml's FMA. F32 products are not: they go through
 * f64 (simd128_exact.h). Compiled only for wasm with -msimd128. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "model/ggml_types.h"
#include "simd128_exact.h"

enum ftype { FT_F32, FT_F16, FT_BF16 };

#define TOK_TILE 4 /* tokens sharing each converted weight vector (tinyBLAS) */

/* 16-lane ggml reduce_add of four f32x4 (lanes 0-3 ... 12-15):
 * t = hi8 + lo8, then hsum_float_8. */
AI float red16(v128_t v0, v128_t v1, v128_t v2, v128_t v3) {
    const v128_t u = wasm_f32x4_add(wasm_f32x4_add(v3, v1), wasm_f32x4_add(v2, v0));
    const v128_t s = wasm_f32x4_add(u, high_pair(u));
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1);
}

/* Four weights at element i as f32 (F32 or F16). */
AI v128_t load_w4(const int ft, const uint8_t *x, int i) {
    if (ft == FT_F32) return wasm_v128_load(x + 4 * (size_t)i);
    return half4_to_f32(wasm_u32x4_load16x4(x + 2 * (size_t)i));
}

AI float load_w1(const int ft, const uint8_t *x, int i) {
    uint16_t h;
    if (ft == FT_F32) {
        float f;
        memcpy(&f, x + 4 * (size_t)i, 4);
        return f;
    }
    memcpy(&h, x + 2 * (size_t)i, 2);
    return ft == FT_F16 ? ggml_fp16_to_fp32(h) : ggml_bf16_to_fp32(h);
}

/* c += w * y per lane: F16 products exact in f32; F32 products in f64
 * (c then holds two f64x2 per four lanes: c[0] lanes 0-1, c[1] lanes 2-3). */
AI void madd4(const int ft, v128_t w, v128_t y, v128_t *c) {
    if (ft != FT_F32) {
        c[0] = wasm_f32x4_add(c[0], wasm_f32x4_mul(w, y));
        return;
    }
    const v128_t a[2] = {wasm_f64x2_promote_low_f32x4(w), wasm_f64x2_promote_low_f32x4(high_pair(w))};
    const v128_t b[2] = {wasm_f64x2_promote_low_f32x4(y), wasm_f64x2_promote_low_f32x4(high_pair(y))};
    fma64(2, c, a, b);
}

/* Four lanes of an accumulator as f32x4 (F32 keeps them in two f64x2). */
AI v128_t lanes4(const int ft, const v128_t *c) {
    if (ft != FT_F32) return c[0];
    return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(c[0]), wasm_f32x4_demote_f64x2_zero(c[1]), 0, 1, 4, 5);
}

/* ggml_vec_dot_f32 / _f16: 64 lanes over steps of 64, folded
 * x0 += x2, x1 += x3, x0 += x1 (16-lane vectors), reduce_add, then the
 * tail (F32 in float, not fused; F16 in double). The lanes are independent,
 * so they go in passes of 32 (F16) or 16 (F32, two f64x2 per 4 lanes) that
 * fit the 16 vector registers; the row is in L1 after the first. */
AI float vecdot_f(const int ft, const uint8_t *x, const float *y, int n) {
    const int per = ft == FT_F32 ? 16 : 32; /* lanes per pass */
    const int vs = ft == FT_F32 ? 2 : 1;    /* accumulator vectors per 4 lanes */
    v128_t lanes[16];                       /* lanes 4q..4q+3 as f32x4 */
    const int np = n & ~63;
    for (int l0 = 0; l0 < 64; l0 += per) {
        v128_t c[8];
        for (int q = 0; q < 8; q++) c[q] = ft == FT_F32 ? wasm_f64x2_splat(0.0) : wasm_f32x4_splat(0.0f);
        for (int i = l0; i < np; i += 64)
#pragma clang loop unroll(full)
            for (int q = 0; q < 8 / vs; q++) madd4(ft, load_w4(ft, x, i + 4 * q), wasm_v128_load(y + i + 4 * q), c + vs * q);
        for (int q = 0; q < 8 / vs; q++) lanes[l0 / 4 + q] = lanes4(ft, c + vs * q);
    }
    v128_t x0[4];
    for (int q = 0; q < 4; q++) /* (x0 + x2) + (x1 + x3) on 16-lane vectors */
        x0[q] = wasm_f32x4_add(wasm_f32x4_add(lanes[q], lanes[q + 8]), wasm_f32x4_add(lanes[q + 4], lanes[q + 12]));
    float s = red16(x0[0], x0[1], x0[2], x0[3]);
    if (ft == FT_F32) {
        for (int i = np; i < n; i++) s += load_w1(ft, x, i) * y[i];
        return s;
    }
    double d = (double)s;
    for (int i = np; i < n; i++) d += (double)(load_w1(ft, x, i) * y[i]);
    return (float)d;
}

/* One vdpbf16ps step of 16 lanes over the 32-element chunk at i: lane l
 * += odd product (weights 2l+1, activations y[16+l]), then the even one;
 * both products exact. u32 lane l of the weights holds the pair 2l, 2l+1. */
AI void dpbf16(const uint8_t *x, const float *y, int i, v128_t *c) {
    const v128_t hi16 = wasm_i32x4_const_splat((int32_t)0xffff0000u);
#pragma clang loop unroll(full)
    for (int q = 0; q < 4; q++) {
        const v128_t u = wasm_v128_load(x + 2 * (size_t)i + 16 * q);
        const v128_t po = wasm_f32x4_mul(wasm_v128_and(u, hi16), wasm_v128_load(y + i + 16 + 4 * q));
        const v128_t pe = wasm_f32x4_mul(wasm_i32x4_shl(u, 16), wasm_v128_load(y + i + 4 * q));
        c[q] = wasm_f32x4_add(wasm_f32x4_add(c[q], po), pe);
    }
}

/* ggml_vec_dot_bf16: two chains over steps of 64, the rest in double. */
static float vecdot_bf16(const uint8_t *x, const float *y, int n) {
    v128_t c1[4], c2[4];
    for (int q = 0; q < 4; q++) c1[q] = c2[q] = wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 64 <= n; i += 64) {
        dpbf16(x, y, i, c1);
        dpbf16(x, y, i + 32, c2);
    }
    double s = (double)red16(c1[0], c1[1], c1[2], c1[3]);
    s += (double)red16(c2[0], c2[1], c2[2], c2[3]);
    const int n32 = n & ~31;
    for (; i < n; i++) {
        const int pos = i >= n32 ? i : (i & ~31) + ((i & 1) << 4) + ((i & 31) >> 1);
        s += (double)(load_w1(FT_BF16, x, i) * y[pos]);
    }
    return (float)s;
}

/* tinyBLAS for one row and NT tokens: 16 lanes each, each weight vector
 * converted once for all NT. */
AI void tiny_row(const int ft, const int NT, const uint8_t *x, const float *act, int n, float *out, size_t os) {
    v128_t c[TOK_TILE][8];
    for (int k = 0; k < NT; k++)
        for (int q = 0; q < 8; q++) c[k][q] = ft == FT_F32 ? wasm_f64x2_splat(0.0) : wasm_f32x4_splat(0.0f);
    if (ft == FT_BF16) {
        for (int i = 0; i < n; i += 32)
#pragma clang loop unroll(full)
            for (int k = 0; k < NT; k++) dpbf16(x, act + (size_t)k * n, i, c[k]);
    } else {
        for (int i = 0; i < n; i += 16) {
#pragma clang loop unroll(full)
            for (int q = 0; q < 4; q++) {
                const v128_t w = load_w4(ft, x, i + 4 * q);
#pragma clang loop unroll(full)
                for (int k = 0; k < NT; k++) madd4(ft, w, wasm_v128_load(act + (size_t)k * n + i + 4 * q), c[k] + 2 * q);
            }
        }
    }
    for (int k = 0; k < NT; k++) {
        if (ft == FT_BF16) out[(size_t)k * os] = red16(c[k][0], c[k][1], c[k][2], c[k][3]);
        else out[(size_t)k * os] = red16(lanes4(ft, c[k]), lanes4(ft, c[k] + 2), lanes4(ft, c[k] + 4), lanes4(ft, c[k] + 6));
    }
}

AI void matmul_f(const int ft, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                 size_t os) {
    const size_t wrow = (size_t)n * (ft == FT_F32 ? 4 : 2);
    const float *a = act;
    const bool tiny = n_tok > 1 && n % (ft == FT_BF16 ? 32 : 16) == 0;
    for (int r = r0; r < r1; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * wrow;
        if (!tiny) {
            for (int t = 0; t < n_tok; t++) {
                const float *y = a + (size_t)t * n;
                out[(size_t)t * os + (size_t)r] = ft == FT_BF16 ? vecdot_bf16(x, y, n) : vecdot_f(ft, x, y, n);
            }
            continue;
        }
        for (int t = 0; t < n_tok; t += TOK_TILE) {
            const int nt = n_tok - t < TOK_TILE ? n_tok - t : TOK_TILE;
            const float *y = a + (size_t)t * n;
            float *o = out + (size_t)t * os + (size_t)r;
            switch (nt) {
            case 1: tiny_row(ft, 1, x, y, n, o, os); break;
            case 2: tiny_row(ft, 2, x, y, n, o, os); break;
            case 3: tiny_row(ft, 3, x, y, n, o, os); break;
            default: tiny_row(ft, 4, x, y, n, o, os); break;
            }
        }
    }
}

/* The table's entry points, one constant-folded matmul_f per type. */
MATMUL_ENTRY(mm_f32, matmul_f, FT_F32)
MATMUL_ENTRY(mm_f16, matmul_f, FT_F16)
MATMUL_ENTRY(mm_bf16, matmul_f, FT_BF16)

void kernels_simd128_float_fill(hearth_kernels *k) {
    k->matmul[KW_F32] = mm_f32;
    k->matmul[KW_F16] = mm_f16;
    k->matmul[KW_BF16] = mm_bf16;
}
#else
void kernels_simd128_float_fill(hearth_kernels *k) {
    (void)k;
}
#endif
