/* The Jinja lexer: @huggingface/jinja's tokenize(), including its
 * preprocessing (one trailing newline dropped, lstrip_blocks and trim_blocks
 * as Hugging Face's apply_chat_template sets them, {% generation %} tags
 * removed). Each token keeps its offset in the original template. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja/jinja.h"

hearth_status jerr(const jsource *js, uint32_t pos, hearth_status code, const char *fmt, ...) {
    if (!js->err) return code;
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < pos && i < js->src_len; i++) {
        if (js->src[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)js->src[i] & 0xc0) != 0x80) {
            col++;
        }
    }
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hearth_fail(js->err, code, "template:%u:%u: %s", line, col, msg);
}

/* Text with, for every byte, its offset in the original template. */
typedef struct {
    char *s;
    uint32_t *at;
    size_t n;
} mapped;

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool mapped_new(jarena *a, mapped *m, size_t cap) {
    m->s = ja_alloc(a, cap + 1);
    m->at = ja_alloc(a, (cap + 1) * sizeof *m->at);
    m->n = 0;
    return m->s && m->at;
}

/* lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1"; trim_blocks: /([#%-]})\n/g -> "$1" */
static bool strip_blocks(jarena *a, const mapped *in, mapped *out) {
    if (!mapped_new(a, out, in->n)) return false;
    size_t i = 0;
    while (i < in->n) {
        if (i == 0 || in->s[i - 1] == '\n' || in->s[i - 1] == '\r') {
            size_t j = i;
            while (j < in->n && (in->s[j] == ' ' || in->s[j] == '\t')) j++;
            if (j + 1 < in->n && in->s[j] == '{' && strchr("#%-", in->s[j + 1])) i = j;
        }
        out->s[out->n] = in->s[i];
        out->at[out->n++] = in->at[i];
        i++;
    }
    mapped tmp = *out;
    if (!mapped_new(a, out, tmp.n)) return false;
    for (i = 0; i < tmp.n; i++) {
        out->s[out->n] = tmp.s[i];
        out->at[out->n++] = tmp.at[i];
        if (tmp.s[i] == '}' && i > 0 && strchr("#%-", tmp.s[i - 1]) && tmp.s[i - 1] && i + 1 < tmp.n &&
            tmp.s[i + 1] == '\n')
            i++;
    }
    return true;
}

/* /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs: the tag goes; the
 * whitespace around it stays unless the tag's side has a dash. */
static size_t generation_tag(const mapped *m, size_t i, bool *l, bool *r) {
    size_t j = i;
    if (j + 1 >= m->n || m->s[j] != '{' || m->s[j + 1] != '%') return 0;
    j += 2;
    *l = j < m->n && m->s[j] == '-';
    if (*l) j++;
    while (j < m->n && is_space(m->s[j])) j++;
    if (j + 3 <= m->n && memcmp(m->s + j, "end", 3) == 0) j += 3;
    if (j + 10 > m->n || memcmp(m->s + j, "generation", 10) != 0) return 0;
    j += 10;
    while (j < m->n && is_space(m->s[j])) j++;
    *r = j < m->n && m->s[j] == '-';
    if (*r) j++;
    if (j + 2 > m->n || m->s[j] != '%' || m->s[j + 1] != '}') return 0;
    return j + 2 - i;
}

static bool strip_generation(jarena *a, const mapped *in, mapped *out) {
    if (!mapped_new(a, out, in->n)) return false;
    size_t i = 0;
    while (i < in->n) {
        bool l, r;
        size_t len = generation_tag(in, i, &l, &r);
        if (!len) {
            out->s[out->n] = in->s[i];
            out->at[out->n++] = in->at[i++];
            continue;
        }
        if (l)
            while (out->n > 0 && is_space(out->s[out->n - 1])) out->n--;
        i += len;
        if (r)
            while (i < in->n && is_space(in->s[i])) i++;
    }
    return true;
}

