/* Unit tests for ggml_types.c and the CPU kernels: exact conversions and
 * dequantization, activation quantization bit-exact across implementations,
 * SIMD matmul against the scalar reference, and the scalar reference
 * against a double-precision dot of dequantized values. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu/attention.h"
#include "cpu/kernels.h"
#include "cpu/kernels_simd128.h"
#include "model/ggml_types.h"
#include "pin_inputs.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}
static float rndf(void) { /* [-1, 1) */
    return (float)((double)rnd() / 2147483648.0 - 1.0);
}

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Independent oracle for fp32 -> fp16: the well-known float-arithmetic
 * formulation (scale into the half range so the FPU does the rounding). */
static uint16_t oracle_f32_to_f16(float f) {
    const float scale_to_inf = bitsf(0x77800000u);
    const float scale_to_zero = bitsf(0x08800000u);
    volatile float base = (fabsf(f) * scale_to_inf);
    base = base * scale_to_zero;
    const uint32_t w = fbits(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xff000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    volatile float sum = bitsf((bias >> 1) + 0x07800000u);
    sum = sum + base;
    const uint32_t bits = fbits(sum);
    const uint32_t exp_bits = (bits >> 13) & 0x7c00u;
    const uint32_t mantissa_bits = bits & 0x0fffu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xff000000u ? 0x7e00u : nonsign));
}

static void test_types(void) {
    CHECK("name q4_K", strcmp(ggml_type_name(GGML_TYPE_Q4_K), "q4_K") == 0, "%s",
          ggml_type_name(GGML_TYPE_Q4_K));
    CHECK("name bf16", strcmp(ggml_type_name(GGML_TYPE_BF16), "bf16") == 0, "bad");
    CHECK("name iq2_xs", strcmp(ggml_type_name(17), "iq2_xs") == 0, "bad");
    CHECK("name out of range", ggml_type_name(GGML_TYPE_COUNT) == NULL, "not NULL");
    int all_named = 1;
    for (uint32_t t = 0; t < GGML_TYPE_COUNT; t++)
        if (!ggml_type_name(t)) all_named = 0;
    CHECK("every id named", all_named, "missing name");
    CHECK("iq2_xs unsupported", !ggml_type_supported(17), "supported?");
    CHECK("q6_K known", ggml_type_supported(GGML_TYPE_Q6_K), "no");
    CHECK("q5_1 supported", ggml_type_supported(GGML_TYPE_Q5_1), "no");
    CHECK("block sizes", ggml_block_elems(GGML_TYPE_Q4_0) == 32 && ggml_block_bytes(GGML_TYPE_Q4_0) == 18 &&
                             ggml_block_bytes(GGML_TYPE_Q5_1) == 24 && ggml_block_elems(GGML_TYPE_F16) == 1 &&
                             ggml_block_bytes(GGML_TYPE_BF16) == 2 && ggml_block_bytes(GGML_TYPE_Q2_K) == 84 &&
                             ggml_block_elems(GGML_TYPE_Q6_K) == 256 && ggml_block_bytes(17) == 0,
          "bad");
    uint64_t b = 0;
    CHECK("row bytes q8_0", ggml_row_bytes(GGML_TYPE_Q8_0, 4096, &b) && b == 128 * 34, "%llu",
          (unsigned long long)b);
    CHECK("row bytes f32", ggml_row_bytes(GGML_TYPE_F32, 7, &b) && b == 28, "bad");
    CHECK("row bytes not multiple", !ggml_row_bytes(GGML_TYPE_Q4_0, 33, &b), "accepted");
    CHECK("row bytes overflow", !ggml_row_bytes(GGML_TYPE_F32, UINT64_MAX / 2, &b), "accepted");
    CHECK("row bytes overflow q", !ggml_row_bytes(GGML_TYPE_Q8_0, (UINT64_MAX / 34 + 1) * 32, &b),
          "accepted");
    CHECK("row bytes unsupported", !ggml_row_bytes(17, 256, &b), "accepted");
    CHECK("row bytes q4_K", ggml_row_bytes(GGML_TYPE_Q4_K, 512, &b) && b == 288, "bad");
    CHECK("row bytes q4_K not multiple", !ggml_row_bytes(GGML_TYPE_Q4_K, 896, &b), "accepted");
}

/* The type table (ggml_types.c) and the kernel slots say the same thing:
 * every weight type with CPU kernels has a slot the scalar set fills, every
 * slot of a ggml type has its row, and activation rows follow the row's act. */
static void test_type_table(void) {
    hearth_kernels k;
    kernels_init(&k, false);
    int bad = 0;
    for (size_t i = 0; ggml_type_row(i); i++) {
        const ggml_type_info *t = ggml_type_row(i);
        if (!t->cpu) continue;
        int slot = kernels_wtype_index(t->id);
        if (slot < 0 || !(t->cpu & TYPE_CPU_SCALAR) || !k.matmul[slot] || !k.quant[slot] ||
            kernels_act_type(t->id) != t->act || kernels_slot_type(slot) != t->id)
            bad++;
    }
    CHECK("every CPU type has its kernel slot", bad == 0, "%d rows disagree", bad);
    bad = 0;
    for (int slot = 0; slot < KW_COUNT; slot++) {
        uint32_t type = kernels_slot_type(slot);
        if (type < GGML_TYPE_COUNT && (!ggml_type_info_of(type) || !ggml_type_info_of(type)->cpu)) bad++;
    }
    CHECK("every slot has its row", bad == 0, "%d slots without a row", bad);
    char list[160];
    ggml_type_list(false, list, sizeof list);
    CHECK("CPU type list", strcmp(list, "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K, iq4_nl, iq4_xs") == 0, "%s", list);
    CHECK("q8_1 is no weight type", !ggml_type_runs(GGML_TYPE_Q8_1) && ggml_type_runs(GGML_TYPE_Q4_1), "bad");
    CHECK("act row bytes max", kernels_act_row_bytes_max(256) >= kernels_act_row_bytes(KERNELS_TYPE_Q8_0_X4, 256) &&
                                   kernels_act_row_bytes_max(256) >= kernels_act_row_bytes(GGML_TYPE_F32, 256),
          "%zu", kernels_act_row_bytes_max(256));
}

static void test_fp16(void) {
    struct { uint16_t h; uint32_t f; } known[] = {
        {0x0000, 0x00000000}, {0x8000, 0x80000000}, {0x3c00, 0x3f800000}, {0xc000, 0xc0000000},
        {0x7bff, 0x477fe000}, {0x0400, 0x38800000}, {0x0001, 0x33800000}, {0x03ff, 0x387fc000},
        {0x8001, 0xb3800000}, {0x7c00, 0x7f800000}, {0xfc00, 0xff800000}, {0x3555, 0x3eaaa000},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (fbits(ggml_fp16_to_fp32(known[i].h)) != known[i].f) {
            ok = 0;
            printf("# fp16 %04x -> %08x, want %08x\n", known[i].h, fbits(ggml_fp16_to_fp32(known[i].h)),
                   known[i].f);
        }
        if (ggml_fp32_to_fp16(bitsf(known[i].f)) != known[i].h) {
            ok = 0;
            printf("# f32 %08x -> %04x, want %04x\n", known[i].f, ggml_fp32_to_fp16(bitsf(known[i].f)),
                   known[i].h);
        }
    }
    CHECK("fp16 known values", ok, "see above");
    float nan1 = ggml_fp16_to_fp32(0x7e01);
    CHECK("fp16 nan to f32", nan1 != nan1, "not nan");
    CHECK("f32 nan to fp16", ggml_fp32_to_fp16(bitsf(0x7fc00001)) == 0x7e00 &&
                                 ggml_fp32_to_fp16(bitsf(0xff800001)) == 0xfe00,
          "%04x", ggml_fp32_to_fp16(bitsf(0x7fc00001)));
    CHECK("fp16 ties to even", ggml_fp32_to_fp16(1.0f + 0x1p-11f) == 0x3c00 &&
                                   ggml_fp32_to_fp16(1.0f + 3 * 0x1p-11f) == 0x3c02 &&
                                   ggml_fp32_to_fp16(65520.0f) == 0x7c00 &&
                                   ggml_fp32_to_fp16(65519.99f) == 0x7bff &&
                                   ggml_fp32_to_fp16(0x1p-25f) == 0x0000 &&
                                   ggml_fp32_to_fp16(3 * 0x1p-25f) == 0x0002 &&
                                   ggml_fp32_to_fp16(0x1.000002p-25f) == 0x0001 &&
                                   ggml_fp32_to_fp16(1e10f) == 0x7c00,
          "bad rounding");
    /* Round trip of every non-NaN half. */
    int rt = 1;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;
        if (ggml_fp32_to_fp16(ggml_fp16_to_fp32((uint16_t)h)) != h) rt = 0;
    }
    CHECK("fp16 round trip all", rt, "mismatch");
    /* Against the oracle: every midpoint between neighbouring halves (and
     * one ulp either side), then a strided sweep of all floats. */
    int bad = 0;
    for (uint32_t h = 0; h < 0x7c00 && bad < 5; h++) {
        uint32_t lo = fbits(ggml_fp16_to_fp32((uint16_t)h));
        uint32_t hi = h + 1 < 0x7c00 ? fbits(ggml_fp16_to_fp32((uint16_t)(h + 1))) : 0x47800000u;
        uint32_t mid = fbits((bitsf(lo) + bitsf(hi)) * 0.5f);
        uint32_t probes[] = {mid - 1, mid, mid + 1, mid | 0x80000000u, (mid + 1) | 0x80000000u};
        for (int i = 0; i < 5; i++)
            if (ggml_fp32_to_fp16(bitsf(probes[i])) != oracle_f32_to_f16(bitsf(probes[i]))) {
                if (bad++ < 5)
                    printf("# %08x -> %04x, oracle %04x\n", probes[i], ggml_fp32_to_fp16(bitsf(probes[i])),
                           oracle_f32_to_f16(bitsf(probes[i])));
            }
    }
    for (uint64_t u = 0; u < 0x100000000ull && bad < 5; u += 251) {
        float f = bitsf((uint32_t)u);
        if (ggml_fp32_to_fp16(f) != oracle_f32_to_f16(f)) {
            if (bad++ < 5)
                printf("# %08x -> %04x, oracle %04x\n", (uint32_t)u, ggml_fp32_to_fp16(f), oracle_f32_to_f16(f));
        }
    }
    CHECK("fp32->fp16 matches oracle", bad == 0, "%d mismatches", bad);
}

