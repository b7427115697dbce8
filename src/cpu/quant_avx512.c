/* AVX512-VNNI kernels. Compiled with -mavx2 -mfma -mf16c -mavx512f
 * -mavx512vl -mavx512bw -mavx512vnni; without those flags the file is only a
 * stub (kernels_avx512_fill returns false), so a plain build still links.
 *
 * Activation quantization and the float kernels are the shared bodies of
 * quant_simd_x86.h (built here with 32 registers and vpdpbusd). The
 * quantized matmuls are redone here with 16-row tiles in 512-bit registers:
 * the same transposed layout as the 8-row AVX2 tiles (lane i = row i), but
 * every transpose, scale and accumulate instruction now serves 16 rows and
 * one vpdpbusd does 64 byte products. On Zen 4 a 512-bit vpdpbusd issues at
 * half the rate of a 256-bit one, so the multiply throughput is unchanged;
 * what shrinks is the per-token scaling work around it: prefill gains 15%.
 * Decode (1-3 tokens) stays on the 8-row 256-bit tiles, measured 10%
 * faster there than 16-row ones. */
#include "kernels.h"
#include "quant_lowbit.h"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__F16C__) && \
    defined(__FMA__)
#include "quant_simd_x86.h"
#include "quant_k.h"

/* The 16 rows of a group: row i's current block is at b + o[i]. */
typedef struct {
    const uint8_t *b;
    size_t o[16];
} rowset16;
#define RQ(rs, i, off) ((rs)->b + (rs)->o[i] + (off))

/* 16 bytes at off of rows r, r+4, r+8, r+12, one per 128-bit lane. */
AI __m512i load4x128(const rowset16 *p, int r, size_t off) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)RQ(p, r, off)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)RQ(p, r + 4, off)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)RQ(p, r + 8, off)), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)RQ(p, r + 12, off)), 3);
}

/* o[j] 32-bit lane i = bytes 4j..4j+3 at off of row i: a 4x4 transpose in
 * each 128-bit lane k turns rows {r + 4k} into lanes 4k..4k+3. */
AI void load_t16x16(const rowset16 *p, size_t off, __m512i *o) {
    const __m512i a0 = load4x128(p, 0, off), a1 = load4x128(p, 1, off);
    const __m512i a2 = load4x128(p, 2, off), a3 = load4x128(p, 3, off);
    const __m512i t0 = _mm512_unpacklo_epi32(a0, a1), t1 = _mm512_unpackhi_epi32(a0, a1);
    const __m512i t2 = _mm512_unpacklo_epi32(a2, a3), t3 = _mm512_unpackhi_epi32(a2, a3);
    o[0] = _mm512_unpacklo_epi64(t0, t2);
    o[1] = _mm512_unpackhi_epi64(t0, t2);
    o[2] = _mm512_unpacklo_epi64(t1, t3);
    o[3] = _mm512_unpackhi_epi64(t1, t3);
}

AI __m128i gather8_h(const rowset16 *p, int r, size_t off) {
    __m128i h = _mm_cvtsi32_si128(ld16(RQ(p, r, off)));
    h = _mm_insert_epi16(h, ld16(RQ(p, r + 1, off)), 1);
    h = _mm_insert_epi16(h, ld16(RQ(p, r + 2, off)), 2);
    h = _mm_insert_epi16(h, ld16(RQ(p, r + 3, off)), 3);
    h = _mm_insert_epi16(h, ld16(RQ(p, r + 4, off)), 4);
    h = _mm_insert_epi16(h, ld16(RQ(p, r + 5, off)), 5);
    h = _mm_insert_epi16(h, ld16(RQ(p, r + 6, off)), 6);
    return _mm_insert_epi16(h, ld16(RQ(p, r + 7, off)), 7);
}

AI __m512 gather16_half(const rowset16 *p, size_t off) {
    const __m256i h =
        _mm256_inserti128_si256(_mm256_castsi128_si256(gather8_h(p, 0, off)), gather8_h(p, 8, off), 1);
    return _mm512_cvtph_ps(h);
}

