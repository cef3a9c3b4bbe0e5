/*
 * `burnrate run`: consume -> pipeline -> produce on one thread. Signal
 * handlers only set a flag; the loop notices it within one poll (100 ms),
 * closes the consumer, flushes the producer and returns.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "burnrate/daemon.h"
#include "burnrate/kafka.h"
#include "burnrate/log.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"
#include "burnrate/ts.h"

#define POLL_MS 100
#define LOG_BURST 5           /* lines per key ... */
#define LOG_PERIOD_MS 10000   /* ... per this much time */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    static const char msg[] = "burnrate: second signal during shutdown, exiting now\n";
    (void)sig;
    if (stop_requested) {
        ssize_t rc = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)rc;
        _exit(130);
    }
    stop_requested = 1;
}

void br_daemon_install_signals(void) {
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

bool br_daemon_stop_requested(void) {
    return stop_requested != 0;
}

typedef struct daemon {
    const br_config_t *conf;              /* borrowed */
    const br_daemon_opts_t *opts;         /* borrowed */
    rd_kafka_t *rk;                       /* consumer, owned */
    br_kafka_out_t *out;                  /* producer, owned */
    br_pipeline_t *pl;                    /* owned */
    const char **input_names;             /* borrowed from pl */
    const rd_kafka_message_t *cur;        /* message being fed, or NULL */
    rd_kafka_topic_t *last_rkt;           /* topic -> input cache */
    int last_input;
    br_ratelimit_t rl;
    br_buf_t line;                        /* readable alert line, reused */
    uint64_t dead_by_reason[BR_ERR__CNT]; /* dead letters per reason */
    uint64_t produce_errors;              /* alerts/dead letters refused */
    uint64_t foreign;                     /* messages of unknown topics */
    int fatal;                            /* consumer raised a fatal error */
} daemon_t;

/* A rate-limited line for noisy events; key groups them. */
#define LIMITED(d, lvl, key, msg, fmt, ...)                                   \
    do {                                                                      \
        if (br_log_limited(&(d)->rl, key))                                    \
            br_log(lvl, msg, fmt, __VA_ARGS__);                               \
    } while (0)

static void on_alert(void *opaque, const br_alert_t *alert) {
    daemon_t *d = opaque;
    char why[512], qbuf[600];

    if (br_kafka_out_alert(d->out, alert, d->input_names, br_log_wall_ms(), why,
                           sizeof why)) {
        d->produce_errors++;
        LIMITED(d, BR_LOG_ERROR, "produce", "alert not sent", "id=%s error=%s",
                alert->id, br_log_quote(qbuf, sizeof qbuf, why));
    }
    if (d->opts->print_alerts) {
        br_buf_reset(&d->line);
        br_alert_format_line(alert, &d->line);
        fwrite(d->line.data, 1, d->line.len, stdout);
        fflush(stdout);
    }
}

static void on_dead_letter(void *opaque, const br_origin_t *origin,
                           const void *payload, size_t len, br_err_t reason,
                           const char *detail) {
    daemon_t *d = opaque;
    const void *key = NULL;
    size_t key_len = 0;
    const char *input = origin->input >= 0 && (size_t)origin->input < d->conf->input_cnt
                            ? d->conf->inputs[origin->input].name
                            : "";
    char why[512], qbuf[600], qtopic[300];

    if (d->cur && d->cur->partition == origin->partition &&
        d->cur->offset == origin->offset) {
        key = d->cur->key;
        key_len = d->cur->key_len;
    }
    if ((unsigned)reason < BR_ERR__CNT)
        d->dead_by_reason[reason]++;
    LIMITED(d, BR_LOG_WARN, "dead_letter", "dead letter",
            "where=%s[%" PRId32 "]@%" PRId64 " reason=%s detail=%s",
            br_log_quote(qtopic, sizeof qtopic, origin->topic), origin->partition,
            origin->offset, br_err_name(reason),
            br_log_quote(qbuf, sizeof qbuf, detail));
    if (br_kafka_out_dead_letter(d->out, origin, input, key, key_len, payload, len,
                                 reason, detail, why, sizeof why)) {
        d->produce_errors++;
        LIMITED(d, BR_LOG_ERROR, "produce", "dead letter not sent", "error=%s",
                br_log_quote(qbuf, sizeof qbuf, why));
    }
}

static void on_consumer_error(rd_kafka_t *rk, int err, const char *reason,
                              void *opaque) {
    daemon_t *d = opaque;
    char qbuf[512];

    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        d->fatal = 1;
        br_log(BR_LOG_ERROR, "consumer fatal error", "error=%s",
               br_log_quote(qbuf, sizeof qbuf, reason));
        return;
    }
    LIMITED(d, BR_LOG_WARN, "consumer_error", "consumer error (librdkafka retries)",
            "code=%s error=%s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
            br_log_quote(qbuf, sizeof qbuf, reason));
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    bool assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;

    (void)opaque;
    br_log(BR_LOG_INFO, assign ? "partitions assigned" : "partitions revoked",
           "count=%d protocol=%s", parts->cnt, cooperative ? "cooperative" : "eager");
    for (int i = 0; i < parts->cnt && br_log_enabled(BR_LOG_DEBUG); i++)
        br_log(BR_LOG_DEBUG, assign ? "assigned" : "revoked", "partition=%s[%" PRId32 "]",
               parts->elems[i].topic, parts->elems[i].partition);
    if (cooperative)
        error = assign ? rd_kafka_incremental_assign(rk, parts)
                       : rd_kafka_incremental_unassign(rk, parts);
    else
        rerr = rd_kafka_assign(rk, assign ? parts : NULL);
    if (error) {
        br_log(BR_LOG_ERROR, "rebalance failed", "error=%s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (rerr) {
        br_log(BR_LOG_ERROR, "rebalance failed", "error=%s", rd_kafka_err2str(rerr));
    }
}

/*
 * The one place that decides what may be committed. Today: every message
 * the pipeline has taken (at-least-once; a restart replays what came after
 * the last auto-commit). With durable snapshots this stores only the
 * offsets a snapshot covers.
 */
static void store_progress(daemon_t *d, const rd_kafka_message_t *rkm) {
    rd_kafka_resp_err_t err = rd_kafka_offset_store(rkm->rkt, rkm->partition,
                                                    rkm->offset);
    if (err && err != RD_KAFKA_RESP_ERR__STATE)
        LIMITED(d, BR_LOG_WARN, "offset_store", "offset not stored",
                "where=%s[%" PRId32 "]@%" PRId64 " error=%s",
                rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset,
                rd_kafka_err2name(err));
}

static void handle_message(daemon_t *d, const rd_kafka_message_t *rkm) {
    br_origin_t origin;
    char qbuf[512];

    if (rkm->err) {
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return;
        LIMITED(d, BR_LOG_WARN, "consume_error", "consume error",
                "topic=%s partition=%" PRId32 " code=%s error=%s",
                rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "-", rkm->partition,
                rd_kafka_err2name(rkm->err),
                br_log_quote(qbuf, sizeof qbuf, rd_kafka_message_errstr(rkm)));
        return;
    }
    if (rkm->rkt != d->last_rkt) {
        d->last_rkt = rkm->rkt;
        d->last_input = br_kafka_topic_input(d->conf, rd_kafka_topic_name(rkm->rkt));
    }
    if (d->last_input < 0) {
        /* Subscribed topics only; a regex subscription is not offered. */
        d->foreign++;
        store_progress(d, rkm);
        return;
    }
    origin.input = d->last_input;
    origin.topic = rd_kafka_topic_name(rkm->rkt);
    origin.partition = rkm->partition;
    origin.offset = rkm->offset;
    d->cur = rkm;
    br_pipeline_feed(d->pl, &origin, rkm->payload ? rkm->payload : "", rkm->len);
    d->cur = NULL;
    store_progress(d, rkm);
}

static void log_stats(daemon_t *d, const char *msg, uint64_t *last_messages,
                      int64_t *last_ms) {
    br_pipeline_stats_t st;
    br_kafka_out_stats_t os;
    int64_t now = br_log_mono_ms();
    char wm[40] = "-", money[40];
    double rate;

    br_pipeline_stats(d->pl, &st);
    br_kafka_out_stats(d->out, &os);
    if (st.watermark_ms != INT64_MIN)
        br_ts_format(st.watermark_ms, wm, sizeof wm);
    br_money_format(st.total_nanos, money, sizeof money);
    rate = now > *last_ms ? (double)(st.messages - *last_messages) * 1000.0 /
                                (double)(now - *last_ms)
                          : 0.0;
    br_log(BR_LOG_INFO, msg,
           "messages=%" PRIu64 " ok=%" PRIu64 " skipped=%" PRIu64
           " dead_letters=%" PRIu64 " alerts=%" PRIu64 " series=%" PRIu64
           " priced=%" PRIu64 " unpriced=%" PRIu64 " late=%" PRIu64
           " total=%s currency=%s watermark=%s watermark_lag_ms=%" PRId64
           " rate_per_s=%.0f delivered=%" PRIu64 " delivery_failed=%" PRIu64,
           st.messages, st.ok, st.skipped, st.dead_letters, st.alerts, st.series,
           st.priced, st.unpriced, st.late, money, d->conf->currency, wm,
           st.watermark_ms != INT64_MIN && st.max_event_ms != INT64_MIN
               ? st.max_event_ms - st.watermark_ms
               : 0,
           rate, os.delivered, os.failed);
    *last_messages = st.messages;
    *last_ms = now;
}

/* One line with the dead letters of this run by reason, if there were any. */
static void log_dead_reasons(const daemon_t *d) {
    char line[512];
    size_t n = 0;

    line[0] = '\0';
    for (int i = 0; i < BR_ERR__CNT && n < sizeof line; i++) {
        if (!d->dead_by_reason[i])
            continue;
        int rc = snprintf(line + n, sizeof line - n, "%s%s:%" PRIu64, n ? "," : "",
                          br_err_name((br_err_t)i), d->dead_by_reason[i]);
        if (rc > 0)
            n += (size_t)rc;
    }
    if (line[0])
        br_log(BR_LOG_INFO, "dead letters by reason", "reasons=%s", line);
}

static br_err_t subscribe(daemon_t *d, char *errstr, size_t errstr_size) {
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(8);
    rd_kafka_resp_err_t err;

    for (size_t i = 0; i < d->conf->input_cnt; i++) {
        for (size_t t = 0; t < d->conf->inputs[i].topic_cnt; t++)
            rd_kafka_topic_partition_list_add(topics, d->conf->inputs[i].topics[t],
                                              RD_KAFKA_PARTITION_UA);
    }
    err = rd_kafka_subscribe(d->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err)
        return br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "subscribe: %s",
                         rd_kafka_err2str(err));
    return BR_ERR_OK;
}

