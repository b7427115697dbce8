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
    char old[sizeof err->message];
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s%s", prefix, old);
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