AI __m128i gather4_u32(const rowset16 *p, int r, size_t off) {
    __m128i v = _mm_cvtsi32_si128((int)ld32(RQ(p, r, off)));
    v = _mm_insert_epi32(v, (int)ld32(RQ(p, r + 1, off)), 1);
    v = _mm_insert_epi32(v, (int)ld32(RQ(p, r + 2, off)), 2);
    return _mm_insert_epi32(v, (int)ld32(RQ(p, r + 3, off)), 3);
}

AI __m512i gather16_u32(const rowset16 *p, size_t off) {
    __m512i v = _mm512_castsi128_si512(gather4_u32(p, 0, off));
    v = _mm512_inserti32x4(v, gather4_u32(p, 4, off), 1);
    v = _mm512_inserti32x4(v, gather4_u32(p, 8, off), 2);
    return _mm512_inserti32x4(v, gather4_u32(p, 12, off), 3);
}

typedef struct {
    __m512i w[8]; /* w[m] lane i: unsigned codes of elements 4m..4m+3 of row i */
    __m512 d, m;  /* per-row scale and (Q4_1/Q5_1) min */
} wtile16;

AI void prep16(const int ty, const rowset16 *p, wtile16 *t) {
    t->d = gather16_half(p, 0);
    if (ty_q81(ty)) t->m = gather16_half(p, 2);
    if (ty == TY_Q8_0) {
        __m512i a[4], b[4];
        load_t16x16(p, 2, a);
        load_t16x16(p, 18, b);
        const __m512i off = _mm512_set1_epi8((char)0x80); /* code + 128: unsigned */
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            t->w[j] = _mm512_xor_si512(a[j], off);
            t->w[j + 4] = _mm512_xor_si512(b[j], off);
        }
        return;
    }
    __m512i q[4];
    load_t16x16(p, ty_qs_off(ty), q);
    const __m512i lo = _mm512_set1_epi8(0x0f);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        t->w[j] = _mm512_and_si512(q[j], lo);
        t->w[j + 4] = _mm512_and_si512(_mm512_srli_epi16(q[j], 4), lo);
    }
    if (ty == TY_Q5_0 || ty == TY_Q5_1) {
        /* Fifth bits as in the AVX2 tiles: byte k of w[m] takes bit 4m+k of
         * the row's qh (byte m/2 broadcast over the lane, bit k + 4(m&1)). */
        const __m512i qh = gather16_u32(p, ty == TY_Q5_0 ? 2 : 4);
        const __m512i b10 = _mm512_set1_epi8(0x10);
#pragma GCC unroll 8
        for (int m = 0; m < 8; m++) {
            const int s = m >> 1;
            const __m512i ctrl = _mm512_set4_epi32((12 + s) * 0x01010101, (8 + s) * 0x01010101,
                                                   (4 + s) * 0x01010101, s * 0x01010101);
            const int sh = 4 * (m & 1);
            const __m512i bits = _mm512_set1_epi32((int)((1u << sh) | (2u << (sh + 8)) | (4u << (sh + 16)) |
                                                         (8u << (sh + 24))));
            const __mmask64 set = _mm512_test_epi8_mask(_mm512_shuffle_epi8(qh, ctrl), bits);
            t->w[m] = _mm512_mask_add_epi8(t->w[m], set, t->w[m], b10); /* bit 4 was clear */
        }
    }
}

/* acc += w (u8) . broadcast 4 bytes at p (s8), the broadcast folded into
 * the memory operand. */
AI __m512i dpbusd16_b(__m512i acc, __m512i w, const uint8_t *p) {
#if defined(__GNUC__)
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const uint32_t *)(const void *)p));
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, w, _mm512_set1_epi32((int)ld32(p)));
#endif
}

AI __m512i bcast16(const void *p) {
    return _mm512_set1_epi32((int)ld32(p));
}

