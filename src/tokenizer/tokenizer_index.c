/* Hash lookups of the tokenizer: token text -> id, merge pair -> rank. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

uint64_t tok_hash_bytes(const void *p, size_t n, uint64_t h) {
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static uint64_t pair_hash(const char *l, size_t ln, const char *r, size_t rn) {
    uint64_t h = tok_hash_bytes(l, ln, TOK_HASH_SEED);
    h = tok_hash_bytes("\xff", 1, h);
    return mix(tok_hash_bytes(r, rn, h));
}

static uint64_t text_hash(const char *s, size_t n) { return mix(tok_hash_bytes(s, n, TOK_HASH_SEED)); }

int32_t tok_lookup(const hearth_tokenizer *t, const char *s, size_t n) {
    if (n > t->max_token_len || !t->by_text.slots) return -1;
    size_t i = (size_t)text_hash(s, n) & t->by_text.mask;
    for (;;) {
        int32_t id = t->by_text.slots[i];
        if (id < 0) return -1;
        if (t->tok_len[id] == n && memcmp(tok_text(t, id), s, n) == 0) return id;
        i = (i + 1) & t->by_text.mask;
    }
}

int32_t tok_merge_rank(const hearth_tokenizer *t, const char *l, size_t ln, const char *r, size_t rn) {
    if (!t->by_pair.slots) return -1;
    size_t i = (size_t)pair_hash(l, ln, r, rn) & t->by_pair.mask;
    for (;;) {
        int32_t m = t->by_pair.slots[i];
        if (m < 0) return -1;
        const char *ms = t->mtext + t->m_off[m];
        size_t ml = t->m_split[m], mr = t->m_len[m] - ml - 1;
        if (ml == ln && mr == rn && memcmp(ms, l, ln) == 0 && memcmp(ms + ml + 1, r, rn) == 0) return m;
        i = (i + 1) & t->by_pair.mask;
    }
}

static hearth_status index_alloc(tok_index *x, size_t n, hearth_error *err) {
    size_t cap = 16;
    while (cap < n * 2 && cap < SIZE_MAX / 8) cap <<= 1;
    x->slots = cap >= n * 2 ? tok_alloc(cap, sizeof *x->slots) : NULL;
    if (!x->slots) return hearth_fail(err, HEARTH_E_NOMEM, "tokenizer: out of memory for a %zu-entry index", n);
    memset(x->slots, 0xff, cap * sizeof *x->slots);
    x->mask = cap - 1;
    return HEARTH_OK;
}

hearth_status tok_index_tokens(hearth_tokenizer *t, hearth_error *err) {
    hearth_status st = index_alloc(&t->by_text, (size_t)t->n_vocab, err);
    if (st) return st;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const char *s = tok_text(t, id);
        size_t n = t->tok_len[id];
        size_t i = (size_t)text_hash(s, n) & t->by_text.mask;
        for (;;) {
            int32_t other = t->by_text.slots[i];
            if (other < 0) break;
            if (t->tok_len[other] == n && memcmp(tok_text(t, other), s, n) == 0)
                return hearth_fail(err, HEARTH_E_FORMAT,
                                   "tokenizer.ggml.tokens: token %d has the same text as token %d (\"%.60s\")",
                                   (int)id, (int)other, s);
            i = (i + 1) & t->by_text.mask;
        }
        t->by_text.slots[i] = id;
    }
    return HEARTH_OK;
}

hearth_status tok_index_merges(hearth_tokenizer *t, hearth_error *err) {
    hearth_status st = index_alloc(&t->by_pair, (size_t)t->n_merges, err);
    if (st) return st;
    for (int32_t m = 0; m < t->n_merges; m++) {
        const char *ms = t->mtext + t->m_off[m];
        size_t ml = t->m_split[m], mr = t->m_len[m] - ml - 1;
        size_t i = (size_t)pair_hash(ms, ml, ms + ml + 1, mr) & t->by_pair.mask;
        bool dup = false;
        for (;;) {
            int32_t o = t->by_pair.slots[i];
            if (o < 0) break;
            const char *os = t->mtext + t->m_off[o];
            if (t->m_split[o] == ml && t->m_len[o] == t->m_len[m] && memcmp(os, ms, t->m_len[m]) == 0) {
                dup = true; /* the first (lowest) rank of a repeated merge wins, as in llama.cpp */
                break;
            }
            i = (i + 1) & t->by_pair.mask;
        }
        if (!dup) t->by_pair.slots[i] = m;
    }
    return HEARTH_OK;
}

hearth_status tok_vec_push(tok_vec *v, int32_t id, hearth_error *err) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int32_t *nv = cap <= SIZE_MAX / sizeof *nv ? realloc(v->v, cap * sizeof *nv) : NULL;
        if (!nv) return hearth_fail(err, HEARTH_E_NOMEM, "tokenizer: out of memory for %zu tokens", cap);
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = id;
    return HEARTH_OK;
}
