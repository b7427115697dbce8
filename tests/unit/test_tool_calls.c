/* The tool-call splitter (src/tool_calls.h) on answers as models of each
 * template family write them: whole, in every two-piece split and a byte at
 * a time (a marker split across tokens); the result must not depend on where
 * the pieces break. Then the grammar for tool_choice "required"/named. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "grammar/grammar.h"
#include "grammar/matcher.h"
#include "tool_calls.h"

typedef struct {
    const char *name;
    tool_format f;
    const char *text;
    const char *content; /* what stays text */
    const char *calls;   /* OpenAI JSON of the calls, ids from call00000 */
} tc_case;

#define CALL(id, n, a) "{\"id\":\"call0000" #id "\",\"type\":\"function\",\"function\":{\"name\":\"" n "\",\"arguments\":\"" a "\"}}"

static const tc_case CASES[] = {
    {"Qwen2.5: one call", TOOLS_HERMES,
     "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", "",
     "[" CALL(0, "get_weather", "{\\\"city\\\":\\\"Paris\\\"}") "]"},
    {"Qwen3: text before a call, nested arguments", TOOLS_HERMES,
     "Let me check.\n<tool_call>\n{\"name\": \"book\", \"arguments\": {\"trip\": {\"from\": \"A\", \"stops\": [1, {\"x\": null}]}, \"ok\": true}}\n</tool_call>",
     "Let me check.\n",
     "[" CALL(0, "book", "{\\\"trip\\\":{\\\"from\\\":\\\"A\\\",\\\"stops\\\":[1,{\\\"x\\\":null}]},\\\"ok\\\":true}") "]"},
    {"Hermes: two calls", TOOLS_HERMES,
     "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {\"k\": \"v}\"}}\n</tool_call>",
     "\n", "[" CALL(0, "a", "{}") "," CALL(1, "b", "{\\\"k\\\":\\\"v}\\\"}") "]"},
    {"Hermes: a malformed call stays text", TOOLS_HERMES, "<tool_call>\n{\"name\": \"a\", \"arguments\": {\n</tool_call> then",
     "<tool_call>\n{\"name\": \"a\", \"arguments\": {\n</tool_call> then", "[]"},
    {"Hermes: a call without a name stays text", TOOLS_HERMES, "<tool_call>{\"arguments\": {}}</tool_call>",
     "<tool_call>{\"arguments\": {}}</tool_call>", "[]"},
    {"Hermes: unterminated at the end of the answer", TOOLS_HERMES, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}",
     "", "[" CALL(0, "f", "{\\\"a\\\":1}") "]"},
    {"Hermes: arguments as a JSON string", TOOLS_HERMES, "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 2}\"}</tool_call>",
     "", "[" CALL(0, "f", "{\\\"a\\\":2}") "]"},
    {"Hermes: no call, a '<' in text", TOOLS_HERMES, "a < b and <tool", "a < b and <tool", "[]"},
    {"Llama 3.1: a JSON call", TOOLS_LLAMA3, "{\"name\": \"get_weather\", \"parameters\": {\"location\": \"Oslo\", \"days\": [1, 2]}}",
     "", "[" CALL(0, "get_weather", "{\\\"location\\\":\\\"Oslo\\\",\\\"days\\\":[1,2]}") "]"},
    {"Llama 3.2: leading whitespace", TOOLS_LLAMA3, "\n {\"name\": \"f\", \"parameters\": {}}", "", "[" CALL(0, "f", "{}") "]"},
    {"Llama 3: text is text", TOOLS_LLAMA3, "The weather is {fine}.", "The weather is {fine}.", "[]"},
    {"Llama 3: a malformed object stays text", TOOLS_LLAMA3, "{\"name\": \"f\", \"parameters\": 3}", "{\"name\": \"f\", \"parameters\": 3}", "[]"},
    {"Mistral: [TOOL_CALLS] hidden, two calls", TOOLS_MISTRAL,
     " [{\"name\": \"a\", \"arguments\": {\"q\": \"x\"}}, {\"name\": \"b\", \"arguments\": {\"n\": {\"m\": 1}}}]", "",
     "[" CALL(0, "a", "{\\\"q\\\":\\\"x\\\"}") "," CALL(1, "b", "{\\\"n\\\":{\\\"m\\\":1}}") "]"},
    {"Mistral: [TOOL_CALLS] shown", TOOLS_MISTRAL, "Sure. [TOOL_CALLS] [{\"name\": \"a\", \"arguments\": {}}]", "Sure. ",
     "[" CALL(0, "a", "{}") "]"},
    {"Mistral: a list of numbers is text", TOOLS_MISTRAL, "[1, 2, 3] are numbers", "[1, 2, 3] are numbers", "[]"},
    {"Phi-4-mini: functools", TOOLS_PHI4, "I will call it. functools[{\"name\": \"sum\", \"arguments\": {\"xs\": [1, 2]}}]",
     "I will call it. ", "[" CALL(0, "sum", "{\\\"xs\\\":[1,2]}") "]"},
    {"Phi-4-mini: a bad list stays text", TOOLS_PHI4, "functools[{\"name\": 1}]", "functools[{\"name\": 1}]", "[]"},
    {"no format: all text", TOOLS_NONE, "<tool_call>{\"name\":\"a\",\"arguments\":{}}</tool_call>",
     "<tool_call>{\"name\":\"a\",\"arguments\":{}}</tool_call>", "[]"},
};

