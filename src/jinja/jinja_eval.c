/* The Jinja evaluator: statements and expressions, with @huggingface/jinja's
 * semantics (scoping, loop variables, operators, macros). Bounded recursion
 * depth, loop iterations and output size. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jinja/jinja_eval.h"

int jx_fail(jctx *c, uint32_t pos, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jerr(c->js, pos, HEARTH_E_ARG, "%s", msg);
    return J_ERR;
}

int jx_nomem(jctx *c, uint32_t pos) {
    jerr(c->js, pos, HEARTH_E_NOMEM, "the template used more than its memory limit (%zu MiB)",
         c->a->limit >> 20);
    return J_ERR;
}

#define TRY(x)                                                                                                \
    do {                                                                                                      \
        int r_ = (x);                                                                                         \
        if (r_) return r_;                                                                                    \
    } while (0)

static jscope *scope_new(jctx *c, jscope *parent) {
    jscope *s = ja_alloc(c->a, sizeof *s);
    if (!s) return NULL;
    s->parent = parent;
    s->vars = jd_new(c->a);
    return s->vars ? s : NULL;
}

static jv lookup(const jscope *s, const char *name, size_t n) {
    for (; s; s = s->parent) {
        jv *v = jd_get(s->vars, name, n);
        if (v) return *v;
    }
    return (jv){.t = JV_UNDEF};
}

static int set_var(jctx *c, jscope *s, const char *name, size_t n, jv v, uint32_t pos) {
    return jd_set(c->a, s->vars, name, n, v) ? J_OK : jx_nomem(c, pos);
}

/* Writes string s (with its provenance) to the output. */
static int emit(jctx *c, jbuf *out, jv s, uint32_t pos) {
    c->emitted += s.u.s.n;
    if (c->emitted > c->lim.max_output)
        return jx_fail(c, pos, "the template's output exceeds its limit (%zu bytes)", c->lim.max_output);
    return jb_put_v(c->a, out, s, 0, s.u.s.n) ? J_OK : jx_nomem(c, pos);
}

static int emit_value(jctx *c, jbuf *out, jv v, uint32_t pos) {
    if (v.t == JV_UNDEF || v.t == JV_NONE) return J_OK;
    if (v.t == JV_STR) return emit(c, out, v, pos);
    const char *bad = v.t == JV_LIST || v.t == JV_DICT || v.t == JV_NS ? jv_unjsonable(v, 0) : NULL;
    if (bad) return jx_fail(c, pos, "cannot convert to JSON: %s", bad);
    jbuf tmp = {0};
    if (!jv_append_str(c->a, &tmp, v)) return jx_nomem(c, pos);
    return emit(c, out, jb_str(&tmp), pos);
}

static int exec_block(jctx *c, const jnodes *body, jscope *s, jbuf *out);

/* Runs a block into a new string. */
static int block_string(jctx *c, const jnodes *body, jscope *s, jv *out) {
    jbuf b = {0};
    int r = exec_block(c, body, s, &b);
    if (r == J_ERR) return r;
    *out = jb_str(&b);
    return J_OK;
}

/* ---- operators ---- */

static bool is_num(jv v) { return v.t == JV_INT || v.t == JV_FLOAT; }
static double num(jv v) { return v.t == JV_INT ? (double)v.u.i : v.t == JV_FLOAT ? v.u.f : v.t == JV_BOOL ? v.u.b : 0; }
static jv jv_float(double f) {
    jv v = {.t = JV_FLOAT};
    v.u.f = f;
    return v;
}

static int arith_value(jctx *c, const char *op, jv l, jv r, uint32_t pos, jv *out);

/* Arithmetic on numbers from data gives data; comparisons are the template's. */
static int arith(jctx *c, const char *op, jv l, jv r, uint32_t pos, jv *out) {
    int res = arith_value(c, op, l, r, pos, out);
    if (!res && out->t != JV_BOOL) out->taint = l.taint | r.taint;
    return res;
}

