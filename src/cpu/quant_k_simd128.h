/* The integer half of the WebAssembly SIMD128 products for the types with
 * Q8_K activations (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS), shared by the
 * exact kernels (quant_k_simd128.c: ggml's float order, quant_k.h /
 * quant_lowbit.h) and the fast ones (quant_k_simd128_fast.c: plain f32
 * steps). Not a public header: static functions, only included where
 * __wasm_simd128__ is defined.
 *
 * Codes come out of 16-bit lanes as they lie: i16 lane i of 16 code bytes
 * holds elements 2i (bits 0-7) and 2i+1 (bits 8-15), so shifts and masks
 * give the even elements and the odd ones of 16 as two i16 vectors with no
 * widening instructions, and the token's codes are widened once into the
 * same order (ks_widen_act). i32x4.dot_i16x8_s of the even vectors plus that
 * of the odd ones leaves in lane k the sum of elements 4k..4k+3: exactly the
 * 4-element groups of ggml's 8 float lanes (ks_dot16), so the exact kernels
 * need no shuffles either. */
#ifndef HEARTH_QUANT_K_SIMD128_H
#define HEARTH_QUANT_K_SIMD128_H

#include <stddef.h>

#include "model/ggml_types.h"
#include "quant_k.h"
#include "quant_lowbit.h"
#include "simd128_exact.h"

enum { KS_Q2_K, KS_Q3_K, KS_Q4_K, KS_Q5_K, KS_Q6_K, KS_IQ4_XS };

/* Rows of at most this many super-blocks (n <= 20480) have a tile's
 * widened activations made once per product (KS_TILE x 40 KB of stack);
 * longer ones widen each super-block where it is used. */
#define KS_PRE_NB 80
#define KS_TILE 4 /* tokens per pass over the rows */

AI size_t ks_bsize(int ty) {
    switch (ty) {
    case KS_Q2_K: return sizeof(block_q2_K);
    case KS_Q3_K: return sizeof(block_q3_K);
    case KS_Q4_K: return sizeof(block_q4_K);
    case KS_Q5_K: return sizeof(block_q5_K);
    case KS_Q6_K: return sizeof(block_q6_K);
    default: return sizeof(block_iq4_xs);
    }
}

/* The even and odd elements of 16 signed bytes as i16. */
AI void ks_even_odd_i8(v128_t q, v128_t *eo) {
    eo[0] = wasm_i16x8_shr(wasm_i16x8_shl(q, 8), 8);
    eo[1] = wasm_i16x8_shr(q, 8);
}

/* A Q8_K super-block's 256 codes: y[2s], y[2s+1] the even and odd
 * elements of 16s..16s+15. */
AI void ks_widen_act(const int8_t *qs, v128_t *y) {
    for (int s = 0; s < 16; s++) ks_even_odd_i8(wasm_v128_load(qs + 16 * s), y + 2 * s);
}

/* Lane k: the integer dot of elements 4k..4k+3 of the 16 that w and y hold
 * (even, odd). */
AI v128_t ks_dot16(const v128_t *w, const v128_t *y) {
    return wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], y[0]), wasm_i32x4_dot_i16x8(w[1], y[1]));
}

/* ks_dot16 of 32 elements (two sets of 16). */
AI v128_t ks_dot16_32(const v128_t *w, const v128_t *y) {
    return wasm_i32x4_add(ks_dot16(w, y), ks_dot16(w + 2, y + 2));
}

/* Sums of adjacent lanes of a and b: {a0+a1, a2+a3, b0+b1, b2+b3}. */
AI v128_t ks_pair_sums(v128_t a, v128_t b) {
    return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
}

/* {sum a, sum b, sum c, sum d}. */
AI v128_t ks_transpose_add(v128_t a, v128_t b, v128_t c, v128_t d) {
    return ks_pair_sums(ks_pair_sums(a, b), ks_pair_sums(c, d));
}

AI int32_t ks_hsum_i32(v128_t v) {
    v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_i32x4_extract_lane(v, 0);
}

