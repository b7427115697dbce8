/* The engine: a loaded model with its tokenizer, KV cache and kernels.
 * One value per loaded model; nothing global. */
#ifndef HEARTH_ENGINE_H
#define HEARTH_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "model/gguf.h"
#include "host.h"
#include "model/model.h"
#include "sampler.h"
#include "tokenizer/tokenizer.h"

typedef struct hearth_engine hearth_engine;

typedef struct {
    int n_ctx;      /* 0: the smaller of the model's context and 4096 */
    int max_batch;  /* tokens per forward pass during prefill; 0: 512 */
    bool no_simd;   /* force the scalar kernels (tests) */
    bool fast_numerics; /* kernels that are faster but not bit-identical with llama.cpp's
                         * order, where the platform has such (wasm; kernels_prefer_speed) */
    bool vocab_only;/* read the tokenizer only: no weights, no KV cache (tokenizing) */
    bool no_cpu_weights; /* matrices stay in the file and no CPU KV cache is made: the GPU
                          * backend (src/gpu) streams them to the GPU itself; eval fails */
} hearth_engine_options;

hearth_status hearth_engine_load(hearth_engine **out, const hearth_host *host, const hearth_engine_options *opt,
                                 hearth_error *err);
void hearth_engine_free(hearth_engine *e);
/* Another engine on base's loaded model with its own KV cache: the file,
 * weights, tokenizer and kernels are base's (read-only, shared), so several
 * conversations keep their caches side by side (a server's slots) for the
 * memory of one cache each. It evaluates on the CPU; free it before base. */
hearth_status hearth_engine_share(hearth_engine **out, hearth_engine *base, hearth_error *err);

const gguf_file *hearth_engine_gguf(const hearth_engine *e);
const model *hearth_engine_model(const hearth_engine *e); /* NULL when vocab_only */
const hearth_tokenizer *hearth_engine_tokenizer(const hearth_engine *e);
const char *hearth_engine_kernels(const hearth_engine *e);
const hearth_host *hearth_engine_host(const hearth_engine *e);
int hearth_engine_ctx(const hearth_engine *e);

/* The backend generation runs on (backend.h): the CPU's forward pass, or
 * one its owner set (the GPU backend, which outlives neither the engine nor
 * its own setting: it sets NULL, restoring the CPU, before it goes); NULL
 * when there is none (vocabulary only, or weights kept for a GPU not yet set). */
struct hearth_backend;
const struct hearth_backend *hearth_engine_backend(const hearth_engine *e);
void hearth_engine_set_backend(hearth_engine *e, const struct hearth_backend *b);

/* Tokens of a raw-completion prompt: BOS as the file says, then the text
 * (special-token text is not parsed). *out is malloc'ed. */
hearth_status hearth_engine_prompt_tokens(const hearth_engine *e, const char *text, size_t len, int32_t **out,
                                          int *n, hearth_error *err);

/* Batched decoding across engines that share a model (a server's slots).
 * With defer on, the CPU backend's sampling steps (every decode step of the
 * generation loop, and a prompt's last chunk) do not run: the step is
 * checked, kept, and left pending (backend.h). hearth_engine_run_deferred
 * then runs the pending steps of the engines given as one batch, one pass
 * over the weights for all (forward_eval_seqs: a new conversation's prompt
 * goes in the same pass as the others' decode steps), and samples each, so
 * that the loop's next call collects its token; *passes: the passes over
 * the weights it took (more rows than one pass holds go in several). A
 * batch of one step runs forward_eval's path itself; steps of a larger
 * batch may round differently from it (the batch products' order).
 * If it fails, every step not run is dropped: those engines' loops must end
 * (their next step would find no token). */
void hearth_engine_defer_decode(hearth_engine *e, bool defer);
bool hearth_engine_deferred(const hearth_engine *e); /* a step waits for run_deferred */
hearth_status hearth_engine_run_deferred(hearth_engine *const *engines, int n, int *passes, hearth_error *err);

/* Low level: evaluates tokens at pos; logits (n_vocab) of the last one. */
hearth_status hearth_engine_eval(hearth_engine *e, const int32_t *tokens, int n, int pos, float *logits,
                                 hearth_error *err);

#endif
