/* Alert names and the JSON encoding routers consume. Field order is fixed
 * and money is written as exact decimals, so replays are byte-identical.
 * The same fields as a JSON value feed the Avro encoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/alert.h"
#include "burnrate/money.h"
#include "burnrate/ts.h"

static const char *const type_names[] = {
#define X(name, str) str,
    BR_ALERT_TYPES(X)
#undef X
};

const char *br_alert_type_name(br_alert_type_t type) {
    return (unsigned)type < BR_ALERT__CNT ? type_names[type] : "unknown";
}

const char *br_alert_status_name(br_alert_status_t status) {
    switch (status) {
    case BR_STATUS_FIRING: return "firing";
    case BR_STATUS_UPDATED: return "updated";
    case BR_STATUS_RESOLVED: return "resolved";
    }
    return "unknown";
}

const char *br_severity_name(br_severity_t sev) {
    switch (sev) {
    case BR_SEV_INFO: return "info";
    case BR_SEV_WARNING: return "warning";
    case BR_SEV_CRITICAL: return "critical";
    }
    return "unknown";
}

static void put_key(br_buf_t *b, const char *key) {
    br_buf_printf(b, ",\"%s\":", key);
}

static void put_time(br_buf_t *b, const char *key, int64_t ms) {
    char tmp[40];
    br_ts_format(ms, tmp, sizeof(tmp));
    put_key(b, key);
    br_buf_json_str(b, tmp);
}

static void put_labels(br_buf_t *b, const br_dim_t *labels, size_t cnt) {
    br_buf_puts(b, "{");
    for (size_t i = 0; i < cnt; i++) {
        if (i)
            br_buf_puts(b, ",");
        br_buf_json_str(b, labels[i].key);
        br_buf_puts(b, ":");
        br_buf_json_str(b, labels[i].value);
    }
    br_buf_puts(b, "}");
}

/* Ratio a/b in basis points as a decimal number, e.g. 12345 -> 1.2345. */
static void put_bp(br_buf_t *b, int64_t bp) {
    const char *sign = bp < 0 ? "-" : "";
    uint64_t v = bp < 0 ? -(uint64_t)bp : (uint64_t)bp;
    br_buf_printf(b, "%s%llu.%04llu", sign, (unsigned long long)(v / 10000),
                  (unsigned long long)(v % 10000));
}

/* impact / expected in basis points of percent (AWS TotalImpactPercentage). */
static int64_t pct_bp(br_money_t impact, br_money_t expected) {
    if (expected <= 0)
        return -1;
    /* Truncated toward zero, as before money had 128 bits. */
    br_money_t mag = impact < 0 ? -impact : impact;
    br_money_t q = mag <= ((br_money_t)1 << 100)
                       ? impact * 1000000 / expected
                       : (br_money_t)br_money_ratio(impact, expected, 1000000);
    if (q > INT64_MAX / 2)
        return INT64_MAX / 2;
    if (q < -(INT64_MAX / 2))
        return -(INT64_MAX / 2);
    return (int64_t)q;
}