static void test_bf16(void) {
    CHECK("bf16 one", ggml_fp32_to_bf16(1.0f) == 0x3f80 && ggml_bf16_to_fp32(0x3f80) == 1.0f, "bad");
    CHECK("bf16 ties to even", ggml_fp32_to_bf16(bitsf(0x3f808000)) == 0x3f80 &&
                                   ggml_fp32_to_bf16(bitsf(0x3f818000)) == 0x3f82 &&
                                   ggml_fp32_to_bf16(bitsf(0x3f808001)) == 0x3f81 &&
                                   ggml_fp32_to_bf16(bitsf(0xbf808001)) == 0xbf81,
          "bad");
    CHECK("bf16 nan quiet", ggml_fp32_to_bf16(bitsf(0x7f800001)) == 0x7fc0 &&
                                ggml_fp32_to_bf16(bitsf(0xffa12345)) == 0xffe1,
          "%04x", ggml_fp32_to_bf16(bitsf(0x7f800001)));
    CHECK("bf16 inf and overflow", ggml_fp32_to_bf16(bitsf(0x7f800000)) == 0x7f80 &&
                                       ggml_fp32_to_bf16(bitsf(0xff800000)) == 0xff80 &&
                                       ggml_fp32_to_bf16(bitsf(0x7f7fffff)) == 0x7f80,
          "bad");
    CHECK("bf16 subnormal rounded not flushed", ggml_fp32_to_bf16(bitsf(0x00018000)) == 0x0002 &&
                                                    ggml_fp32_to_bf16(bitsf(0x80010000)) == 0x8001 &&
                                                    fbits(ggml_bf16_to_fp32(0x8001)) == 0x80010000,
          "bad");
}

/* ---- dequantization of hand-made blocks ---- */

static int near_eq(const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) {
            printf("# [%d] got %.9g want %.9g\n", i, a[i], b[i]);
            return 0;
        }
    return 1;
}

static void test_dequant(void) {
    float got[64], want[64];
    { /* q4_0: d = 0.5, nibbles j & 15 (low) and 15 - j (high) */
        block_q4_0 b;
        b.d = 0x3800;
        for (int j = 0; j < 16; j++) {
            b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
            want[j] = (j - 8) * 0.5f;
            want[j + 16] = (7 - j) * 0.5f;
        }
        kernels_dequantize_row(GGML_TYPE_Q4_0, &b, got, 32);
        CHECK("dequant q4_0", near_eq(got, want, 32), "mismatch");
    }
    { /* q4_1: d = 2, m = -1.5 */
        block_q4_1 b;
        b.d = 0x4000;
        b.m = 0xbe00;
        for (int j = 0; j < 16; j++) {
            b.qs[j] = (uint8_t)(((j * 7) & 15) | (j << 4));
            want[j] = (float)((j * 7) & 15) * 2 - 1.5f;
            want[j + 16] = (float)j * 2 - 1.5f;
        }
        kernels_dequantize_row(GGML_TYPE_Q4_1, &b, got, 32);
        CHECK("dequant q4_1", near_eq(got, want, 32), "mismatch");
    }
    { /* q5_0: d = 0.25, qh = 0xA5C3F00F: element j gets bit j */
        block_q5_0 b;
        b.d = 0x3400;
        uint32_t qh = 0xA5C3F00Fu;
        memcpy(b.qh, &qh, 4);
        for (int j = 0; j < 16; j++) {
            b.qs[j] = (uint8_t)(j | ((j ^ 5) << 4));
            want[j] = (float)((j | (int)(((qh >> j) & 1) << 4)) - 16) * 0.25f;
            want[j + 16] = (float)(((j ^ 5) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16) * 0.25f;
        }
        kernels_dequantize_row(GGML_TYPE_Q5_0, &b, got, 32);
        CHECK("dequant q5_0", near_eq(got, want, 32), "mismatch");
        /* Spot values computed by hand: j=0: nib 0, bit 1 -> 16-16 = 0;
         * j=4: nib 4, bit 0 -> -12*0.25; j=16: nib 5, bit (0xA5C3>>0)&1=1 -> 21-16 */
        CHECK("dequant q5_0 hand", got[0] == 0.0f && got[4] == -3.0f && got[16] == 1.25f, "%g %g %g",
              got[0], got[4], got[16]);
    }
    { /* q5_1: d = 1, m = 0.5 */
        block_q5_1 b;
        b.d = 0x3c00;
        b.m = 0x3800;
        uint32_t qh = 0x0000FFFFu;
        memcpy(b.qh, &qh, 4);
        for (int j = 0; j < 16; j++) {
            b.qs[j] = (uint8_t)(15 - j);
            want[j] = (float)(15 - j + 16) + 0.5f;
            want[j + 16] = 0.5f;
        }
        kernels_dequantize_row(GGML_TYPE_Q5_1, &b, got, 32);
        CHECK("dequant q5_1", near_eq(got, want, 32), "mismatch");
    }
    { /* q8_0: two blocks, d = 0.125 and -4 */
        block_q8_0 b[2];
        b[0].d = 0x3000;
        b[1].d = 0xc400;
        for (int j = 0; j < 32; j++) {
            b[0].qs[j] = (int8_t)(j * 8 - 128);
            b[1].qs[j] = (int8_t)(127 - j);
            want[j] = (float)(j * 8 - 128) * 0.125f;
            want[32 + j] = (float)(127 - j) * -4.0f;
        }
        kernels_dequantize_row(GGML_TYPE_Q8_0, b, got, 64);
        CHECK("dequant q8_0", near_eq(got, want, 64), "mismatch");
    }
    { /* f16 / bf16 / f32 rows */
        uint16_t h[4] = {0x3c00, 0xc200, 0x0001, 0x7bff};
        float w16[4] = {1.0f, -3.0f, 0x1p-24f, 65504.0f};
        kernels_dequantize_row(GGML_TYPE_F16, h, got, 4);
        CHECK("dequant f16", near_eq(got, w16, 4), "mismatch");
        uint16_t bh[3] = {0x3f80, 0xc040, 0x4049};
        float wb[3] = {1.0f, -3.0f, 3.140625f};
        kernels_dequantize_row(GGML_TYPE_BF16, bh, got, 3);
        CHECK("dequant bf16", near_eq(got, wb, 3), "mismatch");
        kernels_dequantize_row(GGML_TYPE_F32, wb, got, 3);
        CHECK("dequant f32", near_eq(got, wb, 3), "mismatch");
    }
}

/* ---- activation quantization ---- */

static const uint32_t all_types[] = {GGML_TYPE_F32,  GGML_TYPE_F16,  GGML_TYPE_BF16, GGML_TYPE_Q4_0,
                                     GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static void test_quant_known(const hearth_kernels *k) {
    char lb[128];
#define L(s) (snprintf(lb, sizeof lb, "%s " s, kernels_name(k)), lb)
    /* amax = 127 gives scale 1, so x.5 values are exact ties. */
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16) + 0.5f;
    x[0] = -127.0f;
    x[31] = 2.5f;
    unsigned char buf[256];
    kernels_quantize_act(k, GGML_TYPE_Q4_0, x, buf, 32);
    const block_q8_0 *b = (const block_q8_0 *)buf;
    int ok = b->d == 0x3c00 && b->qs[0] == -127 && b->qs[31] == 2;
    int sum = 0;
    for (int j = 1; j < 31; j++) {
        int lo = j - 16; /* x is lo + 0.5: the even neighbour wins */
        int want = (lo % 2 == 0) ? lo : lo + 1;
        if (b->qs[j] != want) ok = 0;
    }
    for (int j = 0; j < 32; j++) sum += b->qs[j];
    act_aux_q8_0 aux;
    memcpy(&aux, buf + kernels_act_aux_offset(32, false), sizeof aux);
    int neg = aux.bias8 / 8;
    CHECK(L("quant q8_0 ties to even"), ok, "d=%04x q1=%d", b->d, b->qs[1]);
    CHECK(L("quant q8_0 aux"), neg == -sum && aux.d == 1.0f, "%d vs %d", neg, -sum);
    kernels_quantize_act(k, GGML_TYPE_Q4_1, x, buf, 32);
    const block_q8_1 *c = (const block_q8_1 *)buf;
    CHECK(L("quant q8_1 s"), c->d == 0x3c00 && ggml_fp16_to_fp32(c->s) == (float)sum, "s=%g sum=%d",
          ggml_fp16_to_fp32(c->s), sum);
    float z[32] = {0};
    kernels_quantize_act(k, GGML_TYPE_Q8_0, z, buf, 32);
    CHECK(L("quant zeros"), b->d == 0 && b->qs[5] == 0, "bad");
    float y[4] = {1.0f + 0x1p-11f, 0x1.0101p0f, -0.0f, 3.0f};
    float o[4];
    kernels_quantize_act(k, GGML_TYPE_F16, y, o, 4);
    CHECK(L("quant f16 rounds"), o[0] == 1.0f && o[1] == ggml_fp16_to_fp32(ggml_fp32_to_fp16(y[1])) && o[3] == 3.0f,
          "bad");
    kernels_quantize_act(k, GGML_TYPE_BF16, y, o, 4);
    CHECK(L("quant bf16 rounds"), o[0] == 1.0f && o[1] == 0x1.02p0f, "%a", o[1]);
#undef L
}

static void fill_act(float *x, int n) {
    for (int i = 0; i < n; i++) x[i] = rndf() * (float)(1 + (rnd() % 4));
    /* Occasional outliers and exact zeros, like real activations. */
    if (n > 5) {
        x[rnd() % n] = 40.0f;
        x[rnd() % n] = 0.0f;
    }
}

static void test_quant_simd(const char *name, const hearth_kernels *k, const hearth_kernels *ref) {
    int ok = 1;
    for (size_t ti = 0; ti < N_TYPES && ok; ti++) {
        for (int rep = 0; rep < 40 && ok; rep++) {
            int n = 32 * (1 + (int)(rnd() % 40));
            float *x = malloc((size_t)n * sizeof *x);
            fill_act(x, n);
            if (rep == 0) memset(x, 0, 32 * sizeof *x); /* all-zero block */
            size_t bytes = kernels_act_row_bytes(all_types[ti], n);
            unsigned char *a = malloc(bytes), *b = malloc(bytes);
            kernels_quantize_act(k, all_types[ti], x, a, n);
            kernels_quantize_act(ref, all_types[ti], x, b, n);
            if (memcmp(a, b, bytes)) {
                ok = 0;
                printf("# %s type %s n %d differs\n", name, ggml_type_name(all_types[ti]), n);
            }
            free(x);
            free(a);
            free(b);
        }
    }
    char label[128];
    snprintf(label, sizeof label, "%s quantize_act bit-exact with scalar", name);
    CHECK(label, ok, "see above");
}

/* ---- matmul ----
 * Every SIMD level must give the scalar reference's bits exactly (memcmp of
 * whole output buffers, untouched entries included): the scalar code follows
 * ggml's accumulation order, and test_pinned ties that order to llama.cpp's
 * own outputs. The double-precision check verifies the math itself. */

static void fill_weights(uint32_t type, unsigned char *w, int rows, int n) {
    uint64_t rb = 0;
    ggml_row_bytes(type, (uint64_t)n, &rb);
    size_t total = (size_t)rb * (size_t)rows;
    for (size_t i = 0; i < total; i++) w[i] = (unsigned char)rnd();
    if (type == GGML_TYPE_F32) {
        float *f = (float *)w;
        for (size_t i = 0; i < total / 4; i++) f[i] = rndf();
        return;
    }
    if (type == GGML_TYPE_F16 || type == GGML_TYPE_BF16) {
        for (size_t i = 0; i < total / 2; i++) {
            uint16_t h = type == GGML_TYPE_F16 ? ggml_fp32_to_fp16(rndf()) : ggml_fp32_to_bf16(rndf());
            memcpy(w + 2 * i, &h, 2);
        }
        return;
    }
    /* Quantized: random codes, sane scales in the leading fp16 fields. */
    size_t bs = ggml_block_bytes(type);
    int has_m = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1;
    for (size_t off = 0; off < total; off += bs) {
        uint16_t d = ggml_fp32_to_fp16(0.001f + 0.02f * (rndf() + 1.0f));
        memcpy(w + off, &d, 2);
        if (has_m) {
            uint16_t m = ggml_fp32_to_fp16(-0.1f * (rndf() + 1.0f));
            memcpy(w + off + 2, &m, 2);
        }
    }
}

/* The activation values the kernels multiply, in double. Q8_0/Q8_1 rows
 * start with ggml blocks (documented in kernels.h), read from the row; the
 * float layouts are private (BF16 is permuted), so those values are the
 * source floats rounded the way the activation type rounds them. */
static void deq_act(uint32_t wtype, const void *a, const float *x, int n, double *out) {
    uint32_t at = kernels_act_type(wtype);
    if (at == GGML_TYPE_Q8_0 || at == GGML_TYPE_Q8_1) {
        size_t bs = at == GGML_TYPE_Q8_0 ? sizeof(block_q8_0) : sizeof(block_q8_1);
        size_t qo = at == GGML_TYPE_Q8_0 ? 2 : 4;
        for (int b = 0; b < n / 32; b++) {
            const unsigned char *p = (const unsigned char *)a + (size_t)b * bs;
            uint16_t d;
            memcpy(&d, p, 2);
            for (int j = 0; j < 32; j++) out[b * 32 + j] = (double)((const int8_t *)(p + qo))[j] * ggml_fp16_to_fp32(d);
        }
    } else {
        for (int i = 0; i < n; i++)
            out[i] = at == GGML_TYPE_F16    ? ggml_fp16_to_fp32(ggml_fp32_to_fp16(x[i]))
                     : at == GGML_TYPE_BF16 ? ggml_bf16_to_fp32(ggml_fp32_to_bf16(x[i]))
                                            : x[i];
    }
}

/* Fills n_tok activation rows through the API only; x keeps the floats. */
static unsigned char *make_act(const hearth_kernels *k, uint32_t type, int n, int n_tok, float *x) {
    const size_t ab = kernels_act_row_bytes(type, n);
    unsigned char *act = malloc(ab * (size_t)n_tok);
    for (int t = 0; t < n_tok; t++) {
        fill_act(x + (size_t)t * n, n);
        kernels_quantize_act(k, type, x + (size_t)t * n, act + (size_t)t * ab, n);
    }
    return act;
}

/* Random weights and n_tok activation rows (from the floats x) for one
 * product test. */
typedef struct {
    uint64_t rb; /* bytes per weight row */
    unsigned char *w, *act;
    float *x;
} mm_case;
static mm_case mm_case_make(const hearth_kernels *ref, uint32_t type, int n, int rows, int n_tok) {
    mm_case c = {0};
    ggml_row_bytes(type, (uint64_t)n, &c.rb);
    c.w = malloc((size_t)c.rb * (size_t)rows);
    fill_weights(type, c.w, rows, n);
    c.x = malloc((size_t)n * (size_t)n_tok * sizeof *c.x);
    c.act = make_act(ref, type, n, n_tok, c.x);
    return c;
}
static void mm_case_free(mm_case *c) {
    free(c->w);
    free(c->act);
    free(c->x);
}

static void test_matmul(const char *name, const hearth_kernels *k, const hearth_kernels *ref, int vs_double) {
    static const int ns[] = {32, 64, 96, 128, 160, 224, 256, 352, 480, 896, 1024};
    static const int big_tok[] = {64, 70, 33, 48, 31};
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        const uint32_t type = all_types[ti];
        int ok = 1, ok_ref = 1;
        double worst = 0;
        for (int rep = 0; rep < 28 && ok && ok_ref; rep++) {
            const int n = ns[rnd() % (sizeof ns / sizeof ns[0])];
            const int rows = 1 + (int)(rnd() % 40);
            int r0 = (int)(rnd() % (unsigned)rows), r1 = r0 + 1 + (int)(rnd() % (unsigned)(rows - r0));
            if (rep < 3) { r0 = 0; r1 = rows; }
            /* 1..17 tokens (every decode/prefill remainder), then longer runs */
            const int n_tok = rep < 17 ? rep + 1 : rep < 22 ? big_tok[rep - 17] : 1 + (int)(rnd() % 40);
            const size_t os = (size_t)rows + (rnd() % 3);
            uint64_t rb = 0;
            ggml_row_bytes(type, (uint64_t)n, &rb);
            unsigned char *w = malloc((size_t)rb * (size_t)rows);
            fill_weights(type, w, rows, n);
            const size_t ab = kernels_act_row_bytes(type, n);
            float *x = malloc((size_t)n * (size_t)n_tok * sizeof *x);
            unsigned char *act = make_act(ref, type, n, n_tok, x);
            const size_t on = os * (size_t)n_tok;
            float *o1 = malloc(on * sizeof *o1), *o2 = malloc(on * sizeof *o2);
            for (size_t i = 0; i < on; i++) o1[i] = o2[i] = -12345.0f;
            kernels_matmul(k, type, w, n, r0, r1, act, n_tok, o1, os);
            kernels_matmul(ref, type, w, n, r0, r1, act, n_tok, o2, os);
            if (memcmp(o1, o2, on * sizeof *o1)) {
                ok = 0;
                for (size_t i = 0; i < on; i++)
                    if (fbits(o1[i]) != fbits(o2[i])) {
                        printf("# %s %s n %d rows [%d,%d) n_tok %d: first difference t %zu r %zu: %a vs scalar %a\n",
                               name, ggml_type_name(type), n, r0, r1, n_tok, i / os, i % os, o1[i], o2[i]);
                        break;
                    }
            }
            for (size_t i = 0; i < on && ok; i++) {
                const size_t r = i % os;
                if (((int)r < r0 || (int)r >= r1) && o2[i] != -12345.0f) {
                    ok = 0;
                    printf("# %s: wrote outside rows (t %zu r %zu)\n", ggml_type_name(type), i / os, r);
                }
            }
            if (vs_double) {
                float *wr = malloc((size_t)n * sizeof *wr);
                double *ar = malloc((size_t)n * sizeof *ar);
                for (int t = 0; t < n_tok && ok_ref; t++) {
                    deq_act(type, act + (size_t)t * ab, x + (size_t)t * n, n, ar);
                    for (int r = r0; r < r1 && ok_ref; r++) {
                        kernels_dequantize_row(type, w + (size_t)r * rb, wr, n);
                        double exact = 0, mag = 0, qerr = 0;
                        for (int j = 0; j < n; j++) {
                            exact += (double)wr[j] * ar[j];
                            mag += fabs((double)wr[j] * ar[j]);
                        }
                        if (kernels_act_type(type) == GGML_TYPE_Q8_1) {
                            /* ggml's s is d*sum rounded to fp16: allow m * |s| * 2^-10 per block. */
                            for (int b = 0; b < n / 32; b++) {
                                const block_q8_1 *y = (const block_q8_1 *)(act + (size_t)t * ab) + b;
                                uint16_t mh;
                                memcpy(&mh, w + (size_t)r * rb + 2 + (size_t)b * ggml_block_bytes(type), 2);
                                qerr += fabs(ggml_fp16_to_fp32(mh)) * fabs(ggml_fp16_to_fp32(y->s)) * 0x1p-10;
                            }
                        }
                        /* float accumulation: some 30 ulps of the sum of |terms| */
                        const double tol = 4e-6 * mag + qerr + 1e-30;
                        const double err = fabs((double)o2[(size_t)t * os + (size_t)r] - exact);
                        if (mag > 0 && (err - qerr) / mag > worst) worst = (err - qerr) / mag;
                        if (err > tol) {
                            ok_ref = 0;
                            printf("# %s n %d tok %d row %d: scalar %.9g double %.9g (tol %.3g)\n",
                                   ggml_type_name(type), n, t, r, o2[(size_t)t * os + (size_t)r], exact, tol);
                        }
                    }
                }
                free(wr);
                free(ar);
            }
            free(w);
            free(act);
            free(x);
            free(o1);
            free(o2);
        }
        char label[160];
        snprintf(label, sizeof label, "%s matmul %s bit-exact with scalar", name, ggml_type_name(type));
        if (k != ref) CHECK(label, ok, "see above");
        else {
            snprintf(label, sizeof label, "scalar matmul %s writes only rows [r0, r1)", ggml_type_name(type));
            CHECK(label, ok, "see above");
        }
        if (vs_double) {
            snprintf(label, sizeof label, "%s matmul %s vs double reference", name, ggml_type_name(type));
            CHECK(label, ok_ref, "see above");
            printf("# %s: worst |scalar-double|/sum|terms| = %.2e\n", ggml_type_name(type), worst);
        }
    }
}

