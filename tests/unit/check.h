/* Minimal test protocol shared by every C unit test: each check prints
 * "ok - NAME" or "not ok - NAME: why"; tests/run.sh counts the lines. */
#ifndef HEARTH_CHECK_H
#define HEARTH_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(name, cond, ...)                                                                    \
    do {                                                                                          \
        if (cond) {                                                                               \
            printf("ok - %s\n", (name));                                                          \
        } else {                                                                                  \
            check_failures++;                                                                     \
            printf("not ok - %s: ", (name));                                                      \
            printf(__VA_ARGS__);                                                                  \
            printf("\n");                                                                         \
        }                                                                                         \
        fflush(stdout);                                                                           \
    } while (0)

#define CHECK_DONE() return check_failures ? 1 : 0

#endif
