#include "grammar/json_schema.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grammar/grammar.h"
#include "json_write.h"

/* The primitives every schema grammar may use; rules a grammar does not
 * reference cost nothing. Exponents of two digits at most: a number stays a
 * finite double (up to about 1e115), which tool-call arguments are rewritten
 * from. */
#define JSON_PRIMITIVES                                                                                          \
    "ws ::= ( \" \" | \"\\n\" [ \\t]{0,20} )?\n"                                                                 \
    "char ::= [^\"\\\\\\x00-\\x1f] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4} )\n"                        \
    "string ::= \"\\\"\" char* \"\\\"\"\n"                                                                        \
    "integer ::= \"-\"? ( [0-9] | [1-9] [0-9]{1,15} )\n"                                                          \
    "number ::= integer ( \".\" [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,2} )?\n"                                      \
    "boolean ::= \"true\" | \"false\"\n"                                                                          \
    "null ::= \"null\"\n"                                                                                         \
    "value ::= object | array | string | number | boolean | null\n"                                              \
    "object ::= \"{\" ws ( string ws \":\" ws value ws ( \",\" ws string ws \":\" ws value ws )* )? \"}\"\n"      \
    "array ::= \"[\" ws ( value ws ( \",\" ws value ws )* )? \"]\"\n"

static const char OBJECT_GBNF[] = "root ::= object\n" JSON_PRIMITIVES;

const char *json_object_gbnf(void) { return OBJECT_GBNF; }

/* A $ref seen: the document it points into, its pointer text, the rule made for it. */
typedef struct {
    const json_value *doc;
    const char *ref;
    int rule;
} ref_rule;

typedef struct {
    const json_value *root; /* the document "#" names where gen is now */
    const json_value *const *docs; /* subschemas that are documents of their own (json_schema.h) */
    size_t n_docs;
    think_buf out; /* the rules written so far */
    int n_rules;
    ref_rule *refs;
    int n_refs, cap_refs;
    hearth_error *err;
} conv;

static hearth_status nomem(conv *c) { return hearth_fail(c->err, HEARTH_E_NOMEM, "out of memory"); }

static bool add(think_buf *b, const char *s) { return think_buf_add(b, s, strlen(s)); }

static bool addf(think_buf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < sizeof tmp && think_buf_add(b, tmp, (size_t)n);
}

/* A GBNF literal ("...") for bytes s. */
static bool add_literal(think_buf *b, const char *s, size_t n) {
    if (!add(b, "\"")) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = (uint8_t)s[i];
        bool ok = ch == '"' || ch == '\\' ? addf(b, "\\%c", ch)
                  : ch == '\n'            ? add(b, "\\n")
                  : ch < 0x20 || ch == 0x7f ? addf(b, "\\x%02x", ch)
                                          : think_buf_add(b, s + i, 1);
        if (!ok) return false;
    }
    return add(b, "\"");
}

/* The literal that matches exactly this value's JSON text. */
static bool add_value_literal(think_buf *b, const json_value *v) {
    think_buf t = {0};
    bool ok = json_write(&t, v) && add_literal(b, t.p, t.len);
    think_buf_free(&t);
    return ok;
}

static hearth_status gen(conv *c, const json_value *s, int depth, int rule);

static int new_rule(conv *c) { return c->n_rules++; }

static hearth_status unsupported(conv *c, const char *keyword, const char *why) {
    return hearth_fail(c->err, HEARTH_E_UNSUPPORTED, "JSON schema: \"%s\" is not supported%s%s", keyword,
                       why ? ": " : "", why ? why : "");
}

static const char *const IGNORED[] = {"title", "description", "default", "examples", "$schema", "$id", "$comment",
                                      "$defs", "definitions", NULL};
static const char *const HANDLED[] = {"type", "properties", "required", "additionalProperties", "items", "minItems",
                                      "maxItems", "minLength", "maxLength", "enum", "const", "anyOf", "$ref", NULL};

static bool listed(const char *const *list, const char *k) {
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], k) == 0) return true;
    return false;
}

