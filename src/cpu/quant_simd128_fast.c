/* WebAssembly SIMD128 products for Q4_0, Q5_0 and Q8_0 weights with plain
 * f32 accumulation (the fast numerics, kernels_prefer_speed): the integer
 * block sums are exact, as everywhere, but each output adds
 * float(block sum) * dw * da in f32, a multiply and an add, where ggml's
 * order is one FMA per block (per 4-element group for Q5_0/Q8_0). SIMD128
 * has no FMA, and
 * emulating one exactly (simd128_exact.h) costs as much as the integer work,
 * so these run 1.5-4x as fast as quant_simd128.c's, at results that differ
 * from llama.cpp's in the last bits (test_kernels bounds them;
 * docs/numerics.md). Q4_1 and Q5_1 keep the exact kernels: ggml adds their
 * block offsets (m * s) apart from the scaled sums, which nearly cancel, so
 * another order moved random-weight models' logits by 7e-3 and their
 * greedy tokens off llama.cpp's.
 *
 * One token (decode): each row is read once, in order (one sequential
 * stream, which the hardware prefetcher follows), 4 blocks a step: their
 * integer sums (lane = block) times their scales into 4 f32 lanes, added
 * up at the end of the row. Several tokens (prefill): tiles of 8 tokens;
 * each weight block is decoded once per tile and multiplied with 4 tokens
 * at a time, lane = token.
 *
 * 4- and 5-bit codes come out of 16-bit lanes without widening: lane j of
 * the 16 nibble bytes holds elements 2j (bits 0-3), 2j+16 (4-7), 2j+1
 * (8-11) and 2j+17 (12-15), so three shifts and three masks give four i16
 * vectors, and the token's codes are widened once per product into that
 * order. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "model/ggml_types.h"
#include "simd128_exact.h"

#define FAST_MAX_NB 512 /* blocks per row (n <= 16384: Qwen2.5-3B's 11008 wide FFN); longer rows
                        * use the exact kernels. matmul_fast then keeps 288 KB on the stack
                        * (compute workers have 1 MB). */

enum { FT_Q4_0, FT_Q5_0, FT_Q8_0 };

AI size_t ft_bsize(int ty) {
    return ty == FT_Q4_0 ? sizeof(block_q4_0) : ty == FT_Q5_0 ? sizeof(block_q5_0) : sizeof(block_q8_0);
}
/* Q4_0 / Q5_0 codes are unsigned with an offset of 8 / 16: each block sum
 * takes -8 / -16 x the sum of the activation codes, from the Q8_0 row's aux
 * entry (-8 x that sum). */
AI int32_t ft_bias(int ty, int32_t bias8) {
    return ty == FT_Q4_0 ? bias8 : ty == FT_Q5_0 ? 2 * bias8 : 0;
}

/* The token's 32 codes of each block as i16, 4 vectors per block: the
 * nibble order {even 0-14, even 16-30, odd 1-15, odd 17-31} (4- and 5-bit
 * weights) or element order (Q8_0). */
AI void widen_act(const int ty, const uint8_t *act, int nb, v128_t *y) {
    for (int b = 0; b < nb; b++, y += 4) {
        const uint8_t *qs = act + (size_t)b * sizeof(block_q8_0) + 2;
        if (ty == FT_Q8_0) {
            widen_i8x32(qs, y);
            continue;
        }
        const v128_t a = wasm_v128_load(qs), c = wasm_v128_load(qs + 16);
        y[0] = wasm_i16x8_shr(wasm_i16x8_shl(a, 8), 8);
        y[1] = wasm_i16x8_shr(wasm_i16x8_shl(c, 8), 8);
        y[2] = wasm_i16x8_shr(a, 8);
        y[3] = wasm_i16x8_shr(c, 8);
    }
}

/* One weight block's 32 codes as 4 i16 vectors in the order of widen_act:
 * 4/5-bit codes unsigned (0..15 / 0..31; ft_bias corrects their offsets),
 * Q8_0's signed. */
AI void decode_block(const int ty, const uint8_t *blk, v128_t *w) {
    if (ty == FT_Q8_0) {
        widen_i8x32(blk + 2, w);
        return;
    }
    const v128_t q = wasm_v128_load(blk + (ty == FT_Q4_0 ? 2 : 6)), m = wasm_i16x8_const_splat(0x0f);
    w[0] = wasm_v128_and(q, m);
    w[1] = wasm_v128_and(wasm_u16x8_shr(q, 4), m);
    w[2] = wasm_v128_and(wasm_u16x8_shr(q, 8), m);
    w[3] = wasm_u16x8_shr(q, 12);
    if (ty == FT_Q5_0) {
        /* bit e of qh is element e's fifth bit (0x10): elements 2j and
         * 2j+1 (w[0], w[2]) from the low half, 2j+16 and 2j+17 from the high */
        uint32_t qh;
        memcpy(&qh, blk + 2, 4);
        const v128_t lo = wasm_i16x8_splat((int16_t)(qh & 0xffffu)), hi = wasm_i16x8_splat((int16_t)(qh >> 16));
        const v128_t even = wasm_i16x8_const(1, 4, 16, 64, 256, 1024, 4096, 16384);
        const v128_t odd = wasm_i16x8_const(2, 8, 32, 128, 512, 2048, 8192, -32768);
        or_fifth_bits(w, (const v128_t[4]){lo, hi, lo, hi}, (const v128_t[4]){even, even, odd, odd});
    }
}

