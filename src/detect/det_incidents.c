/*
 * Spike and drop incidents: the detector of unusual buckets. The baseline
 * (baseline.h) judges each bucket; an unusual one opens, widens or reopens
 * the incident of its direction on its series, usual ones after it resolve
 * it, and an incident of a series whose parent series (one dimension
 * fewer) is unusual in the same bucket is grouped under the parent's
 * alert. Final buckets arrive through on_bucket_final (parents first: see
 * the pipeline's advance_final()), the first open bucket of a series,
 * judged early while it fills, through on_bucket_open. Incidents hang on
 * their series (br_series_t.inc) and are saved with it
 * (br_incidents_save() and its kin, sequenced by state.c).
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/baseline.h"
#include "burnrate/detector.h"
#include "burnrate/hash.h"
#include "burnrate/pipeline.h"
#include "burnrate/state.h"
#include "burnrate/ts.h"

#define NONE BR_SERIES_NONE

/* An incident: unusual buckets of one series in one direction (a spike, or
 * a drop: spend collapsed), and the usual ones between them. Figures of
 * final buckets are summed here; those of buckets still open are read from
 * the series when a message is built. A resolved incident is kept through
 * the cooldown, so that the series' next unusual bucket reopens it. One
 * block from calloc hung on its series (br_series_t.inc, by kind), which
 * the store frees with the series: it owns nothing. */
typedef enum { INC_SPIKE, INC_DROP, INC__CNT } inc_kind_t;

typedef struct br_incident {
    char id[17];
    uint32_t revision;         /* messages sent; 0 while grouped from birth */
    inc_kind_t kind;
    int64_t start_bucket;      /* first unusual bucket */
    int64_t last_bucket;       /* latest unusual bucket */
    int quiet;                 /* final usual buckets after last_bucket */
    br_severity_t severity;    /* highest so far */
    double score;              /* of the latest unusual verdict */
    br_money_t sum_obs;        /* final buckets in [start, last], nanos */
    br_money_t sum_exp;
    br_money_t pend_obs;       /* final quiet buckets after last_bucket */
    br_money_t pend_exp;
    br_money_t emitted_obs;    /* observed in the last message sent */
    int64_t resolved_bucket;   /* final bucket that resolved it; INT64_MIN
                                  while open */
    char parent_id[17];        /* alert id of the parent series' incident it
                                  is grouped under; "" when on its own */
} incident_t;

_Static_assert(INC__CNT == BR_SERIES_INCIDENTS, "incident slots");

static br_series_t *series_at(const br_detect_env_t *env, uint32_t idx) {
    return br_series_at(env->store, idx);
}

static const br_scope_conf_t *scope_conf(const br_detect_env_t *env,
                                         uint32_t scope) {
    return br_series_scope(env->store, scope)->conf;
}

/* Contributors rank by how far they moved the way the incident went (sign
 * +1: up, -1: down), then by scope and labels, so that ties are stable. */
static int cmp_contrib(const br_contrib_t *a, const br_contrib_t *b,
                       int sign) {
    if (a->impact_nanos != b->impact_nanos)
        return (a->impact_nanos > b->impact_nanos) == (sign > 0) ? -1 : 1;
    int c = strcmp(a->scope, b->scope);
    for (size_t i = 0; !c && i < a->label_cnt && i < b->label_cnt; i++)
        c = strcmp(a->labels[i].value, b->labels[i].value);
    if (c)
        return c;
    return (a->label_cnt > b->label_cnt) - (a->label_cnt < b->label_cnt);
}

/* Observed and expected of series s in bucket b, wherever it lives now. */
static void bucket_figures(const br_detect_env_t *env, const br_series_t *s,
                           int64_t b, br_money_t *obs, br_money_t *exp) {
    if (s->last_final == b) {
        *obs = s->last_val;
        *exp = s->last_exp;
        return;
    }
    *obs = (b > s->last_final && b <= s->last_final + s->ring_cap)
               ? *br_series_slot(s, b)
               : 0;
    double e = br_baseline_expect(&s->bl, b * env->conf->spike.bucket_ms);
    *exp = e > 0 ? br_money_from_double_est(trunc(e)) : 0;
}

/* The children one level down that drove bucket b of s the way sign says
 * (+1: the largest rises, -1: the largest falls), with their share of the
 * parent's impact in that bucket. */
