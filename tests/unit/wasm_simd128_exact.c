/* Unit test of the WebAssembly SIMD128 kernels' exact arithmetic
 * (src/cpu/simd128_exact.h), built for wasm32-wasi only (make wasm-tests)
 * and run under Node's WASI by tests/e2e/wasm_kernels.test.mjs: fma64
 * against a*b+c computed in binary128 (exact for these operands, then
 * rounded once) on steps built to round twice through f64 and on random
 * ones, the SIMD fp16 conversion against ggml_fp16_to_fp32 on all 65536
 * values, and the f16 rounding of the attention accumulator against a round
 * trip through ggml's fp16. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cpu/simd128_exact.h"
#include "model/ggml_types.h"

static uint32_t rng_state = 12345u;
static uint32_t rnd(void) { /* LCG, high bits */
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) ^ (rng_state << 24);
}
static bool same_bits(float x, float y) {
    return memcmp(&x, &y, 4) == 0 || (isnan(x) && isnan(y));
}
static float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* fma64 on one lane pair: {a0 * b0 + c0, a1 * b1 + c1}, each rounded once. */
static void fma64_pair(const float *a, const float *b, const float *c, float *out) {
    v128_t acc[1] = {wasm_f64x2_make(c[0], c[1])};
    const v128_t va[1] = {wasm_f64x2_make(a[0], a[1])}, vb[1] = {wasm_f64x2_make(b[0], b[1])};
    fma64(1, acc, va, vb);
    out[0] = (float)wasm_f64x2_extract_lane(acc[0], 0);
    out[1] = (float)wasm_f64x2_extract_lane(acc[0], 1);
}

/* a*b+c rounded once: the product (48 bits) and the sum (exponents within
 * 60 here) are exact in binary128 (wasm32's long double, soft float). */
static float fma_ref(float a, float b, float c) {
    return (float)((long double)a * (long double)b + (long double)c);
}

/* Checks n pairs; returns the number of lanes that differ from fma_ref. */
static int compare(const float *a, const float *b, const float *c, int n) {
    int bad = 0;
    for (int i = 0; i + 1 < n; i += 2) {
        float o[2];
        fma64_pair(a + i, b + i, c + i, o);
        for (int j = 0; j < 2; j++) {
            const float want = fma_ref(a[i + j], b[i + j], c[i + j]);
            if (!same_bits(o[j], want)) {
                if (bad++ < 3)
                    printf("# fma64(%a, %a, %a) = %a, exact %a\n", (double)a[i + j], (double)b[i + j], (double)c[i + j],
                           (double)o[j], (double)want);
            }
        }
    }
    return bad;
}

static void test_double_rounding(void) {
    /* acc = 1 + 2^-23 (odd last bit) plus a product just under half its
     * ulp, (1 + 2^-23)(1 - 2^-23) 2^-24 = 2^-24 - 2^-70: the f64 sum rounds
     * to the exact midpoint, whose tie goes up, while the true value rounds
     * down. At several scales and both signs, and with the operands of the
     * product swapped. */
    float a[64], b[64], c[64];
    int n = 0;
    for (int e = -20; e <= 20; e += 5)
        for (int sg = 0; sg < 2; sg++) {
            const float s = ldexpf(sg ? -1.0f : 1.0f, e), up = 1.0f + 0x1p-23f, dn = 1.0f - 0x1p-23f;
            a[n] = s * up, b[n] = 0x1p-24f * dn, c[n] = s * up, n++;
            a[n] = 0x1p-24f * dn, b[n] = s * up, c[n] = s * up, n++;
        }
    int ties = 0;
    for (int i = 0; i < n; i++) {
        const double sum = (double)c[i] + (double)a[i] * (double)b[i];
        if ((float)sum != fma_ref(a[i], b[i], c[i])) ties++;
    }
    CHECK("the constructed steps do round twice through f64", ties == n, "%d of %d", ties, n);
    CHECK("fma64 rounds once where f64 rounds twice", compare(a, b, c, n & ~1) == 0, "see above");
}

