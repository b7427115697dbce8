/* test_kernels.c's checks of the Q4_K, Q5_K and Q6_K kernels (included
 * there after its helpers: rnd, rndf, fbits, fill_act, CHECK): dequantization
 * of hand-made blocks, every SIMD level bit-exact with the scalar reference
 * (which the double-precision check ties to the math), and outputs pinned to
 * llama.cpp's zen4 build (tools/ggml_pin.c, pin_inputs.h's pin_k_inputs). */
#include "cpu/quant_k.h"

static const uint32_t k_types[] = {GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
#define N_K_TYPES (sizeof k_types / sizeof k_types[0])

/* A Q4_K / Q5_K head: d = 1, dmin = 0.5, and scale bytes whose 6-bit
 * scales and mins, worked out by hand from ggml's get_scale_min_k4, are
 * k_head_sc and k_head_m. */
static const uint8_t k_head_scales[12] = {1 | 1 << 6, 2, 3 | 3 << 6, 4, 5, 6 | 2 << 6, 7, 8, 0x9a, 0x0b, 0xc1, 0x2d};
static const int k_head_sc[8] = {1, 2, 3, 4, 26, 11, 49, 13}, k_head_m[8] = {5, 6, 7, 8, 9, 32, 12, 2};

static void test_k_dequant(void) {
    float got[QK_K], want[QK_K];
    { /* q4_K: element 32j + l = sc_j * nibble - 0.5 m_j, all exact */
        block_q4_K b;
        b.d = 0x3c00;
        b.dmin = 0x3800;
        memcpy(b.scales, k_head_scales, 12);
        for (int i = 0; i < 128; i++) b.qs[i] = (uint8_t)(((i * 7 + 3) & 15) | ((i * 5 + 1) & 15) << 4);
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 32; l++) {
                const int q = j % 2 ? (32 * (j / 2) + l) * 5 + 1 : (32 * (j / 2) + l) * 7 + 3;
                want[32 * j + l] = (float)(k_head_sc[j] * (q & 15)) - 0.5f * (float)k_head_m[j];
            }
        kernels_dequantize_row(GGML_TYPE_Q4_K, &b, got, QK_K);
        CHECK("dequant q4_K", !memcmp(got, want, sizeof got), "mismatch");
    }
    { /* q5_K: the same with bit j of qh[l] adding 16 */
        block_q5_K b;
        b.d = 0x3c00;
        b.dmin = 0x3800;
        memcpy(b.scales, k_head_scales, 12);
        for (int i = 0; i < 128; i++) b.qs[i] = (uint8_t)(((i * 7 + 3) & 15) | ((i * 5 + 1) & 15) << 4);
        for (int l = 0; l < 32; l++) b.qh[l] = (uint8_t)(l * 37 + 11);
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 32; l++) {
                const int q = (j % 2 ? (32 * (j / 2) + l) * 5 + 1 : (32 * (j / 2) + l) * 7 + 3) & 15;
                const int h = ((l * 37 + 11) & 0xff) >> j & 1;
                want[32 * j + l] = (float)(k_head_sc[j] * (q + 16 * h)) - 0.5f * (float)k_head_m[j];
            }
        kernels_dequantize_row(GGML_TYPE_Q5_K, &b, got, QK_K);
        CHECK("dequant q5_K", !memcmp(got, want, sizeof got), "mismatch");
    }
    { /* q6_K: d = 0.25, signed scales s - 8 per 16, codes - 32 */
        block_q6_K b;
        b.d = 0x3400;
        for (int i = 0; i < 128; i++) b.ql[i] = (uint8_t)(i * 13 + 5);
        for (int i = 0; i < 64; i++) b.qh[i] = (uint8_t)(i * 29 + 7);
        for (int s = 0; s < 16; s++) b.scales[s] = (int8_t)(s - 8);
        /* element 128h + 32c + l: ql[64h + l (+32 for c odd)] low (c < 2) or high nibble, qh[32h + l] bits 2c, 2c+1 */
        for (int h = 0; h < 2; h++)
            for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l++) {
                    const int lo = ((64 * h + l + (c % 2) * 32) * 13 + 5) & 0xff, hi = ((32 * h + l) * 29 + 7) & 0xff;
                    const int q = ((c < 2 ? lo & 15 : lo >> 4) | ((hi >> (2 * c)) & 3) << 4) - 32;
                    const int e = 128 * h + 32 * c + l;
                    want[e] = 0.25f * (float)(e / 16 - 8) * (float)q;
                }
        kernels_dequantize_row(GGML_TYPE_Q6_K, &b, got, QK_K);
        CHECK("dequant q6_K", !memcmp(got, want, sizeof got), "mismatch");
    }
}