static void contributors(const br_detect_env_t *env, const br_series_t *s, int64_t b,
                         br_money_t impact, int sign, br_alert_t *a) {
    br_contrib_t top[BR_ALERT_CONTRIB_MAX + 1];
    size_t n = 0;
    for (uint32_t i = 0; i < s->child_cnt; i++) {
        const br_series_t *c = series_at(env, s->children[i]);
        br_contrib_t cb = {0};
        bucket_figures(env, c, b, &cb.observed_nanos, &cb.expected_nanos);
        cb.impact_nanos = cb.observed_nanos - cb.expected_nanos;
        if (sign > 0 ? cb.impact_nanos <= 0 : cb.impact_nanos >= 0)
            continue;
        cb.scope = scope_conf(env, c->scope)->name;
        cb.label_cnt = br_series_labels(env->store, c, cb.labels,
                                        BR_ALERT_LABELS_MAX);
        if (cb.label_cnt == 0)
            continue;
        if (sign > 0 && impact > 0)
            cb.share_bp = (int32_t)br_money_ratio(cb.impact_nanos, impact,
                                                  10000);
        else if (sign < 0 && impact < 0)
            cb.share_bp = (int32_t)br_money_ratio(-cb.impact_nanos, -impact,
                                                  10000);
        /* Insertion into a small sorted array keeps the top ones. */
        size_t pos = n;
        while (pos > 0 && cmp_contrib(&cb, &top[pos - 1], sign) < 0) {
            if (pos < BR_ALERT_CONTRIB_MAX)
                top[pos] = top[pos - 1];
            pos--;
        }
        if (pos < BR_ALERT_CONTRIB_MAX) {
            top[pos] = cb;
            if (n < BR_ALERT_CONTRIB_MAX)
                n++;
        }
    }
    memcpy(a->contribs, top, n * sizeof(top[0]));
    a->contrib_cnt = n;
}

/* Severity by the incident's |impact| against spike.min_impact: info
 * below 3x, warning from 3x, critical from 10x (README, "Alert
 * lifecycle"). */
static br_severity_t spike_severity(const br_detect_env_t *env,
                                    br_money_t impact) {
    int64_t floor = env->conf->spike.min_impact_nanos;
    br_money_t mag = impact < 0 ? -impact : impact;
    br_money_t times = mag / (floor > 0 ? floor : 1);
    return times >= 10 ? BR_SEV_CRITICAL
           : times >= 3 ? BR_SEV_WARNING
                        : BR_SEV_INFO;
}

/* spike.cooldown in buckets, rounded up. */
static int64_t cooldown_buckets(const br_detect_env_t *env) {
    const br_spike_conf_t *sp = &env->conf->spike;
    return (sp->cooldown_ms + sp->bucket_ms - 1) / sp->bucket_ms;
}

/* Observed and expected over the incident's window so far. */
static void window_figures(const br_detect_env_t *env, const br_series_t *s,
                           const incident_t *inc, br_money_t *obs,
                           br_money_t *exp) {
    *obs = inc->sum_obs;
    *exp = inc->sum_exp;
    int64_t from = s->last_final + 1 > inc->start_bucket ? s->last_final + 1
                                                          : inc->start_bucket;
    for (int64_t b = from; b <= inc->last_bucket; b++) {
        br_money_t o, e;
        bucket_figures(env, s, b, &o, &e);
        *obs += o;
        *exp += e;
    }
}

/* The label that tells a contributor apart from its parent: the one whose
 * dimension the parent's scope lacks. */
static const br_dim_t *own_label(const br_detect_env_t *env, const br_series_t *s,
                                 const br_contrib_t *c) {
    const br_scope_conf_t *ps = scope_conf(env, s->scope);
    for (size_t i = 0; i < c->label_cnt; i++) {
        bool shared = false;
        for (size_t d = 0; d < ps->dim_cnt && !shared; d++)
            shared = strcmp(ps->dims[d], c->labels[i].key) == 0;
        if (!shared)
            return &c->labels[i];
    }
    return &c->labels[c->label_cnt - 1];
}

/* One message about incident inc of series s: firing when nothing was sent
 * yet, else updated, or resolved; again: reopened within the cooldown. */
