/* The life of spike and drop incidents through the pure core, as a router
 * sees it: every transition (firing, updated, resolved, cooldown reopen),
 * severity tiers, drops, grouping of children under a parent's alert,
 * contributors, and the incident state across a snapshot. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/ts.h"

#define U INT64_C(1000000000)
#define H INT64_C(3600000)
#define M INT64_C(60000)
#define T0 INT64_C(1736121600000) /* 2025-01-06T00:00:00Z, a Monday */

static const char *TEAM = "  - name: team\n    dims: [team]\n";
static const char *TEAM_MODEL = "  - name: team\n    dims: [team]\n"
                                "  - name: team_model\n    dims: [team, model]\n";

/* spike settings are explicit (warmup included), so the tests hold
 * whatever the defaults become. */
static br_config_t *conf_new(const char *scopes, const char *spike) {
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
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
             "      dims:\n"
             "        team: team\n"
             "scopes:\n%s"
             "spike:\n"
             "  bucket: 1h\n"
             "  warmup: 48\n"
             "  sensitivity: 4\n"
             "  min_ratio: 1.5\n"
             "  resolve_after: 2\n"
             "%s",
             scopes, spike);
    return brp_config(yaml, "lifecycle.yaml");
}

static int64_t offset;

static void feed(br_pipeline_t *pl, int64_t t, const char *team,
                 const char *model, double cost) {
    char ts[40];
    br_ts_format(t, ts, sizeof ts);
    CHECK_INT(brp_feedf(pl, 0, "usage", offset++,
                        "{\"ts\":\"%s\",\"team\":\"%s\",\"model\":\"%s\",\"cost\":%.2f}",
                        ts, team, model, cost), BR_ERR_OK);
}

/* A steady hourly pattern: each flow spends its cost at :30 of every hour
 * in [from_h, to_h). */
typedef struct flow {
    const char *team, *model;
    double cost;
} flow_t;

static void steady(br_pipeline_t *pl, const flow_t *f, size_t n, int from_h,
                   int to_h) {
    for (int h = from_h; h < to_h; h++)
        for (size_t i = 0; i < n; i++)
            feed(pl, T0 + h * H + 30 * M, f[i].team, f[i].model, f[i].cost);
}

/* Days of warm history: 3 days, beyond the configured warmup of 48. */
#define HIST 72

static void done(br_pipeline_t *pl, br_config_t *conf, brp_sink_t *r) {
    br_pipeline_destroy(pl);
    br_config_destroy(conf);
    brp_sink_free(r);
}

/* firing (info) -> no message while nothing grew -> updated on a higher
 * severity alone -> updated when the filling bucket's spend doubled ->
 * updated on a new unusual bucket (critical) -> no message when the final
 * figures are those already sent -> resolved after resolve_after quiet
 * buckets. Then, within the cooldown, the same id reopens; after it, a new
 * id fires. */
