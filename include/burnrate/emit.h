/*
 * What an alert is reported against and where it goes (br_emit_ctx_t), and
 * the helpers every detector builds its alert with.
 *
 * The entry point that sets work off makes a context and hands it down to
 * whoever raises an alert: a record's work reports that record's origin and
 * event time; work no record set off (a backlog note, the end of input, a
 * wall-clock tick) reports no origin, or one standing in for it, and an
 * event time of its own. Everything a context points to is borrowed for the
 * call that made it.
 *
 * @locality the pipeline's thread.
 */
#ifndef BURNRATE_EMIT_H
#define BURNRATE_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "burnrate/alert.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"

typedef struct br_emit_ctx {
    const br_sink_t *sink;
    uint64_t *alerts;          /* counter, one up per alert sent */
    const char *currency;      /* the stage's, BR_CURRENCY_MAX bytes */
    const int64_t *watermark_ms; /* the stage's, read as each alert is
                                  built: it moves during one record's work */
    const br_origin_t *origin; /* the record that set the work off; NULL:
                                  none (source.input -1) */
    int64_t event_ms;          /* its event time */
} br_emit_ctx_t;

/** @brief Zero a, then set its type and what ec reports it against. */
void br_emit_init(const br_emit_ctx_t *ec, br_alert_t *a,
                  br_alert_type_t type);
/** @brief Count a and hand it to ec's sink. */
void br_emit(const br_emit_ctx_t *ec, const br_alert_t *a);

/** @brief snprintf for human text, where cutting a long line short is
 *         intended. @returns what vsnprintf returns. */
__attribute__((format(printf, 3, 4)))
int br_emit_text(char *buf, size_t size, const char *fmt, ...);
/** @brief Money for a human line: rounded to cents ("43.57"); the JSON
 *         fields keep every digit. */
void br_emit_money(br_money_t nanos, char *buf, size_t size);
/** @brief Labels as "k=v k=v", or "total" when there are none. */
void br_emit_labels(const br_dim_t *labels, size_t cnt, char *buf,
                    size_t size);
/** @brief A duration as "1h05m", "3m07s" or "42s". */
void br_emit_duration(int64_t ms, char *buf, size_t size);

/** @brief The one-off alert of work set off by ec: fires once, warning,
 *         about scope (may be NULL) and detail, over the bucket (of
 *         bucket_ms) of ec's event time. */
void br_emit_one_off(const br_emit_ctx_t *ec, int64_t bucket_ms,
                     br_alert_type_t type, const char *scope,
                     const char *detail, const char *summary);

#endif
