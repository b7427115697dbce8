#include "bench.h"

#include <stdlib.h>

hearth_status hearth_bench(hearth_engine *e, int prompt_tokens, int gen_tokens, int repetitions,
                           hearth_bench_result *out, hearth_error *err) {
    out->prefill_ms = out->decode_ms = 0;
    const model *m = hearth_engine_model(e);
    if (!m) return hearth_fail(err, HEARTH_E_ARG, "the model was loaded for its vocabulary only");
    if (prompt_tokens < 1 || gen_tokens < 1 || repetitions < 1)
        return hearth_fail(err, HEARTH_E_ARG, "prompt tokens, generated tokens and repetitions must be positive");
    if ((long long)prompt_tokens + gen_tokens > hearth_engine_ctx(e))
        return hearth_fail(err, HEARTH_E_CONTEXT, "%d + %d tokens do not fit the context of %d", prompt_tokens,
                           gen_tokens, hearth_engine_ctx(e));
    const hearth_host *host = hearth_engine_host(e);
    int n_vocab = m->hp.n_vocab;
    int32_t *tokens = malloc((size_t)prompt_tokens * sizeof *tokens);
    float *logits = malloc((size_t)n_vocab * sizeof *logits);
    hearth_status st = (!tokens || !logits) ? hearth_fail(err, HEARTH_E_NOMEM, "out of memory") : HEARTH_OK;
    for (int i = 0; !st && i < prompt_tokens; i++) tokens[i] = (int32_t)((i * 7919L + 1) % n_vocab);
    if (!st) st = hearth_engine_eval(e, tokens, prompt_tokens < 16 ? prompt_tokens : 16, 0, logits, err);
    double best_prefill = 1e300, best_decode = 1e300;
    for (int r = 0; !st && r < repetitions; r++) {
        double t0 = host->now_ms(host->ctx);
        st = hearth_engine_eval(e, tokens, prompt_tokens, 0, logits, err);
        double t1 = host->now_ms(host->ctx);
        int32_t next = argmax(logits, n_vocab);
        for (int i = 0; !st && i < gen_tokens; i++) {
            st = hearth_engine_eval(e, &next, 1, prompt_tokens + i, logits, err);
            next = argmax(logits, n_vocab);
        }
        double t2 = host->now_ms(host->ctx);
        if (t1 - t0 < best_prefill) best_prefill = t1 - t0;
        if (t2 - t1 < best_decode) best_decode = t2 - t1;
    }
    free(tokens);
    free(logits);
    if (!st) {
        out->prefill_ms = best_prefill;
        out->decode_ms = best_decode;
    }
    return st;
}