static br_err_t start(daemon_t *d, char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *kconf = NULL;
    br_sink_t sink = {on_alert, on_dead_letter, d};
    char why[512];
    br_err_t err;

    if ((err = br_kafka_check_topics(d->conf, errstr, errstr_size)))
        return err;
    if (!d->opts->brokers && !(d->conf->kafka.brokers && *d->conf->kafka.brokers))
        return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                         "%s: no Kafka brokers: set kafka.brokers or pass --brokers",
                         d->conf->path ? d->conf->path : "config");
    d->pl = br_pipeline_new(d->conf, &sink, errstr, errstr_size);
    if (!d->pl)
        return BR_ERR_CONFIG;
    d->input_names = br_pipeline_input_names(d->pl);
    d->out = br_kafka_out_new(d->conf, d->opts->brokers, &d->rl, errstr, errstr_size);
    if (!d->out)
        return BR_ERR_KAFKA;
    kconf = br_kafka_conf_new(d->conf, BR_KAFKA_CONSUMER, d->opts->brokers, errstr,
                              errstr_size);
    if (!kconf)
        return BR_ERR_CONFIG;
    rd_kafka_conf_set_opaque(kconf, d);
    rd_kafka_conf_set_error_cb(kconf, on_consumer_error);
    rd_kafka_conf_set_rebalance_cb(kconf, on_rebalance);
    d->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, why, sizeof why);
    if (!d->rk) {
        rd_kafka_conf_destroy(kconf);
        return br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "creating consumer: %s",
                         why);
    }
    /* Fetched messages and callbacks come through one queue. */
    rd_kafka_poll_set_consumer(d->rk);
    return subscribe(d, errstr, errstr_size);
}

