/* Row identity, duplicates and restatements (issue 14): the same FOCUS
 * export sent twice counts once; a row restated with another amount
 * replaces the earlier one (totals, budgets, series move by the
 * difference); a composite id from config; a window and a cap per input;
 * remembered amounts survive a snapshot. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/csv.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"
#include "burnrate/ts.h"

#define U INT64_C(1000000000)
#define H INT64_C(3600000)
#define DAY (24 * H)
#define T0 INT64_C(1725148800000) /* 2024-09-01T00:00:00Z */

/* bill: FOCUS rows as JSON (restatements default to replace); tok: a token
 * feed with a composite id from config, remembered one hour, two ids at
 * most. RESTATE is replaced by an extra line for the bill input. */
static const char *CONF =
    "inputs:\n"
    "  - name: bill\n"
    "    topic: bill\n"
    "    dialect: focus\n"
    "    lateness: 0s\n"
    "RESTATE"
    "  - name: tok\n"
    "    topic: tok\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    dedup_window: 1h\n"
    "    dedup_max_ids: 2\n"
    "    mapping:\n"
    "      time: ts\n"
    "      cost: cost\n"
    "      id: [acct, req]\n"
    "scopes:\n"
    "  - name: total\n"
    "    dims: []\n"
    "  - name: service\n"
    "    dims: [service]\n"
    "budgets:\n"
    "  - name: month\n"
    "    amount: 100\n"
    "    period: month\n"
    "    thresholds: [50, 100]\n";

static br_config_t *load(const char *restate) {
    char yaml[4096];
    const char *at = strstr(CONF, "RESTATE");
    snprintf(yaml, sizeof yaml, "%.*s%s%s", (int)(at - CONF), CONF, restate,
             at + 7);
    return brp_config(yaml, "test.yaml");
}

/* A FOCUS row of resource res charged in the hour starting at t. */
static br_err_t row(brp_run_t *r, int64_t t, const char *res, const char *cost) {
    char a[40], b[40];
    br_ts_format(t, a, sizeof a);
    br_ts_format(t + H, b, sizeof b);
    return brp_feedf(r->pl, 0, "bill", 0,
                     "{\"BillingAccountId\":\"111\",\"SubAccountId\":\"222\","
                     "\"BillingPeriodStart\":\"2024-09-01T00:00:00Z\","
                     "\"ChargePeriodStart\":\"%s\",\"ChargePeriodEnd\":\"%s\","
                     "\"ChargeCategory\":\"Usage\",\"ResourceId\":\"%s\","
                     "\"SkuId\":\"SKU1\",\"ServiceName\":\"Compute\","
                     "\"BilledCost\":\"%s\",\"BillingCurrency\":\"USD\"}",
                     a, b, res, cost);
}

static br_err_t tok(brp_run_t *r, int64_t t, const char *acct, const char *req,
                    const char *cost) {
    char ts[40];
    br_ts_format(t, ts, sizeof ts);
    return brp_feedf(r->pl, 1, "tok", 0,
                     "{\"ts\":\"%s\",\"acct\":\"%s\",\"req\":\"%s\","
                     "\"cost\":%s}", ts, acct, req, cost);
}

static int64_t total(const brp_run_t *r) {
    br_pipeline_stats_t st;
    br_pipeline_stats(r->pl, &st);
    return st.total_nanos;
}

/* The snapshot description holds "spent": "<money>" for the budget and
 * "total": "<money>" per series. */
static bool described(const brp_run_t *r, const char *key, int64_t nanos) {
    br_buf_t json;
    char want[80], m[40];
    br_buf_init(&json);
    brp_describe_text(r->pl, &json);
    br_money_format(nanos, m, sizeof m);
    snprintf(want, sizeof want, "\"%s\": \"%s\"", key, m);
    bool ok = json.len && strstr(json.data, want) != NULL;
    if (!ok)
        fprintf(stderr, "want %s in:\n%s\n", want, json.len ? json.data : "");
    br_buf_free(&json);
    return ok;
}

