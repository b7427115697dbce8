#include "generate.h"

#include <stdlib.h>
#include <string.h>

#include "grammar/token_mask.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

struct hearth_gen {
    const hearth_backend *b;
    const hearth_host *host;
    const hearth_tokenizer *tok;
    sampler *smp;
    int n_vocab, n_ctx, max_tokens;
    int32_t *history; /* the prompt, then the generated tokens */
    int n_hist, n_prompt;
    int pos;          /* next KV position to evaluate */
    bool done, flushed, ignore_eog;
    bool waiting, waiting_sample; /* a step is in flight (and ends with a token) */
    double t_step;    /* when the step that gives the next token started */
    tokenizer_decoder dec;
    char *text;       /* what the last call made final */
    size_t text_len, text_cap;
    hearth_gen_stats stats;
    grammar_matcher *grammar; /* constrains the tokens (not owned), or NULL */
    uint32_t *allowed;        /* its mask for the step in flight */
};

hearth_status hearth_gen_begin(hearth_gen **out, hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past,
                               int max_tokens, const sampler_params *sp, hearth_error *err) {
    *out = NULL;
    const hearth_backend *b = hearth_engine_backend(e);
    if (!b)
        return hearth_fail(err, HEARTH_E_ARG, hearth_engine_model(e) ? "the model's weights are on no backend yet"
                                                                      : "the model was loaded for its vocabulary only");
    if (n_prompt <= 0) return hearth_fail(err, HEARTH_E_ARG, "the prompt is empty");
    if (n_prompt > b->n_ctx)
        return hearth_fail(err, HEARTH_E_CONTEXT,
                           "the prompt has %d tokens but the context holds %d; shorten it or raise --ctx", n_prompt,
                           b->n_ctx);
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= b->n_vocab)
            return hearth_fail(err, HEARTH_E_ARG, "token id %d is outside the vocabulary (0 to %d)", prompt[i],
                               b->n_vocab - 1);
    if (max_tokens < 0) return hearth_fail(err, HEARTH_E_ARG, "max tokens must not be negative");
    if (max_tokens > b->n_ctx) max_tokens = b->n_ctx; /* the context ends generation first anyway */
    /* At least the last prompt token is evaluated: its logits start the answer. */
    if (n_past < 0) n_past = 0;
    if (n_past > n_prompt - 1) n_past = n_prompt - 1;
    hearth_status st = sampler_validate(sp, err);
    if (!st && b->check) st = b->check(b->ctx, sp, err);
    if (st) return st;

    hearth_gen *g = calloc(1, sizeof *g);
    if (!g) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    g->b = b;
    g->host = hearth_engine_host(e);
    g->tok = hearth_engine_tokenizer(e);
    g->n_vocab = b->n_vocab;
    g->n_ctx = b->n_ctx;
    g->max_tokens = max_tokens;
    g->n_prompt = n_prompt;
    g->pos = n_past;
    g->history = malloc(((size_t)n_prompt + (size_t)max_tokens + 1) * sizeof *g->history);
    g->text_cap = UTF8_STREAM_OUT_MAX(tokenizer_max_piece_len(g->tok) + 1);
    g->text = malloc(g->text_cap);
    st = g->history && g->text ? sampler_create(&g->smp, sp, g->n_vocab, err)
                               : hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    if (st) {
        hearth_gen_free(g);
        return st;
    }
    memcpy(g->history, prompt, (size_t)n_prompt * sizeof *prompt);
    g->n_hist = n_prompt;
    tokenizer_decoder_init(&g->dec, g->tok, false);
    tokenizer_decoder_continue(&g->dec);
    g->stats.prompt_tokens = n_prompt;
    g->stats.reused_tokens = n_past;
    g->stats.cache_tokens = n_past;
    *out = g;
    return HEARTH_OK;
}

void hearth_gen_ignore_eog(hearth_gen *g) { g->ignore_eog = true; }

hearth_status hearth_gen_set_grammar(hearth_gen *g, grammar_matcher *m, hearth_error *err) {
    if (g->n_hist != g->n_prompt || g->pos != g->stats.reused_tokens)
        return hearth_fail(err, HEARTH_E_ARG, "a grammar must be set before generation starts");
    if (!g->allowed && !(g->allowed = calloc(((size_t)g->n_vocab + 31) / 32, sizeof *g->allowed)))
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    g->grammar = m;
    return HEARTH_OK;
}

