/* x86 SIMD kernel bodies shared by quant_avx2.c and quant_avx512.c; each of
 * those files includes this header once with its own instruction set
 * enabled, so the same source becomes an AVX2 (maddubs) and an AVX512-VNNI
 * (vpdpbusd) build. Not a public header: it defines static functions.
 *
 * Layout trick: 8 weight rows are processed together and transposed on the
 * fly so that 32-bit lane i of a vector belongs to row i. A block dot
 * product for 8 rows and one token is then 8 multiply-adds of a weight
 * vector W[m] (4 codes of each row) with a broadcast 4-byte group m of the
 * activation block; lanes never need a horizontal sum, per-row scales are a
 * vector, and the transposition is paid once per weight block for all the
 * tokens of a batch.
 *
 * Weight codes are kept unsigned (Q4 nibbles 0..15, Q5 0..31, Q8 + 128 with
 * VNNI) so that the unsigned x signed byte products need no sign tricks; the
 * offset (8, 16, 128) times the block's activation sum is added back exactly
 * in integers from the activation row's aux entry. (Q8_0 under plain AVX2
 * keeps ggml's |w| x sign(y, w) trick: 255 x 127 pairs would saturate
 * maddubs' 16-bit sums.) */
#ifndef HEARTH_QUANT_SIMD_X86_H
#define HEARTH_QUANT_SIMD_X86_H

#include <immintrin.h>
#include <string.h>

#include "model/ggml_types.h"
#include "kernels.h"

#define AI static inline __attribute__((always_inline))

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && !defined(HK_NO_VNNI)
#define HK_VNNI 1
#else
#define HK_VNNI 0
#endif

enum { TY_Q4_0, TY_Q4_1, TY_Q5_0, TY_Q5_1, TY_Q8_0 };

AI uint32_t ld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
AI uint16_t ld16(const void *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
AI __m256i bcast32(const void *p) {
    return _mm256_set1_epi32((int)ld32(p));
}
AI __m256i load2x128(const void *lo, const void *hi) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)lo)),
                                   _mm_loadu_si128((const __m128i *)hi), 1);
}

/* ---------------- activation quantization (ggml's x86 rounding) ---------------- */

/* One block, exactly as ggml's AVX2 quantize_row_q8_0/1: scale 127/amax,
 * round half to even, saturating packs (never saturate: |q| <= 127). */
AI float quant_block_x86(const float *x, int8_t *qs, int *sum) {
    __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 amax = _mm256_andnot_ps(sign, v0);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v1));
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v2));
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v3));
    __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(amax, 1), _mm256_castps256_ps128(amax));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float maxs = _mm_cvtss_f32(m4);
    const float d = maxs / 127.f;
    const __m256 id = _mm256_set1_ps(maxs != 0.0f ? 127.f / maxs : 0.0f);
#define RND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
    __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, id), RND));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, id), RND));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, id), RND));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, id), RND));
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(2, 3, 0, 1)));
    *sum = _mm_cvtsi128_si32(s4);
#undef RND
    i0 = _mm256_packs_epi32(i0, i1);
    i2 = _mm256_packs_epi32(i2, i3);
    i0 = _mm256_packs_epi16(i0, i2);
    i0 = _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)qs, i0);
    return d;
}

AI float h2f(ggml_half h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}
AI ggml_half f2h(float f) {
    return (ggml_half)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), 0), 0);
}

static void x86_quant_q8_0(const float *x, void *dst, int n) {
    kernels_fill_q8_0_row(x, dst, n, 0, quant_block_x86);
}
static void x86_quant_q8_0_g16(const float *x, void *dst, int n) {
    kernels_fill_q8_0_row(x, dst, n, -16, quant_block_x86);
}
static void x86_quant_q8_0_g128(const float *x, void *dst, int n) {
    kernels_fill_q8_0_row(x, dst, n, -128, quant_block_x86);
}
static void x86_quant_q8_1(const float *x, void *dst, int n) {
    kernels_fill_q8_1_row(x, dst, n, quant_block_x86);
}

static void x86_quant_f16(const float *x, void *dst, int n) {
    float *y = dst;
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), 0)));
    for (; i < n; i++) y[i] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(x[i]));
}

/* bf16 rounding as ggml_fp32_to_bf16: NaN -> truncated | 0x40, else RNE. */
static void x86_quant_bf16(const float *x, void *dst, int n) {
    float *y = dst;
    int i = 0;
    const __m256i absmask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
    const __m256i hi = _mm256_set1_epi32((int)0xffff0000u), quiet = _mm256_set1_epi32(0x00400000);
    for (; i + 8 <= n; i += 8) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i isnan = _mm256_cmpgt_epi32(_mm256_and_si256(u, absmask), inf);
        __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(u, 16), one)));
        __m256i nanv = _mm256_or_si256(u, quiet);
        r = _mm256_blendv_epi8(r, nanv, isnan);
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_and_si256(r, hi));
    }
    for (; i < n; i++) y[i] = ggml_bf16_to_fp32(ggml_fp32_to_bf16(x[i]));
    /* Whole chunks of 32: even elements, then odd ones (kernels.h). */
    for (int c = 0; c + 32 <= n; c += 32) {
        float t[32];
        memcpy(t, y + c, sizeof t);
        for (int j = 0; j < 16; j++) {
            y[c + j] = t[2 * j];
            y[c + 16 + j] = t[2 * j + 1];
        }
    }
}