static void log_config(const br_config_t *conf, const br_daemon_opts_t *opts) {
    const br_kafka_conf_t *kc = &conf->kafka;
    char qbuf[512], qval[512];

    br_log(BR_LOG_INFO, "starting", "config=%s brokers=%s group=%s alerts_topic=%s "
           "dead_letter_topic=%s inputs=%zu scopes=%zu budgets=%zu",
           br_log_quote(qbuf, sizeof qbuf, conf->path),
           opts->brokers ? opts->brokers : kc->brokers ? kc->brokers : "-",
           kc->group_id ? kc->group_id : "burnrate", kc->alerts_topic,
           kc->dlq_topic, conf->input_cnt, conf->scope_cnt, conf->budget_cnt);
    for (size_t i = 0; i < kc->prop_cnt; i++)
        br_log(BR_LOG_DEBUG, "kafka property", "key=%s value=%s", kc->props[i].key,
               br_log_quote(qval, sizeof qval,
                            br_log_redact(kc->props[i].key, kc->props[i].value)));
    for (size_t i = 0; i < kc->consumer_prop_cnt; i++)
        br_log(BR_LOG_DEBUG, "kafka consumer property", "key=%s value=%s",
               kc->consumer_props[i].key,
               br_log_quote(qval, sizeof qval,
                            br_log_redact(kc->consumer_props[i].key,
                                          kc->consumer_props[i].value)));
    for (size_t i = 0; i < kc->producer_prop_cnt; i++)
        br_log(BR_LOG_DEBUG, "kafka producer property", "key=%s value=%s",
               kc->producer_props[i].key,
               br_log_quote(qval, sizeof qval,
                            br_log_redact(kc->producer_props[i].key,
                                          kc->producer_props[i].value)));
}

