/* The grammar engine (src/grammar/): GBNF parsing and its errors, matching
 * text against grammars (a byte at a time, UTF-8 split anywhere), and the
 * token mask from the vocabulary trie against a brute-force check of every
 * token, on the real stories260K vocabulary. HEARTH_GRAMMAR_VOCAB=F.gguf
 * checks the masks on that model's vocabulary too (slow for a large one:
 * e.g. the Qwen2.5-0.5B bench model's 151k tokens, many non-ASCII). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine.h"
#include "grammar/grammar.h"
#include "grammar/json_schema.h"
#include "grammar/matcher.h"
#include "grammar/token_mask.h"
#include "host_native.h"
#include "tokenizer/tokenizer.h"

#define STORIES "../shared/models/stories260K.gguf"

static const struct {
    const char *gbnf, *error;
} BAD[] = {
    {"", "no rule named 'root'"},
    {"root ::= foo", "used but never defined"},
    {"root ::= root \"a\" | \"b\"", "left-recursive"},
    {"root ::= x\nx ::= (\"a\")? root", "left-recursive"},
    {"root ::= \"abc", "unexpected end"},
    {"root ::= [a-", "unexpected end"},
    {"root ::= \"\\q\"", "unknown escape"},
    {"root ::= \"a\"{3,2}", "m <= n"},
    {"root ::= \"a\"{1001}", "above 1000"},
    {"root ::= * \"a\"", "needs an item"},
    {"root ::= (\"a\"", "expected ')'"},
    {"root ::= \"a\"\nroot ::= \"b\"", "defined twice"},
    {"root = \"a\"", "expected '::='"},
    {"root ::= [z-a]", "below its start"},
    {"root ::= \"\\xZZ\"", "hex digits"},
};

static const char *const GOOD_JSONISH =
    "# a small JSON-like grammar\n"
    "root   ::= object\n"
    "object ::= \"{\" ws ( pair ( \",\" ws pair )* )? \"}\"\n"
    "pair   ::= string \":\" ws value ws\n"
    "value  ::= object | string | number | (\"true\" | \"false\" | \"null\")\n"
    "string ::= \"\\\"\" ( [^\"\\\\] | \"\\\\\" [\"\\\\nt] )* \"\\\"\"\n"
    "number ::= \"-\"? [0-9]+ (\".\" [0-9]+)?\n"
    "ws     ::= [ \\t\\n]{0,2}\n";

static const struct {
    const char *gbnf, *text;
    int expect; /* 2: complete, 1: a valid prefix, 0: dead */
} MATCH[] = {
    {"root ::= \"ab\" | \"ac\"", "ab", 2},
    {"root ::= \"ab\" | \"ac\"", "a", 1},
    {"root ::= \"ab\" | \"ac\"", "ad", 0},
    {"root ::= [a-c]+ \"!\"", "abcab!", 2},
    {"root ::= [a-c]+ \"!\"", "!", 0},
    {"root ::= [^x]*", "hello", 2},
    {"root ::= [^x]*", "hex", 0},
    {"root ::= \"a\"{2,3}", "a", 1},
    {"root ::= \"a\"{2,3}", "aaa", 2},
    {"root ::= \"a\"{2,3}", "aaaa", 0},
    {"root ::= \"a\"{2,}", "aaaaaa", 2},
    {"root ::= \"x\" .? \"y\"", "x\xe2\x9c\x93y", 2},
    {"root ::= [\\u00e0-\\u00ff]", "\xc3\xa9", 2},
    {"root ::= [\\u00e0-\\u00ff]", "\xc3", 1},
    {"root ::= [\\u00e0-\\u00ff]", "\xe2", 0},
    {"root ::= \"日本\"", "日本", 2},
    {"root ::= [^\"]*", "\xed\xa0", 0}, /* the start of a surrogate (U+D800): no character can complete it */
    {"root ::= [^\"]*", "\xed\x9f", 1},
    {"root ::= ( \"a\"\n  \"b\" )", "ab", 2},
    {NULL, "{\"a\": 1, \"b\": {\"c\": \"x\\\"y\"}}", 2},
    {NULL, "{\"a\": -1.5,\"b\":true}", 2},
    {NULL, "{\"a\": 1.}", 0},
    {NULL, "{\"a\": tru", 1},
};

