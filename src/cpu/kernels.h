/* CPU compute kernels: activation quantization, matrix x activations
 * products and dequantization, for every weight type hearth runs.
 *
 * Numerics follow ggml's CPU backend: activations are quantized the way
 * ggml quantizes src1 for that weight type's vec_dot (Q8_0 for Q4_0/Q5_0/Q8_0,
 * Q8_1 for Q4_1/Q5_1, F16 for F16, BF16 for BF16, F32 for F32), with the
 * rounding of ggml's x86 build (scale 127/amax, round half to even), and the
 * integer block dot products are exact. Only the order of the float
 * accumulation differs between implementations.
 *
 * Activation rows have layouts private to the kernels; always size them with
 * kernels_act_row_bytes and fill them with kernels_quantize_act:
 *   Q8_0, Q8_1: a row of ggml blocks of that type, then (8-byte aligned)
 *         one auxiliary entry per block: the block scale as f32, and for
 *         Q8_0 -8 times the integer sum of the quants (SIMD kernels multiply
 *         unsigned weight codes and correct the offset, 8 for Q4_0, 16 for
 *         Q5_0, 128 for Q8_0, exactly with it), for Q8_1 the block's s as
 *         f32. Kernels then never convert activation scales in inner loops;
 *         Q8_0 rows for Q5_0 / Q8_0 weights then have 8 group biases
 *         per block (kernels_act_gbias_offset);
 *   Q4_0_X4, Q8_0_X4 (n a multiple of 128): the same Q8_0 quantization in
 *         the order of the weights' groups (kernels_fill_x4_row): per group
 *         of 4 blocks 128 bytes, vector u holding codes 4u..4u+3 of blocks
 *         0..3 in turn (for Q8_0_X4 two such arrays, of max(a, 0) then of
 *         max(-a, 0), which relaxed SIMD's 8-bit dot takes as its 7-bit
 *         operand); then the n/32 block scales as f32; then for Q4_0_X4 the
 *         n/32 offset corrections (-8 x the block's code sum) as int32.
 *         Kernels then multiply with no shuffling of the token's codes;
 *   Q8_K (K-quants, IQ4_XS; n a multiple of 256): n/256 ggml block_q8_K
 *         (f32 d, 256 codes, 16 sums of 16 codes), quantized as ggml's
 *         quantize_row_q8_K_ref (kernels_fill_q8_K_row); for Q4_K_X4 and
 *         Q6_K_X4 the same blocks with their codes in the X4 order;
 *   F16: n floats already rounded to f16, F32: n floats;
 *   BF16: n floats rounded to bf16, each whole chunk of 32 stored as its 16
 *         even-indexed elements then its 16 odd ones (the two operands of
 *         vdpbf16ps' pairs); a tail of n % 32 stays in order.
 *
 * Accumulation orders are llama.cpp's zen4 build (ggml-cpu with
 * llamafile/tinyBLAS and the Q4_0 8x8 repack), per output:
 *   Q4_0 (repacked, any n_tok): acc = fma(float(block int sum), dw*da, acc);
 *   Q8_0, Q5_0, Q4_1, Q5_1 (vec_dot, and tinyBLAS_Q0 for n_tok > 1): 8
 *         float lanes, lane l = fma(dw*da, float(int sum of elements
 *         4l..4l+3), lane l) block by block, then hsum8 (+ summs =
 *         fma(mw, sa, summs) for Q4_1/Q5_1);
 *   F32, F16: one token (or n % 16): ggml_vec_dot (64 lanes, AVX512
 *         reduction); more tokens: tinyBLAS, 16 lanes, reduce_add;
 *   BF16: one token (or n % 32): ggml_vec_dot_bf16 (two dpbf16 chains);
 *         more tokens: tinyBLAS, one 16-lane dpbf16 chain;
 *   Q4_K (repacked, as Q4_0), Q5_K, Q6_K: quant_k.h.
 * (tinyBLAS also needs the matrix's row count to be a multiple of 4,
 * assumed here.)
 *
 * Speed notes for callers: SIMD kernels work on groups of 8 rows (16 for
 * AVX512 prefill), so split rows between threads at multiples of 16; a
 * partial group costs as much as a full one. Decode (1-3 tokens) streams
 * weights with software prefetch; prefill (4+ tokens) reuses each weight
 * block for up to 64 tokens from L1/L2. */
