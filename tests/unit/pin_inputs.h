/* Inputs of the products test_kernels.c pins to llama.cpp, shared by the
 * test and its oracle (tools/ggml_pin.c), so both make the same bytes:
 * integer arithmetic only, ggml type ids as numbers (the oracle includes
 * ggml.h, the test hearth's ggml_types.h). Two generators, one per family
 * of pinned tables (their bytes are what the committed pins were made from):
 *   pin_inputs:   F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (pins), PIN_M rows;
 *   pin_k_inputs: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS (pins_k,
 *                 pins_lowbit), PIN_K_M rows.
 * Activations: n_tok rows of k, exact multiples of 2^-23 times 1..7. */
#ifndef HEARTH_TEST_PIN_INPUTS_H
#define HEARTH_TEST_PIN_INPUTS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PIN_M 16 /* rows of pin_inputs' matrices */
/* Rows of pin_k_inputs' matrices: a multiple of 8 (ggml repacks Q4_K) and
 * of 16, so that ggml's repacked gemms take their AVX-512 tiles (and the
 * Q2_K one its 8-column AVX2 tail with two threads). */
#define PIN_K_M 32

static uint32_t pin_s;
static uint32_t pin_u24(void) {
    pin_s = pin_s * 1664525u + 1013904223u;
    return pin_s >> 8;
}
static float pin_f(void) { /* exact multiples of 2^-23 in [-1, 1) */
    return (float)((int32_t)pin_u24() - 0x800000) * 0x1p-23f;
}
static uint32_t pin_hash(const float *o, int count) { /* FNV-1a over the bit patterns */
    uint32_t h = 2166136261u;
    for (int i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &o[i], 4);
        for (int b = 0; b < 4; b++) h = (h ^ ((u >> (8 * b)) & 0xffu)) * 16777619u;
    }
    return h;
}
static void pin_acts(float *x, int k, int n_tok) {
    for (int i = 0; i < k * n_tok; i++) x[i] = pin_f() * (float)(1 + i % 7);
}

/* ---- pin_inputs: the original types ---- */
static size_t pin_row_bytes(uint32_t type, int k) {
    switch (type) {
    case 0: return 4 * (size_t)k;                 /* F32 */
    case 1: case 30: return 2 * (size_t)k;        /* F16, BF16 */
    case 2: return (size_t)k / 32 * 18;           /* Q4_0 */
    case 3: return (size_t)k / 32 * 20;           /* Q4_1 */
    case 6: return (size_t)k / 32 * 22;           /* Q5_0 */
    case 7: return (size_t)k / 32 * 24;           /* Q5_1 */
    default: return (size_t)k / 32 * 34;          /* Q8_0 */
    }
}
/* PIN_M weight rows of k: floats in [-1, 1) / halves with |value| in
 * [2^-3, 1); blocks of random bytes under fp16 d in [2^-9, 2^-8) (and m in
 * [-2^-7, -2^-6)). */
static void pin_inputs(uint32_t type, int k, int n_tok, unsigned char *w, float *x) {
    pin_s = 0x2545f491u ^ (type * 7919u + (uint32_t)k * 31u + (uint32_t)n_tok);
    const size_t rb = pin_row_bytes(type, k), total = rb * PIN_M;
    if (type == 0) {
        for (size_t i = 0; i < total / 4; i++) {
            float f = pin_f();
            memcpy(w + 4 * i, &f, 4);
        }
    } else if (type == 1 || type == 30) {
        for (size_t i = 0; i < total / 2; i++) {
            uint32_t u = pin_u24();
            /* f16 exponents 12-14, bf16 124-126 */
            uint16_t h = type == 1 ? (uint16_t)((u & 0x8000u) | (0x3000u + u % 0xc00u))
                                   : (uint16_t)((u & 0x8000u) | (0x3e00u + u % 0x180u));
            memcpy(w + 2 * i, &h, 2);
        }
    } else {
        const size_t bs = pin_row_bytes(type, 32);
        for (size_t i = 0; i < total; i++) w[i] = (unsigned char)pin_u24();
        for (size_t off = 0; off < total; off += bs) {
            uint16_t d = (uint16_t)(0x1800u + pin_u24() % 0x400u);
            memcpy(w + off, &d, 2);
            if (type == 3 || type == 7) {
                uint16_t m = (uint16_t)(0xa000u + pin_u24() % 0x800u);
                memcpy(w + off + 2, &m, 2);
            }
        }
    }
    pin_acts(x, k, n_tok);
}

/* ---- pin_k_inputs: K-quants and IQ4 ---- */
/* Per type: block elements and bytes, byte offsets of the fp16 d and dmin
 * (-1: none) and the generator's variant: the K set (Q4_K, Q5_K, Q6_K)
 * seeds with 0x9e3779b9 and draws two scales per block (Q6_K's second
 * unused); the low-bit set seeds with 0x6a09e667, draws only the scales
 * it has and adds the sign-tie activations below (not for IQ4_NL, whose
 * products take Q8_0 activations). */
