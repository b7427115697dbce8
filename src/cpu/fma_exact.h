/* FMAF(a, b, c): fmaf rounded once on every target. wasi-libc's fmaf is 1
 * ulp off in some halfway cases, so wasm builds take simd128_exact.h's
 * fma_once (the product of two floats is exact in f64) instead. */
#ifndef HEARTH_CPU_FMA_EXACT_H
#define HEARTH_CPU_FMA_EXACT_H

#include <math.h>

#ifdef __wasm_simd128__
#include "simd128_exact.h"
#define FMAF(a, b, c) fma_once((a), (b), (c))
#else
#define FMAF(a, b, c) fmaf((a), (b), (c))
#endif

#endif
