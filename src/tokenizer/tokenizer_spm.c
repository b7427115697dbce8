/* SentencePiece-style tokenizer (llama.cpp's llm_tokenizer_spm): spaces
 * become U+2581, the text is cut into UTF-8 characters, and the adjacent pair
 * whose concatenation is the highest-scoring token (leftmost on ties) merges
 * until none is a token; what is left and not a token falls back to <0xNN>
 * byte tokens. A heap of candidate pairs makes it O(n log n). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/merge_heap.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

/* Texts are at most TOK_MAX_TEXT bytes, 3 * TOK_MAX_TEXT once escaped: 32 bits are enough. */
typedef struct {
    int32_t prev, next;
    uint32_t start, n; /* bytes of the symbol in the escaped text; n = 0 once merged away */
} symbol;

typedef struct {
    const hearth_tokenizer *t;
    const char *text;
    symbol *sym;
    merge_heap h;
} session;

static void try_add(session *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    uint32_t size = s->sym[left].n + s->sym[right].n;
    int32_t id = tok_lookup(s->t, s->text + s->sym[left].start, size);
    if (id < 0) return;
    /* the heap never holds more than 3 entries per symbol: see spm_encode */
    merge_heap_push(&s->h, (merge_candidate){s->t->scores[id], left, right, size});
}

hearth_status spm_encode(const hearth_tokenizer *t, const char *text, size_t len, bool prefix_space,
                         tok_vec *out, hearth_error *err) {
    /* escape: optional leading space, then every ' ' -> U+2581 (3 bytes) */
    size_t spaces = prefix_space;
    for (size_t i = 0; i < len; i++) spaces += text[i] == ' ';
    size_t elen = len + prefix_space + 2 * spaces;
    char *esc = malloc(elen ? elen : 1);
    symbol *sym = NULL;
    merge_heap h = {0};
    hearth_status st = HEARTH_OK;
    if (!esc) goto nomem;
    size_t e = 0;
    if (prefix_space) {
        memcpy(esc, "\xe2\x96\x81", 3);
        e = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            memcpy(esc + e, "\xe2\x96\x81", 3);
            e += 3;
        } else {
            esc[e++] = text[i];
        }
    }

    /* symbols: one per UTF-8 character, by its first byte (as llama.cpp) */
    size_t n_chars = 0;
    for (size_t off = 0; off < elen; n_chars++) off += unicode_len_utf8((uint8_t)esc[off]);
    sym = tok_alloc(n_chars, sizeof *sym);
    /* the heap gets the initial pairs, then at most 2 per merge */
    h.cap = 3 * n_chars + 1;
    h.v = tok_alloc(h.cap, sizeof *h.v);
    if (!sym || !h.v) goto nomem;
    int32_t n_sym = 0;
    for (size_t off = 0; off < elen;) {
        size_t n = unicode_len_utf8((uint8_t)esc[off]);
        if (n > elen - off) n = elen - off;
        sym[n_sym] = (symbol){n_sym - 1, off + n == elen ? -1 : n_sym + 1, (uint32_t)off, (uint32_t)n};
        n_sym++;
        off += n;
    }

    session s = {t, esc, sym, h};
    for (int32_t i = 1; i < n_sym; i++) try_add(&s, i - 1, i);
    while (s.h.n) {
        merge_candidate b = merge_heap_pop(&s.h);
        symbol *l = &sym[b.left], *r = &sym[b.right];
        /* stale: one side was merged since (symbols only grow) */
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = b.left;
        try_add(&s, l->prev, b.left);
        try_add(&s, b.left, l->next);
    }

    /* Every merged symbol is a token (a pair merges only into one); a
     * single character that is not falls back to byte tokens. */
    for (int32_t i = n_sym ? 0 : -1; i != -1 && !st; i = sym[i].next) {
        int32_t id = tok_lookup(t, esc + sym[i].start, sym[i].n);
        if (id >= 0) {
            st = tok_vec_push(out, id, err);
            continue;
        }
        for (size_t k = 0; k < sym[i].n && !st; k++) {
            int32_t bid = t->byte_tokens[(uint8_t)esc[sym[i].start + k]];
            /* llama.cpp throws when a vocabulary lacks the byte; we use <unk>, or drop it */
            if (bid < 0) bid = t->unk;
            if (bid >= 0) st = tok_vec_push(out, bid, err);
        }
    }
    h = s.h;
    goto done;

nomem:
    st = hearth_fail(err, HEARTH_E_NOMEM, "tokenizer: out of memory for a %zu-byte text", len);
done:
    free(esc);
    free(sym);
    free(h.v);
    return st;
}
