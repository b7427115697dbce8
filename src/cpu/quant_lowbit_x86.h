/* x86 SIMD bodies of the Q2_K, Q3_K, IQ4_NL and IQ4_XS products, shared by
 * quant_lowbit_avx2.c and quant_lowbit_avx512.c (each includes it once
 * with its instruction set; with AVX512-VNNI the IQ4_NL tiles use
 * vpdpbusd, and the K-type super-block dots run on 512-bit registers).
 * Not a public header: it defines static functions. Orders and their ggml
 * sources: quant_lowbit.h; the bits equal quant_lowbit_scalar.c's.
 *
 * K types (Q2_K, Q3_K, IQ4_XS): rows are taken as ggml's vec_dot takes
 * them, 32 elements per 256-bit vector, so that 32-bit lane l of an
 * integer dot holds ggml's lane l (elements 4l..4l+3 of each 32) and
 * needs no transposition: maddubs of codes (|code| with the activation's
 * sign moved onto it for signed types) then madd with the int16 scales of
 * the two 16-element sub-blocks. A group of LB_ROWS rows has its
 * super-block decoded once into registers-sized scratch and used for all
 * tokens of a chunk.
 *
 * IQ4_NL: Q4_0's 8-row transposed tiles (quant_simd_x86.h): lane i is row
 * i, code bytes from the code book by one byte shuffle. */
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

/* ---------------- K types: one decoded super-block of one row ---------------- */

typedef struct {
    __m256i w[8];  /* chunk c (elements 32c..32c+31): Q2_K codes, else |code| */
    __m256i s[8];  /* signed types: the codes, whose signs go onto the activations */
    __m256i sc[8]; /* int16 scales: sub-block 2c in the low half, 2c + 1 in the high */
    __m256i mn;    /* Q2_K: the 16 sub-block mins as int16 */
    float d, dmin;
} ksb;

LB_AI __m256i lb_set_sc(int lo, int hi) {
    return _mm256_setr_m128i(_mm_set1_epi16((short)lo), _mm_set1_epi16((short)hi));
}

LB_AI void dec_q2_K_x86(const block_q2_K *x, ksb *o) {
    const __m256i m3 = _mm256_set1_epi8(3);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i bits = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * h));
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) o->w[4 * h + j] = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), m3);
    }
    const __m128i sm = _mm_loadu_si128((const __m128i *)x->scales);
    o->mn = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), _mm_set1_epi8(0x0f)));
    const __m256i sc = _mm256_cvtepu8_epi16(_mm_and_si128(sm, _mm_set1_epi8(0x0f)));
    /* int16 pair (2c, 2c+1) of sc, each spread over its half */
    const __m256i lo = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3,
                                        2, 3, 2, 3, 2, 3);
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) {
        const __m256i pair = _mm256_permutevar8x32_epi32(sc, _mm256_set1_epi32(c));
        o->sc[c] = _mm256_shuffle_epi8(pair, lo);
    }
    o->d = ggml_fp16_to_fp32(x->d);
    o->dmin = ggml_fp16_to_fp32(x->dmin);
}

LB_AI void dec_q3_K_x86(const block_q3_K *x, ksb *o) {
    const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    const __m256i hm = _mm256_loadu_si256((const __m256i *)x->hmask);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
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
    int8_t sc[16];
    q3_K_scales(x->scales, sc);
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) o->sc[c] = lb_set_sc(sc[2 * c], sc[2 * c + 1]);
    o->d = ggml_fp16_to_fp32(x->d);
}

LB_AI void dec_iq4_xs_x86(const block_iq4_xs *x, ksb *o) {
    const __m128i book = _mm_loadu_si128((const __m128i *)kvalues_iq4nl), m4 = _mm_set1_epi8(0x0f);
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) {
        const __m128i b = _mm_loadu_si128((const __m128i *)(x->qs + 16 * c));
        const __m256i q = _mm256_setr_m128i(_mm_shuffle_epi8(book, _mm_and_si128(b, m4)),
                                            _mm_shuffle_epi8(book, _mm_and_si128(_mm_srli_epi16(b, 4), m4)));
        o->s[c] = q;
        o->w[c] = _mm256_abs_epi8(q);
        const int ls = iq4_xs_scale(x, c);
        o->sc[c] = lb_set_sc(ls, ls);
    }
    o->d = ggml_fp16_to_fp32(x->d);
}

