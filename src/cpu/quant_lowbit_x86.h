/* x86 SIMD bodies of the Q2_K, Q3_K, IQ4_NL and IQ4_XS products, shared by
 * quant_lowbit_avx2.c and quant_lowbit_avx512.c (each includes it once
 * with its instruction set: LB_512 is the AVX512-VNNI build). Not a public
 * header: it defines static functions. Orders and their ggml sources:
 * quant_lowbit.h; the bits equal quant_lowbit_scalar.c's.
 *
 * K types (Q2_K, Q3_K, IQ4_XS), decode and Q3_K's (and IQ4_XS's 4-7 token)
 * prefill: rows are taken as ggml's vec_dot takes them, 32 elements per
 * 256-bit chunk (chunk pairs in 512-bit registers), so that 32-bit lane l
 * of an integer dot holds ggml's lane l (elements 4l..4l+3 of each 32):
 * maddubs of codes (|code|, the code's sign moved onto the activation, for
 * signed types) then madd with the int16 scales of the two 16-element
 * sub-blocks. Decode streams rows with each super-block in registers;
 * prefill decodes LB_ROWS rows' super-block once for a chunk of tokens.
 *
 * Q2_K from 4 tokens and IQ4_XS from 8 (one float chain per row): 8-row
 * transposed super-block tiles (lb_matmul_tiles).
 *
 * IQ4_NL: Q4_0's transposed tiles (quant_simd_x86.h, quant_avx512.c):
 * lane i is row i, code bytes from the code book by one byte shuffle; 8
 * rows, 16 for prefill at the AVX-512 level. */
#ifndef HEARTH_QUANT_LOWBIT_X86_H
#define HEARTH_QUANT_LOWBIT_X86_H

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "model/ggml_types.h"
#include "quant_lowbit.h"

#define LB_AI static inline __attribute__((always_inline))

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__) && !defined(LB_NO_512)
#define LB_512 1
#else
#define LB_512 0
#endif

enum { LB_Q2_K, LB_Q3_K, LB_IQ4_XS };
/* Float orders of a K-type product (quant_lowbit.h). */
enum { ORD_LANES, ORD_SUPER, ORD_Q2_K };

#define LB_ROWS 4    /* rows decoded together */
#define LB_CHUNK 64  /* tokens whose accumulators stay in L1 */
#define LB_PF_ROWS 4 /* decode prefetches the row this far ahead */

/* ---------------- K types: one decoded super-block of one row ---------------- */

/* A super-block decoded (8 chunks of 32 elements). */
typedef struct {
    __m256i w[8]; /* chunk c (elements 32c..32c+31): Q2_K codes, else |code| */
    __m256i s[8]; /* signed types: the codes, whose signs go onto the activations */
    __m256i sc16; /* int16 sub-block scales: the even sub-blocks' in the low half, the odd ones' in the high */
    __m256i mn;   /* Q2_K: the 16 sub-block mins as int16 */
    float d, dmin;
} kdec;

/* The same as the dots take it, scales spread to the elements' 16-bit
 * pairs. AVX-512 holds chunk pairs in one register and the codes' signs as
 * a mask: it has no vpsignb, so the activations are negated under the mask
 * instead (where a code is 0 its |code| is too, and the activation there
 * does not matter). */
typedef struct {
#if LB_512
    __m512i w[4], sc[4];
    __mmask64 neg[4];
#else
    __m256i w[8], s[8], sc[8]; /* sc[c]: sub-block 2c's scale in the low half, 2c + 1's in the high */
#endif
    __m256i mn;
    float d, dmin;
} ksb;

/* 16 scale bytes, even sub-blocks first. */
LB_AI __m128i lb_even_odd(__m128i b) {
    return _mm_shuffle_epi8(b, _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
}

LB_AI float lb_h2f(ggml_half h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

/* codes false: the scales and d alone (the AVX-512 level decodes codes in
 * its own registers). */
LB_AI void dec_q2_K_x86(const block_q2_K *x, kdec *o, const bool codes) {
    const __m256i m3 = _mm256_set1_epi8(3);
#pragma GCC unroll 2
    for (int h = 0; h < 2 * codes; h++) {
        const __m256i bits = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * h));
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) o->w[4 * h + j] = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), m3);
    }
    const __m128i sm = _mm_loadu_si128((const __m128i *)x->scales);
    o->mn = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), _mm_set1_epi8(0x0f)));
    o->sc16 = _mm256_cvtepu8_epi16(lb_even_odd(_mm_and_si128(sm, _mm_set1_epi8(0x0f))));
    o->d = lb_h2f(x->d);
    o->dmin = lb_h2f(x->dmin);
}

LB_AI void dec_q3_K_x86(const block_q3_K *x, kdec *o, const bool codes) {
    const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    const __m256i hm = _mm256_loadu_si256((const __m256i *)x->hmask);
#pragma GCC unroll 2
    for (int h = 0; h < 2 * codes; h++) {
        const __m256i bits = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * h));
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const __m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + j)));
            const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit);
            const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), m3);
            const __m256i q = _mm256_sub_epi8(lo, _mm256_andnot_si256(set, four)); /* clear bit: -4 */
            o->s[4 * h + j] = q;
            o->w[4 * h + j] = _mm256_abs_epi8(q);
        }
    }
    /* q3_K_scales on 32-bit words (as ggml's AVX2 code) */
    uint32_t a[3];
    memcpy(a, x->scales, 12);
    const uint32_t k2 = 0x0f0f0f0fu, k1 = 0x03030303u;
    const __m128i sc8 = _mm_sub_epi8(_mm_setr_epi32((int)((a[0] & k2) | ((a[2] & k1) << 4)),
                                                    (int)((a[1] & k2) | (((a[2] >> 2) & k1) << 4)),
                                                    (int)(((a[0] >> 4) & k2) | (((a[2] >> 4) & k1) << 4)),
                                                    (int)(((a[1] >> 4) & k2) | (((a[2] >> 6) & k1) << 4))),
                                     _mm_set1_epi8(32));
    o->sc16 = _mm256_cvtepi8_epi16(lb_even_odd(sc8));
    o->mn = _mm256_setzero_si256();
    o->d = lb_h2f(x->d);
    o->dmin = 0.0f;
}

