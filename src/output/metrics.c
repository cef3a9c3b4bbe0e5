/*
 * Prometheus text exposition, by hand: a scrape is a few hundred lines, and
 * writing them into one reused buffer costs nothing and pulls in no client
 * library. Also reads the parts of librdkafka's statistics JSON we export.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "burnrate/metrics.h"

static const char *type_name(br_metric_type_t type) {
    switch (type) {
    case BR_METRIC_COUNTER:
        return "counter";
    case BR_METRIC_GAUGE:
        return "gauge";
    default:
        return "untyped";
    }
}

void br_metrics_family(br_buf_t *out, const char *name, br_metric_type_t type,
                       const char *help) {
    br_buf_printf(out, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            br_buf_puts(out, "\\\\");
        else if (*p == '\n')
            br_buf_puts(out, "\\n");
        else
            br_buf_append(out, p, 1);
    }
    br_buf_printf(out, "\n# TYPE %s %s\n", name, type_name(type));
}

void br_metrics_label_value(br_buf_t *out, const char *s) {
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        if (!esc)
            continue;
        br_buf_append(out, run, (size_t)(p - run));
        br_buf_puts(out, esc);
        run = p + 1;
    }
    br_buf_puts(out, run);
}

static void name_labels(br_buf_t *out, const char *name,
                        const char *const *labels) {
    br_buf_puts(out, name);
    if (!labels || !labels[0])
        return;
    br_buf_puts(out, "{");
    for (size_t i = 0; labels[i] && labels[i + 1]; i += 2) {
        br_buf_printf(out, "%s%s=\"", i ? "," : "", labels[i]);
        br_metrics_label_value(out, labels[i + 1]);
        br_buf_puts(out, "\"");
    }
    br_buf_puts(out, "}");
}

/* The shortest %g form that reads back as the same double. */
static const char *shortest(double v, char *buf, size_t size) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

void br_metrics_sample(br_buf_t *out, const char *name, double value,
                       const char *const *labels) {
    char num[40];

    name_labels(out, name, labels);
    if (isnan(value))
        br_buf_puts(out, " NaN\n");
    else if (isinf(value))
        br_buf_puts(out, value > 0 ? " +Inf\n" : " -Inf\n");
    else if (value == floor(value) && fabs(value) < 9007199254740992.0)
        br_buf_printf(out, " %.0f\n", value);
    else
        br_buf_printf(out, " %s\n", shortest(value, num, sizeof num));
}

void br_metrics_sample_u64(br_buf_t *out, const char *name, uint64_t value,
                           const char *const *labels) {
    name_labels(out, name, labels);
    br_buf_printf(out, " %" PRIu64 "\n", value);
}

void br_metrics_sample_i64(br_buf_t *out, const char *name, int64_t value,
                           const char *const *labels) {
    name_labels(out, name, labels);
    br_buf_printf(out, " %" PRId64 "\n", value);
}

/* ---- librdkafka statistics --------------------------------------------- */

static uint64_t get_u64(const json_t *obj, const char *key) {
    json_int_t v = json_integer_value(json_object_get(obj, key));
    return v > 0 ? (uint64_t)v : 0;
}

br_err_t br_kstats_parse(const char *json, size_t len, br_kstats_t *st,
                         char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr), *brokers, *b;
    const char *key;
    br_kstats_t tmp;

    if (!root || !json_is_object(root)) {
        json_decref(root);
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "librdkafka statistics: %s",
                         root ? "not a JSON object" : jerr.text);
    }
    memset(&tmp, 0, sizeof tmp);
    tmp.valid = 1;
    tmp.replyq = json_integer_value(json_object_get(root, "replyq"));
    tmp.rebalances = get_u64(json_object_get(root, "cgrp"), "rebalance_cnt");
    brokers = json_object_get(root, "brokers");
    json_object_foreach(brokers, key, b) {
        const json_t *rtt = json_object_get(b, "rtt");
        const char *state = json_string_value(json_object_get(b, "state"));
        const char *source = json_string_value(json_object_get(b, "source"));
        /* Real brokers only: not the bootstrap entries (nodeid -1), nor
         * the logical GroupCoordinator or internal ones (which repeat a
         * real broker's connection). */
        if (json_integer_value(json_object_get(b, "nodeid")) < 0 ||
            (source && strcmp(source, "learned") != 0 &&
             strcmp(source, "configured") != 0) ||
            tmp.broker_cnt == BR_KSTATS_BROKERS)
            continue;
        br_kstats_broker_t *kb = &tmp.brokers[tmp.broker_cnt++];
        snprintf(kb->name, sizeof kb->name, "%s", key);
        kb->up = state && strcmp(state, "UP") == 0;
        kb->rtt_avg_us = kb->rtt_p99_us = -1;
        if (get_u64(rtt, "cnt") > 0) {
            kb->rtt_avg_us = json_integer_value(json_object_get(rtt, "avg"));
            kb->rtt_p99_us = json_integer_value(json_object_get(rtt, "p99"));
        }
        kb->tx_errors = get_u64(b, "txerrs");
        kb->rx_errors = get_u64(b, "rxerrs");
        kb->req_timeouts = get_u64(b, "req_timeouts");
        kb->connects = get_u64(b, "connects");
        kb->disconnects = get_u64(b, "disconnects");
    }
    json_decref(root);
    *st = tmp;
    return BR_ERR_OK;
}
