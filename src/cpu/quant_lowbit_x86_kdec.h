/* Decoding of Q2_K, Q3_K and IQ4_XS super-blocks for the x86 products and
 * their integer dot with a Q8_K block in ggml's 8 lanes. Part of
 * quant_lowbit_x86.h (included there, after its shared helpers). */
#ifndef HEARTH_QUANT_LOWBIT_X86_KDEC_H
#define HEARTH_QUANT_LOWBIT_X86_KDEC_H

enum { LB_Q2_K, LB_Q3_K, LB_IQ4_XS };

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

#endif
