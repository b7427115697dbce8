/* src/host.h for wasm32: model bytes, clock and logs come from JS imports.
 * Weights are not mapped: the core allocates its buffers in wasm memory and
 * asks for byte ranges, which JS copies straight into them (positioned reads
 * in Node), so a model never passes whole through JS memory. One thread:
 * parallel() calls fn(arg, 0, 1). */
#include "host_wasm.h"

#include <stdio.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module("hearth"), import_name(name)))

/* 0 on success; otherwise a NUL-terminated message in msg (cap bytes). */
IMPORT("open_part") int js_open_part(int part, int count, double *size, char *msg, int cap);
IMPORT("read") int js_read(int part, double offset, void *dst, size_t len, char *msg, int cap);
/* Writes the display name (NUL-terminated, truncated to cap). */
IMPORT("part_name") void js_part_name(int part, char *buf, int cap);
IMPORT("now_ms") double js_now_ms(void);
IMPORT("log") void js_log(int level, const char *message, size_t len);

#define MAX_PARTS 256

static struct {
    uint64_t size[MAX_PARTS];
    char name[MAX_PARTS][256];
} parts;

static hearth_status open_part(void *ctx, int part, int count, uint64_t *size, hearth_error *err) {
    if (part < 0 || part >= MAX_PARTS || count > MAX_PARTS)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED, "models split into more than %d parts are not supported",
                           MAX_PARTS);
    char msg[400] = {0};
    double sz = 0;
    if (js_open_part(part, count, &sz, msg, (int)sizeof msg) != 0)
        return hearth_fail(err, HEARTH_E_IO, "%s", msg[0] ? msg : "cannot open the model");
    parts.size[part] = (uint64_t)sz;
    *size = parts.size[part];
    return HEARTH_OK;
}

static hearth_status read_part(void *ctx, int part, uint64_t offset, void *dst, size_t len, hearth_error *err) {
    if (part < 0 || part >= MAX_PARTS) return hearth_fail(err, HEARTH_E_ARG, "read from a model part that is not open");
    if (offset > parts.size[part] || len > parts.size[part] - offset)
        return hearth_fail(err, HEARTH_E_IO, "part %d: read past end of file (offset %llu + %zu, file %llu bytes)",
                           part, (unsigned long long)offset, len, (unsigned long long)parts.size[part]);
    char msg[400] = {0};
    if (len && js_read(part, (double)offset, dst, len, msg, (int)sizeof msg) != 0)
        return hearth_fail(err, HEARTH_E_IO, "%s", msg[0] ? msg : "read failed");
    return HEARTH_OK;
}

static const uint8_t *map_part(void *ctx, int part) { return NULL; }

static const char *part_name(void *ctx, int part) {
    if (part < 0 || part >= MAX_PARTS) return "model";
    if (!parts.name[part][0]) js_part_name(part, parts.name[part], (int)sizeof parts.name[part]);
    return parts.name[part][0] ? parts.name[part] : "model";
}

static void run_parallel(void *ctx, hearth_task_fn fn, void *arg) { fn(arg, 0, 1); }
static int thread_count(void *ctx) { return 1; }
static double now_ms(void *ctx) { return js_now_ms(); }
static void log_message(void *ctx, int level, const char *message) { js_log(level, message, strlen(message)); }

static const hearth_host host = {
    .ctx = NULL,
    .open_part = open_part,
    .read = read_part,
    .map = map_part,
    .part_name = part_name,
    .parallel = run_parallel,
    .thread_count = thread_count,
    .now_ms = now_ms,
    .log = log_message,
};

const hearth_host *wasm_host(void) {
    memset(&parts, 0, sizeof parts);
    return &host;
}
