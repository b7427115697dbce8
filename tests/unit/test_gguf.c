/* GGUF reader: valid files, every metadata type, split files, and malformed
 * or truncated files that must fail with a message instead of crashing. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "model/ggml_types.h"
#include "model/gguf.h"
#include "gguf_build.h"
#include "host_native.h"

/* A file with one metadata entry of each type and two tensors. */
static buf make_valid(uint32_t version) {
    buf b = {0};
    put(&b, "GGUF", 4);
    u32(&b, version);
    u64(&b, 2);  /* tensors */
    u64(&b, 15); /* kv */
    kv_str(&b, "general.architecture", "llama");
    str(&b, "t.u8"); u32(&b, GGUF_TYPE_UINT8); put(&b, "\xfe", 1);
    str(&b, "t.i8"); u32(&b, GGUF_TYPE_INT8); put(&b, "\xfe", 1);
    str(&b, "t.u16"); u32(&b, GGUF_TYPE_UINT16); put(&b, "\x34\x12", 2);
    str(&b, "t.i16"); u32(&b, GGUF_TYPE_INT16); put(&b, "\xfe\xff", 2);
    kv_u32(&b, "t.u32", 123456);
    str(&b, "t.i32"); u32(&b, GGUF_TYPE_INT32); u32(&b, (uint32_t)-7);
    str(&b, "t.f32"); u32(&b, GGUF_TYPE_FLOAT32); { float f = 1.5f; put(&b, &f, 4); }
    str(&b, "t.bool"); u32(&b, GGUF_TYPE_BOOL); put(&b, "\x01", 1);
    str(&b, "t.u64"); u32(&b, GGUF_TYPE_UINT64); u64(&b, 1ull << 40);
    str(&b, "t.i64"); u32(&b, GGUF_TYPE_INT64); u64(&b, (uint64_t)-5);
    str(&b, "t.f64"); u32(&b, GGUF_TYPE_FLOAT64); { double d = -2.25; put(&b, &d, 8); }
    str(&b, "t.strs"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, GGUF_TYPE_STRING); u64(&b, 3);
    str(&b, "a"); str(&b, ""); str(&b, "\xe2\x96\x81hi");
    str(&b, "t.f32s"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, GGUF_TYPE_FLOAT32); u64(&b, 2);
    { float f[2] = {0.25f, -1}; put(&b, f, 8); }
    kv_u32(&b, "general.alignment", 32);
    /* tensors: f32 [4, 2] and q8_0 [32, 1] */
    str(&b, "a.weight"); u32(&b, 2); u64(&b, 4); u64(&b, 2); u32(&b, GGML_TYPE_F32); u64(&b, 0);
    str(&b, "b.weight"); u32(&b, 1); u64(&b, 32); u32(&b, GGML_TYPE_Q8_0); u64(&b, 32);
    pad(&b, 32);
    float vals[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    put(&b, vals, sizeof vals);
    block_q8_0 q = {0};
    put(&b, &q, sizeof q);
    return b;
}

static hearth_status parse(const buf *b, gguf_file **f, hearth_error *err) {
    return gguf_open_memory(f, b->p, b->n, "t.gguf", err);
}

static void test_valid(void) {
    for (uint32_t v = 2; v <= 3; v++) {
        buf b = make_valid(v);
        gguf_file *f;
        hearth_error err = {0};
        hearth_status st = parse(&b, &f, &err);
        CHECK("valid file parses", st == HEARTH_OK, "%s", err.message);
        if (st) continue;
        uint32_t u;
        int64_t i;
        float fl;
        bool bo;
        gguf_str s;
        CHECK("u8", gguf_get_u32(f, "t.u8", &u) && u == 254, "got %u", u);
        CHECK("i8", gguf_get_i64(f, "t.i8", &i) && i == -2, "got %lld", (long long)i);
        CHECK("u16", gguf_get_u32(f, "t.u16", &u) && u == 0x1234, "got %u", u);
        CHECK("i16", gguf_get_i64(f, "t.i16", &i) && i == -2, "got %lld", (long long)i);
        CHECK("i16 is not a u32", !gguf_get_u32(f, "t.i16", &u), "negative accepted");
        CHECK("u32", gguf_get_u32(f, "t.u32", &u) && u == 123456, "got %u", u);
        CHECK("i32", gguf_get_i64(f, "t.i32", &i) && i == -7, "got %lld", (long long)i);
        CHECK("f32", gguf_get_f32(f, "t.f32", &fl) && fl == 1.5f, "got %g", fl);
        CHECK("bool", gguf_get_bool(f, "t.bool", &bo) && bo, "bool");
        CHECK("u64 too big for u32", !gguf_get_u32(f, "t.u64", &u), "accepted");
        CHECK("u64", gguf_get_i64(f, "t.u64", &i) && i == 1ll << 40, "got %lld", (long long)i);
        CHECK("i64", gguf_get_i64(f, "t.i64", &i) && i == -5, "got %lld", (long long)i);
        CHECK("f64", gguf_get_f32(f, "t.f64", &fl) && fl == -2.25f, "got %g", fl);
        CHECK("string", gguf_get_str(f, "general.architecture", &s) && strcmp(s.data, "llama") == 0, "string");
        uint32_t et;
        uint64_t n;
        const void *data;
        CHECK("string array", gguf_get_array(f, "t.strs", &et, &n, &data) && et == GGUF_TYPE_STRING && n == 3 &&
              ((const gguf_str *)data)[2].len == 5 && ((const gguf_str *)data)[1].len == 0, "array");
        CHECK("f32 array", gguf_get_array(f, "t.f32s", &et, &n, &data) && et == GGUF_TYPE_FLOAT32 && n == 2 &&
              ((const float *)data)[1] == -1, "array");
        CHECK("missing key", !gguf_find(f, "nope") && !gguf_get_u32(f, "nope", &u), "found");
        const gguf_tensor *t = gguf_find_tensor(f, "a.weight");
        CHECK("tensor a", t && t->ne[0] == 4 && t->ne[1] == 2 && t->size == 32 && t->offset % 32 == 0, "tensor");
        t = gguf_find_tensor(f, "b.weight");
        CHECK("tensor b q8_0", t && t->size == 34 && t->type == GGML_TYPE_Q8_0, "tensor");
        CHECK("tensor data offset", t && t->offset + t->size == b.n, "offset %llu", t ? (unsigned long long)t->offset : 0);
        gguf_free(f);
        free(b.p);
    }
}

/* Every prefix of a valid file is truncated somewhere: all must fail cleanly. */
static void test_truncated(void) {
    buf b = make_valid(3);
    int failures = 0;
    for (size_t n = 0; n < b.n; n++) {
        gguf_file *f = NULL;
        hearth_error err = {0};
        buf t = {b.p, n, n};
        if (parse(&t, &f, &err) == HEARTH_OK || err.message[0] == 0 || !strstr(err.message, "t.gguf")) failures++;
        gguf_free(f);
    }
    CHECK("every truncation fails with a message naming the file", failures == 0, "%d prefixes misbehaved", failures);
    free(b.p);
}

typedef void (*mutator)(buf *b);

static void expect_error(const char *name, buf b, const char *needle) {
    gguf_file *f = NULL;
    hearth_error err = {0};
    hearth_status st = parse(&b, &f, &err);
    CHECK(name, st != HEARTH_OK && strstr(err.message, needle), "status %d, message \"%s\"", st, err.message);
    gguf_free(f);
    free(b.p);
}

static size_t find_bytes(const buf *b, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= b->n; i++)
        if (memcmp(b->p + i, s, n) == 0) return i;
    return (size_t)-1;
}

