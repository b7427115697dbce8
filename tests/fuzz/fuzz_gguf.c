/* libFuzzer target for the GGUF reader: any bytes must parse or fail with a
 * message, never crash or read out of bounds. Every value the reader hands
 * out is touched so that ASan sees bad pointers. */
#include <stdint.h>
#include <string.h>

#include "model/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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
        sink += (uint64_t)(gguf_find_tensor(f, t->name.data) != NULL);
    }
    gguf_free(f);
    (void)sink;
    return 0;
}
