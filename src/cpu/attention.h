/* One attention row over an f16 KV cache, with llama.cpp's CPU
 * flash-attention numerics: Q rounded to f16, scores as f16 dot products,
 * an online softmax, and the weighted sum of V accumulated in f16. Matching
 * that rounding is what keeps hearth's logits within 1e-3 of llama.cpp's;
 * an f32 accumulator would be more precise and further from the reference. */
#ifndef HEARTH_CPU_ATTENTION_H
#define HEARTH_CPU_ATTENTION_H

#include <stdbool.h>
#include <stdint.h>

/* q: head_dim floats; K, V: n_pos rows of head_dim f16 values, stride
 * elements apart; acc: head_dim f16 scratch; out: head_dim floats. */
typedef void (*attention_row_fn)(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int head_dim,
                                 int stride, float scale, uint16_t *acc, float *out);

/* inexact: the fast numerics (kernels_prefer_speed) allow a row that
 * differs in the last bits where that is faster (wasm SIMD128). */
attention_row_fn attention_row_select(bool allow_simd, bool inexact);
/* All n_rep query heads that share one KV head (q, out: n_rep rows of
 * head_dim), reading each cache row once: only the fast numerics have one
 * (wasm SIMD128); NULL elsewhere, and callers then run rows head by head. */
typedef void (*attention_group_fn)(const float *q, int n_rep, const uint16_t *K, const uint16_t *V, int n_pos,
                                   int head_dim, int stride, float scale, float *out);
attention_group_fn attention_group_select(bool allow_simd, bool inexact);

void attention_row_scalar(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int head_dim, int stride,
                          float scale, uint16_t *acc, float *out);
/* NULL when compiled without AVX2/FMA/F16C. */
attention_row_fn attention_row_avx2(void);

#endif
