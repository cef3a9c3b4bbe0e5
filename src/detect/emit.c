/*
 * Building and sending alerts (emit.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "burnrate/emit.h"
#include "burnrate/hash.h"
#include "burnrate/ts.h"

void br_emit_init(const br_emit_ctx_t *ec, br_alert_t *a,
                  br_alert_type_t type) {
    memset(a, 0, sizeof(*a));
    a->type = type;
    a->forecast_nanos = -1;
    a->event_ms = ec->event_ms;
    a->watermark_ms = *ec->watermark_ms;
    memcpy(a->currency, ec->currency, sizeof(a->currency));
    if (ec->origin)
        a->source = *ec->origin;
    else
        a->source.input = -1;
}

void br_emit(const br_emit_ctx_t *ec, const br_alert_t *a) {
    (*ec->alerts)++;
    if (ec->sink->alert)
        ec->sink->alert(ec->sink->opaque, a);
}

int br_emit_text(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void br_emit_money(br_money_t nanos, char *buf, size_t size) {
    br_money_format(br_money_round_to(nanos, 10000000), buf, size);
}

void br_emit_labels(const br_dim_t *labels, size_t cnt, char *buf,
                    size_t size) {
    size_t off = 0;
    buf[0] = '\0';
    if (cnt == 0) {
        snprintf(buf, size, "total");
        return;
    }
    for (size_t i = 0; i < cnt && off < size; i++)
        off += (size_t)br_emit_text(buf + off, size - off, "%s%s=%s",
                                    i ? " " : "", labels[i].key,
                                    labels[i].value);
}

void br_emit_duration(int64_t ms, char *buf, size_t size) {
    int64_t s = ms / 1000;
    if (s >= 3600)
        br_emit_text(buf, size, "%" PRId64 "h%02" PRId64 "m", s / 3600,
                     s / 60 % 60);
    else if (s >= 60)
        br_emit_text(buf, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else
        br_emit_text(buf, size, "%" PRId64 "s", s);
}

void br_emit_one_off(const br_emit_ctx_t *ec, int64_t bucket_ms,
                     br_alert_type_t type, const char *scope,
                     const char *detail, const char *summary) {
    br_alert_t a;
    br_emit_init(ec, &a, type);
    br_id_one_off(a.id, type, scope, detail);
    a.revision = 1;
    a.status = BR_STATUS_FIRING;
    a.severity = BR_SEV_WARNING;
    a.scope = scope;
    a.detail = detail;
    a.window_start_ms = br_floordiv(ec->event_ms, bucket_ms) * bucket_ms;
    a.window_end_ms = a.window_start_ms + bucket_ms;
    br_emit_text(a.summary, sizeof(a.summary), "%s", summary);
    br_emit(ec, &a);
}
