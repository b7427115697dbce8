/* Special tokens in input text (llama.cpp's tokenizer_st_partition).
 *
 * llama.cpp takes the special tokens longest first and, for each, splits every
 * remaining raw-text fragment at all its non-overlapping occurrences, left to
 * right. That is not "longest match at each position": with tokens "bcd" and
 * "ab", "abcd" gives "a" + <bcd>. We reproduce the same result without
 * scanning the text once per special token: a trie pass finds which special
 * tokens occur at all, then only those are placed, in llama.cpp's order, on a
 * per-byte map of what is still raw text. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

/* ---- trie of special token texts ---- */

static uint64_t trie_key(size_t node, uint8_t byte) { return (((uint64_t)node << 8) | byte) + 1; }

static size_t trie_slot(const tok_trie *tr, uint64_t key) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & tr->mask;
}

static int32_t trie_child(const tok_trie *tr, size_t node, uint8_t byte) {
    uint64_t key = trie_key(node, byte);
    for (size_t i = trie_slot(tr, key);; i = (i + 1) & tr->mask) {
        if (tr->keys[i] == key) return tr->child[i];
        if (tr->keys[i] == 0) return -1;
    }
}

void tok_trie_free(tok_trie *tr) {
    free(tr->keys);
    free(tr->child);
    free(tr->token);
    memset(tr, 0, sizeof *tr);
}

hearth_status tok_trie_build(hearth_tokenizer *t, hearth_error *err) {
    tok_trie *tr = &t->trie;
    size_t total = 1;
    for (int32_t r = 0; r < t->n_specials; r++) total += t->tok_len[t->specials[r]];
    size_t cap = 16;
    while (cap < total * 2 && cap < SIZE_MAX / 16) cap <<= 1;
    bool fits = cap >= total * 2;
    tr->keys = fits ? calloc(cap, sizeof *tr->keys) : NULL;
    tr->child = fits ? tok_alloc(cap, sizeof *tr->child) : NULL;
    tr->token = fits ? tok_alloc(total, sizeof *tr->token) : NULL;
    if (!tr->keys || !tr->child || !tr->token)
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory for the special token trie");
    tr->mask = cap - 1;
    tr->n_nodes = 1;
    tr->token[0] = -1;
    for (int32_t r = 0; r < t->n_specials; r++) {
        const uint8_t *s = (const uint8_t *)tok_text(t, t->specials[r]);
        size_t n = t->tok_len[t->specials[r]];
        size_t node = 0;
        for (size_t k = 0; k < n; k++) {
            int32_t c = trie_child(tr, node, s[k]);
            if (c < 0) {
                uint64_t key = trie_key(node, s[k]);
                size_t i = trie_slot(tr, key);
                while (tr->keys[i]) i = (i + 1) & tr->mask;
                c = (int32_t)tr->n_nodes++;
                tr->keys[i] = key;
                tr->child[i] = c;
                tr->token[c] = -1;
            }
            node = (size_t)c;
        }
        tr->token[node] = r; /* texts are unique: one token per node */
    }
    return HEARTH_OK;
}

/* ---- partition ---- */

enum { RAW = 0, TOKEN = 1, DROPPED = 2 };

typedef struct {
    size_t pos;
    int32_t id;
} placed;

