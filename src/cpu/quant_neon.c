/* The base ARM64 level: plain ARMv8-A NEON (every ARM64 CPU), the dot
 * products by widening multiplies (neon_dot.h). Compiled with
 * -march=armv8-a by `make arm64`; on other targets only a stub
 * (kernels_neon_fill returns false), so every build links. */
#include "kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include "quant_float_neon.h"
#include "quant_lowbit_neon.h" /* with quant_neon.h and quant_k_neon.h */

bool kernels_neon_fill(hearth_kernels *k) {
    neon_float_fill(k);
    neon_quant_fill(k);
    neon_k_fill(k);
    neon_lowbit_fill(k);
    k->name = "neon";
    return true;
}
#else
bool kernels_neon_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
