/* Built-ins of the Jinja interpreter: filters, tests, string and dict
 * methods, and the global functions (namespace, range, raise_exception,
 * strftime_now), as @huggingface/jinja defines them. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja/jinja_eval.h"

#define TRY(x)                                                                                                \
    do {                                                                                                      \
        int r_ = (x);                                                                                         \
        if (r_) return r_;                                                                                    \
    } while (0)

static bool name_is(const char *s, size_t n, const char *w) { return n == strlen(w) && memcmp(s, w, n) == 0; }
bool jx_str_eq(jv a, const char *s) { return a.t == JV_STR && name_is(a.u.s.p, a.u.s.n, s); }

static jv mk_list(jlist *l) {
    jv v = {.t = JV_LIST};
    v.u.l = l;
    return v;
}
static jv mk_float(double f) {
    jv v = {.t = JV_FLOAT};
    v.u.f = f;
    return v;
}

int jx_js_str(jctx *c, jv v, uint32_t pos, jv *out) {
    char num[64];
    switch (v.t) {
    case JV_STR: *out = v; return J_OK;
    case JV_FLOAT: jv_js_number(v.u.f, num, sizeof num); break;
    case JV_INT: snprintf(num, sizeof num, "%lld", (long long)v.u.i); break;
    case JV_BOOL: snprintf(num, sizeof num, "%s", v.u.b ? "true" : "false"); break;
    case JV_DICT:
    case JV_NS: snprintf(num, sizeof num, "[object Map]"); break;
    default: {
        jbuf b = {0};
        if (!jv_append_str(c->a, &b, v)) return jx_nomem(c, pos);
        *out = jb_str(&b);
        return J_OK;
    }
    }
    char *p = ja_strdup(c->a, num, strlen(num));
    if (!p) return jx_nomem(c, pos);
    *out = jv_str(p, strlen(num));
    out->taint = v.t == JV_DICT || v.t == JV_NS ? 0 : v.taint; /* a number or boolean from data is data */
    return J_OK;
}

/* JavaScript's == on the raw values */
bool jx_loose_eq(jv a, jv b) {
    bool an = a.t == JV_UNDEF || a.t == JV_NONE, bn = b.t == JV_UNDEF || b.t == JV_NONE;
    if (an || bn) return an && bn;
    if (a.t == JV_STR && b.t == JV_STR) return a.u.s.n == b.u.s.n && memcmp(a.u.s.p, b.u.s.p, a.u.s.n) == 0;
    bool anum = a.t == JV_INT || a.t == JV_FLOAT || a.t == JV_BOOL, bnum = b.t == JV_INT || b.t == JV_FLOAT || b.t == JV_BOOL;
    if (a.t == JV_INT && b.t == JV_INT) return a.u.i == b.u.i;
    double x, y;
    if (anum && bnum) {
        x = a.t == JV_INT ? (double)a.u.i : a.t == JV_FLOAT ? a.u.f : a.u.b;
        y = b.t == JV_INT ? (double)b.u.i : b.t == JV_FLOAT ? b.u.f : b.u.b;
        return x == y;
    }
    if ((anum && b.t == JV_STR) || (a.t == JV_STR && bnum)) {
        jv s = a.t == JV_STR ? a : b, n = a.t == JV_STR ? b : a;
        char buf[64];
        size_t k = s.u.s.n < 63 ? s.u.s.n : 63;
        memcpy(buf, s.u.s.p, k);
        buf[k] = 0;
        char *end;
        double d = strtod(buf, &end);
        while (*end == ' ' || *end == '\t' || *end == '\n') end++;
        if (*end || k != s.u.s.n) return false;
        if (k == 0) d = 0;
        y = n.t == JV_INT ? (double)n.u.i : n.t == JV_FLOAT ? n.u.f : n.u.b;
        return d == y;
    }
    if (a.t != b.t) return false;
    switch (a.t) {
    case JV_LIST: return a.u.l == b.u.l;
    case JV_DICT:
    case JV_NS: return a.u.d == b.u.d;
    case JV_FUNC: return a.u.fn == b.u.fn;
    default: return false;
    }
}

/* JavaScript's === on the raw values */
bool jx_strict_eq(jv a, jv b) {
    bool anum = a.t == JV_INT || a.t == JV_FLOAT, bnum = b.t == JV_INT || b.t == JV_FLOAT;
    if (anum && bnum) return jx_loose_eq(a, b);
    if (a.t != b.t) return false;
    if (a.t == JV_BOOL) return a.u.b == b.u.b;
    return jx_loose_eq(a, b);
}

/* ---- string helpers ---- */

/* length in bytes of JS whitespace (incl. Unicode spaces) at p, 0 if none */
static size_t ws_at(const char *p, size_t n) {
    unsigned char c = (unsigned char)p[0];
    if (c == ' ' || (c >= 9 && c <= 13)) return 1;
    if (n >= 2 && c == 0xc2 && (unsigned char)p[1] == 0xa0) return 2;
    if (n >= 3) {
        unsigned cp = (c & 15u) << 12 | ((unsigned char)p[1] & 63u) << 6 | ((unsigned char)p[2] & 63u);
        if ((c & 0xf0) == 0xe0 &&
            (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
             cp == 0x205f || cp == 0x3000 || cp == 0xfeff))
            return 3;
    }
    return 0;
}
static size_t ws_before(const char *p, size_t n) {
    if (n >= 1 && ws_at(p + n - 1, 1) == 1) return 1;
    if (n >= 2 && ws_at(p + n - 2, 2) == 2) return 2;
    if (n >= 3 && ws_at(p + n - 3, 3) == 3) return 3;
    return 0;
}
static jv trim(jv s, bool left, bool right) {
    const char *p = s.u.s.p;
    size_t n = s.u.s.n, k;
    if (left)
        while (n && (k = ws_at(p, n))) p += k, n -= k;
    if (right)
        while (n && (k = ws_before(p, n))) n -= k;
    return jv_sub(s, (size_t)(p - s.u.s.p), n);
}

/* JavaScript's toUpperCase/toLowerCase for the code points below U+0800
 * (Latin, Greek, Cyrillic); others are kept. Writes 1-2 code points. */