static void test_spike_lifecycle(void) {
    br_config_t *conf = conf_new(TEAM, "  min_impact: 2\n  cooldown: 3h\n");
    if (!conf)
        return;
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    const flow_t f[] = {{"ml", "a", 1.0}, {"web", "w", 1.0}};
    steady(pl, f, 2, 0, HIST);
    CHECK_INT(r.n, 0);

    /* Hour 72 fills: 6.00 against 1.00 expected, impact 5 = 2.5x the
     * floor of 2: info. */
    feed(pl, T0 + 72 * H + 10 * M, "ml", "a", 6.0);
    CHECK_INT(r.n, 1);
    CHECK_STR(r.a[0].type, "cost_spike");
    CHECK_STR(r.a[0].status, "firing");
    CHECK_STR(r.a[0].severity, "info");
    CHECK_STR(r.a[0].labels, "team=ml");
    CHECK_INT(r.a[0].impact, 5 * U);
    CHECK_STR(r.a[0].parent, "");
    /* 6.50: neither doubled nor more severe: nothing. */
    feed(pl, T0 + 72 * H + 20 * M, "ml", "a", 0.5);
    CHECK_INT(r.n, 1);
    /* 9.00: impact 8 = 4x: warning, an update though not doubled. */
    feed(pl, T0 + 72 * H + 25 * M, "ml", "a", 2.5);
    CHECK_INT(r.n, 2);
    CHECK_STR(r.a[1].status, "updated");
    CHECK_STR(r.a[1].severity, "warning");
    CHECK_INT(r.a[1].rev, 2);
    /* 19.00: double the 9.00 last sent. */
    feed(pl, T0 + 72 * H + 35 * M, "ml", "a", 10.0);
    CHECK_INT(r.n, 3);
    CHECK_STR(r.a[2].status, "updated");
    CHECK_INT(r.a[2].impact, 18 * U);
    /* The other team's steady spend at :30 changed nothing. */
    CHECK_INT(brp_count(&r, NULL, NULL, "team=web"), 0);
    /* Hour 73 is unusual too: the window grows to two buckets, impact
     * 18 + 4 = 22 = 11x: critical. Hour 72 turns final first (its final
     * expectation, a little under the 1.00 estimated while it filled, moves
     * the impact by cents) and sends nothing of its own. */
    feed(pl, T0 + 73 * H + 10 * M, "ml", "a", 5.0);
    CHECK_INT(r.n, 4);
    CHECK_STR(r.a[3].status, "updated");
    CHECK_STR(r.a[3].severity, "critical");
    CHECK(r.a[3].impact >= 22 * U && r.a[3].impact < 22 * U + U / 10);
    feed(pl, T0 + 73 * H + 30 * M, "web", "w", 1.0);
    feed(pl, T0 + 74 * H + 30 * M, "web", "w", 1.0); /* 73 final */
    CHECK_INT(r.n, 4);
    /* Quiet 74, 75: resolved when 75 is final. */
    feed(pl, T0 + 74 * H + 31 * M, "ml", "a", 1.0);
    steady(pl, f, 2, 75, 76);
    CHECK_INT(r.n, 4);
    feed(pl, T0 + 76 * H + 30 * M, "ml", "a", 1.0);
    CHECK_INT(r.n, 5);
    CHECK_STR(r.a[4].status, "resolved");
    CHECK_STR(r.a[4].severity, "critical");
    CHECK_INT(r.a[4].rev, 5);
    CHECK(strstr(r.a[4].summary, "Resolved: cost spike on team=ml") != NULL);
    for (int i = 1; i < 5; i++)
        CHECK_STR(r.a[i].id, r.a[0].id);

    /* Resolved at bucket 75; cooldown 3h: bucket 78 still reopens it. */
    feed(pl, T0 + 76 * H + 31 * M, "web", "w", 1.0);
    steady(pl, f, 2, 77, 78);
    feed(pl, T0 + 78 * H + 10 * M, "ml", "a", 20.0);
    CHECK_INT(r.n, 6);
    CHECK_STR(r.a[5].id, r.a[0].id);
    CHECK_STR(r.a[5].status, "updated");
    CHECK_INT(r.a[5].rev, 6);
    CHECK(strstr(r.a[5].summary, "Cost spike on team=ml again") != NULL);
    /* It resolves again at bucket 80 ... */
    feed(pl, T0 + 78 * H + 30 * M, "web", "w", 1.0);
    steady(pl, f, 2, 79, 82);
    CHECK_INT(r.n, 7);
    CHECK_STR(r.a[6].status, "resolved");
    CHECK_STR(r.a[6].id, r.a[0].id);
    /* ... and bucket 84, 4 buckets on, is a new incident. */
    steady(pl, f, 2, 82, 84);
    feed(pl, T0 + 84 * H + 10 * M, "ml", "a", 20.0);
    CHECK_INT(r.n, 8);
    CHECK_STR(r.a[7].status, "firing");
    CHECK_INT(r.a[7].rev, 1);
    CHECK(strcmp(r.a[7].id, r.a[0].id) != 0);
    CHECK_INT(r.order_errors, 0);
    done(pl, conf, &r);
}

/* cooldown: 0s: the next unusual bucket after a resolution is always a new
 * incident. */