/* Partial integer sums (4 lanes, to be added) of decoded codes w with y. */
AI v128_t dot4(const v128_t *w, const v128_t *y) {
    return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], y[0]), wasm_i32x4_dot_i16x8(w[1], y[1])),
                          wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], y[2]), wasm_i32x4_dot_i16x8(w[3], y[3])));
}

/* dot4 of one weight block with y. */
AI v128_t block_sums(const int ty, const uint8_t *blk, const v128_t *y) {
    v128_t w[4];
    decode_block(ty, blk, w);
    return dot4(w, y);
}

/* Sums of each vector's 4 lanes: {sum a, sum b, sum c, sum d}. */
AI v128_t transpose_add(v128_t a, v128_t b, v128_t c, v128_t d) {
    const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* The fp16 scales of blocks p[0..3], as f32. */
AI v128_t gather_scales(const uint8_t *const *p) {
    v128_t h = wasm_i32x4_splat(0);
    h = wasm_v128_load16_lane(p[0], h, 0);
    h = wasm_v128_load16_lane(p[1], h, 2);
    h = wasm_v128_load16_lane(p[2], h, 4);
    h = wasm_v128_load16_lane(p[3], h, 6);
    return half4_to_f32_finite(h);
}

/* out[r] = dot(row r, token) for r in [r0, r1). Each row is read once, in
 * order, 4 blocks a step: their integer sums (one per lane) times their
 * scales dw * da go into 4 f32 lanes, added up at the end. */
AI void matvec_fast(const int ty, const uint8_t *w, int nb, int r0, int r1, const uint8_t *act, float *out) {
    const size_t bs = ft_bsize(ty), wrow = (size_t)nb * bs;
    const int nb4 = (nb + 3) & ~3;
    v128_t y[4 * FAST_MAX_NB];
    float da[FAST_MAX_NB];     /* the token's block scales */
    int32_t bias[FAST_MAX_NB]; /* the offset corrections (ft_bias) */
    widen_act(ty, act, nb, y);
    const act_aux_q8_0 *aux = (const act_aux_q8_0 *)(act + kernels_act_aux_offset(nb * 32, false));
    for (int b = 0; b < nb4; b++) {
        if (b < nb) {
            da[b] = aux[b].d;
            bias[b] = ft_bias(ty, aux[b].bias8);
        } else { /* padding blocks read the row's first block again, at scale 0 */
            da[b] = 0.0f;
            bias[b] = 0;
            for (int i = 0; i < 4; i++) y[4 * b + i] = wasm_i32x4_splat(0);
        }
    }
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * wrow;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int b = 0; b < nb4; b += 4) {
            const uint8_t *blk[4];
            for (int k = 0; k < 4; k++) blk[k] = row + (size_t)(b + k < nb ? b + k : 0) * bs;
            v128_t sum = transpose_add(block_sums(ty, blk[0], y + 4 * b), block_sums(ty, blk[1], y + 4 * b + 4),
                                       block_sums(ty, blk[2], y + 4 * b + 8), block_sums(ty, blk[3], y + 4 * b + 12));
            sum = wasm_i32x4_add(sum, wasm_v128_load(bias + b));
            const v128_t dd = wasm_f32x4_mul(gather_scales(blk), wasm_v128_load(da + b));
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), dd));
        }
        acc = wasm_f32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1));
        acc = wasm_f32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 1, 0, 3, 2));
        out[r] = wasm_f32x4_extract_lane(acc, 0);
    }
}

#define TILE 8 /* tokens per pass over the rows (prefill) */

/* Several tokens (prefill): out[t*os + r] for r in [r0, r1), t < n_tok.
 * Tokens go in tiles of 8 whose codes are widened once; each row's block is
 * decoded once per tile and multiplied with the tile's tokens 4 at a time,
 * lane = token. arow: bytes per activation row. */
