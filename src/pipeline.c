/*
 * The pure core: decode -> price -> attribute -> state -> detect -> alert.
 * Series live in one array indexed by a hash table; every record feeds one
 * series per scope, event-time buckets become final as the watermark passes
 * them, and detectors run on final buckets (and early, on filling ones).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/baseline.h"
#include "burnrate/budget.h"
#include "burnrate/decode.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"
#include "burnrate/price.h"
#include "burnrate/ts.h"

#define RING 8                 /* open buckets a series holds */
#define NONE UINT32_MAX
#define MAX_SCOPES 32
#define GAP_REPLAY_MAX 400     /* empty buckets learned before a skip */
#define OTHER "(other)"
#define UNSET "(none)"

/* A spike incident: unusual buckets of one series, and the usual ones
 * between them. Figures of final buckets are summed here; those of buckets
 * still open are read from the series when a message is built. */
typedef struct incident {
    char id[17];
    uint32_t revision;
    int64_t start_bucket;      /* first unusual bucket */
    int64_t last_bucket;       /* latest unusual bucket */
    int quiet;                 /* final usual buckets after last_bucket */
    br_severity_t severity;
    double score;              /* of the latest unusual verdict */
    int64_t sum_obs;           /* final buckets in [start, last], nanos */
    int64_t sum_exp;
    int64_t pend_obs;          /* final quiet buckets after last_bucket */
    int64_t pend_exp;
    int64_t emitted_obs;       /* observed in the last message sent */
} incident_t;

typedef struct series {
    uint64_t hash;
    uint32_t scope;
    uint32_t blob_len;
    char *blob;                /* values, NUL-separated, in scope dim order */
    int64_t last_final;        /* last final bucket index */
    int64_t ring[RING];        /* buckets last_final+1 .. +RING, by b % RING */
    int64_t last_val;          /* final total of bucket last_final */
    int64_t last_exp;          /* its expectation */
    br_baseline_t bl;
    int64_t new_until;         /* new-spend window end bucket; 0: not new */
    int64_t new_first_ms;
    int64_t new_nanos;
    bool new_fired;
    bool other;                /* the scope's "(other)" series */
    uint32_t *children;
    uint32_t child_cnt, child_cap;
    incident_t *inc;
} series_t;

typedef struct scope {
    const br_scope_conf_t *conf;
    uint32_t series_cnt;       /* excluding (other) */
    uint32_t other;            /* series index of "(other)" or NONE */
    uint32_t parents[MAX_SCOPES]; /* scopes one dim up */
    size_t parent_cnt;
    bool cap_alerted;
} scope_t;

typedef struct part {
    int input;
    int32_t partition;
    int64_t max_ms;
} part_t;

typedef struct strset {
    char **keys;
    size_t cnt, cap;
} strset_t;

struct br_pipeline {
    const br_config_t *conf;
    br_sink_t sink;
    br_prices_t *prices;
    br_decoder_t **decoders;
    const char **input_names;
    scope_t *scopes;
    uint32_t *scope_order;     /* scopes by ascending dim count */
    br_budget_t **budgets;
    series_t *series;
    uint32_t series_cnt, series_cap;
    uint32_t *table;           /* open addressing of series indices */
    uint32_t table_cap;
    part_t *parts;
    size_t part_cnt, part_cap;
    int64_t *input_max;        /* per input max event time */
    int64_t watermark_ms;
    int64_t final_bucket;      /* all series final up to here */
    int64_t first_bucket;
    int64_t max_event_ms;
    int64_t from_ms, to_ms;
    strset_t unpriced;
    br_record_t rec;           /* reused for every message */
    uint32_t rec_series[MAX_SCOPES];
    const br_origin_t *cur_origin;
    int64_t cur_event_ms;
    br_pipeline_stats_t st;
    char errbuf[512];
};

/* ---- hashing and small containers ------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}
#define FNV0 UINT64_C(14695981039346656037)

static uint64_t fnv_str(uint64_t h, const char *s) {
    return fnv(h, s, strlen(s) + 1);
}

static uint64_t fnv_i64(uint64_t h, int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    return fnv(h, tmp, (size_t)n + 1);
}

static void id_hex(uint64_t h, char out[17]) {
    snprintf(out, 17, "%016" PRIx64, h);
}

/* Adds s; returns true when it was not there yet. */
static bool strset_add(strset_t *ss, const char *s) {
    if (ss->cnt * 2 >= ss->cap) {
        size_t cap = ss->cap ? ss->cap * 2 : 16;
        char **keys = calloc(cap, sizeof(*keys));
        if (!keys)
            return false;
        for (size_t i = 0; i < ss->cap; i++) {
            if (!ss->keys[i])
                continue;
            size_t j = fnv_str(FNV0, ss->keys[i]) & (cap - 1);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = ss->keys[i];
        }
        free(ss->keys);
        ss->keys = keys;
        ss->cap = cap;
    }
    size_t j = fnv_str(FNV0, s) & (ss->cap - 1);
    while (ss->keys[j]) {
        if (strcmp(ss->keys[j], s) == 0)
            return false;
        j = (j + 1) & (ss->cap - 1);
    }
    ss->keys[j] = strdup(s);
    if (!ss->keys[j])
        return false;
    ss->cnt++;
    return true;
}

static void strset_free(strset_t *ss) {
    for (size_t i = 0; i < ss->cap; i++)
        free(ss->keys[i]);
    free(ss->keys);
}

/* ---- series table ----------------------------------------------------- */

static uint64_t series_hash(uint32_t scope, const char *blob, size_t len) {
    return fnv(fnv(FNV0, &scope, sizeof(scope)), blob, len);
}

