/*
 * Budget alerts: the budgets' arithmetic is budget.h's (periods, forecasts,
 * burn rates, rolling windows); this raises its alerts. A counted record is
 * added to every budget it matches (on_record); as the watermark moves,
 * the periods it passed close and resolve (on_watermark). The budgets
 * themselves are the stage's (env->budgets), saved with the snapshot by
 * state.c; this keeps nothing of its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "burnrate/detector.h"
#include "burnrate/hash.h"
#include "burnrate/ts.h"

static void budget_alert(const br_emit_ctx_t *ec, const br_budget_t *bg,
                         const br_budget_period_t *p, size_t th,
                         br_alert_status_t status) {
    const br_budget_conf_t *bc = br_budget_conf(bg);
    br_alert_t a;
    br_emit_init(ec, &a, BR_ALERT_BUDGET_THRESHOLD);
    int32_t bp = bc->thresholds_bp[th];
    br_id_budget(a.id, BR_ALERT_BUDGET_THRESHOLD, bc->name, p->start_ms, bp);
    a.revision = status == BR_STATUS_FIRING ? 1 : 2;
    a.status = status;
    a.severity = bp >= 10000 ? BR_SEV_CRITICAL
                 : bp >= 8000 ? BR_SEV_WARNING : BR_SEV_INFO;
    a.scope = bc->name;
    a.label_cnt = bc->match_cnt < BR_ALERT_LABELS_MAX ? bc->match_cnt
                                                      : BR_ALERT_LABELS_MAX;
    for (size_t i = 0; i < a.label_cnt; i++) {
        a.labels[i].key = bc->match[i].key;
        a.labels[i].value = bc->match[i].value;
    }
    a.window_start_ms = p->start_ms;
    a.window_end_ms = p->end_ms;
    a.observed_nanos = p->spent_nanos;
    a.expected_nanos = bc->amount_nanos;
    a.impact_nanos = p->spent_nanos - bc->amount_nanos;
    a.budget = bc->name;
    a.budget_nanos = bc->amount_nanos;
    a.spent_nanos = p->spent_nanos;
    a.threshold_bp = bp;
    memcpy(a.currency, bc->currency, sizeof(a.currency));
    char spent[BR_MONEY_STR_MAX], amount[BR_MONEY_STR_MAX], when[40];
    br_emit_money(p->spent_nanos, spent, sizeof(spent));
    br_emit_money(bc->amount_nanos, amount, sizeof(amount));
    br_ts_format(p->start_ms, when, sizeof(when));
    if (status == BR_STATUS_RESOLVED)
        br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s: the %s starting %s (%s) is over; final spend "
                 "%s of %s %s (threshold %d.%02d%% was crossed)",
                 bc->name, br_period_name(bc->period), when,
                 bc->timezone ? bc->timezone : "UTC", spent, amount,
                 bc->currency, bp / 100, bp % 100);
    else
        br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s crossed %d.%02d%%: %s of %s %s spent in the %s "
                 "starting %s (%s)",
                 bc->name, bp / 100, bp % 100, spent, amount, bc->currency,
                 br_period_name(bc->period), when,
                 bc->timezone ? bc->timezone : "UTC");
    br_emit(ec, &a);
}

/* Labels, window and money fields every budget alert shares. */
static void budget_fields(br_alert_t *a, const br_budget_conf_t *bc) {
    a->scope = bc->name;
    a->label_cnt = bc->match_cnt < BR_ALERT_LABELS_MAX ? bc->match_cnt
                                                       : BR_ALERT_LABELS_MAX;
    for (size_t i = 0; i < a->label_cnt; i++) {
        a->labels[i].key = bc->match[i].key;
        a->labels[i].value = bc->match[i].value;
    }
    a->budget = bc->name;
    a->budget_nanos = bc->amount_nanos;
    memcpy(a->currency, bc->currency, sizeof(a->currency));
}

static void bp_text(int32_t bp, char *buf, size_t size) {
    snprintf(buf, size, "%d.%02d%%", (int)(bp / 100), (int)(bp % 100));
}

