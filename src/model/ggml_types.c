/* ggml type table and scalar element conversions, bit-exact with ggml's
 * reference C code (ggml-impl.h), which is what llama.cpp uses when it has no
 * hardware conversion and what F16C/AVX512-BF16 hardware also computes for
 * every non-NaN input. */
#include "model/ggml_types.h"

#include <stdio.h>
#include <string.h>

/* Every id ggml ever assigned, so an error can say "needs iq2_xs" instead of
 * "type 17". Ids that ggml later dropped keep their old names. */
static const char *const type_names[GGML_TYPE_COUNT] = {
    [0] = "f32",          [1] = "f16",          [2] = "q4_0",         [3] = "q4_1",
    [4] = "q4_2 (removed)", [5] = "q4_3 (removed)", [6] = "q5_0",     [7] = "q5_1",
    [8] = "q8_0",         [9] = "q8_1",         [10] = "q2_K",        [11] = "q3_K",
    [12] = "q4_K",        [13] = "q5_K",        [14] = "q6_K",        [15] = "q8_K",
    [16] = "iq2_xxs",     [17] = "iq2_xs",      [18] = "iq3_xxs",     [19] = "iq1_s",
    [20] = "iq4_nl",      [21] = "iq3_s",       [22] = "iq2_s",       [23] = "iq4_xs",
    [24] = "i8",          [25] = "i16",         [26] = "i32",         [27] = "i64",
    [28] = "f64",         [29] = "iq1_m",       [30] = "bf16",
    [31] = "q4_0_4x4 (removed)", [32] = "q4_0_4x8 (removed)", [33] = "q4_0_8x8 (removed)",
    [34] = "tq1_0",       [35] = "tq2_0",
    [36] = "iq4_nl_4x4 (removed)", [37] = "iq4_nl_4x8 (removed)", [38] = "iq4_nl_8x8 (removed)",
    [39] = "mxfp4",
};

/* IQ4_NL's and IQ4_XS's code book (ggml-common.h's kvalues_iq4nl). */
const int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

const char *ggml_type_name(uint32_t type) {
    return type < GGML_TYPE_COUNT ? type_names[type] : NULL;
}

/* The types hearth computes with, in the order lists name them. Q8_1 is
 * listed because it is an activation format, though no model stores weights
 * in it. */
#define GPU32(file, pairs) file, 32, pairs
static const ggml_type_info types[] = {
    {GGML_TYPE_F32, 1, 4, GGML_TYPE_F32, TYPE_CPU_ALL, GPU32("wtype_f32.wgsl", false)},
    {GGML_TYPE_F16, 1, 2, GGML_TYPE_F16, TYPE_CPU_ALL, GPU32("wtype_f16.wgsl", false)},
    {GGML_TYPE_BF16, 1, 2, GGML_TYPE_BF16, TYPE_CPU_ALL, GPU32("wtype_bf16.wgsl", false)},
    {GGML_TYPE_Q8_0, QK8_0, sizeof(block_q8_0), GGML_TYPE_Q8_0, TYPE_CPU_ALL, GPU32("wtype_q8_0.wgsl", true)},
    {GGML_TYPE_Q4_0, QK4_0, sizeof(block_q4_0), GGML_TYPE_Q8_0, TYPE_CPU_ALL, GPU32("wtype_q4_0.wgsl", true)},
    {GGML_TYPE_Q4_1, QK4_1, sizeof(block_q4_1), GGML_TYPE_Q8_1, TYPE_CPU_ALL, GPU32("wtype_q4_1.wgsl", true)},
    {GGML_TYPE_Q5_0, QK5_0, sizeof(block_q5_0), GGML_TYPE_Q8_0, TYPE_CPU_ALL, GPU32("wtype_q5_0.wgsl", true)},
    {GGML_TYPE_Q5_1, QK5_1, sizeof(block_q5_1), GGML_TYPE_Q8_1, TYPE_CPU_ALL, GPU32("wtype_q5_1.wgsl", true)},
    /* K-quants and IQ4: their kernel sets are added as they are written
     * (cpu: the kernel sets that have them). On the GPU a K-quant block is
     * its 256-value super-block (Q3_K, Q6_K in pairs: 220 and 420 bytes
     * are whole words, 110 and 210 are not); the kernels still take it 32
     * values at a time (gpu/weights.h). */
    {GGML_TYPE_Q2_K, QK_K, sizeof(block_q2_K), GGML_TYPE_Q8_K, TYPE_CPU_ALL, "wtype_q2_k.wgsl", QK_K, false},
    {GGML_TYPE_Q3_K, QK_K, sizeof(block_q3_K), GGML_TYPE_Q8_K, TYPE_CPU_ALL, "wtype_q3_k.wgsl", QK_K, true},
    {GGML_TYPE_Q4_K, QK_K, sizeof(block_q4_K), GGML_TYPE_Q8_K, TYPE_CPU_ALL, "wtype_q4_k.wgsl", QK_K, false},
    {GGML_TYPE_Q5_K, QK_K, sizeof(block_q5_K), GGML_TYPE_Q8_K, TYPE_CPU_ALL, "wtype_q5_k.wgsl", QK_K, false},
    {GGML_TYPE_Q6_K, QK_K, sizeof(block_q6_K), GGML_TYPE_Q8_K, TYPE_CPU_ALL, "wtype_q6_k.wgsl", QK_K, true},
    {GGML_TYPE_IQ4_NL, QK4_NL, sizeof(block_iq4_nl), GGML_TYPE_Q8_0, TYPE_CPU_ALL, "wtype_iq4_nl.wgsl", 32, true},
    {GGML_TYPE_IQ4_XS, QK_K, sizeof(block_iq4_xs), GGML_TYPE_Q8_K, TYPE_CPU_ALL, "wtype_iq4_xs.wgsl", QK_K, false},
    {GGML_TYPE_Q8_1, QK8_1, sizeof(block_q8_1), GGML_TYPE_COUNT, 0, NULL, 0, false},
    {GGML_TYPE_Q8_K, QK_K, sizeof(block_q8_K), GGML_TYPE_COUNT, 0, NULL, 0, false},
};
#undef GPU32

