#include "tool_calls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grammar/json_schema.h"
#include "json_write.h"

enum { TEXT, IN_CALL };

tool_format tool_format_of_template(const char *t) {
    if (strstr(t, "<tool_call>")) return TOOLS_HERMES;
    if (strstr(t, "[TOOL_CALLS]")) return TOOLS_MISTRAL;
    if (strstr(t, "\"parameters\"") && strstr(t, "tools")) return TOOLS_LLAMA3;
    if (strstr(t, "<|tool|>") && strstr(t, "'tools'")) return TOOLS_PHI4;
    return TOOLS_NONE;
}

const char *tool_format_name(tool_format f) {
    static const char *const names[] = {"none", "hermes", "llama3", "mistral", "phi4"};
    return names[f];
}

/* The marker a call starts with anywhere in the text (NULL: none). */
static const char *marker(tool_format f) {
    return f == TOOLS_HERMES ? "<tool_call>" : f == TOOLS_MISTRAL ? "[TOOL_CALLS]" : f == TOOLS_PHI4 ? "functools" : NULL;
}

/* The character a call starts with when it is the whole answer: Llama 3's
 * object, Mistral's list after its hidden [TOOL_CALLS] token. */
static char start_char(tool_format f) { return f == TOOLS_LLAMA3 ? '{' : f == TOOLS_MISTRAL ? '[' : 0; }

void tool_split_init(tool_split *s, tool_format f) {
    memset(s, 0, sizeof *s);
    s->format = f;
}

void tool_split_free(tool_split *s) {
    for (size_t i = 0; i < s->n_calls; i++) {
        free(s->calls[i].name);
        free(s->calls[i].arguments);
    }
    free(s->calls);
    think_buf_free(&s->pending);
    memset(s, 0, sizeof *s);
}


/* The length of the JSON object or array text starts with (after
 * whitespace), 0 while it is not complete (or is no object or array). */
static size_t json_extent(const char *t, size_t n) {
    size_t i = 0;
    while (i < n && json_is_space(t[i])) i++;
    if (i == n || (t[i] != '{' && t[i] != '[')) return 0;
    int depth = 0;
    bool in_str = false;
    for (; i < n; i++) {
        char c = t[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > JSON_MAX_DEPTH) return 0;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) return i + 1;
        }
    }
    return 0;
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n), d[n] = 0;
    return d;
}

/* One call object: {"name": string, "arguments" or "parameters": object
 * (or a string holding one)}. -1: out of memory, 0: not a call, 1: added. */
static int add_call(tool_split *s, const json_value *o) {
    const json_value *name = json_get(o, "name"), *args = json_get(o, "arguments");
    if (!args) args = json_get(o, "parameters");
    if (!name || name->type != JSON_STRING || !name->len || strlen(name->str) != name->len || !args) return 0;
    json_value *parsed = NULL;
    if (args->type == JSON_STRING) {
        if (json_parse(args->str, args->len, &parsed, NULL)) return 0;
        args = parsed;
    }
    int rc = 0;
    think_buf text = {0};
    if (args->type == JSON_OBJECT) {
        rc = -1;
        if (s->n_calls == s->cap_calls) {
            size_t cap = s->cap_calls ? 2 * s->cap_calls : 4;
            tool_call *c = realloc(s->calls, cap * sizeof *c);
            if (c) s->calls = c, s->cap_calls = cap;
        }
        char *nm = s->n_calls < s->cap_calls && json_write(&text, args) ? dup_n(name->str, name->len) : NULL;
        if (nm) {
            s->calls[s->n_calls++] = (tool_call){nm, text.p};
            text = (think_buf){0};
            rc = 1;
        }
    }
    think_buf_free(&text);
    json_free(parsed);
    return rc;
}

/* Calls in text: one object, or a list of them. -1: out of memory, 0: not
 * calls (nothing added), 1: added. */
static int parse_calls(tool_split *s, const char *text, size_t n) {
    json_value *v;
    if (json_parse(text, n, &v, NULL)) return 0;
    size_t before = s->n_calls;
    int rc = 1;
    if (v->type == JSON_OBJECT) rc = add_call(s, v);
    else if (v->type == JSON_ARRAY && v->n)
        for (size_t i = 0; i < v->n && rc == 1; i++) rc = add_call(s, &v->items[i]);
    else rc = 0;
    json_free(v);
    if (rc != 1) { /* all or nothing: a list with a bad call is text */
        while (s->n_calls > before) {
            s->n_calls--;
            free(s->calls[s->n_calls].name);
            free(s->calls[s->n_calls].arguments);
        }
    }
    return rc;
}