static void test_malformed(void) {
    buf b = make_valid(3);
    memcpy(b.p, "GGUX", 4);
    expect_error("bad magic", b, "not a GGUF file");

    b = make_valid(3);
    b.p[4] = 1;
    expect_error("version 1", b, "version 1");

    b = make_valid(3);
    b.p[4] = 9;
    expect_error("version 9", b, "unsupported GGUF version");

    b = make_valid(3);
    memset(b.p + 8, 0xff, 8); /* tensor count */
    expect_error("huge tensor count", b, "tensors");

    b = make_valid(3);
    memset(b.p + 16, 0xff, 8); /* kv count */
    expect_error("huge kv count", b, "metadata entries");

    b = make_valid(3);
    memset(b.p + 24, 0xff, 8); /* first key length */
    expect_error("huge string length", b, "claims");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "t.strs") + 6 + 4 + 4; memset(b.p + at, 0x7f, 8); }
    expect_error("huge array length", b, "elements");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "t.bool") + 6; b.p[at] = 99; }
    expect_error("invalid value type", b, "invalid type");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "t.bool") + 6 + 4; b.p[at] = 2; }
    expect_error("bool of 2", b, "bool");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "a.weight") + 8; b.p[at] = 7; }
    expect_error("too many dims", b, "dimensions");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "a.weight") + 8 + 4; memset(b.p + at, 0, 8); }
    expect_error("zero dim", b, "invalid dimension");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "a.weight") + 8 + 4; memset(b.p + at, 0xff, 7); b.p[at + 7] = 0x0f; }
    expect_error("element count overflow", b, "");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "a.weight") + 8 + 4 + 16; b.p[at] = 77; }
    expect_error("unknown tensor type", b, "unknown type id 77");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "b.weight") + 8 + 4; b.p[at] = 31; }
    expect_error("row not a multiple of the block", b, "not a multiple");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "b.weight") + 8 + 4 + 8 + 4; b.p[at] = 64; }
    expect_error("tensor past end of file", b, "extends past end of file");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "b.weight") + 8 + 4 + 8 + 4; b.p[at] = 33; }
    expect_error("misaligned tensor", b, "not aligned");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "b.weight"); b.p[at] = 'a'; }
    expect_error("duplicate tensor", b, "appears twice");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "t.u16"); memcpy(b.p + at, "t.u32", 5); }
    expect_error("duplicate key", b, "appears twice");

    b = make_valid(3);
    { size_t at = find_bytes(&b, "general.alignment") + 17 + 4; b.p[at] = 3; }
    expect_error("alignment not a power of two", b, "alignment");
}