typedef struct {
    const jsource *js;
    mapped m;
    size_t cur;
    jtok *v;
    size_t n, cap;
} lexer;

static hearth_status fail(lexer *L, size_t at, const char *fmt, const char *arg) {
    uint32_t pos = at < L->m.n ? L->m.at[at] : (uint32_t)L->js->src_len;
    return jerr(L->js, pos, HEARTH_E_FORMAT, fmt, arg);
}

static hearth_status push(lexer *L, jtok_type t, const char *s, size_t n, size_t at) {
    if (L->n == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        jtok *nv = ja_alloc(L->js->arena, cap * sizeof *nv);
        if (!nv) return fail(L, at, "%s", "template too large (memory limit)");
        if (L->n) memcpy(nv, L->v, L->n * sizeof *nv);
        L->v = nv;
        L->cap = cap;
    }
    L->v[L->n++] = (jtok){t, s, n, at < L->m.n ? L->m.at[at] : (uint32_t)L->js->src_len};
    return HEARTH_OK;
}

static jtok_type last_type(const lexer *L) { return L->n ? L->v[L->n - 1].t : JT_EOF; }

static void strip_trailing(lexer *L) {
    if (!L->n || L->v[L->n - 1].t != JT_TEXT) return;
    jtok *t = &L->v[L->n - 1];
    while (t->n > 0 && is_space(t->s[t->n - 1])) t->n--;
    if (t->n == 0) L->n--;
}

static void skip_space(lexer *L) {
    while (L->cur < L->m.n && is_space(L->m.s[L->cur])) L->cur++;
}

/* A string literal's body up to quote (exclusive), unescaped. */
static hearth_status lex_string(lexer *L, char quote, size_t start) {
    jbuf b = {0};
    jarena *a = L->js->arena;
    const char *s = L->m.s;
    while (L->cur < L->m.n && s[L->cur] != quote) {
        if (s[L->cur] == '\\') {
            if (++L->cur >= L->m.n) return fail(L, start, "%s", "unexpected end of input in a string");
            char e = s[L->cur++];
            if (e == 'x' || e == 'u') {
                size_t len = e == 'x' ? 2 : 4;
                unsigned v = 0;
                for (size_t k = 0; k < len; k++) {
                    char h = L->cur + k < L->m.n ? s[L->cur + k] : 0;
                    int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                          : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                    if (d < 0) return fail(L, L->cur - 2, "%s", "invalid hexadecimal escape sequence");
                    v = v * 16 + (unsigned)d;
                }
                L->cur += len;
                char u[4];
                size_t un;
                if (v < 0x80) u[0] = (char)v, un = 1;
                else if (v < 0x800) u[0] = (char)(0xc0 | v >> 6), u[1] = (char)(0x80 | (v & 63)), un = 2;
                else u[0] = (char)(0xe0 | v >> 12), u[1] = (char)(0x80 | ((v >> 6) & 63)), u[2] = (char)(0x80 | (v & 63)), un = 3;
                if (!jb_put(a, &b, u, un)) return fail(L, start, "%s", "out of memory");
                continue;
            }
            const char *from = "ntrbfv'\"\\", *to = "\n\t\r\b\f\v'\"\\";
            const char *p = strchr(from, e);
            if (!e || !p) {
                char bad[2] = {e, 0};
                return fail(L, L->cur - 2, "unexpected escaped character: %s", bad);
            }
            if (!jb_put(a, &b, &to[p - from], 1)) return fail(L, start, "%s", "out of memory");
            continue;
        }
        if (!jb_put(a, &b, &s[L->cur++], 1)) return fail(L, start, "%s", "out of memory");
        if (L->cur >= L->m.n) return fail(L, start, "%s", "unexpected end of input in a string");
    }
    if (L->cur >= L->m.n) return fail(L, start, "%s", "unterminated string");
    L->cur++;
    return push(L, JT_STR, b.p ? b.p : "", b.n, start);
}