static const struct pin_k_type {
    uint32_t type;
    int elems, bytes, d, dmin;
    uint32_t seed;
    int ties;
} pin_k_types[] = {
    {10, 256, 84, 80, 82, 0x6a09e667u, 1},  /* Q2_K */
    {11, 256, 110, 108, -1, 0x6a09e667u, 1}, /* Q3_K */
    {12, 256, 144, 0, 2, 0x9e3779b9u, 0},   /* Q4_K */
    {13, 256, 176, 0, 2, 0x9e3779b9u, 0},   /* Q5_K */
    {14, 256, 210, 208, -1, 0x9e3779b9u, 0}, /* Q6_K */
    {20, 32, 18, 0, -1, 0x6a09e667u, 0},    /* IQ4_NL */
    {23, 256, 136, 0, -1, 0x6a09e667u, 1},  /* IQ4_XS */
};
static const struct pin_k_type *pin_k_type(uint32_t type) {
    for (size_t i = 0; i < sizeof pin_k_types / sizeof pin_k_types[0]; i++)
        if (pin_k_types[i].type == type) return &pin_k_types[i];
    return NULL;
}
static size_t pin_k_row_bytes(uint32_t type, int k) {
    const struct pin_k_type *t = pin_k_type(type);
    return (size_t)(k / t->elems) * (size_t)t->bytes;
}
/* PIN_K_M weight rows of k: random code and scale bytes, fp16 d (and dmin)
 * in [2^-9, 2^-8). */
static void pin_k_inputs(uint32_t type, int k, int n_tok, unsigned char *w, float *x) {
    const struct pin_k_type *t = pin_k_type(type);
    pin_s = t->seed ^ (type * 7919u + (uint32_t)k * 31u + (uint32_t)n_tok);
    const size_t total = pin_k_row_bytes(type, k) * PIN_K_M;
    for (size_t i = 0; i < total; i++) w[i] = (unsigned char)pin_u24();
    for (size_t off = 0; off < total; off += (size_t)t->bytes) {
        const uint16_t d = (uint16_t)(0x1800u + pin_u24() % 0x400u);
        memcpy(w + off + t->d, &d, 2);
        if (t->dmin >= 0 || t->seed == 0x9e3779b9u) {
            const uint16_t m = (uint16_t)(0x1800u + pin_u24() % 0x400u);
            if (t->dmin >= 0) memcpy(w + off + t->dmin, &m, 2);
        }
    }
    pin_acts(x, k, n_tok);
    /* Q8_K activations with sign ties: every other 256 opens with -m and
     * ends with +m, m in [7, 15) beyond every other |x| (< 7).
     * quantize_row_q8_K_ref takes the first as its max, ggml's 4-row
     * quantizer of the Q2_K gemm (ggml_quantize_mat_q8_K_4x8) the positive
     * one: codes and d change sign there, the products must not. */
    if (t->ties)
        for (int i = 0; i < k * n_tok; i += 512) {
            const float m = 7.0f + (float)(pin_u24() % 64) * 0.125f;
            x[i] = -m;
            x[i + 255] = m;
        }
}

/* ---- the pinned shapes, {type, k, n_tok}, in the order of the tables ---- */
struct pin_shape {
    uint32_t type;
    int k, n_tok;
};
/* pins: K 160 and 200 leave tails after the 64-lane F32/F16 and 32-element
 * BF16 loops. */
static const struct pin_shape pin_shapes[] = {
    {0, 160, 1}, {0, 160, 7}, {0, 256, 20}, {0, 200, 1}, {0, 200, 5},
    {1, 160, 1}, {1, 160, 7}, {1, 256, 20}, {1, 200, 1}, {1, 200, 5},
    {30, 160, 1}, {30, 160, 7}, {30, 256, 20}, {30, 200, 1}, {30, 200, 5},
    {2, 160, 1}, {2, 160, 7}, {2, 256, 20}, {3, 160, 1}, {3, 160, 7}, {3, 256, 20},
    {6, 160, 1}, {6, 160, 7}, {6, 256, 20}, {7, 160, 1}, {7, 160, 7}, {7, 256, 20},
    {8, 160, 1}, {8, 160, 7}, {8, 256, 20},
};
/* pins_k: N = 7: 4 tokens through ggml's Q4_K repack gemm and 3 through its
 * gemv; N = 20: its gemm's 16-token AVX-512 tiles and a 4-token rest. */
static const struct pin_shape pin_k_shapes[] = {
    {12, 256, 1}, {12, 512, 7}, {12, 768, 20}, {12, 1024, 2}, {12, 512, 4},
    {13, 256, 1}, {13, 512, 7}, {13, 768, 20}, {13, 1024, 2}, {13, 512, 4},
    {14, 256, 1}, {14, 512, 7}, {14, 768, 20}, {14, 1024, 2}, {14, 512, 4},
};
/* pins_lowbit: token counts cover ggml's gemv alone (1, 3), its gemm alone
 * (4, 16) and both (7, 21, 70: past hearth's 64-token chunks); IQ4_XS from
 * 8 tokens on takes ggml's IQ panel gemm. */
static const struct pin_shape pin_lowbit_shapes[] = {
    {10, 256, 1}, {10, 512, 3}, {10, 256, 4}, {10, 512, 7}, {10, 768, 16}, {10, 256, 21}, {10, 512, 70},
    {11, 256, 1}, {11, 512, 3}, {11, 768, 7}, {11, 256, 21}, {11, 512, 70},
    {20, 160, 1}, {20, 256, 3}, {20, 160, 4}, {20, 512, 7}, {20, 256, 21}, {20, 192, 70},
    {23, 256, 1}, {23, 512, 3}, {23, 768, 7}, {23, 512, 8}, {23, 256, 21}, {23, 512, 70},
};

#endif