/* Byte flips anywhere must never crash (run under ASan in `make asan`). */
static void test_random_corruption(void) {
    buf b = make_valid(3);
    uint64_t rng = 12345;
    int ok = 0, fail = 0;
    for (int i = 0; i < 20000; i++) {
        buf c = {malloc(b.n), b.n, b.n};
        memcpy(c.p, b.p, b.n);
        for (int k = 0; k < 3; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            c.p[(rng >> 33) % c.n] ^= (uint8_t)(1u << ((rng >> 20) & 7));
        }
        gguf_file *f = NULL;
        hearth_error err = {0};
        if (parse(&c, &f, &err) == HEARTH_OK) ok++;
        else fail += err.message[0] != 0;
        gguf_free(f);
        free(c.p);
    }
    CHECK("random corruption never crashes; failures have messages", ok + fail == 20000, "%d ok, %d failed", ok, fail);
    free(b.p);
}

static void write_file(const char *path, const buf *b) {
    FILE *f = fopen(path, "wb");
    fwrite(b->p, 1, b->n, f);
    fclose(f);
}

static buf make_split_part(int no, int count, int total_tensors, const char *tensor) {
    buf b = {0};
    put(&b, "GGUF", 4);
    u32(&b, 3);
    u64(&b, 1);
    u64(&b, no == 0 ? 4 : 3);
    if (no == 0) kv_str(&b, "general.architecture", "llama");
    str(&b, "split.no"); u32(&b, GGUF_TYPE_UINT16); { uint16_t v = (uint16_t)no; put(&b, &v, 2); }
    str(&b, "split.count"); u32(&b, GGUF_TYPE_UINT16); { uint16_t v = (uint16_t)count; put(&b, &v, 2); }
    str(&b, "split.tensors.count"); u32(&b, GGUF_TYPE_INT32); u32(&b, (uint32_t)total_tensors);
    str(&b, tensor); u32(&b, 1); u64(&b, 8); u32(&b, GGML_TYPE_F32); u64(&b, 0);
    pad(&b, 32);
    float v[8] = {(float)no, 1, 2, 3, 4, 5, 6, 7};
    put(&b, v, sizeof v);
    return b;
}

