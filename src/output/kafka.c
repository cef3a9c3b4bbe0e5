/*
 * Kafka client construction for run and replay, and the producer of alerts
 * and dead letters. Defaults first, user properties after, so a user can
 * override anything (TLS, SASL, acks) exactly as librdkafka documents it.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burnrate/avro.h"
#include "burnrate/kafka.h"

struct br_kafka_out {
    rd_kafka_t *rk;                  /* owned */
    const br_config_t *conf;         /* borrowed */
    br_ratelimit_t *rl;              /* borrowed */
    br_buf_t buf;                    /* alert JSON, reused */
    br_kafka_out_stats_t stats;
    int fatal;                       /* a fatal error was raised */
    br_avro_schema_t *alert_schema;  /* Avro alerts: owned, else NULL */
    br_avro_encoder_t *alert_enc;
    uint32_t alert_schema_id;
};

br_err_t br_kafka_conf_set(rd_kafka_conf_t *kconf, const char *key,
                           const char *value, char *errstr,
                           size_t errstr_size) {
    char why[512];

    if (rd_kafka_conf_set(kconf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
        /* librdkafka's reason may quote the value: a secret's is left out. */
        if (br_log_is_secret(key) && value && *value && strstr(why, value))
            snprintf(why, sizeof why, "invalid value");
        return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                         "kafka property %s=%s: %s", key,
                         br_log_redact(key, value), why);
    }
    return BR_ERR_OK;
}

/* librdkafka's error and warning lines repeat while a broker is down: at
 * most RDK_LOG_BURST per facility every RDK_LOG_PERIOD_MS, with a count of
 * what was left out. Its threads call in, so the limiter has a lock. */
#define RDK_LOG_BURST 10
#define RDK_LOG_PERIOD_MS 10000
static pthread_mutex_t rdk_log_mu = PTHREAD_MUTEX_INITIALIZER;
static br_ratelimit_t rdk_log_rl;
static bool rdk_log_rl_ready;

static void on_rdkafka_log(const rd_kafka_t *rk, int level, const char *fac,
                           const char *buf) {
    char qbuf[1024], key[BR_RATELIMIT_KEY_MAX];
    uint64_t suppressed = 0;
    br_log_level_t lv = level <= 3 ? BR_LOG_ERROR
                        : level == 4 ? BR_LOG_WARN
                        : level <= 6 ? BR_LOG_INFO
                                     : BR_LOG_DEBUG;

    if (!br_log_enabled(lv))
        return;
    if (lv <= BR_LOG_WARN) {
        bool ok;
        snprintf(key, sizeof key, "librdkafka:%s", fac);
        pthread_mutex_lock(&rdk_log_mu);
        if (!rdk_log_rl_ready) {
            br_ratelimit_init(&rdk_log_rl, RDK_LOG_BURST, RDK_LOG_PERIOD_MS);
            rdk_log_rl_ready = true;
        }
        ok = br_ratelimit_allow(&rdk_log_rl, key, br_log_mono_ms(), &suppressed);
        pthread_mutex_unlock(&rdk_log_mu);
        if (!ok)
            return;
        if (suppressed)
            br_log(BR_LOG_WARN, "more lines suppressed by the rate limit",
                   "what=%s suppressed=%" PRIu64, key, suppressed);
    }
    br_log(lv, "librdkafka", "client=%s facility=%s text=%s", rd_kafka_name(rk),
           fac, br_log_quote(qbuf, sizeof qbuf, buf));
}

/* Every property of one map, each refused one a line of errstr
 * ("FILE:LINE: kafka.SECTION.KEY: librdkafka's reason"), so that one run
 * names them all. */
/* Append line to errstr (used bytes so far), one error a line; a list
 * longer than the buffer is cut. */
static void append_line(char *errstr, size_t errstr_size, size_t *used,
                        const char *line) {
    if (!errstr || *used + 1 >= errstr_size)
        return;
    int n = snprintf(errstr + *used, errstr_size - *used, "%s%s",
                     *used ? "\n" : "", line);
    if (n > 0)
        *used += (size_t)n;
    if (*used >= errstr_size)
        *used = errstr_size - 1;
}

