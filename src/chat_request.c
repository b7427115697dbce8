#include "chat_request.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grammar/json_schema.h"
#include "json_write.h"

enum { MAX_STOPS = 16 };

static hearth_status number(const json_value *root, const char *key, double lo, double hi, double *out,
                            hearth_error *err) {
    const json_value *v = json_get(root, key);
    if (!v || v->type == JSON_NULL) return HEARTH_OK;
    if (v->type != JSON_NUMBER || !isfinite(v->num) || v->num < lo || v->num > hi)
        return hearth_fail(err, HEARTH_E_ARG, "request: \"%s\" must be a number from %g to %g", key, lo, hi);
    *out = v->num;
    return HEARTH_OK;
}

/* A message's content: a string, or OpenAI's list of parts of which the
 * text parts are joined. */
static hearth_status message_content(chat_request *r, const json_value *m, size_t i, const char **out,
                                     hearth_error *err) {
    const json_value *c = json_get(m, "content");
    if (c && c->type == JSON_STRING) {
        if (strlen(c->str) != c->len)
            return hearth_fail(err, HEARTH_E_ARG, "request: message %zu contains a NUL character", i + 1);
        *out = c->str;
        return HEARTH_OK;
    }
    if (!c || c->type == JSON_NULL) {
        *out = "";
        return HEARTH_OK;
    }
    if (c->type != JSON_ARRAY)
        return hearth_fail(err, HEARTH_E_ARG, "request: message %zu: \"content\" must be a string or a list of parts",
                           i + 1);
    size_t total = 0;
    for (size_t k = 0; k < c->n; k++) {
        const json_value *t = json_get(&c->items[k], "text");
        if (t && t->type == JSON_STRING) total += t->len;
    }
    char *joined = malloc(total + 1), *p = joined;
    if (!joined) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t k = 0; k < c->n; k++) {
        const json_value *t = json_get(&c->items[k], "text");
        if (t && t->type == JSON_STRING) memcpy(p, t->str, t->len), p += t->len;
    }
    *p = 0;
    if (strlen(joined) != total) {
        free(joined);
        return hearth_fail(err, HEARTH_E_ARG, "request: message %zu contains a NUL character", i + 1);
    }
    r->joined[i] = joined;
    *out = joined;
    return HEARTH_OK;
}

/* A message's tool fields as a JSON object for the template: tool_calls
 * (arguments parsed from their JSON text: templates render them with
 * tojson), tool_call_id, name. NULL *out when it has none. */
