/*
 * torture.h — allocation failure injection for the translator unit tests (after curl's torture
 * tests). With glibc and without AddressSanitizer it replaces malloc, calloc, realloc and free
 * for the whole test program (include it from one file of a program only) and defines
 * TORTURE; torture() then fails each allocation of a run in turn. Without TORTURE, a test
 * skips its torture checks.
 */
#ifndef HUB_TORTURE_H
#define HUB_TORTURE_H

#include "tap.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define TORTURE 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
static bool counting;      /* inside a tortured call */
static long fail_at = -1;  /* the allocation (0-based) that fails */
static long nallocs, live; /* attempts and live blocks while counting */

static bool fail_now(void)
{
    return counting && nallocs++ == fail_at;
}

void *malloc(size_t n)
{
    void *p = fail_now() ? NULL : __libc_malloc(n);
    live += counting && p != NULL;
    return p;
}

void *calloc(size_t n, size_t m)
{
    void *p = fail_now() ? NULL : __libc_calloc(n, m);
    live += counting && p != NULL;
    return p;
}

void *realloc(void *p, size_t n)
{
    void *q = fail_now() ? NULL : __libc_realloc(p, n);
    live += counting && p == NULL && q != NULL;
    return q;
}

void free(void *p)
{
    live -= counting && p != NULL;
    __libc_free(p);
}

/* Runs run(arg) once (warm-up), then again with allocation 0, 1, 2, … failing, until a run
 * completes without a failed allocation. run returns 1 = success, 0 = a clean failure, -1 =
 * anything else, and frees what it made. One TAP check named name: every run clean and no
 * block left. arg is taken (freed here). */
static void torture(const char *name, int (*run)(json_object *), json_object *arg)
{
    bool clean = arg != NULL;
    run(arg); /* warm-up: json-c caches a print buffer inside borrowed inputs */
    for (long n = 0; clean; n++) {
        fail_at = n;
        nallocs = live = 0;
        counting = true;
        int r = run(arg);
        counting = false;
        if (r < 0 || live != 0 || (nallocs <= n && r != 1)) {
            printf("# %s: allocation %ld: result %d, %ld blocks left\n", name, n, r, live);
            clean = false;
        }
        if (nallocs <= n) /* nothing failed: the run was complete */
            break;
    }
    TAP_CHECK(clean, name);
    json_object_put(arg);
}
#endif

#endif
