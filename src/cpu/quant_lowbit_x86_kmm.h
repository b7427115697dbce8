/* The x86 Q2_K, Q3_K and IQ4_XS products: decode, prefill and the 8-row
 * transposed tiles of the one-chain orders. Part of quant_lowbit_x86.h
 * (included there, after quant_lowbit_x86_kdec.h). */
#ifndef HEARTH_QUANT_LOWBIT_X86_KMM_H
#define HEARTH_QUANT_LOWBIT_X86_KMM_H

/* Float orders of a K-type product (quant_lowbit.h). */
enum { ORD_LANES, ORD_SUPER, ORD_Q2_K };

#define LB_ROWS 4    /* rows decoded together */
#define LB_PF_ROWS 4 /* decode prefetches the row this far ahead */

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

#endif
