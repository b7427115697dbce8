#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(sbuf *s, size_t more) {
    if (s->oom) return false;
    if (s->n + more + 1 <= s->cap) return true;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->n + more + 1) cap *= 2;
    char *p = realloc(s->p, cap);
    if (!p) {
        s->oom = true;
        return false;
    }
    s->p = p;
    s->cap = cap;
    return true;
}

static void add_n(sbuf *s, const char *text, size_t n) {
    if (!reserve(s, n)) return;
    memcpy(s->p + s->n, text, n);
    s->n += n;
    s->p[s->n] = 0;
}

void sb_add(sbuf *s, const char *text) { add_n(s, text, strlen(text)); }

void sb_printf(sbuf *s, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        s->oom = true; /* never happens with the short lines the plan writes */
        return;
    }
    add_n(s, tmp, (size_t)n);
}

void sb_add_replacing(sbuf *s, const char *text, const char *from, const char *to) {
    size_t nf = strlen(from), nt = strlen(to);
    for (const char *hit; (hit = strstr(text, from)); text = hit + nf) {
        add_n(s, text, (size_t)(hit - text));
        add_n(s, to, nt);
    }
    sb_add(s, text);
}

void sb_free(sbuf *s) {
    free(s->p);
    *s = (sbuf){0};
}