/* ---------------- quantized weights: 8-row transposed tiles ---------------- */

AI size_t ty_bsize(int ty) {
    switch (ty) {
    case TY_Q4_0: return sizeof(block_q4_0);
    case TY_Q4_1: return sizeof(block_q4_1);
    case TY_Q5_0: return sizeof(block_q5_0);
    case TY_Q5_1: return sizeof(block_q5_1);
    default: return sizeof(block_q8_0);
    }
}
AI size_t ty_qs_off(int ty) {
    switch (ty) {
    case TY_Q4_0: return 2;
    case TY_Q4_1: return 4;
    case TY_Q5_0: return 6;
    case TY_Q5_1: return 8;
    default: return 2;
    }
}
AI bool ty_q81(int ty) {
    return ty == TY_Q4_1 || ty == TY_Q5_1;
}

/* Weights of 8 rows for one block, ready for the dot products. */
typedef struct {
    __m256i w[8]; /* w[m] lane i: codes of elements 4m..4m+3 of row i */
    __m256 d, m;  /* per-row scale and (Q4_1/Q5_1) min */
#if !HK_VNNI
    __m256i sgn[8]; /* Q8_0 without VNNI: signed codes (w holds |codes|) */
#endif
} wtile;

/* 4x4 transpose of 32-bit elements inside each 128-bit half. */
AI void transpose4(__m256i a0, __m256i a1, __m256i a2, __m256i a3, __m256i *o) {
    const __m256i t0 = _mm256_unpacklo_epi32(a0, a1), t1 = _mm256_unpackhi_epi32(a0, a1);
    const __m256i t2 = _mm256_unpacklo_epi32(a2, a3), t3 = _mm256_unpackhi_epi32(a2, a3);
    o[0] = _mm256_unpacklo_epi64(t0, t2);
    o[1] = _mm256_unpackhi_epi64(t0, t2);
    o[2] = _mm256_unpacklo_epi64(t1, t3);
    o[3] = _mm256_unpackhi_epi64(t1, t3);
}

/* 16 bytes at off of each of 8 blocks, transposed: o[j] lane i = bytes
 * 4j..4j+3 of row i (rows 0-3 in the low half, 4-7 in the high half). */
/* The 8 rows of a group: row i's current block is at b + o[i]. Only b
 * moves from block to block, so nothing is stored back per block. */
typedef struct {
    const uint8_t *b;
    size_t o[8];
} rowset;
#define RP(rs, i, off) ((rs)->b + (rs)->o[i] + (off))

AI void load_t16(const rowset *p, size_t off, __m256i *o) {
    transpose4(load2x128(RP(p, 0, off), RP(p, 4, off)), load2x128(RP(p, 1, off), RP(p, 5, off)),
               load2x128(RP(p, 2, off), RP(p, 6, off)), load2x128(RP(p, 3, off), RP(p, 7, off)), o);
}

AI __m256 gather_half(const rowset *p, size_t off) {
    __m128i h = _mm_cvtsi32_si128(ld16(RP(p, 0, off)));
    h = _mm_insert_epi16(h, ld16(RP(p, 1, off)), 1);
    h = _mm_insert_epi16(h, ld16(RP(p, 2, off)), 2);
    h = _mm_insert_epi16(h, ld16(RP(p, 3, off)), 3);
    h = _mm_insert_epi16(h, ld16(RP(p, 4, off)), 4);
    h = _mm_insert_epi16(h, ld16(RP(p, 5, off)), 5);
    h = _mm_insert_epi16(h, ld16(RP(p, 6, off)), 6);
    h = _mm_insert_epi16(h, ld16(RP(p, 7, off)), 7);
    return _mm256_cvtph_ps(h);
}

