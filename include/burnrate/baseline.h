/*
 * The per-series baseline behind spike detection: an additive level with
 * hour-of-day and day-of-week offsets (Holt-Winters style, learned online)
 * and an exponentially weighted mean absolute residual as the dispersion.
 * Updates are Huber-clipped so a spike barely moves the baseline, while a
 * lasting level shift is absorbed within a few dozen buckets. Pure and
 * deterministic: the same bucket values in the same order give the same
 * doubles.
 */
#ifndef BURNRATE_BASELINE_H
#define BURNRATE_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "burnrate/config.h"

typedef struct br_baseline {
    double level;      /* deseasonalised spend per bucket, nanos */
    double disp;       /* EW mean absolute residual, nanos */
    float hod[24];     /* additive hour-of-day (UTC) offsets, nanos */
    float dow[7];      /* additive day-of-week offsets, nanos */
    double nz_rate;    /* EW share of buckets with any spend */
    double nz_mean;    /* EW mean of non-zero buckets, nanos */
    double nz_disp;    /* EW mean absolute deviation of those, nanos */
    uint32_t n;        /* final buckets learned from */
} br_baseline_t;

/** The verdict on one bucket's spend against the baseline. */
typedef struct br_verdict {
    int64_t expected_nanos;  /* forecast for the bucket, >= 0 */
    double score;            /* (observed - expected) / dispersion */
    bool warm;               /* enough history to judge */
    bool spike;              /* unusual in a watched direction, beyond the
                                floor and the ratio, and warm */
    bool drop;               /* with spike: it is a collapse (observed below
                                expected), watched with direction down/both */
} br_verdict_t;

void br_baseline_init(br_baseline_t *bl);

/** @returns the forecast for the bucket starting at bucket_ms, nanos (may be
 *           negative for a series of credits). */
double br_baseline_expect(const br_baseline_t *bl, int64_t bucket_ms);

/** @brief Judge observed spend (possibly a still-filling bucket) against the
 *         forecast with the spike rule of sc. */
br_verdict_t br_baseline_judge(const br_baseline_t *bl,
                               const br_spike_conf_t *sc, int64_t bucket_ms,
                               int64_t observed_nanos);

/** @brief Learn one final bucket's total. */
void br_baseline_update(br_baseline_t *bl, int64_t bucket_ms,
                        int64_t observed_nanos);

/** @returns true after a long run of empty buckets, when more of them would
 *           teach little (lets a long gap be skipped instead of replayed
 *           bucket by bucket). */
bool br_baseline_is_quiet(const br_baseline_t *bl);

#endif
