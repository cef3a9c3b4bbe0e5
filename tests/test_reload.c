/* SIGHUP reload, pure half: the state moves into a pipeline built from the
 * new config (kept series keep their totals, new scopes start empty,
 * removed ones go, changed budgets keep or restart), and a change that
 * needs a restart is refused naming file, line and key, never a value. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/reload.h"

#define HEAD                                                                  \
    "currency: USD\n"                                                         \
    "inputs:\n"                                                               \
    "  - name: usage\n"                                                       \
    "    topic: usage\n"                                                      \
    "    dialect: custom\n"                                                   \
    "    mapping:\n"                                                          \
    "      time: ts\n"                                                        \
    "      cost: cost\n"                                                      \
    "      dims: {team: team, model: model}\n"                                \
    "kafka:\n"                                                                \
    "  brokers: localhost:9092\n"                                             \
    "  properties:\n"                                                         \
    "    sasl.password: hunter2-SECRET\n"

/* The running config: three scopes, two budgets. */
static const char *CONF_A =
    HEAD
    "scopes:\n"
    "  - name: total\n"
    "  - {name: team, dims: [team]}\n"
    "  - {name: model, dims: [model]}\n"
    "budgets:\n"
    "  - {name: all, amount: 100, period: month}\n"
    "  - {name: ml, match: {team: ml}, amount: 50, period: month}\n";

/* Reloaded: model removed, team_model added, all's amount doubled, ml
 * weekly (another period: it restarts). */
static const char *CONF_B =
    HEAD
    "scopes:\n"
    "  - name: total\n"
    "  - {name: team, dims: [team]}\n"
    "  - {name: team_model, dims: [team, model]}\n"
    "budgets:\n"
    "  - {name: all, amount: 200, period: month}\n"
    "  - {name: ml, match: {team: ml}, amount: 50, period: week}\n";

static brp_sink_t got;          /* every pipeline's alerts and dead letters */

static br_config_t *load(const char *yaml) {
    return brp_config(yaml, "reload.yaml");
}

static int64_t next_offset;

static void feed(br_pipeline_t *pl, const char *ts, const char *team,
                 const char *model, const char *cost) {
    CHECK_INT(brp_feedf(pl, 0, "usage", next_offset++,
                        "{\"ts\": \"%s\", \"cost\": %s, \"team\": \"%s\", \"model\": \"%s\"}",
                        ts, cost, team, model), BR_ERR_OK);
}

/* Total of the series of scope with labels (JSON text), or "absent". */
static const char *total(json_t *doc, const char *scope, const char *labels) {
    static char out[64];
    json_t *want = json_loads(labels, 0, NULL);
    size_t i;
    json_t *s;

    snprintf(out, sizeof out, "absent");
    json_array_foreach(json_object_get(doc, "series"), i, s) {
        if (strcmp(json_string_value(json_object_get(s, "scope")), scope) == 0 &&
            json_equal(json_object_get(s, "labels"), want))
            snprintf(out, sizeof out, "%s",
                     json_string_value(json_object_get(s, "total")));
    }
    json_decref(want);
    return out;
}

static size_t scope_series(json_t *doc, const char *scope) {
    size_t i, n = 0;
    json_t *s;
    json_array_foreach(json_object_get(doc, "series"), i, s) {
        if (strcmp(json_string_value(json_object_get(s, "scope")), scope) == 0)
            n++;
    }
    return n;
}

/* The spent of budget name's newest period, or "absent". */
static const char *spent(json_t *doc, const char *name) {
    static char out[64];
    size_t i;
    json_t *b;

    snprintf(out, sizeof out, "absent");
    json_array_foreach(json_object_get(doc, "budgets"), i, b) {
        json_t *periods = json_object_get(b, "periods");
        size_t n = json_array_size(periods);
        if (strcmp(json_string_value(json_object_get(b, "name")), name) == 0 && n)
            snprintf(out, sizeof out, "%s",
                     json_string_value(json_object_get(
                         json_array_get(periods, n - 1), "spent")));
    }
    return out;
}

