/*
 * The pure core behind one interface: decode (format.h) -> price ->
 * attribute -> state -> detect -> alert. The daemon (Kafka) and replay (files, topic ranges)
 * feed it messages with their origin and receive alerts and dead letters
 * through callbacks. No clocks, no I/O, no logging in here.
 *
 * @locality one thread: every call on a pipeline from the same thread.
 */
#ifndef BURNRATE_PIPELINE_H
#define BURNRATE_PIPELINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/alert.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/format.h"
#include "burnrate/price.h"
#include "burnrate/err.h"
#include "burnrate/money.h"
#include "burnrate/record.h"
#include "burnrate/wire.h"

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
    uint64_t late_behind;       /* of late: the bucket was made final by the
                                   other inputs feeding the series, while
                                   this record's input had not passed it */
    uint64_t alerts;            /* alert messages emitted */
    uint64_t series;            /* live series, all scopes */
    uint64_t folded;            /* records folded into "(other)" */
    uint64_t duplicates;        /* ids seen before within the dedup window */
    uint64_t dedup_ids;         /* ids remembered now */
    uint64_t dedup_evicted;     /* ids forgotten early: dedup.max_ids reached */
    br_money_t total_nanos;     /* money counted, all records (128 bits:
                                   never wraps) */
    br_money_t late_nanos;      /* of total_nanos: that of late records
                                   (in totals and budgets, not in buckets) */
    uint64_t restated;          /* of ok: rows that replaced an earlier
                                   amount of their id (restatements:
                                   replace); the difference was counted */
    uint64_t dims_ignored;      /* dimensions (tags) of decoded messages not
                                   stored: a record's dims or arena full */
    int64_t watermark_ms;       /* INT64_MIN before any data */
    int64_t max_event_ms;       /* INT64_MIN before any data */
} br_pipeline_stats_t;

typedef struct br_pipeline br_pipeline_t;

/**
 * @brief Load conf's prices.file (when set) into prices.
 * @returns BR_ERR_OK, or BR_ERR_CONFIG with errstr
 *          "CONF:LINE: prices.file: /resolved/path: reason".
 */
br_err_t br_pipeline_load_prices(const br_config_t *conf, br_prices_t *prices,
                                 char *errstr, size_t errstr_size);

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
 * @returns BR_ERR_OK (counted), BR_ERR_SKIP (filtered), BR_ERR_IO (an Avro
 *          schema could not be fetched now: nothing happened, feed the
 *          message again later), or the reason the message went to the
 *          dead-letter callback (BR_ERR_FUTURE: stamped beyond max_future,
 *          see br_pipeline_set_now()).
 */
br_err_t br_pipeline_feed(br_pipeline_t *pl, const br_origin_t *origin,
                          const void *payload, size_t len);

/** @brief br_pipeline_feed() that also says why a message was not taken
 *         (a dead letter's detail, or why a schema could not be fetched). */
br_err_t br_pipeline_feed_why(br_pipeline_t *pl, const br_origin_t *origin,
                              const void *payload, size_t len, char *why,
                              size_t why_size);

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

/** @returns why the last message was not taken (a dead letter's detail, or
 *           why an Avro schema could not be fetched); borrowed until the
 *           next call on pl. */
const char *br_pipeline_last_error(const br_pipeline_t *pl);

/** @brief The second half: count a record from br_pipeline_decode();
 *         payload is what a dead letter would carry (borrowed). */
br_err_t br_pipeline_feed_decoded(br_pipeline_t *pl, br_record_t *rec,
                                  const void *payload, size_t len);

/**
 * @brief The wall clock, read by the edge (the core reads none): a record
 *        stamped more than its input's max_future after now_ms is a dead
 *        letter (BR_ERR_FUTURE) and moves nothing. The daemon calls it as it
 *        consumes each message, replay once at its start. Until it is called
 *        (or with INT64_MIN) nothing is judged against a clock.
 */
void br_pipeline_set_now(br_pipeline_t *pl, int64_t now_ms);

/** @brief Count only records whose event time is in [from_ms, to_ms); others
 *         are skipped (BR_ERR_SKIP). Replay's --from/--to. */
void br_pipeline_set_time_range(br_pipeline_t *pl, int64_t from_ms,
                                int64_t to_ms);