static void test_no_cooldown(void) {
    br_config_t *conf = conf_new(TEAM, "  min_impact: 2\n  cooldown: 0s\n");
    if (!conf)
        return;
    CHECK_INT(conf->spike.cooldown_ms, 0);
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    const flow_t f[] = {{"ml", "a", 1.0}};
    steady(pl, f, 1, 0, HIST);
    feed(pl, T0 + 72 * H + 10 * M, "ml", "a", 20.0);
    steady(pl, f, 1, 72, 76);        /* resolved when 74 is final */
    feed(pl, T0 + 76 * H + 10 * M, "ml", "a", 20.0);
    CHECK_INT(brp_count(&r, "cost_spike", "firing", "team=ml"), 2);
    CHECK_INT(brp_count(&r, "cost_spike", "resolved", "team=ml"), 1);
    CHECK(r.n >= 3 && strcmp(r.a[0].id, r.a[r.n - 1].id) != 0);
    CHECK_INT(r.order_errors, 0);
    done(pl, conf, &r);
}

/* The default cooldown is 6 buckets, whatever the bucket. */
static void test_cooldown_default(void) {
    br_config_t *conf = conf_new(TEAM, "");
    if (conf)
        CHECK_INT(conf->spike.cooldown_ms, 6 * H);
    br_config_destroy(conf);
    char err[512];
    conf = br_config_load_string("inputs:\n  - name: x\n    topic: t\n"
                                 "    dialect: otel\n"
                                 "spike:\n  bucket: 15m\n",
                                 "c.yaml", NULL, err, sizeof err);
    CHECK(conf != NULL);
    if (conf)
        CHECK_INT(conf->spike.cooldown_ms, 6 * 15 * M);
    br_config_destroy(conf);
    conf = br_config_load_string("inputs:\n  - name: x\n    topic: t\n"
                                 "    dialect: otel\n"
                                 "spike:\n  cooldown: -1h\n",
                                 "c.yaml", NULL, err, sizeof err);
    CHECK(conf == NULL);
    CHECK(strstr(err, "c.yaml:6: spike.cooldown: ") != NULL);
    br_config_destroy(conf);
}

/* A team whose models a and b stop while c goes on: with direction down the
 * team's collapse is one cost_drop naming the models that fell most; the
 * models that collapsed themselves are grouped under it. */
static const flow_t DROP_FLOWS[] = {{"ml", "a", 3.0}, {"ml", "b", 2.0},
                                    {"ml", "c", 1.0}, {"web", "w", 1.0}};

static void drop_run(br_pipeline_t *pl, bool silent) {
    steady(pl, DROP_FLOWS, 4, 0, HIST);
    for (int h = HIST; h < HIST + 4; h++) {
        if (!silent)
            feed(pl, T0 + h * H + 30 * M, "ml", "c", 1.0);
        feed(pl, T0 + h * H + 31 * M, "web", "w", 1.0);
    }
}

static void test_drop(void) {
    br_config_t *conf = conf_new(TEAM_MODEL,
                                 "  min_impact: 2\n  direction: down\n");
    if (!conf)
        return;
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    drop_run(pl, false);
    /* No early verdict on a filling bucket: it fires once 72 is final. */
    CHECK_INT(brp_count(&r, "cost_drop", "firing", "team=ml"), 1);
    CHECK_INT(brp_count(&r, "cost_spike", NULL, NULL), 0);
    CHECK_INT(brp_count(&r, NULL, NULL, "team=ml,model=a"), 0);
    CHECK_INT(brp_count(&r, NULL, NULL, "team=ml,model=b"), 0);
    CHECK_INT(brp_count(&r, NULL, NULL, "team=web"), 0);
    const brp_alert_t *a = r.n ? &r.a[0] : NULL;
    if (a) {
        CHECK_STR(a->type, "cost_drop");
        CHECK_INT(a->impact, -5 * U);
        CHECK_STR(a->severity, "info");    /* |-5| = 2.5x the floor */
        CHECK(strstr(a->summary, "usage collapsed: outage or broken feed?") != NULL);
        CHECK(strstr(a->summary, "top contributor model=a (-3") != NULL);
        /* The largest falls first; c did not fall and is not listed. */
        CHECK_INT(a->contrib_cnt, 2);
        CHECK_STR(a->contrib[0], "team=ml,model=a");
        CHECK_INT(a->c_obs[0], 0);
        CHECK_INT(a->c_exp[0], 3 * U);
        CHECK_INT(a->c_imp[0], -3 * U);
        CHECK_INT(a->c_share[0], 6000);
        CHECK_STR(a->contrib[1], "team=ml,model=b");
        CHECK_INT(a->c_imp[1], -2 * U);
        CHECK_INT(a->c_share[1], 4000);
    }
    /* Three buckets of collapse: the window and |impact| grow to about 15
     * (a collapse is not learned as usual spend), over 6x: warning. */
    CHECK_INT(brp_count(&r, "cost_drop", "updated", "team=ml"), 2);
    if (r.n >= 3) {
        CHECK(r.a[2].impact >= -15 * U - U / 10 &&
              r.a[2].impact < -12 * U);
        CHECK_STR(r.a[2].severity, "warning");
    }
    CHECK_INT(r.order_errors, 0);
    done(pl, conf, &r);

    /* Watched upward only, the same collapse says nothing. */
    conf = conf_new(TEAM_MODEL, "  min_impact: 2\n  direction: up\n");
    if (!conf)
        return;
    pl = brp_start(conf, &r);
    drop_run(pl, false);
    br_pipeline_finish(pl);
    CHECK_INT(r.n, 0);
    done(pl, conf, &r);
}

