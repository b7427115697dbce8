/* The WebGPU backend in the WebAssembly build: src/gpu/gpu_host.h over the
 * "hearth_gpu" imports (web/gpu/host.mjs implements them over WebGPU), and
 * the exports web/gpu/host.mjs drives a GPU model with. The JS side does the
 * asynchronous parts between calls: uploading in slices, compiling the
 * pipelines, and each step's submit and readback. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gpu/gpu_backend.h"
#include "gpu/gpu_host.h"
#include "gpu/plan.h"
#include "host_wasm.h"

#define IMPORT(name) __attribute__((import_module("hearth_gpu"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

/* Each returns 0, or -1 with a NUL-terminated message in msg (cap bytes). */
IMPORT("limits") int js_limits(double *out, char *msg, int cap);
IMPORT("create_buffer") int js_create_buffer(uint32_t id, double size, int usage, char *msg, int cap);
IMPORT("write_buffer") int js_write_buffer(uint32_t id, double offset, const void *src, size_t len, char *msg, int cap);
IMPORT("create_pipeline")
int js_create_pipeline(uint32_t id, const char *label, size_t label_len, const char *src, size_t len,
                       const gpu_layout_entry *layout, int n, char *msg, int cap);
IMPORT("add_dispatch")
int js_add_dispatch(int list, uint32_t pipeline, const gpu_bind_entry *binds, int n, uint32_t x, uint32_t y,
                    uint32_t z, char *msg, int cap);

static hearth_status failed(hearth_error *err, const char *msg, const char *what) {
    return hearth_fail(err, HEARTH_E_IO, "WebGPU: %s", msg[0] ? msg : what);
}

static hearth_status limits(void *ctx, gpu_limits *out, hearth_error *err) {
    char msg[400] = {0};
    double v[7] = {0};
    if (js_limits(v, msg, (int)sizeof msg)) return failed(err, msg, "no GPU device");
    *out = (gpu_limits){v[0], v[1], v[2], v[3], v[4] != 0, v[5] != 0, v[6] != 0};
    return HEARTH_OK;
}

static hearth_status create_buffer(void *ctx, uint32_t id, uint64_t size, gpu_buffer_usage usage, hearth_error *err) {
    char msg[400] = {0};
    if (js_create_buffer(id, (double)size, (int)usage, msg, (int)sizeof msg)) return failed(err, msg, "cannot create a buffer");
    return HEARTH_OK;
}

static hearth_status write_buffer(void *ctx, uint32_t id, uint64_t offset, const void *src, size_t len,
                                  hearth_error *err) {
    char msg[400] = {0};
    if (js_write_buffer(id, (double)offset, src, len, msg, (int)sizeof msg)) return failed(err, msg, "cannot write a buffer");
    return HEARTH_OK;
}

static hearth_status create_pipeline(void *ctx, uint32_t id, const char *label, const char *wgsl, size_t len,
                                     const gpu_layout_entry *layout, int n, hearth_error *err) {
    char msg[400] = {0};
    if (js_create_pipeline(id, label, strlen(label), wgsl, len, layout, n, msg, (int)sizeof msg))
        return failed(err, msg, "cannot create a pipeline");
    return HEARTH_OK;
}

static hearth_status add_dispatch(void *ctx, int list, uint32_t pipeline, const gpu_bind_entry *binds, int n,
                                  uint32_t x, uint32_t y, uint32_t z, hearth_error *err) {
    char msg[400] = {0};
    if (js_add_dispatch(list, pipeline, binds, n, x, y, z, msg, (int)sizeof msg)) return failed(err, msg, "cannot record a dispatch");
    return HEARTH_OK;
}

static const gpu_host js_gpu = {NULL, limits, create_buffer, write_buffer, create_pipeline, add_dispatch};

typedef struct {
    hearth_engine *engine;
    gpu_model *gpu;
    gpu_backend *backend; /* the engine's backend while the session lives */
    hearth_error err;
} gpu_session;

EXPORT("hearth_wasm_gpu_error") const char *hearth_wasm_gpu_error(gpu_session *s) { return s->err.message; }

/* Loads the model JS opened as part 0 for the GPU: the tokenizer and
 * hyper-parameters into wasm memory, the plan to the host; the weights
 * follow through hearth_wasm_gpu_upload. flags: 1 no subgroups, 2 exact
 * attention, 4 products of quantized weights in f32 (comparisons), bits
 * 8..15 workgroups per head of decode attention, 16..19 log2 of the
 * integer decode products' lanes a row, 20..27 their least workgroups / 32,
 * 28 / 30 8 / 4 tokens a thread in the integer prefill products, 29 no
 * SwiGLU output quantized for the down product, 3 post norms not folded
 * into the next products (0: defaults; tuning); exact_split: exact
 * attention's decode over 512+ cells in that many chunks, as the CPU path
 * with that many threads (0: none)
 * (plan.h). Always returns a session (NULL only without memory);
 * its engine is NULL on failure, with the error. */