/* x << s for s >= 0, x >> -s otherwise (16-bit lanes; s a constant once
 * unrolled). */
AI v128_t ks_shift16(v128_t x, int s) {
    return s >= 0 ? wasm_i16x8_shl(x, (uint32_t)s) : wasm_u16x8_shr(x, (uint32_t)-s);
}

/* Q6_K codes (0..63) as bytes in element order: c[j] holds elements
 * 128h + 32j + 16half .. + 15 (the 16-element scale 8h + 2j + half): ql's
 * nibbles or'ed with qh's bit pairs moved to bits 4-5 (the u16 shifts move
 * no wanted bit across bytes: the masks drop those). */
AI void ks_q6_bytes(const block_q6_K *b, int h, int half, v128_t *c) {
    const v128_t m4 = wasm_i8x16_const_splat(0x0f), m30 = wasm_i8x16_const_splat(0x30);
    const v128_t q = wasm_v128_load(b->qh + 32 * h + 16 * half);
    const v128_t l0 = wasm_v128_load(b->ql + 64 * h + 16 * half), l1 = wasm_v128_load(b->ql + 64 * h + 32 + 16 * half);
    c[0] = wasm_v128_or(wasm_v128_and(l0, m4), wasm_v128_and(wasm_i16x8_shl(q, 4), m30));
    c[1] = wasm_v128_or(wasm_v128_and(l1, m4), wasm_v128_and(wasm_i16x8_shl(q, 2), m30));
    c[2] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l0, 4), m4), wasm_v128_and(q, m30));
    c[3] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l1, 4), m4), wasm_v128_and(wasm_u16x8_shr(q, 2), m30));
}

/* A decoded weight super-block. */
typedef struct {
    v128_t w[32]; /* codes as i16 (w[2s], w[2s+1]: even, odd elements of 16s..16s+15);
                   * Q2_K, Q3_K, Q6_K, IQ4_XS: already times their scale */
    v128_t m16[2]; /* Q4_K, Q5_K: the 8 mins, each in two i16 lanes (one per bsum);
                    * Q2_K: its 16 mins; Q6_K: its 16 scales (for ggml's -32) */
    v128_t sc;     /* Q4_K, Q5_K: bytes 0..7 the scales of the 8 sub-blocks of 32 */
    float d, dmin;
    /* lazy (a constant: one token a pass): w is not filled, ks_int_sums
     * decodes each sub-block pair (Q4_K, Q5_K) or 32-element chunk where it
     * uses it (fewer live vectors than V8 has registers) */
    bool lazy;
    const uint8_t *x, *qs, *qh; /* the block; Q4_K/Q5_K: its codes and fifth bits */
    v128_t sc16[2]; /* Q2_K, Q3_K, Q6_K: the 16 scales as i16; IQ4_XS: its 8 in sc16[0] */
} ks_sb;

/* Byte j of v in i32 lane 0..3 (unsigned; j a constant once unrolled). */
AI v128_t ks_splat_u8_i32(v128_t v, int j) {
    return wasm_i8x16_swizzle(v, wasm_i32x4_splat(j | 0x10101000));
}
/* i16 lane j of v in every lane. */
AI v128_t ks_splat_i16(v128_t v, int j) {
    return wasm_i8x16_swizzle(v, wasm_i16x8_splat((int16_t)((2 * j) | (2 * j + 1) << 8)));
}

/* The fp16 at p (and, two, the one after it) as f32. */
AI void ks_halves(const uint8_t *p, bool two, float *d, float *dmin) {
    const v128_t h = two ? wasm_v128_load32_zero(p) : wasm_v128_load16_lane(p, wasm_i32x4_splat(0), 0);
    const v128_t f = half4_to_f32(wasm_u32x4_extend_low_u16x8(h));
    *d = wasm_f32x4_extract_lane(f, 0);
    if (two) *dmin = wasm_f32x4_extract_lane(f, 1);
}

