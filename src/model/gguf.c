/* GGUF reader. The header is parsed sequentially through a small buffered
 * reader, so the same code works on a mapped file, bytes in memory, or a
 * host that can only read ranges (the browser). Every count read from the
 * file is checked against the bytes that remain before anything is
 * allocated, so a hostile header cannot make us allocate more than the file
 * could describe. */
#include "model/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ggml_types.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
#define ARENA_CHUNK (1u << 20)

/* ---- arena: all metadata of a file lives in a few large chunks ---- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_chunk;

typedef struct {
    arena_chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        arena_chunk *c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static void arena_free(arena *a) {
    while (a->head) {
        arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

struct gguf_file {
    uint32_t version;
    gguf_kv *kv;
    size_t n_kv;
    gguf_tensor *tensors;
    size_t n_tensors;
    int n_parts;
    char name[256];
    arena mem;
};

/* ---- reader ---- */

typedef struct {
    const hearth_host *host; /* NULL for in-memory images */
    int part;
    const uint8_t *mem;      /* whole part, when mapped or in memory */
    uint64_t size;
    uint64_t avail;          /* bytes of mem present (a prefix of the file: gguf_open_prefix) */
    bool short_prefix;       /* the header went on past avail */
    uint64_t pos;
    uint8_t buf[1 << 16];
    uint64_t buf_start;
    size_t buf_len;
    const char *name;
    hearth_error *err;
} reader;

static hearth_status truncated(reader *r, const char *what) {
    return hearth_fail(r->err, HEARTH_E_FORMAT,
                       "%s: file ends while reading %s (offset %llu, file is %llu bytes)", r->name, what,
                       (unsigned long long)r->pos, (unsigned long long)r->size);
}

static hearth_status rd(reader *r, void *dst, uint64_t n, const char *what) {
    if (n > r->size - r->pos) return truncated(r, what);
    if (r->mem && n > r->avail - r->pos) {
        r->short_prefix = true;
        return hearth_fail(r->err, HEARTH_E_IO, "%s: the header goes on past the first %llu bytes (reading %s)",
                           r->name, (unsigned long long)r->avail, what);
    }
    if (r->mem) {
        memcpy(dst, r->mem + r->pos, (size_t)n);
        r->pos += n;
        return HEARTH_OK;
    }
    uint8_t *out = dst;
    while (n > 0) {
        if (r->pos < r->buf_start || r->pos >= r->buf_start + r->buf_len) {
            uint64_t left = r->size - r->pos;
            size_t len = left < sizeof r->buf ? (size_t)left : sizeof r->buf;
            hearth_status st = r->host->read(r->host->ctx, r->part, r->pos, r->buf, len, r->err);
            if (st) return st;
            r->buf_start = r->pos;
            r->buf_len = len;
        }
        size_t off = (size_t)(r->pos - r->buf_start);
        size_t take = r->buf_len - off;
        if (take > n) take = (size_t)n;
        memcpy(out, r->buf + off, take);
        out += take;
        r->pos += take;
        n -= take;
    }
    return HEARTH_OK;
}

static hearth_status rd_u32(reader *r, uint32_t *v, const char *what) {
    uint8_t b[4];
    hearth_status st = rd(r, b, 4, what);
    if (st) return st;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return HEARTH_OK;
}

static hearth_status rd_u64(reader *r, uint64_t *v, const char *what) {
    uint32_t lo, hi;
    hearth_status st = rd_u32(r, &lo, what);
    if (!st) st = rd_u32(r, &hi, what);
    if (!st) *v = (uint64_t)hi << 32 | lo;
    return st;
}

static uint64_t remaining(const reader *r) { return r->size - r->pos; }

static hearth_status rd_str(reader *r, arena *mem, gguf_str *s, const char *what) {
    uint64_t len;
    hearth_status st = rd_u64(r, &len, what);
    if (st) return st;
    if (len > remaining(r))
        return hearth_fail(r->err, HEARTH_E_FORMAT,
                           "%s: %s claims %llu bytes but only %llu remain in the file (offset %llu)",
                           r->name, what, (unsigned long long)len, (unsigned long long)remaining(r),
                           (unsigned long long)r->pos);
    char *p = arena_alloc(mem, (size_t)len + 1);
    if (!p) return hearth_fail(r->err, HEARTH_E_NOMEM, "%s: out of memory reading %s", r->name, what);
    st = rd(r, p, len, what);
    if (st) return st;
    p[len] = 0;
    s->len = len;
    s->data = p;
    return HEARTH_OK;
}

