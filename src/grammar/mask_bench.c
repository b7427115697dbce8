#include "grammar/mask_bench.h"

#include <stdlib.h>
#include <string.h>

#include "grammar/grammar.h"
#include "grammar/token_mask.h"

/* One pass over the answer with a fresh matcher; false (and err) when the grammar forbids a token. */
static hearth_status replay(const grammar *g, const vocab_trie *trie, const int32_t *ids, size_t n,
                            double (*now_ms)(void), uint32_t *allowed, grammar_bench_result *r, hearth_error *err) {
    grammar_matcher *m = NULL;
    hearth_status st = grammar_matcher_create(&m, g, trie, err);
    double total = 0;
    r->first_ms = r->max_ms = 0;
    for (size_t i = 0; !st && i < n; i++) {
        double t0 = now_ms();
        grammar_matcher_mask(m, allowed);
        bool ok = token_allowed(allowed, ids[i]) && grammar_matcher_accept(m, ids[i]);
        double dt = now_ms() - t0;
        if (!ok)
            st = hearth_fail(err, HEARTH_E_ARG, "the answer's token %zu (id %d) is not allowed by the grammar", i,
                             ids[i]);
        if (i == 0) r->first_ms = dt;
        if (dt > r->max_ms) r->max_ms = dt;
        total += dt;
    }
    /* the last step: the mask where the answer is complete (the end-of-generation token) */
    if (!st) {
        double t0 = now_ms();
        grammar_matcher_mask(m, allowed);
        total += now_ms() - t0;
        if (!grammar_matcher_complete(m)) st = hearth_fail(err, HEARTH_E_ARG, "the answer is not complete for the grammar");
    }
    r->tokens = (int)n + 1;
    r->ms_per_token = total / (double)(n + 1);
    grammar_matcher_free(m);
    return st;
}

hearth_status grammar_bench(const hearth_tokenizer *tok, const char *gbnf, size_t gbnf_len, const char *answer,
                            size_t answer_len, int repetitions, double (*now_ms)(void), grammar_bench_result *out,
                            hearth_error *err) {
    memset(out, 0, sizeof *out);
    grammar *g = NULL;
    vocab_trie *trie = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    uint32_t *allowed = NULL;
    hearth_status st = grammar_parse(&g, gbnf, gbnf_len, err);
    double t0 = now_ms();
    if (!st) st = vocab_trie_build(&trie, tok, err);
    out->trie_ms = now_ms() - t0;
    if (!st) st = tokenizer_encode(tok, answer, answer_len, false, &ids, &n, err);
    if (!st && !(allowed = malloc(((size_t)vocab_trie_size(trie) + 31) / 32 * sizeof *allowed)))
        st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    for (int rep = 0; !st && rep < (repetitions < 1 ? 1 : repetitions); rep++) {
        grammar_bench_result r = *out;
        st = replay(g, trie, ids, n, now_ms, allowed, &r, err);
        if (!st && (rep == 0 || r.ms_per_token < out->ms_per_token)) *out = r;
    }
    free(allowed);
    free(ids);
    vocab_trie_free(trie);
    grammar_free(g);
    return st;
}