AI __m256i gather_u32(const rowset *p, size_t off) {
    __m128i lo = _mm_cvtsi32_si128((int)ld32(RP(p, 0, off)));
    lo = _mm_insert_epi32(lo, (int)ld32(RP(p, 1, off)), 1);
    lo = _mm_insert_epi32(lo, (int)ld32(RP(p, 2, off)), 2);
    lo = _mm_insert_epi32(lo, (int)ld32(RP(p, 3, off)), 3);
    __m128i hi = _mm_cvtsi32_si128((int)ld32(RP(p, 4, off)));
    hi = _mm_insert_epi32(hi, (int)ld32(RP(p, 5, off)), 1);
    hi = _mm_insert_epi32(hi, (int)ld32(RP(p, 6, off)), 2);
    hi = _mm_insert_epi32(hi, (int)ld32(RP(p, 7, off)), 3);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

/* p: the 8 rows' current block. */
AI void prep_tile(const int ty, const rowset *p, wtile *t) {
    t->d = gather_half(p, 0);
    if (ty_q81(ty)) t->m = gather_half(p, 2);
    if (ty == TY_Q8_0) {
        __m256i a[4], b[4];
        load_t16(p, 2, a);
        load_t16(p, 18, b);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
#if HK_VNNI
            const __m256i off = _mm256_set1_epi8((char)0x80); /* code + 128: unsigned */
            t->w[j] = _mm256_xor_si256(a[j], off);
            t->w[j + 4] = _mm256_xor_si256(b[j], off);
#else
            t->sgn[j] = a[j];
            t->sgn[j + 4] = b[j];
            t->w[j] = _mm256_abs_epi8(a[j]);
            t->w[j + 4] = _mm256_abs_epi8(b[j]);
#endif
        }
        return;
    }
    __m256i q[4];
    load_t16(p, ty_qs_off(ty), q);
    const __m256i lo = _mm256_set1_epi8(0x0f);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        t->w[j] = _mm256_and_si256(q[j], lo);
        t->w[j + 4] = _mm256_and_si256(_mm256_srli_epi16(q[j], 4), lo);
    }
    if (ty == TY_Q5_0 || ty == TY_Q5_1) {
        /* Fifth bits: byte k of w[m] (element 4m+k) takes bit 4m+k of the
         * row's qh: broadcast byte m/2 of qh over the lane's 4 bytes, then
         * test bit k + 4*(m&1) of it. */
        const __m256i qh = gather_u32(p, ty == TY_Q5_0 ? 2 : 4);
        const __m256i b10 = _mm256_set1_epi8(0x10);
#pragma GCC unroll 8
        for (int m = 0; m < 8; m++) {
            const char s = (char)(m >> 1);
            const __m256i ctrl = _mm256_setr_epi8(s, s, s, s, 4 + s, 4 + s, 4 + s, 4 + s, 8 + s, 8 + s, 8 + s,
                                                  8 + s, 12 + s, 12 + s, 12 + s, 12 + s, s, s, s, s, 4 + s, 4 + s,
                                                  4 + s, 4 + s, 8 + s, 8 + s, 8 + s, 8 + s, 12 + s, 12 + s, 12 + s,
                                                  12 + s);
            const int sh = 4 * (m & 1);
            const __m256i bits = _mm256_set1_epi32((int)((1u << sh) | (2u << (sh + 8)) | (4u << (sh + 16)) |
                                                         (8u << (sh + 24))));
            __m256i h = _mm256_and_si256(_mm256_shuffle_epi8(qh, ctrl), bits);
            h = _mm256_and_si256(_mm256_cmpeq_epi8(h, bits), b10);
            t->w[m] = _mm256_or_si256(t->w[m], h);
        }
    }
}

#if HK_VNNI
/* acc += w (u8) . broadcast 4 bytes at p (s8). */
AI __m256i dpbusd_b(__m256i acc, __m256i w, const uint8_t *p) {
#if defined(__GNUC__)
    /* The broadcast folded into the instruction's memory operand (compilers
     * emit a separate vpbroadcastd, which costs 20% in prefill). */
    __asm__("vpdpbusd %2%{1to8%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const uint32_t *)(const void *)p));
    return acc;
#else
    return _mm256_dpbusd_epi32(acc, w, bcast32(p));
#endif
}
#endif

/* Integer block dot products of the 8 rows with one activation block (qs at
 * yq), offset corrected: lane i = sum_j code_ij * y_j exactly. */
AI __m256i tile_dot(const int ty, const wtile *t, const uint8_t *yq, const uint8_t *bias8) {
#if HK_VNNI
    /* Two independent chains of vpdpbusd for latency; the offset correction
     * seeds one of them. */
    __m256i c0, c1 = _mm256_setzero_si256();
    switch (ty) {
    case TY_Q4_0: c0 = bcast32(bias8); break;
    case TY_Q5_0: c0 = _mm256_slli_epi32(bcast32(bias8), 1); break;
    case TY_Q8_0: c0 = _mm256_slli_epi32(bcast32(bias8), 4); break;
    default: c0 = _mm256_setzero_si256(); break;
    }
#pragma GCC unroll 4
    for (int m = 0; m < 8; m += 2) {
        c0 = dpbusd_b(c0, t->w[m], yq + 4 * m);
        c1 = dpbusd_b(c1, t->w[m + 1], yq + 4 * m + 4);
    }
    return _mm256_add_epi32(c0, c1);
#else
    const __m256i ones = _mm256_set1_epi16(1);
    if (ty == TY_Q8_0) {
        /* |w| x (y with w's sign): each pair sum fits int16, two do not. */
        __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int m = 0; m < 8; m++) {
            const __m256i sy = _mm256_sign_epi8(bcast32(yq + 4 * m), t->sgn[m]);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(t->w[m], sy), ones));
        }
        (void)bias8;
        return acc;
    }
    /* Q4: 8 products of <= 2*15*127 fit int16; Q5 (<= 2*31*127): 4 do. */
    __m256i p0 = _mm256_maddubs_epi16(t->w[0], bcast32(yq));
    __m256i p1 = _mm256_maddubs_epi16(t->w[1], bcast32(yq + 4));
    p0 = _mm256_add_epi16(p0, _mm256_maddubs_epi16(t->w[2], bcast32(yq + 8)));
    p1 = _mm256_add_epi16(p1, _mm256_maddubs_epi16(t->w[3], bcast32(yq + 12)));
    __m256i p2 = _mm256_maddubs_epi16(t->w[4], bcast32(yq + 16));
    __m256i p3 = _mm256_maddubs_epi16(t->w[5], bcast32(yq + 20));
    p2 = _mm256_add_epi16(p2, _mm256_maddubs_epi16(t->w[6], bcast32(yq + 24)));
    p3 = _mm256_add_epi16(p3, _mm256_maddubs_epi16(t->w[7], bcast32(yq + 28)));
    __m256i s;
    if (ty == TY_Q4_0 || ty == TY_Q4_1) {
        s = _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(p0, p1), _mm256_add_epi16(p2, p3)), ones);
    } else {
        s = _mm256_add_epi32(_mm256_madd_epi16(_mm256_add_epi16(p0, p1), ones),
                             _mm256_madd_epi16(_mm256_add_epi16(p2, p3), ones));
    }
    if (ty == TY_Q4_0) s = _mm256_add_epi32(s, bcast32(bias8));
    if (ty == TY_Q5_0) s = _mm256_add_epi32(s, _mm256_slli_epi32(bcast32(bias8), 1));
    return s;
