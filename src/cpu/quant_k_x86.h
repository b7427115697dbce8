/* x86 bodies of the Q4_K, Q5_K and Q6_K products, shared by
 * quant_k_avx2.c (maddubs/madd) and quant_k_avx512.c (the same with
 * AVX512-VNNI's vpdpbusd / vpdpwssd): each includes this header once with
 * its instruction set enabled. Bit-exact with quant_k_scalar.c (the float
 * orders are quant_k.h's).
 *
 * Q4_K and Q5_K (as quant_simd_x86.h's tiles): 8 weight rows at a time,
 * transposed on the fly so that 32-bit lane i of a vector belongs to row i,
 * vector w[l] of sub-block j holding the 4 codes of its elements 4l..4l+3.
 * A super-block's codes are decoded once per pair of sub-blocks and serve
 * every token of a chunk: multiplying them by a token's broadcast 4-byte
 * groups gives each row's integer sums in its own lane, per sub-block
 * (Q4_K's repack order) or per group of 4 (Q5_K: elements 4l..4l+3 of each
 * sub-block go to ggml's lane l), so the float steps are ggml's,
 * vectorized over rows instead of over lanes.
 * Q6_K: row by row in ggml's own layout (see kq6_row_block). */
#ifndef HEARTH_QUANT_K_X86_H
#define HEARTH_QUANT_K_X86_H

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "model/ggml_types.h"
#include "quant_k.h"

#define KI static inline __attribute__((always_inline))

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && !defined(KQ_NO_VNNI)
#define KQ_VNNI 1
#else
#define KQ_VNNI 0
#endif

enum { KT_Q4, KT_Q5 }; /* the transposed tiles' types (Q6_K goes row by row) */

KI uint32_t kld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
KI float kh2f(ggml_half h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}
KI __m256i kbcast(const void *p) {
    return _mm256_set1_epi32((int)kld32(p));
}

/* The 8 rows of a group: row i's current super-block is at b + o[i]. */
typedef struct {
    const uint8_t *b;
    size_t o[8];
} krows;
#define KP(p, i, off) ((p)->b + (p)->o[i] + (off))

KI __m256i kload2(const uint8_t *lo, const uint8_t *hi) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)lo)),
                                   _mm_loadu_si128((const __m128i *)hi), 1);
}

/* 16 bytes at off of the 8 rows, transposed: o[k] lane i = bytes off+4k..
 * off+4k+3 of row i (a 4x4 transpose of 32-bit words in each half). */
KI void kload_t(const krows *p, size_t off, __m256i *o) {
    const __m256i a0 = kload2(KP(p, 0, off), KP(p, 4, off)), a1 = kload2(KP(p, 1, off), KP(p, 5, off));
    const __m256i a2 = kload2(KP(p, 2, off), KP(p, 6, off)), a3 = kload2(KP(p, 3, off), KP(p, 7, off));
    const __m256i t0 = _mm256_unpacklo_epi32(a0, a1), t1 = _mm256_unpackhi_epi32(a0, a1);
    const __m256i t2 = _mm256_unpacklo_epi32(a2, a3), t3 = _mm256_unpackhi_epi32(a2, a3);
    o[0] = _mm256_unpacklo_epi64(t0, t2);
    o[1] = _mm256_unpackhi_epi64(t0, t2);
    o[2] = _mm256_unpacklo_epi64(t1, t3);
    o[3] = _mm256_unpackhi_epi64(t1, t3);
}

/* Byte shuffle control taking, in every 32-bit lane, bytes b0..b3 of that
 * lane (0x80: zero); constant expressions, so the compiler folds them. */
#define KB_(b, i) ((b) & 0x80 ? 0x80 : (b) + 4 * (i))
#define KW_(b0, b1, b2, b3, i) \
    ((int)((unsigned)KB_(b0, i) | (unsigned)KB_(b1, i) << 8 | (unsigned)KB_(b2, i) << 16 | (unsigned)KB_(b3, i) << 24))
#define kctrl(b0, b1, b2, b3)                                                                                      \
    _mm256_setr_epi32(KW_(b0, b1, b2, b3, 0), KW_(b0, b1, b2, b3, 1), KW_(b0, b1, b2, b3, 2), KW_(b0, b1, b2, b3, 3), \
                      KW_(b0, b1, b2, b3, 0), KW_(b0, b1, b2, b3, 1), KW_(b0, b1, b2, b3, 2), KW_(b0, b1, b2, b3, 3))