LB_AI void dec_iq4_xs_x86(const block_iq4_xs *x, kdec *o, const bool codes) {
    const __m128i book = _mm_loadu_si128((const __m128i *)kvalues_iq4nl), m4 = _mm_set1_epi8(0x0f);
#pragma GCC unroll 8
    for (int c = 0; c < 8 * codes; c++) {
        const __m128i b = _mm_loadu_si128((const __m128i *)(x->qs + 16 * c));
        const __m256i q = _mm256_setr_m128i(_mm_shuffle_epi8(book, _mm_and_si128(b, m4)),
                                            _mm_shuffle_epi8(book, _mm_and_si128(_mm_srli_epi16(b, 4), m4)));
        o->s[c] = q;
        o->w[c] = _mm256_abs_epi8(q);
    }
    /* iq4_xs_scale for the 8 sub-blocks at once: 32-bit lane ib gets nibble
     * ib of scales_l and bits 2ib, 2ib+1 of scales_h, minus 32, as the int16
     * pair (2ib, 2ib+1) of the sub-blocks of 16 */
    uint32_t l;
    memcpy(&l, x->scales_l, 4);
    const __m256i lo = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)l), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                                        _mm256_set1_epi32(0x0f));
    const __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(x->scales_h), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
                                        _mm256_set1_epi32(3));
    const __m256i ls = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(32));
    /* sub-blocks 2ib and 2ib + 1 both take ls[ib]: ls0..7 in each half */
    o->sc16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(ls, ls), 0x88);
    o->mn = _mm256_setzero_si256();
    o->d = lb_h2f(x->d);
    o->dmin = 0.0f;
}

LB_AI size_t lb_bsize(int ty) {
    return ty == LB_Q2_K ? sizeof(block_q2_K) : ty == LB_Q3_K ? sizeof(block_q3_K) : sizeof(block_iq4_xs);
}

#if LB_512
/* 32 bytes at p in both 256-bit halves. */
LB_AI __m512i lb_dup256(const uint8_t *p) {
    return _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)p));
}
/* Per 16-bit element shift counts: s0 in the low 256 bits, s1 in the high. */
LB_AI __m512i lb_cnt2(int s0, int s1) {
    return _mm512_inserti64x4(_mm512_set1_epi16((short)s0), _mm256_set1_epi16((short)s1), 1);
}
#endif

LB_AI void lb_decode(int ty, const uint8_t *p, ksb *o) {
    kdec k;
#if LB_512
    /* Codes straight into chunk pairs (c = 2 pair, 2 pair + 1): Q2_K's and
     * Q3_K's pair shares a 32-byte qs half at shifts 2j and 2j + 2. */
    switch (ty) {
    case LB_Q2_K: {
        const block_q2_K *x = (const block_q2_K *)p;
        dec_q2_K_x86(x, &k, false);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++)
            o->w[c] = _mm512_and_si512(_mm512_srlv_epi16(lb_dup256(x->qs + 32 * (c / 2)), lb_cnt2(4 * (c % 2), 4 * (c % 2) + 2)),
                                       _mm512_set1_epi8(3));
        break;
    }
    case LB_Q3_K: {
        const block_q3_K *x = (const block_q3_K *)p;
        dec_q3_K_x86(x, &k, false);
        const __m512i hm = lb_dup256(x->hmask), four = _mm512_set1_epi8(4);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const int h = c / 2, j = 2 * (c % 2);
            const __m512i lo = _mm512_and_si512(_mm512_srlv_epi16(lb_dup256(x->qs + 32 * h), lb_cnt2(2 * j, 2 * j + 2)),
                                                _mm512_set1_epi8(3));
            const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (4 * h + j))),
                                                   _mm256_set1_epi8((char)(1 << (4 * h + j + 1))), 1);
            /* high bit clear: the code is lo - 4 < 0, |code| = 4 - lo */
            const __mmask64 clear = _mm512_testn_epi8_mask(hm, bit);
            o->w[c] = _mm512_mask_sub_epi8(lo, clear, four, lo);
            o->neg[c] = clear;
        }
        break;
    }
    default: {
        const block_iq4_xs *x = (const block_iq4_xs *)p;
        dec_iq4_xs_x86(x, &k, false);
        const __m512i book = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)kvalues_iq4nl));
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            /* 128-bit lanes: low nibbles of sub-block 2c's 16 bytes, their high nibbles, then 2c + 1's */
            const __m512i b = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(x->qs + 32 * c)));
            __m512i v = _mm512_shuffle_i64x2(b, b, _MM_SHUFFLE(1, 1, 0, 0));
            v = _mm512_mask_srli_epi16(v, 0xff00ff00u, v, 4);
            const __m512i q = _mm512_shuffle_epi8(book, _mm512_and_si512(v, _mm512_set1_epi8(0x0f)));
            o->w[c] = _mm512_abs_epi8(q);
            o->neg[c] = _mm512_movepi8_mask(q);
        }
        break;
    }
    }
    const __m512i sc16 = _mm512_castsi256_si512(k.sc16);
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        /* 128-bit lane j: sub-block 4c + j, at sc16's word (odd ? 8 : 0) + its half */
        const long long i0 = 2 * c, i1 = 8 + 2 * c, i2 = 2 * c + 1, i3 = 8 + 2 * c + 1, r = 0x0001000100010001ll;
        o->sc[c] = _mm512_permutexvar_epi16(_mm512_set_epi64(r * i3, r * i3, r * i2, r * i2, r * i1, r * i1, r * i0, r * i0), sc16);
    }
#else
    switch (ty) {
    case LB_Q2_K: dec_q2_K_x86((const block_q2_K *)p, &k, true); break;
    case LB_Q3_K: dec_q3_K_x86((const block_q3_K *)p, &k, true); break;
    default: dec_iq4_xs_x86((const block_iq4_xs *)p, &k, true); break;
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) {
        o->w[c] = k.w[c];
        o->s[c] = ty == LB_Q2_K ? _mm256_setzero_si256() : k.s[c]; /* Q2_K's codes are unsigned */
        /* word c of each half: sub-block 2c (evens) low, 2c + 1 (odds) high */
        o->sc[c] = _mm256_shuffle_epi8(k.sc16, _mm256_set1_epi16((short)((2 * c + 1) << 8 | 2 * c)));
    }
