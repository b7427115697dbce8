/* One-thread timing of kernels_matmul for a weight type over a few matrix
 * shapes, 1, 3 and 64 tokens: weight GB/s and ns per row. Not built by make:
 *
 *   make && gcc -O2 -Isrc tools/kernels_bench.c -o build/kbench build/libhearth.a -lm -lpthread
 *   build/kbench [scalar|avx2|best [TYPE [TOKENS]]]
 * (CPU time of the calling thread, best of several runs.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/kernels.h"
#include "model/ggml_types.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: other processes do not count */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    hearth_kernels k;
    const char *level = argc > 1 ? argv[1] : "";
    kernels_init(&k, strcmp(level, "scalar") != 0);
    if (!strcmp(level, "avx2")) {
        memset(&k, 0, sizeof k);
        kernels_scalar_fill(&k);
        kernels_avx2_fill(&k);
    }
    static const uint32_t types[] = {GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
    static const struct { int rows, n; } shapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}};
    static const int toks[] = {1, 3, 64};
    printf("kernels %s\n", kernels_name(&k));
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            const uint32_t type = types[ti];
            if (argc > 2 && strcmp(argv[2], ggml_type_name(type))) continue;
            const int rows = shapes[s].rows, n = shapes[s].n;
            uint64_t rb;
            ggml_row_bytes(type, (uint64_t)n, &rb);
            unsigned char *w = malloc(rb * (size_t)rows);
            for (size_t i = 0; i < rb * (size_t)rows; i++) w[i] = (unsigned char)(i * 2654435761u >> 13);
            /* small positive fp16 scales in every block's d (and dmin / Q6_K's d) */
            const size_t bs = ggml_block_bytes(type);
            for (size_t o = 0; o < rb * (size_t)rows; o += bs) {
                const uint16_t d = 0x1c00;
                memcpy(w + o + (type == GGML_TYPE_Q6_K ? 208 : 0), &d, 2);
                if (type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K) memcpy(w + o + 2, &d, 2);
            }
            float *x = malloc((size_t)n * 64 * sizeof *x), *out = malloc((size_t)rows * 64 * sizeof *out);
            for (int i = 0; i < n * 64; i++) x[i] = (float)((i * 37) % 201 - 100) / 100.0f;
            const size_t ab = kernels_act_row_bytes(type, n);
            unsigned char *act = malloc(ab * 64);
            for (int t = 0; t < 64; t++) kernels_quantize_act(&k, type, x + (size_t)t * n, act + ab * t, n);
            for (size_t tk = 0; tk < sizeof toks / sizeof toks[0]; tk++) {
                const int nt = toks[tk];
                if (argc > 3 && nt != atoi(argv[3])) continue;
                double best = 1e30;
                for (int rep = 0; rep < (nt == 1 ? 30 : 5); rep++) {
                    const double t0 = now_s();
                    kernels_matmul(&k, type, w, n, 0, rows, act, nt, out, (size_t)rows);
                    const double dt = now_s() - t0;
                    if (dt < best) best = dt;
                }
                printf("%-5s %5d x %5d  %2d tok: %8.3f ms  %6.2f GB/s weights  %7.2f ns/row/token\n", ggml_type_name(type),
                       rows, n, nt, best * 1e3, (double)rb * rows / best / 1e9, best * 1e9 / rows / nt);
            }
            free(w);
            free(x);
            free(out);
            free(act);
        }
    return 0;
}
