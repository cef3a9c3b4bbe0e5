/* The pure core end to end, without Kafka: known workloads in, the exact
 * alerts out (spike lifecycle, contributors, new spend, budgets, unpriced
 * models, series cap, late data, dead letters) and byte-identical reruns. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"
#include "burnrate/ts.h"

#define U INT64_C(1000000000)
#define H INT64_C(3600000)
#define T0 INT64_C(1735689600000) /* 2025-01-01T00:00:00Z */

static const char *CONF =
    "currency: USD\n"
    "inputs:\n"
    "  - name: usage\n"
    "    topic: usage\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    mapping:\n"
    "      time: ts\n"
    "      cost: cost\n"
    "      currency: cur\n"
    "      model: model\n"
    "      input_tokens: in\n"
    "      output_tokens: out\n"
    "      dims:\n"
    "        team: team\n"
    "scopes:\n"
    "  - name: total\n"
    "    dims: []\n"
    "  - name: team\n"
    "    dims: [team]\n"
    "    max_series: 0\n"
    "  - name: team_model\n"
    "    dims: [team, model]\n"
    "spike:\n"
    "  bucket: 1h\n"
    "  min_impact: 5\n"
    "  warmup: 24\n"
    "  resolve_after: 2\n"
    "budgets:\n"
    "  - name: ml-daily\n"
    "    match:\n"
    "      team: ml\n"
    "    amount: 100\n"
    "    period: day\n"
    "    thresholds: [50, 100]\n"
    "prices:\n"
    "  models:\n"
    "    tiny:\n"
    "      input: 1.0\n"
    "      output: 2.0\n";

static br_config_t *load(int max_series) {
    char yaml[4096];
    const char *head = strstr(CONF, "    max_series: ");
    /* CONF with the team scope's cap filled in. */
    snprintf(yaml, sizeof(yaml), "%.*s    max_series: %d%s",
             (int)(head - CONF), CONF, max_series, strchr(head, '\n'));
    return brp_config(yaml, "test.yaml");
}

static int64_t offset;

static br_err_t feed(br_pipeline_t *pl, int64_t t, const char *team,
                     const char *model, const char *cost) {
    char ts[40];
    br_ts_format(t, ts, sizeof(ts));
    return brp_feedf(pl, 0, "usage", offset++,
                     "{\"ts\":\"%s\",\"team\":\"%s\",\"model\":\"%s\",\"cost\":%s}",
                     ts, team, model, cost);
}

static br_err_t feed_raw(br_pipeline_t *pl, const char *msg) {
    return brp_feed(pl, 0, "usage", offset++, msg);
}

static int find(const brp_sink_t *g, const char *type, const char *status,
                const char *scope, const char *labels) {
    int cnt = 0;
    for (int i = 0; i < g->n; i++)
        cnt += strcmp(g->a[i].type, type) == 0 &&
               strcmp(g->a[i].status, status) == 0 &&
               strcmp(g->a[i].scope, scope) == 0 &&
               strcmp(g->a[i].labels, labels) == 0;
    return cnt;
}

/* The last spike on the total that fired: its contributors. */
static const brp_alert_t *total_spike(const brp_sink_t *g) {
    const brp_alert_t *last = NULL;
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->a[i].type, "cost_spike") == 0 &&
            strcmp(g->a[i].scope, "total") == 0 &&
            strcmp(g->a[i].status, "firing") == 0)
            last = &g->a[i];
    return last;
}

/* Two days flat, one hour at 60x for team ml, then calm again. */
static void workload(br_pipeline_t *pl) {
    offset = 0;
    for (int h = 0; h < 48; h++) {
        feed(pl, T0 + h * H + 30 * 60000, "ml", "a", "1.00");
        feed(pl, T0 + h * H + 31 * 60000, "web", "b", "1.00");
    }
    feed(pl, T0 + 48 * H + 10 * 60000, "ml", "a", "60.00");   /* spike */
    feed(pl, T0 + 48 * H + 11 * 60000, "web", "b", "1.00");
    for (int h = 49; h < 54; h++) {
        feed(pl, T0 + h * H + 30 * 60000, "ml", "a", "1.00");
        feed(pl, T0 + h * H + 31 * 60000, "web", "b", "1.00");
    }
    feed(pl, T0 + 54 * H, "new", "a", "20.00");             /* new spend */
    feed(pl, T0 + 10 * H, "ml", "a", "1.00");               /* late */
    /* Token events: priced, and an unknown model twice. */
    feed_raw(pl, "{\"ts\":\"2025-01-03T06:00:00Z\",\"team\":\"web\","
                 "\"model\":\"tiny\",\"in\":1000000,\"out\":500000}");
    feed_raw(pl, "{\"ts\":\"2025-01-03T06:00:00Z\",\"team\":\"web\","
                 "\"model\":\"mystery\",\"in\":1000,\"out\":10}");
    feed_raw(pl, "{\"ts\":\"2025-01-03T06:01:00Z\",\"team\":\"web\","
                 "\"model\":\"mystery\",\"in\":1000,\"out\":10}");
    /* Bad messages become dead letters and change nothing else. */
    feed_raw(pl, "{\"ts\":\"2025-01-03T06:02:00Z\",\"team\":\"web\","
                 "\"model\":\"b\",\"cost\":1,\"cur\":\"EUR\"}");
    feed_raw(pl, "not json");
}

