/* Kernel dispatch (CPU feature detection happens once, here) and the
 * portable parts: activation row geometry and dequantization. This file is
 * compiled without any -m flags, so it must not call SIMD code before the
 * CPU has been checked. */
#include "kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_simd128.h"
#include "quant_k.h"
#include "quant_lowbit.h"

#include "model/ggml_types.h"

/* The layout each kernel slot multiplies; a ggml type's row in the type
 * table (ggml_types.c) says which kernel sets fill its slot. */
static const uint32_t slot_type[KW_COUNT] = {
    [KW_F32] = GGML_TYPE_F32,   [KW_F16] = GGML_TYPE_F16,   [KW_BF16] = GGML_TYPE_BF16,
    [KW_Q4_0] = GGML_TYPE_Q4_0, [KW_Q4_1] = GGML_TYPE_Q4_1, [KW_Q5_0] = GGML_TYPE_Q5_0,
    [KW_Q5_1] = GGML_TYPE_Q5_1, [KW_Q8_0] = GGML_TYPE_Q8_0, [KW_Q4_0_X4] = KERNELS_TYPE_Q4_0_X4,
    [KW_Q8_0_X4] = KERNELS_TYPE_Q8_0_X4, [KW_Q4_K_X4] = KERNELS_TYPE_Q4_K_X4, [KW_Q6_K_X4] = KERNELS_TYPE_Q6_K_X4,
    [KW_Q2_K] = GGML_TYPE_Q2_K, [KW_Q3_K] = GGML_TYPE_Q3_K,
    [KW_Q4_K] = GGML_TYPE_Q4_K, [KW_Q5_K] = GGML_TYPE_Q5_K, [KW_Q6_K] = GGML_TYPE_Q6_K,
    [KW_IQ4_NL] = GGML_TYPE_IQ4_NL, [KW_IQ4_XS] = GGML_TYPE_IQ4_XS,
};

int kernels_wtype_index(uint32_t t) {
    for (int i = 0; i < KW_COUNT; i++)
        if (slot_type[i] == t) return i;
    return -1;
}

uint32_t kernels_slot_type(int slot) { return slot >= 0 && slot < KW_COUNT ? slot_type[slot] : GGML_TYPE_COUNT; }

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>

/* CPUID says what the core implements; XGETBV says whether the OS saves
 * the wider registers, without which the instructions fault. (Not
 * __builtin_cpu_supports: older clang does not know "f16c".) */
unsigned kernels_cpu_features(void) {
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28),
               f16c = c & (1u << 29);
    if (!osxsave || !avx) return 0;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0x6u) != 0x6u) return 0; /* XMM and YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if ((b & (1u << 5)) && fma && f16c) f |= KERNELS_CPU_AVX2;
    const bool zmm_state = (xlo & 0xe0u) == 0xe0u; /* opmask, ZMM0-15 upper, ZMM16-31 */
    const bool avx512f = b & (1u << 16), avx512bw = b & (1u << 30), avx512vl = b & (1u << 31),
               vnni = c & (1u << 11);
    if ((f & KERNELS_CPU_AVX2) && zmm_state && avx512f && avx512bw && avx512vl && vnni)
        f |= KERNELS_CPU_AVX512VNNI;
    return f;
}
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>

/* The kernel's hwcaps (bit values of the arm64 uapi <asm/hwcap.h>, spelled
 * out so that older headers build too). */
unsigned kernels_cpu_features(void) {
    const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    unsigned f = KERNELS_CPU_NEON;
    if (hwcap & (1ul << 20)) f |= KERNELS_CPU_DOTPROD; /* HWCAP_ASIMDDP */
    if (hwcap2 & (1ul << 13)) f |= KERNELS_CPU_I8MM;   /* HWCAP2_I8MM */
    return f;
}
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>

