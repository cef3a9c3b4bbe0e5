/*
 * Hostile records through the whole core (br_pipeline_feed): decode,
 * pricing, attribution, dedup, state, detectors and budgets of the fixed
 * config in fuzz.h. The input is messages one a line, each fed to every
 * input in turn (with Kafka timestamps and offsets that move), then the
 * end of input; the state must then save, describe and restore, and the
 * restored state must save to the same bytes (snapshots are
 * deterministic).
 */
#include <inttypes.h>
#include <string.h>

#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "fuzz.h"

#define NOW_MS INT64_C(1748736000000) /* 2025-06-01T00:00:00Z */

static br_config_t *conf;
static uint64_t alerts_cnt, dead_cnt;

static void on_alert(void *opaque, const br_alert_t *alert) {
    (void)opaque;
    (void)alert;
    alerts_cnt++;
}

static void on_dead(void *opaque, const br_origin_t *origin,
                    const void *payload, size_t len, br_err_t reason,
                    const char *detail) {
    (void)opaque;
    (void)origin;
    (void)payload;
    (void)len;
    FUZZ_ASSERT(reason > BR_ERR_SKIP && reason < BR_ERR__CNT, "reason %d",
                (int)reason);
    FUZZ_ASSERT(detail != NULL, "dead letter without detail");
    dead_cnt++;
}

static const br_sink_t sink = {on_alert, on_dead, NULL};

static br_pipeline_t *pipeline(void) {
    char errstr[1024];
    if (!conf) {
        conf = br_config_load_string(FUZZ_PIPELINE_CONF, "fuzz.yaml", NULL,
                                     errstr, sizeof errstr);
        FUZZ_ASSERT(conf, "%s", errstr);
    }
    br_pipeline_t *pl = br_pipeline_new(conf, &sink, errstr, sizeof errstr);
    FUZZ_ASSERT(pl, "%s", errstr);
    return pl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    br_pipeline_t *pl = pipeline();
    br_pipeline_set_now(pl, NOW_MS);
    const uint8_t *p = data, *end = data + size;
    int64_t line = 0;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        for (int i = 0; i < (int)conf->input_cnt; i++) {
            br_origin_t origin = {i, conf->inputs[i].name, (int32_t)(line % 3),
                                  line, NOW_MS - 3600000 + line * 1000};
            br_pipeline_feed(pl, &origin, p, len);
        }
        line++;
        p += len + (nl != NULL);
    }
    br_pipeline_finish(pl);
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    FUZZ_LOG("messages %" PRIu64 " ok %" PRIu64 " dead %" PRIu64
             " duplicates %" PRIu64 " series %" PRIu64 " alerts %" PRIu64,
             st.messages, st.ok, st.dead_letters, st.duplicates, st.series,
             st.alerts);

    br_buf_t saved, again, json;
    br_buf_init(&saved);
    br_buf_init(&again);
    br_buf_init(&json);
    char errstr[1024];
    FUZZ_ASSERT(br_pipeline_save(pl, &saved) == BR_ERR_OK, "save");
    br_err_t err = br_pipeline_describe(saved.data, saved.len, &json, errstr,
                                        sizeof errstr);
    FUZZ_ASSERT(err == BR_ERR_OK, "describe of a saved state: %s", errstr);
    br_pipeline_t *restored = pipeline();
    br_restore_info_t info;
    err = br_pipeline_restore(restored, saved.data, saved.len, &info, errstr,
                              sizeof errstr);
    FUZZ_ASSERT(err == BR_ERR_OK, "restore of a saved state: %s", errstr);
    FUZZ_ASSERT(info.dropped_series == 0 && info.dropped_scopes == 0 &&
                    info.dropped_budgets == 0 && info.dropped_inputs == 0,
                "restore under the same config dropped state");
    FUZZ_ASSERT(br_pipeline_save(restored, &again) == BR_ERR_OK, "save");
    FUZZ_ASSERT(again.len == saved.len &&
                    memcmp(again.data, saved.data, saved.len) == 0,
                "restored state saves to other bytes (%zu vs %zu)", again.len,
                saved.len);
    br_pipeline_destroy(restored);
    br_pipeline_destroy(pl);
    br_buf_free(&saved);
    br_buf_free(&again);
    br_buf_free(&json);
    return 0;
}