void hearth_gen_answer_text(hearth_gen *g) {
    if (g->n_hist == g->n_prompt) tokenizer_decoder_init(&g->dec, g->tok, false);
}

/* Ends generation; the text is what the decoder held back. */
static int32_t finish(hearth_gen *g) {
    g->done = g->flushed = true;
    g->text_len = tokenizer_decoder_flush(&g->dec, g->text, g->text_cap);
    return -1;
}

static double now(const hearth_gen *g) { return g->host->now_ms(g->host->ctx); }

/* Starts the step of positions pos.. (a prompt chunk, or the last token). */
static hearth_status run_step(hearth_gen *g, const int32_t *tokens, int n, bool sample, int32_t *token,
                              hearth_error *err) {
    sample_request sr = {g->smp, 0, g->history, g->n_hist, NULL};
    if (sample && g->grammar) {
        double t0 = now(g);
        int allowed = grammar_matcher_mask(g->grammar, g->allowed);
        g->stats.grammar_ms += now(g) - t0;
        /* Nothing the grammar allows (not even the end): the text ends here. */
        if (allowed == 0) {
            g->stats.stopped_by_grammar = true;
            *token = finish(g);
            return HEARTH_OK;
        }
        sr.allowed = g->allowed;
    }
    if (sample) sr.draw = sampler_draw(g->smp);
    hearth_status st = g->b->step(g->b->ctx, tokens, n, g->pos, sample ? &sr : NULL, token, err);
    g->pos += n;
    if (st) {
        g->stats.cache_tokens = 0; /* what the cache holds is unknown now */
        finish(g);
        return st;
    }
    g->waiting = *token == HEARTH_STEP_PENDING;
    g->waiting_sample = sample;
    return HEARTH_OK;
}

/* A token the backend sampled without the grammar's mask (the GPU's readback
 * mode) and the grammar forbids: drawn again from the step's logits with the
 * mask. Taking the unconstrained token when allowed and redrawing otherwise
 * gives the masked distribution, p(t) + (1 - A) p(t) / A = p(t) / A, when the
 * sampler truncates nothing (greedy always); top-k/top-p/min-p cut before
 * the mask, so the GPU uploads the mask by default instead. */
static hearth_status constrain(hearth_gen *g, int32_t *next, hearth_error *err) {
    if (grammar_matcher_accept(g->grammar, *next)) return HEARTH_OK;
    float *logits = g->b->logits ? (float *)g->b->logits(g->b->ctx) : NULL;
    if (!logits)
        return hearth_fail(err, HEARTH_E_IO,
                           "the %s backend sampled token %d, which the grammar forbids, and kept no logits to "
                           "sample again from",
                           g->b->name, *next);
    sampler_mask_logits(logits, g->n_vocab, g->allowed);
    *next = sampler_pick(g->smp, logits, g->history, g->n_hist, sampler_draw(g->smp));
    if (!grammar_matcher_accept(g->grammar, *next))
        return hearth_fail(err, HEARTH_E_IO, "token %d passed the grammar's mask but not the grammar", *next);
    return HEARTH_OK;
}

/* A token sampled at the end of the step that started at t_step. */
static hearth_status take(hearth_gen *g, int32_t next, int32_t *token, hearth_error *err) {
    g->stats.cache_tokens = g->pos;
    double spent = now(g) - g->t_step;
    if (g->stats.gen_tokens == 0 && g->pos == g->n_prompt) g->stats.ttft_ms = g->stats.prefill_ms = spent;
    else g->stats.decode_ms += spent;
    if (g->stats.gen_tokens >= g->max_tokens) return *token = finish(g), HEARTH_OK;
    if (next < 0 || next >= g->n_vocab) {
        finish(g);
        return hearth_fail(err, HEARTH_E_IO, "the %s backend sampled token id %d, outside the vocabulary", g->b->name,
                           next);
    }
    if (g->grammar) {
        double t0 = now(g);
        hearth_status st = constrain(g, &next, err);
        g->stats.grammar_ms += now(g) - t0;
        if (st) {
            finish(g);
            return st;
        }
    }
    if (!g->ignore_eog && tokenizer_is_eog(g->tok, next)) {
        g->stats.stopped_by_eog = true;
        return *token = finish(g), HEARTH_OK;
    }
    g->history[g->n_hist++] = next;
    g->stats.gen_tokens++;
    g->text_len = tokenizer_decoder_push(&g->dec, next, g->text, g->text_cap);
    *token = next;
    return HEARTH_OK;
}