#ifndef HEARTH_CPU_KERNELS_H
#define HEARTH_CPU_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Weight layouts with kernels, as indices into the tables below
 * (kernels.c's slot_type says which layout a slot is; ggml_types.c's type
 * table says which kernel sets fill the slot of a ggml type). */
enum kernels_wtype {
    KW_F32,
    KW_F16,
    KW_BF16,
    KW_Q4_0,
    KW_Q4_1,
    KW_Q5_0,
    KW_Q5_1,
    KW_Q8_0,
    KW_Q4_0_X4, /* KERNELS_TYPE_Q4_0_X4, where a kernel set has it */
    KW_Q8_0_X4, /* KERNELS_TYPE_Q8_0_X4, likewise */
    KW_Q4_K_X4, /* KERNELS_TYPE_Q4_K_X4, likewise */
    KW_Q6_K_X4, /* KERNELS_TYPE_Q6_K_X4, likewise */
    KW_Q2_K,
    KW_Q3_K,
    KW_Q4_K,
    KW_Q5_K,
    KW_Q6_K,
    KW_IQ4_NL,
    KW_IQ4_XS,
    KW_COUNT
};

/* Weight layouts of hearth's own (type ids past ggml's), which kernels that
 * want them get from Q4_0 and Q8_0 matrices at load (kernels_pack_weight):
 * each row's blocks in groups of 4, each group the 4 block scales, then
 * the 4 blocks' codes as vectors of 16 bytes, vector v holding bytes
 * 4v..4v+3 of block 0, 1, 2, 3 in turn. An 8-bit dot product of a vector
 * then leaves block j's partial sum in 32-bit lane j, so 4 blocks are
 * scaled together with no transposition. A scale is stored as bytes 1..3
 * (bits 8..31) of the f32 its fp16 converts to, whose byte 0 is always
 * zero: one byte shuffle makes the 4 f32 scales, where converting fp16
 * took several operations in V8's inner loop.
 *   Q4_0_X4: KERNELS_X4_GROUP_BYTES, the nibble bytes in 4 vectors (6%
 *            more bytes than Q4_0);
 *   Q8_0_X4: KERNELS_X4_Q8_GROUP_BYTES, the codes in 8 vectors (3% more
 *            bytes than Q8_0). */
#define KERNELS_TYPE_Q4_0_X4 0x10000u
#define KERNELS_TYPE_Q8_0_X4 0x10001u
#define KERNELS_X4_SCALE_BYTES 12
#define KERNELS_X4_GROUP_BYTES (KERNELS_X4_SCALE_BYTES + 64)
#define KERNELS_X4_Q8_GROUP_BYTES (KERNELS_X4_SCALE_BYTES + 128)
/* Rows repacked: a multiple of 4 blocks, at most this many elements (as
 * the fast kernels that take the unpacked rows, so that both layouts run
 * the same set of shapes). */
#define KERNELS_X4_MAX_COLS 16384
/* The K-quant layouts of hearth's own, which kernels that want them get
 * from Q4_K and Q6_K matrices at load (quant_k_x4.c): per super-block of
 * 256, the same codes with each 128 elements in the X4 order above (vector
 * v of a half holds elements 32j + 4v .. 32j + 4v + 3 of its sub-blocks j =
 * 0..3 of 32), so that an 8-bit dot product leaves sub-block j's partial
 * sum in 32-bit lane j and one 16-bit dot with the scales widens 8 vectors'
 * sums at once; scales unpacked to a byte each and d, dmin as f32, so that
 * no fp16 or 6-bit unpacking is left in the inner loop:
 *   Q4_K_X4: f32 d, f32 dmin, 8 scales, 8 mins (u8), then per half 4
 *            vectors of nibble bytes, vector u's low nibbles codes vector u
 *            and high nibbles vector u + 4 (152 bytes: 6% more than Q4_K);
 *   Q6_K_X4: f32 d, 16 scales (i8, ggml's order), then per half and
 *            quarter g (code vectors 4g..4g+3) 3 vectors: code vector
 *            4g + t (t = 0..2) in bits 0-5 of vector t, and bits 2t, 2t + 1
 *            of code vector 4g + 3 in its bits 6-7 (212 bytes: 1% more than
 *            Q6_K; a code vector is one mask, the fourth 8 operations).
 * Their activation rows are Q8_K rows with each 128 codes in that order
 * (kernels_fill_q8_K_x4_row). */
