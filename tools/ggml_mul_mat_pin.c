/* Oracle of test_kernels.c's pins_k: ggml_mul_mat of Q4_K, Q5_K and Q6_K
 * weights (tests/unit/pin_kquant.h's inputs) by the libggml-cpu variant it
 * is linked with, weights loaded as llama.cpp loads them: into the CPU
 * backend's extra "CPU_REPACK" buffer where ggml repacks the type (Q4_K
 * with a multiple of 8 rows on AVX2 machines), else a plain CPU buffer.
 * Prints one pins_k line per case: the FNV-1a hash of all PIN_K_M * N
 * output bit patterns (out[t * PIN_K_M + r]) and out[0], out[5], out[last].
 * Not built by make; with the reference tools installed (docs/test-models.md)
 * and llama.cpp's source for the headers:
 *
 *   L=/tmp/ref/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
 *   gcc -O1 -I/work/llama.cpp/ggml/include -Itests/unit tools/ggml_mul_mat_pin.c -o build/gmp \
 *       $L/libggml-cpu-zen4.so $L/libggml-base.so -Wl,-rpath,$L -lm -lpthread
 *   build/gmp [THREADS=2]
 *
 * (The zen4 variant needs AVX-512; it prints which buffer each weight went to.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"
#include "pin_kquant.h"

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

static void run(ggml_backend_t be, enum ggml_type type, int k, int n_tok) {
    const size_t wbytes = pin_k_block_bytes(type) * (size_t)(k / 256) * PIN_K_M;
    unsigned char *w = malloc(wbytes);
    float *x = malloc((size_t)k * n_tok * sizeof *x), *o = malloc((size_t)PIN_K_M * n_tok * sizeof *o);
    pin_k_inputs(type, k, n_tok, w, x);

    struct ggml_init_params ip = {16 * ggml_tensor_overhead() + ggml_graph_overhead(), NULL, true};
    struct ggml_context *cw = ggml_init(ip), *cx = ggml_init(ip);
    struct ggml_tensor *tw = ggml_new_tensor_2d(cw, type, k, PIN_K_M);
    struct ggml_tensor *tx = ggml_new_tensor_2d(cx, GGML_TYPE_F32, k, n_tok);
    struct ggml_tensor *to = ggml_mul_mat(cx, tw, tx);
    /* repacked as llama.cpp's loader does: the extra buffer where it takes the tensor */
    ggml_backend_buffer_type_t rb = repack_buft();
    ggml_backend_buffer_t bw = NULL;
    if (rb && ggml_backend_dev_supports_op(ggml_backend_get_device(be), to) && type == GGML_TYPE_Q4_K)
        bw = ggml_backend_alloc_ctx_tensors_from_buft(cw, rb);
    const char *where = bw ? "CPU_REPACK" : "CPU";
    if (!bw) bw = ggml_backend_alloc_ctx_tensors_from_buft(cw, ggml_backend_cpu_buffer_type());
    ggml_backend_buffer_t bx = ggml_backend_alloc_ctx_tensors_from_buft(cx, ggml_backend_cpu_buffer_type());
    ggml_backend_tensor_set(tw, w, 0, wbytes);
    ggml_backend_tensor_set(tx, x, 0, (size_t)k * n_tok * sizeof *x);
    struct ggml_cgraph *g = ggml_new_graph(cx);
    ggml_build_forward_expand(g, to);
    ggml_backend_graph_compute(be, g);
    ggml_backend_tensor_get(to, o, 0, (size_t)PIN_K_M * n_tok * sizeof *o);

    const int count = PIN_K_M * n_tok;
    uint32_t h = 2166136261u, bits[3];
    for (int i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &o[i], 4);
        for (int b = 0; b < 4; b++) h = (h ^ ((u >> (8 * b)) & 0xffu)) * 16777619u;
    }
    memcpy(&bits[0], &o[0], 4);
    memcpy(&bits[1], &o[5], 4);
    memcpy(&bits[2], &o[count - 1], 4);
    printf("        {%d, %d, %d, 0x%08xu, {0x%08xu, 0x%08xu, 0x%08xu}}, /* %s, %s */\n", (int)type, k, n_tok, h,
           bits[0], bits[1], bits[2], ggml_type_name(type), where);
    ggml_backend_buffer_free(bw);
    ggml_backend_buffer_free(bx);
    ggml_free(cw);
    ggml_free(cx);
    free(w);
    free(x);
    free(o);
}

int main(int argc, char **argv) {
    ggml_backend_t be = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(be, argc > 1 ? atoi(argv[1]) : 2);
    static const struct { int k, n_tok; } cases[] = {{256, 1}, {512, 7}, {768, 20}, {1024, 2}, {512, 4}};
    static const enum ggml_type types[] = {GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) run(be, types[t], cases[c].k, cases[c].n_tok);
    ggml_backend_free(be);
    return 0;
}