hearth_status hearth_gen_next(hearth_gen *g, int32_t *token, hearth_error *err) {
    *token = -1;
    g->text_len = 0;
    if (g->done) {
        if (!g->flushed) finish(g); /* stopped by the host: what the decoder held back */
        return HEARTH_OK;
    }
    int32_t next = -1;
    if (g->waiting) {
        next = g->b->collect(g->b->ctx);
        if (next == HEARTH_STEP_PENDING) return *token = HEARTH_STEP_PENDING, HEARTH_OK;
        g->waiting = false;
        if (g->waiting_sample) return take(g, next, token, err);
    }
    hearth_status st;
    if (g->pos < g->n_prompt) {
        if (g->pos == g->stats.reused_tokens) g->t_step = now(g);
        /* The prompt in chunks the backend takes; the last one samples. */
        while (g->pos < g->n_prompt) {
            int left = g->n_prompt - g->pos;
            int n = g->b->max_step > 0 && left > g->b->max_step ? g->b->max_step : left;
            if ((st = run_step(g, g->history + g->pos, n, n == left, &next, err))) return st;
            if (g->done) return *token = -1, HEARTH_OK; /* the grammar allowed nothing */
            if (g->waiting) return *token = HEARTH_STEP_PENDING, HEARTH_OK;
        }
        return take(g, next, token, err);
    }
    if (g->stats.gen_tokens >= g->max_tokens) return *token = finish(g), HEARTH_OK;
    if (g->pos >= g->n_ctx) {
        g->stats.stopped_by_ctx = true;
        return *token = finish(g), HEARTH_OK;
    }
    g->t_step = now(g);
    if ((st = run_step(g, &g->history[g->n_hist - 1], 1, true, &next, err))) return st;
    if (g->done) return *token = -1, HEARTH_OK;
    if (g->waiting) return *token = HEARTH_STEP_PENDING, HEARTH_OK;
    return take(g, next, token, err);
}

const char *hearth_gen_text(const hearth_gen *g, size_t *len) {
    *len = g->text_len;
    return g->text;
}

const float *hearth_gen_logits(const hearth_gen *g) { return g->b->logits ? g->b->logits(g->b->ctx) : NULL; }
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
    free(g->allowed);
    free(g->history);
    free(g->text);
    free(g);
}

hearth_status hearth_gen_run(hearth_gen *g, hearth_token_fn on_token, void *user, hearth_gen_stats *stats,
                             hearth_error *err) {
    hearth_status st = HEARTH_OK;
    for (;;) {
        int32_t token;
        st = hearth_gen_next(g, &token, err);
        if (!st && token == HEARTH_STEP_PENDING)
            st = hearth_fail(err, HEARTH_E_ARG, "the %s backend is asynchronous: drive it with hearth_gen_next",
                             g->b->name);
        if (st) break;
        size_t len;
        const char *text = hearth_gen_text(g, &len);
        if (token < 0) {
            if (on_token && len) on_token(user, -1, text, len, NULL, 0);
            break;
        }
        if (on_token && !on_token(user, token, text, len, hearth_gen_logits(g), g->n_vocab)) hearth_gen_stop(g);
    }
    *stats = g->stats;
    return st;
}

hearth_status hearth_generate(hearth_engine *e, const int32_t *prompt, int n_prompt, int n_past, int max_tokens,
                              const sampler_params *sp, hearth_token_fn on_token, void *user,
                              hearth_gen_stats *stats, hearth_error *err) {
    memset(stats, 0, sizeof *stats);
    hearth_gen *g;
    hearth_status st = hearth_gen_begin(&g, e, prompt, n_prompt, n_past, max_tokens, sp, err);
    if (st) return st;
    st = hearth_gen_run(g, on_token, user, stats, err);
    hearth_gen_free(g);
    return st;
}
