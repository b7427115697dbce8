/* libFuzzer target for the GGUF reader: any bytes must parse or fail with a
 * message, never crash or read out of bounds. Every value the reader hands
 * out is touched so that ASan sees bad pointers. The first row of each
 * tensor of a type the CPU runs (any bytes are a block: K-quant scales,
 * IQ4 indices...) is copied into a buffer of exactly its size, dequantized
 * and multiplied by the scalar kernels, so ASan sees a kernel that reads
 * past its row or a table index that leaves its table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/kernels.h"
#include "model/ggml_types.h"
#include "model/gguf.h"

enum { MAX_ROW = 4096 };

static void run_first_row(const hearth_kernels *k, const gguf_tensor *t, const uint8_t *data) {
    uint64_t row_bytes;
    const uint64_t n = t->ne[0];
    if (!ggml_type_runs_on(t->type, false) || n == 0 || n > MAX_ROW || n % 256 /* every type's rows */ ||
        !ggml_row_bytes(t->type, n, &row_bytes) || row_bytes > t->size)
        return;
    uint8_t *row = malloc((size_t)row_bytes);
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    void *act = malloc(kernels_act_row_bytes(t->type, (int)n) + 1);
    if (row && x && y && act) {
        memcpy(row, data + t->offset, (size_t)row_bytes);
        kernels_dequantize_row(t->type, row, y, (int)n);
        for (uint64_t i = 0; i < n; i++) x[i] = (float)((int)(i % 7) - 3) * 0.25f;
        kernels_quantize_act(k, t->type, x, act, (int)n);
        float out = 0;
        kernels_matmul(k, t->type, row, (int)n, 0, 1, act, 1, &out, 1);
        volatile float sink = out + y[n - 1];
        (void)sink;
    }
    free(row);
    free(x);
    free(y);
    free(act);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static hearth_kernels k;
    if (!k.name) kernels_init(&k, false); /* the scalar reference: the same blocks on every CPU */
    gguf_file *f = NULL;
    hearth_error err = {0};
    if (gguf_open_memory(&f, data, size, "fuzz.gguf", &err) != HEARTH_OK) {
        if (err.message[0] == 0) __builtin_trap();
        return 0;
    }
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        sink += strlen(kv->key.data);
        if (kv->type == GGUF_TYPE_STRING) sink += kv->value.str.len ? (uint8_t)kv->value.str.data[kv->value.str.len - 1] : 0;
        if (kv->type == GGUF_TYPE_ARRAY && kv->count) {
            if (kv->elem_type == GGUF_TYPE_STRING) {
                const gguf_str *s = kv->value.array;
                sink += s[kv->count - 1].len;
            } else {
                sink += ((const uint8_t *)kv->value.array)[0];
            }
        }
    }
    for (size_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        if (t->size && (t->offset > size || t->size > size - t->offset)) __builtin_trap();
        if (t->size) sink += data[t->offset + t->size - 1];
        if (t->size) run_first_row(&k, t, data);
        sink += (uint64_t)(gguf_find_tensor(f, t->name.data) != NULL);
    }
    gguf_free(f);
    (void)sink;
    return 0;
}
