/* A conversation with a model: messages rendered through the model's own
 * chat template, tokenized so that only the template's markup can produce
 * control tokens, and evaluated incrementally: each turn reuses the KV cache
 * for the longest common token prefix with the previous turn. */
#ifndef HEARTH_CHAT_H
#define HEARTH_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "error.h"
#include "sampler.h"

typedef struct hearth_chat hearth_chat;

typedef struct {
    int max_tokens;              /* answer length limit; 0: 512 */
    sampler_params sampling;
    const char *const *stop;     /* user stop strings (not included in the answer) */
    int n_stop;
} hearth_chat_options;

typedef struct {
    int prompt_tokens;    /* the rendered conversation, in tokens */
    int reused_tokens;    /* of which came from the KV cache of the last turn */
    int evaluated_tokens; /* of which were evaluated now */
    int gen_tokens;
    int dropped_messages; /* oldest messages dropped to fit the context */
    double prefill_ms, decode_ms, ttft_ms;
    const char *stop;     /* "eog", "length", "stop", "context", "interrupted" */
} hearth_chat_stats;

/* Receives the answer as it is decoded, in complete UTF-8 characters;
 * return false to interrupt it. */
typedef bool (*hearth_chat_text_fn)(void *user, const char *text, size_t len);

/* system: the system message, or NULL. A model without a chat template
 * gets ChatML (hearth_chat_warning says so). */
hearth_status hearth_chat_create(hearth_chat **out, hearth_engine *e, const char *system, hearth_error *err);
void hearth_chat_free(hearth_chat *c);
/* Forgets the conversation (the system message stays). */
void hearth_chat_reset(hearth_chat *c);
/* The date templates see through strftime_now (the core has no calendar;
 * the host passes it). Default: 1970-01-01. */
void hearth_chat_set_date(hearth_chat *c, int year, int month, int day);
/* A warning for the user about this chat ("" when none). */
const char *hearth_chat_warning(const hearth_chat *c);

/* Sends one user message and generates the answer; *answer (may be NULL)
 * receives it malloc'ed. An interrupted answer is kept in the conversation
 * as far as it got. */
hearth_status hearth_chat_send(hearth_chat *c, const char *user_text, const hearth_chat_options *o,
                               hearth_chat_text_fn on_text, void *user, char **answer, hearth_chat_stats *stats,
                               hearth_error *err);

/* The prompt tokens of the conversation as it stands plus a generation
 * prompt (tests, debugging). *out is malloc'ed. */
hearth_status hearth_chat_prompt_tokens(hearth_chat *c, int32_t **out, int *n, hearth_error *err);

#endif
