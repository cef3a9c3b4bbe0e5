/*
 * The core snapshot's sequencer (see state.h and schemas/snapshot.md): the
 * CORE layout in order, each part written, read and described by its
 * module. One reader (core_load) serves restore (into a pipeline) and
 * describe (into JSON); every bound a part checks, it checks for both.
 *
 * Layout version 1, in order:
 *   version, bucket_ms, counters, watermark/final/first/max event time,
 *   inputs (name, max event time), partitions, scopes (name, dims,
 *   cap_alerted), series, budgets (name, period, zone, kept periods with
 *   the basis points that fired; layout 2: then br_budget_save()'s blob),
 *   unpriced model names, dedup window.
 * Layout 2 appends: per input, its silence watch; it also adds to each
 * series its incidents (a count, one per kind, where layout 1 had an
 * open-incident flag), each with its kind, the bucket that resolved it and
 * the parent alert it is grouped under, and stores the baseline as
 * br_baseline_save() writes it.
 * Layout 4 writes every money field (counted total, buckets, series totals,
 * new spend, incident figures, budget spend) as a 128-bit varint
 * (br_state_rd_money) and the budget blob in its version 2; the fields are
 * where they were. Layout 5: sized open-bucket rings, late money apart.
 * Layout 6: the dedup window per input, with amounts.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/budget.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"
#include "burnrate/series.h"
#include "burnrate/state.h"
#include "burnrate/ts.h"

/* ---- what every part reads with --------------------------------------- */

br_money_t br_state_rd_money(br_rd_t *r, uint64_t layout) {
    return layout < BR_STATE_MONEY128 ? br_rd_ivar(r) : br_rd_money(r);
}

/* A bucket index from a snapshot: within +/-2^36 (times a bucket of at most
 * a day, still far inside int64 ms: arithmetic on it cannot overflow), or
 * INT64_MIN where "none" is allowed. A hostile or damaged file is refused
 * here instead of overflowing later (found by fuzzing describe). */
#define BUCKET_ABS_MAX (INT64_C(1) << 36)
/* An event time or a period bound: "none" (INT64_MIN or INT64_MAX, as
 * the state keeps them) or within about 140,000 years of 1970, so that
 * nothing computed from it (minus a lateness or an idle_timeout, plus a
 * bucket) can overflow. Records cannot carry more than years 0000-9999
 * (fuzz: a restored newest time near INT64_MIN, minus idle_timeout). */
#define TIME_ABS_MAX (INT64_C(1) << 52)

int64_t br_state_rd_time(br_rd_t *r) {
    int64_t t = br_rd_ivar(r);
    if (r->err || t == INT64_MIN || t == INT64_MAX)
        return t;
    if (t < -TIME_ABS_MAX || t > TIME_ABS_MAX) {
        br_rd_fail(r, "a time out of range");
        return 0;
    }
    return t;
}

int64_t br_state_rd_bucket(br_rd_t *r, bool none_ok) {
    int64_t b = br_rd_ivar(r);
    if (r->err || (none_ok && b == INT64_MIN))
        return b;
    if (b < -BUCKET_ABS_MAX || b > BUCKET_ABS_MAX) {
        br_rd_fail(r, "bucket index out of range");
        return 0;
    }
    return b;
}

void br_state_put_ms(br_buf_t *b, int64_t ms) {
    char t[40];
    if (ms == INT64_MIN) {
        br_buf_puts(b, "null");
        return;
    }
    br_ts_format(ms, t, sizeof t);
    br_buf_json_str(b, t);
}

void br_state_put_money(br_buf_t *b, br_money_t nanos) {
    char t[BR_MONEY_STR_MAX];
    br_money_format(nanos, t, sizeof t);
    br_buf_json_str(b, t);
}

/* ---- save ------------------------------------------------------------- */