static void emit_incident(const br_detect_env_t *env, const br_emit_ctx_t *ec,
                          br_series_t *s, incident_t *inc, bool resolved,
                          bool again) {
    const br_scope_conf_t *sc = scope_conf(env, s->scope);
    int64_t bms = env->conf->spike.bucket_ms;
    bool drop = inc->kind == INC_DROP;
    br_alert_t a;
    br_emit_init(ec, &a, drop ? BR_ALERT_DROP : BR_ALERT_SPIKE);
    memcpy(a.id, inc->id, sizeof(a.id));
    a.status = resolved             ? BR_STATUS_RESOLVED
               : inc->revision == 0 ? BR_STATUS_FIRING
                                    : BR_STATUS_UPDATED;
    a.revision = ++inc->revision;
    a.scope = sc->name;
    a.label_cnt = br_series_labels(env->store, s, a.labels,
                                   BR_ALERT_LABELS_MAX);
    a.window_start_ms = inc->start_bucket * bms;
    a.window_end_ms = (inc->last_bucket + 1) * bms;
    window_figures(env, s, inc, &a.observed_nanos, &a.expected_nanos);
    a.impact_nanos = a.observed_nanos - a.expected_nanos;
    inc->emitted_obs = a.observed_nanos;
    a.score = inc->score;
    a.severity = inc->severity;
    a.parent_id = inc->parent_id[0] ? inc->parent_id : NULL;
    /* Root causes while the incident's last bucket is still readable in
     * the children; a resolution comes buckets later and names none. */
    if (!resolved) {
        br_money_t lb_obs, lb_exp;
        bucket_figures(env, s, inc->last_bucket, &lb_obs, &lb_exp);
        contributors(env, s, inc->last_bucket, lb_obs - lb_exp,
                     drop ? -1 : 1, &a);
    }

    const char *what = drop ? "drop" : "spike";
    char lbl[200], obs[BR_MONEY_STR_MAX], exp[BR_MONEY_STR_MAX],
        imp[BR_MONEY_STR_MAX], when[40];
    br_emit_labels(a.labels, a.label_cnt, lbl, sizeof(lbl));
    br_emit_money(a.observed_nanos, obs, sizeof(obs));
    br_emit_money(a.expected_nanos, exp, sizeof(exp));
    br_emit_money(a.impact_nanos, imp, sizeof(imp));
    br_ts_format(a.window_start_ms, when, sizeof(when));
    int off;
    if (resolved)
        off = br_emit_text(a.summary, sizeof(a.summary),
                   "Resolved: cost %s on %s since %s is over after %d usual "
                   "bucket(s); it spent %s %s vs %s expected%s%s", what, lbl,
                   when, inc->quiet, obs, a.currency, exp,
                   a.parent_id ? "; grouped under alert " : "",
                   a.parent_id ? a.parent_id : "");
    else if (a.parent_id)
        off = br_emit_text(a.summary, sizeof(a.summary),
                   "Cost %s on %s is grouped under alert %s, whose series "
                   "is unusual too and lists it among its contributors: %s "
                   "%s since %s vs %s expected", what, lbl, a.parent_id, obs,
                   a.currency, when, exp);
    else
        off = br_emit_text(a.summary, sizeof(a.summary),
                   "Cost %s on %s%s: %s%s %s since %s vs %s expected (%s%s, "
                   "score %.1f)", what, lbl, again ? " again" : "",
                   drop ? "usage collapsed: outage or broken feed? " : "",
                   obs, a.currency, when, exp, drop ? "" : "+", imp, a.score);
    if (a.contrib_cnt && off > 0 && (size_t)off < sizeof(a.summary)) {
        char cl[120], ci[BR_MONEY_STR_MAX];
        const br_contrib_t *c = &a.contribs[0];
        br_emit_labels(own_label(env, s, c), 1, cl, sizeof(cl));
        br_emit_money(c->impact_nanos, ci, sizeof(ci));
        br_emit_text(a.summary + off, sizeof(a.summary) - (size_t)off,
             "; top contributor %s (%s%s)", cl, drop ? "" : "+", ci);
    }
    br_emit(ec, &a);
}

/* What marking a bucket unusual did to the incident. */
typedef struct growth {
    incident_t *inc;           /* the incident marked; NULL: out of memory */
    bool is_new, extends, reopened;
} growth_t;

/* An unusual verdict v on bucket b of s (final, or still filling) opens,
 * widens or (within the cooldown) reopens the incident of its direction;
 * nothing is sent yet. */