#endif
    o->mn = k.mn;
    o->d = k.d;
    o->dmin = k.dmin;
}

/* The exact integer dot of a decoded super-block with an activation block
 * in ggml's 8 lanes (scales applied; Q2_K's mins not). Two accumulators
 * for latency. */
LB_AI __m256i lb_dot(int ty, const ksb *k, const int8_t *y) {
#if LB_512
    __m512i acc[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m512i yv = _mm512_loadu_si512((const void *)(y + 64 * c));
        if (ty != LB_Q2_K) yv = _mm512_mask_sub_epi8(yv, k->neg[c], _mm512_setzero_si512(), yv);
        acc[c % 2] = _mm512_add_epi32(acc[c % 2], _mm512_madd_epi16(_mm512_maddubs_epi16(k->w[c], yv), k->sc[c]));
    }
    acc[0] = _mm512_add_epi32(acc[0], acc[1]);
    return _mm256_add_epi32(_mm512_castsi512_si256(acc[0]), _mm512_extracti64x4_epi64(acc[0], 1));
#else
    __m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) {
        __m256i yv = _mm256_loadu_si256((const __m256i *)(y + 32 * c));
        if (ty != LB_Q2_K) yv = _mm256_sign_epi8(yv, k->s[c]);
        acc[c % 2] = _mm256_add_epi32(acc[c % 2], _mm256_madd_epi16(_mm256_maddubs_epi16(k->w[c], yv), k->sc[c]));
    }
    return _mm256_add_epi32(acc[0], acc[1]);
#endif
}

LB_AI int lb_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/* ggml's hsum_float_8. */
LB_AI float lb_hsum_f32(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* acc += w (u8) . the 4 bytes at p (s8) broadcast, folded into the
 * instruction's memory operand. */
#if LB_512
LB_AI __m256i lb_dpbusd_b(__m256i acc, __m256i w, const int8_t *p) {
    __asm__("vpdpbusd %2%{1to8%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const uint32_t *)(const void *)p));
    return acc;
}
#endif

/* The first cnt of 8 floats. */
LB_AI void lb_store8(float *dst, __m256 v, int cnt) {
    if (cnt == 8) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, v);
    memcpy(dst, tmp, sizeof(float) * (size_t)cnt);
}

/* One output's accumulators: ggml's 8 lanes, or the scalar acc (and
 * Q2_K's accmin). */
typedef union {
    __m256 lanes;
    float f[2];
} lb_acc;

/* acc += row super-block k . activation block y, in order ord. */
LB_AI void lb_step(int ty, int ord, const ksb *k, const block_q8_K *y, lb_acc *acc) {
    const __m256i lo = lb_dot(ty, k, y->qs);
    const float dd = k->d * y->d;
    if (ord == ORD_LANES) {
        acc->lanes = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(lo), acc->lanes);
    } else if (ord == ORD_SUPER) {
        acc->f[0] = fmaf((float)lb_hsum_i32(lo), dd, acc->f[0]);
    } else {
        /* ggml's gemv: once per super-block (prefill takes lb_matmul_tiles) */
        const __m256i mb = _mm256_madd_epi16(k->mn, _mm256_loadu_si256((const __m256i *)y->bsums));
        acc->f[0] = fmaf((float)lb_hsum_i32(lo), dd, acc->f[0]);
        acc->f[1] = fmaf((float)lb_hsum_i32(mb), k->dmin * y->d, acc->f[1]);
    }
}

LB_AI float lb_result(int ord, const lb_acc *acc) {
    return ord == ORD_LANES ? lb_hsum_f32(acc->lanes) : ord == ORD_SUPER ? acc->f[0] : acc->f[0] - acc->f[1];
}

/* r[i] = the sum of v[i]'s 8 lanes. */
LB_AI __m256i lb_hsum8x8(const __m256i *v) {
    const __m256i b0 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i b1 = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(b0, b1, 0x20), _mm256_permute2x128_si256(b0, b1, 0x31));
}

/* Q2_K for NT = 1..3 tokens (ggml's gemv order) 8 rows at a time: each row
 * decoded and dotted alone as in lb_rows_decode, but the horizontal sums
 * and the two fma chains done for the 8 rows at once (lane i = row i). */
LB_AI void lb_q2_K_decode8(const int NT, const void *w, int nb, int r0, int r1, const block_q8_K *a, float *out,
                           size_t os, const uint8_t *wend) {
    const size_t bs = sizeof(block_q2_K), wrow = (size_t)nb * bs;
    for (int rg = r0; rg < r1; rg += 8) {
        const int cnt = r1 - rg < 8 ? r1 - rg : 8;
        const uint8_t *row[8];
        for (int i = 0; i < 8; i++) row[i] = (const uint8_t *)w + (size_t)(rg + (i < cnt ? i : cnt - 1)) * wrow;
        __m256 acc[3], accmin[3];
        for (int t = 0; t < NT; t++) acc[t] = accmin[t] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            __m256i isum[3][8], imin[3][8];
            float d[8], dmin[8];
            for (int i = 0; i < 8; i++) {
                const uint8_t *p = row[i] + (size_t)b * bs, *pf = p + 8 * wrow;
                if (pf + bs <= wend) _mm_prefetch((const char *)pf, _MM_HINT_T0); /* 84 bytes: one or two lines */
                if (pf + bs <= wend) _mm_prefetch((const char *)pf + bs - 1, _MM_HINT_T0);
                ksb k;
                lb_decode(LB_Q2_K, p, &k);
                d[i] = k.d;
                dmin[i] = k.dmin;
#pragma GCC unroll 3
                for (int t = 0; t < NT; t++) {
                    const block_q8_K *y = &a[(size_t)t * nb + b];
                    isum[t][i] = lb_dot(LB_Q2_K, &k, y->qs);
                    imin[t][i] = _mm256_madd_epi16(k.mn, _mm256_loadu_si256((const __m256i *)y->bsums));
                }
            }
            const __m256 dv = _mm256_loadu_ps(d), dmv = _mm256_loadu_ps(dmin);
#pragma GCC unroll 3
            for (int t = 0; t < NT; t++) {
                const __m256 ad = _mm256_set1_ps(a[(size_t)t * nb + b].d);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lb_hsum8x8(isum[t])), _mm256_mul_ps(dv, ad), acc[t]);
                accmin[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lb_hsum8x8(imin[t])), _mm256_mul_ps(dmv, ad), accmin[t]);
            }
        }
        for (int t = 0; t < NT; t++) lb_store8(out + (size_t)t * os + (size_t)rg, _mm256_sub_ps(acc[t], accmin[t]), cnt);
    }
}

