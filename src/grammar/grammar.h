/* A context-free grammar in llama.cpp's GBNF notation (rules of literals,
 * character classes, rule references, groups, * + ? {m,n}), compiled to a
 * flat array of elements that the matcher (matcher.h) walks. Grammars come
 * from requests, so they are hostile input: text size, rule count, element
 * count, nesting and repetition counts are bounded, every referenced rule
 * must exist, and left recursion (which would make matching loop forever) is
 * refused. */
#ifndef HEARTH_GRAMMAR_H
#define HEARTH_GRAMMAR_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum {
    GE_END,       /* end of a rule */
    GE_ALT,       /* starts the next alternative of a rule */
    GE_RULE,      /* a reference to rule `value` */
    GE_CHAR,      /* a character class: one code point `value`, or the start of a range ... */
    GE_CHAR_NOT,  /* ... a negated class [^...] */
    GE_RNG_UPPER, /* the previous CHAR/CHAR_ALT is the lower bound of a range up to `value` */
    GE_CHAR_ALT,  /* one more code point of the same class */
    GE_ANY,       /* any code point (".") */
} grammar_elem_type;

typedef struct {
    uint32_t type; /* grammar_elem_type */
    uint32_t value;
} grammar_elem;

enum {
    GRAMMAR_MAX_TEXT = 1 << 20,     /* bytes of GBNF text */
    GRAMMAR_MAX_ELEMS = 1 << 20,    /* elements after repetitions are expanded */
    GRAMMAR_MAX_RULES = 1 << 16,
    GRAMMAR_MAX_NESTING = 64,       /* groups inside groups */
    GRAMMAR_MAX_REPEAT = 1000,      /* the m and n of {m,n} */
};

typedef struct grammar grammar;

/* Compiles GBNF text (len bytes); the start rule is `root`. */
hearth_status grammar_parse(grammar **out, const char *text, size_t len, hearth_error *err);
void grammar_free(grammar *g);

/* The elements: rule r's alternatives start at elems[rule_start(r)], each
 * ends with ALT or, the last one, END. */
const grammar_elem *grammar_elems(const grammar *g);
uint32_t grammar_rule_start(const grammar *g, uint32_t rule);
uint32_t grammar_root(const grammar *g);
uint32_t grammar_rule_count(const grammar *g);

#endif
