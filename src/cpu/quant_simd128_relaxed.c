/* Q4_0 and Q8_0 products with WebAssembly relaxed SIMD's 8-bit dot
 * product, on weights repacked at load as Q4_0_X4 / Q8_0_X4 (kernels.h):
 * the relaxed build's fast numerics (hearth-relaxed*.wasm, chosen where
 * WebAssembly.validate accepts relaxed SIMD). Baseline SIMD128 multiplies 8
 * pairs of 16-bit lanes an instruction (i32x4.dot_i16x8_s);
 * i16x8.relaxed_dot_i8x16_i7x16_s does 16 byte pairs (pmaddubsw on x86),
 * and the X4 layout leaves block j of a group of 4 in 32-bit lane j, so
 * the 4 blocks are scaled together with no transposition. The token's
 * codes come in the same order (kernels_fill_x4_row, once per product).
 * One thread in Chromium: Q4_0 2.1x and Q8_0 1.4x the throughput of
 * quant_simd128_fast.c (docs/wasm.md).
 *
 * The relaxed dot is exact here on every platform: its second operand must
 * fit in 7 bits, and no 16-bit lane can overflow (group_sums). The f32
 * steps are those of quant_simd128_fast.c's one-token product (per 4
 * blocks, float(block sum) * (dw * da) added lane by lane, the 4 lanes
 * summed at the end of the row), so both give the same bits; prefill uses
 * the same order for every token. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_relaxed_simd__
#include "model/ggml_types.h"
#include "simd128_exact.h"

#define TILE 4 /* tokens per pass over the rows (prefill) */

enum { X4_Q4_0, X4_Q8_0 };

AI size_t group_bytes(int ty) {
    return ty == X4_Q4_0 ? KERNELS_X4_GROUP_BYTES : KERNELS_X4_Q8_GROUP_BYTES;
}

/* A token's X4 activation row (kernels.h): its codes in the groups' order
 * (Q8_0_X4: max(a, 0), then max(-a, 0) in neg), the block scales and the
 * offset corrections (Q4_0_X4). */
typedef struct {
    const uint8_t *codes, *neg;
    const float *d;
    const int32_t *bias;
} x4_act;

AI x4_act act_row(const int ty, const uint8_t *row, int n) {
    x4_act a = {.codes = row, .neg = row + n};
    a.d = (const float *)(row + (ty == X4_Q8_0 ? 2 : 1) * (size_t)n);
    a.bias = (const int32_t *)(a.d + n / 32);
    return a;
}

/* A group's 4 scales as f32: bytes 1..3 of each (kernels.h), byte 0 zero. */
AI v128_t group_scales(const uint8_t *g) {
    return wasm_i8x16_swizzle(wasm_v128_load(g), wasm_i8x16_const(-1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11));
}

/* A group's 128 weight codes as 8 vectors, vector u holding codes 4u..4u+3
 * of its 4 blocks: Q4_0's nibbles unsigned (0..15), Q8_0's bytes as they
 * are. */
AI void group_codes(const int ty, const uint8_t *g, v128_t *c) {
    g += KERNELS_X4_SCALE_BYTES;
    if (ty == X4_Q8_0) {
        for (int v = 0; v < 8; v++) c[v] = wasm_v128_load(g + 16 * v);
        return;
    }
    const v128_t m = wasm_i8x16_const_splat(0x0f);
    for (int v = 0; v < 4; v++) {
        const v128_t q = wasm_v128_load(g + 16 * v);
        c[v] = wasm_v128_and(q, m);
        c[4 + v] = wasm_v128_and(wasm_u16x8_shr(q, 4), m); /* (V8 has no byte shift on x86: one op fewer) */
    }
}

/* Group i's 4 exact integer block sums (lane = block).
 * Q4_0: the weight codes (0..15) are the 7-bit operand of the relaxed dot
 * and the token's codes (-127..127) the 8-bit one; a 16-bit lane sums 16
 * products of at most 15 * 128. bias (-8 x the token's code sum) corrects
 * the offset.
 * Q8_0: the weight codes (-128..127) are the 8-bit operand and the token's
 * max(a, 0) and max(-a, 0) (0..127) the 7-bit one; a 16-bit lane of either
 * dot sums 2 products (at most 2 x 128 x 127 < 2^15), and so does their
 * difference, the lane's share of sum w a: exact in 16 bits, then widened
 * vector by vector. */
