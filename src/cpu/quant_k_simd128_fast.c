/* WebAssembly SIMD128 products for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS
 * weights with plain f32 steps (the fast numerics, kernels_prefer_speed):
 * the integer sums are quant_k_simd128.h's, as in the exact kernels, but
 * each super-block adds float(sums) x (dw * da) (and the mins' term) to 4
 * f32 lanes with a multiply and an add, summed at the end of the row, where
 * ggml's order is one FMA per lane (or per sub-block pair) per super-block,
 * which SIMD128 can only emulate (simd128_exact.h). Results differ from
 * llama.cpp's in the last bits (test_kernels bounds them). */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "quant_k_simd128.h"

static inline void step_fast(int ty, bool panel, const ks_sb *w, const ks_act *a, bool gemm, v128_t *st) {
    (void)panel;
    (void)gemm;
    ks_sums s;
    ks_int_sums(ty, true, w, a, &s);
    const float yd = a->q->d;
    v128_t sum = wasm_i32x4_add(s.lo, s.hi), mins = s.mins;
    if (ty == KS_Q4_K) sum = wasm_i32x4_add(wasm_i32x4_add(s.p[0], s.p[1]), wasm_i32x4_add(s.p[2], s.p[3]));
    v128_t t = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(sum), wasm_f32x4_splat(w->d * yd));
    if (ty == KS_Q4_K || ty == KS_Q2_K || ty == KS_Q5_K) /* minus dmin * da * (the mins' sums) */
        t = wasm_f32x4_sub(t, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(mins), wasm_f32x4_splat(w->dmin * yd)));
    st[0] = wasm_f32x4_add(st[0], t);
}

static inline float finish_fast(int ty, bool panel, const v128_t *st) {
    (void)ty;
    (void)panel;
    v128_t v = wasm_f32x4_add(st[0], wasm_i32x4_shuffle(st[0], st[0], 2, 3, 0, 1));
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

#define K_ENTRY(name, ty)                                                                                 \
    static void name(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) { \
        ks_matmul(ty, step_fast, finish_fast, w, n, r0, r1, a, nt, o, os);                             \
    }
K_ENTRY(mm_q2_k, KS_Q2_K)
K_ENTRY(mm_q3_k, KS_Q3_K)
K_ENTRY(mm_q4_k, KS_Q4_K)
K_ENTRY(mm_q5_k, KS_Q5_K)
K_ENTRY(mm_q6_k, KS_Q6_K)
K_ENTRY(mm_iq4_xs, KS_IQ4_XS)

void kernels_k_simd128_fast_fill(hearth_kernels *k) {
    k->matmul[KW_Q2_K] = mm_q2_k;
    k->matmul[KW_Q3_K] = mm_q3_k;
    k->matmul[KW_Q4_K] = mm_q4_k;
    k->matmul[KW_Q5_K] = mm_q5_k;
    k->matmul[KW_Q6_K] = mm_q6_k;
    k->matmul[KW_IQ4_XS] = mm_iq4_xs;
}
#endif
