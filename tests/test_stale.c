/* Stale inputs with explicit wall-clock times: an input that takes nothing
 * for stale_after while live fires once, resolves on its next message, and
 * never fires in a pipeline nobody marked live (replay). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/avro.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/ts.h"

#define T0 INT64_C(1735689600000)   /* event time, 2025-01-01T00:00:00Z */
#define N0 INT64_C(1767225600000)   /* wall clock, 2026-01-01T00:00:00Z */

static const char *CONF =
    "currency: USD\n"
    "inputs:\n"
    "  - name: usage\n"
    "    topic: usage\n"
    "    dialect: custom\n"
    "    stale_after: 60s\n"
    "    mapping:\n"
    "      time: ts\n"
    "      cost: cost\n"
    "  - name: billing\n"
    "    topic: billing\n"
    "    dialect: focus\n"
    "scopes:\n"
    "  - name: total\n";

static br_avro_encoder_t *enc;   /* schemas/alert.avsc */
static int avro_errors;          /* alerts the built-in Avro schema refused */
static const char *names[] = {"usage", "billing"};

static void encode(void *opaque, const br_alert_t *a) {
    (void)opaque;
    br_buf_t b;
    br_buf_init(&b);
    json_t *v = br_alert_to_value(a, names, 0);
    char why[256];
    if (br_avro_encode(enc, v, &b, why, sizeof why) != BR_ERR_OK) {
        fprintf(stderr, "avro: %s\n", why);
        avro_errors++;
    }
    json_decref(v);
    br_buf_free(&b);
}

static br_config_t *load(void) {
    return brp_config(CONF, "stale.yaml");
}

/* Alerts in JSON with the input names, each also Avro-encoded. */
static br_pipeline_t *start(const br_config_t *conf, brp_sink_t *g) {
    br_pipeline_t *pl = brp_start(conf, g);
    g->input_names = names;
    g->also = encode;
    avro_errors = 0;
    return pl;
}

static int64_t offset;

/* A message of input 0 taken at wall time now: fed, then noted, as the
 * daemon does. */
static void deliver(br_pipeline_t *pl, int64_t event_ms, int64_t now,
                    const char *raw) {
    char ts[40], msg[256];
    br_ts_format(event_ms, ts, sizeof ts);
    snprintf(msg, sizeof msg, "{\"ts\":\"%s\",\"cost\":1.5}", ts);
    if (raw)
        snprintf(msg, sizeof msg, "%s", raw);
    br_origin_t o = {.input = 0, .topic = "usage", .partition = 0,
                     .offset = offset++};
    br_pipeline_feed(pl, &o, msg, strlen(msg));
    br_pipeline_note_arrival(pl, &o, now);
}

/* Replay never marks an input live: no silence, however long, fires. */
static void test_never_live(const br_config_t *conf) {
    brp_sink_t g;
    br_pipeline_t *pl = start(conf, &g);
    br_pipeline_check_stale(pl, N0);
    deliver(pl, T0, N0, NULL);
    br_pipeline_check_stale(pl, N0 + 3600000);
    br_pipeline_check_stale(pl, N0 + 86400000);
    CHECK_INT(g.n, 0);
    br_pipeline_destroy(pl);
    brp_sink_free(&g);
}

/* Live from N0 and silent: nothing at 59.999 s, one firing at 60 s, nothing
 * more while the silence lasts; billing has no stale_after and stays quiet. */
static void test_fires_once(const br_config_t *conf) {
    brp_sink_t g;
    br_pipeline_t *pl = start(conf, &g);
    br_pipeline_set_live(pl, 0, true, N0);
    br_pipeline_set_live(pl, 1, true, N0);
    br_pipeline_check_stale(pl, N0 + 59999);
    CHECK_INT(g.n, 0);
    br_pipeline_check_stale(pl, N0 + 60000);
    CHECK_INT(g.n, 1);
    CHECK_STR(g.a[0].type, br_alert_type_name(BR_ALERT_STALE_INPUT));
    CHECK_STR(g.a[0].status, br_alert_status_name(BR_STATUS_FIRING));
    CHECK_INT(g.a[0].rev, 1);
    CHECK_STR(g.a[0].labels, "input=usage");
    CHECK_STR(g.a[0].detail, "usage");
    CHECK_INT(g.a[0].start, N0);    /* silent since it became live */
    CHECK_INT(g.a[0].end, N0 + 60000);
    CHECK_INT(g.a[0].event, N0);    /* no event ever: the silence start */
    CHECK_INT(g.a[0].offset, -1);
    CHECK(strstr(g.a[0].json, "\"type\":\"stale_input\"") != NULL);
    CHECK(strstr(g.a[0].json, "\"window\":{\"start\":\"2026-01-01T00:00:00Z\","
                                 "\"end\":\"2026-01-01T00:01:00Z\"}") != NULL);
    CHECK(strstr(g.a[0].json, "\"source\":{\"input\":\"usage\"") != NULL);
    br_pipeline_check_stale(pl, N0 + 120000);
    br_pipeline_check_stale(pl, N0 + 86400000);
    CHECK_INT(g.n, 1);
    CHECK_INT(avro_errors, 0);
    br_pipeline_destroy(pl);
    brp_sink_free(&g);
}