/* Rows [r0, r1) for NT = 1..3 tokens. */
LB_AI void lb_rows_decode(int ty, int ord, const int NT, const void *w, int nb, int r0, int r1, const block_q8_K *a,
                          float *out, size_t os, const uint8_t *wend) {
    const size_t bs = lb_bsize(ty), wrow = (size_t)nb * bs;
    for (int r = r0; r < r1; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * wrow;
        lb_acc acc[3];
        memset(acc, 0, sizeof acc);
        for (int b = 0; b < nb; b++) {
            const uint8_t *p = x + (size_t)b * bs, *pf = p + LB_PF_ROWS * wrow;
            if (pf + bs <= wend)
                for (size_t o = 0; o < bs; o += 64) _mm_prefetch((const char *)pf + o, _MM_HINT_T0);
            ksb k;
            lb_decode(ty, p, &k);
#pragma GCC unroll 3
            for (int t = 0; t < NT; t++) lb_step(ty, ord, &k, &a[(size_t)t * nb + b], &acc[t]);
        }
        for (int t = 0; t < NT; t++) out[(size_t)t * os + (size_t)r] = lb_result(ord, &acc[t]);
    }
}

/* Q2_K only for up to 3 tokens (ggml's gemv order). */
LB_AI void matmul_k(int ty, int ord, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                    size_t os) {
    const int nb = n / QK_K;
    const size_t bs = lb_bsize(ty), wrow = (size_t)nb * bs;
    const block_q8_K *a = act;
    const uint8_t *wend = (const uint8_t *)w + (size_t)r1 * wrow;
    if (ty == LB_Q2_K) switch (n_tok) {
        case 1: lb_q2_K_decode8(1, w, nb, r0, r1, a, out, os, wend); return;
        case 2: lb_q2_K_decode8(2, w, nb, r0, r1, a, out, os, wend); return;
        case 3: lb_q2_K_decode8(3, w, nb, r0, r1, a, out, os, wend); return;
        default: break;
        }
    switch (n_tok) { /* decode: rows streamed one by one, each super-block and the accumulators in registers */
    case 1: lb_rows_decode(ty, ord, 1, w, nb, r0, r1, a, out, os, wend); return;
    case 2: lb_rows_decode(ty, ord, 2, w, nb, r0, r1, a, out, os, wend); return;
    case 3: lb_rows_decode(ty, ord, 3, w, nb, r0, r1, a, out, os, wend); return;
    default: break;
    }
    lb_acc acc[LB_CHUNK * LB_ROWS];
    for (int rg = r0; rg < r1; rg += LB_ROWS) {
        const int cnt = r1 - rg < LB_ROWS ? r1 - rg : LB_ROWS;
        const uint8_t *x = (const uint8_t *)w + (size_t)rg * wrow;
        for (int t0 = 0; t0 < n_tok; t0 += LB_CHUNK) {
            const int nt = n_tok - t0 < LB_CHUNK ? n_tok - t0 : LB_CHUNK;
            memset(acc, 0, sizeof acc[0] * (size_t)nt * LB_ROWS);
            for (int b = 0; b < nb; b++) {
                ksb k[LB_ROWS];
                for (int i = 0; i < cnt; i++) {
                    const uint8_t *p = x + (size_t)i * wrow + (size_t)b * bs;
                    /* decode streams rows once: fetch the next group's block */
                    if (p + LB_ROWS * wrow + bs <= wend)
                        for (size_t o = 0; o < bs; o += 64) _mm_prefetch((const char *)p + LB_ROWS * wrow + o, _MM_HINT_T0);
                    lb_decode(ty, p, &k[i]);
                }
                for (int i = 0; i < cnt; i++) {
                    const ksb ki = k[i]; /* a copy nothing aliases: it stays in registers over the tokens */
                    for (int t = 0; t < nt; t++) lb_step(ty, ord, &ki, &a[(size_t)(t0 + t) * nb + b], &acc[t * LB_ROWS + i]);
                }
            }
            for (int t = 0; t < nt; t++)
                for (int i = 0; i < cnt; i++) out[(size_t)(t0 + t) * os + (size_t)(rg + i)] = lb_result(ord, &acc[t * LB_ROWS + i]);
        }
    }
}

/* ---------------- prefill of the one-chain orders ----------------
 * Q2_K and IQ4_XS from 8 tokens on keep one float chain per row (ORD_Q2_K,
 * ORD_SUPER), so 8 rows go in the lanes of one vector, as Q4_0's tiles:
 * a super-block's codes transposed once (lane i = row i) serve every
 * token with one vpdpbusd (AVX2: maddubs) per 4 codes of 8 rows, instead
 * of maddubs, madd and horizontal sums per row and token. Codes are
 * unsigned (IQ4_XS, VNNI level only: + 128, taken back exactly as 128 x
 * the scale-weighted bsums); each sub-block's sum is scaled by a vpmulld
 * (AVX2: Q2_K's four 16-bit products, at most 4 x 762, summed then madd
 * with the scale). */

#define LB_PF_GROUPS 2 /* weight groups of 8 rows prefetched ahead */

typedef struct {
    __m256i w[64]; /* w[m] lane i: unsigned codes of elements 4m..4m+3 of row i */
    __m256i sc[16]; /* sc[s] lane i: row i's scale of sub-block s */
    __m256i sp[8];  /* int16 pair (sub-blocks 2j, 2j+1) per lane: Q2_K's mins, IQ4_XS's scales */
    __m256 d, dmin;
} ktile;