static hearth_status check_keywords(conv *c, const json_value *s) {
    for (size_t i = 0; i < s->n; i++)
        if (!listed(IGNORED, s->keys[i]) && !listed(HANDLED, s->keys[i])) {
            const char *why = strcmp(s->keys[i], "oneOf") == 0 ? "use anyOf" : NULL;
            return unsupported(c, s->keys[i], why);
        }
    return HEARTH_OK;
}

/* A count keyword: absent (*out unchanged), or an integer 0..GRAMMAR_MAX_REPEAT. */
static hearth_status count(conv *c, const json_value *s, const char *key, int *out) {
    const json_value *v = json_get(s, key);
    if (!v) return HEARTH_OK;
    if (v->type != JSON_NUMBER || !v->is_int || v->i < 0 || v->i > GRAMMAR_MAX_REPEAT)
        return hearth_fail(c->err, HEARTH_E_UNSUPPORTED, "JSON schema: \"%s\" must be an integer from 0 to %d", key,
                           GRAMMAR_MAX_REPEAT);
    *out = (int)v->i;
    return HEARTH_OK;
}

/* x{min,max} in GBNF; max < 0: unbounded. */
static bool add_repeat(think_buf *b, int min, int max) {
    return max < 0 ? addf(b, "{%d,}", min) : addf(b, "{%d,%d}", min, max);
}

static hearth_status gen_string(conv *c, const json_value *s, think_buf *body) {
    int min = 0, max = -1;
    hearth_status st = count(c, s, "minLength", &min);
    if (!st) st = count(c, s, "maxLength", &max);
    if (st) return st;
    if (max >= 0 && max < min) return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: maxLength is below minLength");
    bool ok = min == 0 && max < 0 ? add(body, "string")
                                  : add(body, "\"\\\"\" char") && add_repeat(body, min, max) && add(body, " \"\\\"\"");
    return ok ? HEARTH_OK : nomem(c);
}

static hearth_status gen_array(conv *c, const json_value *s, int depth, think_buf *body) {
    int min = 0, max = -1;
    hearth_status st = count(c, s, "minItems", &min);
    if (!st) st = count(c, s, "maxItems", &max);
    if (st) return st;
    if (max >= 0 && max < min) return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: maxItems is below minItems");
    const json_value *items = json_get(s, "items");
    char item[32] = "value";
    if (items) {
        if (items->type == JSON_ARRAY) return unsupported(c, "items", "a list of schemas (use prefixItems semantics) is not");
        int r = new_rule(c);
        if ((st = gen(c, items, depth + 1, r))) return st;
        snprintf(item, sizeof item, "r%d", r);
    }
    bool ok = add(body, "\"[\" ws ");
    if (max != 0) {
        /* the first item, then the rest: ( "," ws item ws ){min-1, max-1} */
        int rmin = min > 0 ? min - 1 : 0, rmax = max < 0 ? -1 : max - 1;
        ok = ok && addf(body, "%s%s ws ( \",\" ws %s ws )", min == 0 ? "( " : "", item, item) &&
             add_repeat(body, rmin, rmax) && add(body, min == 0 ? " )? " : " ");
    }
    ok = ok && add(body, "\"]\"");
    return ok ? HEARTH_OK : nomem(c);
}

/* One member: "key" ws ":" ws value. */
static hearth_status add_member(conv *c, think_buf *b, const json_value *props, size_t i, int depth) {
    int r = new_rule(c);
    hearth_status st = gen(c, &props->items[i], depth + 1, r);
    if (st) return st;
    json_value key = {.type = JSON_STRING, .str = props->keys[i], .len = props->key_lens[i]};
    return add_value_literal(b, &key) && addf(b, " ws \":\" ws r%d ws", r) ? HEARTH_OK : nomem(c);
}

/* Members in the schema's order; the required ones must appear. Rule
 * F_i: the members from i on when none was written yet (no comma before the
 * first); after a member, each later one is "," ws member, optional or not. */
