/* Micro-benchmark of the CPU kernels; prints one JSON document.
 *
 *   make && cc -std=c11 -O2 -Isrc bench/kernels_bench.c build/libhearth.a -o build/kernels_bench -lm -lpthread
 *   build/kernels_bench [--threads N] [--isa best|avx2|scalar] [--types q4_0,q4_K,...]
 *                       [--quick] [--ring-mb M]
 *
 * For every weight type the CPU multiplies (the type table,
 * src/model/ggml_types.c; --types picks some) and every shape whose row
 * length is a multiple of its block (a "skip" entry names the others):
 *   matvec  (n_tok = 1): a ring of distinct matrices far larger than the
 *           last-level cache, so GB/s is the DRAM streaming rate of weights;
 *   matmul  (n_tok = 1, 3, 64, and 8..512 on the sweep shapes): one matrix,
 *           batched activations (1 token: the matrix may sit in cache),
 *           GOPS counts 2 ops per multiply-add.
 * Shapes: Qwen2.5-0.5B's FFN (4864 x 896 and 896 x 4864; 896 is no
 * multiple of 256, so K-quants skip the first), 2048 x 2048 and
 * 8192 x 2048. Weights are random blocks with finite fp16 scales; --isa
 * picks the kernel level. Rows are split across threads the way the engine
 * does (one kernels_matmul call per thread per matrix, then a barrier).
 * With --threads 1 times are the thread's CPU time, so other processes on
 * a shared machine do not count; with more threads they are wall-clock
 * times. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/kernels.h"
#include "model/ggml_types.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* With one thread, time is the thread's CPU time: on a shared machine the
 * wall clock also counts the slices other processes took. */
static int n_threads = 1;
static double job_clock(void) {
    if (n_threads > 1) return now();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rs = 88172645463325252ull;
static uint32_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 11);
}
static float rndf(void) {
    return (float)((double)rnd() / 2147483648.0 - 1.0);
}

/* Byte offsets in a block of its fp16 scale d and of its second fp16
 * scale (m or dmin; -1: none), from the block structs. */
static void scale_offsets(uint32_t type, int *d, int *m) {
    *d = 0;
    *m = -1;
    switch (type) {
    case GGML_TYPE_Q4_1: *m = (int)offsetof(block_q4_1, m); break;
    case GGML_TYPE_Q5_1: *m = (int)offsetof(block_q5_1, m); break;
    case GGML_TYPE_Q2_K: *d = (int)offsetof(block_q2_K, d), *m = (int)offsetof(block_q2_K, dmin); break;
    case GGML_TYPE_Q3_K: *d = (int)offsetof(block_q3_K, d); break;
    case GGML_TYPE_Q4_K: *m = (int)offsetof(block_q4_K, dmin); break;
    case GGML_TYPE_Q5_K: *m = (int)offsetof(block_q5_K, dmin); break;
    case GGML_TYPE_Q6_K: *d = (int)offsetof(block_q6_K, d); break;
    default: break; /* Q4_0, Q5_0, Q8_0, IQ4_NL, IQ4_XS: d first */
    }
}

/* Random but well-formed weights: finite scales, so no float slow paths;
 * codes and the other scale bytes random. */
static void fill_weights(uint32_t type, unsigned char *w, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) w[i] = (unsigned char)rnd();
    if (type == GGML_TYPE_F32) {
        for (size_t i = 0; i + 4 <= bytes; i += 4) {
            float f = rndf();
            memcpy(w + i, &f, 4);
        }
    } else if (type == GGML_TYPE_F16 || type == GGML_TYPE_BF16) {
        for (size_t i = 0; i + 2 <= bytes; i += 2) {
            uint16_t h = type == GGML_TYPE_F16 ? ggml_fp32_to_fp16(rndf()) : ggml_fp32_to_bf16(rndf());
            memcpy(w + i, &h, 2);
        }
    } else {
        const size_t bs = ggml_block_bytes(type);
        int d_off, m_off;
        scale_offsets(type, &d_off, &m_off);
        for (size_t off = 0; off + bs <= bytes; off += bs) {
            const uint16_t d = ggml_fp32_to_fp16(0.01f + 0.005f * rndf()), m = ggml_fp32_to_fp16(0.01f * rndf());
            memcpy(w + off + d_off, &d, 2);
            if (m_off >= 0) memcpy(w + off + m_off, &m, 2);
        }
    }
}

