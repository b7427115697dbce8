/* Strict JSON parser (see json.h). */
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n, i;
    hearth_error *err;
} jp;

static hearth_status fail(jp *p, const char *what) {
    unsigned line = 1, col = 1;
    for (size_t k = 0; k < p->i && k < p->n; k++) {
        if (p->s[k] == '\n') line++, col = 1;
        else if (((unsigned char)p->s[k] & 0xc0) != 0x80) col++;
    }
    return hearth_fail(p->err, HEARTH_E_FORMAT, "json:%u:%u: %s", line, col, what);
}
static hearth_status nomem(jp *p) { return hearth_fail(p->err, HEARTH_E_NOMEM, "json: out of memory"); }

static void skip_ws(jp *p) {
    while (p->i < p->n && json_is_space(p->s[p->i])) p->i++;
}

static bool lit(jp *p, const char *w) {
    size_t k = strlen(w);
    if (p->n - p->i < k || memcmp(p->s + p->i, w, k) != 0) return false;
    p->i += k;
    return true;
}

static int hex4(const char *s) {
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 63)), o[2] = (char)(0x80 | (cp & 63)), 3;
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 63)), o[2] = (char)(0x80 | ((cp >> 6) & 63));
    o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid */
static size_t utf8_valid(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n) return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && s[1] < 0xa0) return 0;
    if (c == 0xed && s[1] >= 0xa0) return 0; /* surrogates */
    if (c == 0xf0 && s[1] < 0x90) return 0;
    if (c == 0xf4 && s[1] >= 0x90) return 0;
    return len;
}

static hearth_status parse_string(jp *p, char **out, size_t *len) {
    p->i++; /* opening quote */
    size_t cap = 16, n = 0;
    char *b = malloc(cap);
    if (!b) return nomem(p);
    for (;;) {
        if (p->i >= p->n) {
            free(b);
            return fail(p, "unterminated string");
        }
        if (cap - n < 8) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return nomem(p);
            }
            b = nb, cap *= 2;
        }
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20) {
            free(b);
            return fail(p, "control character in a string (escape it)");
        }
        if (c == '\\') {
            if (p->i + 1 >= p->n) {
                free(b);
                return fail(p, "unterminated string");
            }
            char e = p->s[p->i + 1];
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *q = e ? strchr(from, e) : NULL;
            if (q) {
                b[n++] = to[q - from];
                p->i += 2;
                continue;
            }
            if (e != 'u' || p->n - p->i < 6 || hex4(p->s + p->i + 2) < 0) {
                free(b);
                return fail(p, "invalid escape in a string");
            }
            uint32_t cp = (uint32_t)hex4(p->s + p->i + 2);
            p->i += 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int lo = p->n - p->i >= 6 && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u' ? hex4(p->s + p->i + 2) : -1;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    free(b);
                    return fail(p, "unpaired UTF-16 surrogate in a \\u escape");
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                p->i += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                free(b);
                return fail(p, "unpaired UTF-16 surrogate in a \\u escape");
            }
            n += put_utf8(b + n, cp);
            continue;
        }
        size_t l = utf8_valid((const unsigned char *)p->s + p->i, p->n - p->i);
        if (!l) {
            free(b);
            return fail(p, "invalid UTF-8 in a string");
        }
        memcpy(b + n, p->s + p->i, l);
        n += l;
        p->i += l;
    }
    b[n] = 0;
    *out = b;
    *len = n;
    return HEARTH_OK;
}

static hearth_status parse_number(jp *p, json_value *v) {
    size_t st = p->i;
    if (p->i < p->n && p->s[p->i] == '-') p->i++;
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return fail(p, "invalid number");
    if (p->s[p->i] == '0') {
        p->i++;
        if (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') return fail(p, "leading zeros are not allowed");
    } else {
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return fail(p, "digits expected after '.'");
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return fail(p, "digits expected in the exponent");
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    }
    char buf[64];
    size_t len = p->i - st;
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, p->s + st, len);
    buf[len] = 0;
    v->type = JSON_NUMBER;
    v->num = strtod(buf, NULL);
    if (v->num == floor(v->num) && fabs(v->num) <= 9007199254740992.0) {
        v->is_int = true;
        v->i = (int64_t)v->num;
    }
    return HEARTH_OK;
}

