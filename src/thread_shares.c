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

bool thread_shares_solo(const thread_shares_gauge *g) { return g->solo; }

void thread_shares_gauge_add(thread_shares_gauge *g, double ms) {
    g->window_ms += ms;
    if (++g->regions < GAUGE_WINDOW) return;
    g->ms_per_region[g->solo] = g->window_ms / g->regions;
    g->window_ms = 0;
    g->regions = 0;
    if (g->keep < KEEP_FIRST) g->keep = KEEP_FIRST;
    if (g->probing || !g->ms_per_region[!g->solo]) {
        if (!g->ms_per_region[!g->solo]) { /* the first window: try the other way next */
            g->solo = !g->solo;
            g->probing = 1;
            return;
        }
        g->probing = 0;
        const double threads = g->ms_per_region[0], alone = g->ms_per_region[1];
        g->solo = alone < threads;
        /* a clear winner is probed seldom, a close call often */
        const double ratio = g->solo ? threads / alone : alone / threads;
        if (ratio > 1.3) {
            if (g->keep < KEEP_MAX) g->keep *= 2;
        } else {
            g->keep = KEEP_FIRST;
        }
        g->windows_left = g->keep;
        return;
    }
    if (--g->windows_left <= 0) {
        g->solo = !g->solo;
        g->probing = 1;
    }
}
