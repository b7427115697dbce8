/* Micro-benchmark of the CPU kernels; prints one JSON document.
 *
 *   kernels_bench [--threads N] [--isa best|avx2|scalar] [--types q4_0,q8_0,...]
 *                 [--quick] [--ring-mb M]
 *
 * For every weight type:
 *   matvec  (n_tok = 1): a ring of distinct matrices far larger than the
 *           last-level cache, so GB/s is the DRAM streaming rate of weights;
 *   matmul  (n_tok = 8..512): one matrix, batched activations, GOPS counts
 *           2 ops per multiply-add.
 * Rows are split across threads the way the engine does (one
 * kernels_matmul call per thread per matrix, then a barrier). Shapes are
 * Qwen2.5-0.5B's FFN (4864 x 896 and 896 x 4864). With --threads 1 times
 * are the thread's CPU time, so other processes on a shared machine do not
 * count; with more threads they are wall-clock times. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
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

/* Random but well-formed weights: finite scales, so no float slow paths. */
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
        size_t bs = ggml_block_bytes(type);
        int has_m = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1;
        for (size_t off = 0; off + bs <= bytes; off += bs) {
            uint16_t d = ggml_fp32_to_fp16(0.01f + 0.01f * rndf());
            memcpy(w + off, &d, 2);
            if (has_m) memcpy(w + off + 2, &d, 2);
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

/* Best time per step over several runs of at least min_s seconds each:
 * the minimum filters out other processes sharing the cores. */
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
    for (int rep = 0; rep < reps; rep++) {
        double r = run_job() / steps;
        if (r < best) best = r;
    }
    return best;
}

static const struct {
    const char *name;
    uint32_t type;
} types[] = {
    {"q4_0", GGML_TYPE_Q4_0}, {"q8_0", GGML_TYPE_Q8_0}, {"q4_1", GGML_TYPE_Q4_1},
    {"q5_0", GGML_TYPE_Q5_0}, {"q5_1", GGML_TYPE_Q5_1}, {"f16", GGML_TYPE_F16},
    {"bf16", GGML_TYPE_BF16}, {"f32", GGML_TYPE_F32},
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
    int first = 0;
    static const int shapes[][2] = {{4864, 896}, {896, 4864}};
    static const int toks[] = {8, 32, 128, 512};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        if (only && !strstr(only, types[ti].name)) continue;
        const uint32_t type = types[ti].type;
        for (size_t si = 0; si < 2; si++) {
            const int rows = shapes[si][0], n = shapes[si][1];
            uint64_t rb;
            ggml_row_bytes(type, (uint64_t)n, &rb);
            const size_t mbytes = (size_t)rb * (size_t)rows;
            int n_mats = (int)(ring_bytes / mbytes);
            if (n_mats < 1) n_mats = 1;
            unsigned char **mats = malloc(sizeof *mats * (size_t)n_mats);
            for (int m = 0; m < n_mats; m++) {
                mats[m] = malloc(mbytes);
                fill_weights(type, mats[m], mbytes);
            }
            const int max_tok = toks[sizeof toks / sizeof toks[0] - 1];
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
            printf("%s\n    {\"type\": \"%s\", \"op\": \"matvec\", \"rows\": %d, \"n\": %d, \"n_tok\": 1, "
                   "\"us\": %.2f, \"GB/s\": %.2f, \"GOPS\": %.2f}",
                   first ? "" : ",", types[ti].name, rows, n, t * 1e6, (double)mbytes / t * 1e-9,
                   2.0 * rows * n / t * 1e-9);
            first = 0;
            fflush(stdout);
            job.n_mats = 1;
            for (size_t qi = 0; qi < sizeof toks / sizeof toks[0]; qi++) {
                if (si == 1 && toks[qi] != 128) continue; /* second shape: one batch size */
                job.n_tok = toks[qi];
                t = time_steps(min_s, reps);
                printf(",\n    {\"type\": \"%s\", \"op\": \"matmul\", \"rows\": %d, \"n\": %d, \"n_tok\": %d, "
                       "\"us\": %.2f, \"GOPS\": %.2f}",
                       types[ti].name, rows, n, toks[qi], t * 1e6, 2.0 * rows * n * toks[qi] / t * 1e-9);
                fflush(stdout);
            }
            /* Activation quantization cost per token row. */
            {
                double q0 = now();
                int rounds = 0;
                do {
                    for (int t2 = 0; t2 < max_tok; t2++) kernels_quantize_act(&k, type, x, act + ab * (size_t)t2, n);
                    rounds++;
                } while (now() - q0 < 0.02);
                double per = (now() - q0) / (rounds * (double)max_tok);
                if (si == 0)
                    printf(",\n    {\"type\": \"%s\", \"op\": \"quantize_act\", \"n\": %d, \"ns_per_row\": %.1f}",
                           types[ti].name, n, per * 1e9);
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