static int arith_value(jctx *c, const char *op, jv l, jv r, uint32_t pos, jv *out) {
    bool fl = l.t == JV_FLOAT || r.t == JV_FLOAT;
    double a = num(l), b = num(r);
    if (op[0] == '<' || op[0] == '>') {
        bool res = op[0] == '<' ? (op[1] == '=' ? a <= b : a < b) : (op[1] == '=' ? a >= b : a > b);
        if (l.t == JV_INT && r.t == JV_INT)
            res = op[0] == '<' ? (op[1] == '=' ? l.u.i <= r.u.i : l.u.i < r.u.i)
                               : (op[1] == '=' ? l.u.i >= r.u.i : l.u.i > r.u.i);
        *out = jv_bool(res);
        return J_OK;
    }
    if (!fl) {
        int64_t x = l.u.i, y = r.u.i, z = 0;
        bool ovf = false;
        switch (op[0]) {
        case '+': ovf = __builtin_add_overflow(x, y, &z); break;
        case '-': ovf = __builtin_sub_overflow(x, y, &z); break;
        case '*': ovf = __builtin_mul_overflow(x, y, &z); break;
        case '/':
            if (op[1] == '/') {
                if (y == 0) return jx_fail(c, pos, "integer division by zero");
                z = (int64_t)floor((double)x / (double)y);
                if (x % y == 0 && !(x == INT64_MIN && y == -1)) z = x / y;
                break;
            }
            *out = jv_float(a / b);
            return J_OK;
        case '%':
            if (y == 0) return jx_fail(c, pos, "modulo by zero");
            z = (x == INT64_MIN && y == -1) ? 0 : x % y; /* JS: the sign of the dividend */
            break;
        }
        if (ovf) return jx_fail(c, pos, "integer overflow in %s", op);
        *out = jv_int(z);
        return J_OK;
    }
    double z;
    switch (op[0]) {
    case '+': z = a + b; break;
    case '-': z = a - b; break;
    case '*': z = a * b; break;
    case '/': z = op[1] == '/' ? floor(a / b) : a / b; break;
    default: z = fmod(a, b); break;
    }
    *out = jv_float(z);
    return J_OK;
}

static int concat(jctx *c, jv l, jv r, uint32_t pos, jv *out) {
    jv ls, rs;
    TRY(jx_js_str(c, l, pos, &ls));
    TRY(jx_js_str(c, r, pos, &rs));
    jbuf b = {0};
    if (!jb_put_v(c->a, &b, ls, 0, ls.u.s.n) || !jb_put_v(c->a, &b, rs, 0, rs.u.s.n)) return jx_nomem(c, pos);
    *out = jb_str(&b);
    return J_OK;
}

static bool contains(jv hay, jv needle) {
    if (hay.u.s.n < needle.u.s.n) return false;
    if (needle.u.s.n == 0) return true;
    for (size_t i = 0; i + needle.u.s.n <= hay.u.s.n; i++)
        if (memcmp(hay.u.s.p + i, needle.u.s.p, needle.u.s.n) == 0) return true;
    return false;
}

