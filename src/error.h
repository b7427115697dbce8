/* Error reporting shared by every part of the core.
 * A function that can fail returns hearth_status and, on failure, fills a
 * hearth_error with one line a user can act on. */
#ifndef HEARTH_ERROR_H
#define HEARTH_ERROR_H

typedef enum {
    HEARTH_OK = 0,
    HEARTH_E_IO,          /* a file or stream could not be read */
    HEARTH_E_FORMAT,      /* the bytes are not what the format says */
    HEARTH_E_UNSUPPORTED, /* valid, but not something hearth runs (yet) */
    HEARTH_E_NOMEM,       /* an allocation failed or a size overflowed */
    HEARTH_E_ARG,         /* the caller asked for something impossible */
    HEARTH_E_CONTEXT,     /* the prompt or generation does not fit the context */
} hearth_status;

typedef struct {
    hearth_status code;
    char message[512];
} hearth_error;

/* Fills err (when not NULL) with a printf-style message and returns code. */
hearth_status hearth_fail(hearth_error *err, hearth_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefixes an existing message, e.g. with the file name: "model.gguf: ..." */
hearth_status hearth_prefix(hearth_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

const char *hearth_status_name(hearth_status code);

#endif