static size_t scalar_size(uint32_t type) {
    switch (type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

const char *gguf_type_name(uint32_t type) {
    static const char *names[GGUF_TYPE_COUNT] = {"u8",  "i8",    "u16",   "i16", "u32", "i32", "f32",
                                                 "bool", "string", "array", "u64", "i64", "f64"};
    return type < GGUF_TYPE_COUNT ? names[type] : "unknown";
}

/* Reads one little-endian scalar into the kv's value union. */
static hearth_status rd_scalar(reader *r, uint32_t type, gguf_kv *kv, const char *what) {
    uint8_t b[8] = {0};
    size_t n = scalar_size(type);
    hearth_status st = rd(r, b, n, what);
    if (st) return st;
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++) u |= (uint64_t)b[i] << (8 * i);
    switch (type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        kv->value.u64 = u;
        break;
    case GGUF_TYPE_INT8: kv->value.i64 = (int8_t)u; break;
    case GGUF_TYPE_INT16: kv->value.i64 = (int16_t)u; break;
    case GGUF_TYPE_INT32: kv->value.i64 = (int32_t)u; break;
    case GGUF_TYPE_INT64: kv->value.i64 = (int64_t)u; break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, 4);
        kv->value.f64 = f;
        break;
    }
    case GGUF_TYPE_FLOAT64: memcpy(&kv->value.f64, &u, 8); break;
    case GGUF_TYPE_BOOL:
        if (u > 1)
            return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: %s is a bool with value %llu (must be 0 or 1)",
                               r->name, what, (unsigned long long)u);
        kv->value.b = u != 0;
        break;
    }
    return HEARTH_OK;
}

static hearth_status rd_array(reader *r, arena *mem, gguf_kv *kv, const char *key) {
    uint32_t elem;
    uint64_t count;
    hearth_status st = rd_u32(r, &elem, "array type");
    if (!st) st = rd_u64(r, &count, "array length");
    if (st) return st;
    if (elem >= GGUF_TYPE_COUNT || elem == GGUF_TYPE_ARRAY)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: metadata %s is an array of invalid type %u", r->name,
                           key, elem);
    /* Every element takes at least this many bytes in the file. */
    uint64_t min_bytes = elem == GGUF_TYPE_STRING ? 8 : scalar_size(elem);
    if (count > remaining(r) / min_bytes)
        return hearth_fail(r->err, HEARTH_E_FORMAT,
                           "%s: metadata %s claims %llu elements, more than the %llu bytes left can hold",
                           r->name, key, (unsigned long long)count, (unsigned long long)remaining(r));
    kv->elem_type = elem;
    kv->count = count;
    if (elem == GGUF_TYPE_STRING) {
        gguf_str *items = arena_alloc(mem, (size_t)count * sizeof *items + 1);
        if (!items) return hearth_fail(r->err, HEARTH_E_NOMEM, "%s: out of memory reading %s", r->name, key);
        for (uint64_t i = 0; i < count; i++) {
            st = rd_str(r, mem, &items[i], key);
            if (st) return st;
        }
        kv->value.array = items;
        return HEARTH_OK;
    }
    size_t es = scalar_size(elem);
    uint8_t *data = arena_alloc(mem, (size_t)(count * es) + 1);
    if (!data) return hearth_fail(r->err, HEARTH_E_NOMEM, "%s: out of memory reading %s", r->name, key);
    st = rd(r, data, count * es, key);
    if (st) return st;
    if (elem == GGUF_TYPE_BOOL)
        for (uint64_t i = 0; i < count; i++)
            if (data[i] > 1)
                return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: metadata %s[%llu] is a bool with value %u",
                                   r->name, key, (unsigned long long)i, data[i]);
    /* Elements are little-endian in the file; hearth's hosts are too. */
    kv->value.array = data;
    return HEARTH_OK;
}

static bool str_eq(gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && memcmp(s.data, c, n) == 0;
}

static const gguf_kv *find_kv(const gguf_kv *kv, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (str_eq(kv[i].key, key)) return &kv[i];
    return NULL;
}