static int binary(jctx *c, const jnode *n, jscope *s, jv *out) {
    jv l, r;
    TRY(jx_eval(c, n->a, s, &l));
    const char *op = n->s;
    size_t on = n->n;
#define OP(x) (on == strlen(x) && memcmp(op, x, on) == 0)
    if (OP("and")) return jv_truthy(l) ? jx_eval(c, n->b, s, out) : (*out = l, J_OK);
    if (OP("or")) return jv_truthy(l) ? (*out = l, J_OK) : jx_eval(c, n->b, s, out);
    TRY(jx_eval(c, n->b, s, &r));
    if (OP("==") || OP("!=")) {
        bool eq = jx_loose_eq(l, r);
        *out = jv_bool(OP("==") ? eq : !eq);
        return J_OK;
    }
    bool in = OP("in"), not_in = OP("not in");
    if (l.t == JV_UNDEF || r.t == JV_UNDEF) {
        if (r.t == JV_UNDEF && (in || not_in)) {
            *out = jv_bool(not_in);
            return J_OK;
        }
        return jx_fail(c, n->pos, "cannot perform operation %.*s on undefined values", (int)on, op);
    }
    if (l.t == JV_NONE || r.t == JV_NONE) return jx_fail(c, n->pos, "cannot perform operation %.*s on null values", (int)on, op);
    if (OP("~")) return concat(c, l, r, n->pos, out);
    if (OP("**")) {
        if ((is_num(l) || l.t == JV_BOOL) && (is_num(r) || r.t == JV_BOOL)) {
            double a = num(l), b = num(r), z = pow(a, b);
            if (a == 0 && b < 0) return jx_fail(c, n->pos, "0.0 cannot be raised to a negative power");
            if (!isfinite(z)) return jx_fail(c, n->pos, "exponentiation result is not a finite real number");
            bool fl = l.t == JV_FLOAT || r.t == JV_FLOAT || b < 0;
            if (!fl && fabs(z) < 9.2e18) *out = jv_int((int64_t)z);
            else *out = jv_float(z);
            out->taint = l.taint | r.taint;
            return J_OK;
        }
    } else if (is_num(l) && is_num(r)) {
        if (!(in || not_in)) return arith(c, op, l, r, n->pos, out);
    } else if (l.t == JV_LIST && r.t == JV_LIST) {
        if (OP("+")) {
            jlist *nl = jl_new(c->a);
            if (!nl) return jx_nomem(c, n->pos);
            for (size_t i = 0; i < l.u.l->n; i++)
                if (!jl_push(c->a, nl, l.u.l->v[i])) return jx_nomem(c, n->pos);
            for (size_t i = 0; i < r.u.l->n; i++)
                if (!jl_push(c->a, nl, r.u.l->v[i])) return jx_nomem(c, n->pos);
            out->t = JV_LIST, out->tuple = false, out->u.l = nl;
            return J_OK;
        }
    } else if (r.t == JV_LIST && (in || not_in)) {
        bool found = false;
        for (size_t i = 0; i < r.u.l->n && !found; i++) found = jx_strict_eq(r.u.l->v[i], l);
        *out = jv_bool(in ? found : !found);
        return J_OK;
    }
    if ((l.t == JV_STR || r.t == JV_STR) && OP("+")) return concat(c, l, r, n->pos, out);
    if (l.t == JV_STR && r.t == JV_STR && (in || not_in)) {
        bool f = contains(r, l);
        *out = jv_bool(in ? f : !f);
        return J_OK;
    }
    if (l.t == JV_STR && r.t == JV_DICT && (in || not_in)) {
        bool f = jd_get(r.u.d, l.u.s.p, l.u.s.n) != NULL;
        *out = jv_bool(in ? f : !f);
        return J_OK;
    }
    return jx_fail(c, n->pos, "unknown operator \"%.*s\" between %s and %s", (int)on, op, jv_type_name(l),
                   jv_type_name(r));
#undef OP
}

/* ---- member access and slices ---- */

static size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1; }

/* code point offsets of a string (n+1 entries); *count code points */
static size_t *cp_offsets(jctx *c, jv s, size_t *count) {
    size_t *o = ja_alloc(c->a, (s.u.s.n + 1) * sizeof *o);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < s.u.s.n;) {
        o[k++] = i;
        size_t l = utf8_len((unsigned char)s.u.s.p[i]);
        i = i + l > s.u.s.n ? s.u.s.n : i + l;
    }
    o[k] = s.u.s.n;
    *count = k;
    return o;
}

static int slice_value(jctx *c, jv obj, const jnode *sl, jscope *s, jv *out) {
    if (obj.t != JV_LIST && obj.t != JV_STR) return jx_fail(c, sl->pos, "slice object must be an array or string");
    jv parts[3];
    const jnode *pn[3] = {sl->a, sl->b, sl->c};
    for (int i = 0; i < 3; i++) {
        parts[i] = (jv){.t = JV_UNDEF};
        if (pn[i]) TRY(jx_eval(c, pn[i], s, &parts[i]));
        if (parts[i].t != JV_INT && parts[i].t != JV_UNDEF)
            return jx_fail(c, sl->pos, "slice %s must be an integer or undefined",
                           i == 0 ? "start" : i == 1 ? "stop" : "step");
    }
    size_t *offs = NULL, len;
    if (obj.t == JV_STR) {
        offs = cp_offsets(c, obj, &len);
        if (!offs) return jx_nomem(c, sl->pos);
    } else {
        len = obj.u.l->n;
    }
    int64_t L = (int64_t)len;
    int64_t step = parts[2].t == JV_INT ? parts[2].u.i : 1;
    if (step == 0) return jx_fail(c, sl->pos, "slice step cannot be zero");
    int64_t start, stop;
    if (step > 0) {
        start = parts[0].t == JV_INT ? parts[0].u.i : 0;
        stop = parts[1].t == JV_INT ? parts[1].u.i : L;
        start = start < 0 ? (L + start > 0 ? L + start : 0) : (start < L ? start : L);
        stop = stop < 0 ? (L + stop > 0 ? L + stop : 0) : (stop < L ? stop : L);
    } else {
        start = parts[0].t == JV_INT ? parts[0].u.i : L - 1;
        stop = parts[1].t == JV_INT ? parts[1].u.i : -1;
        start = start < 0 ? (L + start > -1 ? L + start : -1) : (start < L - 1 ? start : L - 1);
        stop = stop < -1 ? (L + stop > -1 ? L + stop : -1) : (stop < L - 1 ? stop : L - 1);
    }
    int64_t dir = step > 0 ? 1 : -1;
    if (obj.t == JV_LIST) {
        jlist *nl = jl_new(c->a);
        if (!nl) return jx_nomem(c, sl->pos);
        for (int64_t i = start; dir * i < dir * stop; i += step)
            if (!jl_push(c->a, nl, obj.u.l->v[i])) return jx_nomem(c, sl->pos);
        out->t = JV_LIST, out->tuple = false, out->u.l = nl;
        return J_OK;
    }
    jbuf b = {0};
    for (int64_t i = start; dir * i < dir * stop; i += step)
        if (!jb_put_v(c->a, &b, obj, offs[i], offs[i + 1] - offs[i])) return jx_nomem(c, sl->pos);
    *out = jb_str(&b);
    return J_OK;
}

