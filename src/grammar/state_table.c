#include "grammar/state_table.h"

#include <stdlib.h>
#include <string.h>

/* Past this the table starts over (between walks): memory stays bounded
 * whatever the grammar and the text (a state's moves take 1 KB). */
enum { MAX_STATES = 8192, UNKNOWN = UINT32_MAX - 2 };

typedef struct {
    grammar_state s;
    uint64_t hash;
    uint32_t *moves;           /* by byte: the next state, or UNKNOWN (NULL: none known yet) */
    uint32_t loop[8], exit[8]; /* bytes known to lead back to this state, or elsewhere */
    bool text_known, text_uniform; /* every class on top treats non-ASCII characters alike */
    uint32_t text_to;          /* then where every non-ASCII character leads (STATE_DEAD: nowhere) */
    bool same_known;
    uint32_t same[8];          /* bytes of as's range (ASCII, or continuation bytes) that lead where as leads */
    uint32_t same_to;          /* that state */
    uint8_t same_as;           /* the byte it was computed for */
} entry;

struct state_table {
    const grammar *g;
    uint32_t max_states;
    entry *states;
    uint32_t n_states, cap_states;
    uint32_t *index; /* open addressing over states by hash: id + 1, 0 empty */
    uint32_t index_cap;
    grammar_state scratch;
    grammar_scratch w;
};

static uint64_t hash_state(const grammar_state *s) {
    uint64_t h = 1469598103934665603ull ^ s->partial ^ ((uint64_t)s->left << 40) ^ ((uint64_t)s->need << 48);
    for (size_t i = 0; i < s->len; i++) h = (h ^ s->data[i]) * 1099511628211ull;
    return h;
}

static bool same(const grammar_state *a, const grammar_state *b) {
    return a->len == b->len && a->partial == b->partial && a->left == b->left && a->need == b->need &&
           (!a->len || memcmp(a->data, b->data, a->len * sizeof *a->data) == 0);
}

state_table *state_table_create(const grammar *g) {
    state_table *t = calloc(1, sizeof *t);
    if (t) t->g = g, t->max_states = MAX_STATES;
    return t;
}

void state_table_limit(state_table *t, uint32_t max_states) {
    t->max_states = max_states < 1 ? 1 : max_states > MAX_STATES ? MAX_STATES : max_states;
}

const grammar_state *state_table_state(const state_table *t, uint32_t id) { return &t->states[id].s; }

/* The tables (some MiB) come with the first walk: a matcher that only
 * checks tokens (accept) never needs them. */
static bool ready(state_table *t) {
    if (t->index) return true;
    t->index = calloc(2 * MAX_STATES, sizeof *t->index);
    if (!t->index) return false;
    t->index_cap = 2 * MAX_STATES;
    return true;
}

static void clear(state_table *t) {
    for (uint32_t i = 0; i < t->n_states; i++) {
        grammar_state_free(&t->states[i].s);
        free(t->states[i].moves);
    }
    t->n_states = 0;
    memset(t->index, 0, t->index_cap * sizeof *t->index);
}

void state_table_free(state_table *t) {
    if (!t) return;
    if (t->index) clear(t);
    free(t->states);
    free(t->index);
    grammar_state_free(&t->scratch);
    grammar_scratch_free(&t->w);
    free(t);
}

void state_table_trim(state_table *t) {
    if (t->index && t->n_states + t->max_states / 32 >= t->max_states) clear(t);
}

uint32_t state_table_intern(state_table *t, const grammar_state *s) {
    if (grammar_state_dead(s)) return STATE_DEAD;
    if (!ready(t)) return STATE_FULL;
    uint64_t h = hash_state(s);
    uint32_t i = (uint32_t)h & (t->index_cap - 1);
    for (; t->index[i]; i = (i + 1) & (t->index_cap - 1)) {
        entry *e = &t->states[t->index[i] - 1];
        if (e->hash == h && same(&e->s, s)) return t->index[i] - 1;
    }
    if (t->n_states >= t->max_states) return STATE_FULL; /* until the next trim */
    if (t->n_states == t->cap_states) {
        uint32_t cap = t->cap_states ? 2 * t->cap_states : 64;
        entry *n = realloc(t->states, cap * sizeof *n);
        if (!n) return STATE_FULL;
        t->states = n;
        t->cap_states = cap;
    }
    entry *e = &t->states[t->n_states];
    memset(e, 0, sizeof *e);
    if (!grammar_state_copy(&e->s, s)) return STATE_FULL;
    e->hash = h;
    t->index[i] = ++t->n_states;
    return t->n_states - 1;
}

uint32_t state_table_next(state_table *t, uint32_t id, uint8_t b) {
    if (id >= STATE_FULL) return id;
    const uint32_t *known = t->states[id].moves;
    if (known && known[b] != UNKNOWN) return known[b];
    /* the states array may move while interning: copy what we step from */
    uint32_t to = STATE_DEAD;
    if (grammar_state_byte(t->g, &t->states[id].s, b, &t->scratch, &t->w)) to = state_table_intern(t, &t->scratch);
    entry *e = &t->states[id];
    if (!e->moves && (e->moves = malloc(256 * sizeof *e->moves)))
        for (int i = 0; i < 256; i++) e->moves[i] = UNKNOWN;
    if (e->moves) e->moves[b] = to; /* without memory, asked again next time */
    return to;
}