static void test_workload(void) {
    br_config_t *conf = load(100);
    CHECK(conf != NULL);
    if (!conf)
        return;
    brp_sink_t g;
    br_pipeline_t *pl = brp_start(conf, &g);
    if (!pl) {
        br_config_destroy(conf);
        return;
    }
    workload(pl);
    br_pipeline_finish(pl);
    if (getenv("BR_DUMP"))
        fputs(g.json.data, stderr);
    for (int i = 0; i < g.n; i++)
        fprintf(stderr, "  %-16s %-9s %-10s %-20s r%u\n", g.a[i].type,
                g.a[i].status, g.a[i].scope[0] ? g.a[i].scope : "-",
                g.a[i].labels, g.a[i].rev);

    CHECK_INT(g.order_errors, 0);
    /* The spike fires early, once: on the total, the topmost series it
     * shows in; team=ml and team=ml,model=a are unusual in the same
     * incident and grouped under it (tests/test_lifecycle.c). */
    CHECK_INT(find(&g, "cost_spike", "firing", "team_model", "team=ml,model=a"), 0);
    CHECK_INT(find(&g, "cost_spike", "firing", "team", "team=ml"), 0);
    CHECK_INT(find(&g, "cost_spike", "firing", "total", ""), 1);
    CHECK_INT(find(&g, "cost_spike", "resolved", "total", ""), 1);
    /* The new team's first 20.00 at hour 54 is within the cooldown: the
     * same incident reopens. */
    CHECK(find(&g, "cost_spike", "updated", "total", "") >= 2);
    CHECK_INT(find(&g, "cost_spike", "firing", "team", "team=web"), 0);
    /* ...naming the team one level down as its contributor. */
    const brp_alert_t *top = total_spike(&g);
    CHECK_INT(top ? top->contrib_cnt : 0, 1);
    CHECK_STR(top ? top->contrib[0] : "", "team=ml");
    CHECK(top && top->c_share[0] > 9000);
    /* A team never seen before spends above the floor. */
    CHECK_INT(find(&g, "new_spend", "firing", "team", "team=new"), 1);
    CHECK_INT(find(&g, "new_spend", "firing", "team_model", "team=new,model=a"), 1);
    /* 60 + 1/h in day 3 crosses 50 % of 100 once. */
    CHECK_INT(find(&g, "budget_threshold", "firing", "ml-daily", "team=ml"), 1);
    /* Unpriced model alerted once, though seen twice. */
    CHECK_INT(brp_count(&g, "unpriced_model", NULL, NULL), 1);

    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    CHECK_INT(st.late, 1);
    CHECK_INT(st.unpriced, 2);
    CHECK_INT(st.priced, 1);
    CHECK_INT(st.dead_letters, 2);
    CHECK_INT(g.dead, 2);
    CHECK_INT(g.dl[0].reason, BR_ERR_INVAL);
    CHECK_INT(g.dl[1].reason, BR_ERR_PARSE);
    /* Exact money: 96 + 60 + 11 + 20 + 1 (late) + 2.00 (priced tokens). */
    CHECK_INT(st.total_nanos, 190 * U);
    CHECK_INT(st.series, 1 + 3 + 4); /* teams ml, web, new; web+tiny */

    /* Same input, same bytes. */
    brp_sink_t g2;
    br_pipeline_t *pl2 = brp_start(conf, &g2);
    workload(pl2);
    br_pipeline_finish(pl2);
    CHECK_INT(g.json.len, g2.json.len);
    CHECK(g.json.len > 0 && memcmp(g.json.data, g2.json.data, g.json.len) == 0);
    br_pipeline_destroy(pl2);
    brp_sink_free(&g2);

    br_pipeline_destroy(pl);
    br_config_destroy(conf);
    brp_sink_free(&g);
}

