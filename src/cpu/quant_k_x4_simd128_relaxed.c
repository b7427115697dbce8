/* Q4_K_X4 and Q6_K_X4 products (kernels.h: Q4_K / Q6_K repacked at load
 * by quant_k_x4.c) with WebAssembly relaxed SIMD's 8-bit dot product: the
 * relaxed build's fast numerics, as quant_k_simd128_relaxed.c, which
 * multiplies matrices left in ggml's layout.
 *
 * Why the layout: in ggml's order 16 consecutive codes belong to one
 * sub-block, so every 16 or 32 codes need their own widening dot with
 * their scale (and a splat of it). In the X4 order 32-bit lane j of every
 * code vector of a half belongs to sub-block j, so the byte dots of a half
 * add up in 16-bit lanes and one i32x4.dot_i16x8_s with a vector of the 4
 * sub-blocks' scales widens and scales all of them (Q4_K: 8 vectors, a lane
 * at most 16 x 15 x 127 < 2^15; Q6_K: 2 vectors, codes below 64, 4 x 63 x
 * 127, so 4 widening dots a half, two with the even 16-element scales and
 * two with the odd ones). The token's Q8_K codes come in the same order
 * (kernels_fill_q8_K_x4_row); the bsums, sums of 16 consecutive elements,
 * are those of ggml's row and take the mins (Q4_K) and ggml's -32 (Q6_K).
 *
 * The relaxed dot is exact here on every platform: the weight codes are
 * its 7-bit operand. The f32 steps are quant_k_simd128_fast.c's: per
 * super-block float(integer sum lanes) x dw * da (minus float(mins term) x
 * dmin * da) into 4 f32 lanes, summed at the end of the row. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_relaxed_simd__
#include <string.h>

#include "quant_k_simd128.h"

#define TILE 4 /* tokens per pass over the rows (prefill) */

enum { X_Q4_K, X_Q6_K };

AI float f32_at(const uint8_t *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

/* Q6_K_X4 quarter g of half h (code vectors 4g..4g + 3): three vectors
 * as they lie, the fourth from their bits 6-7. */
AI void q6_quarter(const uint8_t *x, int h, int g, v128_t *c) {
    const v128_t m6 = wasm_i8x16_const_splat(0x3f);
    const uint8_t *q = x + 20 + 96 * h + 48 * g;
    const v128_t s0 = wasm_v128_load(q), s1 = wasm_v128_load(q + 16), s2 = wasm_v128_load(q + 32);
    c[0] = wasm_v128_and(s0, m6);
    c[1] = wasm_v128_and(s1, m6);
    c[2] = wasm_v128_and(s2, m6);
    /* u16 shifts: the masks drop what crosses bytes */
    c[3] = wasm_v128_or(wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(s0, 6), wasm_i8x16_const_splat(0x03)),
                                     wasm_v128_and(wasm_u16x8_shr(s1, 4), wasm_i8x16_const_splat(0x0c))),
                        wasm_v128_and(wasm_u16x8_shr(s2, 2), wasm_i8x16_const_splat(0x30)));
}

/* Half h's 8 code vectors (kernels.h's X4 order), unsigned. */
AI void half_codes(const int ty, const uint8_t *x, int h, v128_t *c) {
    if (ty == X_Q4_K) {
        const v128_t m4 = wasm_i8x16_const_splat(0x0f);
        for (int u = 0; u < 4; u++) {
            const v128_t q = wasm_v128_load(x + 24 + 64 * h + 16 * u);
            c[u] = wasm_v128_and(q, m4);
            c[u + 4] = wasm_v128_and(wasm_u16x8_shr(q, 4), m4); /* (V8 has no byte shift on x86) */
        }
        return;
    }
    q6_quarter(x, h, 0, c);
    q6_quarter(x, h, 1, c + 4);
}

/* Sub-block j's partial sums of one half (byte dots of the token's codes a
 * with c), scaled: Q4_K by sa (its scale in both i16 lanes of lane j);
 * Q6_K, vectors 0..3 by sa and 4..7 by sb (the even and odd 16-element
 * scales). */
AI v128_t half_sum(const int ty, const v128_t *c, const int8_t *a, v128_t sa, v128_t sb) {
    v128_t p[8];
    for (int v = 0; v < 8; v++) p[v] = wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a + 16 * v), c[v]);
    const v128_t s01 = wasm_i16x8_add(p[0], p[1]), s23 = wasm_i16x8_add(p[2], p[3]), s45 = wasm_i16x8_add(p[4], p[5]),
                 s67 = wasm_i16x8_add(p[6], p[7]);
    if (ty == X_Q4_K) return wasm_i32x4_dot_i16x8(wasm_i16x8_add(wasm_i16x8_add(s01, s23), wasm_i16x8_add(s45, s67)), sa);
    return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(s01, sa), wasm_i32x4_dot_i16x8(s23, sa)),
                          wasm_i32x4_add(wasm_i32x4_dot_i16x8(s45, sb), wasm_i32x4_dot_i16x8(s67, sb)));
}

