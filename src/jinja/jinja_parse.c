/* The Jinja parser: tokens to an AST, following @huggingface/jinja's
 * grammar and precedence. Nesting is bounded so a hostile template is an
 * error, never a stack overflow. */
#include <stdlib.h>
#include <string.h>

#include "jinja/jinja.h"

enum { MAX_PARSE_DEPTH = 200 };

typedef struct {
    const jsource *js;
    const jtok *t;
    size_t n, cur;
    int depth;
} parser;

typedef hearth_status st_t;

static const jtok *peek(const parser *P, size_t k) {
    size_t i = P->cur + k;
    return &P->t[i < P->n ? i : P->n - 1];
}
static bool is(const parser *P, jtok_type t) { return peek(P, 0)->t == t; }
static bool is_ident(const parser *P, size_t k, const char *name) {
    const jtok *t = peek(P, k);
    return t->t == JT_IDENT && t->n == strlen(name) && memcmp(t->s, name, t->n) == 0;
}
static bool is_stmt(const parser *P, const char *name) {
    return is(P, JT_OPEN_STMT) && is_ident(P, 1, name);
}

static const char *tok_name(jtok_type t) {
    static const char *const names[] = {"text", "number", "string", "identifier", "'='", "'('", "')'", "'{%'",
                                        "'%}'", "'{{'", "'}}'", "'['", "']'", "'{'", "'}'", "','", "'.'", "':'",
                                        "'|'", "operator", "operator", "'**'", "comparison", "unary operator",
                                        "comment", "end of template"};
    return names[t];
}

static st_t fail_at(parser *P, const jtok *t, const char *what) {
    if (t->t == JT_EOF) return jerr(P->js, t->pos, HEARTH_E_FORMAT, "%s, got the end of the template", what);
    return jerr(P->js, t->pos, HEARTH_E_FORMAT, "%s, got %s \"%.*s\"", what, tok_name(t->t),
                (int)(t->n > 40 ? 40 : t->n), t->s);
}

static st_t expect(parser *P, jtok_type t, const char *what) {
    if (!is(P, t)) return fail_at(P, peek(P, 0), what);
    P->cur++;
    return HEARTH_OK;
}
static st_t expect_ident(parser *P, const char *name, const char *what) {
    if (!is_ident(P, 0, name)) return fail_at(P, peek(P, 0), what);
    P->cur++;
    return HEARTH_OK;
}

static jnode *node(parser *P, jnode_kind k, const jtok *t) {
    jnode *n = ja_alloc(P->js->arena, sizeof *n);
    if (n) {
        n->k = k;
        n->pos = t->pos;
    }
    return n;
}
static st_t nomem(parser *P) { return jerr(P->js, peek(P, 0)->pos, HEARTH_E_NOMEM, "template too large (memory limit)"); }

static st_t nodes_push(parser *P, jnodes *l, jnode *x) {
    /* capacity: the next power of two at or above n */
    size_t n = l->n;
    if (n == 0 || (n & (n - 1)) == 0) {
        size_t cap = n ? n * 2 : 1;
        jnode **nv = ja_alloc(P->js->arena, cap * sizeof *nv);
        if (!nv) return nomem(P);
        if (n) memcpy(nv, l->v, n * sizeof *nv);
        l->v = nv;
    }
    l->v[l->n++] = x;
    return HEARTH_OK;
}

#define TRY(x)                                                                                                \
    do {                                                                                                      \
        st_t st_ = (x);                                                                                       \
        if (st_) return st_;                                                                                  \
    } while (0)
#define NEW(var, kind, tok)                                                                                   \
    jnode *var = node(P, kind, tok);                                                                          \
    if (!var) return nomem(P)

static st_t parse_any(parser *P, jnode **out);
static st_t parse_expr(parser *P, jnode **out);
static st_t parse_primary(parser *P, jnode **out);

static st_t enter(parser *P) {
    if (++P->depth > MAX_PARSE_DEPTH)
        return jerr(P->js, peek(P, 0)->pos, HEARTH_E_FORMAT, "template nested too deeply (more than %d levels)",
                    MAX_PARSE_DEPTH);
    return HEARTH_OK;
}