/* 8x8 transpose of 32-bit elements: o[g] lane i = element g of v[i]. */
LB_AI void lb_transpose8(const __m256i *v, __m256i *o) {
    const __m256i a0 = _mm256_unpacklo_epi32(v[0], v[1]), a1 = _mm256_unpackhi_epi32(v[0], v[1]);
    const __m256i a2 = _mm256_unpacklo_epi32(v[2], v[3]), a3 = _mm256_unpackhi_epi32(v[2], v[3]);
    const __m256i a4 = _mm256_unpacklo_epi32(v[4], v[5]), a5 = _mm256_unpackhi_epi32(v[4], v[5]);
    const __m256i a6 = _mm256_unpacklo_epi32(v[6], v[7]), a7 = _mm256_unpackhi_epi32(v[6], v[7]);
    const __m256i b0 = _mm256_unpacklo_epi64(a0, a2), b1 = _mm256_unpackhi_epi64(a0, a2);
    const __m256i b2 = _mm256_unpacklo_epi64(a1, a3), b3 = _mm256_unpackhi_epi64(a1, a3);
    const __m256i b4 = _mm256_unpacklo_epi64(a4, a6), b5 = _mm256_unpackhi_epi64(a4, a6);
    const __m256i b6 = _mm256_unpacklo_epi64(a5, a7), b7 = _mm256_unpackhi_epi64(a5, a7);
    o[0] = _mm256_permute2x128_si256(b0, b4, 0x20);
    o[1] = _mm256_permute2x128_si256(b1, b5, 0x20);
    o[2] = _mm256_permute2x128_si256(b2, b6, 0x20);
    o[3] = _mm256_permute2x128_si256(b3, b7, 0x20);
    o[4] = _mm256_permute2x128_si256(b0, b4, 0x31);
    o[5] = _mm256_permute2x128_si256(b1, b5, 0x31);
    o[6] = _mm256_permute2x128_si256(b2, b6, 0x31);
    o[7] = _mm256_permute2x128_si256(b3, b7, 0x31);
}

/* The 8 rows' super-block (row i at p[i]). */
static void lb_prep_tile(int ty, const uint8_t *const *p, ktile *t) {
    kdec k[8];
    int32_t sc[16][8];
    int16_t sp[8][8][2];
    float d[8], dmin[8];
    for (int i = 0; i < 8; i++) {
        if (ty == LB_Q2_K) {
            const block_q2_K *x = (const block_q2_K *)p[i];
            dec_q2_K_x86(x, &k[i], true);
            for (int s = 0; s < 16; s++) {
                sc[s][i] = x->scales[s] & 0x0f;
                sp[s / 2][i][s % 2] = (int16_t)(x->scales[s] >> 4);
            }
            dmin[i] = k[i].dmin;
        } else {
            const block_iq4_xs *x = (const block_iq4_xs *)p[i];
            dec_iq4_xs_x86(x, &k[i], true);
            for (int ib = 0; ib < 8; ib++) {
                const int ls = iq4_xs_scale(x, ib);
                sc[2 * ib][i] = sc[2 * ib + 1][i] = ls;
                sp[ib][i][0] = sp[ib][i][1] = (int16_t)ls;
            }
            const __m256i off = _mm256_set1_epi8((char)0x80);
            for (int c = 0; c < 8; c++) k[i].w[c] = _mm256_xor_si256(k[i].s[c], off);
            dmin[i] = 0.0f;
        }
        d[i] = k[i].d;
    }
    for (int c = 0; c < 8; c++) {
        __m256i v[8];
        for (int i = 0; i < 8; i++) v[i] = k[i].w[c];
        lb_transpose8(v, t->w + 8 * c);
    }
    for (int s = 0; s < 16; s++) {
        t->sc[s] = _mm256_loadu_si256((const __m256i *)sc[s]);
#if !LB_512
        t->sc[s] = _mm256_or_si256(t->sc[s], _mm256_slli_epi32(t->sc[s], 16)); /* Q2_K's, >= 0: an int16 pair */
#endif
    }
    for (int j = 0; j < 8; j++) t->sp[j] = _mm256_loadu_si256((const __m256i *)sp[j]);
    t->d = _mm256_loadu_ps(d);
    t->dmin = _mm256_loadu_ps(dmin);
}

/* The exact sums of the 8 rows with nt tokens' activation blocks (token k
 * at y[k * ystride]): i[k][0], i[k][1] the halves' scaled sums (IQ4_XS:
 * i[k][0] the whole, offset taken back), m[k][] Q2_K's mins x bsums per
 * half. Sub-block by sub-block, so that its 4 code vectors and scales stay
 * in registers while the tokens pass. */
static void lb_tile_dot(int ty, const ktile *t, const block_q8_K *y, size_t ystride, int nt, __m256i (*i)[2],
                        __m256i (*m)[2]) {
    for (int k = 0; k < nt; k++) i[k][0] = i[k][1] = m[k][0] = m[k][1] = _mm256_setzero_si256();
    for (int s = 0; s < 16; s++) {
        const __m256i w0 = t->w[4 * s], w1 = t->w[4 * s + 1], w2 = t->w[4 * s + 2], w3 = t->w[4 * s + 3], sc = t->sc[s];
        const int h = ty == LB_Q2_K ? s / 8 : 0;
        const int8_t *q = y->qs + 16 * s;
        for (int k = 0; k < nt; k++, q += ystride * sizeof(block_q8_K)) {
#if LB_512
            __m256i c0 = lb_dpbusd_b(_mm256_setzero_si256(), w0, q), c1 = lb_dpbusd_b(_mm256_setzero_si256(), w1, q + 4);
            c0 = lb_dpbusd_b(c0, w2, q + 8);
            c1 = lb_dpbusd_b(c1, w3, q + 12);
            i[k][h] = _mm256_add_epi32(i[k][h], _mm256_mullo_epi32(_mm256_add_epi32(c0, c1), sc));
#else
            int32_t y4[4];
            memcpy(y4, q, 16);
            const __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(w0, _mm256_set1_epi32(y4[0])),
                                                _mm256_maddubs_epi16(w1, _mm256_set1_epi32(y4[1])));
            const __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(w2, _mm256_set1_epi32(y4[2])),
                                                _mm256_maddubs_epi16(w3, _mm256_set1_epi32(y4[3])));
            i[k][h] = _mm256_add_epi32(i[k][h], _mm256_madd_epi16(_mm256_add_epi16(p0, p1), sc));
#endif
        }
    }
    for (int j = 0; j < 8; j++) {
        const __m256i sp = t->sp[j];
        const int h = ty == LB_Q2_K ? j / 4 : 0;
        const block_q8_K *yk = y;
        for (int k = 0; k < nt; k++, yk += ystride) {
            int32_t b2;
            memcpy(&b2, &yk->bsums[2 * j], 4);
            m[k][h] = _mm256_add_epi32(m[k][h], _mm256_madd_epi16(sp, _mm256_set1_epi32(b2)));
        }
    }
    if (ty != LB_Q2_K) /* sum (code + 128) y sc - 128 sum sc bsum */
        for (int k = 0; k < nt; k++) i[k][0] = _mm256_sub_epi32(i[k][0], _mm256_slli_epi32(m[k][0], 7));
}

