#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cpu/kernels.h"
#include "cpu/forward.h"

struct hearth_engine {
    const hearth_host *host;
    gguf_file *gguf;
    model *model;
    hearth_tokenizer *tok;
    hearth_kernels kernels;
    forward_ctx *fwd;
    float *logits;
    int n_ctx, max_batch;
    bool simd;
    bool shares_model;             /* gguf, model and tok are another engine's (hearth_engine_share) */
    hearth_backend cpu;            /* the forward pass as a backend (below) */
    /* hearth_engine_defer_decode: a sampling step (a decode step, or a
     * prompt's last chunk) waits here for hearth_engine_run_deferred, which
     * runs it in a batch with other engines' and leaves its token for the
     * loop to collect */
    bool defer;
    enum { STEP_NONE, STEP_DEFERRED, STEP_DONE } deferred;
    int32_t deferred_token;
    const int32_t *deferred_tokens; /* the step's tokens: the loop's history, alive until it collects */
    int deferred_n, deferred_pos;
    sample_request deferred_sample;
    const hearth_backend *backend; /* what generation runs on: &cpu, another one set by its owner, or NULL */
};

/* ---- the CPU backend: the forward pass, then the sampler on its logits ---- */

static hearth_status cpu_step(void *ctx, const int32_t *tokens, int n, int pos, const sample_request *s,
                              int32_t *token, hearth_error *err) {
    hearth_engine *e = ctx;
    *token = -1;
    e->deferred = STEP_NONE; /* a step its loop never collected (an interrupted answer) is dropped */
    if (e->defer && s) {
        /* checked now, so that the batch cannot fail on it later */
        hearth_status st = forward_check(e->fwd, tokens, n, pos, err);
        if (st) return st;
        e->deferred = STEP_DEFERRED;
        e->deferred_tokens = tokens;
        e->deferred_n = n;
        e->deferred_pos = pos;
        e->deferred_sample = *s; /* its sampler and history are the loop's, alive until it collects */
        *token = HEARTH_STEP_PENDING;
        return HEARTH_OK;
    }
    hearth_status st = forward_eval(e->fwd, tokens, n, pos, s ? e->logits : NULL, err);
    if (!st && s && s->allowed) sampler_mask_logits(e->logits, e->model->hp.n_vocab, s->allowed);
    if (!st && s) *token = sampler_pick(s->smp, e->logits, s->recent, s->n_recent, s->draw);
    return st;
}

static int32_t cpu_collect(void *ctx) {
    hearth_engine *e = ctx;
    if (e->deferred == STEP_DEFERRED) return HEARTH_STEP_PENDING;
    if (e->deferred == STEP_NONE) return -1;
    e->deferred = STEP_NONE;
    return e->deferred_token;
}

static const float *cpu_logits(void *ctx) { return ((hearth_engine *)ctx)->logits; }

/* The logits buffer and, where the weights are on the CPU, the CPU backend. */
static hearth_status start_cpu_backend(hearth_engine *e, hearth_error *err) {
    e->logits = malloc((size_t)e->model->hp.n_vocab * sizeof *e->logits);
    if (!e->logits) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    if (e->fwd) {
        e->cpu = (hearth_backend){.ctx = e, .name = "cpu", .n_ctx = e->n_ctx, .n_vocab = e->model->hp.n_vocab,
                                  .step = cpu_step, .collect = cpu_collect, .logits = cpu_logits};
        e->backend = &e->cpu;
    }
    return HEARTH_OK;
}

hearth_status hearth_engine_load(hearth_engine **out, const hearth_host *host, const hearth_engine_options *opt,
                                 hearth_error *err) {
    *out = NULL;
    hearth_engine_options defaults = {0};
    if (!opt) opt = &defaults;
    hearth_engine *e = calloc(1, sizeof *e);
    if (!e) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    e->host = host;
    kernels_init(&e->kernels, !opt->no_simd);
    if (opt->fast_numerics && !opt->no_simd) kernels_prefer_speed(&e->kernels);
    hearth_status st = gguf_open(&e->gguf, host, err);
    if (!st) st = tokenizer_load(&e->tok, e->gguf, err);
    if (!st && opt->vocab_only) {
        *out = e;
        return HEARTH_OK;
    }
    if (!st) st = (opt->no_cpu_weights ? model_load_shapes : model_load)(&e->model, e->gguf, host, err);
    if (!st && !opt->no_cpu_weights) model_pack_weights(e->model, &e->kernels);
    if (!st && tokenizer_vocab_size(e->tok) > e->model->hp.n_vocab)
        st = hearth_fail(err, HEARTH_E_FORMAT, "%s: the tokenizer has %d tokens but the embedding only %d rows",
                         gguf_name(e->gguf), tokenizer_vocab_size(e->tok), e->model->hp.n_vocab);
    e->simd = !opt->no_simd;
    e->max_batch = opt->max_batch > 0 ? opt->max_batch : 512;
    if (!st) {
        int n_ctx = opt->n_ctx > 0 ? opt->n_ctx : (e->model->hp.n_ctx_train < 4096 ? e->model->hp.n_ctx_train : 4096);
        e->n_ctx = n_ctx;
        if (n_ctx > (1 << 20)) st = hearth_fail(err, HEARTH_E_ARG, "context of %d tokens is too large", n_ctx);
        else if (!opt->no_cpu_weights) st = forward_create(&e->fwd, e->model, host, &e->kernels, e->simd, n_ctx, e->max_batch, err);
    }
    if (!st) st = start_cpu_backend(e, err);
    if (st) {
        hearth_engine_free(e);
        return st;
    }
    *out = e;
    return HEARTH_OK;
}