/* A random f32 near 2^e: random mantissa and sign. */
static float near_pow2(int e) {
    return ldexpf(bitsf(0x3f800000u | (rnd() & 0x7fffffu)) * ((rnd() & 1) ? -1.0f : 1.0f), e);
}

static void test_random(void) {
    enum { N = 1 << 16 };
    static float a[N], b[N], c[N];
    int bad = 0, twice = 0;
    for (int rep = 0; rep < 16; rep++) {
        for (int i = 0; i < N; i++) {
            /* f32 x f32 (48-bit products), and fp16 x fp16 scales times the
             * integer sums of the quantized kernels (38 bits); the addend
             * from 2^10 above the product to far below it (where the f64
             * sum loses it and may land halfway), within binary128's reach. */
            const bool f32 = rep & 1;
            if (f32) {
                a[i] = near_pow2((int)(rnd() % 40) - 20);
                b[i] = near_pow2((int)(rnd() % 40) - 20);
            } else {
                a[i] = ggml_fp16_to_fp32((uint16_t)(0x0400u + rnd() % 0x7400u)) *
                       ggml_fp16_to_fp32((uint16_t)(0x0400u + rnd() % 0x7400u));
                b[i] = (float)((int)(rnd() % 65025) - 32512);
                if (rnd() % 4 == 0) b[i] = (float)(1 << (rnd() % 15)); /* short products, halfway-prone */
            }
            const float p = a[i] * b[i];
            const int e = p == 0.0f ? 0 : ilogbf(p);
            c[i] = near_pow2(e + 10 - (int)(rnd() % (f32 ? 70u : 95u)));
            if ((float)((double)c[i] + (double)a[i] * (double)b[i]) != fma_ref(a[i], b[i], c[i])) twice++;
        }
        bad += compare(a, b, c, N);
    }
    CHECK("fma64 rounds once on 2^20 random steps", bad == 0, "%d lanes differ", bad);
    CHECK("some random steps round twice through f64", twice > 10, "%d", twice);
    printf("# %d of 2^20 random steps round twice through f64\n", twice);
}

static void test_half(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h += 4) {
        float got[4];
        wasm_v128_store(got, half4_to_f32(wasm_u32x4_make(h, h + 1, h + 2, h + 3)));
        for (uint32_t j = 0; j < 4; j++) {
            const float want = ggml_fp16_to_fp32((uint16_t)(h + j));
            if (!same_bits(got[j], want) && bad++ < 3)
                printf("# half %04x: %a vs %a\n", h + j, (double)got[j], (double)want);
        }
    }
    CHECK("half4_to_f32 equals ggml_fp16_to_fp32 on all 65536 values", bad == 0, "%d differ", bad);
}

static void test_round_f16(void) {
    int bad = 0;
    float x[4];
    for (uint32_t i = 0; i < (1u << 22); i++) {
        /* every exponent with random mantissas, and the edges */
        uint32_t u = (i << 10) ^ (rnd() & 0x3ffu);
        if (i < 64) u = (uint32_t[]){0x477fe000u, 0x477fefffu, 0x477ff000u, 0x477ff001u, 0x38800000u, 0x387fffffu,
                                     0x33000000u, 0x33000001u, 0x32ffffffu, 0x7f800000u, 0x7fc00001u, 0u}[i % 12] |
                        (i & 16 ? 0x80000000u : 0u);
        x[i & 3] = bitsf(u);
        if ((i & 3) != 3) continue;
        float got[4];
        wasm_v128_store(got, round_f16(wasm_v128_load(x)));
        for (int j = 0; j < 4; j++) {
            const float want = ggml_fp16_to_fp32(ggml_fp32_to_fp16(x[j]));
            if (!same_bits(got[j], want) && bad++ < 3) printf("# round_f16(%a) = %a, want %a\n", (double)x[j], (double)got[j], (double)want);
        }
    }
    CHECK("round_f16 equals a round trip through ggml's fp16 on 2^22 floats", bad == 0, "%d differ", bad);
}

int main(void) {
    test_double_rounding();
    test_random();
    test_half();
    test_round_f16();
    CHECK_DONE();
}
