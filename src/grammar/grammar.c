#include "grammar.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    grammar_elem *p;
    size_t n, cap;
} elem_vec;

typedef struct {
    char *name; /* NULL for rules made from groups and repetitions */
    size_t name_len;
    elem_vec body;
    bool defined;
    size_t first_use; /* byte offset of the first reference, for errors */
} rule_def;

struct grammar {
    grammar_elem *elems;
    uint32_t *rule_start;
    uint32_t n_rules, root;
};

typedef struct {
    const char *text, *end;
    rule_def *rules;
    uint32_t n_rules, cap_rules;
    uint32_t *hash; /* open addressing over named rules: index + 1, 0 empty */
    uint32_t hash_cap;
    size_t n_elems; /* all bodies together */
    int depth;
    hearth_error *err;
} parser;

static size_t offset(const parser *p, const char *at) { return (size_t)(at - p->text); }

static hearth_status fail_at(parser *p, const char *at, const char *what) {
    /* line and column of at */
    size_t line = 1, col = 1;
    for (const char *c = p->text; c < at && c < p->end; c++) {
        if (*c == '\n') line++, col = 1;
        else col++;
    }
    return hearth_fail(p->err, HEARTH_E_ARG, "grammar: line %zu, column %zu: %s", line, col, what);
}

static hearth_status push(parser *p, elem_vec *v, uint32_t type, uint32_t value) {
    if (p->n_elems >= GRAMMAR_MAX_ELEMS)
        return hearth_fail(p->err, HEARTH_E_ARG, "grammar: more than %d elements (repetitions included); simplify it",
                           GRAMMAR_MAX_ELEMS);
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        grammar_elem *q = realloc(v->p, cap * sizeof *q);
        if (!q) return hearth_fail(p->err, HEARTH_E_NOMEM, "out of memory");
        v->p = q;
        v->cap = cap;
    }
    v->p[v->n++] = (grammar_elem){type, value};
    p->n_elems++;
    return HEARTH_OK;
}

static hearth_status push_all(parser *p, elem_vec *v, const grammar_elem *e, size_t n) {
    for (size_t i = 0; i < n; i++) {
        hearth_status st = push(p, v, e[i].type, e[i].value);
        if (st) return st;
    }
    return HEARTH_OK;
}