static int member(jctx *c, const jnode *n, jscope *s, jv *out) {
    jv obj, prop;
    TRY(jx_eval(c, n->a, s, &obj));
    if (n->flag) {
        if (n->b->k == N_SLICE) return slice_value(c, obj, n->b, s, out);
        TRY(jx_eval(c, n->b, s, &prop));
    } else if (n->b->k == N_INT) {
        prop = jv_int(n->b->i);
    } else {
        prop = jv_str(n->b->s, n->b->n);
    }
    *out = (jv){.t = JV_UNDEF};
    if (obj.t == JV_DICT || obj.t == JV_NS) {
        if (prop.t != JV_STR) return jx_fail(c, n->pos, "cannot access a property with a %s", jv_type_name(prop));
        jv *v = jd_get(obj.u.d, prop.u.s.p, prop.u.s.n);
        if (v) {
            *out = *v;
            return J_OK;
        }
        if (obj.t == JV_NS) return J_OK;
        return jx_builtin_attr(c, obj, prop.u.s.p, prop.u.s.n, n->pos, out);
    }
    if (obj.t == JV_LIST || obj.t == JV_STR) {
        if (prop.t == JV_INT) {
            int64_t i = prop.u.i;
            if (obj.t == JV_LIST) {
                int64_t L = (int64_t)obj.u.l->n;
                if (i < 0) i += L;
                if (i >= 0 && i < L) *out = obj.u.l->v[i];
                return J_OK;
            }
            size_t cnt, *offs = cp_offsets(c, obj, &cnt);
            if (!offs) return jx_nomem(c, n->pos);
            if (i < 0) i += (int64_t)cnt;
            if (i >= 0 && i < (int64_t)cnt) *out = jv_sub(obj, offs[i], offs[i + 1] - offs[i]);
            return J_OK;
        }
        if (prop.t != JV_STR)
            return jx_fail(c, n->pos, "cannot access a property with a %s", jv_type_name(prop));
        return jx_builtin_attr(c, obj, prop.u.s.p, prop.u.s.n, n->pos, out);
    }
    if (prop.t != JV_STR) return jx_fail(c, n->pos, "cannot access a property with a %s", jv_type_name(prop));
    return jx_builtin_attr(c, obj, prop.u.s.p, prop.u.s.n, n->pos, out);
}

/* ---- calls ---- */

int jx_args(jctx *c, const jnodes *l, jscope *s, jlist **args, jdict **kwargs) {
    *args = jl_new(c->a);
    *kwargs = jd_new(c->a);
    if (!*args || !*kwargs) return jx_nomem(c, 0);
    for (size_t i = 0; i < l->n; i++) {
        const jnode *x = l->v[i];
        jv v;
        TRY(jx_eval(c, x->k == N_KWARG ? x->a : x, s, &v));
        if (x->k == N_KWARG) {
            if (jd_get(*kwargs, x->s, x->n))
                return jx_fail(c, x->pos, "got multiple values for keyword argument '%.*s'", (int)x->n, x->s);
            if (!jd_set(c->a, *kwargs, x->s, x->n, v)) return jx_nomem(c, x->pos);
        } else if (!jl_push(c->a, *args, v)) {
            return jx_nomem(c, x->pos);
        }
    }
    return J_OK;
}