/* Exact integer block dots of the 16 rows with one activation block. */
AI __m512i dot16(const int ty, const wtile16 *t, const uint8_t *yq, const uint8_t *bias8) {
    __m512i c0, c1 = _mm512_setzero_si512();
    switch (ty) {
    case TY_Q4_0: c0 = bcast16(bias8); break;
    case TY_Q5_0: c0 = _mm512_slli_epi32(bcast16(bias8), 1); break;
    case TY_Q8_0: c0 = _mm512_slli_epi32(bcast16(bias8), 4); break;
    default: c0 = _mm512_setzero_si512(); break;
    }
#pragma GCC unroll 4
    for (int m = 0; m < 8; m += 2) {
        c0 = dpbusd16_b(c0, t->w[m], yq + 4 * m);
        c1 = dpbusd16_b(c1, t->w[m + 1], yq + 4 * m + 4);
    }
    return _mm512_add_epi32(c0, c1);
}

AI __m512 acc16(const int ty, const wtile16 *t, const uint8_t *yb, const uint8_t *aux, __m512 acc) {
    float ad;
    memcpy(&ad, aux, 4);
    const __m512i isum = dot16(ty, t, yb + (ty_q81(ty) ? 4 : 2), aux + 4);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(t->d, _mm512_set1_ps(ad)), acc);
    if (ty_q81(ty)) {
        float s;
        memcpy(&s, aux + 4, 4);
        acc = _mm512_fmadd_ps(t->m, _mm512_set1_ps(s), acc);
    }
    return acc;
}

AI void store16(float *dst, __m512 v, int cnt) {
    if (cnt == 16)
        _mm512_storeu_ps(dst, v);
    else
        _mm512_mask_storeu_ps(dst, (__mmask16)((1u << cnt) - 1), v);
}

typedef struct {
    const uint8_t *w; /* first row of the group */
    size_t wrow;      /* bytes per weight row */
    int nb, cnt;      /* blocks per row, valid rows in the group (1..16) */
    const uint8_t *act;
    size_t arow, aux_off;
    float *out; /* &out[t0 * os + first row] */
    size_t os;
    const uint8_t *wend; /* end of this call's rows: no prefetch past it */
} group16_args;

AI void rows16(const group16_args *g, rowset16 *p) {
    p->b = g->w;
    for (int i = 0; i < 16; i++) p->o[i] = (size_t)(i < g->cnt ? i : g->cnt - 1) * g->wrow;
}

/* Software prefetch two groups ahead into L2, linearly over the group's
 * contiguous rows (see prefetch8 in quant_simd_x86.h): one block's share,
 * at pf; returns the next share's start. Without it a group's 16 row streams
 * from memory wait on each block's loads (4 rows took 4x 3 rows' time on a
 * model's output matrix). */
AI const uint8_t *prefetch16(const uint8_t *pf, size_t bs) {
#pragma GCC unroll 16
    for (size_t o = 0; o < 16 * bs; o += 64) _mm_prefetch((const char *)pf + o, _MM_HINT_T1);
    return pf + 16 * bs;
}

/* Few tokens (decode, and a server's batch of decode rows): accumulators
 * in registers, NT = 1..8 (8 accumulators, the tile's 8 code vectors and
 * its scales fit the 32 registers). */
AI void group16_regs(const int ty, const int NT, const group16_args *g) {
    rowset16 p;
    rows16(g, &p);
    const size_t bs = ty_bsize(ty), ab = ty_q81(ty) ? sizeof(block_q8_1) : sizeof(block_q8_0);
    __m512 acc[8];
    for (int k = 0; k < NT; k++) acc[k] = _mm512_setzero_ps();
    const uint8_t *pf = g->w + 2 * 16 * g->wrow;
    const bool pf_on = pf < g->wend;
    for (int b = 0; b < g->nb; b++) {
        if (pf_on) pf = prefetch16(pf, bs);
        wtile16 t;
        prep16(ty, &p, &t);
        p.b += bs;
#pragma GCC unroll 8
        for (int k = 0; k < NT; k++) {
            const uint8_t *a = g->act + (size_t)k * g->arow;
            acc[k] = acc16(ty, &t, a + (size_t)b * ab, a + g->aux_off + 8 * (size_t)b, acc[k]);
        }
    }
    for (int k = 0; k < NT; k++) store16(g->out + (size_t)k * g->os, acc[k], g->cnt);
}