static bool run(const tc_case *tc, const size_t *cuts, size_t n_cuts, char **content, char **calls) {
    tool_split s;
    tool_split_init(&s, tc->f);
    think_buf out = {0}, cj = {0};
    size_t len = strlen(tc->text), at = 0;
    bool ok = true;
    for (size_t i = 0; ok && i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        ok = tool_split_push(&s, tc->text + at, end - at, i == n_cuts, &out);
        at = end;
    }
    ok = ok && think_buf_add(&out, "", 0) && tool_calls_openai_json(s.calls, s.n_calls, 0, &cj);
    tool_split_free(&s);
    *content = out.p;
    *calls = cj.p;
    return ok;
}

static void test_splits(void) {
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        const tc_case *tc = &CASES[i];
        char *content, *calls;
        bool ok = run(tc, NULL, 0, &content, &calls);
        char name[200];
        snprintf(name, sizeof name, "tool calls: %s", tc->name);
        CHECK(name, ok && strcmp(content, tc->content) == 0 && strcmp(calls, tc->calls) == 0,
              "content '%s', calls %s", content, calls);
        free(content);
        free(calls);
        /* every two-piece split, and a byte at a time */
        size_t len = strlen(tc->text), bad = 0;
        for (size_t cut = 1; cut < len; cut++) {
            ok = run(tc, &cut, 1, &content, &calls);
            bad += !ok || strcmp(content, tc->content) != 0 || strcmp(calls, tc->calls) != 0;
            free(content);
            free(calls);
        }
        size_t *every = malloc(len * sizeof *every);
        for (size_t k = 0; k + 1 < len; k++) every[k] = k + 1;
        ok = run(tc, every, len ? len - 1 : 0, &content, &calls);
        bad += !ok || strcmp(content, tc->content) != 0 || strcmp(calls, tc->calls) != 0;
        free(every);
        free(content);
        free(calls);
        snprintf(name, sizeof name, "tool calls in pieces (streamed): %s", tc->name);
        CHECK(name, bad == 0, "%zu splits differ", bad);
    }
}

static int matches(const char *gbnf, size_t len, const char *text) {
    grammar *g = NULL;
    grammar_state a = {0}, b = {0};
    grammar_scratch w = {0};
    int r = -1;
    if (!grammar_parse(&g, gbnf, len, NULL) && !grammar_state_start(g, &a, &w, NULL)) {
        r = 1;
        for (const char *c = text; *c && r; c++) {
            r = grammar_state_byte(g, &a, (uint8_t)*c, &b, &w);
            grammar_state t = a;
            a = b;
            b = t;
        }
        if (r) r = grammar_state_accepts(&a) ? 2 : 1;
    }
    grammar_state_free(&a);
    grammar_state_free(&b);
    grammar_scratch_free(&w);
    grammar_free(g);
    return r;
}

