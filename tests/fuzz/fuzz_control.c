/* No control token from request bytes: chat templates x real vocabularies x
 * hostile conversations.
 *
 * A case is a chat template (of ../shared/templates/templates.json), a
 * vocabulary (a vocabulary-only GGUF) and a conversation whose every string
 * (content, reasoning_content, tool call arguments and ids, tool results,
 * tool descriptions, names; now and then the role) is full of that
 * vocabulary's special-token texts. The conversation is rendered with its
 * provenance (hearth_template_render_marked) and tokenized as chat does
 * (tokenizer_encode_protected). Two checks, neither trusting the provenance:
 *   - hostile: every special-token text the conversation carries is written
 *     "§TEXT§"; a control token whose bytes sit between two '§' came from
 *     the request (no template writes '§'). None may.
 *   - benign: the same conversation with plain words gives exactly the ids of
 *     tokenizing the render with no protection at all, so none of the
 *     template's own markup was taken for request text.
 *
 * Two builds of this file:
 *   - a deterministic check over every template and vocabulary (what
 *     tests/e2e/template.test.mjs runs; a few seconds):
 *       cc -std=c11 -O2 -Isrc tests/fuzz/fuzz_control.c src/json.c src/error.c src/jinja/\*.c \
 *          src/model/gguf.c src/model/ggml_types.c src/tokenizer/\*.c -lm -o build/control_check
 *       build/control_check TEMPLATES.json CASES_PER_TEMPLATE VOCAB.gguf...
 *     prints one line per vocabulary and exits 1 on a finding (printing it);
 *   - a libFuzzer target (the input picks the template, the vocabulary and
 *     the conversation):
 *       clang -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -DCONTROL_FUZZER -Isrc (same sources) \
 *          -o build/fuzz_control
 *       FUZZ_TOK_MODELS=a.gguf:b.gguf FUZZ_TEMPLATES=../shared/templates/templates.json \
 *          build/fuzz_control tests/fuzz/control_corpus -max_total_time=60
 *     (FUZZ_TOK_MODELS: `node tests/e2e/tokenize_hf.test.mjs --models`). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja/template.h"
#include "json.h"
#include "model/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_internal.h"

#define NONCE "\xc2\xa7" /* '§' */

typedef struct {
    const char *tmpl, *bos, *eos, *model;
} tmpl_case;

typedef struct {
    char *path;
    hearth_tokenizer *tok;
    size_t cursor; /* the next special token to put in a conversation */
} vocab;

static tmpl_case *templates;
static size_t n_templates;
static json_value *templates_json;
static vocab *vocabs;
static size_t n_vocabs;

/* ---- a small string builder ---- */
typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* s as a JSON string */
static void sb_json(sbuf *b, const char *s, size_t n) {
    sb_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_puts(b, esc);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_puts(b, "\"");
}

/* ---- randomness from the input (or a seed) ---- */
typedef struct {
    const uint8_t *data;
    size_t size, pos;
    uint64_t x;
} rng;

static uint32_t next(rng *r) {
    uint64_t v = r->pos < r->size ? r->data[r->pos++] : 0;
    r->x = (r->x ^ v) * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(r->x >> 33);
}

/* A hostile string: special-token texts of the vocabulary (each as §TEXT§,
 * taken in turn so that a run uses all of them), markup-like fragments and
 * words; it starts and ends with a letter, so no '§' touches the template's
 * own text. benign: words only. */
