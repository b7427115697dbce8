/* A small GGUF image builder for unit tests (test_gguf.c, test_model.c). */
#ifndef HEARTH_TEST_GGUF_BUILD_H
#define HEARTH_TEST_GGUF_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static inline void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static inline void u32(buf *b, uint32_t v) { put(b, &v, 4); }
static inline void u64(buf *b, uint64_t v) { put(b, &v, 8); }
static inline void str(buf *b, const char *s) {
    u64(b, strlen(s));
    put(b, s, strlen(s));
}
static inline void kv_u32(buf *b, const char *k, uint32_t v) {
    str(b, k);
    u32(b, GGUF_TYPE_UINT32);
    u32(b, v);
}
static inline void kv_str(buf *b, const char *k, const char *v) {
    str(b, k);
    u32(b, GGUF_TYPE_STRING);
    str(b, v);
}
static inline void pad(buf *b, size_t align) {
    while (b->n % align) put(b, "", 1);
}

#endif
