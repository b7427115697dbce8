#include "generate.h"

#include <stdlib.h>
#include <string.h>

struct hearth_gen {
    hearth_engine *e;
    const hearth_host *host;
    sampler *smp;
    float *logits;
    int n_vocab, n_ctx, max_tokens;
    int32_t *history; /* the prompt, then the generated tokens */
    int n_hist, n_prompt;
    int pos;          /* next KV position to evaluate */
    bool started, done;
    hearth_gen_stats stats;
};

hearth_status hearth_gen_check(int n_prompt, int n_ctx, int *n_past, int *max_tokens, hearth_error *err) {
    if (n_prompt <= 0) return hearth_fail(err, HEARTH_E_ARG, "the prompt is empty");
    if (n_prompt > n_ctx)
        return hearth_fail(err, HEARTH_E_CONTEXT,
                           "the prompt has %d tokens but the context holds %d; shorten it or raise --ctx", n_prompt,
                           n_ctx);
    if (*max_tokens < 0) return hearth_fail(err, HEARTH_E_ARG, "max tokens must not be negative");
    if (*max_tokens > n_ctx) *max_tokens = n_ctx; /* the context ends generation first anyway */
    /* At least the last prompt token is evaluated: its logits start the answer. */
    if (*n_past < 0) *n_past = 0;
    if (*n_past > n_prompt - 1) *n_past = n_prompt - 1;
    return HEARTH_OK;
}

hearth_status hearth_gen_begin(hearth_gen **out, hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past,
                               int max_tokens, const sampler_params *sp, hearth_error *err) {
    *out = NULL;
    const model *m = hearth_engine_model(e);
    if (!m) return hearth_fail(err, HEARTH_E_ARG, "the model was loaded for its vocabulary only");
    int n_ctx = hearth_engine_ctx(e);
    hearth_status st = hearth_gen_check(n_prompt, n_ctx, &n_past, &max_tokens, err);
    if (st) return st;
    hearth_gen *g = calloc(1, sizeof *g);
    if (!g) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    g->e = e;
    g->host = hearth_engine_host(e);
    g->n_vocab = m->hp.n_vocab;
    g->n_ctx = n_ctx;
    g->max_tokens = max_tokens;
    g->n_prompt = n_prompt;
    g->pos = n_past;
    g->logits = malloc((size_t)g->n_vocab * sizeof *g->logits);
    g->history = malloc(((size_t)n_prompt + (size_t)max_tokens + 1) * sizeof *g->history);
    st = g->logits && g->history ? sampler_create(&g->smp, sp, g->n_vocab, err)
                                               : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    if (st) {
        hearth_gen_free(g);
        return st;
    }
    memcpy(g->history, prompt, (size_t)n_prompt * sizeof *prompt);
    g->n_hist = n_prompt;
    g->stats.prompt_tokens = n_prompt;
    g->stats.reused_tokens = n_past;
    g->stats.cache_tokens = n_past;
    *out = g;
    return HEARTH_OK;
}

static int32_t finish(hearth_gen *g) {
    g->done = true;
    return -1;
}

hearth_status hearth_gen_next(hearth_gen *g, int32_t *token, hearth_error *err) {
    *token = -1;
    if (g->done) return HEARTH_OK;
    double t0 = g->host->now_ms(g->host->ctx);
    hearth_status st;
    if (!g->started) {
        g->started = true;
        st = hearth_engine_eval(g->e, g->history + g->pos, g->n_prompt - g->pos, g->pos, g->logits, err);
        g->pos = g->n_prompt;
        g->stats.prefill_ms = g->host->now_ms(g->host->ctx) - t0;
    } else {
        if (g->stats.gen_tokens >= g->max_tokens) return *token = finish(g), HEARTH_OK;
        if (g->pos >= g->n_ctx) {
            g->stats.stopped_by_ctx = true;
            return *token = finish(g), HEARTH_OK;
        }
        st = hearth_engine_eval(g->e, &g->history[g->n_hist - 1], 1, g->pos, g->logits, err);
        g->pos++;
    }
    if (st) {
        g->stats.cache_tokens = 0; /* what the cache holds is unknown now */
        finish(g);
        return st;
    }
    g->stats.cache_tokens = g->pos;
    if (g->stats.gen_tokens >= g->max_tokens) return *token = finish(g), HEARTH_OK;
    int32_t next = sampler_sample(g->smp, g->logits, g->history, g->n_hist);
    double spent = g->host->now_ms(g->host->ctx) - t0;
    if (g->stats.gen_tokens == 0 && g->pos == g->n_prompt) g->stats.ttft_ms = spent;
    else g->stats.decode_ms += spent;
    if (tokenizer_is_eog(hearth_engine_tokenizer(g->e), next)) {
        g->stats.stopped_by_eog = true;
        return *token = finish(g), HEARTH_OK;
    }
    g->history[g->n_hist++] = next;
    g->stats.gen_tokens++;
    *token = next;
    return HEARTH_OK;
}

const float *hearth_gen_logits(const hearth_gen *g) { return g->logits; }
int hearth_gen_vocab_size(const hearth_gen *g) { return g->n_vocab; }
const hearth_gen_stats *hearth_gen_stats_of(const hearth_gen *g) { return &g->stats; }

void hearth_gen_stop(hearth_gen *g) {
    if (g->done) return;
    g->stats.stopped_by_callback = true;
    g->done = true;
}

void hearth_gen_free(hearth_gen *g) {
    if (!g) return;
    sampler_free(g->smp);
    free(g->logits);
    free(g->history);
    free(g);
}

hearth_status hearth_generate(hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past, int max_tokens,
                              const sampler_params *sp, hearth_token_fn on_token, void *user,
                              hearth_gen_stats *stats, hearth_error *err) {
    memset(stats, 0, sizeof *stats);
    hearth_gen *g;
    hearth_status st = hearth_gen_begin(&g, e, prompt, n_prompt, n_past, max_tokens, sp, err);
    if (st) return st;
    for (;;) {
        int32_t token;
        st = hearth_gen_next(g, &token, err);
        if (st || token < 0) break;
        if (on_token && !on_token(user, token, g->logits, g->n_vocab)) hearth_gen_stop(g);
    }
    *stats = g->stats;
    hearth_gen_free(g);
    return st;
}