LB_AI size_t lb_bsize(int ty) {
    return ty == LB_Q2_K ? sizeof(block_q2_K) : ty == LB_Q3_K ? sizeof(block_q3_K) : sizeof(block_iq4_xs);
}

LB_AI void lb_decode(int ty, const uint8_t *p, ksb *o) {
    switch (ty) {
    case LB_Q2_K: dec_q2_K_x86((const block_q2_K *)p, o); break;
    case LB_Q3_K: dec_q3_K_x86((const block_q3_K *)p, o); break;
    default: dec_iq4_xs_x86((const block_iq4_xs *)p, o); break;
    }
}

/* The exact integer dot of a decoded super-block with an activation block:
 * ggml's 8 lanes (Q2_K: lo = elements 0..127, hi = 128..255, scales
 * applied, mins not). */
LB_AI __m256i lb_dot(int ty, const ksb *k, const int8_t *y, __m256i *hi) {
#if LB_512
    /* Two chunks per 512-bit register; AVX-512 has no vpsignb, so the
     * activations are negated under the codes' sign mask instead (where a
     * code is 0 its |code| is too, and the activation does not matter). */
    __m512i acc[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 4
    for (int c = 0; c < 8; c += 2) {
        __m512i yv = _mm512_loadu_si512((const void *)(y + 32 * c));
        const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(k->w[c]), k->w[c + 1], 1);
        const __m512i sc = _mm512_inserti64x4(_mm512_castsi256_si512(k->sc[c]), k->sc[c + 1], 1);
        if (ty != LB_Q2_K) {
            const __m512i s = _mm512_inserti64x4(_mm512_castsi256_si512(k->s[c]), k->s[c + 1], 1);
            yv = _mm512_mask_sub_epi8(yv, _mm512_movepi8_mask(s), _mm512_setzero_si512(), yv);
        }
        const __m512i p = _mm512_madd_epi16(_mm512_maddubs_epi16(w, yv), sc);
        acc[ty == LB_Q2_K ? c / 4 : 0] = _mm512_add_epi32(acc[ty == LB_Q2_K ? c / 4 : 0], p);
    }
    const __m256i lo = _mm256_add_epi32(_mm512_castsi512_si256(acc[0]), _mm512_extracti64x4_epi64(acc[0], 1));
    if (ty == LB_Q2_K)
        *hi = _mm256_add_epi32(_mm512_castsi512_si256(acc[1]), _mm512_extracti64x4_epi64(acc[1], 1));
    return lo;
#else
    __m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) {
        __m256i yv = _mm256_loadu_si256((const __m256i *)(y + 32 * c));
        if (ty != LB_Q2_K) yv = _mm256_sign_epi8(yv, k->s[c]);
        const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(k->w[c], yv), k->sc[c]);
        acc[ty == LB_Q2_K ? c / 4 : c % 2] = _mm256_add_epi32(acc[ty == LB_Q2_K ? c / 4 : c % 2], p);
    }
    if (ty == LB_Q2_K) {
        *hi = acc[1];
        return acc[0];
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

/* One output's accumulators: ggml's 8 lanes, or the scalar acc (and
 * Q2_K's accmin). */
typedef union {
    __m256 lanes;
    float f[2];
} lb_acc;

/* acc += row super-block k . activation block y, in order ord; gemm: the
 * token is one of ggml's Q2_K gemm tokens. */
LB_AI void lb_step(int ty, int ord, const ksb *k, const block_q8_K *y, bool gemm, lb_acc *acc) {
    __m256i hi;
    const __m256i lo = lb_dot(ty, k, y->qs, &hi);
    const float dd = k->d * y->d;
    if (ord == ORD_LANES) {
        acc->lanes = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(lo), acc->lanes);
    } else if (ord == ORD_SUPER) {
        acc->f[0] = fmaf((float)lb_hsum_i32(lo), dd, acc->f[0]);
    } else {
        /* mins x bsums: int32 lane j = sub-blocks 2j, 2j+1; half 0 is lanes 0-3 */
        const __m256i mb = _mm256_madd_epi16(k->mn, _mm256_loadu_si256((const __m256i *)y->bsums));
        const __m128i m4 = _mm_hadd_epi32(_mm256_castsi256_si128(mb), _mm256_extracti128_si256(mb, 1));
        const __m128i m2 = _mm_hadd_epi32(m4, m4); /* lanes 0, 1: the halves' sums */
        const int i0 = lb_hsum_i32(lo), i1 = lb_hsum_i32(hi);
        const int n0 = _mm_cvtsi128_si32(m2), n1 = _mm_extract_epi32(m2, 1);
        const float dm = k->dmin * y->d;
        if (gemm) {
            acc->f[0] = fmaf((float)i1, dd, fmaf((float)i0, dd, acc->f[0]));
            acc->f[1] = fmaf((float)n1, dm, fmaf((float)n0, dm, acc->f[1]));
        } else {
            acc->f[0] = fmaf((float)(i0 + i1), dd, acc->f[0]);
            acc->f[1] = fmaf((float)(n0 + n1), dm, acc->f[1]);
        }
    }
}