/* Shapes past the kernels' blocking: row blocks of 64, token chunks that
 * shrink for long rows (n = 4864: 40 tokens), remainders of 1-3 tokens. */
static void test_matmul_big(int levels, const char *const *names, const hearth_kernels *const *ks, const hearth_kernels *ref) {
    static const struct { int n, rows, r0, r1, n_tok; } sh[] = {
        {4864, 150, 0, 150, 70}, {4864, 150, 7, 141, 42}, {896, 200, 3, 197, 67}, {896, 130, 0, 130, 129},
    };
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        const uint32_t type = all_types[ti];
        int ok[8] = {1, 1, 1, 1, 1, 1, 1, 1}; /* per level; the scalar outputs are made once for all */
        for (size_t si = 0; si < sizeof sh / sizeof sh[0]; si++) {
            const int n = sh[si].n, rows = sh[si].rows, n_tok = sh[si].n_tok;
            mm_case c = mm_case_make(ref, type, n, rows, n_tok);
            unsigned char *w = c.w, *act = c.act;
            const size_t on = (size_t)rows * (size_t)n_tok;
            float *o1 = malloc(on * sizeof *o1), *o2 = malloc(on * sizeof *o2);
            for (size_t i = 0; i < on; i++) o2[i] = -12345.0f;
            kernels_matmul(ref, type, w, n, sh[si].r0, sh[si].r1, act, n_tok, o2, (size_t)rows);
            for (int l = 0; l < levels && l < 8; l++) {
                if (!ok[l]) continue;
                for (size_t i = 0; i < on; i++) o1[i] = -12345.0f;
                kernels_matmul(ks[l], type, w, n, sh[si].r0, sh[si].r1, act, n_tok, o1, (size_t)rows);
                if (!memcmp(o1, o2, on * sizeof *o1)) continue;
                ok[l] = 0;
                for (size_t i = 0; i < on; i++)
                    if (fbits(o1[i]) != fbits(o2[i])) {
                        printf("# %s %s shape %zu: first difference [%zu] %a vs scalar %a\n", names[l],
                               ggml_type_name(type), si, i, o1[i], o2[i]);
                        break;
                    }
            }
            mm_case_free(&c);
            free(o1);
            free(o2);
        }
        for (int l = 0; l < levels && l < 8; l++) {
            char label[160];
            snprintf(label, sizeof label, "%s matmul %s large shapes bit-exact with scalar", names[l], ggml_type_name(type));
            CHECK(label, ok[l], "see above");
        }
    }
}

