/* The GPU backend's plan for one model: buffers, pipelines and the dispatch
 * lists of a decode step and of a prefill chunk, described once to the GPU
 * host; then the weights, uploaded in bounded chunks. */
#ifndef HEARTH_GPU_PLAN_H
#define HEARTH_GPU_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "gpu/gpu_host.h"
#include "host.h"
#include "model/model.h"

typedef struct gpu_model gpu_model;

typedef struct {
    int n_ctx, max_batch;
    bool no_subgroups; /* use the workgroup-memory reductions even where subgroups exist (tests) */
    bool exact_attention; /* attention with the CPU path's f16 accumulation, bit for bit (tests); slower */
    bool no_mmq;          /* products of quantized weights in f32 (mm.wgsl, rows.wgsl) instead of integers */
    int attn_split;       /* decode attention: workgroups per head (0: the default; 1: attn_one.wgsl) */
    int mvq_tpr, mvq_wgs; /* integer decode products: lanes a row (at most), workgroups (at least); 0: defaults */
    int mmq_tn;           /* integer prefill products: tokens a thread (4 or 8); 0: by weight type */
    bool no_fuse;         /* decode: SwiGLU's product does not quantize the down product's input (comparisons) */
    bool no_fold;         /* decode: post norms in dispatches of their own, not folded into the next product (comparisons) */
    int exact_split;      /* exact attention: decode over 512+ cells in this many chunks, as the CPU path with that
                           * many threads (ggml's split; 0: never) */
} gpu_options;

/* The uniform block of a step (common.wgsl's Step). */
typedef struct {
    uint32_t pos, n_tok, token, n_cand;
    float temp, top_p, min_p, rand;
    float penalty;
    uint32_t n_recent, top_k;
    uint32_t masked; /* sampling takes only the tokens of the mask (gpu_model_write_mask) */
    uint32_t recent[64];
} gpu_step;

hearth_status gpu_model_create(gpu_model **out, const model *m, const hearth_host *host, const gpu_host *gh,
                               const gpu_options *opt, hearth_error *err);
void gpu_model_free(gpu_model *g);

/* Uploads up to about `budget` bytes of weights; *left: bytes still to go. */
hearth_status gpu_model_upload(gpu_model *g, uint64_t budget, uint64_t *left, hearth_error *err);

int gpu_model_ctx(const gpu_model *g);
int gpu_model_batch(const gpu_model *g);
int gpu_model_vocab(const gpu_model *g);
/* Dispatches per list (GPU_LIST_*), pipelines, and bytes of GPU memory. */
int gpu_model_dispatches(const gpu_model *g, int list);
int gpu_model_pipelines(const gpu_model *g);
uint64_t gpu_model_bytes(const gpu_model *g);

/* Writes the step's allowed tokens (a grammar's mask, bit i of word i / 32,
 * (n_vocab + 31) / 32 words), which sampling reads when the step's
 * uniform block says masked. */
hearth_status gpu_model_write_mask(gpu_model *g, const uint32_t *allowed, hearth_error *err);

/* Writes the uniform block (and the tokens of a prefill chunk). */
hearth_status gpu_model_write_step(gpu_model *g, const gpu_step *s, const int32_t *tokens, int n_tokens,
                                   hearth_error *err);

#endif
