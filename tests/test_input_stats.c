/* Per-input outcome counters and series per scope (what /metrics shows):
 * a known mix of messages on two inputs lands in exactly the outcome each
 * one should, counted once, on its own input. */
#include <stdio.h>
#include <string.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"

static const char *CONF =
    "inputs:\n"
    "  - name: a\n"
    "    topic: a\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    mapping: {time: ts, cost: cost, id: id, model: model,\n"
    "              input_tokens: in, dims: {team: team}}\n"
    "  - name: b\n"
    "    topic: b\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    mapping: {time: ts, cost: cost, dims: {team: team}}\n"
    "scopes:\n"
    "  - {name: total, dims: []}\n"
    "  - {name: team, dims: [team]}\n"
    "  - {name: idle, dims: [team, model]}\n";

static br_err_t feed(br_pipeline_t *pl, int input, int64_t off, const char *msg) {
    return brp_feed(pl, input, input ? "b" : "a", off, msg);
}

int main(void) {
    br_config_t *conf = brp_config(CONF, "t.yaml");
    if (!conf)
        return brt_done();
    br_pipeline_t *pl = brp_start(conf, NULL);
    if (!pl)
        return brt_done();
    int64_t off = 0;
    /* input a: 3 ok (teams x, y), 1 duplicate, 1 late, 1 unpriced, 2 bad */
    CHECK_INT(feed(pl, 0, off++, "{\"ts\":\"2025-01-01T03:00:00Z\",\"cost\":1,\"id\":\"1\",\"team\":\"x\"}"), BR_ERR_OK);
    CHECK_INT(feed(pl, 0, off++, "{\"ts\":\"2025-01-01T03:10:00Z\",\"cost\":1,\"id\":\"2\",\"team\":\"y\"}"), BR_ERR_OK);
    CHECK_INT(feed(pl, 0, off++, "{\"ts\":\"2025-01-01T05:00:00Z\",\"cost\":1,\"id\":\"3\",\"team\":\"x\"}"), BR_ERR_OK);
    CHECK_INT(feed(pl, 0, off++, "{\"ts\":\"2025-01-01T03:00:00Z\",\"cost\":1,\"id\":\"1\",\"team\":\"x\"}"), BR_ERR_SKIP);
    CHECK_INT(feed(pl, 0, off++, "{\"ts\":\"2025-01-01T01:00:00Z\",\"cost\":2,\"id\":\"4\",\"team\":\"x\"}"), BR_ERR_OK);
    CHECK_INT(feed(pl, 0, off++, "{\"ts\":\"2025-01-01T05:00:00Z\",\"in\":10,\"model\":\"nope\",\"id\":\"5\",\"team\":\"x\"}"), BR_ERR_OK);
    CHECK(feed(pl, 0, off++, "{not json") != BR_ERR_OK);
    CHECK(feed(pl, 0, off++, "{\"cost\":1,\"id\":\"6\"}") != BR_ERR_OK);
    /* input b: 1 ok, 1 bad */
    CHECK_INT(feed(pl, 1, off++, "{\"ts\":\"2025-01-01T05:00:00Z\",\"cost\":1,\"team\":\"z\"}"), BR_ERR_OK);
    CHECK(feed(pl, 1, off++, "[]") != BR_ERR_OK);

    br_pipeline_input_stats_t a, b, none;
    br_pipeline_input_stats(pl, 0, &a);
    br_pipeline_input_stats(pl, 1, &b);
    br_pipeline_input_stats(pl, 7, &none);
    CHECK_INT(a.messages, 8);
    CHECK_INT(a.ok, 4);
    CHECK_INT(a.late, 1);
    CHECK_INT(a.duplicates, 1);
    CHECK_INT(a.unpriced, 1);
    CHECK_INT(a.skipped, 0);
    CHECK_INT(a.dead_letters, 2);
    CHECK_INT(a.dead_by_reason[BR_ERR_PARSE], 1);
    CHECK_INT(a.dead_by_reason[BR_ERR_MISSING], 1);
    CHECK_INT(a.ok + a.unpriced + a.duplicates + a.skipped + a.dead_letters, a.messages);
    CHECK_INT(b.messages, 2);
    CHECK_INT(b.ok, 1);
    CHECK_INT(b.dead_letters, 1);
    CHECK_INT(none.messages, 0);

    /* total: one series; team: x, y and z; the three scopes add up to the
     * pipeline's series count; a scope out of range has none. */
    CHECK_INT(br_pipeline_scope_series(pl, 0), 1);
    CHECK_INT(br_pipeline_scope_series(pl, 1), 3);
    CHECK_INT(br_pipeline_scope_series(pl, 9), 0);
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    CHECK_INT(st.series, br_pipeline_scope_series(pl, 0) + br_pipeline_scope_series(pl, 1) +
                             br_pipeline_scope_series(pl, 2));
    br_pipeline_destroy(pl);
    br_config_destroy(conf);
    return brt_done();
}
