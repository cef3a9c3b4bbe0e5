/*
 * An embedded Kafka-protocol broker for the demo, the benchmark and the
 * integration tests: librdkafka's mock cluster on loopback, so no JVM and no
 * network. It dies with the script that started it (stdin EOF), and takes
 * fault-injection commands on stdin, one per line, each answered with one
 * line on stdout (line 1 of stdout is the bootstrap servers):
 *
 *   down ID|all                      disconnect a broker, refuse connections
 *   up ID|all                        accept connections again
 *   rtt ID|all MS                    delay every response by MS ms (0: off)
 *   errors API COUNT ERR             the next COUNT API requests to any
 *                                    broker fail with ERR (cluster stack)
 *   broker-errors ID API COUNT ERR [MS]
 *                                    the next COUNT API requests to broker
 *                                    ID fail with ERR after MS ms (broker
 *                                    stack, takes precedence)
 *   pending ID API                   answers "ok pending ID API: N", the
 *                                    errors left on broker ID's API stack
 *   clear API                        empty the cluster stack of API
 *   coordinator group|transaction KEY ID
 *                                    move a group's (transactional id's)
 *                                    coordinator to broker ID
 *   leader TOPIC PARTITION ID        move a partition's leader (-1: none)
 *   topic-error TOPIC ERR            requests on TOPIC fail with ERR
 *                                    (NO_ERROR clears it)
 *   create TOPIC PARTITIONS REPLICAS create a topic
 *   ping                             answers "ok ping"
 *
 * API is a Kafka protocol request name (Produce, Fetch, OffsetCommit, ...)
 * or its number; ERR is a librdkafka error name without the
 * RD_KAFKA_RESP_ERR_ prefix (NOT_LEADER_FOR_PARTITION, _TRANSPORT, ...) or
 * its number. Answers: "ok <command>" or "error <command>: <why>".
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
            "  --partitions P   partitions of each listed topic (default 8)\n"
            "\n"
            "Fault injection: while stdin is open, each line is a command,\n"
            "answered on stdout by one line, \"ok <command>\" or\n"
            "\"error <command>: <why>\". Brokers are numbered 1..N.\n"
            "\n"
            "  down ID|all                  disconnect, refuse connections\n"
            "  up ID|all                    accept connections again\n"
            "  rtt ID|all MS                delay responses by MS ms (0: off)\n"
            "  errors API COUNT ERR         next COUNT API requests to any\n"
            "                               broker fail with ERR\n"
            "  broker-errors ID API COUNT ERR [MS]\n"
            "                               next COUNT API requests to broker\n"
            "                               ID fail with ERR, answered after\n"
            "                               MS ms (takes precedence)\n"
            "  pending ID API               \"ok pending ID API: N\", errors\n"
            "                               left on broker ID's API stack\n"
            "  clear API                    drop the cluster-wide API errors\n"
            "  coordinator group|transaction KEY ID\n"
            "                               move KEY's coordinator to ID\n"
            "  leader TOPIC PARTITION ID    move a partition's leader\n"
            "  topic-error TOPIC ERR        fail requests on TOPIC with ERR\n"
            "                               (NO_ERROR clears it)\n"
            "  create TOPIC PARTITIONS REPLICAS\n"
            "  ping                         answers \"ok ping\"\n"
            "\n"
            "API: a Kafka request name (Produce, Fetch, ListOffsets,\n"
            "Metadata, OffsetCommit, OffsetFetch, FindCoordinator,\n"
            "JoinGroup, Heartbeat, LeaveGroup, SyncGroup, InitProducerId,\n"
            "...) or its number. ERR: a librdkafka error name without the\n"
            "RD_KAFKA_RESP_ERR_ prefix (NOT_LEADER_FOR_PARTITION,\n"
            "REQUEST_TIMED_OUT, NOT_COORDINATOR, _TRANSPORT, ...) or its\n"
            "number.\n");
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

/* Kafka protocol request names and their api keys (KIP-482 numbering). */
static const struct {
    const char *name;
    int16_t key;
} api_names[] = {
    {"Produce", 0},           {"Fetch", 1},
    {"ListOffsets", 2},       {"Offset", 2},
    {"Metadata", 3},          {"LeaderAndIsr", 4},
    {"StopReplica", 5},       {"UpdateMetadata", 6},
    {"ControlledShutdown", 7}, {"OffsetCommit", 8},
    {"OffsetFetch", 9},       {"FindCoordinator", 10},
    {"JoinGroup", 11},        {"Heartbeat", 12},
    {"LeaveGroup", 13},       {"SyncGroup", 14},
    {"DescribeGroups", 15},   {"ListGroups", 16},
    {"SaslHandshake", 17},    {"ApiVersion", 18},
    {"ApiVersions", 18},      {"CreateTopics", 19},
    {"DeleteTopics", 20},     {"DeleteRecords", 21},
    {"InitProducerId", 22},   {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},           {"WriteTxnMarkers", 27},
    {"TxnOffsetCommit", 28},  {"DescribeAcls", 29},
    {"CreateAcls", 30},       {"DeleteAcls", 31},
    {"DescribeConfigs", 32},  {"AlterConfigs", 33},
    {"SaslAuthenticate", 36}, {"CreatePartitions", 37},
    {"DeleteGroups", 42},     {"OffsetDelete", 47},
};

