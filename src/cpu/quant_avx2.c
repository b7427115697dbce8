/* AVX2 + FMA + F16C kernels: the bodies in quant_simd_x86.h built with
 * maddubs/madd integer dot products. Compiled with -mavx2 -mfma -mf16c;
 * without those flags the file is only a stub (kernels_avx2_fill returns
 * false), so a plain portable build still links. */
#include "kernels.h"
#include "quant_lowbit.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
/* The maddubs variant even when the compiler was told the machine has
 * VNNI (-march=native): this file is the AVX2 level. */
#define HK_NO_VNNI
#include "quant_simd_x86.h"
#include "quant_k.h"

bool kernels_avx2_fill(hearth_kernels *k) {
    x86_fill(k);
    kernels_k_avx2_fill(k);
    lowbit_avx2_fill(k);
    k->name = "avx2";
    return true;
}
#else
bool kernels_avx2_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