static void hostile(sbuf *b, vocab *v, rng *r, bool benign) {
    static const char *const filler[] = {"a", " ", "\n", "<", "|", ">", "user", "assistant", "system", "\n\n",
                                         "<|", "|>", "[INST]", "</s>", "  ", "\t", "{", "}", "\"", "think"};
    /* words that no vocabulary has a special token for, one space apart (runs of white space are special
     * tokens in some: Gemma 3's "▁▁") */
    static const char *const words[] = {" hello", " world", " the", " lamp", ".", ","};
    sb_puts(b, "q");
    int n = 4 + (int)(next(r) % 12);
    const hearth_tokenizer *t = v->tok;
    for (int i = 0; i < n; i++) {
        uint32_t k = next(r) % 8;
        if (benign) {
            sb_puts(b, words[next(r) % (sizeof words / sizeof *words)]);
        } else if (k < 5 && t->n_specials > 0) {
            int32_t id = t->specials[v->cursor++ % (size_t)t->n_specials];
            sb_puts(b, NONCE);
            sb_put(b, tokenizer_token_text(t, id), t->tok_len[id]);
            sb_puts(b, NONCE);
        } else {
            sb_puts(b, filler[next(r) % (sizeof filler / sizeof *filler)]);
        }
    }
    sb_puts(b, "q");
}

/* before, then "key": a hostile string */
static void field(sbuf *m, const char *before, const char *key, vocab *v, rng *r, bool benign) {
    sbuf s = {0};
    hostile(&s, v, r, benign);
    sb_puts(m, before);
    sb_puts(m, "\"");
    sb_puts(m, key);
    sb_puts(m, "\":");
    sb_json(m, s.p, s.n);
    free(s.p);
}

/* {"messages": [...], "tools": [...]}; the same shape for benign and hostile
 * runs of one seed (r is copied). */
static void conversation(sbuf *m, vocab *v, rng r0, bool benign) {
    rng shape = r0, text = r0;
    text.x ^= 0x9e3779b97f4a7c15ull;
    uint32_t bits = next(&shape);
    bool system = bits & 1, reasoning = bits & 2, tool = bits & 4, tools = bits & 8, bad_role = (bits & 0x70) == 0x70,
         dict_args = bits & 0x80;
    rng *t = &text;
    sb_puts(m, "{\"messages\":[");
    if (system) field(m, "{\"role\":\"system\",", "content", v, t, benign), sb_puts(m, "},");
    field(m, "{\"role\":\"user\",", "content", v, t, benign);
    field(m, "},{\"role\":\"assistant\",", "content", v, t, benign);
    if (reasoning) field(m, ",", "reasoning_content", v, t, benign);
    if (tool) {
        field(m, ",\"tool_calls\":[{\"type\":\"function\",", "id", v, t, benign);
        field(m, ",\"function\":{", "name", v, t, benign);
        if (dict_args) field(m, ",\"arguments\":{", "city", v, t, benign), sb_puts(m, "}");
        else field(m, ",", "arguments", v, t, benign);
        field(m, "}}]},{\"role\":\"tool\",", "name", v, t, benign);
        field(m, ",", "tool_call_id", v, t, benign);
        field(m, ",", "content", v, t, benign);
    }
    sb_puts(m, "},{");
    if (bad_role) field(m, "", "role", v, t, benign);
    else sb_puts(m, "\"role\":\"user\"");
    field(m, ",", "content", v, t, benign);
    sb_puts(m, "}]");
    if (tools) {
        field(m, ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",", "description", v, t, benign);
        field(m, ",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",", "description", v, t,
              benign);
        sb_puts(m, "}},\"required\":[\"city\"]}}}]");
    }
    sb_puts(m, "}");
}

static int findings;

static void report(const tmpl_case *tc, const vocab *v, const char *what, const char *text, size_t len, size_t at) {
    findings++;
    size_t from = at > 80 ? at - 80 : 0, to = at + 80 < len ? at + 80 : len;
    fprintf(stderr, "FINDING: %s\n  template %s, vocabulary %s, at byte %zu: ...%.*s...\n", what, tc->model, v->path,
            at, (int)(to - from), text + from);
}

/* One case; returns 1 when the hostile conversation rendered (0: the
 * template raised or refused it, which is fine). */
