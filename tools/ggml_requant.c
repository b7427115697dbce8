/* Re-types a test model's f32 matrices to a ggml weight type with ggml's
 * own quantizer (ggml_quantize_chunk of libggml-base.so): hearth's model
 * writer (tools/make_test_model.mjs) has no K-quant or IQ quantizers, and
 * ggml's are the reference anyway. Every 2D f32 tensor whose rows are a
 * multiple of 256 and that is not a norm is converted (token_embd and
 * output included); the rest and all metadata are copied. Not built by
 * make; with the reference tools installed (docs/test-models.md):
 *
 *   L=tools/reference/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
 *   gcc -O1 -I/path/to/llama.cpp/ggml/include tools/ggml_requant.c -o build/requant \
 *       $L/libggml-base.so -Wl,-rpath,$L
 *   node tools/make_test_model.mjs --arch llama --tokenizer llama2 --type f32 --out f32.gguf \
 *       --embd 256 --heads 4 --kv-heads 2 --head-dim 64 --ff 768 --layers 2 --ctx 512
 *   build/requant f32.gguf q2_K.gguf 10        (ggml type id: 10 Q2_K, 11 Q3_K, 20 IQ4_NL, 23 IQ4_XS)
 *
 * then tools/lowbit_e2e_check.mjs compares hearth with llama.cpp on it. */
#include "ggml.h"
#include "gguf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s IN.gguf OUT.gguf GGML_TYPE_ID\n", argv[0]);
        return 2;
    }
    const enum ggml_type type = (enum ggml_type)atoi(argv[3]);
    struct ggml_context *ctx = NULL;
    struct gguf_context *in = gguf_init_from_file(argv[1], (struct gguf_init_params){false, &ctx});
    if (!in) return 1;
    struct gguf_context *out = gguf_init_empty();
    gguf_set_kv(out, in);
    size_t bytes = ggml_tensor_overhead() * (size_t)gguf_get_n_tensors(in);
    for (int64_t i = 0; i < gguf_get_n_tensors(in); i++)
        bytes += ggml_nbytes(ggml_get_tensor(ctx, gguf_get_tensor_name(in, i)));
    struct ggml_context *qctx = ggml_init((struct ggml_init_params){bytes, NULL, false});
    for (int64_t i = 0; i < gguf_get_n_tensors(in); i++) {
        const char *name = gguf_get_tensor_name(in, i);
        struct ggml_tensor *t = ggml_get_tensor(ctx, name);
        if (ggml_n_dims(t) != 2 || t->type != GGML_TYPE_F32 || t->ne[0] % 256 || strstr(name, "norm")) {
            gguf_add_tensor(out, t);
            continue;
        }
        struct ggml_tensor *q = ggml_new_tensor_2d(qctx, type, t->ne[0], t->ne[1]);
        ggml_set_name(q, name);
        ggml_quantize_chunk(type, (const float *)t->data, q->data, 0, t->ne[1], t->ne[0], NULL);
        gguf_add_tensor(out, q);
    }
    return gguf_write_to_file(out, argv[2], false) ? 0 : 1;
}