/* Data, silence, data: the alert counts from the last message, names its
 * time and the newest event time, and resolves (revision 2, same id) on the
 * next message; the next silence is a new episode with a new id. */
static void test_resolves(const br_config_t *conf) {
    brp_sink_t g;
    br_pipeline_t *pl = start(conf, &g);
    br_pipeline_set_live(pl, 0, true, N0);
    deliver(pl, T0 + 5000, N0 + 500, NULL);
    deliver(pl, T0 + 3000, N0 + 1000, NULL);  /* older event, later arrival */
    br_pipeline_check_stale(pl, N0 + 60999);
    CHECK_INT(g.n, 0);
    br_pipeline_check_stale(pl, N0 + 61000);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.a[0].start, N0 + 1000);
    CHECK_INT(g.a[0].event, T0 + 5000);
    int64_t off = offset;
    deliver(pl, T0 + 9000, N0 + 90000, NULL);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.a[1].type, br_alert_type_name(BR_ALERT_STALE_INPUT));
    CHECK_STR(g.a[1].status, br_alert_status_name(BR_STATUS_RESOLVED));
    CHECK_INT(g.a[1].rev, 2);
    CHECK_STR(g.a[1].id, g.a[0].id);
    CHECK_INT(g.a[1].start, N0 + 1000);
    CHECK_INT(g.a[1].end, N0 + 90000);
    CHECK_INT(g.a[1].event, T0 + 9000);
    CHECK_INT(g.a[1].offset, off);      /* the message that ended it */
    deliver(pl, T0 + 9500, N0 + 91000, NULL);
    CHECK_INT(g.n, 2);                      /* resolved once */
    br_pipeline_check_stale(pl, N0 + 151000);
    CHECK_INT(g.n, 3);
    CHECK_STR(g.a[2].status, br_alert_status_name(BR_STATUS_FIRING));
    CHECK(strcmp(g.a[2].id, g.a[0].id) != 0);
    /* A dead letter shows the feed delivers: it resolves too. */
    deliver(pl, 0, N0 + 152000, "not json");
    CHECK_INT(g.n, 4);
    CHECK_STR(g.a[3].status, br_alert_status_name(BR_STATUS_RESOLVED));
    CHECK_STR(g.a[3].id, g.a[2].id);
    CHECK_INT(avro_errors, 0);
    br_pipeline_destroy(pl);
    brp_sink_free(&g);
}

/* No assignment, no silence: while not live nothing fires; live again, the
 * silence is timed from then but still names the last message. The same
 * timeline gives the same ids. */
static void test_live_window(const br_config_t *conf) {
    brp_sink_t g, g2;
    br_pipeline_t *pl = start(conf, &g);
    br_pipeline_set_live(pl, 0, true, N0);
    deliver(pl, T0, N0 + 1000, NULL);
    br_pipeline_set_live(pl, 0, false, N0 + 2000);
    br_pipeline_check_stale(pl, N0 + 600000);
    CHECK_INT(g.n, 0);
    br_pipeline_set_live(pl, 0, true, N0 + 600000);
    br_pipeline_set_live(pl, 0, true, N0 + 630000);   /* still live: no reset */
    br_pipeline_check_stale(pl, N0 + 659999);
    CHECK_INT(g.n, 0);
    br_pipeline_check_stale(pl, N0 + 660000);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.a[0].start, N0 + 1000); /* names the last message */
    br_pipeline_destroy(pl);

    br_pipeline_t *pl2 = start(conf, &g2);
    br_pipeline_set_live(pl2, 0, true, N0);
    deliver(pl2, T0, N0 + 1000, NULL);
    br_pipeline_set_live(pl2, 0, false, N0 + 2000);
    br_pipeline_set_live(pl2, 0, true, N0 + 600000);
    br_pipeline_check_stale(pl2, N0 + 700000);
    CHECK_INT(g2.n, 1);
    CHECK_STR(g2.a[0].id, g.a[0].id);
    br_pipeline_destroy(pl2);
    brp_sink_free(&g);
    brp_sink_free(&g2);
}