/* statements until {% NAME %} for one of the names (not consumed) */
static st_t parse_body(parser *P, jnodes *body, const char *n1, const char *n2, const char *n3) {
    for (;;) {
        if (is(P, JT_EOF)) {
            return fail_at(P, peek(P, 0), n3 ? "expected {% endif %}, {% elif %} or {% else %}"
                                               : n2 ? "expected {% else %} or the end tag"
                                                    : "expected an end tag");
        }
        if (is_stmt(P, n1) || (n2 && is_stmt(P, n2)) || (n3 && is_stmt(P, n3))) return HEARTH_OK;
        jnode *x = NULL;
        TRY(parse_any(P, &x));
        if (x) TRY(nodes_push(P, body, x));
    }
}

static st_t end_tag(parser *P, const char *name) {
    TRY(expect(P, JT_OPEN_STMT, "expected {%"));
    const jtok *t = peek(P, 0);
    if (!is_ident(P, 0, name)) return fail_at(P, t, "expected the end tag");
    P->cur++;
    return expect(P, JT_CLOSE_STMT, "expected %}");
}

static st_t parse_seq(parser *P, bool primary, jnode **out) {
    const jtok *t0 = peek(P, 0);
    jnode *first = NULL;
    TRY(primary ? parse_primary(P, &first) : parse_expr(P, &first));
    if (!is(P, JT_COMMA)) {
        *out = first;
        return HEARTH_OK;
    }
    NEW(tup, N_TUPLE, t0);
    TRY(nodes_push(P, &tup->l1, first));
    while (is(P, JT_COMMA)) {
        P->cur++;
        jnode *x = NULL;
        TRY(primary ? parse_primary(P, &x) : parse_expr(P, &x));
        TRY(nodes_push(P, &tup->l1, x));
    }
    *out = tup;
    return HEARTH_OK;
}

/* (args) for calls ("call") or macro parameters ("parameters") */
static st_t parse_args(parser *P, jnodes *args, bool params) {
    TRY(expect(P, JT_LPAREN, "expected ("));
    bool saw_kw = false;
    while (!is(P, JT_RPAREN)) {
        if (is(P, JT_EOF)) return fail_at(P, peek(P, 0), "expected )");
        const jtok *t = peek(P, 0);
        if (is(P, JT_POW) || (is(P, JT_MUL) && t->n == 1 && t->s[0] == '*'))
            return jerr(P->js, t->pos, HEARTH_E_UNSUPPORTED, "argument unpacking (* and **) is not supported");
        jnode *arg = NULL;
        TRY(parse_expr(P, &arg));
        if (is(P, JT_EQUALS)) {
            P->cur++;
            if (arg->k != N_IDENT)
                return jerr(P->js, arg->pos, HEARTH_E_FORMAT, "expected an identifier for a keyword argument");
            NEW(kw, N_KWARG, t);
            kw->s = arg->s;
            kw->n = arg->n;
            TRY(parse_expr(P, &kw->a));
            arg = kw;
            saw_kw = true;
        } else if (saw_kw) {
            return jerr(P->js, arg->pos, HEARTH_E_FORMAT,
                        params ? "non-default argument follows default argument"
                               : "positional arguments must come before keyword arguments");
        }
        if (params && arg->k != N_IDENT && arg->k != N_KWARG)
            return jerr(P->js, arg->pos, HEARTH_E_FORMAT, "expected an identifier for a parameter");
        TRY(nodes_push(P, args, arg));
        if (is(P, JT_COMMA)) P->cur++;
    }
    P->cur++;
    return HEARTH_OK;
}

static st_t parse_member(parser *P, jnode **obj);

static st_t parse_call(parser *P, jnode *callee, jnode **out) {
    TRY(enter(P));
    NEW(call, N_CALL, peek(P, 0));
    call->pos = callee->pos;
    call->a = callee;
    TRY(parse_args(P, &call->l1, false));
    jnode *e = call;
    TRY(parse_member(P, &e));
    if (is(P, JT_LPAREN)) TRY(parse_call(P, e, &e));
    P->depth--;
    *out = e;
    return HEARTH_OK;
}

