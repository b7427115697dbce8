/* Text generation after a prompt, one token at a time (hearth_gen_*), so a
 * host can stream each token, yield to its event loop and stop between any
 * two tokens; hearth_generate runs the same steps in one call. This is the
 * one generation loop: it drives whichever backend the engine runs on
 * (backend.h), synchronously on the CPU, step by step for the GPU. */
#ifndef HEARTH_GENERATE_H
#define HEARTH_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "engine.h"
#include "error.h"
#include "sampler.h"

typedef struct {
    int prompt_tokens;    /* the whole prompt */
    int reused_tokens;    /* of which were already in the KV cache (not evaluated) */
    int gen_tokens;
    int cache_tokens;     /* positions valid in the KV cache afterwards */
    double prefill_ms, decode_ms, ttft_ms; /* from a step's start to its token (prefill_ms = ttft_ms) */
    bool stopped_by_eog, stopped_by_ctx, stopped_by_callback;
    bool stopped_by_grammar; /* the grammar allowed no token, not even an end */
    double grammar_ms;       /* of the steps' time, what the grammar's masks and checks took */
} hearth_gen_stats;

typedef struct hearth_gen hearth_gen;

/* Prepares generating up to max_tokens after the prompt (copied) on the
 * engine's backend. The first n_past prompt tokens must already be in the KV
 * cache (from an earlier call with the same tokens there); only the rest is
 * evaluated, at least the last one. 0 starts afresh. Checks: a prompt that
 * fits the context, ids inside the vocabulary, max_tokens not negative
 * (capped at the context), sampling the backend can do. Nothing is
 * evaluated before the first hearth_gen_next. */
hearth_status hearth_gen_begin(hearth_gen **out, hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past,
                               int max_tokens, const sampler_params *sp, hearth_error *err);
/* Constrains every token to the grammar matcher m (token_mask.h; not owned,
 * it must outlive the generation), before the first hearth_gen_next. End of
 * generation is allowed only where m's text is complete. */
typedef struct grammar_matcher grammar_matcher;
hearth_status hearth_gen_set_grammar(hearth_gen *g, grammar_matcher *m, hearth_error *err);
/* End-of-generation tokens do not stop it (benchmarks). */
void hearth_gen_ignore_eog(hearth_gen *g);
/* The text starts an answer rather than continuing the prompt: for
 * SentencePiece vocabularies its one leading space is dropped, as Hugging
 * Face decodes (tokenizer_decoder). */
void hearth_gen_answer_text(hearth_gen *g);

/* Runs what is pending (a prompt chunk, the token's step) and gives the next
 * token in *token; -1 when generation has ended (the stats say why:
 * end-of-generation token, max_tokens, full context, or hearth_gen_stop);
 * HEARTH_STEP_PENDING when the backend's step is in flight: the host
 * completes it (gpu_backend.h) and calls again. End-of-generation tokens are
 * not returned. */
hearth_status hearth_gen_next(hearth_gen *g, int32_t *token, hearth_error *err);
/* The text the last call made final (complete UTF-8; at the end, what the
 * decoder held back, as U+FFFD); valid until the next call. */
const char *hearth_gen_text(const hearth_gen *g, size_t *len);
/* The logits the last token was sampled from (n_vocab floats), or NULL
 * when the backend did not keep them. */
const float *hearth_gen_logits(const hearth_gen *g);
int hearth_gen_vocab_size(const hearth_gen *g);
/* Ends generation before the next token (the host's stop button). */
void hearth_gen_stop(hearth_gen *g);
const hearth_gen_stats *hearth_gen_stats_of(const hearth_gen *g);
void hearth_gen_free(hearth_gen *g);

/* Called for every generated token (end-of-generation tokens excluded) with
 * the text it made final; return false to stop. */
typedef bool (*hearth_token_fn)(void *user, int32_t token, const char *text, size_t len, const float *logits,
                                int n_vocab);

/* Runs g to its end on a synchronous backend, each token to on_token, the
 * text left at the end with token -1; *stats: g's stats. g stays the
 * caller's (to free). */
hearth_status hearth_gen_run(hearth_gen *g, hearth_token_fn on_token, void *user, hearth_gen_stats *stats,
                             hearth_error *err);
/* All of the above in one call (begin, run, free). */
hearth_status hearth_generate(hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past, int max_tokens,
                              const sampler_params *sp, hearth_token_fn on_token, void *user,
                              hearth_gen_stats *stats, hearth_error *err);

#endif
