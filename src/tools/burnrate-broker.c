/*
 * An embedded Kafka-protocol broker for the demo, the benchmark and the
 * integration tests: librdkafka's mock cluster on loopback, so no JVM and no
 * network. It dies with the script that started it (stdin EOF).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig) {
    stop_sig = sig;
}

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: burnrate-broker [--brokers N] [--topics a,b,c] "
            "[--partitions P]\n"
            "\n"
            "Starts librdkafka's mock Kafka cluster on loopback, prints its\n"
            "bootstrap servers as the first line of stdout and runs until\n"
            "SIGINT/SIGTERM, or until stdin (when it is a pipe or a terminal)\n"
            "reaches end of file.\n"
            "\n"
            "  --brokers N      brokers in the cluster (default 1)\n"
            "  --topics LIST    topics to create up front, comma-separated;\n"
            "                   others are created on first produce with the\n"
            "                   mock's default partition count\n"
            "  --partitions P   partitions of each listed topic (default 8)\n");
}

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Create every topic of a comma-separated list; returns 0 or -1. */
static int create_topics(rd_kafka_mock_cluster_t *mcluster, const char *list,
                         int partitions, int replication) {
    char *copy = strdup(list);
    char *save = NULL;
    char *tok;
    int ret = 0;

    if (!copy)
        return -1;
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        rd_kafka_resp_err_t err;

        if (!*tok)
            continue;
        err = rd_kafka_mock_topic_create(mcluster, tok, partitions,
                                         replication);
        if (err) {
            fprintf(stderr, "burnrate-broker: create topic %s: %s\n", tok,
                    rd_kafka_err2str(err));
            ret = -1;
            break;
        }
    }
    free(copy);
    return ret;
}

/* stdin is watched only when it can reach EOF because a writer went away:
 * a pipe, a FIFO, a socket or a terminal (not /dev/null, which bash gives
 * background jobs, nor a regular file). */
static int stdin_watchable(void) {
    struct stat sb;

    if (isatty(STDIN_FILENO))
        return 1;
    if (fstat(STDIN_FILENO, &sb) != 0)
        return 0;
    return S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode);
}

int main(int argc, char **argv) {
    int broker_cnt = 1;
    int partitions = 8;
    const char *topics = NULL;
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_mock_cluster_t *mcluster = NULL;
    struct sigaction sa;
    char errstr[512];
    int watch_stdin;
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
            fprintf(stderr, "burnrate-broker: %s needs a value\n", arg);
            usage(stderr);
            return 2;
        }
        if (!strcmp(arg, "--brokers")) {
            if (parse_int(val, 1, 64, &broker_cnt)) {
                fprintf(stderr, "burnrate-broker: --brokers: 1..64\n");
                return 2;
            }
        } else if (!strcmp(arg, "--partitions")) {
            if (parse_int(val, 1, 10000, &partitions)) {
                fprintf(stderr, "burnrate-broker: --partitions: 1..10000\n");
                return 2;
            }
        } else if (!strcmp(arg, "--topics")) {
            topics = val;
        } else {
            fprintf(stderr, "burnrate-broker: unknown option %s\n", arg);
            usage(stderr);
            return 2;
        }
        i++;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    /* The mock cluster needs a client instance for its bookkeeping; a
     * producer with no bootstrap servers never connects anywhere. */
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "burnrate-broker: %s\n", errstr);
        goto out;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "burnrate-broker: %s\n", errstr);
        goto out;
    }
    conf = NULL; /* owned by rk */

    mcluster = rd_kafka_mock_cluster_new(rk, broker_cnt);
    if (!mcluster) {
        fprintf(stderr, "burnrate-broker: cannot create the mock cluster\n");
        goto out;
    }
    if (topics && create_topics(mcluster, topics, partitions,
                                broker_cnt < 3 ? broker_cnt : 3) != 0)
        goto out;

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
    fflush(stdout);
    fprintf(stderr, "burnrate-broker: %d broker(s) at %s\n", broker_cnt,
            rd_kafka_mock_cluster_bootstraps(mcluster));

    watch_stdin = stdin_watchable();
    while (!stop_sig) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int n = poll(&pfd, watch_stdin ? 1 : 0, 500);

        if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[256];
            ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));

            if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
                fprintf(stderr, "burnrate-broker: stdin closed, exiting\n");
                break;
            }
        }
    }
    if (stop_sig)
        fprintf(stderr, "burnrate-broker: signal %d, exiting\n",
                (int)stop_sig);
    ret = 0;

out:
    if (mcluster)
        rd_kafka_mock_cluster_destroy(mcluster);
    if (rk)
        rd_kafka_destroy(rk);
    if (conf)
        rd_kafka_conf_destroy(conf);
    return ret;
}