static int case_map(uint32_t cp, bool up, uint32_t *o) {
    o[1] = 0;
    bool in_a = (cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177) || (cp >= 0x460 && cp <= 0x481) ||
                (cp >= 0x48a && cp <= 0x4bf);
    bool in_b = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e);
    if (up) {
        if (cp >= 'a' && cp <= 'z') return o[0] = cp - 32, 1;
        if (cp == 0xb5) return o[0] = 0x39c, 1;
        if (cp == 0xdf) return o[0] = 'S', o[1] = 'S', 2;
        if (cp >= 0xe0 && cp <= 0xfe && cp != 0xf7) return o[0] = cp - 0x20, 1;
        if (cp == 0xff) return o[0] = 0x178, 1;
        if (cp == 0x131) return o[0] = 'I', 1;
        if (cp == 0x17f) return o[0] = 'S', 1;
        if ((in_a && (cp & 1)) || (in_b && !(cp & 1))) return o[0] = cp - 1, 1;
        if ((cp >= 0x3b1 && cp <= 0x3c1) || (cp >= 0x3c3 && cp <= 0x3cb)) return o[0] = cp - 0x20, 1;
        if (cp == 0x3c2) return o[0] = 0x3a3, 1;
        if (cp == 0x3ac) return o[0] = 0x386, 1;
        if (cp >= 0x3ad && cp <= 0x3af) return o[0] = cp - 0x25, 1;
        if (cp == 0x3cc) return o[0] = 0x38c, 1;
        if (cp >= 0x3cd && cp <= 0x3ce) return o[0] = cp - 0x3f, 1;
        if (cp >= 0x430 && cp <= 0x44f) return o[0] = cp - 0x20, 1;
        if (cp >= 0x450 && cp <= 0x45f) return o[0] = cp - 0x50, 1;
    } else {
        if (cp >= 'A' && cp <= 'Z') return o[0] = cp + 32, 1;
        if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7) return o[0] = cp + 0x20, 1;
        if (cp == 0x178) return o[0] = 0xff, 1;
        if (cp == 0x130) return o[0] = 'i', o[1] = 0x307, 2;
        if ((in_a && !(cp & 1)) || (in_b && (cp & 1))) return o[0] = cp + 1, 1;
        if ((cp >= 0x391 && cp <= 0x3a1) || (cp >= 0x3a3 && cp <= 0x3ab)) return o[0] = cp + 0x20, 1;
        if (cp == 0x386) return o[0] = 0x3ac, 1;
        if (cp >= 0x388 && cp <= 0x38a) return o[0] = cp + 0x25, 1;
        if (cp == 0x38c) return o[0] = 0x3cc, 1;
        if (cp >= 0x38e && cp <= 0x38f) return o[0] = cp + 0x3f, 1;
        if (cp >= 0x410 && cp <= 0x42f) return o[0] = cp + 0x20, 1;
        if (cp >= 0x400 && cp <= 0x40f) return o[0] = cp + 0x50, 1;
    }
    return o[0] = cp, 1;
}

/* a mapped character has the provenance of the character it replaces */
static bool put_cp(jarena *a, jbuf *b, uint32_t cp, uint8_t taint) {
    char u[2];
    if (cp < 0x80) {
        u[0] = (char)cp;
        return jb_put_t(a, b, u, 1, taint);
    }
    u[0] = (char)(0xc0 | cp >> 6);
    u[1] = (char)(0x80 | (cp & 63));
    return jb_put_t(a, b, u, 2, taint);
}

/* mode 0 upper, 1 lower, 2 title (ASCII word starts, as /\b\w/g), 3 capitalize (the first character) */
static int map_chars(jctx *c, jv s, int mode, uint32_t pos, jv *out) {
    jbuf b = {0};
    const unsigned char *p = (const unsigned char *)s.u.s.p;
    size_t n = s.u.s.n;
    for (size_t i = 0; i < n;) {
        uint32_t cp = p[i];
        size_t len = 1;
        if ((p[i] & 0xe0) == 0xc0 && i + 1 < n && (p[i + 1] & 0xc0) == 0x80) {
            cp = (uint32_t)(p[i] & 31) << 6 | (p[i + 1] & 63);
            len = 2;
        }
        bool map = false, up = mode != 1;
        if (mode <= 1) {
            map = true;
        } else if (mode == 2) {
            bool word = cp < 0x80 && (isalnum((int)cp) || cp == '_');
            bool prev = i > 0 && p[i - 1] < 0x80 && (isalnum(p[i - 1]) || p[i - 1] == '_');
            map = word && !prev;
        } else {
            map = i == 0;
        }
        uint32_t o[2];
        int k = map && (len == 2 || cp < 0x80) ? case_map(cp, up, o) : 0;
        if (k) {
            uint8_t t = jv_taint_at(s, i) | (len == 2 ? jv_taint_at(s, i + 1) : 0);
            for (int j = 0; j < k; j++)
                if (!put_cp(c->a, &b, o[j], t)) return jx_nomem(c, pos);
        } else if (!jb_put_v(c->a, &b, s, i, len)) {
            return jx_nomem(c, pos);
        }
        i += len;
    }
    *out = jb_str(&b);
    return J_OK;
}

static int64_t utf16_len(jv s) {
    int64_t n = 0;
    for (size_t i = 0; i < s.u.s.n; i++) {
        unsigned char ch = (unsigned char)s.u.s.p[i];
        if ((ch & 0xc0) != 0x80) n += ch >= 0xf0 ? 2 : 1;
    }
    return n;
}

static bool starts(jv s, jv p) { return p.u.s.n <= s.u.s.n && memcmp(s.u.s.p, p.u.s.p, p.u.s.n) == 0; }
static bool ends(jv s, jv p) {
    return p.u.s.n <= s.u.s.n && memcmp(s.u.s.p + s.u.s.n - p.u.s.n, p.u.s.p, p.u.s.n) == 0;
}

static int push(jctx *c, jlist *l, jv v, uint32_t pos) { return jl_push(c->a, l, v) ? J_OK : jx_nomem(c, pos); }