static hearth_status gen_object(conv *c, const json_value *s, int depth, think_buf *body) {
    const json_value *props = json_get(s, "properties"), *req = json_get(s, "required"),
                     *extra = json_get(s, "additionalProperties");
    if (extra && extra->type != JSON_BOOL)
        return unsupported(c, "additionalProperties", "only true or false is (a schema for extra members is not)");
    if (!props) {
        if (req && req->type == JSON_ARRAY && req->n)
            return unsupported(c, "required", "without \"properties\" it is not");
        return add(body, extra && !extra->b ? "\"{\" ws \"}\"" : "object") ? HEARTH_OK : nomem(c);
    }
    if (props->type != JSON_OBJECT) return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: \"properties\" must be an object");
    if (props->n > JSON_SCHEMA_MAX_PROPERTIES)
        return hearth_fail(c->err, HEARTH_E_UNSUPPORTED, "JSON schema: more than %d properties in one object",
                           JSON_SCHEMA_MAX_PROPERTIES);
    size_t n = props->n;
    bool *required = calloc(n ? n : 1, sizeof *required);
    think_buf *member = calloc(n ? n : 1, sizeof *member);
    hearth_status st = required && member ? HEARTH_OK : nomem(c);
    if (!st && req) {
        if (req->type != JSON_ARRAY) st = hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: \"required\" must be a list");
        for (size_t k = 0; !st && k < req->n; k++) {
            const json_value *name = &req->items[k];
            bool found = false;
            for (size_t i = 0; name->type == JSON_STRING && i < n; i++)
                if (props->key_lens[i] == name->len && memcmp(props->keys[i], name->str, name->len) == 0)
                    required[i] = found = true;
            if (!found)
                st = hearth_fail(c->err, HEARTH_E_UNSUPPORTED,
                                 "JSON schema: required member \"%.100s\" is not among the properties",
                                 name->type == JSON_STRING ? name->str : "?");
        }
    }
    for (size_t i = 0; !st && i < n; i++) st = add_member(c, &member[i], props, i, depth);
    /* F_n is empty; F_i = m_i tail_(i+1) | F_(i+1) (the second only when m_i is optional) */
    int first = c->n_rules;
    c->n_rules += (int)n + 1;
    think_buf rules = {0};
    for (size_t i = 0; !st && i <= n; i++) {
        bool ok = addf(&rules, "r%d ::= ", first + (int)i);
        if (i < n) {
            ok = ok && think_buf_add(&rules, member[i].p, member[i].len);
            for (size_t j = i + 1; ok && j < n; j++)
                ok = add(&rules, required[j] ? " \",\" ws " : " ( \",\" ws ") &&
                     think_buf_add(&rules, member[j].p, member[j].len) && add(&rules, required[j] ? "" : " )?");
            if (ok && !required[i]) ok = addf(&rules, " | r%d", first + (int)i + 1);
        } else {
            ok = ok && add(&rules, "\"\""); /* an empty body would run into the next line */
        }
        ok = ok && add(&rules, "\n");
        if (!ok) st = nomem(c);
    }
    if (!st && !(think_buf_add(&c->out, rules.p ? rules.p : "", rules.len) &&
                 addf(body, "\"{\" ws r%d \"}\"", first)))
        st = nomem(c);
    think_buf_free(&rules);
    for (size_t i = 0; member && i < n; i++) think_buf_free(&member[i]);
    free(member);
    free(required);
    return st;
}

/* One step of a JSON pointer: an object's member, or a list's item by its index. */
static const json_value *step(const json_value *v, const char *key) {
    if (v->type != JSON_ARRAY) return json_get(v, key);
    char *end;
    unsigned long i = strtoul(key, &end, 10);
    bool digits = key[0] >= '0' && key[0] <= '9' && (key[0] != '0' || !key[1]) && !*end;
    return digits && i < v->n ? &v->items[i] : NULL;
}