#endif
}

/* acc += d_w * d_y * isum (+ m_w * s_y) for one token. aux: {float d; 4 bytes}. */
AI __m256 tile_acc(const int ty, const wtile *t, const uint8_t *yb, const uint8_t *aux, __m256 acc) {
    float ad;
    memcpy(&ad, aux, 4);
    const size_t qoff = ty_q81(ty) ? 4 : 2;
    const __m256i isum = tile_dot(ty, t, yb + qoff, aux + 4);
    const __m256 sc = _mm256_mul_ps(t->d, _mm256_set1_ps(ad));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), sc, acc);
    if (ty_q81(ty)) {
        float s;
        memcpy(&s, aux + 4, 4);
        acc = _mm256_fmadd_ps(t->m, _mm256_set1_ps(s), acc);
    }
    return acc;
}

AI bool ty_lanes(int ty) {
    return ty != TY_Q4_0;
}
#define NLACC 9 /* lane accumulators per token: 8 lanes + summs */

/* Exact group sums: s[m] lane i = sum over elements 4m..4m+3 of row i of
 * code * y, offset corrected with the group biases gb. */
AI void tile_groups(const int ty, const wtile *t, const uint8_t *yq, const uint8_t *gb, __m256i *s) {
#if HK_VNNI
#pragma GCC unroll 8
    for (int m = 0; m < 8; m++) {
        const __m256i c = (ty == TY_Q5_0 || ty == TY_Q8_0) ? bcast32(gb + 4 * m) : _mm256_setzero_si256();
        s[m] = dpbusd_b(c, t->w[m], yq + 4 * m);
    }
#else
    const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 8
    for (int m = 0; m < 8; m++) {
        __m256i p;
        if (ty == TY_Q8_0)
            p = _mm256_maddubs_epi16(t->w[m], _mm256_sign_epi8(bcast32(yq + 4 * m), t->sgn[m]));
        else
            p = _mm256_maddubs_epi16(t->w[m], bcast32(yq + 4 * m));
        s[m] = _mm256_madd_epi16(p, ones);
        if (ty == TY_Q5_0) s[m] = _mm256_add_epi32(s[m], bcast32(gb + 4 * m));
    }
#endif
}

/* ggml's vec_dot order for one token: lane m of each row += dw*da * group
 * sum m (fma); summs = fma(mw, sa, summs). */
AI void tile_acc_lanes(const int ty, const wtile *t, const uint8_t *yb, const uint8_t *aux, const uint8_t *gb,
                       __m256 *acc) {
    float ad;
    memcpy(&ad, aux, 4);
    __m256i g[8];
    tile_groups(ty, t, yb + (ty_q81(ty) ? 4 : 2), gb, g);
    const __m256 dd = _mm256_mul_ps(t->d, _mm256_set1_ps(ad));
#pragma GCC unroll 8
    for (int m = 0; m < 8; m++) acc[m] = _mm256_fmadd_ps(dd, _mm256_cvtepi32_ps(g[m]), acc[m]);
    if (ty_q81(ty)) {
        float sa;
        memcpy(&sa, aux + 4, 4);
        acc[8] = _mm256_fmadd_ps(t->m, _mm256_set1_ps(sa), acc[8]);
    }
}