int br_daemon_run(const br_config_t *conf, const br_daemon_opts_t *opts) {
    daemon_t *d = calloc(1, sizeof *d);
    char errstr[1024], qbuf[1100];
    uint64_t last_messages = 0;
    int64_t last_ms, next_stats_ms;
    int undelivered, ret = 1;

    if (!d) {
        br_log(BR_LOG_ERROR, "out of memory", NULL);
        return 1;
    }
    d->conf = conf;
    d->opts = opts;
    d->last_input = -1;
    br_ratelimit_init(&d->rl, LOG_BURST, LOG_PERIOD_MS);
    br_buf_init(&d->line);
    log_config(conf, opts);
    if (start(d, errstr, sizeof errstr)) {
        br_log(BR_LOG_ERROR, "startup failed", "error=%s",
               br_log_quote(qbuf, sizeof qbuf, errstr));
        goto done;
    }
    br_log(BR_LOG_INFO, "running", "pid=%ld", (long)getpid());
    last_ms = br_log_mono_ms();
    next_stats_ms = last_ms + BR_DAEMON_STATS_MS;
    while (!stop_requested && !d->fatal) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(d->rk, POLL_MS);
        int64_t now;

        if (rkm) {
            handle_message(d, rkm);
            rd_kafka_message_destroy(rkm);
        }
        br_kafka_out_poll(d->out, 0);
        if (br_kafka_out_fatal(d->out, errstr, sizeof errstr))
            break;
        now = br_log_mono_ms();
        if (now >= next_stats_ms) {
            log_stats(d, "stats", &last_messages, &last_ms);
            br_ratelimit_flush(&d->rl, now);
            next_stats_ms = now + BR_DAEMON_STATS_MS;
        }
    }
    ret = 0;
    if (d->fatal || br_kafka_out_fatal(d->out, errstr, sizeof errstr)) {
        char fatal[512] = "";
        rd_kafka_fatal_error(d->fatal ? d->rk : br_kafka_out_handle(d->out), fatal,
                             sizeof fatal);
        br_log(BR_LOG_ERROR, "fatal Kafka error, shutting down", "error=%s",
               br_log_quote(qbuf, sizeof qbuf, fatal));
        ret = 1;
    } else {
        br_log(BR_LOG_INFO, "shutting down", "reason=signal");
    }
    /* Commits the stored offsets and leaves the group. */
    rd_kafka_consumer_close(d->rk);
    undelivered = br_kafka_out_flush(d->out, BR_DAEMON_FLUSH_MS);
    br_ratelimit_flush(&d->rl, br_log_mono_ms() + LOG_PERIOD_MS);
    log_stats(d, "stopped", &last_messages, &last_ms);
    log_dead_reasons(d);
    if (undelivered > 0) {
        br_log(BR_LOG_ERROR, "messages not delivered before shutdown",
               "undelivered=%d flush_ms=%d", undelivered, BR_DAEMON_FLUSH_MS);
    }
    if (d->produce_errors)
        br_log(BR_LOG_ERROR, "messages refused by the producer", "count=%" PRIu64,
               d->produce_errors);
done:
    if (d->rk)
        rd_kafka_destroy(d->rk);
    br_kafka_out_destroy(d->out);
    br_pipeline_destroy(d->pl);
    br_buf_free(&d->line);
    free(d);
    return ret;
}