/* The pending text from `from` on stays; what was before it is done. */
static bool keep_from(tool_split *s, size_t from) {
    think_buf *p = &s->pending;
    memmove(p->p, p->p + from, p->len - from);
    p->len -= from;
    p->p[p->len] = 0;
    return true;
}

/* A call block in pending ([0, end)) is over: its calls, or its text back as content. */
static bool close_call(tool_split *s, size_t body_from, size_t body_to, size_t end, think_buf *content) {
    int rc = parse_calls(s, s->pending.p + body_from, body_to - body_from);
    if (rc < 0) return false;
    if (rc == 0 && !think_buf_add(content, s->pending.p, end)) return false;
    s->state = TEXT;
    return keep_from(s, end);
}

bool tool_split_push(tool_split *s, const char *text, size_t len, bool final, think_buf *content) {
    if (s->format == TOOLS_NONE) return think_buf_add(content, text, len);
    if (!think_buf_add(&s->pending, text, len)) return false;
    const char *mk = marker(s->format);
    size_t mk_len = mk ? strlen(mk) : 0;
    for (;;) {
        think_buf *p = &s->pending;
        if (s->state == TEXT) {
            size_t i = 0;
            /* whitespace at the start of the answer, or between calls, waits */
            if (!s->started) {
                while (i < p->len && json_is_space(p->p[i])) i++;
                if (i == p->len && !final) return true;
                if (i < p->len && start_char(s->format) == p->p[i]) {
                    s->started = true;
                    s->state = IN_CALL;
                    continue; /* the body starts at the bracket: pending keeps it */
                }
                s->started = i < p->len;
            }
            const char *hit = mk ? strstr(p->p, mk) : NULL;
            if (hit) {
                if (!think_buf_add(content, p->p, (size_t)(hit - p->p))) return false;
                keep_from(s, (size_t)(hit - p->p));
                s->state = IN_CALL;
                continue;
            }
            /* all but a tail that may start the marker */
            size_t keep = 0;
            if (!final)
                for (size_t k = mk_len ? mk_len - 1 : 0; k > 0; k--)
                    if (k <= p->len && memcmp(p->p + p->len - k, mk, k) == 0) {
                        keep = k;
                        break;
                    }
            if (!think_buf_add(content, p->p, p->len - keep)) return false;
            return keep_from(s, p->len - keep);
        }
        /* IN_CALL: pending starts with the marker (or, without one, the bracket) */
        size_t body = p->len >= mk_len && mk && memcmp(p->p, mk, mk_len) == 0 ? mk_len : 0;
        if (s->format == TOOLS_HERMES) {
            const char *end = strstr(p->p + body, "</tool_call>");
            if (end) {
                size_t close = (size_t)(end - p->p);
                if (!close_call(s, body, close, close + strlen("</tool_call>"), content)) return false;
                continue;
            }
        } else {
            size_t ext = json_extent(p->p + body, p->len - body);
            if (ext) {
                if (!close_call(s, body, body + ext, body + ext, content)) return false;
                continue;
            }
        }
        if (!final) return true;
        /* the answer ended inside a call: a Hermes block without its closing tag still counts */
        return close_call(s, body, p->len, p->len, content);
    }
}

static bool add(think_buf *b, const char *s) { return think_buf_add(b, s, strlen(s)); }

/* first_index: the first call's "index" (a streamed delta's), -1: none */
static bool calls_json(const tool_call *calls, size_t n, unsigned first_id, bool as_objects, long first_index,
                       think_buf *out) {
    bool ok = add(out, "[");
    for (size_t i = 0; ok && i < n; i++) {
        char id[32], index[48] = "";
        snprintf(id, sizeof id, "call%05u", (first_id + (unsigned)i) % 100000u);
        if (first_index >= 0) snprintf(index, sizeof index, "\"index\":%ld,", first_index + (long)i);
        ok = (i == 0 || add(out, ",")) && add(out, "{") && add(out, index) && add(out, "\"id\":") &&
             json_write_string(out, id, strlen(id)) &&
             add(out, ",\"type\":\"function\",\"function\":{\"name\":") &&
             json_write_string(out, calls[i].name, strlen(calls[i].name)) && add(out, ",\"arguments\":") &&
             (as_objects ? add(out, calls[i].arguments) : json_write_string(out, calls[i].arguments, strlen(calls[i].arguments))) &&
             add(out, "}}");
    }
    return ok && add(out, "]");
}