#define KERNELS_TYPE_Q4_K_X4 0x10002u
#define KERNELS_TYPE_Q6_K_X4 0x10003u
#define KERNELS_Q4_K_X4_BYTES 152
#define KERNELS_Q6_K_X4_BYTES 212

/* out[t*out_stride + r] = dot(row r of w, activation row t), r in [r0, r1). */
typedef void (*kernels_matmul_fn)(const void *w, int n, int r0, int r1, const void *act, int n_tok,
                                  float *out, size_t out_stride);
/* Quantizes one activation row of n elements (n a multiple of 32 for the
 * quantized types, of 128 for the X4 ones) into dst, kernels_act_row_bytes
 * long. */
typedef void (*kernels_quant_fn)(const float *x, void *dst, int n);

typedef struct hearth_kernels {
    const char *name;
    bool inexact; /* kernels_prefer_speed swapped in kernels that are not bit-identical */
    kernels_quant_fn quant[KW_COUNT];
    kernels_matmul_fn matmul[KW_COUNT];
} hearth_kernels;

/* Picks the fastest implementation the running CPU supports; allow_simd =
 * false forces the portable scalar reference. */
void kernels_init(hearth_kernels *k, bool allow_simd);
const char *kernels_name(const hearth_kernels *k);
/* Swaps in kernels that are faster but not bit-identical with llama.cpp's
 * accumulation order, where the platform has such (wasm SIMD128: Q4_0,
 * Q5_0, Q8_0, K-quant and IQ4 products and SwiGLU, quant_simd128_fast.c,
 * quant_k_simd128_fast.c, activation_simd128.c); returns whether it did.
 * Call after kernels_init(k, true). */
bool kernels_prefer_speed(hearth_kernels *k);

/* The ggml type of the quantized activations for a weight type, or
 * GGML_TYPE_COUNT for a type without kernels. */
uint32_t kernels_act_type(uint32_t weight_type);
/* Bytes of one activation row of n elements; 0 for an unsupported type or
 * an n that is not a multiple of the block size. */
size_t kernels_act_row_bytes(uint32_t weight_type, int n);
/* The largest kernels_act_row_bytes(type, n) over every layout with kernels
 * (n a multiple of 128): the size of a buffer that holds any of them. */
size_t kernels_act_row_bytes_max(int n);
void kernels_quantize_act(const hearth_kernels *k, uint32_t weight_type, const float *x, void *dst,
                          int n);
/* out[t*out_stride + r] = dot(W row r, activation row t) for r in [r0,r1),
 * t in [0,n_tok). w: the whole matrix, rows of n elements of weight_type,
 * contiguous; act: n_tok rows of kernels_act_row_bytes each. Single-threaded:
 * callers split [r0, r1) across threads. */
void kernels_matmul(const hearth_kernels *k, uint32_t weight_type, const void *w, int n, int r0,
                    int r1, const void *act, int n_tok, float *out, size_t out_stride);
/* A copy of a matrix (rows x cols of *type at data) in a layout the kernel
 * set multiplies faster, if it has one for this type and shape: returns true
 * with *packed (malloc'ed; the caller frees it), *type and *row_bytes set to
 * the copy's; false (nothing allocated) when there is none or memory ran
 * out, and the original layout is then used as before. */
bool kernels_pack_weight(const hearth_kernels *k, uint32_t *type, const void *data, int rows, int cols, void **packed,
                         uint64_t *row_bytes);
/* Any supported weight type to f32 (embedding lookup, tests). */
void kernels_dequantize_row(uint32_t weight_type, const void *src, float *dst, int n);

/* ---- Shared by the implementation files; not for model code. ---- */

/* Index into the tables for a ggml type, or -1. */
int kernels_wtype_index(uint32_t weight_type);
/* The layout of a slot (GGML_TYPE_COUNT past the last). */
uint32_t kernels_slot_type(int slot);
/* Auxiliary per-block entries of Q8_0 / Q8_1 activation rows. */
typedef struct {
    float d;      /* the fp16 block scale, as f32 */
    int32_t bias8; /* -8 * the sum of the 32 quants: Q4_0's offset correction */
} act_aux_q8_0;
typedef struct {
    float d; /* the fp16 block scale, as f32 */
    float s; /* the fp16 s = d * sum, as f32 */
} act_aux_q8_1;

