/*
 * The families of `burnrate run`'s /metrics, from the figures the daemon
 * gathered for one scrape (metrics_render.h). Their order and help texts
 * are the exposition's: tests/it_metrics.sh and the README's metrics
 * reference read them.
 */
#include <inttypes.h>
#include <stdio.h>

#include "burnrate/metrics_render.h"
#include "burnrate/record.h"

/* Shorthands for one family and its samples. */
#define FAMILY(name, type, help) br_metrics_family(b, name, BR_METRIC_##type, help)
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define TEXT_(x) #x
#define TEXT(x) TEXT_(x) /* a macro's value as a string literal */

static void metrics_events(const br_metrics_run_t *m, br_buf_t *b) {
    static const char *const outcomes[] = {"ok", "late", "unpriced",
                                           "duplicate", "skipped"};
    const br_config_t *conf = m->conf;

    FAMILY("burnrate_events_total", COUNTER,
           "Messages taken from each input by outcome: ok (counted), late "
           "(counted, for a bucket already final), unpriced, duplicate, "
           "skipped (filtered by config), dead_letter (with reason). They add "
           "up to the messages taken.");
    for (size_t i = 0; i < conf->input_cnt; i++) {
        br_pipeline_input_stats_t st = m->inputs[i];
        const char *in = conf->inputs[i].name;
        uint64_t v[] = {st.ok - st.late, st.late, st.unpriced, st.duplicates,
                        st.skipped};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            br_metrics_sample_u64(b, "burnrate_events_total", v[k],
                                  L("input", in, "outcome", outcomes[k]));
        for (int r = 0; r < BR_ERR__CNT; r++)
            if (st.dead_by_reason[r] || r == BR_ERR_PARSE)
                br_metrics_sample_u64(b, "burnrate_events_total",
                                      st.dead_by_reason[r],
                                      L("input", in, "outcome", "dead_letter",
                                        "reason", br_err_name((br_err_t)r)));
    }
    FAMILY("burnrate_late_total", COUNTER,
           "Late records of each input by reason: beyond_lateness (older than "
           "the input's own watermark allows) or behind_input (its series' "
           "bucket was made final by the other inputs that feed it while this "
           "input was idle or had not delivered). They add up to the late "
           "outcome of burnrate_events_total.");
    for (size_t i = 0; i < conf->input_cnt; i++) {
        const br_pipeline_input_stats_t *st = &m->inputs[i];
        br_metrics_sample_u64(b, "burnrate_late_total", st->late - st->late_behind,
                              L("input", conf->inputs[i].name, "reason",
                                "beyond_lateness"));
        br_metrics_sample_u64(b, "burnrate_late_total", st->late_behind,
                              L("input", conf->inputs[i].name, "reason",
                                "behind_input"));
    }
    FAMILY("burnrate_dims_ignored_total", COUNTER,
           "Dimensions (tags) of each input's messages that were not stored: "
           "a record holds " TEXT(BR_DIM_MAX) " dimensions and "
           TEXT(BR_RECORD_ARENA) " bytes of text. The dimensions the "
           "config uses (scopes, budgets, model, provider) are stored first.");
    for (size_t i = 0; i < conf->input_cnt; i++)
        br_metrics_sample_u64(b, "burnrate_dims_ignored_total",
                              m->inputs[i].dims_ignored,
                              L("input", conf->inputs[i].name));
    FAMILY("burnrate_foreign_messages_total", COUNTER,
           "Messages of topics no input reads (skipped).");
    br_metrics_sample_u64(b, "burnrate_foreign_messages_total", m->foreign, NULL);
}

static void metrics_alerts(const br_metrics_run_t *m, br_buf_t *b) {
    FAMILY("burnrate_alerts_total", COUNTER,
           "Alert messages emitted, by type and status.");
    for (int t = 0; t < BR_ALERT__CNT; t++)
        for (int s = 0; s < 3; s++)
            if (m->alerts_by[t][s] || s == BR_STATUS_FIRING)
                br_metrics_sample_u64(b, "burnrate_alerts_total", m->alerts_by[t][s],
                                      L("type", br_alert_type_name((br_alert_type_t)t),
                                        "status", br_alert_status_name((br_alert_status_t)s)));
}

/* Lag of each assigned partition: the high watermark librdkafka last saw
 * (from fetch responses, no request) minus the next offset to read. */
