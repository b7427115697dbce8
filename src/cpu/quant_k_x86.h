/* x86 bodies of the Q4_K, Q5_K and Q6_K products, shared by
 * quant_k_avx2.c (maddubs/madd) and quant_k_avx512.c (the same with
 * AVX512-VNNI's vpdpbusd / vpdpwssd): each includes this header once with
 * its instruction set enabled. Bit-exact with quant_k_scalar.c (the float
 * orders are quant_k.h's).
 *
 * Layout (as quant_simd_x86.h's tiles): 8 weight rows at a time, transposed
 * on the fly so that 32-bit lane i of a vector belongs to row i, vector
 * w[j][l] holding the 4 codes of elements 4l..4l+3 of sub-block j. A
 * weight super-block is decoded once into such a tile (codes, scales as
 * int16 pairs, d and dmin as floats) and serves every token of a chunk:
 * multiplying it by a token's broadcast 4-byte groups gives each row's
 * integer sums in its own lane, in the very groups ggml's lanes sum (Q5_K,
 * Q6_K: elements 4l..4l+3 of each sub-block go to lane l), so the float
 * steps are ggml's, vectorized over rows instead of over lanes. */
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

enum { KT_Q4, KT_Q5, KT_Q6 };

KI uint32_t kld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
KI uint16_t kld16(const void *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
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

KI __m256 kgather_half(const krows *p, size_t off) {
    __m128i h = _mm_cvtsi32_si128(kld16(KP(p, 0, off)));
    h = _mm_insert_epi16(h, kld16(KP(p, 1, off)), 1);
    h = _mm_insert_epi16(h, kld16(KP(p, 2, off)), 2);
    h = _mm_insert_epi16(h, kld16(KP(p, 3, off)), 3);
    h = _mm_insert_epi16(h, kld16(KP(p, 4, off)), 4);
    h = _mm_insert_epi16(h, kld16(KP(p, 5, off)), 5);
    h = _mm_insert_epi16(h, kld16(KP(p, 6, off)), 6);
    h = _mm_insert_epi16(h, kld16(KP(p, 7, off)), 7);
    return _mm256_cvtph_ps(h);
}

/* Byte shuffle control taking, in every 32-bit lane, bytes b0..b3 of that
 * lane (0x80: zero). */
KI __m256i kctrl(int b0, int b1, int b2, int b3) {
    const int b[4] = {b0, b1, b2, b3};
    int v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = 0;
        for (int k = 0; k < 4; k++) v[i] |= (b[k] & 0x80 ? 0x80 : b[k] + 4 * i) << (8 * k);
    }
    return _mm256_setr_epi32(v[0], v[1], v[2], v[3], v[0], v[1], v[2], v[3]);
}

/* One super-block of 8 rows, ready for the token steps. */
typedef struct {
    __m256i w[8][8]; /* [j][l] lane i: codes of elements 4l..4l+3 of sub-block (Q6_K: chunk of 32) j of row i */
    /* int16 pairs (s, s) of each sub-block's scale (Q6_K: each 16-element
     * part's); Q4_K with VNNI: the scale as int32 */
    __m256i sc[16];
    /* int16 pairs: Q4_K/Q5_K (m_2p, m_2p+1), p < 4; Q6_K (sc_2l, sc_2l+1), l < 8 */
    __m256i mp[8];
    __m256 d, dmin;
} ktile;

KI void prep_q45(const int ty, const krows *p, ktile *t) {
    __m256i u[4];
    kload_t(p, 4, u); /* scales[0..3], [4..7], [8..11] */
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
    t->d = kgather_half(p, 0);
    t->dmin = kgather_half(p, 2);
    const size_t qs = ty == KT_Q5 ? KQ5_QS : KQ4_QS;
    const __m256i lo = _mm256_set1_epi8(0x0f), b10 = _mm256_set1_epi8(0x10);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i hb[4];
        if (ty == KT_Q5) kload_t(p, KQ5_QH + 16 * (size_t)h, hb); /* qh bytes 4l..4l+3, l = 4h + k */
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            __m256i v[4];
            kload_t(p, qs + 32 * (size_t)q + 16 * (size_t)h, v);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i a = _mm256_and_si256(v[k], lo), b = _mm256_and_si256(_mm256_srli_epi16(v[k], 4), lo);
                if (ty == KT_Q5) {
                    /* bit j of qh byte e is the fifth bit of element e of sub-block j: move it to bit 4 */
                    const int j0 = 2 * q, j1 = 2 * q + 1;
                    const __m256i h0 = j0 < 4 ? _mm256_slli_epi32(hb[k], 4 - j0) : _mm256_srli_epi32(hb[k], j0 - 4);
                    const __m256i h1 = j1 < 4 ? _mm256_slli_epi32(hb[k], 4 - j1) : _mm256_srli_epi32(hb[k], j1 - 4);
                    a = _mm256_or_si256(a, _mm256_and_si256(h0, b10));
                    b = _mm256_or_si256(b, _mm256_and_si256(h1, b10));
                }
                t->w[2 * q][4 * h + k] = a;
                t->w[2 * q + 1][4 * h + k] = b;
            }
        }
    }
}