static hearth_status tool_fields(const json_value *m, size_t i, char **out, hearth_error *err) {
    *out = NULL;
    const json_value *calls = json_get(m, "tool_calls"), *id = json_get(m, "tool_call_id"), *name = json_get(m, "name");
    if (calls && calls->type == JSON_NULL) calls = NULL;
    if (id && id->type != JSON_STRING) id = NULL;
    if (name && name->type != JSON_STRING) name = NULL;
    if (!calls && !id && !name) return HEARTH_OK;
    if (calls && calls->type != JSON_ARRAY)
        return hearth_fail(err, HEARTH_E_ARG, "request: message %zu: \"tool_calls\" must be a list", i + 1);
    think_buf b = {0};
    bool ok = think_buf_add(&b, "{", sizeof "{" - 1), first = true;
    if (ok && calls) {
        ok = think_buf_add(&b, "\"tool_calls\":[", sizeof "\"tool_calls\":[" - 1);
        for (size_t k = 0; ok && k < calls->n; k++) {
            const json_value *c = &calls->items[k], *fn = json_get(c, "function");
            const json_value *args = json_get(fn, "arguments"), *cid = json_get(c, "id");
            const json_value *fname = json_get(fn, "name");
            if (!fn || !fname || fname->type != JSON_STRING) {
                think_buf_free(&b);
                return hearth_fail(err, HEARTH_E_ARG, "request: message %zu: tool call %zu needs function.name", i + 1,
                                   k + 1);
            }
            json_value *parsed = NULL;
            if (args && args->type == JSON_STRING && json_parse(args->str, args->len, &parsed, NULL) == HEARTH_OK)
                args = parsed;
            ok = (k == 0 || think_buf_add(&b, ",", sizeof "," - 1)) && think_buf_add(&b, "{\"type\":\"function\"", sizeof "{\"type\":\"function\"" - 1) &&
                 (!cid || (think_buf_add(&b, ",\"id\":", sizeof ",\"id\":" - 1) && json_write(&b, cid))) &&
                 think_buf_add(&b, ",\"function\":{\"name\":", sizeof ",\"function\":{\"name\":" - 1) && json_write(&b, fname) &&
                 think_buf_add(&b, ",\"arguments\":", sizeof ",\"arguments\":" - 1) &&
                 (args ? json_write(&b, args) : think_buf_add(&b, "{}", sizeof "{}" - 1)) && think_buf_add(&b, "}}", sizeof "}}" - 1);
            json_free(parsed);
        }
        ok = ok && think_buf_add(&b, "]", sizeof "]" - 1);
        first = false;
    }
    if (ok && id)
        ok = (first || think_buf_add(&b, ",", 1)) && think_buf_add(&b, "\"tool_call_id\":", sizeof "\"tool_call_id\":" - 1) &&
             json_write(&b, id), first = false;
    if (ok && name)
        ok = (first || think_buf_add(&b, ",", 1)) && think_buf_add(&b, "\"name\":", sizeof "\"name\":" - 1) && json_write(&b, name);
    if (!ok || !think_buf_add(&b, "}", sizeof "}" - 1)) {
        think_buf_free(&b);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    *out = b.p;
    return HEARTH_OK;
}

static hearth_status parse_messages(chat_request *r, const json_value *msgs, hearth_error *err) {
    if (msgs->type != JSON_ARRAY) return hearth_fail(err, HEARTH_E_ARG, "request: \"messages\" must be a list");
    if (msgs->n == 0) return hearth_fail(err, HEARTH_E_ARG, "request: \"messages\" is empty");
    r->messages = calloc(msgs->n, sizeof *r->messages);
    r->joined = calloc(msgs->n, sizeof *r->joined);
    r->extras = calloc(msgs->n, sizeof *r->extras);
    r->n_joined_cap = r->joined && r->extras ? msgs->n : 0;
    if (!r->messages || !r->joined || !r->extras) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t i = 0; i < msgs->n; i++) {
        const json_value *m = &msgs->items[i];
        const json_value *role = json_get(m, "role");
        if (m->type != JSON_OBJECT || !role || role->type != JSON_STRING || role->len == 0 ||
            strlen(role->str) != role->len)
            return hearth_fail(err, HEARTH_E_ARG, "request: message %zu needs a \"role\" string", i + 1);
        r->messages[i].role = role->str;
        hearth_status st = message_content(r, m, i, &r->messages[i].content, err);
        if (st) return st;
        const json_value *rc = json_get(m, "reasoning_content");
        if (rc && rc->type != JSON_NULL) {
            if (rc->type != JSON_STRING || strlen(rc->str) != rc->len)
                return hearth_fail(err, HEARTH_E_ARG,
                                   "request: message %zu: \"reasoning_content\" must be a string without NUL characters",
                                   i + 1);
            r->messages[i].reasoning_content = rc->str;
        }
        if ((st = tool_fields(m, i, &r->extras[i], err))) return st;
        r->messages[i].extra_json = r->extras[i];
        r->n_messages++;
    }
    return HEARTH_OK;
}

static hearth_status parse_stops(chat_request *r, const json_value *stop, hearth_error *err) {
    if (!stop || stop->type == JSON_NULL) return HEARTH_OK;
    const json_value *list = stop;
    size_t n = stop->type == JSON_STRING ? 1 : stop->type == JSON_ARRAY ? stop->n : (size_t)-1;
    if (n == (size_t)-1 || n > MAX_STOPS)
        return hearth_fail(err, HEARTH_E_ARG, "request: \"stop\" must be a string or a list of at most %d strings",
                           MAX_STOPS);
    r->stops = calloc(n ? n : 1, sizeof *r->stops);
    if (!r->stops) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_value *s = stop->type == JSON_STRING ? stop : &list->items[i];
        if (s->type != JSON_STRING || strlen(s->str) != s->len)
            return hearth_fail(err, HEARTH_E_ARG, "request: \"stop\" must hold strings without NUL characters");
        r->stops[i] = s->str;
    }
    r->options.stop = r->stops;
    r->options.n_stop = (int)n;
    return HEARTH_OK;
}

/* The template's variables: chat_template_kwargs, and enable_thinking as
 * a shortcut for its member of that name. */