/* hsum_float_8 across the lane vectors (+ summs). */
AI __m256 lanes_sum(const int ty, const __m256 *a) {
    const __m256 r = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[4], a[0]), _mm256_add_ps(a[6], a[2])),
                                   _mm256_add_ps(_mm256_add_ps(a[5], a[1]), _mm256_add_ps(a[7], a[3])));
    return ty_q81(ty) ? _mm256_add_ps(r, a[8]) : r;
}

AI void store_rows(float *dst, __m256 v, int cnt) {
    if (cnt == 8) {
        _mm256_storeu_ps(dst, v);
    } else {
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_maskstore_ps(dst, _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), idx), v);
    }
}

typedef struct {
    const uint8_t *w; /* first row of the group */
    size_t wrow;      /* bytes per weight row */
    int nb, cnt;      /* blocks per row, valid rows in the group (1..8) */
    const uint8_t *act;
    size_t arow, aux_off, gb_off;
    float *out; /* &out[t0 * os + first row] */
    size_t os;
    const uint8_t *wend; /* end of this call's rows: no prefetch past it */
} group_args;

/* The hardware prefetcher loses track of 8 interleaved row streams. The
 * group's rows are one contiguous range, so sweep the range two groups
 * ahead linearly, in step with this group (8 blocks' bytes per block step),
 * into L2: one group ahead leaves too little lead for its last rows; into
 * L1 it evicts the rows in use. One block step's share at pf; returns the
 * next one's start. */
AI const uint8_t *prefetch8(const uint8_t *pf, size_t bs) {
#pragma GCC unroll 8
    for (size_t o = 0; o < 8 * bs; o += 64) _mm_prefetch((const char *)pf + o, _MM_HINT_T1);
    return pf + 8 * bs;
}

/* Few tokens (decode): accumulators in registers, NT = 1..3 tokens. */
AI void group_regs(const int ty, const int NT, const group_args *g) {
    rowset p;
    p.b = g->w;
    for (int i = 0; i < 8; i++) p.o[i] = (size_t)(i < g->cnt ? i : g->cnt - 1) * g->wrow;
    const size_t bs = ty_bsize(ty), ab = ty_q81(ty) ? sizeof(block_q8_1) : sizeof(block_q8_0);
    __m256 acc[3] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const uint8_t *pf = g->w + 2 * 8 * g->wrow;
    const bool pf_on = pf < g->wend; /* the last groups would fetch another thread's rows */
    if (ty_lanes(ty)) { /* NT == 1 */
        __m256 la[NLACC];
        for (int m = 0; m < NLACC; m++) la[m] = _mm256_setzero_ps();
        for (int b = 0; b < g->nb; b++) {
            if (pf_on) pf = prefetch8(pf, bs);
            wtile t;
            prep_tile(ty, &p, &t);
            p.b += bs;
            tile_acc_lanes(ty, &t, g->act + (size_t)b * ab, g->act + g->aux_off + 8 * (size_t)b,
                           g->act + g->gb_off + 32 * (size_t)b, la);
        }
        store_rows(g->out, lanes_sum(ty, la), g->cnt);
        return;
    }
    for (int b = 0; b < g->nb; b++) {
        if (pf_on) pf = prefetch8(pf, bs);
        wtile t;
        prep_tile(ty, &p, &t);
        p.b += bs;
#pragma GCC unroll 3
        for (int k = 0; k < NT; k++) {
            const uint8_t *a = g->act + (size_t)k * g->arow;
            acc[k] = tile_acc(ty, &t, a + (size_t)b * ab, a + g->aux_off + 8 * (size_t)b, acc[k]);
        }
    }
    for (int k = 0; k < NT; k++) store_rows(g->out + (size_t)k * g->os, acc[k], g->cnt);
}

/* Many tokens (prefill, and 4+ decode rows of a server's batch): one
 * transposed weight tile serves all nt tokens; accumulators live in a small
 * L1 buffer. It prefetches as group_regs does: without, 4 rows took several
 * times 3 rows' time on weights from memory (on the 16-row tiles, 4x). */
AI void group_mem(const int ty, const group_args *g, int nt, __m256 *accbuf) {
    rowset p;
    p.b = g->w;
    for (int i = 0; i < 8; i++) p.o[i] = (size_t)(i < g->cnt ? i : g->cnt - 1) * g->wrow;
    const size_t bs = ty_bsize(ty), ab = ty_q81(ty) ? sizeof(block_q8_1) : sizeof(block_q8_0);
    const int na = ty_lanes(ty) ? NLACC : 1;
    for (int k = 0; k < nt * na; k++) accbuf[k] = _mm256_setzero_ps();
    const uint8_t *pf = g->w + 2 * 8 * g->wrow;
    const bool pf_on = pf < g->wend;
    for (int b = 0; b < g->nb; b++) {
        if (pf_on) pf = prefetch8(pf, bs);
        wtile t;
        prep_tile(ty, &p, &t);
        p.b += bs;
        const uint8_t *a = g->act + (size_t)b * ab;
        const uint8_t *x = g->act + g->aux_off + 8 * (size_t)b;
        const uint8_t *gb = g->act + g->gb_off + 32 * (size_t)b;
        for (int k = 0; k < nt; k++) {
            if (ty_lanes(ty))
                tile_acc_lanes(ty, &t, a, x, gb, accbuf + NLACC * k);
            else
                accbuf[k] = tile_acc(ty, &t, a, x, accbuf[k]);
            a += g->arow;
            x += g->arow;
            gb += g->arow;
        }
    }
    for (int k = 0; k < nt; k++)
        store_rows(g->out + (size_t)k * g->os, ty_lanes(ty) ? lanes_sum(ty, accbuf + NLACC * k) : accbuf[k],
                   g->cnt);
}