/** @brief End of input (replay): the watermark moves past everything, every
 *         bucket is final and its alerts are emitted, with no source record
 *         (input -1) and the newest event time taken. */
void br_pipeline_finish(br_pipeline_t *pl);

void br_pipeline_stats(const br_pipeline_t *pl, br_pipeline_stats_t *stats);

/** Bytes held by the pipeline's growing structures. */
typedef struct br_pipeline_memory {
    size_t series;              /* series array, labels, child links */
    size_t index;               /* the series hash table */
    size_t incidents;           /* open spike incidents */
    size_t dedup;               /* dedup ring and its table */
    size_t other;               /* partitions, unpriced model names */
} br_pipeline_memory_t;

void br_pipeline_memory(const br_pipeline_t *pl, br_pipeline_memory_t *mem);

/**
 * @brief Append the whole state (series with buckets and baselines, alert
 *        incidents with their revisions, budget periods, watermarks, the
 *        dedup window, counters) to out, in the versioned layout of
 *        schemas/snapshot.md. Deterministic: the same state gives the same
 *        bytes.
 * @returns BR_ERR_OK or BR_ERR_NOMEM.
 * The snapshot's parts are sequenced in src/core/state.c (see state.h); the
 * pipeline saves and loads its own below.
 */
br_err_t br_pipeline_save(const br_pipeline_t *pl, br_buf_t *out);

/** What a restore kept and what it had to drop because the config changed. */
typedef struct br_restore_info {
    uint64_t series;            /* series restored */
    uint64_t dropped_series;    /* of scopes no longer configured alike */
    uint64_t dropped_scopes;    /* scopes missing or with other dims */
    uint64_t dropped_budgets;   /* budgets missing or with another period or
                                   time zone */
    uint64_t dropped_inputs;    /* inputs no longer configured */
} br_restore_info_t;

/**
 * @brief Load state saved by br_pipeline_save() (this or an older layout)
 *        into a pipeline that has not been fed yet. Scopes, budgets and
 *        inputs are matched by name; what no longer matches the config is
 *        dropped and counted in info.
 * @returns BR_ERR_OK; BR_ERR_PARSE when the bytes are inconsistent, or
 *          BR_ERR_CONFIG when the snapshot cannot mean anything under this
 *          config (another bucket width). After an error the pipeline holds
 *          part of the state: destroy it and build a new one.
 */
br_err_t br_pipeline_restore(br_pipeline_t *pl, const void *data, size_t len,
                             br_restore_info_t *info, char *errstr,
                             size_t errstr_size);

/**
 * @brief Describe saved state as JSON members (no braces): "stats",
 *        "watermark", "series" (sorted by scope and labels, with totals),
 *        "budgets", "incidents", "dedup". Needs no config.
 */
br_err_t br_pipeline_describe(const void *data, size_t len, br_buf_t *json,
                              char *errstr, size_t errstr_size);

/** @brief Where avro-confluent inputs get writer schemas (the fetch
 *         policy is format.h's); without one, their messages are
 *         dead-lettered (NOTFOUND). */
void br_pipeline_set_schema_fetch(br_pipeline_t *pl, br_schema_fetch_fn fn,
                                  void *opaque);

/** @returns the format state of input (index into conf->inputs), or NULL
 *           for another index; owned by the pipeline. Replay opens the
 *           input's files with it (br_format_file_open()). */
const br_format_state_t *br_pipeline_format(const br_pipeline_t *pl,
                                            int input);

/*
 * Stale inputs (inputs[].stale_after): wall-clock silence, the one
 * detector that does not follow event time. The daemon supplies every time
 * (now_ms, wall clock); replay never calls these, so nothing fires there.
 */

/**
 * @brief Input `input` (index into conf->inputs) has partitions assigned
 *        (live) or none. Silence counts only while live, from the later of
 *        its last message and the moment it became live. Losing the
 *        assignment leaves an open stale_input alert open.
 */
void br_pipeline_set_live(br_pipeline_t *pl, int input, bool live,
                          int64_t now_ms);