static bool table_grow(br_pipeline_t *pl) {
    uint32_t cap = pl->table_cap ? pl->table_cap * 2 : 1024;
    uint32_t *t = malloc(sizeof(*t) * cap);
    if (!t)
        return false;
    memset(t, 0xff, sizeof(*t) * cap);
    for (uint32_t i = 0; i < pl->series_cnt; i++) {
        uint32_t j = (uint32_t)pl->series[i].hash & (cap - 1);
        while (t[j] != NONE)
            j = (j + 1) & (cap - 1);
        t[j] = i;
    }
    free(pl->table);
    pl->table = t;
    pl->table_cap = cap;
    return true;
}

static uint32_t series_find(const br_pipeline_t *pl, uint32_t scope,
                            const char *blob, size_t len, uint64_t h) {
    if (!pl->table_cap)
        return NONE;
    uint32_t j = (uint32_t)h & (pl->table_cap - 1);
    for (;;) {
        uint32_t i = pl->table[j];
        if (i == NONE)
            return NONE;
        const series_t *s = &pl->series[i];
        if (s->hash == h && s->scope == scope && s->blob_len == len &&
            memcmp(s->blob, blob, len) == 0)
            return i;
        j = (j + 1) & (pl->table_cap - 1);
    }
}

static uint32_t series_create(br_pipeline_t *pl, uint32_t scope,
                              const char *blob, size_t len, uint64_t h,
                              int64_t bucket) {
    if ((pl->series_cnt + 1) * 2 > pl->table_cap && !table_grow(pl))
        return NONE;
    if (pl->series_cnt == pl->series_cap) {
        uint32_t cap = pl->series_cap ? pl->series_cap * 2 : 256;
        series_t *s = realloc(pl->series, sizeof(*s) * cap);
        if (!s)
            return NONE;
        pl->series = s;
        pl->series_cap = cap;
    }
    series_t *s = &pl->series[pl->series_cnt];
    memset(s, 0, sizeof(*s));
    s->blob = malloc(len ? len : 1);
    if (!s->blob)
        return NONE;
    memcpy(s->blob, blob, len);
    s->blob_len = (uint32_t)len;
    s->hash = h;
    s->scope = scope;
    s->last_final = pl->final_bucket != INT64_MIN ? pl->final_bucket
                                                   : bucket - 1;
    br_baseline_init(&s->bl);
    uint32_t idx = pl->series_cnt++;
    uint32_t j = (uint32_t)h & (pl->table_cap - 1);
    while (pl->table[j] != NONE)
        j = (j + 1) & (pl->table_cap - 1);
    pl->table[j] = idx;
    pl->st.series = pl->series_cnt;
    return idx;
}

static void add_child(series_t *parent, uint32_t child) {
    if (parent->child_cnt == parent->child_cap) {
        uint32_t cap = parent->child_cap ? parent->child_cap * 2 : 4;
        uint32_t *c = realloc(parent->children, sizeof(*c) * cap);
        if (!c)
            return; /* contributors are best effort under memory pressure */
        parent->children = c;
        parent->child_cap = cap;
    }
    parent->children[parent->child_cnt++] = child;
}

/* Labels of a series as dims borrowed from the series and the config. */
static size_t series_labels(const br_pipeline_t *pl, const series_t *s,
                            br_dim_t *out, size_t cap) {
    const br_scope_conf_t *sc = pl->scopes[s->scope].conf;
    const char *p = s->blob;
    size_t n = 0;
    for (size_t i = 0; i < sc->dim_cnt && n < cap; i++) {
        out[n].key = sc->dims[i];
        out[n].value = p;
        n++;
        p += strlen(p) + 1;
    }
    return n;
}

/* ---- alerts ----------------------------------------------------------- */

