/* The strict JSON parser: values, escapes, UTF-8, and refusals with
 * line:column (trailing commas, bad escapes, lone surrogates, depth). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

static json_value *parse(const char *s, hearth_error *err) {
    json_value *v = NULL;
    if (json_parse(s, strlen(s), &v, err)) return NULL;
    return v;
}

static void refuse(const char *name, const char *s, const char *want) {
    hearth_error err = {0};
    json_value *v = parse(s, &err);
    CHECK(name, !v && strstr(err.message, want), "message \"%s\", want \"%s\"", err.message, want);
    json_free(v);
}

int main(void) {
    hearth_error err = {0};
    json_value *v = parse(" {\"a\": [1, -2.5e1, true, false, null], \"s\": \"x\\n\\u00e9\\ud83d\\ude00\\\"\", \"e\": {}} ", &err);
    CHECK("parses an object", v && v->type == JSON_OBJECT && v->n == 3, "%s", err.message);
    if (v) {
        const json_value *a = json_get(v, "a"), *s = json_get(v, "s"), *e = json_get(v, "e");
        CHECK("array items", a && a->type == JSON_ARRAY && a->n == 5 && a->items[0].is_int && a->items[0].i == 1 &&
                                 a->items[1].num == -25.0 && a->items[2].b && !a->items[3].b && a->items[4].type == JSON_NULL,
              "bad array");
        CHECK("string escapes and surrogate pairs", s && s->len == 9 && memcmp(s->str, "x\n\xc3\xa9\xf0\x9f\x98\x80\"", 9) == 0,
              "got %zu bytes", s ? s->len : 0);
        CHECK("empty object", e && e->type == JSON_OBJECT && e->n == 0, "bad");
        CHECK("absent key", json_get(v, "zz") == NULL, "found");
    }
    json_free(v);
    v = parse("1.0", &err);
    CHECK("1.0 is an integer, as JavaScript sees it", v && v->is_int && v->i == 1, "bad");
    json_free(v);
    v = parse("\"\xe2\x9c\x93\"", &err);
    CHECK("raw UTF-8 in strings", v && v->len == 3, "%s", err.message);
    json_free(v);

    refuse("trailing comma", "[1, 2,]", "json:1:7:");
    refuse("trailing garbage", "{} x", "json:1:4: unexpected text");
    refuse("line numbers", "[\n1,\n  nope]", "json:3:3:");
    refuse("leading zero", "01", "leading zeros");
    refuse("bad escape", "\"\\q\"", "invalid escape");
    refuse("lone surrogate", "\"\\ud800\"", "surrogate");
    refuse("control character", "\"a\nb\"", "control character");
    refuse("invalid UTF-8", "\"\xc3\x28\"", "invalid UTF-8");
    refuse("overlong UTF-8", "\"\xc0\xaf\"", "invalid UTF-8");
    refuse("unterminated string", "\"abc", "unterminated");
    refuse("single quotes", "['a']", "unexpected character");
    refuse("empty input", "", "unexpected end");
    refuse("missing colon", "{\"a\" 1}", "expected ':'");
    refuse("non-string key", "{1: 2}", "string key");
    {
        char deep[600];
        memset(deep, '[', 300);
        memset(deep + 300, ']', 300);
        deep[599] = 0;
        deep[299] = '[';
        refuse("nesting depth is bounded", deep, "nested too deeply");
        char ok[200];
        memset(ok, '[', 100);
        memset(ok + 100, ']', 100);
        v = NULL;
        hearth_status st = json_parse(ok, 200, &v, &err);
        CHECK("100 levels are fine", st == HEARTH_OK, "%s", err.message);
        json_free(v);
    }
    {
        /* every prefix of a document is refused cleanly or parsed */
        const char *doc = "{\"messages\": [{\"role\": \"user\", \"content\": \"h\\u00e9\\ud83d\\ude00\"}], \"n\": -1.5e-3}";
        size_t n = strlen(doc);
        int clean = 0;
        for (size_t k = 0; k <= n; k++) {
            json_value *p = NULL;
            hearth_status st = json_parse(doc, k, &p, &err);
            clean += (st == HEARTH_OK) == (k == n) && (st != HEARTH_OK || p);
            json_free(p);
        }
        CHECK("only the whole document parses", clean == (int)n + 1, "%d of %zu", clean, n + 1);
    }
    CHECK_DONE();
}
