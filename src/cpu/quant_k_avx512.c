/* AVX512-VNNI build of the Q4_K / Q5_K / Q6_K products (quant_k_x86.h on
 * 256-bit vectors with vpdpbusd / vpdpwssd), plus Q4_K prefill on 16-row
 * tiles in 512-bit registers: the 8-row tiles of rows 0-7 and 8-15 side by
 * side (lane i = row i), so that every scale, convert and accumulate step
 * serves 16 rows. On Zen 4 a 512-bit vpdpbusd issues at half the rate of a
 * 256-bit one (the multiplies cost the same); what shrinks is the work
 * around them, as for Q4_0 in quant_avx512.c. Decode keeps the 8-row
 * tiles. Without those flags only a stub. */
#include "kernels.h"
#include "quant_k.h"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__F16C__) && defined(__FMA__)
#include "quant_k_x86.h"

KI __m512i kjoin(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
KI __m512 kjoinf(__m256 lo, __m256 hi) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}

/* acc += w (u8) . broadcast 4 bytes at p (s8), the broadcast folded into
 * the instruction's memory operand. */
KI __m512i kdpbusd16(__m512i acc, __m512i w, const int8_t *p) {
#if defined(__GNUC__)
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const uint32_t *)(const void *)p));
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, w, _mm512_set1_epi32((int)kld32(p)));
#endif
}

typedef struct {
    __m512 d, dm;      /* dw*da, dmin*da */
    __m512i pair[4];   /* int16 pairs (B_2p, B_2p+1), broadcast */
} ktok16;

/* Rows [r, r + cnt) (cnt <= 16) for tokens [t0, t0 + nt) of n_tok: kq4_block's
 * steps on 16 lanes. acc: 2 vectors per token (acc, accm). */
