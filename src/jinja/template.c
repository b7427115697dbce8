/* Chat templates: the public entry point (template.h). Parses the
 * conversation, sets up the globals and runs the Jinja interpreter. */
#include "jinja/template.h"

#include <stdlib.h>
#include <string.h>

#include "jinja/jinja_eval.h"
#include "json.h"

/* A request's JSON as values: all of it (keys too) is data. */
static bool from_json(jarena *a, const json_value *j, jv *out) {
    switch (j->type) {
    case JSON_NULL: *out = jv_none(); out->taint = 1; return true;
    case JSON_BOOL: *out = jv_bool(j->b); out->taint = 1; return true;
    case JSON_NUMBER:
        if (j->is_int) {
            *out = jv_int(j->i);
        } else {
            *out = (jv){.t = JV_FLOAT};
            out->u.f = j->num;
        }
        out->taint = 1;
        return true;
    case JSON_STRING: {
        char *p = ja_strdup(a, j->str, j->len);
        *out = jv_str(p, j->len);
        out->taint = 1;
        return p != NULL;
    }
    case JSON_ARRAY: {
        jlist *l = jl_new(a);
        if (!l) return false;
        for (size_t i = 0; i < j->n; i++) {
            jv v;
            if (!from_json(a, &j->items[i], &v) || !jl_push(a, l, v)) return false;
        }
        *out = (jv){.t = JV_LIST};
        out->u.l = l;
        return true;
    }
    case JSON_OBJECT: {
        jdict *d = jd_new(a);
        if (!d) return false;
        for (size_t i = 0; i < j->n; i++) {
            jv v;
            char *k = ja_strdup(a, j->keys[i], j->key_lens[i]);
            jv key = jv_str(k, j->key_lens[i]);
            key.taint = 1;
            if (!k || !from_json(a, &j->items[i], &v) || !jd_set_key(a, d, key, v)) return false;
        }
        *out = (jv){.t = JV_DICT};
        out->u.d = d;
        return true;
    }
    }
    return false;
}

static hearth_status nomem(hearth_error *err) {
    return hearth_fail(err, HEARTH_E_NOMEM, "template: out of memory (raise max_memory?)");
}

static hearth_status set(jarena *a, jdict *g, const char *k, jv v, hearth_error *err) {
    return jd_set(a, g, k, strlen(k), v) ? HEARTH_OK : nomem(err);
}

static hearth_status set_fn(jarena *a, jdict *g, const char *k, jfunc_kind kind, hearth_error *err) {
    jfunc *f = ja_alloc(a, sizeof *f);
    if (!f) return nomem(err);
    f->k = kind;
    jv v = {.t = JV_FUNC};
    v.u.fn = f;
    return set(a, g, k, v, err);
}

/* a string of the model's (bos_token, ...): taint 0, or of the request: 1 */
static jv cstr(jarena *a, const char *s, uint8_t taint) {
    s = s ? s : "";
    size_t n = strlen(s);
    char *p = ja_strdup(a, s, n);
    jv v = p ? jv_str(p, n) : jv_str("", 0);
    v.taint = taint;
    return v;
}

/* A message's extra members (tool_calls, tool_call_id, name) from JSON. */
static hearth_status extra_members(jarena *a, jdict *d, const char *text, size_t i, hearth_error *err) {
    json_value *j;
    hearth_status st = json_parse(text, strlen(text), &j, err);
    if (st) return hearth_prefix(err, "messages: message %zu: ", i + 1);
    bool ok = j->type == JSON_OBJECT;
    for (size_t k = 0; ok && k < j->n; k++) {
        jv v;
        char *key = ja_strdup(a, j->keys[k], j->key_lens[k]);
        jv kv = jv_str(key, j->key_lens[k]);
        kv.taint = 1; /* the request's bytes, as from_json marks them */
        ok = key && from_json(a, &j->items[k], &v) && jd_set_key(a, d, kv, v);
    }
    bool object = j->type == JSON_OBJECT;
    json_free(j);
    if (!object) return hearth_fail(err, HEARTH_E_ARG, "messages: message %zu: its extra members must be an object", i + 1);
    return ok ? HEARTH_OK : nomem(err);
}

/* messages (and maybe tools) from JSON into globals */
static hearth_status conversation(jarena *a, jdict *g, const hearth_template_input *in, hearth_error *err) {
    hearth_status st;
    if (in->messages_json) {
        json_value *j;
        if ((st = json_parse(in->messages_json, in->messages_json_len, &j, err))) return hearth_prefix(err, "messages: ");
        const json_value *msgs = j, *tools = NULL;
        if (j->type == JSON_OBJECT) {
            msgs = json_get(j, "messages");
            tools = json_get(j, "tools");
        }
        if (!msgs || msgs->type != JSON_ARRAY) {
            json_free(j);
            return hearth_fail(err, HEARTH_E_FORMAT,
                               "messages: expected a JSON array of messages or an object with \"messages\"");
        }
        for (size_t i = 0; i < msgs->n; i++) {
            if (msgs->items[i].type != JSON_OBJECT) {
                json_free(j);
                return hearth_fail(err, HEARTH_E_FORMAT, "messages: message %zu is not an object", i);
            }
        }
        jv mv, tv;
        bool ok = from_json(a, msgs, &mv) && (!tools || from_json(a, tools, &tv));
        json_free(j);
        if (!ok) return nomem(err);
        if ((st = set(a, g, "messages", mv, err))) return st;
        if (tools && (st = set(a, g, "tools", tv, err))) return st;
    } else {
        jlist *l = jl_new(a);
        if (!l) return nomem(err);
        for (size_t i = 0; i < in->n_messages; i++) {
            jdict *d = jd_new(a);
            if (!d || !jd_set(a, d, "role", 4, cstr(a, in->messages[i].role, 1))) return nomem(err);
            if (in->messages[i].content && !jd_set(a, d, "content", 7, cstr(a, in->messages[i].content, 1)))
                return nomem(err);
            if (in->messages[i].reasoning_content &&
                !jd_set(a, d, "reasoning_content", 17, cstr(a, in->messages[i].reasoning_content, 1)))
                return nomem(err);
            if (in->messages[i].extra_json && (st = extra_members(a, d, in->messages[i].extra_json, i, err))) return st;
            jv m = {.t = JV_DICT};
            m.u.d = d;
            if (!jl_push(a, l, m)) return nomem(err);
        }
        jv mv = {.t = JV_LIST};
        mv.u.l = l;
        if ((st = set(a, g, "messages", mv, err))) return st;
    }
    if (in->tools_json) {
        json_value *j;
        if ((st = json_parse(in->tools_json, in->tools_json_len, &j, err))) return hearth_prefix(err, "tools: ");
        jv tv;
        bool ok = from_json(a, j, &tv);
        json_free(j);
        if (!ok) return nomem(err);
        if ((st = set(a, g, "tools", tv, err))) return st;
    }
    return HEARTH_OK;
}