/* Random blocks with sane fp16 d (and dmin); codes and scales random bytes. */
static void k_fill_weights(uint32_t type, unsigned char *w, size_t total) {
    const size_t bs = ggml_block_bytes(type);
    for (size_t i = 0; i < total; i++) w[i] = (unsigned char)rnd();
    for (size_t off = 0; off < total; off += bs) {
        const uint16_t d = ggml_fp32_to_fp16(0.001f + 0.02f * (rndf() + 1.0f)),
                       m = ggml_fp32_to_fp16(0.001f + 0.01f * (rndf() + 1.0f));
        memcpy(w + off + (type == GGML_TYPE_Q6_K ? KQ6_D : 0), &d, 2);
        if (type != GGML_TYPE_Q6_K) memcpy(w + off + 2, &m, 2);
    }
}

/* The product of one row and one activation row in double, and the size of
 * its float rounding: the sum of the magnitudes of the terms ggml adds (for
 * Q4_K / Q5_K the scaled codes and the mins apart). */
static double k_dot_double(uint32_t type, const unsigned char *wrow, const block_q8_K *y, int n, double *mag) {
    const size_t bs = ggml_block_bytes(type);
    float wf[QK_K];
    double dot = 0;
    *mag = 0;
    for (int b = 0; b < n / QK_K; b++) {
        const unsigned char *blk = wrow + (size_t)b * bs;
        kernels_dequantize_row(type, blk, wf, QK_K);
        uint8_t sc[8], m[8];
        float dmin = 0;
        if (type != GGML_TYPE_Q6_K) {
            uint16_t h;
            memcpy(&h, blk + 2, 2);
            dmin = ggml_fp16_to_fp32(h);
            kq_scales_mins(blk + 4, sc, m);
        }
        for (int e = 0; e < QK_K; e++) {
            const double a = (double)y[b].qs[e] * y[b].d, mt = (double)dmin * (type != GGML_TYPE_Q6_K ? m[e / 32] : 0);
            dot += (double)wf[e] * a;
            *mag += (fabs((double)wf[e]) + 2 * mt) * fabs(a);
        }
    }
    return dot;
}

/* n_tok products of rows [r0, r1) by k and by ref into fresh buffers
 * (stride os, every other entry -12345); whether they are bit-equal and
 * nothing outside the rows was written. */
static int k_compare(const char *name, uint32_t type, const hearth_kernels *k, const hearth_kernels *ref, int n, int rows,
                     int r0, int r1, int n_tok, size_t os, int vs_double, double *worst) {
    const size_t rb = ggml_block_bytes(type) * (size_t)(n / QK_K), ab = kernels_act_row_bytes(type, n);
    unsigned char *w = malloc(rb * (size_t)rows), *act = malloc(ab * (size_t)n_tok);
    float *x = malloc((size_t)n * sizeof *x);
    k_fill_weights(type, w, rb * (size_t)rows);
    for (int t = 0; t < n_tok; t++) {
        fill_act(x, n);
        kernels_quantize_act(ref, type, x, act + (size_t)t * ab, n);
    }
    const size_t on = os * (size_t)n_tok;
    float *o1 = malloc(on * sizeof *o1), *o2 = malloc(on * sizeof *o2);
    for (size_t i = 0; i < on; i++) o1[i] = o2[i] = -12345.0f;
    kernels_matmul(k, type, w, n, r0, r1, act, n_tok, o1, os);
    kernels_matmul(ref, type, w, n, r0, r1, act, n_tok, o2, os);
    int ok = 1;
    for (size_t i = 0; i < on && ok; i++) {
        const size_t t = i / os, r = i % os;
        if (fbits(o1[i]) != fbits(o2[i])) {
            ok = 0;
            printf("# %s %s n %d rows [%d,%d) n_tok %d: first difference t %zu r %zu: %a vs scalar %a\n", name,
                   ggml_type_name(type), n, r0, r1, n_tok, t, r, o1[i], o2[i]);
        } else if (((int)r < r0 || (int)r >= r1) && o2[i] != -12345.0f) {
            ok = 0;
            printf("# %s %s: wrote outside rows (t %zu r %zu)\n", name, ggml_type_name(type), t, r);
        }
    }
    for (int t = 0; t < n_tok && ok && vs_double; t++)
        for (int r = r0; r < r1 && ok; r++) {
            double mag;
            const double exact = k_dot_double(type, w + (size_t)r * rb, (const block_q8_K *)(act + (size_t)t * ab), n, &mag);
            const double err = fabs((double)o2[(size_t)t * os + (size_t)r] - exact);
            if (mag > 0 && err / mag > *worst) *worst = err / mag;
            if (err > 4e-6 * mag + 1e-30) { /* some 30 ulps of the terms' magnitude */
                ok = 0;
                printf("# %s n %d tok %d row %d: scalar %.9g double %.9g (magnitude %.3g)\n", ggml_type_name(type), n, t,
                       r, o2[(size_t)t * os + (size_t)r], exact, mag);
            }
        }
    free(w);
    free(act);
    free(x);
    free(o1);
    free(o2);
    return ok;
}