/* A team that goes completely silent (no events at all, others carry the
 * watermark) is a drop: its empty buckets are still judged. */
static void test_silence(void) {
    br_config_t *conf = conf_new(TEAM_MODEL,
                                 "  min_impact: 2\n  direction: down\n");
    if (!conf)
        return;
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    drop_run(pl, true);
    CHECK_INT(brp_count(&r, "cost_drop", "firing", "team=ml"), 1);
    CHECK_INT(brp_count(&r, "cost_drop", "firing", "team=web"), 0);
    const brp_alert_t *a = r.n ? &r.a[0] : NULL;
    if (a) {
        CHECK_INT(a->impact, -6 * U);
        /* Every model fell; c (-1) is listed though not a drop itself. */
        CHECK_INT(a->contrib_cnt, 3);
        CHECK_STR(a->contrib[2], "team=ml,model=c");
        CHECK_INT(a->c_imp[2], -1 * U);
        CHECK_INT(a->c_share[2], 1667);
    }
    CHECK_INT(brp_count(&r, NULL, NULL, "team=ml,model=c"), 0);
    CHECK_INT(brp_count(&r, NULL, NULL, "team=ml,model=a"), 0);
    done(pl, conf, &r);
}

/* A series spending in one hour out of five never drops: its empty hours
 * are what it usually does. */
static void test_sparse_quiet(void) {
    br_config_t *conf = conf_new(TEAM, "  min_impact: 2\n  direction: down\n");
    if (!conf)
        return;
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    for (int h = 0; h < 24 * 6; h++) {
        if (h % 5 == 0)
            feed(pl, T0 + h * H + 30 * M, "batch", "x", 10.0);
        feed(pl, T0 + h * H + 31 * M, "web", "w", 1.0);
    }
    br_pipeline_finish(pl);
    CHECK_INT(brp_count(&r, NULL, NULL, "team=batch"), 0);
    done(pl, conf, &r);
}

/* Direction both: a spike and then a collapse of the same series are two
 * incidents with two ids and types, never one. */
static void test_up_down_apart(void) {
    br_config_t *conf = conf_new(TEAM, "  min_impact: 2\n  direction: both\n");
    if (!conf)
        return;
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    const flow_t f[] = {{"ml", "a", 4.0}, {"web", "w", 1.0}};
    steady(pl, f, 2, 0, HIST);
    feed(pl, T0 + 72 * H + 10 * M, "ml", "a", 40.0);
    /* ml silent from hour 73 on while its spike is still open. */
    for (int h = 72; h < 76; h++)
        feed(pl, T0 + h * H + 31 * M, "web", "w", 1.0);
    CHECK_INT(brp_count(&r, "cost_spike", "firing", "team=ml"), 1);
    CHECK_INT(brp_count(&r, "cost_drop", "firing", "team=ml"), 1);
    CHECK_INT(brp_count(&r, "cost_spike", "resolved", "team=ml"), 1);
    char spike[17] = "", drop[17] = "";
    for (int i = 0; i < r.n; i++) {
        if (strcmp(r.a[i].type, "cost_spike") == 0)
            memcpy(spike, r.a[i].id, 17);
        if (strcmp(r.a[i].type, "cost_drop") == 0) {
            memcpy(drop, r.a[i].id, 17);
            CHECK(r.a[i].impact < 0);
        }
    }
    CHECK(spike[0] && drop[0] && strcmp(spike, drop) != 0);
    CHECK_INT(r.order_errors, 0);
    done(pl, conf, &r);
}