/* The scales of one super-block of the 8 rows. */
typedef struct {
    __m256i sc[8]; /* int16 pairs (s, s) of each sub-block's scale; Q4_K with VNNI: the scale as int32 */
    __m256i mp[4]; /* int16 pairs (m_2p, m_2p+1) of the mins */
    __m256i qh[8]; /* Q5_K: qh bytes 4l..4l+3 (the fifth bits), l < 8 */
    __m256 d, dmin;
} kscales;

KI void kscales_make(const int ty, const krows *p, kscales *t) {
    __m256i u4[4];
    kload_t(p, 0, u4); /* {d, dmin}, then scales[0..3], [4..7], [8..11]: ggml's utmp words */
    const __m256i *u = u4 + 1;
    const __m256i m3f = _mm256_set1_epi8(0x3f), m0f = _mm256_set1_epi8(0x0f), m03 = _mm256_set1_epi8(0x03);
    const __m256i sc03 = _mm256_and_si256(u[0], m3f), mn03 = _mm256_and_si256(u[1], m3f);
    const __m256i sc47 = _mm256_or_si256(_mm256_and_si256(u[2], m0f),
                                         _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u[0], 6), m03), 4));
    const __m256i mn47 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u[2], 4), m0f),
                                         _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u[1], 6), m03), 4));
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        const int k = j & 3;
        const __m256i ctrl = (ty == KT_Q4 && KQ_VNNI) ? kctrl(k, 0x80, 0x80, 0x80) : kctrl(k, 0x80, k, 0x80);
        t->sc[j] = _mm256_shuffle_epi8(j < 4 ? sc03 : sc47, ctrl);
    }
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        const int k0 = (2 * q) & 3;
        t->mp[q] = _mm256_shuffle_epi8(q < 2 ? mn03 : mn47, kctrl(k0, 0x80, k0 + 1, 0x80));
    }
    /* the 8 rows' fp16 d (low halves of u4[0]) and dmin (high halves) */
    const __m256i h = _mm256_permute4x64_epi64(
        _mm256_shuffle_epi8(u4[0], _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9,
                                                    12, 13, 2, 3, 6, 7, 10, 11, 14, 15)),
        _MM_SHUFFLE(3, 1, 2, 0));
    t->d = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
    t->dmin = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
    if (ty == KT_Q5) {
        kload_t(p, KQ5_QH, t->qh);
        kload_t(p, KQ5_QH + 16, t->qh + 4);
    }
}

/* Codes of the pair g (0..3) of the 8 rows: w0[l], w1[l] lane i = the 4
 * codes of elements 4l..4l+3 of sub-blocks 2g, 2g+1 of row i. */
KI void kcodes(const int ty, const krows *p, const kscales *sc, int g, __m256i *w0, __m256i *w1) {
    const __m256i lo = _mm256_set1_epi8(0x0f);
    const size_t qs = (ty == KT_Q5 ? KQ5_QS : KQ4_QS) + 32 * (size_t)g;
    const __m256i b10 = _mm256_set1_epi8(0x10);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i v[4];
        kload_t(p, qs + 16 * (size_t)h, v);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            __m256i a = _mm256_and_si256(v[k], lo), b = _mm256_and_si256(_mm256_srli_epi16(v[k], 4), lo);
            if (ty == KT_Q5) {
                /* bit j of qh byte e is the fifth bit of element e of sub-block j: move it to bit 4 */
                const __m256i hb = sc->qh[4 * h + k];
                const int j0 = 2 * g, j1 = 2 * g + 1;
                const __m256i h0 = j0 < 4 ? _mm256_slli_epi32(hb, 4 - j0) : _mm256_srli_epi32(hb, j0 - 4);
                const __m256i h1 = j1 < 4 ? _mm256_slli_epi32(hb, 4 - j1) : _mm256_srli_epi32(hb, j1 - 4);
                a = _mm256_or_si256(a, _mm256_and_si256(h0, b10));
                b = _mm256_or_si256(b, _mm256_and_si256(h1, b10));
            }
            w0[4 * h + k] = a;
            w1[4 * h + k] = b;
        }
    }
}