static int str_replace(jctx *c, jv s, jv from, jv to, int64_t count, uint32_t pos, jv *out) {
    jbuf b = {0};
    int64_t left = count < 0 ? INT64_MAX : count;
    size_t i = 0;
    if (from.u.s.n == 0) {
        /* JS "(?=)" with the u flag: before every code point and at the end */
        while (i <= s.u.s.n) {
            if (left > 0) {
                if (!jb_put_v(c->a, &b, to, 0, to.u.s.n)) return jx_nomem(c, pos);
                left--;
            }
            if (i == s.u.s.n) break;
            size_t l = 1;
            while (i + l < s.u.s.n && ((unsigned char)s.u.s.p[i + l] & 0xc0) == 0x80) l++;
            if (!jb_put_v(c->a, &b, s, i, l)) return jx_nomem(c, pos);
            i += l;
        }
    } else {
        while (i < s.u.s.n) {
            if (left > 0 && i + from.u.s.n <= s.u.s.n && memcmp(s.u.s.p + i, from.u.s.p, from.u.s.n) == 0) {
                if (!jb_put_v(c->a, &b, to, 0, to.u.s.n)) return jx_nomem(c, pos);
                i += from.u.s.n;
                left--;
            } else {
                if (!jb_put_v(c->a, &b, s, i, 1)) return jx_nomem(c, pos);
                i++;
            }
        }
    }
    *out = jb_str(&b);
    return J_OK;
}

static int str_split(jctx *c, jv s, jv sep, int64_t maxsplit, uint32_t pos, jv *out) {
    jlist *l = jl_new(c->a);
    if (!l) return jx_nomem(c, pos);
    if (sep.t != JV_STR) {
        jv t = trim(s, true, false);
        size_t i = 0, k;
        while (i < t.u.s.n) {
            size_t st = i;
            while (i < t.u.s.n && !ws_at(t.u.s.p + i, t.u.s.n - i)) i++;
            if (maxsplit != -1 && (int64_t)l->n >= maxsplit) {
                TRY(push(c, l, jv_sub(t, st, t.u.s.n - st), pos));
                break;
            }
            TRY(push(c, l, jv_sub(t, st, i - st), pos));
            while (i < t.u.s.n && (k = ws_at(t.u.s.p + i, t.u.s.n - i))) i += k;
        }
    } else {
        if (sep.u.s.n == 0) return jx_fail(c, pos, "empty separator");
        size_t st = 0, i = 0;
        while (i + sep.u.s.n <= s.u.s.n) {
            if (memcmp(s.u.s.p + i, sep.u.s.p, sep.u.s.n) == 0) {
                if (maxsplit != -1 && (int64_t)l->n >= maxsplit) break;
                TRY(push(c, l, jv_sub(s, st, i - st), pos));
                i += sep.u.s.n;
                st = i;
            } else {
                i++;
            }
        }
        TRY(push(c, l, jv_sub(s, st, s.u.s.n - st), pos));
    }
    *out = mk_list(l);
    return J_OK;
}

/* ---- attributes and methods ---- */

static const char *const STR_METHODS[] = {"upper", "lower", "strip", "title", "capitalize", "rstrip", "lstrip",
                                          "startswith", "endswith", "split", "replace", NULL};
static const char *const DICT_METHODS[] = {"get", "items", "keys", "values", "dictsort", NULL};

static bool in_list(const char *const *l, const char *s, size_t n) {
    for (; *l; l++)
        if (name_is(s, n, *l)) return true;
    return false;
}

int jx_builtin_attr(jctx *c, jv obj, const char *name, size_t n, uint32_t pos, jv *out) {
    *out = (jv){.t = JV_UNDEF};
    bool method = false;
    if (obj.t == JV_STR) {
        if (name_is(name, n, "length")) {
            *out = jv_int(utf16_len(obj));
            return J_OK;
        }
        method = in_list(STR_METHODS, name, n);
    } else if (obj.t == JV_LIST) {
        if (name_is(name, n, "length")) *out = jv_int((int64_t)obj.u.l->n);
        return J_OK;
    } else if (obj.t == JV_DICT) {
        method = in_list(DICT_METHODS, name, n);
    }
    if (!method) return J_OK;
    jfunc *f = ja_alloc(c->a, sizeof *f);
    if (!f) return jx_nomem(c, pos);
    f->k = F_METHOD;
    f->self = obj;
    f->name = name;
    f->n = n;
    out->t = JV_FUNC;
    out->u.fn = f;
    return J_OK;
}

static jv arg_or(jlist *args, size_t i, jdict *kwargs, const char *kw, jv dflt) {
    if (i < args->n) return args->v[i];
    jv *v = kw ? jd_get(kwargs, kw, strlen(kw)) : NULL;
    return v ? *v : dflt;
}

static int dict_items(jctx *c, jdict *d, int what, uint32_t pos, jv *out) {
    jlist *l = jl_new(c->a);
    if (!l) return jx_nomem(c, pos);
    for (size_t i = 0; i < d->n; i++) {
        jv k = jd_key(d, i);
        if (what == 1) {
            TRY(push(c, l, k, pos));
        } else if (what == 2) {
            TRY(push(c, l, d->v[i], pos));
        } else {
            jlist *pair = jl_new(c->a);
            if (!pair) return jx_nomem(c, pos);
            TRY(push(c, pair, k, pos));
            TRY(push(c, pair, d->v[i], pos));
            TRY(push(c, l, mk_list(pair), pos));
        }
    }
    *out = mk_list(l);
    return J_OK;
}

static int dictsort(jctx *c, jdict *d, jlist *args, jdict *kwargs, uint32_t pos, jv *out);