hearth_status hearth_engine_share(hearth_engine **out, hearth_engine *base, hearth_error *err) {
    *out = NULL;
    if (!base->fwd)
        return hearth_fail(err, HEARTH_E_ARG, "only an engine with its weights on the CPU can share them");
    hearth_engine *e = calloc(1, sizeof *e);
    if (!e) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    *e = (hearth_engine){.host = base->host, .gguf = base->gguf, .model = base->model, .tok = base->tok,
                         .kernels = base->kernels, .n_ctx = base->n_ctx, .max_batch = base->max_batch,
                         .simd = base->simd, .shares_model = true};
    hearth_status st = forward_create(&e->fwd, e->model, e->host, &e->kernels, e->simd, e->n_ctx, e->max_batch, err);
    if (!st) st = start_cpu_backend(e, err);
    if (st) {
        hearth_engine_free(e);
        return st;
    }
    *out = e;
    return HEARTH_OK;
}

void hearth_engine_free(hearth_engine *e) {
    if (!e) return;
    forward_free(e->fwd);
    if (!e->shares_model) {
        model_free(e->model);
        tokenizer_free(e->tok);
        gguf_free(e->gguf);
    }
    free(e->logits);
    free(e);
}

const gguf_file *hearth_engine_gguf(const hearth_engine *e) { return e->gguf; }
const model *hearth_engine_model(const hearth_engine *e) { return e->model; }
const hearth_tokenizer *hearth_engine_tokenizer(const hearth_engine *e) { return e->tok; }
const char *hearth_engine_kernels(const hearth_engine *e) { return kernels_name(&e->kernels); }
const hearth_host *hearth_engine_host(const hearth_engine *e) { return e->host; }
int hearth_engine_ctx(const hearth_engine *e) { return e->model ? e->n_ctx : 0; }
const hearth_backend *hearth_engine_backend(const hearth_engine *e) { return e->backend; }
void hearth_engine_set_backend(hearth_engine *e, const hearth_backend *b) { e->backend = b ? b : e->fwd ? &e->cpu : NULL; }

hearth_status hearth_engine_prompt_tokens(const hearth_engine *e, const char *text, size_t len, int32_t **out,
                                          int *n, hearth_error *err) {
    int32_t *ids = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    hearth_status st = tokenizer_encode(e->tok, text, len, false, &ids, &count, err);
    if (st) return st;
    bool bos = tokenizer_add_bos(e->tok) && tokenizer_bos(e->tok) >= 0;
    int32_t *all = malloc((count + 1) * sizeof *all);
    if (!all) {
        free(ids);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    size_t k = 0;
    if (bos) all[k++] = tokenizer_bos(e->tok);
    if (count) memcpy(all + k, ids, count * sizeof *ids);
    free(ids);
    if (k + count > (size_t)1 << 30) {
        free(all);
        return hearth_fail(err, HEARTH_E_ARG, "prompt is too long");
    }
    *out = all;
    *n = (int)(k + count);
    return HEARTH_OK;
}

void hearth_engine_defer_decode(hearth_engine *e, bool defer) { e->defer = defer; }

bool hearth_engine_deferred(const hearth_engine *e) { return e->deferred == STEP_DEFERRED; }

hearth_status hearth_engine_run_deferred(hearth_engine *const *engines, int n, int *passes, hearth_error *err) {
    enum { CHUNK = 16 }; /* steps per call, on the stack */
    *passes = 0;
    forward_ctx *seqs[CHUNK];
    const int32_t *tokens[CHUNK];
    int count[CHUNK], pos[CHUNK];
    float *logits[CHUNK];
    hearth_engine *which[CHUNK];
    for (int i = 0; i < n;) {
        int k = 0;
        for (; i < n && k < CHUNK; i++) {
            hearth_engine *e = engines[i];
            if (e->deferred != STEP_DEFERRED) continue;
            seqs[k] = e->fwd, tokens[k] = e->deferred_tokens, count[k] = e->deferred_n, pos[k] = e->deferred_pos;
            logits[k] = e->logits;
            which[k++] = e;
        }
        if (!k) continue;
        /* one step alone takes forward_eval's path: a single stream stays as hearth chat's
         * (its passes: forward_create's rows at a time) */
        const int per_pass = which[0]->max_batch < which[0]->n_ctx ? which[0]->max_batch : which[0]->n_ctx;
        int ran = (count[0] + per_pass - 1) / per_pass;
        hearth_status st = k == 1 ? forward_eval(seqs[0], tokens[0], count[0], pos[0], logits[0], err)
                                  : forward_eval_seqs(seqs, tokens, count, pos, k, logits, &ran, err);
        *passes += ran;
        if (st) {
            /* no step is left behind with its loop's sampler, which may be gone when the loop ends */
            for (int a = 0; a < n; a++)
                if (engines[a]->deferred == STEP_DEFERRED) engines[a]->deferred = STEP_NONE;
            return st;
        }
        for (int r = 0; r < k; r++) {
            const sample_request *s = &which[r]->deferred_sample;
            /* masked as the one-token path masks (cpu_step), so every path samples the same distribution */
            if (s->allowed) sampler_mask_logits(which[r]->logits, which[r]->model->hp.n_vocab, s->allowed);
            which[r]->deferred_token = sampler_pick(s->smp, which[r]->logits, s->recent, s->n_recent, s->draw);
            which[r]->deferred = STEP_DONE;
        }
    }
    return HEARTH_OK;
}

hearth_status hearth_engine_eval(hearth_engine *e, const int32_t *tokens, int n, int pos, float *logits,
                                 hearth_error *err) {
    if (!e->fwd)
        return hearth_fail(err, HEARTH_E_ARG, e->model ? "the model's weights were loaded for the GPU, not the CPU"
                                                       : "the model was loaded for its vocabulary only");
    return forward_eval(e->fwd, tokens, n, pos, logits, err);
}