#define ROW_BLOCK 64 /* rows whose weights stay in L2 while token chunks pass */
#define TOK_CHUNK 64 /* tokens whose accumulators stay in L1 */

AI void matmul_q(const int ty, const void *w, int n, int r0, int r1, const void *act, int n_tok,
                 float *out, size_t os) {
    const int nb = n / 32;
    const bool q81 = ty_q81(ty);
    group_args g;
    g.wrow = (size_t)nb * ty_bsize(ty);
    g.nb = nb;
    g.aux_off = kernels_act_aux_offset(n, q81);
    g.gb_off = kernels_act_gbias_offset(n);
    g.arow = (ty == TY_Q5_0 || ty == TY_Q8_0) ? g.gb_off + 32 * (size_t)nb : g.aux_off + 8 * (size_t)nb;
    g.os = os;
    g.wend = (const uint8_t *)w + (size_t)r1 * g.wrow;
    /* Keep a chunk of activations within about 256 KiB of L2. */
    int chunk = (int)((256u << 10) / g.arow);
    if (chunk > TOK_CHUNK) chunk = TOK_CHUNK;
    if (chunk < 4) chunk = 4;
    __m256 accbuf[TOK_CHUNK * NLACC];
    for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
        const int re = rb + ROW_BLOCK < r1 ? rb + ROW_BLOCK : r1;
        for (int t0 = 0; t0 < n_tok; t0 += chunk) {
            const int nt = n_tok - t0 < chunk ? n_tok - t0 : chunk;
            g.act = (const uint8_t *)act + (size_t)t0 * g.arow;
            for (int r = rb; r < re; r += 8) {
                g.w = (const uint8_t *)w + (size_t)r * g.wrow;
                g.cnt = re - r < 8 ? re - r : 8;
                g.out = out + (size_t)t0 * os + (size_t)r;
                switch (ty_lanes(ty) && nt > 1 ? 0 : nt) {
                case 1: group_regs(ty, 1, &g); break;
                case 2: group_regs(ty, 2, &g); break;
                case 3: group_regs(ty, 3, &g); break;
                default: group_mem(ty, &g, nt, accbuf); break;
                }
            }
        }
    }
}

static void x86_mm_q4_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_q(TY_Q4_0, w, n, r0, r1, a, nt, o, os);
}
static void x86_mm_q4_1(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_q(TY_Q4_1, w, n, r0, r1, a, nt, o, os);
}
static void x86_mm_q5_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_q(TY_Q5_0, w, n, r0, r1, a, nt, o, os);
}
static void x86_mm_q5_1(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_q(TY_Q5_1, w, n, r0, r1, a, nt, o, os);
}
static void x86_mm_q8_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_q(TY_Q8_0, w, n, r0, r1, a, nt, o, os);
}

/* ---------------- float weights: 4 rows x 2 tokens register tiles ---------------- */

enum { FT_F32, FT_F16, FT_BF16 };

AI __m256 load_w8(const int ft, const uint8_t *p) {
    switch (ft) {
    case FT_F32: return _mm256_loadu_ps((const float *)p);
    case FT_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    default:
        return _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
    }
}
AI float load_w1(const int ft, const uint8_t *p) {
    switch (ft) {
    case FT_F32: {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    case FT_F16: return h2f(ld16(p));
    default: return ggml_bf16_to_fp32(ld16(p));
    }
}
AI float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* ggml's orders (see kernels.h): vec_dot for one token, tinyBLAS for more.
 * 16-lane vectors of ggml are pairs of 256-bit halves here (lo = lanes
 * 0-7); a 16-lane reduce_add is hsum8(hi + lo). */

/* bf16 pair lanes: u32 lane l of w holds elements 2l (low half) and 2l+1. */
AI __m256 bf_even(__m256i u) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
}
AI __m256 bf_odd(__m256i u) {
    return _mm256_castsi256_ps(_mm256_and_si256(u, _mm256_set1_epi32((int)0xffff0000u)));
}
/* One vdpbf16ps step for 8 lanes: odd product first, then even (both
 * exact, so fma == add of the product). p: 16 bf16 weights; ye, yo: the
 * even and odd activations. */
