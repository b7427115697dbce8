/* The oracle of test_kernels.c's outputs pinned to llama.cpp (pins, pins_k,
 * pins_lowbit, pins_k_dequant): ggml_mul_mat by the libggml-cpu variant it
 * is linked with, on the inputs of tests/unit/pin_inputs.h, weights loaded
 * as llama.cpp loads them: into the CPU backend's extra "CPU_REPACK" buffer
 * for the types ggml repacks (pin_repacked: Q4_0, Q4_K, Q2_K, IQ4_NL), else
 * a plain CPU buffer. Prints the rows of the three tables: the FNV-1a hash
 * of all M * N output bit patterns (out[t * M + r]) and out[0], out[5],
 * out[last]; then per K-quant the hash of pins_k's first case's weights
 * dequantized by ggml's to_float (dequantize_row_*, what get_rows of token
 * embeddings uses). Not built by make; with the reference tools installed
 * (docs/test-models.md) and llama.cpp's source for the headers:
 *
 *   L=/tmp/ref/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
 *   gcc -std=c11 -O1 -I/work/llama.cpp/ggml/include -Itests/unit tools/ggml_pin.c -o build/ggml_pin \
 *       $L/libggml-cpu-zen4.so $L/libggml-base.so -Wl,-rpath,$L -lm -lpthread
 *   build/ggml_pin [THREADS=2]
 *
 * The pins come from the zen4 variant (it needs AVX-512) with 2 threads;
 * 1 thread takes other Q2_K gemm code and gives the same bits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"
#include "pin_inputs.h"

/* Types ggml takes into its CPU_REPACK buffer, as llama.cpp's loader does
 * on this machine (q4_0_8x8, q2_K_8x8, q4_K_8x8, iq4_nl_8x8 tiles). */
static int pin_repacked(uint32_t type) {
    return type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q2_K || type == GGML_TYPE_Q4_K || type == GGML_TYPE_IQ4_NL;
}

static ggml_backend_buffer_type_t repack_buft(void) {
    ggml_backend_reg_t reg = ggml_backend_cpu_reg();
    ggml_backend_dev_t dev = ggml_backend_reg_dev_get(reg, 0);
    ggml_backend_dev_get_extra_bufts_t get =
        (ggml_backend_dev_get_extra_bufts_t)ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
    if (!get) return NULL;
    for (ggml_backend_buffer_type_t *b = get(dev); b && *b; b++)
        if (!strcmp(ggml_backend_buft_name(*b), "CPU_REPACK")) return *b;
    return NULL;
}

/* One table row: rows weight rows from gen (pin_inputs or pin_k_inputs). */
static int run(ggml_backend_t be, const struct pin_shape *s, int rows, size_t wbytes,
               void (*gen)(uint32_t, int, int, unsigned char *, float *)) {
    const int k = s->k, n_tok = s->n_tok, count = rows * n_tok;
    unsigned char *w = malloc(wbytes);
    float *x = malloc((size_t)k * n_tok * sizeof *x), *o = malloc((size_t)count * sizeof *o);
    gen(s->type, k, n_tok, w, x);

    struct ggml_init_params ip = {16 * ggml_tensor_overhead() + ggml_graph_overhead(), NULL, true};
    struct ggml_context *cw = ggml_init(ip), *cx = ggml_init(ip);
    struct ggml_tensor *tw = ggml_new_tensor_2d(cw, (enum ggml_type)s->type, k, rows);
    struct ggml_tensor *tx = ggml_new_tensor_2d(cx, GGML_TYPE_F32, k, n_tok);
    struct ggml_tensor *to = ggml_mul_mat(cx, tw, tx);
    ggml_backend_buffer_type_t rb = pin_repacked(s->type) ? repack_buft() : NULL;
    ggml_backend_buffer_t bw = ggml_backend_alloc_ctx_tensors_from_buft(cw, rb ? rb : ggml_backend_cpu_buffer_type());
    ggml_backend_buffer_t bx = ggml_backend_alloc_ctx_tensors_from_buft(cx, ggml_backend_cpu_buffer_type());
    ggml_backend_tensor_set(tw, w, 0, wbytes);
    ggml_backend_tensor_set(tx, x, 0, (size_t)k * n_tok * sizeof *x);
    struct ggml_cgraph *g = ggml_new_graph(cx);
    ggml_build_forward_expand(g, to);
    const int ok = ggml_backend_graph_compute(be, g) == GGML_STATUS_SUCCESS;
    ggml_backend_tensor_get(to, o, 0, (size_t)count * sizeof *o);

    uint32_t bits[3];
    memcpy(&bits[0], &o[0], 4);
    memcpy(&bits[1], &o[5], 4);
    memcpy(&bits[2], &o[count - 1], 4);
    printf("        {%u, %d, %d, 0x%08xu, {0x%08xu, 0x%08xu, 0x%08xu}}, /* %s%s */\n", s->type, k, n_tok,
           pin_hash(o, count), bits[0], bits[1], bits[2], ggml_type_name((enum ggml_type)s->type),
           rb ? ", CPU_REPACK" : "");
    ggml_backend_buffer_free(bw);
    ggml_backend_buffer_free(bx);
    ggml_free(cw);
    ggml_free(cx);
    free(w);
    free(x);
    free(o);
    return ok;
}

