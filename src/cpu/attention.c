#include "attention.h"

#include <math.h>

#include "model/ggml_types.h"
#include "kernels.h"
#include "kernels_simd128.h"

void attention_row_scalar(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int head_dim, int stride,
                          float scale, uint16_t *acc, float *out) {
    uint16_t qh[512];
    for (int d = 0; d < head_dim; d++) {
        qh[d] = ggml_fp32_to_fp16(q[d]);
        acc[d] = 0;
    }
    float M = -INFINITY, S = 0;
    for (int j = 0; j < n_pos; j++) {
        const uint16_t *k = K + (size_t)j * stride, *v = V + (size_t)j * stride;
        double dot = 0;
        for (int d = 0; d < head_dim; d++) dot += (double)(ggml_fp16_to_fp32(qh[d]) * ggml_fp16_to_fp32(k[d]));
        float s = (float)dot * scale;
        float ms = 1.0f, vs = 1.0f;
        if (s > M) {
            float old = M;
            M = s;
            ms = expf(old - M);
            for (int d = 0; d < head_dim; d++) acc[d] = ggml_fp32_to_fp16(ggml_fp16_to_fp32(acc[d]) * ms);
        } else {
            vs = expf(s - M);
        }
        for (int d = 0; d < head_dim; d++)
            acc[d] = ggml_fp32_to_fp16(ggml_fp16_to_fp32(acc[d]) + ggml_fp16_to_fp32(v[d]) * vs);
        S = S * ms + vs;
    }
    float inv = S == 0 ? 0 : 1.0f / S;
    for (int d = 0; d < head_dim; d++) out[d] = ggml_fp16_to_fp32(acc[d]) * inv;
}

attention_group_fn attention_group_select(bool allow_simd, bool inexact) {
    return allow_simd && inexact ? attention_group_simd128_fast() : 0;
}

attention_row_fn attention_row_select(bool allow_simd, bool inexact) {
#ifdef __wasm_simd128__
    /* compiled in: the engine runs SIMD128 */
    if (allow_simd) return inexact ? attention_row_simd128_fast() : attention_row_simd128();
#endif
    if (allow_simd && (kernels_cpu_features() & KERNELS_CPU_AVX2)) {
        attention_row_fn f = attention_row_avx2();
        if (f) return f;
    }
    return attention_row_scalar;
}
