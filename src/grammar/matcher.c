#include "grammar/matcher.h"

#include <stdlib.h>
#include <string.h>

static bool reserve(uint32_t **p, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    uint32_t *q = realloc(*p, c * sizeof *q);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static void state_clear(grammar_state *s) {
    s->len = 0;
    s->n_stacks = 0;
    s->partial = 0;
    s->left = s->need = 0;
}

/* Adds a stack unless the state has it already. */
static bool add_stack(grammar_state *s, const uint32_t *stack, uint32_t n) {
    for (size_t i = 0; i < s->len; i += 1 + s->data[i])
        if (s->data[i] == n && memcmp(s->data + i + 1, stack, n * sizeof *stack) == 0) return true;
    if (s->n_stacks >= GRAMMAR_MAX_STACKS || !reserve(&s->data, &s->cap, s->len + 1 + n)) return false;
    s->data[s->len] = n;
    memcpy(s->data + s->len + 1, stack, n * sizeof *stack);
    s->len += 1 + n;
    s->n_stacks++;
    return true;
}

static bool is_end(const grammar_elem *e) { return e->type == GE_END || e->type == GE_ALT; }

/* Expands stack (n positions) until each result has a character element on
 * top (or is empty: the text may end there) and adds the results to out.
 * A work list instead of recursion: rules nest as deep as the grammar says.
 * Each entry of the list is its positions followed by its length, so the
 * last one pops in O(1). */
static bool expand(const grammar *g, const uint32_t *stack, uint32_t n, grammar_state *out, grammar_scratch *w,
                   int *budget) {
    const grammar_elem *el = grammar_elems(g);
    uint32_t cur[GRAMMAR_MAX_DEPTH];
    if (n > GRAMMAR_MAX_DEPTH || !reserve(&w->todo, &w->cap, n + 1)) return false;
    memcpy(w->todo, stack, n * sizeof *stack);
    w->todo[n] = n;
    w->len = n + 1;
    while (w->len) {
        uint32_t m = w->todo[w->len - 1];
        w->len -= 1 + m;
        memcpy(cur, w->todo + w->len, m * sizeof *cur);
        if (--*budget < 0) return false;
        if (m == 0 || el[cur[m - 1]].type != GE_RULE) {
            if (!add_stack(out, cur, m)) return false;
            continue;
        }
        uint32_t pos = cur[m - 1]; /* the top: a rule reference */
        /* the stack under the reference, its continuation, then each alternative */
        uint32_t base = m - 1;
        if (!is_end(&el[pos + 1])) cur[base++] = pos + 1;
        for (uint32_t a = grammar_rule_start(g, el[pos].value);;) {
            uint32_t k = base + (is_end(&el[a]) ? 0 : 1);
            if (k > GRAMMAR_MAX_DEPTH || !reserve(&w->todo, &w->cap, w->len + k + 1)) return false;
            memcpy(w->todo + w->len, cur, base * sizeof *cur);
            if (k > base) w->todo[w->len + base] = a;
            w->todo[w->len + k] = k;
            w->len += k + 1;
            while (!is_end(&el[a])) a++;
            if (el[a].type == GE_END) break;
            a++;
        }
    }
    return true;
}

hearth_status grammar_state_start(const grammar *g, grammar_state *s, grammar_scratch *w, hearth_error *err) {
    state_clear(s);
    const grammar_elem *el = grammar_elems(g);
    int budget = GRAMMAR_MAX_EXPANSIONS;
    bool ok = true;
    for (uint32_t a = grammar_rule_start(g, grammar_root(g)); ok;) {
        uint32_t stack[1] = {a};
        ok = expand(g, stack, is_end(&el[a]) ? 0 : 1, s, w, &budget);
        while (!is_end(&el[a])) a++;
        if (el[a].type == GE_END) break;
        a++;
    }
    if (!ok)
        return hearth_fail(err, HEARTH_E_ARG, "grammar: too ambiguous or too deep at its start (more than %d parses)",
                           GRAMMAR_MAX_STACKS);
    return HEARTH_OK;
}

/* Whether the character class at pos matches cp; *next: the element after it. */
static bool class_match(const grammar_elem *el, uint32_t pos, uint32_t cp, uint32_t *next) {
    bool positive = el[pos].type != GE_CHAR_NOT, found = false;
    if (el[pos].type == GE_ANY) {
        *next = pos + 1;
        return true;
    }
    do {
        uint32_t lo = el[pos].value;
        if (el[pos + 1].type == GE_RNG_UPPER) {
            found = found || (cp >= lo && cp <= el[pos + 1].value);
            pos += 2;
        } else {
            found = found || cp == lo;
            pos += 1;
        }
    } while (el[pos].type == GE_CHAR_ALT);
    *next = pos;
    return found == positive;
}

/* Whether the class at pos can match some code point in [lo, hi]; a negated
 * class is taken to (a split character is checked exactly once complete). */
static bool class_may_match(const grammar_elem *el, uint32_t pos, uint32_t lo, uint32_t hi) {
    if (el[pos].type == GE_ANY || el[pos].type == GE_CHAR_NOT) return true;
    do {
        uint32_t a = el[pos].value, b = a;
        if (el[pos + 1].type == GE_RNG_UPPER) b = el[pos + 1].value, pos += 2;
        else pos += 1;
        if (a <= hi && b >= lo) return true;
    } while (el[pos].type == GE_CHAR_ALT);
    return false;
}

static bool advance_cp(const grammar *g, const grammar_state *in, uint32_t cp, grammar_state *out,
                       grammar_scratch *w) {
    const grammar_elem *el = grammar_elems(g);
    int budget = GRAMMAR_MAX_EXPANSIONS;
    uint32_t buf[GRAMMAR_MAX_DEPTH];
    for (size_t i = 0; i < in->len; i += 1 + in->data[i]) {
        uint32_t n = in->data[i];
        if (n == 0) continue; /* a finished parse takes no more text */
        const uint32_t *st = in->data + i + 1;
        uint32_t next;
        if (!class_match(el, st[n - 1], cp, &next)) continue;
        memcpy(buf, st, (n - 1) * sizeof *buf);
        uint32_t m = n - 1;
        if (!is_end(&el[next])) buf[m++] = next;
        if (!expand(g, buf, m, out, w, &budget)) {
            state_clear(out);
            return false;
        }
    }
    return out->n_stacks > 0;
}

static bool stacks_nonascii_uniform(const grammar *g, const grammar_state *s);

/* The bytes so far of a character that every stack's class takes or refuses
 * whatever it is (a JSON string's plain characters), as one representative
 * of those that allow the same next bytes: after the lead byte, the leads
 * that restrict the second byte (E0, ED, F0, F4) stay, the others become
 * C3, E1 or F1; after the second, any prefix allows any continuation. Then a
 * counted string (maxLength) has a few states per count, not one per
 * prefix of every non-ASCII token in the vocabulary (state_table.h). */
static uint32_t canonical_partial(uint32_t cp, uint8_t need, uint8_t left) {
    uint8_t got = need - left;
    if (got >= 2) return got == 2 ? 0x40 : 0x1000;                     /* E1 80 or F1 80, F1 80 80 */
    if (need == 2) return 0x03;                                        /* C3 */
    if (need == 3) return cp == 0x0 || cp == 0xD ? cp : 0x1;           /* E0, ED, else E1 */
    return cp == 0x0 || cp == 0x4 ? cp : 0x1;                          /* F0, F4, else F1 */
}

bool grammar_state_byte(const grammar *g, const grammar_state *in, uint8_t byte, grammar_state *out,
                        grammar_scratch *w) {
    state_clear(out);
    uint32_t cp;
    uint8_t left, need;
    if (in->left == 0) {
        if (byte < 0x80) return advance_cp(g, in, byte, out, w);
        if (byte >= 0xC2 && byte <= 0xDF) need = 2, cp = byte & 0x1F;
        else if (byte >= 0xE0 && byte <= 0xEF) need = 3, cp = byte & 0x0F;
        else if (byte >= 0xF0 && byte <= 0xF4) need = 4, cp = byte & 0x07;
        else return false;
        left = need - 1;
    } else {
        if ((byte & 0xC0) != 0x80) return false;
        cp = (in->partial << 6) | (byte & 0x3F);
        need = in->need;
        left = in->left - 1;
    }
    if (left == 0) {
        if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        return advance_cp(g, in, cp, out, w);
    }
    /* a character still incomplete: the stacks stay, if one can take a
     * code point that starts with these bytes */
    uint32_t lo = cp << (6 * left), hi = lo | ((1u << (6 * left)) - 1);
    /* the shortest form only: a 4-byte character is at least U+10000 */
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (lo < least[need]) lo = least[need];
    if (hi > 0x10FFFF) hi = 0x10FFFF;
    if (lo > hi || (lo >= 0xD800 && hi <= 0xDFFF)) return false; /* nothing valid, or only surrogates, can follow */
    bool any = false;
    const grammar_elem *el = grammar_elems(g);
    for (size_t i = 0; i < in->len && !any; i += 1 + in->data[i])
        any = in->data[i] && class_may_match(el, in->data[i + in->data[i]], lo, hi);
    if (!any || !grammar_state_copy(out, in)) {
        state_clear(out);
        return false;
    }
    if (stacks_nonascii_uniform(g, in)) cp = canonical_partial(cp, need, left);
    out->partial = cp;
    out->left = left;
    out->need = need;
    return true;
}

/* Whether the class at pos matches all of [lo, hi] (1), none of it (0), or
 * maybe part (-1: one range must cover it all for "all"; anything else that
 * touches it is "part"). */
static int class_covers(const grammar_elem *el, uint32_t pos, uint32_t lo, uint32_t hi) {
    if (el[pos].type == GE_ANY) return 1;
    bool positive = el[pos].type != GE_CHAR_NOT, all = false, touches = false;
    do {
        uint32_t a = el[pos].value, b = a;
        if (el[pos + 1].type == GE_RNG_UPPER) b = el[pos + 1].value, pos += 2;
        else pos += 1;
        touches = touches || (a <= hi && b >= lo);
        all = all || (a <= lo && b >= hi);
    } while (el[pos].type == GE_CHAR_ALT);
    if (!all && touches) return -1;
    return all == positive ? 1 : 0;
}

static bool stacks_nonascii_uniform(const grammar *g, const grammar_state *s) {
    const grammar_elem *el = grammar_elems(g);
    for (size_t i = 0; i < s->len; i += 1 + s->data[i])
        if (s->data[i] && class_covers(el, s->data[i + s->data[i]], 0x80, 0x10FFFF) < 0) return false;
    return true;
}

bool grammar_state_nonascii_uniform(const grammar *g, const grammar_state *s) {
    return !s->left && stacks_nonascii_uniform(g, s);
}

bool grammar_state_accepts(const grammar_state *s) {
    if (s->left) return false;
    for (size_t i = 0; i < s->len; i += 1 + s->data[i])
        if (s->data[i] == 0) return true;
    return false;
}

bool grammar_state_copy(grammar_state *dst, const grammar_state *src) {
    if (!reserve(&dst->data, &dst->cap, src->len)) return false;
    if (src->len) memcpy(dst->data, src->data, src->len * sizeof *src->data);
    dst->len = src->len;
    dst->n_stacks = src->n_stacks;
    dst->partial = src->partial;
    dst->left = src->left;
    dst->need = src->need;
    return true;
}

void grammar_state_free(grammar_state *s) {
    free(s->data);
    *s = (grammar_state){0};
}

void grammar_scratch_free(grammar_scratch *w) {
    free(w->todo);
    *w = (grammar_scratch){0};
}