EXPORT("hearth_wasm_gpu_load") gpu_session *hearth_wasm_gpu_load(int n_ctx, int max_batch, int flags, int exact_split) {
    gpu_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    hearth_engine_options opt = {.n_ctx = n_ctx, .max_batch = max_batch, .no_cpu_weights = true};
    const hearth_host *host = wasm_host(); /* once: it forgets the open parts */
    if (hearth_engine_load(&s->engine, host, &opt, &s->err)) return s;
    gpu_options go = {.n_ctx = hearth_engine_ctx(s->engine), .max_batch = max_batch > 0 ? max_batch : 512,
                      .no_subgroups = (flags & 1) != 0, .exact_attention = (flags & 2) != 0,
                      .no_mmq = (flags & 4) != 0, .attn_split = (flags >> 8) & 255,
                      .mvq_tpr = (flags >> 16) & 15 ? 1 << ((flags >> 16) & 15) : 0, .mvq_wgs = 32 * ((flags >> 20) & 255),
                      .mmq_tn = (flags >> 28) & 1 ? 8 : (flags >> 30) & 1 ? 4 : 0,
                      .no_fuse = (flags >> 29) & 1, .no_fold = (flags >> 3) & 1,
                      .exact_split = exact_split > 0 ? exact_split : 0};
    if (gpu_model_create(&s->gpu, hearth_engine_model(s->engine), host, &js_gpu, &go, &s->err) ||
        gpu_backend_create(&s->backend, s->gpu, &s->err)) {
        gpu_model_free(s->gpu);
        s->gpu = NULL;
        hearth_engine_free(s->engine);
        s->engine = NULL;
        return s;
    }
    hearth_engine_set_backend(s->engine, gpu_backend_of(s->backend));
    return s;
}

EXPORT("hearth_wasm_gpu_engine") hearth_engine *hearth_wasm_gpu_engine(gpu_session *s) { return s->engine; }

/* Frees the session's GPU side (not the engine, which hearth.mjs unloads). */
EXPORT("hearth_wasm_gpu_free") void hearth_wasm_gpu_free(gpu_session *s) {
    if (!s) return;
    if (s->engine) hearth_engine_set_backend(s->engine, NULL);
    gpu_backend_free(s->backend);
    gpu_model_free(s->gpu);
    free(s);
}

/* Uploads about `budget` bytes of weights; returns the bytes left, or -1. */
EXPORT("hearth_wasm_gpu_upload") double hearth_wasm_gpu_upload(gpu_session *s, double budget) {
    uint64_t left = 0;
    if (gpu_model_upload(s->gpu, (uint64_t)budget, &left, &s->err)) return -1;
    return (double)left;
}

/* out: dispatches of the decode, prefill and last-prefill lists,
 * pipelines, GPU bytes, vocabulary, batch, context. */
EXPORT("hearth_wasm_gpu_info") void hearth_wasm_gpu_info(gpu_session *s, double *out) {
    for (int l = 0; l < GPU_LIST_COUNT; l++) out[l] = gpu_model_dispatches(s->gpu, l);
    out[3] = gpu_model_pipelines(s->gpu);
    out[4] = (double)gpu_model_bytes(s->gpu);
    out[5] = gpu_model_vocab(s->gpu);
    out[6] = gpu_model_batch(s->gpu);
    out[7] = gpu_model_ctx(s->gpu);
}

/* The step the generation loop left in flight (it returned "pending"): its
 * dispatch list | 16 when it ends with a sampled token, and its number
 * (for hearth_wasm_gpu_complete) << 8; -1 when none. */
EXPORT("hearth_wasm_gpu_pending") double hearth_wasm_gpu_pending(gpu_session *s) {
    bool samples;
    uint32_t id;
    int list = gpu_backend_pending(s->backend, &samples, &id);
    return list < 0 ? -1 : (double)id * 256 + (list | (samples ? 16 : 0));
}

/* How a grammar's mask reaches GPU sampling: 0 upload (the default), 1 readback (gpu_backend.h). */
EXPORT("hearth_wasm_gpu_set_mask") void hearth_wasm_gpu_set_mask(gpu_session *s, int mode) {
    gpu_backend_set_mask_mode(s->backend, mode == 1 ? GPU_MASK_READBACK : GPU_MASK_UPLOAD);
}

/* 1 when the token the GPU sampled needs the step's logits read back (a grammar forbids it). */
EXPORT("hearth_wasm_gpu_wants_logits") int hearth_wasm_gpu_wants_logits(gpu_session *s, int token) {
    return gpu_backend_wants_logits(s->backend, token);
}

/* n_vocab floats JS may fill with the step's logits before completing it. */
EXPORT("hearth_wasm_gpu_logits_slot") float *hearth_wasm_gpu_logits_slot(gpu_session *s) {
    return gpu_backend_logits_slot(s->backend);
}

/* Completes step id (if still in flight) with the token the GPU sampled. */
EXPORT("hearth_wasm_gpu_complete")
void hearth_wasm_gpu_complete(gpu_session *s, uint32_t id, int token, int with_logits) {
    gpu_backend_complete(s->backend, id, token, with_logits != 0);
}
