/*
 * Alerts: what the detectors emit. An alert's id is a hash of what it is
 * about (type, series, window or budget period, threshold), never of when it
 * was sent; each state change is a new message with the same id and a higher
 * revision.
 */
#ifndef BURNRATE_ALERT_H
#define BURNRATE_ALERT_H

#include <stdint.h>

#include <jansson.h>

#include "burnrate/buf.h"
#include "burnrate/money.h"
#include "burnrate/record.h"

#define BR_ALERT_LABELS_MAX 8
#define BR_ALERT_CONTRIB_MAX 5

#define BR_ALERT_TYPES(X)                                                  \
    X(SPIKE, "cost_spike")                                                 \
    X(DROP, "cost_drop")                                                   \
    X(NEW_SPEND, "new_spend")                                              \
    X(BUDGET_THRESHOLD, "budget_threshold")                                \
    X(BUDGET_FORECAST, "budget_forecast")                                  \
    X(BUDGET_BURN_RATE, "budget_burn_rate")                                \
    X(UNPRICED_MODEL, "unpriced_model")                                    \
    X(SERIES_CAP, "series_cap")                                            \
    X(STALE_INPUT, "stale_input")

typedef enum {
#define BR__ALERT_ENUM(name, str) BR_ALERT_##name,
    BR_ALERT_TYPES(BR__ALERT_ENUM)
#undef BR__ALERT_ENUM
    BR_ALERT__CNT
} br_alert_type_t;

typedef enum { BR_STATUS_FIRING, BR_STATUS_UPDATED, BR_STATUS_RESOLVED } br_alert_status_t;
typedef enum { BR_SEV_INFO, BR_SEV_WARNING, BR_SEV_CRITICAL } br_severity_t;

/** One series one level down that drove an alert. */
typedef struct br_contrib {
    const char *scope;                       /* borrowed from the engine */
    size_t label_cnt;
    br_dim_t labels[BR_ALERT_LABELS_MAX];    /* borrowed from the engine */
    br_money_t observed_nanos;
    br_money_t expected_nanos;
    br_money_t impact_nanos;                 /* observed - expected */
    int32_t share_bp;                        /* share of parent impact, bp */
} br_contrib_t;

/** An alert event. All pointers are borrowed from the engine and valid only
 *  during the callback that hands the alert over. */
typedef struct br_alert {
    char id[17];                 /* 16 hex digits */
    uint32_t revision;           /* 1 on first emission */
    br_alert_type_t type;
    br_alert_status_t status;
    br_severity_t severity;
    const char *scope;           /* scope name, or budget name, or NULL */
    size_t label_cnt;
    br_dim_t labels[BR_ALERT_LABELS_MAX];
    int64_t window_start_ms;     /* bucket or budget period */
    int64_t window_end_ms;
    int64_t event_ms;            /* event time of the record that moved it */
    int64_t watermark_ms;        /* engine watermark at emission */
    br_money_t observed_nanos;   /* spend in the window so far */
    br_money_t expected_nanos;   /* baseline for the window */
    br_money_t impact_nanos;     /* observed - expected */
    double score;                /* robust z-score (spikes), else 0 */
    const char *budget;          /* budget name (budget alerts) or NULL */
    br_money_t budget_nanos;
    br_money_t spent_nanos;
    br_money_t forecast_nanos;   /* projected period-end spend, -1 if none */
    int32_t threshold_bp;        /* budget threshold crossed, bp */
    const char *detail;          /* model for unpriced, dim for series cap */
    const char *parent_id;       /* spike/drop of a child series grouped
                                    under its parent's alert: that alert's
                                    id; NULL when it stands on its own */
    char currency[BR_CURRENCY_MAX];
    size_t contrib_cnt;
    br_contrib_t contribs[BR_ALERT_CONTRIB_MAX];
    br_origin_t source;          /* the record that triggered this revision;
                                    input -1 when none did (the end of
                                    input, a backlog note) */
    char summary[320];           /* one human line */
} br_alert_t;

const char *br_alert_type_name(br_alert_type_t type);
const char *br_alert_status_name(br_alert_status_t status);
const char *br_severity_name(br_severity_t sev);

/**
 * @brief Append the alert as one JSON object (no newline) to out; fields in a
 *        fixed order so the bytes depend only on the alert and emitted_at.
 * @param emitted_at_ms wall clock of emission; < 0 leaves the field out.
 */
void br_alert_to_json(const br_alert_t *alert, const char *input_names[],
                      int64_t emitted_at_ms, br_buf_t *out);

/**
 * @brief The alert as a new JSON value (the caller decrefs) with the same
 *        fields as br_alert_to_json(), for encoders that take a value (Avro):
 *        money as exact decimal text ("12.5"), times as RFC 3339 text.
 * @returns the value, or NULL when out of memory.
 */
json_t *br_alert_to_value(const br_alert_t *alert, const char *input_names[],
                          int64_t emitted_at_ms);

/** schemas/alert.avsc, built in: the default schema of Avro alerts. */
extern const char br_alert_avsc[];

#endif
