/* A parallel region's shares, handed out at run time: the portable half of
 * the hosts' thread pools (native/host_native.c, web/wasm/host_wasm.c).
 *
 * A task (host.h) is called as fn(arg, share, n) for share = 0..n-1. The
 * hosts used to give share k to thread k, so a thread that had lost its
 * core to another process (users' machines are always busy) stalled every
 * region until the scheduler gave it back, and two threads decoded slower
 * than one. Here each share is claimed by whichever thread asks first: the
 * caller and the workers that are running claim shares until none is left,
 * and a worker that wakes up late finds the region taken and goes back to
 * waiting. The region is over when every share has run; the caller waits
 * only for shares another thread claimed and is still running.
 *
 * Each region carries a tag (the host's region counter), packed with its
 * share count and the next share into one atomic word, so a late worker can
 * never claim a share of a newer region thinking it belongs to the one it
 * woke for, nor read a newer region's count. */
#ifndef HEARTH_THREAD_SHARES_H
#define HEARTH_THREAD_SHARES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "host.h"

typedef struct {
    _Atomic uint64_t claim; /* tag << 32 | shares << 16 | the next share to hand out */
    atomic_int done;        /* shares finished (or given up by a failed thread) */
    hearth_task_fn fn;      /* fn, arg, n: the caller's, read by the others only */
    void *arg;              /* while they hold an unfinished share */
    int n;
} thread_shares;

/* The most shares a region can have (hosts' thread counts stay below it). */
#define THREAD_SHARES_MAX 0xffff

/* The caller, before it wakes the workers: region `tag` runs fn in n shares
 * (1 <= n <= THREAD_SHARES_MAX). */
void thread_shares_publish(thread_shares *r, uint32_t tag, hearth_task_fn fn, void *arg, int n);
/* Claims and runs shares of region `tag` until none is left (or the region
 * is no longer `tag`); any thread, any number of times. Returns how many
 * shares this call ran. */
int thread_shares_run(thread_shares *r, uint32_t tag);
/* Every share of the published region has finished. */
bool thread_shares_finished(thread_shares *r);
/* A thread that failed inside a share (wasm: it trapped) counts it as
 * finished; the host then redoes the whole region alone. */
void thread_shares_abandon(thread_shares *r);

/* Whether the other threads pay for themselves. When another process takes
 * the cores, a thread that claimed a share can lose its core in the middle
 * of it, or the caller loses its own to its helpers, and one thread alone
 * would be faster; no estimate from inside a region sees that (its wall
 * times include the time off the core), so the gauge measures. In a probe
 * window each region runs alone or with the threads at random, so both ways
 * see the same mix of work (prefill and decode, every kind of task), and the
 * mean time of each kind of task (its function) is compared between the
 * two; the faster way is kept for the next windows, twice as many after
 * each probe that confirms it or finds it clearly faster (a steady machine,
 * idle or busy, then probes one window in 129). */
enum { GAUGE_KINDS = 16 };
typedef struct {
    int regions;  /* regions in this window */
    int probing;  /* this window picks at random */
    int solo;     /* the way kept outside probes */
    int windows_left, keep;
    uint32_t rng;
    struct {
        hearth_task_fn fn;
        double ms[2];
        int n[2];
    } kind[GAUGE_KINDS]; /* this probe's times by task, [0] threads, [1] alone */
} thread_shares_gauge;

/* true: run this region of fn on the caller alone (fn(arg, 0, 1)). */
bool thread_shares_solo(thread_shares_gauge *g);
/* The region of fn ran (the way thread_shares_solo said) in ms milliseconds. */
void thread_shares_gauge_add(thread_shares_gauge *g, hearth_task_fn fn, bool solo, double ms);

#endif
