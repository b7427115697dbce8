/* AVX2 + FMA SwiGLU with ggml's v_expf, element for element the same
 * arithmetic as activation.c; compiled with -mavx2 -mfma -mf16c. */
#include "activation.h"

#if defined(__AVX2__) && defined(__FMA__)
#include "expf_avx2.h"

static void swiglu(const float *gate, const float *up, float *out, int n) {
    int vec = n & ~15, i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i < vec; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = v_expf(_mm256_sub_ps(_mm256_setzero_ps(), g));
        __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

swiglu_fn swiglu_avx2(void) { return swiglu; }
#else
swiglu_fn swiglu_avx2(void) { return 0; }
#endif