AI __m256 dpbf8(__m256 acc, const uint8_t *p, const float *ye, const float *yo) {
    const __m256i u = _mm256_loadu_si256((const __m256i *)p);
    acc = _mm256_fmadd_ps(bf_odd(u), _mm256_loadu_ps(yo), acc);
    return _mm256_fmadd_ps(bf_even(u), _mm256_loadu_ps(ye), acc);
}

/* ggml_vec_dot_{f32,f16,bf16} of one row and one activation row. */
AI float vecdot_f(const int ft, const uint8_t *x, const float *y, int n) {
    const size_t es = ft == FT_F32 ? 4 : 2;
    if (ft == FT_BF16) {
        __m256 c1l = _mm256_setzero_ps(), c1h = c1l, c2l = c1l, c2h = c1l;
        int i = 0;
        for (; i + 64 <= n; i += 64) {
            const float *y1 = y + i, *y2 = y + i + 32;
            c1l = dpbf8(c1l, x + 2 * (size_t)i, y1, y1 + 16);
            c1h = dpbf8(c1h, x + 2 * (size_t)(i + 16), y1 + 8, y1 + 24);
            c2l = dpbf8(c2l, x + 2 * (size_t)(i + 32), y2, y2 + 16);
            c2h = dpbf8(c2h, x + 2 * (size_t)(i + 48), y2 + 8, y2 + 24);
        }
        double s = (double)hsum8(_mm256_add_ps(c1h, c1l));
        s += (double)hsum8(_mm256_add_ps(c2h, c2l));
        const int n32 = n & ~31;
        for (; i < n; i++) {
            const int pos = i >= n32 ? i : (i & ~31) + ((i & 1) << 4) + ((i & 31) >> 1);
            s += (double)(load_w1(ft, x + 2 * (size_t)i) * y[pos]);
        }
        return (float)s;
    }
    __m256 c[8];
#pragma GCC unroll 8
    for (int q = 0; q < 8; q++) c[q] = _mm256_setzero_ps();
    const int np = n & ~63;
    for (int i = 0; i < np; i += 64) {
#pragma GCC unroll 8
        for (int q = 0; q < 8; q++)
            c[q] = _mm256_fmadd_ps(load_w8(ft, x + (size_t)(i + 8 * q) * es), _mm256_loadu_ps(y + i + 8 * q), c[q]);
    }
    /* x0 += x2, x1 += x3, x0 += x1 on 16-lane vectors (lo, hi halves). */
    const __m256 lo = _mm256_add_ps(_mm256_add_ps(c[0], c[4]), _mm256_add_ps(c[2], c[6]));
    const __m256 hi = _mm256_add_ps(_mm256_add_ps(c[1], c[5]), _mm256_add_ps(c[3], c[7]));
    float s = hsum8(_mm256_add_ps(hi, lo));
    if (ft == FT_F32) {
        for (int i = np; i < n; i++) s += load_w1(ft, x + (size_t)i * es) * y[i]; /* not fused */
        return s;
    }
    double d = (double)s;
    for (int i = np; i < n; i++) d += (double)(load_w1(ft, x + (size_t)i * es) * y[i]);
    return (float)d;
}

#if HK_VNNI
#define FR 4 /* rows per tinyBLAS tile (32 registers) */
#else
#define FR 2
#endif
#define FT 2 /* tokens per tile */

/* tinyBLAS: NT tokens x FR rows, one 16-lane chain each (2 x 8 lanes);
 * rows beyond cnt repeat the last one. */
