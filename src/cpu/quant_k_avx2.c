/* AVX2 + FMA + F16C build of the Q4_K / Q5_K / Q6_K products
 * (quant_k_x86.h, maddubs/madd). Without those flags only a stub. */
#include "kernels.h"
#include "quant_k.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
/* The maddubs variant even where the compiler was told of VNNI
 * (-march=native): this file is the AVX2 level. */
#define KQ_NO_VNNI
#include "quant_k_x86.h"

void kernels_k_avx2_fill(hearth_kernels *k) {
    kq_x86_fill(k);
}
#else
void kernels_k_avx2_fill(hearth_kernels *k) {
    (void)k;
}
#endif