bool tool_calls_openai_json(const tool_call *calls, size_t n, unsigned first_id, think_buf *out) {
    return calls_json(calls, n, first_id, false, -1, out);
}

bool tool_calls_delta_json(const tool_call *calls, size_t n, unsigned first_id, size_t first_index, think_buf *out) {
    return calls_json(calls, n, first_id, false, (long)first_index, out);
}

bool tool_calls_template_json(const tool_call *calls, size_t n, unsigned first_id, think_buf *out) {
    return calls_json(calls, n, first_id, true, -1, out);
}

/* One tool's call as a schema: {"name": const, ARGS_KEY: parameters}. */
static bool call_schema(think_buf *b, const json_value *fn, const char *args_key) {
    const json_value *name = json_get(fn, "name"), *params = json_get(fn, "parameters");
    static const json_value any_object = {.type = JSON_OBJECT};
    if (!params) params = &any_object;
    return add(b, "{\"type\":\"object\",\"properties\":{\"name\":{\"const\":") && json_write(b, name) &&
           add(b, "},") && json_write_string(b, args_key, strlen(args_key)) && add(b, ":") && json_write(b, params) &&
           add(b, "},\"required\":[\"name\",") && json_write_string(b, args_key, strlen(args_key)) && add(b, "]}");
}

hearth_status tool_calls_grammar(tool_format f, const json_value *tools, const char *only_name, char **out,
                                 size_t *len, hearth_error *err) {
    *out = NULL;
    if (f == TOOLS_NONE)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED,
                           "this model's chat template writes tool calls in no format hearth knows (Hermes/Qwen, "
                           "Llama 3.1/3.2, Mistral, Phi-4-mini); tool_choice \"required\" or a named function needs one");
    if (!tools || tools->type != JSON_ARRAY || !tools->n)
        return hearth_fail(err, HEARTH_E_ARG, "request: tool_choice needs \"tools\"");
    think_buf b = {0};
    const char *args_key = f == TOOLS_LLAMA3 ? "parameters" : "arguments";
    bool list = f == TOOLS_MISTRAL || f == TOOLS_PHI4, ok = true;
    size_t matched = 0;
    ok = add(&b, list ? "{\"type\":\"array\",\"minItems\":1,\"maxItems\":1,\"items\":{\"anyOf\":[" : "{\"anyOf\":[");
    for (size_t i = 0; ok && i < tools->n; i++) {
        const json_value *fn = json_get(&tools->items[i], "function"), *name = json_get(fn, "name");
        if (!name || name->type != JSON_STRING) continue;
        if (only_name && strcmp(name->str, only_name) != 0) continue;
        ok = (matched++ == 0 || add(&b, ",")) && call_schema(&b, fn, args_key);
    }
    ok = ok && add(&b, list ? "]}}" : "]}");
    hearth_status st = ok ? HEARTH_OK : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    if (!st && !matched)
        st = only_name ? hearth_fail(err, HEARTH_E_ARG, "request: tool_choice names \"%.100s\", which is not among the tools",
                                     only_name)
                       : hearth_fail(err, HEARTH_E_ARG, "request: \"tools\" holds no function with a name");
    json_value *schema = NULL;
    if (!st) st = json_parse(b.p, b.len, &schema, err);
    /* each tool's parameters are a document of their own: their "#/$defs/..." point into them */
    const json_value *alts = json_get(list ? json_get(schema, "items") : schema, "anyOf");
    const json_value **docs = st ? NULL : calloc(matched, sizeof *docs);
    if (!st && !docs) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t i = 0; !st && alts && i < alts->n && i < matched; i++)
        docs[i] = json_get(json_get(&alts->items[i], "properties"), args_key);
    const char *before = f == TOOLS_HERMES ? "<tool_call>\n" : f == TOOLS_PHI4 ? "functools" : "";
    const char *after = f == TOOLS_HERMES ? "\n</tool_call>" : "";
    if (!st) st = json_schema_to_gbnf_wrapped(schema, docs, matched, before, after, out, len, err);
    if (st && st != HEARTH_E_NOMEM) hearth_prefix(err, "tools: ");
    free(docs);
    json_free(schema);
    think_buf_free(&b);
    return st;
}