/* Q4_K's half h for NT tokens y[k * ys]: each nibble vector decoded and
 * multiplied by every token before the next (the 8 code vectors of
 * half_codes, live across the tokens, would not fit V8's 16 registers),
 * the dots added in one i16 vector a token. */
AI void q4_half_tile(const int NT, const uint8_t *x, int h, const block_q8_K *y, size_t ys, v128_t sa, v128_t *sum) {
    const v128_t m4 = wasm_i8x16_const_splat(0x0f);
    v128_t s16[TILE];
    for (int k = 0; k < NT; k++) s16[k] = wasm_i16x8_splat(0);
    for (int u = 0; u < 4; u++) {
        const v128_t q = wasm_v128_load(x + 24 + 64 * h + 16 * u);
        const v128_t lo = wasm_v128_and(q, m4), hi = wasm_v128_and(wasm_u16x8_shr(q, 4), m4);
        for (int k = 0; k < NT; k++) {
            const int8_t *a = y[(size_t)k * ys].qs + 128 * h;
            s16[k] = wasm_i16x8_add(s16[k], wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a + 16 * u), lo),
                                                           wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a + 16 * u + 64), hi)));
        }
    }
    for (int k = 0; k < NT; k++) sum[k] = wasm_i32x4_add(sum[k], wasm_i32x4_dot_i16x8(s16[k], sa));
}

/* Q6_K's half h for NT tokens y[k * ys], a quarter at a time (its 4 code
 * vectors share one scale vector, sg[g]): 4 code vectors live across the
 * tokens instead of half_codes' 8. */
AI void q6_half_tile(const int NT, const uint8_t *x, int h, const block_q8_K *y, size_t ys, const v128_t *sg, v128_t *sum) {
    for (int g = 0; g < 2; g++) {
        v128_t c[4];
        q6_quarter(x, h, g, c);
        for (int k = 0; k < NT; k++) {
            const int8_t *a = y[(size_t)k * ys].qs + 128 * h + 64 * g;
            const v128_t p01 = wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a), c[0]),
                                              wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a + 16), c[1]));
            const v128_t p23 = wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a + 32), c[2]),
                                              wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(a + 48), c[3]));
            sum[k] = wasm_i32x4_add(sum[k], wasm_i32x4_add(wasm_i32x4_dot_i16x8(p01, sg[g]), wasm_i32x4_dot_i16x8(p23, sg[g])));
        }
    }
}

/* Half h's scale vectors as i16 (the 4 sub-blocks' of the half, each in
 * both i16 lanes of its 32-bit lane): Q4_K sc[0]; Q6_K sc[0] for code
 * vectors 0..3 (the even 16-element scales), sc[1] for 4..7 (the odd). */
AI void half_scales(const int ty, const uint8_t *x, int h, v128_t *sc) {
    if (ty == X_Q4_K) {
        const v128_t s = wasm_v128_load(x + 8); /* 8 scales, 8 mins */
        sc[0] = h ? wasm_i8x16_swizzle(s, wasm_i8x16_const(4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1))
                  : wasm_i8x16_swizzle(s, wasm_i8x16_const(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1));
        return;
    }
    const v128_t s = wasm_v128_load(x + 4); /* 16 signed scales */
    const v128_t e = h ? wasm_i8x16_swizzle(s, wasm_i8x16_const(8, 8, 10, 10, 12, 12, 14, 14, 9, 9, 11, 11, 13, 13, 15, 15))
                       : wasm_i8x16_swizzle(s, wasm_i8x16_const(0, 0, 2, 2, 4, 4, 6, 6, 1, 1, 3, 3, 5, 5, 7, 7));
    sc[0] = wasm_i16x8_extend_low_i8x16(e);
    sc[1] = wasm_i16x8_extend_high_i8x16(e);
}

/* The i16 vectors against the token's 16 bsums: Q4_K's mins, each in the
 * lanes of its two bsums; Q6_K's scales. */
