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
 * same order (kq_widen_act). i32x4.dot_i16x8_s of the even vectors plus that
 * of the odd ones leaves in lane k the sum of elements 4k..4k+3: exactly the
 * 4-element groups of ggml's 8 float lanes (kq_dot16), so the exact kernels
 * need no shuffles either. */
#ifndef HEARTH_QUANT_K_SIMD128_H
#define HEARTH_QUANT_K_SIMD128_H

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

/* A decoded weight super-block. */
typedef struct {
    v128_t w[32]; /* codes as i16 (w[2s], w[2s+1]: even, odd elements of 16s..16s+15);
                   * Q2_K, Q3_K, Q6_K: already times their 16-element scale */
    v128_t m16[2]; /* Q4_K, Q5_K: the 8 mins, each in two i16 lanes (one per bsum);
                    * Q2_K: its 16 mins; Q6_K: its 16 scales (for ggml's -32) */
    int32_t sc[8]; /* Q4_K, Q5_K, IQ4_XS: the scales of the 8 sub-blocks of 32 */
    float d, dmin;
} ks_sb;

/* Q4_K / Q5_K nibbles: qs byte 32p + l holds element l of sub-blocks 2p
 * (low nibble) and 2p + 1 (high). */
AI void ks_dec_nibbles(const uint8_t *qs, v128_t *w) {
    const v128_t m = wasm_i16x8_const_splat(0x0f);
    for (int p = 0; p < 4; p++)
        for (int h = 0; h < 2; h++) {
            const v128_t a = wasm_v128_load(qs + 32 * p + 16 * h);
            v128_t *lo = w + 2 * (4 * p + h), *hi = w + 2 * (4 * p + 2 + h);
            lo[0] = wasm_v128_and(a, m);
            lo[1] = wasm_v128_and(wasm_u16x8_shr(a, 8), m);
            hi[0] = wasm_v128_and(wasm_u16x8_shr(a, 4), m);
            hi[1] = wasm_u16x8_shr(a, 12);
        }
}

/* The 6-bit scales and mins of Q4_K / Q5_K (quant_k.h's kq_scales_mins). */
AI void ks_dec_scales_mins(const uint8_t *p, ks_sb *o) {
    uint8_t sc[8], m[8];
    kq_scales_mins(p, sc, m);
    for (int j = 0; j < 8; j++) o->sc[j] = sc[j];
    o->m16[0] = wasm_i16x8_make(m[0], m[0], m[1], m[1], m[2], m[2], m[3], m[3]);
    o->m16[1] = wasm_i16x8_make(m[4], m[4], m[5], m[5], m[6], m[6], m[7], m[7]);
}

/* Q2_K / Q3_K: element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l];
 * Q3_K adds 4 where bit 4h + j of hmask[l] is set, then subtracts 4. Each
 * code is multiplied by its 16-element scale (sc). */
AI void ks_dec_2bit(const uint8_t *qs, const uint8_t *hmask, const int16_t *sc, v128_t *w) {
    const v128_t m3 = wasm_i16x8_const_splat(3), m4 = wasm_i16x8_const_splat(4);
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int half = 0; half < 2; half++) {
                const int s = 8 * h + 2 * j + half;
                const v128_t q = wasm_v128_load(qs + 32 * h + 16 * half);
                v128_t e = wasm_v128_and(wasm_u16x8_shr(q, (uint32_t)(2 * j)), m3);
                v128_t o = wasm_v128_and(wasm_u16x8_shr(q, (uint32_t)(2 * j + 8)), m3);
                if (hmask) {
                    const v128_t hm = wasm_v128_load(hmask + 16 * half);
                    const int bit = 4 * h + j;
                    e = wasm_i16x8_sub(wasm_v128_or(e, wasm_v128_and(ks_shift16(hm, 2 - bit), m4)), m4);
                    o = wasm_i16x8_sub(wasm_v128_or(o, wasm_v128_and(ks_shift16(hm, 2 - bit - 8), m4)), m4);
                }
                const v128_t scv = wasm_i16x8_splat(sc[s]);
                w[2 * s] = wasm_i16x8_mul(e, scv);
                w[2 * s + 1] = wasm_i16x8_mul(o, scv);
            }
}