static int bind_params(jctx *c, const jnodes *params, jlist *args, jdict *kwargs, jscope *scope, uint32_t pos) {
    jdict *extra = jd_new(c->a);
    if (!extra) return jx_nomem(c, pos);
    for (size_t i = 0; i < kwargs->n; i++)
        if (!jd_set(c->a, extra, kwargs->kp[i], kwargs->kn[i], kwargs->v[i])) return jx_nomem(c, pos);
    for (size_t i = 0; i < params->n; i++) {
        const jnode *p = params->v[i];
        jv v = {.t = JV_UNDEF};
        bool have = false;
        if (i < args->n) {
            v = args->v[i];
            have = true;
        } else {
            jv *kv = jd_get(extra, p->s, p->n);
            if (kv) {
                v = *kv;
                have = true;
                kv->t = JV_UNDEF; /* consumed */
            }
        }
        TRY(set_var(c, scope, p->s, p->n, v, pos));
        (void)have;
    }
    /* defaults after every name is bound */
    for (size_t i = 0; i < params->n; i++) {
        const jnode *p = params->v[i];
        if (p->k != N_KWARG || i < args->n) continue;
        jv *cur = jd_get(scope->vars, p->s, p->n);
        jv *kv = jd_get(kwargs, p->s, p->n);
        if (kv) continue;
        jv v;
        TRY(jx_eval(c, p->a, scope, &v));
        if (cur) *cur = v;
    }
    jlist *varargs = jl_new(c->a);
    jdict *kw = jd_new(c->a);
    if (!varargs || !kw) return jx_nomem(c, pos);
    for (size_t i = params->n; i < args->n; i++)
        if (!jl_push(c->a, varargs, args->v[i])) return jx_nomem(c, pos);
    for (size_t i = 0; i < kwargs->n; i++) {
        bool is_param = false;
        for (size_t k = 0; k < params->n; k++)
            if (params->v[k]->n == kwargs->kn[i] && memcmp(params->v[k]->s, kwargs->kp[i], kwargs->kn[i]) == 0)
                is_param = true;
        if (!is_param && !jd_set(c->a, kw, kwargs->kp[i], kwargs->kn[i], kwargs->v[i])) return jx_nomem(c, pos);
    }
    jv va = {.t = JV_LIST}, kd = {.t = JV_DICT};
    va.u.l = varargs;
    kd.u.d = kw;
    TRY(set_var(c, scope, "varargs", 7, va, pos));
    return set_var(c, scope, "kwargs", 6, kd, pos);
}

int jx_call(jctx *c, jv fn, jlist *args, jdict *kwargs, jscope *s, uint32_t pos, jv *out) {
    if (fn.t != JV_FUNC)
        return jx_fail(c, pos, "cannot call something that is not a function: got %s", jv_type_name(fn));
    const jfunc *f = fn.u.fn;
    if (f->k == F_METHOD) return jx_call_method(c, f, args, kwargs, pos, out);
    if (f->k != F_MACRO && f->k != F_CALLER) return jx_call_global(c, f, args, kwargs, pos, out);
    if (++c->depth > c->lim.max_depth)
        return jx_fail(c, pos, "recursion deeper than %zu levels (macro calls)", c->lim.max_depth);
    jscope *scope = scope_new(c, f->k == F_CALLER ? f->env : s);
    if (!scope) return jx_nomem(c, pos);
    const jnodes *params = &f->node->l1, *body = &f->node->l2;
    TRY(bind_params(c, params, args, kwargs, scope, pos));
    TRY(block_string(c, body, scope, out));
    c->depth--;
    return J_OK;
}

static int call_expr(jctx *c, const jnode *n, jscope *s, jv *out) {
    jlist *args;
    jdict *kwargs;
    TRY(jx_args(c, &n->l1, s, &args, &kwargs));
    jv fn;
    TRY(jx_eval(c, n->a, s, &fn));
    return jx_call(c, fn, args, kwargs, s, n->pos, out);
}

/* ---- expressions ---- */