/* A model whose spike moves its team too: one alert, the team's, naming the
 * model; the model's own incident never speaks (not even to resolve). */
static void test_group_same_incident(void) {
    br_config_t *conf = conf_new(TEAM_MODEL, "  min_impact: 2\n");
    if (!conf)
        return;
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    const flow_t f[] = {{"ml", "a", 1.0}, {"ml", "b", 1.0}, {"web", "w", 1.0}};
    steady(pl, f, 3, 0, HIST);
    feed(pl, T0 + 72 * H + 10 * M, "ml", "a", 20.0);
    steady(pl, f, 3, 72, 76);
    br_pipeline_finish(pl);
    CHECK_INT(brp_count(&r, "cost_spike", "firing", "team=ml"), 1);
    CHECK_INT(brp_count(&r, "cost_spike", "resolved", "team=ml"), 1);
    CHECK_INT(brp_count(&r, NULL, NULL, "team=ml,model=a"), 0);
    CHECK_INT(r.n, brp_count(&r, NULL, NULL, "team=ml"));
    if (r.n >= 2) {
        /* Fired at 20.00 while b had not spent yet: the team's impact 18,
         * a's 19, a share above 1. */
        CHECK_INT(r.a[0].contrib_cnt, 1);
        CHECK_STR(r.a[0].contrib[0], "team=ml,model=a");
        CHECK_INT(r.a[0].c_imp[0], 19 * U);
        CHECK_INT(r.a[0].c_share[0], 10556);
        /* Final: the hour's steady 1.00 of a and b came: both 20 over. */
        CHECK_STR(r.a[1].status, "updated");
        CHECK_INT(r.a[1].impact, 20 * U);
        CHECK_INT(r.a[1].c_share[0], 10000);
    }
    CHECK_INT(r.order_errors, 0);
    done(pl, conf, &r);
}

/* A small model that spikes while its big team stays within bounds alerts
 * on its own. */
static void test_group_child_alone(void) {
    br_config_t *conf = conf_new(TEAM_MODEL, "  min_impact: 1\n");
    if (!conf)
        return;
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    const flow_t f[] = {{"ml", "big", 10.0}, {"ml", "small", 1.0}};
    steady(pl, f, 2, 0, HIST);
    /* small: 3 vs 1; the team: 13 vs 11, under 1.5x. */
    feed(pl, T0 + 72 * H + 10 * M, "ml", "small", 2.0);
    steady(pl, f, 2, 72, 76);
    CHECK_INT(brp_count(&r, "cost_spike", "firing", "team=ml,model=small"), 1);
    CHECK_INT(brp_count(&r, "cost_spike", "resolved", "team=ml,model=small"), 1);
    CHECK_INT(brp_count(&r, NULL, NULL, "team=ml"), 0);
    for (int i = 0; i < r.n; i++)
        CHECK_STR(r.a[i].parent, "");
    done(pl, conf, &r);
}

/* A model crosses first, on its filling bucket; its team follows a record
 * later. A series with a parent scope holds a new incident until its start
 * bucket is final: by then the team's alert covers that hour, so the model
 * is grouped from birth and sends nothing, whichever crossed first (the
 * same records in another order give the same alerts); the team's alert
 * names the model. Fed the other way round, the result is the same. */
