/* Inputs of the pinned Q2_K, Q3_K, IQ4_NL and IQ4_XS products: shared by
 * test_kernels.c and the oracle that pinned them against llama.cpp
 * (tools/ggml_pin_lowbit.c), so both make the same bytes. Integer
 * arithmetic only; ggml type ids as numbers (the oracle includes ggml.h,
 * the test hearth's ggml_types.h). */
#ifndef HEARTH_TEST_PIN_LOWBIT_H
#define HEARTH_TEST_PIN_LOWBIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Rows of the pinned matrices: a multiple of 16, so that ggml's repacked
 * Q2_K gemm takes its AVX-512 tiles with one thread and its 8-column AVX2
 * tail with two (both are pinned). */
#define PINL_M 32

static uint32_t pinl_s;
static uint32_t pinl_u24(void) {
    pinl_s = pinl_s * 1664525u + 1013904223u;
    return pinl_s >> 8;
}
static float pinl_f(void) { /* exact multiples of 2^-23 in [-1, 1) */
    return (float)((int32_t)pinl_u24() - 0x800000) * 0x1p-23f;
}

/* Bytes of a row of k elements of type 10 (Q2_K), 11 (Q3_K), 20 (IQ4_NL)
 * or 23 (IQ4_XS). */
static size_t pinl_row_bytes(uint32_t type, int k) {
    switch (type) {
    case 10: return (size_t)k / 256 * 84;
    case 11: return (size_t)k / 256 * 110;
    case 20: return (size_t)k / 32 * 18;
    default: return (size_t)k / 256 * 136;
    }
}

/* PINL_M weight rows of k and n_tok activation rows of k: random code and
 * scale bytes, fp16 scales d (and Q2_K's dmin) in [2^-9, 2^-8). */
static void pinl_inputs(uint32_t type, int k, int n_tok, unsigned char *w, float *x) {
    pinl_s = 0x6a09e667u ^ (type * 7919u + (uint32_t)k * 31u + (uint32_t)n_tok);
    const size_t total = pinl_row_bytes(type, k) * PINL_M;
    const size_t bs = type == 20 ? 18 : pinl_row_bytes(type, 256);
    const size_t d_off = type == 10 ? 80 : type == 11 ? 108 : 0;
    for (size_t i = 0; i < total; i++) w[i] = (unsigned char)pinl_u24();
    for (size_t off = 0; off < total; off += bs) {
        uint16_t d = (uint16_t)(0x1800u + pinl_u24() % 0x400u);
        memcpy(w + off + d_off, &d, 2);
        if (type == 10) {
            d = (uint16_t)(0x1800u + pinl_u24() % 0x400u);
            memcpy(w + off + d_off + 2, &d, 2);
        }
    }
    for (int i = 0; i < k * n_tok; i++) x[i] = pinl_f() * (float)(1 + i % 7);
}

static uint32_t pinl_hash(const float *o, int count) { /* FNV-1a over the bit patterns */
    uint32_t h = 2166136261u;
    for (int i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &o[i], 4);
        for (int b = 0; b < 4; b++) h = (h ^ ((u >> (8 * b)) & 0xffu)) * 16777619u;
    }
    return h;
}

/* The pinned shapes: {type, k, n_tok}. Token counts cover ggml's gemv
 * alone (1, 3), its gemm alone (4, 16) and both (7, 21); IQ4_XS from 8
 * tokens on takes ggml's IQ panel gemm (8, 21). */
static const int pinl_shapes[][3] = {
    {10, 256, 1}, {10, 512, 3}, {10, 256, 4}, {10, 512, 7}, {10, 768, 16}, {10, 256, 21},
    {11, 256, 1}, {11, 512, 3}, {11, 768, 7}, {11, 256, 21},
    {20, 160, 1}, {20, 256, 3}, {20, 160, 4}, {20, 512, 7}, {20, 256, 21},
    {23, 256, 1}, {23, 512, 3}, {23, 768, 7}, {23, 512, 8}, {23, 256, 21},
};
#define PINL_SHAPES (sizeof pinl_shapes / sizeof pinl_shapes[0])

#endif
