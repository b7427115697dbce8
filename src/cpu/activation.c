#include "activation.h"

#include <math.h>

#include "fma_exact.h"
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

swiglu_fn swiglu_select(bool allow_simd, bool inexact) {
    if (allow_simd && inexact && swiglu_simd128_fast()) return swiglu_simd128_fast();
    if (allow_simd && (kernels_cpu_features() & KERNELS_CPU_AVX2)) {
        swiglu_fn f = swiglu_avx2();
        if (f) return f;
    }
    return swiglu_scalar;
}