/* Where every non-ASCII character leads from id, when they all lead to the
 * same state: every class on top treats them alike, so one of them (U+00E9)
 * stands for all. False when they may differ (or the table is full). */
static bool text_next(state_table *t, uint32_t id, uint32_t *to) {
    entry *e = &t->states[id];
    if (!e->text_known) {
        bool uniform = grammar_state_nonascii_uniform(t->g, &e->s);
        uint32_t next = uniform ? state_table_next(t, state_table_next(t, id, 0xC3), 0xA9) : STATE_DEAD;
        /* a full table gives no number: not known, asked again after the next trim */
        if (next == STATE_FULL) return false;
        e = &t->states[id]; /* stepping may have moved the states */
        e->text_uniform = uniform;
        e->text_to = next;
        e->text_known = true;
    }
    *to = e->text_to;
    return e->text_uniform;
}

/* The bytes that lead from id where byte `as` leads, of as's range: ASCII,
 * or continuation bytes (0x80..0xBF, after a character's first byte). */
static const uint32_t *same_as(state_table *t, uint32_t id, uint8_t as, uint32_t *to) {
    if (!t->states[id].same_known || t->states[id].same_as != as) {
        uint32_t target = state_table_next(t, id, as), same[8] = {0};
        int lo = as < 0x80 ? 0 : 0x80, hi = as < 0x80 ? 0x80 : 0xC0;
        for (int b = lo; b < hi; b++)
            if (state_table_next(t, id, (uint8_t)b) == target) same[b >> 5] |= 1u << (b & 31);
        entry *e = &t->states[id];
        memcpy(e->same, same, sizeof same);
        e->same_to = target;
        e->same_as = as;
        e->same_known = true;
    }
    *to = t->states[id].same_to;
    return t->states[id].same;
}

/* The first continuation byte (0x80..0xBF) of a set, or -1. */
static int first_continuation(const uint32_t bytes[8]) {
    if (bytes[4]) return 0x80 + __builtin_ctz(bytes[4]);
    if (bytes[5]) return 0xA0 + __builtin_ctz(bytes[5]);
    return -1;
}

int state_table_chain(state_table *t, uint32_t id, const uint32_t bytes[8], int height) {
    /* inside a character (the subtree's byte started it): its continuation bytes come first, and
     * count as no character of their own; every one in the set must lead to the same state */
    while (id < STATE_FULL && t->states[id].s.left > 0 && height > 0) {
        int cont = first_continuation(bytes);
        if (cont < 0) return -1;
        uint32_t to;
        const uint32_t *same = same_as(t, id, (uint8_t)cont, &to);
        if (to == STATE_FULL || (bytes[4] & ~same[4]) || (bytes[5] & ~same[5])) return -1;
        /* only the subtree's own tokens live (their character cut short), but the tokens below
         * count no character for these bytes: no count tells them apart */
        if (to == STATE_DEAD) return -1;
        id = to;
        height--;
    }
    bool text = bytes[4] | bytes[5] | bytes[6] | bytes[7];
    int first = -1;
    for (int w = 0; w < 4 && first < 0; w++)
        if (bytes[w]) first = w * 32 + __builtin_ctz(bytes[w]);
    /* a string of at most `height` bytes has at most that many characters: a chain that long takes it */
    for (int i = 0; i < height; i++) {
        uint32_t to = STATE_DEAD, text_to = STATE_DEAD;
        if (first >= 0) {
            const uint32_t *same = same_as(t, id, (uint8_t)first, &to);
            if (to == STATE_FULL) return -1;
            for (int w = 0; w < 4; w++)
                if (bytes[w] & ~same[w]) return -1;
        }
        if (text && (!text_next(t, id, &text_to) || (first >= 0 && text_to != to))) return -1;
        if (text) to = text_to;
        /* nothing of the set goes on, not even a character's first byte (a negated class would take
         * one, to be checked once complete): the chain ends cleanly */
        if (to == STATE_DEAD) return !text || state_table_next(t, id, 0xC3) == STATE_DEAD ? i : -1;
        id = to;
    }
    return height;
}

bool state_table_loops(state_table *t, uint32_t id, const uint32_t bytes[8]) {
    for (int w = 0; w < 4; w++)
        if (bytes[w] & t->states[id].exit[w]) return false;
    uint32_t text_to;
    if ((bytes[4] | bytes[5] | bytes[6] | bytes[7]) && (!text_next(t, id, &text_to) || text_to != id)) return false;
    for (int w = 0; w < 4; w++) {
        uint32_t unknown = bytes[w] & ~t->states[id].loop[w];
        while (unknown) {
            int bit = __builtin_ctz(unknown);
            unknown &= unknown - 1;
            uint32_t to = state_table_next(t, id, (uint8_t)(w * 32 + bit));
            if (to != id) {
                t->states[id].exit[w] |= 1u << bit;
                return false;
            }
            t->states[id].loop[w] |= 1u << bit;
        }
    }
    return true;
}