static int cmp_tensor_name(const void *a, const void *b) {
    const gguf_tensor *x = *(const gguf_tensor *const *)a, *y = *(const gguf_tensor *const *)b;
    size_t n = x->name.len < y->name.len ? (size_t)x->name.len : (size_t)y->name.len;
    int c = memcmp(x->name.data, y->name.data, n);
    if (c) return c;
    return x->name.len < y->name.len ? -1 : x->name.len > y->name.len;
}

typedef struct {
    gguf_kv *kv;
    size_t n_kv;
    gguf_tensor *tensors;
    size_t n_tensors;
    uint32_t version;
} part_header;

static hearth_status parse_tensor_info(reader *r, arena *mem, gguf_tensor *t, uint64_t index) {
    char what[64];
    snprintf(what, sizeof what, "tensor %llu name", (unsigned long long)index);
    hearth_status st = rd_str(r, mem, &t->name, what);
    if (st) return st;
    if (t->name.len == 0 || strlen(t->name.data) != t->name.len || t->name.len > 256)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: tensor %llu has an invalid name", r->name,
                           (unsigned long long)index);
    const char *tn = t->name.data;
    st = rd_u32(r, &t->n_dims, "tensor dimension count");
    if (st) return st;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: tensor %s has %u dimensions (must be 1 to %d)",
                           r->name, tn, t->n_dims, GGUF_MAX_DIMS);
    uint64_t elems = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne;
        st = rd_u64(r, &ne, "tensor dimensions");
        if (st) return st;
        if (ne == 0 || ne > (uint64_t)INT64_MAX)
            return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: tensor %s has invalid dimension %u = %lld",
                               r->name, tn, d, (long long)ne);
        if (elems > (uint64_t)INT64_MAX / ne)
            return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: tensor %s has too many elements (overflow)",
                               r->name, tn);
        elems *= ne;
        t->ne[d] = ne;
    }
    st = rd_u32(r, &t->type, "tensor type");
    if (!st) st = rd_u64(r, &t->offset, "tensor offset");
    if (st) return st;
    const char *type_name = ggml_type_name(t->type);
    if (!type_name)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: tensor %s has unknown type id %u", r->name, tn,
                           t->type);
    if (!ggml_type_supported(t->type)) {
        t->size = 0; /* known type hearth cannot compute with; the model loader reports it */
        return HEARTH_OK;
    }
    uint64_t row_bytes;
    if (!ggml_row_bytes(t->type, t->ne[0], &row_bytes))
        return hearth_fail(r->err, HEARTH_E_FORMAT,
                           "%s: tensor %s has rows of %llu elements, not a multiple of %s's block of %zu",
                           r->name, tn, (unsigned long long)t->ne[0], type_name, ggml_block_elems(t->type));
    uint64_t rows = elems / t->ne[0];
    if (row_bytes && rows > UINT64_MAX / row_bytes)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: tensor %s size overflows", r->name, tn);
    t->size = rows * row_bytes;
    return HEARTH_OK;
}

