/* ggml tensor types: ids, block layouts and element conversions, bit-exact
 * with ggml. Only what hearth can run is described; other ids are known by
 * name so that errors can say what a file needs. */
#ifndef HEARTH_GGML_TYPES_H
#define HEARTH_GGML_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ggml_type_id {
    GGML_TYPE_F32 = 0,
    GGML_TYPE_F16 = 1,
    GGML_TYPE_Q4_0 = 2,
    GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6,
    GGML_TYPE_Q5_1 = 7,
    GGML_TYPE_Q8_0 = 8,
    GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10,
    GGML_TYPE_Q3_K = 11,
    GGML_TYPE_Q4_K = 12,
    GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14,
    GGML_TYPE_Q8_K = 15,
    GGML_TYPE_IQ4_NL = 20,
    GGML_TYPE_IQ4_XS = 23,
    GGML_TYPE_BF16 = 30,
    GGML_TYPE_COUNT = 40
};

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK4_NL 32
#define QK_K 256 /* the K-quants' (and IQ4_XS's) super-block */
#define K_SCALE_SIZE 12

typedef uint16_t ggml_half;

typedef struct { ggml_half d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
typedef struct { ggml_half d, m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
typedef struct { ggml_half d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
typedef struct { ggml_half d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1;
typedef struct { ggml_half d; int8_t qs[QK8_0]; } block_q8_0;
/* Activations for Q4_1/Q5_1 dot products: s = d * sum(qs). */
typedef struct { ggml_half d, s; int8_t qs[QK8_1]; } block_q8_1;

/* K-quants: super-blocks of 256 in sub-blocks of 16 or 32, each with a
 * quantized scale (and min) under the super-block's fp16 d (and dmin). */
typedef struct { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; ggml_half d, dmin; } block_q2_K;
typedef struct { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; ggml_half d; } block_q3_K;
typedef struct { ggml_half d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K;
typedef struct { ggml_half d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } block_q5_K;
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; ggml_half d; } block_q6_K;
/* Activations for K-quant (and IQ4_XS) products: d as f32, codes, and the
 * sums of each 16 codes. */
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K;
/* IQ4: 4-bit indices into the non-linear table kvalues_iq4nl; IQ4_XS adds
 * 6-bit scales per 32 under one fp16 d per 256. */
typedef struct { ggml_half d; uint8_t qs[QK4_NL / 2]; } block_iq4_nl;
typedef struct { ggml_half d; uint16_t scales_h; uint8_t scales_l[QK_K / 64]; uint8_t qs[QK_K / 2]; } block_iq4_xs;
extern const int8_t kvalues_iq4nl[16];

_Static_assert(sizeof(block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(block_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 layout");
_Static_assert(sizeof(block_q8_1) == 36, "q8_1 layout");
_Static_assert(sizeof(block_q2_K) == 84, "q2_K layout");
_Static_assert(sizeof(block_q3_K) == 110, "q3_K layout");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K layout");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K layout");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K layout");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K layout");
_Static_assert(sizeof(block_iq4_nl) == 18, "iq4_nl layout");
_Static_assert(sizeof(block_iq4_xs) == 136, "iq4_xs layout");

/* The type table (ggml_types.c): one row per type hearth computes with.
 * Everything else about a type is derived from its row: gguf.c's block
 * checks, model.c's list of runnable types, the CPU's activation rows
 * (cpu/kernels.c), the GPU's buffer layout and kernels (gpu/weights.c).
 * A new type is a row here plus its kernels per backend (docs/numerics.md). */

/* CPU kernel sets with a product for a type (ggml_type_info.cpu). */
#define TYPE_CPU_SCALAR 1u  /* quant_scalar.c: the reference, every platform */
#define TYPE_CPU_AVX2 2u    /* quant_avx2.c */
#define TYPE_CPU_AVX512 4u  /* quant_avx512.c (AVX-512 VNNI) */
#define TYPE_CPU_SIMD128 8u /* quant_simd128.c, float_simd128.c (wasm) */
#define TYPE_CPU_ALL 15u

typedef struct {
    uint32_t id;
    uint16_t block_elems, block_bytes; /* GGUF's block */
    /* The type ggml rounds a product's input to for weights of this type:
     * GGML_TYPE_F32 (not rounded), F16, BF16, Q8_0 or Q8_1 (Q8_K for
     * K-quants); GGML_TYPE_COUNT for a type that is not a weight type. */
    uint32_t act;
    uint8_t cpu;          /* TYPE_CPU_* sets that have its product; 0: none */
    const char *gpu_wgsl; /* its GPU weight accessors (src/gpu/wtype_*.wgsl), or NULL: no GPU kernels */
    /* Elements of a block in the GPU's layout (floats go in runs of it) and
     * whether blocks go there in pairs (blocks of 32 whose pair is a whole
     * number of 32-bit words; gpu/weights.h). */
    uint16_t gpu_block_elems;
    bool gpu_pairs;
} ggml_type_info;

/* The row of a type, or NULL when hearth cannot compute with it. */
const ggml_type_info *ggml_type_info_of(uint32_t type);
/* Row i of the table (in the order lists name types), NULL past the end. */
const ggml_type_info *ggml_type_row(size_t i);
/* True when some backend multiplies weights of this type. */
bool ggml_type_runs(uint32_t type);
/* True when the CPU (gpu false) or GPU (gpu true) backend multiplies it. */
bool ggml_type_runs_on(uint32_t type, bool gpu);
/* "f32, f16, ..." of the weight types with CPU kernels (gpu false) or GPU
 * kernels (gpu true), into buf (always terminated). */
void ggml_type_list(bool gpu, char *buf, size_t size);

/* Name of any ggml type id ("q4_K"), or NULL for ids ggml never defined. */
const char *ggml_type_name(uint32_t type);
/* True when hearth can compute with this type. */
bool ggml_type_supported(uint32_t type);
/* Elements per block and bytes per block of a supported type (0 otherwise). */
size_t ggml_block_elems(uint32_t type);
size_t ggml_block_bytes(uint32_t type);
/* Bytes of a row of n elements; false when n is not a multiple of the block
 * size or the type is unsupported. */
bool ggml_row_bytes(uint32_t type, uint64_t n, uint64_t *bytes);

float ggml_fp16_to_fp32(ggml_half h);
ggml_half ggml_fp32_to_fp16(float f); /* round to nearest even, as ggml */
float ggml_bf16_to_fp32(uint16_t h);
uint16_t ggml_fp32_to_bf16(float f); /* round to nearest even, NaN kept */

#endif
