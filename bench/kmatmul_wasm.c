/* Single-thread timing of the quantized products in wasm (make
 * build/wasm-bench/kmatmul.wasm; node tests/e2e/wasm_kernels.test.mjs --wasi
 * FILE runs it under Node's WASI): for each weight type, the exact kernel
 * set and the fast one (kernels_prefer_speed; and the scalar reference on
 * the first shape), 1 and 64 tokens on
 * 2048 x 2048, 8192 x 2048 and 2048 x 8192 matrices (rows x columns), as
 * microseconds per product and GB/s of weights (the matrix's bytes over
 * the time of one product, the fastest of several). One line per case:
 *   type set rows cols n_tok us GB/s
 * Those matrices stay in the caches; the "ring" lines (rows 8192 x 2048,
 * set name suffixed "/ring") multiply each of 16 such matrices in turn,
 * some 150-280 MB, so that the weights stream from memory as in a model's
 * decode step (one token, the fastest of 10 passes, per matrix).
 * Arguments: type names to run (default: all of them). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/kernels.h"
#include "model/ggml_types.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint32_t rs = 2463534242u;
static uint32_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

/* Random codes, finite scales of about 1e-3 (no float slow paths). */
static void fill(uint32_t type, unsigned char *w, int rows, int n) {
    uint64_t rb = 0;
    ggml_row_bytes(type, (uint64_t)n, &rb);
    for (size_t i = 0; i < rb * (size_t)rows; i++) w[i] = (unsigned char)rnd();
    const size_t bs = ggml_block_bytes(type);
    size_t d_off[2] = {0, (size_t)-1};
    switch (type) {
    case GGML_TYPE_Q4_K:
    case GGML_TYPE_Q5_K: d_off[1] = 2; break;
    case GGML_TYPE_Q6_K: d_off[0] = 208; break;
    case GGML_TYPE_Q2_K: d_off[0] = 80, d_off[1] = 82; break;
    case GGML_TYPE_Q3_K: d_off[0] = 108; break;
    default: break;
    }
    for (size_t off = 0; off < rb * (size_t)rows; off += bs)
        for (int i = 0; i < 2; i++)
            if (d_off[i] != (size_t)-1) {
                const uint16_t h = (uint16_t)(0x1000 + rnd() % 0x400);
                memcpy(w + off + d_off[i], &h, 2);
            }
}

/* One token against RING matrices of ROWS x COLS in turn (each packed as
 * the set packs it; only the copies it multiplies are kept). */
static void ring_case(const hearth_kernels *k, uint32_t type) {
    enum { RING = 16, ROWS = 8192, COLS = 2048 };
    uint64_t rb = 0;
    ggml_row_bytes(type, COLS, &rb);
    const size_t wbytes = (size_t)rb * ROWS;
    void *m[RING] = {0};
    uint32_t wtype = type;
    for (int i = 0; i < RING; i++) {
        unsigned char *w = malloc(wbytes);
        if (!w) break;
        fill(type, w, ROWS, COLS);
        void *packed = NULL;
        uint64_t prb = 0;
        wtype = type;
        if (kernels_pack_weight(k, &wtype, w, ROWS, COLS, &packed, &prb)) {
            free(w);
            w = packed;
        }
        m[i] = w;
    }
    const size_t ab = kernels_act_row_bytes(wtype, COLS);
    float *x = malloc(COLS * sizeof *x), *out = malloc(ROWS * sizeof *out);
    unsigned char *act = malloc(ab);
    if (m[RING - 1] && x && out && act) {
        for (int i = 0; i < COLS; i++) x[i] = (float)((int)(rnd() % 2001) - 1000) * 1e-3f;
        kernels_quantize_act(k, wtype, x, act, COLS);
        double best = 1e30;
        for (int pass = 0; pass < 10; pass++) {
            const double a = now();
            for (int i = 0; i < RING; i++) kernels_matmul(k, wtype, m[i], COLS, 0, ROWS, act, 1, out, ROWS);
            const double t = (now() - a) / RING;
            if (t < best) best = t;
        }
        char set[40];
        snprintf(set, sizeof set, "%s/ring", kernels_name(k));
        printf("%-7s %-16s %5d %5d %3d %9.0f %6.2f\n", ggml_type_name(type), set, ROWS, COLS, 1, best * 1e6,
               (double)wbytes / (best * 1e9));
        fflush(stdout);
    } else {
        printf("# %s ring: out of memory\n", ggml_type_name(type));
    }
    for (int i = 0; i < RING; i++) free(m[i]);
    free(x);
    free(out);
    free(act);
}

