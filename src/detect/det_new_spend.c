/*
 * New spend: a series first seen after the stage has learned for the
 * warm-up (spike.warmup buckets past the first) is watched for its first
 * warm-up buckets; once what it spent there reaches spike.new_spend_min,
 * one new_spend alert. What it watches lives on the series (new_until,
 * new_first_ms, new_nanos, new_fired: saved with it).
 */
#include "burnrate/detector.h"
#include "burnrate/hash.h"
#include "burnrate/ts.h"

static void new_spend_alert(const br_detect_env_t *env,
                            const br_emit_ctx_t *ec, const br_series_t *s,
                            int64_t b) {
    br_alert_t a;
    br_emit_init(ec, &a, BR_ALERT_NEW_SPEND);
    const br_scope_conf_t *sc = br_series_scope(env->store, s->scope)->conf;
    br_id_new_spend(a.id, sc->name, s->blob, s->blob_len);
    a.revision = 1;
    a.status = BR_STATUS_FIRING;
    a.severity = BR_SEV_WARNING;
    a.scope = sc->name;
    a.label_cnt = br_series_labels(env->store, s, a.labels,
                                   BR_ALERT_LABELS_MAX);
    int64_t bms = env->conf->spike.bucket_ms;
    a.window_start_ms = br_floordiv(s->new_first_ms, bms) * bms;
    a.window_end_ms = (b + 1) * bms;
    a.observed_nanos = s->new_nanos;
    a.impact_nanos = s->new_nanos;
    char lbl[200], obs[BR_MONEY_STR_MAX], when[40];
    br_emit_labels(a.labels, a.label_cnt, lbl, sizeof(lbl));
    br_emit_money(s->new_nanos, obs, sizeof(obs));
    br_ts_format(s->new_first_ms, when, sizeof(when));
    br_emit_text(a.summary, sizeof(a.summary),
                 "New spend on %s: %s %s since %s, a series never seen "
                 "before", lbl, obs, a.currency, when);
    br_emit(ec, &a);
}

static void new_spend_on_series(void *self, const br_emit_ctx_t *ec,
                                const br_series_event_t *ev) {
    const br_detect_env_t *env = self; /* stateless */
    br_series_t *s = ev->series;
    int64_t b = ev->bucket;
    int64_t warm = env->conf->spike.warmup_buckets;
    int64_t span = warm > 0 ? warm : 1;
    switch (ev->kind) {
    case BR_SERIES_EV_CREATED:
        /* Watched only once the stage has learned for the warm-up. */
        if (*env->final_bucket != INT64_MIN &&
            *env->final_bucket - *env->first_bucket >= warm) {
            s->new_until = b + span;
            s->new_first_ms = ev->rec->event_ms;
        }
        break;
    case BR_SERIES_EV_EARLIER:
        /* The series' first buckets moved earlier: so does its window. */
        if (s->new_until && b + span < s->new_until)
            s->new_until = b + span;
        break;
    case BR_SERIES_EV_ADDED:
        if (s->new_until && ev->rec->event_ms < s->new_first_ms)
            s->new_first_ms = ev->rec->event_ms;
        if (s->new_until && !s->new_fired && b < s->new_until) {
            s->new_nanos += ev->rec->cost_nanos;
            if (s->new_nanos >= env->conf->spike.new_spend_min_nanos) {
                s->new_fired = true;
                new_spend_alert(env, ec, s, b);
            }
        }
        break;
    default:
        break;
    }
}

const br_detector_t br_detector_new_spend = {
    .name = "new_spend",
    .on_series = new_spend_on_series,
};
