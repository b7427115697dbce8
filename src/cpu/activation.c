#include "activation.h"

#include <math.h>

#include "fma_exact.h"
#include "model/ggml_types.h"
#include "kernels.h"

float ggml_poly_expf(float x) {
    const float r = 0x1.8p23f;
    float z = FMAF(x, 0x1.715476p+0f, r);
    float n = z - r;
    float b = FMAF(-n, 0x1.7f7d1cp-20f, FMAF(-n, 0x1.62e4p-1f, x));
    float u = b * b;
    float j = FMAF(FMAF(FMAF(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, FMAF(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                   FMAF(0x1.ffffecp-1f, b, 1.0f));
    if (fabsf(n) > 192) return n > 0 ? INFINITY : 0.0f;
    return ldexpf(j, (int)n);
}

void swiglu_scalar(const float *gate, const float *up, float *out, int n) {
    int vec = n & ~15;
    for (int i = 0; i < vec; i++) out[i] = gate[i] / (1.0f + ggml_poly_expf(0.0f - gate[i])) * up[i];
    for (int i = vec; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void gelu_table_init(uint16_t *table) {
    /* ggml_gelu_f32 as GCC contracts it (1 + a*x*x is one FMA) */
    const float a = 0.044715f, sqrt_2_over_pi = 0.79788456080286535587989211986876f;
    for (uint32_t i = 0; i < 1u << 16; i++) {
        const float x = ggml_fp16_to_fp32((uint16_t)i);
        table[i] = ggml_fp32_to_fp16(0.5f * x * (1.0f + tanhf(sqrt_2_over_pi * x * FMAF(a * x, x, 1.0f))));
    }
}

void geglu(const uint16_t *table, const float *gate, const float *up, float *out, int n) {
    for (int i = 0; i < n; i++) {
        const float x = gate[i];
        out[i] = x <= -10.0f ? 0.0f : x >= 10.0f ? x * up[i] : ggml_fp16_to_fp32(table[ggml_fp32_to_fp16(x)]) * up[i];
    }
}

swiglu_fn swiglu_select(bool allow_simd, bool inexact) {
    if (allow_simd && inexact && swiglu_simd128_fast()) return swiglu_simd128_fast();
    if (allow_simd && (kernels_cpu_features() & KERNELS_CPU_AVX2)) {
        swiglu_fn f = swiglu_avx2();
        if (f) return f;
    }
    return swiglu_scalar;
}