static bool apple_has(const char *name) {
    int v = 0;
    size_t len = sizeof v;
    return sysctlbyname(name, &v, &len, NULL, 0) == 0 && v != 0;
}
/* Not tried here (no macOS machine): the sysctl names Apple documents for its ARM features. */
unsigned kernels_cpu_features(void) {
    unsigned f = KERNELS_CPU_NEON;
    if (apple_has("hw.optional.arm.FEAT_DotProd")) f |= KERNELS_CPU_DOTPROD;
    if (apple_has("hw.optional.arm.FEAT_I8MM")) f |= KERNELS_CPU_I8MM;
    return f;
}
#elif defined(__aarch64__)
/* Other ARM64 systems: NEON is architectural; the optional features are not probed. */
unsigned kernels_cpu_features(void) {
    return KERNELS_CPU_NEON;
}
#else
unsigned kernels_cpu_features(void) {
    return 0;
}
#endif

void kernels_init(hearth_kernels *k, bool allow_simd) {
    memset(k, 0, sizeof *k);
    kernels_scalar_fill(k);
    if (!allow_simd) return;
#ifdef __wasm_simd128__
    /* A wasm module built with SIMD128 only loads where the engine runs it,
     * so there is nothing to detect at run time. */
    kernels_simd128_fill(k);
    return;
#endif
    const unsigned f = kernels_cpu_features();
    /* Each level only replaces what it accelerates, so a later fill that is
     * compiled out (returns false) leaves the previous level in place. */
    if (f & KERNELS_CPU_AVX2) kernels_avx2_fill(k);
    if (f & KERNELS_CPU_AVX512VNNI) kernels_avx512_fill(k);
    if (f & KERNELS_CPU_NEON) kernels_neon_fill(k);
    if (f & KERNELS_CPU_DOTPROD) kernels_neon_dotprod_fill(k);
    if ((f & KERNELS_CPU_DOTPROD) && (f & KERNELS_CPU_I8MM)) kernels_neon_i8mm_fill(k);
}

bool kernels_prefer_speed(hearth_kernels *k) {
#ifdef __wasm_simd128__
    /* only over the exact SIMD128 set, never over the scalar reference */
    if (k->matmul[KW_Q4_0] == kernels_simd128_matmul_q4_0 && kernels_simd128_fast_fill(k)) {
        kernels_simd128_relaxed_fill(k);
        k->inexact = true;
        return true;
    }
#endif
    (void)k;
    return false;
}

const char *kernels_name(const hearth_kernels *k) {
    return k->name ? k->name : "none";
}

/* The ggml type whose activations and numbers a layout of hearth's has. */
static uint32_t base_type(uint32_t weight_type) {
    return weight_type == KERNELS_TYPE_Q4_0_X4   ? GGML_TYPE_Q4_0
           : weight_type == KERNELS_TYPE_Q8_0_X4 ? GGML_TYPE_Q8_0
           : weight_type == KERNELS_TYPE_Q4_K_X4 ? GGML_TYPE_Q4_K
           : weight_type == KERNELS_TYPE_Q6_K_X4 ? GGML_TYPE_Q6_K
                                                 : weight_type;
}

uint32_t kernels_act_type(uint32_t weight_type) {
    const ggml_type_info *t = ggml_type_info_of(base_type(weight_type));
    return t && t->cpu ? t->act : GGML_TYPE_COUNT;
}

size_t kernels_act_row_bytes(uint32_t weight_type, int n) {
    if (n < 0) return 0;
    switch (kernels_act_type(weight_type)) {
    case GGML_TYPE_F32:
    case GGML_TYPE_F16:
    case GGML_TYPE_BF16: return (size_t)n * sizeof(float);
    case GGML_TYPE_Q8_0:
        if (weight_type == KERNELS_TYPE_Q4_0_X4 || weight_type == KERNELS_TYPE_Q8_0_X4) {
            if (n % 128) return 0;
            return (weight_type == KERNELS_TYPE_Q8_0_X4 ? 2 * (size_t)n + 4 * (size_t)(n / 32)
                                                         : (size_t)n + 8 * (size_t)(n / 32));
        }
        if (n % QK8_0) return 0;
        if (base_type(weight_type) != GGML_TYPE_Q4_0) return kernels_act_gbias_offset(n) + 32 * (size_t)(n / QK8_0);
        return kernels_act_aux_offset(n, false) + sizeof(act_aux_q8_0) * (size_t)(n / QK8_0);
    case GGML_TYPE_Q8_1:
        if (n % QK8_1) return 0;
        return kernels_act_aux_offset(n, true) + sizeof(act_aux_q8_1) * (size_t)(n / QK8_1);
    case GGML_TYPE_Q8_K:
        if (n % QK_K) return 0;
        return sizeof(block_q8_K) * (size_t)(n / QK_K);
    default: return 0;
    }
}