/* The caller's variables, after hearth's own: none may replace one of those. */
static hearth_status variables(jarena *a, jdict *g, const json_value *vars, hearth_error *err) {
    if (!vars) return HEARTH_OK;
    if (vars->type != JSON_OBJECT) return hearth_fail(err, HEARTH_E_ARG, "template variables must be a JSON object");
    for (size_t i = 0; i < vars->n; i++) {
        if (jd_get(g, vars->keys[i], vars->key_lens[i]))
            return hearth_fail(err, HEARTH_E_ARG, "template variable \"%s\" is set by hearth itself and cannot be given",
                               vars->keys[i]);
        jv v;
        char *k = ja_strdup(a, vars->keys[i], vars->key_lens[i]);
        jv key = jv_str(k, vars->key_lens[i]);
        key.taint = 1;
        if (!k || !from_json(a, &vars->items[i], &v) || !jd_set_key(a, g, key, v)) return nomem(err);
    }
    return HEARTH_OK;
}

hearth_status hearth_template_render(const char *tmpl, size_t len, const hearth_template_input *in, char **out,
                                     size_t *out_len, hearth_error *err) {
    return hearth_template_render_marked(tmpl, len, in, out, out_len, NULL, err);
}

hearth_status hearth_template_render_marked(const char *tmpl, size_t len, const hearth_template_input *in, char **out,
                                            size_t *out_len, uint8_t **from_request, hearth_error *err) {
    *out = NULL;
    if (out_len) *out_len = 0;
    if (from_request) *from_request = NULL;
    if (!tmpl || !in) return hearth_fail(err, HEARTH_E_ARG, "template: no template or input");
    jarena a = {.limit = in->max_memory ? in->max_memory : (size_t)256 << 20};
    jsource js = {tmpl, len, err, &a};
    jlimits lim = {
        .max_depth = in->max_depth ? in->max_depth : 200,
        .max_iterations = in->max_iterations ? in->max_iterations : 1000000,
        .max_output = in->max_output ? in->max_output : (size_t)16 << 20,
        .year = in->year ? in->year : 1970,
        .month = in->month ? in->month : 1,
        .day = in->day ? in->day : 1,
    };
    jtok *toks;
    size_t n_toks;
    jnodes program;
    jbuf buf = {0};
    hearth_status st = jinja_lex(&js, &toks, &n_toks);
    if (!st) st = jinja_parse(&js, toks, n_toks, &program);
    jdict *g = st ? NULL : jd_new(&a);
    if (!st && !g) st = nomem(err);
    if (!st) {
        st = set(&a, g, "false", jv_bool(false), err);
        if (!st) st = set(&a, g, "true", jv_bool(true), err);
        if (!st) st = set(&a, g, "none", jv_none(), err);
        if (!st) st = set(&a, g, "False", jv_bool(false), err);
        if (!st) st = set(&a, g, "True", jv_bool(true), err);
        if (!st) st = set(&a, g, "None", jv_none(), err);
        if (!st) st = set_fn(&a, g, "namespace", F_NAMESPACE, err);
        if (!st) st = set_fn(&a, g, "raise_exception", F_RAISE, err);
        if (!st) st = set_fn(&a, g, "range", F_RANGE, err);
        if (!st) st = set_fn(&a, g, "strftime_now", F_STRFTIME, err);
        if (!st) st = conversation(&a, g, in, err);
        if (!st) st = set(&a, g, "add_generation_prompt", jv_bool(in->add_generation_prompt), err);
        if (!st) st = set(&a, g, "bos_token", cstr(&a, in->bos_token, 0), err);
        if (!st) st = set(&a, g, "eos_token", cstr(&a, in->eos_token, 0), err);
        if (!st) st = variables(&a, g, in->variables, err);
    }
    if (!st) st = jinja_render(&js, &program, g, &lim, &buf);
    if (!st) {
        *out = malloc(buf.n + 1);
        uint8_t *m = from_request ? malloc(buf.n + 1) : NULL;
        if (!*out || (from_request && !m)) {
            free(*out);
            free(m);
            *out = NULL;
            st = nomem(err);
        } else {
            if (buf.n) memcpy(*out, buf.p, buf.n);
            (*out)[buf.n] = 0;
            if (out_len) *out_len = buf.n;
            if (m) {
                if (buf.m) memcpy(m, buf.m, buf.n);
                else memset(m, 0, buf.n);
                *from_request = m;
            }
        }
    }
    ja_free(&a);
    return st;
}
