/* SwiGLU, out = silu(gate) * up, computed as ggml's CPU backend computes it:
 * full groups of 16 elements use ggml's polynomial expf (v_expf), the rest
 * libm's expf. Matching it to the last bit matters: a 1-ulp difference here
 * flips roundings when the next matrix product quantizes its input. */
#ifndef HEARTH_CPU_ACTIVATION_H
#define HEARTH_CPU_ACTIVATION_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*swiglu_fn)(const float *gate, const float *up, float *out, int n);

/* inexact: the fast numerics (kernels_prefer_speed) allow a SwiGLU that
 * differs in the last bits where that is faster (wasm SIMD128). */
swiglu_fn swiglu_select(bool allow_simd, bool inexact);
void swiglu_scalar(const float *gate, const float *up, float *out, int n);
/* NULL when compiled without AVX2/FMA. */
swiglu_fn swiglu_avx2(void);
/* NULL when compiled without SIMD128; not bit-identical (activation_simd128.c). */
swiglu_fn swiglu_simd128_fast(void);

/* GEGLU, out = gelu(gate) * up with GELU's tanh form, as ggml's CPU backend
 * computes it: gate rounded to f16 and looked up in a table of f16 GELU
 * values (ggml's GGML_GELU_FP16), 0 at or below -10 and gate * up at or
 * above 10. The table (65536 entries) belongs to the caller. */
void gelu_table_init(uint16_t *table);
void geglu(const uint16_t *table, const float *gate, const float *up, float *out, int n);

/* ggml's v_expf for one element (portable, with fmaf). */
float ggml_poly_expf(float x);

#endif
