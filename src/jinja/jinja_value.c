/* Values of the Jinja interpreter: the arena, lists, dicts, and the text a
 * value prints as (toString and tojson, as @huggingface/jinja writes them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja/jinja.h"

struct jblock {
    jblock *next;
    size_t cap, used;
    max_align_t data[];
};

void *ja_alloc(jarena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n == 0 || n > a->limit || a->used > a->limit - n) return NULL;
    jblock *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

void ja_free(jarena *a) {
    for (jblock *b = a->head, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    a->head = NULL;
    a->used = 0;
}

char *ja_strdup(jarena *a, const char *s, size_t n) {
    char *p = ja_alloc(a, n + 1);
    if (p && n) memcpy(p, s, n);
    return p;
}

jv jv_str(const char *p, size_t n) {
    jv v = {.t = JV_STR};
    v.u.s.p = p ? p : "";
    v.u.s.n = n;
    return v;
}
jv jv_int(int64_t i) {
    jv v = {.t = JV_INT};
    v.u.i = i;
    return v;
}
jv jv_bool(bool b) {
    jv v = {.t = JV_BOOL};
    v.u.b = b;
    return v;
}
jv jv_none(void) { return (jv){.t = JV_NONE}; }

jlist *jl_new(jarena *a) { return ja_alloc(a, sizeof(jlist)); }

bool jl_push(jarena *a, jlist *l, jv v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        jv *nv = ja_alloc(a, cap * sizeof *nv);
        if (!nv) return false;
        if (l->n) memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return true;
}

jdict *jd_new(jarena *a) { return ja_alloc(a, sizeof(jdict)); }

jv *jd_get(const jdict *d, const char *k, size_t n) {
    for (size_t i = 0; i < d->n; i++)
        if (d->kn[i] == n && memcmp(d->kp[i], k, n) == 0) return &d->v[i];
    return NULL;
}

bool jd_set_key(jarena *a, jdict *d, jv key, jv v) {
    jv *old = jd_get(d, key.u.s.p, key.u.s.n);
    if (old) {
        *old = v;
        return true;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        const char **kp = ja_alloc(a, cap * sizeof *kp);
        size_t *kn = ja_alloc(a, cap * sizeof *kn);
        jv *nv = ja_alloc(a, cap * sizeof *nv);
        jv *nk = ja_alloc(a, cap * sizeof *nk);
        if (!kp || !kn || !nv || !nk) return false;
        if (d->n) {
            memcpy(kp, d->kp, d->n * sizeof *kp);
            memcpy(kn, d->kn, d->n * sizeof *kn);
            memcpy(nv, d->v, d->n * sizeof *nv);
            memcpy(nk, d->key, d->n * sizeof *nk);
        }
        d->kp = kp, d->kn = kn, d->v = nv, d->key = nk, d->cap = cap;
    }
    d->kp[d->n] = key.u.s.p;
    d->kn[d->n] = key.u.s.n;
    d->key[d->n] = key;
    d->v[d->n++] = v;
    return true;
}

bool jd_set(jarena *a, jdict *d, const char *k, size_t n, jv v) { return jd_set_key(a, d, jv_str(k, n), v); }

jv jd_key(const jdict *d, size_t i) { return d->key[i]; }

/* Grows b to hold n more bytes (and its mask, if it has one). */
static bool jb_grow(jarena *a, jbuf *b, size_t n) {
    if (b->cap - b->n >= n) return true;
    if (n > a->limit) return false;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->n < n) {
        if (cap > a->limit) return false;
        cap *= 2;
    }
    char *np = ja_alloc(a, cap);
    uint8_t *nm = b->m ? ja_alloc(a, cap) : NULL;
    if (!np || (b->m && !nm)) return false;
    if (b->n) memcpy(np, b->p, b->n);
    if (b->m && b->n) memcpy(nm, b->m, b->n);
    b->p = np;
    b->m = nm;
    b->cap = cap;
    return true;
}