static const uint32_t types[] = {GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
                                 GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_IQ4_XS, GGML_TYPE_IQ4_NL};

int main(int argc, char **argv) {
    static const struct { int rows, cols; } shapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}};
    static const int toks[] = {1, 64};
    hearth_kernels scalar, exact, fast;
    kernels_init(&scalar, false);
    kernels_init(&exact, true);
    kernels_init(&fast, true);
    const bool have_fast = kernels_prefer_speed(&fast);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const uint32_t type = types[ti];
        bool want = argc < 2;
        for (int a = 1; a < argc; a++) want |= strcmp(argv[a], ggml_type_name(type)) == 0;
        if (!want) continue;
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            const int rows = shapes[si].rows, n = shapes[si].cols;
            uint64_t rb = 0;
            ggml_row_bytes(type, (uint64_t)n, &rb);
            const size_t wbytes = (size_t)rb * (size_t)rows;
            unsigned char *w = malloc(wbytes);
            fill(type, w, rows, n);
            /* the scalar reference on the first shape only (it is slow) */
            for (int set = si ? 1 : 0; set < (have_fast ? 3 : 2); set++) {
                const hearth_kernels *k = set == 0 ? &scalar : set == 1 ? &exact : &fast;
                uint32_t wtype = type;
                const void *wm = w;
                void *packed = NULL;
                uint64_t prb = 0;
                if (kernels_pack_weight(k, &wtype, w, rows, n, &packed, &prb)) wm = packed;
                for (size_t ki = 0; ki < sizeof toks / sizeof toks[0]; ki++) {
                    const int nt = toks[ki];
                    const size_t ab = kernels_act_row_bytes(wtype, n);
                    float *x = malloc((size_t)n * sizeof *x), *out = malloc((size_t)rows * (size_t)nt * sizeof *out);
                    unsigned char *act = malloc(ab * (size_t)nt);
                    for (int t = 0; t < nt; t++) {
                        for (int i = 0; i < n; i++) x[i] = (float)((int)(rnd() % 2001) - 1000) * 1e-3f;
                        kernels_quantize_act(k, wtype, x, act + (size_t)t * ab, n);
                    }
                    kernels_matmul(k, wtype, wm, n, 0, rows, act, nt, out, (size_t)rows); /* warm-up */
                    /* the fastest of the runs in 0.3 s: the machine may be shared */
                    double best = 1e30, t1;
                    const double t0 = now();
                    do {
                        const double a = now();
                        kernels_matmul(k, wtype, wm, n, 0, rows, act, nt, out, (size_t)rows);
                        t1 = now();
                        if (t1 - a < best) best = t1 - a;
                    } while (t1 - t0 < 0.3);
                    const double us = best * 1e6;
                    printf("%-7s %-16s %5d %5d %3d %9.0f %6.2f\n", ggml_type_name(type), kernels_name(k), rows, n, nt, us,
                           (double)wbytes / (us * 1e3));
                    fflush(stdout);
                    free(x);
                    free(out);
                    free(act);
                }
                free(packed);
            }
            free(w);
        }
        for (int set = 1; set < (have_fast ? 3 : 2); set++) ring_case(set == 1 ? &exact : &fast, type);
    }
    return 0;
}