/* ---- a tiny thread team: every worker runs job(tid) per step ---- */

typedef struct {
    const hearth_kernels *k;
    uint32_t type;
    unsigned char **mats;
    int n_mats, rows, n, n_tok;
    const void *act;
    float *out;
    int steps; /* matrices to multiply, cycling through the ring */
    const uint64_t *buf; /* memread baseline: when set, threads just sum it */
    size_t buf_words;
} job_t;

static job_t job;
static atomic_int barrier_count, barrier_phase;
static atomic_int go_gen, done_count;

/* Spin briefly, then yield: on a machine shared with other processes a
 * pure spin can wait a whole time slice for a descheduled partner. */
static void relax(int *spins) {
    if (++*spins > 2000) sched_yield();
}

static void barrier(void) {
    int phase = atomic_load(&barrier_phase), spins = 0;
    if (atomic_fetch_add(&barrier_count, 1) == n_threads - 1) {
        atomic_store(&barrier_count, 0);
        atomic_fetch_add(&barrier_phase, 1);
    } else {
        while (atomic_load(&barrier_phase) == phase) relax(&spins);
    }
}

static volatile uint64_t sink;

static void run_part(int tid) {
    if (job.buf) {
        /* Baseline: stream this thread's share, 4 independent sums. */
        const size_t w0 = job.buf_words * (size_t)tid / (size_t)n_threads;
        const size_t w1 = job.buf_words * (size_t)(tid + 1) / (size_t)n_threads;
        for (int s = 0; s < job.steps; s++) {
            uint64_t a = 0, b = 0, c = 0, d = 0;
            for (size_t i = w0; i + 4 <= w1; i += 4) {
                a += job.buf[i];
                b += job.buf[i + 1];
                c += job.buf[i + 2];
                d += job.buf[i + 3];
            }
            sink += a + b + c + d;
            if (n_threads > 1) barrier();
        }
        return;
    }
    const int rows = job.rows;
    const int r0 = (int)((long long)rows * tid / n_threads);
    const int r1 = (int)((long long)rows * (tid + 1) / n_threads);
    for (int s = 0; s < job.steps; s++) {
        kernels_matmul(job.k, job.type, job.mats[s % job.n_mats], job.n, r0, r1, job.act, job.n_tok,
                       job.out, (size_t)rows);
        if (n_threads > 1) barrier();
    }
}

static void *worker(void *arg) {
    int tid = (int)(intptr_t)arg;
    int seen = 0;
    for (;;) {
        int g, spins = 0;
        while ((g = atomic_load(&go_gen)) == seen) relax(&spins);
        if (g < 0) return NULL;
        seen = g;
        run_part(tid);
        atomic_fetch_add(&done_count, 1);
    }
}

static double run_job(void) {
    atomic_store(&done_count, 0);
    double t0 = job_clock();
    atomic_fetch_add(&go_gen, 1);
    run_part(0);
    int spins = 0;
    while (atomic_load(&done_count) < n_threads - 1) relax(&spins);
    return job_clock() - t0;
}

/* Best time per step over several runs of at least min_s seconds each
 * (reps of them, or fewer once they took budget_s seconds: a slow product,
 * say 512 tokens by the scalar kernels, times a run or two): the minimum
 * filters out other processes sharing the cores. */
