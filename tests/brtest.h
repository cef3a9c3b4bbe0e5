/*
 * A minimal test harness: checks print both sides on failure, and the run
 * ends with the plain "N passed, N failed" line that CI reads. A run in
 * which no check ran fails.
 */
#ifndef BRTEST_H
#define BRTEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern int brt_pass, brt_fail;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) brt_pass++;                                                \
        else { brt_fail++;                                                   \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
                    #cond); }                                                \
    } while (0)

#define CHECK_INT(a, b)                                                      \
    do {                                                                     \
        long long brt_a = (long long)(a), brt_b = (long long)(b);            \
        if (brt_a == brt_b) brt_pass++;                                      \
        else { brt_fail++;                                                   \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",        \
                    __FILE__, __LINE__, #a, #b, brt_a, brt_b); }             \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *brt_a = (a), *brt_b = (b);                               \
        if (brt_a && brt_b && strcmp(brt_a, brt_b) == 0) brt_pass++;         \
        else { brt_fail++;                                                   \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",    \
                    __FILE__, __LINE__, #a, #b, brt_a ? brt_a : "(null)",    \
                    brt_b ? brt_b : "(null)"); }                             \
    } while (0)

/** Print the summary line and return the process exit code: 1 when a
 *  check failed or when none ran at all, else 0. */
int brt_done(void);

#endif
