/* src/host.h for wasm32: model bytes, clock and logs come from JS imports.
 * Weights are not mapped: the core allocates its buffers in wasm memory and
 * asks for byte ranges, which JS copies straight into them (positioned reads
 * in Node), so a model never passes whole through JS memory.
 *
 * Threads: in the shared-memory build (hearth-mt.wasm) JS starts workers
 * that instantiate the same module on the same memory and call
 * hearth_wasm_thread_loop; parallel regions are handed to them through
 * atomics here, with no JS on the way (a forward pass has hundreds). In the
 * plain build, and until workers run, parallel() calls fn(arg, 0, 1). */
#include "host_wasm.h"
#include "thread_shares.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- the thread pool ---- */

enum { MAX_THREADS = 64, THREAD_STACK = 1 << 20 };

/* Workers spin this long after a region before they sleep in
 * memory.atomic.wait32 (allowed in workers): it covers the serial parts
 * between the regions of a forward pass and between two decoded tokens
 * (sampling, streaming the token out), where a sleeping worker would cost
 * a wake-up (tens of microseconds) at each of a token's hundred regions.
 * Measured: two-thread Q8_0 decode in Chromium went from 46 to 52 tok/s
 * against spinning 20000 rounds (a few tens of microseconds). */
#define SPIN_MS 5.0

static struct {
    int n_threads;          /* 1 + workers running */
    _Atomic int generation; /* bumped for each region (and to wake workers to quit): its tag */
    _Atomic int quit;
    _Atomic int failed_id;  /* a worker that trapped in a region (0: none) */
    thread_shares shares;   /* the region's shares, to whichever thread claims them */
    thread_shares_gauge gauge; /* the caller alone while that is faster (a busy machine) */
    _Atomic int solo;          /* the gauge keeps the caller alone: workers sleep at once, not spin */
    void *stacks;
    uint32_t stack_tops[MAX_THREADS];
} pool = {.n_threads = 1};

/* Prepares n - 1 worker stacks; returns the address of their tops (JS sets
 * each worker's __stack_pointer from it), or 0. Threads are used once
 * hearth_wasm_threads_ready(n) is called. */
__attribute__((export_name("hearth_wasm_threads_prepare")))
uint32_t *hearth_wasm_threads_prepare(int n) {
    if (n < 2 || n > MAX_THREADS || pool.stacks) return NULL;
    pool.stacks = aligned_alloc(16, (size_t)(n - 1) * THREAD_STACK);
    if (!pool.stacks) return NULL;
    for (int i = 0; i < n - 1; i++)
        pool.stack_tops[i] = (uint32_t)(uintptr_t)((char *)pool.stacks + (size_t)(i + 1) * THREAD_STACK);
    /* Workers start from generation 0, whenever they get to run: a region
     * bumped before a late worker reads the counter is still seen by it. */
    atomic_store(&pool.generation, 0);
    atomic_store(&pool.quit, 0);
    atomic_store(&pool.failed_id, 0);
    pool.gauge = (thread_shares_gauge){0};
    atomic_store(&pool.solo, 0);
    return pool.stack_tops;
}

__attribute__((export_name("hearth_wasm_threads_ready"))) void hearth_wasm_threads_ready(int n) {
    pool.n_threads = n;
}

/* Stops the workers (they return from hearth_wasm_thread_loop), also ones
 * started before a failed start-up. */
__attribute__((export_name("hearth_wasm_threads_stop"))) void hearth_wasm_threads_stop(void) {
    if (!pool.stacks) return;
    atomic_store(&pool.quit, 1);
    atomic_fetch_add(&pool.generation, 1);
    __builtin_wasm_memory_atomic_notify((int *)&pool.generation, (unsigned)-1);
    pool.n_threads = 1;
}

/* A worker trapped inside a region (JS caught it): the caller redoes the
 * whole region alone and the pool runs on one thread from then on. */
__attribute__((export_name("hearth_wasm_thread_failed"))) void hearth_wasm_thread_failed(int id) {
    atomic_store(&pool.failed_id, id);
    thread_shares_abandon(&pool.shares);
}

/* A worker's life: id 1 .. n-1. */
__attribute__((export_name("hearth_wasm_thread_loop"))) void hearth_wasm_thread_loop(int id) {
    int seen = 0;
    for (;;) {
        int gen, spins = 0;
        double since = -1;
        while ((gen = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            if (++spins % 1024) continue;
            /* (while the caller runs regions alone, a spinning worker only takes its core) */
            if (!atomic_load_explicit(&pool.solo, memory_order_relaxed)) {
                const double t = js_now_ms();
                if (since < 0) since = t;
                if (t - since < SPIN_MS) continue;
            }
            __builtin_wasm_memory_atomic_wait32((int *)&pool.generation, seen, -1);
            since = -1;
        }
        seen = gen;
        if (atomic_load(&pool.quit)) return;
        thread_shares_run(&pool.shares, (uint32_t)gen);
    }
}

static void run_parallel(void *ctx, hearth_task_fn fn, void *arg) {
    int n = pool.n_threads;
    if (n == 1) {
        fn(arg, 0, 1);
        return;
    }
    const double t_start = js_now_ms();
    if (thread_shares_solo(&pool.gauge)) {
        /* (not in a probe: there the threaded regions must find workers as the native pool's, spinning) */
        if (!pool.gauge.probing) atomic_store_explicit(&pool.solo, 1, memory_order_relaxed);
        fn(arg, 0, 1);
        thread_shares_gauge_add(&pool.gauge, fn, true, js_now_ms() - t_start);
        return;
    }
    /* the tag first, then the wake-up (thread_shares.h) */
    const int gen = atomic_load_explicit(&pool.generation, memory_order_relaxed) + 1;
    atomic_store_explicit(&pool.solo, 0, memory_order_relaxed);
    thread_shares_publish(&pool.shares, (uint32_t)gen, fn, arg, n);
    atomic_store_explicit(&pool.generation, gen, memory_order_release);
    __builtin_wasm_memory_atomic_notify((int *)&pool.generation, (unsigned)(n - 1));
    thread_shares_run(&pool.shares, (uint32_t)gen);
    /* The caller may be a browser's main thread, where waiting traps: spin. */
    while (!thread_shares_finished(&pool.shares)) {
    }
    int failed = atomic_load(&pool.failed_id);
    if (failed) {
        /* Tasks write their own outputs only, so redoing the region is safe;
         * the failed thread's share is not known to have been written (shares
         * may be handed out as the region runs), so all of it, as one thread. */
        fn(arg, 0, 1);
        pool.n_threads = 1;
        static const char msg[] = "a compute thread failed; continuing on one thread";
        js_log(1, msg, sizeof msg - 1);
        return;
    }
    thread_shares_gauge_add(&pool.gauge, fn, false, js_now_ms() - t_start);
}

static int thread_count(void *ctx) { return pool.n_threads; }
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