int jx_call_method(jctx *c, const jfunc *f, jlist *args, jdict *kwargs, uint32_t pos, jv *out) {
    jv s = f->self;
    const char *m = f->name;
    size_t mn = f->n;
    jv none = jv_none();
    if (s.t == JV_DICT) {
        if (name_is(m, mn, "get")) {
            jv k = arg_or(args, 0, kwargs, NULL, none);
            if (k.t != JV_STR) return jx_fail(c, pos, "object key must be a string: got %s", jv_type_name(k));
            jv *v = jd_get(s.u.d, k.u.s.p, k.u.s.n);
            *out = v ? *v : arg_or(args, 1, kwargs, NULL, none);
            return J_OK;
        }
        if (name_is(m, mn, "dictsort")) return dictsort(c, s.u.d, args, kwargs, pos, out);
        return dict_items(c, s.u.d, name_is(m, mn, "keys") ? 1 : name_is(m, mn, "values") ? 2 : 0, pos, out);
    }
    if (name_is(m, mn, "upper")) return map_chars(c, s, 0, pos, out);
    if (name_is(m, mn, "lower")) return map_chars(c, s, 1, pos, out);
    if (name_is(m, mn, "title")) return map_chars(c, s, 2, pos, out);
    if (name_is(m, mn, "capitalize")) return map_chars(c, s, 3, pos, out);
    if (name_is(m, mn, "strip") || name_is(m, mn, "lstrip") || name_is(m, mn, "rstrip")) {
        /* @huggingface/jinja ignores a chars argument: JavaScript's trim */
        *out = trim(s, m[0] != 'r', m[0] != 'l');
        return J_OK;
    }
    if (name_is(m, mn, "startswith") || name_is(m, mn, "endswith")) {
        bool st = m[0] == 's';
        if (!args->n) return jx_fail(c, pos, "%.*s() requires at least one argument", (int)mn, m);
        jv p = args->v[0];
        if (p.t == JV_STR) {
            *out = jv_bool(st ? starts(s, p) : ends(s, p));
            return J_OK;
        }
        if (p.t == JV_LIST) {
            bool any = false;
            for (size_t i = 0; i < p.u.l->n; i++) {
                jv x = p.u.l->v[i];
                if (x.t != JV_STR) return jx_fail(c, pos, "%.*s() tuple elements must be strings", (int)mn, m);
                if (st ? starts(s, x) : ends(s, x)) any = true;
            }
            *out = jv_bool(any);
            return J_OK;
        }
        return jx_fail(c, pos, "%.*s() argument must be a string or tuple of strings", (int)mn, m);
    }
    if (name_is(m, mn, "split")) {
        jv sep = arg_or(args, 0, kwargs, "sep", none), ms = arg_or(args, 1, kwargs, "maxsplit", jv_int(-1));
        if (sep.t != JV_STR && sep.t != JV_NONE) return jx_fail(c, pos, "sep argument must be a string or null");
        if (ms.t != JV_INT) return jx_fail(c, pos, "maxsplit argument must be a number");
        return str_split(c, s, sep, ms.u.i, pos, out);
    }
    if (name_is(m, mn, "replace")) {
        if (args->n < 2) return jx_fail(c, pos, "replace() requires at least two arguments");
        jv a = args->v[0], b = args->v[1], cnt = arg_or(args, 2, kwargs, "count", none);
        if (a.t != JV_STR || b.t != JV_STR) return jx_fail(c, pos, "replace() arguments must be strings");
        if (cnt.t != JV_INT && cnt.t != JV_NONE) return jx_fail(c, pos, "replace() count argument must be a number or null");
        if (cnt.t == JV_INT && cnt.u.i == 0) {
            *out = s;
            return J_OK;
        }
        return str_replace(c, s, a, b, cnt.t == JV_INT ? cnt.u.i : -1, pos, out);
    }
    return jx_fail(c, pos, "unknown method %.*s", (int)mn, m);
}

/* ---- global functions ---- */

static int strftime_now(jctx *c, jv fmt, uint32_t pos, jv *out) {
    static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
    if (fmt.t != JV_STR) return jx_fail(c, pos, "strftime_now expects a format string");
    int mon = c->lim.month >= 1 && c->lim.month <= 12 ? c->lim.month - 1 : 0;
    jbuf b = {0};
    for (size_t i = 0; i < fmt.u.s.n; i++) {
        char tmp[32];
        const char *piece = NULL;
        size_t pn = 0;
        char f = i + 1 < fmt.u.s.n && fmt.u.s.p[i] == '%' ? fmt.u.s.p[i + 1] : 0;
        switch (f) {
        case 'Y': snprintf(tmp, sizeof tmp, "%d", c->lim.year); piece = tmp; break;
        case 'm': snprintf(tmp, sizeof tmp, "%02d", mon + 1); piece = tmp; break;
        case 'd': snprintf(tmp, sizeof tmp, "%02d", c->lim.day); piece = tmp; break;
        case 'b': piece = months[mon], pn = 3; break;
        case 'B': piece = months[mon]; break;
        case 'H':
        case 'M': piece = "00"; break;
        case '%': piece = "%"; break;
        }
        if (piece) {
            if (!jb_put(c->a, &b, piece, pn ? pn : strlen(piece))) return jx_nomem(c, pos);
            i++;
        } else if (!jb_put_v(c->a, &b, fmt, i, 1)) {
            return jx_nomem(c, pos);
        }
    }
    *out = jb_str(&b);
    return J_OK;
}

