/* WebAssembly SIMD128 one-token products (decode) for Q4_0 and Q8_0 weights
 * with plain f32 accumulation: the integer block sums are exact, as
 * everywhere, but each output adds float(block sum) * dw * da in f32
 * (a multiply and an add, two roundings) where ggml's order is one FMA per
 * block. SIMD128 has no FMA, and emulating one exactly (simd128_exact.h)
 * costs as much as the integer work, so these kernels run about twice as
 * fast as quant_simd128.c's, at results that differ from llama.cpp's in the
 * last bits (measured by test_kernels; docs/numerics.md). The engine option
 * fast_numerics installs them; tests that compare bits leave it off.
 *
 * Layout: a group of 4 rows is read one row after the other (one
 * sequential stream, which the hardware prefetcher follows), each row's
 * per-block integer sums going to a small buffer; then the 4 rows take
 * their blocks' scales together, one row per lane.
 *
 * Q4_0 nibbles come out of 16-bit lanes without widening: lane j of the
 * 16 code bytes holds elements 2j (bits 0-3), 2j+16 (4-7), 2j+1 (8-11) and
 * 2j+17 (12-15), so three shifts and three masks give four i16 vectors, and
 * the token's codes are widened once per product into that order. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "ggml_types.h"
#include "simd128_exact.h"

#define FAST_MAX_NB 256 /* blocks per row (n <= 8192); longer rows use the exact kernels */
#ifdef __wasm_relaxed_simd__
#define RELAXED 1
#else
#define RELAXED 0
#endif

/* The token's 32 codes of each block as i16, 4 vectors per block: Q4_0's
 * nibble order {even 0-14, even 16-30, odd 1-15, odd 17-31} (q4 true) or
 * element order (Q8_0). */
static void widen_act(const uint8_t *act, int nb, bool q4, v128_t *y) {
    for (int b = 0; b < nb; b++, y += 4) {
        const uint8_t *qs = act + (size_t)b * sizeof(block_q8_0) + 2;
        const v128_t a = wasm_v128_load(qs), c = wasm_v128_load(qs + 16);
        if (q4 && RELAXED) { /* the codes as they are (block_sums reads 32 bytes) */
            y[0] = a;
            y[1] = c;
        } else if (q4) {
            y[0] = wasm_i16x8_shr(wasm_i16x8_shl(a, 8), 8);
            y[1] = wasm_i16x8_shr(wasm_i16x8_shl(c, 8), 8);
            y[2] = wasm_i16x8_shr(a, 8);
            y[3] = wasm_i16x8_shr(c, 8);
        } else {
            y[0] = wasm_i16x8_extend_low_i8x16(a);
            y[1] = wasm_i16x8_extend_high_i8x16(a);
            y[2] = wasm_i16x8_extend_low_i8x16(c);
            y[3] = wasm_i16x8_extend_high_i8x16(c);
        }
    }
}

/* half4_to_f32 for the scales of these products, without its inf/NaN step:
 * exponent 31 (inf, NaN) reads as a finite 2^16 .. 2^17 instead. Normal and
 * subnormal values and zero convert exactly. */
AI v128_t half4_to_f32_finite(v128_t h) {
    const v128_t m13 = wasm_u32x4_shr(wasm_i32x4_shl(h, 17), 4); /* (h & 0x7fff) << 13 */
    const v128_t sign = wasm_v128_and(wasm_i32x4_shl(h, 16), wasm_i32x4_const_splat((int32_t)0x80000000u));
    return wasm_v128_or(wasm_f32x4_mul(m13, wasm_f32x4_const_splat(0x1p112f)), sign);
}

/* Partial integer sums (4 lanes, to be added) of one weight block with the
 * widened codes y. Q4_0's unsigned nibbles are corrected later with the
 * activation row's -8 * sum entry. */
AI v128_t block_sums(const bool q4, const uint8_t *blk, const v128_t *y) {
    v128_t w[4];
#ifdef __wasm_relaxed_simd__
    if (q4) { /* nibbles (0..15) are valid 7-bit operands, so the result is exact */
        const v128_t q = wasm_v128_load(blk + 2), m = wasm_i8x16_const_splat(0x0f);
        const uint8_t *a = (const uint8_t *)y;
        const v128_t lo = wasm_v128_and(q, m), hi = wasm_v128_and(wasm_u16x8_shr(q, 4), m);
        return wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(a), lo,
                                                      wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(a + 16), hi, wasm_i32x4_splat(0)));
    }
