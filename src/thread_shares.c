#include "thread_shares.h"

void thread_shares_publish(thread_shares *r, uint32_t tag, hearth_task_fn fn, void *arg, int n) {
    r->fn = fn;
    r->arg = arg;
    r->n = n;
    atomic_store_explicit(&r->done, 0, memory_order_relaxed);
    /* release: a thread whose claim reads this word sees fn, arg and done */
    atomic_store_explicit(&r->claim, (uint64_t)tag << 32 | (uint64_t)n << 16, memory_order_release);
}

int thread_shares_run(thread_shares *r, uint32_t tag) {
    int ran = 0;
    uint64_t c = atomic_load_explicit(&r->claim, memory_order_acquire);
    for (;;) {
        const unsigned share = (unsigned)(c & 0xffff), n = (unsigned)(c >> 16 & 0xffff);
        if ((uint32_t)(c >> 32) != tag || share >= n) return ran;
        if (!atomic_compare_exchange_weak_explicit(&r->claim, &c, c + 1, memory_order_acq_rel, memory_order_acquire))
            continue; /* c now holds the word another thread left: retry with it */
        /* The region cannot end, nor fn and arg change, before this share is done. */
        r->fn(r->arg, (int)share, (int)n);
        atomic_fetch_add_explicit(&r->done, 1, memory_order_release);
        ran++;
        c = atomic_load_explicit(&r->claim, memory_order_acquire);
    }
}

bool thread_shares_finished(thread_shares *r) {
    return atomic_load_explicit(&r->done, memory_order_acquire) >= r->n;
}

void thread_shares_abandon(thread_shares *r) { atomic_fetch_add_explicit(&r->done, 1, memory_order_release); }

enum { GAUGE_WINDOW = 256, KEEP_FIRST = 4, KEEP_MAX = 128 };

bool thread_shares_solo(thread_shares_gauge *g) {
    if (!g->keep) { /* the first window probes */
        g->keep = KEEP_FIRST;
        g->probing = 1;
        g->rng = 0x9e3779b9u;
    }
    if (!g->probing) return g->solo;
    g->rng ^= g->rng << 13; /* xorshift32 */
    g->rng ^= g->rng >> 17;
    g->rng ^= g->rng << 5;
    return g->rng >> 31;
}

/* The probe's verdict: the time its regions would have taken all with the
 * threads and all alone, task by task (a task seen only one way is left out). */
static void decide(thread_shares_gauge *g) {
    double threads = 0, alone = 0;
    for (int k = 0; k < GAUGE_KINDS && g->kind[k].fn; k++) {
        const int *n = g->kind[k].n;
        if (n[0] && n[1]) {
            threads += (n[0] + n[1]) * g->kind[k].ms[0] / n[0];
            alone += (n[0] + n[1]) * g->kind[k].ms[1] / n[1];
        }
        g->kind[k].fn = 0;
        g->kind[k].ms[0] = g->kind[k].ms[1] = 0;
        g->kind[k].n[0] = g->kind[k].n[1] = 0;
    }
    if (threads == 0 || alone == 0) return; /* no verdict: probe again */
    g->probing = 0;
    const int solo = alone < threads;
    /* The same verdict again, or a clear one, probes half as often next time;
     * a changed close call starts over. Under a steady load (one busy
     * process, a verdict of "alone" by 10-20%) probes then fall to one
     * window in 129 too, where re-probing every fifth window cost that
     * load's decode about 5% (half of each probe's regions run threaded). */
    const double ratio = solo ? threads / alone : alone / threads;
    if (ratio > 1.3 || solo == g->solo) {
        if (g->keep < KEEP_MAX) g->keep *= 2;
    } else {
        g->keep = KEEP_FIRST;
    }
    g->solo = solo;
    g->windows_left = g->keep;
}

void thread_shares_gauge_add(thread_shares_gauge *g, hearth_task_fn fn, bool solo, double ms) {
    if (g->probing) {
        int k = 0;
        while (k < GAUGE_KINDS && g->kind[k].fn && g->kind[k].fn != fn) k++;
        if (k < GAUGE_KINDS) {
            g->kind[k].fn = fn;
            g->kind[k].ms[solo] += ms;
            g->kind[k].n[solo]++;
        }
    }
    if (++g->regions < GAUGE_WINDOW) return;
    g->regions = 0;
    if (g->probing) decide(g);
    else if (--g->windows_left <= 0) g->probing = 1;
}
