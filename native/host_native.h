/* The native host: model files through mmap, a pthread pool, a monotonic clock. */
#ifndef HEARTH_HOST_NATIVE_H
#define HEARTH_HOST_NATIVE_H

#include "host.h"

typedef struct native_host native_host;

/* path: the model file (or the first part of a split model); threads <= 0
 * means one per available core. */
hearth_status native_host_create(native_host **out, const char *path, int threads, hearth_error *err);
void native_host_free(native_host *h);
const hearth_host *native_host_iface(native_host *h);

#endif