/* Parses one part's header; tensor offsets become absolute. */
static hearth_status parse_part(reader *r, arena *mem, part_header *h) {
    char magic[4];
    hearth_status st = rd(r, magic, 4, "magic");
    if (st) return st;
    if (memcmp(magic, GGUF_MAGIC, 4) != 0)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: not a GGUF file (magic is not \"GGUF\")", r->name);
    st = rd_u32(r, &h->version, "version");
    if (st) return st;
    if (h->version == 1)
        return hearth_fail(r->err, HEARTH_E_UNSUPPORTED,
                           "%s: GGUF version 1 is not supported; convert the model again with a current llama.cpp",
                           r->name);
    if (h->version != 2 && h->version != 3) {
        if ((h->version & 0xffff) == 0)
            return hearth_fail(r->err, HEARTH_E_UNSUPPORTED, "%s: big-endian GGUF files are not supported",
                               r->name);
        return hearth_fail(r->err, HEARTH_E_UNSUPPORTED, "%s: unsupported GGUF version %u (hearth reads 2 and 3)",
                           r->name, h->version);
    }
    uint64_t n_tensors, n_kv;
    st = rd_u64(r, &n_tensors, "tensor count");
    if (!st) st = rd_u64(r, &n_kv, "metadata count");
    if (st) return st;
    /* A key-value pair takes at least 8+0+4+1 bytes; a tensor entry 8+0+4+8+4+8. */
    if (n_kv > remaining(r) / 13)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: header claims %llu metadata entries, more than the file can hold",
                           r->name, (unsigned long long)n_kv);
    if (n_tensors > remaining(r) / 32)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: header claims %llu tensors, more than the file can hold",
                           r->name, (unsigned long long)n_tensors);
    h->n_kv = (size_t)n_kv;
    h->kv = arena_alloc(mem, h->n_kv * sizeof *h->kv + 1);
    if (!h->kv) return hearth_fail(r->err, HEARTH_E_NOMEM, "%s: out of memory for metadata", r->name);
    memset(h->kv, 0, h->n_kv * sizeof *h->kv);
    for (size_t i = 0; i < h->n_kv; i++) {
        gguf_kv *kv = &h->kv[i];
        st = rd_str(r, mem, &kv->key, "metadata key");
        if (st) return st;
        if (kv->key.len == 0 || strlen(kv->key.data) != kv->key.len)
            return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: metadata entry %zu has an empty or invalid key",
                               r->name, i);
        if (find_kv(h->kv, i, kv->key.data))
            return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: metadata key %s appears twice", r->name,
                               kv->key.data);
        st = rd_u32(r, &kv->type, "metadata type");
        if (st) return st;
        if (kv->type >= GGUF_TYPE_COUNT)
            return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: metadata %s has invalid type %u", r->name,
                               kv->key.data, kv->type);
        if (kv->type == GGUF_TYPE_STRING) st = rd_str(r, mem, &kv->value.str, kv->key.data);
        else if (kv->type == GGUF_TYPE_ARRAY) st = rd_array(r, mem, kv, kv->key.data);
        else st = rd_scalar(r, kv->type, kv, kv->key.data);
        if (st) return st;
    }

    uint64_t alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *al = find_kv(h->kv, h->n_kv, "general.alignment");
    if (al) {
        if (al->type != GGUF_TYPE_UINT32 || al->value.u64 == 0 || (al->value.u64 & (al->value.u64 - 1)))
            return hearth_fail(r->err, HEARTH_E_FORMAT,
                               "%s: general.alignment must be a u32 power of two", r->name);
        alignment = al->value.u64;
    }

    h->n_tensors = (size_t)n_tensors;
    h->tensors = arena_alloc(mem, h->n_tensors * sizeof *h->tensors + 1);
    if (!h->tensors) return hearth_fail(r->err, HEARTH_E_NOMEM, "%s: out of memory for the tensor table", r->name);
    for (size_t i = 0; i < h->n_tensors; i++) {
        st = parse_tensor_info(r, mem, &h->tensors[i], i);
        if (st) return st;
    }

    uint64_t data_start = (r->pos + alignment - 1) / alignment * alignment;
    if (data_start > r->size && h->n_tensors > 0)
        return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: file ends before its tensor data section", r->name);
    uint64_t data_size = data_start <= r->size ? r->size - data_start : 0;
    for (size_t i = 0; i < h->n_tensors; i++) {
        gguf_tensor *t = &h->tensors[i];
        if (t->offset % alignment)
            return hearth_fail(r->err, HEARTH_E_FORMAT, "%s: tensor %s offset %llu is not aligned to %llu",
                               r->name, t->name.data, (unsigned long long)t->offset,
                               (unsigned long long)alignment);
        if (t->offset > data_size || t->size > data_size - t->offset)
            return hearth_fail(r->err, HEARTH_E_FORMAT,
                               "%s: tensor %s extends past end of file (offset %.1f MB + %.1f MB, file %.1f MB)",
                               r->name, t->name.data, (data_start + (double)t->offset) / 1e6,
                               (double)t->size / 1e6, (double)r->size / 1e6);
        t->offset += data_start;
    }
    return HEARTH_OK;
}