int jx_call_global(jctx *c, const jfunc *f, jlist *args, jdict *kwargs, uint32_t pos, jv *out) {
    switch (f->k) {
    case F_RAISE: {
        jv msg = args->n ? args->v[0] : (jv){.t = JV_UNDEF};
        jv s;
        TRY(jx_js_str(c, msg, pos, &s));
        return jx_fail(c, pos, "raise_exception: %.*s", (int)(s.u.s.n > 300 ? 300 : s.u.s.n), s.u.s.p);
    }
    case F_STRFTIME: return strftime_now(c, args->n ? args->v[0] : jv_none(), pos, out);
    case F_RANGE: {
        int64_t v[3] = {0, 0, 1};
        if (args->n < 1 || args->n > 3) return jx_fail(c, pos, "range expects 1 to 3 arguments");
        for (size_t i = 0; i < args->n; i++) {
            if (args->v[i].t != JV_INT) return jx_fail(c, pos, "range expects integers");
            v[args->n == 1 ? 1 : i] = args->v[i].u.i;
        }
        if (v[2] == 0) return jx_fail(c, pos, "range() step must not be zero");
        jlist *l = jl_new(c->a);
        if (!l) return jx_nomem(c, pos);
        for (int64_t i = v[0]; v[2] > 0 ? i < v[1] : i > v[1]; i += v[2]) {
            if (++c->iterations > c->lim.max_iterations)
                return jx_fail(c, pos, "range() larger than the iteration limit (%zu)", c->lim.max_iterations);
            TRY(push(c, l, jv_int(i), pos));
            if ((v[2] > 0 && i > INT64_MAX - v[2]) || (v[2] < 0 && i < INT64_MIN - v[2])) break;
        }
        *out = mk_list(l);
        return J_OK;
    }
    case F_NAMESPACE: {
        if (args->n > 1) return jx_fail(c, pos, "namespace expected at most 1 argument, got %zu", args->n);
        jdict *d = jd_new(c->a);
        if (!d) return jx_nomem(c, pos);
        if (args->n == 1) {
            jv src = args->v[0];
            if (src.t == JV_DICT) {
                for (size_t i = 0; i < src.u.d->n; i++)
                    if (!jd_set_key(c->a, d, jd_key(src.u.d, i), src.u.d->v[i])) return jx_nomem(c, pos);
            } else if (src.t == JV_LIST) {
                for (size_t i = 0; i < src.u.l->n; i++) {
                    jv p = src.u.l->v[i];
                    if (p.t != JV_LIST || p.u.l->n != 2 || p.u.l->v[0].t != JV_STR)
                        return jx_fail(c, pos, "namespace expected an object or an iterable of [key, value] pairs");
                    if (!jd_set_key(c->a, d, p.u.l->v[0], p.u.l->v[1])) return jx_nomem(c, pos);
                }
            } else {
                return jx_fail(c, pos, "'%s' object is not iterable", jv_type_name(src));
            }
        }
        for (size_t i = 0; i < kwargs->n; i++)
            if (!jd_set(c->a, d, kwargs->kp[i], kwargs->kn[i], kwargs->v[i])) return jx_nomem(c, pos);
        *out = (jv){.t = JV_NS};
        out->u.d = d;
        return J_OK;
    }
    default: return jx_fail(c, pos, "not a function");
    }
}

/* ---- tests ---- */

int jx_test(jctx *c, const char *name, size_t n, jv v, jv arg, bool has_arg, uint32_t pos, bool *out) {
#define T(w) name_is(name, n, w)
    if (T("boolean")) *out = v.t == JV_BOOL;
    else if (T("callable")) *out = v.t == JV_FUNC;
    else if (T("odd") || T("even")) {
        if (v.t != JV_INT) return jx_fail(c, pos, "cannot %.*s on %s", (int)n, name, jv_type_name(v));
        *out = (v.u.i % 2 != 0) == T("odd");
    } else if (T("false")) *out = v.t == JV_BOOL && !v.u.b;
    else if (T("true")) *out = v.t == JV_BOOL && v.u.b;
    else if (T("none")) *out = v.t == JV_NONE;
    else if (T("string")) *out = v.t == JV_STR;
    else if (T("number")) *out = v.t == JV_INT || v.t == JV_FLOAT;
    else if (T("integer")) *out = v.t == JV_INT;
    else if (T("iterable")) *out = v.t == JV_LIST || v.t == JV_STR;
    else if (T("mapping")) *out = v.t == JV_DICT;
    else if (T("sequence")) *out = v.t == JV_LIST || v.t == JV_DICT || v.t == JV_STR;
    else if (T("lower") || T("upper")) {
        jv m;
        *out = false;
        if (v.t == JV_STR) {
            TRY(map_chars(c, v, T("lower") ? 1 : 0, pos, &m));
            *out = m.u.s.n == v.u.s.n && memcmp(m.u.s.p, v.u.s.p, v.u.s.n) == 0;
        }
    } else if (T("defined")) *out = v.t != JV_UNDEF;
    else if (T("undefined")) *out = v.t == JV_UNDEF;
    else if (T("equalto") || T("eq")) *out = has_arg && jx_strict_eq(v, arg);
    else return jx_fail(c, pos, "unknown test: %.*s", (int)n, name);
#undef T
    return J_OK;
}

/* ---- filters ---- */

static int to_json(jctx *c, jv v, jdict *kwargs, uint32_t pos, jv *out) {
    jjson_opts o = {.indent = -1, .undef_as_null = true};
    if (kwargs) {
        jv *ind = jd_get(kwargs, "indent", 6), *ea = jd_get(kwargs, "ensure_ascii", 12),
           *sk = jd_get(kwargs, "sort_keys", 9), *sep = jd_get(kwargs, "separators", 10);
        if (ind && ind->t != JV_INT && ind->t != JV_NONE) return jx_fail(c, pos, "if provided, indent must be a number");
        if (ind && ind->t == JV_INT) o.indent = ind->u.i > 64 ? 64 : (int)ind->u.i;
        if (ea && ea->t != JV_BOOL) return jx_fail(c, pos, "if provided, ensure_ascii must be a boolean");
        if (ea) o.ensure_ascii = ea->u.b;
        if (sk && sk->t != JV_BOOL) return jx_fail(c, pos, "if provided, sort_keys must be a boolean");
        if (sk) o.sort_keys = sk->u.b;
        if (sep && sep->t == JV_LIST) {
            if (sep->u.l->n != 2 || sep->u.l->v[0].t != JV_STR || sep->u.l->v[1].t != JV_STR)
                return jx_fail(c, pos, "separators must be a tuple of two strings");
            o.item_sep = &sep->u.l->v[0];
            o.key_sep = &sep->u.l->v[1];
        } else if (sep && sep->t != JV_NONE) {
            return jx_fail(c, pos, "separators must be a tuple or null");
        }
    }
    const char *bad = jv_unjsonable(v, 0);
    if (bad) return jx_fail(c, pos, "cannot convert to JSON: %s", bad);
    jbuf b = {0};
    if (!jv_append_json(c->a, &b, v, &o, 0)) return jx_nomem(c, pos);
    *out = jb_str(&b);
    return J_OK;
}

/* an item of Array.prototype.join: null and undefined are empty */
static int join(jctx *c, jv v, jv sep, uint32_t pos, jv *out) {
    jbuf b = {0};
    if (v.t == JV_STR) {
        for (size_t i = 0; i < v.u.s.n; i++) {
            size_t l = 1;
            while (i + l < v.u.s.n && ((unsigned char)v.u.s.p[i + l] & 0xc0) == 0x80) l++;
            if ((i && !jb_put_v(c->a, &b, sep, 0, sep.u.s.n)) || !jb_put_v(c->a, &b, v, i, l))
                return jx_nomem(c, pos);
            i += l - 1;
        }
    } else {
        for (size_t i = 0; i < v.u.l->n; i++) {
            jv x = v.u.l->v[i], s = jv_str("", 0);
            if (x.t != JV_UNDEF && x.t != JV_NONE) TRY(jx_js_str(c, x, pos, &s));
            if ((i && !jb_put_v(c->a, &b, sep, 0, sep.u.s.n)) || !jb_put_v(c->a, &b, s, 0, s.u.s.n))
                return jx_nomem(c, pos);
        }
    }
    *out = jb_str(&b);
    return J_OK;
}