/* Rows [r0, r1) and n_tok >= 4 tokens in ORD_Q2_K or ORD_SUPER order. */
static void lb_matmul_tiles(int ty, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K, n_gemm = n_tok - n_tok % 4;
    const size_t bs = lb_bsize(ty), wrow = (size_t)nb * bs;
    const block_q8_K *a = act;
    const uint8_t *wend = (const uint8_t *)w + (size_t)r1 * wrow;
    __m256 acc[LB_CHUNK][2];
    __m256i isum[LB_CHUNK][2], msum[LB_CHUNK][2];
    ktile t;
    for (int rg = r0; rg < r1; rg += 8) {
        const int cnt = r1 - rg < 8 ? r1 - rg : 8;
        const uint8_t *row[8];
        for (int i = 0; i < 8; i++) row[i] = (const uint8_t *)w + (size_t)(rg + (i < cnt ? i : cnt - 1)) * wrow;
        const uint8_t *pf = row[0] + LB_PF_GROUPS * 8 * wrow;
        const bool pf_on = pf + 8 * wrow <= wend;
        for (int t0 = 0; t0 < n_tok; t0 += LB_CHUNK) {
            const int nt = n_tok - t0 < LB_CHUNK ? n_tok - t0 : LB_CHUNK;
            memset(acc, 0, sizeof acc[0] * (size_t)nt);
            for (int b = 0; b < nb; b++) {
                if (pf_on && t0 == 0)
                    for (size_t o = 0; o < 8 * bs; o += 64) _mm_prefetch((const char *)pf + 8 * bs * (size_t)b + o, _MM_HINT_T1);
                const uint8_t *p[8];
                for (int i = 0; i < 8; i++) p[i] = row[i] + (size_t)b * bs;
                lb_prep_tile(ty, p, &t);
                lb_tile_dot(ty, &t, &a[(size_t)t0 * nb + b], (size_t)nb, nt, isum, msum);
                for (int k = 0; k < nt; k++) {
                    const __m256 ad = _mm256_set1_ps(a[(size_t)(t0 + k) * nb + b].d), dd = _mm256_mul_ps(t.d, ad);
                    if (ty != LB_Q2_K) {
                        acc[k][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[k][0]), dd, acc[k][0]);
                        continue;
                    }
                    const __m256 dm = _mm256_mul_ps(t.dmin, ad);
                    if (t0 + k < n_gemm) { /* ggml's gemm: per half */
                        acc[k][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[k][0]), dd, acc[k][0]);
                        acc[k][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[k][1]), dd, acc[k][0]);
                        acc[k][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum[k][0]), dm, acc[k][1]);
                        acc[k][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum[k][1]), dm, acc[k][1]);
                    } else {
                        acc[k][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(isum[k][0], isum[k][1])), dd, acc[k][0]);
                        acc[k][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(msum[k][0], msum[k][1])), dm, acc[k][1]);
                    }
                }
            }
            for (int k = 0; k < nt; k++)
                lb_store8(out + (size_t)(t0 + k) * os + (size_t)rg,
                         ty == LB_Q2_K ? _mm256_sub_ps(acc[k][0], acc[k][1]) : acc[k][0], cnt);
        }
    }
}

static void lbx_mm_q2_K(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    if (nt >= 4) {
        lb_matmul_tiles(LB_Q2_K, w, n, r0, r1, a, nt, o, os);
        return;
    }
    matmul_k(LB_Q2_K, ORD_Q2_K, w, n, r0, r1, a, nt, o, os);
}
static void lbx_mm_q3_K(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_k(LB_Q3_K, ORD_LANES, w, n, r0, r1, a, nt, o, os);
}
static void lbx_mm_iq4_xs(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    if (nt >= LOWBIT_IQ4_XS_PANEL_MIN)
#if LB_512
        lb_matmul_tiles(LB_IQ4_XS, w, n, r0, r1, a, nt, o, os);
#else
        matmul_k(LB_IQ4_XS, ORD_SUPER, w, n, r0, r1, a, nt, o, os);
#endif
    else
        matmul_k(LB_IQ4_XS, ORD_LANES, w, n, r0, r1, a, nt, o, os);
}

/* ---------------- IQ4_NL: 8-row transposed tiles ---------------- */

typedef struct {
    __m256i w[8]; /* w[m] lane i: codes of elements 4m..4m+3 of row i (VNNI: + 128; else |code|) */
#if !LB_512
    __m256i sgn[8]; /* the signed codes */
#endif
    __m256 d;
} nltile;

