/*
 * Budgets: spend per calendar period (in the budget's time zone) against an
 * amount, with thresholds that fire once per period. The current period and
 * a few before it are kept, so late and restated rows still count toward the
 * period they belong to.
 */
#ifndef BURNRATE_BUDGET_H
#define BURNRATE_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/config.h"
#include "burnrate/record.h"

#define BR_BUDGET_PERIODS 4  /* current period plus three before it */

typedef struct br_budget_period {
    int64_t start_ms;       /* UTC instant the local period starts */
    int64_t end_ms;         /* exclusive */
    int64_t spent_nanos;    /* sum of matching records (credits subtract) */
    uint64_t fired;         /* bit i: threshold i has fired this period */
    bool open;              /* slot in use */
    bool closed;            /* the watermark has passed end_ms; late rows
                               still count until the slot is reused */
} br_budget_period_t;

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
 * @brief Count cost at event time t_ms into its period.
 * @param out receives the thresholds this record crossed, lowest first.
 * @returns how many were written to out (at most out_cap), or -1 when the
 *          period is older than every period kept (the cost is not counted).
 */
int br_budget_add(br_budget_t *b, int64_t t_ms, int64_t cost_nanos,
                  br_budget_crossing_t *out, size_t out_cap);

/** @returns the BR_BUDGET_PERIODS kept slots (unused ones have open false),
 *           for snapshots to save and restore. */
br_budget_period_t *br_budget_periods(br_budget_t *b);

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
