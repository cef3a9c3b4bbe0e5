/* Event time against the wall clock (inputs[].max_future): a record stamped
 * too far ahead is a FUTURE dead letter that moves nothing, so one hostile
 * timestamp cannot stop a later spike from alerting; the boundary, the off
 * switch, a record from 1970, and the config's errors and defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/ts.h"

#define H INT64_C(3600000)
#define T0 INT64_C(1735689600000) /* 2025-01-01T00:00:00Z */
#define NOW (T0 + 60 * H)         /* the wall clock of every test here */
#define HOSTILE "9999-12-31T00:00:00Z"

static const char *const CONF_HEAD =
    "currency: USD\n"
    "inputs:\n"
    "  - name: usage\n"
    "    topic: usage\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    max_future: ";
static const char *const CONF_TAIL =
    "\n"
    "    mapping:\n"
    "      time: ts\n"
    "      cost: cost\n"
    "      dims:\n"
    "        team: team\n"
    "scopes:\n"
    "  - name: total\n"
    "    dims: []\n"
    "  - name: team\n"
    "    dims: [team]\n"
    "spike:\n"
    "  bucket: 1h\n"
    "  min_impact: 5\n"
    "  warmup: 24\n"
    "  resolve_after: 2\n";

static br_config_t *load(const char *max_future) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s%s%s", CONF_HEAD, max_future, CONF_TAIL);
    return brp_config(yaml, "test.yaml");
}

static int spikes(const brp_sink_t *g) {
    return brp_count(g, "cost_spike", "firing", NULL);
}

static int64_t offset;

static br_err_t feed_ts(br_pipeline_t *pl, const char *ts, const char *cost) {
    return brp_feedf(pl, 0, "usage", offset++,
                     "{\"ts\":\"%s\",\"team\":\"ml\",\"cost\":%s}", ts, cost);
}

static br_err_t feed(br_pipeline_t *pl, int64_t t, const char *cost) {
    char ts[40];
    br_ts_format(t, ts, sizeof ts);
    return feed_ts(pl, ts, cost);
}

/* Two days flat, one hour at 50x, calm again; the hostile record (when
 * asked) comes after ten hours. */
static void workload(br_pipeline_t *pl, bool hostile) {
    offset = 0;
    for (int h = 0; h < 48; h++) {
        feed(pl, T0 + h * H + 30 * 60000, "1.00");
        if (hostile && h == 10)
            CHECK_INT(feed_ts(pl, HOSTILE, "1.00"),
                      BR_ERR_FUTURE);
    }
    feed(pl, T0 + 48 * H + 30 * 60000, "50.00");
    for (int h = 49; h < 55; h++)
        feed(pl, T0 + h * H + 30 * 60000, "1.00");
    br_pipeline_finish(pl);
}

/* The same alerts fired, in the same order. */
static int same_ids(const brp_sink_t *a, const brp_sink_t *b) {
    int i = 0, j = 0;
    for (;; i++, j++) {
        while (i < a->n && strcmp(a->a[i].status, "firing") != 0)
            i++;
        while (j < b->n && strcmp(b->a[j].status, "firing") != 0)
            j++;
        if (i == a->n || j == b->n)
            return i == a->n && j == b->n;
        if (strcmp(a->a[i].id, b->a[j].id) != 0)
            return 0;
    }
}

/* The regression: one record stamped 9999-12-31, then a spike. */
static void test_hostile_then_spike(void) {
    br_config_t *conf = load("1h");
    brp_sink_t clean, hostile, control, unguarded;

    br_pipeline_t *pl = brp_start(conf, &clean);
    br_pipeline_set_now(pl, NOW);
    workload(pl, false);
    br_pipeline_destroy(pl);
    CHECK(spikes(&clean) > 0);
    CHECK_INT(clean.dead, 0);

    pl = brp_start(conf, &hostile);
    br_pipeline_set_now(pl, NOW);
    workload(pl, true);
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    br_pipeline_destroy(pl);
    CHECK_INT(hostile.dead, 1);
    CHECK_INT(hostile.last_dead.reason, BR_ERR_FUTURE);
    CHECK_STR(br_err_name(hostile.last_dead.reason), "FUTURE");
    CHECK_INT(st.dead_letters, 1);
    CHECK(same_ids(&clean, &hostile));

    /* What it guards against: told no clock, the stage takes the record,
     * its watermark jumps to year 10000 and the spike is never judged. */
    pl = brp_start(conf, &control);
    workload(pl, false);
    br_pipeline_destroy(pl);
    pl = brp_start(conf, &unguarded);
    offset = 0;
    for (int h = 0; h < 11; h++)
        feed(pl, T0 + h * H + 30 * 60000, "1.00");
    CHECK_INT(feed_ts(pl, HOSTILE, "1.00"), BR_ERR_OK);
    for (int h = 11; h < 48; h++)
        feed(pl, T0 + h * H + 30 * 60000, "1.00");
    feed(pl, T0 + 48 * H + 30 * 60000, "50.00");
    br_pipeline_finish(pl);
    br_pipeline_destroy(pl);
    CHECK(spikes(&control) > 0);
    CHECK_INT(spikes(&unguarded), 0);
    brp_sink_free(&clean);
    brp_sink_free(&hostile);
    brp_sink_free(&control);
    brp_sink_free(&unguarded);
    br_config_destroy(conf);
}

/* A FUTURE record moves neither the watermark nor the max event time, in
 * the pipeline or in its snapshot; exactly max_future ahead is taken. */
