/* WebAssembly SIMD128 products for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS
 * weights with plain f32 steps (the fast numerics, kernels_prefer_speed):
 * the integer sums are quant_k_simd128.h's, as in the exact kernels, but
 * each super-block adds float(sums) x (dw * da) (and the mins' term) to 4
 * f32 lanes with a multiply and an add, summed at the end of the row, where
 * ggml's order is one FMA per lane (or per sub-block pair) per super-block,
 * which SIMD128 can only emulate (simd128_exact.h). Results differ from
 * llama.cpp's in the last bits (test_kernels bounds them). */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "quant_k_simd128.h"

static inline void step_fast(int ty, bool panel, const ks_sb *w, const ks_act *a, bool gemm, v128_t *st) {
    (void)panel;
    (void)gemm;
    ks_sums s;
    ks_int_sums(ty, true, w, a, &s);
    const float yd = a->q->d;
    v128_t sum = wasm_i32x4_add(s.lo, s.hi), mins = s.mins;
    if (ty == KS_Q4_K) sum = wasm_i32x4_add(wasm_i32x4_add(s.p[0], s.p[1]), wasm_i32x4_add(s.p[2], s.p[3]));
    v128_t t = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), wasm_f32x4_splat(w->d * yd));
    if (ty == KS_Q4_K || ty == KS_Q2_K || ty == KS_Q5_K) /* minus dmin * da * (the mins' sums) */
        t = wasm_f32x4_sub(t, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(mins), wasm_f32x4_splat(w->dmin * yd)));
    st[0] = wasm_f32x4_add(st[0], t);
}

static inline float finish_fast(int ty, bool panel, const v128_t *st) {
    (void)ty;
    (void)panel;
    v128_t v = wasm_f32x4_add(st[0], wasm_i32x4_shuffle(st[0], st[0], 2, 3, 0, 1));
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

/* Q6_K (rows of at most KS_PRE_NB super-blocks, the tile's activations
 * widened once): the codes decoded as bytes (ks_q6_bytes), split into the
 * even and odd elements as i16 by a mask and a shift, multiplied with the
 * token's (each product at most 63 x 128, the pair's sum fits i16), and
 * the 16 elements' i16 sums times their scale into 4 i32 lanes
 * (i32x4.dot_i16x8_s); ggml's -32 from the bsums. The integer sum is the
 * exact kernels' (lanes spread otherwise), the float step step_fast's. */
AI void f6_rows(const int NT, const uint8_t *w, size_t wrow, int r0, int r1, const ks_tile *tile, int t0, float *out,
                size_t os) {
    const v128_t lo8 = wasm_i16x8_const_splat(0xff);
    for (int r = r0; r < r1; r++) {
        const block_q6_K *x = (const block_q6_K *)(w + (size_t)r * wrow);
        v128_t st[KS_TILE];
        for (int k = 0; k < NT; k++) st[k] = wasm_f32x4_splat(0.0f);
        for (int b = 0; b < tile->nb; b++, x++) {
            const v128_t *y[KS_TILE];
            for (int k = 0; k < NT; k++) y[k] = tile->buf + ((size_t)k * KS_PRE_NB + b) * 32;
            const v128_t s8 = wasm_v128_load(x->scales);
            const v128_t sc[2] = {wasm_i16x8_extend_low_i8x16(s8), wasm_i16x8_extend_high_i8x16(s8)};
            v128_t sum[KS_TILE];
            for (int k = 0; k < NT; k++) sum[k] = wasm_i32x4_splat(0);
            for (int h = 0; h < 2; h++)
                for (int half = 0; half < 2; half++) {
                    v128_t c[4];
                    ks_q6_bytes(x, h, half, c);
                    for (int j = 0; j < 4; j++) {
                        const int s = 8 * h + 2 * j + half;
                        const v128_t scv = ks_splat_i16(sc[h], s % 8);
                        const v128_t e = wasm_v128_and(c[j], lo8), od = wasm_u16x8_shr(c[j], 8);
                        for (int k = 0; k < NT; k++) {
                            const v128_t p = wasm_i16x8_add(wasm_i16x8_mul(e, y[k][2 * s]), wasm_i16x8_mul(od, y[k][2 * s + 1]));
                            sum[k] = wasm_i32x4_add(sum[k], wasm_i32x4_dot_i16x8(p, scv));
                        }
                    }
                }
            float d;
            ks_halves((const uint8_t *)x + KQ6_D, false, &d, NULL);
            for (int k = 0; k < NT; k++) {
                const block_q8_K *q = &tile->q[(size_t)k * tile->nb + b];
                const v128_t b0 = wasm_v128_load(q->bsums), b1 = wasm_v128_load(q->bsums + 8);
                const v128_t bm = wasm_i32x4_add(wasm_i32x4_dot_i16x8(b0, sc[0]), wasm_i32x4_dot_i16x8(b1, sc[1]));
                const v128_t t = wasm_i32x4_sub(sum[k], wasm_i32x4_shl(bm, 5));
                st[k] = wasm_f32x4_add(st[k], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(t), wasm_f32x4_splat(d * q->d)));
            }
        }
        for (int k = 0; k < NT; k++) out[(size_t)(t0 + k) * os + (size_t)r] = finish_fast(KS_Q6_K, false, &st[k]);
    }
}

static void mm_q6_k(const void *w, int n, int r0, int r1, const void *a, int n_tok, float *o, size_t os) {
    const int nb = n / QK_K;
    if (nb > KS_PRE_NB) {
        ks_matmul(KS_Q6_K, step_fast, finish_fast, w, n, r0, r1, a, n_tok, o, os);
        return;
    }
    const size_t wrow = (size_t)nb * sizeof(block_q6_K);
    v128_t buf[KS_TILE * KS_PRE_NB * 32];
    for (int t0 = 0; t0 < n_tok; t0 += KS_TILE) {
        const int nt = n_tok - t0 < KS_TILE ? n_tok - t0 : KS_TILE;
        ks_tile tile;
        ks_tile_init(&tile, a, t0, nt, nb, buf);
        switch (nt) {
        case 1: f6_rows(1, w, wrow, r0, r1, &tile, t0, o, os); break;
        case 2: f6_rows(2, w, wrow, r0, r1, &tile, t0, o, os); break;
        case 3: f6_rows(3, w, wrow, r0, r1, &tile, t0, o, os); break;
        default: f6_rows(KS_TILE, w, wrow, r0, r1, &tile, t0, o, os); break;
        }
    }
}

#define K_ENTRY(name, ty)                                                                                 \
    static void name(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) { \
        ks_matmul(ty, step_fast, finish_fast, w, n, r0, r1, a, nt, o, os);                             \
    }
K_ENTRY(mm_q2_k, KS_Q2_K)
K_ENTRY(mm_q3_k, KS_Q3_K)
K_ENTRY(mm_q4_k, KS_Q4_K)
K_ENTRY(mm_q5_k, KS_Q5_K)
K_ENTRY(mm_iq4_xs, KS_IQ4_XS)

void kernels_k_simd128_fast_fill(hearth_kernels *k) {
    k->matmul[KW_Q2_K] = mm_q2_k;
    k->matmul[KW_Q3_K] = mm_q3_k;
    k->matmul[KW_Q4_K] = mm_q4_k;
    k->matmul[KW_Q5_K] = mm_q5_k;
    k->matmul[KW_Q6_K] = mm_q6_k;
    k->matmul[KW_IQ4_XS] = mm_iq4_xs;
}
#endif