static int64_t parse_int(jv s, bool *ok) {
    jv t = trim(s, true, false);
    size_t i = 0;
    bool neg = false;
    if (i < t.u.s.n && (t.u.s.p[i] == '-' || t.u.s.p[i] == '+')) neg = t.u.s.p[i++] == '-';
    int64_t v = 0;
    size_t st = i;
    while (i < t.u.s.n && t.u.s.p[i] >= '0' && t.u.s.p[i] <= '9' && v < INT64_MAX / 10 - 10)
        v = v * 10 + (t.u.s.p[i++] - '0');
    *ok = i > st;
    return neg ? -v : v;
}

static int attr_path(jctx *c, jv item, jv attr, jv *out) {
    const char *p = attr.u.s.p, *end = p + attr.u.s.n;
    jv v = item;
    while (1) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = (size_t)((dot ? dot : end) - p);
        if (v.t == JV_DICT || v.t == JV_NS) {
            jv *x = jd_get(v.u.d, p, n);
            v = x ? *x : (jv){.t = JV_UNDEF};
        } else if (v.t == JV_LIST) {
            jv idx = jv_str(p, n);
            bool ok;
            int64_t i = parse_int(idx, &ok);
            v = ok && i >= 0 && i < (int64_t)v.u.l->n ? v.u.l->v[i] : (jv){.t = JV_UNDEF};
        } else {
            v = (jv){.t = JV_UNDEF};
        }
        if (!dot) break;
        p = dot + 1;
    }
    *out = v;
    return J_OK;
}

static int indent(jctx *c, jv v, jv w, bool first, bool blank, uint32_t pos, jv *out) {
    if (w.t != JV_INT || w.u.i < 0 || w.u.i > 256) return jx_fail(c, pos, "width must be an integer (0-256)");
    jbuf b = {0};
    size_t line = 0, st = 0;
    for (size_t i = 0; i <= v.u.s.n; i++) {
        if (i < v.u.s.n && v.u.s.p[i] != '\n') continue;
        bool empty = i == st;
        if (line && !jb_put_v(c->a, &b, v, st - 1, 1)) return jx_nomem(c, pos); /* the string's own newline */
        if (!((!first && line == 0) || (!blank && empty)))
            for (int64_t k = 0; k < w.u.i; k++)
                if (!jb_put(c->a, &b, " ", 1)) return jx_nomem(c, pos);
        if (!jb_put_v(c->a, &b, v, st, i - st)) return jx_nomem(c, pos);
        st = i + 1;
        line++;
    }
    *out = jb_str(&b);
    return J_OK;
}

/* compareRuntimeValues: numbers (and booleans) by value, strings (case-
 * insensitively unless case_sensitive), none/undefined only with their kind */
static int compare(jctx *c, jv a, jv b, bool case_sensitive, uint32_t pos, int *res) {
    bool an = a.t == JV_INT || a.t == JV_FLOAT || a.t == JV_BOOL, bn = b.t == JV_INT || b.t == JV_FLOAT || b.t == JV_BOOL;
    if ((a.t == JV_NONE && b.t == JV_NONE) || (a.t == JV_UNDEF && b.t == JV_UNDEF)) return *res = 0, J_OK;
    if (an && bn) {
        double x = a.t == JV_INT ? (double)a.u.i : a.t == JV_FLOAT ? a.u.f : a.u.b;
        double y = b.t == JV_INT ? (double)b.u.i : b.t == JV_FLOAT ? b.u.f : b.u.b;
        return *res = (x > y) - (x < y), J_OK;
    }
    if (a.t == JV_STR && b.t == JV_STR) {
        size_t n = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
        for (size_t i = 0; i < n; i++) {
            int x = (unsigned char)a.u.s.p[i], y = (unsigned char)b.u.s.p[i];
            if (!case_sensitive) {
                if (x >= 'A' && x <= 'Z') x += 32;
                if (y >= 'A' && y <= 'Z') y += 32;
            }
            if (x != y) return *res = x < y ? -1 : 1, J_OK;
        }
        return *res = (a.u.s.n > b.u.s.n) - (a.u.s.n < b.u.s.n), J_OK;
    }
    return jx_fail(c, pos, "cannot compare %s with %s", jv_type_name(a), jv_type_name(b));
}

static int sort_list(jctx *c, jlist *l, jlist *args, jdict *kwargs, uint32_t pos, jv *out) {
    jv reverse = arg_or(args, 0, kwargs, "reverse", jv_bool(false)),
       cs = arg_or(args, 1, kwargs, "case_sensitive", jv_bool(false)), attr = arg_or(args, 2, kwargs, "attribute", jv_none());
    if (reverse.t != JV_BOOL || cs.t != JV_BOOL) return jx_fail(c, pos, "reverse and case_sensitive must be booleans");
    if (attr.t != JV_STR && attr.t != JV_NONE) return jx_fail(c, pos, "attribute must be a string");
    jlist *nl = jl_new(c->a);
    jv *keys = ja_alloc(c->a, (l->n + 1) * sizeof *keys);
    if (!nl || !keys) return jx_nomem(c, pos);
    /* insertion sort: stable like Array.prototype.sort; comparisons count as iterations */
    for (size_t i = 0; i < l->n; i++) {
        jv key = l->v[i];
        if (attr.t == JV_STR) TRY(attr_path(c, l->v[i], attr, &key));
        TRY(push(c, nl, l->v[i], pos));
        size_t j = i;
        while (j > 0) {
            if (++c->iterations > c->lim.max_iterations)
                return jx_fail(c, pos, "sort: more than %zu comparisons (the iteration limit)", c->lim.max_iterations);
            int r = 0;
            TRY(compare(c, keys[j - 1], key, cs.u.b, pos, &r));
            if (reverse.u.b) r = -r;
            if (r <= 0) break;
            nl->v[j] = nl->v[j - 1];
            keys[j] = keys[j - 1];
            j--;
        }
        nl->v[j] = l->v[i];
        keys[j] = key;
    }
    return *out = mk_list(nl), J_OK;
}