LB_AI float lb_result(int ord, const lb_acc *acc) {
    return ord == ORD_LANES ? lb_hsum_f32(acc->lanes) : ord == ORD_SUPER ? acc->f[0] : acc->f[0] - acc->f[1];
}

LB_AI void matmul_k(int ty, int ord, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                    size_t os) {
    const int nb = n / QK_K, n_gemm = n_tok - n_tok % 4;
    const size_t bs = lb_bsize(ty), wrow = (size_t)nb * bs;
    const block_q8_K *a = act;
    const uint8_t *wend = (const uint8_t *)w + (size_t)r1 * wrow;
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
                for (int t = 0; t < nt; t++) {
                    const block_q8_K *y = &a[(size_t)(t0 + t) * nb + b];
                    const bool gemm = t0 + t < n_gemm;
                    for (int i = 0; i < cnt; i++) lb_step(ty, ord, &k[i], y, gemm, &acc[t * LB_ROWS + i]);
                }
            }
            for (int t = 0; t < nt; t++)
                for (int i = 0; i < cnt; i++) out[(size_t)(t0 + t) * os + (size_t)(rg + i)] = lb_result(ord, &acc[t * LB_ROWS + i]);
        }
    }
}

static void lbx_mm_q2_K(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_k(LB_Q2_K, ORD_Q2_K, w, n, r0, r1, a, nt, o, os);
}
static void lbx_mm_q3_K(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_k(LB_Q3_K, ORD_LANES, w, n, r0, r1, a, nt, o, os);
}
static void lbx_mm_iq4_xs(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    if (nt >= LOWBIT_IQ4_XS_PANEL_MIN)
        matmul_k(LB_IQ4_XS, ORD_SUPER, w, n, r0, r1, a, nt, o, os);
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
    const __m256i book = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kvalues_iq4nl));
    const __m256i m4 = _mm256_set1_epi8(0x0f);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const __m256i lo = _mm256_shuffle_epi8(book, _mm256_and_si256(q[j], m4));
        const __m256i hi = _mm256_shuffle_epi8(book, _mm256_and_si256(_mm256_srli_epi16(q[j], 4), m4));
#if LB_512
        const __m256i off128 = _mm256_set1_epi8((char)0x80); /* code + 128: unsigned for vpdpbusd */
        t->w[j] = _mm256_xor_si256(lo, off128);
        t->w[j + 4] = _mm256_xor_si256(hi, off128);
#else
        t->sgn[j] = lo;
        t->sgn[j + 4] = hi;
        t->w[j] = _mm256_abs_epi8(lo);
        t->w[j + 4] = _mm256_abs_epi8(hi);
#endif
    }
}

#if LB_512
LB_AI __m256i lb_dpbusd_b(__m256i acc, __m256i w, const int8_t *p) {
    __asm__("vpdpbusd %2%{1to8%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const uint32_t *)(const void *)p));
    return acc;
}
#endif

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

LB_AI void nl_store(float *dst, __m256 v, int cnt) {
    if (cnt == 8) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, v);
    memcpy(dst, tmp, sizeof(float) * (size_t)cnt);
}

static void lbx_mm_iq4_nl(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
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
            for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
            for (int b = 0; b < nb; b++) {
                if (pf_on && t0 == 0)
                    for (size_t o = 0; o < 8 * sizeof(block_iq4_nl); o += 64)
                        _mm_prefetch((const char *)pf + 8 * sizeof(block_iq4_nl) * (size_t)b + o, _MM_HINT_T1);
                nltile tl;
                prep_nl(row, sizeof(block_iq4_nl) * (size_t)b, &tl);
                for (int t = 0; t < nt; t++)
                    acc[t] = nl_acc(&tl, (const uint8_t *)act + (size_t)(t0 + t) * arow, aux_off, b, acc[t]);
            }
            for (int t = 0; t < nt; t++) nl_store(out + (size_t)(t0 + t) * os + (size_t)rg, acc[t], cnt);
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
