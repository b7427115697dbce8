#define _GNU_SOURCE
#include "host_native.h"
#include "thread_shares.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTS 256
#define MAX_THREADS 256

typedef struct {
    char path[4096];
    const char *display; /* file name without directories */
    int fd;
    uint64_t size;
    uint8_t *map;
} part_file;

struct native_host {
    hearth_host iface;
    part_file parts[MAX_PARTS];
    int n_parts;

    /* Thread pool. A forward pass runs hundreds of parallel regions per
     * token, so waking workers through a condition variable each time would
     * cost more than the work: workers spin on the generation counter for a
     * while and only then sleep. The region's shares go to whichever thread
     * claims them first (thread_shares.h). */
    int n_threads;
    pthread_t workers[MAX_THREADS];
    struct worker_arg { native_host *host; int id; } worker_args[MAX_THREADS];
    pthread_mutex_t lock;
    pthread_cond_t start;
    thread_shares shares;
    thread_shares_gauge gauge; /* the caller alone while that is faster */
    atomic_ulong generation; /* the current region's tag (its low 32 bits) */
    atomic_int sleeping;
    atomic_int quit;
};

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* NAME-00001-of-00003.gguf -> NAME-0000{part+1}-of-00003.gguf */
static hearth_status split_path(const char *first, int part, int count, char *out, size_t cap,
                                hearth_error *err) {
    const char *tail = strstr(first, "-of-");
    size_t len = strlen(first);
    if (!tail || tail - first < 5 || len < 5 || strcmp(first + len - 5, ".gguf") != 0)
        return hearth_fail(err, HEARTH_E_ARG,
                           "%s: the model is split into %d parts, but the file name does not follow "
                           "NAME-00001-of-%05d.gguf, so the other parts cannot be found",
                           base_name(first), count, count);
    size_t prefix = (size_t)(tail - first) - 5;
    int n = snprintf(out, cap, "%.*s%05d%s", (int)prefix, first, part + 1, tail);
    if (n < 0 || (size_t)n >= cap) return hearth_fail(err, HEARTH_E_ARG, "model path too long");
    return HEARTH_OK;
}

static hearth_status open_part(void *ctx, int part, int count, uint64_t *size, hearth_error *err) {
    native_host *h = ctx;
    if (part < 0 || part >= MAX_PARTS || count > MAX_PARTS)
        return hearth_fail(err, HEARTH_E_UNSUPPORTED, "models split into more than %d parts are not supported",
                           MAX_PARTS);
    part_file *pf = &h->parts[part];
    if (part > 0 && pf->fd <= 0) {
        hearth_status st = split_path(h->parts[0].path, part, count, pf->path, sizeof pf->path, err);
        if (st) return st;
    }
    if (pf->fd <= 0) {
        pf->display = base_name(pf->path);
        int fd = open(pf->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return hearth_fail(err, HEARTH_E_IO, "%s: cannot open: %s", pf->path, strerror(errno));
        struct stat sb;
        if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            close(fd);
            return hearth_fail(err, HEARTH_E_IO, "%s: not a regular file", pf->path);
        }
        pf->fd = fd;
        pf->size = (uint64_t)sb.st_size;
        if (pf->size > 0) {
            void *m = mmap(NULL, pf->size, PROT_READ, MAP_PRIVATE, fd, 0);
            pf->map = m == MAP_FAILED ? NULL : m;
        }
        if (part >= h->n_parts) h->n_parts = part + 1;
    }
    *size = pf->size;
    return HEARTH_OK;
}

static hearth_status read_part(void *ctx, int part, uint64_t offset, void *dst, size_t len, hearth_error *err) {
    native_host *h = ctx;
    if (part < 0 || part >= h->n_parts || h->parts[part].fd <= 0)
        return hearth_fail(err, HEARTH_E_ARG, "read from a model part that is not open");
    part_file *pf = &h->parts[part];
    if (offset > pf->size || len > pf->size - offset)
        return hearth_fail(err, HEARTH_E_IO, "%s: read past end of file (offset %llu + %zu, file %llu bytes)",
                           pf->display, (unsigned long long)offset, len, (unsigned long long)pf->size);
    uint8_t *out = dst;
    while (len > 0) {
        ssize_t n = pread(pf->fd, out, len, (off_t)offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            return hearth_fail(err, HEARTH_E_IO, "%s: read failed at offset %llu: %s", pf->display,
                               (unsigned long long)offset, n < 0 ? strerror(errno) : "unexpected end of file");
        out += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return HEARTH_OK;
}

static const uint8_t *map_part(void *ctx, int part) {
    native_host *h = ctx;
    return part >= 0 && part < h->n_parts ? h->parts[part].map : NULL;
}

static const char *part_name(void *ctx, int part) {
    native_host *h = ctx;
    if (part < 0 || part >= MAX_PARTS) return "model";
    part_file *pf = &h->parts[part];
    return pf->display ? pf->display : base_name(h->parts[0].path);
}

/* About a tenth of a millisecond of spinning covers the gap between two
 * parallel regions of a forward pass; longer waits sleep. */
#define SPIN_ROUNDS 30000
/* The caller waits only for shares that a running thread claimed: a few
 * tens of microseconds when that thread has its core. Longer means it lost
 * it, and the caller yields at once so that it can get one back. */
#define WAIT_SPIN_ROUNDS 2000

static void *worker_main(void *p) {
    struct worker_arg *wa = p;
    native_host *h = wa->host;
    unsigned long seen = 0;
    for (;;) {
        unsigned long gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&h->generation, memory_order_acquire)) == seen &&
               !atomic_load(&h->quit)) {
            if (++spins < SPIN_ROUNDS) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
                continue;
            }
            pthread_mutex_lock(&h->lock);
            atomic_fetch_add(&h->sleeping, 1);
            while (atomic_load(&h->generation) == seen && !atomic_load(&h->quit))
                pthread_cond_wait(&h->start, &h->lock);
            atomic_fetch_sub(&h->sleeping, 1);
            pthread_mutex_unlock(&h->lock);
            spins = 0;
        }
        if (atomic_load(&h->quit)) break;
        seen = gen;
        thread_shares_run(&h->shares, (uint32_t)gen);
    }
    return NULL;
}

