/* Stale inputs with explicit wall-clock times: an input that takes nothing
 * for stale_after while live fires once, resolves on its next message, and
 * never fires in a pipeline nobody marked live (replay). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brtest.h"
#include "burnrate/avro.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/ts.h"

#define T0 INT64_C(1735689600000)   /* event time, 2025-01-01T00:00:00Z */
#define N0 INT64_C(1767225600000)   /* wall clock, 2026-01-01T00:00:00Z */
#define MAXA 16

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

typedef struct got {
    int n;
    br_alert_type_t type[MAXA];
    br_alert_status_t status[MAXA];
    unsigned rev[MAXA];
    char id[MAXA][17];
    char labels[MAXA][64];
    char detail[MAXA][64];
    int64_t start[MAXA], end[MAXA], event[MAXA];
    int64_t offset[MAXA];
    char json[MAXA][1024];
    int avro_errors;        /* alerts the built-in Avro schema refused */
} got_t;

static br_avro_encoder_t *enc;   /* schemas/alert.avsc */

static void on_alert(void *opaque, const br_alert_t *a) {
    got_t *g = opaque;
    if (g->n >= MAXA)
        return;
    int i = g->n++;
    g->type[i] = a->type;
    g->status[i] = a->status;
    g->rev[i] = a->revision;
    memcpy(g->id[i], a->id, 17);
    snprintf(g->labels[i], sizeof g->labels[i], "%s=%s",
             a->label_cnt ? a->labels[0].key : "-",
             a->label_cnt ? a->labels[0].value : "-");
    snprintf(g->detail[i], sizeof g->detail[i], "%s",
             a->detail ? a->detail : "-");
    g->start[i] = a->window_start_ms;
    g->end[i] = a->window_end_ms;
    g->event[i] = a->event_ms;
    g->offset[i] = a->source.offset;
    const char *names[] = {"usage", "billing"};
    br_buf_t b;
    br_buf_init(&b);
    br_alert_to_json(a, names, -1, &b);
    snprintf(g->json[i], sizeof g->json[i], "%.*s", (int)b.len,
             b.data ? b.data : "");
    br_buf_reset(&b);
    json_t *v = br_alert_to_value(a, names, 0);
    char why[256];
    if (br_avro_encode(enc, v, &b, why, sizeof why) != BR_ERR_OK) {
        fprintf(stderr, "avro: %s\n", why);
        g->avro_errors++;
    }
    json_decref(v);
    br_buf_free(&b);
}

static void on_dead(void *opaque, const br_origin_t *o, const void *p,
                    size_t len, br_err_t reason, const char *detail) {
    (void)opaque; (void)o; (void)p; (void)len; (void)reason; (void)detail;
}

static br_config_t *load(void) {
    char err[512];
    br_config_t *conf = br_config_load_string(CONF, "stale.yaml", NULL, err,
                                              sizeof err);
    if (!conf)
        fprintf(stderr, "config: %s\n", err);
    CHECK(conf != NULL);
    return conf;
}

static br_pipeline_t *start(const br_config_t *conf, got_t *g) {
    memset(g, 0, sizeof *g);
    br_sink_t sink = {on_alert, on_dead, g};
    char err[512];
    br_pipeline_t *pl = br_pipeline_new(conf, &sink, err, sizeof err);
    if (!pl)
        fprintf(stderr, "pipeline: %s\n", err);
    CHECK(pl != NULL);
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
    got_t g;
    br_pipeline_t *pl = start(conf, &g);
    br_pipeline_check_stale(pl, N0);
    deliver(pl, T0, N0, NULL);
    br_pipeline_check_stale(pl, N0 + 3600000);
    br_pipeline_check_stale(pl, N0 + 86400000);
    CHECK_INT(g.n, 0);
    br_pipeline_destroy(pl);
}

/* Live from N0 and silent: nothing at 59.999 s, one firing at 60 s, nothing
 * more while the silence lasts; billing has no stale_after and stays quiet. */
static void test_fires_once(const br_config_t *conf) {
    got_t g;
    br_pipeline_t *pl = start(conf, &g);
    br_pipeline_set_live(pl, 0, true, N0);
    br_pipeline_set_live(pl, 1, true, N0);
    br_pipeline_check_stale(pl, N0 + 59999);
    CHECK_INT(g.n, 0);
    br_pipeline_check_stale(pl, N0 + 60000);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.type[0], BR_ALERT_STALE_INPUT);
    CHECK_INT(g.status[0], BR_STATUS_FIRING);
    CHECK_INT(g.rev[0], 1);
    CHECK_STR(g.labels[0], "input=usage");
    CHECK_STR(g.detail[0], "usage");
    CHECK_INT(g.start[0], N0);          /* silent since it became live */
    CHECK_INT(g.end[0], N0 + 60000);
    CHECK_INT(g.event[0], N0);          /* no event ever: the silence start */
    CHECK_INT(g.offset[0], -1);
    CHECK(strstr(g.json[0], "\"type\":\"stale_input\"") != NULL);
    CHECK(strstr(g.json[0], "\"window\":{\"start\":\"2026-01-01T00:00:00Z\","
                            "\"end\":\"2026-01-01T00:01:00Z\"}") != NULL);
    CHECK(strstr(g.json[0], "\"source\":{\"input\":\"usage\"") != NULL);
    br_pipeline_check_stale(pl, N0 + 120000);
    br_pipeline_check_stale(pl, N0 + 86400000);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.avro_errors, 0);
    br_pipeline_destroy(pl);
}