br_err_t br_pipeline_save(const br_pipeline_t *pl, br_buf_t *b) {
    br_series_store_t *store = br_pipeline_store(pl);
    br_wr_uvar(b, BR_STATE_LAYOUT);
    br_pipeline_save_head(pl, b);
    br_pipeline_save_inputs(pl, b);
    br_pipeline_save_partitions(pl, b);
    br_series_save_scopes(store, b);
    uint32_t series_cnt = br_series_count(store);
    br_wr_uvar(b, series_cnt);
    for (uint32_t i = 0; i < series_cnt; i++) {
        const br_series_t *s = br_series_at(store, i);
        br_series_save(s, b);
        br_incidents_save(s, b);
    }
    size_t budget_cnt = br_pipeline_budget_count(pl);
    br_wr_uvar(b, budget_cnt);
    for (size_t i = 0; i < budget_cnt; i++)
        br_budget_snap_save(br_pipeline_budget(pl, i), b);
    if (br_pipeline_save_unpriced(pl, b))
        return BR_ERR_NOMEM;
    br_pipeline_save_dedup(pl, b);
    br_pipeline_save_stale(pl, b);
    return b->oom ? BR_ERR_NOMEM : BR_ERR_OK;
}

/* ---- load: restore or describe ---------------------------------------- */

typedef struct desc_series {
    uint32_t scope;
    char *labels;              /* JSON object text */
    br_money_t total;
} desc_series_t;

/* What describe collects while the parts are read. */
typedef struct desc_ctx {
    br_buf_t *out;
    desc_series_t *series;
    size_t series_cnt;
    br_buf_t incidents;        /* JSON array members */
    br_buf_t budgets;
    size_t dedup_cnt;
    size_t dedup_amounts;      /* of dedup_cnt: ids whose amount is known */
    br_buf_t stale;            /* layout >= 2: JSON array members */
    br_series_scopes_t sc;     /* the scopes as saved, for the listing */
    int64_t bucket_ms;
    bool oom;
} desc_ctx_t;

/* Where a restore puts the series it reads. */
typedef struct restore_ctx {
    br_pipeline_t *pl;
    br_restore_info_t *info;
    uint32_t *series_map;      /* saved series -> restored index or NONE */
    size_t series_seen;
} restore_ctx_t;

static br_err_t restore_series(restore_ctx_t *rc, const br_series_scopes_t *sc,
                               size_t i, size_t n, br_series_t *in,
                               char *errstr, size_t errstr_size) {
    if (!rc->series_map) {
        rc->series_map = malloc(sizeof(uint32_t) * (n + 1));
        if (!rc->series_map)
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                             "out of memory");
    }
    rc->series_seen = i + 1;
    int scope = sc->map[in->scope];
    if (scope < 0) {
        rc->series_map[i] = BR_SERIES_NONE;
        rc->info->dropped_series++;
        return BR_ERR_OK;
    }
    uint32_t idx;
    br_err_t err = br_series_adopt(br_pipeline_store(rc->pl), (uint32_t)scope,
                                   in, &idx);
    if (err == BR_ERR_PARSE)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "inconsistent state: a series is listed twice");
    if (err)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    rc->series_map[i] = idx;
    rc->info->series++;
    return BR_ERR_OK;
}

static br_err_t describe_series(desc_ctx_t *dc, const br_series_scopes_t *sc,
                                size_t i, size_t n, const br_series_t *s) {
    if (!dc->series) {
        dc->series = calloc(n + 1, sizeof *dc->series);
        if (!dc->series)
            return BR_ERR_NOMEM;
    }
    br_buf_t l;
    br_buf_init(&l);
    br_series_describe_labels(s, sc, &l);
    if (l.oom) {
        br_buf_free(&l);
        return BR_ERR_NOMEM;
    }
    dc->series[i] = (desc_series_t){s->scope, l.data, s->total};
    dc->series_cnt = i + 1;
    br_incidents_describe(s, sc->name[s->scope] ? sc->name[s->scope] : "",
                          l.data, dc->bucket_ms, &dc->incidents);
    return BR_ERR_OK;
}