/* Random shapes: rows split anywhere, 1..20 tokens (every gemm/gemv split of
 * Q4_K's n_tok % 4, and the decode and prefill paths), then longer runs and
 * shapes past the kernels' row blocks and token chunks. */
static void test_k_matmul(const char *name, const hearth_kernels *k, const hearth_kernels *ref, int vs_double) {
    static const int ns[] = {256, 512, 768, 1024, 2048};
    static const struct { int n, rows, r0, r1, n_tok; } big[] = {
        {4864, 150, 0, 150, 70}, {4864, 150, 7, 141, 42}, {1280, 200, 3, 197, 67}, {256, 130, 0, 130, 129},
    };
    for (size_t ti = 0; ti < N_K_TYPES; ti++) {
        const uint32_t type = k_types[ti];
        int ok = 1;
        double worst = 0;
        for (int rep = 0; rep < 30 && ok; rep++) {
            const int n = ns[rnd() % (sizeof ns / sizeof ns[0])], rows = 1 + (int)(rnd() % 40);
            int r0 = (int)(rnd() % (unsigned)rows), r1 = r0 + 1 + (int)(rnd() % (unsigned)(rows - r0));
            if (rep < 3) r0 = 0, r1 = rows;
            const int n_tok = rep < 20 ? rep + 1 : 1 + (int)(rnd() % 45);
            ok = k_compare(name, type, k, ref, n, rows, r0, r1, n_tok, (size_t)rows + rnd() % 3, vs_double, &worst);
        }
        for (size_t si = 0; si < sizeof big / sizeof big[0] && ok && k != ref; si++)
            ok = k_compare(name, type, k, ref, big[si].n, big[si].rows, big[si].r0, big[si].r1, big[si].n_tok,
                           (size_t)big[si].rows, 0, &worst);
        char label[200];
        if (k != ref)
            snprintf(label, sizeof label, "%s matmul %s bit-exact with scalar (1-20 tokens and larger shapes)", name,
                     ggml_type_name(type));
        else
            snprintf(label, sizeof label, "scalar matmul %s writes only rows [r0, r1), within 4e-6 of double (worst %.1e)",
                     ggml_type_name(type), worst);
        CHECK(label, ok, "see above");
    }
}

/* Expected bits from ggml_mul_mat of llama.cpp's zen4 CPU backend, pinned
 * like test_pinned's (Q4_K in the CPU_REPACK buffer; shapes and why in
 * pin_inputs.h's pin_k_shapes), printed by tools/ggml_pin.c. */