/* Gives b a mask (all template so far). */
static bool jb_mask(jarena *a, jbuf *b) {
    if (b->m) return true;
    b->m = ja_alloc(a, b->cap ? b->cap : 1); /* zeroed */
    return b->m != NULL;
}

bool jb_put_t(jarena *a, jbuf *b, const char *p, size_t n, uint8_t taint) {
    if (n == 0) return true;
    if (!jb_grow(a, b, n)) return false;
    if (taint && !jb_mask(a, b)) return false;
    memcpy(b->p + b->n, p, n);
    if (b->m) memset(b->m + b->n, taint ? 1 : 0, n);
    if (taint) b->tainted += n;
    b->n += n;
    return true;
}

bool jb_put(jarena *a, jbuf *b, const char *p, size_t n) { return jb_put_t(a, b, p, n, 0); }

bool jb_put_v(jarena *a, jbuf *b, jv s, size_t off, size_t n) {
    if (!s.u.s.m) return jb_put_t(a, b, s.u.s.p + off, n, s.taint);
    if (n == 0) return true;
    if (!jb_grow(a, b, n) || !jb_mask(a, b)) return false;
    memcpy(b->p + b->n, s.u.s.p + off, n);
    for (size_t i = 0; i < n; i++) b->tainted += (b->m[b->n + i] = s.u.s.m[off + i] ? 1 : 0);
    b->n += n;
    return true;
}

jv jb_str(const jbuf *b) {
    jv v = jv_str(b->p, b->n);
    if (b->tainted && b->tainted == b->n) v.taint = 1;
    else if (b->tainted) v.u.s.m = b->m;
    return v;
}

bool jv_any_taint(jv s) {
    if (!s.u.s.m) return s.taint != 0;
    for (size_t i = 0; i < s.u.s.n; i++)
        if (s.u.s.m[i]) return true;
    return false;
}

jv jv_sub(jv s, size_t off, size_t n) {
    jv v = s;
    v.u.s.p = s.u.s.p + off;
    v.u.s.n = n;
    v.u.s.m = s.u.s.m ? s.u.s.m + off : NULL;
    return v;
}

bool jb_puts(jarena *a, jbuf *b, const char *s) { return jb_put(a, b, s, strlen(s)); }

bool jv_truthy(jv v) {
    switch (v.t) {
    case JV_UNDEF:
    case JV_NONE: return false;
    case JV_BOOL: return v.u.b;
    case JV_INT: return v.u.i != 0;
    case JV_FLOAT: return v.u.f != 0 && !isnan(v.u.f);
    case JV_STR: return v.u.s.n > 0;
    case JV_LIST: return v.u.l->n > 0;
    case JV_DICT: return v.u.d->n > 0;
    case JV_NS:
    case JV_FUNC: return true;
    }
    return false;
}

const char *jv_type_name(jv v) {
    static const char *const names[] = {"UndefinedValue", "NullValue",   "BooleanValue", "IntegerValue", "FloatValue",
                                        "StringValue",    "ArrayValue",  "ObjectValue",  "NamespaceValue",
                                        "FunctionValue"};
    if (v.t == JV_LIST && v.tuple) return "TupleValue";
    return names[v.t];
}