LB_AI uint16_t lb_ld16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* The 8 rows' block b: rows at w + row[i]. */
LB_AI void prep_nl(const uint8_t *const *row, size_t off, nltile *t) {
    __m128i h = _mm_setzero_si128();
#define LB_H(i) h = _mm_insert_epi16(h, lb_ld16(row[i] + off), i)
    LB_H(0); LB_H(1); LB_H(2); LB_H(3); LB_H(4); LB_H(5); LB_H(6); LB_H(7);
#undef LB_H
    t->d = _mm256_cvtph_ps(h);
    __m256i v[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        v[i] = _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)(row[i] + off + 2)),
                                 _mm_loadu_si128((const __m128i *)(row[i + 4] + off + 2)));
    /* 4x4 transpose of 32-bit groups in each half: q[j] lane i = bytes 4j..4j+3 of row i */
    const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
    const __m256i q[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2), _mm256_unpacklo_epi64(t1, t3),
                          _mm256_unpackhi_epi64(t1, t3)};
    /* VNNI: the code book + 128 (x ^ 0x80), unsigned for vpdpbusd */
    const __m256i book = _mm256_xor_si256(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kvalues_iq4nl)),
                                          _mm256_set1_epi8(LB_512 ? (char)0x80 : 0));
    const __m256i m4 = _mm256_set1_epi8(0x0f);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const __m256i lo = _mm256_shuffle_epi8(book, _mm256_and_si256(q[j], m4));
        const __m256i hi = _mm256_shuffle_epi8(book, _mm256_and_si256(_mm256_srli_epi16(q[j], 4), m4));
#if LB_512
        t->w[j] = lo;
        t->w[j + 4] = hi;
#else
        t->sgn[j] = lo;
        t->sgn[j + 4] = hi;
        t->w[j] = _mm256_abs_epi8(lo);
        t->w[j + 4] = _mm256_abs_epi8(hi);
#endif
    }
}


/* The rows' exact block sums with one activation block (codes yq, aux:
 * {f32 d, int32 -8 x the code sum}). */
LB_AI __m256i nl_dot(const nltile *t, const int8_t *yq, const uint8_t *aux) {
#if LB_512
    int32_t bias8;
    memcpy(&bias8, aux + 4, 4);
    __m256i c0 = _mm256_set1_epi32(bias8 * 16), c1 = _mm256_setzero_si256(); /* -128 x the sum */
#pragma GCC unroll 4
    for (int m = 0; m < 8; m += 2) {
        c0 = lb_dpbusd_b(c0, t->w[m], yq + 4 * m);
        c1 = lb_dpbusd_b(c1, t->w[m + 1], yq + 4 * m + 4);
    }
    return _mm256_add_epi32(c0, c1);
#else
    (void)aux;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int m = 0; m < 8; m++) {
        int32_t y4;
        memcpy(&y4, yq + 4 * m, 4);
        const __m256i sy = _mm256_sign_epi8(_mm256_set1_epi32(y4), t->sgn[m]);
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(t->w[m], sy), ones));
    }
    return acc;
#endif
}

LB_AI __m256 nl_acc(const nltile *t, const uint8_t *arow, size_t aux_off, int b, __m256 acc) {
    const uint8_t *aux = arow + aux_off + sizeof(act_aux_q8_0) * (size_t)b;
    float ad;
    memcpy(&ad, aux, 4);
    const __m256i isum = nl_dot(t, (const int8_t *)(arow + sizeof(block_q8_0) * (size_t)b + 2), aux);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(t->d, _mm256_set1_ps(ad)), acc);
}

/* One group of 8 rows (row[i]) against nt tokens' rows from act; NT = 1..3:
 * that many tokens with the accumulators in registers (decode), 0: nt of
 * them in acc. Rows sweep pf (the group two ahead) into L2 when pf_on. */
LB_AI void nl_group(const uint8_t *const *row, int nb, const uint8_t *act, size_t arow, size_t aux_off, const uint8_t *pf,
                    bool pf_on, const int NT, int nt, __m256 *acc) {
    __m256 r[3] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    if (!NT)
        for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        if (pf_on)
            for (size_t o = 0; o < 8 * sizeof(block_iq4_nl); o += 64)
                _mm_prefetch((const char *)pf + 8 * sizeof(block_iq4_nl) * (size_t)b + o, _MM_HINT_T1);
        nltile tl;
        prep_nl(row, sizeof(block_iq4_nl) * (size_t)b, &tl);
        if (NT) {
#pragma GCC unroll 3
            for (int t = 0; t < NT; t++) r[t] = nl_acc(&tl, act + (size_t)t * arow, aux_off, b, r[t]);
        } else {
            for (int t = 0; t < nt; t++) acc[t] = nl_acc(&tl, act + (size_t)t * arow, aux_off, b, acc[t]);
        }
    }
    for (int t = 0; t < NT; t++) acc[t] = r[t];
}

#if LB_512
/* Prefill at the AVX-512 level: Q4_0's 16-row tiles (quant_avx512.c), the
 * same transposition in 512-bit registers, so that every shuffle, scale
 * and accumulate serves 16 rows. */
typedef struct {
    __m512i w[8]; /* w[m] lane i: codes + 128 of elements 4m..4m+3 of row i */
    __m512 d;
} nltile16;

/* 16 bytes at off of rows r, r+4, r+8, r+12, one per 128-bit lane. */
LB_AI __m512i nl_load4x128(const uint8_t *const *row, int r, size_t off) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(row[r] + off)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(row[r + 4] + off)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(row[r + 8] + off)), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(row[r + 12] + off)), 3);
}

LB_AI void prep_nl16(const uint8_t *const *row, size_t off, nltile16 *t) {
    __m128i h0 = _mm_setzero_si128(), h1 = _mm_setzero_si128();
    /* written out: the lane of pinsrw is an immediate even at -O1 */
#define LB_H(i) h0 = _mm_insert_epi16(h0, lb_ld16(row[i] + off), i), h1 = _mm_insert_epi16(h1, lb_ld16(row[(i) + 8] + off), i)
    LB_H(0); LB_H(1); LB_H(2); LB_H(3); LB_H(4); LB_H(5); LB_H(6); LB_H(7);
#undef LB_H
    t->d = _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(h0), h1, 1));
    /* a 4x4 transpose in each 128-bit lane k turns rows {r + 4k} into lanes 4k..4k+3 */
    const __m512i a0 = nl_load4x128(row, 0, off + 2), a1 = nl_load4x128(row, 1, off + 2);
    const __m512i a2 = nl_load4x128(row, 2, off + 2), a3 = nl_load4x128(row, 3, off + 2);
    const __m512i t0 = _mm512_unpacklo_epi32(a0, a1), t1 = _mm512_unpackhi_epi32(a0, a1);
    const __m512i t2 = _mm512_unpacklo_epi32(a2, a3), t3 = _mm512_unpackhi_epi32(a2, a3);
    const __m512i q[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2), _mm512_unpacklo_epi64(t1, t3),
                          _mm512_unpackhi_epi64(t1, t3)};
    const __m512i book = _mm512_xor_si512(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)kvalues_iq4nl)),
                                          _mm512_set1_epi8((char)0x80));
    const __m512i m4 = _mm512_set1_epi8(0x0f);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        t->w[j] = _mm512_shuffle_epi8(book, _mm512_and_si512(q[j], m4));
        t->w[j + 4] = _mm512_shuffle_epi8(book, _mm512_and_si512(_mm512_srli_epi16(q[j], 4), m4));
    }
}

