/* Single-thread timings of the Q2_K, Q3_K, IQ4_NL and IQ4_XS products next
 * to Q4_0's and Q8_0's, for every x86 level this CPU runs: 1 token (weights
 * streamed; the 8192 x 2048 matrices of the K types fit this machine's
 * 32 MiB L3, so it is not a DRAM rate) and 64 tokens, best of several runs
 * in thread CPU time. Not built by make:
 *
 *   make && cc -O2 -Isrc bench/lowbit_bench.c build/libhearth.a -o build/lowbit_bench -lm -lpthread
 *   build/lowbit_bench */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/kernels.h"
#include "model/ggml_types.h"

static double cpu_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rs = 88172645463325252ull;
static uint32_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 11);
}

static void bench(const hearth_kernels *k, uint32_t type, int rows, int n) {
    uint64_t rb;
    ggml_row_bytes(type, (uint64_t)n, &rb);
    const size_t wbytes = (size_t)rb * (size_t)rows, bs = ggml_block_bytes(type);
    const size_t d_off = type == GGML_TYPE_Q2_K ? offsetof(block_q2_K, d) : type == GGML_TYPE_Q3_K ? offsetof(block_q3_K, d) : 0;
    unsigned char *w = malloc(wbytes);
    for (size_t i = 0; i < wbytes; i++) w[i] = (unsigned char)rnd();
    for (size_t o = 0; o < wbytes; o += bs) {
        const uint16_t d = 0x1c00; /* 2^-8: finite scales */
        memcpy(w + o + d_off, &d, 2);
    }
    printf("%-10s %5d x %-5d %-6s", kernels_name(k), rows, n, ggml_type_name(type));
    static const int toks[] = {1, 64};
    for (int q = 0; q < 2; q++) {
        const int nt = toks[q];
        float *x = malloc(sizeof(float) * (size_t)n * nt), *out = malloc(sizeof(float) * (size_t)rows * nt);
        for (int i = 0; i < n * nt; i++) x[i] = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
        const size_t ab = kernels_act_row_bytes(type, n);
        unsigned char *a = malloc(ab * (size_t)nt);
        for (int t = 0; t < nt; t++) kernels_quantize_act(k, type, x + (size_t)t * n, a + (size_t)t * ab, n);
        kernels_matmul(k, type, w, n, 0, rows, a, nt, out, (size_t)rows);
        double best = 1e9;
        for (int rep = 0; rep < (nt == 1 ? 20 : 3); rep++) {
            const double t0 = cpu_time();
            kernels_matmul(k, type, w, n, 0, rows, a, nt, out, (size_t)rows);
            const double dt = cpu_time() - t0;
            if (dt < best) best = dt;
        }
        printf("  %2d tok: %7.3f ms %6.1f GMAC/s", nt, best * 1e3, (double)rows * n * nt / best * 1e-9);
        if (nt == 1) printf(" (%5.1f GB/s)", (double)wbytes / best * 1e-9);
        free(x);
        free(out);
        free(a);
    }
    printf("\n");
    free(w);
}

int main(void) {
    static const uint32_t types[] = {GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS};
    static const int shapes[][2] = {{2048, 2048}, {8192, 2048}};
    hearth_kernels levels[2];
    int n_levels = 0;
    kernels_init(&levels[n_levels++], true);
    if (kernels_cpu_features() & KERNELS_CPU_AVX512VNNI) { /* the AVX2 level too */
        kernels_scalar_fill(&levels[n_levels]);
        if (kernels_avx2_fill(&levels[n_levels])) n_levels++;
    }
    for (int l = 0; l < n_levels; l++)
        for (int s = 0; s < 2; s++)
            for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) bench(&levels[l], types[t], shapes[s][0], shapes[s][1]);
    return 0;
}