static growth_t incident_mark(const br_detect_env_t *env, br_series_t *s, int64_t b,
                              const br_verdict_t *v) {
    growth_t g = {0};
    inc_kind_t k = v->drop ? INC_DROP : INC_SPIKE;
    incident_t *inc = s->inc[k];
    if (inc && inc->resolved_bucket != INT64_MIN) {
        if (b - inc->resolved_bucket <= cooldown_buckets(env)) {
            inc->resolved_bucket = INT64_MIN;
            g.reopened = true;
        } else {
            free(inc);
            inc = s->inc[k] = NULL;
        }
    }
    if (!inc) {
        inc = calloc(1, sizeof(*inc));
        if (!inc)
            return g;
        s->inc[k] = inc;
        inc->kind = k;
        inc->resolved_bucket = INT64_MIN;
        inc->start_bucket = inc->last_bucket = b;
        br_id_incident(inc->id, k == INC_DROP ? BR_ALERT_DROP : BR_ALERT_SPIKE,
                       scope_conf(env, s->scope)->name, s->blob, s->blob_len,
                       b * env->conf->spike.bucket_ms);
        g.is_new = true;
    }
    if (b > inc->last_bucket) {
        /* The quiet buckets in between now belong to the window. */
        inc->sum_obs += inc->pend_obs;
        inc->sum_exp += inc->pend_exp;
        inc->pend_obs = inc->pend_exp = 0;
        inc->last_bucket = b;
        g.extends = true;
    }
    if (b < inc->start_bucket)
        inc->start_bucket = b; /* an older bucket turned final unusual */
    inc->quiet = 0;
    inc->score = v->score;
    g.inc = inc;
    return g;
}

/* Whether s has a parent series it can be grouped under. */
static bool has_parents(const br_detect_env_t *env, const br_series_t *s) {
    const br_scope_t *sc = br_series_scope(env->store, s->scope);
    for (size_t p = 0; p < sc->parent_cnt; p++)
        if (br_series_parent(env->store, s, p) != NONE)
            return true;
    return false;
}

/* Whether bucket b is final for every parent series of s. */
static bool parents_final(const br_detect_env_t *env, const br_series_t *s,
                          int64_t b) {
    const br_scope_t *sc = br_series_scope(env->store, s->scope);
    for (size_t p = 0; p < sc->parent_cnt; p++) {
        uint32_t idx = br_series_parent(env->store, s, p);
        if (idx != NONE && series_at(env, idx)->last_final < b)
            return false;
    }
    return true;
}

/* The incident of kind k of a parent series of s (a scope with one
 * dimension fewer) whose window holds bucket b: it started at or before b
 * and was not resolved before b. Parent scopes in config order; NULL when
 * none. Called once b is final for s and its parents, so the answer is a
 * fact of final buckets, the same in every arrival order. */
static const incident_t *parent_incident(const br_detect_env_t *env,
                                         const br_series_t *s, inc_kind_t k,
                                         int64_t b) {
    const br_scope_t *sc = br_series_scope(env->store, s->scope);
    for (size_t p = 0; p < sc->parent_cnt; p++) {
        uint32_t idx = br_series_parent(env->store, s, p);
        if (idx == NONE)
            continue;
        const incident_t *pi = series_at(env, idx)->inc[k];
        if (pi && pi->start_bucket <= b &&
            (pi->resolved_bucket == INT64_MIN || pi->resolved_bucket >= b))
            return pi;
    }
    return NULL;
}

/* The alert a group is known by: its topmost series' incident. */
static const char *group_root(const incident_t *inc) {
    return inc->parent_id[0] ? inc->parent_id : inc->id;
}

/* An incident not announced yet and not grouped: held until its start
 * bucket is final (see incident_release()). */
static bool incident_held(const incident_t *inc) {
    return inc->revision == 0 && !inc->parent_id[0];
}

/* The start bucket of held incident inc of s is final, for s and for its
 * parents (buckets are made final parents first; a parent fed by an input
 * that lags is waited for: see release_held()): group it under the parent
 * incident whose window holds that bucket, or announce it. Deciding here,
 * on final buckets, instead of when a filling bucket first looks unusual,
 * makes the set of alerts sent the same in every arrival order: whether a
 * child crossed first or its parent did no longer matters. */