static br_err_t set_kvs(rd_kafka_conf_t *kconf, const br_config_t *conf,
                        const br_kv_t *kv, size_t cnt, const char *section,
                        char *errstr, size_t errstr_size) {
    char why[512], line[1024];
    br_err_t ret = BR_ERR_OK;
    size_t used = errstr && errstr_size ? strlen(errstr) : 0;

    for (size_t i = 0; i < cnt; i++) {
        if (rd_kafka_conf_set(kconf, kv[i].key, kv[i].value, why, sizeof why) ==
            RD_KAFKA_CONF_OK)
            continue;
        /* librdkafka's reason may quote the value: a secret's, or one from
         * ${...}, is left out. */
        if (kv[i].value[0] && strstr(why, kv[i].value) &&
            (br_log_is_secret(kv[i].key) ||
             br_config_is_secret_value(conf, kv[i].value)))
            snprintf(why, sizeof why, "invalid value");
        snprintf(line, sizeof line, "%s:%d: kafka.%s.%s: %s",
                 conf->path ? conf->path : "config", kv[i].line, section,
                 kv[i].key, why);
        br_config_scrub(conf, line, sizeof line);
        append_line(errstr, errstr_size, &used, line);
        ret = BR_ERR_CONFIG;
    }
    return ret;
}

rd_kafka_conf_t *br_kafka_conf_new(const br_config_t *conf,
                                   br_kafka_role_t role, const char *brokers,
                                   char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *kconf = rd_kafka_conf_new();
    const br_kafka_conf_t *kc = &conf->kafka;

    rd_kafka_conf_set_log_cb(kconf, on_rdkafka_log);
    /* A broker that comes back is found within a second, not librdkafka's
     * default ten. */
    if (br_kafka_conf_set(kconf, "client.id", "burnrate", errstr, errstr_size) ||
        br_kafka_conf_set(kconf, "reconnect.backoff.max.ms", "1000", errstr,
                          errstr_size))
        goto err;
    if (role == BR_KAFKA_CONSUMER) {
        if (br_kafka_conf_set(kconf, "group.id", kc->group_id ? kc->group_id : "burnrate",
                              errstr, errstr_size) ||
            br_kafka_conf_set(kconf, "auto.offset.reset", "earliest", errstr,
                              errstr_size) ||
            br_kafka_conf_set(kconf, "queued.max.messages.kbytes",
                              BR_KAFKA_PREFETCH_KB, errstr, errstr_size))
            goto err;
    } else {
        /* Alerts and dead letters are retried until delivered (no message
         * timeout): the daemon snapshots, and so commits input offsets,
         * only once everything emitted so far is acknowledged. */
        if (br_kafka_conf_set(kconf, "enable.idempotence", "true", errstr,
                              errstr_size) ||
            br_kafka_conf_set(kconf, "acks", "all", errstr, errstr_size) ||
            br_kafka_conf_set(kconf, "message.timeout.ms", "0", errstr,
                              errstr_size))
            goto err;
    }
    if (kc->brokers &&
        br_kafka_conf_set(kconf, "bootstrap.servers", kc->brokers, errstr, errstr_size))
        goto err;
    if (errstr && errstr_size)
        errstr[0] = '\0';
    /* Both maps are set whatever the first one held: every refused
     * property is named at once. */
    bool bad = set_kvs(kconf, conf, kc->props, kc->prop_cnt, "properties",
                       errstr, errstr_size) != BR_ERR_OK;
    if (role == BR_KAFKA_CONSUMER
            ? set_kvs(kconf, conf, kc->consumer_props, kc->consumer_prop_cnt,
                      "consumer_properties", errstr, errstr_size)
            : set_kvs(kconf, conf, kc->producer_props, kc->producer_prop_cnt,
                      "producer_properties", errstr, errstr_size))
        bad = true;
    if (bad)
        goto err;
    if (brokers &&
        br_kafka_conf_set(kconf, "bootstrap.servers", brokers, errstr, errstr_size))
        goto err;
    /* Offsets are committed by the daemon, and only those a durable
     * snapshot covers (see commit_snapshot() in daemon.c); never by
     * librdkafka on its own. */
    if (role == BR_KAFKA_CONSUMER &&
        (br_kafka_conf_set(kconf, "enable.auto.offset.store", "false", errstr,
                           errstr_size) ||
         br_kafka_conf_set(kconf, "enable.auto.commit", "false", errstr,
                           errstr_size)))
        goto err;
    return kconf;
err:
    rd_kafka_conf_destroy(kconf);
    return NULL;
}

