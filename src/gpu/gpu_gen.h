/* Generation on the GPU, one step at a time, driven by an asynchronous
 * host: gpu_gen_prepare writes a step (a prefill chunk or a decode token)
 * and names the dispatch list to run; the host runs it, reads back the
 * sampled token and hands it to gpu_gen_complete. Sampling itself happens
 * on the GPU (plan.h); this side keeps the history, the random draws, the
 * end conditions and the streamed text. */
#ifndef HEARTH_GPU_GEN_H
#define HEARTH_GPU_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "gpu/plan.h"
#include "sampler.h"

typedef struct gpu_gen gpu_gen;

typedef struct {
    int prompt_tokens, reused_tokens, gen_tokens, cache_tokens;
    bool stopped_by_eog, stopped_by_ctx, stopped_by_callback;
} gpu_gen_stats;

/* ignore_eog: end-of-generation tokens do not stop it (benchmarks). */
hearth_status gpu_gen_begin(gpu_gen **out, hearth_engine *e, gpu_model *g, const int32_t *prompt, int n_prompt,
                            int n_past, int max_tokens, const sampler_params *sp, bool ignore_eog, hearth_error *err);
void gpu_gen_free(gpu_gen *s);

/* Writes the next step; *list: the GPU_LIST_* to run, -1 when generation
 * has ended; *samples: whether that list ends with a sampled token. */
hearth_status gpu_gen_prepare(gpu_gen *s, int *list, bool *samples, hearth_error *err);
/* The token the GPU sampled after a list that samples; returns it, or -1
 * when generation ends with it (end-of-generation or the length limit).
 * Its text (complete UTF-8, possibly empty) is in gpu_gen_text. */
int32_t gpu_gen_complete(gpu_gen *s, int32_t token);
const char *gpu_gen_text(const gpu_gen *s, size_t *len);
/* Text held back at the end (an incomplete UTF-8 sequence), as U+FFFD. */
const char *gpu_gen_flush(gpu_gen *s, size_t *len);
void gpu_gen_stop(gpu_gen *s);
const gpu_gen_stats *gpu_gen_stats_of(const gpu_gen *s);

#endif
