/* libFuzzer target for the grammar engine's hostile inputs: the first byte
 * picks what the rest is.
 *   0: GBNF text, compiled, then matched against its own bytes (the state
 *      machine on whatever the grammar allows), a byte at a time;
 *   1: a JSON Schema, converted to GBNF, which must then compile: a schema
 *      the converter accepts never gives a broken grammar; the same JSON as
 *      a list of tools, to the tool_choice grammar of each format (each
 *      tool's $refs resolved in its own parameters);
 *   2: a model's answer, split into content and tool calls in every
 *      format, in pieces whose sizes come from the input.
 * Any result is fine except a crash, a leak, undefined behaviour, a runaway
 * or (mode 1) a grammar the converter wrote that does not compile.
 *   make fuzz && build/fuzz_grammar tests/fuzz/grammar_corpus -max_total_time=60 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grammar/grammar.h"
#include "grammar/json_schema.h"
#include "grammar/matcher.h"
#include "tool_calls.h"

static void match_own_bytes(const grammar *g, const uint8_t *text, size_t n) {
    grammar_state a = {0}, b = {0};
    grammar_scratch w = {0};
    if (!grammar_state_start(g, &a, &w, NULL)) {
        for (size_t i = 0; i < n && i < 4096; i++) {
            if (!grammar_state_byte(g, &a, text[i], &b, &w)) break;
            grammar_state t = a;
            a = b;
            b = t;
        }
        (void)grammar_state_accepts(&a);
    }
    grammar_state_free(&a);
    grammar_state_free(&b);
    grammar_scratch_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1 << 16)) return 0;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] % 3 == 0) {
        grammar *g = NULL;
        if (!grammar_parse(&g, text, n, NULL)) match_own_bytes(g, data + 1, n);
        grammar_free(g);
    } else if (data[0] % 3 == 1) {
        json_value *schema = NULL;
        char *gbnf = NULL;
        size_t len = 0;
        hearth_error err;
        if (!json_parse(text, n, &schema, NULL) && !json_schema_to_gbnf(schema, &gbnf, &len, NULL)) {
            grammar *g = NULL;
            if (grammar_parse(&g, gbnf, len, &err) && err.code != HEARTH_E_NOMEM) abort(); /* the converter wrote bad GBNF */
            grammar_free(g);
        }
        free(gbnf);
        for (int f = TOOLS_HERMES; schema && f <= TOOLS_PHI4; f++) {
            gbnf = NULL;
            if (!tool_calls_grammar((tool_format)f, schema, NULL, &gbnf, &len, NULL)) {
                grammar *g = NULL;
                if (grammar_parse(&g, gbnf, len, &err) && err.code != HEARTH_E_NOMEM) abort();
                grammar_free(g);
            }
            free(gbnf);
        }
        json_free(schema);
    } else {
        for (int f = TOOLS_NONE; f <= TOOLS_PHI4; f++) {
            tool_split s;
            think_buf content = {0};
            tool_split_init(&s, (tool_format)f);
            size_t at = 0, step = 1 + data[0] / 3 % 7;
            while (at < n) {
                size_t k = n - at < step ? n - at : step;
                if (!tool_split_push(&s, text + at, k, false, &content)) break;
                at += k;
            }
            tool_split_push(&s, "", 0, true, &content);
            think_buf calls = {0};
            tool_calls_openai_json(s.calls, s.n_calls, 0, &calls);
            think_buf_free(&calls);
            think_buf_free(&content);
            tool_split_free(&s);
        }
    }
    return 0;
}