static const struct {
    const char *seq;
    jtok_type t;
} TABLE[] = {
    {"{%", JT_OPEN_STMT}, {"%}", JT_CLOSE_STMT}, {"{{", JT_OPEN_EXPR}, {"}}", JT_CLOSE_EXPR}, {"(", JT_LPAREN},
    {")", JT_RPAREN},     {"{", JT_LBRACE},      {"}", JT_RBRACE},    {"[", JT_LBRACKET},    {"]", JT_RBRACKET},
    {",", JT_COMMA},      {".", JT_DOT},         {":", JT_COLON},     {"|", JT_PIPE},        {"<=", JT_CMP},
    {">=", JT_CMP},       {"==", JT_CMP},        {"!=", JT_CMP},      {"<", JT_CMP},         {">", JT_CMP},
    {"+", JT_ADD},        {"-", JT_ADD},         {"~", JT_ADD},       {"**", JT_POW},        {"*", JT_MUL},
    {"//", JT_MUL},       {"/", JT_MUL},         {"%", JT_MUL},       {"=", JT_EQUALS},
};

static bool at(const lexer *L, const char *seq) {
    size_t n = strlen(seq);
    return L->cur + n <= L->m.n && memcmp(L->m.s + L->cur, seq, n) == 0;
}

static hearth_status lex_main(lexer *L) {
    hearth_status st;
    const char *s = L->m.s;
    int curly = 0;
    while (L->cur < L->m.n) {
        jtok_type lt = last_type(L);
        if (lt == JT_EOF || lt == JT_CLOSE_STMT || lt == JT_CLOSE_EXPR || lt == JT_COMMENT) {
            size_t start = L->cur;
            while (L->cur < L->m.n &&
                   !(s[L->cur] == '{' && L->cur + 1 < L->m.n && strchr("%{#", s[L->cur + 1]) && s[L->cur + 1]))
                L->cur++;
            if (L->cur > start) {
                if ((st = push(L, JT_TEXT, s + start, L->cur - start, start))) return st;
                continue;
            }
        }
        if (at(L, "{#")) {
            size_t start = L->cur;
            L->cur += 2;
            bool strip_before = L->cur < L->m.n && s[L->cur] == '-';
            if (strip_before) L->cur++;
            size_t cstart = L->cur;
            while (!(L->cur + 1 < L->m.n && s[L->cur] == '#' && s[L->cur + 1] == '}')) {
                if (L->cur + 2 >= L->m.n) return fail(L, start, "%s", "missing end of comment tag #}");
                L->cur++;
            }
            bool strip_after = L->cur > cstart && s[L->cur - 1] == '-';
            if (strip_before) strip_trailing(L);
            if ((st = push(L, JT_COMMENT, s + cstart, L->cur - cstart, start))) return st;
            L->cur += 2;
            if (strip_after) skip_space(L);
            continue;
        }
        if (at(L, "{%-")) {
            strip_trailing(L);
            if ((st = push(L, JT_OPEN_STMT, "{%", 2, L->cur))) return st;
            L->cur += 3;
            continue;
        }
        if (at(L, "{{-")) {
            strip_trailing(L);
            if ((st = push(L, JT_OPEN_EXPR, "{{", 2, L->cur))) return st;
            curly = 0;
            L->cur += 3;
            continue;
        }
        skip_space(L);
        if (L->cur >= L->m.n) break;
        if (at(L, "-%}")) {
            if ((st = push(L, JT_CLOSE_STMT, "%}", 2, L->cur))) return st;
            L->cur += 3;
            skip_space(L);
            continue;
        }
        if (at(L, "-}}")) {
            if ((st = push(L, JT_CLOSE_EXPR, "}}", 2, L->cur))) return st;
            L->cur += 3;
            skip_space(L);
            continue;
        }
        char c = s[L->cur];
        if (c == '-' || c == '+') {
            jtok_type t2 = last_type(L);
            if (t2 == JT_TEXT || t2 == JT_EOF) {
                char bad[2] = {c, 0};
                return fail(L, L->cur, "unexpected character: %s", bad);
            }
            if (!(t2 == JT_IDENT || t2 == JT_NUM || t2 == JT_STR || t2 == JT_RPAREN || t2 == JT_RBRACKET)) {
                size_t start = L->cur++;
                while (L->cur < L->m.n && is_digit(s[L->cur])) L->cur++;
                size_t digits = L->cur - start - 1;
                if (digits > 0 && L->cur + 1 < L->m.n && s[L->cur] == '.' && is_digit(s[L->cur + 1])) {
                    L->cur++;
                    while (L->cur < L->m.n && is_digit(s[L->cur])) L->cur++;
                }
                if ((st = push(L, digits ? JT_NUM : JT_UNARY, s + start, L->cur - start, start))) return st;
                continue;
            }
        }
        bool matched = false;
        for (size_t k = 0; k < sizeof TABLE / sizeof TABLE[0]; k++) {
            if (TABLE[k].t == JT_CLOSE_EXPR && curly > 0) continue;
            if (!at(L, TABLE[k].seq)) continue;
            size_t n = strlen(TABLE[k].seq);
            if ((st = push(L, TABLE[k].t, s + L->cur, n, L->cur))) return st;
            if (TABLE[k].t == JT_OPEN_EXPR) curly = 0;
            else if (TABLE[k].t == JT_LBRACE) curly++;
            else if (TABLE[k].t == JT_RBRACE) curly--;
            L->cur += n;
            matched = true;
            break;
        }
        if (matched) continue;
        if (c == '\'' || c == '"') {
            size_t start = L->cur++;
            if ((st = lex_string(L, c, start))) return st;
            continue;
        }
        if (is_digit(c)) {
            size_t start = L->cur;
            while (L->cur < L->m.n && is_digit(s[L->cur])) L->cur++;
            if (last_type(L) != JT_DOT && L->cur + 1 < L->m.n && s[L->cur] == '.' && is_digit(s[L->cur + 1])) {
                L->cur++;
                while (L->cur < L->m.n && is_digit(s[L->cur])) L->cur++;
            }
            if ((st = push(L, JT_NUM, s + start, L->cur - start, start))) return st;
            continue;
        }
        if (is_word(c)) {
            size_t start = L->cur;
            while (L->cur < L->m.n && is_word(s[L->cur])) L->cur++;
            if ((st = push(L, JT_IDENT, s + start, L->cur - start, start))) return st;
            continue;
        }
        char bad[8];
        snprintf(bad, sizeof bad, (unsigned char)c < 0x20 || (unsigned char)c >= 0x7f ? "\\x%02x" : "%c",
                 (unsigned char)c);
        return fail(L, L->cur, "unexpected character: %s", bad);
    }
    return HEARTH_OK;
}

hearth_status jinja_lex(const jsource *js, jtok **out, size_t *n) {
    jarena *a = js->arena;
    if (js->src_len >= UINT32_MAX) return hearth_fail(js->err, HEARTH_E_ARG, "template larger than 4 GiB");
    mapped raw;
    if (!mapped_new(a, &raw, js->src_len)) return hearth_fail(js->err, HEARTH_E_NOMEM, "template: out of memory");
    for (size_t i = 0; i < js->src_len; i++) {
        raw.s[i] = js->src[i];
        raw.at[i] = (uint32_t)i;
    }
    raw.n = js->src_len;
    if (raw.n && raw.s[raw.n - 1] == '\n') raw.n--;
    mapped m1, m2;
    if (!strip_blocks(a, &raw, &m1) || !strip_generation(a, &m1, &m2))
        return hearth_fail(js->err, HEARTH_E_NOMEM, "template: out of memory");
    lexer L = {.js = js, .m = m2};
    hearth_status st = lex_main(&L);
    if (st) return st;
    if ((st = push(&L, JT_EOF, "", 0, L.m.n))) return st;
    *out = L.v;
    *n = L.n;
    return HEARTH_OK;
}