/*
 * Backlog (run only): an input or partition whose newest event time lags
 * by more than its idle_timeout is left out of the watermark as idle. That
 * is right for a source gone quiet, wrong for one that is merely read more
 * slowly while catching up (after downtime, or a topic with more traffic):
 * its records would arrive late. The daemon knows the difference from the
 * broker (messages after this one, or the end of the partition reached) and
 * says so here; a partition with messages waiting is never idle, so it
 * holds the watermark back until it has caught up.
 */

/** @brief Whether origin's partition (of origin->input) has messages
 *         waiting after origin->offset. Call it before feeding the message.
 *         A partition that stops being behind may move the watermark: the
 *         alerts that releases name no source record (input -1) and carry
 *         the newest event time taken, as those of br_pipeline_finish(). */
void br_pipeline_note_backlog(br_pipeline_t *pl, const br_origin_t *origin,
                              bool behind);

/** @brief Forget every partition's backlog (partitions revoked or assigned:
 *         a partition read elsewhere must not hold this watermark). */
void br_pipeline_clear_backlog(br_pipeline_t *pl);

/**
 * @brief A message of origin->input was taken at now_ms (counted, skipped or
 *        dead-lettered: each shows the feed delivers). Resolves the input's
 *        open stale_input alert (revision 2, with origin as its source).
 * @param origin borrowed for the call.
 */
void br_pipeline_note_arrival(br_pipeline_t *pl, const br_origin_t *origin,
                              int64_t now_ms);

/**
 * @brief Fire a stale_input alert (revision 1) for every live input with a
 *        stale_after that has taken nothing for that long at now_ms; at most
 *        one per silence. Cheap: call it from a poll loop.
 */
void br_pipeline_check_stale(br_pipeline_t *pl, int64_t now_ms);

/** @returns the input names indexed like conf->inputs (for alert JSON). */
const char **br_pipeline_input_names(const br_pipeline_t *pl);

/**
 * Messages of one input by outcome, since this pipeline was built (not
 * saved in snapshots: a restart or a new pipeline starts from zero, as
 * Prometheus counters do). Each message taken lands in exactly one of
 * ok (counted, late or not), unpriced, duplicates, skipped and
 * dead_letters; late is the part of ok that went to a final bucket.
 */
typedef struct br_pipeline_input_stats {
    uint64_t messages;          /* fed (a message held for its Avro schema
                                   is counted once it is taken) */
    uint64_t ok;                /* counted in state */
    uint64_t late;              /* of ok: for a bucket already final */
    uint64_t late_behind;       /* of late: made final by other inputs */
    uint64_t unpriced;          /* tokens of an unknown model */
    uint64_t duplicates;        /* ids seen within the dedup window */
    uint64_t restated;          /* of ok: rows that replaced an earlier
                                   amount of their id */
    uint64_t skipped;           /* filtered by config or time range */
    uint64_t dead_letters;      /* sent to the dead-letter callback */
    uint64_t dead_by_reason[BR_ERR__CNT]; /* dead_letters by reason */
    uint64_t dedup_evicted;     /* ids forgotten early: dedup_max_ids */
    uint64_t dims_ignored;      /* dimensions (tags) not stored for want of
                                   room in the record (BR_DIM_MAX,
                                   BR_RECORD_ARENA); the config's own are
                                   stored first */
    uint64_t dedup_ids;         /* ids remembered now (read, not counted) */
    uint64_t dedup_bytes;       /* bytes they hold now (ring and index) */
} br_pipeline_input_stats_t;

/** @brief Copy the counters of input (index into conf->inputs; any other
 *         index gives those of messages from an unknown input). */
void br_pipeline_input_stats(const br_pipeline_t *pl, int input,
                             br_pipeline_input_stats_t *out);

/** @brief Take over the per-input counters of from (a reload): inputs are
 *         matched by name; those of inputs from no longer has are gone. */
void br_pipeline_carry_input_stats(br_pipeline_t *pl,
                                   const br_pipeline_t *from);

/** @returns live series of scope (index into conf->scopes), its "(other)"
 *           series included; 0 for an index out of range. */
uint64_t br_pipeline_scope_series(const br_pipeline_t *pl, size_t scope);


/* ---- its parts of the core snapshot (sequenced by state.c, state.h) ----
 * Each load reads its part in any core layout, refusing what is out of
 * bounds (r fails), and puts it into pl; pl NULL: read only (describe). */

struct br_series;
struct br_series_store;
struct br_budget;