/* dict.dictsort(case_sensitive=false, by='key', reverse=false): [key, value] pairs */
static int dictsort(jctx *c, jdict *d, jlist *args, jdict *kwargs, uint32_t pos, jv *out) {
    jv cs = arg_or(args, 0, kwargs, "case_sensitive", jv_bool(false)), by = arg_or(args, 1, kwargs, "by", jv_str("key", 3)),
       rev = arg_or(args, 2, kwargs, "reverse", jv_bool(false));
    if (cs.t != JV_BOOL || rev.t != JV_BOOL) return jx_fail(c, pos, "case_sensitive and reverse must be booleans");
    if (!jx_str_eq(by, "key") && !jx_str_eq(by, "value")) return jx_fail(c, pos, "by must be either 'key' or 'value'");
    jv items;
    TRY(dict_items(c, d, 0, pos, &items));
    jlist a = {0};
    jdict kw = {0};
    jv attr = jv_str(jx_str_eq(by, "key") ? "0" : "1", 1);
    if (!jl_push(c->a, &a, rev) || !jl_push(c->a, &a, cs) || !jl_push(c->a, &a, attr)) return jx_nomem(c, pos);
    return sort_list(c, items.u.l, &a, &kw, pos, out);
}

/* A value converted from v (int, float, abs, string of a scalar): data if v was. */
static int converted(jv v, jv r, jv *out) {
    r.taint = v.t == JV_STR ? jv_any_taint(v) : v.taint;
    *out = r;
    return J_OK;
}

static int filter_named(jctx *c, jv v, const char *f, size_t fn, uint32_t pos, jv *out) {
#define F(w) name_is(f, fn, w)
    if (v.t == JV_LIST) {
        jlist *l = v.u.l;
        if (F("list")) return *out = v, J_OK;
        if (F("sort")) {
            jlist none_args = {0};
            jdict none_kw = {0};
            return sort_list(c, l, &none_args, &none_kw, pos, out);
        }
        if (F("first")) return *out = l->n ? l->v[0] : (jv){.t = JV_UNDEF}, J_OK;
        if (F("last")) return *out = l->n ? l->v[l->n - 1] : (jv){.t = JV_UNDEF}, J_OK;
        if (F("length")) return *out = jv_int((int64_t)l->n), J_OK;
        if (F("join")) return join(c, v, jv_str("", 0), pos, out);
        if (F("string")) {
            jjson_opts o = {.indent = -1};
            const char *bad = jv_unjsonable(v, 0);
            if (bad) return jx_fail(c, pos, "cannot convert to JSON: %s", bad);
            jbuf b = {0};
            if (!jv_append_json(c->a, &b, v, &o, 0)) return jx_nomem(c, pos);
            return *out = jb_str(&b), J_OK;
        }
        if (F("reverse") || F("unique")) {
            jlist *nl = jl_new(c->a);
            if (!nl) return jx_nomem(c, pos);
            for (size_t i = 0; i < l->n; i++) {
                jv x = F("reverse") ? l->v[l->n - 1 - i] : l->v[i];
                bool seen = false;
                for (size_t k = 0; F("unique") && k < nl->n && !seen; k++) seen = jx_strict_eq(nl->v[k], x);
                if (!seen) TRY(push(c, nl, x, pos));
            }
            return *out = mk_list(nl), J_OK;
        }
    } else if (v.t == JV_STR) {
        if (F("length")) return *out = jv_int(utf16_len(v)), J_OK;
        if (F("upper")) return map_chars(c, v, 0, pos, out);
        if (F("lower")) return map_chars(c, v, 1, pos, out);
        if (F("title")) return map_chars(c, v, 2, pos, out);
        if (F("capitalize")) return map_chars(c, v, 3, pos, out);
        if (F("trim")) return *out = trim(v, true, true), J_OK;
        if (F("indent")) return indent(c, v, jv_int(4), false, false, pos, out);
        if (F("join") || F("string")) return *out = v, J_OK;
        if (F("int")) {
            bool ok;
            int64_t i = parse_int(v, &ok);
            return converted(v, jv_int(ok ? i : 0), out);
        }
        if (F("float")) {
            char buf[64];
            size_t k = v.u.s.n < 63 ? v.u.s.n : 63;
            memcpy(buf, v.u.s.p, k);
            buf[k] = 0;
            return converted(v, mk_float(strtod(buf, NULL)), out);
        }
    } else if (v.t == JV_INT || v.t == JV_FLOAT) {
        if (F("abs")) return converted(v, v.t == JV_INT ? jv_int(v.u.i < 0 && v.u.i != INT64_MIN ? -v.u.i : v.u.i) : mk_float(fabs(v.u.f)), out);
        if (F("int")) return converted(v, v.t == JV_INT ? v : jv_int((int64_t)floor(fmax(fmin(v.u.f, 9e18), -9e18))), out);
        if (F("float")) return converted(v, mk_float(v.t == JV_INT ? (double)v.u.i : v.u.f), out);
        if (F("string")) {
            jbuf b = {0};
            if (!jv_append_str(c->a, &b, v)) return jx_nomem(c, pos);
            return *out = jb_str(&b), J_OK;
        }
    } else if (v.t == JV_DICT) {
        if (F("items")) return dict_items(c, v.u.d, 0, pos, out);
        if (F("length")) return *out = jv_int((int64_t)v.u.d->n), J_OK;
        if (F("keys")) return dict_items(c, v.u.d, 1, pos, out);
        if (F("values")) return dict_items(c, v.u.d, 2, pos, out);
        if (F("dictsort")) {
            jlist a = {0};
            jdict kw = {0};
            return dictsort(c, v.u.d, &a, &kw, pos, out);
        }
    } else if (v.t == JV_BOOL) {
        if (F("bool")) return *out = v, J_OK;
        if (F("int")) return converted(v, jv_int(v.u.b), out);
        if (F("float")) return converted(v, mk_float(v.u.b), out);
        if (F("string")) return converted(v, jv_str(v.u.b ? "true" : "false", v.u.b ? 4 : 5), out);
    }
#undef F
    return jx_fail(c, pos, "unknown filter \"%.*s\" for %s", (int)fn, f, jv_type_name(v));
}

