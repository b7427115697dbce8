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

bool jd_set(jarena *a, jdict *d, const char *k, size_t n, jv v) {
    jv *old = jd_get(d, k, n);
    if (old) {
        *old = v;
        return true;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        const char **kp = ja_alloc(a, cap * sizeof *kp);
        size_t *kn = ja_alloc(a, cap * sizeof *kn);
        jv *nv = ja_alloc(a, cap * sizeof *nv);
        if (!kp || !kn || !nv) return false;
        if (d->n) {
            memcpy(kp, d->kp, d->n * sizeof *kp);
            memcpy(kn, d->kn, d->n * sizeof *kn);
            memcpy(nv, d->v, d->n * sizeof *nv);
        }
        d->kp = kp, d->kn = kn, d->v = nv, d->cap = cap;
    }
    d->kp[d->n] = k;
    d->kn[d->n] = n;
    d->v[d->n++] = v;
    return true;
}

bool jb_put(jarena *a, jbuf *b, const char *p, size_t n) {
    if (n == 0) return true;
    if (b->cap - b->n < n) {
        if (n > a->limit) return false;
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->n < n) {
            if (cap > a->limit) return false;
            cap *= 2;
        }
        char *np = ja_alloc(a, cap);
        if (!np) return false;
        if (b->n) memcpy(np, b->p, b->n);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return true;
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

bool jv_append_str(jarena *a, jbuf *b, jv v) {
    char num[64];
    switch (v.t) {
    case JV_UNDEF: return jb_puts(a, b, "undefined");
    case JV_NONE: return jb_puts(a, b, "null");
    case JV_BOOL: return jb_puts(a, b, v.u.b ? "true" : "false");
    case JV_INT: snprintf(num, sizeof num, "%lld", (long long)v.u.i); return jb_puts(a, b, num);
    case JV_FLOAT:
        if (v.u.f == 0 && signbit(v.u.f)) return jb_puts(a, b, "-0.0");
        if (v.u.f == floor(v.u.f) && fabs(v.u.f) < 1e21) {
            snprintf(num, sizeof num, "%.1f", v.u.f);
        } else {
            jv_js_number(v.u.f, num, sizeof num);
        }
        return jb_puts(a, b, num);
    case JV_STR: return jb_put(a, b, v.u.s.p, v.u.s.n);
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

static bool json_str(jarena *a, jbuf *b, const char *p, size_t n, bool ascii) {
    if (!jb_put(a, b, "\"", 1)) return false;
    for (size_t i = 0; i < n; i++) {
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
            if (!jb_puts(a, b, e)) return false;
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
            if (!jb_puts(a, b, esc)) return false;
        } else if (!jb_put(a, b, (const char *)&p[i], 1)) {
            return false;
        }
    }
    return jb_put(a, b, "\"", 1);
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
    const char *item_sep = o->item_sep ? o->item_sep : o->indent > 0 ? "," : ", ";
    const char *key_sep = o->key_sep ? o->key_sep : ": ";
    char num[64];
    switch (v.t) {
    case JV_UNDEF: return jb_puts(a, b, o->undef_as_null ? "null" : "undefined");
    case JV_NONE: return jb_puts(a, b, "null");
    case JV_BOOL: return jb_puts(a, b, v.u.b ? "true" : "false");
    case JV_INT: snprintf(num, sizeof num, "%lld", (long long)v.u.i); return jb_puts(a, b, num);
    case JV_FLOAT:
        if (!isfinite(v.u.f)) return jb_puts(a, b, "null");
        jv_js_number(v.u.f, num, sizeof num);
        return jb_puts(a, b, num);
    case JV_STR: return json_str(a, b, v.u.s.p, v.u.s.n, o->ensure_ascii);
    case JV_LIST: {
        const jlist *l = v.u.l;
        if (!jb_put(a, b, "[", 1)) return false;
        for (size_t i = 0; i < l->n; i++) {
            if (i && !jb_puts(a, b, item_sep)) return false;
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
            if (k && !jb_puts(a, b, item_sep)) return false;
            if (o->indent > 0 && !pad(a, b, o->indent, depth + 1)) return false;
            if (!json_str(a, b, d->kp[i], d->kn[i], o->ensure_ascii) || !jb_puts(a, b, key_sep) ||
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