static uint32_t hash_name(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static hearth_status new_rule(parser *p, uint32_t *id) {
    if (p->n_rules >= GRAMMAR_MAX_RULES)
        return hearth_fail(p->err, HEARTH_E_ARG, "grammar: more than %d rules (groups and repetitions included)",
                           GRAMMAR_MAX_RULES);
    if (p->n_rules == p->cap_rules) {
        uint32_t cap = p->cap_rules ? p->cap_rules * 2 : 16;
        rule_def *r = realloc(p->rules, cap * sizeof *r);
        if (!r) return hearth_fail(p->err, HEARTH_E_NOMEM, "out of memory");
        p->rules = r;
        p->cap_rules = cap;
    }
    p->rules[p->n_rules] = (rule_def){0};
    *id = p->n_rules++;
    return HEARTH_OK;
}

/* The id of the named rule, made (undefined) on first sight. */
static hearth_status symbol(parser *p, const char *name, size_t n, uint32_t *id) {
    if (p->hash_cap < 2 * (p->n_rules + 1)) {
        uint32_t cap = p->hash_cap ? p->hash_cap * 2 : 64;
        while (cap < 2 * (p->n_rules + 1)) cap *= 2;
        uint32_t *h = calloc(cap, sizeof *h);
        if (!h) return hearth_fail(p->err, HEARTH_E_NOMEM, "out of memory");
        for (uint32_t r = 0; r < p->n_rules; r++) {
            if (!p->rules[r].name) continue;
            uint32_t i = hash_name(p->rules[r].name, p->rules[r].name_len) & (cap - 1);
            while (h[i]) i = (i + 1) & (cap - 1);
            h[i] = r + 1;
        }
        free(p->hash);
        p->hash = h;
        p->hash_cap = cap;
    }
    uint32_t i = hash_name(name, n) & (p->hash_cap - 1);
    for (; p->hash[i]; i = (i + 1) & (p->hash_cap - 1)) {
        const rule_def *r = &p->rules[p->hash[i] - 1];
        if (r->name_len == n && memcmp(r->name, name, n) == 0) return *id = p->hash[i] - 1, HEARTH_OK;
    }
    hearth_status st = new_rule(p, id);
    if (st) return st;
    rule_def *r = &p->rules[*id];
    if (!(r->name = malloc(n + 1))) return hearth_fail(p->err, HEARTH_E_NOMEM, "out of memory");
    memcpy(r->name, name, n);
    r->name[n] = 0;
    r->name_len = n;
    r->first_use = offset(p, name);
    p->hash[i] = *id + 1;
    return HEARTH_OK;
}

static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Spaces and comments; newlines too where a rule cannot end (inside groups). */
static const char *skip_space(const parser *p, const char *s, bool newline_ok) {
    while (s < p->end) {
        if (*s == ' ' || *s == '\t' || (newline_ok && (*s == '\n' || *s == '\r'))) s++;
        else if (*s == '#')
            while (s < p->end && *s != '\n') s++;
        else break;
    }
    return s;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One UTF-8 code point; 0 bytes when invalid. */
static size_t utf8_decode(const char *s, const char *end, uint32_t *cp) {
    const uint8_t *u = (const uint8_t *)s;
    size_t avail = (size_t)(end - s), n;
    if (!avail) return 0;
    if (u[0] < 0x80) return *cp = u[0], 1;
    if (u[0] >= 0xC2 && u[0] <= 0xDF) n = 2, *cp = u[0] & 0x1F;
    else if (u[0] >= 0xE0 && u[0] <= 0xEF) n = 3, *cp = u[0] & 0x0F;
    else if (u[0] >= 0xF0 && u[0] <= 0xF4) n = 4, *cp = u[0] & 0x07;
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (u[i] & 0x3F);
    }
    if ((n == 3 && *cp < 0x800) || (n == 4 && (*cp < 0x10000 || *cp > 0x10FFFF)) || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return n;
}

/* A character of a literal or class, escapes decoded. */
static hearth_status parse_char(parser *p, const char **s, uint32_t *cp) {
    const char *at = *s;
    if (at >= p->end) return fail_at(p, at, "unexpected end of the grammar inside a literal or class");
    if (*at != '\\') {
        size_t n = utf8_decode(at, p->end, cp);
        if (!n) return fail_at(p, at, "invalid UTF-8");
        *s = at + n;
        return HEARTH_OK;
    }
    if (at + 1 >= p->end) return fail_at(p, at, "unfinished escape");
    char e = at[1];
    int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    if (digits) {
        uint32_t v = 0;
        for (int i = 0; i < digits; i++) {
            int h = at + 2 + i < p->end ? hex_value(at[2 + i]) : -1;
            if (h < 0) return fail_at(p, at, "an escape \\x, \\u or \\U needs 2, 4 or 8 hex digits");
            v = (v << 4) | (uint32_t)h;
        }
        if (v > 0x10FFFF) return fail_at(p, at, "code point above U+10FFFF");
        *cp = v;
        *s = at + 2 + digits;
        return HEARTH_OK;
    }
    switch (e) {
    case 'n': *cp = '\n'; break;
    case 'r': *cp = '\r'; break;
    case 't': *cp = '\t'; break;
    case '\\': case '"': case '[': case ']': case '-': case '^': case '\'': case '/': *cp = (uint8_t)e; break;
    default: return fail_at(p, at, "unknown escape (use \\n \\r \\t \\\\ \\\" \\[ \\] \\- \\^ \\xHH \\uHHHH)");
    }
    *s = at + 2;
    return HEARTH_OK;
}

static hearth_status parse_alternates(parser *p, const char **s, uint32_t rule, bool nested);

/* x{min,max} (max < 0: unbounded) in place of the item out[from..]: min
 * copies, then a rule for the rest (x R | empty, or nested optionals). */
static hearth_status repeat(parser *p, elem_vec *out, size_t from, int min, int max) {
    size_t n = out->n - from;
    grammar_elem *item = malloc(n * sizeof *item);
    if (!item) return hearth_fail(p->err, HEARTH_E_NOMEM, "out of memory");
    memcpy(item, out->p + from, n * sizeof *item);
    out->n = from;
    p->n_elems -= n;
    hearth_status st = HEARTH_OK;
    for (int i = 0; i < min && !st; i++) st = push_all(p, out, item, n);
    uint32_t rest = 0;
    bool have_rest = false;
    if (!st && max < 0) { /* R ::= x R | empty */
        st = new_rule(p, &rest);
        elem_vec *b = &p->rules[rest].body;
        if (!st) st = push_all(p, b, item, n);
        if (!st) st = push(p, b, GE_RULE, rest);
        if (!st) st = push(p, b, GE_ALT, 0);
        if (!st) st = push(p, b, GE_END, 0);
        p->rules[rest].defined = true;
        have_rest = true;
    } else {
        for (int i = min; i < max && !st; i++) { /* R_i ::= x R_(i-1) | empty, innermost first */
            uint32_t r;
            if ((st = new_rule(p, &r))) break;
            elem_vec *b = &p->rules[r].body;
            st = push_all(p, b, item, n);
            if (!st && have_rest) st = push(p, b, GE_RULE, rest);
            if (!st) st = push(p, b, GE_ALT, 0);
            if (!st) st = push(p, b, GE_END, 0);
            p->rules[r].defined = true;
            rest = r;
            have_rest = true;
        }
    }
    if (!st && have_rest) st = push(p, out, GE_RULE, rest);
    free(item);
    return st;
}

static hearth_status parse_int(parser *p, const char **s, int *v) {
    const char *at = *s;
    if (at >= p->end || *at < '0' || *at > '9') return fail_at(p, at, "expected a number in {m,n}");
    long x = 0;
    while (at < p->end && *at >= '0' && *at <= '9') {
        x = x * 10 + (*at++ - '0');
        if (x > GRAMMAR_MAX_REPEAT) return fail_at(p, *s, "repetition count above 1000");
    }
    *v = (int)x;
    *s = at;
    return HEARTH_OK;
}

static hearth_status parse_sequence(parser *p, const char **s, elem_vec *out, bool nested) {
    size_t last = (size_t)-1; /* where the last item starts */
    hearth_status st = HEARTH_OK;
    const char *c = *s;
    while (!st && c < p->end) {
        if (*c == '"') {
            last = out->n;
            c++;
            while (!st && (c >= p->end || *c != '"')) {
                uint32_t cp;
                if (!(st = parse_char(p, &c, &cp))) st = push(p, out, GE_CHAR, cp);
            }
            if (st) break;
            c++;
        } else if (*c == '[') {
            last = out->n;
            c++;
            uint32_t first_type = GE_CHAR;
            if (c < p->end && *c == '^') first_type = GE_CHAR_NOT, c++;
            bool first = true;
            while (!st && (c >= p->end || *c != ']')) {
                uint32_t cp, hi;
                if ((st = parse_char(p, &c, &cp))) break;
                st = push(p, out, first ? first_type : GE_CHAR_ALT, cp);
                first = false;
                if (!st && c + 1 < p->end && *c == '-' && c[1] != ']') {
                    c++;
                    if ((st = parse_char(p, &c, &hi))) break;
                    if (hi < cp) st = fail_at(p, c, "a range's end is below its start");
                    else st = push(p, out, GE_RNG_UPPER, hi);
                }
            }
            if (st) break;
            if (first) st = push(p, out, first_type, first_type == GE_CHAR ? 0x110000 : 0x110000); /* [] and [^]: see matcher */
            c++;
        } else if (is_name_char(*c)) {
            last = out->n;
            const char *name = c;
            while (c < p->end && is_name_char(*c)) c++;
            uint32_t id;
            if (!(st = symbol(p, name, (size_t)(c - name), &id))) st = push(p, out, GE_RULE, id);
        } else if (*c == '(') {
            last = out->n;
            c++;
            if (++p->depth > GRAMMAR_MAX_NESTING) {
                st = fail_at(p, c, "groups nested more than 64 deep");
                break;
            }
            uint32_t sub;
            if ((st = new_rule(p, &sub))) break;
            c = skip_space(p, c, true);
            if ((st = parse_alternates(p, &c, sub, true))) break;
            p->depth--;
            if (c >= p->end || *c != ')') {
                st = fail_at(p, c, "expected ')'");
                break;
            }
            c++;
            st = push(p, out, GE_RULE, sub);
        } else if (*c == '.') {
            last = out->n;
            c++;
            st = push(p, out, GE_ANY, 0);
        } else if (*c == '*' || *c == '+' || *c == '?' || *c == '{') {
            if (last == (size_t)-1 || last >= out->n) {
                st = fail_at(p, c, "a repetition needs an item before it");
                break;
            }
            int min = 0, max = -1;
            if (*c == '+') min = 1;
            else if (*c == '?') max = 1;
            else if (*c == '{') {
                c = skip_space(p, c + 1, nested);
                if ((st = parse_int(p, &c, &min))) break;
                c = skip_space(p, c, nested);
                max = min;
                if (c < p->end && *c == ',') {
                    c = skip_space(p, c + 1, nested);
                    max = -1;
                    if (c < p->end && *c >= '0' && *c <= '9' && (st = parse_int(p, &c, &max))) break;
                    c = skip_space(p, c, nested);
                }
                if (c >= p->end || *c != '}') {
                    st = fail_at(p, c, "expected '}'");
                    break;
                }
                if (max >= 0 && max < min) {
                    st = fail_at(p, c, "{m,n} needs m <= n");
                    break;
                }
            }
            c++;
            st = repeat(p, out, last, min, max);
            last = (size_t)-1; /* x** is an error, as in llama.cpp */
        } else {
            break;
        }
        c = skip_space(p, c, nested);
    }
    *s = c;
    return st;
}

static hearth_status parse_alternates(parser *p, const char **s, uint32_t rule, bool nested) {
    elem_vec body = {0};
    hearth_status st = parse_sequence(p, s, &body, nested);
    while (!st && *s < p->end && **s == '|') {
        if (!(st = push(p, &body, GE_ALT, 0))) {
            *s = skip_space(p, *s + 1, true);
            st = parse_sequence(p, s, &body, nested);
        }
    }
    if (!st) st = push(p, &body, GE_END, 0);
    if (st) {
        free(body.p);
        return st;
    }
    p->rules[rule].body = body;
    p->rules[rule].defined = true;
    return HEARTH_OK;
}

static hearth_status parse_rule(parser *p, const char **s) {
    const char *name = *s, *c = *s;
    while (c < p->end && is_name_char(*c)) c++;
    if (c == name) return fail_at(p, c, "expected a rule name");
    uint32_t id;
    hearth_status st = symbol(p, name, (size_t)(c - name), &id);
    if (st) return st;
    if (p->rules[id].defined) return fail_at(p, name, "this rule is defined twice");
    c = skip_space(p, c, false);
    if (p->end - c < 3 || memcmp(c, "::=", 3) != 0) return fail_at(p, c, "expected '::='");
    c = skip_space(p, c + 3, true);
    if ((st = parse_alternates(p, &c, id, false))) return st;
    if (c < p->end && *c != '\n' && *c != '\r') return fail_at(p, c, "expected the end of the rule");
    *s = skip_space(p, c, true);
    return HEARTH_OK;
}

/* Left recursion makes matching loop forever: refuse it. A depth-first walk
 * over "rule A can start with rule B" (B after rules that can be empty), with
 * an explicit stack: rule chains can be as long as the rule count. */
static hearth_status check_left_recursion(parser *p, const grammar *g) {
    enum { UNSEEN, OPEN, DONE };
    uint8_t *state = calloc(g->n_rules, 1), *empty = calloc(g->n_rules, 1);
    uint32_t *stack_rule = malloc(g->n_rules * sizeof *stack_rule), *stack_pos = malloc(g->n_rules * sizeof *stack_pos);
    hearth_status st = state && empty && stack_rule && stack_pos ? HEARTH_OK
                                                                 : hearth_fail(p->err, HEARTH_E_NOMEM, "out of memory");
    const grammar_elem *e = g->elems;
    for (uint32_t r0 = 0; r0 < g->n_rules && !st; r0++) {
        if (state[r0]) continue;
        uint32_t top = 0;
        stack_rule[0] = r0;
        stack_pos[0] = g->rule_start[r0];
        state[r0] = OPEN;
        while (!st) {
            uint32_t r = stack_rule[top], pos = stack_pos[top];
            uint32_t t = e[pos].type;
            bool skip = false;
            if (t == GE_END || t == GE_ALT) {
                empty[r] = 1; /* this alternative can match nothing */
                if (t == GE_ALT) {
                    stack_pos[top] = pos + 1;
                    continue;
                }
            } else if (t == GE_RULE) {
                uint32_t b = e[pos].value;
                if (state[b] == OPEN) {
                    const rule_def *d = &p->rules[r0 == b ? r0 : b];
                    const char *nm = d->name ? d->name : p->rules[r0].name;
                    st = hearth_fail(p->err, HEARTH_E_ARG,
                                     "grammar: rule '%s' is left-recursive (it can start with itself); rewrite it "
                                     "with a repetition",
                                     nm ? nm : "(group)");
                    break;
                }
                if (state[b] == UNSEEN) {
                    state[b] = OPEN;
                    top++;
                    stack_rule[top] = b;
                    stack_pos[top] = g->rule_start[b];
                    continue;
                }
                if (empty[b]) {
                    stack_pos[top] = pos + 1;
                    continue;
                }
                skip = true;
            } else {
                skip = true;
            }
            if (skip) { /* this alternative starts with a character: on to the next one */
                while (e[pos].type != GE_END && e[pos].type != GE_ALT) pos++;
                if (e[pos].type == GE_ALT) {
                    stack_pos[top] = pos + 1;
                    continue;
                }
            }
            /* the rule's END: done with it */
            state[r] = DONE;
            if (top == 0) break;
            top--;
        }
    }
    free(state);
    free(empty);
    free(stack_rule);
    free(stack_pos);
    return st;
}

static void parser_free(parser *p) {
    for (uint32_t r = 0; r < p->n_rules; r++) {
        free(p->rules[r].name);
        free(p->rules[r].body.p);
    }
    free(p->rules);
    free(p->hash);
}

hearth_status grammar_parse(grammar **out, const char *text, size_t len, hearth_error *err) {
    *out = NULL;
    if (len > GRAMMAR_MAX_TEXT)
        return hearth_fail(err, HEARTH_E_ARG, "grammar: %zu bytes, more than the %d allowed", len, GRAMMAR_MAX_TEXT);
    parser p = {.text = text, .end = text + len, .err = err};
    const char *s = skip_space(&p, text, true);
    hearth_status st = HEARTH_OK;
    while (!st && s < p.end) st = parse_rule(&p, &s);
    uint32_t root = 0;
    if (!st) {
        bool found = false;
        for (uint32_t r = 0; r < p.n_rules && !found; r++)
            if (p.rules[r].name && strcmp(p.rules[r].name, "root") == 0) found = p.rules[r].defined, root = r;
        if (!found) st = hearth_fail(err, HEARTH_E_ARG, "grammar: no rule named 'root' (the start rule)");
    }
    for (uint32_t r = 0; r < p.n_rules && !st; r++)
        if (!p.rules[r].defined)
            st = fail_at(&p, p.text + p.rules[r].first_use, "this rule is used but never defined");
    grammar *g = NULL;
    if (!st) {
        g = calloc(1, sizeof *g);
        if (g) g->elems = malloc((p.n_elems ? p.n_elems : 1) * sizeof *g->elems);
        if (g) g->rule_start = malloc((p.n_rules ? p.n_rules : 1) * sizeof *g->rule_start);
        if (!g || !g->elems || !g->rule_start) st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    if (!st) {
        size_t k = 0;
        for (uint32_t r = 0; r < p.n_rules; r++) {
            g->rule_start[r] = (uint32_t)k;
            memcpy(g->elems + k, p.rules[r].body.p, p.rules[r].body.n * sizeof *g->elems);
            k += p.rules[r].body.n;
        }
        g->n_rules = p.n_rules;
        g->root = root;
        st = check_left_recursion(&p, g);
    }
    parser_free(&p);
    if (st) {
        grammar_free(g);
        return st;
    }
    *out = g;
    return HEARTH_OK;
}

void grammar_free(grammar *g) {
    if (!g) return;
    free(g->elems);
    free(g->rule_start);
    free(g);
}

const grammar_elem *grammar_elems(const grammar *g) { return g->elems; }
uint32_t grammar_rule_start(const grammar *g, uint32_t rule) { return g->rule_start[rule]; }
uint32_t grammar_root(const grammar *g) { return g->root; }
uint32_t grammar_rule_count(const grammar *g) { return g->n_rules; }
