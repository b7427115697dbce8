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

/* llama.cpp's other CPU flash attention, which ggml runs for the whole
 * batch when it has at least ATTENTION_TILED_MIN_ROWS query rows and
 * head_dim is a multiple of its f32 vector width (attention_tiled_applies):
 * Q stays f32; per tile of 64 KV positions the scores are sequential
 * f32 FMA chains over head_dim (K converted from f16), scaled, the tile's
 * max updates the running max (rescaling the accumulator and the sum by
 * expf), the tile's exps come from ggml's polynomial v_expf, summed per
 * vector of the width as its reduce-add does and then in double, and V is
 * accumulated in f32 with one FMA chain per output over the tile's
 * positions. */
#define ATTENTION_TILED_MIN_ROWS 64
#define ATTENTION_TILE_KV 64
bool attention_tiled_applies(int n_rows, int head_dim);
/* The three inner loops of a tile, for the SIMD versions: kq[j] for the
 * tile's n positions (j < n); kq[j] = ggml_poly_expf(kq[j] - max) for all
 * ATTENTION_TILE_KV entries; and acc[d] += p[j] * V[j][d] in order of j. */
typedef void (*attention_tile_scores_fn)(const float *q, const uint16_t *K, int n, int head_dim, int stride,
                                         float *kq);
typedef void (*attention_tile_accum_fn)(const float *p, const uint16_t *V, int n, int head_dim, int stride,
                                        float *acc);
typedef void (*attention_tile_exp_fn)(float *kq, float max);
typedef struct {
    attention_tile_scores_fn scores;
    attention_tile_exp_fn exp;
    attention_tile_accum_fn accum;
} attention_tile_fns;
attention_tile_fns attention_tiled_select(bool allow_simd);
/* One row over positions [kv0, n_pos) (earlier ones masked, as a sliding
 * window masks them: the tiles stay where ggml's are, at multiples of 64
 * from position 0), K and V holding positions from k0 on (k0 <= kv0, and
 * the start of kv0's tile at the latest); softcap: 0, or scores become
 * softcap * tanh(score * scale / softcap). */
void attention_tiled_row(const float *q, const uint16_t *K, const uint16_t *V, int k0, int kv0, int n_pos,
                         int head_dim, int stride, float scale, float softcap, float *out, attention_tile_fns fns);
/* The one-row attention with soft-capped scores over positions
 * [kv0, n_pos) (Gemma 2: scalar only). */
void attention_row_softcap(const float *q, const uint16_t *K, const uint16_t *V, int kv0, int n_pos, int head_dim,
                           int stride, float scale, float softcap, uint16_t *acc, float *out);

/* ggml's split-KV decode: for one query row when the KV cells in view
 * (n_kv: llama.cpp's context padded to 256, of which the used positions
 * rounded up to 256, at least 256) are 512 or more, ggml splits them into
 * one chunk per thread, runs the one-row attention on each (f16
 * accumulator) and joins the chunks' partial softmaxes in order.
 * attention_split_kv gives that n_kv, or 0 where ggml does not split. */
int attention_split_kv(int n_ctx, int pos, int n_rows);
/* The one-row attention over positions [j0, j1), from a zero accumulator:
 * acc (f16) unnormalized, ms = {max, sum}. */
typedef void (*attention_part_fn)(const float *q, const uint16_t *K, const uint16_t *V, int j0, int j1, int head_dim,
                                  int stride, float scale, uint16_t *acc, float ms[2]);
attention_part_fn attention_part_select(bool allow_simd);
attention_part_fn attention_part_avx2(void);
void attention_split_row(attention_part_fn part, const float *q, const uint16_t *K, const uint16_t *V, int n_pos,
                         int n_kv, int n_chunks, int head_dim, int stride, float scale, uint16_t *acc, float *out);

void attention_row_scalar(const float *q, const uint16_t *K, const uint16_t *V, int n_pos, int head_dim, int stride,
                          float scale, uint16_t *acc, float *out);
/* NULL when compiled without AVX2/FMA/F16C. */
attention_row_fn attention_row_avx2(void);
/* false when compiled without AVX2/FMA/F16C. */
bool attention_tile_fns_avx2(attention_tile_fns *out);

#endif