/* The FOCUS sample through the CSV reader, as replay feeds it. */
static int feed_sample(brp_run_t *r) {
    const char *data = getenv("BR_DATA");
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/focus_sample.csv",
             data ? data : "../scripts/data");
    FILE *fp = fopen(path, "r");
    br_csv_t *csv = fp ? br_csv_open(fp, err, sizeof err) : NULL;
    int rows = 0;
    json_t *obj;
    int64_t n;
    while (csv && br_csv_next(csv, &obj, &n, err, sizeof err) == BR_ERR_OK) {
        size_t len;
        const char *raw = br_csv_raw(csv, &len);
        br_origin_t o = {.input = 0, .topic = path, .offset = n};
        br_pipeline_feed_object(r->pl, &o, obj, raw, len);
        json_decref(obj);
        rows++;
    }
    br_csv_destroy(csv);
    if (fp)
        fclose(fp);
    return rows;
}

/* The same export sent twice (exports are rewritten several times a day)
 * counts once: the second pass finds every row's identity. */
static void test_focus_export_twice(void) {
    br_config_t *conf = load("");
    brp_run_t r;
    br_pipeline_stats_t st;
    brp_run_start(&r, conf);
    CHECK_INT(feed_sample(&r), 1000);
    CHECK_INT(total(&r), INT64_C(20520226762)); /* see test_csv.c */
    CHECK_INT(feed_sample(&r), 1000);
    CHECK_INT(total(&r), INT64_C(20520226762));
    br_pipeline_stats(r.pl, &st);
    CHECK_INT(st.ok, 1000);
    CHECK_INT(st.duplicates, 1000);
    CHECK_INT(st.restated, 0);
    CHECK_INT(st.dedup_ids, 1000); /* every row has its own identity */
    brp_run_free(&r);
    br_config_destroy(conf);
}

/* A corrected row replaces the earlier amount: totals, series and budget
 * spend move by the difference, and a threshold the correction crosses
 * fires; the identical row again is a duplicate. */
static void test_restated_row(void) {
    br_config_t *conf = load("");
    brp_run_t r;
    br_pipeline_stats_t st;
    brp_run_start(&r, conf);
    CHECK_INT(row(&r, T0, "vm-a", "40"), BR_ERR_OK);
    CHECK_INT(row(&r, T0, "vm-b", "20"), BR_ERR_OK);
    CHECK_INT(total(&r), 60 * U);
    CHECK_INT(brp_occurs(&r.got.json, "\"type\":\"budget_threshold\""), 1); /* 50% */
    CHECK_INT(row(&r, T0, "vm-a", "90"), BR_ERR_OK); /* restated */
    CHECK_INT(total(&r), 110 * U);
    CHECK(described(&r, "spent", 110 * U));
    CHECK(described(&r, "total", 110 * U));
    CHECK_INT(brp_occurs(&r.got.json, "\"type\":\"budget_threshold\""), 2); /* 100% */
    CHECK_INT(row(&r, T0, "vm-a", "90"), BR_ERR_SKIP); /* a duplicate */
    CHECK_INT(total(&r), 110 * U);
    CHECK_INT(row(&r, T0, "vm-a", "30"), BR_ERR_OK); /* lowered */
    CHECK_INT(total(&r), 50 * U);
    CHECK(described(&r, "spent", 50 * U));
    br_pipeline_stats(r.pl, &st);
    CHECK_INT(st.ok, 4);
    CHECK_INT(st.restated, 2);
    CHECK_INT(st.duplicates, 1);
    br_pipeline_input_stats_t in;
    br_pipeline_input_stats(r.pl, 0, &in);
    CHECK_INT(in.restated, 2);
    CHECK_INT(in.dedup_ids, 2);
    CHECK(in.dedup_bytes >= 2 * 40);
    brp_run_free(&r);
    br_config_destroy(conf);

    /* restatements: duplicate keeps the first amount, as before. */
    conf = load("    restatements: duplicate\n");
    brp_run_start(&r, conf);
    CHECK_INT(row(&r, T0, "vm-a", "40"), BR_ERR_OK);
    CHECK_INT(row(&r, T0, "vm-a", "90"), BR_ERR_SKIP);
    CHECK_INT(total(&r), 40 * U);
    brp_run_free(&r);
    br_config_destroy(conf);
}

/* A restatement of a row whose bucket is final is late money: it moves
 * totals and budgets, not the closed bucket. */
