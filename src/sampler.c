#include "sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct sampler {
    sampler_params p;
    int n_vocab;
    uint64_t rng;
    token_logit *cand;
};

void sampler_defaults(sampler_params *p) {
    *p = (sampler_params){
        .temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
        .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0x9e3779b97f4a7c15ull,
    };
}

hearth_status sampler_validate(const sampler_params *p, hearth_error *err) {
    if (!(p->temperature >= 0) || p->temperature > 100)
        return hearth_fail(err, HEARTH_E_ARG, "temperature must be between 0 and 100");
    if (p->top_k < 0) return hearth_fail(err, HEARTH_E_ARG, "top-k must be 0 (off) or positive");
    if (!(p->top_p > 0 && p->top_p <= 1)) return hearth_fail(err, HEARTH_E_ARG, "top-p must be in (0, 1]");
    if (!(p->min_p >= 0 && p->min_p <= 1)) return hearth_fail(err, HEARTH_E_ARG, "min-p must be in [0, 1]");
    if (!(p->repeat_penalty > 0) || p->repeat_penalty > 100)
        return hearth_fail(err, HEARTH_E_ARG, "repeat penalty must be positive (1 is off)");
    if (p->repeat_last_n < 0) return hearth_fail(err, HEARTH_E_ARG, "repeat window must not be negative");
    return HEARTH_OK;
}

hearth_status sampler_create(sampler **out, const sampler_params *p, int n_vocab, hearth_error *err) {
    *out = NULL;
    hearth_status st = sampler_validate(p, err);
    if (st) return st;
    sampler *s = calloc(1, sizeof *s);
    if (s) s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    if (!s || !s->cand) {
        if (s) free(s);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    s->p = *p;
    s->n_vocab = n_vocab;
    s->rng = p->seed ? p->seed : 1;
    *out = s;
    return HEARTH_OK;
}

void sampler_free(sampler *s) {
    if (!s) return;
    free(s->cand);
    free(s);
}

/* The first index of the largest value, NaNs never chosen after index 0
 * (as a loop keeping the first strictly greater value). Eight running
 * maxima and then a search for the first index that holds their maximum:
 * one compare chain through 150k logits was a visible part of a decode
 * step. */
int32_t argmax(const float *v, int n) {
    if (n <= 0 || v[0] != v[0]) return 0;
    float m[8];
    for (int l = 0; l < 8; l++) m[l] = v[0];
    int i = 1;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            if (v[i + l] > m[l]) m[l] = v[i + l];
    for (; i < n; i++)
        if (v[i] > m[0]) m[0] = v[i];
    float best = m[0];
    for (int l = 1; l < 8; l++)
        if (m[l] > best) best = m[l];
    for (i = 0; i < n; i++)
        if (v[i] == best) break;
    return i;
}

void sampler_mask_logits(float *logits, int n_vocab, const uint32_t *allowed) {
    for (int i = 0; i < n_vocab; i += 32) {
        uint32_t word = allowed[i >> 5];
        if (word == UINT32_MAX) continue;
        int end = i + 32 < n_vocab ? i + 32 : n_vocab;
        for (int k = i; k < end; k++)
            if (!((word >> (k - i)) & 1)) logits[k] = -INFINITY;
    }
}

/* splitmix64: small, fast, and good enough for sampling. */
static uint64_t next_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *state) { return (double)(next_u64(state) >> 11) * (1.0 / 9007199254740992.0); }

static int by_logit_desc(const void *a, const void *b) {
    const token_logit *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id - y->id;
}

static bool worse(token_logit a, token_logit b) { return by_logit_desc(&a, &b) > 0; }

static void sift_down(token_logit *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(h[l], h[m])) m = l;
        if (r < n && worse(h[r], h[m])) m = r;
        if (m == i) return;
        token_logit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Moves the k best candidates to the front, sorted: O(n log k) with a
 * heap whose root is the worst of the best k. */
static int select_top(token_logit *c, int n, int k) {
    for (int i = k / 2 - 1; i >= 0; i--) sift_down(c, k, i);
    for (int i = k; i < n; i++)
        if (worse(c[0], c[i])) {
            c[0] = c[i];
            sift_down(c, k, 0);
        }
    qsort(c, (size_t)k, sizeof *c, by_logit_desc);
    return k;
}

static void apply_penalty(const sampler_params *p, float *logits, int n_vocab, const int32_t *recent, int n_recent) {
    if (p->repeat_penalty == 1.0f || p->repeat_last_n == 0) return;
    int from = n_recent > p->repeat_last_n ? n_recent - p->repeat_last_n : 0;
    /* Each distinct token is penalised once, however often it appeared (as llama.cpp). */
    for (int i = from; i < n_recent; i++) {
        int32_t id = recent[i];
        if (id < 0 || id >= n_vocab) continue;
        bool seen = false;
        for (int j = from; j < i && !seen; j++) seen = recent[j] == id;
        if (seen) continue;
        logits[id] = logits[id] > 0 ? logits[id] / p->repeat_penalty : logits[id] * p->repeat_penalty;
    }
}

const sampler_params *sampler_params_of(const sampler *s) { return &s->p; }

double sampler_draw(sampler *s) { return s->p.temperature > 0 ? next_unit(&s->rng) : 0; }

int32_t sampler_sample(sampler *s, float *logits, const int32_t *recent, int n_recent) {
    return sampler_pick(s, logits, recent, n_recent, sampler_draw(s));
}

int32_t sampler_pick(sampler *s, float *logits, const int32_t *recent, int n_recent, double draw) {
    const sampler_params *p = &s->p;
    apply_penalty(p, logits, s->n_vocab, recent, n_recent);
    if (p->temperature == 0) return argmax(logits, s->n_vocab);

    int n = s->n_vocab;
    for (int i = 0; i < n; i++) s->cand[i] = (token_logit){i, logits[i]};
    if (p->top_k > 0 && p->top_k < n) n = select_top(s->cand, n, p->top_k);
    else qsort(s->cand, (size_t)n, sizeof *s->cand, by_logit_desc);
    /* Probabilities at temperature 1 for top-p and min-p, as llama.cpp's chain. */
    double max = s->cand[0].logit, sum = 0;
    double *prob = malloc((size_t)n * sizeof *prob);
    if (!prob) return s->cand[0].id;
    for (int i = 0; i < n; i++) sum += prob[i] = exp(s->cand[i].logit - max);
    if (p->top_p < 1.0f) {
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += prob[i] / sum;
            if (cum >= p->top_p) {
                n = i + 1;
                break;
            }
        }
    }
    if (p->min_p > 0) {
        int keep = 1;
        while (keep < n && prob[keep] >= p->min_p * prob[0]) keep++;
        n = keep;
    }
    sum = 0;
    for (int i = 0; i < n; i++) sum += prob[i] = exp((s->cand[i].logit - max) / p->temperature);
    double r = draw * sum, acc = 0;
    int32_t pick = s->cand[n - 1].id;
    for (int i = 0; i < n; i++) {
        acc += prob[i];
        if (r < acc) {
            pick = s->cand[i].id;
            break;
        }
    }
    free(prob);
    return pick;
}