void br_alert_to_json(const br_alert_t *a, const char *input_names[],
                      int64_t emitted_at_ms, br_buf_t *b) {
    br_buf_puts(b, "{\"id\":");
    br_buf_json_str(b, a->id);
    put_key(b, "fingerprint");
    br_buf_json_str(b, a->id);
    br_buf_printf(b, ",\"revision\":%u", a->revision);
    put_key(b, "type");
    br_buf_json_str(b, br_alert_type_name(a->type));
    put_key(b, "status");
    br_buf_json_str(b, br_alert_status_name(a->status));
    put_key(b, "severity");
    br_buf_json_str(b, br_severity_name(a->severity));
    put_key(b, "scope");
    if (a->scope)
        br_buf_json_str(b, a->scope);
    else
        br_buf_puts(b, "null");
    put_key(b, "labels");
    put_labels(b, a->labels, a->label_cnt);
    br_buf_puts(b, ",\"window\":{\"start\":");
    char tmp[40];
    br_ts_format(a->window_start_ms, tmp, sizeof(tmp));
    br_buf_json_str(b, tmp);
    br_buf_puts(b, ",\"end\":");
    br_ts_format(a->window_end_ms, tmp, sizeof(tmp));
    br_buf_json_str(b, tmp);
    br_buf_puts(b, "}");
    put_key(b, "currencyCode");
    br_buf_json_str(b, a->currency);
    put_key(b, "observed");
    br_buf_money(b, a->observed_nanos);
    put_key(b, "expected");
    br_buf_money(b, a->expected_nanos);
    /* AWS Cost Anomaly Detection's impact object. */
    br_buf_puts(b, ",\"impact\":{\"totalImpact\":");
    br_buf_money(b, a->impact_nanos);
    br_buf_puts(b, ",\"totalActualSpend\":");
    br_buf_money(b, a->observed_nanos);
    br_buf_puts(b, ",\"totalExpectedSpend\":");
    br_buf_money(b, a->expected_nanos);
    br_buf_puts(b, ",\"totalImpactPercentage\":");
    int64_t pct = pct_bp(a->impact_nanos, a->expected_nanos);
    if (pct < 0 && a->expected_nanos <= 0)
        br_buf_puts(b, "null");
    else
        put_bp(b, pct);
    br_buf_puts(b, "}");
    br_buf_printf(b, ",\"score\":%.3f", a->score);
    if (a->budget) {
        br_buf_puts(b, ",\"budget\":{\"name\":");
        br_buf_json_str(b, a->budget);
        br_buf_puts(b, ",\"amount\":");
        br_buf_money(b, a->budget_nanos);
        br_buf_puts(b, ",\"spent\":");
        br_buf_money(b, a->spent_nanos);
        br_buf_puts(b, ",\"forecast\":");
        if (a->forecast_nanos >= 0)
            br_buf_money(b, a->forecast_nanos);
        else
            br_buf_puts(b, "null");
        br_buf_puts(b, ",\"threshold_percent\":");
        put_bp(b, (int64_t)a->threshold_bp * 100);
        br_buf_puts(b, "}");
        /* GCP budget notification names. */
        put_key(b, "costAmount");
        br_buf_money(b, a->spent_nanos);
        put_key(b, "budgetAmount");
        br_buf_money(b, a->budget_nanos);
        put_key(b, "alertThresholdExceeded");
        put_bp(b, a->threshold_bp);
    }
    if (a->detail) {
        put_key(b, "detail");
        br_buf_json_str(b, a->detail);
    }
    if (a->parent_id) {
        put_key(b, "parent_id");
        br_buf_json_str(b, a->parent_id);
    }
    put_key(b, "rootCauses");
    br_buf_puts(b, "[");
    for (size_t i = 0; i < a->contrib_cnt; i++) {
        const br_contrib_t *c = &a->contribs[i];
        br_buf_puts(b, i ? ",{\"scope\":" : "{\"scope\":");
        br_buf_json_str(b, c->scope);
        put_key(b, "labels");
        put_labels(b, c->labels, c->label_cnt);
        put_key(b, "observed");
        br_buf_money(b, c->observed_nanos);
        put_key(b, "expected");
        br_buf_money(b, c->expected_nanos);
        put_key(b, "impact");
        br_buf_money(b, c->impact_nanos);
        put_key(b, "share");
        put_bp(b, c->share_bp);
        br_buf_puts(b, "}");
    }
    br_buf_puts(b, "]");
    put_key(b, "summary");
    br_buf_json_str(b, a->summary);
    br_buf_puts(b, ",\"source\":{\"input\":");
    if (input_names && a->source.input >= 0)
        br_buf_json_str(b, input_names[a->source.input]);
    else
        br_buf_puts(b, "null");
    br_buf_puts(b, ",\"topic\":");
    br_buf_json_str(b, a->source.topic ? a->source.topic : "");
    br_buf_printf(b, ",\"partition\":%d,\"offset\":%lld}",
                  (int)a->source.partition, (long long)a->source.offset);
    put_time(b, "event_time", a->event_ms);
    if (a->watermark_ms == INT64_MIN)
        br_buf_puts(b, ",\"watermark\":null");
    else
        put_time(b, "watermark", a->watermark_ms);
    if (emitted_at_ms >= 0)
        put_time(b, "emitted_at", emitted_at_ms);
    br_buf_puts(b, "}");
}

/* ---- the same alert as a JSON value ----------------------------------- */

static json_t *money_value(br_money_t nanos) {
    char tmp[BR_MONEY_STR_MAX];
    br_money_format(nanos, tmp, sizeof tmp);
    return json_string(tmp);
}

static json_t *time_value(int64_t ms) {
    char tmp[40];
    br_ts_format(ms, tmp, sizeof tmp);
    return json_string(tmp);
}