static void test_boundary_and_snapshot(void) {
    br_config_t *conf = load("1h");
    brp_sink_t g;
    br_pipeline_t *pl = brp_start(conf, &g);
    br_pipeline_set_now(pl, NOW);
    offset = 0;
    CHECK_INT(feed(pl, NOW - 2 * H, "1.00"), BR_ERR_OK);
    br_pipeline_stats_t before, after;
    br_pipeline_stats(pl, &before);
    CHECK_INT(feed(pl, NOW + H + 1, "1.00"), BR_ERR_FUTURE);
    CHECK_STR(g.last_dead.detail, "event time 2025-01-03T13:00:00.001Z is 1h00m ahead "
                        "of the clock (2025-01-03T12:00:00Z), more than "
                        "input \"usage\" allows (max_future 1h00m)");
    CHECK_INT(feed_ts(pl, HOSTILE, "1.00"), BR_ERR_FUTURE);
    CHECK(strstr(g.last_dead.detail, "is 2912804d ahead") != NULL);
    br_pipeline_stats(pl, &after);
    CHECK_INT(after.max_event_ms, before.max_event_ms);
    CHECK_INT(after.watermark_ms, before.watermark_ms);
    CHECK_INT(after.ok, before.ok);
    CHECK_INT(after.dead_letters, 2);
    br_pipeline_input_stats_t is;
    br_pipeline_input_stats(pl, 0, &is);
    CHECK_INT(is.dead_by_reason[BR_ERR_FUTURE], 2);

    br_buf_t snap;
    br_buf_init(&snap);
    CHECK_INT(br_pipeline_save(pl, &snap), BR_ERR_OK);
    brp_sink_t g2;
    br_pipeline_t *back = brp_start(conf, &g2);
    br_restore_info_t info;
    char err[256];
    CHECK_INT(br_pipeline_restore(back, snap.data, snap.len, &info, err,
                                  sizeof err), BR_ERR_OK);
    br_pipeline_stats(back, &after);
    CHECK_INT(after.max_event_ms, NOW - 2 * H);
    CHECK_INT(after.watermark_ms, before.watermark_ms);
    br_pipeline_destroy(back);
    brp_sink_free(&g2);
    br_buf_free(&snap);

    /* Exactly max_future ahead is taken, and moves the watermark. */
    CHECK_INT(feed(pl, NOW + H, "1.00"), BR_ERR_OK);
    br_pipeline_stats(pl, &after);
    CHECK_INT(after.max_event_ms, NOW + H);
    br_pipeline_destroy(pl);
    brp_sink_free(&g);
    br_config_destroy(conf);
}

/* max_future: 0 is off (a synthetic future replayed on purpose). A record
 * from 1970 is no threat to the watermark: it is late, and counted. */
static void test_off_and_past(void) {
    br_config_t *conf = load("0");
    CHECK_INT(conf->inputs[0].max_future_ms, 0);
    brp_sink_t g;
    br_pipeline_t *pl = brp_start(conf, &g);
    br_pipeline_set_now(pl, NOW);
    offset = 0;
    CHECK_INT(feed(pl, NOW, "1.00"), BR_ERR_OK);
    CHECK_INT(feed_ts(pl, "1970-01-01T00:00:00Z", "2.00"), BR_ERR_OK);
    CHECK_INT(feed_ts(pl, "0000-01-01T00:00:00Z", "3.00"), BR_ERR_OK);
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    CHECK_INT(st.late, 2);
    CHECK_INT(st.max_event_ms, NOW);
    CHECK_INT(feed_ts(pl, HOSTILE, "1.00"), BR_ERR_OK);
    CHECK_INT(g.dead, 0);
    br_pipeline_destroy(pl);
    brp_sink_free(&g);
    br_config_destroy(conf);
}

static void test_config(void) {
    char err[512];
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s%s%s", CONF_HEAD, "soon", CONF_TAIL);
    CHECK(br_config_load_string(yaml, "test.yaml", NULL, err, sizeof err) ==
          NULL);
    CHECK(strstr(err, "test.yaml:7: inputs[0].max_future: must be a "
                      "duration") != NULL);

    /* Metadata other than the record's timestamp is not a field path. */
    const char *bad =
        "currency: USD\n"
        "inputs:\n"
        "  - name: raw\n"
        "    topic: raw\n"
        "    dialect: anthropic\n"
        "    mapping:\n"
        "      time: $kafka.offset\n";
    CHECK(br_config_load_string(bad, "test.yaml", NULL, err, sizeof err) ==
          NULL);
    CHECK(strstr(err, "test.yaml:7: inputs[0].mapping.time: \"$kafka.offset\""
                      " is no record metadata") != NULL);

    /* Defaults: 15m for token events, 1d for billing rows; dumped. */
    const char *two =
        "currency: USD\n"
        "inputs:\n"
        "  - name: raw\n"
        "    topic: raw\n"
        "    dialect: anthropic\n"
        "    mapping:\n"
        "      time: $kafka.timestamp\n"
        "  - name: bill\n"
        "    topic: bill\n"
        "    dialect: focus\n";
    br_config_t *conf = br_config_load_string(two, "test.yaml", NULL, err,
                                              sizeof err);
    CHECK(conf != NULL);
    if (!conf) {
        fprintf(stderr, "config: %s\n", err);
        return;
    }
    CHECK_INT(conf->inputs[0].max_future_ms, 15 * 60000);
    CHECK_INT(conf->inputs[1].max_future_ms, 24 * H);
    CHECK_STR(conf->inputs[0].mapping.time, "$kafka.timestamp");
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    br_config_dump(conf, fp);
    fclose(fp);
    CHECK(strstr(text, "max_future: 15m") != NULL);
    CHECK(strstr(text, "max_future: 1d") != NULL);
    free(text);
    br_config_destroy(conf);
}

int main(void) {
    test_hostile_then_spike();
    test_boundary_and_snapshot();
    test_off_and_past();
    test_config();
    return brt_done();
}