/* Forecast, burn-rate and rolling-threshold alerts (see budget.h). */
static void budget_event_alert(const br_emit_ctx_t *ec, const br_budget_t *bg,
                               const br_budget_event_t *ev) {
    const br_budget_conf_t *bc = br_budget_conf(bg);
    const char *zone = bc->timezone ? bc->timezone : "UTC";
    br_alert_t a;
    char spent[BR_MONEY_STR_MAX], amount[BR_MONEY_STR_MAX],
        level[BR_MONEY_STR_MAX], fc[BR_MONEY_STR_MAX], when[40], pct[16];
    br_emit_money(bc->amount_nanos, amount, sizeof(amount));
    br_emit_money(ev->spent_nanos, spent, sizeof(spent));
    br_emit_money(ev->level_nanos, level, sizeof(level));
    br_ts_format(ev->window_start_ms, when, sizeof(when));
    if (ev->kind == BR_BUDGET_EV_FORECAST) {
        int32_t bp = bc->forecast_bp[ev->index];
        br_emit_init(ec, &a, BR_ALERT_BUDGET_FORECAST);
        br_id_budget(a.id, BR_ALERT_BUDGET_FORECAST, bc->name, ev->key_ms, bp);
        a.threshold_bp = bp;
        a.severity = bp >= 10000 ? BR_SEV_WARNING : BR_SEV_INFO;
        a.observed_nanos = ev->forecast_nanos > 0 ? ev->forecast_nanos : 0;
        a.expected_nanos = bc->amount_nanos;
        a.impact_nanos = a.observed_nanos - bc->amount_nanos;
        a.spent_nanos = ev->spent_nanos;
        a.forecast_nanos = a.observed_nanos;
        bp_text(bp, pct, sizeof(pct));
        br_emit_money(a.forecast_nanos, fc, sizeof(fc));
        if (ev->period_over)
            br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s: the %s starting %s (%s) is over; final spend "
                 "%s of %s %s ended %s the forecast threshold %s (%s; "
                 "projected %s)",
                 bc->name, br_period_name(bc->period), when, zone, spent,
                 amount, bc->currency,
                 ev->spent_nanos >= ev->level_nanos ? "above" : "below", pct,
                 level, fc);
        else if (ev->resolved)
            br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s: projected spend fell back to %s of %s %s, "
                 "under 90%% of the forecast threshold %s, for the %s "
                 "starting %s (%s); %s spent so far",
                 bc->name, fc, amount, bc->currency, pct,
                 br_period_name(bc->period), when, zone, spent);
        else
            br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s is on course to reach %s: projected %s of %s %s "
                 "by the end of the %s starting %s (%s); %s spent so far",
                 bc->name, pct, fc, amount, bc->currency,
                 br_period_name(bc->period), when, zone, spent);
    } else if (ev->kind == BR_BUDGET_EV_BURN_RATE) {
        const br_burn_rate_conf_t *r = &bc->burn_rates[ev->index];
        br_emit_init(ec, &a, BR_ALERT_BUDGET_BURN_RATE);
        br_id_burn_rate(a.id, bc->name, r->long_ms, r->short_ms, r->factor,
                        ev->key_ms);
        double top = 0;
        for (size_t i = 0; i < bc->burn_rate_cnt; i++)
            if (bc->burn_rates[i].factor > top)
                top = bc->burn_rates[i].factor;
        a.severity = r->factor >= top ? BR_SEV_CRITICAL : BR_SEV_WARNING;
        int64_t tbp = br_money_ratio(ev->level_nanos, bc->amount_nanos, 10000);
        a.threshold_bp = tbp > INT32_MAX ? INT32_MAX : (int32_t)tbp;
        a.observed_nanos = ev->spent_nanos;
        a.expected_nanos = ev->level_nanos;
        a.impact_nanos = ev->spent_nanos - ev->level_nanos;
        a.spent_nanos = ev->spent_nanos;
        char sh[BR_MONEY_STR_MAX], lw[24], sw[24];
        br_emit_money(ev->short_nanos, sh, sizeof(sh));
        snprintf(lw, sizeof(lw), "%" PRId64 "m", r->long_ms / 60000);
        snprintf(sw, sizeof(sw), "%" PRId64 "m", r->short_ms / 60000);
        if (ev->resolved)
            br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s burn rate back under %gx: %s %s in the last %s "
                 "(%s in the last %s)",
                 bc->name, r->factor, sh, bc->currency, sw, spent, lw);
        else
            br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s burning at over %gx its even pace: %s %s in the "
                 "last %s (limit %s, %s of %s) and %s in the last %s",
                 bc->name, r->factor, spent, bc->currency, lw, level,
                 (bp_text(a.threshold_bp, pct, sizeof(pct)), pct), amount, sh,
                 sw);
    } else {
        int32_t bp = bc->thresholds_bp[ev->index];
        br_emit_init(ec, &a, BR_ALERT_BUDGET_THRESHOLD);
        br_id_budget(a.id, BR_ALERT_BUDGET_THRESHOLD, bc->name, ev->key_ms,
                     bp);
        a.threshold_bp = bp;
        a.severity = bp >= 10000 ? BR_SEV_CRITICAL
                     : bp >= 8000 ? BR_SEV_WARNING : BR_SEV_INFO;
        a.observed_nanos = ev->spent_nanos;
        a.expected_nanos = bc->amount_nanos;
        a.impact_nanos = ev->spent_nanos - bc->amount_nanos;
        a.spent_nanos = ev->spent_nanos;
        bp_text(bp, pct, sizeof(pct));
        char win[24];
        snprintf(win, sizeof(win), "%" PRId64 "h", bc->window_ms / 3600000);
        if (ev->resolved)
            br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s back under %s: %s of %s %s spent in the last %s",
                 bc->name, pct, spent, amount, bc->currency, win);
        else
            br_emit_text(a.summary, sizeof(a.summary),
                 "Budget %s crossed %s: %s of %s %s spent in the last %s",
                 bc->name, pct, spent, amount, bc->currency, win);
    }
    a.revision = ev->resolved ? 2 : 1;
    a.status = ev->resolved ? BR_STATUS_RESOLVED : BR_STATUS_FIRING;
    budget_fields(&a, bc);
    a.window_start_ms = ev->window_start_ms;
    a.window_end_ms = ev->window_end_ms;
    br_emit(ec, &a);
}