/* ---- Q2_K, Q3_K, IQ4_NL, IQ4_XS (quant_lowbit.h) ---- */

/* Dequantization of crafted blocks against values worked out from ggml's
 * layout descriptions (ggml-common.h), a few of them literal. */
static void test_dequant_lowbit(void) {
    float got[256], want[256];
    { /* q2_K: d 1, dmin 0.5, scales s | (15 - s) << 4, qs[i] = 37 i */
        block_q2_K b;
        b.d = 0x3c00;
        b.dmin = 0x3800;
        for (int s = 0; s < 16; s++) b.scales[s] = (uint8_t)(s | (15 - s) << 4);
        for (int i = 0; i < 64; i++) b.qs[i] = (uint8_t)(37 * i);
        for (int e = 0; e < 256; e++) { /* element 128h + 32j + l: bits 2j of qs[32h + l] */
            const int h = e / 128, j = e % 128 / 32, l = e % 32, s = e / 16;
            want[e] = (float)(s * ((b.qs[32 * h + l] >> 2 * j) & 3)) - 0.5f * (float)(15 - s);
        }
        kernels_dequantize_row(GGML_TYPE_Q2_K, &b, got, 256);
        /* e 33: qs[1] = 37 = 0b100101, bits 2-3 = 1, sub-block 2: 2 - 6.5 */
        CHECK("dequant q2_K", near_eq(got, want, 256) && got[0] == -7.5f && got[33] == -4.5f, "%g %g", got[0], got[33]);
    }
    { /* q3_K: d 0.5; 6-bit scales sc[s] = 2s + 1 (low 4 bits in bytes 0-7, top 2 in 8-11) */
        block_q3_K b;
        b.d = 0x3800;
        memset(b.scales, 0, sizeof b.scales);
        for (int s = 0; s < 16; s++) {
            const int v = 2 * s + 1;
            b.scales[s % 8] |= (uint8_t)((v & 15) << (s < 8 ? 0 : 4));
            b.scales[8 + s % 4] |= (uint8_t)((v >> 4) << (2 * (s / 4)));
        }
        for (int i = 0; i < 64; i++) b.qs[i] = (uint8_t)(53 * i + 7);
        for (int i = 0; i < 32; i++) b.hmask[i] = (uint8_t)(0xa5 ^ (11 * i));
        for (int e = 0; e < 256; e++) { /* high bit 4h + j of hmask[l] clear: -4 */
            const int h = e / 128, j = e % 128 / 32, l = e % 32, s = e / 16;
            const int q = ((b.qs[32 * h + l] >> 2 * j) & 3) - ((b.hmask[l] >> (4 * h + j)) & 1 ? 0 : 4);
            want[e] = 0.5f * (float)(2 * s + 1 - 32) * (float)q;
        }
        kernels_dequantize_row(GGML_TYPE_Q3_K, &b, got, 256);
        /* e 0: qs 7 -> 3, hmask bit 0 of 0xa5 set: 3 x 0.5 x -31 */
        CHECK("dequant q3_K", near_eq(got, want, 256) && got[0] == -46.5f, "%g", got[0]);
    }
    { /* iq4_nl: d 2, nibbles j (low) and 15 - j (high) */
        block_iq4_nl b[2];
        for (int k = 0; k < 2; k++) {
            b[k].d = k ? 0xbc00 : 0x4000;
            for (int j = 0; j < 16; j++) {
                b[k].qs[j] = (uint8_t)(j | (15 - j) << 4);
                want[32 * k + j] = (k ? -1.0f : 2.0f) * kvalues_iq4nl[j];
                want[32 * k + 16 + j] = (k ? -1.0f : 2.0f) * kvalues_iq4nl[15 - j];
            }
        }
        kernels_dequantize_row(GGML_TYPE_IQ4_NL, b, got, 64);
        CHECK("dequant iq4_nl", near_eq(got, want, 64) && got[0] == -254.0f && got[16] == 226.0f && got[32] == 127.0f,
              "%g %g %g", got[0], got[16], got[32]);
    }
    { /* iq4_xs: d 0.25, 6-bit scale of sub-block ib 4 ib + 3 */
        block_iq4_xs b;
        b.d = 0x3400;
        b.scales_h = 0;
        memset(b.scales_l, 0, sizeof b.scales_l);
        for (int ib = 0; ib < 8; ib++) {
            const int ls = 4 * ib + 3;
            b.scales_l[ib / 2] |= (uint8_t)((ls & 15) << 4 * (ib % 2));
            b.scales_h |= (uint16_t)((ls >> 4) << 2 * ib);
        }
        for (int i = 0; i < 128; i++) b.qs[i] = (uint8_t)(29 * i + 3);
        for (int e = 0; e < 256; e++) {
            const int ib = e / 32, j = e % 32;
            const uint8_t q = b.qs[16 * ib + j % 16];
            want[e] = 0.25f * (float)(4 * ib + 3 - 32) * (float)kvalues_iq4nl[j < 16 ? q & 15 : q >> 4];
        }
        kernels_dequantize_row(GGML_TYPE_IQ4_XS, &b, got, 256);
        /* e 0: nibble 3 -> -65, scale 3 - 32: 0.25 x -29 x -65 */
        CHECK("dequant iq4_xs", near_eq(got, want, 256) && got[0] == 471.25f, "%g", got[0]);
    }
}

static const uint32_t lowbit_types[] = {GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS};

/* Random codes and scale bytes; fp16 d (and Q2_K's dmin) of either sign. */
static void fill_weights_lowbit(uint32_t type, unsigned char *w, int rows, int n) {
    uint64_t rb = 0;
    ggml_row_bytes(type, (uint64_t)n, &rb);
    const size_t total = (size_t)rb * (size_t)rows, bs = ggml_block_bytes(type);
    const size_t d_off = type == GGML_TYPE_Q2_K ? offsetof(block_q2_K, d) : type == GGML_TYPE_Q3_K ? offsetof(block_q3_K, d) : 0;
    for (size_t i = 0; i < total; i++) w[i] = (unsigned char)rnd();
    for (size_t off = 0; off < total; off += bs) {
        const uint16_t d = ggml_fp32_to_fp16(0.02f * rndf()), m = ggml_fp32_to_fp16(0.01f * rndf());
        memcpy(w + off + d_off, &d, 2);
        if (type == GGML_TYPE_Q2_K) memcpy(w + off + offsetof(block_q2_K, dmin), &m, 2);
    }
}

/* Activation values of a Q8_K row. */
static void deq_act_q8_K(const void *a, int n, double *out) {
    const block_q8_K *y = a;
    for (int i = 0; i < n; i++) out[i] = (double)y[i / QK_K].d * y[i / QK_K].qs[i % QK_K];
}

/* Every level bit-exact with the scalar reference over shapes that cover
 * row tails, split row ranges, super-block counts and 1..20, 63..70 tokens
 * (ggml's 4-token gemm groups, IQ4_XS's 8-token switch, the 64-token
 * chunks); with ref itself, the reference against a double dot of the
 * dequantized weights and activations. */
static void test_matmul_lowbit(const char *name, const hearth_kernels *k, const hearth_kernels *ref) {
    static const int ns[] = {256, 512, 1280, 2304}, rows_[] = {1, 5, 8, 13, 16, 33, 40};
    for (size_t ti = 0; ti < sizeof lowbit_types / sizeof lowbit_types[0]; ti++) {
        const uint32_t type = lowbit_types[ti];
        int ok = 1, cases = 0;
        double worst = 0;
        for (int ci = 0; ci < 60 && ok; ci++) {
            const int n = type == GGML_TYPE_IQ4_NL && ci % 3 == 0 ? 32 * (1 + ci % 9) : ns[ci % 4];
            const int rows = rows_[ci % 7], n_tok = ci < 40 ? 1 + ci % 20 : 63 + ci % 8;
            uint64_t rb = 0;
            ggml_row_bytes(type, (uint64_t)n, &rb);
            unsigned char *w = malloc((size_t)rb * (size_t)rows);
            fill_weights_lowbit(type, w, rows, n);
            float *x = malloc((size_t)n * (size_t)n_tok * sizeof *x);
            unsigned char *act = make_act(ref, type, n, n_tok, x);
            const size_t os = (size_t)rows + 3, count = os * (size_t)n_tok;
            float *o1 = malloc(count * sizeof *o1), *o2 = malloc(count * sizeof *o2);
            memset(o1, 0xcd, count * sizeof *o1);
            memset(o2, 0xcd, count * sizeof *o2);
            kernels_matmul(ref, type, w, n, 0, rows, act, n_tok, o1, os);
            const int mid = (int)(rnd() % (unsigned)(rows + 1));
            kernels_matmul(k, type, w, n, 0, mid, act, n_tok, o2, os);
            kernels_matmul(k, type, w, n, mid, rows, act, n_tok, o2, os);
            cases++;
            if (memcmp(o1, o2, count * sizeof *o1)) {
                ok = 0;
                for (size_t i = 0; i < count; i++)
                    if (memcmp(&o1[i], &o2[i], 4)) {
                        printf("# %s %s n %d rows %d n_tok %d split %d: out[%zu] %a, scalar %a\n", name,
                               ggml_type_name(type), n, rows, n_tok, mid, i, o2[i], o1[i]);
                        break;
                    }
            }
            if (k == ref) { /* the math: against doubles */
                float *wf = malloc((size_t)n * sizeof *wf);
                double *ya = malloc((size_t)n * sizeof *ya);
                const size_t ab = kernels_act_row_bytes(type, n);
                for (int t = 0; t < n_tok && ok; t++) {
                    if (type == GGML_TYPE_IQ4_NL)
                        deq_act(type, act + (size_t)t * ab, x + (size_t)t * n, n, ya);
                    else
                        deq_act_q8_K(act + (size_t)t * ab, n, ya);
                    for (int r = 0; r < rows; r++) {
                        kernels_dequantize_row(type, w + (size_t)r * rb, wf, n);
                        double dot = 0, mag = 0;
                        for (int i = 0; i < n; i++) {
                            dot += (double)wf[i] * ya[i];
                            mag += fabs((double)wf[i] * ya[i]);
                        }
                        const double err = fabs(dot - o1[(size_t)t * os + (size_t)r]) / (mag > 0 ? mag : 1);
                        if (err > worst) worst = err;
                        if (!(err < 1e-5)) {
                            ok = 0;
                            printf("# %s n %d t %d r %d: %a vs double %a\n", ggml_type_name(type), n, t, r,
                                   o1[(size_t)t * os + (size_t)r], dot);
                            break;
                        }
                    }
                }
                free(wf);
                free(ya);
            }
            free(w);
            free(x);
            free(act);
            free(o1);
            free(o2);
        }
        char label[200];
        if (k == ref)
            snprintf(label, sizeof label, "%s matmul %s within 1e-5 of a double dot of dequantized values (worst %.1e, %d cases)",
                     name, ggml_type_name(type), worst, cases);
        else
            snprintf(label, sizeof label, "%s matmul %s bit-exact with scalar (%d cases)", name, ggml_type_name(type), cases);
        CHECK(label, ok, "see above");
    }
}