int jx_eval(jctx *c, const jnode *n, jscope *s, jv *out) {
    if (!n) {
        *out = (jv){.t = JV_UNDEF};
        return J_OK;
    }
    if (++c->depth > c->lim.max_depth)
        return jx_fail(c, n->pos, "expression nested deeper than %zu levels", c->lim.max_depth);
    int r = J_OK;
    switch (n->k) {
    case N_TEXT:
    case N_STR: *out = jv_str(n->s, n->n); break;
    case N_INT: *out = jv_int(n->i); break;
    case N_FLOAT: *out = jv_float(n->f); break;
    case N_IDENT: *out = lookup(s, n->s, n->n); break;
    case N_LIST:
    case N_TUPLE: {
        jlist *l = jl_new(c->a);
        if (!l) return jx_nomem(c, n->pos);
        for (size_t i = 0; i < n->l1.n && !r; i++) {
            jv v;
            r = jx_eval(c, n->l1.v[i], s, &v);
            if (!r && !jl_push(c->a, l, v)) r = jx_nomem(c, n->pos);
        }
        out->t = JV_LIST;
        out->tuple = n->k == N_TUPLE;
        out->u.l = l;
        break;
    }
    case N_DICT: {
        jdict *d = jd_new(c->a);
        if (!d) return jx_nomem(c, n->pos);
        for (size_t i = 0; i < n->l1.n && !r; i++) {
            jv k, v;
            r = jx_eval(c, n->l1.v[i], s, &k);
            if (!r && k.t != JV_STR) r = jx_fail(c, n->l1.v[i]->pos, "object keys must be strings: got %s", jv_type_name(k));
            if (!r) r = jx_eval(c, n->l2.v[i], s, &v);
            if (!r && !jd_set_key(c->a, d, k, v)) r = jx_nomem(c, n->pos);
        }
        *out = (jv){.t = JV_DICT};
        out->u.d = d;
        break;
    }
    case N_MEMBER: r = member(c, n, s, out); break;
    case N_CALL: r = call_expr(c, n, s, out); break;
    case N_UNARY: {
        jv v;
        r = jx_eval(c, n->a, s, &v);
        if (r) break;
        if (n->s[0] == 'n') {
            *out = jv_bool(!jv_truthy(v));
        } else if (v.t == JV_INT || v.t == JV_BOOL) {
            int64_t i = v.t == JV_BOOL ? v.u.b : v.u.i;
            if (n->s[0] == '-' && i == INT64_MIN) r = jx_fail(c, n->pos, "integer overflow in -");
            else *out = jv_int(n->s[0] == '-' ? -i : i);
            out->taint = v.taint;
        } else if (v.t == JV_FLOAT) {
            *out = jv_float(n->s[0] == '-' ? -v.u.f : v.u.f);
            out->taint = v.taint;
        } else {
            r = jx_fail(c, n->pos, "unknown operator \"%c\" for %s", n->s[0], jv_type_name(v));
        }
        break;
    }
    case N_BINARY: r = binary(c, n, s, out); break;
    case N_FILTER: {
        jv v;
        r = jx_eval(c, n->a, s, &v);
        if (!r) r = jx_filter(c, v, n, s, out);
        break;
    }
    case N_TEST: {
        jv v;
        bool b;
        r = jx_eval(c, n->a, s, &v);
        if (!r) r = jx_test(c, n->s, n->n, v, v, false, n->pos, &b);
        if (!r) *out = jv_bool(n->flag ? !b : b);
        break;
    }
    case N_SELECT: {
        jv t;
        r = jx_eval(c, n->b, s, &t);
        if (r) break;
        if (!jv_truthy(t)) *out = (jv){.t = JV_UNDEF};
        else r = jx_eval(c, n->a, s, out);
        break;
    }
    case N_TERNARY: {
        jv t;
        r = jx_eval(c, n->a, s, &t);
        if (!r) r = jx_eval(c, jv_truthy(t) ? n->b : n->c, s, out);
        break;
    }
    default: r = jx_fail(c, n->pos, "this statement cannot be used as an expression");
    }
    c->depth--;
    return r;
}

/* ---- statements ---- */

