/* A growable string for assembling WGSL. An allocation failure is sticky:
 * the text stops growing and `oom` says so. */
#ifndef HEARTH_GPU_SBUF_H
#define HEARTH_GPU_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

void sb_add(sbuf *s, const char *text);
void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends text with every occurrence of `from` replaced by `to`. */
void sb_add_replacing(sbuf *s, const char *text, const char *from, const char *to);
void sb_free(sbuf *s);

#endif
