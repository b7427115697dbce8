/* The AVX2 level of the Q2_K, Q3_K, IQ4_NL and IQ4_XS products
 * (quant_lowbit_x86.h). Compiled with -mavx2 -mfma -mf16c; without them a
 * stub, so that a portable build still links. */
#include "quant_lowbit.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
/* 256-bit maddubs code even where the compiler was told the machine has
 * AVX-512 (-march=native): this file is the AVX2 level. */
#define LB_NO_512
#include "quant_lowbit_x86.h"

bool lowbit_avx2_fill(hearth_kernels *k) {
    lowbit_x86_fill(k);
    return true;
}
#else
bool lowbit_avx2_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