KI void prep_q6(const krows *p, ktile *t) {
    __m256i s4[4];
    kload_t(p, KQ6_SC, s4); /* s4[q] lane i: scales 4q..4q+3 of row i */
#pragma GCC unroll 16
    for (int s = 0; s < 16; s++) {
        const int k = s & 3; /* the signed byte into the high half of each int16, then shifted down */
        t->sc[s] = _mm256_srai_epi16(_mm256_shuffle_epi8(s4[s >> 2], kctrl(0x80, k, 0x80, k)), 8);
    }
#pragma GCC unroll 8
    for (int l = 0; l < 8; l++) {
        const int k0 = (2 * l) & 3;
        t->mp[l] = _mm256_srai_epi16(_mm256_shuffle_epi8(s4[l >> 1], kctrl(0x80, k0, 0x80, k0 + 1)), 8);
    }
    t->d = kgather_half(p, KQ6_D);
    const __m256i lo = _mm256_set1_epi8(0x0f), b30 = _mm256_set1_epi8(0x30);
#pragma GCC unroll 2
    for (int hh = 0; hh < 2; hh++)
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i qh[4];
            kload_t(p, KQ6_QH + 32 * (size_t)hh + 16 * (size_t)h, qh);
#pragma GCC unroll 2
            for (int odd = 0; odd < 2; odd++) {
                __m256i v[4];
                kload_t(p, 64 * (size_t)hh + 32 * (size_t)odd + 16 * (size_t)h, v);
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++) {
                    /* chunk c2 = odd (low nibbles) or odd + 2 (high); its qh bits 2c2, 2c2+1 go to bits 4, 5 */
                    const __m256i hl = odd ? _mm256_slli_epi32(qh[k], 2) : _mm256_slli_epi32(qh[k], 4);
                    const __m256i hhi = odd ? _mm256_srli_epi32(qh[k], 2) : qh[k];
                    t->w[4 * hh + odd][4 * h + k] =
                        _mm256_or_si256(_mm256_and_si256(v[k], lo), _mm256_and_si256(hl, b30));
                    t->w[4 * hh + odd + 2][4 * h + k] = _mm256_or_si256(
                        _mm256_and_si256(_mm256_srli_epi16(v[k], 4), lo), _mm256_and_si256(hhi, b30));
                }
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

/* Q4_K: sc_j times the integer dot of sub-block j with 32 codes at y. */
KI __m256i q4_subdot(const ktile *t, int j, const int8_t *y) {
#if KQ_VNNI
    __m256i c0 = _mm256_setzero_si256(), c1 = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int l = 0; l < 8; l += 2) {
        c0 = kdpbusd(c0, t->w[j][l], y + 4 * l);
        c1 = kdpbusd(c1, t->w[j][l + 1], y + 4 * l + 4);
    }
    return _mm256_mullo_epi32(_mm256_add_epi32(c0, c1), t->sc[j]);
#else
    /* 16 products of at most 15 * 127 per int16: no overflow */
    __m256i p0 = _mm256_maddubs_epi16(t->w[j][0], kbcast(y)), p1 = _mm256_maddubs_epi16(t->w[j][1], kbcast(y + 4));
#pragma GCC unroll 3
    for (int l = 2; l < 8; l += 2) {
        p0 = _mm256_add_epi16(p0, _mm256_maddubs_epi16(t->w[j][l], kbcast(y + 4 * l)));
        p1 = _mm256_add_epi16(p1, _mm256_maddubs_epi16(t->w[j][l + 1], kbcast(y + 4 * l + 4)));
    }
    return _mm256_madd_epi16(_mm256_add_epi16(p0, p1), t->sc[j]);
#endif
}

/* The int16 pairs (B_2p, B_2p+1) of a token's 32-element sums B_j, one
 * 32-bit lane per p (ggml's hadd of bsums). */
KI __m128i kbsum_pairs(const block_q8_K *y) {
    const __m128i a = _mm_loadu_si128((const __m128i *)y->bsums), b = _mm_loadu_si128((const __m128i *)y->bsums + 1);
    return _mm_hadd_epi16(a, b);
}

#define KQ_ACC 9 /* float vectors of state per token: 8 lanes (Q4_K: acc, accm) + summs */