#if KQ_VNNI
/* acc += w (u8) . broadcast 4 bytes at p (s8), the broadcast folded into
 * the instruction's memory operand (as quant_simd_x86.h's dpbusd_b). */
KI __m256i kdpbusd(__m256i acc, __m256i w, const int8_t *p) {
#if defined(__GNUC__)
    __asm__("vpdpbusd %2%{1to8%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const uint32_t *)(const void *)p));
    return acc;
#else
    return _mm256_dpbusd_epi32(acc, w, kbcast(p));
#endif
}
#endif

/* s + sc * (the int16 pair sums p): exact (|p| <= 2 * 63 * 127). */
KI __m256i kscale_add(__m256i s, __m256i p, __m256i scpair) {
#if KQ_VNNI
    return _mm256_dpwssd_epi32(s, p, scpair);
#else
    return _mm256_add_epi32(s, _mm256_madd_epi16(p, scpair));
#endif
}

/* The int16 pairs (B_2p, B_2p+1) of a token's 32-element sums B_j, one
 * 32-bit lane per p (ggml's hadd of bsums). */
KI __m128i kbsum_pairs(const block_q8_K *y) {
    const __m128i a = _mm_loadu_si128((const __m128i *)y->bsums), b = _mm_loadu_si128((const __m128i *)y->bsums + 1);
    return _mm_hadd_epi16(a, b);
}

#define KQ_ACC 9 /* float vectors of state per token: 8 lanes (Q4_K: acc, accm) + summs */

/* Per-token values of a super-block, computed once for all the tile's steps. */
typedef struct {
    __m256 d, dm;  /* Q4_K: dw*da and dmin*da; Q5_K: da*dw and -da*dmin */
    __m256i pair[4]; /* int16 pairs (B_2p, B_2p+1) of the token's 32-element sums, broadcast */
} ktok;

KI void ktok_make(const int ty, const kscales *t, const block_q8_K *y, ktok *o) {
    const __m256 da = _mm256_set1_ps(y->d);
    if (ty == KT_Q4) {
        o->d = _mm256_mul_ps(t->d, da);
        o->dm = _mm256_mul_ps(t->dmin, da);
    } else {
        o->d = _mm256_mul_ps(da, t->d);
        o->dm = _mm256_mul_ps(_mm256_set1_ps(-y->d), t->dmin);
    }
    const __m128i bp = kbsum_pairs(y);
    o->pair[0] = _mm256_broadcastd_epi32(bp);
    o->pair[1] = _mm256_broadcastd_epi32(_mm_srli_si128(bp, 4));
    o->pair[2] = _mm256_broadcastd_epi32(_mm_srli_si128(bp, 8));
    o->pair[3] = _mm256_broadcastd_epi32(_mm_srli_si128(bp, 12));
}

KI const block_q8_K *knext(const block_q8_K *y, size_t stride) {
    return (const block_q8_K *)(const void *)((const uint8_t *)y + stride);
}

/* Q4_K, one super-block of nt tokens, pair of sub-blocks by pair: the
 * pair's 16 code vectors decoded once and held in registers for all the
 * tokens. ib: per token, the integer sums of a gemv token (2 vectors). */
KI void kq4_block(const krows *p, const kscales *t, const block_q8_K *y, size_t ystride, const ktok *tk,
                  const bool *gemm, int nt, __m256 *acc, __m256i *ib) {
#pragma GCC unroll 1
    for (int q = 0; q < 4; q++) {
        __m256i w0[8], w1[8];
        kcodes(KT_Q4, p, t, q, w0, w1);
        const __m256i sc0 = t->sc[2 * q], sc1 = t->sc[2 * q + 1], mp = t->mp[q];
        const block_q8_K *yt = y;
        for (int k = 0; k < nt; k++, yt = knext(yt, ystride)) {
            const int8_t *yq = yt->qs + 64 * q;
#if KQ_VNNI
            __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256(), b0 = _mm256_setzero_si256(),
                    b1 = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int l = 0; l < 8; l += 2) {
                a0 = kdpbusd(a0, w0[l], yq + 4 * l);
                a1 = kdpbusd(a1, w0[l + 1], yq + 4 * l + 4);
                b0 = kdpbusd(b0, w1[l], yq + 32 + 4 * l);
                b1 = kdpbusd(b1, w1[l + 1], yq + 32 + 4 * l + 4);
            }
            const __m256i s = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_add_epi32(a0, a1), sc0),
                                               _mm256_mullo_epi32(_mm256_add_epi32(b0, b1), sc1));
#else
            /* 16 products of at most 15 * 127 per int16: no overflow */
            __m256i a = _mm256_maddubs_epi16(w0[0], kbcast(yq)), b = _mm256_maddubs_epi16(w1[0], kbcast(yq + 32));
#pragma GCC unroll 7
            for (int l = 1; l < 8; l++) {
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(w0[l], kbcast(yq + 4 * l)));
                b = _mm256_add_epi16(b, _mm256_maddubs_epi16(w1[l], kbcast(yq + 32 + 4 * l)));
            }
            const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(a, sc0), _mm256_madd_epi16(b, sc1));