static void test_restated_late(void) {
    br_config_t *conf = load("");
    brp_run_t r;
    br_pipeline_stats_t st;
    brp_run_start(&r, conf);
    CHECK_INT(row(&r, T0, "vm-a", "10"), BR_ERR_OK);
    CHECK_INT(row(&r, T0 + 5 * H, "vm-b", "1"), BR_ERR_OK); /* T0 final */
    CHECK_INT(row(&r, T0, "vm-a", "15"), BR_ERR_OK);
    CHECK_INT(total(&r), 16 * U);
    CHECK(described(&r, "spent", 16 * U));
    br_pipeline_stats(r.pl, &st);
    CHECK_INT(st.late, 1);
    CHECK_INT(st.restated, 1);
    brp_run_free(&r);
    br_config_destroy(conf);
}

/* mapping.id as a list: both fields make the identity. The token input
 * remembers ids for one hour and two at most. */
static void test_composite_window_cap(void) {
    br_config_t *conf = load("");
    brp_run_t r;
    br_pipeline_input_stats_t in;
    brp_run_start(&r, conf);
    CHECK_INT(tok(&r, T0, "a1", "q1", "1"), BR_ERR_OK);
    CHECK_INT(tok(&r, T0, "a2", "q1", "1"), BR_ERR_OK);  /* other acct */
    CHECK_INT(tok(&r, T0, "a2", "q1", "1"), BR_ERR_SKIP); /* duplicate */
    /* duplicate is the default of a custom input: another amount too */
    CHECK_INT(tok(&r, T0, "a2", "q1", "5"), BR_ERR_SKIP);
    CHECK_INT(tok(&r, T0, "a3", "q1", "1"), BR_ERR_OK);  /* evicts a1/q1 */
    br_pipeline_input_stats(r.pl, 1, &in);
    CHECK_INT(in.dedup_ids, 2);
    CHECK_INT(in.dedup_evicted, 1);
    CHECK_INT(tok(&r, T0, "a1", "q1", "1"), BR_ERR_OK);  /* forgotten */
    /* Two hours later, the ids of T0 are out of the window. */
    CHECK_INT(tok(&r, T0 + 2 * H, "a4", "q1", "1"), BR_ERR_OK);
    CHECK_INT(tok(&r, T0 + 2 * H, "a3", "q1", "1"), BR_ERR_OK);
    CHECK_INT(total(&r), 6 * U);
    /* The billing input's window (40 days by default) still holds a row of
     * a month ago while the token input's has moved on. */
    CHECK_INT(row(&r, T0, "vm-a", "1"), BR_ERR_OK);
    CHECK_INT(row(&r, T0 + 30 * DAY, "vm-b", "1"), BR_ERR_OK);
    CHECK_INT(row(&r, T0, "vm-a", "1"), BR_ERR_SKIP);
    CHECK_INT(row(&r, T0 + 41 * DAY, "vm-c", "1"), BR_ERR_OK);
    CHECK_INT(row(&r, T0, "vm-a", "1"), BR_ERR_OK); /* now forgotten */
    brp_run_free(&r);
    br_config_destroy(conf);
}

/* Remembered amounts survive a snapshot: the restored stage replaces. */
static void test_snapshot_amounts(void) {
    br_config_t *conf = load("");
    brp_run_t r, r2;
    br_buf_t core;
    char err[256];
    brp_run_start(&r, conf);
    CHECK_INT(row(&r, T0, "vm-a", "40"), BR_ERR_OK);
    br_buf_init(&core);
    CHECK_INT(br_pipeline_save(r.pl, &core), BR_ERR_OK);
    brp_run_start(&r2, conf);
    CHECK_INT(br_pipeline_restore(r2.pl, core.data, core.len, NULL, err,
                                  sizeof err), BR_ERR_OK);
    CHECK_INT(row(&r2, T0, "vm-a", "40"), BR_ERR_SKIP);
    CHECK_INT(row(&r2, T0, "vm-a", "55"), BR_ERR_OK);
    CHECK_INT(total(&r2), 55 * U);
    /* The run without the restart reaches the same money. */
    CHECK_INT(row(&r, T0, "vm-a", "55"), BR_ERR_OK);
    CHECK_INT(total(&r), total(&r2));
    br_buf_free(&core);
    brp_run_free(&r);
    brp_run_free(&r2);
    br_config_destroy(conf);
}

int main(void) {
    test_focus_export_twice();
    test_restated_row();
    test_restated_late();
    test_composite_window_cap();
    test_snapshot_amounts();
    return brt_done();
}