static void metrics_lag(const br_metrics_run_t *m, br_buf_t *b) {
    FAMILY("burnrate_consumer_lag_messages", GAUGE,
           "Messages behind the partition's high watermark, per assigned "
           "partition (known once the partition has been fetched).");
    for (size_t i = 0; i < m->lag_cnt; i++) {
        char part[16];
        snprintf(part, sizeof part, "%" PRId32, m->lag[i].partition);
        br_metrics_sample_i64(b, "burnrate_consumer_lag_messages", m->lag[i].lag,
                              L("topic", m->lag[i].topic, "partition", part));
    }
}

/* The dedup window per input; "(unknown)": ids restored from a snapshot
 * layout that did not say their input. */
static void metrics_dedup(const br_metrics_run_t *m, br_buf_t *b) {
    const br_config_t *conf = m->conf;
    static const char *const fams[][2] = {
        {"burnrate_dedup_ids", "Event ids remembered in the dedup window, "
                               "per input."},
        {"burnrate_dedup_bytes", "Bytes the dedup window holds, per input "
                                 "(40 an id, plus 8 to 16 in its index)."},
        {"burnrate_dedup_evicted_total", "Ids forgotten before their window "
                                         "ended: the input's dedup_max_ids "
                                         "was reached."},
        {"burnrate_restated_total", "Rows that replaced an earlier amount of "
                                    "their id (restatements: replace); the "
                                    "difference was counted."},
    };
    for (size_t f = 0; f < 4; f++) {
        if (f < 2)
            FAMILY(fams[f][0], GAUGE, fams[f][1]);
        else
            FAMILY(fams[f][0], COUNTER, fams[f][1]);
        for (size_t i = 0; i <= conf->input_cnt; i++) {
            br_pipeline_input_stats_t st = m->inputs[i];
            uint64_t v[] = {st.dedup_ids, st.dedup_bytes, st.dedup_evicted,
                            st.restated};
            if (i == conf->input_cnt && (f > 1 || !v[0]))
                continue;
            br_metrics_sample_u64(b, fams[f][0], v[f],
                                  L("input", i < conf->input_cnt
                                                 ? conf->inputs[i].name
                                                 : "(unknown)"));
        }
    }
}

/* The event-time merge: what it holds, what librdkafka holds below it,
 * and how often a lagging partition was given up on. */
static void metrics_merge(const br_metrics_run_t *m, br_buf_t *b) {
    static const struct {
        const char *name;
        br_metric_type_t type;
        const char *help;
    } fams[] = {
        {"burnrate_merge_buffered_records", BR_METRIC_GAUGE,
         "Decoded records waiting for their turn in the event-time merge "
         "(at most one per assigned partition)."},
        {"burnrate_merge_buffered_bytes", BR_METRIC_GAUGE,
         "Bytes the merge holds: one decoded record per assigned partition "
         "and the payload of each waiting one."},
        {"burnrate_merge_prefetched_messages", BR_METRIC_GAUGE,
         "Messages librdkafka has fetched into the assigned partitions' "
         "queues and not yet handed over (bounded per partition by "
         "queued.max.messages.kbytes)."},
        {"burnrate_merge_waiting_partitions", BR_METRIC_GAUGE,
         "Assigned partitions that lag (or have not delivered yet) with "
         "nothing buffered: the merge waits for them."},
        {"burnrate_merge_wait_expired_total", BR_METRIC_COUNTER,
         "Waits for a lagging partition that ran out (2 s): the others went "
         "on without it until it delivered."},
    };
    const uint64_t v[] = {m->merge.heads, m->merge_bytes, m->merge_prefetched,
                          m->merge.waiting, m->merge.waits_expired};

    if (!m->merge_on)
        return;
    for (size_t k = 0; k < sizeof fams / sizeof fams[0]; k++) {
        br_metrics_family(b, fams[k].name, fams[k].type, fams[k].help);
        br_metrics_sample_u64(b, fams[k].name, v[k], NULL);
    }
}