/* What a command needs from the running broker. */
typedef struct {
    rd_kafka_mock_cluster_t *mcluster; /* borrowed */
    int broker_cnt;                    /* brokers are numbered 1..broker_cnt */
} broker_ctx_t;

#define CMD_MAX_ARGS 8

static int parse_api(const char *s, int16_t *out) {
    int v;

    for (size_t i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++) {
        if (!strcasecmp(s, api_names[i].name)) {
            *out = api_names[i].key;
            return 0;
        }
    }
    if (parse_int(s, 0, 32767, &v) == 0) {
        *out = (int16_t)v;
        return 0;
    }
    return -1;
}

/* An error by its librdkafka name (with or without the RD_KAFKA_RESP_ERR_
 * prefix, any case) or by its number. */
static int parse_err(const char *s, rd_kafka_resp_err_t *out) {
    const struct rd_kafka_err_desc *descs = NULL;
    size_t cnt = 0;
    int v;

    if (!strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18))
        s += 18;
    rd_kafka_get_err_descs(&descs, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        if (descs[i].name && !strcasecmp(s, descs[i].name)) {
            *out = descs[i].code;
            return 0;
        }
    }
    if (!strcasecmp(s, "NO_ERROR")) {
        *out = RD_KAFKA_RESP_ERR_NO_ERROR;
        return 0;
    }
    if (parse_int(s, -200, 32767, &v) == 0) {
        *out = (rd_kafka_resp_err_t)v;
        return 0;
    }
    return -1;
}

/* A broker id 1..broker_cnt, or "all" (-1) when allowed. */
static int parse_broker(const broker_ctx_t *ctx, const char *s, int allow_all,
                        int32_t *out) {
    int v;

    if (allow_all && !strcmp(s, "all")) {
        *out = -1;
        return 0;
    }
    if (parse_int(s, 1, ctx->broker_cnt, &v))
        return -1;
    *out = v;
    return 0;
}

/* down/up/rtt on one broker or, for -1, on each in turn (the mock of
 * librdkafka 2.0.2 knows no "all brokers" id). */
