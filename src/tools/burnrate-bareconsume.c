/*
 * The benchmark's reference: a bare librdkafka consumer that reads N
 * messages from a topic and touches nothing but their length, so burnrate's
 * end-to-end rate can be put next to the raw consume rate of the same topic.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig) {
    stop_sig = sig;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: burnrate-bareconsume --brokers LIST --topic T --count N\n"
            "                            [--timeout SECONDS] [--group ID]\n"
            "\n"
            "Reads N messages from the beginning of topic T with a plain\n"
            "librdkafka consumer and prints messages/s and MB/s on stdout.\n"
            "Exits 1 if fewer than N arrive within the timeout (default 60).\n");
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *val) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, val, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "burnrate-bareconsume: %s: %s\n", key, errstr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *brokers = NULL, *topic = NULL, *group = NULL;
    long long count = -1;
    double timeout_s = 60;
    char group_buf[64];
    char errstr[512];
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_partition_list_t *subs = NULL;
    struct sigaction sa;
    uint64_t got = 0, bytes = 0;
    double t_start = 0, t_first = 0, t_last = 0, deadline;
    int ret = 1;
    int i;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!val) {
            fprintf(stderr, "burnrate-bareconsume: %s needs a value\n", arg);
            return 2;
        }
        i++;
        if (!strcmp(arg, "--brokers"))
            brokers = val;
        else if (!strcmp(arg, "--topic"))
            topic = val;
        else if (!strcmp(arg, "--group"))
            group = val;
        else if (!strcmp(arg, "--count"))
            count = strtoll(val, NULL, 10);
        else if (!strcmp(arg, "--timeout"))
            timeout_s = strtod(val, NULL);
        else {
            fprintf(stderr, "burnrate-bareconsume: unknown option %s\n", arg);
            usage(stderr);
            return 2;
        }
    }
    if (!brokers || !topic || count <= 0 || timeout_s <= 0) {
        usage(stderr);
        return 2;
    }
    if (!group) {
        /* A fresh group every run, so it always starts at the beginning. */
        snprintf(group_buf, sizeof(group_buf), "bareconsume-%ld-%ld",
                 (long)time(NULL), (long)clock());
        group = group_buf;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", brokers) ||
        set(conf, "group.id", group) ||
        set(conf, "auto.offset.reset", "earliest") ||
        set(conf, "enable.auto.commit", "false") ||
        set(conf, "enable.partition.eof", "false"))
        goto out;
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "burnrate-bareconsume: %s\n", errstr);
        goto out;
    }
    conf = NULL; /* owned by rk */
    rd_kafka_poll_set_consumer(rk);

    subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, subs)) {
        fprintf(stderr, "burnrate-bareconsume: cannot subscribe to %s\n", topic);
        goto out;
    }

    t_start = mono_s();
    deadline = t_start + timeout_s;
    while (!stop_sig && got < (uint64_t)count && mono_s() < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (!rkm)
            continue;
        if (rkm->err) {
            if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "burnrate-bareconsume: %s\n",
                        rd_kafka_message_errstr(rkm));
        } else {
            if (got == 0)
                t_first = mono_s();
            got++;
            bytes += rkm->len;
        }
        rd_kafka_message_destroy(rkm);
    }
    t_last = mono_s();

    if (got > 0) {
        /* The rate is measured from the first message on, so that group
         * join and partition assignment do not count. */
        double secs = t_last - t_first;
        if (secs <= 0)
            secs = 1e-9;
        printf("messages=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f "
               "msgs_per_s=%.0f mb_per_s=%.1f startup_s=%.3f\n",
               got, bytes, secs, (double)got / secs,
               (double)bytes / secs / 1e6, t_first - t_start);
    }
    if (got < (uint64_t)count) {
        fprintf(stderr, "burnrate-bareconsume: got %" PRIu64 " of %lld messages\n",
                got, count);
        goto out;
    }
    ret = 0;

out:
    if (subs)
        rd_kafka_topic_partition_list_destroy(subs);
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    if (conf)
        rd_kafka_conf_destroy(conf);
    return ret;
}
