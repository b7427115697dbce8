/* An OpenAI-shaped request as JSON, for hosts that speak JSON (the browser
 * worker, a local server): {"messages": [{"role", "content"}] or "prompt",
 * "max_tokens" (or "max_completion_tokens"), "temperature", "top_p", "top_k", "min_p",
 * "repeat_penalty", "seed" (a number, or a decimal string for all 64 bits),
 * "stop": string or [strings], "chat_template_kwargs": {variables for the
 * chat template}, "enable_thinking": true/false (the same as
 * chat_template_kwargs' enable_thinking, Qwen3's switch), "response_format":
 * {"type": "text" | "json_object" | "json_schema", "json_schema": {"name",
 * "schema", "strict"}} (the answer constrained to JSON, or to JSON valid for
 * the schema: src/grammar/json_schema.h), "grammar": GBNF text (the answer
 * constrained to it; not with response_format), "tools": [{"type":
 * "function", "function": {"name", "description", "parameters"}}],
 * "tool_choice": "auto" | "none" | "required" | {"type": "function",
 * "function": {"name"}}}. Messages may carry OpenAI's tool fields: an
 * assistant's "tool_calls" (their arguments, JSON text, reach the template
 * as objects), a "tool" message's "tool_call_id" and "name". An assistant message may
 * carry "reasoning_content" (a string). Options left out keep hearth's
 * defaults. */
#ifndef HEARTH_CHAT_REQUEST_H
#define HEARTH_CHAT_REQUEST_H

#include "chat.h"
#include "json.h"

typedef struct {
    hearth_chat_options options;
    hearth_chat_message *messages; /* NULL when the request has none */
    size_t n_messages;
    const char *prompt;            /* NULL when the request has none */
    size_t prompt_len;
    /* owned: */
    json_value *json;
    const char **stops;
    char **joined;                 /* contents joined from lists of parts */
    size_t n_joined_cap;
    json_value vars;               /* chat_template_kwargs with enable_thinking: its arrays are owned, */
    bool vars_own;                 /* the values borrowed from json */
    char *grammar;                 /* made from response_format's schema (options.grammar points here or to static text) */
    char *tools;                   /* "tools" as JSON text (options.tools_json) */
    char **extras;                 /* per message: its tool_calls, tool_call_id and name as JSON (messages[i].extra_json) */
} chat_request;

hearth_status chat_request_parse(chat_request *r, const char *json, size_t len, hearth_error *err);
void chat_request_free(chat_request *r);

#endif