rd_kafka_queue_t *br_kafka_partition_queue(rd_kafka_t *rk, const char *topic,
                                           int32_t partition, int wake_fd) {
    rd_kafka_queue_t *q = rd_kafka_queue_get_partition(rk, topic, partition);
    if (!q)
        return NULL;
    rd_kafka_queue_forward(q, NULL);
    if (wake_fd >= 0)
        rd_kafka_queue_io_event_enable(q, wake_fd, "w", 1);
    return q;
}

int br_kafka_wake_new(int fds[2]) {
    if (pipe(fds))
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC)) {
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
    return 0;
}

void br_kafka_wake_wait(int fd, int timeout_ms) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char drain[256];

    if (timeout_ms > 0 && poll(&pfd, 1, timeout_ms) <= 0)
        return;
    while (read(fd, drain, sizeof drain) > 0)
        ;
}

br_err_t br_kafka_check_config(const br_config_t *conf, char *errstr,
                               size_t errstr_size) {
    char consumer[4096], producer[4096];
    size_t used = 0;
    rd_kafka_conf_t *c = br_kafka_conf_new(conf, BR_KAFKA_CONSUMER, NULL,
                                           consumer, sizeof consumer);
    rd_kafka_conf_t *p = br_kafka_conf_new(conf, BR_KAFKA_PRODUCER, NULL,
                                           producer, sizeof producer);

    if (errstr && errstr_size)
        errstr[0] = '\0';
    if (c)
        rd_kafka_conf_destroy(c);
    if (p)
        rd_kafka_conf_destroy(p);
    if (c && p)
        return BR_ERR_OK;
    /* A kafka.properties mistake is refused by both clients: once. */
    const char *lists[2] = {c ? "" : consumer, p ? "" : producer};
    for (int k = 0; k < 2; k++) {
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", lists[k]);
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
            if (k == 1 && !c && strstr(consumer, l))
                continue;
            append_line(errstr, errstr_size, &used, l);
        }
    }
    return BR_ERR_CONFIG;
}

br_err_t br_kafka_check_topics(const br_config_t *conf, char *errstr,
                               size_t errstr_size) {
    size_t total = 0;

    for (size_t i = 0; i < conf->input_cnt; i++) {
        const br_input_conf_t *in = &conf->inputs[i];
        for (size_t t = 0; t < in->topic_cnt; t++) {
            int owner = br_kafka_topic_input(conf, in->topics[t]);
            total++;
            if (owner >= 0 && (size_t)owner != i)
                return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                                 "%s:%d: inputs.%s.topics: topic \"%s\" is "
                                 "already read by input \"%s\"; a topic "
                                 "belongs to one input",
                                 conf->path ? conf->path : "config", in->line,
                                 in->name, in->topics[t],
                                 conf->inputs[owner].name);
            for (size_t u = 0; u < t; u++) {
                if (strcmp(in->topics[u], in->topics[t]) == 0)
                    return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                                     "%s:%d: inputs.%s.topics: topic \"%s\" "
                                     "listed twice",
                                     conf->path ? conf->path : "config",
                                     in->line, in->name, in->topics[t]);
            }
        }
    }
    if (!total)
        return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                         "%s: no input has a Kafka topic (inputs.*.topics)",
                         conf->path ? conf->path : "config");
    return BR_ERR_OK;
}

int br_kafka_topic_input(const br_config_t *conf, const char *topic) {
    for (size_t i = 0; i < conf->input_cnt; i++) {
        for (size_t t = 0; t < conf->inputs[i].topic_cnt; t++) {
            if (strcmp(conf->inputs[i].topics[t], topic) == 0)
                return (int)i;
        }
    }
    return -1;
}

