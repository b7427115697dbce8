/* A conversation with a model: messages rendered through the model's own
 * chat template, tokenized so that only the template's markup can produce
 * control tokens, and evaluated incrementally: each turn reuses the KV cache
 * for the longest common token prefix with the previous turn. */
#ifndef HEARTH_CHAT_H
#define HEARTH_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "error.h"
#include "sampler.h"
#include "jinja/template.h"

typedef struct hearth_chat hearth_chat;

typedef struct {
    int max_tokens;              /* answer length limit; 0: 512 */
    sampler_params sampling;
    const char *const *stop;     /* user stop strings (not included in the answer) */
    int n_stop;
    /* More template variables (chat_template_kwargs, e.g. {"enable_thinking":
     * false}): a JSON object, or NULL. Read while the prompt is rendered
     * (begin) only. */
    const json_value *template_vars;
    /* A GBNF grammar (src/grammar/grammar.h) the answer must match, or NULL:
     * every token is constrained to it, and the answer ends only where the
     * grammar's text is complete. Read while the answer starts (begin). */
    const char *grammar;
    size_t grammar_len;
    /* Tool definitions (OpenAI's "tools": a JSON array) for the template, or
     * NULL. With them the answer's tool calls, in the template's own format
     * (src/tool_calls.h), are taken out of its text: hearth_chat_next_tool_calls,
     * hearth_chat_tool_calls. */
    const char *tools_json;
    size_t tools_json_len;
    int tool_choice;       /* HEARTH_TOOLS_* */
    const char *tool_name; /* the function for HEARTH_TOOLS_NAMED */
} hearth_chat_options;

enum {
    HEARTH_TOOLS_AUTO,     /* the model decides */
    HEARTH_TOOLS_NONE,     /* no tools: the template does not see them */
    HEARTH_TOOLS_REQUIRED, /* the answer is one call (the grammar makes it valid for the tool's parameters) */
    HEARTH_TOOLS_NAMED,    /* the answer is one call to tool_name */
};

typedef struct {
    int prompt_tokens;    /* the rendered conversation, in tokens */
    int reused_tokens;    /* of which came from the KV cache of the last turn */
    int evaluated_tokens; /* of which were evaluated now */
    int gen_tokens;
    int dropped_messages; /* oldest messages dropped to fit the context */
    double prefill_ms, decode_ms, ttft_ms;
    const char *stop;     /* "eog", "length", "stop", "context", "interrupted", "grammar" (it allowed nothing more) */
    int tool_calls;       /* calls in the answer (hearth_chat_tool_calls) */
    double grammar_ms;    /* of prefill_ms + decode_ms, the grammar's part (masks, checks) */
} hearth_chat_stats;

/* What the chat template does with reasoning (hearth_chat_features). */
enum {
    HEARTH_CHAT_REASONING = 1,       /* it has think tags: answers are split into reasoning and answer */
    HEARTH_CHAT_ENABLE_THINKING = 2, /* it reads enable_thinking (Qwen3): thinking can be switched off */
};

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
/* HEARTH_CHAT_* flags of the chat template. */
unsigned hearth_chat_features(const hearth_chat *c);

/* Reasoning: where the template has think tags (HEARTH_CHAT_REASONING), a
 * "<think>...</think>" block that the answer starts with (or that the prompt
 * opened, as DeepSeek-R1's does) is the answer's reasoning, kept apart from
 * its text (think.h): the text callbacks, next() and end() give each
 * separately, and the conversation keeps the answer as an assistant message
 * with reasoning_content, which the template renders as it decides. */

/* Sends one user message and generates the answer; on_text receives its
 * text, on_reasoning (may be NULL) its reasoning; *answer and *reasoning
 * (each may be NULL) receive them malloc'ed. An interrupted answer is kept
 * in the conversation as far as it got. */
hearth_status hearth_chat_send(hearth_chat *c, const char *user_text, const hearth_chat_options *o,
                               hearth_chat_text_fn on_text, hearth_chat_text_fn on_reasoning, void *user,
                               char **answer, char **reasoning, hearth_chat_stats *stats, hearth_error *err);

/* The same, a token at a time, for hosts that must yield between tokens:
 * begin (user_text NULL: answer the conversation as it stands, e.g. after
 * hearth_chat_set_messages), then next until *done (each call evaluates at
 * most one token and gives the text that became final, valid until the next
 * call; stop strings are held back until they cannot match), then end, which
 * adds the answer to the conversation. interrupt ends the answer at the next
 * call. After a failed next, end still frees the answer. */
hearth_status hearth_chat_begin(hearth_chat *c, const char *user_text, const hearth_chat_options *o,
                                hearth_error *err);
/* A raw completion of prompt (BOS as the file says, no template), through
 * the same steps and KV cache; it does not join the conversation. */
hearth_status hearth_chat_begin_raw(hearth_chat *c, const char *prompt, size_t len, const hearth_chat_options *o,
                                    hearth_error *err);
hearth_status hearth_chat_next(hearth_chat *c, const char **text, size_t *len, bool *done, hearth_error *err);
/* The tool calls that the last next() completed, as OpenAI's streamed
 * delta.tool_calls list (JSON text, each call with its "index" in the
 * answer; "[]" when none; valid until the next call). */
const char *hearth_chat_next_tool_calls(hearth_chat *c, size_t *len);
/* After end: the ended answer's tool calls, the same JSON ("[]" when none). */
const char *hearth_chat_tool_calls(const hearth_chat *c);
/* The reasoning that the last next() made final (valid until the next call). */
const char *hearth_chat_next_reasoning(const hearth_chat *c, size_t *len);
/* After a next() that was not done and gave no text: whether the backend's
 * step is in flight (an asynchronous backend, the GPU: its host completes
 * the step, then calls next again). Never true on the CPU. */
bool hearth_chat_waiting(const hearth_chat *c);
/* The token the last next() generated and the logits it was sampled from
 * (the backend's n_vocab, after the repetition penalty; NULL where the
 * backend keeps none), for hosts that report log-probabilities; false when
 * that call generated no token. Valid until the next call. */
bool hearth_chat_last_token(const hearth_chat *c, int32_t *token, const float **logits);
void hearth_chat_interrupt(hearth_chat *c);
hearth_status hearth_chat_end(hearth_chat *c, char **answer, char **reasoning, hearth_chat_stats *stats,
                              hearth_error *err);

/* Replaces the whole conversation (system message included), as stateless
 * APIs send it each time; the KV cache still serves the common prefix. */
hearth_status hearth_chat_set_messages(hearth_chat *c, const hearth_chat_message *msgs, size_t n,
                                       hearth_error *err);

/* The prompt tokens of the conversation as it stands plus a generation
 * prompt (tests, debugging). *out is malloc'ed. */
hearth_status hearth_chat_prompt_tokens(hearth_chat *c, int32_t **out, int *n, hearth_error *err);

#endif
