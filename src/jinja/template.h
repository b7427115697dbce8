/* Chat templates: renders a model's Jinja chat template (GGUF
 * tokenizer.chat_template, or a Hugging Face tokenizer_config.json's) for a
 * conversation, the way Hugging Face's apply_chat_template does
 * (trim_blocks, lstrip_blocks; @huggingface/jinja semantics).
 * Variables: messages, add_generation_prompt, bos_token, eos_token, tools
 * (when given), the caller's own (variables), and the functions raise_exception, strftime_now, range,
 * namespace. See docs/templates.md for what is supported. */
#ifndef HEARTH_TEMPLATE_H
#define HEARTH_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

typedef struct {
    const char *role;
    const char *content;           /* NULL: the message has no content (None) */
    const char *reasoning_content; /* an assistant turn's reasoning; NULL: the message has none */
    /* More members as a JSON object (an assistant's tool_calls, a tool
     * result's tool_call_id and name); NULL: none. */
    const char *extra_json;
} hearth_chat_message;

typedef struct {
    /* The conversation: either JSON text (an array of message objects, or an
     * object {"messages": [...], "tools": [...]}), or messages/n_messages. */
    const char *messages_json;
    size_t messages_json_len;
    const hearth_chat_message *messages;
    size_t n_messages;
    /* Tool definitions as a JSON array; NULL: `tools` is undefined (unless the messages JSON has "tools"). */
    const char *tools_json;
    size_t tools_json_len;
    bool add_generation_prompt;
    /* More variables (a request's chat_template_kwargs, e.g. Qwen3's
     * enable_thinking): a JSON object whose members become globals; NULL:
     * none. A name the renderer sets itself (messages, tools, ...) is an error. */
    const json_value *variables;
    const char *bos_token, *eos_token; /* NULL: "" */
    int year, month, day;              /* strftime_now's date; 0: 1970-01-01 */
    /* Limits; 0 picks the default (16 MiB output, 256 MiB memory,
     * 1,000,000 loop iterations, depth 200). */
    size_t max_output, max_memory, max_iterations, max_depth;
} hearth_template_input;

/* Renders template (len bytes). On success *out is malloc'ed UTF-8 with a
 * terminating NUL (*out_len excludes it). On failure err says where:
 * "template:LINE:COL: ..." for the template, "messages: json:LINE:COL: ..."
 * for the input; a template's raise_exception(msg) gives
 * "template:LINE:COL: raise_exception: msg" (HEARTH_E_ARG). */
hearth_status hearth_template_render(const char *tmpl, size_t len, const hearth_template_input *in, char **out,
                                     size_t *out_len, hearth_error *err);

/* The same, and *from_request (malloc'ed, *out_len bytes) says where each
 * output byte came from: 1 for bytes of the request (messages: every field,
 * role, content and reasoning_content included; tools; variables; their keys
 * too) and of everything the template derived from them byte by byte
 * (concatenation, slices, trim, replace, split, case mapping, join, indent,
 * tojson, numbers converted from them); 0 for the template's own text, the
 * model's bos_token/eos_token and what the template computed itself (loop
 * indices, lengths, dates). Exact, not a guess: each value carries its
 * provenance through the evaluator. Chat tokenizes so that only 0 bytes can
 * form special tokens. */
hearth_status hearth_template_render_marked(const char *tmpl, size_t len, const hearth_template_input *in, char **out,
                                            size_t *out_len, uint8_t **from_request, hearth_error *err);

#endif