static st_t parse_member(parser *P, jnode **obj) {
    while (is(P, JT_DOT) || is(P, JT_LBRACKET)) {
        const jtok *op = peek(P, 0);
        P->cur++;
        NEW(m, N_MEMBER, op);
        m->a = *obj;
        if (op->t == JT_LBRACKET) {
            m->flag = true;
            jnode *parts[3] = {0};
            size_t np = 0;
            bool slice = false;
            while (!is(P, JT_RBRACKET)) {
                if (is(P, JT_EOF)) return fail_at(P, peek(P, 0), "expected ]");
                if (np == 3) return fail_at(P, peek(P, 0), "expected 0-3 arguments for a slice");
                if (is(P, JT_COLON)) {
                    parts[np++] = NULL;
                    P->cur++;
                    slice = true;
                } else {
                    TRY(parse_expr(P, &parts[np++]));
                    if (is(P, JT_COLON)) {
                        P->cur++;
                        slice = true;
                    }
                }
            }
            if (np == 0) return fail_at(P, peek(P, 0), "expected an index or a slice");
            if (slice) {
                NEW(sl, N_SLICE, op);
                sl->a = parts[0], sl->b = parts[1], sl->c = parts[2];
                m->b = sl;
            } else {
                m->b = parts[0];
            }
            P->cur++;
        } else {
            const jtok *t = peek(P, 0);
            TRY(parse_primary(P, &m->b));
            if (m->b->k != N_IDENT && m->b->k != N_INT)
                return fail_at(P, t, "expected an identifier or integer after '.'");
        }
        *obj = m;
    }
    return HEARTH_OK;
}

static st_t parse_call_member(parser *P, jnode **out) {
    jnode *m = NULL;
    TRY(parse_primary(P, &m));
    TRY(parse_member(P, &m));
    if (is(P, JT_LPAREN)) return parse_call(P, m, out);
    *out = m;
    return HEARTH_OK;
}

static st_t parse_unary_sign(parser *P, jnode **out) {
    const jtok *t = peek(P, 0);
    if ((t->t == JT_UNARY || t->t == JT_ADD) && t->n == 1 && (t->s[0] == '-' || t->s[0] == '+')) {
        P->cur++;
        TRY(enter(P));
        NEW(u, N_UNARY, t);
        u->s = t->s, u->n = 1;
        TRY(parse_unary_sign(P, &u->a));
        P->depth--;
        *out = u;
        return HEARTH_OK;
    }
    return parse_call_member(P, out);
}

static st_t parse_filter_tail(parser *P, jnode *f) {
    const jtok *t = peek(P, 0);
    jnode *name = NULL;
    TRY(parse_primary(P, &name));
    if (name->k != N_IDENT) return fail_at(P, t, "expected a filter name");
    f->s = name->s, f->n = name->n;
    if (is(P, JT_LPAREN)) {
        f->flag = true;
        TRY(parse_args(P, &f->l1, false));
    }
    return HEARTH_OK;
}

static st_t parse_filter_expr(parser *P, jnode **out) {
    jnode *x = NULL;
    TRY(parse_unary_sign(P, &x));
    while (is(P, JT_PIPE)) {
        NEW(f, N_FILTER, peek(P, 0));
        P->cur++;
        f->a = x;
        TRY(parse_filter_tail(P, f));
        x = f;
    }
    *out = x;
    return HEARTH_OK;
}

static st_t parse_test_expr(parser *P, jnode **out) {
    jnode *x = NULL;
    TRY(parse_filter_expr(P, &x));
    while (is_ident(P, 0, "is")) {
        NEW(t, N_TEST, peek(P, 0));
        P->cur++;
        if (is_ident(P, 0, "not")) {
            t->flag = true;
            P->cur++;
        }
        const jtok *nt = peek(P, 0);
        jnode *name = NULL;
        TRY(parse_primary(P, &name));
        if (name->k != N_IDENT) return fail_at(P, nt, "expected a test name");
        t->s = name->s, t->n = name->n, t->a = x;
        x = t;
    }
    *out = x;
    return HEARTH_OK;
}

