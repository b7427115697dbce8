/* Read bandwidth with N threads: each thread sums its own contiguous share
 * of one 512 MiB buffer with the widest loads the CPU has (as the decode
 * kernels read weights), all starting together; the best of several passes.
 * Threads of its own rather than the engine's pool: the pool's gauge may run
 * a region on one thread, and this must measure the threads it was given. */
#define _POSIX_C_SOURCE 200809L
#include "bandwidth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BW_X86 1
#endif

enum { BW_MAX_THREADS = 256, BW_PASSES = 6 }; /* (the native host's most threads) */
static const size_t BW_BYTES = (size_t)512 << 20;

typedef uint64_t (*sum_fn)(const uint8_t *p, size_t n);

/* Four chains so the loads, not the adds, set the pace. */
static uint64_t sum_scalar(const uint8_t *p, size_t n) {
    const uint64_t *q = (const uint64_t *)(const void *)p;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= n / 8; i += 4) {
        a += q[i];
        b += q[i + 1];
        c += q[i + 2];
        d += q[i + 3];
    }
    return a + b + c + d;
}

#ifdef BW_X86
__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint8_t *p, size_t n) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a = _mm256_add_epi64(a, _mm256_load_si256((const __m256i *)(const void *)(p + i)));
        b = _mm256_add_epi64(b, _mm256_load_si256((const __m256i *)(const void *)(p + i + 32)));
        c = _mm256_add_epi64(c, _mm256_load_si256((const __m256i *)(const void *)(p + i + 64)));
        d = _mm256_add_epi64(d, _mm256_load_si256((const __m256i *)(const void *)(p + i + 96)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d));
    uint64_t out[4];
    _mm256_storeu_si256((__m256i *)(void *)out, s);
    return out[0] + out[1] + out[2] + out[3];
}

__attribute__((target("avx512f"))) static uint64_t sum_avx512(const uint8_t *p, size_t n) {
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    for (size_t i = 0; i + 256 <= n; i += 256) {
        a = _mm512_add_epi64(a, _mm512_load_si512((const void *)(p + i)));
        b = _mm512_add_epi64(b, _mm512_load_si512((const void *)(p + i + 64)));
        c = _mm512_add_epi64(c, _mm512_load_si512((const void *)(p + i + 128)));
        d = _mm512_add_epi64(d, _mm512_load_si512((const void *)(p + i + 192)));
    }
    return (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a, b), _mm512_add_epi64(c, d)));
}
#endif

typedef struct {
    const uint8_t *p;
    size_t n;
    sum_fn sum;
    atomic_int *go;
    double t0, t1;
    uint64_t result;
} bw_share;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *bw_thread(void *arg) {
    bw_share *s = arg;
    while (!atomic_load_explicit(s->go, memory_order_acquire)) {
    }
    s->t0 = now_s();
    s->result = s->sum(s->p, s->n);
    s->t1 = now_s();
    return NULL;
}

hearth_status measure_read_bandwidth(int threads, bandwidth_result *out, hearth_error *err) {
    if (threads < 1 || threads > BW_MAX_THREADS)
        return hearth_fail(err, HEARTH_E_ARG, "--bandwidth measures 1 to %d threads, not %d", BW_MAX_THREADS, threads);
    sum_fn sum = sum_scalar;
    out->loads = "scalar";
#ifdef BW_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) sum = sum_avx512, out->loads = "avx512";
    else if (__builtin_cpu_supports("avx2")) sum = sum_avx2, out->loads = "avx2";
#endif
    uint8_t *buf = aligned_alloc(4096, BW_BYTES);
    if (!buf) return hearth_fail(err, HEARTH_E_NOMEM, "no memory for the %zu MiB bandwidth buffer", BW_BYTES >> 20);
    memset(buf, 1, BW_BYTES); /* touch every page before timing */
    bw_share shares[BW_MAX_THREADS];
    pthread_t tid[BW_MAX_THREADS];
    size_t share = BW_BYTES / (size_t)threads & ~(size_t)255;
    double best = 0;
    hearth_status st = HEARTH_OK;
    uint64_t sums = 0;
    for (int pass = 0; !st && pass < BW_PASSES; pass++) {
        atomic_int go = 0;
        int started = 1;
        for (int t = 0; t < threads; t++)
            shares[t] = (bw_share){.p = buf + (size_t)t * share, .n = share, .sum = sum, .go = &go};
        for (int t = 1; t < threads && !st; t++) {
            if (pthread_create(&tid[t], NULL, bw_thread, &shares[t]) != 0)
                st = hearth_fail(err, HEARTH_E_IO, "could not start bandwidth thread %d of %d", t + 1, threads);
            else
                started++;
        }
        atomic_store_explicit(&go, 1, memory_order_release); /* all start together (spinning, not sleeping) */
        bw_thread(&shares[0]);
        for (int t = 1; t < started; t++) pthread_join(tid[t], NULL);
        double t0 = shares[0].t0, t1 = shares[0].t1;
        for (int t = 0; t < started; t++) {
            if (shares[t].t0 < t0) t0 = shares[t].t0;
            if (shares[t].t1 > t1) t1 = shares[t].t1;
            sums += shares[t].result;
        }
        double gbs = (double)share * started / (t1 - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    free(buf);
    /* every byte is 1, so the sums are known: a check that every share was read whole */
    if (!st && sums != (uint64_t)BW_PASSES * threads * (share / 8) * 0x0101010101010101ull)
        st = hearth_fail(err, HEARTH_E_IO, "the bandwidth threads did not read their whole shares");
    out->gb_s = best;
    out->buffer_mb = (double)BW_BYTES / (1 << 20);
    out->threads = threads;
    return st;
}
