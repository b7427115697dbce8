/* The WGSL kernels of src/gpu/ (the .wgsl files), embedded at build time
 * (tools/embed_wgsl.mjs writes wgsl_sources.c). */
#ifndef HEARTH_GPU_WGSL_H
#define HEARTH_GPU_WGSL_H

/* The text of a kernel file ("mv_qkv.wgsl"), or NULL. */
const char *gpu_wgsl(const char *name);

#endif
