/*
 * Budgets: spend per period (calendar, custom or rolling, in the budget's
 * time zone) against an amount, with thresholds that fire once per period,
 * forecast thresholds and multi-window burn-rate alerts. The current period
 * and a few before it are kept, so late and restated rows still count toward
 * the period they belong to.
 *
 * "Now" for a budget is the later of its newest matched event time and the
 * watermark last passed to br_budget_check(): burn-rate and rolling windows
 * end there, and an hour of the forecast profile is learned once now passes
 * its end (rows for an hour already learned still count as spend, not in
 * the profile).
 *
 * Forecast: an hour-of-week profile of the budget's own spend in local time
 * (168 slots, each an exponentially weighted average of that local hour's
 * spend, alpha 0.3 per week; the first value seen sets the slot). The
 * projected period-end spend is the spend so far plus, for every remaining
 * local hour of the period, its profile value (the current hour pro rata).
 * With 24 to 167 learned hours the hour-of-day profile (24 slots, alpha 0.2
 * per day) stands in; with fewer than 24 there is no forecast. A forecast
 * threshold fires only once a tenth of the period (at least an hour) has
 * elapsed, at most once per period; it resolves early when the projection
 * falls below 90 % of its level (and does not fire again that period), else
 * when the period closes.
 *
 * Burn rates: even pace = amount / period length (the length of the period
 * containing now; the window for rolling budgets). A rule fires when spend
 * over its long and its short window are both >= factor x pace x window and
 * resolves when the short window falls below. Windows are counted in a ring
 * of sub-buckets: one minute while the longest long window is <= 1 day, else
 * longest/1440 rounded up to whole minutes; a window covers the sub-buckets
 * ending with now's (so it is up to one sub-bucket short).
 *
 * Rolling budgets: spend over the last window (sub-buckets of window/720,
 * rounded up to whole minutes, ending with now's); a threshold fires when
 * the rolling spend reaches it and resolves when it falls back below.
 */
#ifndef BURNRATE_BUDGET_H
#define BURNRATE_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/money.h"
#include "burnrate/record.h"
#include "burnrate/wire.h"

#define BR_BUDGET_PERIODS 4  /* current period plus three before it */

typedef struct br_budget_period {
    int64_t start_ms;       /* UTC instant the local period starts */
    int64_t end_ms;         /* exclusive */
    br_money_t spent_nanos; /* sum of matching records (credits subtract) */
    uint64_t fired;         /* bit i: threshold i has fired this period */
    bool open;              /* slot in use */
    bool closed;            /* the watermark has passed end_ms; late rows
                               still count until the slot is reused */
    uint64_t fc_fired;      /* bit i: forecast threshold i has fired */
    uint64_t fc_done;       /* bit i: ...and resolved early (projection fell
                               back); it is not resolved again at the close */
    br_money_t fc_nanos;    /* projection at the newest forecast firing */
} br_budget_period_t;

typedef enum {
    BR_BUDGET_EV_FORECAST,  /* forecast threshold (index: forecast_bp) */
    BR_BUDGET_EV_BURN_RATE, /* burn-rate rule (index: burn_rates) */
    BR_BUDGET_EV_ROLLING,   /* rolling threshold (index: thresholds_bp) */
} br_budget_ev_kind_t;

/** A state change found by br_budget_check(), or a forecast resolved by a
 *  period close (br_budget_forecast_closed()). */
typedef struct br_budget_event {
    br_budget_ev_kind_t kind;
    bool resolved;          /* else firing */
    bool period_over;       /* forecast resolved because its period closed */
    size_t index;
    int64_t key_ms;         /* names the alert: period start (forecast) or
                               the episode's start (burn rate, rolling) */
    int64_t window_start_ms; /* period; long window; rolling window at the
                                crossing */
    int64_t window_end_ms;
    int64_t now_ms;         /* the budget's now at the change */
    br_money_t spent_nanos; /* period spend; long-window spend; rolling spend */
    br_money_t short_nanos; /* burn rate: short-window spend, else 0 */
    br_money_t level_nanos; /* what was crossed: threshold x amount, or
                               factor x pace x long window */
    br_money_t forecast_nanos; /* forecast: the projection, else -1 */
} br_budget_event_t;

/** A threshold newly crossed by br_budget_add(). */
typedef struct br_budget_crossing {
    const br_budget_period_t *period;  /* borrowed until the next call */
    size_t threshold;                  /* index into conf->thresholds_bp */
} br_budget_crossing_t;

typedef struct br_budget br_budget_t;

/** @param bc borrowed; must outlive the budget.
 *  @returns a new budget, or NULL with errstr set (bad time zone). */
br_budget_t *br_budget_new(const br_budget_conf_t *bc, char *errstr,
                           size_t errstr_size);
void br_budget_destroy(br_budget_t *b);
const br_budget_conf_t *br_budget_conf(const br_budget_t *b);

/** @returns true when every match dimension of the budget equals the
 *           record's value. */
bool br_budget_matches(const br_budget_t *b, const br_record_t *rec);