/* The schema a "#/a/b" pointer names inside the document. */
static hearth_status resolve(conv *c, const char *ref, const json_value **out) {
    const json_value *v = c->root;
    if (strcmp(ref, "#") != 0) {
        if (strncmp(ref, "#/", 2) != 0) return unsupported(c, "$ref", "only references inside the document (\"#/...\") are");
        const char *p = ref + 2;
        while (v && *p) {
            char key[256];
            size_t k = 0;
            for (; *p && *p != '/'; p++) {
                char ch = *p;
                if (ch == '~' && (p[1] == '0' || p[1] == '1')) ch = p[1] == '0' ? '~' : '/', p++;
                if (k + 1 >= sizeof key) return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: $ref \"%.100s\" is too long", ref);
                key[k++] = ch;
            }
            key[k] = 0;
            if (*p == '/') p++;
            v = step(v, key);
        }
    }
    if (!v || (v->type != JSON_OBJECT && v->type != JSON_BOOL))
        return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: $ref \"%.200s\" names no schema in the document", ref);
    *out = v;
    return HEARTH_OK;
}

static hearth_status gen_ref(conv *c, const json_value *ref, int depth, think_buf *body) {
    if (ref->type != JSON_STRING) return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: \"$ref\" must be a string");
    for (int i = 0; i < c->n_refs; i++)
        if (c->refs[i].doc == c->root && strcmp(c->refs[i].ref, ref->str) == 0)
            return addf(body, "r%d", c->refs[i].rule) ? HEARTH_OK : nomem(c);
    const json_value *target = NULL;
    hearth_status st = resolve(c, ref->str, &target);
    if (st) return st;
    if (c->n_refs == c->cap_refs) {
        int cap = c->cap_refs ? c->cap_refs * 2 : 8;
        ref_rule *r = realloc(c->refs, (size_t)cap * sizeof *r);
        if (!r) return nomem(c);
        c->refs = r;
        c->cap_refs = cap;
    }
    int rule = new_rule(c);
    c->refs[c->n_refs++] = (ref_rule){c->root, ref->str, rule};
    if ((st = gen(c, target, depth + 1, rule))) return st;
    return addf(body, "r%d", rule) ? HEARTH_OK : nomem(c);
}

static hearth_status gen_type(conv *c, const json_value *s, const char *type, int depth, think_buf *body) {
    if (strcmp(type, "object") == 0) return gen_object(c, s, depth, body);
    if (strcmp(type, "array") == 0) return gen_array(c, s, depth, body);
    if (strcmp(type, "string") == 0) return gen_string(c, s, body);
    if (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0 || strcmp(type, "boolean") == 0 ||
        strcmp(type, "null") == 0)
        return add(body, type) ? HEARTH_OK : nomem(c);
    return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: unknown type \"%.100s\"", type);
}

static hearth_status gen_in(conv *c, const json_value *s, int depth, int rule);

/* rule ::= the schema s, written to c->out; inside a document of its own,
 * its $refs point into that. */
static hearth_status gen(conv *c, const json_value *s, int depth, int rule) {
    const json_value *outer = c->root;
    for (size_t i = 0; i < c->n_docs; i++)
        if (c->docs[i] == s) c->root = s;
    hearth_status st = gen_in(c, s, depth, rule);
    c->root = outer;
    return st;
}