/* ---- outputs pinned to llama.cpp ----
 * Expected bits from ggml_mul_mat of llama.cpp's zen4 CPU backend (the
 * libggml-cpu-zen4.so of node-llama-cpp, 2 threads; the types ggml repacks
 * in its CPU_REPACK buffer, as llama.cpp loads them), on the inputs of
 * pin_inputs.h, which the oracle shares verbatim: tools/ggml_pin.c prints
 * these tables (pins, pins_lowbit, and test_kernels_k.h's pins_k and
 * pins_k_dequant) in pin_inputs.h's shape order. Each entry pins out[0],
 * out[5], out[last] and an FNV-1a hash of all M * N output bit patterns
 * (out[t * M + r]). */
static const struct pin_case {
    uint32_t type;
    int k, n_tok;
    uint32_t hash, bits[3];
} pins[] = {
    /* generated by tools/ggml_pin.c */
        {0, 160, 1, 0x74da3014u, {0xc1731959u, 0xc176ce16u, 0xc219e17cu}}, /* f32 */
        {0, 160, 7, 0x7d1f84f1u, {0x3f89d1dcu, 0xbe203540u, 0x4193765du}}, /* f32 */
        {0, 256, 20, 0xb0e6337fu, {0x41785f3bu, 0x419c5831u, 0x4148ca34u}}, /* f32 */
        {0, 200, 1, 0x692252b4u, {0x4119f155u, 0xc215ca5au, 0x4069c39cu}}, /* f32 */
        {0, 200, 5, 0xf0f47d17u, {0x3f0cf33cu, 0xc144853cu, 0xc208001eu}}, /* f32 */
        {1, 160, 1, 0x8cb2385fu, {0xc1a3b74eu, 0x4039f319u, 0x411c9dc8u}}, /* f16 */
        {1, 160, 7, 0x0f2f9a50u, {0x414a72abu, 0xc14dd047u, 0x41bb5bdcu}}, /* f16 */
        {1, 256, 20, 0x4f105388u, {0xc0416bc4u, 0x41ae1da3u, 0xc1a53c70u}}, /* f16 */
        {1, 200, 1, 0x1fde5af3u, {0xc18d6b22u, 0x3ee2ef57u, 0xc03b82b4u}}, /* f16 */
        {1, 200, 5, 0xe7a14948u, {0x41713ea2u, 0x41be513au, 0x41144d7du}}, /* f16 */
        {30, 160, 1, 0x229f2808u, {0xc0366c02u, 0x41dc86cbu, 0x41848ad8u}}, /* bf16 */
        {30, 160, 7, 0x64f9318fu, {0xc0b716a8u, 0xc0efc668u, 0xc0d13946u}}, /* bf16 */
        {30, 256, 20, 0xf97f4209u, {0x41b5b56au, 0xc23fd01fu, 0xc159aa31u}}, /* bf16 */
        {30, 200, 1, 0x20d7da48u, {0x41204dd4u, 0xc23739e7u, 0xc013d668u}}, /* bf16 */
        {30, 200, 5, 0x8e38b115u, {0x4066e318u, 0x40d5addcu, 0x4164d664u}}, /* bf16 */
        {2, 160, 1, 0x7da05a00u, {0xbeed0a9au, 0x3e8f271fu, 0x3f0bbf8au}}, /* q4_0, CPU_REPACK */
        {2, 160, 7, 0x57f8c5aau, {0xbeb4aa70u, 0xbea8d75bu, 0xbe85cb7bu}}, /* q4_0, CPU_REPACK */
        {2, 256, 20, 0xde6d4e0cu, {0xbf679394u, 0x3f6a5f50u, 0xbf70e458u}}, /* q4_0, CPU_REPACK */
        {3, 160, 1, 0xbd033760u, {0x3db69190u, 0xbf2e1a43u, 0x3eda689cu}}, /* q4_1 */
        {3, 160, 7, 0x9dc54641u, {0x3e9db50au, 0xbcbe6e00u, 0x3e9e6f90u}}, /* q4_1 */
        {3, 256, 20, 0xe422e1a5u, {0x3ee373a2u, 0xbfaa8c6bu, 0x3f0ffd28u}}, /* q4_1 */
        {6, 160, 1, 0xf812c45du, {0x3e496d1eu, 0x3f8fe51bu, 0x3f8bfda9u}}, /* q5_0 */
        {6, 160, 7, 0x83dc7455u, {0xbf751afeu, 0x400ccb37u, 0x3fd220b5u}}, /* q5_0 */
        {6, 256, 20, 0x329a611cu, {0xbf06528eu, 0x3f33b1f0u, 0x3eca3265u}}, /* q5_0 */
        {7, 160, 1, 0xf17b5bd0u, {0xbf43dd58u, 0xbf667c0bu, 0xbef9fe5eu}}, /* q5_1 */
        {7, 160, 7, 0xc37c226fu, {0x3fd7ebb2u, 0xbd287e18u, 0xbfa33dfau}}, /* q5_1 */
        {7, 256, 20, 0xed539440u, {0xbfcac7e0u, 0xbf186bcdu, 0x3feb9765u}}, /* q5_1 */
        {8, 160, 1, 0x1c9d019fu, {0x3fb51458u, 0xc11816ceu, 0x41511faau}}, /* q8_0 */
        {8, 160, 7, 0x58fc5b35u, {0xc0b2e4c0u, 0x3ffff67au, 0xc131b7e2u}}, /* q8_0 */
        {8, 256, 20, 0x8346a280u, {0xbfeb9f26u, 0xc0cdefaau, 0xc0bddac0u}}, /* q8_0 */
};

/* Q2_K, Q3_K, IQ4_NL and IQ4_XS pinned the same way (pin_k_inputs, PIN_K_M
 * rows; Q2_K and IQ4_NL weights repacked by ggml; the same bits with 1 and
 * 2 threads). */
static const struct pin_case pins_lowbit[] = {
    /* generated by tools/ggml_pin.c */
        {10, 256, 1, 0x4ca50b17u, {0xc004720cu, 0xbf2e6e00u, 0xc034b5e6u}}, /* q2_K, CPU_REPACK */
        {10, 512, 3, 0x4f871585u, {0x40720b85u, 0x4040448du, 0xbf6a2040u}}, /* q2_K, CPU_REPACK */
        {10, 256, 4, 0x9ec64cf8u, {0xc00066ffu, 0xbfa29564u, 0x3f63ae3du}}, /* q2_K, CPU_REPACK */
        {10, 512, 7, 0x08ea6b27u, {0x4031d4c4u, 0x401de970u, 0x3fe3075cu}}, /* q2_K, CPU_REPACK */
        {10, 768, 16, 0xef63e02cu, {0xbfcba784u, 0xc064f898u, 0xc0939385u}}, /* q2_K, CPU_REPACK */
        {10, 256, 21, 0x5fa40c11u, {0x401073cau, 0x40124f44u, 0x3f2c88f6u}}, /* q2_K, CPU_REPACK */
        {10, 512, 70, 0x0ca84392u, {0x3f3ff440u, 0xc04c426du, 0x4089a579u}}, /* q2_K, CPU_REPACK */
        {11, 256, 1, 0x19cd61eau, {0x402585c0u, 0xc127461eu, 0x3d77fd80u}}, /* q3_K */
        {11, 512, 3, 0xdebf29c8u, {0x3ede2cd4u, 0xc092f88au, 0x41235c36u}}, /* q3_K */
        {11, 768, 7, 0x42b5e8ddu, {0x400efb34u, 0x406ea256u, 0xc0e591ebu}}, /* q3_K */
        {11, 256, 21, 0x856b0dcbu, {0xc14a9b1eu, 0xc0a84e22u, 0x4095d24eu}}, /* q3_K */
        {11, 512, 70, 0xf5773d56u, {0xc031e112u, 0xc0d7f79fu, 0xc015e3f7u}}, /* q3_K */
        {20, 160, 1, 0x40ccb024u, {0xbdb8733bu, 0x41909c6cu, 0xc0a4da44u}}, /* iq4_nl, CPU_REPACK */
        {20, 256, 3, 0xb105f086u, {0x41107f71u, 0xc1aa27a2u, 0xc15a5b8fu}}, /* iq4_nl, CPU_REPACK */
        {20, 160, 4, 0x747115d1u, {0xc12fb359u, 0x3fc1af90u, 0xc0841ad9u}}, /* iq4_nl, CPU_REPACK */
        {20, 512, 7, 0xde9312eeu, {0xc111dba7u, 0x41694864u, 0xc1228a65u}}, /* iq4_nl, CPU_REPACK */
        {20, 256, 21, 0x6b5a70e6u, {0x3ededb27u, 0xbff0fda5u, 0xc0b77807u}}, /* iq4_nl, CPU_REPACK */
        {20, 192, 70, 0x57a6c067u, {0xc0cde01fu, 0x3e616c0du, 0xc0953082u}}, /* iq4_nl, CPU_REPACK */
        {23, 256, 1, 0x0784a74au, {0xc2fd6d63u, 0xc25aa17cu, 0xc35d5ca0u}}, /* iq4_xs */
        {23, 512, 3, 0x69fee643u, {0xc33c1678u, 0x43d10d10u, 0xc2f225d9u}}, /* iq4_xs */
        {23, 768, 7, 0x1e598f94u, {0x435c015au, 0xc2485d50u, 0xc2a10200u}}, /* iq4_xs */
        {23, 512, 8, 0xbaa20ae2u, {0x42c17f17u, 0xc31211dbu, 0xc283d360u}}, /* iq4_xs */
        {23, 256, 21, 0xe47acc8eu, {0x42314002u, 0x42b7e6f5u, 0x418c4c4cu}}, /* iq4_xs */
        {23, 512, 70, 0x48666de4u, {0xc3ab0f90u, 0xc32d14dfu, 0xc32921edu}}, /* iq4_xs */
};

/* One pinned case p, entry pi of a table of shapes: the kernels k run its
 * product from gen's inputs (rows weight rows, row_bytes each) on all rows
 * at once, then with the rows split at mid; 1 when both give the pinned bits. */