static hearth_status finish(gguf_file *f, hearth_error *err) {
    if (f->n_tensors == 0) return HEARTH_OK;
    const gguf_tensor **sorted = malloc(f->n_tensors * sizeof *sorted);
    if (!sorted) return hearth_fail(err, HEARTH_E_NOMEM, "%s: out of memory", f->name);
    for (size_t i = 0; i < f->n_tensors; i++) sorted[i] = &f->tensors[i];
    qsort(sorted, f->n_tensors, sizeof *sorted, cmp_tensor_name);
    hearth_status st = HEARTH_OK;
    for (size_t i = 1; i < f->n_tensors; i++)
        if (cmp_tensor_name(&sorted[i - 1], &sorted[i]) == 0) {
            st = hearth_fail(err, HEARTH_E_FORMAT, "%s: tensor %s appears twice", f->name, sorted[i]->name.data);
            break;
        }
    free(sorted);
    return st;
}

static gguf_file *file_new(const char *name) {
    gguf_file *f = calloc(1, sizeof *f);
    if (f) snprintf(f->name, sizeof f->name, "%s", name ? name : "model");
    return f;
}

hearth_status gguf_open_memory(gguf_file **out, const void *data, size_t size, const char *name,
                               hearth_error *err) {
    return gguf_open_prefix(out, data, size, size, name, NULL, err);
}

hearth_status gguf_open_prefix(gguf_file **out, const void *data, size_t avail, uint64_t file_size,
                               const char *name, bool *need_more, hearth_error *err) {
    *out = NULL;
    if (need_more) *need_more = false;
    if (avail > file_size) avail = (size_t)file_size;
    gguf_file *f = file_new(name);
    reader *r = calloc(1, sizeof *r);
    if (!f || !r) {
        free(f);
        free(r);
        return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    }
    r->mem = data;
    r->size = file_size;
    r->avail = avail;
    r->name = f->name;
    r->err = err;
    part_header h = {0};
    hearth_status st = parse_part(r, &f->mem, &h);
    if (st && need_more) *need_more = r->short_prefix;
    free(r);
    if (!st) {
        f->version = h.version;
        f->kv = h.kv;
        f->n_kv = h.n_kv;
        f->tensors = h.tensors;
        f->n_tensors = h.n_tensors;
        f->n_parts = 1;
        st = finish(f, err);
    }
    if (st) {
        gguf_free(f);
        return st;
    }
    *out = f;
    return HEARTH_OK;
}

static bool kv_uint(const gguf_kv *kv, uint64_t *v) {
    if (!kv) return false;
    switch (kv->type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        *v = kv->value.u64;
        return true;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        if (kv->value.i64 < 0) return false;
        *v = (uint64_t)kv->value.i64;
        return true;
    default: return false;
    }
}

