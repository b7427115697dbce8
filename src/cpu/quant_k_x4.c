/* Q4_K_X4 and Q6_K_X4 (kernels.h): the repacking of Q4_K / Q6_K matrices
 * at load, their dequantization, and the activation rows in their order.
 * Portable code: the relaxed-SIMD kernels that multiply these layouts are
 * quant_k_x4_simd128_relaxed.c. */
#include <string.h>

#include "kernels.h"
#include "quant_k.h"

#include "model/ggml_types.h"

/* Byte offsets inside the X4 super-blocks (kernels.h). */
enum { X4K4_SC = 8, X4K4_MIN = 16, X4K4_QS = 24, X4K6_SC = 4, X4K6_QS = 20 };
_Static_assert(X4K4_QS + 128 == KERNELS_Q4_K_X4_BYTES, "Q4_K_X4 size");
_Static_assert(X4K6_QS + 192 == KERNELS_Q6_K_X4_BYTES, "Q6_K_X4 size");

/* Where element e (0..255) of a super-block sits in the X4 order: its half
 * (128 elements), code vector v (0..7) and byte i (0..15) of that vector. */
static void x4_place(int e, int *half, int *v, int *i) {
    const int r = e % 128;
    *half = e / 128;
    *v = (r % 32) / 4;
    *i = 4 * (r / 32) + r % 4;
}

/* Q4_K_X4: the low 4 bits of code vectors u and u + 4 share byte i of
 * nibble vector u. */
static int q4_get(const uint8_t *qs, int half, int v, int i) {
    return (qs[64 * half + 16 * (v % 4) + i] >> (v < 4 ? 0 : 4)) & 0xf;
}

/* Q6_K_X4: per half, per quarter g (code vectors 4g..4g+3) 3 stored
 * vectors: code vectors 4g + t (t = 0..2) in bits 0-5 of vector 3g + t,
 * code vector 4g + 3's bits 2t, 2t + 1 in its bits 6-7. */
static int q6_get(const uint8_t *qs, int half, int v, int i) {
    const uint8_t *p = qs + 96 * half + i;
    if (v % 4 < 3) return p[16 * (v - v / 4)] & 63;
    int q = 0;
    for (int t = 0; t < 3; t++) q |= (p[16 * (3 * (v / 4) + t)] >> 6) << 2 * t;
    return q;
}