static double budget_s = 1.0;
static double time_steps(double min_s, int reps) {
    job.steps = job.n_mats > 1 ? job.n_mats : 1;
    double t = run_job(); /* warm-up, also sizes the run */
    int steps = job.steps;
    while (t < min_s) {
        steps *= 2;
        job.steps = steps;
        t = run_job();
    }
    double best = t / steps;
    const double t0 = now();
    for (int rep = 0; rep < reps && (rep == 0 || now() - t0 < budget_s); rep++) {
        double r = run_job() / steps;
        if (r < best) best = r;
    }
    return best;
}

/* Whether the comma-separated list names this type (NULL: every type). */
static bool listed(const char *list, const char *name) {
    const size_t len = strlen(name);
    for (const char *p = list; p; p = strchr(p, ',')) {
        if (*p == ',') p++;
        if (!strncmp(p, name, len) && (p[len] == ',' || !p[len])) return true;
    }
    return !list;
}

/* The shapes, each with the token counts of its single-matrix products. */
static const struct {
    int rows, n;
    int toks[8]; /* ascending, 0-terminated */
} shapes[] = {
    {4864, 896, {1, 3, 8, 32, 64, 128, 512}},
    {896, 4864, {1, 3, 64, 128}},
    {2048, 2048, {1, 3, 8, 32, 64, 128, 512}},
    {8192, 2048, {1, 3, 64}},
};

