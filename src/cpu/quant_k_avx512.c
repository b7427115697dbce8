/* AVX512-VNNI build of the Q4_K / Q5_K / Q6_K products (quant_k_x86.h on
 * 256-bit vectors with vpdpbusd / vpdpwssd). Without those flags only a
 * stub. */
#include "kernels.h"
#include "quant_k.h"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__F16C__) && \
    defined(__FMA__)
#include "quant_k_x86.h"

void kernels_k_avx512_fill(hearth_kernels *k) {
    kq_x86_fill(k);
}
#else
void kernels_k_avx512_fill(hearth_kernels *k) {
    (void)k;
}
#endif