static void regroup(const br_detect_env_t *env, const br_series_t *s, inc_kind_t k,
                    const char *was, const char *root) {
    for (uint32_t i = 0; i < s->child_cnt; i++) {
        br_series_t *c = series_at(env, s->children[i]);
        incident_t *ci = c->inc[k];
        if (ci && ci->revision == 0 && strcmp(ci->parent_id, was) == 0) {
            memcpy(ci->parent_id, root, sizeof(ci->parent_id));
            regroup(env, c, k, was, root);
        }
    }
}

static void incident_release(const br_detect_env_t *env, const br_emit_ctx_t *ec,
                             br_series_t *s, incident_t *inc) {
    const incident_t *pi = parent_incident(env, s, inc->kind, inc->start_bucket);
    if (pi) {
        memcpy(inc->parent_id, group_root(pi), sizeof(inc->parent_id));
        /* Children already grouped under this incident (it was still held
         * when they were released) now belong to its group's root. */
        regroup(env, s, inc->kind, inc->id, inc->parent_id);
        return;
    }
    emit_incident(env, ec, s, inc, false, false);
    /* Its quiet buckets ended it while its parents were waited for. */
    if (inc->resolved_bucket != INT64_MIN)
        emit_incident(env, ec, s, inc, true, false);
}

/* After incident_mark() on bucket b: send a revision when the incident
 * grew (a new bucket, a higher severity, final figures that differ from
 * those last sent, or, while a bucket fills, double the spend last sent, so
 * updates stay logarithmic). A series without a parent it can be grouped
 * under (a top scope, or parents fed by a slower input) announces a new
 * incident at once; one with parents holds it until its start bucket is
 * final for it and them (incident_release()). A grouped incident sends
 * nothing: its parent's alert speaks for it. */
static void incident_report(const br_detect_env_t *env, const br_emit_ctx_t *ec,
                            br_series_t *s, growth_t g, bool final) {
    incident_t *inc = g.inc;
    if (!inc)
        return;
    br_money_t total, expected;
    window_figures(env, s, inc, &total, &expected);
    br_severity_t sev = spike_severity(env, total - expected);
    bool sev_up = !g.is_new && sev > inc->severity;
    if (sev > inc->severity)
        inc->severity = sev;
    if (incident_held(inc)) {
        if (!has_parents(env, s))
            emit_incident(env, ec, s, inc, false, false);
        return;
    }
    bool grew = final ? total != inc->emitted_obs
                      : inc->kind == INC_SPIKE && total >= 2 * inc->emitted_obs;
    if (!inc->parent_id[0] && (g.extends || sev_up || grew || g.reopened))
        emit_incident(env, ec, s, inc, false, g.reopened);
}

/* A final bucket that is not unusual for incident kind k of s: count it
 * quiet, resolve after spike.resolve_after of them, and forget a resolved
 * incident once its cooldown has passed. */
static void incident_quiet(const br_detect_env_t *env, const br_emit_ctx_t *ec,
                           br_series_t *s, inc_kind_t k, int64_t b) {
    incident_t *inc = s->inc[k];
    int64_t cool = cooldown_buckets(env);
    if (inc->resolved_bucket == INT64_MIN) {
        if (b <= inc->last_bucket ||
            ++inc->quiet < env->conf->spike.resolve_buckets)
            return;
        if (inc->revision > 0)
            emit_incident(env, ec, s, inc, true, false);
        inc->resolved_bucket = b;
    }
    /* A held incident is kept until it is released, even resolved. */
    if (b - inc->resolved_bucket >= cool && !incident_held(inc)) {
        free(inc);
        s->inc[k] = NULL;
    }
}

/* Release the held incidents of s whose start bucket is final for s and
 * for all its parents. Called when s or one of its parents makes a bucket
 * final, so a parent fed by a slower input (its finality bounded by that
 * input's lateness and idle_timeout) is waited for. */
static void release_held(const br_detect_env_t *env, const br_emit_ctx_t *ec,
                         br_series_t *s) {
    for (int k = 0; k < INC__CNT; k++) {
        incident_t *inc = s->inc[k];
        if (inc && incident_held(inc) && inc->start_bucket <= s->last_final &&
            parents_final(env, s, inc->start_bucket))
            incident_release(env, ec, s, inc);
    }
}

/* ---- the hooks ----------------------------------------------------- */

/* Bucket b of s is final (observed x, verdict v; the baseline learns it
 * after this): mark or count it, report, release the held incidents of s
 * and its children, and count it quiet for the other kinds. */