#endif
            const __m256i m = _mm256_madd_epi16(mp, tk[k].pair[q]);
            if (gemm[k]) {
                acc[KQ_ACC * k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), tk[k].d, acc[KQ_ACC * k]);
                acc[KQ_ACC * k + 1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), tk[k].dm, acc[KQ_ACC * k + 1]);
            } else {
                ib[2 * k] = q ? _mm256_add_epi32(ib[2 * k], s) : s;
                ib[2 * k + 1] = q ? _mm256_add_epi32(ib[2 * k + 1], m) : m;
            }
        }
    }
    for (int k = 0; k < nt; k++)
        if (!gemm[k]) {
            acc[KQ_ACC * k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ib[2 * k]), tk[k].d, acc[KQ_ACC * k]);
            acc[KQ_ACC * k + 1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ib[2 * k + 1]), tk[k].dm, acc[KQ_ACC * k + 1]);
        }
}

KI void kq5_mins(const kscales *t, const ktok *tk, __m256 *acc) {
    __m256i m = _mm256_madd_epi16(t->mp[0], tk->pair[0]);
#pragma GCC unroll 3
    for (int q = 1; q < 4; q++) m = _mm256_add_epi32(m, _mm256_madd_epi16(t->mp[q], tk->pair[q]));
    acc[8] = _mm256_fmadd_ps(tk->dm, _mm256_cvtepi32_ps(m), acc[8]);
}

/* Q5_K, one token (decode): the 8 lane sums in registers while the pairs
 * of sub-blocks are decoded in turn. */
KI void kq5_block1(const krows *p, const kscales *t, const block_q8_K *y, const ktok *tk, __m256 *acc) {
    __m256i s[8];
#pragma GCC unroll 8
    for (int l = 0; l < 8; l++) s[l] = _mm256_setzero_si256();
#pragma GCC unroll 1
    for (int g = 0; g < 4; g++) {
        __m256i w0[8], w1[8];
        kcodes(KT_Q5, p, t, g, w0, w1);
        const __m256i sc0 = t->sc[2 * g], sc1 = t->sc[2 * g + 1];
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++) {
            s[l] = kscale_add(s[l], _mm256_maddubs_epi16(w0[l], kbcast(y->qs + 64 * g + 4 * l)), sc0);
            s[l] = kscale_add(s[l], _mm256_maddubs_epi16(w1[l], kbcast(y->qs + 64 * g + 32 + 4 * l)), sc1);
        }
    }
#pragma GCC unroll 8
    for (int l = 0; l < 8; l++) acc[l] = _mm256_fmadd_ps(tk->d, _mm256_cvtepi32_ps(s[l]), acc[l]);
    kq5_mins(t, tk, acc);
}

/* Q5_K, several tokens: the super-block's codes decoded once into w (8 x 8
 * vectors), then lane by lane, the lane's 8 code vectors and scales in
 * registers for all the tokens. */