int jx_filter(jctx *c, jv v, const jnode *fnode, jscope *s, jv *out) {
    const char *f = fnode->s;
    size_t fn = fnode->n;
    uint32_t pos = fnode->pos;
#define F(w) name_is(f, fn, w)
    if (F("safe")) return *out = v, J_OK;
    if (!fnode->flag) {
        if (F("tojson")) return to_json(c, v, NULL, pos, out);
        return filter_named(c, v, f, fn, pos, out);
    }
    jlist *args;
    jdict *kwargs;
    jv none = jv_none();
    if (F("selectattr") || F("rejectattr")) {
        for (size_t i = 0; i < fnode->l1.n; i++)
            if (fnode->l1.v[i]->k != N_STR) return jx_fail(c, pos, "the arguments of %.*s must be string literals", (int)fn, f);
    }
    TRY(jx_args(c, &fnode->l1, s, &args, &kwargs));
    if (F("tojson")) return to_json(c, v, kwargs, pos, out);
    if (F("join")) {
        if (v.t != JV_STR && v.t != JV_LIST) return jx_fail(c, pos, "cannot apply filter \"join\" to type: %s", jv_type_name(v));
        jv sep = arg_or(args, 0, kwargs, "separator", jv_str("", 0));
        if (sep.t != JV_STR) return jx_fail(c, pos, "separator must be a string");
        return join(c, v, sep, pos, out);
    }
    if (F("int") || F("float")) {
        bool is_int = F("int");
        jv dflt = arg_or(args, 0, kwargs, "default", is_int ? jv_int(0) : mk_float(0));
        if (v.t == JV_STR) {
            if (is_int) {
                bool ok;
                int64_t i = parse_int(v, &ok);
                return ok ? converted(v, jv_int(i), out) : (*out = dflt, J_OK);
            }
            return filter_named(c, v, f, fn, pos, out);
        }
        if (v.t == JV_INT || v.t == JV_FLOAT) return *out = v, J_OK;
        if (v.t == JV_BOOL) return converted(v, is_int ? jv_int(v.u.b) : mk_float(v.u.b), out);
        return jx_fail(c, pos, "cannot apply filter \"%.*s\" to type: %s", (int)fn, f, jv_type_name(v));
    }
    if (F("default")) {
        jv dflt = args->n > 0 ? args->v[0] : jv_str("", 0);
        jv boolean = arg_or(args, 1, kwargs, "boolean", jv_bool(false));
        if (boolean.t != JV_BOOL) return jx_fail(c, pos, "the boolean argument of default must be a boolean");
        *out = (v.t == JV_UNDEF || (boolean.u.b && !jv_truthy(v))) ? dflt : v;
        return J_OK;
    }
    if (v.t == JV_LIST) {
        jlist *l = v.u.l;
        if (F("selectattr") || F("rejectattr")) {
            bool select = F("selectattr");
            for (size_t i = 0; i < l->n; i++)
                if (l->v[i].t != JV_DICT && l->v[i].t != JV_NS)
                    return jx_fail(c, pos, "%.*s: items must be objects", (int)fn, f);
            if (args->n < 1) return jx_fail(c, pos, "%.*s needs an attribute name", (int)fn, f);
            jv attr = args->v[0];
            jlist *nl = jl_new(c->a);
            if (!nl) return jx_nomem(c, pos);
            for (size_t i = 0; i < l->n; i++) {
                jv *a = jd_get(l->v[i].u.d, attr.u.s.p, attr.u.s.n);
                bool res = false;
                if (a) {
                    if (args->n >= 2) {
                        TRY(jx_test(c, args->v[1].u.s.p, args->v[1].u.s.n, *a, args->n >= 3 ? args->v[2] : none,
                                    args->n >= 3, pos, &res));
                    } else {
                        res = jv_truthy(*a);
                    }
                }
                if (res == select) TRY(push(c, nl, l->v[i], pos));
            }
            return *out = mk_list(nl), J_OK;
        }
        if (F("sort")) return sort_list(c, l, args, kwargs, pos, out);
        if (F("map")) {
            jv *attr = jd_get(kwargs, "attribute", 9);
            if (!attr) return jx_fail(c, pos, "map is supported only with attribute=");
            if (attr->t != JV_STR) return jx_fail(c, pos, "attribute must be a string");
            jv *dflt = jd_get(kwargs, "default", 7);
            jlist *nl = jl_new(c->a);
            if (!nl) return jx_nomem(c, pos);
            for (size_t i = 0; i < l->n; i++) {
                if (l->v[i].t != JV_DICT && l->v[i].t != JV_NS) return jx_fail(c, pos, "map: items must be objects");
                jv x;
                TRY(attr_path(c, l->v[i], *attr, &x));
                if (x.t == JV_UNDEF && dflt) x = *dflt;
                TRY(push(c, nl, x, pos));
            }
            return *out = mk_list(nl), J_OK;
        }
    } else if (v.t == JV_STR) {
        if (F("replace")) {
            jfunc m = {.k = F_METHOD, .self = v, .name = "replace", .n = 7};
            return jx_call_method(c, &m, args, kwargs, pos, out);
        }
        if (F("indent")) {
            jv w = arg_or(args, 0, kwargs, "width", jv_int(4)), first = arg_or(args, 1, kwargs, "first", jv_bool(false)),
               blank = arg_or(args, 2, kwargs, "blank", jv_bool(false));
            return indent(c, v, w, jv_truthy(first), jv_truthy(blank), pos, out);
        }
    } else if (v.t == JV_DICT) {
        jv m;
        TRY(jx_builtin_attr(c, v, f, fn, pos, &m));
        if (m.t == JV_FUNC) return jx_call_method(c, m.u.fn, args, kwargs, pos, out);
    }
#undef F
    return jx_fail(c, pos, "unknown filter \"%.*s\" for %s", (int)fn, f, jv_type_name(v));
}
