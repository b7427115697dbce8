/* Portable scalar kernels: the reference the SIMD paths are tested against,
 * and the path for CPUs (and wasm builds) without a SIMD implementation.
 * Integer block dot products are exact; float accumulation follows ggml's
 * generic C code (block by block in float, float types in double). */
#include <math.h>
#include <string.h>

#include "model/ggml_types.h"
#include "kernels.h"
#include "quant_k.h"
#include "quant_lowbit.h"

/* Round half to even of a float of magnitude < 2^22, computed on its bits:
 * the product must be rounded to float first (as the SIMD code does), and
 * going through the bit pattern stops a compiler from fusing the multiply
 * into the rounding (fp-contract would change ties). */
static inline int32_t round_even_bits(float v) {
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    uint32_t exp = (b >> 23) & 0xffu;
    if (exp < 126) return 0; /* |v| < 0.5 */
    uint32_t sig = (b & 0x7fffffu) | 0x800000u;
    uint32_t shift = 150 - exp; /* value = sig * 2^-shift, shift in [1, 24] here */
    uint32_t q = sig >> shift;
    uint32_t rem = sig & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1u))) q++;
    return (b >> 31) ? -(int32_t)q : (int32_t)q;
}

/* One block of activation quantization, as ggml's x86 quantize_row_q8_0/1:
 * d = amax/127 stored as fp16, codes = round_even(x * (127/amax)). */
static float quant_block_8(const float *x, int8_t *qs, int *sum_out) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    const float d = amax / 127.f;
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < 32; j++) {
        int32_t q = round_even_bits(x[j] * id);
        qs[j] = (int8_t)q;
        sum += q;
    }
    *sum_out = sum;
    return d;
}

static void quant_q8_0(const float *x, void *dst, int n) {
    kernels_fill_q8_0_row(x, dst, n, 0, quant_block_8);
}
static void quant_q8_0_g16(const float *x, void *dst, int n) {
    kernels_fill_q8_0_row(x, dst, n, -16, quant_block_8);
}
static void quant_q8_0_g128(const float *x, void *dst, int n) {
    kernels_fill_q8_0_row(x, dst, n, -128, quant_block_8);
}
static void quant_q8_1(const float *x, void *dst, int n) {
    kernels_fill_q8_1_row(x, dst, n, quant_block_8);
}

static void quant_f16(const float *x, void *dst, int n) {
    float *y = dst;
    for (int i = 0; i < n; i++) y[i] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(x[i]));
}

static void quant_bf16(const float *x, void *dst, int n) {
    float *y = dst;
    const int n32 = n & ~31;
    for (int i = 0; i < n; i++) y[kernels_bf16_pos(i, n32)] = ggml_bf16_to_fp32(ggml_fp32_to_bf16(x[i]));
}

static void quant_f32(const float *x, void *dst, int n) {
    memcpy(dst, x, (size_t)n * sizeof(float));
}

/* ---- quantized weights: decode a block to signed codes, then exact dots ---- */

typedef struct {
    int8_t q[32];
    float d, m;
} wblock;

static void dec_q4_0(const void *p, wblock *o) {
    const block_q4_0 *x = p;
    for (int j = 0; j < 16; j++) {
        o->q[j] = (int8_t)((x->qs[j] & 0x0f) - 8);
        o->q[j + 16] = (int8_t)((x->qs[j] >> 4) - 8);
    }
    o->d = ggml_fp16_to_fp32(x->d);
    o->m = 0.0f;
}

static void dec_q4_1(const void *p, wblock *o) {
    const block_q4_1 *x = p;
    for (int j = 0; j < 16; j++) {
        o->q[j] = (int8_t)(x->qs[j] & 0x0f);
        o->q[j + 16] = (int8_t)(x->qs[j] >> 4);
    }
    o->d = ggml_fp16_to_fp32(x->d);
    o->m = ggml_fp16_to_fp32(x->m);
}