int main(int argc, char **argv) {
    bool quick = false;
    const char *isa = "best"; /* best, avx2 or scalar */
    int ring_mb = 0; /* 0: default, large enough to defeat the caches */
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) n_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scalar")) isa = "scalar";
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) isa = argv[++i];
        else if (!strcmp(argv[i], "--quick")) quick = true;
        else if (!strcmp(argv[i], "--types") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--ring-mb") && i + 1 < argc) ring_mb = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--threads N] [--isa best|avx2|scalar] [--types a,b] [--quick] [--ring-mb M]\n", argv[0]);
            return 2;
        }
    }
    if (n_threads < 1) n_threads = 1;
    if (strcmp(isa, "best") && strcmp(isa, "avx2") && strcmp(isa, "scalar")) {
        fprintf(stderr, "--isa: best, avx2 or scalar\n");
        return 2;
    }
    hearth_kernels k;
    kernels_init(&k, !strcmp(isa, "best"));
    if (!strcmp(isa, "avx2") && !((kernels_cpu_features() & KERNELS_CPU_AVX2) && kernels_avx2_fill(&k))) {
        fprintf(stderr, "avx2 kernels unavailable\n");
        return 1;
    }
    pthread_t th[64];
    if (n_threads > 64) n_threads = 64;
    for (int i = 1; i < n_threads; i++) pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);

    /* Short runs, many of them, best kept: on a shared machine some short
     * runs fit between other processes' time slices; long ones never do. */
    const double min_s = 0.002;
    const int reps = quick ? 20 : 60;
    budget_s = quick ? 0.25 : 1.0;
    /* Twice the largest L3 we target: a cyclic walk then always misses. */
    const size_t ring_bytes = (size_t)(ring_mb ? ring_mb : 64) << 20;
    printf("{\n  \"kernels\": \"%s\",\n  \"threads\": %d,\n  \"results\": [", kernels_name(&k), n_threads);
    {
        /* Plain-C read bandwidth of the same threads: what matvec GB/s
         * should approach. */
        const size_t words = ring_bytes / 8;
        uint64_t *buf = malloc(words * 8);
        for (size_t i = 0; i < words; i++) buf[i] = i;
        job = (job_t){0};
        job.buf = buf;
        job.buf_words = words;
        job.n_mats = 1;
        double t = time_steps(min_s, reps);
        printf("\n    {\"op\": \"memread\", \"MB\": %zu, \"GB/s\": %.2f}", ring_bytes >> 20,
               (double)(words * 8) / t * 1e-9);
        free(buf);
        job.buf = NULL;
    }
    const ggml_type_info *row;
    for (size_t ti = 0; (row = ggml_type_row(ti)); ti++) {
        const uint32_t type = row->id;
        const char *name = ggml_type_name(type);
        if (!ggml_type_runs_on(type, false) || !listed(only, name)) continue;
        bool quantize_timed = false;
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            const int rows = shapes[si].rows, n = shapes[si].n;
            uint64_t rb;
            if (!ggml_row_bytes(type, (uint64_t)n, &rb)) {
                printf(",\n    {\"type\": \"%s\", \"op\": \"skip\", \"rows\": %d, \"n\": %d, "
                       "\"why\": \"n is not a multiple of its %u-element block\"}",
                       name, rows, n, (unsigned)row->block_elems);
                continue;
            }
            const size_t mbytes = (size_t)rb * (size_t)rows;
            int n_mats = (int)(ring_bytes / mbytes);
            if (n_mats < 1) n_mats = 1;
            unsigned char **mats = malloc(sizeof *mats * (size_t)n_mats);
            for (int m = 0; m < n_mats; m++) {
                mats[m] = malloc(mbytes);
                fill_weights(type, mats[m], mbytes);
            }
            const int *toks = shapes[si].toks;
            int max_tok = 0;
            for (int qi = 0; qi < 8 && toks[qi]; qi++) max_tok = toks[qi];
            const size_t ab = kernels_act_row_bytes(type, n);
            unsigned char *act = malloc(ab * (size_t)max_tok);
            float *x = malloc(sizeof *x * (size_t)n);
            for (int t = 0; t < max_tok; t++) {
                for (int i = 0; i < n; i++) x[i] = rndf();
                kernels_quantize_act(&k, type, x, act + ab * (size_t)t, n);
            }
            float *out = malloc(sizeof *out * (size_t)rows * (size_t)max_tok);
            job = (job_t){&k, type, mats, n_mats, rows, n, 1, act, out, 1, NULL, 0};

            double t = time_steps(min_s, reps);
            printf(",\n    {\"type\": \"%s\", \"op\": \"matvec\", \"rows\": %d, \"n\": %d, \"n_tok\": 1, "
                   "\"us\": %.2f, \"GB/s\": %.2f, \"GOPS\": %.2f}",
                   name, rows, n, t * 1e6, (double)mbytes / t * 1e-9, 2.0 * rows * n / t * 1e-9);
            fflush(stdout);
            job.n_mats = 1;
            for (int qi = 0; qi < 8 && toks[qi]; qi++) {
                job.n_tok = toks[qi];
                t = time_steps(min_s, reps);
                printf(",\n    {\"type\": \"%s\", \"op\": \"matmul\", \"rows\": %d, \"n\": %d, \"n_tok\": %d, "
                       "\"us\": %.2f, \"GB/s\": %.2f, \"GOPS\": %.2f}",
                       name, rows, n, toks[qi], t * 1e6, (double)mbytes / t * 1e-9,
                       2.0 * rows * n * toks[qi] / t * 1e-9);
                fflush(stdout);
            }
            if (!quantize_timed) { /* activation quantization cost per token row, first shape only */
                quantize_timed = true;
                double q0 = now();
                int rounds = 0;
                do {
                    for (int t2 = 0; t2 < max_tok; t2++) kernels_quantize_act(&k, type, x, act + ab * (size_t)t2, n);
                    rounds++;
                } while (now() - q0 < 0.02);
                double per = (now() - q0) / (rounds * (double)max_tok);
                printf(",\n    {\"type\": \"%s\", \"op\": \"quantize_act\", \"n\": %d, \"ns_per_row\": %.1f}", name,
                       n, per * 1e9);
            }
            for (int m = 0; m < n_mats; m++) free(mats[m]);
            free(mats);
            free(act);
            free(x);
            free(out);
        }
    }
    printf("\n  ]\n}\n");
    atomic_store(&go_gen, -1);
    for (int i = 1; i < n_threads; i++) pthread_join(th[i], NULL);
    return 0;
}