static int cmp_placed(const void *a, const void *b) {
    const placed *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* isspace() of the C locale, which llama.cpp's lstrip/rstrip use */
static bool c_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static bool active(const hearth_tokenizer *t, int32_t id, bool parse_special) {
    /* without parse_special only user-defined tokens are split out */
    return parse_special || !(t->attr[id] & (TOK_ATTR_CONTROL | TOK_ATTR_UNKNOWN));
}

hearth_status tok_partition(const hearth_tokenizer *t, const char *text, size_t len, bool parse_special,
                            const uint8_t *protect, tok_fragment **frags, size_t *n_frags, hearth_error *err) {
    const uint8_t *s = (const uint8_t *)text;
    const tok_trie *tr = &t->trie;
    hearth_status st = HEARTH_OK;
    size_t *first = NULL; /* per special rank: first position it occurs at, or SIZE_MAX */
    uint8_t *state = NULL;
    placed *pl = NULL;
    size_t n_pl = 0, cap_pl = 0;
    tok_fragment *fr = NULL;
    size_t n_fr = 0;
    bool any = false;

    *frags = NULL;
    *n_frags = 0;

    if (t->n_specials > 0) {
        first = tok_alloc((size_t)t->n_specials, sizeof *first);
        if (!first) goto nomem;
        memset(first, 0xff, (size_t)t->n_specials * sizeof *first);
        for (size_t p = 0; p < len; p++) {
            size_t node = 0;
            for (size_t k = p; k < len; k++) {
                int32_t c = trie_child(tr, node, s[k]);
                if (c < 0) break;
                node = (size_t)c;
                int32_t r = tr->token[node];
                if (r >= 0 && first[r] == SIZE_MAX && active(t, t->specials[r], parse_special)) {
                    first[r] = p;
                    any = true;
                }
            }
        }
    }

    if (any) {
        state = calloc(len, 1);
        if (!state) goto nomem;
        for (int32_t r = 0; r < t->n_specials; r++) {
            if (first[r] == SIZE_MAX) continue;
            int32_t id = t->specials[r];
            const uint8_t *tx = (const uint8_t *)tok_text(t, id);
            size_t tl = t->tok_len[id];
            for (size_t q = first[r]; q + tl <= len;) {
                const uint8_t *hit = memchr(s + q, tx[0], len - tl + 1 - q);
                if (!hit) break;
                q = (size_t)(hit - s);
                bool ok = memcmp(s + q, tx, tl) == 0;
                for (size_t k = 0; ok && k < tl; k++) ok = state[q + k] == RAW && !(protect && protect[q + k]);
                if (!ok) {
                    q++;
                    continue;
                }
                memset(state + q, TOKEN, tl);
                if (t->attr[id] & TOK_ATTR_LSTRIP)
                    for (size_t k = q; k > 0 && state[k - 1] == RAW && c_space(s[k - 1]); k--) state[k - 1] = DROPPED;
                if (t->attr[id] & TOK_ATTR_RSTRIP)
                    for (size_t k = q + tl; k < len && state[k] == RAW && c_space(s[k]); k++) state[k] = DROPPED;
                if (n_pl == cap_pl) {
                    cap_pl = cap_pl ? cap_pl * 2 : 16;
                    placed *np = cap_pl <= SIZE_MAX / sizeof *np ? realloc(pl, cap_pl * sizeof *np) : NULL;
                    if (!np) goto nomem;
                    pl = np;
                }
                pl[n_pl++] = (placed){q, id};
                q += tl;
            }
        }
        if (n_pl) qsort(pl, n_pl, sizeof *pl, cmp_placed); /* none: every occurrence was protected */
    }

    /* fragments: placed tokens, and the maximal runs of raw bytes between them */
    fr = tok_alloc(2 * n_pl + 1, sizeof *fr);
    if (!fr) goto nomem;
    {
        size_t p = 0, next = 0;
        while (p < len) {
            if (next < n_pl && pl[next].pos == p) {
                fr[n_fr++] = (tok_fragment){pl[next].id, p, t->tok_len[pl[next].id]};
                p += t->tok_len[pl[next].id];
                next++;
                continue;
            }
            if (state && state[p] == DROPPED) {
                p++;
                continue;
            }
            size_t e = p;
            while (e < len && (!state || state[e] == RAW)) e++;
            fr[n_fr++] = (tok_fragment){-1, p, e - p};
            p = e;
        }
    }
    *frags = fr;
    *n_frags = n_fr;
    fr = NULL;
    goto done;

nomem:
    st = hearth_fail(err, HEARTH_E_NOMEM, "tokenizer: out of memory for a %zu-byte text", len);
done:
    free(first);
    free(state);
    free(pl);
    free(fr);
    return st;
}