/* Q5: bit j of qh is the fifth bit of element j (j < 32). */
static void dec_q5_0(const void *p, wblock *o) {
    const block_q5_0 *x = p;
    uint32_t qh;
    memcpy(&qh, x->qh, 4);
    for (int j = 0; j < 16; j++) {
        int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
        o->q[j] = (int8_t)(((x->qs[j] & 0x0f) | (h0 << 4)) - 16);
        o->q[j + 16] = (int8_t)(((x->qs[j] >> 4) | (h1 << 4)) - 16);
    }
    o->d = ggml_fp16_to_fp32(x->d);
    o->m = 0.0f;
}

static void dec_q5_1(const void *p, wblock *o) {
    const block_q5_1 *x = p;
    uint32_t qh;
    memcpy(&qh, x->qh, 4);
    for (int j = 0; j < 16; j++) {
        int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
        o->q[j] = (int8_t)((x->qs[j] & 0x0f) | (h0 << 4));
        o->q[j + 16] = (int8_t)((x->qs[j] >> 4) | (h1 << 4));
    }
    o->d = ggml_fp16_to_fp32(x->d);
    o->m = ggml_fp16_to_fp32(x->m);
}

static void dec_q8_0(const void *p, wblock *o) {
    const block_q8_0 *x = p;
    memcpy(o->q, x->qs, 32);
    o->d = ggml_fp16_to_fp32(x->d);
    o->m = 0.0f;
}

typedef void (*dec_fn)(const void *, wblock *);

#define TOK_TILE 4

/* ggml's hsum_float_8 and _mm512_reduce_add_ps (GCC's order). */
static inline float hsum8f(const float *a) {
    return ((a[4] + a[0]) + (a[6] + a[2])) + ((a[5] + a[1]) + (a[7] + a[3]));
}
static inline float red16f(const float *a) {
    float t[8];
    for (int j = 0; j < 8; j++) t[j] = a[8 + j] + a[j];
    return hsum8f(t);
}

/* Each weight block is decoded once and used for up to TOK_TILE tokens.
 * lanes false (Q4_0, repacked by ggml): acc = fma(block sum, dw*da, acc).
 * lanes true (vec_dot / tinyBLAS_Q0): 8 lanes of 4-element sums, hsum8 at
 * the end. q81: activations are Q8_1 and weights carry a min m, summed
 * separately with fma. */
static inline void matmul_quant(dec_fn dec, size_t bsize, bool q81, bool lanes, const void *w, int n,
                                int r0, int r1, const void *act, int n_tok, float *out, size_t os) {
    const int nb = n / 32;
    const size_t wrow = (size_t)nb * bsize;
    const size_t aux_off = kernels_act_aux_offset(n, q81);
    const size_t arow = q81 ? aux_off + 8 * (size_t)nb
                            : (lanes ? kernels_act_gbias_offset(n) + 32 * (size_t)nb : aux_off + 8 * (size_t)nb);
    const size_t ablk = q81 ? sizeof(block_q8_1) : sizeof(block_q8_0);
    const size_t qoff = q81 ? 4 : 2; /* offset of qs in the activation block */
    for (int r = r0; r < r1; r++) {
        const unsigned char *x = (const unsigned char *)w + (size_t)r * wrow;
        for (int t0 = 0; t0 < n_tok; t0 += TOK_TILE) {
            const int nt = n_tok - t0 < TOK_TILE ? n_tok - t0 : TOK_TILE;
            float acc[TOK_TILE][8] = {{0}}, summs[TOK_TILE] = {0};
            for (int b = 0; b < nb; b++) {
                wblock wb;
                dec(x + (size_t)b * bsize, &wb);
                for (int t = 0; t < nt; t++) {
                    const unsigned char *arow_t = (const unsigned char *)act + (size_t)(t0 + t) * arow;
                    const int8_t *yq = (const int8_t *)(arow_t + (size_t)b * ablk + qoff);
                    /* Both aux layouts start with {float d; 4 bytes}. */
                    float aux[2];
                    memcpy(aux, arow_t + aux_off + 8 * (size_t)b, 8);
                    const float dd = wb.d * aux[0];
                    if (!lanes) {
                        int sumi = 0;
                        for (int j = 0; j < 32; j++) sumi += wb.q[j] * yq[j];
                        acc[t][0] = fmaf((float)sumi, dd, acc[t][0]);
                        continue;
                    }
                    for (int l = 0; l < 8; l++) {
                        int s4 = 0;
                        for (int j = 4 * l; j < 4 * l + 4; j++) s4 += wb.q[j] * yq[j];
                        acc[t][l] = fmaf(dd, (float)s4, acc[t][l]);
                    }
                    if (q81) summs[t] = fmaf(wb.m, aux[1], summs[t]);
                }
            }
            for (int t = 0; t < nt; t++)
                out[(size_t)(t0 + t) * os + (size_t)r] =
                    !lanes ? acc[t][0] : (q81 ? hsum8f(acc[t]) + summs[t] : hsum8f(acc[t]));
        }
    }
}

