/* The forward pass on the CPU: a KV cache and scratch buffers for one
 * sequence, and the evaluation of a batch of tokens. */
#ifndef HEARTH_FORWARD_H
#define HEARTH_FORWARD_H

#include <stdbool.h>

#include "cpu/kernels.h"
#include "error.h"
#include "host.h"
#include "model/model.h"

typedef struct forward_ctx forward_ctx;

/* n_ctx: KV cache length in tokens; max_batch: tokens evaluated per pass
 * (longer inputs are split). */
hearth_status forward_create(forward_ctx **out, const model *m, const hearth_host *host,
                             const hearth_kernels *kernels, bool allow_simd, int n_ctx, int max_batch,
                             hearth_error *err);
void forward_free(forward_ctx *f);
int forward_ctx_size(const forward_ctx *f);
uint64_t forward_kv_bytes(const forward_ctx *f);

/* Evaluates tokens at positions pos..pos+n-1, reading the cache for
 * positions before pos. When logits is not NULL it receives n_vocab values
 * for the last token. */
hearth_status forward_eval(forward_ctx *f, const int32_t *tokens, int n, int pos, float *logits,
                           hearth_error *err);
/* The errors forward_eval would give these tokens at pos, without evaluating. */
hearth_status forward_check(const forward_ctx *f, const int32_t *tokens, int n, int pos, hearth_error *err);

/* Steps of n sequences in one pass over the weights (or as few as their
 * rows need, max_batch rows a pass): sequence i evaluates count[i] tokens
 * tokens[i] at pos[i].. on seqs[i]'s cache (distinct contexts of one model)
 * and receives the n_vocab logits of its last token in logits[i]. Decode
 * steps of several conversations and their new prompts go together, each
 * weight read once for all. The products run on all rows together, so a
 * step's logits may round differently from forward_eval's (its sums in the
 * batch kernels' order); each row's attention is the one forward_eval gives
 * it (a sequence is cut into passes where forward_eval cuts it). seqs[0]'s
 * scratch runs the passes; *passes (passes may be NULL) says how many. */
hearth_status forward_eval_seqs(forward_ctx *const *seqs, const int32_t *const *tokens, const int *count,
                                const int *pos, int n, float *const *logits, int *passes, hearth_error *err);
/* forward_eval_seqs of one-token steps: row i evaluates tokens[i] at pos[i]
 * on rows[i]'s cache. */
hearth_status forward_eval_rows(forward_ctx *const *rows, const int32_t *tokens, const int *pos, int n,
                                float *const *logits, hearth_error *err);

#endif