static double now_ms(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void run_parallel(void *ctx, hearth_task_fn fn, void *arg) {
    native_host *h = ctx;
    if (h->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    const double t_start = now_ms(h);
    if (thread_shares_solo(&h->gauge)) {
        fn(arg, 0, 1);
        thread_shares_gauge_add(&h->gauge, fn, true, now_ms(h) - t_start);
        return;
    }
    /* the tag first, then the wake-up: a worker that sees the new
     * generation finds its shares published */
    const unsigned long gen = atomic_load_explicit(&h->generation, memory_order_relaxed) + 1;
    thread_shares_publish(&h->shares, (uint32_t)gen, fn, arg, h->n_threads);
    pthread_mutex_lock(&h->lock);
    atomic_store_explicit(&h->generation, gen, memory_order_release);
    if (atomic_load(&h->sleeping)) pthread_cond_broadcast(&h->start);
    pthread_mutex_unlock(&h->lock);
    thread_shares_run(&h->shares, (uint32_t)gen);
    /* Only shares another thread claimed and is still running are left. A
     * thread that lost its core must get it back: after a short spin, yield
     * instead of burning the time slice. */
    for (int spins = 0; !thread_shares_finished(&h->shares); spins++) {
        if (spins < WAIT_SPIN_ROUNDS) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield();
        }
    }
    thread_shares_gauge_add(&h->gauge, fn, false, now_ms(h) - t_start);
}

static int thread_count(void *ctx) { return ((native_host *)ctx)->n_threads; }


static void log_message(void *ctx, int level, const char *message) {
    (void)ctx;
    fprintf(stderr, "%s%s\n", level ? "warning: " : "", message);
}

hearth_status native_host_create(native_host **out, const char *path, int threads, hearth_error *err) {
    *out = NULL;
    if (strlen(path) >= sizeof((part_file *)0)->path) return hearth_fail(err, HEARTH_E_ARG, "model path too long");
    native_host *h = calloc(1, sizeof *h);
    if (!h) return hearth_fail(err, HEARTH_E_NOMEM, "out of memory");
    snprintf(h->parts[0].path, sizeof h->parts[0].path, "%s", path);
    h->parts[0].display = base_name(h->parts[0].path);
    if (threads <= 0) {
        cpu_set_t set;
        threads = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    }
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    h->n_threads = threads;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->start, NULL);
    for (int i = 1; i < threads; i++) {
        h->worker_args[i] = (struct worker_arg){h, i};
        if (pthread_create(&h->workers[i], NULL, worker_main, &h->worker_args[i]) != 0) {
            h->n_threads = i;
            break;
        }
    }
    h->iface = (hearth_host){
        .ctx = h,
        .open_part = open_part,
        .read = read_part,
        .map = map_part,
        .part_name = part_name,
        .parallel = run_parallel,
        .thread_count = thread_count,
        .now_ms = now_ms,
        .log = log_message,
    };
    *out = h;
    return HEARTH_OK;
}

const hearth_host *native_host_iface(native_host *h) { return &h->iface; }

void native_host_free(native_host *h) {
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    atomic_store(&h->quit, 1);
    pthread_cond_broadcast(&h->start);
    pthread_mutex_unlock(&h->lock);
    for (int i = 1; i < h->n_threads; i++) pthread_join(h->workers[i], NULL);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->start);
    for (int p = 0; p < h->n_parts; p++) {
        if (h->parts[p].map) munmap(h->parts[p].map, h->parts[p].size);
        if (h->parts[p].fd > 0) close(h->parts[p].fd);
    }
    free(h);
}
