/* Q4_0 products with WebAssembly relaxed SIMD's 8-bit dot product, on
 * weights repacked at load as Q4_0_X4 (kernels.h): the relaxed build's fast
 * numerics (hearth-relaxed*.wasm, chosen where WebAssembly.validate accepts
 * relaxed SIMD). Baseline SIMD128 multiplies 8 pairs of 16-bit lanes an
 * instruction (i32x4.dot_i16x8_s); i16x8.relaxed_dot_i8x16_i7x16_s does 16
 * byte pairs (pmaddubsw on x86), and the X4 layout leaves block j of
 * a group of 4 in 32-bit lane j, so the 4 blocks are scaled together with
 * no transposition, by scales stored as f32: 2.1x the Q4_0 throughput of
 * quant_simd128_fast.c in Chromium (docs/wasm.md).
 *
 * The relaxed dot is exact here on every platform: the weight codes (0..15)
 * are the operand that must fit in 7 bits, and the activation codes are
 * -127..127, so each 16-bit lane, a sum of 16 products of at most
 * 15 * 127, stays below 2^15 whatever the order of the additions. The f32
 * steps are those of quant_simd128_fast.c's one-token product (per 4
 * blocks, float(block sum) * (dw * da) added lane by lane, the 4 lanes
 * summed at the end of the row), so both give the same bits; prefill uses
 * the same order for every token. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_relaxed_simd__
#include "ggml_types.h"
#include "simd128_exact.h"

#define GROUP_BYTES KERNELS_X4_GROUP_BYTES
#define MAX_GROUPS (KERNELS_X4_MAX_COLS / 128)
#define TILE 4 /* tokens per pass over the rows (prefill) */

/* A token's Q8_0 activation row in the order of the groups' vectors, 128
 * bytes a group: vector v < 4 holds codes 4v..4v+3 of blocks 0..3 in turn
 * (the low nibbles' elements), vector 4 + v codes 16 + 4v.. of the same;
 * and per block its scale and offset correction (-8 x its code sum). */
typedef struct {
    int8_t codes[MAX_GROUPS * 128];
    float d[4 * MAX_GROUPS];
    int32_t bias[4 * MAX_GROUPS];
} x4_act;

AI void interleave_act(const uint8_t *act, int ng, x4_act *a) {
    const act_aux_q8_0 *aux = (const act_aux_q8_0 *)(act + kernels_act_aux_offset(ng * 128, false));
    for (int b = 0; b < 4 * ng; b++) {
        const uint8_t *qs = act + (size_t)b * sizeof(block_q8_0) + 2;
        int8_t *g = a->codes + 128 * (b / 4) + 4 * (b % 4);
        for (int v = 0; v < 4; v++) {
            memcpy(g + 16 * v, qs + 4 * v, 4);
            memcpy(g + 64 + 16 * v, qs + 16 + 4 * v, 4);
        }
        a->d[b] = aux[b].d;
        a->bias[b] = aux[b].bias8;
    }
}

/* A group's 128 weight codes as 8 vectors, in the order of interleave_act. */
AI void group_codes(const uint8_t *g, v128_t *c) {
    const v128_t m = wasm_i8x16_const_splat(0x0f);
    for (int v = 0; v < 4; v++) {
        const v128_t q = wasm_v128_load(g + 16 + 16 * v);
        c[v] = wasm_v128_and(q, m);
        c[4 + v] = wasm_v128_and(wasm_u16x8_shr(q, 4), m); /* (V8 has no byte shift on x86: one op fewer) */
    }
}

/* The group's 4 integer block sums (lane = block), offsets corrected. */
AI v128_t group_sums(const v128_t *c, const int8_t *a, const int32_t *bias) {
    v128_t p[4];
    for (int v = 0; v < 4; v++)
        p[v] = wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a + 16 * v), c[v]),
                              wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a + 64 + 16 * v), c[4 + v]));
    const v128_t s = wasm_i16x8_add(wasm_i16x8_add(p[0], p[1]), wasm_i16x8_add(p[2], p[3]));
    return wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(s), wasm_v128_load(bias));
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
AI void rows_x4(const int NT, const uint8_t *w, int ng, int r0, int r1, const x4_act *a, float *out, size_t os) {
    const size_t wrow = (size_t)ng * GROUP_BYTES;
    for (int r = r0; r < r1; r++) {
        const uint8_t *g = w + (size_t)r * wrow;
        v128_t acc[TILE];
        for (int t = 0; t < NT; t++) acc[t] = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < ng; i++, g += GROUP_BYTES) {
            v128_t c[8];
            group_codes(g, c);
            const v128_t dw = wasm_v128_load(g); /* the 4 scales, as f32 */
            for (int t = 0; t < NT; t++)
                acc[t] = scale_add(acc[t], group_sums(c, a[t].codes + 128 * i, a[t].bias + 4 * i), dw, a[t].d + 4 * i);
        }
        for (int t = 0; t < NT; t++) out[(size_t)t * os + r] = lanes_sum(acc[t]);
    }
}

/* Tokens in tiles of TILE. */
static void matmul_q4_0_x4(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                           size_t os) {
    const int ng = n / 128;
    const size_t arow = kernels_act_row_bytes(KERNELS_TYPE_Q4_0_X4, n);
    x4_act a[TILE];
    for (int t0 = 0; t0 < n_tok; t0 += TILE) {
        const int nt = n_tok - t0 < TILE ? n_tok - t0 : TILE;
        for (int t = 0; t < nt; t++) interleave_act((const uint8_t *)act + (size_t)(t0 + t) * arow, ng, &a[t]);
        float *o = out + (size_t)t0 * os;
        switch (nt) {
        case 1: rows_x4(1, w, ng, r0, r1, a, o, os); break;
        case 2: rows_x4(2, w, ng, r0, r1, a, o, os); break;
        case 3: rows_x4(3, w, ng, r0, r1, a, o, os); break;
        default: rows_x4(TILE, w, ng, r0, r1, a, o, os); break;
        }
    }
}

bool kernels_simd128_relaxed_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_0_X4] = matmul_q4_0_x4;
    k->name = "simd128-relaxed";
    return true;
}
#else
bool kernels_simd128_relaxed_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