/* Data, silence, data: the alert counts from the last message, names its
 * time and the newest event time, and resolves (revision 2, same id) on the
 * next message; the next silence is a new episode with a new id. */
static void test_resolves(const br_config_t *conf) {
    got_t g;
    br_pipeline_t *pl = start(conf, &g);
    br_pipeline_set_live(pl, 0, true, N0);
    deliver(pl, T0 + 5000, N0 + 500, NULL);
    deliver(pl, T0 + 3000, N0 + 1000, NULL);  /* older event, later arrival */
    br_pipeline_check_stale(pl, N0 + 60999);
    CHECK_INT(g.n, 0);
    br_pipeline_check_stale(pl, N0 + 61000);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.start[0], N0 + 1000);
    CHECK_INT(g.event[0], T0 + 5000);
    int64_t off = offset;
    deliver(pl, T0 + 9000, N0 + 90000, NULL);
    CHECK_INT(g.n, 2);
    CHECK_INT(g.type[1], BR_ALERT_STALE_INPUT);
    CHECK_INT(g.status[1], BR_STATUS_RESOLVED);
    CHECK_INT(g.rev[1], 2);
    CHECK_STR(g.id[1], g.id[0]);
    CHECK_INT(g.start[1], N0 + 1000);
    CHECK_INT(g.end[1], N0 + 90000);
    CHECK_INT(g.event[1], T0 + 9000);
    CHECK_INT(g.offset[1], off);            /* the message that ended it */
    deliver(pl, T0 + 9500, N0 + 91000, NULL);
    CHECK_INT(g.n, 2);                      /* resolved once */
    br_pipeline_check_stale(pl, N0 + 151000);
    CHECK_INT(g.n, 3);
    CHECK_INT(g.status[2], BR_STATUS_FIRING);
    CHECK(strcmp(g.id[2], g.id[0]) != 0);
    /* A dead letter shows the feed delivers: it resolves too. */
    deliver(pl, 0, N0 + 152000, "not json");
    CHECK_INT(g.n, 4);
    CHECK_INT(g.status[3], BR_STATUS_RESOLVED);
    CHECK_STR(g.id[3], g.id[2]);
    CHECK_INT(g.avro_errors, 0);
    br_pipeline_destroy(pl);
}

/* No assignment, no silence: while not live nothing fires; live again, the
 * silence is timed from then but still names the last message. The same
 * timeline gives the same ids. */
static void test_live_window(const br_config_t *conf) {
    got_t g, g2;
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
    CHECK_INT(g.start[0], N0 + 1000);   /* names the last message */
    br_pipeline_destroy(pl);

    br_pipeline_t *pl2 = start(conf, &g2);
    br_pipeline_set_live(pl2, 0, true, N0);
    deliver(pl2, T0, N0 + 1000, NULL);
    br_pipeline_set_live(pl2, 0, false, N0 + 2000);
    br_pipeline_set_live(pl2, 0, true, N0 + 600000);
    br_pipeline_check_stale(pl2, N0 + 700000);
    CHECK_INT(g2.n, 1);
    CHECK_STR(g2.id[0], g.id[0]);
    br_pipeline_destroy(pl2);
}

/* A restart while firing: the restored pipeline does not fire again once
 * live, and resolves the same id on the next message. A restart before the
 * firing fires with the id the first run would have used. */
static void test_restart(const br_config_t *conf) {
    got_t g, g2, g3;
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
    CHECK_INT(g2.status[0], BR_STATUS_RESOLVED);
    CHECK_INT(g2.rev[0], 2);
    CHECK_STR(g2.id[0], g.id[0]);
    CHECK_INT(g2.start[0], N0 + 1000);
    br_pipeline_destroy(pl2);

    br_pipeline_t *pl3 = start(conf, &g3);
    CHECK_INT(br_pipeline_restore(pl3, early.data, early.len, NULL, err,
                                  sizeof err), BR_ERR_OK);
    br_pipeline_set_live(pl3, 0, true, N0 + 300000);
    br_pipeline_check_stale(pl3, N0 + 359999);
    CHECK_INT(g3.n, 0);                 /* counts from the new assignment */
    br_pipeline_check_stale(pl3, N0 + 360000);
    CHECK_INT(g3.n, 1);
    CHECK_STR(g3.id[0], g.id[0]);       /* same episode, same id */
    br_pipeline_destroy(pl3);
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