/* A tag with a new value on every event folds into (other) at the cap and
 * raises one series_cap alert, without growing. */
static void test_series_cap(void) {
    br_config_t *conf = load(5);
    CHECK(conf != NULL);
    if (!conf)
        return;
    brp_sink_t g;
    br_pipeline_t *pl = brp_start(conf, &g);
    if (!pl) {
        br_config_destroy(conf);
        return;
    }
    offset = 0;
    for (int i = 0; i < 1000; i++) {
        char team[32];
        snprintf(team, sizeof(team), "t%d", i);
        feed(pl, T0 + i * 1000, team, "a", "0.01");
    }
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    CHECK_INT(brp_count(&g, "series_cap", NULL, NULL), 1);
    /* total 1, team 5 + (other), team_model 100 + (other): folded stays
     * bounded by the caps. */
    CHECK_INT(st.series, 1 + 6 + 1000);
    CHECK_INT(st.folded, 995);
    CHECK_INT(st.total_nanos, 10 * U);
    br_pipeline_destroy(pl);
    br_config_destroy(conf);
    brp_sink_free(&g);
}

/* With three hours of lateness the spike's hour is judged once the hour
 * before it is final (not on its first record, while older buckets are
 * still open): the id fires once; the quiet hours after it resolve it when
 * they are final, and hour 54's spend, judged after them, reopens the same
 * id within the cooldown (an update) instead of firing a new one. */
static void test_early_with_lateness(void) {
    char yaml[4096];
    const char *lat = strstr(CONF, "lateness: 0s");
    const char *head = strstr(CONF, "    max_series: ");
    snprintf(yaml, sizeof(yaml), "%.*slateness: 3h%.*s    max_series: 100%s",
             (int)(lat - CONF), CONF, (int)(head - lat - 12), lat + 12,
             strchr(head, '\n'));
    br_config_t *conf = brp_config(yaml, "t.yaml");
    if (!conf)
        return;
    brp_sink_t g;
    br_pipeline_t *pl = brp_start(conf, &g);
    if (!pl) {
        br_config_destroy(conf);
        return;
    }
    workload(pl);
    br_pipeline_finish(pl);
    CHECK_INT(g.order_errors, 0);
    CHECK_INT(find(&g, "cost_spike", "firing", "total", ""), 1);
    CHECK_INT(find(&g, "cost_spike", "resolved", "total", ""), 1);
    CHECK_INT(find(&g, "cost_spike", "updated", "total", ""), 1);
    const char *spike_id = NULL;
    for (int i = 0; i < g.n; i++)
        if (strcmp(g.a[i].type, "cost_spike") == 0 && strcmp(g.a[i].scope, "total") == 0) {
            if (!spike_id)
                spike_id = g.a[i].id;
            CHECK_STR(g.a[i].id, spike_id);
        }
    CHECK_INT(find(&g, "cost_spike", "firing", "team", "team=ml"), 0);
    br_pipeline_destroy(pl);
    br_config_destroy(conf);
    brp_sink_free(&g);
}

/* A burn-rate budget end to end: even spend is quiet, 2 % of the month in
 * an hour fires budget_burn_rate (critical: the highest factor), and a
 * pipeline restored from a snapshot taken while it fires resolves it under
 * the same id once the short window calms down. */
