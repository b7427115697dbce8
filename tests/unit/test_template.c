/* Chat templates: the Jinja subset (syntax, whitespace control, filters,
 * tests, methods, macros), errors with line:column, and the limits that
 * keep hostile templates from crashing or running away. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jinja/template.h"

static const char *MSGS = "[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                          "{\"role\":\"user\",\"content\":\"  Hi there  \"},"
                          "{\"role\":\"assistant\",\"content\":\"Hello!\"},"
                          "{\"role\":\"user\",\"content\":\"\\u00e9t\\u00e9 \\\"q\\\"\"}]";

static hearth_status render_in(const char *tmpl, hearth_template_input *in, char **out, hearth_error *err) {
    if (!in->messages_json && !in->messages) {
        in->messages_json = MSGS;
        in->messages_json_len = strlen(MSGS);
    }
    size_t n;
    return hearth_template_render(tmpl, strlen(tmpl), in, out, &n, err);
}

/* Checks that tmpl renders to want. */
static void expect(const char *name, const char *tmpl, const char *want) {
    hearth_template_input in = {.bos_token = "<s>", .eos_token = "</s>", .year = 2024, .month = 7, .day = 26};
    char *out = NULL;
    hearth_error err = {0};
    hearth_status st = render_in(tmpl, &in, &out, &err);
    CHECK(name, st == HEARTH_OK && strcmp(out, want) == 0, "got %s / %s, want \"%s\"", st ? "error" : out,
          st ? err.message : "", want);
    free(out);
}

/* Checks that tmpl fails with a message containing want. */
static void expect_error(const char *name, const char *tmpl, const char *want, hearth_template_input *in) {
    hearth_template_input def = {0};
    if (!in) in = &def;
    char *out = NULL;
    hearth_error err = {0};
    hearth_status st = render_in(tmpl, in, &out, &err);
    CHECK(name, st != HEARTH_OK && out == NULL && strstr(err.message, want), "status %d, message \"%s\", want \"%s\"",
          st, err.message, want);
    free(out);
}

static char *repeat(const char *a, int n, const char *mid, const char *b) {
    size_t la = strlen(a), lb = strlen(b), lm = strlen(mid);
    char *s = malloc(la * n + lm + lb * n + 1), *p = s;
    for (int i = 0; i < n; i++) memcpy(p, a, la), p += la;
    memcpy(p, mid, lm), p += lm;
    for (int i = 0; i < n; i++) memcpy(p, b, lb), p += lb;
    *p = 0;
    return s;
}


/* Checks the provenance of tmpl's output for the conversation msgs (JSON):
 * want is the output with each run of request bytes in [brackets]. The
 * marked render must equal the plain render. */
static void expect_marks(const char *name, const char *tmpl, const char *msgs, const json_value *vars, const char *want) {
    hearth_template_input in = {.messages_json = msgs, .messages_json_len = strlen(msgs), .variables = vars,
                                .bos_token = "<s>", .eos_token = "</s>"};
    char *out = NULL, *plain = NULL;
    uint8_t *m = NULL;
    size_t n = 0, pn = 0;
    hearth_error err = {0};
    hearth_status st = hearth_template_render_marked(tmpl, strlen(tmpl), &in, &out, &n, &m, &err);
    char got[512] = "";
    size_t k = 0;
    for (size_t i = 0; !st && i < n && k + 4 < sizeof got; i++) {
        if (m[i] && (i == 0 || !m[i - 1])) got[k++] = '[';
        got[k++] = out[i];
        if (m[i] && (i + 1 == n || !m[i + 1])) got[k++] = ']';
    }
    got[k] = 0;
    bool same = !st && !hearth_template_render(tmpl, strlen(tmpl), &in, &plain, &pn, &err) && pn == n &&
                memcmp(plain, out, n) == 0;
    CHECK(name, !st && same && strcmp(got, want) == 0, "got \"%s\" (%s), want \"%s\"", got,
          st ? err.message : same ? "same as the plain render" : "NOT the plain render", want);
    free(out);
    free(plain);
    free(m);
}