static int exec_set(jctx *c, const jnode *n, jscope *s) {
    jv v;
    if (n->b) TRY(jx_eval(c, n->b, s, &v));
    else TRY(block_string(c, &n->l1, s, &v));
    const jnode *t = n->a;
    if (t->k == N_IDENT) return set_var(c, s, t->s, t->n, v, n->pos);
    if (t->k == N_TUPLE) {
        if (v.t != JV_LIST) return jx_fail(c, n->pos, "cannot unpack non-iterable type in set: %s", jv_type_name(v));
        if (v.u.l->n != t->l1.n)
            return jx_fail(c, n->pos, "too %s items to unpack in set", t->l1.n > v.u.l->n ? "few" : "many");
        for (size_t i = 0; i < t->l1.n; i++) {
            const jnode *e = t->l1.v[i];
            if (e->k != N_IDENT) return jx_fail(c, e->pos, "cannot unpack to a non-identifier in set");
            TRY(set_var(c, s, e->s, e->n, v.u.l->v[i], n->pos));
        }
        return J_OK;
    }
    if (t->k == N_MEMBER) {
        jv obj;
        TRY(jx_eval(c, t->a, s, &obj));
        if (obj.t != JV_NS) return jx_fail(c, t->pos, "cannot assign attribute on non-namespace object");
        if (t->flag || t->b->k != N_IDENT) return jx_fail(c, t->pos, "cannot assign to member with non-identifier property");
        return jd_set(c->a, obj.u.d, t->b->s, t->b->n, v) ? J_OK : jx_nomem(c, t->pos);
    }
    return jx_fail(c, n->pos, "invalid left-hand side in set");
}

static int bind_loopvar(jctx *c, const jnode *lv, jv item, jscope *s, uint32_t pos) {
    if (lv->k == N_IDENT) return set_var(c, s, lv->s, lv->n, item, pos);
    if (item.t != JV_LIST) return jx_fail(c, pos, "cannot unpack non-iterable type: %s", jv_type_name(item));
    if (item.u.l->n != lv->l1.n)
        return jx_fail(c, pos, "too %s items to unpack", lv->l1.n > item.u.l->n ? "few" : "many");
    for (size_t j = 0; j < lv->l1.n; j++) {
        const jnode *e = lv->l1.v[j];
        if (e->k != N_IDENT) return jx_fail(c, e->pos, "cannot unpack non-identifier type");
        TRY(set_var(c, s, e->s, e->n, item.u.l->v[j], pos));
    }
    return J_OK;
}

static int count_iteration(jctx *c, uint32_t pos) {
    if (++c->iterations > c->lim.max_iterations)
        return jx_fail(c, pos, "loops ran more than %zu iterations in total", c->lim.max_iterations);
    return J_OK;
}

static int exec_for(jctx *c, const jnode *n, jscope *env, jbuf *out) {
    jscope *scope = scope_new(c, env);
    if (!scope) return jx_nomem(c, n->pos);
    const jnode *iter = n->b, *test = NULL;
    if (iter->k == N_SELECT) {
        test = iter->b;
        iter = iter->a;
    }
    jv it;
    TRY(jx_eval(c, iter, scope, &it));
    jlist *src;
    if (it.t == JV_LIST) {
        src = it.u.l;
    } else if (it.t == JV_DICT) {
        src = jl_new(c->a);
        if (!src) return jx_nomem(c, n->pos);
        for (size_t i = 0; i < it.u.d->n; i++)
            if (!jl_push(c->a, src, jd_key(it.u.d, i))) return jx_nomem(c, n->pos);
    } else {
        return jx_fail(c, n->b->pos, "expected iterable or object type in for loop: got %s", jv_type_name(it));
    }
    jlist *items = src;
    if (test) {
        items = jl_new(c->a);
        if (!items) return jx_nomem(c, n->pos);
        for (size_t i = 0; i < src->n; i++) {
            TRY(count_iteration(c, n->pos));
            jscope *ls = scope_new(c, scope);
            if (!ls) return jx_nomem(c, n->pos);
            TRY(bind_loopvar(c, n->a, src->v[i], ls, n->pos));
            jv t;
            TRY(jx_eval(c, test, ls, &t));
            if (jv_truthy(t) && !jl_push(c->a, items, src->v[i])) return jx_nomem(c, n->pos);
        }
    }
    jdict *loop = jd_new(c->a);
    if (!loop) return jx_nomem(c, n->pos);
    jv loopv = {.t = JV_DICT};
    loopv.u.d = loop;
    bool none = true;
    size_t len = items->n;
    for (size_t i = 0; i < len; i++) {
        TRY(count_iteration(c, n->pos));
        jv undef = {.t = JV_UNDEF};
        if (!jd_set(c->a, loop, "index", 5, jv_int((int64_t)i + 1)) || !jd_set(c->a, loop, "index0", 6, jv_int((int64_t)i)) ||
            !jd_set(c->a, loop, "revindex", 8, jv_int((int64_t)(len - i))) ||
            !jd_set(c->a, loop, "revindex0", 9, jv_int((int64_t)(len - i - 1))) ||
            !jd_set(c->a, loop, "first", 5, jv_bool(i == 0)) || !jd_set(c->a, loop, "last", 4, jv_bool(i == len - 1)) ||
            !jd_set(c->a, loop, "length", 6, jv_int((int64_t)len)) ||
            !jd_set(c->a, loop, "previtem", 8, i > 0 ? items->v[i - 1] : undef) ||
            !jd_set(c->a, loop, "nextitem", 8, i + 1 < len ? items->v[i + 1] : undef))
            return jx_nomem(c, n->pos);
        TRY(set_var(c, scope, "loop", 4, loopv, n->pos));
        TRY(bind_loopvar(c, n->a, items->v[i], scope, n->pos));
        int r = exec_block(c, &n->l1, scope, out);
        if (r == J_ERR) return r;
        if (r == J_CONTINUE) continue;
        if (r == J_BREAK) break;
        none = false;
    }
    if (none) {
        int r = exec_block(c, &n->l2, scope, out);
        if (r == J_ERR) return r;
    }
    return J_OK;
}

