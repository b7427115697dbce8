/* The thread pool's portable half (src/thread_shares.c): shares claimed by
 * whichever thread asks first, and the gauge that decides whether threads
 * pay for themselves, driven with synthetic region times. */
#include <stdint.h>

#include "check.h"
#include "thread_shares.h"

static void task_a(void *arg, int share, int n) {
    int *ran = arg;
    ran[share] += n;
}
static void task_b(void *arg, int share, int n) { task_a(arg, share, n); }

/* Runs `regions` regions through the gauge, alternating two kinds of task,
 * each taking `solo_ms` alone and `threads_ms` threaded; returns how many
 * ran threaded. */
static int drive(thread_shares_gauge *g, int regions, double solo_ms, double threads_ms) {
    int threaded = 0;
    for (int i = 0; i < regions; i++) {
        hearth_task_fn fn = i % 2 ? task_a : task_b;
        int solo = thread_shares_solo(g);
        threaded += !solo;
        thread_shares_gauge_add(g, fn, solo, solo ? solo_ms : threads_ms);
    }
    return threaded;
}

int main(void) {
    /* shares: one caller claims them all when no other thread comes; a stale tag claims none */
    thread_shares r;
    int ran[8] = {0};
    thread_shares_publish(&r, 7, task_a, ran, 8);
    CHECK("a region's shares run once each", thread_shares_run(&r, 7) == 8 && thread_shares_finished(&r) &&
                                                  ran[0] == 8 && ran[7] == 8, "ran[0] %d", ran[0]);
    CHECK("a late thread of an older region claims nothing", thread_shares_run(&r, 6) == 0, "claimed");
    thread_shares_publish(&r, 8, task_a, ran, 3);
    CHECK("a finished region's shares are not run again", thread_shares_run(&r, 8) == 3 && thread_shares_run(&r, 8) == 0,
          "reran");

    /* the gauge: threads twice as fast -> threaded nearly always after the first window */
    thread_shares_gauge idle = {0};
    drive(&idle, 256, 2.0, 1.0);
    int threaded = drive(&idle, 256 * 200, 2.0, 1.0);
    CHECK("an idle machine keeps the threads", threaded > 256 * 200 * 0.98, "threaded %d of %d", threaded, 256 * 200);

    /* a steady load where alone wins by only 10%: probes must become rare too */
    thread_shares_gauge busy = {0};
    drive(&busy, 256, 1.0, 1.1);
    threaded = drive(&busy, 256 * 400, 1.0, 1.1);
    CHECK("a steady close verdict for alone probes seldom (<2% of regions threaded)", threaded < 256 * 400 / 50,
          "threaded %d of %d", threaded, 256 * 400);

    /* the load goes away: the gauge must return to the threads within a few hundred windows */
    int windows = 0;
    while (windows < 400 && drive(&busy, 256, 2.0, 1.0) < 256) windows++;
    CHECK("a change of load is followed", windows < 400, "still alone after %d windows", windows);
    CHECK_DONE();
}