static void incidents_on_bucket_final(void *self, const br_emit_ctx_t *ec,
                                      br_series_t *s, int64_t b,
                                      br_money_t x, const br_verdict_t *v) {
    const br_detect_env_t *env = self; /* stateless */
    int unusual = v->spike && !s->other ? (v->drop ? INC_DROP : INC_SPIKE)
                                        : -1;
    growth_t g = {0};
    if (unusual >= 0)
        g = incident_mark(env, s, b, v);
    for (int k = 0; k < INC__CNT; k++) {
        incident_t *inc = s->inc[k];
        if (inc && b >= inc->start_bucket && b <= inc->last_bucket) {
            inc->sum_obs += x;
            inc->sum_exp += v->expected_nanos;
        } else if (inc && b > inc->last_bucket) {
            inc->pend_obs += x;
            inc->pend_exp += v->expected_nanos;
        }
    }
    if (unusual >= 0)
        incident_report(env, ec, s, g, true);
    release_held(env, ec, s);
    for (uint32_t c = 0; c < s->child_cnt; c++)
        release_held(env, ec, series_at(env, s->children[c]));
    for (int k = 0; k < INC__CNT; k++)
        if (k != unusual && s->inc[k])
            incident_quiet(env, ec, s, (inc_kind_t)k, b);
}

/* The first open bucket b of s, judged early (verdict v): only rises: a
 * bucket still filling is below its forecast until it ends, so a drop is
 * judged on final buckets alone. */
static void incidents_on_bucket_open(void *self, const br_emit_ctx_t *ec,
                                     br_series_t *s, int64_t b,
                                     const br_verdict_t *v) {
    const br_detect_env_t *env = self; /* stateless */
    if (v->spike && !v->drop)
        incident_report(env, ec, s, incident_mark(env, s, b, v), false);
}

const br_detector_t br_detector_incidents = {
    .name = "incidents",
    .on_bucket_final = incidents_on_bucket_final,
    .on_bucket_open = incidents_on_bucket_open,
};

size_t br_incidents_memory(br_series_store_t *store) {
    size_t n = 0;
    for (uint32_t i = 0; i < br_series_count(store); i++) {
        const br_series_t *s = br_series_at(store, i);
        for (int k = 0; k < INC__CNT; k++)
            if (s->inc[k])
                n += sizeof(incident_t);
    }
    return n;
}

/* ---- its part of the core snapshot ---------------------------------- */

/* Layout 1 fields, then (layout 2) kind, resolved bucket, parent id. */
static void save_incident(br_buf_t *b, const incident_t *inc) {
    br_wr_bytes(b, inc->id, 16);
    br_wr_uvar(b, inc->revision);
    br_wr_ivar(b, inc->start_bucket);
    br_wr_ivar(b, inc->last_bucket);
    br_wr_uvar(b, (uint64_t)inc->quiet);
    br_wr_u8(b, (uint8_t)inc->severity);
    br_wr_f64(b, inc->score);
    br_wr_money(b, inc->sum_obs);
    br_wr_money(b, inc->sum_exp);
    br_wr_money(b, inc->pend_obs);
    br_wr_money(b, inc->pend_exp);
    br_wr_money(b, inc->emitted_obs);
    br_wr_u8(b, (uint8_t)inc->kind);
    br_wr_ivar(b, inc->resolved_bucket);
    br_wr_str(b, inc->parent_id);
}

/* One incident as save_incident() wrote it in layout version; NULL (with
 * r failed) when inconsistent. A layout-1 incident is an open spike. */
/* One incident as save_incident() wrote it in layout version; NULL (with
 * r failed) when inconsistent. A layout-1 incident is an open spike. */