static const struct pin_case pins_k[] = { /* the first case's K and N make test_k_dequant_pinned's weights */
        {12, 256, 1, 0x01136d05u, {0x4294c7dfu, 0xc192d618u, 0x41874f05u}}, /* q4_K, CPU_REPACK */
        {12, 512, 7, 0xb160893fu, {0xc2079e3eu, 0xc2bcc659u, 0xc1ad21ddu}}, /* q4_K, CPU_REPACK */
        {12, 768, 20, 0xbec230deu, {0xc0490bb0u, 0x42c253e3u, 0x42487a34u}}, /* q4_K, CPU_REPACK */
        {12, 1024, 2, 0x8488b30fu, {0xc2613e91u, 0xc2f0aad1u, 0x40a574e8u}}, /* q4_K, CPU_REPACK */
        {12, 512, 4, 0x46def635u, {0x402d86b6u, 0xc25669a1u, 0xc28d6cc7u}}, /* q4_K, CPU_REPACK */
        {13, 256, 1, 0xdac45e23u, {0xc3371998u, 0x42887fddu, 0xc330fe99u}}, /* q5_K */
        {13, 512, 7, 0xa3c742f2u, {0x42ed8301u, 0xc2b98fbdu, 0x429ad15cu}}, /* q5_K */
        {13, 768, 20, 0x70b6bc41u, {0x41933735u, 0xc25914f4u, 0xc272a847u}}, /* q5_K */
        {13, 1024, 2, 0x81f33d06u, {0x4395320eu, 0xc0d2b374u, 0xc242cfeau}}, /* q5_K */
        {13, 512, 4, 0x2ab44a2bu, {0xc331b9deu, 0xc080da64u, 0x430913afu}}, /* q5_K */
        {14, 256, 1, 0x740ea0dbu, {0xc22ab5e8u, 0x3f482600u, 0x42b226f3u}}, /* q6_K */
        {14, 512, 7, 0x0f971f4fu, {0x420df030u, 0xc3a6a30au, 0xc2fa00d9u}}, /* q6_K */
        {14, 768, 20, 0x42915cebu, {0xc23261cau, 0xbe2b3800u, 0x4181eb00u}}, /* q6_K */
        {14, 1024, 2, 0x1316f148u, {0xc3c8a851u, 0xc3e16638u, 0x44007db0u}}, /* q6_K */
        {14, 512, 4, 0x9128b1feu, {0x43670990u, 0x43c9ab2cu, 0x43b96448u}}, /* q6_K */
};

/* ggml's dequantize_row_* (to_float, what get_rows of token embeddings
 * runs) of the first case's weights, hashed as the outputs (tools/ggml_pin.c
 * too). */
static const struct {
    uint32_t type, hash;
} pins_k_dequant[] = {{12, 0xa2f1d2d7u}, {13, 0xa3be85e9u}, {14, 0x272ea60fu}};

static void test_k_dequant_pinned(void) {
    for (size_t i = 0; i < sizeof pins_k_dequant / sizeof pins_k_dequant[0]; i++) {
        const uint32_t type = pins_k_dequant[i].type;
        const int k = pins_k[0].k, n_tok = pins_k[0].n_tok;
        const size_t rb = pin_k_row_bytes(type, k);
        unsigned char *w = malloc(rb * PIN_K_M);
        float *x = malloc((size_t)k * (size_t)n_tok * sizeof *x), *d = malloc((size_t)k * PIN_K_M * sizeof *d);
        pin_k_inputs(type, k, n_tok, w, x);
        for (int r = 0; r < PIN_K_M; r++)
            kernels_dequantize_row(type, w + rb * (size_t)r, d + (size_t)k * r, k);
        const uint32_t h = pin_hash(d, k * PIN_K_M);
        char label[120];
        snprintf(label, sizeof label, "dequant %s matches ggml's dequantize_row bits", ggml_type_name(type));
        CHECK(label, h == pins_k_dequant[i].hash, "hash %08x, want %08x", h, pins_k_dequant[i].hash);
        free(w);
        free(x);
        free(d);
    }
}

static void test_k_pinned(const char *name, const hearth_kernels *k) {
    const int same = sizeof pins_k / sizeof pins_k[0] == sizeof pin_k_shapes / sizeof pin_k_shapes[0];
    for (size_t ti = 0; ti < N_K_TYPES; ti++) {
        const uint32_t type = k_types[ti];
        int ok = same, cases = 0;
        for (size_t pi = 0; pi < sizeof pins_k / sizeof pins_k[0] && same; pi++) {
            const struct pin_case *p = &pins_k[pi];
            if (p->type != type) continue;
            cases++;
            ok &= pin_check(name, k, p, &pin_k_shapes[pi], PIN_K_M, pin_k_row_bytes(type, p->k), pin_k_inputs,
                            3 + (int)(pi % 5) * 6); /* 3, 9, ..., 27 */
        }
        char label[160];
        snprintf(label, sizeof label, "%s matmul %s matches llama.cpp bits (%d cases, 1 and more tokens)", name,
                 ggml_type_name(type), cases);
        CHECK(label, ok && cases >= 3, "see above");
    }
}

/* Every K check for one kernel set (ref: the scalar reference). */
static void test_k_kernels(const char *name, const hearth_kernels *k, const hearth_kernels *ref) {
    if (k == ref) test_k_dequant_pinned();
    test_k_matmul(name, k, ref, k == ref);
    test_k_pinned(name, k);
}