void jv_js_number(double f, char *buf, size_t cap) {
    if (isnan(f)) {
        snprintf(buf, cap, "NaN");
        return;
    }
    if (isinf(f)) {
        snprintf(buf, cap, f < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (f == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    if (f == floor(f) && fabs(f) < 1e21) {
        snprintf(buf, cap, "%.0f", f);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, f);
        if (strtod(buf, NULL) == f) break;
    }
    /* JS writes 1e-7 as "1e-7", C as "1e-07" */
    char *e = strchr(buf, 'e');
    if (e) {
        char *d = e + 1;
        if (*d == '+' || *d == '-') d++;
        while (d[0] == '0' && d[1]) memmove(d, d + 1, strlen(d));
        if (e[1] != '-' && e[1] != '+') {
            memmove(e + 2, e + 1, strlen(e + 1) + 1);
            e[1] = '+';
        }
    }
}

/* text of a scalar, with the scalar's provenance */
static bool put_scalar(jarena *a, jbuf *b, const char *s, jv v) { return jb_put_t(a, b, s, strlen(s), v.taint); }

bool jv_append_str(jarena *a, jbuf *b, jv v) {
    char num[64];
    switch (v.t) {
    case JV_UNDEF: return put_scalar(a, b, "undefined", v);
    case JV_NONE: return put_scalar(a, b, "null", v);
    case JV_BOOL: return put_scalar(a, b, v.u.b ? "true" : "false", v);
    case JV_INT: snprintf(num, sizeof num, "%lld", (long long)v.u.i); return put_scalar(a, b, num, v);
    case JV_FLOAT:
        if (v.u.f == 0 && signbit(v.u.f)) return put_scalar(a, b, "-0.0", v);
        if (v.u.f == floor(v.u.f) && fabs(v.u.f) < 1e21) {
            snprintf(num, sizeof num, "%.1f", v.u.f);
        } else {
            jv_js_number(v.u.f, num, sizeof num);
        }
        return put_scalar(a, b, num, v);
    case JV_STR: return jb_put_v(a, b, v, 0, v.u.s.n);
    case JV_LIST:
    case JV_DICT:
    case JV_NS: {
        jjson_opts o = {.indent = -1};
        return jv_append_json(a, b, v, &o, 0);
    }
    case JV_FUNC: return jb_puts(a, b, "[function]");
    }
    return false;
}

/* A JSON string: each byte's escape has that byte's provenance, the quotes
 * are data when any byte is. */
static bool json_str(jarena *a, jbuf *b, jv s, bool ascii) {
    const char *p = s.u.s.p;
    size_t n = s.u.s.n;
    uint8_t q = jv_any_taint(s);
    if (!jb_put_t(a, b, "\"", 1, q)) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t t = jv_taint_at(s, i);
        unsigned char c = (unsigned char)p[i];
        char esc[16];
        const char *e = NULL;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                e = esc;
            }
        }
        if (e) {
            if (!jb_put_t(a, b, e, strlen(e), t)) return false;
        } else if (ascii && c >= 0x7f) {
            /* makeAsciiSafe: UTF-16 units as \uXXXX */
            uint32_t cp = c, len = 1;
            if (c >= 0xf0 && i + 3 < n) cp = c & 7, len = 4;
            else if (c >= 0xe0 && i + 2 < n) cp = c & 15, len = 3;
            else if (c >= 0xc0 && i + 1 < n) cp = c & 31, len = 2;
            for (uint32_t k = 1; k < len; k++) cp = cp << 6 | (p[i + k] & 63);
            i += len - 1;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", cp);
            }
            if (!jb_put_t(a, b, esc, strlen(esc), t)) return false;
        } else if (!jb_put_t(a, b, (const char *)&p[i], 1, t)) {
            return false;
        }
    }
    return jb_put_t(a, b, "\"", 1, q);
}

static bool pad(jarena *a, jbuf *b, int indent, int depth) {
    if (!jb_put(a, b, "\n", 1)) return false;
    for (int i = 0; i < indent * depth; i++)
        if (!jb_put(a, b, " ", 1)) return false;
    return true;
}

static int key_cmp(const char *x, size_t xn, const char *y, size_t yn) {
    int c = memcmp(x, y, xn < yn ? xn : yn);
    return c ? c : (xn > yn) - (xn < yn);
}

const char *jv_unjsonable(jv v, int depth) {
    if (depth > 512) return "a value nested too deeply (a cycle?)";
    if (v.t == JV_FUNC) return "FunctionValue";
    if (v.t == JV_LIST) {
        if (v.tuple) return "TupleValue";
        for (size_t i = 0; i < v.u.l->n; i++) {
            const char *bad = jv_unjsonable(v.u.l->v[i], depth + 1);
            if (bad) return bad;
        }
    }
    if (v.t == JV_DICT || v.t == JV_NS) {
        for (size_t i = 0; i < v.u.d->n; i++) {
            const char *bad = jv_unjsonable(v.u.d->v[i], depth + 1);
            if (bad) return bad;
        }
    }
    return NULL;
}

