/*
 * The one shape of a detector. Each detector is a module
 * (src/detect/det_*.c) that exports one br_detector_t; the pipeline lists
 * them in its registration table (src/core/pipeline.c, `detectors[]`) and
 * calls every detector's hook at the point of the stage the hook names, in
 * table order. A hook a detector
 * does not need is NULL. Adding a detector is its file and one row.
 *
 * A detector reads the stage through the br_detect_env_t it is created
 * with and raises alerts through the br_emit_ctx_t it is handed (emit.h);
 * what it must remember across records lives in its own state (self), or,
 * when it belongs to a series, on the series (series.h).
 *
 * @locality the pipeline's thread.
 */
#ifndef BURNRATE_DETECTOR_H
#define BURNRATE_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/budget.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/emit.h"
#include "burnrate/err.h"
#include "burnrate/record.h"
#include "burnrate/series.h"
#include "burnrate/wire.h"

/** What a detector may read of the stage; all of it owned by the pipeline
 *  and alive as long as the detector. */
typedef struct br_detect_env {
    const br_config_t *conf;
    br_series_store_t *store;
    br_budget_t *const *budgets;   /* [conf->budget_cnt] */
    const int64_t *input_max;      /* per input: newest event time taken,
                                      INT64_MIN: none */
    const int64_t *final_bucket;   /* every series final up to here */
    const int64_t *first_bucket;   /* the first bucket with data */
    br_emit_ctx_t emit;            /* sink, counter, currency, watermark;
                                      origin NULL: for work no record set
                                      off, with an origin and event time of
                                      the detector's choosing */
} br_detect_env_t;

/** What attribution did with a record in one scope (on_series). */
typedef enum {
    BR_SERIES_EV_CAP,      /* scope reached its cap with rec (no series) */
    BR_SERIES_EV_CREATED,  /* series created for rec, bucket b */
    BR_SERIES_EV_EARLIER,  /* a fresh series opened an earlier bucket b */
    BR_SERIES_EV_ADDED,    /* rec's cost went into open bucket b */
} br_series_ev_kind_t;

typedef struct br_series_event {
    br_series_ev_kind_t kind;
    uint32_t scope;
    br_series_t *series;   /* NULL for BR_SERIES_EV_CAP */
    int64_t bucket;
    const br_record_t *rec;
} br_series_event_t;

typedef struct br_detector {
    const char *name;
    /** Own state for env (borrowed, outlives it). @returns NULL: no
     *  memory. A detector without create keeps nothing of its own: its
     *  hooks get the env itself as self. */
    void *(*create)(const br_detect_env_t *env);
    void (*destroy)(void *self);
    /** A record counted (priced, not a duplicate), before its series take
     *  it. */
    void (*on_record)(void *self, const br_emit_ctx_t *ec,
                      const br_record_t *rec);
    /** A record of tokens no price covers (model, provider: NULL unset). */
    void (*on_unpriced)(void *self, const br_emit_ctx_t *ec,
                        const br_record_t *rec, const char *model,
                        const char *provider);
    /** Attribution of a record in one scope (see br_series_ev_kind_t). */
    void (*on_series)(void *self, const br_emit_ctx_t *ec,
                      const br_series_event_t *ev);
    /** The stage's watermark moved (after series were made final), or the
     *  input ended. */
    void (*on_watermark)(void *self, const br_emit_ctx_t *ec);
    /** Wall clock from the daemon: an input's partitions were assigned or
     *  revoked; a message of origin arrived; time passed. */
    void (*on_live)(void *self, int input, bool live, int64_t now_ms);
    void (*on_arrival)(void *self, const br_origin_t *origin,
                       int64_t now_ms);
    void (*on_tick)(void *self, int64_t now_ms);
    /** Its part of the core snapshot (state.c sequences the parts). */
    br_err_t (*save)(const void *self, br_buf_t *b);
    /** Read what save() wrote into self, or (self NULL) skip it; with
     *  describe, JSON of it appended there. */
    void (*load)(void *self, br_rd_t *r, br_buf_t *describe);
    /** Bucket b of series s was made final: observed x, the baseline's
     *  verdict v (the baseline learns b after the hook). Series in bucket
     *  order, parents before children within a bucket. */
    void (*on_bucket_final)(void *self, const br_emit_ctx_t *ec,
                            br_series_t *s, int64_t b, br_money_t x,
                            const br_verdict_t *v);
    /** The first open bucket b of s, judged while it fills (verdict v). */
    void (*on_bucket_open)(void *self, const br_emit_ctx_t *ec,
                           br_series_t *s, int64_t b, const br_verdict_t *v);
    /** Bytes it holds beyond its fixed size. */
    size_t (*memory)(const void *self);
} br_detector_t;

/* The registered detectors (src/detect/det_*.c). */
extern const br_detector_t br_detector_budget;
extern const br_detector_t br_detector_series_cap;
extern const br_detector_t br_detector_new_spend;
extern const br_detector_t br_detector_unpriced;
extern const br_detector_t br_detector_stale;
extern const br_detector_t br_detector_incidents;

/** @brief Bytes the incidents of the store's series hold. */
size_t br_incidents_memory(br_series_store_t *store);

#endif