static int pin_check(const char *name, const hearth_kernels *k, const struct pin_case *p, const struct pin_shape *shape,
                     int rows, size_t row_bytes, void (*gen)(uint32_t, int, int, unsigned char *, float *), int mid) {
    const uint32_t type = p->type;
    const int n = p->k, n_tok = p->n_tok, count = rows * n_tok;
    if (shape->type != type || shape->k != n || shape->n_tok != n_tok) {
        printf("# %s K %d N %d: not pin_inputs.h's shape (%u, %d, %d)\n", ggml_type_name(type), n, n_tok, shape->type,
               shape->k, shape->n_tok);
        return 0;
    }
    unsigned char *w = malloc(row_bytes * (size_t)rows);
    float *x = malloc((size_t)n * (size_t)n_tok * sizeof *x), *o = malloc((size_t)count * sizeof *o);
    gen(type, n, n_tok, w, x);
    const size_t ab = kernels_act_row_bytes(type, n);
    unsigned char *act = malloc(ab * (size_t)n_tok);
    for (int t = 0; t < n_tok; t++) kernels_quantize_act(k, type, x + (size_t)t * n, act + (size_t)t * ab, n);
    int ok = 1;
    for (int split = 0; split < 2; split++) { /* all rows (and an empty range), then split off every tile */
        memset(o, 0xff, (size_t)count * sizeof *o);
        const int m = split ? mid : rows;
        kernels_matmul(k, type, w, n, 0, m, act, n_tok, o, (size_t)rows);
        kernels_matmul(k, type, w, n, m, rows, act, n_tok, o, (size_t)rows);
        const uint32_t got[3] = {fbits(o[0]), fbits(o[5]), fbits(o[count - 1])}, h = pin_hash(o, count);
        if (h != p->hash || memcmp(got, p->bits, sizeof got)) {
            ok = 0;
            printf("# %s %s K %d N %d%s: hash %08x (want %08x), out[0] %08x (want %08x), out[5] %08x (want %08x), "
                   "out[last] %08x (want %08x)\n",
                   name, ggml_type_name(type), n, n_tok, split ? " split rows" : "", h, p->hash, got[0], p->bits[0],
                   got[1], p->bits[1], got[2], p->bits[2]);
        }
    }
    free(w);
    free(x);
    free(act);
    free(o);
    return ok;
}

static void test_pinned_lowbit(const char *name, const hearth_kernels *k) {
    const int same = sizeof pins_lowbit / sizeof pins_lowbit[0] == sizeof pin_lowbit_shapes / sizeof pin_lowbit_shapes[0];
    int ok = same;
    for (size_t pi = 0; pi < sizeof pins_lowbit / sizeof pins_lowbit[0] && same; pi++) {
        const struct pin_case *p = &pins_lowbit[pi];
        ok &= pin_check(name, k, p, &pin_lowbit_shapes[pi], PIN_K_M, pin_k_row_bytes(p->type, p->k), pin_k_inputs,
                       1 + (int)(pi % 15) * 2);
    }
    char label[160];
    snprintf(label, sizeof label, "%s q2_K, q3_K, iq4_nl, iq4_xs outputs pinned to llama.cpp (%zu cases)", name,
             sizeof pins_lowbit / sizeof pins_lowbit[0]);
    CHECK(label, ok, "see above");
}

static void test_pinned(const char *name, const hearth_kernels *k) {
    for (size_t ti = 0; ti < N_TYPES; ti++) {
        const uint32_t type = all_types[ti];
        const int same = sizeof pins / sizeof pins[0] == sizeof pin_shapes / sizeof pin_shapes[0];
        int ok = same, cases = 0;
        for (size_t pi = 0; pi < sizeof pins / sizeof pins[0] && same; pi++) {
            const struct pin_case *p = &pins[pi];
            if (p->type != type) continue;
            cases++;
            ok &= pin_check(name, k, p, &pin_shapes[pi], PIN_M, pin_row_bytes(type, p->k), pin_inputs,
                           1 + (int)(pi % 7) * 2); /* 1, 3, ..., 13 */
        }
        char label[160];
        snprintf(label, sizeof label, "%s matmul %s matches llama.cpp bits (%d cases, 1 and more tokens)", name,
                 ggml_type_name(type), cases);
        CHECK(label, ok && cases >= 3, "see above");
    }
}

#include "test_kernels_k.h"
#include "test_kernels_kfast.h"

/* kernels_prefer_speed's Q4_0, Q5_0 and Q8_0 products (wasm): each output within
 * 1e-5 of the sum of its terms' magnitudes from the exact kernel's (f32
 * rounding of about nb products and sums; one wrong block would be off by
 * about 1/nb of it), for one token and several (tiles of 8 and their
 * remainders), nothing written outside [r0, r1) or the token rows, and rows
 * longer than 512 blocks still bit-exact (the exact kernels). */
static void test_matmul_fast(const char *name, const hearth_kernels *fast, const hearth_kernels *ref) {
    static const uint32_t types[] = {GGML_TYPE_Q4_0, GGML_TYPE_Q5_0, GGML_TYPE_Q8_0};
    static const int ns[] = {32, 64, 96, 128, 160, 224, 896, 4864, 8192, 11008, 16416};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const uint32_t type = types[ti];
        int ok = 1, cases = 0;
        double worst = 0;
        for (int rep = 0; rep < 40 && ok; rep++, cases++) {
            const int n_ns = (int)(sizeof ns / sizeof ns[0]), n = ns[rep < n_ns ? rep : (int)(rnd() % (unsigned)n_ns)];
            const int rows = 1 + (int)(rnd() % 24);
            int r0 = (int)(rnd() % (unsigned)rows), r1 = r0 + 1 + (int)(rnd() % (unsigned)(rows - r0));
            if (rep < 10) { r0 = 0; r1 = rows; }
            const int n_tok = rep % 3 == 2 ? 2 + (int)(rnd() % 19) : 1;
            mm_case c = mm_case_make(ref, type, n, rows, n_tok);
            const uint64_t rb = c.rb;
            unsigned char *w = c.w, *act = c.act;
            const float *x = c.x;
            const size_t os = (size_t)rows + rnd() % 3, on = os * (size_t)n_tok;
            float *o1 = malloc(on * sizeof *o1), *o2 = malloc(on * sizeof *o2), *wrow = malloc((size_t)n * sizeof *wrow);
            double *a = malloc((size_t)n * sizeof *a);
            for (size_t i = 0; i < on; i++) o1[i] = o2[i] = -12345.0f;
            kernels_matmul(fast, type, w, n, r0, r1, act, n_tok, o1, os);
            kernels_matmul(ref, type, w, n, r0, r1, act, n_tok, o2, os);
            if (n / 32 > 512) {
                if (memcmp(o1, o2, on * sizeof *o1)) {
                    ok = 0;
                    printf("# %s %s n %d n_tok %d: not bit-exact with scalar (the exact kernels should run)\n", name,
                           ggml_type_name(type), n, n_tok);
                }
            } else {
                const size_t ab = kernels_act_row_bytes(type, n);
                for (int t = 0; t < n_tok && ok; t++) {
                    deq_act(type, act + (size_t)t * ab, x + (size_t)t * n, n, a);
                    for (size_t r = 0; r < os && ok; r++) {
                        const float got = o1[(size_t)t * os + r];
                        if ((int)r < r0 || (int)r >= r1) {
                            if (got != -12345.0f) { ok = 0; printf("# %s: wrote outside rows (t %d r %zu)\n", ggml_type_name(type), t, r); }
                            continue;
                        }
                        kernels_dequantize_row(type, w + r * rb, wrow, n);
                        double dot = 0, mag = 0;
                        for (int i = 0; i < n; i++) {
                            dot += (double)wrow[i] * a[i];
                            mag += fabs((double)wrow[i] * a[i]);
                        }
                        /* against the exact kernel, scaled by the terms' magnitude in double */
                        const double want = o2[(size_t)t * os + r], err = fabs((double)got - want) / (mag > 0 ? mag : 1);
                        if (err > worst) worst = err;
                        if (err > 1e-5 || fabs(want - dot) > 1e-2 * (mag > 0 ? mag : 1)) {
                            ok = 0;
                            printf("# %s %s n %d n_tok %d t %d row %zu: %a vs exact kernel %a, double %.9g (error %.2g of the terms' magnitude)\n",
                                   name, ggml_type_name(type), n, n_tok, t, r, got, want, dot, err);
                        }
                    }
                }
            }
            mm_case_free(&c);
            free(o1);
            free(o2);
            free(wrow);
            free(a);
        }
        char label[200];
        snprintf(label, sizeof label, "%s matmul %s: within 1e-5 of exact, 1 to 20 tokens (worst %.1e; %d cases)",
                 name, ggml_type_name(type), worst, cases);
        CHECK(label, ok, "see above");
    }
}

/* Whether an X4 activation row (kernels.h) holds the codes, scales and
 * (Q4_0_X4) offset corrections of the Q8_0 row q of the same n floats. */
static bool x4_act_matches(bool q8, const unsigned char *q, const unsigned char *x4, int n) {
    const act_aux_q8_0 *aux = (const act_aux_q8_0 *)(q + kernels_act_aux_offset(n, false));
    const unsigned char *pos = x4, *neg = x4 + n, *dp = x4 + (q8 ? 2 : 1) * (size_t)n;
    for (int b = 0; b < n / 32; b++) {
        const block_q8_0 *blk = (const block_q8_0 *)(q + (size_t)b * sizeof(block_q8_0));
        float d;
        int32_t bias;
        memcpy(&d, dp + 4 * (size_t)b, 4);
        memcpy(&bias, dp + 4 * (size_t)(n / 32) + 4 * (size_t)b, 4);
        if (memcmp(&d, &aux[b].d, 4) || (!q8 && bias != aux[b].bias8)) return false;
        for (int e = 0; e < 32; e++) {
            const size_t at = 128 * (size_t)(b / 4) + 16 * (size_t)(e / 4) + 4 * (size_t)(b % 4) + (size_t)(e % 4);
            const int a = q8 ? pos[at] - neg[at] : (int8_t)pos[at];
            if (a != blk->qs[e] || (q8 && ((pos[at] && neg[at]) || pos[at] > 127 || neg[at] > 127))) return false;
        }
    }
    return true;
}

/* An X4 layout's outputs o1 against the plain layout's o2 (os a token): rows
 * outside [r0, r1) left as they were (-12345), the others within 1e-5 of
 * their terms' magnitude (|w| . |a| in double), and bit-equal for a single
 * token unless q8_K (the K-quant X4 sums spread over the lanes otherwise);
 * each token's activations dequantized from its row (ab bytes). Returns 0
 * after printing the first difference; *worst takes the largest error.
 * d2: scratch for a dequantized weight row (n floats). */
static int x4_outputs_match(const char *name, uint32_t base, const mm_case *c, int n, int r0, int r1, int n_tok,
                            size_t ab, const float *o1, const float *o2, size_t os, bool q8_K, float *d2,
                            double *worst) {
    double *a = malloc((size_t)n * sizeof *a);
    int ok = a != NULL;
    for (int t = 0; t < n_tok && ok; t++) {
        if (q8_K) deq_act_q8_K(c->act + (size_t)t * ab, n, a);
        else deq_act(base, c->act + (size_t)t * ab, c->x + (size_t)t * n, n, a);
        for (size_t r = 0; r < os && ok; r++) {
            const float got = o1[(size_t)t * os + r], want_o = o2[(size_t)t * os + r];
            if ((int)r < r0 || (int)r >= r1) {
                if (got != -12345.0f) { ok = 0; printf("# %s_x4: wrote outside rows (t %d r %zu)\n", ggml_type_name(base), t, r); }
                continue;
            }
            kernels_dequantize_row(base, c->w + r * c->rb, d2, n);
            double mag = 0;
            for (int i = 0; i < n; i++) mag += fabs((double)d2[i] * a[i]);
            const double err = fabs((double)got - want_o) / (mag > 0 ? mag : 1);
            if (err > *worst) *worst = err;
            if ((!q8_K && n_tok == 1 && got != want_o) || err > 1e-5) {
                ok = 0;
                printf("# %s %s_x4 n %d n_tok %d t %d row %zu: %a vs %a (error %.2g of the terms' magnitude)\n",
                       name, ggml_type_name(base), n, n_tok, t, r, got, want_o, err);
            }
        }
    }
    free(a);
    return ok;
}