/* Delivery reports: served from br_kafka_out_poll() on the pipeline thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque) {
    br_kafka_out_t *out = opaque;
    char qbuf[512];

    (void)rk;
    if (!rkm->err) {
        out->stats.delivered++;
        return;
    }
    out->stats.failed++;
    if (br_log_limited(out->rl, "delivery"))
        br_log(BR_LOG_ERROR, "delivery failed", "topic=%s error=%s failed=%" PRIu64,
               rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "?",
               br_log_quote(qbuf, sizeof qbuf, rd_kafka_err2str(rkm->err)),
               out->stats.failed);
}

static void on_producer_error(rd_kafka_t *rk, int err, const char *reason,
                              void *opaque) {
    br_kafka_out_t *out = opaque;
    char qbuf[512];

    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        out->fatal = 1;
        br_log(BR_LOG_ERROR, "producer fatal error", "error=%s",
               br_log_quote(qbuf, sizeof qbuf, reason));
        return;
    }
    if (br_log_limited(out->rl, "producer_error"))
        br_log(BR_LOG_WARN, "producer error (librdkafka retries)", "code=%s error=%s",
               rd_kafka_err2name((rd_kafka_resp_err_t)err),
               br_log_quote(qbuf, sizeof qbuf, reason));
}

void br_kafka_out_set_conf(br_kafka_out_t *out, const br_config_t *conf) {
    out->conf = conf;
}

br_kafka_out_t *br_kafka_out_new(const br_config_t *conf, const char *brokers,
                                 br_ratelimit_t *rl, char *errstr,
                                 size_t errstr_size) {
    br_kafka_out_t *out = calloc(1, sizeof *out);
    rd_kafka_conf_t *kconf = NULL;
    char why[512];

    if (!out) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        goto err;
    }
    out->conf = conf;
    out->rl = rl;
    br_buf_init(&out->buf);
    kconf = br_kafka_conf_new(conf, BR_KAFKA_PRODUCER, brokers, errstr, errstr_size);
    if (!kconf)
        goto err;
    rd_kafka_conf_set_opaque(kconf, out);
    rd_kafka_conf_set_dr_msg_cb(kconf, on_delivery);
    rd_kafka_conf_set_error_cb(kconf, on_producer_error);
    out->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, why, sizeof why);
    if (!out->rk) {
        br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "creating producer: %s", why);
        goto err;
    }
    kconf = NULL; /* rd_kafka_new() took it */
    return out;
err:
    if (kconf)
        rd_kafka_conf_destroy(kconf);
    br_kafka_out_destroy(out);
    return NULL;
}

void br_kafka_out_destroy(br_kafka_out_t *out) {
    if (!out)
        return;
    if (out->rk)
        rd_kafka_destroy(out->rk);
    br_buf_free(&out->buf);
    br_avro_encoder_free(out->alert_enc);
    br_avro_schema_free(out->alert_schema);
    free(out);
}

/* Alerts that exercise every field the alert schema must take: a budget
 * alert with a forecast and a spike with a root cause. */
static void example_alerts(br_alert_t ex[2]) {
    memset(ex, 0, 2 * sizeof *ex);
    for (int k = 0; k < 2; k++) {
        br_alert_t *a = &ex[k];
        snprintf(a->id, sizeof a->id, "0000000000000000");
        a->revision = 1;
        a->type = k ? BR_ALERT_SPIKE : BR_ALERT_BUDGET_THRESHOLD;
        a->scope = "x";
        a->label_cnt = 1;
        a->labels[0] = (br_dim_t){"team", "x"};
        a->window_end_ms = 3600000;
        a->watermark_ms = k ? INT64_MIN : 0;
        a->expected_nanos = k;
        snprintf(a->currency, sizeof a->currency, "USD");
        a->source = (br_origin_t){-1, "t", 0, 0, 0};
    }
    ex[0].budget = "x";
    ex[0].forecast_nanos = 1;
    ex[0].detail = "x";
    ex[1].contrib_cnt = 1;
    ex[1].contribs[0].scope = "x";
    ex[1].parent_id = "0000000000000000";
}

