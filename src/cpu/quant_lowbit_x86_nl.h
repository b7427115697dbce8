/* The x86 IQ4_NL products: Q4_0's transposed tiles with the code book.
 * Part of quant_lowbit_x86.h (included there, after its shared helpers). */
#ifndef HEARTH_QUANT_LOWBIT_X86_NL_H
#define HEARTH_QUANT_LOWBIT_X86_NL_H

typedef struct {
    __m256i w[8]; /* w[m] lane i: codes of elements 4m..4m+3 of row i (VNNI: + 128; else |code|) */
#if !LB_512
    __m256i sgn[8]; /* the signed codes */
#endif
    __m256 d;
} nltile;

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

#endif
