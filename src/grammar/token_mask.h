/* Which tokens a grammar allows next. The vocabulary's byte strings are put
 * in a trie once (vocab_trie); a mask walks it depth-first from the current
 * grammar state, one byte per edge, so tokens sharing a prefix share its
 * work and a dead prefix cuts off every token under it. Masks are cached by
 * state: inside a JSON string or a number the state repeats from token to
 * token, and a repeated state costs a copy. End-of-generation tokens are
 * allowed exactly when the text so far is complete; other control tokens
 * never. */
#ifndef HEARTH_GRAMMAR_TOKEN_MASK_H
#define HEARTH_GRAMMAR_TOKEN_MASK_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "grammar/grammar.h"
#include "tokenizer/tokenizer.h"

typedef struct vocab_trie vocab_trie;

hearth_status vocab_trie_build(vocab_trie **out, const hearth_tokenizer *t, hearth_error *err);
void vocab_trie_free(vocab_trie *v);
int vocab_trie_size(const vocab_trie *v); /* tokens, the mask's length in bits */

typedef struct grammar_matcher grammar_matcher;

/* A matcher at the start of g; g and trie must outlive it. */
hearth_status grammar_matcher_create(grammar_matcher **out, const grammar *g, const vocab_trie *trie,
                                     hearth_error *err);
void grammar_matcher_free(grammar_matcher *m);
/* Sets bit i of allowed ((vocab size + 31) / 32 words) for each token the
 * grammar allows now; returns how many (0: nothing can follow). */
int grammar_matcher_mask(grammar_matcher *m, uint32_t *allowed);
/* Advances over a token's bytes; false (and the state unchanged) when the
 * grammar does not allow it. An end-of-generation token is allowed when the
 * text is complete and leaves the state as it is. */
bool grammar_matcher_accept(grammar_matcher *m, int32_t token);
/* Advances over text (a prefix the host forced, tests). */
bool grammar_matcher_accept_text(grammar_matcher *m, const char *text, size_t len);
bool grammar_matcher_complete(const grammar_matcher *m);
/* Keeps at most max_states grammar states from walk to walk (tests: a full
 * table makes the walk step on without it, slower and the same mask). */
void grammar_matcher_limit_states(grammar_matcher *m, uint32_t max_states);

static inline bool token_allowed(const uint32_t *allowed, int32_t id) { return (allowed[id >> 5] >> (id & 31)) & 1; }

#endif
