/* libFuzzer target for hearth serve's request path without the network
 * (native/serve_request.c): the input is a Host header, a NUL, and a
 * completion request's body; its first byte picks /v1/completions or
 * /v1/chat/completions. The body goes through the same parser as every
 * request (chat_request.c) and the API's own fields; a request that passes
 * must have what a slot reads. Any result is fine except a crash, a leak or
 * undefined behaviour.
 *   make fuzz && build/fuzz_serve -max_total_time=60 tests/fuzz/serve_corpus */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    bool raw = data[0] & 1;
    data++, size--;
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        char *host = malloc((size_t)(nul - data) + 1);
        if (!host) return 0;
        memcpy(host, data, (size_t)(nul - data));
        host[nul - data] = 0;
        (void)serve_host_is_local(host);
        (void)serve_address_is_loopback(host);
        free(host);
        size -= (size_t)(nul - data) + 1;
        data = nul + 1;
    }
    chat_request req;
    serve_form form;
    hearth_error err;
    if (serve_parse_request((const char *)data, size, raw, &req, &form, &err) == HEARTH_OK) {
        if (form.top_logprobs < -1 || form.top_logprobs > 20 || (raw && form.top_logprobs >= 0)) abort();
        if (raw ? !req.prompt || req.messages : !req.messages || req.prompt) abort();
        for (size_t i = 0; i < req.n_messages; i++)
            if (!req.messages[i].role || !req.messages[i].content) abort();
        for (int i = 0; i < req.options.n_stop; i++) (void)strlen(req.options.stop[i]);
        chat_request_free(&req);
    } else if (!err.message[0]) {
        abort(); /* a refusal always says why */
    }
    return 0;
}