/* Q5_K: bit j of qh[l] is the fifth bit (0x10) of element l of sub-block
 * j; qh: 16 of those bytes, v: the matching even, odd codes. */
AI void ks_fifth_bit(v128_t qh, int j, v128_t *v) {
    const v128_t x10 = wasm_i16x8_const_splat(0x10);
    v[0] = wasm_v128_or(v[0], wasm_v128_and(ks_shift16(qh, 4 - j), x10));
    v[1] = wasm_v128_or(v[1], wasm_v128_and(wasm_u16x8_shr(qh, (uint32_t)(j + 4)), x10));
}

/* Q4_K / Q5_K codes of sub-blocks 2p and 2p + 1 (ks_sb.w[8p..8p+7]): qs
 * byte 32p + l holds element l of sub-block 2p (low nibble) and 2p + 1
 * (high); qh (Q5_K, else NULL): the fifth bits. */
AI void ks_dec_pair(const uint8_t *qs, const uint8_t *qh, int p, v128_t *w) {
    const v128_t m = wasm_i16x8_const_splat(0x0f);
    for (int h = 0; h < 2; h++) {
        const v128_t a = wasm_v128_load(qs + 32 * p + 16 * h);
        v128_t *lo = w + 2 * h, *hi = w + 4 + 2 * h;
        lo[0] = wasm_v128_and(a, m);
        lo[1] = wasm_v128_and(wasm_u16x8_shr(a, 8), m);
        hi[0] = wasm_v128_and(wasm_u16x8_shr(a, 4), m);
        hi[1] = wasm_u16x8_shr(a, 12);
        if (qh) {
            const v128_t b = wasm_v128_load(qh + 16 * h);
            ks_fifth_bit(b, 2 * p, lo);
            ks_fifth_bit(b, 2 * p + 1, hi);
        }
    }
}

/* The 6-bit scales and mins of Q4_K / Q5_K (quant_k.h's kq_scales_mins) in
 * one vector: bytes 0..7 sc, 8..15 m. q: the 12 bytes, 4 more readable. */