KI void kq5_block(const krows *p, const kscales *t, const block_q8_K *y, size_t ystride, const ktok *tk, int nt,
                  __m256 *acc, __m256i (*w)[8]) {
#pragma GCC unroll 1
    for (int g = 0; g < 4; g++) kcodes(KT_Q5, p, t, g, w[2 * g], w[2 * g + 1]);
#pragma GCC unroll 1
    for (int l = 0; l < 8; l++) {
        __m256i wl[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) wl[j] = w[j][l];
        const block_q8_K *yt = y;
        for (int k = 0; k < nt; k++, yt = knext(yt, ystride)) {
            const int8_t *yq = yt->qs + 4 * l;
            __m256i s0 = kscale_add(_mm256_setzero_si256(), _mm256_maddubs_epi16(wl[0], kbcast(yq)), t->sc[0]);
            __m256i s1 = kscale_add(_mm256_setzero_si256(), _mm256_maddubs_epi16(wl[1], kbcast(yq + 32)), t->sc[1]);
#pragma GCC unroll 3
            for (int j = 2; j < 8; j += 2) {
                s0 = kscale_add(s0, _mm256_maddubs_epi16(wl[j], kbcast(yq + 32 * j)), t->sc[j]);
                s1 = kscale_add(s1, _mm256_maddubs_epi16(wl[j + 1], kbcast(yq + 32 * j + 32)), t->sc[j + 1]);
            }
            acc[KQ_ACC * k + l] = _mm256_fmadd_ps(tk[k].d, _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc[KQ_ACC * k + l]);
        }
    }
    for (int k = 0; k < nt; k++) kq5_mins(t, &tk[k], acc + KQ_ACC * k);
}

/* The outputs of a token's state: ggml's hsum_float_8 over the lanes (+ summs), or acc - accm. */
KI __m256 kq_result(const int ty, const __m256 *a) {
    if (ty == KT_Q4) return _mm256_sub_ps(a[0], a[1]);
    const __m256 r = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[4], a[0]), _mm256_add_ps(a[6], a[2])),
                                   _mm256_add_ps(_mm256_add_ps(a[5], a[1]), _mm256_add_ps(a[7], a[3])));
    return _mm256_add_ps(r, a[8]);
}

KI void kstore(float *dst, __m256 v, int cnt) {
    if (cnt == 8) {
        _mm256_storeu_ps(dst, v);
    } else {
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_maskstore_ps(dst, _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), idx), v);
    }
}

KI size_t kq_bsize(const int ty) {
    return ty == KT_Q4 ? sizeof(block_q4_K) : sizeof(block_q5_K);
}

#define KQ_TOK 32     /* tokens whose state stays in L1 (9 KiB) while a row group passes */
#define KQ_ROWBLOCK 64 /* rows whose weights stay in L2 while token chunks pass */

/* Rows [r, r + cnt) (cnt <= 8) for tokens [t0, t0 + nt) of n_tok. */
KI void kq_group(const int ty, const uint8_t *w, size_t wrow, int nb, int cnt, const block_q8_K *act, int t0, int nt,
                 int n_tok, float *out, size_t os, const uint8_t *wend, __m256 *accbuf) {
    krows p;
    p.b = w;
    for (int i = 0; i < 8; i++) p.o[i] = (size_t)(i < cnt ? i : cnt - 1) * wrow;
    const size_t bs = kq_bsize(ty);
    for (int k = 0; k < nt * KQ_ACC; k++) accbuf[k] = _mm256_setzero_ps();
    /* Decode streams each weight once: sweep the rows two groups ahead
     * linearly into L2, in step with this group (quant_simd_x86.h's
     * group_regs says why). */
    const uint8_t *pf = w + 2 * 8 * wrow;
    const bool pf_on = nt <= 3 && pf < wend;
    ktok tk[KQ_TOK];
    bool gemm[KQ_TOK];
    __m256i ib[2 * KQ_TOK], wt[8][8];
    for (int k = 0; k < nt; k++) gemm[k] = ty == KT_Q4 && kq4_gemm_token(t0 + k, n_tok);
    const size_t ystride = (size_t)nb * sizeof(block_q8_K);
    for (int b = 0; b < nb; b++) {
        if (pf_on) {
            for (size_t o = 0; o < 8 * bs; o += 64) _mm_prefetch((const char *)pf + o, _MM_HINT_T1);
            pf += 8 * bs;
        }
        kscales t;
        kscales_make(ty, &p, &t);
        const block_q8_K *y = act + (size_t)t0 * nb + b;
        for (int k = 0; k < nt; k++) ktok_make(ty, &t, knext(y, k * ystride), &tk[k]);
        if (ty == KT_Q4 && nt == 1 && !KQ_VNNI) /* AVX2 decode: a copy compiled for one token, */
            kq4_block(&p, &t, y, ystride, tk, gemm, 1, accbuf, ib); /* 18 -> 22 GB/s (VNNI: 27 -> 22) */
        else if (ty == KT_Q4)
            kq4_block(&p, &t, y, ystride, tk, gemm, nt, accbuf, ib);
        else if (nt == 1)
            kq5_block1(&p, &t, y, tk, accbuf);
        else
            kq5_block(&p, &t, y, ystride, tk, nt, accbuf, wt);
        p.b += bs;
    }
    for (int k = 0; k < nt; k++) kstore(out + (size_t)(t0 + k) * os, kq_result(ty, accbuf + KQ_ACC * k), cnt);
}

