/* The WebAssembly host: src/host.h over functions that the JS glue
 * (web/hearth.mjs) imports into the module as "hearth".*. */
#ifndef HEARTH_HOST_WASM_H
#define HEARTH_HOST_WASM_H

#include "host.h"

/* The single host of this module instance (one model at a time). */
const hearth_host *wasm_host(void);

#endif
