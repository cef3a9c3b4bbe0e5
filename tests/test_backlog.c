/* Backlog and idleness: input b lags input a by more than its idle_timeout
 * in event time. When b is idle (nothing waiting) the watermark follows a
 * and b's records come in late; when the broker says b has messages waiting
 * (a catch-up, one topic read more slowly), b holds the watermark back and
 * its records are on time. The end of b's partition releases it. */
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
    "    idle_timeout: 2h\n"
    "    mapping: {time: ts, cost: cost, dims: {team: team}}\n"
    "  - name: b\n"
    "    topic: b\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    idle_timeout: 2h\n"
    "    mapping: {time: ts, cost: cost, dims: {team: team}}\n"
    "scopes:\n"
    "  - {name: total, dims: []}\n";

#define T0 INT64_C(1735689600000) /* 2025-01-01T00:00:00Z */
#define H INT64_C(3600000)

static void feed(br_pipeline_t *pl, int input, int hour) {
    CHECK_INT(brp_feedf(pl, input, input ? "b" : "a", hour,
                        "{\"ts\":\"2025-01-01T%02d:30:00Z\",\"cost\":1,\"team\":\"t\"}",
                        hour), BR_ERR_OK);
}

/* a runs to 06:30, b to 03:30 while flagged behind (or not); then b
 * catches up to 06:30 (within a series' eight open buckets, so only the
 * watermark decides). @returns records that came in late. */
static uint64_t run(bool backlog, int64_t *wm_during) {
    br_config_t *conf = brp_config(CONF, "t.yaml");
    br_pipeline_t *pl = conf ? brp_start(conf, NULL) : NULL;
    if (!pl) {
        br_config_destroy(conf);
        return 0;
    }
    br_origin_t b = {1, "b", 0, 0, 0};
    feed(pl, 1, 0);
    if (backlog)
        br_pipeline_note_backlog(pl, &b, true);
    for (int h = 0; h <= 6; h++)
        feed(pl, 0, h);
    for (int h = 1; h <= 3; h++)
        feed(pl, 1, h);
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    *wm_during = st.watermark_ms;
    for (int h = 4; h <= 6; h++)
        feed(pl, 1, h);
    /* b reached the end of its partition: caught up, then idle. */
    br_pipeline_note_backlog(pl, &b, false);
    br_pipeline_stats(pl, &st);
    uint64_t late = st.late;
    CHECK_INT(st.watermark_ms, T0 + 6 * H + H / 2); /* both at 06:30 */
    br_pipeline_destroy(pl);
    br_config_destroy(conf);
    return late;
}

int main(void) {
    int64_t wm;
    /* Idle b: the watermark runs with a, b's 01:30 to 05:30 are late. */
    CHECK_INT(run(false, &wm), 5);
    CHECK_INT(wm, T0 + 6 * H + H / 2);
    /* b behind: the watermark waits at b's newest (03:30), nothing is late. */
    CHECK_INT(run(true, &wm), 0);
    CHECK_INT(wm, T0 + 3 * H + H / 2);
    return brt_done();
}