static rd_kafka_resp_err_t broker_op(const broker_ctx_t *ctx, const char *op,
                                     int32_t id, int rtt_ms) {
    int32_t lo = id < 0 ? 1 : id, hi = id < 0 ? ctx->broker_cnt : id;

    for (int32_t b = lo; b <= hi; b++) {
        rd_kafka_resp_err_t err;

        if (!strcmp(op, "down"))
            err = rd_kafka_mock_broker_set_down(ctx->mcluster, b);
        else if (!strcmp(op, "up"))
            err = rd_kafka_mock_broker_set_up(ctx->mcluster, b);
        else
            err = rd_kafka_mock_broker_set_rtt(ctx->mcluster, b, rtt_ms);
        if (err)
            return err;
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/*
 * Run one command (args[0] is its name). Returns 0, or -1 with the reason
 * in why. extra receives text to append to the "ok" answer (may stay "").
 */
static int run_command(const broker_ctx_t *ctx, char **args, int argc,
                       char *why, size_t why_size, char *extra,
                       size_t extra_size) {
    const char *cmd = args[0];
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR, inj;
    int32_t id;
    int16_t api;
    int n, ms = 0;

#define WANT(lo, hi, usage)                                                   \
    do {                                                                      \
        if (argc < (lo) || argc > (hi)) {                                     \
            snprintf(why, why_size, "usage: %s", usage);                      \
            return -1;                                                        \
        }                                                                     \
    } while (0)
#define BAD(...)                                                              \
    do {                                                                      \
        snprintf(why, why_size, __VA_ARGS__);                                 \
        return -1;                                                            \
    } while (0)

    extra[0] = '\0';
    if (!strcmp(cmd, "ping")) {
        WANT(1, 1, "ping");
    } else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
        WANT(2, 2, "down|up ID|all");
        if (parse_broker(ctx, args[1], 1, &id))
            BAD("broker id: 1..%d or all", ctx->broker_cnt);
        err = broker_op(ctx, cmd, id, 0);
    } else if (!strcmp(cmd, "rtt")) {
        WANT(3, 3, "rtt ID|all MS");
        if (parse_broker(ctx, args[1], 1, &id))
            BAD("broker id: 1..%d or all", ctx->broker_cnt);
        if (parse_int(args[2], 0, 3600000, &ms))
            BAD("MS: 0..3600000");
        err = broker_op(ctx, cmd, id, ms);
    } else if (!strcmp(cmd, "errors")) {
        WANT(4, 4, "errors API COUNT ERR");
        if (parse_api(args[1], &api))
            BAD("unknown API %s", args[1]);
        if (parse_int(args[2], 1, 100000, &n))
            BAD("COUNT: 1..100000");
        if (parse_err(args[3], &inj))
            BAD("unknown error %s", args[3]);
        for (int i = 0; i < n; i++)
            rd_kafka_mock_push_request_errors(ctx->mcluster, api, 1, inj);
    } else if (!strcmp(cmd, "broker-errors")) {
        WANT(5, 6, "broker-errors ID API COUNT ERR [MS]");
        if (parse_broker(ctx, args[1], 0, &id))
            BAD("broker id: 1..%d", ctx->broker_cnt);
        if (parse_api(args[2], &api))
            BAD("unknown API %s", args[2]);
        if (parse_int(args[3], 1, 100000, &n))
            BAD("COUNT: 1..100000");
        if (parse_err(args[4], &inj))
            BAD("unknown error %s", args[4]);
        if (argc == 6 && parse_int(args[5], 0, 3600000, &ms))
            BAD("MS: 0..3600000");
        for (int i = 0; i < n && !err; i++)
            err = rd_kafka_mock_broker_push_request_error_rtts(
                ctx->mcluster, id, api, 1, inj, ms);
    } else if (!strcmp(cmd, "pending")) {
        size_t left = 0;

        WANT(3, 3, "pending ID API");
        if (parse_broker(ctx, args[1], 0, &id))
            BAD("broker id: 1..%d", ctx->broker_cnt);
        if (parse_api(args[2], &api))
            BAD("unknown API %s", args[2]);
        err = rd_kafka_mock_broker_error_stack_cnt(ctx->mcluster, id, api,
                                                   &left);
        if (!err)
            snprintf(extra, extra_size, ": %zu", left);
    } else if (!strcmp(cmd, "clear")) {
        WANT(2, 2, "clear API");
        if (parse_api(args[1], &api))
            BAD("unknown API %s", args[1]);
        rd_kafka_mock_clear_request_errors(ctx->mcluster, api);
    } else if (!strcmp(cmd, "coordinator")) {
        WANT(4, 4, "coordinator group|transaction KEY ID");
        if (strcmp(args[1], "group") && strcmp(args[1], "transaction"))
            BAD("key type: group or transaction");
        if (parse_broker(ctx, args[3], 0, &id))
            BAD("broker id: 1..%d", ctx->broker_cnt);
        err = rd_kafka_mock_coordinator_set(ctx->mcluster, args[1], args[2],
                                            id);
    } else if (!strcmp(cmd, "leader")) {
        WANT(4, 4, "leader TOPIC PARTITION ID");
        if (parse_int(args[2], 0, 1000000, &n))
            BAD("PARTITION: 0..1000000");
        if (strcmp(args[3], "-1") == 0)
            id = -1;
        else if (parse_broker(ctx, args[3], 0, &id))
            BAD("broker id: 1..%d or -1", ctx->broker_cnt);
        err = rd_kafka_mock_partition_set_leader(ctx->mcluster, args[1], n,
                                                 id);
    } else if (!strcmp(cmd, "topic-error")) {
        WANT(3, 3, "topic-error TOPIC ERR");
        if (parse_err(args[2], &inj))
            BAD("unknown error %s", args[2]);
        rd_kafka_mock_topic_set_error(ctx->mcluster, args[1], inj);
    } else if (!strcmp(cmd, "create")) {
        int repl;

        WANT(4, 4, "create TOPIC PARTITIONS REPLICAS");
        if (parse_int(args[2], 1, 10000, &n))
            BAD("PARTITIONS: 1..10000");
        if (parse_int(args[3], 1, ctx->broker_cnt, &repl))
            BAD("REPLICAS: 1..%d", ctx->broker_cnt);
        err = rd_kafka_mock_topic_create(ctx->mcluster, args[1], n, repl);
    } else {
        BAD("unknown command (see --help)");
    }
    if (err)
        BAD("%s", rd_kafka_err2str(err));
    return 0;
#undef WANT
#undef BAD
}

/* Answer one command line on stdout ("ok ..." / "error ...: why") and echo
 * it on stderr; blank lines and lines starting with '#' are ignored. */
static void handle_line(const broker_ctx_t *ctx, char *line) {
    char *args[CMD_MAX_ARGS + 1] = {NULL};
    char text[1024], why[512], extra[64];
    char *save = NULL, *tok;
    size_t len;
    int argc = 0, rc;

    while (*line == ' ' || *line == '\t')
        line++;
    len = strlen(line);
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
                       line[len - 1] == '\r'))
        line[--len] = '\0';
    if (len == 0 || line[0] == '#')
        return;
    snprintf(text, sizeof(text), "%s", line);
    for (tok = strtok_r(line, " \t", &save); tok && argc <= CMD_MAX_ARGS;
         tok = strtok_r(NULL, " \t", &save))
        args[argc++] = tok;
    if (argc > CMD_MAX_ARGS) {
        snprintf(why, sizeof(why), "more than %d words", CMD_MAX_ARGS);
        rc = -1;
    } else {
        rc = run_command(ctx, args, argc, why, sizeof(why), extra,
                         sizeof(extra));
    }
    if (rc == 0) {
        printf("ok %s%s\n", text, extra);
        fprintf(stderr, "burnrate-broker: ok %s%s\n", text, extra);
    } else {
        printf("error %s: %s\n", text, why);
        fprintf(stderr, "burnrate-broker: error %s: %s\n", text, why);
    }
    fflush(stdout);
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
    broker_ctx_t ctx;
    char line[1024];
    size_t line_len = 0;
    int overlong = 0;
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

    ctx.mcluster = mcluster;
    ctx.broker_cnt = broker_cnt;
    watch_stdin = stdin_watchable();
    while (!stop_sig) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int n = poll(&pfd, watch_stdin ? 1 : 0, 500);

        if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(STDIN_FILENO, line + line_len,
                             sizeof(line) - 1 - line_len);
            char *nl;

            if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
                if (line_len > 0 && !overlong) {
                    line[line_len] = '\0';
                    handle_line(&ctx, line);
                }
                fprintf(stderr, "burnrate-broker: stdin closed, exiting\n");
                break;
            }
            if (r < 0)
                continue;
            line_len += (size_t)r;
            line[line_len] = '\0';
            while ((nl = memchr(line, '\n', line_len)) != NULL) {
                size_t used = (size_t)(nl - line) + 1;

                *nl = '\0';
                if (overlong) {
                    printf("error (line too long): at most %zu bytes\n",
                           sizeof(line) - 2);
                    fflush(stdout);
                    overlong = 0;
                } else {
                    handle_line(&ctx, line);
                }
                memmove(line, line + used, line_len - used);
                line_len -= used;
                line[line_len] = '\0';
            }
            if (line_len == sizeof(line) - 1) {
                /* No newline in a full buffer: drop it, answer at the
                 * newline that ends it. */
                overlong = 1;
                line_len = 0;
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