typedef st_t (*level_fn)(parser *, jnode **);

static st_t binary_loop(parser *P, jnode **out, level_fn next, jtok_type type, const char *word) {
    jnode *x = NULL;
    TRY(next(P, &x));
    while (word ? is_ident(P, 0, word) : is(P, type)) {
        const jtok *op = peek(P, 0);
        P->cur++;
        NEW(b, N_BINARY, op);
        b->s = op->s, b->n = op->n, b->a = x;
        TRY(next(P, &b->b));
        x = b;
    }
    *out = x;
    return HEARTH_OK;
}

static st_t parse_pow(parser *P, jnode **out) { return binary_loop(P, out, parse_test_expr, JT_POW, NULL); }
static st_t parse_mul(parser *P, jnode **out) { return binary_loop(P, out, parse_pow, JT_MUL, NULL); }
static st_t parse_add(parser *P, jnode **out) { return binary_loop(P, out, parse_mul, JT_ADD, NULL); }

static st_t parse_cmp(parser *P, jnode **out) {
    jnode *x = NULL;
    TRY(parse_add(P, &x));
    for (;;) {
        const jtok *op = peek(P, 0);
        const char *s;
        size_t n;
        if (is_ident(P, 0, "not") && is_ident(P, 1, "in")) {
            s = "not in", n = 6;
            P->cur += 2;
        } else if (is_ident(P, 0, "in") || is(P, JT_CMP)) {
            s = op->s, n = op->n;
            P->cur++;
        } else {
            break;
        }
        NEW(b, N_BINARY, op);
        b->s = s, b->n = n, b->a = x;
        TRY(parse_add(P, &b->b));
        x = b;
    }
    *out = x;
    return HEARTH_OK;
}

static st_t parse_not(parser *P, jnode **out) {
    if (is_ident(P, 0, "not")) {
        const jtok *t = peek(P, 0);
        P->cur++;
        TRY(enter(P));
        NEW(u, N_UNARY, t);
        u->s = "not", u->n = 3;
        TRY(parse_not(P, &u->a));
        P->depth--;
        *out = u;
        return HEARTH_OK;
    }
    return parse_cmp(P, out);
}
static st_t parse_and(parser *P, jnode **out) { return binary_loop(P, out, parse_not, JT_EOF, "and"); }
static st_t parse_or(parser *P, jnode **out) { return binary_loop(P, out, parse_and, JT_EOF, "or"); }

static st_t parse_expr(parser *P, jnode **out) {
    TRY(enter(P));
    jnode *a = NULL;
    TRY(parse_or(P, &a));
    if (is_ident(P, 0, "if")) {
        const jtok *t = peek(P, 0);
        P->cur++;
        jnode *test = NULL;
        TRY(parse_or(P, &test));
        if (is_ident(P, 0, "else")) {
            P->cur++;
            NEW(tern, N_TERNARY, t);
            tern->a = test, tern->b = a;
            TRY(parse_expr(P, &tern->c));
            a = tern;
        } else {
            NEW(sel, N_SELECT, t);
            sel->a = a, sel->b = test;
            a = sel;
        }
    }
    P->depth--;
    *out = a;
    return HEARTH_OK;
}

