/* The fast numerics' K-quant and IQ4 products (wasm: quant_k_simd128_fast.c,
 * quant_iq4nl_simd128.c) against the exact kernels. Included by
 * test_kernels.c after its helpers (fill_weights_lowbit, k_fill_weights,
 * make_act, deq_act, deq_act_q8_K). */

/* The magnitude of one output's float terms: sum |w_e a_e| of the scaled
 * codes, plus for Q2_K, Q4_K and Q5_K that of the mins' terms, which the
 * kernels add apart (a row block copied with dmin = 0, then with d = 0). */
static double kf_magnitude(uint32_t type, const unsigned char *wrow, const double *a, int n) {
    const size_t bs = ggml_block_bytes(type);
    const bool mins = type == GGML_TYPE_Q2_K || type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K;
    const size_t d_off = type == GGML_TYPE_Q2_K ? offsetof(block_q2_K, d) : 0, m_off = d_off + 2;
    const int per = (int)(n % QK_K == 0 ? QK_K : 32);
    unsigned char blk[256];
    float wf[QK_K];
    double mag = 0;
    for (int b = 0; b < n / per; b++) {
        for (int part = 0; part < (mins ? 2 : 1); part++) {
            memcpy(blk, wrow + (size_t)b * bs, bs);
            if (mins) memset(blk + (part ? d_off : m_off), 0, 2);
            kernels_dequantize_row(type, blk, wf, per);
            for (int e = 0; e < per; e++) mag += fabs((double)wf[e] * a[b * per + e]);
        }
    }
    return mag;
}

/* Each output within 1e-5 of its terms' magnitude from the exact kernel's,
 * over rows split anywhere, 1..20 tokens (every tile remainder) and rows of
 * up to 81 super-blocks (past the widened-activation buffer); nothing
 * written outside [r0, r1). */
static void test_matmul_fast_kq(const char *name, const hearth_kernels *fast, const hearth_kernels *exact) {
    static const uint32_t types[] = {GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K,
                                     GGML_TYPE_Q6_K, GGML_TYPE_IQ4_XS, GGML_TYPE_IQ4_NL};
    static const int ns[] = {256, 512, 1280, 2304, 4864, 20736};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const uint32_t type = types[ti];
        int ok = 1, cases = 0;
        double worst = 0;
        for (int rep = 0; rep < 26 && ok; rep++, cases++) {
            const int n = type == GGML_TYPE_IQ4_NL && rep % 4 == 3 ? 32 * (1 + rep) : ns[rep % 6];
            const int rows = n > 5000 ? 1 + (int)(rnd() % 5) : 1 + (int)(rnd() % 24);
            int r0 = (int)(rnd() % (unsigned)rows), r1 = r0 + 1 + (int)(rnd() % (unsigned)(rows - r0));
            if (rep < 8) r0 = 0, r1 = rows;
            const int n_tok = n > 5000 ? 1 + rep % 6 : rep < 20 ? rep + 1 : 1 + (int)(rnd() % 20);
            uint64_t rb = 0;
            ggml_row_bytes(type, (uint64_t)n, &rb);
            unsigned char *w = malloc((size_t)rb * (size_t)rows);
            if (type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K || type == GGML_TYPE_Q6_K)
                k_fill_weights(type, w, (size_t)rb * (size_t)rows);
            else
                fill_weights_lowbit(type, w, rows, n);
            float *x = malloc((size_t)n * (size_t)n_tok * sizeof *x);
            unsigned char *act = make_act(exact, type, n, n_tok, x);
            const size_t ab = kernels_act_row_bytes(type, n), os = (size_t)rows + rnd() % 3, on = os * (size_t)n_tok;
            float *o1 = malloc(on * sizeof *o1), *o2 = malloc(on * sizeof *o2);
            double *a = malloc((size_t)n * sizeof *a);
            for (size_t i = 0; i < on; i++) o1[i] = o2[i] = -12345.0f;
            kernels_matmul(fast, type, w, n, r0, r1, act, n_tok, o1, os);
            kernels_matmul(exact, type, w, n, r0, r1, act, n_tok, o2, os);
            for (int t = 0; t < n_tok && ok; t++) {
                if (type == GGML_TYPE_IQ4_NL) deq_act(type, act + (size_t)t * ab, x + (size_t)t * n, n, a);
                else deq_act_q8_K(act + (size_t)t * ab, n, a);
                for (size_t r = 0; r < os && ok; r++) {
                    const float got = o1[(size_t)t * os + r], want = o2[(size_t)t * os + r];
                    if ((int)r < r0 || (int)r >= r1) {
                        if (got != -12345.0f) {
                            ok = 0;
                            printf("# %s %s: wrote outside rows (t %d r %zu)\n", name, ggml_type_name(type), t, r);
                        }
                        continue;
                    }
                    const double mag = kf_magnitude(type, w + r * rb, a, n);
                    const double err = fabs((double)got - want) / (mag > 0 ? mag : 1);
                    if (err > worst) worst = err;
                    if (!(err <= 1e-5)) {
                        ok = 0;
                        printf("# %s %s n %d n_tok %d t %d row %zu: %a vs exact %a (error %.2g of the terms' magnitude)\n",
                               name, ggml_type_name(type), n, n_tok, t, r, got, want, err);
                    }
                }
            }
            free(w);
            free(x);
            free(act);
            free(o1);
            free(o2);
            free(a);
        }
        char label[200];
        snprintf(label, sizeof label, "%s matmul %s: within 1e-5 of exact, 1 to 20 tokens (worst %.1e; %d cases)", name,
                 ggml_type_name(type), worst, cases);
        CHECK(label, ok, "see above");
    }
}

/* Rows longer than the SIMD kernels' widened-activation buffers (81
 * super-blocks): still bit-exact with the scalar reference. */
static void test_matmul_long_kq(const char *name, const hearth_kernels *k, const hearth_kernels *ref) {
    static const uint32_t types[] = {GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_IQ4_XS};
    const int n = 81 * QK_K, rows = 3;
    int ok = 1;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0] && ok; ti++) {
        const uint32_t type = types[ti];
        for (int n_tok = 1; n_tok <= 9 && ok; n_tok += 4) {
            uint64_t rb = 0;
            ggml_row_bytes(type, (uint64_t)n, &rb);
            unsigned char *w = malloc((size_t)rb * rows);
            if (type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K || type == GGML_TYPE_Q6_K) k_fill_weights(type, w, (size_t)rb * rows);
            else fill_weights_lowbit(type, w, rows, n);
            float *x = malloc((size_t)n * (size_t)n_tok * sizeof *x);
            unsigned char *act = make_act(ref, type, n, n_tok, x);
            const size_t on = (size_t)rows * (size_t)n_tok;
            float *o1 = malloc(on * sizeof *o1), *o2 = malloc(on * sizeof *o2);
            kernels_matmul(k, type, w, n, 0, rows, act, n_tok, o1, rows);
            kernels_matmul(ref, type, w, n, 0, rows, act, n_tok, o2, rows);
            if (memcmp(o1, o2, on * sizeof *o1)) {
                ok = 0;
                printf("# %s %s n %d n_tok %d: not bit-exact with scalar\n", name, ggml_type_name(type), n, n_tok);
            }
            free(w);
            free(x);
            free(act);
            free(o1);
            free(o2);
        }
    }
    char label[160];
    snprintf(label, sizeof label, "%s matmul q2_K..iq4_xs rows of 81 super-blocks bit-exact with scalar", name);
    CHECK(label, ok, "see above");
}