static void metrics_state(const br_metrics_run_t *m, br_buf_t *b) {
    const br_pipeline_stats_t *st = &m->pl;
    const br_pipeline_memory_t *mem = &m->mem;
    const br_config_t *conf = m->conf;
    int64_t now_ms = m->now_ms;

    if (st->watermark_ms != INT64_MIN) {
        FAMILY("burnrate_watermark_timestamp_seconds", GAUGE,
               "Event-time watermark (max event time minus lateness, idle "
               "partitions left out): buckets before it are final.");
        br_metrics_sample(b, "burnrate_watermark_timestamp_seconds",
                          (double)st->watermark_ms / 1000.0, NULL);
        FAMILY("burnrate_watermark_delay_seconds", GAUGE,
               "Wall clock minus the watermark.");
        br_metrics_sample(b, "burnrate_watermark_delay_seconds",
                          (double)(now_ms - st->watermark_ms) / 1000.0, NULL);
    }
    FAMILY("burnrate_series", GAUGE, "Live series per scope, \"(other)\" included.");
    for (size_t i = 0; i < conf->scope_cnt; i++)
        br_metrics_sample_u64(b, "burnrate_series", m->scope_series[i],
                              L("scope", conf->scopes[i].name));
    metrics_dedup(m, b);
    FAMILY("burnrate_memory_bytes", GAUGE,
           "Bytes held by the state's growing structures.");
    br_metrics_sample_u64(b, "burnrate_memory_bytes", mem->series, L("structure", "series"));
    br_metrics_sample_u64(b, "burnrate_memory_bytes", mem->index, L("structure", "index"));
    br_metrics_sample_u64(b, "burnrate_memory_bytes", mem->incidents,
                          L("structure", "incidents"));
    br_metrics_sample_u64(b, "burnrate_memory_bytes", mem->dedup, L("structure", "dedup"));
    br_metrics_sample_u64(b, "burnrate_memory_bytes", mem->other, L("structure", "other"));
}

static void metrics_snapshots(const br_metrics_run_t *m, br_buf_t *b) {
    int64_t now_ms = m->now_ms;

    FAMILY("burnrate_snapshots_total", COUNTER, "Snapshots written by this process.");
    br_metrics_sample_u64(b, "burnrate_snapshots_total", m->snapshots, NULL);
    FAMILY("burnrate_snapshot_failures_total", COUNTER,
           "Snapshot attempts that failed (retried).");
    br_metrics_sample_u64(b, "burnrate_snapshot_failures_total",
                          m->snap_failures_total, NULL);
    FAMILY("burnrate_snapshot_consecutive_failures", GAUGE,
           "Snapshot attempts that failed since the last good one (0 when the "
           "last attempt succeeded).");
    br_metrics_sample_u64(b, "burnrate_snapshot_consecutive_failures",
                          m->snap_failures, NULL);
    FAMILY("burnrate_snapshot_failing", GAUGE,
           "1 once state.unready_after snapshots in a row have failed (/readyz "
           "then answers 503), 0 again after a good one.");
    br_metrics_sample(b, "burnrate_snapshot_failing", m->snap_failing, NULL);
    if (!m->last_snap_wall_ms)
        return;
    FAMILY("burnrate_snapshot_age_seconds", GAUGE,
           "Time since the last snapshot written by this process.");
    br_metrics_sample(b, "burnrate_snapshot_age_seconds",
                      (double)(now_ms - m->last_snap_wall_ms) / 1000.0, NULL);
    FAMILY("burnrate_snapshot_duration_seconds", GAUGE,
           "How long the last snapshot took (producer flush, encode, write, fsync).");
    br_metrics_sample(b, "burnrate_snapshot_duration_seconds",
                      (double)m->last_snap_dur_ms / 1000.0, NULL);
    FAMILY("burnrate_snapshot_size_bytes", GAUGE, "Size of the last snapshot.");
    br_metrics_sample_u64(b, "burnrate_snapshot_size_bytes", m->last_snap_bytes, NULL);
}