static void restore_budget(restore_ctx_t *rc, const br_budget_snap_t *sn) {
    for (size_t i = 0; i < br_pipeline_budget_count(rc->pl); i++) {
        br_budget_t *bg = br_pipeline_budget(rc->pl, i);
        if (strcmp(br_budget_conf(bg)->name, sn->name) != 0)
            continue;
        if (!br_budget_snap_restore(bg, sn))
            break;
        return;
    }
    rc->info->dropped_budgets++;
}

/* Read the CORE layout part by part: into rc's pipeline (restore) or into
 * dc (describe), exactly one of them set. */
static br_err_t core_load(const void *data, size_t len, restore_ctx_t *rc,
                          desc_ctx_t *dc, char *errstr, size_t errstr_size) {
    br_pipeline_t *pl = rc ? rc->pl : NULL;
    br_rd_t rr, *r = &rr;
    br_err_t err = BR_ERR_OK;
    br_pipeline_head_t h;
    br_pipeline_inputs_t in;
    br_series_scopes_t own, *sc = dc ? &dc->sc : &own;
    br_series_t s;
    uint64_t dropped_scopes = 0;

    memset(&in, 0, sizeof in);
    memset(sc, 0, sizeof *sc);
    memset(&s, 0, sizeof s);
    br_rd_init(r, data, len);
    uint64_t layout = br_rd_uvar(r);
    if (!r->err && (layout == 0 || layout > BR_STATE_LAYOUT))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "state layout %" PRIu64 " is newer than this "
                         "version reads (%d)", layout, BR_STATE_LAYOUT);
    br_pipeline_read_head(r, layout, &h);
    if (r->err)
        goto done;
    if (pl) {
        if ((err = br_pipeline_restore_head(pl, &h, errstr, errstr_size)))
            goto done;
    } else {
        dc->bucket_ms = h.bucket_ms;
        br_pipeline_describe_head(&h, dc->out);
    }

    br_pipeline_load_inputs(r, pl, &in, rc ? rc->info : NULL);
    br_pipeline_load_partitions(r, pl, &in);
    br_series_load_scopes(r, pl ? br_pipeline_store(pl) : NULL, sc,
                          &dropped_scopes);
    if (rc)
        rc->info->dropped_scopes += dropped_scopes;
    else if (sc->oom)
        dc->oom = true;

    /* Each series takes bytes of its own: a count beyond what is left is a
     * lie, refused before anything is sized by it (fuzz: describe asked
     * for 100 GB). */
    uint64_t left = br_rd_left(r);
    uint64_t series_cnt = br_rd_count(r, left < UINT32_MAX - 1 ? left
                                                               : UINT32_MAX - 1);
    for (uint64_t i = 0; i < series_cnt && !r->err && !err; i++) {
        br_series_load(r, layout, sc, series_cnt, &s);
        if (!r->err)
            br_incidents_load(r, layout, &s);
        if (r->err)
            break;
        if (rc)
            err = restore_series(rc, sc, (size_t)i, (size_t)series_cnt, &s,
                                 errstr, errstr_size);
        else
            err = describe_series(dc, sc, (size_t)i, (size_t)series_cnt, &s);
        br_series_release(&s);
    }
    if (err || r->err)
        goto done;

    size_t budget_cnt = (size_t)br_rd_count(r, 1000000);
    for (size_t i = 0; i < budget_cnt && !r->err; i++) {
        br_budget_snap_t sn;
        br_budget_snap_read(r, layout, &sn);
        if (!r->err && rc) {
            restore_budget(rc, &sn);
        } else if (!r->err) {
            if (dc->budgets.len)
                br_buf_puts(&dc->budgets, ",\n  ");
            br_budget_snap_describe(&sn, &dc->budgets);
        }
        br_budget_snap_free(&sn);
    }
    br_pipeline_load_unpriced(r, pl);
    size_t ids = 0, with_amount = 0;
    br_pipeline_load_dedup(r, layout, pl, &in, &ids, &with_amount);
    if (dc) {
        dc->dedup_cnt = ids;
        dc->dedup_amounts = with_amount;
    }
    if (layout >= 2)
        br_pipeline_load_stale(r, pl, dc ? &dc->stale : NULL);
    if (!r->err && br_rd_left(r))
        br_rd_fail(r, "trailing bytes after the state");
