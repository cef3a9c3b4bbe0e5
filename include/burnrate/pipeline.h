/*
 * The pure core behind one interface: decode -> price -> attribute -> state
 * -> detect -> alert. The daemon (Kafka) and replay (files, topic ranges)
 * feed it messages with their origin and receive alerts and dead letters
 * through callbacks. No clocks, no I/O, no logging in here.
 *
 * @locality one thread: every call on a pipeline from the same thread.
 */
#ifndef BURNRATE_PIPELINE_H
#define BURNRATE_PIPELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/alert.h"
#include "burnrate/config.h"
#include "burnrate/err.h"
#include "burnrate/record.h"

/** Where results go. Called synchronously from inside feed/finish. */
typedef struct br_sink {
    /** alert borrowed for the call. */
    void (*alert)(void *opaque, const br_alert_t *alert);
    /** A message that could not be used: payload/origin borrowed for the
     *  call; reason is the code, detail a human sentence. */
    void (*dead_letter)(void *opaque, const br_origin_t *origin,
                        const void *payload, size_t len, br_err_t reason,
                        const char *detail);
    void *opaque;
} br_sink_t;

typedef struct br_pipeline_stats {
    uint64_t messages;          /* fed */
    uint64_t ok;                /* counted in state */
    uint64_t skipped;           /* filtered by config (charge category) */
    uint64_t dead_letters;      /* sent to the dead-letter callback */
    uint64_t priced;            /* cost computed from tokens */
    uint64_t unpriced;          /* tokens of an unknown model: not counted */
    uint64_t late;              /* for a bucket already final */
    uint64_t alerts;            /* alert messages emitted */
    uint64_t series;            /* live series, all scopes */
    uint64_t folded;            /* records folded into "(other)" */
    int64_t total_nanos;        /* money counted, all records */
    int64_t watermark_ms;       /* INT64_MIN before any data */
    int64_t max_event_ms;       /* INT64_MIN before any data */
} br_pipeline_stats_t;

typedef struct br_pipeline br_pipeline_t;

/**
 * @brief Build the core from a validated config: loads the price table,
 *        builds one decoder per input, the scopes, budgets and detectors.
 * @param conf borrowed; must outlive the pipeline.
 * @param sink copied.
 * @returns a new pipeline the caller destroys, or NULL with errstr set.
 */
br_pipeline_t *br_pipeline_new(const br_config_t *conf, const br_sink_t *sink,
                               char *errstr, size_t errstr_size);
void br_pipeline_destroy(br_pipeline_t *pl);

/**
 * @brief Feed one raw message of input origin->input.
 * @returns BR_ERR_OK (counted), BR_ERR_SKIP (filtered), or the reason the
 *          message went to the dead-letter callback.
 */
br_err_t br_pipeline_feed(br_pipeline_t *pl, const br_origin_t *origin,
                          const void *payload, size_t len);

/** @brief Same for a parsed CSV row; raw is what a dead letter carries. */
br_err_t br_pipeline_feed_object(br_pipeline_t *pl, const br_origin_t *origin,
                                 json_t *obj, const void *raw, size_t raw_len);

/**
 * @brief The decode half of br_pipeline_feed(), for callers that order
 *        records before feeding them (replay merges its files by event
 *        time): decodes payload (or obj, when non-NULL) of input
 *        origin->input into rec. A bad message goes to the dead-letter
 *        callback here.
 * @returns BR_ERR_OK (then call br_pipeline_feed_decoded()), BR_ERR_SKIP, or
 *          the dead-letter reason.
 */
br_err_t br_pipeline_decode(br_pipeline_t *pl, const br_origin_t *origin,
                            const void *payload, size_t len, json_t *obj,
                            br_record_t *rec);

/** @brief The second half: count a record from br_pipeline_decode();
 *         payload is what a dead letter would carry (borrowed). */
br_err_t br_pipeline_feed_decoded(br_pipeline_t *pl, br_record_t *rec,
                                  const void *payload, size_t len);

/** @brief Count only records whose event time is in [from_ms, to_ms); others
 *         are skipped (BR_ERR_SKIP). Replay's --from/--to. */
void br_pipeline_set_time_range(br_pipeline_t *pl, int64_t from_ms,
                                int64_t to_ms);

/** @brief End of input (replay): the watermark moves past everything, every
 *         bucket is final and its alerts are emitted. */
void br_pipeline_finish(br_pipeline_t *pl);

void br_pipeline_stats(const br_pipeline_t *pl, br_pipeline_stats_t *stats);

/** @returns the input names indexed like conf->inputs (for alert JSON). */
const char **br_pipeline_input_names(const br_pipeline_t *pl);

#endif
