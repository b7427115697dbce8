#include "gpu/gpu_backend.h"

#include <stdlib.h>

#include "gpu/gpu_host.h"

/* The GPU samples from at most this many candidates (sample_a/b.wgsl) and
 * its repetition window is the step's recent[] (plan.h). */
#define GPU_MAX_CANDIDATES 64

struct gpu_backend {
    hearth_backend b;
    gpu_model *g;
    int list;         /* in flight, or -1 */
    uint32_t id;      /* of the last step */
    bool samples, done, with_logits;
    int32_t token;    /* of the completed step */
    float *logits;    /* n_vocab, filled by the host when it wanted them */
    const uint32_t *allowed; /* the step's grammar mask (sample_request.allowed), or NULL */
    gpu_mask_mode mask_mode;
};

static hearth_status check(void *ctx, const sampler_params *p, hearth_error *err) {
    if (p->repeat_penalty != 1.0f && p->repeat_last_n > GPU_MAX_CANDIDATES)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED, "the GPU sampler's repetition window is at most %d tokens",
                           GPU_MAX_CANDIDATES);
    return HEARTH_OK;
}

/* The sampling half of the step's uniform block. */
static void sampling(const sample_request *s, gpu_step *st) {
    const sampler_params *p = sampler_params_of(s->smp);
    st->temp = p->temperature;
    st->top_k = (uint32_t)p->top_k;
    st->n_cand = 1;
    if (p->temperature > 0) {
        st->n_cand = p->top_k > 0 && p->top_k < GPU_MAX_CANDIDATES ? (uint32_t)p->top_k : GPU_MAX_CANDIDATES;
        st->rand = (float)s->draw;
        if (st->rand >= 1.0f) st->rand = 0.99999994f; /* a double just below 1 rounds up to 1.0f */
    }
    st->top_p = p->top_p;
    st->min_p = p->min_p;
    st->penalty = p->repeat_penalty;
    if (p->repeat_penalty != 1.0f) {
        int n = p->repeat_last_n < s->n_recent ? p->repeat_last_n : s->n_recent;
        for (int i = 0; i < n; i++) st->recent[i] = (uint32_t)s->recent[s->n_recent - n + i];
        st->n_recent = (uint32_t)n;
    }
}

static hearth_status step(void *ctx, const int32_t *tokens, int n, int pos, const sample_request *s, int32_t *token,
                          hearth_error *err) {
    gpu_backend *b = ctx;
    *token = -1;
    if (n < 1 || n > gpu_model_batch(b->g))
        return hearth_fail(err, HEARTH_E_ARG, "a GPU step takes 1 to %d tokens, not %d", gpu_model_batch(b->g), n);
    gpu_step st = {.pos = (uint32_t)pos, .n_tok = (uint32_t)n};
    int list;
    if (n == 1) { /* one token: the decode list does it with fewer dispatches */
        st.token = (uint32_t)tokens[0];
        list = GPU_LIST_DECODE;
    } else {
        list = s ? GPU_LIST_PREFILL_LAST : GPU_LIST_PREFILL;
    }
    hearth_status rc = HEARTH_OK;
    if (s) sampling(s, &st);
    if (s && s->allowed && b->mask_mode == GPU_MASK_UPLOAD) {
        rc = gpu_model_write_mask(b->g, s->allowed, err);
        st.masked = 1;
    }
    if (!rc) rc = gpu_model_write_step(b->g, &st, n > 1 ? tokens : NULL, n > 1 ? n : 0, err);
    if (rc) return rc;
    b->list = list;
    b->id++;
    b->samples = s != NULL;
    b->allowed = s ? s->allowed : NULL;
    b->done = b->with_logits = false;
    *token = HEARTH_STEP_PENDING;
    return HEARTH_OK;
}

static int32_t collect(void *ctx) {
    gpu_backend *b = ctx;
    if (!b->done) return HEARTH_STEP_PENDING;
    return b->samples ? b->token : -1;
}

static const float *logits(void *ctx) {
    gpu_backend *b = ctx;
    return b->with_logits ? b->logits : NULL;
}

hearth_status gpu_backend_create(gpu_backend **out, gpu_model *g, hearth_error *err) {
    *out = NULL;
    gpu_backend *b = calloc(1, sizeof *b);
    if (b) b->logits = malloc((size_t)gpu_model_vocab(g) * sizeof *b->logits);
    if (!b || !b->logits) {
        free(b);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    b->g = g;
    b->list = -1;
    b->b = (hearth_backend){.ctx = b, .name = "GPU", .n_ctx = gpu_model_ctx(g), .n_vocab = gpu_model_vocab(g),
                           .max_step = gpu_model_batch(g), .check = check, .step = step, .collect = collect,
                           .logits = logits};
    *out = b;
    return HEARTH_OK;
}

void gpu_backend_free(gpu_backend *b) {
    if (!b) return;
    free(b->logits);
    free(b);
}

const hearth_backend *gpu_backend_of(const gpu_backend *b) { return &b->b; }

int gpu_backend_pending(const gpu_backend *b, bool *samples, uint32_t *id) {
    *samples = b->samples;
    *id = b->id;
    return b->done ? -1 : b->list;
}

void gpu_backend_set_mask_mode(gpu_backend *b, gpu_mask_mode mode) { b->mask_mode = mode; }

float *gpu_backend_logits_slot(gpu_backend *b) { return b->logits; }

bool gpu_backend_wants_logits(const gpu_backend *b, int32_t token) {
    if (!b->samples || !b->allowed) return false;
    return token < 0 || token >= b->b.n_vocab || !((b->allowed[token >> 5] >> (token & 31)) & 1);
}

void gpu_backend_complete(gpu_backend *b, uint32_t id, int32_t token, bool with_logits) {
    if (b->list < 0 || b->done || id != b->id) return;
    b->token = token;
    b->with_logits = with_logits && b->samples;
    b->done = true;
}