/* ---- Q6_K: row by row in ggml's own layout (lane l of a row's vector sums
 * elements 4l..4l+3 of each chunk, as ggml's vec_dot), a row's block
 * decoded once for up to KQ6_NT tokens. Measured faster than the
 * transposed tiles for Q6_K, whose 6-bit codes cost as much to transpose
 * as to multiply; Q4_K and Q5_K stay on the tiles. ---- */

#define KQ6_NT 4

KI __m256i kload256(const void *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}

/* ggml's hsum_float_8. */
KI float khsum8(__m256 v) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

/* One row's block x for NT tokens (y: the first token's block, ystride
 * between tokens): acc[t] += d_t * float(the 8 lane sums, offset corrected). */
KI void kq6_row_block(const int NT, const uint8_t *x, const block_q8_K *y, size_t ystride, __m256 *acc) {
    const block_q6_K *b = (const block_q6_K *)(const void *)x;
    const __m256i lo = _mm256_set1_epi8(0x0f), b30 = _mm256_set1_epi8(0x30);
    const __m128i s8 = _mm_loadu_si128((const __m128i *)(const void *)b->scales);
    __m256i s[KQ6_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) s[t] = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i l1 = kload256(b->ql + 64 * h), l2 = kload256(b->ql + 64 * h + 32), hb = kload256(b->qh + 32 * h);
        __m256i q[4]; /* chunk c of the half: ql low (c < 2) or high nibbles, qh bits 2c, 2c+1 as bits 4, 5 */
        q[0] = _mm256_or_si256(_mm256_and_si256(l1, lo), _mm256_and_si256(_mm256_slli_epi16(hb, 4), b30));
        q[1] = _mm256_or_si256(_mm256_and_si256(l2, lo), _mm256_and_si256(_mm256_slli_epi16(hb, 2), b30));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), lo), _mm256_and_si256(hb, b30));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l2, 4), lo), _mm256_and_si256(_mm256_srli_epi16(hb, 2), b30));
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const char i0 = (char)(8 * h + 2 * c), i1 = (char)(8 * h + 2 * c + 1); /* [sc_i0 x 8, sc_i1 x 8] */
            const __m256i sc = _mm256_cvtepi8_epi16(
                _mm_shuffle_epi8(s8, _mm_setr_epi8(i0, i0, i0, i0, i0, i0, i0, i0, i1, i1, i1, i1, i1, i1, i1, i1)));
#pragma GCC unroll 4
            for (int t = 0; t < NT; t++)
                s[t] = kscale_add(s[t], _mm256_maddubs_epi16(q[c], kload256(knext(y, t * ystride)->qs + 128 * h + 32 * c)), sc);
        }
    }
    const __m256i sc16 = _mm256_cvtepi8_epi16(s8);
    const float d = kh2f(b->d);
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) {
        const block_q8_K *yt = knext(y, t * ystride); /* ggml's -32 offset */
        const __m256i v = _mm256_sub_epi32(s[t], _mm256_slli_epi32(_mm256_madd_epi16(kload256(yt->bsums), sc16), 5));
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(yt->d * d), _mm256_cvtepi32_ps(v), acc[t]);
    }
}

/* Rows [r0, r1) for the NT tokens at act, 8 rows at a time block by block
 * (the tokens' blocks stay in L1 for the 8 rows; a whole long row of
 * several tokens' activations would not). wend: the end of this call's
 * rows (prefetch stops there). */
