/* AVX512-VNNI kernels: the bodies in quant_simd_x86.h built with 256-bit
 * vpdpbusd (one instruction per 4-byte group instead of maddubs + madd +
 * add) and 32 vector registers. Compiled with -mavx2 -mfma -mf16c -mavx512f
 * -mavx512vl -mavx512bw -mavx512vnni; without those flags the file is only
 * a stub (kernels_avx512_fill returns false). */
#include "kernels.h"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__F16C__) && \
    defined(__FMA__)
#include "quant_simd_x86.h"

bool kernels_avx512_fill(hearth_kernels *k) {
    x86_fill(k);
    k->name = "avx512vnni";
    return true;
}
#else
bool kernels_avx512_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
