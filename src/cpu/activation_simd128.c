/* WebAssembly SIMD128 SwiGLU for the fast numerics (kernels_prefer_speed):
 * ggml's v_expf polynomial with each FMA as a multiply and an add (SIMD128
 * has no FMA), so results differ from activation.c's in the last bits; the
 * exact numerics keep swiglu_scalar. */
#include "activation.h"

#ifdef __wasm_simd128__
#include <math.h>

#include "expf_simd128.h"

static void swiglu(const float *gate, const float *up, float *out, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const v128_t g = wasm_v128_load(gate + i);
        const v128_t e = v_expf(wasm_f32x4_neg(g));
        wasm_v128_store(out + i, wasm_f32x4_mul(wasm_f32x4_div(g, wasm_f32x4_add(SPLATF(1.0f), e)), wasm_v128_load(up + i)));
    }
    for (; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

swiglu_fn swiglu_simd128_fast(void) { return swiglu; }
#else
swiglu_fn swiglu_simd128_fast(void) { return 0; }
#endif