#endif
    if (q4) {
        const v128_t q = wasm_v128_load(blk + 2), m = wasm_i16x8_const_splat(0x0f);
        w[0] = wasm_v128_and(q, m);
        w[1] = wasm_v128_and(wasm_u16x8_shr(q, 4), m);
        w[2] = wasm_v128_and(wasm_u16x8_shr(q, 8), m);
        w[3] = wasm_u16x8_shr(q, 12);
    } else {
        const v128_t a = wasm_v128_load(blk + 2), c = wasm_v128_load(blk + 18);
        w[0] = wasm_i16x8_extend_low_i8x16(a);
        w[1] = wasm_i16x8_extend_high_i8x16(a);
        w[2] = wasm_i16x8_extend_low_i8x16(c);
        w[3] = wasm_i16x8_extend_high_i8x16(c);
    }
    return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], y[0]), wasm_i32x4_dot_i16x8(w[1], y[1])),
                          wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], y[2]), wasm_i32x4_dot_i16x8(w[3], y[3])));
}

/* Sums of each vector's 4 lanes: {sum a, sum b, sum c, sum d}. */
AI v128_t transpose_add(v128_t a, v128_t b, v128_t c, v128_t d) {
    const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* out[r] = dot(row r, token) for r in [r0, r1). Each row is read once, in
 * order, 4 blocks a step: their integer sums (one per lane) times their
 * scales dw * da go into 4 f32 lanes, added up at the end of the row. */
AI void matvec_fast(const bool q4, const uint8_t *w, int nb, int r0, int r1, const uint8_t *act, float *out) {
    const size_t bs = q4 ? sizeof(block_q4_0) : sizeof(block_q8_0), wrow = (size_t)nb * bs;
    const int nb4 = (nb + 3) & ~3;
    v128_t y[4 * FAST_MAX_NB];
    float da[FAST_MAX_NB];     /* the token's block scales */
    int32_t bias[FAST_MAX_NB]; /* Q4_0: -8 x the sum of the block's codes */
    widen_act(act, nb, q4, y);
    const act_aux_q8_0 *aux = (const act_aux_q8_0 *)(act + kernels_act_aux_offset(nb * 32, false));
    for (int b = 0; b < nb4; b++) {
        if (b < nb) {
            da[b] = aux[b].d;
            bias[b] = q4 ? aux[b].bias8 : 0;
        } else { /* padding blocks read row r's first blocks again, at scale 0 */
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
            v128_t sum = transpose_add(block_sums(q4, blk[0], y + 4 * b), block_sums(q4, blk[1], y + 4 * b + 4),
                                       block_sums(q4, blk[2], y + 4 * b + 8), block_sums(q4, blk[3], y + 4 * b + 12));
            sum = wasm_i32x4_add(sum, wasm_v128_load(bias + b));
            v128_t h = wasm_i32x4_splat(0);
            h = wasm_v128_load16_lane(blk[0], h, 0);
            h = wasm_v128_load16_lane(blk[1], h, 2);
            h = wasm_v128_load16_lane(blk[2], h, 4);
            h = wasm_v128_load16_lane(blk[3], h, 6);
            const v128_t dd = wasm_f32x4_mul(half4_to_f32_finite(h), wasm_v128_load(da + b));
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), dd));
        }
        acc = wasm_f32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1));
        acc = wasm_f32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 1, 0, 3, 2));
        out[r] = wasm_f32x4_extract_lane(acc, 0);
    }
}

/* One token through the fast path; more tokens (prefill) or very long rows
 * through the exact kernels. */
#define FAST_ENTRY(name, q4, exact)                                                                      \
    static void name(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) { \
        if (nt == 1 && n / 32 <= FAST_MAX_NB) matvec_fast(q4, w, n / 32, r0, r1, a, o);                 \
        else exact(w, n, r0, r1, a, nt, o, os);                                                          \
    }
FAST_ENTRY(mm_q4_0_fast, true, kernels_simd128_matmul_q4_0)
FAST_ENTRY(mm_q8_0_fast, false, kernels_simd128_matmul_q8_0)

bool kernels_simd128_fast_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_0] = mm_q4_0_fast;
    k->matmul[KW_Q8_0] = mm_q8_0_fast;
    k->name = "simd128-fast";
    return true;
}
#else
bool kernels_simd128_fast_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
