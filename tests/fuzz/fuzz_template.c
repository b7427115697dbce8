/* libFuzzer target for chat templates: the input is a template, optionally
 * followed by a NUL and a messages JSON document, which is also parsed as an
 * OpenAI-shaped request (chat_request.c, what a page sends the worker). Any
 * result is fine except a crash, a leak, undefined behaviour or a runaway.
 *   make fuzz && build/fuzz_template -max_total_time=60 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat_request.h"
#include "jinja/template.h"

static const char DEFAULT_MESSAGES[] =
    "[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\" hi \"},"
    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]},"
    "{\"role\":\"user\",\"content\":\"\\u00e9\"}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *t = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    hearth_template_input in = {
        .add_generation_prompt = size & 1,
        .bos_token = "<s>",
        .eos_token = "</s>",
        .year = 2024, .month = 7, .day = 26,
        .max_output = 1 << 16,
        .max_memory = 16 << 20,
        .max_iterations = 20000,
        .max_depth = 100,
    };
    chat_request r;
    memset(&r, 0, sizeof r);
    if (nul) {
        in.messages_json = (const char *)nul + 1;
        in.messages_json_len = size - tlen - 1;
        hearth_error rerr;
        if (chat_request_parse(&r, in.messages_json, in.messages_json_len, &rerr) == HEARTH_OK) {
            for (size_t i = 0; i < r.n_messages; i++)
                if (!r.messages[i].role || !r.messages[i].content) abort();
            for (int i = 0; i < r.options.n_stop; i++) (void)strlen(r.options.stop[i]);
            in.variables = r.options.template_vars; /* chat_template_kwargs / enable_thinking */
        }
    } else {
        in.messages_json = DEFAULT_MESSAGES;
        in.messages_json_len = sizeof DEFAULT_MESSAGES - 1;
    }
    char *out = NULL;
    size_t n;
    hearth_error err;
    if (hearth_template_render(t, tlen, &in, &out, &n, &err) == HEARTH_OK && (!out || strlen(out) > n)) abort();
    free(out);
    chat_request_free(&r);
    return 0;
}