/* One token's super-block b: acc[] += the tile's contribution. */
KI void kq_token(const int ty, const ktile *t, const block_q8_K *y, bool gemm, __m256 *acc) {
    const __m256 da = _mm256_set1_ps(y->d);
    if (ty == KT_Q4) {
        const __m128i bp = kbsum_pairs(y);
        const __m256 dd = _mm256_mul_ps(t->d, da), dm = _mm256_mul_ps(t->dmin, da);
        __m256i is = _mm256_setzero_si256(), im = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            const __m256i s = _mm256_add_epi32(q4_subdot(t, 2 * q, y->qs + 64 * q), q4_subdot(t, 2 * q + 1, y->qs + 64 * q + 32));
            const __m256i pair = _mm256_broadcastd_epi32(_mm_srli_si128(bp, 4 * q));
            const __m256i m = _mm256_madd_epi16(t->mp[q], pair);
            if (gemm) {
                acc[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), dd, acc[0]);
                acc[1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), dm, acc[1]);
            } else {
                is = _mm256_add_epi32(is, s);
                im = _mm256_add_epi32(im, m);
            }
        }
        if (!gemm) {
            acc[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), dd, acc[0]);
            acc[1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(im), dm, acc[1]);
        }
        return;
    }
    __m256i s[8];
#pragma GCC unroll 8
    for (int l = 0; l < 8; l++) s[l] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++)
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++) {
            const __m256i p = _mm256_maddubs_epi16(t->w[j][l], kbcast(y->qs + 32 * j + 4 * l));
            s[l] = kscale_add(s[l], p, t->sc[ty == KT_Q6 ? 2 * j + (l >> 2) : j]);
        }
    const __m256 d = _mm256_mul_ps(da, t->d);
    if (ty == KT_Q6) {
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++) {
            const __m256i corr = _mm256_madd_epi16(t->mp[l], kbcast(&y->bsums[2 * l])); /* ggml's -32 offset */
            s[l] = _mm256_sub_epi32(s[l], _mm256_slli_epi32(corr, 5));
        }
    } else {
        const __m128i bp = kbsum_pairs(y);
        __m256i m = _mm256_madd_epi16(t->mp[0], _mm256_broadcastd_epi32(bp));
#pragma GCC unroll 3
        for (int q = 1; q < 4; q++)
            m = _mm256_add_epi32(m, _mm256_madd_epi16(t->mp[q], _mm256_broadcastd_epi32(_mm_srli_si128(bp, 4 * q))));
        const __m256 dmin = _mm256_mul_ps(_mm256_set1_ps(-y->d), t->dmin);
        acc[8] = _mm256_fmadd_ps(dmin, _mm256_cvtepi32_ps(m), acc[8]);
    }
#pragma GCC unroll 8
    for (int l = 0; l < 8; l++) acc[l] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s[l]), acc[l]);
}

/* The outputs of a token's state: ggml's hsum_float_8 over the lanes (+ summs), or acc - accm. */
KI __m256 kq_result(const int ty, const __m256 *a) {
    if (ty == KT_Q4) return _mm256_sub_ps(a[0], a[1]);
    const __m256 r = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[4], a[0]), _mm256_add_ps(a[6], a[2])),
                                   _mm256_add_ps(_mm256_add_ps(a[5], a[1]), _mm256_add_ps(a[7], a[3])));
    return ty == KT_Q5 ? _mm256_add_ps(r, a[8]) : r;
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
    return ty == KT_Q4 ? sizeof(block_q4_K) : ty == KT_Q5 ? sizeof(block_q5_K) : sizeof(block_q6_K);
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
    for (int b = 0; b < nb; b++) {
        if (pf_on) {
            for (size_t o = 0; o < 8 * bs; o += 64) _mm_prefetch((const char *)pf + o, _MM_HINT_T1);
            pf += 8 * bs;
        }
        ktile t;
        if (ty == KT_Q6)
            prep_q6(&p, &t);
        else
            prep_q45(ty, &p, &t);
        p.b += bs;
        const block_q8_K *y = act + (size_t)t0 * nb + b;
        for (int k = 0; k < nt; k++, y += nb)
            kq_token(ty, &t, y, ty == KT_Q4 && kq4_gemm_token(t0 + k, n_tok), accbuf + KQ_ACC * k);
    }
    for (int k = 0; k < nt; k++) kstore(out + (size_t)(t0 + k) * os, kq_result(ty, accbuf + KQ_ACC * k), cnt);
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
    kq_matmul(KT_Q6, w, n, r0, r1, a, nt, o, os);
}

/* The product slots (activation rows stay kernels_fill_q8_K_row's). */
static void kq_x86_fill(hearth_kernels *k) {
    k->matmul[KW_Q4_K] = kq_mm_q4;
    k->matmul[KW_Q5_K] = kq_mm_q5;
    k->matmul[KW_Q6_K] = kq_mm_q6;
}

#endif
