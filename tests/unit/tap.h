/*
 * tap.h — the tiny test protocol of hub's unit tests.
 * Each check prints "ok - NAME" or "not ok - NAME" (TAP style); tests/run.sh counts
 * those lines. tap_done() returns the process exit status (1 when any check failed).
 */
#ifndef HUB_TAP_H
#define HUB_TAP_H

#include <stdio.h>

static int tap_failed;

#define TAP_CHECK(cond, name)                                                                      \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok - %s\n", (name));                                                           \
        } else {                                                                                   \
            printf("not ok - %s (%s:%d)\n", (name), __FILE__, __LINE__);                           \
            tap_failed++;                                                                          \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

static inline int tap_done(void)
{
    return tap_failed ? 1 : 0;
}

#endif