static void test_good_reload(void) {
    br_sink_t sink = brp_sink(&got);
    br_config_t *a = load(CONF_A), *b = load(CONF_B);
    br_pipeline_t *pl, *npl;
    br_reload_info_t info;
    char err[1024];
    json_t *doc;

    CHECK(a && b);
    if (!a || !b)
        goto out_conf;
    CHECK_INT(br_reload_check(a, b, err, sizeof err), BR_ERR_OK);
    pl = br_pipeline_new(a, &sink, err, sizeof err);
    CHECK(pl != NULL);
    if (!pl)
        goto out_conf;
    feed(pl, "2025-03-03T01:00:00Z", "ml", "gpt-4o", "10");
    feed(pl, "2025-03-03T02:00:00Z", "ml", "claude", "5");
    feed(pl, "2025-03-03T03:00:00Z", "web", "gpt-4o", "2.5");

    npl = br_reload_pipeline(pl, a, b, &sink, &info, err, sizeof err);
    CHECK(npl != NULL);
    if (!npl) {
        fprintf(stderr, "reload: %s\n", err);
        br_pipeline_destroy(pl);
        goto out_conf;
    }
    /* total 1 + team 2 kept; model's 2 series dropped with their scope. */
    CHECK_INT(info.restore.series, 3);
    CHECK_INT(info.restore.dropped_series, 2);
    CHECK_INT(info.restore.dropped_scopes, 1);
    CHECK_INT(info.restore.dropped_budgets, 1);   /* ml: month -> week */
    CHECK_INT(info.scopes_added, 1);
    CHECK_INT(info.scopes_removed, 1);
    CHECK_INT(info.budgets_added, 0);
    CHECK_INT(info.budgets_removed, 0);
    CHECK_INT(info.budgets_changed, 2);

    /* The old pipeline is untouched and can still be destroyed alone. */
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    CHECK_INT(st.ok, 3);
    br_pipeline_destroy(pl);

    br_pipeline_stats(npl, &st);
    CHECK_INT(st.ok, 3);
    /* The per-input counters behind /metrics carry over too. */
    br_pipeline_input_stats_t ist;
    br_pipeline_input_stats(npl, 0, &ist);
    CHECK_INT(ist.messages, 3);
    CHECK_INT(ist.ok, 3);
    CHECK_INT(st.messages, 3);
    feed(npl, "2025-03-03T04:00:00Z", "ml", "gpt-4o", "1");
    feed(npl, "2025-03-03T05:00:00Z", "web", "claude", "0.25");

    doc = brp_describe(npl);
    CHECK(doc != NULL);
    /* Kept series: old and new spend, each once. */
    CHECK_STR(total(doc, "total", "{}"), "18.75");
    CHECK_STR(total(doc, "team", "{\"team\": \"ml\"}"), "16.00");
    CHECK_STR(total(doc, "team", "{\"team\": \"web\"}"), "2.75");
    /* The new scope counts only what came after the reload. */
    CHECK_INT(scope_series(doc, "team_model"), 2);
    CHECK_STR(total(doc, "team_model", "{\"team\": \"ml\", \"model\": \"gpt-4o\"}"),
              "1.00");
    CHECK_STR(total(doc, "team_model", "{\"team\": \"web\", \"model\": \"claude\"}"),
              "0.25");
    /* The removed scope is gone. */
    CHECK_INT(scope_series(doc, "model"), 0);
    /* all kept its period (amount only changed): everything; ml restarted
     * weekly: only the ml spend after the reload. */
    CHECK_STR(spent(doc, "all"), "18.75");
    CHECK_STR(spent(doc, "ml"), "1.00");
    json_decref(doc);
    br_pipeline_destroy(npl);
out_conf:
    br_config_destroy(a);
    br_config_destroy(b);
}