static int match_text(const grammar *g, const char *text) {
    grammar_state a = {0}, b = {0};
    grammar_scratch w = {0};
    int result = 0;
    if (!grammar_state_start(g, &a, &w, NULL)) {
        result = 1;
        for (const char *c = text; *c && result; c++) {
            if (!grammar_state_byte(g, &a, (uint8_t)*c, &b, &w)) result = 0;
            grammar_state t = a;
            a = b;
            b = t;
        }
        if (result && grammar_state_accepts(&a)) result = 2;
    }
    grammar_state_free(&a);
    grammar_state_free(&b);
    grammar_scratch_free(&w);
    return result;
}

static void test_parse_errors(void) {
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        grammar *g = NULL;
        hearth_error err = {0};
        hearth_status st = grammar_parse(&g, BAD[i].gbnf, strlen(BAD[i].gbnf), &err);
        char name[160];
        snprintf(name, sizeof name, "grammar error: %s", BAD[i].error);
        CHECK(name, st && !g && strstr(err.message, BAD[i].error), "status %d, message '%s'", st, err.message);
        grammar_free(g);
    }
}

static void test_matching(void) {
    for (size_t i = 0; i < sizeof MATCH / sizeof *MATCH; i++) {
        const char *src = MATCH[i].gbnf ? MATCH[i].gbnf : GOOD_JSONISH;
        grammar *g = NULL;
        hearth_error err = {0};
        int got = -1;
        if (!grammar_parse(&g, src, strlen(src), &err)) got = match_text(g, MATCH[i].text);
        char name[200];
        snprintf(name, sizeof name, "grammar match '%s'", MATCH[i].text);
        CHECK(name, got == MATCH[i].expect, "got %d, expected %d (%s)", got, MATCH[i].expect, err.message);
        grammar_free(g);
    }
}

/* Deep nesting is bounded, not a crash: a state past GRAMMAR_MAX_DEPTH dies. */
static void test_depth_bound(void) {
    const char *src = "root ::= \"[\" root? \"]\"";
    grammar *g = NULL;
    hearth_status st = grammar_parse(&g, src, strlen(src), NULL);
    char text[2 * GRAMMAR_MAX_DEPTH + 8];
    memset(text, '[', sizeof text - 1);
    text[sizeof text - 1] = 0;
    CHECK("grammar: nesting beyond the depth bound ends the match", !st && match_text(g, text) == 0, "st %d", st);
    CHECK("grammar: nesting within the bound matches", !st && match_text(g, "[[[]]]") == 2, "st %d", st);
    grammar_free(g);
}

/* JSON Schema to GBNF: what the grammar takes, and what it refuses. */
static const struct {
    const char *schema, *text;
    int expect; /* 2 complete, 1 prefix, 0 dead, -1 the schema is refused */
} SCHEMA[] = {
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\"}},\"required\":[\"b\"]}", "{\"b\": \"x\"}", 2},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\"}},\"required\":[\"b\"]}", "{\"a\": 1", 1},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\"}},\"required\":[\"b\"]}", "{\"a\": 1}", 0},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\"}},\"required\":[\"b\"]}", "{\"a\": 1, \"b\": \"\"}", 2},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}", "{}", 2},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}", "{\"c\": 1}", 0},
    {"{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":1,\"maxItems\":2}", "[]", 0},
    {"{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":1,\"maxItems\":2}", "[true, false]", 2},
    {"{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":1,\"maxItems\":2}", "[true, false,", 0},
    {"{\"enum\":[\"a\\\"b\",1.5,null]}", "\"a\\\"b\"", 2},
    {"{\"const\":{\"k\":[1,2]}}", "{\"k\":[1,2]}", 2},
    {"{\"type\":\"string\",\"maxLength\":2}", "\"abc\"", 0},
    {"{\"type\":\"string\",\"minLength\":2}", "\"a\"", 0},
    {"{\"type\":[\"integer\",\"null\"]}", "null", 2},
    {"{\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#/$defs/n\"}}}},\"$ref\":\"#/$defs/n\"}", "{\"next\": {\"next\": {}}}", 2},
    {"{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"boolean\"}]}", "\"x\"", 0},
    {"{\"type\":\"integer\"}", "-12", 2},
    {"{\"type\":\"integer\"}", "012", 0},
    {"{\"type\":\"number\"}", "1.5e+3", 2},
    {"{\"type\":\"string\",\"pattern\":\"a\"}", "", -1},
    {"{\"oneOf\":[{\"type\":\"integer\"}]}", "", -1},
    {"{\"$ref\":\"http://example.com/s\"}", "", -1},
    {"{\"$ref\":\"#/missing\"}", "", -1},
    {"{\"type\":\"object\",\"properties\":{},\"required\":[\"x\"]}", "", -1},
    {"{\"type\":\"array\",\"maxItems\":100000}", "", -1},
    /* a type named twice would convert its subtree twice at every level (2^depth rules) */
    {"{\"type\":[\"object\",\"object\"],\"properties\":{\"a\":{\"type\":[\"object\",\"object\"]}}}", "", -1},
};