/* Evaluate forecasts, burn rates and rolling windows at the budget's now. */
static void check_budget(const br_emit_ctx_t *ec, br_budget_t *bg) {
    br_budget_event_t ev[16];
    size_t n;
    do {
        n = br_budget_check(bg, *ec->watermark_ms, ev, 16);
        for (size_t k = 0; k < n; k++)
            budget_event_alert(ec, bg, &ev[k]);
    } while (n == 16);
}

static void resolve_period(const br_emit_ctx_t *ec, const br_budget_t *bg,
                           const br_budget_period_t *p) {
    const br_budget_conf_t *bc = br_budget_conf(bg);
    for (size_t t = 0; t < bc->threshold_cnt && t < 64; t++)
        if (p->fired & (UINT64_C(1) << t))
            budget_alert(ec, bg, p, t, BR_STATUS_RESOLVED);
    br_budget_event_t ev[64];
    size_t n = br_budget_forecast_closed(bg, p, ev, 64);
    for (size_t k = 0; k < n; k++)
        budget_event_alert(ec, bg, &ev[k]);
}

/* The watermark moved: close the periods it passed, then check. */
static void budget_on_watermark(void *self, const br_emit_ctx_t *ec) {
    const br_detect_env_t *env = self; /* stateless */
    for (size_t i = 0; i < env->conf->budget_cnt; i++) {
        br_budget_period_t closed[BR_BUDGET_PERIODS];
        size_t n = br_budget_close(env->budgets[i], *ec->watermark_ms, closed,
                                   BR_BUDGET_PERIODS);
        for (size_t k = 0; k < n; k++)
            resolve_period(ec, env->budgets[i], &closed[k]);
        check_budget(ec, env->budgets[i]);
    }
}

/* A counted record: add it to every budget it matches. */
static void budget_on_record(void *self, const br_emit_ctx_t *ec,
                             const br_record_t *rec) {
    const br_detect_env_t *env = self; /* stateless */
    for (size_t i = 0; i < env->conf->budget_cnt; i++) {
        br_budget_t *bg = env->budgets[i];
        if (!br_budget_matches(bg, rec))
            continue;
        br_budget_crossing_t x[64];
        int n = br_budget_add(bg, rec->event_ms, rec->cost_nanos, x, 64);
        for (int k = 0; k < n; k++) {
            budget_alert(ec, bg, x[k].period, x[k].threshold, BR_STATUS_FIRING);
            if (x[k].period->closed) /* late data for a closed period */
                budget_alert(ec, bg, x[k].period, x[k].threshold,
                             BR_STATUS_RESOLVED);
        }
        check_budget(ec, bg);
    }
}

const br_detector_t br_detector_budget = {
    .name = "budget",
    .on_record = budget_on_record,
    .on_watermark = budget_on_watermark,
};
