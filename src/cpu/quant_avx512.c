/* AVX512-VNNI kernels (256-bit vpdpbusd). Compiled with -mavx2 -mfma -mf16c
 * -mavx512f -mavx512vl -mavx512bw -mavx512vnni; without them the file only
 * provides a stub so a plain build still links. */
#include "kernels.h"

bool kernels_avx512_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
