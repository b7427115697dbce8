/* The GPU host interface: the only way the core reaches a GPU. The core
 * describes buffers, compute pipelines (WGSL text and binding layout) and
 * lists of dispatches once per model; the host (web/gpu/host.mjs over
 * WebGPU) creates them, compiles the pipelines asynchronously and replays a
 * list per step. Natively there is no implementation: the GPU backend is
 * unsupported there. */
#ifndef HEARTH_GPU_HOST_H
#define HEARTH_GPU_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum { GPU_BIND_UNIFORM = 0, GPU_BIND_READ = 1, GPU_BIND_RW = 2 } gpu_bind_kind;
typedef enum { GPU_BUFFER_STORAGE = 0, GPU_BUFFER_UNIFORM = 1 } gpu_buffer_usage;

/* Dispatch lists the host replays. */
enum { GPU_LIST_DECODE = 0, GPU_LIST_PREFILL = 1, GPU_LIST_PREFILL_LAST = 2, GPU_LIST_COUNT = 3 };
/* Buffers the host reads or writes each step. */
enum { GPU_BUF_STEP = 0, GPU_BUF_TOKENS = 1, GPU_BUF_RESULT = 2, GPU_BUF_LOGITS = 3, GPU_BUF_FIRST_FREE = 4 };

typedef struct {
    uint32_t binding, kind; /* gpu_bind_kind */
} gpu_layout_entry;

typedef struct {
    uint32_t binding, buffer;
} gpu_bind_entry;

typedef struct {
    double max_storage_binding;  /* maxStorageBufferBindingSize */
    double max_buffer;           /* maxBufferSize */
    double max_workgroup_storage;/* maxComputeWorkgroupStorageSize */
    double max_storage_buffers;  /* maxStorageBuffersPerShaderStage */
    int subgroups, shader_f16;   /* features the device was created with */
    int dot4;                    /* WGSL's packed_4x8_integer_dot_product (dot4I8Packed) */
} gpu_limits;

typedef struct gpu_host {
    void *ctx;
    hearth_status (*limits)(void *ctx, gpu_limits *out, hearth_error *err);
    hearth_status (*create_buffer)(void *ctx, uint32_t id, uint64_t size, gpu_buffer_usage usage, hearth_error *err);
    hearth_status (*write_buffer)(void *ctx, uint32_t id, uint64_t offset, const void *src, size_t len,
                                  hearth_error *err);
    /* Compiled by the host later (asynchronously); errors surface then. */
    hearth_status (*create_pipeline)(void *ctx, uint32_t id, const char *label, const char *wgsl, size_t len,
                                     const gpu_layout_entry *layout, int n_layout, hearth_error *err);
    hearth_status (*add_dispatch)(void *ctx, int list, uint32_t pipeline, const gpu_bind_entry *binds, int n_binds,
                                  uint32_t x, uint32_t y, uint32_t z, hearth_error *err);
} gpu_host;

#endif