size_t kernels_act_row_bytes_max(int n) {
    size_t most = 0;
    for (int i = 0; i < KW_COUNT; i++) {
        size_t r = kernels_act_row_bytes(slot_type[i], n);
        if (r > most) most = r;
    }
    return most;
}

void kernels_quantize_act(const hearth_kernels *k, uint32_t weight_type, const float *x, void *dst,
                          int n) {
    int i = kernels_wtype_index(weight_type);
    if (i >= 0 && k->quant[i]) k->quant[i](x, dst, n);
}

void kernels_matmul(const hearth_kernels *k, uint32_t weight_type, const void *w, int n, int r0,
                    int r1, const void *act, int n_tok, float *out, size_t out_stride) {
    int i = kernels_wtype_index(weight_type);
    if (i >= 0 && k->matmul[i] && r1 > r0 && n_tok > 0) k->matmul[i](w, n, r0, r1, act, n_tok, out, out_stride);
}

/* ---- dequantization, as ggml's dequantize_row_* ---- */

static void deq_q4_0(const block_q4_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        const float d = ggml_fp16_to_fp32(x[i].d);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((x[i].qs[j] & 0x0f) - 8) * d;
            y[j + 16] = (float)((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void deq_q4_1(const block_q4_1 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        const float d = ggml_fp16_to_fp32(x[i].d), m = ggml_fp16_to_fp32(x[i].m);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(x[i].qs[j] & 0x0f) * d + m;
            y[j + 16] = (float)(x[i].qs[j] >> 4) * d + m;
        }
    }
}

static void deq_q5_0(const block_q5_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        const float d = ggml_fp16_to_fp32(x[i].d);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < 16; j++) {
            int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            y[j] = (float)(((x[i].qs[j] & 0x0f) | (h0 << 4)) - 16) * d;
            y[j + 16] = (float)(((x[i].qs[j] >> 4) | (h1 << 4)) - 16) * d;
        }
    }
}

static void deq_q5_1(const block_q5_1 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        const float d = ggml_fp16_to_fp32(x[i].d), m = ggml_fp16_to_fp32(x[i].m);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < 16; j++) {
            int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            y[j] = (float)((x[i].qs[j] & 0x0f) | (h0 << 4)) * d + m;
            y[j + 16] = (float)((x[i].qs[j] >> 4) | (h1 << 4)) * d + m;
        }
    }
}

