/* WebAssembly SIMD128 products for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS
 * weights (Q8_K activations), bit-identical with the scalar references
 * (quant_k_scalar.c, quant_lowbit_scalar.c), whose float orders are
 * llama.cpp's zen4 build (quant_k.h, quant_lowbit.h). The integer sums are
 * quant_k_simd128.h's; here each super-block's float steps are ggml's FMAs,
 * emulated exactly in f64 (simd128_exact.h): a product of a float integer
 * sum (24 bits) and a scale (24 bits) is exact in f64. An integer sum goes
 * to f32 first, as ggml's (float) cast, which rounds above 2^24. */
#include "kernels.h"
#include "kernels_simd128.h"

#ifdef __wasm_simd128__
#include "quant_k_simd128.h"

/* int32 lanes to f32 (ggml's casts), then exactly to f64: low pair, high pair. */
AI v128_t f64_low(v128_t i) {
    return wasm_f64x2_promote_low_f32x4(wasm_f32x4_convert_i32x4(i));
}
AI v128_t f64_high(v128_t i) {
    return wasm_f64x2_promote_low_f32x4(wasm_f32x4_convert_i32x4(high_pair(i)));
}

/* st[0] = {acc, accm} += {a, b} x {da, db}, one rounding each. */
AI void pair_fma(v128_t *st, int32_t a, int32_t b, float da, float db) {
    const v128_t f = f64_low(wasm_i32x4_make(a, b, 0, 0)), d = wasm_f64x2_make(da, db);
    fma64(1, st, &f, &d);
}

/* ggml's 8 lanes (st[0..3], lanes 0-1 ... 6-7): lane l = fma(d, float(S_l), lane l). */
AI void lanes_fma(v128_t *st, v128_t lo, v128_t hi, float d) {
    const v128_t dd = wasm_f64x2_splat(d);
    const v128_t f[4] = {f64_low(lo), f64_high(lo), f64_low(hi), f64_high(hi)}, dv[4] = {dd, dd, dd, dd};
    fma64(4, st, dv, f);
}

static inline void step_exact(int ty, bool panel, const ks_sb *w, const ks_act *a, bool gemm, v128_t *st) {
    ks_sums s;
    ks_int_sums(ty, false, w, a, &s);
    const float yd = a->q->d;
    switch (ty) {
    case KS_Q4_K: {
        const float dd = w->d * yd, dm = w->dmin * yd;
        if (gemm) { /* the repack's gemm: per pair of sub-blocks */
            int32_t is[4], im[4];
            wasm_v128_store(is, ks_transpose_add(s.p[0], s.p[1], s.p[2], s.p[3]));
            wasm_v128_store(im, s.mins);
            for (int p = 0; p < 4; p++) pair_fma(st, is[p], im[p], dd, dm);
        } else {
            const v128_t p = wasm_i32x4_add(wasm_i32x4_add(s.p[0], s.p[1]), wasm_i32x4_add(s.p[2], s.p[3]));
            pair_fma(st, ks_hsum_i32(p), ks_hsum_i32(s.mins), dd, dm);
        }
        return;
    }
    case KS_Q2_K: {
        const float dd = w->d * yd, dm = w->dmin * yd;
        int32_t im[4];
        wasm_v128_store(im, s.mins);
        const int32_t i0 = ks_hsum_i32(s.lo), i1 = ks_hsum_i32(s.hi);
        if (gemm) { /* the repack's gemm: per half super-block */
            pair_fma(st, i0, im[0] + im[1], dd, dm);
            pair_fma(st, i1, im[2] + im[3], dd, dm);
        } else {
            pair_fma(st, i0 + i1, im[0] + im[1] + im[2] + im[3], dd, dm);
        }
        return;
    }
    case KS_Q5_K: {
        lanes_fma(st, s.lo, s.hi, yd * w->d);
        const v128_t f = f64_low(wasm_i32x4_make(ks_hsum_i32(s.mins), 0, 0, 0));
        const v128_t dmin = wasm_f64x2_splat(-yd * w->dmin);
        fma64(1, st + 4, &dmin, &f);
        return;
    }
    default:
        if (panel) { /* IQ4_XS from 8 tokens: the IQ panel gemm, one fma per super-block */
            const v128_t f = f64_low(wasm_i32x4_make(ks_hsum_i32(wasm_i32x4_add(s.lo, s.hi)), 0, 0, 0));
            const v128_t d = wasm_f64x2_splat(w->d * yd);
            fma64(1, st, &f, &d);
        } else { /* Q3_K, Q6_K, IQ4_XS: ggml's 8 lanes */
            lanes_fma(st, s.lo, s.hi, w->d * yd);
        }
        return;
    }
}

/* ggml's hsum_float_8 of the 8 lanes. */
AI float hsum8(const v128_t *st) {
    float l[8];
    for (int i = 0; i < 4; i++) {
        l[2 * i] = (float)wasm_f64x2_extract_lane(st[i], 0);
        l[2 * i + 1] = (float)wasm_f64x2_extract_lane(st[i], 1);
    }
    return ((l[4] + l[0]) + (l[6] + l[2])) + ((l[5] + l[1]) + (l[7] + l[3]));
}

static inline float finish_exact(int ty, bool panel, const v128_t *st) {
    switch (ty) {
    case KS_Q4_K:
    case KS_Q2_K: return (float)wasm_f64x2_extract_lane(st[0], 0) - (float)wasm_f64x2_extract_lane(st[0], 1);
    case KS_Q5_K: return hsum8(st) + (float)wasm_f64x2_extract_lane(st[4], 0);
    default: return panel ? (float)wasm_f64x2_extract_lane(st[0], 0) : hsum8(st);
    }
}

#define K_ENTRY(name, ty)                                                                                 \
    static void name(const void *w, int n, int r0, int r1, const void *a, int nt, float *o, size_t os) { \
        ks_matmul(ty, step_exact, finish_exact, w, n, r0, r1, a, nt, o, os);                           \
    }
K_ENTRY(mm_q2_k, KS_Q2_K)
K_ENTRY(mm_q3_k, KS_Q3_K)
K_ENTRY(mm_q4_k, KS_Q4_K)
K_ENTRY(mm_q5_k, KS_Q5_K)
K_ENTRY(mm_q6_k, KS_Q6_K)
K_ENTRY(mm_iq4_xs, KS_IQ4_XS)

void kernels_k_simd128_fill(hearth_kernels *k) {
    k->matmul[KW_Q2_K] = mm_q2_k;
    k->matmul[KW_Q3_K] = mm_q3_k;
    k->matmul[KW_Q4_K] = mm_q4_k;
    k->matmul[KW_Q5_K] = mm_q5_k;
    k->matmul[KW_Q6_K] = mm_q6_k;
    k->matmul[KW_IQ4_XS] = mm_iq4_xs;
}
#endif