static void put_f32(uint8_t *p, float f) {
    memcpy(p, &f, sizeof f);
}
static float get_f32(const uint8_t *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

/* The packing works on 32-bit words of 4 codes (a word of an X4 code
 * vector is 4 consecutive codes of one sub-block), so that loading a
 * model's matrices costs little next to reading them. */
static uint32_t word_at(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}
static void put_word(uint8_t *p, uint32_t w) {
    memcpy(p, &w, sizeof w);
}

/* Word j (32-element sub-block j) of nibble vector u of a half: codes
 * 4u.. of the sub-block (code vector u) in the low nibbles, codes 16 + 4u..
 * (code vector u + 4) in the high ones. ggml's qs: byte 32p + l holds
 * element l of sub-block 2p (low nibble) and 2p + 1 (high). */
static void pack_q4_k(const block_q4_K *b, uint8_t *o) {
    put_f32(o, ggml_fp16_to_fp32(b->d));
    put_f32(o + 4, ggml_fp16_to_fp32(b->dmin));
    kq_scales_mins(b->scales, o + X4K4_SC, o + X4K4_MIN);
    for (int h = 0; h < 2; h++)
        for (int u = 0; u < 4; u++)
            for (int j = 0; j < 4; j++) {
                const uint8_t *q = b->qs + 64 * h + 32 * (j / 2) + 4 * u;
                const uint32_t lo = word_at(q), hi = word_at(q + 16);
                put_word(o + X4K4_QS + 64 * h + 16 * u + 4 * j,
                         j % 2 ? ((lo >> 4) & 0x0f0f0f0fu) | (hi & 0xf0f0f0f0u)
                               : (lo & 0x0f0f0f0fu) | ((hi & 0x0f0f0f0fu) << 4));
            }
}

/* Code vector v's word j of a half: codes 4v.. of 32-element chunk j
 * (ggml's: ql's low or high nibbles, qh's bit pair 2j). */
static uint32_t q6_word(const block_q6_K *b, int h, int v, int j) {
    const uint32_t l = word_at(b->ql + 64 * h + 32 * (j % 2) + 4 * v), q = word_at(b->qh + 32 * h + 4 * v);
    return ((j & 2 ? l >> 4 : l) & 0x0f0f0f0fu) | (((q >> (2 * j)) & 0x03030303u) << 4);
}

static void pack_q6_k(const block_q6_K *b, uint8_t *o) {
    put_f32(o, ggml_fp16_to_fp32(b->d));
    memcpy(o + X4K6_SC, b->scales, 16);
    for (int h = 0; h < 2; h++)
        for (int g = 0; g < 2; g++)
            for (int j = 0; j < 4; j++) {
                const uint32_t last = q6_word(b, h, 4 * g + 3, j);
                for (int t = 0; t < 3; t++)
                    put_word(o + X4K6_QS + 96 * h + 16 * (3 * g + t) + 4 * j,
                             q6_word(b, h, 4 * g + t, j) | (((last >> (2 * t)) & 0x03030303u) << 6));
            }
}

void kernels_pack_k_x4(uint32_t type, const void *src, void *dst, size_t superblocks) {
    const uint8_t *s = src;
    uint8_t *d = dst;
    for (size_t i = 0; i < superblocks; i++)
        if (type == GGML_TYPE_Q4_K) pack_q4_k((const block_q4_K *)s + i, d + i * KERNELS_Q4_K_X4_BYTES);
        else pack_q6_k((const block_q6_K *)s + i, d + i * KERNELS_Q6_K_X4_BYTES);
}

/* The float steps of quant_k_scalar.c's deq_q4_k / deq_q6_k (ggml's), so
 * the values are the same bits. */
void kernels_dequantize_k_x4(uint32_t type, const void *src, float *dst, int n) {
    const uint8_t *x = src;
    const bool q4 = type == KERNELS_TYPE_Q4_K_X4;
    for (int b = 0; b < n / QK_K; b++, x += q4 ? KERNELS_Q4_K_X4_BYTES : KERNELS_Q6_K_X4_BYTES, dst += QK_K) {
        const float d = get_f32(x);
        for (int e = 0; e < QK_K; e++) {
            int half, v, i;
            x4_place(e, &half, &v, &i);
            if (q4) {
                const int j = e / 32;
                const float dj = d * x[X4K4_SC + j], mj = get_f32(x + 4) * x[X4K4_MIN + j];
                const float p = dj * (float)q4_get(x + X4K4_QS, half, v, i);
                dst[e] = p - mj;
            } else {
                const float ds = d * (float)(int8_t)x[X4K6_SC + e / 16];
                dst[e] = ds * (float)(q6_get(x + X4K6_QS, half, v, i) - 32);
            }
        }
    }
}

void kernels_fill_q8_K_x4_row(const float *x, void *dst, int n) {
    kernels_fill_q8_K_row(x, dst, n);
    block_q8_K *y = dst;
    for (int b = 0; b < n / QK_K; b++) {
        int8_t qs[QK_K];
        memcpy(qs, y[b].qs, sizeof qs);
        for (int h = 0; h < 2; h++) /* word j of code vector v: codes 4v.. of sub-block j */
            for (int v = 0; v < 8; v++)
                for (int j = 0; j < 4; j++) memcpy(y[b].qs + 128 * h + 16 * v + 4 * j, qs + 128 * h + 32 * j + 4 * v, 4);
    }
}