AI void ks_decode(const int ty, const uint8_t *x, ks_sb *o) {
    switch (ty) {
    case KS_Q4_K:
    case KS_Q5_K: {
        const block_q4_K *h = (const block_q4_K *)x;
        ks_dec_scales_mins(h->scales, o);
        o->d = ggml_fp16_to_fp32(h->d);
        o->dmin = ggml_fp16_to_fp32(h->dmin);
        ks_dec_nibbles(x + (ty == KS_Q5_K ? KQ5_QS : KQ4_QS), o->w);
        if (ty == KS_Q5_K) { /* bit j of qh[l]: the fifth bit (0x10) of element l of sub-block j */
            const v128_t x10 = wasm_i16x8_const_splat(0x10);
            for (int half = 0; half < 2; half++) {
                const v128_t qh = wasm_v128_load(x + KQ5_QH + 16 * half);
                for (int j = 0; j < 8; j++) {
                    v128_t *v = o->w + 2 * (2 * j + half);
                    v[0] = wasm_v128_or(v[0], wasm_v128_and(ks_shift16(qh, 4 - j), x10));
                    v[1] = wasm_v128_or(v[1], wasm_v128_and(wasm_u16x8_shr(qh, (uint32_t)(j + 4)), x10));
                }
            }
        }
        return;
    }
    case KS_Q6_K: { /* quant_k_scalar.c's q6_code: ql nibbles, qh bit pairs; codes 0..63 */
        const block_q6_K *b = (const block_q6_K *)x;
        const v128_t m = wasm_i16x8_const_splat(0x0f), m30 = wasm_i16x8_const_splat(0x30);
        const v128_t s8 = wasm_v128_load(b->scales);
        o->m16[0] = wasm_i16x8_extend_low_i8x16(s8);
        o->m16[1] = wasm_i16x8_extend_high_i8x16(s8);
        for (int c8 = 0; c8 < 8; c8++) {
            const int h = c8 / 4, c = c8 % 4;
            for (int half = 0; half < 2; half++) {
                const int s = 2 * c8 + half;
                const v128_t l = wasm_v128_load(b->ql + 64 * h + 32 * (c & 1) + 16 * half);
                const v128_t q = wasm_v128_load(b->qh + 32 * h + 16 * half);
                const v128_t e = wasm_v128_or(wasm_v128_and(c & 2 ? wasm_u16x8_shr(l, 4) : l, m),
                                              wasm_v128_and(ks_shift16(q, 4 - 2 * c), m30));
                const v128_t od = wasm_v128_or(c & 2 ? wasm_u16x8_shr(l, 12) : wasm_v128_and(wasm_u16x8_shr(l, 8), m),
                                               wasm_v128_and(wasm_u16x8_shr(q, (uint32_t)(2 * c + 4)), m30));
                const v128_t scv = wasm_i16x8_splat(b->scales[s]);
                o->w[2 * s] = wasm_i16x8_mul(e, scv);
                o->w[2 * s + 1] = wasm_i16x8_mul(od, scv);
            }
        }
        o->d = ggml_fp16_to_fp32(b->d);
        return;
    }
    case KS_Q2_K: {
        const block_q2_K *b = (const block_q2_K *)x;
        int16_t sc[16], mn[16];
        for (int s = 0; s < 16; s++) {
            sc[s] = b->scales[s] & 0x0f;
            mn[s] = b->scales[s] >> 4;
        }
        o->m16[0] = wasm_v128_load(mn);
        o->m16[1] = wasm_v128_load(mn + 8);
        ks_dec_2bit(b->qs, NULL, sc, o->w);
        o->d = ggml_fp16_to_fp32(b->d);
        o->dmin = ggml_fp16_to_fp32(b->dmin);
        return;
    }
    case KS_Q3_K: {
        const block_q3_K *b = (const block_q3_K *)x;
        int8_t sc8[16];
        int16_t sc[16];
        q3_K_scales(b->scales, sc8);
        for (int s = 0; s < 16; s++) sc[s] = sc8[s];
        ks_dec_2bit(b->qs, b->hmask, sc, o->w);
        o->d = ggml_fp16_to_fp32(b->d);
        return;
    }
    default: { /* IQ4_XS: sub-block ib's elements j, j + 16 index the code book by qs[16ib + j]'s nibbles */
        const block_iq4_xs *b = (const block_iq4_xs *)x;
        const v128_t book = wasm_v128_load(kvalues_iq4nl), m = wasm_i8x16_const_splat(0x0f);
        for (int ib = 0; ib < 8; ib++) {
            const v128_t q = wasm_v128_load(b->qs + 16 * ib);
            ks_even_odd_i8(wasm_i8x16_swizzle(book, wasm_v128_and(q, m)), o->w + 4 * ib);
            ks_even_odd_i8(wasm_i8x16_swizzle(book, wasm_v128_and(wasm_u16x8_shr(q, 4), m)), o->w + 4 * ib + 2);
            o->sc[ib] = iq4_xs_scale(b, ib);
        }
        o->d = ggml_fp16_to_fp32(b->d);
        return;
    }
    }
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
 *         (the integer sum S_l, Q6_K's -32 offset included); Q5_K's mins
 *         as two vectors of partial sums (mins: lanes to be added);
 *   Q2_K: lo / hi: lanes to be added for each half super-block (128
 *         elements), mins the same for imin (lanes 0-1 / 2-3 of pair sums). */
typedef struct {
    v128_t p[4], lo, hi, mins;
} ks_sums;

AI void ks_int_sums(const int ty, const ks_sb *w, const ks_act *a, ks_sums *o) {
    const v128_t *y = a->y;
    const v128_t b0 = wasm_v128_load(a->q->bsums), b1 = wasm_v128_load(a->q->bsums + 8);
    switch (ty) {
    case KS_Q4_K:
        for (int i = 0; i < 4; i++) {
            const v128_t d0 = wasm_i32x4_add(ks_dot16(w->w + 8 * i, y + 8 * i), ks_dot16(w->w + 8 * i + 2, y + 8 * i + 2));
            const v128_t d1 = wasm_i32x4_add(ks_dot16(w->w + 8 * i + 4, y + 8 * i + 4), ks_dot16(w->w + 8 * i + 6, y + 8 * i + 6));
            o->p[i] = wasm_i32x4_add(wasm_i32x4_mul(d0, wasm_i32x4_splat(w->sc[2 * i])),
                                     wasm_i32x4_mul(d1, wasm_i32x4_splat(w->sc[2 * i + 1])));
        }
        o->mins = ks_pair_sums(wasm_i32x4_dot_i16x8(b0, w->m16[0]), wasm_i32x4_dot_i16x8(b1, w->m16[1]));
        return;
    case KS_Q5_K:
    case KS_IQ4_XS: {
        v128_t lo = wasm_i32x4_splat(0), hi = lo;
        for (int j = 0; j < 8; j++) {
            const v128_t scv = wasm_i32x4_splat(w->sc[j]);
            lo = wasm_i32x4_add(lo, wasm_i32x4_mul(ks_dot16(w->w + 4 * j, y + 4 * j), scv));
            hi = wasm_i32x4_add(hi, wasm_i32x4_mul(ks_dot16(w->w + 4 * j + 2, y + 4 * j + 2), scv));
        }
        o->lo = lo;
        o->hi = hi;
        if (ty == KS_Q5_K) o->mins = wasm_i32x4_add(wasm_i32x4_dot_i16x8(b0, w->m16[0]), wasm_i32x4_dot_i16x8(b1, w->m16[1]));
        return;
    }
    case KS_Q2_K: {
        v128_t s[2];
        for (int h = 0; h < 2; h++) {
            v128_t a0 = ks_dot16(w->w + 16 * h, y + 16 * h), a1 = ks_dot16(w->w + 16 * h + 2, y + 16 * h + 2);
            for (int i = 4; i < 16; i += 4) {
                a0 = wasm_i32x4_add(a0, ks_dot16(w->w + 16 * h + i, y + 16 * h + i));
                a1 = wasm_i32x4_add(a1, ks_dot16(w->w + 16 * h + i + 2, y + 16 * h + i + 2));
            }
            s[h] = wasm_i32x4_add(a0, a1);
        }
        o->lo = s[0];
        o->hi = s[1];
        o->mins = ks_pair_sums(wasm_i32x4_dot_i16x8(b0, w->m16[0]), wasm_i32x4_dot_i16x8(b1, w->m16[1]));
        return;
    }
    default: { /* Q3_K, Q6_K: scales already in the codes */
        v128_t lo = ks_dot16(w->w, y), hi = ks_dot16(w->w + 2, y + 2);
        for (int c = 1; c < 8; c++) {
            lo = wasm_i32x4_add(lo, ks_dot16(w->w + 4 * c, y + 4 * c));
            hi = wasm_i32x4_add(hi, ks_dot16(w->w + 4 * c + 2, y + 4 * c + 2));
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

/* out[t*os + r] for r in [r0, r1), t < n_tok: tiles of KS_TILE tokens whose
 * codes are widened once; each row read once per tile, in order (one
 * sequential stream), each super-block decoded once for the tile's tokens.
 * step and finish: constants, inlined. */
AI void ks_matmul(const int ty, ks_step_fn step, ks_finish_fn finish, const void *w, int n, int r0, int r1,
                  const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K, n_gemm = n_tok - n_tok % 4;
    const size_t bs = ks_bsize(ty), wrow = (size_t)nb * bs;
    const bool panel = ty == KS_IQ4_XS && n_tok >= LOWBIT_IQ4_XS_PANEL_MIN;
    v128_t buf[KS_TILE * KS_PRE_NB * 32];
    for (int t0 = 0; t0 < n_tok; t0 += KS_TILE) {
        const int nt = n_tok - t0 < KS_TILE ? n_tok - t0 : KS_TILE;
        ks_tile tile;
        ks_tile_init(&tile, act, t0, nt, nb, buf);
        for (int r = r0; r < r1; r++) {
            const uint8_t *x = (const uint8_t *)w + (size_t)r * wrow;
            v128_t st[KS_TILE][KS_STATE];
            for (int k = 0; k < nt; k++)
                for (int i = 0; i < KS_STATE; i++) st[k][i] = wasm_i64x2_const_splat(0);
            for (int b = 0; b < nb; b++, x += bs) {
                ks_sb sb;
                ks_decode(ty, x, &sb);
                for (int k = 0; k < nt; k++) {
                    const ks_act a = ks_tile_act(&tile, k, b);
                    step(ty, panel, &sb, &a, t0 + k < n_gemm, st[k]);
                }
            }
            for (int k = 0; k < nt; k++) out[(size_t)(t0 + k) * os + (size_t)r] = finish(ty, panel, st[k]);
        }
    }
}

#endif