KI void kq6_rows(const int NT, const uint8_t *w, size_t wrow, int nb, int r0, int r1, const block_q8_K *act,
                 float *out, size_t os, const uint8_t *wend) {
    const size_t ystride = (size_t)nb * sizeof(block_q8_K), bs = sizeof(block_q6_K);
    for (int r = r0; r < r1; r += 8) {
        const int cnt = r1 - r < 8 ? r1 - r : 8;
        const uint8_t *x = w + (size_t)r * wrow;
        __m256 acc[8][KQ6_NT];
        for (int i = 0; i < cnt; i++)
#pragma GCC unroll 4
            for (int t = 0; t < NT; t++) acc[i][t] = _mm256_setzero_ps();
        /* 8 interleaved row streams: sweep the rows two groups ahead
         * linearly into L2 (as quant_simd_x86.h's group_regs) */
        const uint8_t *pf = x + 2 * 8 * wrow;
        const bool pf_on = pf < wend;
        for (int b = 0; b < nb; b++) {
            if (pf_on) {
                for (size_t o = 0; o < 8 * bs; o += 64) _mm_prefetch((const char *)pf + o, _MM_HINT_T1);
                pf += 8 * bs;
            }
            for (int i = 0; i < cnt; i++) kq6_row_block(NT, x + (size_t)i * wrow + (size_t)b * bs, act + b, ystride, acc[i]);
        }
        for (int i = 0; i < cnt; i++)
#pragma GCC unroll 4
            for (int t = 0; t < NT; t++) out[(size_t)t * os + (size_t)(r + i)] = khsum8(acc[i][t]);
    }
}

KI void kq6_matmul(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / QK_K;
    const size_t wrow = (size_t)nb * sizeof(block_q6_K);
    const uint8_t *wend = (const uint8_t *)w + (size_t)r1 * wrow;
    /* Blocks of rows stay in L2 while groups of tokens pass (one block, all
     * rows, for decode: nothing to reuse). */
    const int rblock = n_tok <= KQ6_NT ? r1 - r0 : KQ_ROWBLOCK;
    for (int rb = r0; rb < r1; rb += rblock) {
        const int re = rb + rblock < r1 ? rb + rblock : r1;
        for (int t0 = 0; t0 < n_tok; t0 += KQ6_NT) {
            const block_q8_K *a = (const block_q8_K *)act + (size_t)t0 * nb;
            float *o = out + (size_t)t0 * os;
            switch (n_tok - t0 < KQ6_NT ? n_tok - t0 : KQ6_NT) {
            case 1: kq6_rows(1, w, wrow, nb, rb, re, a, o, os, wend); break;
            case 2: kq6_rows(2, w, wrow, nb, rb, re, a, o, os, wend); break;
            case 3: kq6_rows(3, w, wrow, nb, rb, re, a, o, os, wend); break;
            default: kq6_rows(4, w, wrow, nb, rb, re, a, o, os, wend); break;
            }
        }
    }
}

KI void kq_matmul(const int ty, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                  size_t os) {
    const int nb = n / QK_K;
    const size_t wrow = (size_t)nb * kq_bsize(ty);
    const uint8_t *wend = (const uint8_t *)w + (size_t)r1 * wrow;
    __m256 accbuf[KQ_TOK * KQ_ACC];
    for (int rb = r0; rb < r1; rb += KQ_ROWBLOCK) {
        const int re = rb + KQ_ROWBLOCK < r1 ? rb + KQ_ROWBLOCK : r1;
        for (int t0 = 0; t0 < n_tok; t0 += KQ_TOK) {
            const int nt = n_tok - t0 < KQ_TOK ? n_tok - t0 : KQ_TOK;
            for (int r = rb; r < re; r += 8)
                kq_group(ty, (const uint8_t *)w + (size_t)r * wrow, wrow, nb, re - r < 8 ? re - r : 8, act, t0, nt,
                         n_tok, out + r, os, wend, accbuf);
        }
    }
}

static void kq_mm_q4(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    kq_matmul(KT_Q4, w, n, r0, r1, a, nt, o, os);
}
static void kq_mm_q5(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    kq_matmul(KT_Q5, w, n, r0, r1, a, nt, o, os);
}
static void kq_mm_q6(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    kq6_matmul(w, n, r0, r1, a, nt, o, os);
}

/* The product slots (activation rows stay kernels_fill_q8_K_row's). */
static void kq_x86_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_K] = kq_mm_q4;
    k->matmul[KW_Q5_K] = kq_mm_q5;
    k->matmul[KW_Q6_K] = kq_mm_q6;
}

#endif
