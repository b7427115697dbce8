/* Prefill and decode speed of a loaded model, measured the same way by
 * every host (native CLI, WebAssembly): a warm-up pass that touches every
 * weight once (as llama-bench does), then per repetition a prompt of
 * prompt_tokens evaluated at once and gen_tokens greedy steps; the best
 * repetition counts. Speed does not depend on which tokens: a fixed spread. */
#ifndef HEARTH_BENCH_H
#define HEARTH_BENCH_H

#include "engine.h"
#include "error.h"

typedef struct {
    double prefill_ms, decode_ms; /* best of the repetitions */
} hearth_bench_result;

hearth_status hearth_bench(hearth_engine *e, int prompt_tokens, int gen_tokens, int repetitions,
                           hearth_bench_result *out, hearth_error *err);

#endif
