/* Small I/O helpers of the test programs. */
#ifndef HEARTH_TEST_IO_H
#define HEARTH_TEST_IO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file into memory (NULL on any failure). */
static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)n : 0;
    return buf;
}

/* Undoes \n \t \r \\ in place; returns the new length. */
static inline size_t unescape(char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && strchr("ntr\\", s[i + 1])) {
            char c = s[++i];
            s[o++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : '\\';
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

#endif