int main(int argc, char **argv) {
    const int nth = argc > 1 ? atoi(argv[1]) : 2;
    ggml_backend_t be = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(be, nth);
    if (!repack_buft()) {
        fprintf(stderr, "no CPU_REPACK buffer type\n");
        return 1;
    }
    static const struct {
        const char *name;
        const struct pin_shape *shapes;
        size_t n;
        int rows;
        size_t (*row_bytes)(uint32_t, int);
        void (*gen)(uint32_t, int, int, unsigned char *, float *);
    } tables[] = {
        {"pins", pin_shapes, sizeof pin_shapes / sizeof pin_shapes[0], PIN_M, pin_row_bytes, pin_inputs},
        {"pins_k", pin_k_shapes, sizeof pin_k_shapes / sizeof pin_k_shapes[0], PIN_K_M, pin_k_row_bytes, pin_k_inputs},
        {"pins_lowbit", pin_lowbit_shapes, sizeof pin_lowbit_shapes / sizeof pin_lowbit_shapes[0], PIN_K_M,
         pin_k_row_bytes, pin_k_inputs},
    };
    int ok = 1;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        printf("%s (generated by tools/ggml_pin.c, %d threads):\n", tables[t].name, nth);
        for (size_t i = 0; i < tables[t].n; i++) {
            const struct pin_shape *s = &tables[t].shapes[i];
            ok &= run(be, s, tables[t].rows, tables[t].row_bytes(s->type, s->k) * (size_t)tables[t].rows, tables[t].gen);
        }
    }
    printf("pins_k_dequant:");
    for (size_t i = 0; i < sizeof pin_k_shapes / sizeof pin_k_shapes[0]; i++) {
        const struct pin_shape *s = &pin_k_shapes[i];
        if (i && s->type == pin_k_shapes[i - 1].type) continue; /* each type's first case */
        const size_t wbytes = pin_k_row_bytes(s->type, s->k) * PIN_K_M;
        unsigned char *w = malloc(wbytes);
        float *x = malloc((size_t)s->k * s->n_tok * sizeof *x), *d = malloc((size_t)s->k * PIN_K_M * sizeof *d);
        pin_k_inputs(s->type, s->k, s->n_tok, w, x);
        ggml_get_type_traits((enum ggml_type)s->type)->to_float(w, d, (int64_t)s->k * PIN_K_M);
        printf(" {%u, 0x%08xu},", s->type, pin_hash(d, s->k * PIN_K_M));
        free(w);
        free(x);
        free(d);
    }
    printf("\n");
    ggml_backend_free(be);
    return !ok;
}
