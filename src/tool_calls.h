/* Tool calls in a model's answer. Each template family writes them its own
 * way: Hermes, Qwen2.5 and Qwen3 "<tool_call>{json}</tool_call>" blocks,
 * Llama 3.1/3.2 a JSON object {"name", "parameters"} as the whole answer
 * (after <|python_tag|>, a control token the text does not show), Mistral
 * "[TOOL_CALLS]" and a JSON list of {"name", "arguments"} (the marker is a
 * control token too: the answer then starts with the list), Phi-4-mini
 * "functools[...]" with the same list. The splitter takes the answer as it
 * is decoded, in pieces of any size, and sorts it into content and calls,
 * holding back only what may still be a call. A call that does not parse
 * (bad JSON, no name) comes back as content, as the model wrote it. This is
 * the one place the formats are read; tool_calls_grammar writes them for
 * tool_choice "required" and a named function. */
#ifndef HEARTH_TOOL_CALLS_H
#define HEARTH_TOOL_CALLS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "json.h"
#include "think.h"

typedef enum { TOOLS_NONE, TOOLS_HERMES, TOOLS_LLAMA3, TOOLS_MISTRAL, TOOLS_PHI4 } tool_format;

/* The family a chat template writes calls in (TOOLS_NONE: not one of these). */
tool_format tool_format_of_template(const char *tmpl);
const char *tool_format_name(tool_format f);

typedef struct {
    char *name;      /* the function */
    char *arguments; /* its arguments, compact JSON text of an object */
} tool_call;

typedef struct {
    tool_format format;
    int state;         /* see tool_calls.c */
    think_buf pending; /* text held back: what may still be a call */
    bool started;      /* any non-whitespace text seen */
    tool_call *calls;  /* parsed so far */
    size_t n_calls, cap_calls;
} tool_split;

void tool_split_init(tool_split *s, tool_format f);
/* Sorts text into content (appended) and calls (s->calls grows); final:
 * nothing follows. false: out of memory. */
bool tool_split_push(tool_split *s, const char *text, size_t len, bool final, think_buf *content);
void tool_split_free(tool_split *s);

/* The calls as OpenAI's tool_calls list: [{"id", "type": "function",
 * "function": {"name", "arguments": "<JSON text>"}}], ids "call" and the
 * call's number, first_id on (9 characters: Mistral's templates demand it). */
bool tool_calls_openai_json(const tool_call *calls, size_t n, unsigned first_id, think_buf *out);
/* The same as streamed delta.tool_calls entries: each with its "index" in the answer, first_index on. */
bool tool_calls_delta_json(const tool_call *calls, size_t n, unsigned first_id, size_t first_index, think_buf *out);
/* The same for chat templates, arguments as objects (they render them with tojson). */
bool tool_calls_template_json(const tool_call *calls, size_t n, unsigned first_id, think_buf *out);

/* A grammar (GBNF) for an answer that is one call in format f to one of
 * tools (OpenAI's list of {"type": "function", "function": {"name",
 * "parameters"}}), or to the one named only_name (NULL: any), its arguments
 * valid for that function's parameters schema. */
hearth_status tool_calls_grammar(tool_format f, const json_value *tools, const char *only_name, char **out,
                                 size_t *len, hearth_error *err);

#endif
