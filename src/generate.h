/* Text generation after a prompt, one token at a time (hearth_gen_*), so a
 * host can stream each token, yield to its event loop and stop between any
 * two tokens; hearth_generate runs the same steps in one call. */
#ifndef HEARTH_GENERATE_H
#define HEARTH_GENERATE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "error.h"
#include "sampler.h"

typedef struct {
    int prompt_tokens;    /* the whole prompt */
    int reused_tokens;    /* of which were already in the KV cache (not evaluated) */
    int gen_tokens;
    int cache_tokens;     /* positions valid in the KV cache afterwards */
    double prefill_ms, decode_ms, ttft_ms; /* time spent inside the engine */
    bool stopped_by_eog, stopped_by_ctx, stopped_by_callback;
} hearth_gen_stats;

typedef struct hearth_gen hearth_gen;

/* The checks every backend's generation starts with: a prompt that fits the
 * context, max_tokens not negative (capped at the context), n_past clamped
 * so that at least the last prompt token is evaluated. */
hearth_status hearth_gen_check(int n_prompt, int n_ctx, int *n_past, int *max_tokens, hearth_error *err);

/* Prepares generating up to max_tokens after the prompt (copied). The first
 * n_past prompt tokens must already be in the KV cache (from an earlier call
 * with the same tokens there); only the rest is evaluated. 0 starts afresh.
 * Nothing is evaluated before the first hearth_gen_next. */
hearth_status hearth_gen_begin(hearth_gen **out, hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past,
                               int max_tokens, const sampler_params *sp, hearth_error *err);
/* Evaluates what is pending (the prompt, then each token) and samples the
 * next token into *token; -1 when generation has ended (the stats say why:
 * end-of-generation token, max_tokens, full context, or hearth_gen_stop).
 * End-of-generation tokens are not returned. */
hearth_status hearth_gen_next(hearth_gen *g, int32_t *token, hearth_error *err);
/* The logits the last token was sampled from (n_vocab floats). */
const float *hearth_gen_logits(const hearth_gen *g);
int hearth_gen_vocab_size(const hearth_gen *g);
/* Ends generation before the next token (the host's stop button). */
void hearth_gen_stop(hearth_gen *g);
const hearth_gen_stats *hearth_gen_stats_of(const hearth_gen *g);
void hearth_gen_free(hearth_gen *g);

/* Called for every generated token (end-of-generation tokens excluded);
 * return false to stop. */
typedef bool (*hearth_token_fn)(void *user, int32_t token, const float *logits, int n_vocab);

/* All of the above in one call. */
hearth_status hearth_generate(hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past, int max_tokens,
                              const sampler_params *sp, hearth_token_fn on_token, void *user,
                              hearth_gen_stats *stats, hearth_error *err);

#endif