/** The header of a core snapshot, after the layout version. */
typedef struct br_pipeline_head {
    int64_t bucket_ms;          /* spike.bucket it was taken with */
    br_pipeline_stats_t st;
    int64_t watermark_ms, final_bucket, first_bucket, max_event_ms;
} br_pipeline_head_t;

/** @brief Header: bucket width, counters, watermark, finals, newest time. */
void br_pipeline_save_head(const br_pipeline_t *pl, br_buf_t *b);
void br_pipeline_read_head(br_rd_t *r, uint64_t layout,
                           br_pipeline_head_t *h);
/** @returns BR_ERR_CONFIG (errstr set) when the buckets differ from the
 *           config's, else BR_ERR_OK with h taken. */
br_err_t br_pipeline_restore_head(br_pipeline_t *pl,
                                  const br_pipeline_head_t *h, char *errstr,
                                  size_t errstr_size);
void br_pipeline_describe_head(const br_pipeline_head_t *h, br_buf_t *json);

/** The inputs a snapshot names, mapped to the config's by name. */
typedef struct br_pipeline_inputs {
    size_t cnt;                 /* inputs saved */
    int *map;                   /* restoring: per saved input (map_cnt of
                                   them), the config's index or -1 */
    size_t map_cnt;
} br_pipeline_inputs_t;

/** @brief Inputs (name, newest event time); then partitions (input,
 *         partition, newest event time) of the inputs saved. */
void br_pipeline_save_inputs(const br_pipeline_t *pl, br_buf_t *b);
void br_pipeline_load_inputs(br_rd_t *r, br_pipeline_t *pl,
                             br_pipeline_inputs_t *in,
                             br_restore_info_t *info);
void br_pipeline_save_partitions(const br_pipeline_t *pl, br_buf_t *b);
void br_pipeline_load_partitions(br_rd_t *r, br_pipeline_t *pl,
                                 const br_pipeline_inputs_t *in);

/** @brief Model names without a price, sorted. @returns BR_ERR_NOMEM. */
br_err_t br_pipeline_save_unpriced(const br_pipeline_t *pl, br_buf_t *b);
void br_pipeline_load_unpriced(br_rd_t *r, br_pipeline_t *pl);

/** @brief The dedup window: per input its ids, oldest first (before layout
 *         6: one list, inputs and amounts not said). *ids and *with_amount
 *         (ids whose amount is known) count what was read. */
void br_pipeline_save_dedup(const br_pipeline_t *pl, br_buf_t *b);
void br_pipeline_load_dedup(br_rd_t *r, uint64_t layout, br_pipeline_t *pl,
                            const br_pipeline_inputs_t *in, size_t *ids,
                            size_t *with_amount);
void br_pipeline_describe_dedup(size_t ids, size_t with_amount,
                                br_buf_t *json);

/** @brief Layout 2 on: per input its silence watch. describe: NULL, or
 *         where each input's JSON object is appended (array members). */
void br_pipeline_save_stale(const br_pipeline_t *pl, br_buf_t *b);
void br_pipeline_load_stale(br_rd_t *r, br_pipeline_t *pl,
                            br_buf_t *describe);

/** @brief The spike detector's incidents of series s
 *         (src/detect/det_incidents.c), saved after it: a count, one
 *         per kind. load refuses one outside the series' buckets or a
 *         second of one kind, and hangs them on s. */
void br_incidents_save(const struct br_series *s, br_buf_t *b);
void br_incidents_load(br_rd_t *r, uint64_t layout, struct br_series *s);
/** @brief Append each incident of s as a JSON object (array members). */
void br_incidents_describe(const struct br_series *s, const char *scope,
                           const char *labels, int64_t bucket_ms,
                           br_buf_t *json);

/** @returns the series store, budget i (of the config's), for the
 *           sequencer to save and restore them. */
struct br_series_store *br_pipeline_store(const br_pipeline_t *pl);
struct br_budget *br_pipeline_budget(const br_pipeline_t *pl, size_t i);
size_t br_pipeline_budget_count(const br_pipeline_t *pl);

/** @brief After a restore (ok: everything read): the inputs' finals follow
 *         from the restored watermark parts; the dedup count is taken. */
void br_pipeline_restored(br_pipeline_t *pl, bool ok);

#endif
