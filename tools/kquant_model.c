/* A K-quant mix of an f32 test model, quantized by ggml's own quantizers
 * (libggml-base's ggml_quantize_chunk), for end-to-end checks of the
 * Q4_K / Q5_K / Q6_K products against llama.cpp (tools/kquant_check.mjs).
 * make_test_model.mjs writes no K-quants; its models must be 256-wide
 * (every product's row length a multiple of 256). Not built by make:
 *
 *   node tools/make_test_model.mjs --arch llama --tokenizer llama2 --type f32 --embd 256 --heads 4 \
 *       --kv-heads 2 --head-dim 64 --ff 512 --layers 2 --seed 3 --out build/models/k256-f32.gguf
 *   L=/tmp/ref/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
 *   gcc -O1 -I/work/llama.cpp/ggml/include tools/kquant_model.c -o build/kquant_model $L/libggml-base.so -Wl,-rpath,$L
 *   build/kquant_model build/models/k256-f32.gguf build/models/k256-k0.gguf 0   (or mix 1)
 *
 * Mix 0: token_embd, attn_q/k/output, ffn_gate Q4_K; attn_v, ffn_up Q5_K;
 * ffn_down, output Q6_K. Mix 1: the types rotated (token_embd Q6_K,
 * output Q5_K, ffn_down Q4_K, ...). Norms stay f32. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"
#include "gguf.h"

static enum ggml_type pick(const char *name, int mix) {
    if (strstr(name, "token_embd")) return mix ? GGML_TYPE_Q6_K : GGML_TYPE_Q4_K;
    if (strstr(name, "attn_output")) return mix ? GGML_TYPE_Q5_K : GGML_TYPE_Q4_K;
    if (strstr(name, "output")) return mix ? GGML_TYPE_Q5_K : GGML_TYPE_Q6_K;
    if (strstr(name, "ffn_down")) return mix ? GGML_TYPE_Q4_K : GGML_TYPE_Q6_K;
    if (strstr(name, "attn_v") || strstr(name, "ffn_up")) return mix ? GGML_TYPE_Q6_K : GGML_TYPE_Q5_K;
    return mix ? GGML_TYPE_Q5_K : GGML_TYPE_Q4_K;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s IN_F32.gguf OUT.gguf MIX(0|1)\n", argv[0]);
        return 2;
    }
    struct ggml_context *src_ctx = NULL;
    struct gguf_init_params ip = {false, &src_ctx};
    struct gguf_context *src = gguf_init_from_file(argv[1], ip);
    if (!src) return 1;
    const int mix = atoi(argv[3]);
    struct gguf_context *dst = gguf_init_empty();
    gguf_set_kv(dst, src);
    struct ggml_init_params cp = {ggml_get_mem_size(src_ctx) + (1u << 20), NULL, false};
    struct ggml_context *ctx = ggml_init(cp);
    for (int64_t i = 0; i < gguf_get_n_tensors(src); i++) {
        const char *name = gguf_get_tensor_name(src, i);
        struct ggml_tensor *t = ggml_get_tensor(src_ctx, name);
        const enum ggml_type ty =
            t->type == GGML_TYPE_F32 && ggml_n_dims(t) == 2 && t->ne[0] % 256 == 0 ? pick(name, mix) : t->type;
        struct ggml_tensor *o = ggml_new_tensor(ctx, ty, ggml_n_dims(t), t->ne);
        ggml_set_name(o, name);
        if (ty == t->type)
            memcpy(o->data, t->data, ggml_nbytes(t));
        else
            ggml_quantize_chunk(ty, (const float *)t->data, o->data, 0, t->ne[1], t->ne[0], NULL);
        printf("%s: %s -> %s\n", name, ggml_type_name(t->type), ggml_type_name(ty));
        gguf_add_tensor(dst, o);
    }
    return gguf_write_to_file(dst, argv[2], false) ? 0 : 1;
}