static hearth_status parse_template_vars(chat_request *r, const json_value *root, hearth_error *err) {
    const json_value *kw = json_get(root, "chat_template_kwargs"), *think = json_get(root, "enable_thinking");
    if (kw && kw->type == JSON_NULL) kw = NULL;
    if (think && think->type == JSON_NULL) think = NULL;
    if (kw && kw->type != JSON_OBJECT)
        return hearth_fail(err, HEARTH_E_ARG, "request: \"chat_template_kwargs\" must be an object of template variables");
    if (think && think->type != JSON_BOOL)
        return hearth_fail(err, HEARTH_E_ARG, "request: \"enable_thinking\" must be true or false");
    r->options.template_vars = kw;
    if (!think) return HEARTH_OK;
    const json_value *given = json_get(kw, "enable_thinking");
    if (given) {
        if (given->type != JSON_BOOL || given->b != think->b)
            return hearth_fail(err, HEARTH_E_ARG, "request: \"enable_thinking\" and chat_template_kwargs' "
                                                  "enable_thinking disagree; give one of them");
        return HEARTH_OK;
    }
    /* kw's members (borrowed) and enable_thinking */
    size_t n = (kw ? kw->n : 0) + 1;
    json_value *v = &r->vars;
    v->type = JSON_OBJECT;
    v->items = calloc(n, sizeof *v->items);
    v->keys = calloc(n, sizeof *v->keys);
    v->key_lens = calloc(n, sizeof *v->key_lens);
    r->vars_own = true;
    if (!v->items || !v->keys || !v->key_lens) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (size_t i = 0; kw && i < kw->n; i++) {
        v->items[i] = kw->items[i];
        v->keys[i] = kw->keys[i];
        v->key_lens[i] = kw->key_lens[i];
    }
    v->items[n - 1] = *think;
    v->keys[n - 1] = (char *)"enable_thinking";
    v->key_lens[n - 1] = strlen("enable_thinking");
    v->n = n;
    r->options.template_vars = v;
    return HEARTH_OK;
}

/* response_format and grammar: what the answer is constrained to. */
static hearth_status parse_format(chat_request *r, const json_value *root, hearth_error *err) {
    const json_value *rf = json_get(root, "response_format"), *gbnf = json_get(root, "grammar");
    if (rf && rf->type == JSON_NULL) rf = NULL;
    if (gbnf && gbnf->type == JSON_NULL) gbnf = NULL;
    if (gbnf) {
        if (gbnf->type != JSON_STRING) return hearth_fail(err, HEARTH_E_ARG, "request: \"grammar\" must be GBNF text");
        r->options.grammar = gbnf->str;
        r->options.grammar_len = gbnf->len;
    }
    if (!rf) return HEARTH_OK;
    const json_value *type = json_get(rf, "type");
    if (rf->type != JSON_OBJECT || !type || type->type != JSON_STRING)
        return hearth_fail(err, HEARTH_E_ARG, "request: \"response_format\" must be an object with a \"type\"");
    if (strcmp(type->str, "text") == 0) return HEARTH_OK;
    if (gbnf) return hearth_fail(err, HEARTH_E_ARG, "request: give \"grammar\" or \"response_format\", not both");
    if (strcmp(type->str, "json_object") == 0) {
        r->options.grammar = json_object_gbnf();
        r->options.grammar_len = strlen(r->options.grammar);
        return HEARTH_OK;
    }
    if (strcmp(type->str, "json_schema") != 0)
        return hearth_fail(err, HEARTH_E_ARG,
                           "request: response_format type \"%.40s\" is unknown (text, json_object or json_schema)",
                           type->str);
    const json_value *js = json_get(rf, "json_schema"), *schema = json_get(js, "schema");
    if (!js || js->type != JSON_OBJECT || !schema)
        return hearth_fail(err, HEARTH_E_ARG, "request: response_format json_schema needs {\"json_schema\": {\"name\", \"schema\"}}");
    size_t len;
    hearth_status st = json_schema_to_gbnf(schema, &r->grammar, &len, err);
    if (st) return hearth_prefix(err, "request: response_format: ");
    r->options.grammar = r->grammar;
    r->options.grammar_len = len;
    return HEARTH_OK;
}

/* tools and tool_choice. */
static hearth_status parse_tools(chat_request *r, const json_value *root, hearth_error *err) {
    const json_value *tools = json_get(root, "tools"), *choice = json_get(root, "tool_choice");
    if (tools && tools->type == JSON_NULL) tools = NULL;
    if (choice && choice->type == JSON_NULL) choice = NULL;
    if (tools) {
        if (tools->type != JSON_ARRAY)
            return hearth_fail(err, HEARTH_E_ARG, "request: \"tools\" must be a list of {\"type\": \"function\", \"function\": {...}}");
        for (size_t i = 0; i < tools->n; i++) {
            const json_value *name = json_get(json_get(&tools->items[i], "function"), "name");
            if (!name || name->type != JSON_STRING || !name->len)
                return hearth_fail(err, HEARTH_E_ARG, "request: tool %zu needs function.name", i + 1);
        }
        think_buf b = {0};
        if (!json_write(&b, tools)) {
            think_buf_free(&b);
            return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        }
        r->tools = b.p;
        r->options.tools_json = b.p;
        r->options.tools_json_len = b.len;
    }
    if (!choice) return HEARTH_OK;
    const json_value *fname = json_get(json_get(choice, "function"), "name");
    if (choice->type == JSON_STRING && strcmp(choice->str, "auto") == 0) r->options.tool_choice = HEARTH_TOOLS_AUTO;
    else if (choice->type == JSON_STRING && strcmp(choice->str, "none") == 0) r->options.tool_choice = HEARTH_TOOLS_NONE;
    else if (choice->type == JSON_STRING && strcmp(choice->str, "required") == 0) r->options.tool_choice = HEARTH_TOOLS_REQUIRED;
    else if (choice->type == JSON_OBJECT && fname && fname->type == JSON_STRING) {
        r->options.tool_choice = HEARTH_TOOLS_NAMED;
        r->options.tool_name = fname->str;
    } else {
        return hearth_fail(err, HEARTH_E_ARG, "request: \"tool_choice\" must be \"auto\", \"none\", \"required\" or "
                                              "{\"type\": \"function\", \"function\": {\"name\"}}");
    }
    if (r->options.tool_choice >= HEARTH_TOOLS_REQUIRED && !tools)
        return hearth_fail(err, HEARTH_E_ARG, "request: \"tool_choice\" %s needs \"tools\"",
                           r->options.tool_choice == HEARTH_TOOLS_REQUIRED ? "required" : "naming a function");
    return HEARTH_OK;
}