static st_t parse_primary(parser *P, jnode **out) {
    const jtok *t = peek(P, 0);
    if (t->t == JT_EOF) return fail_at(P, t, "expected an expression");
    P->cur++;
    switch (t->t) {
    case JT_NUM: {
        bool is_float = memchr(t->s, '.', t->n) != NULL;
        NEW(x, is_float ? N_FLOAT : N_INT, t);
        char buf[64];
        size_t n = t->n < sizeof buf - 1 ? t->n : sizeof buf - 1;
        memcpy(buf, t->s, n);
        buf[n] = 0;
        x->f = strtod(buf, NULL);
        x->i = (int64_t)(x->f > 9.2e18 ? 9.2e18 : x->f < -9.2e18 ? -9.2e18 : x->f);
        if (!is_float && t->n < 18) x->i = strtoll(buf, NULL, 10);
        *out = x;
        return HEARTH_OK;
    }
    case JT_STR: {
        NEW(x, N_STR, t);
        x->s = t->s, x->n = t->n;
        if (is(P, JT_STR)) {
            jbuf b = {0};
            if (!jb_put(P->js->arena, &b, t->s, t->n)) return nomem(P);
            while (is(P, JT_STR)) {
                if (!jb_put(P->js->arena, &b, peek(P, 0)->s, peek(P, 0)->n)) return nomem(P);
                P->cur++;
            }
            x->s = b.p, x->n = b.n;
        }
        *out = x;
        return HEARTH_OK;
    }
    case JT_IDENT: {
        NEW(x, N_IDENT, t);
        x->s = t->s, x->n = t->n;
        *out = x;
        return HEARTH_OK;
    }
    case JT_LPAREN: {
        TRY(enter(P));
        TRY(parse_seq(P, false, out));
        P->depth--;
        return expect(P, JT_RPAREN, "expected )");
    }
    case JT_LBRACKET: {
        TRY(enter(P));
        NEW(x, N_LIST, t);
        while (!is(P, JT_RBRACKET)) {
            if (is(P, JT_EOF)) return fail_at(P, peek(P, 0), "expected ]");
            jnode *e = NULL;
            TRY(parse_expr(P, &e));
            TRY(nodes_push(P, &x->l1, e));
            if (is(P, JT_COMMA)) P->cur++;
        }
        P->cur++;
        P->depth--;
        *out = x;
        return HEARTH_OK;
    }
    case JT_LBRACE: {
        TRY(enter(P));
        NEW(x, N_DICT, t);
        while (!is(P, JT_RBRACE)) {
            if (is(P, JT_EOF)) return fail_at(P, peek(P, 0), "expected }");
            jnode *k = NULL, *v = NULL;
            TRY(parse_expr(P, &k));
            TRY(expect(P, JT_COLON, "expected : between key and value"));
            TRY(parse_expr(P, &v));
            TRY(nodes_push(P, &x->l1, k));
            TRY(nodes_push(P, &x->l2, v));
            if (is(P, JT_COMMA)) P->cur++;
        }
        P->cur++;
        P->depth--;
        *out = x;
        return HEARTH_OK;
    }
    default: return fail_at(P, t, "unexpected token");
    }
}

static st_t parse_if(parser *P, const jtok *t, jnode **out) {
    NEW(x, N_IF, t);
    TRY(parse_expr(P, &x->a));
    TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
    TRY(parse_body(P, &x->l1, "elif", "else", "endif"));
    if (is_stmt(P, "elif")) {
        const jtok *et = peek(P, 1);
        P->cur += 2;
        TRY(enter(P));
        jnode *alt = NULL;
        TRY(parse_if(P, et, &alt));
        P->depth--;
        TRY(nodes_push(P, &x->l2, alt));
    } else if (is_stmt(P, "else")) {
        P->cur += 2;
        TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
        TRY(parse_body(P, &x->l2, "endif", NULL, NULL));
    }
    *out = x;
    return HEARTH_OK;
}