/* Replace the first occurrence of from in base by to (a new string). */
static char *edit(const char *base, const char *from, const char *to) {
    const char *at = strstr(base, from);
    size_t n = strlen(base) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    if (!at || !out) {
        free(out);
        return NULL;
    }
    snprintf(out, n, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
    return out;
}

static void refused(const char *from, const char *to, const char *want) {
    char *text = edit(CONF_A, from, to);
    br_config_t *a = load(CONF_A), *b = text ? load(text) : NULL;
    char err[1024];

    CHECK(a && b);
    if (a && b) {
        CHECK_INT(br_reload_check(a, b, err, sizeof err), BR_ERR_CONFIG);
        if (!strstr(err, want)) {
            fprintf(stderr, "refusal \"%s\" lacks \"%s\"\n", err, want);
            CHECK(0);
        }
        CHECK(strstr(err, "needs a restart") || strstr(err, "need a restart"));
        CHECK(!strstr(err, "hunter2"));
    }
    br_config_destroy(a);
    br_config_destroy(b);
    free(text);
}

static void test_refusals(void) {
    /* Lines of the new file: kafka.brokers is line 11, sasl.password 13. */
    refused("currency: USD\n", "currency: USD\nspike: {bucket: 30m}\n",
            "reload.yaml:2: spike.bucket: changed");
    refused("localhost:9092", "otherhost:9092",
            "reload.yaml:11: kafka.brokers: changed");
    refused("hunter2-SECRET", "hunter3-SECRET",
            "reload.yaml:13: kafka.properties.sasl.password: changed");
    refused("    sasl.password: hunter2-SECRET\n",
            "    sasl.password: hunter2-SECRET\n    client.rack: r1\n",
            "reload.yaml:14: kafka.properties.client.rack: added");
    refused("    topic: usage\n", "    topics: [usage, usage2]\n",
            "reload.yaml:4: inputs[0].topics: changed (input usage)");
    refused("currency: USD\n", "currency: EUR\n",
            "reload.yaml:1: currency: changed");
    refused("scopes:\n", "http: {listen: \"127.0.0.1:0\"}\nscopes:\n",
            "reload.yaml:14: http.listen: changed");
    refused("scopes:\n", "state: {dir: /elsewhere}\nscopes:\n",
            "reload.yaml:14: state.dir: changed");
    /* Two at once: both named, counted once. */
    char *two = edit(CONF_A, "localhost:9092", "h:1");
    char *twice = two ? edit(two, "currency: USD\n", "currency: USD\nspike: {bucket: 2h}\n")
                      : NULL;
    br_config_t *a = load(CONF_A), *b = twice ? load(twice) : NULL;
    char err[1024];
    CHECK(a && b);
    if (a && b) {
        CHECK_INT(br_reload_check(a, b, err, sizeof err), BR_ERR_CONFIG);
        CHECK(strstr(err, "kafka.brokers: changed") != NULL);
        CHECK(strstr(err, "spike.bucket: changed") != NULL);
        CHECK(strstr(err, "(2 keys need a restart") != NULL);
    }
    br_config_destroy(a);
    br_config_destroy(b);
    free(two);
    free(twice);
}

/* What applies live: scopes, budgets, spike rules, lateness, snapshot
 * cadence, log settings, inputs without topics. */
static void test_live_changes(void) {
    char *t1 = edit(CONF_A, "scopes:\n",
                    "spike: {sensitivity: 6}\nstate: {snapshot_interval: 5s, keep: 5}\n"
                    "log: {level: debug, format: json}\nscopes:\n");
    char *t2 = t1 ? edit(t1, "model: model}\n",
                         "model: model}\n    lateness: 2h\n"
                         "  - name: files_only\n    files: [x.jsonl]\n"
                         "    dialect: openai\n")
                  : NULL;
    br_config_t *a = load(CONF_A), *b = t2 ? load(t2) : NULL;
    char err[1024];
    CHECK(a && b);
    if (a && b) {
        CHECK_INT(br_reload_check(a, b, err, sizeof err), BR_ERR_OK);
        CHECK_INT(b->log_format, BR_LOG_FORMAT_JSON);
    }
    br_config_destroy(a);
    br_config_destroy(b);
    free(t1);
    free(t2);
}

/* A config that validates but cannot build a pipeline leaves the running
 * one as it was. */
static void test_bad_pipeline(void) {
    br_sink_t sink = brp_sink(&got);
    char *text = edit(CONF_A, "amount: 100, period: month}",
                      "amount: 100, currency: EUR, period: month}");
    br_config_t *a = load(CONF_A), *b = text ? load(text) : NULL;
    br_reload_info_t info;
    char err[1024];
    br_pipeline_t *pl = a ? br_pipeline_new(a, &sink, err, sizeof err) : NULL;

    CHECK(pl && b);
    if (pl && b) {
        feed(pl, "2025-03-03T01:00:00Z", "ml", "gpt-4o", "10");
        CHECK(br_reload_pipeline(pl, a, b, &sink, &info, err, sizeof err) == NULL);
        CHECK(strstr(err, "budgets.all.currency") != NULL);
        feed(pl, "2025-03-03T02:00:00Z", "ml", "gpt-4o", "1");
        json_t *doc = brp_describe(pl);
        CHECK_STR(total(doc, "total", "{}"), "11.00");
        json_decref(doc);
    }
    br_pipeline_destroy(pl);
    br_config_destroy(a);
    br_config_destroy(b);
    free(text);
}

/* A config with a mistake is refused by the loader before any of this:
 * file, line and key. */
static void test_bad_config(void) {
    char err[512];
    char *text = edit(CONF_A, "amount: 100,", "amount: lots,");
    br_config_t *b = text ? br_config_load_string(text, "reload.yaml", NULL,
                                                  err, sizeof err)
                          : NULL;
    CHECK(b == NULL);
    CHECK(strstr(err, "reload.yaml:19: budgets[0].amount: ") != NULL);
    br_config_destroy(b);
    free(text);
}

int main(void) {
    brp_sink_init(&got);
    test_good_reload();
    test_refusals();
    test_live_changes();
    test_bad_pipeline();
    test_bad_config();
    CHECK_INT(got.dead, 0);
    brp_sink_free(&got);
    return brt_done();
}
