/* Inputs of the K-quant products pinned to llama.cpp (test_kernels.c's
 * pins_k), shared verbatim by the test and its oracle
 * (tools/ggml_mul_mat_pin.c): integer arithmetic only, so both make the
 * same bytes. Weights: PIN_K_M rows of k elements, random bytes with sane
 * fp16 d and dmin (2^-9 .. 2^-8); activations: n_tok rows of exact
 * multiples of 2^-23. */
#ifndef HEARTH_PIN_KQUANT_H
#define HEARTH_PIN_KQUANT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PIN_K_M 32 /* rows: a multiple of 8 (ggml repacks Q4_K) and of 16 (its AVX-512 gemm tiles) */

static uint32_t pin_k_s;
static uint32_t pin_k_u24(void) {
    pin_k_s = pin_k_s * 1664525u + 1013904223u;
    return pin_k_s >> 8;
}
/* Bytes of a super-block of 256: Q4_K (ggml type 12) 144, Q5_K (13) 176, Q6_K (14) 210. */
static size_t pin_k_block_bytes(uint32_t type) {
    return type == 12 ? 144 : type == 13 ? 176 : 210;
}
static void pin_k_inputs(uint32_t type, int k, int n_tok, unsigned char *w, float *x) {
    pin_k_s = 0x9e3779b9u ^ (type * 7919u + (uint32_t)k * 31u + (uint32_t)n_tok);
    const size_t bs = pin_k_block_bytes(type), total = bs * (size_t)(k / 256) * PIN_K_M;
    for (size_t i = 0; i < total; i++) w[i] = (unsigned char)pin_k_u24();
    for (size_t off = 0; off < total; off += bs) {
        const uint16_t d = (uint16_t)(0x1800u + pin_k_u24() % 0x400u), m = (uint16_t)(0x1800u + pin_k_u24() % 0x400u);
        if (type == 14) {
            memcpy(w + off + 208, &d, 2);
        } else {
            memcpy(w + off, &d, 2);
            memcpy(w + off + 2, &m, 2);
        }
    }
    for (int i = 0; i < k * n_tok; i++) x[i] = (float)((int32_t)pin_k_u24() - 0x800000) * 0x1p-23f * (float)(1 + i % 7);
}

#endif
