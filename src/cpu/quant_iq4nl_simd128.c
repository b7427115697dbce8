/* WebAssembly SIMD128 products for IQ4_NL weights (Q8_0 activation rows):
 * the exact one, bit-identical with quant_lowbit_scalar.c (ggml's repacked
 * order: acc = fma(float(block sum), dw * da, acc) per block of 32), and
 * the fast numerics' one (the same sums, acc += float(sum) * (dw * da) in
 * f32), which differ only in that step.
 *
 * Groups of 4 rows, lane = row (the block sums transposed together, as
 * quant_simd128.c's Q4_0), so the sequential chain of FMAs of each output
 * runs 4 rows at a time; each block's codes (the nibbles' entries of the
 * code book, one swizzle per 16) are decoded once for a tile of tokens. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "quant_k_simd128.h"

#define ROWS 4
#define NL_TILE 8 /* tokens per pass over a group's weights */

/* A block's 32 codes as quant_k_simd128.h's even/odd i16 vectors. */
AI void nl_decode(const uint8_t *blk, v128_t *w) {
    const v128_t book = wasm_v128_load(kvalues_iq4nl), m = wasm_i8x16_const_splat(0x0f);
    const v128_t q = wasm_v128_load(blk + 2);
    ks_even_odd_i8(wasm_i8x16_swizzle(book, wasm_v128_and(q, m)), w);
    ks_even_odd_i8(wasm_i8x16_swizzle(book, wasm_v128_and(wasm_u16x8_shr(q, 4), m)), w + 2);
}

/* The 4 rows' block scales (fp16 at p[r] + off) as f32. */
AI v128_t nl_scales(const uint8_t *const *p, size_t off, bool exact) {
    v128_t h = wasm_i32x4_splat(0);
    h = wasm_v128_load16_lane(p[0] + off, h, 0);
    h = wasm_v128_load16_lane(p[1] + off, h, 2);
    h = wasm_v128_load16_lane(p[2] + off, h, 4);
    h = wasm_v128_load16_lane(p[3] + off, h, 6);
    return exact ? half4_to_f32(h) : half4_to_f32_finite(h);
}

/* Rows [r, r + cnt) against nt tokens; acc: 2 vectors per token. */
AI void nl_group(const bool exact, const uint8_t *w, size_t wrow, int cnt, int nb, const uint8_t *act, size_t arow,
                 size_t aux_off, int nt, float *out, size_t os) {
    const uint8_t *p[ROWS];
    for (int i = 0; i < ROWS; i++) p[i] = w + (size_t)(i < cnt ? i : cnt - 1) * wrow;
    v128_t acc[NL_TILE][2];
    for (int t = 0; t < nt; t++) acc[t][0] = acc[t][1] = wasm_i64x2_const_splat(0);
    for (int b = 0; b < nb; b++) {
        const size_t off = (size_t)b * sizeof(block_iq4_nl);
        v128_t c[ROWS][4];
        for (int r = 0; r < ROWS; r++) nl_decode(p[r] + off, c[r]);
        const v128_t dw = nl_scales(p, off, exact);
        for (int t = 0; t < nt; t++) {
            const uint8_t *a = act + (size_t)t * arow;
            const uint8_t *qs = a + (size_t)b * sizeof(block_q8_0) + 2;
            v128_t y[4];
            ks_even_odd_i8(wasm_v128_load(qs), y);
            ks_even_odd_i8(wasm_v128_load(qs + 16), y + 2);
            v128_t s[ROWS];
            for (int r = 0; r < ROWS; r++) s[r] = wasm_i32x4_add(ks_dot16(c[r], y), ks_dot16(c[r] + 2, y + 2));
            const v128_t sum = wasm_f32x4_convert_i32x4(ks_transpose_add(s[0], s[1], s[2], s[3]));
            const v128_t dd = wasm_f32x4_mul(dw, wasm_v128_load32_splat(a + aux_off + sizeof(act_aux_q8_0) * (size_t)b));
            if (exact) {
                const v128_t f[2] = {wasm_f64x2_promote_low_f32x4(sum), wasm_f64x2_promote_low_f32x4(high_pair(sum))};
                const v128_t d[2] = {wasm_f64x2_promote_low_f32x4(dd), wasm_f64x2_promote_low_f32x4(high_pair(dd))};
                fma64(2, acc[t], f, d);
            } else {
                acc[t][0] = wasm_f32x4_add(acc[t][0], wasm_f32x4_mul(sum, dd));
            }
        }
    }
    for (int t = 0; t < nt; t++) {
        float v[4];
        wasm_v128_store(v, exact ? wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(acc[t][0]),
                                                      wasm_f32x4_demote_f64x2_zero(acc[t][1]), 0, 1, 4, 5)
                                 : acc[t][0]);
        for (int r = 0; r < cnt; r++) out[(size_t)t * os + (size_t)r] = v[r];
    }
}

AI void nl_matmul(const bool exact, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                  size_t os) {
    const int nb = n / QK4_NL;
    const size_t wrow = (size_t)nb * sizeof(block_iq4_nl), arow = kernels_act_row_bytes(GGML_TYPE_IQ4_NL, n);
    const size_t aux_off = kernels_act_aux_offset(n, false);
    for (int t0 = 0; t0 < n_tok; t0 += NL_TILE) {
        const int nt = n_tok - t0 < NL_TILE ? n_tok - t0 : NL_TILE;
        for (int r = r0; r < r1; r += ROWS)
            nl_group(exact, (const uint8_t *)w + (size_t)r * wrow, wrow, r1 - r < ROWS ? r1 - r : ROWS, nb,
                     (const uint8_t *)act + (size_t)t0 * arow, arow, aux_off, nt, out + (size_t)t0 * os + (size_t)r, os);
    }
}

static void mm_iq4_nl(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    nl_matmul(true, w, n, r0, r1, a, nt, o, os);
}
static void mm_iq4_nl_fast(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    nl_matmul(false, w, n, r0, r1, a, nt, o, os);
}

void kernels_iq4nl_simd128_fill(hearth_kernels *k, bool fast) {
    k->matmul[KW_IQ4_NL] = fast ? mm_iq4_nl_fast : mm_iq4_nl;
    if (!fast) k->quant[KW_IQ4_NL] = k->quant[KW_Q8_0];
}
#endif