done:
    br_series_release(&s);
    if (!dc)
        br_series_scopes_free(sc);
    free(in.map);
    if (err)
        return err;
    if (r->err)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "inconsistent state: %s", r->err);
    return BR_ERR_OK;
}

br_err_t br_pipeline_restore(br_pipeline_t *pl, const void *data, size_t len,
                             br_restore_info_t *info, char *errstr,
                             size_t errstr_size) {
    br_restore_info_t dummy;
    restore_ctx_t rc = {.pl = pl, .info = info ? info : &dummy};
    br_pipeline_stats_t st;
    memset(rc.info, 0, sizeof *rc.info);
    br_pipeline_stats(pl, &st);
    if (st.series || st.messages)
        return br_seterr(errstr, errstr_size, BR_ERR_INVAL,
                         "restore needs a pipeline that has not been fed");
    br_err_t err = core_load(data, len, &rc, NULL, errstr, errstr_size);
    /* Child links point at saved indices: map them to restored ones. */
    if (err == BR_ERR_OK)
        br_series_remap_children(br_pipeline_store(pl), rc.series_map,
                                 rc.series_seen);
    free(rc.series_map);
    br_pipeline_restored(pl, err == BR_ERR_OK);
    return err;
}

static int cmp_desc_series(const void *a, const void *b) {
    const desc_series_t *x = a, *y = b;
    if (x->scope != y->scope)
        return x->scope < y->scope ? -1 : 1;
    return strcmp(x->labels, y->labels);
}

br_err_t br_pipeline_describe(const void *data, size_t len, br_buf_t *json,
                              char *errstr, size_t errstr_size) {
    desc_ctx_t dc;
    memset(&dc, 0, sizeof dc);
    dc.out = json;
    br_buf_init(&dc.incidents);
    br_buf_init(&dc.budgets);
    br_buf_init(&dc.stale);
    br_err_t err = core_load(data, len, NULL, &dc, errstr, errstr_size);
    if (err == BR_ERR_OK) {
        if (dc.series_cnt)
            qsort(dc.series, dc.series_cnt, sizeof *dc.series,
                  cmp_desc_series);
        br_buf_puts(json, "\"series\": [");
        for (size_t i = 0; i < dc.series_cnt; i++) {
            const desc_series_t *s = &dc.series[i];
            br_buf_printf(json, "%s\n  {\"scope\": ", i ? "," : "");
            br_buf_json_str(json, dc.sc.name[s->scope]
                                      ? dc.sc.name[s->scope] : "");
            br_buf_printf(json, ", \"labels\": %s, \"total\": ", s->labels);
            br_state_put_money(json, s->total);
            br_buf_puts(json, "}");
        }
        br_buf_printf(json, "],\n\"budgets\": [%s],\n\"incidents\": [%s],\n",
                      dc.budgets.len ? dc.budgets.data : "",
                      dc.incidents.len ? dc.incidents.data : "");
        br_pipeline_describe_dedup(dc.dedup_cnt, dc.dedup_amounts, json);
        if (dc.stale.len)
            br_buf_printf(json, ",\n\"stale_inputs\": [%s]", dc.stale.data);
        if (json->oom || dc.oom || dc.stale.oom)
            err = br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                            "out of memory");
    }
    for (size_t i = 0; i < dc.series_cnt; i++)
        free(dc.series[i].labels);
    free(dc.series);
    br_series_scopes_free(&dc.sc);
    br_buf_free(&dc.incidents);
    br_buf_free(&dc.budgets);
    br_buf_free(&dc.stale);
    return err;
}