/* snprintf for human text, where cutting a long line short is intended. */
__attribute__((format(printf, 3, 4)))
static int text(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Money for a human line: rounded to cents ("43.57"); the JSON fields keep
 * every digit. */
static void money_text(int64_t nanos, char *buf, size_t size) {
    br_money_format(br_muldiv_round(nanos, 1, 10000000) * 10000000, buf,
                    size);
}

static void labels_text(const br_dim_t *labels, size_t cnt, char *buf,
                        size_t size) {
    size_t off = 0;
    buf[0] = '\0';
    if (cnt == 0) {
        snprintf(buf, size, "total");
        return;
    }
    for (size_t i = 0; i < cnt && off < size; i++)
        off += (size_t)text(buf + off, size - off, "%s%s=%s", i ? " " : "",
                                labels[i].key, labels[i].value);
}

static void alert_init(br_pipeline_t *pl, br_alert_t *a, br_alert_type_t type) {
    memset(a, 0, sizeof(*a));
    a->type = type;
    a->forecast_nanos = -1;
    a->event_ms = pl->cur_event_ms;
    a->watermark_ms = pl->watermark_ms;
    memcpy(a->currency, pl->conf->currency, sizeof(a->currency));
    if (pl->cur_origin)
        a->source = *pl->cur_origin;
    else
        a->source.input = -1;
}

static void emit(br_pipeline_t *pl, br_alert_t *a) {
    pl->st.alerts++;
    if (pl->sink.alert)
        pl->sink.alert(pl->sink.opaque, a);
}

static int cmp_contrib(const void *x, const void *y) {
    const br_contrib_t *a = x, *b = y;
    if (a->impact_nanos != b->impact_nanos)
        return a->impact_nanos > b->impact_nanos ? -1 : 1;
    return strcmp(a->labels[a->label_cnt - 1].value,
                  b->labels[b->label_cnt - 1].value);
}

/* Observed and expected of series s in bucket b, wherever it lives now. */
static void bucket_figures(const br_pipeline_t *pl, const series_t *s,
                           int64_t b, int64_t *obs, int64_t *exp) {
    if (s->last_final == b) {
        *obs = s->last_val;
        *exp = s->last_exp;
        return;
    }
    *obs = (b > s->last_final && b <= s->last_final + RING)
               ? s->ring[(uint64_t)b % RING]
               : 0;
    double e = br_baseline_expect(&s->bl, b * pl->conf->spike.bucket_ms);
    *exp = e > 0 ? (int64_t)e : 0;
}

/* The children one level down that drove bucket b of s, by impact. */
static void contributors(br_pipeline_t *pl, const series_t *s, int64_t b,
                         int64_t impact, br_alert_t *a) {
    br_contrib_t top[BR_ALERT_CONTRIB_MAX + 1];
    size_t n = 0;
    for (uint32_t i = 0; i < s->child_cnt; i++) {
        const series_t *c = &pl->series[s->children[i]];
        br_contrib_t cb = {0};
        bucket_figures(pl, c, b, &cb.observed_nanos, &cb.expected_nanos);
        cb.impact_nanos = cb.observed_nanos - cb.expected_nanos;
        if (cb.impact_nanos <= 0)
            continue;
        cb.scope = pl->scopes[c->scope].conf->name;
        cb.label_cnt = series_labels(pl, c, cb.labels, BR_ALERT_LABELS_MAX);
        if (cb.label_cnt == 0)
            continue;
        cb.share_bp = impact > 0 ? (int32_t)br_muldiv_round(cb.impact_nanos,
                                                           10000, impact)
                                 : 0;
        /* Insertion into a small sorted array keeps the top ones. */
        size_t pos = n;
        while (pos > 0 && cmp_contrib(&cb, &top[pos - 1]) < 0) {
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

static br_severity_t spike_severity(const br_pipeline_t *pl, int64_t impact) {
    int64_t floor = pl->conf->spike.min_impact_nanos;
    return impact >= 10 * (floor > 0 ? floor : 1) ? BR_SEV_CRITICAL
                                                  : BR_SEV_WARNING;
}

/* Observed and expected over the incident's window so far. */
static void window_figures(const br_pipeline_t *pl, const series_t *s,
                           int64_t *obs, int64_t *exp) {
    const incident_t *inc = s->inc;
    *obs = inc->sum_obs;
    *exp = inc->sum_exp;
    int64_t from = s->last_final + 1 > inc->start_bucket ? s->last_final + 1
                                                          : inc->start_bucket;
    for (int64_t b = from; b <= inc->last_bucket; b++) {
        int64_t o, e;
        bucket_figures(pl, s, b, &o, &e);
        *obs += o;
        *exp += e;
    }
}

static void emit_spike(br_pipeline_t *pl, series_t *s, br_alert_status_t status) {
    incident_t *inc = s->inc;
    const br_scope_conf_t *sc = pl->scopes[s->scope].conf;
    int64_t bms = pl->conf->spike.bucket_ms;
    br_alert_t a;
    alert_init(pl, &a, BR_ALERT_SPIKE);
    memcpy(a.id, inc->id, sizeof(a.id));
    a.revision = ++inc->revision;
    a.status = status;
    a.scope = sc->name;
    a.label_cnt = series_labels(pl, s, a.labels, BR_ALERT_LABELS_MAX);
    a.window_start_ms = inc->start_bucket * bms;
    a.window_end_ms = (inc->last_bucket + 1) * bms;
    window_figures(pl, s, &a.observed_nanos, &a.expected_nanos);
    a.impact_nanos = a.observed_nanos - a.expected_nanos;
    inc->emitted_obs = a.observed_nanos;
    a.score = inc->score;
    a.severity = inc->severity;
    int64_t lb_obs, lb_exp;
    bucket_figures(pl, s, inc->last_bucket, &lb_obs, &lb_exp);
    contributors(pl, s, inc->last_bucket, lb_obs - lb_exp, &a);

    char lbl[200], obs[32], exp[32], imp[32], when[40];
    labels_text(a.labels, a.label_cnt, lbl, sizeof(lbl));
    money_text(a.observed_nanos, obs, sizeof(obs));
    money_text(a.expected_nanos, exp, sizeof(exp));
    money_text(a.impact_nanos, imp, sizeof(imp));
    br_ts_format(a.window_start_ms, when, sizeof(when));
    int off;
    if (status == BR_STATUS_RESOLVED)
        off = text(a.summary, sizeof(a.summary),
                       "Resolved: cost spike on %s since %s is over after %d "
                       "usual bucket(s); it spent %s %s vs %s expected",
                       lbl, when, inc->quiet, obs, a.currency, exp);
    else
        off = text(a.summary, sizeof(a.summary),
                       "Cost spike on %s: %s %s since %s vs %s expected "
                       "(+%s, score %.1f)",
                       lbl, obs, a.currency, when, exp, imp, a.score);
    if (a.contrib_cnt && off > 0 && (size_t)off < sizeof(a.summary)) {
        char cl[120], ci[32];
        const br_contrib_t *c = &a.contribs[0];
        labels_text(&c->labels[c->label_cnt - 1], 1, cl, sizeof(cl));
        money_text(c->impact_nanos, ci, sizeof(ci));
        text(a.summary + off, sizeof(a.summary) - (size_t)off,
                 "; top contributor %s (+%s)", cl, ci);
    }
    emit(pl, &a);
}

/* What marking a bucket unusual did to the incident. */
typedef struct growth {
    bool is_new, extends, sev_up;
} growth_t;

/* An unusual verdict v on bucket b of s (final, or still filling) opens or
 * widens the incident; nothing is sent yet. */
static growth_t incident_mark(br_pipeline_t *pl, series_t *s, int64_t b,
                              const br_verdict_t *v, int64_t obs) {
    growth_t g = {0};
    incident_t *inc = s->inc;
    if (!inc) {
        inc = calloc(1, sizeof(*inc));
        if (!inc)
            return g;
        s->inc = inc;
        inc->start_bucket = inc->last_bucket = b;
        uint64_t h = fnv_str(FNV0, "cost_spike");
        h = fnv_str(h, pl->scopes[s->scope].conf->name);
        h = fnv(h, s->blob, s->blob_len);
        h = fnv_i64(h, b * pl->conf->spike.bucket_ms);
        id_hex(h, inc->id);
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
    br_severity_t sev = spike_severity(pl, obs - v->expected_nanos);
    if (sev > inc->severity || g.is_new) {
        g.sev_up = !g.is_new && sev > inc->severity;
        inc->severity = sev > inc->severity ? sev : inc->severity;
    }
    return g;
}

/* Send a revision when the incident grew: a new bucket, a higher severity,
 * final figures that differ from those last sent, or (while a bucket fills)
 * double the spend last sent, so updates stay logarithmic. */
static void incident_report(br_pipeline_t *pl, series_t *s, growth_t g,
                            bool final) {
    if (!s->inc)
        return;
    int64_t total, expected;
    window_figures(pl, s, &total, &expected);
    bool grew = final ? total != s->inc->emitted_obs
                      : total >= 2 * s->inc->emitted_obs;
    if (g.is_new)
        emit_spike(pl, s, BR_STATUS_FIRING);
    else if (g.extends || g.sev_up || grew)
        emit_spike(pl, s, BR_STATUS_UPDATED);
}

/* ---- buckets and the watermark --------------------------------------- */

static void finalize_one(br_pipeline_t *pl, series_t *s, int64_t b) {
    int64_t *slot = &s->ring[(uint64_t)b % RING];
    int64_t x = *slot;
    *slot = 0;
    int64_t bucket_ms = b * pl->conf->spike.bucket_ms;
    br_verdict_t v = br_baseline_judge(&s->bl, &pl->conf->spike, bucket_ms, x);
    s->last_final = b;
    s->last_val = x;
    s->last_exp = v.expected_nanos;
    bool unusual = v.spike && !s->other;
    growth_t g = {0};
    if (unusual)
        g = incident_mark(pl, s, b, &v, x);
    incident_t *inc = s->inc;
    if (inc && b >= inc->start_bucket && b <= inc->last_bucket) {
        inc->sum_obs += x;
        inc->sum_exp += v.expected_nanos;
    } else if (inc && b > inc->last_bucket) {
        inc->pend_obs += x;
        inc->pend_exp += v.expected_nanos;
    }
    if (unusual) {
        incident_report(pl, s, g, true);
    } else if (inc && b > inc->last_bucket &&
               ++inc->quiet >= pl->conf->spike.resolve_buckets) {
        emit_spike(pl, s, BR_STATUS_RESOLVED);
        free(s->inc);
        s->inc = NULL;
    }
    br_baseline_update(&s->bl, bucket_ms, x);
}

/* Make every bucket of s up to `upto` final. */
static void finalize_series(br_pipeline_t *pl, uint32_t idx, int64_t upto) {
    series_t *s = &pl->series[idx];
    while (s->last_final < upto) {
        int64_t b = s->last_final + 1;
        if (upto - b > GAP_REPLAY_MAX && !s->inc) {
            bool empty = true;
            for (int i = 0; i < RING; i++)
                empty = empty && s->ring[i] == 0;
            if (empty && br_baseline_is_quiet(&s->bl)) {
                /* A long silence teaches nothing more: skip ahead. */
                s->last_final = upto - RING;
                s->last_val = 0;
                s->last_exp = 0;
                continue;
            }
        }
        finalize_one(pl, s, b);
    }
}

static void close_budgets(br_pipeline_t *pl);

static void advance_final(br_pipeline_t *pl, int64_t target) {
    if (pl->final_bucket != INT64_MIN && target <= pl->final_bucket)
        return;
    for (uint32_t i = 0; i < pl->series_cnt; i++)
        finalize_series(pl, i, target);
    pl->final_bucket = target;
}

static void update_watermark(br_pipeline_t *pl) {
    const br_config_t *conf = pl->conf;
    int64_t gmax = INT64_MIN;
    for (size_t i = 0; i < conf->input_cnt; i++)
        if (pl->input_max[i] > gmax)
            gmax = pl->input_max[i];
    if (gmax == INT64_MIN)
        return;
    int64_t wm = INT64_MAX;
    for (size_t i = 0; i < conf->input_cnt; i++) {
        const br_input_conf_t *in = &conf->inputs[i];
        int64_t imax = pl->input_max[i];
        if (imax == INT64_MIN || imax < gmax - in->idle_ms)
            continue; /* no data, or idle in event time */
        int64_t imin = INT64_MAX;
        for (size_t p = 0; p < pl->part_cnt; p++) {
            const part_t *pt = &pl->parts[p];
            if (pt->input != (int)i || pt->max_ms < imax - in->idle_ms)
                continue;
            if (pt->max_ms < imin)
                imin = pt->max_ms;
        }
        if (imin - in->lateness_ms < wm)
            wm = imin - in->lateness_ms;
    }
    if (wm == INT64_MAX || (pl->watermark_ms != INT64_MIN && wm <= pl->watermark_ms))
        return;
    pl->watermark_ms = wm;
    pl->st.watermark_ms = wm;
    int64_t target = br_floordiv(wm, conf->spike.bucket_ms) - 1;
    if (pl->first_bucket != INT64_MIN && target >= pl->first_bucket)
        advance_final(pl, target);
    close_budgets(pl);
}

static void note_event_time(br_pipeline_t *pl, const br_origin_t *o,
                            int64_t t) {
    if (t > pl->max_event_ms) {
        pl->max_event_ms = t;
        pl->st.max_event_ms = t;
    }
    int input = o->input;
    bool moved = false;
    if (t > pl->input_max[input]) {
        pl->input_max[input] = t;
        moved = true;
    }
    part_t *pt = NULL;
    for (size_t i = 0; i < pl->part_cnt; i++)
        if (pl->parts[i].input == input &&
            pl->parts[i].partition == o->partition) {
            pt = &pl->parts[i];
            break;
        }
    if (!pt) {
        if (pl->part_cnt == pl->part_cap) {
            size_t cap = pl->part_cap ? pl->part_cap * 2 : 16;
            part_t *p = realloc(pl->parts, sizeof(*p) * cap);
            if (!p)
                return;
            pl->parts = p;
            pl->part_cap = cap;
        }
        pt = &pl->parts[pl->part_cnt++];
        pt->input = input;
        pt->partition = o->partition;
        pt->max_ms = INT64_MIN;
    }
    if (t > pt->max_ms) {
        pt->max_ms = t;
        moved = true;
    }
    if (moved)
        update_watermark(pl);
}

/* ---- budgets ---------------------------------------------------------- */

static void budget_alert(br_pipeline_t *pl, const br_budget_t *bg,
                         const br_budget_period_t *p, size_t th,
                         br_alert_status_t status) {
    const br_budget_conf_t *bc = br_budget_conf(bg);
    br_alert_t a;
    alert_init(pl, &a, BR_ALERT_BUDGET_THRESHOLD);
    int32_t bp = bc->thresholds_bp[th];
    uint64_t h = fnv_str(FNV0, "budget_threshold");
    h = fnv_str(h, bc->name);
    h = fnv_i64(h, p->start_ms);
    h = fnv_i64(h, bp);
    id_hex(h, a.id);
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
    char spent[32], amount[32], when[40];
    money_text(p->spent_nanos, spent, sizeof(spent));
    money_text(bc->amount_nanos, amount, sizeof(amount));
    br_ts_format(p->start_ms, when, sizeof(when));
    if (status == BR_STATUS_RESOLVED)
        text(a.summary, sizeof(a.summary),
                 "Budget %s: the %s starting %s (%s) is over; final spend "
                 "%s of %s %s (threshold %d.%02d%% was crossed)",
                 bc->name, br_period_name(bc->period), when,
                 bc->timezone ? bc->timezone : "UTC", spent, amount,
                 bc->currency, bp / 100, bp % 100);
    else
        text(a.summary, sizeof(a.summary),
                 "Budget %s crossed %d.%02d%%: %s of %s %s spent in the %s "
                 "starting %s (%s)",
                 bc->name, bp / 100, bp % 100, spent, amount, bc->currency,
                 br_period_name(bc->period), when,
                 bc->timezone ? bc->timezone : "UTC");
    emit(pl, &a);
}

static void resolve_period(br_pipeline_t *pl, const br_budget_t *bg,
                           const br_budget_period_t *p) {
    const br_budget_conf_t *bc = br_budget_conf(bg);
    for (size_t t = 0; t < bc->threshold_cnt && t < 64; t++)
        if (p->fired & (UINT64_C(1) << t))
            budget_alert(pl, bg, p, t, BR_STATUS_RESOLVED);
}

static void close_budgets(br_pipeline_t *pl) {
    for (size_t i = 0; i < pl->conf->budget_cnt; i++) {
        br_budget_period_t closed[BR_BUDGET_PERIODS];
        size_t n = br_budget_close(pl->budgets[i], pl->watermark_ms, closed,
                                   BR_BUDGET_PERIODS);
        for (size_t k = 0; k < n; k++)
            resolve_period(pl, pl->budgets[i], &closed[k]);
    }
}

static void add_budgets(br_pipeline_t *pl, const br_record_t *rec) {
    for (size_t i = 0; i < pl->conf->budget_cnt; i++) {
        br_budget_t *bg = pl->budgets[i];
        if (!br_budget_matches(bg, rec))
            continue;
        br_budget_crossing_t x[64];
        int n = br_budget_add(bg, rec->event_ms, rec->cost_nanos, x, 64);
        for (int k = 0; k < n; k++) {
            budget_alert(pl, bg, x[k].period, x[k].threshold, BR_STATUS_FIRING);
            if (x[k].period->closed) /* late data for a closed period */
                budget_alert(pl, bg, x[k].period, x[k].threshold,
                             BR_STATUS_RESOLVED);
        }
    }
}

/* ---- attribution ------------------------------------------------------ */

static void one_off_alert(br_pipeline_t *pl, br_alert_type_t type,
                          const char *scope, const char *detail,
                          const char *summary) {
    br_alert_t a;
    alert_init(pl, &a, type);
    uint64_t h = fnv_str(FNV0, br_alert_type_name(type));
    h = fnv_str(h, scope ? scope : "");
    h = fnv_str(h, detail ? detail : "");
    id_hex(h, a.id);
    a.revision = 1;
    a.status = BR_STATUS_FIRING;
    a.severity = BR_SEV_WARNING;
    a.scope = scope;
    a.detail = detail;
    int64_t bms = pl->conf->spike.bucket_ms;
    a.window_start_ms = br_floordiv(pl->cur_event_ms, bms) * bms;
    a.window_end_ms = a.window_start_ms + bms;
    text(a.summary, sizeof(a.summary), "%s", summary);
    emit(pl, &a);
}

static void new_spend_alert(br_pipeline_t *pl, series_t *s, int64_t b) {
    br_alert_t a;
    alert_init(pl, &a, BR_ALERT_NEW_SPEND);
    const br_scope_conf_t *sc = pl->scopes[s->scope].conf;
    uint64_t h = fnv_str(FNV0, "new_spend");
    h = fnv_str(h, sc->name);
    h = fnv(h, s->blob, s->blob_len);
    id_hex(h, a.id);
    a.revision = 1;
    a.status = BR_STATUS_FIRING;
    a.severity = BR_SEV_WARNING;
    a.scope = sc->name;
    a.label_cnt = series_labels(pl, s, a.labels, BR_ALERT_LABELS_MAX);
    int64_t bms = pl->conf->spike.bucket_ms;
    a.window_start_ms = br_floordiv(s->new_first_ms, bms) * bms;
    a.window_end_ms = (b + 1) * bms;
    a.observed_nanos = s->new_nanos;
    a.impact_nanos = s->new_nanos;
    char lbl[200], obs[32], when[40];
    labels_text(a.labels, a.label_cnt, lbl, sizeof(lbl));
    money_text(s->new_nanos, obs, sizeof(obs));
    br_ts_format(s->new_first_ms, when, sizeof(when));
    text(a.summary, sizeof(a.summary),
             "New spend on %s: %s %s since %s, a series never seen before",
             lbl, obs, a.currency, when);
    emit(pl, &a);
}

/* The series of scope si for the record, created (or folded) as needed. */
static uint32_t attribute(br_pipeline_t *pl, uint32_t si,
                          const br_record_t *rec, int64_t b) {
    scope_t *sc = &pl->scopes[si];
    char blob[1024];
    size_t len = 0;
    for (size_t d = 0; d < sc->conf->dim_cnt; d++) {
        const char *v = br_record_dim(rec, sc->conf->dims[d]);
        if (!v)
            v = UNSET;
        size_t n = strlen(v) + 1;
        if (len + n > sizeof(blob))
            n = sizeof(blob) - len; /* over-long values are cut */
        memcpy(blob + len, v, n);
        len += n;
        blob[len - 1] = '\0';
    }
    uint64_t h = series_hash(si, blob, len);
    uint32_t idx = series_find(pl, si, blob, len, h);
    if (idx != NONE)
        return idx;
    bool fold = sc->series_cnt >= sc->conf->max_series;
    if (fold) {
        pl->st.folded++;
        if (sc->other != NONE)
            return sc->other;
        len = 0;
        for (size_t d = 0; d < sc->conf->dim_cnt; d++) {
            memcpy(blob + len, OTHER, sizeof(OTHER));
            len += sizeof(OTHER);
        }
        h = series_hash(si, blob, len);
        if (!sc->cap_alerted) {
            sc->cap_alerted = true;
            char msg[320];
            text(msg, sizeof(msg),
                     "Scope %s reached its cap of %zu series: new values now "
                     "fold into \"(other)\" (a dimension with runaway "
                     "cardinality?)",
                     sc->conf->name, sc->conf->max_series);
            one_off_alert(pl, BR_ALERT_SERIES_CAP, sc->conf->name, NULL, msg);
        }
    }
    idx = series_create(pl, si, blob, len, h, b);
    if (idx == NONE)
        return NONE;
    series_t *s = &pl->series[idx];
    if (fold) {
        s->other = true;
        sc->other = idx;
    } else {
        sc->series_cnt++;
        int64_t warm = pl->conf->spike.warmup_buckets;
        if (pl->final_bucket != INT64_MIN &&
            pl->final_bucket - pl->first_bucket >= warm) {
            s->new_until = b + (warm > 0 ? warm : 1);
            s->new_first_ms = rec->event_ms;
        }
    }
    for (size_t p = 0; p < sc->parent_cnt; p++) {
        uint32_t parent = pl->rec_series[sc->parents[p]];
        if (parent != NONE)
            add_child(&pl->series[parent], idx);
    }
    return idx;
}

/* Add cost to bucket b of the series; returns false when b is already final
 * (late: counted in budgets only). */
static bool add_to_series(br_pipeline_t *pl, uint32_t idx, int64_t b,
                          int64_t cost) {
    series_t *s = &pl->series[idx];
    if (b <= s->last_final)
        return false;
    if (b > s->last_final + RING)
        finalize_series(pl, idx, b - RING);
    s = &pl->series[idx];
    int64_t *slot = &s->ring[(uint64_t)b % RING];
    *slot += cost;
    if (s->new_until && !s->new_fired) {
        if (b < s->new_until) {
            s->new_nanos += cost;
            if (s->new_nanos >= pl->conf->spike.new_spend_min_nanos) {
                s->new_fired = true;
                new_spend_alert(pl, s, b);
            }
        } else {
            s->new_until = 0;
        }
    }
    return true;
}

/* Early detection: a filling bucket can already be unusual, since spend
 * within a bucket only grows (credits aside). */
static void judge_open(br_pipeline_t *pl, uint32_t idx, int64_t b) {
    series_t *s = &pl->series[idx];
    if (s->other || b <= s->last_final)
        return;
    int64_t obs = s->ring[(uint64_t)b % RING];
    br_verdict_t v = br_baseline_judge(&s->bl, &pl->conf->spike,
                                       b * pl->conf->spike.bucket_ms, obs);
    if (v.spike)
        incident_report(pl, s, incident_mark(pl, s, b, &v, obs), false);
}

/* ---- feeding ---------------------------------------------------------- */

static br_err_t dead_letter(br_pipeline_t *pl, const br_origin_t *o,
                            const void *payload, size_t len, br_err_t err,
                            const char *detail) {
    pl->st.dead_letters++;
    if (pl->sink.dead_letter)
        pl->sink.dead_letter(pl->sink.opaque, o, payload, len, err, detail);
    return err;
}

static br_err_t process(br_pipeline_t *pl, br_record_t *rec,
                        const void *payload, size_t len) {
    const br_origin_t *o = &rec->origin;
    char *errbuf = pl->errbuf;
    if (rec->event_ms < pl->from_ms || rec->event_ms >= pl->to_ms) {
        pl->st.skipped++;
        return BR_ERR_SKIP;
    }
    if (rec->currency[0] && strcmp(rec->currency, pl->conf->currency) != 0) {
        text(errbuf, sizeof(pl->errbuf),
                 "currency %s differs from the stage currency %s (no "
                 "conversion)", rec->currency, pl->conf->currency);
        return dead_letter(pl, o, payload, len, BR_ERR_INVAL, errbuf);
    }
    if (!rec->has_cost) {
        const char *model = br_record_dim(rec, "model");
        const char *provider = br_record_dim(rec, "provider");
        const br_price_t *price =
            model ? br_prices_lookup(pl->prices, provider, model) : NULL;
        if (!price) {
            pl->st.unpriced++;
            const char *m = model ? model : UNSET;
            if (strset_add(&pl->unpriced, m)) {
                char msg[320];
                text(msg, sizeof(msg),
                         "No price for model %s%s%s: its token usage is not "
                         "counted as spend until prices.models or the price "
                         "file covers it", m, provider ? " of provider " : "",
                         provider ? provider : "");
                pl->cur_origin = o;
                pl->cur_event_ms = rec->event_ms;
                one_off_alert(pl, BR_ALERT_UNPRICED_MODEL, NULL, m, msg);
            }
            note_event_time(pl, o, rec->event_ms);
            return BR_ERR_OK;
        }
        br_err_t err = br_price_cost(price, rec->tokens, &rec->cost_nanos);
        if (err != BR_ERR_OK) {
            text(errbuf, sizeof(pl->errbuf),
                     "token counts overflow the cost of model %s", model);
            return dead_letter(pl, o, payload, len, err, errbuf);
        }
        rec->has_cost = true;
        rec->priced = true;
        pl->st.priced++;
    }
    pl->cur_origin = o;
    pl->cur_event_ms = rec->event_ms;
    pl->st.ok++;
    pl->st.total_nanos += rec->cost_nanos;

    int64_t b = br_floordiv(rec->event_ms, pl->conf->spike.bucket_ms);
    if (pl->first_bucket == INT64_MIN)
        pl->first_bucket = b;
    add_budgets(pl, rec);
    bool late = false;
    for (size_t k = 0; k < pl->conf->scope_cnt; k++)
        pl->rec_series[k] = NONE;
    for (size_t k = 0; k < pl->conf->scope_cnt; k++) {
        uint32_t si = pl->scope_order[k];
        uint32_t idx = attribute(pl, si, rec, b);
        pl->rec_series[si] = idx;
        if (idx != NONE && !add_to_series(pl, idx, b, rec->cost_nanos))
            late = true;
    }
    if (late) {
        pl->st.late++;
    } else if (rec->cost_nanos > 0) {
        /* Judge after every scope has the cost, so that contributors one
         * level down already include it. */
        for (size_t k = 0; k < pl->conf->scope_cnt; k++) {
            uint32_t idx = pl->rec_series[pl->scope_order[k]];
            if (idx != NONE)
                judge_open(pl, idx, b);
        }
    }
    note_event_time(pl, o, rec->event_ms);
    return BR_ERR_OK;
}

br_err_t br_pipeline_decode(br_pipeline_t *pl, const br_origin_t *origin,
                            const void *payload, size_t len, json_t *obj,
                            br_record_t *rec) {
    pl->st.messages++;
    if (origin->input < 0 || (size_t)origin->input >= pl->conf->input_cnt)
        return dead_letter(pl, origin, payload, len, BR_ERR_INVAL,
                           "message from an unknown input");
    if (!obj && len > pl->conf->max_message_bytes) {
        text(pl->errbuf, sizeof(pl->errbuf),
             "message of %zu bytes exceeds limits.max_message_bytes (%zu)",
             len, pl->conf->max_message_bytes);
        return dead_letter(pl, origin, payload, len, BR_ERR_LIMIT, pl->errbuf);
    }
    br_decoder_t *dec = pl->decoders[origin->input];
    br_err_t err =
        obj ? br_decoder_decode_object(dec, obj, rec, pl->errbuf,
                                       sizeof(pl->errbuf))
            : br_decoder_decode(dec, payload, len, rec, pl->errbuf,
                                sizeof(pl->errbuf));
    if (err == BR_ERR_SKIP) {
        pl->st.skipped++;
        return err;
    }
    if (err != BR_ERR_OK)
        return dead_letter(pl, origin, payload, len, err, pl->errbuf);
    rec->origin = *origin;
    return BR_ERR_OK;
}

br_err_t br_pipeline_feed_decoded(br_pipeline_t *pl, br_record_t *rec,
                                  const void *payload, size_t len) {
    return process(pl, rec, payload, len);
}

br_err_t br_pipeline_feed(br_pipeline_t *pl, const br_origin_t *origin,
                          const void *payload, size_t len) {
    br_err_t err = br_pipeline_decode(pl, origin, payload, len, NULL, &pl->rec);
    return err == BR_ERR_OK ? process(pl, &pl->rec, payload, len) : err;
}

br_err_t br_pipeline_feed_object(br_pipeline_t *pl, const br_origin_t *origin,
                                 json_t *obj, const void *raw, size_t raw_len) {
    br_err_t err = br_pipeline_decode(pl, origin, raw, raw_len, obj, &pl->rec);
    return err == BR_ERR_OK ? process(pl, &pl->rec, raw, raw_len) : err;
}

void br_pipeline_set_time_range(br_pipeline_t *pl, int64_t from_ms,
                                int64_t to_ms) {
    pl->from_ms = from_ms;
    pl->to_ms = to_ms;
}

void br_pipeline_finish(br_pipeline_t *pl) {
    if (pl->max_event_ms == INT64_MIN)
        return;
    pl->cur_origin = NULL;
    int64_t bms = pl->conf->spike.bucket_ms;
    int64_t last = br_floordiv(pl->max_event_ms, bms);
    int64_t end = (last + 1) * bms;
    if (end > pl->watermark_ms) {
        pl->watermark_ms = end;
        pl->st.watermark_ms = end;
    }
    pl->cur_event_ms = pl->max_event_ms;
    advance_final(pl, last);
    close_budgets(pl);
}

void br_pipeline_stats(const br_pipeline_t *pl, br_pipeline_stats_t *stats) {
    *stats = pl->st;
}

const char **br_pipeline_input_names(const br_pipeline_t *pl) {
    return pl->input_names;
}

/* ---- construction ----------------------------------------------------- */

static bool dims_subset_minus_one(const br_scope_conf_t *parent,
                                  const br_scope_conf_t *child) {
    if (parent->dim_cnt + 1 != child->dim_cnt)
        return false;
    for (size_t i = 0; i < parent->dim_cnt; i++) {
        bool found = false;
        for (size_t j = 0; j < child->dim_cnt && !found; j++)
            found = strcmp(parent->dims[i], child->dims[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

br_pipeline_t *br_pipeline_new(const br_config_t *conf, const br_sink_t *sink,
                               char *errstr, size_t errstr_size) {
    br_pipeline_t *pl = calloc(1, sizeof(*pl));
    if (!pl)
        goto oom;
    pl->conf = conf;
    if (sink)
        pl->sink = *sink;
    pl->watermark_ms = INT64_MIN;
    pl->final_bucket = INT64_MIN;
    pl->first_bucket = INT64_MIN;
    pl->max_event_ms = INT64_MIN;
    pl->from_ms = INT64_MIN;
    pl->to_ms = INT64_MAX;
    pl->st.watermark_ms = INT64_MIN;
    pl->st.max_event_ms = INT64_MIN;
    if (conf->scope_cnt > MAX_SCOPES) {
        br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                  "%s: at most %d scopes are supported", conf->path,
                  MAX_SCOPES);
        goto fail;
    }
    pl->prices = br_prices_new();
    if (!pl->prices)
        goto oom;
    if (conf->prices_file &&
        br_prices_load_litellm(pl->prices, conf->prices_file, errstr,
                               errstr_size) != BR_ERR_OK)
        goto fail;
    for (size_t i = 0; i < conf->price_override_cnt; i++) {
        char err[256];
        if (br_prices_set_spec(pl->prices, conf->price_overrides[i].key,
                               conf->price_overrides[i].value, err,
                               sizeof(err)) != BR_ERR_OK) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "%s:%d: prices.models.%s: %s", conf->path,
                      conf->price_overrides[i].line,
                      conf->price_overrides[i].key, err);
            goto fail;
        }
    }
    pl->decoders = calloc(conf->input_cnt, sizeof(*pl->decoders));
    pl->input_names = calloc(conf->input_cnt + 1, sizeof(*pl->input_names));
    pl->input_max = malloc(sizeof(*pl->input_max) * (conf->input_cnt + 1));
    if (!pl->decoders || !pl->input_names || !pl->input_max)
        goto oom;
    for (size_t i = 0; i < conf->input_cnt; i++) {
        pl->input_max[i] = INT64_MIN;
        pl->input_names[i] = conf->inputs[i].name;
        char err[256];
        pl->decoders[i] = br_decoder_new(&conf->inputs[i], err, sizeof(err));
        if (!pl->decoders[i]) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "%s:%d: inputs.%s: %s", conf->path, conf->inputs[i].line,
                      conf->inputs[i].name, err);
            goto fail;
        }
    }
    pl->scopes = calloc(conf->scope_cnt + 1, sizeof(*pl->scopes));
    pl->scope_order = calloc(conf->scope_cnt + 1, sizeof(*pl->scope_order));
    if (!pl->scopes || !pl->scope_order)
        goto oom;
    for (size_t i = 0; i < conf->scope_cnt; i++) {
        scope_t *sc = &pl->scopes[i];
        sc->conf = &conf->scopes[i];
        sc->other = NONE;
        for (size_t j = 0; j < conf->scope_cnt; j++)
            if (dims_subset_minus_one(&conf->scopes[j], &conf->scopes[i]))
                sc->parents[sc->parent_cnt++] = (uint32_t)j;
        pl->scope_order[i] = (uint32_t)i;
    }
    /* Parents before children, so a new child finds its parent series. */
    for (size_t i = 1; i < conf->scope_cnt; i++)
        for (size_t j = i; j > 0 &&
             conf->scopes[pl->scope_order[j - 1]].dim_cnt >
                 conf->scopes[pl->scope_order[j]].dim_cnt; j--) {
            uint32_t t = pl->scope_order[j];
            pl->scope_order[j] = pl->scope_order[j - 1];
            pl->scope_order[j - 1] = t;
        }
    pl->budgets = calloc(conf->budget_cnt + 1, sizeof(*pl->budgets));
    if (!pl->budgets)
        goto oom;
    for (size_t i = 0; i < conf->budget_cnt; i++) {
        const br_budget_conf_t *bc = &conf->budgets[i];
        if (strcmp(bc->currency, conf->currency) != 0) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "%s:%d: budgets.%s.currency: %s differs from the stage "
                      "currency %s; currency conversion is not supported",
                      conf->path, bc->line, bc->name, bc->currency,
                      conf->currency);
            goto fail;
        }
        char err[256];
        pl->budgets[i] = br_budget_new(bc, err, sizeof(err));
        if (!pl->budgets[i]) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "%s:%d: budgets.%s.timezone: %s", conf->path, bc->line,
                      bc->name, err);
            goto fail;
        }
    }
    return pl;
oom:
    br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
fail:
    br_pipeline_destroy(pl);
    return NULL;
}

void br_pipeline_destroy(br_pipeline_t *pl) {
    if (!pl)
        return;
    for (uint32_t i = 0; i < pl->series_cnt; i++) {
        free(pl->series[i].blob);
        free(pl->series[i].children);
        free(pl->series[i].inc);
    }
    free(pl->series);
    free(pl->table);
    free(pl->parts);
    if (pl->decoders)
        for (size_t i = 0; i < pl->conf->input_cnt; i++)
            br_decoder_destroy(pl->decoders[i]);
    free(pl->decoders);
    free(pl->input_names);
    free(pl->input_max);
    if (pl->budgets)
        for (size_t i = 0; i < pl->conf->budget_cnt; i++)
            br_budget_destroy(pl->budgets[i]);
    free(pl->budgets);
    free(pl->scopes);
    free(pl->scope_order);
    br_prices_destroy(pl->prices);
    strset_free(&pl->unpriced);
    free(pl);
}
