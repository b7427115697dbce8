/* The host interface: everything the portable core needs from the platform.
 * The core never opens files, starts threads or reads clocks itself; the
 * native CLI implements this with mmap and pthreads, the WASM build with
 * imports that the JS host provides. */
#ifndef HEARTH_HOST_H
#define HEARTH_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* One unit of parallel work: called once on each of nthreads threads with
 * thread = 0..nthreads-1; returns when all calls have returned. Tasks write
 * only their own outputs, so a host whose thread failed inside a region may
 * redo the whole region as fn(arg, 0, 1); fn(arg, 0, 1) must then do all
 * the work even where threads share it out at run time. */
typedef void (*hearth_task_fn)(void *arg, int thread, int nthreads);

typedef struct hearth_host {
    void *ctx;

    /* Model files. Part 0 is the file the user named; for a split model the
     * core asks for parts 1..count-1, which the host finds from part 0's name
     * (NAME-00001-of-0000N.gguf). Sets *size to the part's byte size. */
    hearth_status (*open_part)(void *ctx, int part, int count, uint64_t *size, hearth_error *err);
    /* Reads exactly len bytes at offset of a part opened before. */
    hearth_status (*read)(void *ctx, int part, uint64_t offset, void *dst, size_t len, hearth_error *err);
    /* The whole part in memory (mmap), or NULL when the host cannot map it;
     * the core then reads what it needs into its own buffers. */
    const uint8_t *(*map)(void *ctx, int part);
    /* Display name of a part for error messages ("model.gguf"). */
    const char *(*part_name)(void *ctx, int part);

    /* Runs fn on every worker thread (the calling thread included). */
    void (*parallel)(void *ctx, hearth_task_fn fn, void *arg);
    int (*thread_count)(void *ctx);

    /* Monotonic milliseconds. */
    double (*now_ms)(void *ctx);
    /* Diagnostics for the user (warnings); may be NULL. level: 0 info, 1 warning. */
    void (*log)(void *ctx, int level, const char *message);
} hearth_host;

#endif