const ggml_type_info *ggml_type_info_of(uint32_t type) {
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (types[i].id == type) return &types[i];
    return NULL;
}

const ggml_type_info *ggml_type_row(size_t i) { return i < sizeof types / sizeof *types ? &types[i] : NULL; }

bool ggml_type_runs(uint32_t type) {
    const ggml_type_info *t = ggml_type_info_of(type);
    return t && t->act != GGML_TYPE_COUNT && (t->cpu || t->gpu_wgsl);
}

bool ggml_type_runs_on(uint32_t type, bool gpu) {
    const ggml_type_info *t = ggml_type_info_of(type);
    return t && t->act != GGML_TYPE_COUNT && (gpu ? t->gpu_wgsl != NULL : t->cpu != 0);
}

void ggml_type_list(bool gpu, char *buf, size_t size) {
    size_t at = 0;
    if (!size) return;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        if (!ggml_type_runs_on(types[i].id, gpu)) continue;
        int n = snprintf(buf + at, size - at, "%s%s", at ? ", " : "", ggml_type_name(types[i].id));
        if (n < 0 || (size_t)n >= size - at) return; /* cut short, still terminated */
        at += (size_t)n;
    }
}

bool ggml_type_supported(uint32_t type) { return ggml_type_info_of(type) != NULL; }

size_t ggml_block_elems(uint32_t type) {
    const ggml_type_info *t = ggml_type_info_of(type);
    return t ? t->block_elems : 0;
}

size_t ggml_block_bytes(uint32_t type) {
    const ggml_type_info *t = ggml_type_info_of(type);
    return t ? t->block_bytes : 0;
}

bool ggml_row_bytes(uint32_t type, uint64_t n, uint64_t *bytes) {
    const ggml_type_info *t = ggml_type_info_of(type);
    if (!t || n % t->block_elems != 0) return false;
    const uint64_t e = t->block_elems, b = t->block_bytes;
    uint64_t blocks = n / e;
    /* A hostile file can claim any row length: refuse products that wrap. */
    if (blocks > UINT64_MAX / b) return false;
    *bytes = blocks * b;
    return true;
}

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Pure integer conversion: exact for every input, independent of the FPU's
 * denormal and rounding modes. NaN payloads are kept, as ggml's table does. */
float ggml_fp16_to_fp32(ggml_half h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13); /* inf or NaN */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13); /* rebias 15 -> 127 */
    } else if (man == 0) {
        bits = sign; /* signed zero */
    } else {
        /* Subnormal half: value = man * 2^-24; normalise it for f32. */
        int shift = 0;
        while (!(man & 0x400u)) {
            man <<= 1;
            shift++;
        }
        man &= 0x3ffu;
        bits = sign | ((uint32_t)(113 - shift) << 23) | (man << 13);
    }
    return f32_from_bits(bits);
}

/* Round to nearest, ties to even; overflow goes to inf; every NaN becomes
 * the canonical quiet NaN 0x7e00 with the sign kept, exactly like ggml's
 * ggml_compute_fp32_to_fp16. */
ggml_half ggml_fp32_to_fp16(float f) {
    uint32_t w = f32_bits(f);
    uint16_t sign = (uint16_t)((w >> 16) & 0x8000u);
    uint32_t a = w & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u;
    if (a >= 0x47800000u) return sign | 0x7c00u; /* >= 65536: inf (65520 rounds up below) */
    if (a >= 0x38800000u) {
        /* Normal half range [2^-14, 65536): drop 13 mantissa bits with RNE.
         * A carry out of the mantissa correctly bumps the exponent, and the
         * largest values carry into 0x7c00 (inf). */
        uint32_t r = a - 0x38000000u; /* rebias exponent 127 -> 15, still in f32 position */
        uint32_t half = (r >> 13) + (((r & 0x1fffu) > 0x1000u) ||
                                     ((r & 0x1fffu) == 0x1000u && ((r >> 13) & 1u)));
        return sign | (uint16_t)half;
    }
    if (a < 0x33000000u) return sign; /* below half of the smallest subnormal: zero */
    /* Subnormal half: value / 2^-24 rounded to an integer with RNE. The full
     * 24-bit significand is shifted so that bit 0 has weight 2^-24. */
    uint32_t exp = a >> 23;
    uint32_t sig = (a & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exp; /* in [14, 24] for exp in [102, 112] */
    uint32_t q = sig >> shift;
    uint32_t rem = sig & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1u))) q++;
    return sign | (uint16_t)q; /* q == 0x400 is the smallest normal: still correct */
}

float ggml_bf16_to_fp32(uint16_t h) {
    return f32_from_bits((uint32_t)h << 16);
}

/* As ggml_compute_fp32_to_bf16: NaN truncated and forced quiet, everything
 * else (subnormals included, no flush) rounded to nearest even. */
uint16_t ggml_fp32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64u);
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}