static void metrics_kafka(const br_metrics_run_t *m, br_buf_t *b) {
    const br_kafka_out_stats_t *os = &m->out;
    const br_kstats_t *ks = m->kstats;

    FAMILY("burnrate_producer_queue_messages", GAUGE,
           "Alerts and dead letters waiting in the producer (rd_kafka_outq_len).");
    br_metrics_sample_i64(b, "burnrate_producer_queue_messages",
                          m->producer_queue, NULL);
    FAMILY("burnrate_producer_messages_total", COUNTER,
           "Messages handed to the producer, by kind.");
    br_metrics_sample_u64(b, "burnrate_producer_messages_total", os->alerts_sent,
                          L("kind", "alert"));
    br_metrics_sample_u64(b, "burnrate_producer_messages_total", os->dead_letters_sent,
                          L("kind", "dead_letter"));
    FAMILY("burnrate_producer_delivered_total", COUNTER,
           "Messages the broker acknowledged.");
    br_metrics_sample_u64(b, "burnrate_producer_delivered_total", os->delivered, NULL);
    FAMILY("burnrate_producer_delivery_errors_total", COUNTER,
           "Delivery reports with an error.");
    br_metrics_sample_u64(b, "burnrate_producer_delivery_errors_total", os->failed, NULL);
    FAMILY("burnrate_producer_refused_total", COUNTER,
           "Alerts and dead letters the producer refused to queue.");
    br_metrics_sample_u64(b, "burnrate_producer_refused_total", m->produce_errors, NULL);
    if (!ks->valid)
        return;
    FAMILY("burnrate_kafka_rebalances_total", COUNTER,
           "Consumer group rebalances (librdkafka cgrp.rebalance_cnt).");
    br_metrics_sample_u64(b, "burnrate_kafka_rebalances_total", ks->rebalances, NULL);
    FAMILY("burnrate_kafka_broker_up", GAUGE,
           "1 while the consumer's connection to the broker is up.");
    for (size_t i = 0; i < ks->broker_cnt; i++)
        br_metrics_sample(b, "burnrate_kafka_broker_up", ks->brokers[i].up,
                          L("broker", ks->brokers[i].name));
    FAMILY("burnrate_kafka_broker_rtt_seconds", GAUGE,
           "Request round-trip time to the broker over the last statistics "
           "interval (librdkafka rtt avg and p99).");
    for (size_t i = 0; i < ks->broker_cnt; i++) {
        const br_kstats_broker_t *kb = &ks->brokers[i];
        if (kb->rtt_avg_us < 0)
            continue;
        br_metrics_sample(b, "burnrate_kafka_broker_rtt_seconds",
                          (double)kb->rtt_avg_us / 1e6,
                          L("broker", kb->name, "stat", "avg"));
        br_metrics_sample(b, "burnrate_kafka_broker_rtt_seconds",
                          (double)kb->rtt_p99_us / 1e6,
                          L("broker", kb->name, "stat", "p99"));
    }
    FAMILY("burnrate_kafka_broker_errors_total", COUNTER,
           "Consumer errors per broker: tx (send), rx (receive), timeout "
           "(request timed out), disconnect.");
    for (size_t i = 0; i < ks->broker_cnt; i++) {
        const br_kstats_broker_t *kb = &ks->brokers[i];
        br_metrics_sample_u64(b, "burnrate_kafka_broker_errors_total", kb->tx_errors,
                              L("broker", kb->name, "kind", "tx"));
        br_metrics_sample_u64(b, "burnrate_kafka_broker_errors_total", kb->rx_errors,
                              L("broker", kb->name, "kind", "rx"));
        br_metrics_sample_u64(b, "burnrate_kafka_broker_errors_total", kb->req_timeouts,
                              L("broker", kb->name, "kind", "timeout"));
        br_metrics_sample_u64(b, "burnrate_kafka_broker_errors_total", kb->disconnects,
                              L("broker", kb->name, "kind", "disconnect"));
    }
}

void br_metrics_render_run(const br_metrics_run_t *m, br_buf_t *b) {
    FAMILY("burnrate_build_info", GAUGE, "Version of burnrate and librdkafka; always 1.");
    br_metrics_sample(b, "burnrate_build_info", 1,
                      L("version", m->version, "librdkafka", m->librdkafka));
    FAMILY("process_start_time_seconds", GAUGE,
           "Start time of the process since the Unix epoch.");
    br_metrics_sample(b, "process_start_time_seconds",
                      (double)(m->start_wall_ms / 1000), NULL);
    FAMILY("burnrate_ready", GAUGE, "1 when /readyz answers 200.");
    br_metrics_sample(b, "burnrate_ready",
                      m->ready, NULL);
    metrics_events(m, b);
    metrics_alerts(m, b);
    metrics_lag(m, b);
    metrics_merge(m, b);
    metrics_state(m, b);
    metrics_snapshots(m, b);
    metrics_kafka(m, b);
}