static void test_burn_rate_snapshot(void) {
    const char *yaml =
        "inputs:\n"
        "  - name: usage\n"
        "    topic: usage\n"
        "    dialect: custom\n"
        "    lateness: 0s\n"
        "    mapping: {time: ts, cost: cost, model: model, dims: {team: team}}\n"
        "budgets:\n"
        "  - name: ml-month\n"
        "    match: {team: ml}\n"
        "    amount: 7440\n"
        "    thresholds: [100]\n"
        "    burn_rates:\n"
        "      - {long: 1h, short: 5m, factor: 14.4}\n"
        "      - {long: 6h, short: 30m, factor: 6}\n";
    char err[512];
    br_config_t *conf = brp_config(yaml, "burn.yaml");
    if (!conf)
        return;
    /* January: 744 h, pace 10 an hour; 14.4 x pace x 1 h = 144. */
    brp_sink_t g;
    br_pipeline_t *pl = brp_start(conf, &g);
    offset = 0;
    int64_t t = T0 + 24 * H;
    for (int i = 0; i < 60; i++, t += 6 * 60000)
        feed(pl, t, "ml", "a", "1.00");
    CHECK_INT(g.n, 0);
    for (int i = 0; i < 10; i++, t += 6 * 60000)
        feed(pl, t, "ml", "a", "14.40");
    CHECK_INT(find(&g, "budget_burn_rate", "firing", "ml-month", "team=ml"),
              1);
    CHECK_INT(g.n, 1);
    CHECK(strstr(g.json.data, "\"severity\":\"critical\"") != NULL);
    char id[17];
    memcpy(id, g.a[0].id, 17);
    br_buf_t snap;
    br_buf_init(&snap);
    CHECK_INT(br_pipeline_save(pl, &snap), BR_ERR_OK);
    br_pipeline_destroy(pl);

    brp_sink_t g2;
    br_pipeline_t *p2 = brp_start(conf, &g2);
    br_restore_info_t info;
    memset(&info, 0, sizeof(info));
    CHECK_INT(br_pipeline_restore(p2, snap.data, snap.len, &info, err,
                                  sizeof(err)), BR_ERR_OK);
    CHECK_INT(info.dropped_budgets, 0);
    feed(p2, t, "ml", "a", "1.00");
    CHECK_INT(g2.n, 1);
    CHECK_INT(find(&g2, "budget_burn_rate", "resolved", "ml-month",
                   "team=ml"), 1);
    CHECK_STR(g2.a[0].id, id);
    CHECK_INT(g2.a[0].rev, 2);
    br_pipeline_destroy(p2);
    br_buf_free(&snap);
    brp_sink_free(&g);
    brp_sink_free(&g2);
    br_config_destroy(conf);
}

/* Issue 14, item 7: two records of 9e9 USD used to wrap the int64 total to
 * -446744072.71 USD. Sums are 128-bit now: totals, buckets, budget spend
 * and the snapshot keep 18e18 nanos exactly; one record beyond +/-9e9 (as
 * text, as a number, or priced from tokens) is a dead letter. */
static const char *BIG_CONF =
    "currency: USD\n"
    "inputs:\n"
    "  - name: usage\n"
    "    topic: usage\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    mapping:\n"
    "      time: ts\n"
    "      cost: cost\n"
    "      model: model\n"
    "      input_tokens: in\n"
    "      dims:\n"
    "        team: team\n"
    "scopes:\n"
    "  - name: total\n"
    "    dims: []\n"
    "  - name: team\n"
    "    dims: [team]\n"
    "spike:\n"
    "  bucket: 1h\n"
    "budgets:\n"
    "  - name: big\n"
    "    match:\n"
    "      team: ml\n"
    "    amount: 9000000000\n"
    "    period: day\n"
    "    thresholds: [100, 150, 200, 250]\n"
    "prices:\n"
    "  models:\n"
    "    dear:\n"
    "      input: 1000000\n"; /* 1 USD per token */