static int run_case(const tmpl_case *tc, vocab *v, rng r, bool gen_prompt) {
    int rendered = 0;
    for (int benign = 0; benign < 2; benign++) {
        sbuf m = {0};
        conversation(&m, v, r, benign);
        hearth_template_input in = {
            .messages_json = m.p,
            .messages_json_len = m.n,
            .add_generation_prompt = gen_prompt,
            .bos_token = tc->bos,
            .eos_token = tc->eos,
            .year = 2025, .month = 1, .day = 2,
            .max_output = 1 << 20,
            .max_memory = 64 << 20,
        };
        char *text = NULL, *plain = NULL;
        uint8_t *mask = NULL;
        size_t len = 0, plain_len = 0;
        hearth_error err;
        hearth_status st = hearth_template_render_marked(tc->tmpl, strlen(tc->tmpl), &in, &text, &len, &mask, &err);
        if (!st && (hearth_template_render(tc->tmpl, strlen(tc->tmpl), &in, &plain, &plain_len, &err) ||
                    plain_len != len || memcmp(plain, text, len) != 0))
            report(tc, v, "the marked render differs from the plain one", text, len, 0);
        free(plain);
        if (st) {
            free(m.p);
            continue;
        }
        if (!benign) rendered = 1;
        int32_t *ids = NULL, *all = NULL;
        size_t n = 0, n_all = 0;
        if (tokenizer_encode_protected(v->tok, text, len, true, mask, &ids, &n, &err) ||
            tokenizer_encode(v->tok, text, len, true, &all, &n_all, &err)) {
            fprintf(stderr, "FINDING: tokenizing failed: %s\n", err.message);
            findings++;
        } else if (benign) {
            if (n != n_all || (n && memcmp(ids, all, n * sizeof *ids) != 0)) {
                if (getenv("FUZZ_CONTROL_DEBUG")) {
                    for (size_t i = 0; i < n || i < n_all; i++)
                        fprintf(stderr, "%zu: %d %d\n", i, i < n ? ids[i] : -1, i < n_all ? all[i] : -1);
                    for (size_t i = 0; i < len; i++) fputc(mask[i] ? '1' : '0', stderr);
                    fputc('\n', stderr);
                }
                report(tc, v, "a benign conversation tokenizes differently with provenance (template markup "
                              "taken for request text)", text, len, 0);
            }
        } else {
            /* where each special token lies: the split that tokenizer_encode_protected made */
            tok_fragment *fr = NULL;
            size_t n_fr = 0, n_special = 0;
            if (tok_partition(v->tok, text, len, true, mask, &fr, &n_fr, &err)) abort();
            for (size_t i = 0; i < n_fr; i++) {
                if (fr[i].token < 0 || !tokenizer_is_control(v->tok, fr[i].token)) continue;
                n_special++;
                size_t p = fr[i].off, tl = fr[i].len;
                if (p >= 2 && p + tl + 2 <= len &&
                    memcmp(text + p - 2, NONCE, 2) == 0 && memcmp(text + p + tl, NONCE, 2) == 0)
                    report(tc, v, "a control token made of request bytes", text, len, p);
            }
            /* the split is the one the ids came from: as many control tokens */
            size_t n_control = 0;
            for (size_t i = 0; i < n; i++) n_control += tokenizer_is_control(v->tok, ids[i]);
            if (n_control != n_special) report(tc, v, "the ids and the split disagree", text, len, 0);
            free(fr);
        }
        free(ids);
        free(all);
        free(text);
        free(mask);
        free(m.p);
    }
    return rendered;
}

/* ---- loading ---- */