static void test_grammar(void) {
    const char *tools_text =
        "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
        "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"noop\"}},"
        /* two tools whose "#/$defs/day" differ: each $ref points into its own tool's parameters */
        "{\"type\":\"function\",\"function\":{\"name\":\"book\",\"parameters\":{\"$defs\":{\"day\":{\"type\":"
        "\"string\",\"maxLength\":10}},\"type\":\"object\",\"properties\":{\"when\":{\"$ref\":\"#/$defs/day\"}},"
        "\"required\":[\"when\"]}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"rate\",\"parameters\":{\"definitions\":{\"day\":{\"type\":"
        "\"integer\"}},\"type\":\"object\",\"properties\":{\"when\":{\"$ref\":\"#/definitions/day\"},\"again\":"
        "{\"$ref\":\"#\"}}}}}]";
    json_value *tools;
    if (json_parse(tools_text, strlen(tools_text), &tools, NULL)) return;
    static const struct {
        tool_format f;
        const char *only, *text;
        int expect;
    } G[] = {
        {TOOLS_HERMES, NULL, "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Rome\"}}\n</tool_call>", 2},
        {TOOLS_HERMES, NULL, "<tool_call>\n{\"name\":\"noop\",\"arguments\":{}}\n</tool_call>", 2},
        {TOOLS_HERMES, NULL, "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{}}\n</tool_call>", 0},
        {TOOLS_HERMES, "noop", "<tool_call>\n{\"name\":\"get_weather\"", 0},
        {TOOLS_LLAMA3, NULL, "{\"name\":\"get_weather\",\"parameters\":{\"city\":\"Rome\"}}", 2},
        {TOOLS_MISTRAL, NULL, "[{\"name\":\"noop\",\"arguments\":{}}]", 2},
        {TOOLS_PHI4, "get_weather", "functools[{\"name\":\"get_weather\",\"arguments\":{\"city\":\"x\"}}]", 2},
        {TOOLS_HERMES, "book", "<tool_call>\n{\"name\":\"book\",\"arguments\":{\"when\":\"2025-01-01\"}}\n</tool_call>", 2},
        {TOOLS_HERMES, "book", "<tool_call>\n{\"name\":\"book\",\"arguments\":{\"when\":\"2025-01-01T\"", 0},
        {TOOLS_HERMES, NULL, "<tool_call>\n{\"name\":\"book\",\"arguments\":{\"when\":5", 0},
        {TOOLS_LLAMA3, "rate", "{\"name\":\"rate\",\"parameters\":{\"when\":5,\"again\":{\"when\":6}}}", 2},
        {TOOLS_LLAMA3, NULL, "{\"name\":\"rate\",\"parameters\":{\"when\":\"", 0},
        {TOOLS_MISTRAL, NULL, "[{\"name\":\"rate\",\"arguments\":{\"again\":{}}}]", 2},
        {TOOLS_PHI4, NULL, "functools[{\"name\":\"book\",\"arguments\":{\"when\":\"x\"}}]", 2},
    };
    for (size_t i = 0; i < sizeof G / sizeof *G; i++) {
        char *gbnf = NULL;
        size_t len = 0;
        hearth_error err = {0};
        hearth_status st = tool_calls_grammar(G[i].f, tools, G[i].only, &gbnf, &len, &err);
        int got = st ? -2 : matches(gbnf, len, G[i].text);
        char name[300];
        snprintf(name, sizeof name, "tool_choice grammar (%s%s%s): %.60s", tool_format_name(G[i].f), G[i].only ? ", " : "",
                 G[i].only ? G[i].only : "", G[i].text);
        for (char *c = name; *c; c++)
            if (*c == '\n') *c = ' ';
        CHECK(name, got == G[i].expect, "got %d, expected %d (%s)", got, G[i].expect, err.message);
        free(gbnf);
    }
    char *gbnf = NULL;
    size_t len;
    hearth_error err = {0};
    hearth_status st = tool_calls_grammar(TOOLS_HERMES, tools, "missing", &gbnf, &len, &err);
    CHECK("tool_choice naming an unknown function is refused", st && strstr(err.message, "missing"), "%s", err.message);
    free(gbnf);
    json_free(tools);
}

int main(void) {
    test_splits();
    test_grammar();
    CHECK_DONE();
}