static st_t parse_statement(parser *P, jnode **out) {
    const jtok *open = peek(P, 0);
    P->cur++;
    const jtok *t = peek(P, 0);
    if (t->t != JT_IDENT) return fail_at(P, t, "expected a statement name");
    P->cur++;
#define NAME(x) (t->n == strlen(x) && memcmp(t->s, x, t->n) == 0)
    (void)open;
    if (NAME("set")) {
        NEW(x, N_SET, t);
        TRY(parse_seq(P, false, &x->a));
        if (is(P, JT_EQUALS)) {
            P->cur++;
            TRY(parse_seq(P, false, &x->b));
        } else {
            TRY(expect(P, JT_CLOSE_STMT, "expected = or %}"));
            TRY(parse_body(P, &x->l1, "endset", NULL, NULL));
            P->cur++;
            TRY(expect_ident(P, "endset", "expected endset"));
        }
        TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
        *out = x;
    } else if (NAME("if")) {
        TRY(parse_if(P, t, out));
        TRY(end_tag(P, "endif"));
    } else if (NAME("for")) {
        NEW(x, N_FOR, t);
        TRY(parse_seq(P, true, &x->a));
        if (x->a->k != N_IDENT && x->a->k != N_TUPLE)
            return jerr(P->js, x->a->pos, HEARTH_E_FORMAT, "expected an identifier or tuple as the loop variable");
        TRY(expect_ident(P, "in", "expected 'in' after the loop variable"));
        TRY(parse_expr(P, &x->b));
        TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
        TRY(parse_body(P, &x->l1, "endfor", "else", NULL));
        if (is_stmt(P, "else")) {
            P->cur += 2;
            TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
            TRY(parse_body(P, &x->l2, "endfor", NULL, NULL));
        }
        TRY(end_tag(P, "endfor"));
        *out = x;
    } else if (NAME("macro")) {
        NEW(x, N_MACRO, t);
        const jtok *nt = peek(P, 0);
        jnode *name = NULL;
        TRY(parse_primary(P, &name));
        if (name->k != N_IDENT) return fail_at(P, nt, "expected the macro's name");
        x->s = name->s, x->n = name->n;
        TRY(parse_args(P, &x->l1, true));
        TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
        TRY(parse_body(P, &x->l2, "endmacro", NULL, NULL));
        TRY(end_tag(P, "endmacro"));
        *out = x;
    } else if (NAME("call")) {
        NEW(x, N_CALLBLOCK, t);
        if (is(P, JT_LPAREN)) TRY(parse_args(P, &x->l1, true));
        const jtok *ct = peek(P, 0);
        jnode *callee = NULL;
        TRY(parse_primary(P, &callee));
        if (callee->k != N_IDENT) return fail_at(P, ct, "expected an identifier after call");
        NEW(call, N_CALL, ct);
        call->a = callee;
        TRY(parse_args(P, &call->l1, false));
        x->a = call;
        TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
        TRY(parse_body(P, &x->l2, "endcall", NULL, NULL));
        TRY(end_tag(P, "endcall"));
        *out = x;
    } else if (NAME("break") || NAME("continue")) {
        NEW(x, NAME("break") ? N_BREAK : N_CONTINUE, t);
        TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
        *out = x;
    } else if (NAME("filter")) {
        NEW(x, N_FILTERBLOCK, t);
        NEW(f, N_FILTER, peek(P, 0));
        TRY(parse_filter_tail(P, f));
        x->a = f;
        TRY(expect(P, JT_CLOSE_STMT, "expected %}"));
        TRY(parse_body(P, &x->l1, "endfilter", NULL, NULL));
        TRY(end_tag(P, "endfilter"));
        *out = x;
    } else {
        return jerr(P->js, t->pos, HEARTH_E_UNSUPPORTED, "unknown statement \"%.*s\"", (int)(t->n > 40 ? 40 : t->n),
                    t->s);
    }
#undef NAME
    return HEARTH_OK;
}

static st_t parse_any(parser *P, jnode **out) {
    TRY(enter(P));
    const jtok *t = peek(P, 0);
    *out = NULL;
    switch (t->t) {
    case JT_COMMENT: P->cur++; break;
    case JT_TEXT: {
        NEW(x, N_TEXT, t);
        x->s = t->s, x->n = t->n;
        P->cur++;
        *out = x;
        break;
    }
    case JT_OPEN_STMT: TRY(parse_statement(P, out)); break;
    case JT_OPEN_EXPR:
        P->cur++;
        TRY(parse_expr(P, out));
        TRY(expect(P, JT_CLOSE_EXPR, "expected }}"));
        break;
    default: return fail_at(P, t, "unexpected token");
    }
    P->depth--;
    return HEARTH_OK;
}

hearth_status jinja_parse(const jsource *js, const jtok *toks, size_t n, jnodes *program) {
    parser P = {.js = js, .t = toks, .n = n};
    *program = (jnodes){0};
    while (!is(&P, JT_EOF)) {
        jnode *x = NULL;
        TRY(parse_any(&P, &x));
        if (x) TRY(nodes_push(&P, program, x));
    }
    return HEARTH_OK;
}