static void deq_q8_0(const block_q8_0 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        const float d = ggml_fp16_to_fp32(x[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

static void deq_q8_1(const block_q8_1 *x, float *y, int nb) {
    for (int i = 0; i < nb; i++, y += 32) {
        const float d = ggml_fp16_to_fp32(x[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

/* An X4 group's scale j (kernels.h: bytes 1..3 of the f32). */
static float x4_scale(const uint8_t *g, int j) {
    const uint32_t u = (uint32_t)g[3 * j] << 8 | (uint32_t)g[3 * j + 1] << 16 | (uint32_t)g[3 * j + 2] << 24;
    float d;
    memcpy(&d, &u, 4);
    return d;
}
static void put_x4_scale(uint8_t *g, int j, ggml_half h) {
    const float d = ggml_fp16_to_fp32(h);
    uint32_t u;
    memcpy(&u, &d, 4);
    for (int i = 0; i < 3; i++) g[3 * j + i] = (uint8_t)(u >> (8 + 8 * i));
}

static void deq_q4_0_x4(const uint8_t *g, float *y, int nb) {
    for (int i = 0; i + 4 <= nb; i += 4, g += KERNELS_X4_GROUP_BYTES, y += 128)
        for (int j = 0; j < 4; j++) {
            const float d = x4_scale(g, j);
            for (int v = 0; v < 4; v++)
                for (int e = 0; e < 4; e++) {
                    const uint8_t q = g[KERNELS_X4_SCALE_BYTES + 16 * v + 4 * j + e];
                    y[32 * j + 4 * v + e] = (float)((q & 0x0f) - 8) * d;
                    y[32 * j + 16 + 4 * v + e] = (float)((q >> 4) - 8) * d;
                }
        }
}

static void deq_q8_0_x4(const uint8_t *g, float *y, int nb) {
    for (int i = 0; i + 4 <= nb; i += 4, g += KERNELS_X4_Q8_GROUP_BYTES, y += 128)
        for (int j = 0; j < 4; j++) {
            const float d = x4_scale(g, j);
            for (int v = 0; v < 8; v++)
                for (int e = 0; e < 4; e++)
                    y[32 * j + 4 * v + e] = (float)(int8_t)g[KERNELS_X4_SCALE_BYTES + 16 * v + 4 * j + e] * d;
        }
}

/* One group of 4 blocks at b (bsize bytes each: the fp16 scale, then
 * 4 * vectors code bytes, as block_q4_0 and block_q8_0) in the X4 layout at g. */
static void pack_group(const uint8_t *b, size_t bsize, int vectors, uint8_t *g) {
    for (int j = 0; j < 4; j++, b += bsize) {
        ggml_half d;
        memcpy(&d, b, sizeof d);
        put_x4_scale(g, j, d);
        for (int v = 0; v < vectors; v++) memcpy(g + KERNELS_X4_SCALE_BYTES + 16 * v + 4 * j, b + sizeof d + 4 * v, 4);
    }
}

/* Q4_K / Q6_K to their X4 layouts, where the set multiplies those. */
static bool pack_k(const hearth_kernels *k, uint32_t *type, const void *data, int rows, int cols, void **packed,
                   uint64_t *row_bytes) {
    const bool q4 = *type == GGML_TYPE_Q4_K && k->matmul[KW_Q4_K_X4] && k->quant[KW_Q4_K_X4],
               q6 = *type == GGML_TYPE_Q6_K && k->matmul[KW_Q6_K_X4] && k->quant[KW_Q6_K_X4];
    if ((!q4 && !q6) || rows < 0 || cols <= 0 || cols % QK_K) return false;
    const size_t sbytes = q4 ? KERNELS_Q4_K_X4_BYTES : KERNELS_Q6_K_X4_BYTES, n_sb = (size_t)rows * (size_t)(cols / QK_K);
    if (n_sb > SIZE_MAX / sbytes) return false; /* (wasm32: the copy is larger than the original) */
    uint8_t *out = malloc(n_sb * sbytes);
    if (!out) return false; /* the original layout still works */
    kernels_pack_k_x4(*type, data, out, n_sb);
    *packed = out;
    *type = q4 ? KERNELS_TYPE_Q4_K_X4 : KERNELS_TYPE_Q6_K_X4;
    *row_bytes = (uint64_t)(cols / QK_K) * sbytes;
    return true;
}

bool kernels_pack_weight(const hearth_kernels *k, uint32_t *type, const void *data, int rows, int cols, void **packed,
                         uint64_t *row_bytes) {
    if (pack_k(k, type, data, rows, cols, packed, row_bytes)) return true;
    const bool q4 = *type == GGML_TYPE_Q4_0 && k->matmul[KW_Q4_0_X4] && k->quant[KW_Q4_0_X4],
               q8 = *type == GGML_TYPE_Q8_0 && k->matmul[KW_Q8_0_X4] && k->quant[KW_Q8_0_X4];
    if ((!q4 && !q8) || rows < 0 || cols <= 0 || cols % 128 || cols > KERNELS_X4_MAX_COLS) return false;
    const size_t gbytes = q4 ? KERNELS_X4_GROUP_BYTES : KERNELS_X4_Q8_GROUP_BYTES,
                 bsize = q4 ? sizeof(block_q4_0) : sizeof(block_q8_0), groups = (size_t)rows * (size_t)(cols / 128);
    uint8_t *out = malloc(groups * gbytes);
    if (!out) return false; /* the original layout still works */
    const uint8_t *b = data;
    for (size_t i = 0; i < groups; i++, b += 4 * bsize) pack_group(b, bsize, q4 ? 4 : 8, out + i * gbytes);
    *packed = out;
    *type = q4 ? KERNELS_TYPE_Q4_0_X4 : KERNELS_TYPE_Q8_0_X4;
    *row_bytes = (uint64_t)(cols / 128) * gbytes;
    return true;
}

void kernels_dequantize_row(uint32_t weight_type, const void *src, float *dst, int n) {
    const int nb = n / 32;
    switch (weight_type) {
    case GGML_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case GGML_TYPE_F16: {
        const unsigned char *p = src;
        for (int i = 0; i < n; i++) {
            ggml_half h;
            memcpy(&h, p + 2 * (size_t)i, 2);
            dst[i] = ggml_fp16_to_fp32(h);
        }
        break;
    }
    case GGML_TYPE_BF16: {
        const unsigned char *p = src;
        for (int i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * (size_t)i, 2);
            dst[i] = ggml_bf16_to_fp32(h);
        }
        break;
    }
    case GGML_TYPE_Q4_0: deq_q4_0(src, dst, nb); break;
    case KERNELS_TYPE_Q4_0_X4: deq_q4_0_x4(src, dst, nb); break;
    case KERNELS_TYPE_Q8_0_X4: deq_q8_0_x4(src, dst, nb); break;
    case KERNELS_TYPE_Q4_K_X4:
    case KERNELS_TYPE_Q6_K_X4: kernels_dequantize_k_x4(weight_type, src, dst, n); break;
    case GGML_TYPE_Q4_1: deq_q4_1(src, dst, nb); break;
    case GGML_TYPE_Q5_0: deq_q5_0(src, dst, nb); break;
    case GGML_TYPE_Q5_1: deq_q5_1(src, dst, nb); break;
    case GGML_TYPE_Q8_0: deq_q8_0(src, dst, nb); break;
    case GGML_TYPE_Q8_1: deq_q8_1(src, dst, nb); break;
    case GGML_TYPE_Q4_K:
    case GGML_TYPE_Q5_K:
    case GGML_TYPE_Q6_K: kernels_dequantize_k(weight_type, src, dst, n); break;
    default: lowbit_dequantize_row(weight_type, src, dst, n); break;
    }
}

/* ---- activation rows, shared by the scalar and SIMD levels ---- */

/* gmul: 0 for Q4_0's rows; -16 (Q5_0) or -128 (Q8_0) adds the group biases. */
void kernels_fill_q8_0_row(const float *x, void *dst, int n, int gmul, kernels_q8_block_fn quant_block) {
    const int nb = n / 32;
    block_q8_0 *y = dst;
    const size_t aux_off = kernels_act_aux_offset(n, false);
    act_aux_q8_0 *aux = (act_aux_q8_0 *)((unsigned char *)dst + aux_off);
    int32_t *gb = (int32_t *)((unsigned char *)dst + kernels_act_gbias_offset(n));
    /* Padding before the aux entries: defined bytes, so rows compare equal. */
    memset((unsigned char *)dst + (size_t)nb * sizeof *y, 0, aux_off - (size_t)nb * sizeof *y);
    for (int b = 0; b < nb; b++) {
        int sum;
        float d = quant_block(x + 32 * b, y[b].qs, &sum);
        y[b].d = ggml_fp32_to_fp16(d);
        aux[b].d = ggml_fp16_to_fp32(y[b].d);
        aux[b].bias8 = -8 * sum;
        if (gmul)
            for (int m = 0; m < 8; m++) {
                const int8_t *q = y[b].qs + 4 * m;
                gb[8 * b + m] = gmul * (q[0] + q[1] + q[2] + q[3]);
            }
    }
}
void kernels_fill_q8_1_row(const float *x, void *dst, int n, kernels_q8_block_fn quant_block) {
    const int nb = n / 32;
    block_q8_1 *y = dst;
    const size_t aux_off = kernels_act_aux_offset(n, true);
    act_aux_q8_1 *aux = (act_aux_q8_1 *)((unsigned char *)dst + aux_off);
    memset((unsigned char *)dst + (size_t)nb * sizeof *y, 0, aux_off - (size_t)nb * sizeof *y);
    for (int b = 0; b < nb; b++) {
        int sum;
        float d = quant_block(x + 32 * b, y[b].qs, &sum);
        y[b].d = ggml_fp32_to_fp16(d);
        y[b].s = ggml_fp32_to_fp16(d * (float)sum);
        aux[b].d = ggml_fp16_to_fp32(y[b].d);
        aux[b].s = ggml_fp16_to_fp32(y[b].s);
    }
}

/* ggml's nearest_int: x + 1.5 * 2^23 in f32 rounds half to even for
 * |x| < 2^22; done on the bits so that no compiler contraction changes it. */
static inline int nearest_int_even(float v) {
    float t = v + 12582912.f;
    int32_t i;
    memcpy(&i, &t, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

void kernels_fill_q8_K_row(const float *x, void *dst, int n) {
    block_q8_K *y = dst;
    for (int b = 0; b < n / QK_K; b++, x += QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        memset(&y[b], 0, sizeof y[b]);
        if (amax == 0.0f) continue;
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j++) {
            const float p = iscale * x[j]; /* rounded to f32 before the add, as ggml */
            const int v = nearest_int_even(p);
            y[b].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += y[b].qs[16 * j + i];
            y[b].bsums[j] = (int16_t)sum;
        }
        y[b].d = 1.0f / iscale;
    }
}

void kernels_fill_x4_row(const float *x, void *dst, int n, bool q8, kernels_q8_block_fn quant_block) {
    if (n <= 0 || n % 128) return; /* no such rows (kernels_act_row_bytes is 0) */
    const int nb = n / 32;
    uint8_t *codes = dst, *neg = codes + n;
    float *d = (float *)(codes + (q8 ? 2 : 1) * (size_t)n);
    int32_t *bias = (int32_t *)(d + nb);
    for (int b = 0; b < nb; b++) {
        int8_t qs[32];
        uint8_t pos[32], ng[32];
        int sum;
        d[b] = ggml_fp16_to_fp32(ggml_fp32_to_fp16(quant_block(x + 32 * b, qs, &sum)));
        const uint8_t *src = (const uint8_t *)qs; /* Q4_0_X4: the codes as they are */
        if (q8) {
            /* -127..127 (scale amax/127); 127 bounds the 7-bit operand anyway */
            for (int e = 0; e < 32; e++) {
                pos[e] = (uint8_t)(qs[e] > 0 ? qs[e] : 0);
                ng[e] = (uint8_t)(qs[e] < 0 ? (qs[e] < -127 ? 127 : -qs[e]) : 0);
            }
            src = pos;
        } else {
            bias[b] = -8 * sum;
        }
        const size_t at = 128 * (size_t)(b / 4) + 4 * (size_t)(b % 4);
        for (int u = 0; u < 8; u++) {
            memcpy(codes + at + 16 * u, src + 4 * u, 4);
            if (q8) memcpy(neg + at + 16 * u, ng + 4 * u, 4);
        }
    }
}