static void test_money_beyond_int64(void) {
    char err[512];
    br_config_t *conf = brp_config(BIG_CONF, "big.yaml");
    if (!conf)
        return;
    brp_sink_t g;
    br_pipeline_t *pl = brp_start(conf, &g);
    offset = 0;
    CHECK_INT(feed(pl, T0 + 60000, "ml", "a", "\"9000000000\""), BR_ERR_OK);
    CHECK_INT(feed(pl, T0 + 120000, "ml", "a", "\"9000000000\""), BR_ERR_OK);
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    CHECK(st.total_nanos == (br_money_t)18000000000 * U);
    char text[BR_MONEY_STR_MAX];
    br_money_format(st.total_nanos, text, sizeof text);
    CHECK_STR(text, "18000000000.00");
    /* The budget's spend is exact: 100 % at the first, 150 and 200 % at
     * the second record, and never 250 %. */
    CHECK_INT(brp_occurs(&g.json, "\"type\":\"budget_threshold\""), 3);
    CHECK_INT(brp_occurs(&g.json, "\"alertThresholdExceeded\":2.0000"), 1);
    CHECK_INT(brp_occurs(&g.json, "\"alertThresholdExceeded\":2.5000"), 0);
    CHECK_INT(brp_occurs(&g.json, "\"costAmount\":18000000000.00,"), 2);
    CHECK_INT(brp_occurs(&g.json, "\"costAmount\":9000000000.00,"), 1);

    /* One record beyond the bound: a dead letter, whatever its form. */
    CHECK_INT(feed(pl, T0 + 180000, "ml", "a", "\"9000000000.000000001\""),
              BR_ERR_RANGE);
    CHECK_INT(feed(pl, T0 + 180000, "ml", "a", "9000000001"), BR_ERR_RANGE);
    CHECK_INT(feed(pl, T0 + 180000, "ml", "a", "-9.1e9"), BR_ERR_RANGE);
    CHECK_INT(feed(pl, T0 + 180000, "ml", "a", "\"1e30\""), BR_ERR_RANGE);
    CHECK_INT(g.dead, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(g.dl[i].reason, BR_ERR_RANGE);
        CHECK(strstr(g.dl[i].detail, "per-record bound") != NULL);
    }
    /* Tokens x price: beyond int64, beyond the bound, at the bound. */
    CHECK_INT(feed_raw(pl, "{\"ts\":\"2025-01-01T00:05:00Z\",\"team\":\"web\","
                           "\"model\":\"dear\",\"in\":1000000000000}"),
              BR_ERR_RANGE);
    CHECK_INT(feed_raw(pl, "{\"ts\":\"2025-01-01T00:05:00Z\",\"team\":\"web\","
                           "\"model\":\"dear\",\"in\":9000000001}"),
              BR_ERR_RANGE);
    CHECK_INT(g.dead, 6);
    CHECK(strstr(g.dl[4].detail, "token counts overflow") != NULL);
    CHECK(strstr(g.dl[5].detail, "per-record bound") != NULL);
    CHECK_INT(feed_raw(pl, "{\"ts\":\"2025-01-01T00:05:00Z\",\"team\":\"web\","
                           "\"model\":\"dear\",\"in\":9000000000}"),
              BR_ERR_OK);
    br_pipeline_stats(pl, &st);
    CHECK(st.total_nanos == (br_money_t)27000000000 * U);
    CHECK_INT(st.dead_letters, 6);
    CHECK_INT(st.priced, 1);

    /* The snapshot keeps every digit: describe, restore, same bytes. */
    br_buf_t snap, again, json;
    br_buf_init(&snap);
    br_buf_init(&again);
    br_buf_init(&json);
    CHECK_INT(br_pipeline_save(pl, &snap), BR_ERR_OK);
    CHECK_INT(snap.data[0], 6); /* CORE layout 6 (128-bit money since 4) */
    CHECK_INT(br_pipeline_describe(snap.data, snap.len, &json, err, sizeof err),
              BR_ERR_OK);
    CHECK(strstr(json.data, "\"total\": \"27000000000.00\"}") != NULL);
    CHECK(strstr(json.data, "{\"team\": \"ml\"}, \"total\": "
                            "\"18000000000.00\"") != NULL);
    CHECK(strstr(json.data, "\"spent\": \"18000000000.00\"") != NULL);
    brp_sink_t g2;
    br_pipeline_t *pl2 = brp_start(conf, &g2);
    CHECK_INT(br_pipeline_restore(pl2, snap.data, snap.len, NULL, err,
                                  sizeof err), BR_ERR_OK);
    br_pipeline_stats_t st2;
    br_pipeline_stats(pl2, &st2);
    CHECK(st2.total_nanos == st.total_nanos);
    CHECK_INT(br_pipeline_save(pl2, &again), BR_ERR_OK);
    CHECK(snap.len == again.len && memcmp(snap.data, again.data, snap.len) == 0);
    /* A credit after the restore: the period goes back under 250 % and the
     * next 9e9 crosses it, once. */
    offset = 100;
    CHECK_INT(feed(pl2, T0 + 240000, "ml", "a", "\"-4500000000\""), BR_ERR_OK);
    CHECK_INT(feed(pl2, T0 + 300000, "ml", "a", "\"9000000000\""), BR_ERR_OK);
    CHECK_INT(brp_occurs(&g2.json, "\"alertThresholdExceeded\":2.5000"), 1);
    CHECK_INT(brp_occurs(&g2.json, "\"costAmount\":22500000000.00,"), 1);
    br_pipeline_finish(pl2);
    br_pipeline_stats(pl2, &st2);
    CHECK(st2.total_nanos == (br_money_t)31500000000 * U);
    CHECK_INT(g2.order_errors, 0);

    br_pipeline_destroy(pl2);
    brp_sink_free(&g2);
    br_buf_free(&snap);
    br_buf_free(&again);
    br_buf_free(&json);
    br_pipeline_destroy(pl);
    brp_sink_free(&g);
    br_config_destroy(conf);
}

int main(void) {
    test_workload();
    test_money_beyond_int64();
    test_early_with_lateness();
    test_series_cap();
    test_burn_rate_snapshot();
    return brt_done();
}
