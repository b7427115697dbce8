/* Byte-level BPE (llama.cpp's llm_tokenizer_bpe): the pre-tokenizer splits
 * the text into words; each word's UTF-8 bytes are written as GPT-2's
 * byte-level characters; then the adjacent pair with the lowest merge rank
 * (leftmost on ties) merges until no pair has a rank. A heap of candidate
 * pairs keeps long words O(n log n). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/merge_heap.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

/* Texts are at most TOK_MAX_TEXT bytes, twice that once byte-level encoded. */
typedef struct {
    int32_t prev, next;
    uint32_t start, n; /* bytes in the encoded word; n = 0 once merged away */
} symbol;

typedef struct {
    const hearth_tokenizer *t;
    const char *word;
    symbol *sym;
    merge_heap h;
} session;

static void try_add(session *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const symbol *l = &s->sym[left], *r = &s->sym[right];
    int32_t rank = tok_merge_rank(s->t, s->word + l->start, l->n, s->word + r->start, r->n);
    if (rank < 0) return;
    merge_heap_push(&s->h, (merge_candidate){-(double)rank, left, right, l->n + r->n});
}

/* Merges one byte-level encoded word and appends its tokens. */
static hearth_status merge_word(session *s, size_t wlen, tok_vec *out, hearth_error *err) {
    const hearth_tokenizer *t = s->t;
    if (t->pre.ignore_merges) {
        int32_t id = tok_lookup(t, s->word, wlen);
        if (id >= 0) return tok_vec_push(out, id, err);
    }
    symbol *sym = s->sym;
    int32_t n_sym = 0;
    for (size_t off = 0; off < wlen;) {
        size_t n = unicode_len_utf8((uint8_t)s->word[off]);
        if (n > wlen - off) n = wlen - off;
        sym[n_sym] = (symbol){n_sym - 1, off + n == wlen ? -1 : n_sym + 1, (uint32_t)off, (uint32_t)n};
        n_sym++;
        off += n;
    }
    s->h.n = 0;
    for (int32_t i = 1; i < n_sym; i++) try_add(s, i - 1, i);
    while (s->h.n) {
        merge_candidate b = merge_heap_pop(&s->h);
        symbol *l = &sym[b.left], *r = &sym[b.right];
        /* stale: one side was merged since (symbols only grow) */
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = b.left;
        try_add(s, l->prev, b.left);
        try_add(s, b.left, l->next);
    }
    hearth_status st = HEARTH_OK;
    for (int32_t i = n_sym ? 0 : -1; i != -1 && !st; i = sym[i].next) {
        const char *p = s->word + sym[i].start;
        int32_t id = tok_lookup(t, p, sym[i].n);
        if (id >= 0) {
            st = tok_vec_push(out, id, err);
            continue;
        }
        /* as llama.cpp: each byte of the encoded text as a one-byte token, if there is one */
        for (size_t k = 0; k < sym[i].n && !st; k++) {
            id = tok_lookup(t, p + k, 1);
            if (id >= 0) st = tok_vec_push(out, id, err);
        }
    }
    return st;
}

hearth_status bpe_encode(const hearth_tokenizer *t, const char *text, size_t len, tok_vec *out,
                         hearth_error *err) {
    hearth_status st = HEARTH_OK;
    size_t n = 0;
    uint32_t *cpts = tok_alloc(len, sizeof *cpts);
    uint16_t *flags = tok_alloc(len, sizeof *flags);
    size_t *lens = tok_alloc(len, sizeof *lens);
    size_t *work = tok_alloc(len, sizeof *work);
    char *word = NULL;
    symbol *sym = NULL;
    merge_heap h = {0};
    if (!cpts || !flags || !lens || !work) goto nomem;

    for (size_t pos = 0; pos < len;) cpts[n++] = unicode_decode_lax((const uint8_t *)text, len, &pos);
    size_t n_words = pretokenize(t->pre.kind, cpts, n, flags, lens, work);

    /* the longest word in UTF-8 bytes: as many symbols, at most twice the bytes encoded */
    size_t max_bytes = 0;
    for (size_t i = 0, c = 0; i < n_words; i++) {
        size_t bytes = 0;
        for (size_t k = 0; k < lens[i]; k++, c++) {
            uint8_t u[4];
            bytes += unicode_encode(cpts[c], u);
        }
        if (bytes > max_bytes) max_bytes = bytes;
    }
    word = tok_alloc(2 * max_bytes + 1, 1);
    sym = tok_alloc(max_bytes + 1, sizeof *sym);
    h.cap = 3 * max_bytes + 1;
    h.v = tok_alloc(h.cap, sizeof *h.v);
    if (!word || !sym || !h.v) goto nomem;

    session s = {t, word, sym, h};
    size_t c0 = 0;
    for (size_t i = 0; i < n_words && !st; i++) {
        size_t wlen = 0;
        for (size_t c = c0; c < c0 + lens[i]; c++) {
            uint8_t u[4];
            size_t k = unicode_encode(cpts[c], u);
            for (size_t j = 0; j < k; j++) {
                uint8_t b[4];
                size_t m = unicode_encode(unicode_byte_to_cpt(u[j]), b);
                memcpy(word + wlen, b, m);
                wlen += m;
            }
        }
        c0 += lens[i];
        st = merge_word(&s, wlen, out, err);
    }
    goto done;

nomem:
    st = hearth_fail(err, HEARTH_E_NOMEM, "tokenizer: out of memory for a %zu-byte text", len);
done:
    free(cpts);
    free(flags);
    free(lens);
    free(work);
    free(word);
    free(sym);
    free(h.v);
    return st;
}