/* The relaxed build's X4 products (kernels_pack_weight, then
 * quant_simd128_relaxed.c), for Q4_0 and Q8_0 (base): a matrix is repacked
 * exactly where its rows are a multiple of 128 and at most
 * KERNELS_X4_MAX_COLS long (its copy's row size is what the layout says;
 * otherwise nothing is allocated), dequantizes to the same floats as
 * before, and multiplies to simd128-fast's outputs for base: the same bits
 * for one token (the same integer sums and order of f32 steps), within 1e-5
 * of the terms' magnitude for several; nothing written outside [r0, r1).
 * Q8_0 weights include -128 codes (not made by ggml's rounding, but valid
 * in a file) at the extremes of the dot's exact range. */
static void test_matmul_x4(const char *name, const hearth_kernels *fast, uint32_t base) {
    static const int ns[] = {128, 256, 896, 4864, 8192, 11008, 16384, 160, 16512};
    const bool q8 = base == GGML_TYPE_Q8_0;
    const uint32_t x4type = q8 ? KERNELS_TYPE_Q8_0_X4 : KERNELS_TYPE_Q4_0_X4;
    const size_t gbytes = q8 ? KERNELS_X4_Q8_GROUP_BYTES : KERNELS_X4_GROUP_BYTES;
    int ok = 1, cases = 0, packed_cases = 0;
    double worst = 0;
    for (int rep = 0; rep < 40 && ok; rep++, cases++) {
        const int n_ns = (int)(sizeof ns / sizeof ns[0]), n = ns[rep < n_ns ? rep : (int)(rnd() % 7u)];
        const int rows = 1 + (int)(rnd() % 24);
        int r0 = (int)(rnd() % (unsigned)rows), r1 = r0 + 1 + (int)(rnd() % (unsigned)(rows - r0));
        if (rep < 10) { r0 = 0; r1 = rows; }
        const int n_tok = rep % 3 == 2 ? 2 + (int)(rnd() % 19) : 1;
        mm_case c = mm_case_make(fast, base, n, rows, n_tok);
        if (q8 && rep % 2)
            for (int r = 0; r < rows; r++) { /* a block of -128s and one of alternating +-127 / -128 */
                block_q8_0 *b = (block_q8_0 *)(c.w + (size_t)r * c.rb);
                const int nb = n / 32, k = (int)(rnd() % (unsigned)nb);
                for (int e = 0; e < 32; e++) {
                    b[k].qs[e] = -128;
                    b[(k + 1) % nb].qs[e] = (int8_t)(e % 2 ? 127 : -128);
                }
            }
        uint32_t type = base;
        void *copy = NULL;
        uint64_t prb = c.rb;
        const bool packed = kernels_pack_weight(fast, &type, c.w, rows, n, &copy, &prb),
                   want = n % 128 == 0 && n <= KERNELS_X4_MAX_COLS;
        if (packed != want || (type == x4type) != packed || (packed && prb != (uint64_t)(n / 128) * gbytes) ||
            (!packed && (copy || prb != c.rb))) {
            ok = 0;
            printf("# n %d: packed %d, expected %d (type %u, row bytes %llu)\n", n, packed, want, type,
                   (unsigned long long)prb);
        }
        packed_cases += packed;
        const unsigned char *wp = packed ? copy : c.w;
        float *d1 = malloc((size_t)n * sizeof *d1), *d2 = malloc((size_t)n * sizeof *d2);
        for (int r = 0; r < rows && ok && packed; r++) {
            kernels_dequantize_row(type, wp + (size_t)r * prb, d1, n);
            kernels_dequantize_row(base, c.w + (size_t)r * c.rb, d2, n);
            if (memcmp(d1, d2, (size_t)n * sizeof *d1)) { ok = 0; printf("# n %d row %d: dequantized X4 differs\n", n, r); }
        }
        const size_t os = (size_t)rows + rnd() % 3, on = os * (size_t)n_tok;
        float *o1 = malloc(on * sizeof *o1), *o2 = malloc(on * sizeof *o2);
        for (size_t i = 0; i < on; i++) o1[i] = o2[i] = -12345.0f;
        /* the X4 activation rows: the same codes and scales as base's */
        const size_t ab = kernels_act_row_bytes(base, n), abx = kernels_act_row_bytes(type, n);
        unsigned char *ax = c.act;
        if (packed) {
            ax = malloc(abx * (size_t)n_tok);
            for (int t = 0; t < n_tok; t++) kernels_quantize_act(fast, type, c.x + (size_t)t * n, ax + t * abx, n);
            for (int t = 0; t < n_tok && ok; t++)
                if (!x4_act_matches(q8, c.act + t * ab, ax + t * abx, n)) {
                    ok = 0;
                    printf("# %s_x4 n %d token %d: activation row differs from Q8_0's\n", ggml_type_name(base), n, t);
                }
        }
        kernels_matmul(fast, type, wp, n, r0, r1, ax, n_tok, o1, os);
        kernels_matmul(fast, base, c.w, n, r0, r1, c.act, n_tok, o2, os);
        ok = ok && x4_outputs_match(name, base, &c, n, r0, r1, n_tok, ab, o1, o2, os, false, d2, &worst);
        if (ax != c.act) free(ax);
        mm_case_free(&c);
        free(copy);
        free(d1);
        free(d2);
        free(o1);
        free(o2);
    }
    char label[200];
    snprintf(label, sizeof label,
             "%s matmul %s_x4: repacked where it should be, same floats, one token bit-equal to simd128-fast, "
             "1 to 20 tokens within 1e-5 (worst %.1e; %d cases, %d packed)",
             name, ggml_type_name(base), worst, cases, packed_cases);
    CHECK(label, ok, "see above");
}

/* The relaxed build's K-quant X4 products (kernels_pack_weight, then
 * quant_k_x4_simd128_relaxed.c), for Q4_K and Q6_K (base): every matrix is
 * repacked (its copy's row size what the layout says), dequantizes to the
 * same floats, its activation rows are the Q8_K row's blocks with each 128
 * codes in the X4 order (same d and sums), and 1 to 20 tokens multiply to
 * within 1e-5 of the terms' magnitude of the unpacked layout's relaxed
 * kernel (the same exact integer sums per super-block, spread over the 4
 * f32 lanes differently); nothing written outside [r0, r1). */
static void test_matmul_k_x4(const char *name, const hearth_kernels *fast, uint32_t base) {
    static const int ns[] = {256, 512, 2048, 8192, 2816, 768};
    const bool q4 = base == GGML_TYPE_Q4_K;
    const uint32_t x4type = q4 ? KERNELS_TYPE_Q4_K_X4 : KERNELS_TYPE_Q6_K_X4;
    const size_t sbytes = q4 ? KERNELS_Q4_K_X4_BYTES : KERNELS_Q6_K_X4_BYTES;
    int ok = 1, cases = 0;
    double worst = 0;
    for (int rep = 0; rep < 24 && ok; rep++, cases++) {
        const int n = ns[rep % (int)(sizeof ns / sizeof ns[0])], rows = 1 + (int)(rnd() % 24);
        int r0 = (int)(rnd() % (unsigned)rows), r1 = r0 + 1 + (int)(rnd() % (unsigned)(rows - r0));
        if (rep < 6) { r0 = 0; r1 = rows; }
        const int n_tok = rep % 3 == 2 ? 2 + (int)(rnd() % 19) : 1;
        mm_case c = mm_case_make(fast, base, n, rows, n_tok);
        for (size_t off = 0; off < c.rb * (size_t)rows; off += ggml_block_bytes(base)) {
            /* finite d (and Q4_K's dmin): wasm's NaN bits are not defined */
            const uint16_t d = ggml_fp32_to_fp16(0.02f * rndf()), m = ggml_fp32_to_fp16(0.01f * rndf());
            memcpy(c.w + off + (q4 ? 0 : offsetof(block_q6_K, d)), &d, 2);
            if (q4) memcpy(c.w + off + 2, &m, 2);
        }
        uint32_t type = base;
        void *copy = NULL;
        uint64_t prb = c.rb;
        if (!kernels_pack_weight(fast, &type, c.w, rows, n, &copy, &prb) || type != x4type ||
            prb != (uint64_t)(n / QK_K) * sbytes) {
            printf("# n %d: not repacked as %s_x4 (type %u, row bytes %llu)\n", n, ggml_type_name(base), type,
                   (unsigned long long)prb);
            mm_case_free(&c);
            free(copy);
            ok = 0;
            break;
        }
        const unsigned char *wp = copy;
        float *d1 = malloc((size_t)n * sizeof *d1), *d2 = malloc((size_t)n * sizeof *d2);
        for (int r = 0; r < rows && ok; r++) {
            kernels_dequantize_row(type, wp + (size_t)r * prb, d1, n);
            kernels_dequantize_row(base, c.w + (size_t)r * c.rb, d2, n);
            if (memcmp(d1, d2, (size_t)n * sizeof *d1)) { ok = 0; printf("# n %d row %d: dequantized X4 differs\n", n, r); }
        }
        const size_t ab = kernels_act_row_bytes(base, n);
        unsigned char *ax = malloc(ab * (size_t)n_tok);
        for (int t = 0; t < n_tok; t++) kernels_quantize_act(fast, type, c.x + (size_t)t * n, ax + t * ab, n);
        for (int t = 0; t < n_tok && ok; t++)
            for (int b = 0; b < n / QK_K && ok; b++) {
                const block_q8_K *y = (const block_q8_K *)(c.act + t * ab) + b, *yx = (const block_q8_K *)(ax + t * ab) + b;
                bool same = y->d == yx->d && !memcmp(y->bsums, yx->bsums, sizeof y->bsums);
                for (int e = 0; e < QK_K; e++) /* element e: half e / 128, vector (e % 32) / 4, byte 4 ((e % 128) / 32) + e % 4 */
                    same &= y->qs[e] == yx->qs[128 * (e / 128) + 16 * ((e % 32) / 4) + 4 * ((e % 128) / 32) + e % 4];
                if (!same) { ok = 0; printf("# %s_x4 n %d token %d block %d: activation differs from Q8_K's\n", ggml_type_name(base), n, t, b); }
            }
        const size_t os = (size_t)rows + rnd() % 3, on = os * (size_t)n_tok;
        float *o1 = malloc(on * sizeof *o1), *o2 = malloc(on * sizeof *o2);
        for (size_t i = 0; i < on; i++) o1[i] = o2[i] = -12345.0f;
        kernels_matmul(fast, type, wp, n, r0, r1, ax, n_tok, o1, os);
        kernels_matmul(fast, base, c.w, n, r0, r1, c.act, n_tok, o2, os);
        ok = ok && x4_outputs_match(name, base, &c, n, r0, r1, n_tok, ab, o1, o2, os, true, d2, &worst);
        mm_case_free(&c);
        free(copy);
        free(ax);
        free(d1);
        free(d2);
        free(o1);
        free(o2);
    }
    char label[200];
    snprintf(label, sizeof label,
             "%s matmul %s_x4: repacked, same floats, activation in X4 order, 1 to 20 tokens within 1e-5 of the "
             "unpacked kernel (worst %.1e; %d cases)",
             name, ggml_type_name(base), worst, cases);
    CHECK(label, ok, "see above");
}