static void test_json_schema(void) {
    for (size_t i = 0; i < sizeof SCHEMA / sizeof *SCHEMA; i++) {
        json_value *v = NULL;
        char *gbnf = NULL;
        size_t len = 0;
        hearth_error err = {0};
        grammar *g = NULL;
        int got = -2;
        if (!json_parse(SCHEMA[i].schema, strlen(SCHEMA[i].schema), &v, &err)) {
            if (json_schema_to_gbnf(v, &gbnf, &len, &err)) got = -1;
            else if (!grammar_parse(&g, gbnf, len, &err)) got = match_text(g, SCHEMA[i].text);
        }
        char name[300];
        snprintf(name, sizeof name, "JSON schema %s: %s", SCHEMA[i].schema, SCHEMA[i].expect < 0 ? "refused" : SCHEMA[i].text);
        CHECK(name, got == SCHEMA[i].expect, "got %d, expected %d (%s)", got, SCHEMA[i].expect, err.message);
        grammar_free(g);
        free(gbnf);
        json_free(v);
    }
}

/* The mask against trying every token's bytes, along a path of picks;
 * max_states > 0: the matcher's state table that small, so walks fill it
 * and step on without it. */
static void test_mask(const hearth_tokenizer *tok, const vocab_trie *trie, const char *src, const char *path,
                      uint32_t max_states) {
    grammar *g = NULL;
    grammar_matcher *m = NULL, *probe = NULL;
    hearth_error err = {0};
    hearth_status st = grammar_parse(&g, src, strlen(src), &err);
    if (!st) st = grammar_matcher_create(&m, g, trie, &err);
    if (!st && max_states) grammar_matcher_limit_states(m, max_states);
    int n = tokenizer_vocab_size(tok), words = (n + 31) / 32, steps = 0, bad = 0, picks = 0;
    uint32_t *mask = calloc((size_t)words, sizeof *mask);
    /* follow the path's text token by token: at each step, the allowed token that matches most of it */
    size_t at = 0, plen = strlen(path);
    char piece[256];
    while (!st && mask && steps < 64) {
        int count = grammar_matcher_mask(m, mask), counted = 0;
        for (int id = 0; id < n; id++) {
            /* a fresh matcher replayed to here, then the one token */
            if (grammar_matcher_create(&probe, g, trie, &err)) break;
            bool ok = grammar_matcher_accept_text(probe, path, at) && grammar_matcher_accept(probe, id);
            grammar_matcher_free(probe);
            if (ok != token_allowed(mask, id)) bad++;
            counted += token_allowed(mask, id);
        }
        if (counted != count) bad++;
        steps++;
        if (at >= plen) break;
        int best = -1;
        size_t best_len = 0;
        for (int id = 0; id < n; id++) {
            if (!token_allowed(mask, id)) continue;
            size_t len = tokenizer_piece(tok, id, false, piece, sizeof piece);
            if (len > best_len && len <= plen - at && memcmp(piece, path + at, len) == 0) best = id, best_len = len;
        }
        if (best < 0) break;
        if (!grammar_matcher_accept(m, best)) bad++;
        at += best_len;
        picks++;
    }
    char name[200];
    snprintf(name, sizeof name, "token mask = every token tried, %d steps along '%s'%s", steps, path,
             max_states ? " (state table full)" : "");
    CHECK(name, !st && bad == 0 && at == plen, "status %d (%s), %d mismatches, reached %zu of %zu", st, err.message,
          bad, at, plen);
    free(mask);
    grammar_matcher_free(m);
    grammar_free(g);
}

