/* Token sampling: greedy, or repetition penalty -> top-k -> top-p -> min-p
 * -> temperature -> a seeded draw. The random state lives in the sampler
 * value, so a seed reproduces a generation exactly. */
#ifndef HEARTH_SAMPLER_H
#define HEARTH_SAMPLER_H

#include <stdint.h>

#include "error.h"

typedef struct {
    float temperature;    /* 0: greedy */
    int top_k;            /* 0: off */
    float top_p;          /* 1: off */
    float min_p;          /* 0: off */
    float repeat_penalty; /* 1: off */
    int repeat_last_n;    /* how many recent tokens the penalty looks at */
    uint64_t seed;
} sampler_params;

/* The defaults, the one place they are written: native flags, the request
 * parser and (through hearth_wasm_sampler_defaults) the JS API read them. */
void sampler_defaults(sampler_params *p);
hearth_status sampler_validate(const sampler_params *p, hearth_error *err);

typedef struct {
    int32_t id;
    float logit;
} token_logit;

typedef struct sampler sampler;

hearth_status sampler_create(sampler **out, const sampler_params *p, int n_vocab, hearth_error *err);
void sampler_free(sampler *s);
/* Picks the next token. recent: tokens generated or read so far (the penalty
 * window is taken from its end). logits may be modified.
 * Equal to sampler_pick(s, logits, recent, n_recent, sampler_draw(s)). */
int32_t sampler_sample(sampler *s, float *logits, const int32_t *recent, int n_recent);
const sampler_params *sampler_params_of(const sampler *s);
/* The step's uniform draw in [0, 1), advancing the seeded state; 0 without
 * a draw (greedy), so a backend that samples elsewhere (the GPU) consumes
 * the same random sequence as the CPU. */
double sampler_draw(sampler *s);
/* The chain on logits with the step's draw r. */
int32_t sampler_pick(sampler *s, float *logits, const int32_t *recent, int n_recent, double r);

/* Sets the logits of tokens outside allowed (a bitmask, bit i of word i /
 * 32) to -infinity, so no step of the chain can pick them. */
void sampler_mask_logits(float *logits, int n_vocab, const uint32_t *allowed);

/* Index of the largest value (the first on ties). */
int32_t argmax(const float *v, int n);

#endif