/* The fast numerics' attention (wasm: attention_simd128_fast.c), one head
 * and a KV head's group of query heads, against the exact row head by head
 * on random f16 caches: the same f16-accumulator steps, so outputs stay
 * within two f16 roundings of the exact row's (1e-3 of the largest |v|,
 * where an f32 accumulator or one missed rescale would be further off on
 * long rows); head sizes that are not a multiple of 4 take the exact row,
 * bit for bit. */
static void test_attention_fast(void) {
    const attention_row_fn fast = attention_row_simd128_fast(), exact = attention_row_select(true, false);
    const attention_group_fn group = attention_group_select(true, true);
    if (!fast || !group) {
        printf("# no fast attention on this platform\n");
        return;
    }
    CHECK("attention_row_select picks the fast row for the fast numerics", attention_row_select(true, true) == fast, "no");
    static const int hds[] = {16, 64, 96, 128, 6, 80}, reps[] = {1, 2, 7, 4};
    int ok = 1, cases = 0;
    double worst = 0;
    for (int rep = 0; rep < 36 && ok; rep++, cases++) {
        const int hd = hds[rep % 6], n_rep = reps[rep % 4], n_pos = 1 + (int)(rnd() % 300), stride = hd + (int)(rnd() % 3) * 2;
        const float spread = 0.5f + 3.0f * (rndf() + 1.0f); /* sharper or flatter softmax */
        uint16_t *K = malloc((size_t)n_pos * stride * 2), *V = malloc((size_t)n_pos * stride * 2), acc[512];
        float *q = malloc((size_t)n_rep * hd * sizeof *q), *o1 = malloc((size_t)n_rep * hd * sizeof *o1),
              *o2 = malloc((size_t)n_rep * hd * sizeof *o2), *o3 = malloc((size_t)hd * sizeof *o3), vmax = 0;
        for (int i = 0; i < n_pos * stride; i++) {
            K[i] = ggml_fp32_to_fp16(rndf() * spread);
            V[i] = ggml_fp32_to_fp16(rndf());
            if (fabsf(ggml_fp16_to_fp32(V[i])) > vmax) vmax = fabsf(ggml_fp16_to_fp32(V[i]));
        }
        for (int i = 0; i < n_rep * hd; i++) q[i] = rndf() * spread;
        const float scale = 1.0f / sqrtf((float)hd);
        for (int r = 0; r < n_rep; r++) exact(q + r * hd, K, V, n_pos, hd, stride, scale, acc, o1 + r * hd);
        group(q, n_rep, K, V, n_pos, hd, stride, scale, o2);
        fast(q, K, V, n_pos, hd, stride, scale, acc, o3);
        if (memcmp(o3, o2, (size_t)hd * sizeof *o3)) {
            ok = 0;
            printf("# attention hd %d: the one-head row differs from the group's first head\n", hd);
        }
        for (int i = 0; i < n_rep * hd && ok; i++) {
            const double err = fabs((double)o1[i] - o2[i]) / vmax;
            if (err > worst) worst = err;
            if (hd % 4 ? memcmp(&o1[i], &o2[i], 4) != 0 : !(err <= 1e-3)) {
                ok = 0;
                printf("# attention hd %d n_rep %d n_pos %d i %d: fast %a exact %a\n", hd, n_rep, n_pos, i, o2[i], o1[i]);
            }
        }
        free(K);
        free(V);
        free(q);
        free(o1);
        free(o2);
        free(o3);
    }
    char label[160];
    snprintf(label, sizeof label, "fast attention (one head, groups of 2-7) within 1e-3 of max|v| of the exact row (worst %.1e; %d cases)",
             worst, cases);
    CHECK(label, ok, "see above");
}

/* Every test of a SIMD level against the scalar reference but the large
 * shapes, which main runs once for all levels (one scalar run each). */
static void test_level(const char *name, const hearth_kernels *k, const hearth_kernels *ref) {
    test_quant_simd(name, k, ref);
    test_matmul(name, k, ref, 0);
    test_pinned(name, k);
    test_k_kernels(name, k, ref);
    test_pinned_lowbit(name, k);
    test_matmul_lowbit(name, k, ref);
}

int main(void) {
    test_types();
    test_type_table();
    test_fp16();
    test_bf16();
    test_dequant();
    test_k_dequant();
    test_dequant_lowbit();

    hearth_kernels ref, best;
    kernels_init(&ref, false);
    kernels_init(&best, true);
    printf("# kernels: %s\n", kernels_name(&best));
    CHECK("scalar name", strcmp(kernels_name(&ref), "scalar") == 0, "%s", kernels_name(&ref));
    CHECK("act types", kernels_act_type(GGML_TYPE_Q4_0) == GGML_TYPE_Q8_0 &&
                           kernels_act_type(GGML_TYPE_Q5_1) == GGML_TYPE_Q8_1 &&
                           kernels_act_type(GGML_TYPE_BF16) == GGML_TYPE_BF16 &&
                           kernels_act_type(GGML_TYPE_Q4_K) == GGML_TYPE_Q8_K &&
                           kernels_act_row_bytes(GGML_TYPE_Q6_K, 512) == 2 * 292 &&
                           kernels_act_row_bytes(GGML_TYPE_Q5_K, 384) == 0 &&
                           kernels_act_type(KERNELS_TYPE_Q4_0_X4) == GGML_TYPE_Q8_0 &&
                           kernels_act_row_bytes(KERNELS_TYPE_Q4_0_X4, 256) == 256 + 64 &&
                           KERNELS_X4_GROUP_BYTES == 76 && KERNELS_X4_Q8_GROUP_BYTES == 140 &&
                           kernels_act_type(KERNELS_TYPE_Q8_0_X4) == GGML_TYPE_Q8_0 &&
                           kernels_act_row_bytes(KERNELS_TYPE_Q8_0_X4, 256) == 512 + 32 &&
                           kernels_act_row_bytes(KERNELS_TYPE_Q8_0_X4, 160) == 0,
          "bad");
    /* Q8_0 rows: blocks, 8-aligned, 8-byte aux per block, and for Q5_0 /
     * Q8_0 weights 8 int32 group biases per block. */
    CHECK("act row bytes", kernels_act_row_bytes(GGML_TYPE_Q4_1, 64) == 72 + 16 &&
                               kernels_act_row_bytes(GGML_TYPE_Q4_0, 32) == 40 + 8 &&
                               kernels_act_row_bytes(GGML_TYPE_Q8_0, 32) == 40 + 8 + 32 &&
                               kernels_act_row_bytes(GGML_TYPE_Q5_0, 64) == 72 + 16 + 64 &&
                               kernels_act_row_bytes(GGML_TYPE_Q4_1, 96) == 112 + 24 &&
                               kernels_act_row_bytes(GGML_TYPE_Q8_0, 33) == 0 &&
                               kernels_act_row_bytes(GGML_TYPE_F16, 10) == 40 &&
                               kernels_act_row_bytes(GGML_TYPE_BF16, 70) == 280,
          "q8_0/32 %zu q5_0/64 %zu", kernels_act_row_bytes(GGML_TYPE_Q8_0, 32),
          kernels_act_row_bytes(GGML_TYPE_Q5_0, 64));

    test_quant_known(&ref);
    test_quant_known(&best);
    test_matmul("scalar", &ref, &ref, 1);
    test_pinned("scalar", &ref);
    test_k_kernels("scalar", &ref, &ref);
    test_pinned_lowbit("scalar", &ref);
    test_matmul_lowbit("scalar", &ref, &ref);

    /* Every SIMD level this CPU can run, not only the best one. */
    hearth_kernels levels[4];
    const hearth_kernels *lk[4];
    const char *ln[4];
    int nl = 0;
    if (kernels_cpu_features() & KERNELS_CPU_AVX2) {
        kernels_scalar_fill(&levels[nl]);
        if (kernels_avx2_fill(&levels[nl])) ln[nl] = "avx2", lk[nl] = &levels[nl], nl++;
        else printf("# avx2 kernels not compiled in (quant_avx2.c needs -mavx2 -mfma -mf16c)\n");
    }
    /* ARM64: the levels below the best one too (plain NEON under SDOT's, SDOT's under i8mm's). */
    if (kernels_cpu_features() & KERNELS_CPU_DOTPROD) {
        kernels_scalar_fill(&levels[nl]);
        if (kernels_neon_fill(&levels[nl])) ln[nl] = "neon", lk[nl] = &levels[nl], nl++;
        else printf("# neon kernels not compiled in (quant_neon.c needs an aarch64 compiler)\n");
        kernels_scalar_fill(&levels[nl]);
        if ((kernels_cpu_features() & KERNELS_CPU_I8MM) && kernels_neon_dotprod_fill(&levels[nl]))
            ln[nl] = "neon-dotprod", lk[nl] = &levels[nl], nl++;
    }
    if (strcmp(kernels_name(&best), "scalar") && strcmp(kernels_name(&best), "avx2"))
        ln[nl] = kernels_name(&best), lk[nl] = &best, nl++;
    for (int l = 0; l < nl; l++) test_level(ln[l], lk[l], &ref);
    test_matmul_big(nl, ln, lk, &ref);
    if (strcmp(kernels_name(&best), "scalar") && strcmp(kernels_name(&best), "avx2"))
        test_matmul_long_kq(kernels_name(&best), &best, &ref);
    hearth_kernels fast;
    kernels_init(&fast, true);
    if (kernels_prefer_speed(&fast)) {
        const bool relaxed = fast.matmul[KW_Q4_0_X4] != NULL;
        CHECK("fast kernels name", strcmp(kernels_name(&fast), relaxed ? "simd128-relaxed" : "simd128-fast") == 0, "%s",
              kernels_name(&fast));
        test_matmul_fast(kernels_name(&fast), &fast, &ref);
        test_matmul_fast_kq(kernels_name(&fast), &fast, &best);
        if (relaxed) {
            test_matmul_x4(kernels_name(&fast), &fast, GGML_TYPE_Q4_0);
            test_matmul_x4(kernels_name(&fast), &fast, GGML_TYPE_Q8_0);
            test_matmul_k_x4(kernels_name(&fast), &fast, GGML_TYPE_Q4_K);
            test_matmul_k_x4(kernels_name(&fast), &fast, GGML_TYPE_Q6_K);
        }
        else printf("# no relaxed-SIMD kernels in this build\n");
        test_attention_fast();
    } else {
        printf("# no faster inexact kernels on this platform (kernels_prefer_speed)\n");
    }
    CHECK_DONE();
}
