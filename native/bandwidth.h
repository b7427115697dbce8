/* hearth bench --bandwidth: how fast this machine's memory streams to the
 * bench's threads, the bound that one-token decode works against (each
 * token reads every weight once). */
#ifndef HEARTH_BANDWIDTH_H
#define HEARTH_BANDWIDTH_H

#include "error.h"

typedef struct {
    double gb_s;        /* best pass: bytes / (first thread's start to last thread's end) */
    double buffer_mb;   /* the buffer read, far larger than the caches */
    int threads;
    const char *loads;  /* "avx512", "avx2" or "scalar": the widest loads the CPU offers */
} bandwidth_result;

hearth_status measure_read_bandwidth(int threads, bandwidth_result *out, hearth_error *err);

#endif