hearth_status gguf_open(gguf_file **out, const hearth_host *host, hearth_error *err) {
    *out = NULL;
    gguf_file *f = file_new(host->part_name ? host->part_name(host->ctx, 0) : "model");
    reader *r = calloc(1, sizeof *r);
    part_header *parts = NULL;
    hearth_status st = HEARTH_OK;
    if (!f || !r) {
        st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        goto done;
    }
    int count = 1;
    for (int p = 0; p < count; p++) {
        uint64_t size;
        st = host->open_part(host->ctx, p, count, &size, err);
        if (st) goto done;
        memset(r, 0, sizeof *r);
        r->host = host;
        r->part = p;
        r->mem = host->map ? host->map(host->ctx, p) : NULL;
        r->size = size;
        r->avail = size;
        r->name = host->part_name ? host->part_name(host->ctx, p) : f->name;
        r->err = err;
        part_header h = {0};
        st = parse_part(r, &f->mem, &h);
        if (st) goto done;
        uint64_t split_no = 0, split_count = 1;
        const gguf_kv *kno = find_kv(h.kv, h.n_kv, "split.no");
        const gguf_kv *kcount = find_kv(h.kv, h.n_kv, "split.count");
        if (kcount && (!kv_uint(kcount, &split_count) || split_count < 1 || split_count > 9999)) {
            st = hearth_fail(err, HEARTH_E_FORMAT, "%s: split.count is invalid", r->name);
            goto done;
        }
        if (kno && !kv_uint(kno, &split_no)) {
            st = hearth_fail(err, HEARTH_E_FORMAT, "%s: split.no is invalid", r->name);
            goto done;
        }
        if (p == 0) {
            if (split_no != 0) {
                st = hearth_fail(err, HEARTH_E_ARG,
                                 "%s: this is part %llu of a split model; open the first part (-00001-of-...)",
                                 r->name, (unsigned long long)split_no + 1);
                goto done;
            }
            count = (int)split_count;
            parts = calloc((size_t)count, sizeof *parts);
            if (!parts) {
                st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
                goto done;
            }
        } else if (split_no != (uint64_t)p || split_count != (uint64_t)count) {
            st = hearth_fail(err, HEARTH_E_FORMAT, "%s: expected split part %d of %d, found part %llu of %llu",
                             r->name, p + 1, count, (unsigned long long)split_no + 1,
                             (unsigned long long)split_count);
            goto done;
        }
        for (size_t i = 0; i < h.n_tensors; i++) h.tensors[i].part = p;
        parts[p] = h;
    }
    /* Metadata comes from part 0; tensors from all parts. */
    size_t total = 0;
    for (int p = 0; p < count; p++) total += parts[p].n_tensors;
    const gguf_kv *kt = find_kv(parts[0].kv, parts[0].n_kv, "split.tensors.count");
    uint64_t expect;
    if (kt && (!kv_uint(kt, &expect) || expect != total)) {
        st = hearth_fail(err, HEARTH_E_FORMAT, "%s: split.tensors.count says %llu tensors, the parts hold %zu",
                         f->name, (unsigned long long)expect, total);
        goto done;
    }
    f->version = parts[0].version;
    f->kv = parts[0].kv;
    f->n_kv = parts[0].n_kv;
    f->n_parts = count;
    f->n_tensors = total;
    f->tensors = arena_alloc(&f->mem, total * sizeof *f->tensors + 1);
    if (!f->tensors) {
        st = hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (int p = 0; p < count; p++)
        for (size_t i = 0; i < parts[p].n_tensors; i++) f->tensors[k++] = parts[p].tensors[i];
    st = finish(f, err);
done:
    free(r);
    free(parts);
    if (st) {
        gguf_free(f);
        return st;
    }
    *out = f;
    return HEARTH_OK;
}

void gguf_free(gguf_file *f) {
    if (!f) return;
    arena_free(&f->mem);
    free(f);
}

uint32_t gguf_version(const gguf_file *f) { return f->version; }
size_t gguf_kv_count(const gguf_file *f) { return f->n_kv; }
const gguf_kv *gguf_kv_at(const gguf_file *f, size_t i) { return i < f->n_kv ? &f->kv[i] : NULL; }
size_t gguf_tensor_count(const gguf_file *f) { return f->n_tensors; }
const gguf_tensor *gguf_tensor_at(const gguf_file *f, size_t i) {
    return i < f->n_tensors ? &f->tensors[i] : NULL;
}
int gguf_part_count(const gguf_file *f) { return f->n_parts; }
const char *gguf_name(const gguf_file *f) { return f->name; }

const gguf_kv *gguf_find(const gguf_file *f, const char *key) { return find_kv(f->kv, f->n_kv, key); }

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    for (size_t i = 0; i < f->n_tensors; i++)
        if (str_eq(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv) return false;
    switch (kv->type) {
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        *out = kv->value.i64;
        return true;
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        if (kv->value.u64 > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)kv->value.u64;
        return true;
    default: return false;
    }
}

bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out) {
    uint64_t v;
    if (!kv_uint(gguf_find(f, key), &v) || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

bool gguf_get_f32(const gguf_file *f, const char *key, float *out) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv) return false;
    if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64) {
        *out = (float)kv->value.f64;
        return true;
    }
    int64_t i;
    if (!gguf_get_i64(f, key, &i)) return false;
    *out = (float)i;
    return true;
}

bool gguf_get_bool(const gguf_file *f, const char *key, bool *out) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv || kv->type != GGUF_TYPE_BOOL) return false;
    *out = kv->value.b;
    return true;
}

bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv || kv->type != GGUF_TYPE_STRING) return false;
    *out = kv->value.str;
    return true;
}

bool gguf_get_array(const gguf_file *f, const char *key, uint32_t *elem_type, uint64_t *count,
                    const void **data) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv || kv->type != GGUF_TYPE_ARRAY) return false;
    *elem_type = kv->elem_type;
    *count = kv->count;
    *data = kv->value.array;
    return true;
}
