/* ARM64 NEON products of F32, F16 and BF16 weights with their f32
 * activation rows, in the scalar reference's float order (quant_scalar.c's
 * dot_float, after ggml's AVX-512 vec_dot and tinyBLAS): the same lanes,
 * fmas and reductions, so the same bits. Needs only base NEON. */
#ifndef HEARTH_CPU_QUANT_FLOAT_NEON_H
#define HEARTH_CPU_QUANT_FLOAT_NEON_H

#include <arm_neon.h>
#include <stdbool.h>
#include <string.h>

#include "kernels.h"
#include "model/ggml_types.h"
#include "neon_dot.h"

enum neon_ftype { NF_F32, NF_F16, NF_BF16 };

/* Weights i..i+3 as f32 (f16 and bf16 convert exactly). */
NEON_AI float32x4_t neon_wload4(enum neon_ftype ft, const unsigned char *x, int i) {
    if (ft == NF_F32) return vld1q_f32((const float *)(const void *)(x + 4 * (size_t)i));
    const uint16x4_t h = vld1_u16((const uint16_t *)(const void *)(x + 2 * (size_t)i));
    if (ft == NF_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
}

NEON_AI float neon_wload1(enum neon_ftype ft, const unsigned char *x, int i) {
    if (ft == NF_F32) {
        float f;
        memcpy(&f, x + 4 * (size_t)i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, x + 2 * (size_t)i, 2);
    return ft == NF_F16 ? neon_half(h) : ggml_bf16_to_fp32(h);
}

/* _mm512_reduce_add_ps of 16 lanes c[0..3] (scalar red16f). */
NEON_AI float neon_red16(const float32x4_t c[4]) {
    return neon_hsum8(vaddq_f32(c[2], c[0]), vaddq_f32(c[3], c[1]));
}

/* One dpbf16 step over a chunk of 32 weights at x (pairs 2l, 2l + 1) and
 * its activations y (y[l] the even partner, y[16 + l] the odd): lane l
 * adds the odd product, then the even one (both exact in float). */
NEON_AI void neon_dpbf16(float32x4_t c[4], const unsigned char *x, const float *y) {
    for (int v = 0; v < 2; v++) {
        const uint16x8x2_t w = vld2q_u16((const uint16_t *)(const void *)x + 16 * v);
        for (int h = 0; h < 2; h++) {
            const int l = 8 * v + 4 * h; /* lanes l..l+3 */
            const uint16x4_t we = h ? vget_high_u16(w.val[0]) : vget_low_u16(w.val[0]);
            const uint16x4_t wo = h ? vget_high_u16(w.val[1]) : vget_low_u16(w.val[1]);
            const float32x4_t pe = vmulq_f32(vreinterpretq_f32_u32(vshll_n_u16(we, 16)), vld1q_f32(y + l));
            const float32x4_t po = vmulq_f32(vreinterpretq_f32_u32(vshll_n_u16(wo, 16)), vld1q_f32(y + 16 + l));
            c[l / 4] = vaddq_f32(vaddq_f32(c[l / 4], po), pe);
        }
    }
}

NEON_AI float neon_dot_float(enum neon_ftype ft, bool tiny, const unsigned char *x, const float *y, int n) {
    const int n32 = n & ~31;
    if (ft == NF_BF16) {
        float32x4_t c1[4], c2[4];
        for (int v = 0; v < 4; v++) c1[v] = c2[v] = vdupq_n_f32(0.0f);
        if (tiny) { /* tinyBLAS<32, __m512, __m512bh> */
            for (int i = 0; i < n; i += 32) neon_dpbf16(c1, x + 2 * (size_t)i, y + i);
            return neon_red16(c1);
        }
        int i = 0; /* ggml_vec_dot_bf16 */
        for (; i + 64 <= n; i += 64) {
            neon_dpbf16(c1, x + 2 * (size_t)i, y + i);
            neon_dpbf16(c2, x + 2 * (size_t)i + 64, y + i + 32);
        }
        double s = (double)neon_red16(c1);
        s += (double)neon_red16(c2);
        for (; i < n; i++) s += (double)(neon_wload1(ft, x, i) * y[kernels_bf16_pos(i, n32)]);
        return (float)s;
    }
    if (tiny) { /* tinyBLAS<16, __m512, __m512> */
        float32x4_t c[4];
        for (int v = 0; v < 4; v++) c[v] = vdupq_n_f32(0.0f);
        for (int i = 0; i < n; i += 16)
            for (int v = 0; v < 4; v++) c[v] = vfmaq_f32(c[v], neon_wload4(ft, x, i + 4 * v), vld1q_f32(y + i + 4 * v));
        return neon_red16(c);
    }
    /* ggml_vec_dot_f32 / f16: 64 lanes over steps of 64, then x0 += x2,
     * x1 += x3, x0 += x1, reduce_add. */
    float32x4_t c[16];
    for (int v = 0; v < 16; v++) c[v] = vdupq_n_f32(0.0f);
    const int np = n & ~63;
    for (int i = 0; i < np; i += 64)
        for (int v = 0; v < 16; v++) c[v] = vfmaq_f32(c[v], neon_wload4(ft, x, i + 4 * v), vld1q_f32(y + i + 4 * v));
    float32x4_t x0[4];
    for (int v = 0; v < 4; v++) x0[v] = vaddq_f32(vaddq_f32(c[v], c[8 + v]), vaddq_f32(c[4 + v], c[12 + v]));
    float s = neon_red16(x0);
    if (ft == NF_F32) {
        for (int i = np; i < n; i++) {
            const float p = neon_wload1(ft, x, i) * y[i]; /* not fused */
            s += p;
        }
        return s;
    }
    double d = (double)s;
    for (int i = np; i < n; i++) d += (double)(neon_wload1(ft, x, i) * y[i]);
    return (float)d;
}

NEON_AI void neon_matmul_float(enum neon_ftype ft, const void *w, int n, int r0, int r1, const void *act, int n_tok,
                                     float *out, size_t os) {
    const size_t esize = ft == NF_F32 ? 4 : 2;
    const bool tiny = n_tok > 1 && n % (ft == NF_BF16 ? 32 : 16) == 0;
    const float *a = act;
    for (int r = r0; r < r1; r++) {
        const unsigned char *x = (const unsigned char *)w + (size_t)r * (size_t)n * esize;
        for (int t = 0; t < n_tok; t++) out[(size_t)t * os + (size_t)r] = neon_dot_float(ft, tiny, x, a + (size_t)t * (size_t)n, n);
    }
}

static void neon_mm_f32(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_float(NF_F32, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_f16(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_float(NF_F16, w, n, r0, r1, a, nt, o, os);
}
static void neon_mm_bf16(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    neon_matmul_float(NF_BF16, w, n, r0, r1, a, nt, o, os);
}

static void neon_float_fill(hearth_kernels *k) {
    k->matmul[KW_F32] = neon_mm_f32;
    k->matmul[KW_F16] = neon_mm_f16;
    k->matmul[KW_BF16] = neon_mm_bf16;
}

#endif