AI v128_t group_sums(const int ty, const v128_t *c, const x4_act *a, size_t i) {
    if (ty == X4_Q4_0) {
        const uint8_t *y = a->codes + 128 * i;
        v128_t p[8];
        for (int v = 0; v < 8; v++) p[v] = wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(y + 16 * v), c[v]);
        const v128_t s = wasm_i16x8_add(wasm_i16x8_add(wasm_i16x8_add(p[0], p[4]), wasm_i16x8_add(p[1], p[5])),
                                        wasm_i16x8_add(wasm_i16x8_add(p[2], p[6]), wasm_i16x8_add(p[3], p[7])));
        return wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(s), wasm_v128_load(a->bias + 4 * i));
    }
    const uint8_t *pos = a->codes + 128 * i, *neg = a->neg + 128 * i;
    v128_t s[8];
    for (int v = 0; v < 8; v++)
        s[v] = wasm_i32x4_extadd_pairwise_i16x8(
            wasm_i16x8_sub(wasm_i16x8_relaxed_dot_i8x16_i7x16(c[v], wasm_v128_load(pos + 16 * v)),
                           wasm_i16x8_relaxed_dot_i8x16_i7x16(c[v], wasm_v128_load(neg + 16 * v))));
    return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_add(s[0], s[4]), wasm_i32x4_add(s[1], s[5])),
                          wasm_i32x4_add(wasm_i32x4_add(s[2], s[6]), wasm_i32x4_add(s[3], s[7])));
}

/* acc += float(sums) * dw * da, lane by lane. */
AI v128_t scale_add(v128_t acc, v128_t sums, v128_t dw, const float *da) {
    return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sums), wasm_f32x4_mul(dw, wasm_v128_load(da))));
}

AI float lanes_sum(v128_t acc) {
    acc = wasm_f32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1));
    acc = wasm_f32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(acc, 0);
}

/* out[t*os + r] for r in [r0, r1) and NT tokens (a constant, so that each
 * count gets its own code with the accumulators in registers): each row
 * read once, in order, each group's codes decoded once for the NT tokens. */
AI void rows_x4(const int ty, const int NT, const uint8_t *w, int ng, int r0, int r1, const x4_act *a, float *out,
                size_t os) {
    const size_t gb = group_bytes(ty), wrow = (size_t)ng * gb;
    for (int r = r0; r < r1; r++) {
        const uint8_t *g = w + (size_t)r * wrow;
        v128_t acc[TILE];
        for (int t = 0; t < NT; t++) acc[t] = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < ng; i++, g += gb) {
            v128_t c[8];
            group_codes(ty, g, c);
            const v128_t dw = group_scales(g);
            for (int t = 0; t < NT; t++)
                acc[t] = scale_add(acc[t], group_sums(ty, c, &a[t], (size_t)i), dw, a[t].d + 4 * i);
        }
        for (int t = 0; t < NT; t++) out[(size_t)t * os + r] = lanes_sum(acc[t]);
    }
}

/* Tokens in tiles of TILE. */
AI void matmul_x4(const int ty, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                  size_t os) {
    const int ng = n / 128;
    const size_t arow = kernels_act_row_bytes(ty == X4_Q4_0 ? KERNELS_TYPE_Q4_0_X4 : KERNELS_TYPE_Q8_0_X4, n);
    for (int t0 = 0; t0 < n_tok; t0 += TILE) {
        const int nt = n_tok - t0 < TILE ? n_tok - t0 : TILE;
        x4_act a[TILE];
        for (int t = 0; t < nt; t++) a[t] = act_row(ty, (const uint8_t *)act + (size_t)(t0 + t) * arow, n);
        float *o = out + (size_t)t0 * os;
        switch (nt) {
        case 1: rows_x4(ty, 1, w, ng, r0, r1, a, o, os); break;
        case 2: rows_x4(ty, 2, w, ng, r0, r1, a, o, os); break;
        case 3: rows_x4(ty, 3, w, ng, r0, r1, a, o, os); break;
        default: rows_x4(ty, TILE, w, ng, r0, r1, a, o, os); break;
        }
    }
}

static void matmul_q4_0_x4(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    matmul_x4(X4_Q4_0, w, n, r0, r1, act, n_tok, out, os);
}
static void matmul_q8_0_x4(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    matmul_x4(X4_Q8_0, w, n, r0, r1, act, n_tok, out, os);
}
static void quant_q4_0_x4(const float *x, void *dst, int n) {
    kernels_fill_x4_row(x, dst, n, false, kernels_simd128_quant_block);
}
static void quant_q8_0_x4(const float *x, void *dst, int n) {
    kernels_fill_x4_row(x, dst, n, true, kernels_simd128_quant_block);
}

bool kernels_simd128_relaxed_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_0_X4] = matmul_q4_0_x4;
    k->matmul[KW_Q8_0_X4] = matmul_q8_0_x4;
    k->quant[KW_Q4_0_X4] = quant_q4_0_x4;
    k->quant[KW_Q8_0_X4] = quant_q8_0_x4;
    kernels_k_simd128_relaxed_fill(k);
    kernels_k_x4_simd128_relaxed_fill(k);
    k->name = "simd128-relaxed";
    return true;
}
#else
bool kernels_simd128_relaxed_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