static hearth_status gen_in(conv *c, const json_value *s, int depth, int rule) {
    if (depth > JSON_SCHEMA_MAX_DEPTH)
        return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: nested more than %d deep", JSON_SCHEMA_MAX_DEPTH);
    /* checked as it grows, not after: a few KB of schema that repeats a subtree at every level (a type
     * list naming one type twice, anyOf of one $ref twice) would double its grammar per level */
    if (c->n_rules > GRAMMAR_MAX_RULES || c->out.len > GRAMMAR_MAX_TEXT)
        return hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: its grammar would be larger than %d rules or %d bytes",
                           GRAMMAR_MAX_RULES, GRAMMAR_MAX_TEXT);
    think_buf body = {0};
    hearth_status st = HEARTH_OK;
    bool ok = true;
    if (s->type == JSON_BOOL) {
        if (!s->b) st = unsupported(c, "false", "a schema that allows nothing is not");
        else ok = add(&body, "value");
    } else if (s->type != JSON_OBJECT) {
        st = hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: a schema must be an object or true");
    } else if (!(st = check_keywords(c, s))) {
        const json_value *type = json_get(s, "type"), *en = json_get(s, "enum"), *cn = json_get(s, "const"),
                         *any = json_get(s, "anyOf"), *ref = json_get(s, "$ref");
        if (cn) {
            ok = add_value_literal(&body, cn);
        } else if (en) {
            if (en->type != JSON_ARRAY || en->n == 0)
                st = hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: \"enum\" must be a non-empty list");
            for (size_t i = 0; !st && ok && i < en->n; i++)
                ok = (i == 0 || add(&body, " | ")) && add_value_literal(&body, &en->items[i]);
        } else if (ref) {
            if (type || any) st = unsupported(c, "$ref", "beside \"type\" or \"anyOf\" it is not");
            else st = gen_ref(c, ref, depth, &body);
        } else if (any) {
            if (type) st = unsupported(c, "anyOf", "beside \"type\" it is not (put the type inside each branch)");
            else if (any->type != JSON_ARRAY || any->n == 0)
                st = hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: \"anyOf\" must be a non-empty list");
            for (size_t i = 0; !st && ok && any && i < any->n; i++) {
                int r = new_rule(c);
                if (!(st = gen(c, &any->items[i], depth + 1, r))) ok = addf(&body, "%sr%d", i ? " | " : "", r);
            }
        } else if (type && type->type == JSON_STRING) {
            st = gen_type(c, s, type->str, depth, &body);
        } else if (type && type->type == JSON_ARRAY && type->n > 0) {
            for (size_t i = 0; !st && ok && i < type->n; i++) {
                if (type->items[i].type != JSON_STRING) {
                    st = hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: \"type\" must hold strings");
                    break;
                }
                for (size_t k = 0; k < i && !st; k++)
                    if (strcmp(type->items[k].str, type->items[i].str) == 0)
                        st = hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: \"type\" names \"%.100s\" twice",
                                         type->items[i].str);
                if (st) break;
                ok = (i == 0 || add(&body, " | ")) && add(&body, "( ");
                if (ok && !(st = gen_type(c, s, type->items[i].str, depth, &body))) ok = add(&body, " )");
            }
        } else if (type) {
            st = hearth_fail(c->err, HEARTH_E_ARG, "JSON schema: \"type\" must be a string or a non-empty list");
        } else if (json_get(s, "properties")) {
            st = gen_object(c, s, depth, &body);
        } else if (json_get(s, "items")) {
            st = gen_array(c, s, depth, &body);
        } else {
            ok = add(&body, "value");
        }
    }
    if (!st && ok) ok = addf(&c->out, "r%d ::= ", rule) && think_buf_add(&c->out, body.p, body.len) && add(&c->out, "\n");
    if (!st && !ok) st = nomem(c);
    think_buf_free(&body);
    return st;
}

hearth_status json_schema_to_gbnf(const json_value *schema, char **out, size_t *len, hearth_error *err) {
    return json_schema_to_gbnf_wrapped(schema, NULL, 0, "", "", out, len, err);
}

hearth_status json_schema_to_gbnf_wrapped(const json_value *schema, const json_value *const *documents,
                                          size_t n_documents, const char *before, const char *after, char **out,
                                          size_t *len, hearth_error *err) {
    *out = NULL;
    *len = 0;
    conv c = {.root = schema, .docs = documents, .n_docs = n_documents, .err = err};
    int root = new_rule(&c);
    hearth_status st = gen(&c, schema, 0, root);
    if (!st && !(add(&c.out, "root ::= ") && add_literal(&c.out, before, strlen(before)) && addf(&c.out, " r%d ", root) &&
                 add_literal(&c.out, after, strlen(after)) && add(&c.out, "\n") && add(&c.out, JSON_PRIMITIVES)))
        st = nomem(&c);
    free(c.refs);
    if (st) {
        think_buf_free(&c.out);
        return st;
    }
    *out = c.out.p;
    *len = c.out.len;
    return HEARTH_OK;
}
