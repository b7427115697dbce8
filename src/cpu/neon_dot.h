/* The 8-bit dot-product primitives every ARM64 kernel builds on, in the
 * variant of the level that includes this header: SDOT (vdotq_s32) where
 * the file is compiled with +dotprod (quant_*_neon_dotprod.c), widening
 * multiplies and pairwise adds in plain ARMv8-A NEON (quant_*_neon.c).
 * Both give the same exact integers, so the levels give the same bits. */
#ifndef HEARTH_CPU_NEON_DOT_H
#define HEARTH_CPU_NEON_DOT_H

#include <arm_neon.h>

/* Inlined whatever its size: the drivers take their type and the tile's
 * token count as constants, which is what makes the inner loops tight. */
#define NEON_AI static inline __attribute__((always_inline))
/* Before the fixed-count loops over a block's vectors and scales: straight
 * code, registers for the arrays. */
#define NEON_UNROLL _Pragma("GCC unroll 16")

/* An fp16 scale as f32 by the hardware's conversion (exact, the value
 * ggml_fp16_to_fp32 gives) rather than a call in the inner loop. */
static inline float neon_half(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

/* Lane i: acc_i + the dot of bytes 4i..4i+3 of a and b (|a|, |b| <= 128,
 * so a product fits int16 and two fit int32 with room). */
static inline int32x4_t neon_dot4(int32x4_t acc, int8x16_t a, int8x16_t b) {
#ifdef __ARM_FEATURE_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    const int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    const int32x4_t hi = vpaddlq_s16(vmull_high_s8(a, b));
    return vaddq_s32(acc, vpaddq_s32(lo, hi));
#endif
}

/* The four 4-element dots of a 32-element block, each its own lane pair:
 * lanes of lo cover elements 0..15, of hi 16..31. */
typedef struct {
    int32x4_t lo, hi;
} neon_dot8;

static inline neon_dot8 neon_block_dots(const int8x16_t w[2], const int8_t *a) {
    const neon_dot8 r = {neon_dot4(vdupq_n_s32(0), w[0], vld1q_s8(a)),
                         neon_dot4(vdupq_n_s32(0), w[1], vld1q_s8(a + 16))};
    return r;
}

/* The whole integer dot of a 32-element block. */
static inline int32_t neon_block_sum(const int8x16_t w[2], const int8_t *a) {
    return vaddvq_s32(neon_dot4(neon_dot4(vdupq_n_s32(0), w[0], vld1q_s8(a)), w[1], vld1q_s8(a + 16)));
}

/* ggml's hsum_float_8 of lanes lo = 0..3, hi = 4..7:
 * ((a4 + a0) + (a6 + a2)) + ((a5 + a1) + (a7 + a3)). */
static inline float neon_hsum8(float32x4_t lo, float32x4_t hi) {
    const float32x4_t t = vaddq_f32(hi, lo);
    const float32x2_t u = vadd_f32(vget_low_f32(t), vget_high_f32(t));
    return vget_lane_f32(u, 0) + vget_lane_f32(u, 1);
}

/* Lanes of lo, hi = fma(d, float(s), lanes): scalar's fmaf(d, (float)s, lane). */
static inline void neon_fma8(float32x4_t *lo, float32x4_t *hi, neon_dot8 s, float d) {
    const float32x4_t vd = vdupq_n_f32(d);
    *lo = vfmaq_f32(*lo, vcvtq_f32_s32(s.lo), vd);
    *hi = vfmaq_f32(*hi, vcvtq_f32_s32(s.hi), vd);
}

#endif