/* Bounded strings (maxLength: a chain of states, the walk allows a prefix
 * of a subtree's tokens by their characters) and the rest of the masks. */
static const char *const COUNTED_SCHEMA =
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":7},"
    "\"b\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":3},\"maxItems\":2},"
    "\"c\":{\"type\":\"string\"}}}";

static void test_masks(const hearth_tokenizer *tok, const vocab_trie *trie, const char *vocab) {
    char *counted = NULL;
    size_t len;
    json_value *v = NULL;
    if (json_parse(COUNTED_SCHEMA, strlen(COUNTED_SCHEMA), &v, NULL) || json_schema_to_gbnf(v, &counted, &len, NULL)) {
        CHECK("the counted-string schema converts", false, "%s", vocab);
        json_free(v);
        return;
    }
    test_mask(tok, trie, "root ::= \"Once upon a time\"", "Once upon a time", 0);
    test_mask(tok, trie, GOOD_JSONISH, "{\"name\": \"Lily\", \"age\": 3}", 0);
    test_mask(tok, trie, "root ::= [a-z ]+ \".\"", "the cat sat.", 0);
    test_mask(tok, trie, "root ::= \"'\" [^'\\\\]{0,6} \"' \" [a-z]+", "'Once u' cat", 0);
    test_mask(tok, trie, counted, "{\"a\": \"Lily é\", \"b\": [\"cat\", \"日本\"], \"c\": \"the ünïcode dog\"}", 0);
    /* literal non-ASCII text (a schema's keys): a token that starts the right character and ends it wrong */
    test_mask(tok, trie, "root ::= \"{\\\"naïve\\\": \" ( \"1\" | \"日本\" ) \"}\"", "{\"naïve\": 日本}", 0);
    /* an answer must not end early when one walk meets more states than the table keeps (a huge enum) */
    test_mask(tok, trie, GOOD_JSONISH, "{\"name\": \"Lily\", \"age\": 3}", 3);
    test_mask(tok, trie, "root ::= [a-z ]+ \".\"", "the cat sat.", 1);
    test_mask(tok, trie, counted, "{\"a\": \"Lily é\", \"b\": [\"cat\"]}", 5);
    free(counted);
    json_free(v);
}

/* The masks on a model's vocabulary (vocab_only: the tokenizer is all they need). */
static void test_vocab(const char *path) {
    native_host *host = NULL;
    hearth_engine *e = NULL;
    hearth_error err = {0};
    hearth_engine_options opt = {.vocab_only = true};
    hearth_status st = native_host_create(&host, path, 1, &err);
    if (!st) st = hearth_engine_load(&e, native_host_iface(host), &opt, &err);
    vocab_trie *trie = NULL;
    if (!st) st = vocab_trie_build(&trie, hearth_engine_tokenizer(e), &err);
    char name[300];
    snprintf(name, sizeof name, "vocabulary trie of %.250s", path);
    CHECK(name, !st, "%s", err.message);
    if (!st) test_masks(hearth_engine_tokenizer(e), trie, path);
    vocab_trie_free(trie);
    hearth_engine_free(e);
    native_host_free(host);
}

int main(void) {
    test_parse_errors();
    test_matching();
    test_depth_bound();
    test_json_schema();
    test_vocab(STORIES);
    const char *more = getenv("HEARTH_GRAMMAR_VOCAB");
    if (more && *more) test_vocab(more);
    CHECK_DONE();
}