static incident_t *load_incident(br_rd_t *r, uint64_t version) {
    incident_t *inc = calloc(1, sizeof *inc);
    size_t il;
    const char *id = br_rd_bytes(r, &il);
    if (!inc || (!r->err && il != 16)) {
        br_rd_fail(r, inc ? "bad incident id" : "out of memory");
        free(inc);
        return NULL;
    }
    if (id)
        memcpy(inc->id, id, 16);
    inc->revision = (uint32_t)br_rd_count(r, UINT32_MAX);
    inc->start_bucket = br_state_rd_bucket(r, false);
    inc->last_bucket = br_state_rd_bucket(r, false);
    inc->quiet = (int)br_rd_count(r, INT_MAX);
    uint8_t sev = br_rd_u8(r);
    if (sev > BR_SEV_CRITICAL)
        br_rd_fail(r, "bad severity");
    inc->severity = (br_severity_t)sev;
    inc->score = br_rd_f64(r);
    inc->sum_obs = br_state_rd_money(r, version);
    inc->sum_exp = br_state_rd_money(r, version);
    inc->pend_obs = br_state_rd_money(r, version);
    inc->pend_exp = br_state_rd_money(r, version);
    inc->emitted_obs = br_state_rd_money(r, version);
    inc->kind = INC_SPIKE;
    inc->resolved_bucket = INT64_MIN;
    if (version >= 2) {
        uint8_t kind = br_rd_u8(r);
        if (!r->err && kind >= INC__CNT)
            br_rd_fail(r, "bad incident kind");
        inc->kind = (inc_kind_t)(kind < INC__CNT ? kind : 0);
        inc->resolved_bucket = br_state_rd_bucket(r, true);
        char *pid = br_rd_strdup(r);
        if (pid && strlen(pid) != 0 && strlen(pid) != 16)
            br_rd_fail(r, "bad parent alert id");
        else if (pid)
            memcpy(inc->parent_id, pid, strlen(pid) + 1);
        free(pid);
    }
    if (r->err) {
        free(inc);
        return NULL;
    }
    return inc;
}

void br_incidents_save(const br_series_t *s, br_buf_t *b) {
    uint64_t ic = 0;
    for (int k = 0; k < INC__CNT; k++)
        ic += s->inc[k] != NULL;
    br_wr_uvar(b, ic);
    for (int k = 0; k < INC__CNT; k++)
        if (s->inc[k])
            save_incident(b, s->inc[k]);
}

void br_incidents_load(br_rd_t *r, uint64_t layout, br_series_t *s) {
    /* Layout 1: an open-incident flag; 2: a count, one per kind. */
    uint64_t ic = layout >= 2 ? br_rd_count(r, INC__CNT)
                              : (uint64_t)br_rd_bool(r);
    for (uint64_t q = 0; q < ic && !r->err; q++) {
        incident_t *inc = load_incident(r, layout);
        /* An incident spans buckets the series has judged: made final,
         * or open within its ring. One that ends beyond them, or
         * resolves before it ends or after the series' last final
         * bucket, never resolves, and its series would then be stepped
         * through every bucket up to its target (fuzz: a restore of a
         * few hundred thousand buckets, unbounded in principle). */
        if (inc && (inc->start_bucket > inc->last_bucket ||
                    inc->last_bucket > s->last_final + (int64_t)s->ring_cap ||
                    (inc->resolved_bucket != INT64_MIN &&
                     (inc->resolved_bucket < inc->last_bucket ||
                      inc->resolved_bucket > s->last_final)))) {
            br_rd_fail(r, "an incident outside its series' buckets");
            free(inc);
        } else if (inc && s->inc[inc->kind]) {
            br_rd_fail(r, "two incidents of one kind");
            free(inc);
        } else if (inc) {
            s->inc[inc->kind] = inc;
        }
    }
}

void br_incidents_describe(const br_series_t *s, const char *scope,
                           const char *labels, int64_t bucket_ms,
                           br_buf_t *b) {
    for (int k = 0; k < INC__CNT; k++) {
        const incident_t *inc = s->inc[k];
        if (!inc)
            continue;
        char id[17];
        memcpy(id, inc->id, 16);
        id[16] = '\0';
        br_buf_printf(b, "%s{\"id\": \"%s\", \"revision\": %" PRIu32
                         ", \"scope\": ",
                      b->len ? ", " : "", id, inc->revision);
        br_buf_json_str(b, scope);
        br_buf_printf(b, ", \"labels\": %s", labels);
        /* Beyond what layout 1 could say, only when it says something. */
        if (inc->kind == INC_DROP)
            br_buf_puts(b, ", \"type\": \"cost_drop\"");
        if (inc->resolved_bucket != INT64_MIN) {
            br_buf_puts(b, ", \"resolved_at\": ");
            br_state_put_ms(b, (inc->resolved_bucket + 1) * bucket_ms);
        }
        if (inc->parent_id[0]) {
            br_buf_puts(b, ", \"parent_id\": ");
            br_buf_json_str(b, inc->parent_id);
        }
        br_buf_puts(b, "}");
    }
}