static void test_group_child_first(void) {
    for (int team_first = 0; team_first < 2; team_first++) {
        br_config_t *conf = conf_new(TEAM_MODEL, "  min_impact: 1\n");
        if (!conf)
            return;
        brp_sink_t r;
        br_pipeline_t *pl = brp_start(conf, &r);
        const flow_t f[] = {{"ml", "a", 1.0}, {"ml", "b", 1.0}, {"web", "w", 1.0}};
        steady(pl, f, 3, 0, HIST);
        if (team_first) {
            /* b: 10 vs 1 and ml 11 vs 2: both cross, the team first. */
            feed(pl, T0 + 72 * H + 5 * M, "ml", "b", 10.0);
            CHECK_INT(r.n, 1);
            feed(pl, T0 + 72 * H + 10 * M, "ml", "a", 2.0);
        } else {
            /* a: 2.00 vs 1 (a spike); ml: 2.00 vs 2 (nothing yet). */
            feed(pl, T0 + 72 * H + 5 * M, "ml", "a", 2.0);
            CHECK_INT(r.n, 0); /* held until hour 72 is final */
            /* b: 10; ml: 12 vs 2: the team fires at once (a top scope). */
            feed(pl, T0 + 72 * H + 10 * M, "ml", "b", 10.0);
        }
        /* Only the team has spoken (a firing, and an update when a's
         * spend raised its severity). */
        CHECK(r.n >= 1);
        CHECK_INT(brp_count(&r, NULL, NULL, "team=ml"), r.n);
        CHECK_STR(r.a[0].labels, "team=ml");
        CHECK_STR(r.a[0].status, "firing");
        CHECK_STR(r.a[0].parent, "");
        /* The hour turns final: both models are grouped under the team's
         * alert and stay silent; the team resolves. */
        steady(pl, f, 3, 72, 76);
        CHECK_INT(brp_count(&r, NULL, NULL, "team=ml,model=a"), 0);
        CHECK_INT(brp_count(&r, NULL, NULL, "team=ml,model=b"), 0);
        CHECK_INT(brp_count(&r, "cost_spike", "firing", "team=ml"), 1);
        CHECK_INT(brp_count(&r, "cost_spike", "resolved", "team=ml"), 1);
        const brp_alert_t *last = NULL;
        for (int i = 0; i < r.n; i++)
            if (strcmp(r.a[i].labels, "team=ml") == 0 &&
                strcmp(r.a[i].status, "resolved") != 0)
                last = &r.a[i];
        CHECK(last != NULL);
        if (last)
            CHECK_STR(last->contrib[0], "team=ml,model=b");
        CHECK_INT(r.order_errors, 0);
        done(pl, conf, &r);
    }
}

/* Contributors of a spike: top 5 of 7 by impact, a tie broken by labels,
 * each with its own observed, expected and share of the team's impact. */
static void test_contributors(void) {
    br_config_t *conf = conf_new(TEAM_MODEL, "  min_impact: 4\n");
    if (!conf)
        return;
    brp_sink_t r;
    br_pipeline_t *pl = brp_start(conf, &r);
    static const char *models[] = {"a", "b", "c", "d", "e", "f", "g"};
    flow_t f[7];
    for (int i = 0; i < 7; i++)
        f[i] = (flow_t){"ml", models[i], 1.0};
    steady(pl, f, 7, 0, HIST);
    /* Impacts e 1, c 2, g 3, a 5, f 7, b 9, d 9; the team fires at a. */
    const struct { const char *m; double c; } bump[] = {
        {"e", 2}, {"c", 3}, {"g", 4}, {"a", 6}, {"f", 8}, {"b", 10}, {"d", 10}};
    for (int i = 0; i < 7; i++)
        feed(pl, T0 + 72 * H + (10 + i) * M, "ml", bump[i].m, bump[i].c);
    steady(pl, f, 7, 73, 74); /* hour 72 final */
    CHECK_INT(brp_count(&r, NULL, NULL, "team=ml"), brp_count(&r, NULL, NULL, NULL));
    /* The last message while open has the whole hour. */
    const brp_alert_t *a = NULL;
    for (int i = 0; i < r.n; i++)
        if (strcmp(r.a[i].status, "resolved") != 0)
            a = &r.a[i];
    CHECK(a != NULL);
    if (a) {
        CHECK_INT(a->impact, 36 * U);
        CHECK_STR(a->severity, "warning");  /* 36 = 9x the floor of 4 */
        CHECK_INT(a->contrib_cnt, 5);
        const char *want[] = {"team=ml,model=b", "team=ml,model=d",
                              "team=ml,model=f", "team=ml,model=a",
                              "team=ml,model=g"};
        const int64_t imp[] = {9, 9, 7, 5, 3};
        const int32_t share[] = {2500, 2500, 1944, 1389, 833}; /* rounded */
        for (int i = 0; i < 5; i++) {
            CHECK_STR(a->contrib[i], want[i]);
            CHECK_INT(a->c_imp[i], imp[i] * U);
            CHECK_INT(a->c_exp[i], 1 * U);
            CHECK_INT(a->c_obs[i], (imp[i] + 1) * U);
            CHECK_INT(a->c_share[i], share[i]);
        }
        CHECK(strstr(a->summary, "top contributor model=b (+9") != NULL);
    }
    done(pl, conf, &r);
}