static void kq4_group16(const uint8_t *w, size_t wrow, int nb, int cnt, const block_q8_K *act, int t0, int nt,
                        int n_tok, float *out, size_t os, __m512 *acc) {
    krows p[2];
    for (int h = 0; h < 2; h++) {
        p[h].b = w;
        for (int i = 0; i < 8; i++) p[h].o[i] = (size_t)(8 * h + i < cnt ? 8 * h + i : cnt - 1) * wrow;
    }
    for (int k = 0; k < 2 * nt; k++) acc[k] = _mm512_setzero_ps();
    ktok16 tk[KQ_TOK];
    __m512i ib[2 * KQ_TOK];
    bool gemm[KQ_TOK];
    for (int k = 0; k < nt; k++) gemm[k] = kq4_gemm_token(t0 + k, n_tok);
    const size_t ystride = (size_t)nb * sizeof(block_q8_K);
    for (int b = 0; b < nb; b++) {
        kscales s[2];
        kscales_make(KT_Q4, &p[0], &s[0]);
        kscales_make(KT_Q4, &p[1], &s[1]);
        const __m512 d = kjoinf(s[0].d, s[1].d), dmin = kjoinf(s[0].dmin, s[1].dmin);
        const block_q8_K *y = act + (size_t)t0 * nb + b;
        for (int k = 0; k < nt; k++) {
            const block_q8_K *yt = knext(y, k * ystride);
            const __m512 da = _mm512_set1_ps(yt->d);
            tk[k].d = _mm512_mul_ps(d, da);
            tk[k].dm = _mm512_mul_ps(dmin, da);
            const __m128i bp = kbsum_pairs(yt);
            tk[k].pair[0] = _mm512_broadcastd_epi32(bp);
            tk[k].pair[1] = _mm512_broadcastd_epi32(_mm_srli_si128(bp, 4));
            tk[k].pair[2] = _mm512_broadcastd_epi32(_mm_srli_si128(bp, 8));
            tk[k].pair[3] = _mm512_broadcastd_epi32(_mm_srli_si128(bp, 12));
        }
#pragma GCC unroll 1
        for (int q = 0; q < 4; q++) {
            __m256i a0[8], a1[8], b0[8], b1[8];
            kcodes(KT_Q4, &p[0], &s[0], q, a0, a1);
            kcodes(KT_Q4, &p[1], &s[1], q, b0, b1);
            __m512i w0[8], w1[8];
#pragma GCC unroll 8
            for (int l = 0; l < 8; l++) {
                w0[l] = kjoin(a0[l], b0[l]);
                w1[l] = kjoin(a1[l], b1[l]);
            }
            const __m512i sc0 = kjoin(s[0].sc[2 * q], s[1].sc[2 * q]), sc1 = kjoin(s[0].sc[2 * q + 1], s[1].sc[2 * q + 1]);
            const __m512i mp = kjoin(s[0].mp[q], s[1].mp[q]);
            const block_q8_K *yt = y;
            for (int k = 0; k < nt; k++, yt = knext(yt, ystride)) {
                const int8_t *yq = yt->qs + 64 * q;
                __m512i c0 = _mm512_setzero_si512(), c1 = c0, e0 = c0, e1 = c0;
#pragma GCC unroll 4
                for (int l = 0; l < 8; l += 2) {
                    c0 = kdpbusd16(c0, w0[l], yq + 4 * l);
                    c1 = kdpbusd16(c1, w0[l + 1], yq + 4 * l + 4);
                    e0 = kdpbusd16(e0, w1[l], yq + 32 + 4 * l);
                    e1 = kdpbusd16(e1, w1[l + 1], yq + 32 + 4 * l + 4);
                }
                const __m512i sum = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_add_epi32(c0, c1), sc0),
                                                     _mm512_mullo_epi32(_mm512_add_epi32(e0, e1), sc1));
                const __m512i m = _mm512_madd_epi16(mp, tk[k].pair[q]);
                if (gemm[k]) {
                    acc[2 * k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), tk[k].d, acc[2 * k]);
                    acc[2 * k + 1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(m), tk[k].dm, acc[2 * k + 1]);
                } else {
                    ib[2 * k] = q ? _mm512_add_epi32(ib[2 * k], sum) : sum;
                    ib[2 * k + 1] = q ? _mm512_add_epi32(ib[2 * k + 1], m) : m;
                }
            }
        }
        for (int k = 0; k < nt; k++)
            if (!gemm[k]) {
                acc[2 * k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ib[2 * k]), tk[k].d, acc[2 * k]);
                acc[2 * k + 1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ib[2 * k + 1]), tk[k].dm, acc[2 * k + 1]);
            }
        p[0].b += sizeof(block_q4_K);
        p[1].b += sizeof(block_q4_K);
    }
    const __mmask16 keep = (__mmask16)((1u << cnt) - 1);
    for (int k = 0; k < nt; k++)
        _mm512_mask_storeu_ps(out + (size_t)(t0 + k) * os, keep, _mm512_sub_ps(acc[2 * k], acc[2 * k + 1]));
}

static void z_mm_q4_k(const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    if (n_tok <= 3) { /* decode: the 8-row tiles */
        kq_mm_q4(w, n, r0, r1, act, n_tok, out, os);
        return;
    }
    const int nb = n / QK_K;
    const size_t wrow = (size_t)nb * sizeof(block_q4_K);
    __m512 acc[2 * KQ_TOK];
    for (int rb = r0; rb < r1; rb += KQ_ROWBLOCK) {
        const int re = rb + KQ_ROWBLOCK < r1 ? rb + KQ_ROWBLOCK : r1;
        for (int t0 = 0; t0 < n_tok; t0 += KQ_TOK) {
            const int nt = n_tok - t0 < KQ_TOK ? n_tok - t0 : KQ_TOK;
            for (int r = rb; r < re; r += 16)
                kq4_group16((const uint8_t *)w + (size_t)r * wrow, wrow, nb, re - r < 16 ? re - r : 16, act, t0, nt,
                            n_tok, out + r, os, acc);
        }
    }
}

void kernels_k_avx512_fill(hearth_kernels *k) {
    kq_x86_fill(k);
    k->matmul[KW_Q4_K] = z_mm_q4_k;
}
#else
void kernels_k_avx512_fill(hearth_kernels *k) {
    (void)k;
}
#endif
