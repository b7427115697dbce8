/* The ARM64 dot-product level: the NEON kernels (quant_neon.h,
 * quant_k_neon.h) with SDOT (vdotq_s32) as their 8-bit dot, for ARMv8.2-A
 * cores with the optional FEAT_DotProd (Apple M1 on, Cortex-A55/A76 on,
 * not Cortex-A53/A72). Compiled with -march=armv8.2-a+dotprod; elsewhere a
 * stub that returns false. */
#include "kernels.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#include "quant_float_neon.h"
#include "quant_lowbit_neon.h" /* with quant_neon.h and quant_k_neon.h */

bool kernels_neon_dotprod_fill(hearth_kernels *k) {
    neon_float_fill(k);
    neon_quant_fill(k);
    neon_k_fill(k);
    neon_lowbit_fill(k);
    k->name = "neon-dotprod";
    return true;
}
#else
bool kernels_neon_dotprod_fill(hearth_kernels *k) {
    (void)k;
    return false;
}
#endif