static void mm_q4_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_quant(dec_q4_0, sizeof(block_q4_0), false, false, w, n, r0, r1, a, nt, o, os);
}
static void mm_q4_1(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_quant(dec_q4_1, sizeof(block_q4_1), true, true, w, n, r0, r1, a, nt, o, os);
}
static void mm_q5_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_quant(dec_q5_0, sizeof(block_q5_0), false, true, w, n, r0, r1, a, nt, o, os);
}
static void mm_q5_1(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_quant(dec_q5_1, sizeof(block_q5_1), true, true, w, n, r0, r1, a, nt, o, os);
}
static void mm_q8_0(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_quant(dec_q8_0, sizeof(block_q8_0), false, true, w, n, r0, r1, a, nt, o, os);
}

/* ---- float weights: activations are f32 (already rounded to the weight's
 * precision). Orders as ggml's AVX512 vec_dot (one token) and tinyBLAS
 * (several tokens), see kernels.h. ---- */

static inline float half_fast(uint16_t h) {
    /* Normal halves by bit moves; zeros, subnormals, inf and NaN (rare in
     * weights) by the full conversion. */
    uint32_t e = (h >> 10) & 0x1fu;
    if (e - 1u < 30u) {
        uint32_t bits = ((uint32_t)(h & 0x8000u) << 16) | (((h & 0x7fffu) + 0x1c000u) << 13);
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    return ggml_fp16_to_fp32(h);
}

enum ftype { FT_F32, FT_F16, FT_BF16 };

static inline float wload(enum ftype ft, const unsigned char *x, int i) {
    if (ft == FT_F32) {
        float f;
        memcpy(&f, x + 4 * (size_t)i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, x + 2 * (size_t)i, 2);
    return ft == FT_F16 ? half_fast(h) : ggml_bf16_to_fp32(h);
}

/* One dpbf16 lane step over the pair (2l, 2l+1) of a 32-element chunk at
 * i: the odd product is added first; both products are exact in float. */
static inline float dpbf16_lane(float acc, const unsigned char *x, const float *y, int i, int l) {
    const float pe = wload(FT_BF16, x, i + 2 * l) * y[i + l];
    const float po = wload(FT_BF16, x, i + 2 * l + 1) * y[i + 16 + l];
    const float t = acc + po;
    return t + pe;
}

static float dot_float(enum ftype ft, bool tiny, const unsigned char *x, const float *y, int n) {
    const int n32 = n & ~31;
    if (ft == FT_BF16) {
        if (tiny) { /* tinyBLAS<32, __m512, __m512bh> */
            float c[16] = {0};
            for (int i = 0; i < n; i += 32)
                for (int l = 0; l < 16; l++) c[l] = dpbf16_lane(c[l], x, y, i, l);
            return red16f(c);
        }
        float c1[16] = {0}, c2[16] = {0}; /* ggml_vec_dot_bf16 */
        int i = 0;
        for (; i + 64 <= n; i += 64)
            for (int l = 0; l < 16; l++) {
                c1[l] = dpbf16_lane(c1[l], x, y, i, l);
                c2[l] = dpbf16_lane(c2[l], x, y, i + 32, l);
            }
        double s = (double)red16f(c1);
        s += (double)red16f(c2);
        for (; i < n; i++) s += (double)(wload(ft, x, i) * y[kernels_bf16_pos(i, n32)]);
        return (float)s;
    }
    if (tiny) { /* tinyBLAS<16, __m512, __m512> */
        float c[16] = {0};
        for (int i = 0; i < n; i += 16)
            for (int l = 0; l < 16; l++) c[l] = fmaf(wload(ft, x, i + l), y[i + l], c[l]);
        return red16f(c);
    }
    /* ggml_vec_dot_f32 / f16: 4 x 16 lanes over steps of 64, then
     * x0 += x2, x1 += x3, x0 += x1, reduce_add. */
    float c[64] = {0};
    const int np = n & ~63;
    for (int i = 0; i < np; i += 64)
        for (int l = 0; l < 64; l++) c[l] = fmaf(wload(ft, x, i + l), y[i + l], c[l]);
    float x0[16];
    for (int l = 0; l < 16; l++) x0[l] = (c[l] + c[32 + l]) + (c[16 + l] + c[48 + l]);
    float s = red16f(x0);
    if (ft == FT_F32) {
        for (int i = np; i < n; i++) s += wload(ft, x, i) * y[i]; /* not fused */
        return s;
    }
    double d = (double)s;
    for (int i = np; i < n; i++) d += (double)(wload(ft, x, i) * y[i]);
    return (float)d;
}

static inline void matmul_float(enum ftype ft, const void *w, int n, int r0, int r1, const void *act,
                                int n_tok, float *out, size_t os) {
    const size_t esize = ft == FT_F32 ? 4 : 2;
    const bool tiny = n_tok > 1 && n % (ft == FT_BF16 ? 32 : 16) == 0;
    const float *a = act;
    for (int r = r0; r < r1; r++) {
        const unsigned char *x = (const unsigned char *)w + (size_t)r * (size_t)n * esize;
        for (int t = 0; t < n_tok; t++)
            out[(size_t)t * os + (size_t)r] = dot_float(ft, tiny, x, a + (size_t)t * (size_t)n, n);
    }
}

static void mm_f32(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_float(FT_F32, w, n, r0, r1, a, nt, o, os);
}
static void mm_f16(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_float(FT_F16, w, n, r0, r1, a, nt, o, os);
}
static void mm_bf16(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) {
    matmul_float(FT_BF16, w, n, r0, r1, a, nt, o, os);
}

void kernels_scalar_fill(hearth_kernels *k) {
    k->name = "scalar";
    k->quant[KW_F32] = quant_f32;
    k->quant[KW_F16] = quant_f16;
    k->quant[KW_BF16] = quant_bf16;
    k->quant[KW_Q4_0] = quant_q8_0;
    k->quant[KW_Q5_0] = quant_q8_0_g16;
    k->quant[KW_Q8_0] = quant_q8_0_g128;
    k->quant[KW_Q4_1] = quant_q8_1;
    k->quant[KW_Q5_1] = quant_q8_1;
    k->matmul[KW_F32] = mm_f32;
    k->matmul[KW_F16] = mm_f16;
    k->matmul[KW_BF16] = mm_bf16;
    k->matmul[KW_Q4_0] = mm_q4_0;
    k->matmul[KW_Q4_1] = mm_q4_1;
    k->matmul[KW_Q5_0] = mm_q5_0;
    k->matmul[KW_Q5_1] = mm_q5_1;
    k->matmul[KW_Q8_0] = mm_q8_0;
    kernels_k_scalar_fill(k);
    lowbit_scalar_fill(k);
}