AI void bsum_weights(const int ty, const uint8_t *x, v128_t *m) {
    if (ty == X_Q4_K) {
        const v128_t s = wasm_v128_load(x + 8);
        m[0] = wasm_i8x16_swizzle(s, wasm_i8x16_const(8, -1, 8, -1, 9, -1, 9, -1, 10, -1, 10, -1, 11, -1, 11, -1));
        m[1] = wasm_i8x16_swizzle(s, wasm_i8x16_const(12, -1, 12, -1, 13, -1, 13, -1, 14, -1, 14, -1, 15, -1, 15, -1));
        return;
    }
    const v128_t s = wasm_v128_load(x + 4);
    m[0] = wasm_i16x8_extend_low_i8x16(s);
    m[1] = wasm_i16x8_extend_high_i8x16(s);
}

AI float lanes_sum(v128_t v) {
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

/* Rows [r0, r1) against NT tokens (a constant), each row read once, each
 * half's codes decoded once for the NT tokens. */
AI void rows_kx4(const int ty, const int NT, const uint8_t *w, int nb, int r0, int r1, const block_q8_K *y, float *out,
                 size_t os) {
    const size_t sbytes = ty == X_Q4_K ? KERNELS_Q4_K_X4_BYTES : KERNELS_Q6_K_X4_BYTES, wrow = (size_t)nb * sbytes;
    for (int r = r0; r < r1; r++) {
        const uint8_t *x = w + (size_t)r * wrow;
        v128_t st[TILE];
        for (int k = 0; k < NT; k++) st[k] = wasm_f32x4_splat(0.0f);
        for (int b = 0; b < nb; b++, x += sbytes) {
            v128_t sum[TILE];
            for (int k = 0; k < NT; k++) sum[k] = wasm_i32x4_splat(0);
            for (int h = 0; h < 2; h++) {
                v128_t sc[2];
                half_scales(ty, x, h, sc);
                if (NT > 1) {
                    if (ty == X_Q4_K) q4_half_tile(NT, x, h, y + b, (size_t)nb, sc[0], sum);
                    else q6_half_tile(NT, x, h, y + b, (size_t)nb, sc, sum);
                    continue;
                }
                v128_t c[8];
                half_codes(ty, x, h, c);
                for (int k = 0; k < NT; k++)
                    sum[k] = wasm_i32x4_add(sum[k], half_sum(ty, c, y[(size_t)k * nb + b].qs + 128 * h, sc[0], sc[1]));
            }
            v128_t m[2];
            bsum_weights(ty, x, m);
            const float d = f32_at(x);
            for (int k = 0; k < NT; k++) {
                const block_q8_K *yk = &y[(size_t)k * nb + b];
                const v128_t bm = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_load(yk->bsums), m[0]),
                                                 wasm_i32x4_dot_i16x8(wasm_v128_load(yk->bsums + 8), m[1]));
                if (ty == X_Q6_K) sum[k] = wasm_i32x4_sub(sum[k], wasm_i32x4_shl(bm, 5)); /* codes - 32 */
                v128_t t = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum[k]), wasm_f32x4_splat(d * yk->d));
                if (ty == X_Q4_K)
                    t = wasm_f32x4_sub(t, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(bm), wasm_f32x4_splat(f32_at(x + 4) * yk->d)));
                st[k] = wasm_f32x4_add(st[k], t);
            }
        }
        for (int k = 0; k < NT; k++) out[(size_t)k * os + (size_t)r] = lanes_sum(st[k]);
    }
}

AI void matmul_kx4(const int ty, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K;
    for (int t0 = 0; t0 < n_tok; t0 += TILE) {
        const int nt = n_tok - t0 < TILE ? n_tok - t0 : TILE;
        const block_q8_K *y = (const block_q8_K *)act + (size_t)t0 * nb;
        float *o = out + (size_t)t0 * os;
        switch (nt) {
        case 1: rows_kx4(ty, 1, w, nb, r0, r1, y, o, os); break;
        case 2: rows_kx4(ty, 2, w, nb, r0, r1, y, o, os); break;
        case 3: rows_kx4(ty, 3, w, nb, r0, r1, y, o, os); break;
        default: rows_kx4(ty, TILE, w, nb, r0, r1, y, o, os); break;
        }
    }
}

static void matmul_q4_k_x4(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    matmul_kx4(X_Q4_K, w, n, r0, r1, act, n_tok, out, os);
}
static void matmul_q6_k_x4(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    matmul_kx4(X_Q6_K, w, n, r0, r1, act, n_tok, out, os);
}

void kernels_k_x4_simd128_relaxed_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_K_X4] = matmul_q4_k_x4;
    k->matmul[KW_Q6_K_X4] = matmul_q6_k_x4;
    k->quant[KW_Q4_K_X4] = kernels_fill_q8_K_x4_row;
    k->quant[KW_Q6_K_X4] = kernels_fill_q8_K_x4_row;
}
#endif