br_err_t br_kafka_out_use_avro(br_kafka_out_t *out, const char *schema_json,
                               char *errstr, size_t errstr_size) {
    char why[512];
    br_err_t err = BR_ERR_CONFIG;
    br_avro_schema_t *s =
        br_avro_schema_parse(schema_json, strlen(schema_json), why, sizeof why);
    br_avro_encoder_t *e = s ? br_avro_encoder_new(s, why, sizeof why) : NULL;
    br_alert_t ex[2];
    example_alerts(ex);
    for (int k = 0; e && k < 2; k++) {
        br_buf_t b;
        br_buf_init(&b);
        json_t *v = br_alert_to_value(&ex[k], NULL, 0);
        err = br_avro_encode(e, v, &b, why, sizeof why);
        json_decref(v);
        br_buf_free(&b);
        if (err)
            break;
    }
    if (err) {
        br_avro_encoder_free(e);
        br_avro_schema_free(s);
        return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                         "does not take burnrate's alerts: %s", why);
    }
    br_avro_encoder_free(out->alert_enc);
    br_avro_schema_free(out->alert_schema);
    out->alert_schema = s;
    out->alert_enc = e;
    return BR_ERR_OK;
}

void br_kafka_out_set_alert_schema_id(br_kafka_out_t *out, uint32_t id) {
    out->alert_schema_id = id;
}

/* Hand one message to librdkafka, waiting out a full local queue for at
 * most 30 s. hdrs: ownership passes on success, else destroyed here. */