bool jv_append_json(jarena *a, jbuf *b, jv v, const jjson_opts *o, int depth) {
    if (depth > 512 || (v.t == JV_LIST && v.tuple)) return false;
    /* the separators as strings, up to a NUL (as they always were), with their provenance */
    jv item_sep = o->item_sep ? *o->item_sep : o->indent > 0 ? jv_str(",", 1) : jv_str(", ", 2);
    jv key_sep = o->key_sep ? *o->key_sep : jv_str(": ", 2);
    const char *nul = memchr(item_sep.u.s.p, 0, item_sep.u.s.n);
    if (nul) item_sep = jv_sub(item_sep, 0, (size_t)(nul - item_sep.u.s.p));
    if ((nul = memchr(key_sep.u.s.p, 0, key_sep.u.s.n))) key_sep = jv_sub(key_sep, 0, (size_t)(nul - key_sep.u.s.p));
    char num[64];
    switch (v.t) {
    case JV_UNDEF: return put_scalar(a, b, o->undef_as_null ? "null" : "undefined", v);
    case JV_NONE: return put_scalar(a, b, "null", v);
    case JV_BOOL: return put_scalar(a, b, v.u.b ? "true" : "false", v);
    case JV_INT: snprintf(num, sizeof num, "%lld", (long long)v.u.i); return put_scalar(a, b, num, v);
    case JV_FLOAT:
        if (!isfinite(v.u.f)) return put_scalar(a, b, "null", v);
        jv_js_number(v.u.f, num, sizeof num);
        return put_scalar(a, b, num, v);
    case JV_STR: return json_str(a, b, v, o->ensure_ascii);
    case JV_LIST: {
        const jlist *l = v.u.l;
        if (!jb_put(a, b, "[", 1)) return false;
        for (size_t i = 0; i < l->n; i++) {
            if (i && !jb_put_v(a, b, item_sep, 0, item_sep.u.s.n)) return false;
            if (o->indent > 0 && !pad(a, b, o->indent, depth + 1)) return false;
            if (!jv_append_json(a, b, l->v[i], o, depth + 1)) return false;
        }
        if (o->indent > 0 && l->n && !pad(a, b, o->indent, depth)) return false;
        return jb_put(a, b, "]", 1);
    }
    case JV_DICT:
    case JV_NS: {
        const jdict *d = v.u.d;
        size_t *order = NULL;
        if (o->sort_keys && d->n) {
            order = ja_alloc(a, d->n * sizeof *order);
            if (!order) return false;
            for (size_t i = 0; i < d->n; i++) {
                size_t j = i;
                for (; j > 0 && key_cmp(d->kp[order[j - 1]], d->kn[order[j - 1]], d->kp[i], d->kn[i]) > 0; j--)
                    order[j] = order[j - 1];
                order[j] = i;
            }
        }
        if (!jb_put(a, b, "{", 1)) return false;
        for (size_t k = 0; k < d->n; k++) {
            size_t i = order ? order[k] : k;
            if (k && !jb_put_v(a, b, item_sep, 0, item_sep.u.s.n)) return false;
            if (o->indent > 0 && !pad(a, b, o->indent, depth + 1)) return false;
            if (!json_str(a, b, jd_key(d, i), o->ensure_ascii) || !jb_put_v(a, b, key_sep, 0, key_sep.u.s.n) ||
                !jv_append_json(a, b, d->v[i], o, depth + 1))
                return false;
        }
        if (o->indent > 0 && d->n && !pad(a, b, o->indent, depth)) return false;
        return jb_put(a, b, "}", 1);
    }
    case JV_FUNC: return false;
    }
    return false;
}
