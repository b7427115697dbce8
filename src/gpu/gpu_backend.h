/* The GPU as a backend of the one generation loop (backend.h). A step only
 * writes the step's uniform block (and a prefill chunk's tokens) and names
 * the dispatch list to run; the asynchronous host (web/gpu/host.mjs) runs
 * it, reads back the token the GPU sampled (and, when it wants them, the
 * logits) and completes the step, then calls the loop again. */
#ifndef HEARTH_GPU_BACKEND_H
#define HEARTH_GPU_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "error.h"
#include "gpu/plan.h"

typedef struct gpu_backend gpu_backend;

hearth_status gpu_backend_create(gpu_backend **out, gpu_model *g, hearth_error *err);
void gpu_backend_free(gpu_backend *b);
const hearth_backend *gpu_backend_of(const gpu_backend *b);

/* The dispatch list (GPU_LIST_*) the step in flight needs, or -1 when none;
 * *samples: whether it ends with a sampled token to read back; *id: the
 * step's number, to complete it with (a late readback of an abandoned
 * step must not complete the next one). */
int gpu_backend_pending(const gpu_backend *b, bool *samples, uint32_t *id);
/* How a grammar's mask reaches GPU sampling (docs/structured-output.md):
 * UPLOAD writes the step's mask to the GPU, whose sampler skips what it
 * forbids (one draw, the CPU path's tokens); READBACK samples without it and
 * the host reads back the logits when the token is forbidden, to draw again
 * on the CPU (no upload; a readback per rejection). UPLOAD is the default:
 * faster wherever rejections are common (bench/grammar_gpu_bench.mjs). */
typedef enum { GPU_MASK_UPLOAD = 0, GPU_MASK_READBACK = 1 } gpu_mask_mode;
void gpu_backend_set_mask_mode(gpu_backend *b, gpu_mask_mode mode);

/* Whether the host must read back the step's logits with this sampled token:
 * a token the grammar forbids (READBACK: the GPU sampled without the mask)
 * is drawn again from the logits on the CPU (generate.c). Reading them back
 * only then keeps the common step (an allowed token) as cheap as without one. */
bool gpu_backend_wants_logits(const gpu_backend *b, int32_t token);
/* n_vocab floats the host may fill with the step's logits before completing it. */
float *gpu_backend_logits_slot(gpu_backend *b);
/* Completes step id if it is the one in flight: the token read back (ignored
 * for a step that does not sample); with_logits: the host filled the logits
 * slot. */
void gpu_backend_complete(gpu_backend *b, uint32_t id, int32_t token, bool with_logits);

#endif