AI void tiny_tile(const int ft, const int NT, const uint8_t *w, size_t wrow, int cnt, const float *act, int n,
                  float *out, size_t os) {
    const size_t es = ft == FT_F32 ? 4 : 2;
    const uint8_t *p[FR];
#pragma GCC unroll 4
    for (int i = 0; i < FR; i++) p[i] = w + (size_t)(i < cnt ? i : cnt - 1) * wrow;
    __m256 lo[FR][FT], hi[FR][FT];
#pragma GCC unroll 4
    for (int i = 0; i < FR; i++)
#pragma GCC unroll 2
        for (int k = 0; k < FT; k++) lo[i][k] = hi[i][k] = _mm256_setzero_ps();
    if (ft == FT_BF16) {
        for (int j = 0; j < n; j += 32) {
#pragma GCC unroll 4
            for (int i = 0; i < FR; i++) {
                const __m256i ul = _mm256_loadu_si256((const __m256i *)(p[i] + 2 * (size_t)j));
                const __m256i uh = _mm256_loadu_si256((const __m256i *)(p[i] + 2 * (size_t)(j + 16)));
                const __m256 el = bf_even(ul), ol = bf_odd(ul), eh = bf_even(uh), oh = bf_odd(uh);
#pragma GCC unroll 2
                for (int k = 0; k < NT; k++) {
                    const float *y = act + (size_t)k * n + j;
                    lo[i][k] = _mm256_fmadd_ps(el, _mm256_loadu_ps(y), _mm256_fmadd_ps(ol, _mm256_loadu_ps(y + 16), lo[i][k]));
                    hi[i][k] = _mm256_fmadd_ps(eh, _mm256_loadu_ps(y + 8), _mm256_fmadd_ps(oh, _mm256_loadu_ps(y + 24), hi[i][k]));
                }
            }
        }
    } else {
        for (int j = 0; j < n; j += 16) {
            __m256 al[FT], ah[FT];
#pragma GCC unroll 2
            for (int k = 0; k < NT; k++) {
                al[k] = _mm256_loadu_ps(act + (size_t)k * n + j);
                ah[k] = _mm256_loadu_ps(act + (size_t)k * n + j + 8);
            }
#pragma GCC unroll 4
            for (int i = 0; i < FR; i++) {
                const __m256 wl = load_w8(ft, p[i] + (size_t)j * es), wh = load_w8(ft, p[i] + (size_t)(j + 8) * es);
#pragma GCC unroll 2
                for (int k = 0; k < NT; k++) {
                    lo[i][k] = _mm256_fmadd_ps(wl, al[k], lo[i][k]);
                    hi[i][k] = _mm256_fmadd_ps(wh, ah[k], hi[i][k]);
                }
            }
        }
    }
    for (int i = 0; i < cnt; i++)
        for (int k = 0; k < NT; k++) out[(size_t)k * os + (size_t)i] = hsum8(_mm256_add_ps(hi[i][k], lo[i][k]));
}

AI void matmul_f(const int ft, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                 size_t os) {
    const size_t wrow = (size_t)n * (ft == FT_F32 ? 4 : 2);
    const float *a = act;
    const bool tiny = n_tok > 1 && n % (ft == FT_BF16 ? 32 : 16) == 0;
    if (!tiny) {
        for (int r = r0; r < r1; r++) {
            const uint8_t *x = (const uint8_t *)w + (size_t)r * wrow;
            /* Decode streams weights once: prefetch a few rows ahead into L2. */
            if (r + 4 < r1)
                for (size_t o = 0; o < wrow; o += 64) _mm_prefetch((const char *)x + 4 * wrow + o, _MM_HINT_T1);
            for (int t = 0; t < n_tok; t++) out[(size_t)t * os + (size_t)r] = vecdot_f(ft, x, a + (size_t)t * n, n);
        }
        return;
    }
    /* Blocking for prefill: a chunk of activations (about 192 KiB) stays in
     * L2 while a block of 32 rows passes over it. */
    int chunk = (int)((192u << 10) / ((size_t)n * 4 + 1));
    chunk -= chunk % FT;
    if (chunk < FT) chunk = FT;
    for (int rb = r0; rb < r1; rb += 32) {
        const int re = rb + 32 < r1 ? rb + 32 : r1;
        for (int c0 = 0; c0 < n_tok; c0 += chunk) {
            const int c1 = c0 + chunk < n_tok ? c0 + chunk : n_tok;
            for (int r = rb; r < re; r += FR) {
                const int cnt = re - r < FR ? re - r : FR;
                const uint8_t *wr = (const uint8_t *)w + (size_t)r * wrow;
                int t = c0;
                for (; t + FT <= c1; t += FT)
                    tiny_tile(ft, FT, wr, wrow, cnt, a + (size_t)t * n, n, out + (size_t)t * os + r, os);
                if (t < c1) tiny_tile(ft, 1, wr, wrow, cnt, a + (size_t)t * n, n, out + (size_t)t * os + r, os);
            }
        }
    }
}

static void x86_mm_f32(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_f(FT_F32, w, n, r0, r1, a, nt, o, os);
}
static void x86_mm_f16(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_f(FT_F16, w, n, r0, r1, a, nt, o, os);
}
static void x86_mm_bf16(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_f(FT_BF16, w, n, r0, r1, a, nt, o, os);
}

static void x86_fill(hearth_kernels *k) {
    k->quant[KW_F16] = x86_quant_f16;
    k->quant[KW_BF16] = x86_quant_bf16;
    k->quant[KW_Q4_0] = x86_quant_q8_0;
    k->quant[KW_Q5_0] = x86_quant_q8_0_g16;
    k->quant[KW_Q8_0] = x86_quant_q8_0_g128;
    k->quant[KW_Q4_1] = x86_quant_q8_1;
    k->quant[KW_Q5_1] = x86_quant_q8_1;
    k->matmul[KW_F32] = x86_mm_f32;
    k->matmul[KW_F16] = x86_mm_f16;
    k->matmul[KW_BF16] = x86_mm_bf16;
    k->matmul[KW_Q4_0] = x86_mm_q4_0;
    k->matmul[KW_Q4_1] = x86_mm_q4_1;
    k->matmul[KW_Q5_0] = x86_mm_q5_0;
    k->matmul[KW_Q5_1] = x86_mm_q5_1;
    k->matmul[KW_Q8_0] = x86_mm_q8_0;
}

#endif
