/* Internal interface of the Jinja interpreter used for chat templates
 * (template.h is the public API). It follows @huggingface/jinja, the
 * implementation Hugging Face's transformers.js and hub tooling use, so that
 * real chat templates render byte for byte the same.
 * Everything a render allocates lives in one arena freed at the end; limits
 * (arena bytes, recursion depth, loop iterations, output bytes) turn hostile
 * templates into errors with a line:column, never a crash. */
#ifndef HEARTH_JINJA_H
#define HEARTH_JINJA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* ---- arena ---- */
typedef struct jblock jblock;
typedef struct {
    jblock *head;
    size_t used, limit;
} jarena;
void *ja_alloc(jarena *a, size_t n); /* zeroed; NULL past the limit */
void ja_free(jarena *a);
char *ja_strdup(jarena *a, const char *s, size_t n);

/* ---- values ---- */
typedef enum { JV_UNDEF, JV_NONE, JV_BOOL, JV_INT, JV_FLOAT, JV_STR, JV_LIST, JV_DICT, JV_NS, JV_FUNC } jv_type;
typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jfunc jfunc;
/* Provenance: every value knows whether it came from the request (messages,
 * tools, the caller's variables: "data") or from the template and the model
 * (literals, bos_token, what the template computes: "template"). A string
 * carries it per byte: m, when not NULL, has one byte per byte of p (1 =
 * data); else all its bytes are as taint says. Operations that copy or
 * transform bytes (concatenation, slices, filters, JSON) carry it along, so
 * the rendered text says which bytes a request wrote (template.h). */
typedef struct {
    jv_type t;
    bool tuple;    /* a list written (a, b) */
    uint8_t taint; /* 1: from request data (a string's bytes: unless m says per byte) */
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            const char *p;
            size_t n;
            const uint8_t *m; /* per-byte provenance, or NULL (taint) */
        } s;
        jlist *l;
        jdict *d;
        jfunc *fn;
    } u;
} jv;
struct jlist {
    size_t n, cap;
    jv *v;
};
struct jdict {
    size_t n, cap;
    const char **kp;
    size_t *kn;
    jv *v;
    jv *key; /* the keys as string values (their provenance) */
};

/* a growable byte buffer inside the arena, with the provenance of its bytes
 * (m: allocated when the first data byte arrives; tainted counts them) */
typedef struct {
    char *p;
    uint8_t *m;
    size_t n, cap, tainted;
} jbuf;

/* ---- lexer ---- */
typedef enum {
    JT_TEXT, JT_NUM, JT_STR, JT_IDENT, JT_EQUALS, JT_LPAREN, JT_RPAREN, JT_OPEN_STMT, JT_CLOSE_STMT,
    JT_OPEN_EXPR, JT_CLOSE_EXPR, JT_LBRACKET, JT_RBRACKET, JT_LBRACE, JT_RBRACE, JT_COMMA, JT_DOT,
    JT_COLON, JT_PIPE, JT_ADD, JT_MUL, JT_POW, JT_CMP, JT_UNARY, JT_COMMENT, JT_EOF
} jtok_type;
typedef struct {
    jtok_type t;
    const char *s; /* value (unescaped for strings) */
    size_t n;
    uint32_t pos; /* byte offset in the original template */
} jtok;

/* Shared by lexer, parser and evaluator: where errors go. */
typedef struct {
    const char *src; /* the original template */
    size_t src_len;
    hearth_error *err;
    jarena *arena;
} jsource;

/* Formats "template:LINE:COL: message" into err; returns code. */
hearth_status jerr(const jsource *js, uint32_t pos, hearth_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

hearth_status jinja_lex(const jsource *js, jtok **out, size_t *n);

/* ---- AST ---- */
typedef enum {
    N_TEXT, N_INT, N_FLOAT, N_STR, N_IDENT, N_LIST, N_TUPLE, N_DICT, N_MEMBER, N_SLICE, N_CALL, N_KWARG,
    N_UNARY, N_BINARY, N_FILTER, N_TEST, N_SELECT, N_TERNARY, N_SET, N_IF, N_FOR, N_MACRO, N_CALLBLOCK,
    N_BREAK, N_CONTINUE, N_FILTERBLOCK, N_COMMENT
} jnode_kind;
typedef struct jnode jnode;
typedef struct {
    jnode **v;
    size_t n;
} jnodes;
struct jnode {
    jnode_kind k;
    uint32_t pos;
    const char *s; /* identifier, string, operator, filter/test name */
    size_t n;
    int64_t i;
    double f;
    bool flag; /* member: computed; test: negated; filter: has a call */
    jnode *a, *b, *c;
    jnodes l1, l2;
};

hearth_status jinja_parse(const jsource *js, const jtok *toks, size_t n, jnodes *program);

/* ---- evaluation ---- */
typedef struct {
    size_t max_depth, max_iterations, max_output;
    int year, month, day; /* strftime_now */
} jlimits;

/* Renders program with the global variables in globals (a dict); out's
 * provenance says which bytes came from data. */
hearth_status jinja_render(const jsource *js, const jnodes *program, jdict *globals, const jlimits *lim,
                           jbuf *out);

/* ---- value helpers (jinja_value.c) ---- */
jv jv_str(const char *p, size_t n);
jv jv_int(int64_t i);
jv jv_bool(bool b);
jv jv_none(void);
jlist *jl_new(jarena *a);
bool jl_push(jarena *a, jlist *l, jv v);
jdict *jd_new(jarena *a);
jv *jd_get(const jdict *d, const char *k, size_t n);
/* a key the template wrote (or hearth's own names) */
bool jd_set(jarena *a, jdict *d, const char *k, size_t n, jv v);
/* a key given as a string value, keeping its provenance */
bool jd_set_key(jarena *a, jdict *d, jv key, jv v);
/* key i as a string value */
jv jd_key(const jdict *d, size_t i);
/* template bytes */
bool jb_put(jarena *a, jbuf *b, const char *p, size_t n);
bool jb_puts(jarena *a, jbuf *b, const char *s);
/* bytes all of one provenance (taint 0 or 1) */
bool jb_put_t(jarena *a, jbuf *b, const char *p, size_t n, uint8_t taint);
/* n bytes of string s from offset off, with their provenance */
bool jb_put_v(jarena *a, jbuf *b, jv s, size_t off, size_t n);
/* the buffer as a string value (with its provenance) */
jv jb_str(const jbuf *b);
/* provenance of byte i of string s; whether any byte of s is data */
static inline uint8_t jv_taint_at(jv s, size_t i) { return s.u.s.m ? s.u.s.m[i] : s.taint; }
bool jv_any_taint(jv s);
/* n bytes of string s from offset off (a view, provenance kept) */
jv jv_sub(jv s, size_t off, size_t n);
bool jv_truthy(jv v);
const char *jv_type_name(jv v);
/* Appends the value as @huggingface/jinja's toString() writes it. */
bool jv_append_str(jarena *a, jbuf *b, jv v);
/* JSON as the tojson filter writes it: indent < 0 for none, separators optional. */
typedef struct {
    int indent;
    bool ensure_ascii, sort_keys, undef_as_null;
    const jv *item_sep, *key_sep; /* NULL: the defaults */
} jjson_opts;
bool jv_append_json(jarena *a, jbuf *b, jv v, const jjson_opts *o, int depth);
/* NULL when v converts to JSON, else the type that does not (as
 * @huggingface/jinja: tuples, functions, and cycles through namespaces). */
const char *jv_unjsonable(jv v, int depth);
/* A JS number's text (Number.prototype.toString). */
void jv_js_number(double f, char *buf, size_t cap);

#endif