AI void matmul_fast(const int ty, const uint8_t *w, int nb, int r0, int r1, const uint8_t *act, size_t arow,
                    int n_tok, float *out, size_t os) {
    const size_t bs = ft_bsize(ty), wrow = (size_t)nb * bs;
    const size_t aux_off = kernels_act_aux_offset(nb * 32, false);
    v128_t y[TILE * 4 * FAST_MAX_NB]; /* [token][block][4] */
    float da[FAST_MAX_NB * TILE];     /* [block][token] */
    int32_t bias[FAST_MAX_NB * TILE];
    for (int t0 = 0; t0 < n_tok; t0 += TILE) {
        const int nt = n_tok - t0 < TILE ? n_tok - t0 : TILE;
        for (int t = 0; t < TILE; t++) {
            v128_t *yt = y + (size_t)t * 4 * nb;
            if (t < nt) {
                const uint8_t *a = act + (size_t)(t0 + t) * arow;
                const act_aux_q8_0 *aux = (const act_aux_q8_0 *)(a + aux_off);
                widen_act(ty, a, nb, yt);
                for (int b = 0; b < nb; b++) {
                    da[b * TILE + t] = aux[b].d;
                    bias[b * TILE + t] = ft_bias(ty, aux[b].bias8);
                }
            } else { /* padding tokens: zero codes and scales, outputs not stored */
                for (int i = 0; i < 4 * nb; i++) yt[i] = wasm_i32x4_splat(0);
                for (int b = 0; b < nb; b++) {
                    da[b * TILE + t] = 0.0f;
                    bias[b * TILE + t] = 0;
                }
            }
        }
        const int quads = (nt + 3) / 4;
        for (int r = r0; r < r1; r++) {
            const uint8_t *blk = w + (size_t)r * wrow;
            v128_t acc[TILE / 4];
            for (int q = 0; q < TILE / 4; q++) acc[q] = wasm_f32x4_splat(0.0f);
            for (int b = 0; b < nb; b++, blk += bs) {
                v128_t wv[4];
                decode_block(ty, blk, wv);
                uint16_t h;
                memcpy(&h, blk, 2);
                const v128_t dw = wasm_f32x4_splat(ggml_fp16_to_fp32(h));
                for (int q = 0; q < quads; q++) {
                    const v128_t *yq = y + (size_t)(4 * q) * 4 * nb + 4 * (size_t)b;
                    const size_t step = 4 * (size_t)nb;
                    const int at = b * TILE + 4 * q;
                    v128_t sum = transpose_add(dot4(wv, yq), dot4(wv, yq + step), dot4(wv, yq + 2 * step), dot4(wv, yq + 3 * step));
                    sum = wasm_i32x4_add(sum, wasm_v128_load(bias + at));
                    const v128_t dd = wasm_f32x4_mul(dw, wasm_v128_load(da + at));
                    acc[q] = wasm_f32x4_add(acc[q], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), dd));
                }
            }
            for (int q = 0; q < quads; q++) {
                float v[4];
                wasm_v128_store(v, acc[q]);
                for (int i = 0; i < 4 && 4 * q + i < nt; i++) out[(size_t)(t0 + 4 * q + i) * os + r] = v[i];
            }
        }
    }
}

/* Rows of at most FAST_MAX_NB blocks through the fast kernels; longer ones
 * through the exact kernels (the table's entries before). */
AI void matmul_entry(const int ty, uint32_t wtype, kernels_matmul_fn exact, const void *w, int n, int r0, int r1,
                     const void *a, int nt, float *o, size_t os) {
    if (n / 32 > FAST_MAX_NB) exact(w, n, r0, r1, a, nt, o, os);
    else if (nt == 1) matvec_fast(ty, w, n / 32, r0, r1, a, o);
    else matmul_fast(ty, w, n / 32, r0, r1, a, kernels_act_row_bytes(wtype, n), nt, o, os);
}
#define FAST_ENTRY(name, ty, wtype, exact)                                                               \
    static void name(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) { \
        matmul_entry(ty, wtype, exact, w, n, r0, r1, a, nt, o, os);                                      \
    }
FAST_ENTRY(mm_q4_0_fast, FT_Q4_0, GGML_TYPE_Q4_0, kernels_simd128_matmul_q4_0)
FAST_ENTRY(mm_q5_0_fast, FT_Q5_0, GGML_TYPE_Q5_0, kernels_simd128_matmul_q5_0)
FAST_ENTRY(mm_q8_0_fast, FT_Q8_0, GGML_TYPE_Q8_0, kernels_simd128_matmul_q8_0)

bool kernels_simd128_fast_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_0] = mm_q4_0_fast;
    k->matmul[KW_Q5_0] = mm_q5_0_fast;
    k->matmul[KW_Q8_0] = mm_q8_0_fast;
    kernels_k_simd128_fast_fill(k);
    kernels_iq4nl_simd128_fill(k, true);
    k->name = "simd128-fast";
    return true;
}
#else
bool kernels_simd128_fast_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
