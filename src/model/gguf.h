/* GGUF v2/v3 reader: metadata, tensor table, split files.
 * Everything read from the file is validated; lookups never read past what
 * was parsed. Tensor data is not read here: the model loader asks the host
 * for it using the offsets recorded in the table. */
#ifndef HEARTH_GGUF_H
#define HEARTH_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "host.h"

enum gguf_value_type {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
};

/* Strings are length-counted and not guaranteed to be NUL-free; the reader
 * adds a terminating NUL after each so that data can be used as a C string
 * when the caller knows it holds none. */
typedef struct {
    uint64_t len;
    const char *data;
} gguf_str;

typedef struct {
    gguf_str key;
    uint32_t type;       /* enum gguf_value_type */
    uint32_t elem_type;  /* for arrays: type of the elements (never ARRAY) */
    uint64_t count;      /* for arrays: element count */
    union {
        uint64_t u64;
        int64_t i64;
        double f64;
        bool b;
        gguf_str str;
        const void *array; /* packed elements of elem_type; gguf_str[] for strings */
    } value;
} gguf_kv;

#define GGUF_MAX_DIMS 4

typedef struct {
    gguf_str name;
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the row length; unused dims are 1 */
    uint32_t type;              /* ggml type id (ggml_types.h) */
    int part;                   /* which split file holds the data */
    uint64_t offset;            /* absolute byte offset of the data in that part */
    uint64_t size;              /* bytes */
} gguf_tensor;

typedef struct gguf_file gguf_file;

/* Parses the header(s) of a model through the host: part 0, then any split
 * parts it announces. Messages name the file: "m.gguf: tensor x extends past...". */
hearth_status gguf_open(gguf_file **out, const hearth_host *host, hearth_error *err);
/* Parses one in-memory GGUF image (tests and fuzzing). The buffer must
 * outlive nothing: all metadata is copied. */
hearth_status gguf_open_memory(gguf_file **out, const void *data, size_t size, const char *name,
                               hearth_error *err);
/* Parses the header of a file of file_size bytes of which only the first
 * avail are at data (the first megabytes of a download): tensor extents are
 * checked against file_size. When the header goes on past avail it fails
 * with *need_more set (a longer prefix may parse). */
hearth_status gguf_open_prefix(gguf_file **out, const void *data, size_t avail, uint64_t file_size,
                               const char *name, bool *need_more, hearth_error *err);
void gguf_free(gguf_file *f);

uint32_t gguf_version(const gguf_file *f);
size_t gguf_kv_count(const gguf_file *f);
const gguf_kv *gguf_kv_at(const gguf_file *f, size_t i);
size_t gguf_tensor_count(const gguf_file *f);
const gguf_tensor *gguf_tensor_at(const gguf_file *f, size_t i);
int gguf_part_count(const gguf_file *f);
const char *gguf_name(const gguf_file *f); /* display name of part 0 */

const gguf_kv *gguf_find(const gguf_file *f, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/* Typed getters: return false when the key is absent or of an incompatible
 * type (any integer type converts to an integer getter when in range;
 * integers and floats convert to the float getter). */
bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out);
bool gguf_get_f32(const gguf_file *f, const char *key, float *out);
bool gguf_get_bool(const gguf_file *f, const char *key, bool *out);
bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out);
/* Arrays: element type, count and packed data (gguf_str[] for strings). */
bool gguf_get_array(const gguf_file *f, const char *key, uint32_t *elem_type, uint64_t *count,
                    const void **data);

const char *gguf_type_name(uint32_t type);

#endif
