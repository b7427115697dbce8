/* AVX2 + FMA + F16C kernels. Compiled with -mavx2 -mfma -mf16c; without
 * them the file only provides a stub so a plain build still links. */
#include "kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
bool kernels_avx2_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#else
bool kernels_avx2_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
