/*
 * The Prometheus families of `burnrate run`'s /metrics, rendered from
 * figures the daemon gathers (its own counters, the pipeline's stats, the
 * merge's, the producer's and librdkafka's). Pure: no clocks, no Kafka
 * handles, no I/O.
 */
#ifndef BURNRATE_METRICS_RENDER_H
#define BURNRATE_METRICS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/alert.h"
#include "burnrate/buf.h"
#include "burnrate/kafka.h"
#include "burnrate/merge.h"
#include "burnrate/metrics.h"
#include "burnrate/pipeline.h"

/** The lag of one assigned partition. */
typedef struct br_metrics_lag {
    const char *topic;    /* borrowed */
    int32_t partition;
    int64_t lag;          /* messages behind the high watermark, >= 0 */
} br_metrics_lag_t;

/** Everything /metrics shows, as of one scrape; pointers are borrowed. */
typedef struct br_metrics_run {
    const char *version;             /* burnrate's */
    const char *librdkafka;          /* librdkafka's version string */
    int64_t now_ms;                  /* wall clock of the scrape */
    int64_t start_wall_ms;           /* process start, wall clock */
    bool ready;                      /* /readyz answers 200 */
    const br_config_t *conf;         /* input and scope names */
    const br_pipeline_input_stats_t *inputs; /* conf->input_cnt + 1: the
                                                last for ids of no known
                                                input */
    uint64_t foreign;                /* messages of unknown topics */
    const uint64_t (*alerts_by)[3];  /* [BR_ALERT__CNT][status] */
    const br_metrics_lag_t *lag;     /* per assigned partition with a
                                        known lag */
    size_t lag_cnt;
    bool merge_on;                   /* the merge exists: its families */
    br_merge_stats_t merge;
    uint64_t merge_bytes;            /* records and payloads held */
    uint64_t merge_prefetched;       /* messages in the partition queues */
    br_pipeline_stats_t pl;
    br_pipeline_memory_t mem;
    const uint64_t *scope_series;    /* conf->scope_cnt */
    uint64_t snapshots;              /* written by this process */
    uint64_t snap_failures;          /* consecutive */
    uint64_t snap_failures_total;
    bool snap_failing;               /* state.unready_after reached */
    int64_t last_snap_wall_ms;       /* 0: none written yet */
    int64_t last_snap_dur_ms;
    size_t last_snap_bytes;
    br_kafka_out_stats_t out;        /* the producer's */
    int64_t producer_queue;          /* rd_kafka_outq_len() */
    uint64_t produce_errors;         /* alerts/dead letters refused */
    const br_kstats_t *kstats;       /* the consumer's statistics */
} br_metrics_run_t;

/** @brief Append every family of m to b, in the order of the README's
 *         metrics reference. */
void br_metrics_render_run(const br_metrics_run_t *m, br_buf_t *b);

#endif