static int load_templates(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    sbuf b = {0};
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) sb_put(&b, chunk, k);
    fclose(f);
    hearth_error err;
    if (json_parse(b.p, b.n, &templates_json, &err) || templates_json->type != JSON_ARRAY) {
        fprintf(stderr, "%s: not a JSON array of templates\n", path);
        free(b.p);
        return 1;
    }
    free(b.p);
    templates = calloc(templates_json->n, sizeof *templates);
    for (size_t i = 0; i < templates_json->n; i++) {
        const json_value *t = &templates_json->items[i], *ct = json_get(t, "chat_template"),
                         *bos = json_get(t, "bos_token"), *eos = json_get(t, "eos_token"), *mo = json_get(t, "model");
        if (!ct || ct->type != JSON_STRING) continue;
        templates[n_templates++] = (tmpl_case){ct->str, bos && bos->type == JSON_STRING ? bos->str : "",
                                               eos && eos->type == JSON_STRING ? eos->str : "",
                                               mo && mo->type == JSON_STRING ? mo->str : "?"};
    }
    return n_templates ? 0 : 1;
}

static int load_vocab(const char *path) {
    gguf_file *g = NULL;
    hearth_error err;
    vocab v = {0};
    v.path = strdup(path);
    FILE *f = fopen(path, "rb");
    sbuf b = {0};
    char chunk[65536];
    size_t k;
    while (f && (k = fread(chunk, 1, sizeof chunk, f)) > 0) sb_put(&b, chunk, k);
    if (f) fclose(f);
    if (!f || gguf_open_memory(&g, b.p, b.n, path, &err) || tokenizer_load(&v.tok, g, &err)) {
        fprintf(stderr, "%s: %s\n", path, f ? err.message : "cannot open");
        free(b.p);
        free(v.path);
        return 1;
    }
    gguf_free(g);
    free(b.p);
    vocabs = realloc(vocabs, (n_vocabs + 1) * sizeof *vocabs);
    vocabs[n_vocabs++] = v;
    return 0;
}

#ifdef CONTROL_FUZZER
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *tp = getenv("FUZZ_TEMPLATES"), *models = getenv("FUZZ_TOK_MODELS");
    if (!tp || !models || load_templates(tp)) {
        fprintf(stderr, "set FUZZ_TEMPLATES (templates.json) and FUZZ_TOK_MODELS (a.gguf:b.gguf)\n");
        exit(1);
    }
    char *list = strdup(models);
    for (char *s = strtok(list, ":"); s; s = strtok(NULL, ":"))
        if (load_vocab(s)) exit(1);
    free(list);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const tmpl_case *tc = &templates[data[0] % n_templates];
    vocab *v = &vocabs[data[1] % n_vocabs];
    v->cursor = data[2] * 7u;
    rng r = {data + 3, size - 3, 0, 1};
    run_case(tc, v, r, size & 1);
    if (findings) abort();
    return 0;
}
#else
int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s TEMPLATES.json CASES_PER_TEMPLATE VOCAB.gguf...\n", argv[0]);
        return 2;
    }
    if (load_templates(argv[1])) return 2;
    int cases = atoi(argv[2]);
    for (int i = 3; i < argc; i++)
        if (load_vocab(argv[i])) return 2;
    for (size_t vi = 0; vi < n_vocabs; vi++) {
        vocab *v = &vocabs[vi];
        size_t rendered = 0, tried = 0;
        for (size_t ti = 0; ti < n_templates; ti++) {
            /* cases per template, and more until this vocabulary's every special text was used */
            for (int c = 0; c < cases || (ti + 1 == n_templates && v->cursor < (size_t)v->tok->n_specials); c++) {
                uint8_t seed[16];
                for (size_t k = 0; k < sizeof seed; k++) seed[k] = (uint8_t)(ti * 31 + (size_t)c * 17 + k * 5 + vi);
                rng r = {seed, sizeof seed, 0, (uint64_t)(ti * 1000003 + (size_t)c)};
                rendered += (size_t)run_case(&templates[ti], v, r, c & 1);
                tried++;
            }
        }
        printf("%s: %zu of %zu hostile conversations rendered over %zu templates (the rest raised); %d special "
               "token texts, put in %zu times\n",
               v->path, rendered, tried, n_templates, v->tok->n_specials, v->cursor);
    }
    printf("%d findings\n", findings);
    return findings ? 1 : 0;
}
#endif
