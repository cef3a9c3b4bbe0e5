/*
 * The Prometheus text exposition format (version 0.0.4), written without a
 * client library, and the few figures of librdkafka's statistics JSON that
 * burnrate exports. Pure: no clocks, no I/O; the daemon fills it.
 */
#ifndef BURNRATE_METRICS_H
#define BURNRATE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "burnrate/buf.h"
#include "burnrate/err.h"

typedef enum {
    BR_METRIC_COUNTER,
    BR_METRIC_GAUGE,
    BR_METRIC_UNTYPED,
} br_metric_type_t;

/**
 * @brief Start a metric family: its `# HELP` (backslash and newline
 *        escaped) and `# TYPE` lines. Every sample of the family must
 *        follow before the next family starts.
 * @param name a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*); counters end in
 *        `_total` by convention (the caller's choice).
 */
void br_metrics_family(br_buf_t *out, const char *name, br_metric_type_t type,
                       const char *help);

/**
 * @brief One sample line `name{l1="v1",...} value`.
 * @param labels label names and values in pairs, ended by NULL (or NULL
 *        for none); values are escaped (\\, \", \n), names are taken as
 *        given (they are constants of the caller).
 */
void br_metrics_sample(br_buf_t *out, const char *name, double value,
                       const char *const *labels);

/** @brief br_metrics_sample() for an exact integer (counters beyond 2^53
 *         keep every digit). */
void br_metrics_sample_u64(br_buf_t *out, const char *name, uint64_t value,
                           const char *const *labels);
void br_metrics_sample_i64(br_buf_t *out, const char *name, int64_t value,
                           const char *const *labels);

/** @brief Append s as a label value: `\`, `"` and newline escaped. */
void br_metrics_label_value(br_buf_t *out, const char *s);

#define BR_KSTATS_BROKERS 16 /* brokers kept from one statistics JSON */
#define BR_KSTATS_NAME_MAX 128

/** What burnrate keeps of one librdkafka statistics emission. */
typedef struct br_kstats_broker {
    char name[BR_KSTATS_NAME_MAX]; /* "host:port/nodeid" */
    int up;                        /* state "UP" */
    int64_t rtt_avg_us;            /* average round-trip time, µs; -1 when
                                      no request was timed */
    int64_t rtt_p99_us;            /* its 99th percentile, µs; -1 likewise */
    uint64_t tx_errors;            /* request send errors, since start */
    uint64_t rx_errors;            /* response receive errors, since start */
    uint64_t req_timeouts;         /* requests timed out, since start */
    uint64_t connects;             /* connection attempts that succeeded */
    uint64_t disconnects;          /* connections lost */
} br_kstats_broker_t;

typedef struct br_kstats {
    int valid;                     /* a statistics JSON has been parsed */
    br_kstats_broker_t brokers[BR_KSTATS_BROKERS];
    size_t broker_cnt;             /* learned brokers only */
    uint64_t rebalances;           /* cgrp.rebalance_cnt */
    int64_t replyq;                /* ops waiting for the application */
} br_kstats_t;

/**
 * @brief Read librdkafka's statistics JSON (statistics.interval.ms) into
 *        st. Only learned brokers count: bootstrap entries (nodeid < 0),
 *        the logical GroupCoordinator and internal ones are left out;
 *        beyond BR_KSTATS_BROKERS, brokers are dropped.
 * @param json borrowed for the call; need not be NUL-terminated.
 * @returns BR_ERR_OK, or BR_ERR_PARSE (st unchanged) with errstr.
 */
br_err_t br_kstats_parse(const char *json, size_t len, br_kstats_t *st,
                         char *errstr, size_t errstr_size);

#endif