/**
 * @brief Count cost at event time t_ms into its period (rolling budgets:
 *        into the rolling window; they have no period slots and return 0),
 *        the burn-rate ring and the forecast profile's current hour.
 *        cost_nanos is one record's amount; every spend it adds to is a
 *        128-bit sum, and thresholds compare it exactly.
 * @param out receives the thresholds this record crossed, lowest first.
 * @returns how many were written to out (at most out_cap), or -1 when the
 *          period is older than every period kept (the cost is not counted).
 */
int br_budget_add(br_budget_t *b, int64_t t_ms, int64_t cost_nanos,
                  br_budget_crossing_t *out, size_t out_cap);

/**
 * @brief Move the budget's now to max(newest event, watermark_ms), learn the
 *        hours that completed, and evaluate forecasts, burn rates and
 *        rolling thresholds there.
 * @returns how many changes were written to out (at most out_cap; a change
 *          that does not fit is found again by the next call).
 */
size_t br_budget_check(br_budget_t *b, int64_t watermark_ms,
                       br_budget_event_t *out, size_t out_cap);

/**
 * @brief The projected end-of-period spend of the period containing now.
 * @returns false when there is no forecast yet (under 24 learned hours, or
 *          a rolling budget).
 */
bool br_budget_forecast(br_budget_t *b, br_money_t *projected_nanos);

/** @returns the budget's now (see above), INT64_MIN before any. */
int64_t br_budget_now(const br_budget_t *b);

/** @returns spend over the last window_ms ending at now (sub-bucket
 *           resolution), from the burn-rate ring or, for rolling budgets
 *           with window_ms equal to the window, the rolling ring; -1 when
 *           no ring covers it. */
br_money_t br_budget_window_spend(const br_budget_t *b, int64_t window_ms);

/**
 * @brief The forecast alerts a closed period resolves: its fired forecast
 *        thresholds not already resolved early.
 * @returns how many events were written (at most out_cap).
 */
size_t br_budget_forecast_closed(const br_budget_t *b,
                                 const br_budget_period_t *p,
                                 br_budget_event_t *out, size_t out_cap);

/** @brief Append the state beyond the period slots (profile, rings, fired
 *         forecast/burn-rate/rolling flags) as one opaque blob. */
void br_budget_save(const br_budget_t *b, br_buf_t *out);

/**
 * @brief Restore what br_budget_save() wrote, after the period slots were
 *        restored. Rings whose sizing changed with the config start empty;
 *        flags of rules or thresholds no longer configured are dropped.
 * @returns false when the blob is malformed (the budget is then reset to
 *          a new budget's state beyond its period slots).
 */
bool br_budget_load(br_budget_t *b, const void *data, size_t len);

/* ---- its part of the core snapshot (sequenced by state.c) ---- */

/** A budget as a core snapshot holds it (br_budget_snap_read()). */
typedef struct br_budget_snap {
    char *name;                /* owned */
    int period;                /* br_period_t */
    char *tz;                  /* owned; "UTC" when none was configured */
    struct {
        br_budget_period_t p;  /* fired unused: see bp */
        int32_t bp[64];        /* thresholds that fired, basis points */
        size_t bp_cnt;
    } periods[BR_BUDGET_PERIODS];
    size_t period_cnt;
    const void *state;         /* br_budget_save()'s blob (layout >= 2),
                                  borrowed from the snapshot; else NULL */
    size_t state_len;
} br_budget_snap_t;

/** @brief Append the budget's part of a core snapshot: name, period, zone,
 *         the kept periods with the thresholds that fired (in basis
 *         points), then br_budget_save()'s blob. */
void br_budget_snap_save(const br_budget_t *b, br_buf_t *out);

/** @brief Read what br_budget_snap_save() wrote in core layout `layout`
 *         (money and the blob as that layout has them); r fails on a bad
 *         count or time. Free sn with br_budget_snap_free(). */
void br_budget_snap_read(br_rd_t *r, uint64_t layout, br_budget_snap_t *sn);
void br_budget_snap_free(br_budget_snap_t *sn);

/** @brief Put sn's periods (fired thresholds matched by basis points) and
 *         its blob into b, a new budget of the same name.
 *  @returns false, b untouched, when b's period or time zone differ (the
 *           saved periods mean nothing then). A malformed blob leaves b's
 *           look-ahead state fresh. */
bool br_budget_snap_restore(br_budget_t *b, const br_budget_snap_t *sn);

/** @brief Append sn as a JSON object (name, zone, periods oldest first,
 *         the blob's size). */
void br_budget_snap_describe(const br_budget_snap_t *sn, br_buf_t *json);

/**
 * @brief Close the periods that ended at or before watermark_ms: each is
 *        copied to out (so its fired thresholds can be resolved) and marked
 *        closed; it keeps counting late rows until a newer period needs its
 *        slot.
 * @returns the number copied (at most out_cap; call again while it fills).
 */
size_t br_budget_close(br_budget_t *b, int64_t watermark_ms,
                       br_budget_period_t *out, size_t out_cap);

#endif