int main(void) {
    /* syntax and whitespace */
    expect("text and expressions", "a{{ 1 + 2 * 3 }}b{# comment #}c", "a7bc");
    expect("one trailing newline is dropped", "x\n", "x");
    expect("whitespace control", "a  {%- if true -%}  b  {%- endif -%}  c", "abc");
    expect("trim_blocks and lstrip_blocks", "  {% if true %}\nx\n  {% endif %}\ny", "x\ny");
    expect("string escapes", "{{ 'a\\nb\\t\\u00e9\\x41' }}", "a\nb\t\xc3\xa9" "A");
    expect("adjacent string literals", "{{ 'a' \"b\" }}", "ab");
    expect("numbers print like @huggingface/jinja", "{{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}",
           "3.5 2.0 3 -1 1024");
    expect("booleans and none", "{{ true }} {{ none }}|{{ x }}|{{ [1, 'a', none] }}", "true ||[1, \"a\", null]");

    /* control flow */
    expect("if/elif/else", "{% for i in [1,2,3] %}{% if i == 1 %}one{% elif i == 2 %}two{% else %}many{% endif %},{% endfor %}",
           "one,two,many,");
    expect("loop variables",
           "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.length }}"
           "{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %} {% endfor %}",
           "1/0/4F 2/1/4 3/2/4 4/3/4L ");
    expect("for ... if ... else", "{% for m in messages if m.role == 'user' %}{{ loop.index }}{% endfor %}"
                                  "{% for x in [] %}x{% else %}empty{% endfor %}",
           "12empty");
    expect("break and continue", "{% for i in range(10) %}{% if i == 1 %}{% continue %}{% endif %}"
                                 "{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}",
           "023");
    expect("tuple unpacking", "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;");
    expect("set does not leave a loop", "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1");
    expect("namespace attributes",
           "{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}", "4");
    expect("set block", "{% set x %}a{{ 1 }}{% endset %}[{{ x }}]", "[a1]");
    expect("macro with defaults and keywords",
           "{% macro m(a, b='B') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, b=2) }} {{ m(a=3) }}", "1B 12 3B");
    expect("call block", "{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}in{% endcall %}", "<in>");
    expect("filter block", "{% filter upper %}abc{% endfilter %}", "ABC");
    expect("generation tags are removed", "a{% generation %}b{% endgeneration %}c", "abc");

    /* expressions */
    expect("ternary and select", "{{ 'y' if 1 > 2 else 'n' }}{{ 'z' if false }}", "n");
    expect("in / not in", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'role' in messages[0] }} {{ 3 not in [1] }}",
           "true true true true");
    expect("and / or / not", "{{ 1 and 'x' }} {{ 0 or 'y' }} {{ not [] }}", "x y true");
    expect("concatenation", "{{ 'a' ~ 1 ~ none is none }} {{ 'a' + 'b' }} {{ [1] + [2] }}", "a1true ab [1, 2]");
    expect("subscripts and slices",
           "{{ messages[0]['role'] }} {{ messages[-1].role }} {{ messages[1:] | length }} {{ 'abc'[::-1] }} "
           "{{ [1,2,3,4][1:3] }} {{ 'héllo'[1] }}",
           "system user 3 cba [2, 3] é");
    expect("tests",
           "{{ x is defined }} {{ messages is iterable }} {{ messages[0] is mapping }} {{ 'a' is string }} "
           "{{ 1 is number }} {{ none is none }} {{ 3 is odd }} {{ x is undefined }}",
           "false true true true true true true true");
    expect("absent content is undefined", "{{ messages[0].tool_calls is defined }}", "false");

    /* filters */
    expect("string filters", "{{ messages[1].content | trim }}|{{ 'ab' | upper }}{{ 'AB' | lower }} "
                             "{{ 'hello world' | title }} {{ 'hELLO' | capitalize }}",
           "Hi there|ABab Hello World HELLO");
    expect("length, first, last, join", "{{ messages | length }} {{ [1,2] | first }} {{ [1,2] | last }} "
                                        "{{ ['a','b'] | join(', ') }} {{ 'abc' | length }}",
           "4 1 2 a, b 3");
    expect("tojson keeps non-ASCII", "{{ messages[3].content | tojson }}", "\"été \\\"q\\\"\"");
    expect("tojson indent", "{{ {'a': [1, 2]} | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
    expect("default", "{{ x | default('d') }} {{ '' | default('e', true) }} {{ 'v' | default('f') }}", "d e v");
    expect("replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa'.replace('a', 'c', 2) }}", "bbb cca");
    expect("selectattr, rejectattr, map",
           "{{ messages | selectattr('role', 'equalto', 'user') | list | length }} "
           "{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join(',') }}",
           "2 system,assistant");
    expect("items, string, int, unique", "{% for k, v in {'x': 1} | items %}{{ k }}{{ v }}{% endfor %} "
                                         "{{ 5 | string }}{{ '42' | int + 1 }} {{ [1, 1, 2] | unique | list }}",
           "x1 543 [1, 2]");

    expect("sort", "{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort(reverse=true) }} "
                   "{{ [{'a': 2}, {'a': 1}] | sort(attribute='a') | map(attribute='a') | join }}",
           "[1, 2, 3] [\"c\", \"b\", \"A\"] 12");
    expect("dictsort", "{% for k, v in {'b': 1, 'A': 3, 'a': 2} | dictsort %}{{ k }}{{ v }}{% endfor %} "
                       "{{ {'b': 1, 'a': 2}.dictsort(by='value', reverse=true) }}",
           "A3a2b1 [[\"a\", 2], [\"b\", 1]]");
    expect("indent", "{{ 'a\nb' | indent }}|{{ 'a\n\nb' | indent(2, true) }}", "a\n    b|  a\n\n  b");
    expect("case mapping beyond ASCII", "{{ 'été straße ωμέγα' | upper }} {{ 'ÀÉ ПРИВЕТ' | lower }} {{ 'ÉTÉ' is upper }}",
           "ÉTÉ STRASSE ΩΜΈΓΑ àé привет true");

    /* methods and globals */
    expect("string methods", "{{ '  x '.strip() }}|{{ 'a,b'.split(',') }}|{{ 'abc'.startswith('a') }}"
                             "{{ 'abc'.endswith(('x', 'c')) }}|{{ 'ab cd'.split() | length }}|{{ 'ab'.upper() }}",
           "x|[\"a\", \"b\"]|truetrue|2|AB");
    expect("dict methods", "{{ {'a': 1}.get('a') }}{{ {'a': 1}.get('b', 2) }} {{ {'a': 1}.keys() | list }}", "12 [\"a\"]");
    expect("bos, eos, add_generation_prompt", "{{ bos_token }}{{ eos_token }}{{ add_generation_prompt }}", "<s></s>false");
    expect("strftime_now uses the given date", "{{ strftime_now('%d %b %Y, %B %m') }}", "26 Jul 2024, July 07");

    /* a conversation given as structs */
    {
        hearth_chat_message m[2] = {{"user", "hi", NULL, NULL}, {"assistant", NULL, NULL, NULL}};
        hearth_template_input in = {.messages = m, .n_messages = 2, .add_generation_prompt = true};
        char *out = NULL;
        hearth_error err = {0};
        hearth_status st =
            render_in("{% for x in messages %}{{ x.role }}:{{ x.content is defined }};{% endfor %}{{ add_generation_prompt }}",
                      &in, &out, &err);
        CHECK("messages from structs (content absent)", st == 0 && strcmp(out, "user:true;assistant:false;true") == 0,
              "%s", st ? err.message : out);
        free(out);
    }

    /* reasoning_content and the caller's variables (chat_template_kwargs) */
    {
        hearth_chat_message m[2] = {{"user", "hi", NULL, NULL}, {"assistant", "4", "2+2", NULL}};
        json_value *vars = NULL;
        hearth_error err = {0};
        const char *kw = "{\"enable_thinking\": false, \"n\": [1, 2]}";
        hearth_status st = json_parse(kw, strlen(kw), &vars, &err);
        hearth_template_input in = {.messages = m, .n_messages = 2, .variables = vars};
        char *out = NULL;
        if (!st)
            st = render_in("{% for x in messages %}{{ x.reasoning_content is string }}{{ x.reasoning_content }};{% endfor %}"
                           "{{ enable_thinking is false }}{{ n[1] }}",
                           &in, &out, &err);
        CHECK("reasoning_content and template variables", st == 0 && strcmp(out, "false;true2+2;true2") == 0, "%s",
              st ? err.message : out);
        free(out);
        json_free(vars);
        out = NULL;
        const char *bad = "{\"messages\": []}";
        st = json_parse(bad, strlen(bad), &vars, &err);
        in.variables = vars;
        if (!st) st = render_in("{{ messages | length }}", &in, &out, &err);
        CHECK("a variable may not replace messages", st != 0 && strstr(err.message, "\"messages\" is set by hearth"),
              "%s", st ? err.message : out);
        free(out);
        json_free(vars);
    }

    /* errors with positions */
    expect_error("unterminated string", "ab\n{{ 'abc }}", "template:2:4:", NULL);
    expect_error("missing endif", "{% if true %}\nx", "template:2:2: expected", NULL);
    expect_error("unknown statement", "\n\n  {% frobnicate %}", "template:3:6: unknown statement", NULL);
    expect_error("unknown filter", "{{ 1 | nosuch }}", "template:1:6: unknown filter \"nosuch\"", NULL);
    expect_error("unknown test", "{{ 1 is nosuch }}", "unknown test", NULL);
    expect_error("unexpected character", "{{ 1 @ 2 }}", "template:1:6: unexpected character: @", NULL);
    expect_error("raise_exception", "{% if true %}{{ raise_exception('Roles must alternate') }}{% endif %}",
                 "template:1:17: raise_exception: Roles must alternate", NULL);
    expect_error("operation on undefined", "{{ x + 1 }}", "undefined", NULL);
    expect_error("printing a tuple", "{{ (1, 2) }}", "cannot convert to JSON: TupleValue", NULL);
    expect_error("a namespace that contains itself", "{% set ns = namespace() %}{% set ns.x = ns %}{{ ns | tojson }}",
                 "cannot convert to JSON", NULL);
    expect_error("sorting mixed types", "{{ [1, 'a'] | sort }}", "cannot compare", NULL);
    expect_error("calling a non-function", "{{ messages() }}", "not a function", NULL);
    expect_error("attribute on a non-namespace", "{% set d = {} %}{% set d.x = 1 %}", "non-namespace", NULL);
    expect_error("bad messages JSON", "x", "messages: json:1:", &(hearth_template_input){
        .messages_json = "[{\"role\": 1,}]", .messages_json_len = 14});

    /* provenance: which output bytes came from the request */
    {
        const char *a = "[{\"role\":\"user\",\"content\":\" <|im_end|>x \",\"n\":41}]";
        const char *b = "[{\"role\":\"user\",\"content\":\"ab\\ncd\"},{\"role\":\"assistant\",\"content\":\"r</think>ans\"}]";
        expect_marks("provenance: literals and bos_token are the template's, content and role the request's",
                     "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}", a,
                     NULL, "<s><|im_start|>[user]\n[ <|im_end|>x ]<|im_end|>");
        expect_marks("provenance: concatenation and trim", "{{ '<|a|>' + messages[0].content | trim + '<|b|>' }}", a, NULL,
                     "<|a|>[<|im_end|>x]<|b|>");
        expect_marks("provenance: case mapping keeps it", "{{ messages[0].content | upper }}|{{ 'A' | lower }}", a, NULL,
                     "[ <|IM_END|>X ]|a");
        expect_marks("provenance: capitalize and title", "{{ messages[0].content | capitalize }}{{ messages[1].content | title }}",
                     b, NULL, "[Ab\ncdR</Think>Ans]");
        expect_marks("provenance: replace (the replacement has its own)",
                     "{{ messages[0].content.replace('b', '<X>') }}|{{ 'a-c'.replace('-', messages[0].content) }}", b, NULL,
                     "[a]<X>[\ncd]|a[ab\ncd]c");
        expect_marks("provenance: slices and subscripts", "{{ messages[0].content[1:3] }}|{{ messages[0].content[::-1] }}|"
                     "{{ messages[0].content[0] }}", b, NULL, "[b\n]|[dc\nba]|[a]");
        expect_marks("provenance: split", "{{ messages[1].content.split('</think>')[-1] }}/{{ messages[1].content.split('</think>')[0] }}",
                     b, NULL, "[ans]/[r]");
        expect_marks("provenance: join and map", "{{ messages | map(attribute='role') | join('|') }}", b, NULL,
                     "[user]|[assistant]");
        expect_marks("provenance: tojson (keys, strings, escapes and numbers; not the punctuation)",
                     "{{ messages[0] | tojson }}", a, NULL, "{[\"role\"]: [\"user\"], [\"content\"]: [\" <|im_end|>x \"], [\"n\"]: [41]}");
        expect_marks("provenance: a dict's keys and values, printed", "{% for k, v in messages[0].items() %}{{ k }}={{ v }};{% endfor %}",
                     b, NULL, "[role]=[user];[content]=[ab\ncd];");
        expect_marks("provenance: macros, call blocks and set blocks carry it",
                     "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(messages[1].role) }}{% set s %}({{ messages[0].role }}){% endset %}{{ s }}",
                     b, NULL, "<[assistant]>([user])");
        expect_marks("provenance: namespaces and ~", "{% set ns = namespace(c=messages[0].role) %}{{ ns.c ~ 1 }}", b, NULL,
                     "[user]1");
        expect_marks("provenance: numbers from the request and arithmetic on them; lengths are the template's",
                     "{{ messages[0].n + 1 }} {{ messages | length }} {{ messages[0].content | length }} {{ loop }}", a, NULL,
                     "[42] 1 13 ");
        expect_marks("provenance: tojson's separators", "{{ [1, 2] | tojson(separators=(messages[0].role, ':')) }}", b, NULL,
                     "[1[user]2]");
        expect_marks("provenance: indent", "{{ messages[0].content | indent(2) }}", b, NULL, "[ab\n]  [cd]");
        expect_marks("provenance: string and int of request values", "{{ messages[0].n | string }}{{ ('7' + messages[0].n | string) | int }}",
                     a, NULL, "[41741]");
        json_value *vars = NULL;
        hearth_error jerr;
        const char *vj = "{\"custom\": \"<|im_start|>\", \"flag\": true}";
        if (json_parse(vj, strlen(vj), &vars, &jerr) == HEARTH_OK) {
            expect_marks("provenance: the caller's variables are request data", "{{ custom }}{{ flag }}{% if flag %}<|x|>{% endif %}", a,
                         vars, "[<|im_start|>true]<|x|>");
            json_free(vars);
        }
        /* the chat's own messages (not JSON): role, content and reasoning_content */
        hearth_chat_message cm[] = {{"user", "hi<|im_end|>", NULL, NULL}, {"assistant", "ok", "why<|im_end|>", NULL}};
        hearth_template_input in = {.messages = cm, .n_messages = 2};
        const char *t = "{% for m in messages %}<{{ m.role }}>{{ m.reasoning_content }}|{{ m.content }}{% endfor %}";
        char *out = NULL;
        uint8_t *mk = NULL;
        size_t n = 0;
        hearth_error err = {0};
        hearth_status st = hearth_template_render_marked(t, strlen(t), &in, &out, &n, &mk, &err);
        const char *want = "<user>|hi<|im_end|><assistant>why<|im_end|>|ok";
        const char *wm = "0111100111111111111011111111101111111111111011";
        bool ok = !st && n == strlen(want) && memcmp(out, want, n) == 0;
        for (size_t i = 0; ok && i < n; i++) ok = mk[i] == (wm[i] == '1');
        CHECK("provenance: a chat's messages (role, content, reasoning_content) are request data", ok, "%s",
              st ? err.message : out);
        free(out);
        free(mk);
    }

    /* limits: errors, never a crash */
    {
        char *deep = repeat("(", 100000, "1", ")");
        char *t = malloc(strlen(deep) + 8);
        strcpy(t, "{{ ");
        strcat(t, deep);
        strcat(t, " }}");
        expect_error("deeply nested parentheses", t, "nested too deeply", NULL);
        free(deep);
        free(t);
        char *ifs = repeat("{% if true %}", 50000, "x", "{% endif %}");
        expect_error("deeply nested blocks", ifs, "nested too deeply", NULL);
        free(ifs);
        char *lists = repeat("[", 100000, "", "]");
        t = malloc(strlen(lists) + 8);
        strcpy(t, "{{ ");
        strcat(t, lists);
        strcat(t, " }}");
        expect_error("deeply nested lists", t, "nested too deeply", NULL);
        free(lists);
        free(t);
        char *chain = repeat("1 + ", 100000, "1", "");
        t = malloc(strlen(chain) + 8);
        strcpy(t, "{{ ");
        strcat(t, chain);
        strcat(t, " }}");
        expect_error("a long operator chain", t, "deeper than", NULL);
        free(chain);
        free(t);
    }
    expect_error("macro recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "deeper than", NULL);
    expect_error("loop iterations", "{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}",
                 "iteration", NULL);
    expect_error("output size", "{% for i in range(100) %}xxxxxxxxxx{% endfor %}", "output exceeds",
                 &(hearth_template_input){.max_output = 500});
    expect_error("memory", "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                 "memory limit", &(hearth_template_input){.max_memory = 1 << 20});
    {
        /* every prefix of a real-looking template fails or renders, without crashing */
        const char *t = "{%- set ns = namespace(x=0) -%}{% for m in messages if m.role != 'system' %}"
                        "{{ '<|' + m['role'] + '|>\\n' + m.content | trim }}{% if loop.last and add_generation_prompt %}"
                        "{{ '<|assistant|>' }}{% endif %}{% endfor %}{# end #}";
        size_t n = strlen(t);
        int ok = 0;
        for (size_t k = 0; k <= n; k++) {
            char *p = malloc(k + 1);
            memcpy(p, t, k);
            p[k] = 0;
            hearth_template_input in = {.messages_json = MSGS, .messages_json_len = strlen(MSGS)};
            char *out = NULL;
            size_t on;
            hearth_error err = {0};
            hearth_status st = hearth_template_render(p, k, &in, &out, &on, &err);
            ok += st == HEARTH_OK ? out != NULL : (out == NULL && strncmp(err.message, "template:", 9) == 0);
            free(out);
            free(p);
        }
        CHECK("every prefix of a template renders or fails cleanly", ok == (int)n + 1, "%d of %zu", ok, n + 1);
    }
    CHECK_DONE();
}