AI void ks_dec_scales_mins(const uint8_t *q, ks_sb *o) {
    const v128_t v = wasm_v128_load(q);
    /* lanes 0-3 q[j], 4-7 q[j + 8], 8-11 q[j + 4], 12-15 q[j + 8]: the low bits */
    const v128_t a = wasm_i8x16_swizzle(v, wasm_i8x16_const(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
    /* lanes 4-7 q[j], 12-15 q[j + 4]: their top 2 bits are bits 4-5 of sc, m j + 4 */
    const v128_t b = wasm_i8x16_swizzle(v, wasm_i8x16_const(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7));
    const v128_t t1 = wasm_v128_and(a, wasm_i8x16_const(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0));
    const v128_t t2 = wasm_v128_and(wasm_u16x8_shr(a, 4), wasm_i8x16_const(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15));
    const v128_t t3 = wasm_u16x8_shr(wasm_v128_and(b, wasm_i8x16_const_splat((int8_t)0xc0)), 2);
    o->sc = wasm_v128_or(wasm_v128_or(t1, t2), t3);
    o->m16[0] = wasm_i8x16_swizzle(o->sc, wasm_i8x16_const(8, -1, 8, -1, 9, -1, 9, -1, 10, -1, 10, -1, 11, -1, 11, -1));
    o->m16[1] = wasm_i8x16_swizzle(o->sc, wasm_i8x16_const(12, -1, 12, -1, 13, -1, 13, -1, 14, -1, 14, -1, 15, -1, 15, -1));
}

/* Q3_K's 16 six-bit scales (quant_lowbit.h's q3_K_scales) minus 32, as i16:
 * s < 8 the low nibble of packed[s], else the high one of packed[s - 8];
 * bits 4-5 from bits 2(s / 4).. of packed[8 + s % 4]. */
AI void ks_q3_scales(const uint8_t *packed, v128_t *sc) {
    /* the 12 bytes (Q3_K's block ends 2 bytes after them) */
    const v128_t v = wasm_v128_load32_lane(packed + 8, wasm_v128_load64_zero(packed), 2);
    const v128_t lo8 = wasm_u16x8_extend_low_u8x16(v);
    const v128_t m = wasm_i16x8_const_splat(0x0f);
    const v128_t hi4 = wasm_i8x16_swizzle(v, wasm_i8x16_const(8, -1, 9, -1, 10, -1, 11, -1, 8, -1, 9, -1, 10, -1, 11, -1));
    /* s = 0..7: shift of the 2-bit field 2 (s / 4): 0 for s < 4, 2 for s >= 4; s = 8..15: 4, 6 */
    const v128_t hi_a = wasm_v128_and(wasm_i16x8_mul(hi4, wasm_i16x8_const(16, 16, 16, 16, 4, 4, 4, 4)), wasm_i16x8_const_splat(0x30));
    const v128_t hi_b = wasm_v128_and(wasm_u16x8_shr(wasm_i16x8_mul(hi4, wasm_i16x8_const(4, 4, 4, 4, 1, 1, 1, 1)), 2), wasm_i16x8_const_splat(0x30));
    const v128_t m32 = wasm_i16x8_const_splat(32);
    sc[0] = wasm_i16x8_sub(wasm_v128_or(wasm_v128_and(lo8, m), hi_a), m32);
    sc[1] = wasm_i16x8_sub(wasm_v128_or(wasm_u16x8_shr(lo8, 4), hi_b), m32);
}

/* Elements 32 c8 .. 32 c8 + 31 of a Q2_K, Q3_K, Q6_K or IQ4_XS super-block
 * (o: its scales and block) as v[0..3] (ks_sb.w[4 c8 ..]), times their
 * scales. */
AI void ks_dec_chunk(const int ty, const ks_sb *o, int c8, v128_t *v) {
    const uint8_t *x = o->x;
    if (ty == KS_IQ4_XS) { /* sub-block c8's elements j, j + 16 index the code book by qs[16 c8 + j]'s nibbles */
        const v128_t book = wasm_v128_load(kvalues_iq4nl), m = wasm_i8x16_const_splat(0x0f);
        const v128_t q = wasm_v128_load(((const block_iq4_xs *)x)->qs + 16 * c8), scv = ks_splat_i16(o->sc16[0], c8);
        ks_even_odd_i8(wasm_i8x16_swizzle(book, wasm_v128_and(q, m)), v);
        ks_even_odd_i8(wasm_i8x16_swizzle(book, wasm_v128_and(wasm_u16x8_shr(q, 4), m)), v + 2);
        for (int i = 0; i < 4; i++) v[i] = wasm_i16x8_mul(v[i], scv);
        return;
    }
    const int h = c8 / 4, c = c8 % 4;
    for (int half = 0; half < 2; half++) {
        v128_t e, od;
        if (ty == KS_Q6_K) { /* quant_k_scalar.c's q6_code: ql nibbles, qh bit pairs; codes 0..63 */
            const block_q6_K *b = (const block_q6_K *)x;
            const v128_t m = wasm_i16x8_const_splat(0x0f), m30 = wasm_i16x8_const_splat(0x30);
            const v128_t l = wasm_v128_load(b->ql + 64 * h + 32 * (c & 1) + 16 * half);
            const v128_t q = wasm_v128_load(b->qh + 32 * h + 16 * half);
            e = wasm_v128_or(wasm_v128_and(c & 2 ? wasm_u16x8_shr(l, 4) : l, m), wasm_v128_and(ks_shift16(q, 4 - 2 * c), m30));
            od = wasm_v128_or(c & 2 ? wasm_u16x8_shr(l, 12) : wasm_v128_and(wasm_u16x8_shr(l, 8), m),
                              wasm_v128_and(wasm_u16x8_shr(q, (uint32_t)(2 * c + 4)), m30));
        } else { /* Q2_K, Q3_K: element 128h + 32c + l is bits 2c.. of qs[32h + l]; Q3_K adds 4 where bit
                  * 4h + c of hmask[l] is set, then subtracts 4 */
            const uint8_t *qs = ty == KS_Q2_K ? ((const block_q2_K *)x)->qs : ((const block_q3_K *)x)->qs;
            const v128_t m3 = wasm_i16x8_const_splat(3), m4 = wasm_i16x8_const_splat(4);
            const v128_t q = wasm_v128_load(qs + 32 * h + 16 * half);
            e = wasm_v128_and(wasm_u16x8_shr(q, (uint32_t)(2 * c)), m3);
            od = wasm_v128_and(wasm_u16x8_shr(q, (uint32_t)(2 * c + 8)), m3);
            if (ty == KS_Q3_K) {
                const v128_t hm = wasm_v128_load(((const block_q3_K *)x)->hmask + 16 * half);
                const int bit = 4 * h + c;
                e = wasm_i16x8_sub(wasm_v128_or(e, wasm_v128_and(ks_shift16(hm, 2 - bit), m4)), m4);
                od = wasm_i16x8_sub(wasm_v128_or(od, wasm_v128_and(ks_shift16(hm, 2 - bit - 8), m4)), m4);
            }
        }
        const int s = 2 * c8 + half; /* the 16-element scale */
        const v128_t scv = ks_splat_i16(o->sc16[s / 8], s % 8);
        v[2 * half] = wasm_i16x8_mul(e, scv);
        v[2 * half + 1] = wasm_i16x8_mul(od, scv);
    }
}

AI void ks_decode(const int ty, const uint8_t *x, ks_sb *o) {
    switch (ty) {
    case KS_Q4_K:
    case KS_Q5_K: {
        const block_q4_K *h = (const block_q4_K *)x;
        ks_dec_scales_mins(h->scales, o);
        ks_halves(x, true, &o->d, &o->dmin);
        o->qs = x + (ty == KS_Q5_K ? KQ5_QS : KQ4_QS);
        o->qh = ty == KS_Q5_K ? x + KQ5_QH : NULL;
        if (!o->lazy) {
            for (int p = 0; p < 4; p++) ks_dec_pair(o->qs, NULL, p, o->w + 8 * p);
            /* (qh's 16-byte halves each applied to all 8 sub-blocks: faster in V8 than per pair) */
            for (int half = 0; half < 2 && o->qh; half++) {
                const v128_t qh = wasm_v128_load(o->qh + 16 * half);
                for (int j = 0; j < 8; j++) ks_fifth_bit(qh, j, o->w + 2 * (2 * j + half));
            }
        }
        return;
    }
    case KS_Q6_K: {
        const v128_t s8 = wasm_v128_load(((const block_q6_K *)x)->scales);
        o->sc16[0] = o->m16[0] = wasm_i16x8_extend_low_i8x16(s8);
        o->sc16[1] = o->m16[1] = wasm_i16x8_extend_high_i8x16(s8);
        ks_halves(x + KQ6_D, false, &o->d, NULL);
        break;
    }
    case KS_Q2_K: { /* scales byte s: scale (low nibble) and min (high) of elements 16s.. */
        const v128_t s8 = wasm_v128_load(((const block_q2_K *)x)->scales), m = wasm_i16x8_const_splat(0x0f);
        const v128_t lo = wasm_u16x8_extend_low_u8x16(s8), hi = wasm_u16x8_extend_high_u8x16(s8);
        o->sc16[0] = wasm_v128_and(lo, m);
        o->sc16[1] = wasm_v128_and(hi, m);
        o->m16[0] = wasm_u16x8_shr(lo, 4);
        o->m16[1] = wasm_u16x8_shr(hi, 4);
        ks_halves(x + offsetof(block_q2_K, d), true, &o->d, &o->dmin);
        break;
    }
    case KS_Q3_K:
        ks_q3_scales(((const block_q3_K *)x)->scales, o->sc16);
        ks_halves(x + offsetof(block_q3_K, d), false, &o->d, NULL);
        break;
    default: { /* IQ4_XS: scale ib = (scales_l[ib / 2] >> 4 (ib % 2)) & 15 | ((scales_h >> 2 ib) & 3) << 4, minus 32 */
        const block_iq4_xs *b = (const block_iq4_xs *)x;
        uint32_t sl;
        memcpy(&sl, b->scales_l, 4);
        const v128_t l = wasm_u16x8_extend_low_u8x16(wasm_i8x16_swizzle(wasm_i32x4_splat((int32_t)sl),
                                                                          wasm_i8x16_const(0, 0, 1, 1, 2, 2, 3, 3, -1, -1, -1, -1, -1, -1, -1, -1)));
        const v128_t lo = wasm_v128_and(wasm_i16x8_mul(l, wasm_i16x8_const(16, 1, 16, 1, 16, 1, 16, 1)), wasm_i16x8_const_splat(0xf0));
        const v128_t hi = wasm_u16x8_shr(wasm_i16x8_mul(wasm_i16x8_splat((int16_t)b->scales_h),
                                                        wasm_i16x8_const(16384, 4096, 1024, 256, 64, 16, 4, 1)), 14);
        /* one scale per 32 elements, lane ib */
        o->sc16[0] = wasm_i16x8_sub(wasm_v128_or(wasm_u16x8_shr(lo, 4), wasm_i16x8_shl(hi, 4)), wasm_i16x8_const_splat(32));
        ks_halves(x, false, &o->d, NULL);
        break;
    }
    }
    o->x = x;
    if (!o->lazy)
        for (int c8 = 0; c8 < 8; c8++) ks_dec_chunk(ty, o, c8, o->w + 4 * c8);
}

/* A token's super-block: widened codes, the block (d, bsums). */
typedef struct {
    const v128_t *y;
    const block_q8_K *q;
} ks_act;

/* The integer sums of a weight super-block with a token's, in the groups
 * the float steps take:
 *   Q4_K: p[i] (lanes to be added) = sc_2i dot_2i + sc_2i+1 dot_2i+1 of
 *         sub-block pair i, and mins lane i = that pair's m x bsums;
 *   Q5_K, Q6_K, Q3_K, IQ4_XS: lo / hi: lane l / l + 4 of ggml's 8 lanes
 *         (the integer sum S_l, Q6_K's -32 offset included); Q5_K's mins:
 *         lanes to be added;
 *   Q2_K: lo / hi: lanes to be added for each half super-block (128
 *         elements), mins the same for imin (lanes 0-1 / 2-3 of pair sums).
 * fast: only the sum of all lanes of lo + hi counts (Q5_K's all in lo). */
typedef struct {
    v128_t p[4], lo, hi, mins;
} ks_sums;

AI void ks_int_sums(const int ty, const bool fast, const ks_sb *w, const ks_act *a, ks_sums *o) {
    const v128_t *y = a->y;
    const v128_t b0 = wasm_v128_load(a->q->bsums), b1 = wasm_v128_load(a->q->bsums + 8);
    switch (ty) {
    case KS_Q4_K:
    case KS_Q5_K: {
        v128_t lo = wasm_i32x4_splat(0), hi = lo;
        for (int i = 0; i < 4; i++) { /* sub-blocks 2i, 2i + 1 */
            v128_t tmp[8];
            const v128_t *c = w->w + 8 * i;
            if (w->lazy) {
                ks_dec_pair(w->qs, w->qh, i, tmp);
                c = tmp;
            }
            const v128_t *yi = y + 8 * i;
            const v128_t s0 = ks_splat_u8_i32(w->sc, 2 * i), s1 = ks_splat_u8_i32(w->sc, 2 * i + 1);
            if (ty == KS_Q4_K || fast) {
                const v128_t p = wasm_i32x4_add(wasm_i32x4_mul(ks_dot16_32(c, yi), s0), wasm_i32x4_mul(ks_dot16_32(c + 4, yi + 4), s1));
                if (ty == KS_Q4_K) o->p[i] = p;
                else lo = wasm_i32x4_add(lo, p); /* Q5_K fast: only the total */
            } else { /* Q5_K: lane l / l + 4 of ggml's 8 */
                lo = wasm_i32x4_add(lo, wasm_i32x4_add(wasm_i32x4_mul(ks_dot16(c, yi), s0), wasm_i32x4_mul(ks_dot16(c + 4, yi + 4), s1)));
                hi = wasm_i32x4_add(hi, wasm_i32x4_add(wasm_i32x4_mul(ks_dot16(c + 2, yi + 2), s0), wasm_i32x4_mul(ks_dot16(c + 6, yi + 6), s1)));
            }
        }
        o->lo = lo;
        o->hi = hi;
        const v128_t m0 = wasm_i32x4_dot_i16x8(b0, w->m16[0]), m1 = wasm_i32x4_dot_i16x8(b1, w->m16[1]);
        o->mins = ty == KS_Q4_K && !fast ? ks_pair_sums(m0, m1) : wasm_i32x4_add(m0, m1);
        return;
    }
    default: { /* Q2_K, Q3_K, Q6_K, IQ4_XS: scales already in the codes */
        v128_t lo = wasm_i32x4_splat(0), hi = lo;
        for (int c = 0; c < 8; c++) {
            v128_t tmp[4];
            const v128_t *v = w->w + 4 * c;
            if (w->lazy) {
                ks_dec_chunk(ty, w, c, tmp);
                v = tmp;
            }
            if (ty == KS_Q2_K) { /* lo / hi: the two halves (128 elements) */
                const v128_t d = ks_dot16_32(v, y + 4 * c);
                if (c < 4) lo = wasm_i32x4_add(lo, d);
                else hi = wasm_i32x4_add(hi, d);
            } else {
                lo = wasm_i32x4_add(lo, ks_dot16(v, y + 4 * c));
                hi = wasm_i32x4_add(hi, ks_dot16(v + 2, y + 4 * c + 2));
            }
        }
        if (ty == KS_Q2_K) {
            o->lo = lo;
            o->hi = hi;
            o->mins = ks_pair_sums(wasm_i32x4_dot_i16x8(b0, w->m16[0]), wasm_i32x4_dot_i16x8(b1, w->m16[1]));
            return;
        }
        if (ty == KS_Q6_K) { /* ggml's -32: lane l less 32 (bsum_2l sc_2l + bsum_2l+1 sc_2l+1) */
            lo = wasm_i32x4_sub(lo, wasm_i32x4_shl(wasm_i32x4_dot_i16x8(b0, w->m16[0]), 5));
            hi = wasm_i32x4_sub(hi, wasm_i32x4_shl(wasm_i32x4_dot_i16x8(b1, w->m16[1]), 5));
        }
        o->lo = lo;
        o->hi = hi;
        return;
    }
    }
}

/* The tile's tokens' widened codes: made once (rows of at most KS_PRE_NB
 * super-blocks) or per use into scratch. */
typedef struct {
    const block_q8_K *q; /* the tile's first token's row */
    int nb;
    bool pre;
    v128_t *buf; /* pre: [KS_TILE][KS_PRE_NB * 32]; else 32 vectors of scratch */
} ks_tile;

AI void ks_tile_init(ks_tile *t, const void *act, int t0, int nt, int nb, v128_t *buf) {
    t->q = (const block_q8_K *)act + (size_t)t0 * nb;
    t->nb = nb;
    t->pre = nb <= KS_PRE_NB;
    t->buf = buf;
    if (t->pre)
        for (int k = 0; k < nt; k++)
            for (int b = 0; b < nb; b++) ks_widen_act(t->q[(size_t)k * nb + b].qs, buf + ((size_t)k * KS_PRE_NB + b) * 32);
}

AI ks_act ks_tile_act(const ks_tile *t, int k, int b) {
    ks_act a = {.q = &t->q[(size_t)k * t->nb + b]};
    if (t->pre) {
        a.y = t->buf + ((size_t)k * KS_PRE_NB + b) * 32;
    } else {
        ks_widen_act(a.q->qs, t->buf);
        a.y = t->buf;
    }
    return a;
}

/* One output's float state, per token: the exact kernels' f64x2 lanes or
 * the fast ones' f32x4 (quant_k_simd128*.c say which is where). */
#define KS_STATE 5
/* Adds a super-block's sums to st (gemm: the token goes through ggml's
 * 4-token gemm, for Q2_K / Q4_K; panel: IQ4_XS's panel order), and the
 * output of a finished row. */
typedef void (*ks_step_fn)(int ty, bool panel, const ks_sb *w, const ks_act *a, bool gemm, v128_t *st);
typedef float (*ks_finish_fn)(int ty, bool panel, const v128_t *st);

/* Rows [r0, r1) against a tile of NT tokens (a constant: each count gets
 * its own code, the state in locals). */
AI void ks_rows(const int ty, const int NT, ks_step_fn step, ks_finish_fn finish, const uint8_t *w, size_t wrow,
                int r0, int r1, const ks_tile *tile, int t0, int n_gemm, bool panel, float *out, size_t os) {
    const size_t bs = ks_bsize(ty);
    for (int r = r0; r < r1; r++) {
        const uint8_t *x = w + (size_t)r * wrow;
        v128_t st[KS_TILE][KS_STATE];
        for (int k = 0; k < NT; k++)
            for (int i = 0; i < KS_STATE; i++) st[k][i] = wasm_i64x2_const_splat(0);
        for (int b = 0; b < tile->nb; b++, x += bs) {
            ks_sb sb;
            sb.lazy = NT == 1;
            ks_decode(ty, x, &sb);
            for (int k = 0; k < NT; k++) {
                const ks_act a = ks_tile_act(tile, k, b);
                step(ty, panel, &sb, &a, t0 + k < n_gemm, st[k]);
            }
        }
        for (int k = 0; k < NT; k++) out[(size_t)(t0 + k) * os + (size_t)r] = finish(ty, panel, st[k]);
    }
}

/* out[t*os + r] for r in [r0, r1), t < n_tok: tiles of KS_TILE tokens whose
 * codes are widened once; each row read once per tile, in order (one
 * sequential stream), each super-block decoded once for the tile's tokens.
 * step and finish: constants, inlined. */
AI void ks_matmul(const int ty, ks_step_fn step, ks_finish_fn finish, const void *w, int n, int r0, int r1,
                  const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K, n_gemm = n_tok - n_tok % 4;
    const size_t wrow = (size_t)nb * ks_bsize(ty);
    const bool panel = ty == KS_IQ4_XS && n_tok >= LOWBIT_IQ4_XS_PANEL_MIN;
    v128_t buf[KS_TILE * KS_PRE_NB * 32];
    for (int t0 = 0; t0 < n_tok; t0 += KS_TILE) {
        const int nt = n_tok - t0 < KS_TILE ? n_tok - t0 : KS_TILE;
        ks_tile tile;
        ks_tile_init(&tile, act, t0, nt, nb, buf);
        switch (nt) {
        case 1: ks_rows(ty, 1, step, finish, w, wrow, r0, r1, &tile, t0, n_gemm, panel, out, os); break;
        case 2: ks_rows(ty, 2, step, finish, w, wrow, r0, r1, &tile, t0, n_gemm, panel, out, os); break;
        case 3: ks_rows(ty, 3, step, finish, w, wrow, r0, r1, &tile, t0, n_gemm, panel, out, os); break;
        default: ks_rows(ty, KS_TILE, step, finish, w, wrow, r0, r1, &tile, t0, n_gemm, panel, out, os); break;
        }
    }
}

#endif
