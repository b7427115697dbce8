/* WebAssembly SIMD128 kernel level (quant_simd128.c, float_simd128.c):
 * kernels_init installs it in wasm builds compiled with -msimd128. */
#ifndef HEARTH_CPU_KERNELS_SIMD128_H
#define HEARTH_CPU_KERNELS_SIMD128_H

#include <stdbool.h>

#include "attention.h"
#include "kernels.h"

/* Overwrites every matmul and the Q8_0/Q8_1 activation quantization with
 * SIMD128 versions (bit-identical with the scalar reference) and names the
 * set "simd128"; returns false and touches nothing when compiled without
 * SIMD128. */
bool kernels_simd128_fill(hearth_kernels *k);
/* The F32/F16/BF16 matmuls; used by kernels_simd128_fill. */
void kernels_simd128_float_fill(hearth_kernels *k);
/* The attention row (attention_simd128.c), bit-identical with
 * attention_row_scalar; NULL when compiled without SIMD128. */
attention_row_fn attention_row_simd128(void);

#endif
