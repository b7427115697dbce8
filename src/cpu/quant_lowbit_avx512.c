/* The AVX512-VNNI level of the Q2_K, Q3_K, IQ4_NL and IQ4_XS products
 * (quant_lowbit_x86.h: 512-bit K-type super-block dots, vpdpbusd IQ4_NL
 * tiles). Compiled with the AVX-512 flags of the Makefile; without them a
 * stub. */
#include "quant_lowbit.h"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__F16C__) && \
    defined(__FMA__)
#include "quant_lowbit_x86.h"

bool lowbit_avx512_fill(hearth_kernels *k) {
    lowbit_x86_fill(k);
    return true;
}
#else
bool lowbit_avx512_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
