/* What the grammar costs per generated token: a realistic answer, tokenized
 * as the model's tokenizer writes it, fed to a fresh matcher token by token
 * as the generation loop does (the mask before each token, then the token
 * accepted), on a vocabulary trie built once as a chat builds it. Used by
 * `hearth bench --json-schema F --answer F` (bench/grammar_bench.mjs). */
#ifndef HEARTH_GRAMMAR_MASK_BENCH_H
#define HEARTH_GRAMMAR_MASK_BENCH_H

#include <stddef.h>

#include "error.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    int tokens;                 /* the answer's tokens (+ the end-of-generation step) */
    double trie_ms;             /* building the vocabulary trie (once per chat) */
    double ms_per_token;        /* mask + accept, mean over the answer, best repetition */
    double first_ms, max_ms;    /* the first step, the slowest step (of the best repetition) */
} grammar_bench_result;

/* now_ms: a clock in milliseconds (the host's: wall, or the thread's CPU time). Fails when the
 * grammar does not parse or does not allow the answer (naming the token). */
hearth_status grammar_bench(const hearth_tokenizer *tok, const char *gbnf, size_t gbnf_len, const char *answer,
                            size_t answer_len, int repetitions, double (*now_ms)(void), grammar_bench_result *out,
                            hearth_error *err);

#endif
