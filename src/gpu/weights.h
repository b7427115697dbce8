/* Weight matrices on the GPU: the layout the kernels read (src/gpu/wtype_*.wgsl)
 * and the repacking of GGUF blocks into it. What the GPU runs of a type,
 * its kernel file and its block size come from the type table
 * (ggml_types.h); this file adds how its blocks are laid out. Blocks of
 * types marked gpu_pairs go in pairs so that every block pair is a whole
 * number of 32-bit words with nothing added (Q4_0: 2 x 18 bytes = 9 words);
 * float types keep their bytes, in blocks of gpu_block_elems values. */
#ifndef HEARTH_GPU_WEIGHTS_H
#define HEARTH_GPU_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The width of the Q8 blocks the GPU rounds activations to (act.wgsl), and
 * of the groups every kernel takes weights in (wtype_*.wgsl: WBUF_q8(g) is
 * group g's 32 codes; a K-quant super-block is 8 groups). Q8_K input
 * (ACT 4) shares one scale over 8 blocks (256 values). */
#define GPU_Q8_BLOCK 32
#define GPU_Q8K_BLOCKS 8

/* Whether the GPU kernels read this ggml type. */
bool gpu_type_supported(uint32_t type);
/* Kernel file of the type ("wtype_q4_0.wgsl"). */
const char *gpu_type_wgsl(uint32_t type);
/* How ggml's CPU products round their input for weights of this type
 * (act.wgsl's ACT: 0 none, 1 f16, 2 bf16, 3 Q8 blocks of 32 (Q8_0, Q8_1),
 * 4 Q8_K (K-quants, IQ4_XS)); 3 and 4 are integer products. */
int gpu_type_act(uint32_t type);
/* Elements of one block of the type's GPU layout (a weight row is a whole
 * number of them; WGSL's BPR counts them), 0 for a type the GPU cannot run. */
int gpu_type_block(uint32_t type);
/* Whether its blocks go in pairs (a chunk written to a buffer must then
 * start at an even block). */
bool gpu_type_pairs(uint32_t type);
/* Bytes on the GPU of n_blocks blocks of gpu_type_block elements (the last
 * pair padded). */
uint64_t gpu_blocks_bytes(uint32_t type, uint64_t n_blocks);
/* Rewrites n_blocks GGUF blocks (for paired types the first at an even
 * block index of its buffer) into the GPU layout; returns the bytes written
 * to dst (gpu_blocks_bytes(type, n_blocks)). */
size_t gpu_repack(uint32_t type, const uint8_t *src, size_t n_blocks, uint8_t *dst);

#endif
