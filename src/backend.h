/* What the one generation loop (generate.c, and chat.c through it) needs of
 * a backend: evaluate some tokens at a position and, at the end of a step
 * that asks for it, sample the next token. The CPU backend (engine.c) does
 * this within the call; the GPU backend (src/gpu/gpu_backend.c) only writes
 * the step and returns HEARTH_STEP_PENDING: its asynchronous host (JS) runs
 * the GPU work, hands the sampled token to the backend, and calls the loop
 * again, which then collects it. Everything else (history, end conditions,
 * random draws, detokenizing, stop strings, the KV prefix) is the loop's,
 * the same for every backend. */
#ifndef HEARTH_BACKEND_H
#define HEARTH_BACKEND_H

#include <stdint.h>

#include "error.h"
#include "sampler.h"

/* A step's token that the host has not delivered yet. */
#define HEARTH_STEP_PENDING (-2)

/* How the last token of a step is sampled. */
typedef struct {
    sampler *smp;          /* parameters (and the CPU's scratch) */
    double draw;           /* the step's uniform draw (sampler_draw; 0 when greedy) */
    const int32_t *recent; /* tokens so far: the repetition penalty's window is their end */
    int n_recent;
    /* A grammar's tokens that may be picked, bit i of word i / 32 (NULL: all).
     * The CPU applies it before sampling; the GPU samples unconstrained and
     * the loop resamples a forbidden token from the logits (generate.c). */
    const uint32_t *allowed;
} sample_request;

typedef struct hearth_backend {
    void *ctx;
    const char *name;
    int n_ctx, n_vocab;
    int max_step; /* most tokens one step evaluates; 0: any (the backend splits them itself) */
    /* Whether this backend can sample with these parameters (NULL: all). */
    hearth_status (*check)(void *ctx, const sampler_params *p, hearth_error *err);
    /* Evaluates tokens[0..n) at positions pos..pos+n-1. With s, the step ends
     * with a token sampled from the last position's logits: *token is it, or
     * HEARTH_STEP_PENDING; without s, *token is -1 (or pending). */
    hearth_status (*step)(void *ctx, const int32_t *tokens, int n, int pos, const sample_request *s,
                          int32_t *token, hearth_error *err);
    /* After a pending step: its token (-1 for a step without sampling), or
     * HEARTH_STEP_PENDING while the host has not completed it. */
    int32_t (*collect)(void *ctx);
    /* The logits the last sampled token came from (n_vocab), or NULL when the
     * backend did not keep them. */
    const float *(*logits)(void *ctx);
} hearth_backend;

#endif