/* A restart while firing: the restored pipeline does not fire again once
 * live, and resolves the same id on the next message. A restart before the
 * firing fires with the id the first run would have used. */
static void test_restart(const br_config_t *conf) {
    brp_sink_t g, g2, g3;
    br_buf_t snap, early;
    br_buf_init(&snap);
    br_buf_init(&early);
    br_pipeline_t *pl = start(conf, &g);
    br_pipeline_set_live(pl, 0, true, N0);
    deliver(pl, T0, N0 + 1000, NULL);
    CHECK_INT(br_pipeline_save(pl, &early), BR_ERR_OK);
    br_pipeline_check_stale(pl, N0 + 61000);
    CHECK_INT(g.n, 1);
    CHECK_INT(br_pipeline_save(pl, &snap), BR_ERR_OK);
    br_pipeline_destroy(pl);

    char err[256];
    br_buf_t desc;
    br_buf_init(&desc);
    CHECK_INT(br_pipeline_describe(snap.data, snap.len, &desc, err,
                                   sizeof err), BR_ERR_OK);
    CHECK(desc.data && strstr(desc.data, "\"stale_inputs\": [\n  {\"input\": "
                              "\"usage\", \"since\": \"2026-01-01T00:00:01Z\", "
                              "\"alert_open\": true},\n  {\"input\": "
                              "\"billing\", \"since\": null, \"alert_open\": "
                              "false}]") != NULL);
    br_buf_free(&desc);
    br_pipeline_t *pl2 = start(conf, &g2);
    CHECK_INT(br_pipeline_restore(pl2, snap.data, snap.len, NULL, err,
                                  sizeof err), BR_ERR_OK);
    br_pipeline_set_live(pl2, 0, true, N0 + 300000);
    br_pipeline_check_stale(pl2, N0 + 900000);
    CHECK_INT(g2.n, 0);
    deliver(pl2, T0 + 1000, N0 + 901000, NULL);
    CHECK_INT(g2.n, 1);
    CHECK_STR(g2.a[0].status, br_alert_status_name(BR_STATUS_RESOLVED));
    CHECK_INT(g2.a[0].rev, 2);
    CHECK_STR(g2.a[0].id, g.a[0].id);
    CHECK_INT(g2.a[0].start, N0 + 1000);
    br_pipeline_destroy(pl2);

    br_pipeline_t *pl3 = start(conf, &g3);
    CHECK_INT(br_pipeline_restore(pl3, early.data, early.len, NULL, err,
                                  sizeof err), BR_ERR_OK);
    br_pipeline_set_live(pl3, 0, true, N0 + 300000);
    br_pipeline_check_stale(pl3, N0 + 359999);
    CHECK_INT(g3.n, 0);                 /* counts from the new assignment */
    br_pipeline_check_stale(pl3, N0 + 360000);
    CHECK_INT(g3.n, 1);
    CHECK_STR(g3.a[0].id, g.a[0].id);   /* same episode, same id */
    br_pipeline_destroy(pl3);
    brp_sink_free(&g);
    brp_sink_free(&g2);
    brp_sink_free(&g3);
    br_buf_free(&snap);
    br_buf_free(&early);
}

int main(void) {
    char err[256];
    br_avro_schema_t *schema = br_avro_schema_parse(
        br_alert_avsc, strlen(br_alert_avsc), err, sizeof err);
    enc = schema ? br_avro_encoder_new(schema, err, sizeof err) : NULL;
    CHECK(enc != NULL);
    br_config_t *conf = load();
    if (!conf || !enc)
        return brt_done();
    test_never_live(conf);
    test_fires_once(conf);
    test_resolves(conf);
    test_live_window(conf);
    test_restart(conf);
    br_config_destroy(conf);
    br_avro_encoder_free(enc);
    br_avro_schema_free(schema);
    return brt_done();
}