static void free_inner(json_value *v) {
    free(v->str);
    for (size_t k = 0; k < v->n; k++) {
        if (v->items) free_inner(&v->items[k]);
        if (v->keys) free(v->keys[k]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_lens);
}

static hearth_status parse_value(jp *p, json_value *v, int depth);

static hearth_status grow(jp *p, json_value *v, size_t *cap, bool object) {
    if (v->n < *cap) return HEARTH_OK;
    size_t nc = *cap ? *cap * 2 : 4;
    json_value *items = realloc(v->items, nc * sizeof *items);
    if (!items) return nomem(p);
    v->items = items;
    if (object) {
        char **keys = realloc(v->keys, nc * sizeof *keys);
        if (!keys) return nomem(p);
        v->keys = keys;
        size_t *kl = realloc(v->key_lens, nc * sizeof *kl);
        if (!kl) return nomem(p);
        v->key_lens = kl;
    }
    *cap = nc;
    return HEARTH_OK;
}

static hearth_status parse_container(jp *p, json_value *v, int depth, bool object) {
    v->type = object ? JSON_OBJECT : JSON_ARRAY;
    p->i++;
    skip_ws(p);
    size_t cap = 0;
    char close = object ? '}' : ']';
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return HEARTH_OK;
    }
    for (;;) {
        hearth_status st = grow(p, v, &cap, object);
        if (st) return st;
        json_value *item = &v->items[v->n];
        memset(item, 0, sizeof *item);
        if (object) {
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != '"') return fail(p, "expected a string key");
            char *k;
            size_t kl;
            if ((st = parse_string(p, &k, &kl))) return st;
            v->keys[v->n] = k;
            v->key_lens[v->n] = kl;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                v->items[v->n].type = JSON_NULL;
                v->n++;
                return fail(p, "expected ':'");
            }
            p->i++;
        }
        v->n++;
        if ((st = parse_value(p, item, depth + 1))) return st;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return HEARTH_OK;
        }
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static hearth_status parse_value(jp *p, json_value *v, int depth) {
    if (depth > JSON_MAX_DEPTH) return fail(p, "nested too deeply");
    skip_ws(p);
    if (p->i >= p->n) return fail(p, "unexpected end of input");
    char c = p->s[p->i];
    if (c == '{' || c == '[') return parse_container(p, v, depth, c == '{');
    if (c == '"') {
        v->type = JSON_STRING;
        return parse_string(p, &v->str, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    if (lit(p, "true")) return v->type = JSON_BOOL, v->b = true, HEARTH_OK;
    if (lit(p, "false")) return v->type = JSON_BOOL, HEARTH_OK;
    if (lit(p, "null")) return v->type = JSON_NULL, HEARTH_OK;
    return fail(p, "unexpected character");
}

hearth_status json_parse(const char *text, size_t len, json_value **out, hearth_error *err) {
    *out = NULL;
    json_value *v = calloc(1, sizeof *v);
    if (!v) return hearth_fail(err, HEARTH_E_NOMEM, "json: out of memory");
    jp p = {text, len, 0, err};
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) p.i = 3; /* BOM */
    hearth_status st = parse_value(&p, v, 0);
    if (!st) {
        skip_ws(&p);
        if (p.i < p.n) st = fail(&p, "unexpected text after the JSON value");
    }
    if (st) {
        json_free(v);
        return st;
    }
    *out = v;
    return HEARTH_OK;
}

void json_free(json_value *v) {
    if (!v) return;
    free_inner(v);
    free(v);
}

const json_value *json_get(const json_value *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    size_t kl = strlen(key);
    for (size_t k = 0; k < v->n; k++)
        if (v->key_lens[k] == kl && memcmp(v->keys[k], key, kl) == 0) return &v->items[k];
    return NULL;
}
