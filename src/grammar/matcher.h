/* Where a grammar (grammar.h) stands after some text: the set of parse
 * stacks still alive (each a list of element positions, the next expected
 * element on top), plus the bytes of a UTF-8 character that a token split.
 * Advanced a byte at a time, so a token's bytes can be tried against it and
 * a vocabulary trie walked over it (token_mask.h). Ambiguous grammars can
 * multiply stacks: their count, depth and the work of one step are bounded,
 * and a state past the bounds counts as dead (nothing more matches). */
#ifndef HEARTH_GRAMMAR_MATCHER_H
#define HEARTH_GRAMMAR_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "grammar/grammar.h"

enum {
    GRAMMAR_MAX_STACKS = 256,
    GRAMMAR_MAX_DEPTH = 512,      /* elements on one stack (nesting of the text) */
    GRAMMAR_MAX_EXPANSIONS = 8192 /* stacks visited while expanding one step */
};

typedef struct {
    uint32_t *data;   /* the stacks: a length, then that many positions, bottom first */
    size_t len, cap;
    uint32_t n_stacks;
    uint32_t partial; /* the code point so far of a split UTF-8 character */
    uint8_t left;     /* its continuation bytes still to come (0: none) */
    uint8_t need;     /* its total length */
} grammar_state;

/* Scratch memory of the expansion; one per user (not shared between threads). */
typedef struct {
    uint32_t *todo;
    size_t len, cap;
} grammar_scratch;

/* The state before any text. Fails only for memory, or a grammar whose start
 * already exceeds the bounds above. */
hearth_status grammar_state_start(const grammar *g, grammar_state *s, grammar_scratch *w, hearth_error *err);
/* out = in after one more byte; false (out dead) when no stack takes it. */
bool grammar_state_byte(const grammar *g, const grammar_state *in, uint8_t byte, grammar_state *out,
                        grammar_scratch *w);
/* Whether the text so far is a complete sentence of the grammar. */
bool grammar_state_accepts(const grammar_state *s);
/* Whether nothing more can match. */
static inline bool grammar_state_dead(const grammar_state *s) { return s->n_stacks == 0; }
/* Whether every stack's next character class treats all non-ASCII code
 * points (U+0080..U+10FFFF) alike: all match it, or none does. Then one such
 * character stands for all of them (state_table.h). */
bool grammar_state_nonascii_uniform(const grammar *g, const grammar_state *s);
bool grammar_state_copy(grammar_state *dst, const grammar_state *src);
void grammar_state_free(grammar_state *s);
void grammar_scratch_free(grammar_scratch *w);

#endif