/* A 64-bit seed written as a decimal string. */
static hearth_status parse_u64(const char *s, uint64_t *out, hearth_error *err) {
    uint64_t v = 0;
    if (!*s) return hearth_fail(err, HEARTH_E_ARG, "request: \"seed\" is an empty string");
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return hearth_fail(err, HEARTH_E_ARG, "request: \"seed\" must be a number from 0 to 2^64-1");
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return HEARTH_OK;
}

hearth_status chat_request_parse(chat_request *r, const char *json, size_t len, hearth_error *err) {
    memset(r, 0, sizeof *r);
    sampler_defaults(&r->options.sampling);
    hearth_status st = json_parse(json, len, &r->json, err);
    if (st) return hearth_prefix(err, "request: ");
    json_value *root = r->json;
    if (root->type != JSON_OBJECT) return hearth_fail(err, HEARTH_E_ARG, "request: must be a JSON object");
    const json_value *msgs = json_get(root, "messages");
    const json_value *prompt = json_get(root, "prompt");
    if (msgs && (st = parse_messages(r, msgs, err))) return st;
    if (prompt && prompt->type != JSON_NULL) {
        if (prompt->type != JSON_STRING) return hearth_fail(err, HEARTH_E_ARG, "request: \"prompt\" must be a string");
        r->prompt = prompt->str;
        r->prompt_len = prompt->len;
    }
    if (!r->messages && !r->prompt)
        return hearth_fail(err, HEARTH_E_ARG, "request: needs \"messages\" (chat) or \"prompt\" (completion)");
    sampler_params *sp = &r->options.sampling;
    double max_tokens = 0, temperature = sp->temperature, top_p = sp->top_p, top_k = sp->top_k, min_p = sp->min_p,
           penalty = sp->repeat_penalty, seed = -1;
    /* max_completion_tokens: OpenAI's newer name for max_tokens */
    const char *limit = json_get(root, "max_tokens") ? "max_tokens" : "max_completion_tokens";
    if ((st = number(root, limit, 0, 1 << 24, &max_tokens, err)) ||
        (st = number(root, "temperature", 0, 100, &temperature, err)) ||
        (st = number(root, "top_p", 0, 1, &top_p, err)) || (st = number(root, "top_k", 0, 1 << 24, &top_k, err)) ||
        (st = number(root, "min_p", 0, 1, &min_p, err)) ||
        (st = number(root, "repeat_penalty", 0, 100, &penalty, err)))
        return st;
    const json_value *seed_text = json_get(root, "seed");
    if (seed_text && seed_text->type == JSON_STRING) {
        if ((st = parse_u64(seed_text->str, &sp->seed, err))) return st;
    } else if ((st = number(root, "seed", 0, 9007199254740991.0, &seed, err))) {
        return st;
    }
    r->options.max_tokens = (int)max_tokens;
    sp->temperature = (float)temperature;
    sp->top_p = (float)top_p;
    sp->top_k = (int)top_k;
    sp->min_p = (float)min_p;
    sp->repeat_penalty = (float)penalty;
    if (seed >= 0) sp->seed = (uint64_t)seed;
    if ((st = parse_stops(r, json_get(root, "stop"), err))) return st;
    if ((st = parse_template_vars(r, root, err))) return st;
    if ((st = parse_format(r, root, err))) return st;
    if ((st = parse_tools(r, root, err))) return st;
    return sampler_validate(sp, err);
}

void chat_request_free(chat_request *r) {
    for (size_t i = 0; i < r->n_joined_cap; i++) free(r->joined[i]), free(r->extras[i]);
    free(r->joined);
    free(r->extras);
    free(r->tools);
    free(r->messages);
    free(r->stops);
    if (r->vars_own) {
        free(r->vars.items);
        free(r->vars.keys);
        free(r->vars.key_lens);
    }
    free(r->grammar);
    json_free(r->json);
    memset(r, 0, sizeof *r);
}
