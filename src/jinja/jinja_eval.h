/* Internal to the Jinja evaluator (jinja_eval.c, jinja_builtins.c). */
#ifndef HEARTH_JINJA_EVAL_H
#define HEARTH_JINJA_EVAL_H

#include "jinja/jinja.h"

typedef struct jscope jscope;
struct jscope {
    jscope *parent;
    jdict *vars;
};

typedef enum { F_NAMESPACE, F_RAISE, F_RANGE, F_STRFTIME, F_MACRO, F_CALLER, F_METHOD } jfunc_kind;
struct jfunc {
    jfunc_kind k;
    const jnode *node; /* macro or call block */
    jscope *env;       /* call block: where it was written */
    jv self;           /* method: the bound value */
    const char *name;  /* method name */
    size_t n;
};

/* Results of executing statements. */
enum { J_OK = 0, J_ERR, J_BREAK, J_CONTINUE };

typedef struct {
    const jsource *js;
    jarena *a;
    jlimits lim;
    size_t depth, iterations, emitted;
} jctx;

/* Errors: fill the hearth_error and return J_ERR. */
int jx_fail(jctx *c, uint32_t pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int jx_nomem(jctx *c, uint32_t pos);

int jx_eval(jctx *c, const jnode *n, jscope *s, jv *out);
int jx_call(jctx *c, jv fn, jlist *args, jdict *kwargs, jscope *s, uint32_t pos, jv *out);
/* evaluated call arguments */
int jx_args(jctx *c, const jnodes *l, jscope *s, jlist **args, jdict **kwargs);

/* jinja_builtins.c */
int jx_filter(jctx *c, jv v, const jnode *f, jscope *s, jv *out);
int jx_test(jctx *c, const char *name, size_t n, jv v, jv arg, bool has_arg, uint32_t pos, bool *out);
/* attribute of a non-dict value, or a dict's methods: *found false when there is none */
int jx_builtin_attr(jctx *c, jv obj, const char *name, size_t n, uint32_t pos, jv *out);
int jx_call_method(jctx *c, const jfunc *f, jlist *args, jdict *kwargs, uint32_t pos, jv *out);
int jx_call_global(jctx *c, const jfunc *f, jlist *args, jdict *kwargs, uint32_t pos, jv *out);
bool jx_str_eq(jv a, const char *s);
/* the text of v as JavaScript's String(v.value) writes it (the + and ~ operators) */
int jx_js_str(jctx *c, jv v, uint32_t pos, jv *out);
bool jx_loose_eq(jv a, jv b);
bool jx_strict_eq(jv a, jv b);

#endif