static int exec_stmt(jctx *c, const jnode *n, jscope *s, jbuf *out) {
    switch (n->k) {
    case N_TEXT: return emit(c, out, jv_str(n->s, n->n), n->pos);
    case N_SET: return exec_set(c, n, s);
    case N_IF: {
        jv t;
        TRY(jx_eval(c, n->a, s, &t));
        return exec_block(c, jv_truthy(t) ? &n->l1 : &n->l2, s, out);
    }
    case N_FOR: return exec_for(c, n, s, out);
    case N_BREAK: return J_BREAK;
    case N_CONTINUE: return J_CONTINUE;
    case N_MACRO: {
        jfunc *f = ja_alloc(c->a, sizeof *f);
        if (!f) return jx_nomem(c, n->pos);
        f->k = F_MACRO;
        f->node = n;
        jv v = {.t = JV_FUNC};
        v.u.fn = f;
        return set_var(c, s, n->s, n->n, v, n->pos);
    }
    case N_CALLBLOCK: {
        jfunc *f = ja_alloc(c->a, sizeof *f);
        if (!f) return jx_nomem(c, n->pos);
        f->k = F_CALLER;
        f->node = n;
        f->env = s;
        jv caller = {.t = JV_FUNC};
        caller.u.fn = f;
        jlist *args;
        jdict *kwargs;
        TRY(jx_args(c, &n->a->l1, s, &args, &kwargs));
        jv fn;
        TRY(jx_eval(c, n->a->a, s, &fn));
        jscope *ns = scope_new(c, s);
        if (!ns) return jx_nomem(c, n->pos);
        TRY(set_var(c, ns, "caller", 6, caller, n->pos));
        jv res;
        TRY(jx_call(c, fn, args, kwargs, ns, n->pos, &res));
        return emit_value(c, out, res, n->pos);
    }
    case N_FILTERBLOCK: {
        jv body, res;
        TRY(block_string(c, &n->l1, s, &body));
        TRY(jx_filter(c, body, n->a, s, &res));
        return emit_value(c, out, res, n->pos);
    }
    default: {
        jv v;
        TRY(jx_eval(c, n, s, &v));
        return emit_value(c, out, v, n->pos);
    }
    }
}

static int exec_block(jctx *c, const jnodes *body, jscope *s, jbuf *out) {
    if (++c->depth > c->lim.max_depth)
        return jx_fail(c, body->n ? body->v[0]->pos : 0, "blocks nested deeper than %zu levels", c->lim.max_depth);
    for (size_t i = 0; i < body->n; i++) {
        int r = exec_stmt(c, body->v[i], s, out);
        if (r) {
            if (r != J_ERR) c->depth--;
            return r;
        }
    }
    c->depth--;
    return J_OK;
}

hearth_status jinja_render(const jsource *js, const jnodes *program, jdict *globals, const jlimits *lim, jbuf *out) {
    jctx c = {.js = js, .a = js->arena, .lim = *lim};
    jscope *root = scope_new(&c, NULL);
    if (!root) return hearth_fail(js->err, HEARTH_E_NOMEM, "template: out of memory");
    root->vars = globals;
    int r = exec_block(&c, program, root, out);
    if (r == J_ERR) return js->err ? js->err->code : HEARTH_E_ARG;
    return HEARTH_OK;
}
