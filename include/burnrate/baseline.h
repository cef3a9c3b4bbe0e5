/*
 * The per-series baseline behind spike detection. Spend is modelled in log
 * space, y = ln(max(x, 0) + c) with c a tenth of the series' usual non-zero
 * bucket, so a weekly pattern, a trend and the noise all become additive
 * and a doubling means the same at 2 and at 2000 a bucket. The forecast of a
 * bucket is a profile value for its hour of the week (UTC, 168 slots) plus a
 * level deviation shared by all slots. Each slot learns from its own visits
 * (once a week for hourly buckets); until a slot has been seen, the bucket
 * is judged against the same hour on the days already seen (the busiest of
 * them for spikes), so a series is useful after a day and its first
 * Monday is not news; a collapse (a drop) is judged only in an hour of the
 * week seen before, so a first weekend is not one either. The dispersion is an
 * exponentially weighted mean absolute residual scaled to a standard
 * deviation; a heavy-tailed series (residuals often beyond two deviations)
 * gets a wider one. Updates are Huber-clipped so a spike barely moves the
 * baseline; a lasting level shift (SHIFT_RUN buckets in a row beyond two
 * deviations, the same way) is taken in at once, so it stops alerting after
 * 6 buckets; going back to the level before it within 48 buckets is a
 * recovery, taken in at once too (no spike after an outage, no drop after a
 * plateau). Sparse series (most buckets empty) are judged by the size of
 * their non-empty buckets. Pure and deterministic: the same bucket values in
 * the same order give the same doubles.
 */
#ifndef BURNRATE_BASELINE_H
#define BURNRATE_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "burnrate/config.h"
#include "burnrate/buf.h"
#include "burnrate/money.h"
#include "burnrate/wire.h"

#define BR_BASELINE_SLOTS 168  /* hours of the week, Monday 00h UTC first */
#define BR_BASELINE_SHIFT_RUN 6 /* buckets that make a level shift */

typedef struct br_baseline {
    double offset;     /* c, nanos: a tenth of the usual non-zero bucket */
    double dev;        /* level deviation from the profile, log */
    double disp;       /* EW mean absolute residual, log */
    double tail;       /* EW share of residuals beyond 2 deviations */
    double nz_rate;    /* EW share of buckets with any spend */
    double nz_mean;    /* EW mean of non-zero buckets, log */
    double nz_disp;    /* EW mean absolute deviation of those, log */
    double nz_lin;     /* EW mean of non-zero |buckets|, nanos (for c) */
    double run_sum;    /* residuals of the current run beyond 2 deviations */
    double run_dev;    /* dev when the run started */
    double prev_dev;   /* dev before the last shift taken in */
    uint32_t prev_left; /* buckets prev_dev is still remembered (0: none) */
    int32_t run;       /* its length, signed by direction */
    bool run_first;    /* the run is of first visits (against the same hour
                          on other days), not of a learned profile */
    uint32_t n;        /* final buckets learned from */
    uint32_t dn;       /* residuals the dispersion has learned from */
    uint32_t nzn;      /* non-zero buckets learned from */
    uint8_t visits[BR_BASELINE_SLOTS]; /* per slot, saturating at 255 */
    float prof[BR_BASELINE_SLOTS]; /* profile, log, with dev = 0 */
} br_baseline_t;

/** The verdict on one bucket's spend against the baseline. */
typedef struct br_verdict {
    br_money_t expected_nanos; /* forecast for the bucket, >= 0 */
    double score;            /* (observed - expected) / dispersion */
    bool warm;               /* enough history to judge */
    bool spike;              /* unusual in a watched direction, beyond the
                                floor and the ratio, and warm */
    bool drop;               /* with spike: it is a collapse (observed below
                                expected), watched with direction down/both */
} br_verdict_t;

void br_baseline_init(br_baseline_t *bl);

/** @returns the forecast for the bucket starting at bucket_ms, nanos (>= 0):
 *           the typical (median) spend of that hour of the week now. */
double br_baseline_expect(const br_baseline_t *bl, int64_t bucket_ms);

/** @brief Judge observed spend (possibly a still-filling bucket) against the
 *         forecast with the spike rule of sc. The baseline is an estimate
 *         in doubles: callers convert a bucket's 128-bit sum explicitly
 *         (br_money_to_double()). */
br_verdict_t br_baseline_judge(const br_baseline_t *bl,
                               const br_spike_conf_t *sc, int64_t bucket_ms,
                               double observed_nanos);

/** @brief Learn one final bucket's total (nanos, as a double). */
void br_baseline_update(br_baseline_t *bl, int64_t bucket_ms,
                        double observed_nanos);

/** @returns true before the first spend, or after a long run of empty
 *           buckets, when more of them would teach little (lets a long gap
 *           be skipped instead of replayed bucket by bucket). */
bool br_baseline_is_quiet(const br_baseline_t *bl);

/** @brief Append bl to a core snapshot (its layout 3 fields on). */
void br_baseline_save(const br_baseline_t *bl, br_buf_t *b);

/** @brief Read a baseline br_baseline_save() wrote in core layout `layout`
 *         (a layout-1 baseline, additive in money, becomes a log-space
 *         profile with the forecast it made for every hour of the week). */
void br_baseline_load(br_rd_t *r, uint64_t layout, br_baseline_t *bl);

#endif