LB_AI __m512 nl_acc16(const nltile16 *t, const uint8_t *arow, size_t aux_off, int b, __m512 acc) {
    const uint8_t *aux = arow + aux_off + sizeof(act_aux_q8_0) * (size_t)b;
    const uint8_t *yq = arow + sizeof(block_q8_0) * (size_t)b + 2;
    float ad;
    int32_t bias8;
    memcpy(&ad, aux, 4);
    memcpy(&bias8, aux + 4, 4);
    __m512i c0 = _mm512_set1_epi32(bias8 * 16), c1 = _mm512_setzero_si512(); /* -128 x the code sum */
#pragma GCC unroll 4
    for (int m = 0; m < 8; m += 2) {
        __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(c0) : "v"(t->w[m]), "m"(*(const uint32_t *)(const void *)(yq + 4 * m)));
        __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(c1) : "v"(t->w[m + 1]), "m"(*(const uint32_t *)(const void *)(yq + 4 * m + 4)));
    }
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(c0, c1)), _mm512_mul_ps(t->d, _mm512_set1_ps(ad)), acc);
}

static void nl_prefill16(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK4_NL;
    const size_t wrow = (size_t)nb * sizeof(block_iq4_nl);
    const size_t arow = kernels_act_row_bytes(GGML_TYPE_IQ4_NL, n), aux_off = kernels_act_aux_offset(n, false);
    __m512 acc[LB_CHUNK];
    for (int rg = r0; rg < r1; rg += 16) {
        const int cnt = r1 - rg < 16 ? r1 - rg : 16;
        const uint8_t *row[16];
        for (int i = 0; i < 16; i++) row[i] = (const uint8_t *)w + (size_t)(rg + (i < cnt ? i : cnt - 1)) * wrow;
        for (int t0 = 0; t0 < n_tok; t0 += LB_CHUNK) {
            const int nt = n_tok - t0 < LB_CHUNK ? n_tok - t0 : LB_CHUNK;
            const uint8_t *a = (const uint8_t *)act + (size_t)t0 * arow;
            for (int t = 0; t < nt; t++) acc[t] = _mm512_setzero_ps();
            for (int b = 0; b < nb; b++) {
                nltile16 tl;
                prep_nl16(row, sizeof(block_iq4_nl) * (size_t)b, &tl);
                for (int t = 0; t < nt; t++) acc[t] = nl_acc16(&tl, a + (size_t)t * arow, aux_off, b, acc[t]);
            }
            for (int t = 0; t < nt; t++)
                _mm512_mask_storeu_ps(out + (size_t)(t0 + t) * os + (size_t)rg, (__mmask16)((1u << cnt) - 1), acc[t]);
        }
    }
}
#endif

static void lbx_mm_iq4_nl(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
#if LB_512
    if (n_tok >= 4) {
        nl_prefill16(w, n, r0, r1, act, n_tok, out, os);
        return;
    }
#endif
    const int nb = n / QK4_NL;
    const size_t wrow = (size_t)nb * sizeof(block_iq4_nl);
    const size_t arow = kernels_act_row_bytes(GGML_TYPE_IQ4_NL, n), aux_off = kernels_act_aux_offset(n, false);
    const uint8_t *wend = (const uint8_t *)w + (size_t)r1 * wrow;
    __m256 acc[LB_CHUNK];
    for (int rg = r0; rg < r1; rg += 8) {
        const int cnt = r1 - rg < 8 ? r1 - rg : 8;
        const uint8_t *row[8];
        for (int i = 0; i < 8; i++) row[i] = (const uint8_t *)w + (size_t)(rg + (i < cnt ? i : cnt - 1)) * wrow;
        /* the group's rows are contiguous: sweep the one two groups ahead into L2 */
        const uint8_t *pf = row[0] + 16 * wrow;
        const bool pf_on = pf + 8 * wrow <= wend;
        for (int t0 = 0; t0 < n_tok; t0 += LB_CHUNK) {
            const int nt = n_tok - t0 < LB_CHUNK ? n_tok - t0 : LB_CHUNK;
            const uint8_t *a = (const uint8_t *)act + (size_t)t0 * arow;
            const bool pf1 = pf_on && t0 == 0;
            switch (nt) {
            case 1: nl_group(row, nb, a, arow, aux_off, pf, pf1, 1, nt, acc); break;
            case 2: nl_group(row, nb, a, arow, aux_off, pf, pf1, 2, nt, acc); break;
            case 3: nl_group(row, nb, a, arow, aux_off, pf, pf1, 3, nt, acc); break;
            default: nl_group(row, nb, a, arow, aux_off, pf, pf1, 0, nt, acc); break;
            }
            for (int t = 0; t < nt; t++) lb_store8(out + (size_t)(t0 + t) * os + (size_t)rg, acc[t], cnt);
        }
    }
}

static void lowbit_x86_fill(hearth_kernels *k) {
    k->quant[KW_IQ4_NL] = k->quant[KW_Q8_0];
    k->matmul[KW_Q2_K] = lbx_mm_q2_K;
    k->matmul[KW_Q3_K] = lbx_mm_q3_K;
    k->matmul[KW_IQ4_XS] = lbx_mm_iq4_xs;
    k->matmul[KW_IQ4_NL] = lbx_mm_iq4_nl;
}

#endif