static json_t *bp_value(int64_t bp) { return json_real((double)bp / 10000.0); }

static json_t *labels_value(const br_dim_t *labels, size_t cnt) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < cnt; i++)
        json_object_set_new(o, labels[i].key, json_string(labels[i].value));
    return o;
}

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

json_t *br_alert_to_value(const br_alert_t *a, const char *input_names[],
                          int64_t emitted_at_ms) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    int64_t pct = pct_bp(a->impact_nanos, a->expected_nanos);
    json_object_set_new(o, "id", json_string(a->id));
    json_object_set_new(o, "fingerprint", json_string(a->id));
    json_object_set_new(o, "revision", json_integer(a->revision));
    json_object_set_new(o, "type", json_string(br_alert_type_name(a->type)));
    json_object_set_new(o, "status",
                        json_string(br_alert_status_name(a->status)));
    json_object_set_new(o, "severity", json_string(br_severity_name(a->severity)));
    json_object_set_new(o, "scope", str_or_null(a->scope));
    json_object_set_new(o, "labels", labels_value(a->labels, a->label_cnt));
    json_object_set_new(o, "window",
                        json_pack("{s:o,s:o}", "start",
                                  time_value(a->window_start_ms), "end",
                                  time_value(a->window_end_ms)));
    json_object_set_new(o, "currencyCode", json_string(a->currency));
    json_object_set_new(o, "observed", money_value(a->observed_nanos));
    json_object_set_new(o, "expected", money_value(a->expected_nanos));
    json_object_set_new(
        o, "impact",
        json_pack("{s:o,s:o,s:o,s:o}", "totalImpact",
                  money_value(a->impact_nanos), "totalActualSpend",
                  money_value(a->observed_nanos), "totalExpectedSpend",
                  money_value(a->expected_nanos), "totalImpactPercentage",
                  pct < 0 && a->expected_nanos <= 0 ? json_null()
                                                    : bp_value(pct)));
    /* %.3f in the JSON form: the same rounding here. */
    char score[40];
    snprintf(score, sizeof score, "%.3f", a->score);
    json_object_set_new(o, "score", json_real(strtod(score, NULL)));
    if (a->budget) {
        json_object_set_new(
            o, "budget",
            json_pack("{s:s,s:o,s:o,s:o,s:o}", "name", a->budget, "amount",
                      money_value(a->budget_nanos), "spent",
                      money_value(a->spent_nanos), "forecast",
                      a->forecast_nanos >= 0 ? money_value(a->forecast_nanos)
                                             : json_null(),
                      "threshold_percent",
                      bp_value((int64_t)a->threshold_bp * 100)));
        json_object_set_new(o, "costAmount", money_value(a->spent_nanos));
        json_object_set_new(o, "budgetAmount", money_value(a->budget_nanos));
        json_object_set_new(o, "alertThresholdExceeded",
                            bp_value(a->threshold_bp));
    }
    if (a->detail)
        json_object_set_new(o, "detail", json_string(a->detail));
    if (a->parent_id)
        json_object_set_new(o, "parent_id", json_string(a->parent_id));
    json_t *rc = json_array();
    for (size_t i = 0; rc && i < a->contrib_cnt; i++) {
        const br_contrib_t *c = &a->contribs[i];
        json_array_append_new(
            rc, json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "scope", c->scope,
                          "labels", labels_value(c->labels, c->label_cnt),
                          "observed", money_value(c->observed_nanos),
                          "expected", money_value(c->expected_nanos),
                          "impact", money_value(c->impact_nanos), "share",
                          bp_value(c->share_bp)));
    }
    json_object_set_new(o, "rootCauses", rc);
    json_object_set_new(o, "summary", json_string(a->summary));
    json_object_set_new(
        o, "source",
        json_pack("{s:o,s:s,s:i,s:I}", "input",
                  input_names && a->source.input >= 0
                      ? json_string(input_names[a->source.input])
                      : json_null(),
                  "topic", a->source.topic ? a->source.topic : "",
                  "partition", (int)a->source.partition, "offset",
                  (json_int_t)a->source.offset));
    json_object_set_new(o, "event_time", time_value(a->event_ms));
    json_object_set_new(o, "watermark", a->watermark_ms == INT64_MIN
                                            ? json_null()
                                            : time_value(a->watermark_ms));
    if (emitted_at_ms >= 0)
        json_object_set_new(o, "emitted_at", time_value(emitted_at_ms));
    return o;
}