/* Incident state survives a snapshot: a resolved spike in its cooldown, an
 * open drop, a child grouped under its parent. The restored pipeline saves
 * the same bytes and goes on to send the very alerts the original sends. */
static void test_snapshot_roundtrip(void) {
    br_config_t *conf = conf_new(TEAM_MODEL, "  min_impact: 1\n"
                                             "  direction: both\n"
                                             "  cooldown: 4h\n");
    if (!conf)
        return;
    brp_sink_t r, r2;
    br_pipeline_t *pl = brp_start(conf, &r);
    const flow_t f[] = {{"ml", "a", 1.0}, {"ml", "b", 1.0},
                        {"ops", "o", 2.0}, {"web", "w", 1.0}};
    steady(pl, f, 4, 0, HIST);
    /* ml/a fires alone, then ml takes it in: a grouped child. */
    feed(pl, T0 + 72 * H + 5 * M, "ml", "a", 2.0);
    feed(pl, T0 + 72 * H + 10 * M, "ml", "a", 10.0);
    /* ops goes silent from hour 72: an open drop. */
    for (int h = 72; h < 76; h++) {
        feed(pl, T0 + h * H + 30 * M, "ml", "a", 1.0);
        feed(pl, T0 + h * H + 30 * M, "ml", "b", 1.0);
        feed(pl, T0 + h * H + 31 * M, "web", "w", 1.0);
    }
    CHECK(brp_count(&r, "cost_spike", "resolved", "team=ml") == 1);
    CHECK(brp_count(&r, "cost_drop", "firing", "team=ops") == 1);

    br_buf_t a, b, desc;
    br_buf_init(&a);
    br_buf_init(&b);
    br_buf_init(&desc);
    CHECK_INT(br_pipeline_save(pl, &a), BR_ERR_OK);
    char err[512];
    CHECK_INT(br_pipeline_describe(a.data, a.len, &desc, err, sizeof err), BR_ERR_OK);
    CHECK(desc.data && strstr(desc.data, "\"type\": \"cost_drop\"") != NULL);
    CHECK(desc.data && strstr(desc.data, "\"resolved_at\": ") != NULL);
    br_pipeline_t *pl2 = brp_start(conf, &r2);
    CHECK_INT(br_pipeline_restore(pl2, a.data, a.len, NULL, err, sizeof err),
              BR_ERR_OK);
    CHECK_INT(br_pipeline_save(pl2, &b), BR_ERR_OK);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);

    /* Both go on: ml spikes again within the cooldown (same id, updated),
     * ops stays silent, then everything ends. */
    size_t before = r.json.len;
    int64_t off0 = offset;
    for (int k = 0; k < 2; k++) {
        br_pipeline_t *p = k ? pl2 : pl;
        offset = off0;
        feed(p, T0 + 76 * H + 10 * M, "ml", "a", 20.0);
        for (int h = 76; h < 80; h++) {
            feed(p, T0 + h * H + 30 * M, "ml", "b", 1.0);
            feed(p, T0 + h * H + 31 * M, "web", "w", 1.0);
        }
        br_pipeline_finish(p);
    }
    size_t tail = r.json.len - before;
    CHECK(tail > 0);
    CHECK_INT(r2.json.len, tail);
    CHECK(r2.json.len == tail &&
          memcmp(r2.json.data, r.json.data + before, tail) == 0);
    CHECK(r2.n > 0 && strcmp(r2.a[0].status, "updated") == 0);
    br_pipeline_destroy(pl2);
    brp_sink_free(&r2);
    br_buf_free(&a);
    br_buf_free(&b);
    br_buf_free(&desc);
    done(pl, conf, &r);
}

int main(void) {
    test_spike_lifecycle();
    test_no_cooldown();
    test_cooldown_default();
    test_drop();
    test_silence();
    test_sparse_quiet();
    test_up_down_apart();
    test_group_same_incident();
    test_group_child_alone();
    test_group_child_first();
    test_contributors();
    test_snapshot_roundtrip();
    return brt_done();
}