static void test_split(void) {
    char dir[] = "/tmp/hearth-split-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK("temp dir", 0, "mkdtemp failed");
        return;
    }
    char p1[256], p2[256], p3[256];
    snprintf(p1, sizeof p1, "%s/m-00001-of-00003.gguf", dir);
    snprintf(p2, sizeof p2, "%s/m-00002-of-00003.gguf", dir);
    snprintf(p3, sizeof p3, "%s/m-00003-of-00003.gguf", dir);
    const char *names[3] = {"x0", "x1", "x2"};
    const char *paths[3] = {p1, p2, p3};
    for (int i = 0; i < 3; i++) {
        buf b = make_split_part(i, 3, 3, names[i]);
        write_file(paths[i], &b);
        free(b.p);
    }
    native_host *h;
    hearth_error err = {0};
    gguf_file *f = NULL;
    hearth_status st = native_host_create(&h, p1, 1, &err);
    if (!st) st = gguf_open(&f, native_host_iface(h), &err);
    CHECK("split model opens from part 1", st == HEARTH_OK && gguf_part_count(f) == 3 && gguf_tensor_count(f) == 3,
          "%s", err.message);
    if (!st) {
        const gguf_tensor *t = gguf_find_tensor(f, "x2");
        float first = -1;
        if (t) native_host_iface(h)->read(native_host_iface(h)->ctx, t->part, t->offset, &first, 4, &err);
        CHECK("split tensor data comes from its part", t && t->part == 2 && first == 2.0f, "part %d value %g",
              t ? t->part : -1, first);
    }
    gguf_free(f);
    native_host_free(h);

    f = NULL;
    st = native_host_create(&h, p2, 1, &err);
    if (!st) st = gguf_open(&f, native_host_iface(h), &err);
    CHECK("opening part 2 says to open part 1", st != HEARTH_OK && strstr(err.message, "first part"), "%s", err.message);
    gguf_free(f);
    native_host_free(h);

    unlink(p3);
    f = NULL;
    st = native_host_create(&h, p1, 1, &err);
    if (!st) st = gguf_open(&f, native_host_iface(h), &err);
    CHECK("missing split part is a clear error", st != HEARTH_OK && strstr(err.message, "00003-of-00003"), "%s",
          err.message);
    gguf_free(f);
    native_host_free(h);
    unlink(p1);
    unlink(p2);
    rmdir(dir);
}

/* `test_gguf --write-seeds DIR` writes the fuzzer's seed corpus. */
static int write_seeds(const char *dir) {
    char path[512];
    buf v2 = make_valid(2), v3 = make_valid(3), sp = make_split_part(0, 1, 1, "x0");
    const buf *seeds[] = {&v2, &v3, &sp};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/seed%d.gguf", dir, i);
        write_file(path, seeds[i]);
    }
    free(v2.p);
    free(v3.p);
    free(sp.p);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2]);
    test_valid();
    test_truncated();
    test_malformed();
    test_random_corruption();
    test_split();
    CHECK_DONE();
}
