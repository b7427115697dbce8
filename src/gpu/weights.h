/* Weight matrices on the GPU: the layout the kernels read (src/gpu/wtype_*.wgsl)
 * and the repacking of GGUF blocks into it. Quantized blocks go in pairs so
 * that every block pair is a whole number of 32-bit words with nothing
 * added (Q4_0: 2 x 18 bytes = 9 words); float types keep their bytes. */
#ifndef HEARTH_GPU_WEIGHTS_H
#define HEARTH_GPU_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether the GPU kernels read this ggml type. */
bool gpu_type_supported(uint32_t type);
/* Kernel file of the type ("wtype_q4_0.wgsl"). */
const char *gpu_type_wgsl(uint32_t type);
/* How ggml's CPU products round their input for weights of this type
 * (act.wgsl's ACT: 0 none, 1 f16, 2 bf16, 3 Q8 blocks). */
int gpu_type_act(uint32_t type);
/* Bytes on the GPU of n_blocks blocks of 32 elements (the last pair padded). */
uint64_t gpu_blocks_bytes(uint32_t type, uint64_t n_blocks);
/* Rewrites n_blocks GGUF blocks (the first at an even block index of its
 * buffer) into the GPU layout; returns the bytes written to dst
 * (gpu_blocks_bytes(type, n_blocks)). */
size_t gpu_repack(uint32_t type, const uint8_t *src, size_t n_blocks, uint8_t *dst);

#endif