static br_err_t produce(br_kafka_out_t *out, const char *topic,
                        const void *key, size_t key_len, const void *value,
                        size_t len, rd_kafka_headers_t *hdrs, char *errstr,
                        size_t errstr_size) {
    rd_kafka_vu_t vus[5];
    rd_kafka_error_t *error;
    int64_t deadline = br_log_mono_ms() + 30000;
    br_err_t ret = BR_ERR_OK;

    memset(vus, 0, sizeof vus);
    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[0].u.cstr = topic;
    vus[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[1].u.i = RD_KAFKA_MSG_F_COPY;
    vus[2].vtype = RD_KAFKA_VTYPE_KEY;
    vus[2].u.mem.ptr = (void *)(uintptr_t)key; /* copied, never written */
    vus[2].u.mem.size = key_len;
    vus[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[3].u.mem.ptr = (void *)(uintptr_t)value;
    vus[3].u.mem.size = len;
    vus[4].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[4].u.headers = hdrs;
    for (;;) {
        error = rd_kafka_produceva(out->rk, vus, 5);
        if (!error)
            return BR_ERR_OK; /* headers now belong to the message */
        if (rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
            br_log_mono_ms() > deadline)
            break;
        rd_kafka_error_destroy(error);
        rd_kafka_poll(out->rk, 100);
    }
    ret = br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "producing to %s: %s",
                    topic, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    rd_kafka_headers_destroy(hdrs);
    return ret;
}

br_err_t br_kafka_out_alert(br_kafka_out_t *out, const br_alert_t *alert,
                            const char **input_names, int64_t emitted_at_ms,
                            char *errstr, size_t errstr_size) {
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(3);
    char rev[16];
    br_err_t err;

    snprintf(rev, sizeof rev, "%" PRIu32, alert->revision);
    rd_kafka_header_add(hdrs, "burnrate.type", -1, br_alert_type_name(alert->type), -1);
    rd_kafka_header_add(hdrs, "burnrate.status", -1,
                        br_alert_status_name(alert->status), -1);
    rd_kafka_header_add(hdrs, "burnrate.revision", -1, rev, -1);
    br_buf_reset(&out->buf);
    if (out->alert_enc) {
        json_t *v = br_alert_to_value(alert, input_names, emitted_at_ms);
        char why[512];
        br_avro_confluent_header(out->alert_schema_id, &out->buf);
        err = v ? br_avro_encode(out->alert_enc, v, &out->buf, why, sizeof why)
                : BR_ERR_NOMEM;
        json_decref(v);
        if (err) {
            rd_kafka_headers_destroy(hdrs);
            return br_seterr(errstr, errstr_size, err,
                             "alert %s as Avro: %s", alert->id,
                             err == BR_ERR_NOMEM ? "out of memory" : why);
        }
    } else {
        br_alert_to_json(alert, input_names, emitted_at_ms, &out->buf);
    }
    if (out->buf.oom) {
        rd_kafka_headers_destroy(hdrs);
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                         "out of memory formatting alert %s", alert->id);
    }
    err = produce(out, out->conf->kafka.alerts_topic, alert->id,
                  strlen(alert->id), out->buf.data, out->buf.len, hdrs, errstr,
                  errstr_size);
    if (!err)
        out->stats.alerts_sent++;
    return err;
}

br_err_t br_kafka_out_dead_letter(br_kafka_out_t *out,
                                  const br_origin_t *origin,
                                  const char *input_name, const void *key,
                                  size_t key_len, const void *payload,
                                  size_t len, br_err_t reason,
                                  const char *detail, char *errstr,
                                  size_t errstr_size) {
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
    char part[16], off[24], trunc[24];
    br_err_t err;

    snprintf(part, sizeof part, "%" PRId32, origin->partition);
    snprintf(off, sizeof off, "%" PRId64, origin->offset);
    rd_kafka_header_add(hdrs, "burnrate.reason", -1, br_err_name(reason), -1);
    rd_kafka_header_add(hdrs, "burnrate.detail", -1, detail ? detail : "", -1);
    rd_kafka_header_add(hdrs, "burnrate.topic", -1,
                        origin->topic ? origin->topic : "", -1);
    rd_kafka_header_add(hdrs, "burnrate.partition", -1, part, -1);
    rd_kafka_header_add(hdrs, "burnrate.offset", -1, off, -1);
    rd_kafka_header_add(hdrs, "burnrate.input", -1, input_name ? input_name : "", -1);
    if (len > BR_KAFKA_DLQ_MAX_BYTES) {
        snprintf(trunc, sizeof trunc, "%zu", len);
        rd_kafka_header_add(hdrs, "burnrate.truncated", -1, trunc, -1);
        len = BR_KAFKA_DLQ_MAX_BYTES;
    }
    err = produce(out, out->conf->kafka.dlq_topic, key, key_len, payload, len,
                  hdrs, errstr, errstr_size);
    if (!err)
        out->stats.dead_letters_sent++;
    return err;
}

static br_err_t output_alert(void *opaque, const br_alert_t *alert,
                             const char **input_names, int64_t emitted_ms,
                             br_buf_t *scratch, char *errstr,
                             size_t errstr_size) {
    (void)scratch;
    return br_kafka_out_alert(opaque, alert, input_names, emitted_ms, errstr,
                              errstr_size);
}

static br_err_t output_dead_letter(void *opaque, const br_dead_letter_t *dl,
                                   br_buf_t *scratch, char *errstr,
                                   size_t errstr_size) {
    (void)scratch;
    return br_kafka_out_dead_letter(opaque, dl->origin, dl->input, dl->key,
                                    dl->key_len, dl->payload, dl->len,
                                    dl->reason, dl->detail, errstr,
                                    errstr_size);
}

br_output_t br_kafka_output(br_kafka_out_t *out) {
    return (br_output_t){"kafka", output_alert, output_dead_letter, out};
}

void br_kafka_out_poll(br_kafka_out_t *out, int timeout_ms) {
    rd_kafka_poll(out->rk, timeout_ms);
}

int br_kafka_out_flush(br_kafka_out_t *out, int timeout_ms) {
    rd_kafka_flush(out->rk, timeout_ms);
    return rd_kafka_outq_len(out->rk);
}

void br_kafka_out_stats(const br_kafka_out_t *out, br_kafka_out_stats_t *stats) {
    *stats = out->stats;
}

rd_kafka_t *br_kafka_out_handle(br_kafka_out_t *out) {
    return out->rk;
}

bool br_kafka_out_fatal(br_kafka_out_t *out, char *errstr, size_t errstr_size) {
    if (!out->fatal)
        return false;
    rd_kafka_fatal_error(out->rk, errstr, errstr_size);
    return true;
}