/* Many tokens (prefill): one weight tile serves all nt tokens; the
 * accumulators live in an L1 buffer. */
AI void group16_mem(const int ty, const group16_args *g, int nt, __m512 *accbuf) {
    rowset16 p;
    rows16(g, &p);
    const size_t bs = ty_bsize(ty), ab = ty_q81(ty) ? sizeof(block_q8_1) : sizeof(block_q8_0);
    for (int k = 0; k < nt; k++) accbuf[k] = _mm512_setzero_ps();
    const uint8_t *pf = g->w + 2 * 16 * g->wrow;
    const bool pf_on = pf < g->wend;
    for (int b = 0; b < g->nb; b++) {
        if (pf_on) pf = prefetch16(pf, bs);
        wtile16 t;
        prep16(ty, &p, &t);
        p.b += bs;
        const uint8_t *a = g->act + (size_t)b * ab;
        const uint8_t *x = g->act + g->aux_off + 8 * (size_t)b;
        for (int k = 0; k < nt; k++) {
            accbuf[k] = acc16(ty, &t, a, x, accbuf[k]);
            a += g->arow;
            x += g->arow;
        }
    }
    for (int k = 0; k < nt; k++) store16(g->out + (size_t)k * g->os, accbuf[k], g->cnt);
}

AI void matmul16(const int ty, const void *w, int n, int r0, int r1, const void *act, int n_tok, float *out,
                 size_t os) {
    const int nb = n / 32;
    group16_args g;
    g.wrow = (size_t)nb * ty_bsize(ty);
    g.nb = nb;
    g.aux_off = kernels_act_aux_offset(n, ty_q81(ty));
    g.arow = g.aux_off + 8 * (size_t)nb;
    g.os = os;
    g.wend = (const uint8_t *)w + (size_t)r1 * g.wrow;
    int chunk = (int)((256u << 10) / g.arow); /* activations kept in L2 */
    if (chunk > TOK_CHUNK) chunk = TOK_CHUNK;
    if (chunk < 4) chunk = 4;
    __m512 accbuf[TOK_CHUNK];
    for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
        const int re = rb + ROW_BLOCK < r1 ? rb + ROW_BLOCK : r1;
        for (int t0 = 0; t0 < n_tok; t0 += chunk) {
            const int nt = n_tok - t0 < chunk ? n_tok - t0 : chunk;
            g.act = (const uint8_t *)act + (size_t)t0 * g.arow;
            for (int r = rb; r < re; r += 16) {
                g.w = (const uint8_t *)w + (size_t)r * g.wrow;
                g.cnt = re - r < 16 ? re - r : 16;
                g.out = out + (size_t)t0 * os + (size_t)r;
                switch (nt) {
                case 1: group16_regs(ty, 1, &g); break;
                case 2: group16_regs(ty, 2, &g); break;
                case 3: group16_regs(ty, 3, &g); break;
                case 4: group16_regs(ty, 4, &g); break;
                case 5: group16_regs(ty, 5, &g); break;
                case 6: group16_regs(ty, 6, &g); break;
                case 7: group16_regs(ty, 7, &g); break;
                case 8: group16_regs(ty, 8, &g); break;
                default: group16_mem(ty, &g, nt, accbuf); break;
                }
            }
        }
    }
}

static void z_mm_q4_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    if (nt <= 3)
        matmul_q(TY_Q4_0, w, n, r0, r1, a, nt, o, os);
    else
        matmul16(TY_Q4_0, w, n, r0, r1, a, nt, o, os);
}
bool kernels_avx512_fill(hearth_kernels *k) {
    x86_fill(k);
    kernels_k_avx512_fill(k);
    lowbit_avx512_fill(k);
    /* The 16-row tiles keep Q4_0's block order (ggml's repacked Q4_0); the
     * other types need ggml's 8-lane order, done by the 8-row tiles. */
#ifndef HK_YMM_ONLY /* -DHK_YMM_ONLY: measure the 8-row tiles alone */
    k->matmul[KW_Q4_0] = z_mm_q4_0;
#endif
    k->name = "avx512vnni";
    return true;
}
#else
bool kernels_avx512_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