/* Position of element i in a BF16 activation row of n32 = n & ~31 whole
 * chunks (the layout above). */
static inline int kernels_bf16_pos(int i, int n32) {
    if (i >= n32) return i;
    return (i & ~31) + ((i & 1) << 4) + ((i & 31) >> 1);
}

/* Byte offset of the auxiliary entries in a Q8_0 (q81 false) or Q8_1 row. */
static inline size_t kernels_act_aux_offset(int n, bool q81) {
    return ((size_t)(n / 32) * (q81 ? 36 : 34) + 7) & ~(size_t)7;
}
/* Q8_0 rows for Q5_0 and Q8_0 weights carry, after the aux entries, 8 int32
 * per block: -16 (Q5_0) or -128 (Q8_0) times the sum of each group of 4
 * quants, the offset correction of unsigned weight codes per group. */
static inline size_t kernels_act_gbias_offset(int n) {
    return kernels_act_aux_offset(n, false) + 8 * (size_t)(n / 32);
}

/* Instruction sets the running CPU (and OS) supports. */
#define KERNELS_CPU_AVX2 1u       /* AVX2 + FMA + F16C */
#define KERNELS_CPU_AVX512VNNI 2u /* AVX512 F/BW/VL + VNNI */
#define KERNELS_CPU_NEON 4u       /* ARM64 Advanced SIMD (every ARMv8-A core) */
#define KERNELS_CPU_DOTPROD 8u    /* ARM64 FEAT_DotProd (SDOT, vdotq_s32) */
#define KERNELS_CPU_I8MM 16u      /* ARM64 FEAT_I8MM (SMMLA, vmmlaq_s32) */
unsigned kernels_cpu_features(void);

/* The scalar reference, always available. */
void kernels_scalar_fill(hearth_kernels *k);

/* Quantizes one block of 32 activations (codes into qs, their sum into
 * *sum) and returns the scale d = amax/127; scalar and SIMD versions give
 * the same bits. */
typedef float (*kernels_q8_block_fn)(const float *x, int8_t *qs, int *sum);
/* Fill a whole Q8_0 activation row (blocks, aux entries, and for gmul != 0
 * the group biases: -16 for Q5_0's rows, -128 for Q8_0's) or Q8_1 row. */
void kernels_fill_q8_0_row(const float *x, void *dst, int n, int gmul, kernels_q8_block_fn quant_block);
void kernels_fill_q8_1_row(const float *x, void *dst, int n, kernels_q8_block_fn quant_block);
/* An X4 activation row (q8: Q8_0_X4's, else Q4_0_X4's) of n elements, n a
 * multiple of 128. */
void kernels_fill_x4_row(const float *x, void *dst, int n, bool q8, kernels_q8_block_fn quant_block);
/* A Q8_K row (n a multiple of 256) as ggml's quantize_row_q8_K_ref, the
 * rounding every ggml CPU build uses: per 256, the value of largest
 * magnitude max gives iscale = -127/max, codes min(127, round_even(iscale *
 * x)), d = 1/iscale. */
void kernels_fill_q8_K_row(const float *x, void *dst, int n);
/* The same row with each 128 codes in the X4 order (the bsums, sums of 16
 * consecutive elements, as kernels_fill_q8_K_row's): Q4_K_X4 and Q6_K_X4
 * activations. */
void kernels_fill_q8_K_x4_row(const float *x, void *dst, int n);
/* Q4_K / Q6_K matrices in the X4 layouts (kernels_pack_weight's part for
 * them; rows of n elements, n a multiple of 256) and back to floats, the
 * same floats as the ggml layout's. */
void kernels_pack_k_x4(uint32_t type, const void *src, void *dst, size_t superblocks);
void kernels_dequantize_k_x4(uint32_t type, const void *src, float *dst, int n);
/* SIMD implementations overwrite the entries they accelerate; each returns
 * false (and touches nothing) when compiled without its instruction set. The
 * caller has already checked that the CPU supports it. */
bool kernels_avx2_fill(hearth_kernels *k);
bool kernels_avx512_fill(hearth_kernels *k);
/* ARM64 (quant_neon*.c): plain NEON, the same kernels with SDOT, and
 * those with SMMLA for the prefill of some types. */
bool kernels_neon_fill(hearth_kernels *k);
bool kernels_neon_dotprod_fill(hearth_kernels *k);
bool kernels_neon_i8mm_fill(hearth_kernels *k);

#endif
