#define _POSIX_C_SOURCE 200809L
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

hearth_status hearth_fail(hearth_error *err, hearth_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

hearth_status hearth_prefix(hearth_error *err, const char *fmt, ...) {
    if (!err) return HEARTH_OK;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t np = strlen(prefix), cap = sizeof err->message - 1;
    if (np > cap) np = cap;
    size_t keep = strnlen(err->message, cap);
    if (keep > cap - np) keep = cap - np;
    memmove(err->message + np, err->message, keep);
    memcpy(err->message, prefix, np);
    err->message[np + keep] = 0;
    return err->code;
}

const char *hearth_status_name(hearth_status code) {
    switch (code) {
    case HEARTH_OK: return "ok";
    case HEARTH_E_IO: return "io error";
    case HEARTH_E_FORMAT: return "format error";
    case HEARTH_E_UNSUPPORTED: return "unsupported";
    case HEARTH_E_NOMEM: return "out of memory";
    case HEARTH_E_ARG: return "invalid argument";
    case HEARTH_E_CONTEXT: return "context full";
    }
    return "unknown error";
}
