/* Grammar states by number, and the moves between them by byte, kept from
 * step to step: walking the vocabulary trie (token_mask.c) asks "state s,
 * then byte b?" hundreds of thousands of times per token, for a handful of
 * distinct states (inside a JSON string every plain character leads to the
 * same state). The first time costs a real step of the matcher (matcher.h),
 * every later one an array lookup. It also answers whether a set of bytes all
 * lead back to the same state (a loop such as a string's characters), so
 * the walk can allow a whole subtree of tokens made of those bytes at once. */
#ifndef HEARTH_GRAMMAR_STATE_TABLE_H
#define HEARTH_GRAMMAR_STATE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "grammar/grammar.h"
#include "grammar/matcher.h"

/* STATE_FULL: the table holds as many states as it may, so the state after
 * that move has no number; the caller steps on without the table (matcher.h)
 * from state_table_state of where it came from. Not an error: a single walk
 * can meet more states than the table keeps (a huge enum). */
enum { STATE_DEAD = UINT32_MAX, STATE_FULL = UINT32_MAX - 1 };

typedef struct state_table state_table;

state_table *state_table_create(const grammar *g); /* NULL: out of memory */
void state_table_free(state_table *t);
/* Keeps at most max_states states (tests: a small table exercises STATE_FULL). */
void state_table_limit(state_table *t, uint32_t max_states);
/* The state numbered id. */
const grammar_state *state_table_state(const state_table *t, uint32_t id);
/* Forgets everything once it holds more than its bounds (call between walks). */
void state_table_trim(state_table *t);
/* The number of s (STATE_DEAD: a dead state; STATE_FULL: no room, or out of memory). */
uint32_t state_table_intern(state_table *t, const grammar_state *s);
/* The state after byte b from state id (STATE_DEAD when nothing takes it,
 * STATE_FULL when it has no number). id may be STATE_DEAD or STATE_FULL:
 * the answer is the same. */
uint32_t state_table_next(state_table *t, uint32_t id, uint8_t b);
/* Whether every byte in bytes (a 256-bit set) leads from id back to id;
 * non-ASCII bytes count when every well-formed non-ASCII character leads
 * back to id (the caller makes sure the bytes form such characters). */
bool state_table_loops(state_table *t, uint32_t id, const uint32_t bytes[8]);

/* How many characters of a string from bytes id takes, for strings of at
 * most `height` bytes: at each step, each ASCII byte of the set and (when
 * the set has non-ASCII bytes) every non-ASCII character lead to the same
 * next state (a bounded string's characters: maxLength counts down). height:
 * every such string is taken; n < height: exactly those of at most n
 * characters (then none of the set goes on: a character cut short counts
 * as one); -1: neither (the set's bytes lead apart). Non-ASCII bytes count
 * as for state_table_loops. */
int state_table_chain(state_table *t, uint32_t id, const uint32_t bytes[8], int height);

#endif
