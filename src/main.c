/*
 * The `burnrate` command line: parse arguments, load the config, hand over
 * to run, replay or check-config. The only file outside the library.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "burnrate/config.h"
#include "burnrate/daemon.h"
#include "burnrate/kafka.h"
#include "burnrate/log.h"
#include "burnrate/pipeline.h"
#include "burnrate/redact.h"
#include "burnrate/replay.h"
#include "burnrate/snapshot.h"
#include "burnrate/ts.h"

/* Room for every error of a config file, one a line. */
#define BR_ERRSTR_MAX 16384

#ifndef BR_VERSION
#define BR_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: burnrate run --config FILE [--brokers LIST] [--print-alerts] [--log-level L]\n"
    "                    [--log-format F]\n"
    "       burnrate replay --config FILE [--input NAME=PATH]... [--kafka] [--brokers LIST]\n"
    "                       [--from TIME] [--to TIME] [--start-offset N|beginning]\n"
    "                       [--end-offset N|end] [--output FILE|-] [--dead-letters FILE]\n"
    "                       [--print-alerts] [--log-level L] [--log-format F]\n"
    "       burnrate check-config FILE\n"
    "       burnrate snapshot show PATH\n"
    "       burnrate --help | --version\n"
    "\n"
    "Commands:\n"
    "  run           Join consumer group kafka.group_id, read every input's topics\n"
    "                (JSON or Avro), publish alerts to kafka.alerts_topic (JSON, or\n"
    "                Avro with kafka.alerts_format) and unusable messages to\n"
    "                kafka.dead_letter_topic. The state is snapshotted into\n"
    "                state.dir every state.snapshot_interval and input offsets are\n"
    "                committed only once a snapshot covers them; on start the\n"
    "                newest valid snapshot is restored and reading resumes from\n"
    "                its offsets. SIGINT/SIGTERM shut down cleanly (a last\n"
    "                snapshot, close the consumer, flush the producer for up to\n"
    "                10 s); a second signal exits at once. SIGHUP (systemctl\n"
    "                reload) re-reads the config file and applies it without\n"
    "                losing state: series of unchanged scopes keep their totals,\n"
    "                baselines and open incidents, new scopes start empty,\n"
    "                removed ones are dropped, budgets keep their spend (those\n"
    "                with another period or time zone restart). A config that\n"
    "                fails validation, or that changes currency, anything under\n"
    "                kafka, the topics or format of an input with topics,\n"
    "                state.dir, spike.bucket or http.listen, is refused with one\n"
    "                error line naming FILE:LINE: KEY (those need a restart);\n"
    "                the running config then stays. Prometheus metrics,\n"
    "                /healthz and /readyz are served on http.listen (default\n"
    "                127.0.0.1:9477).\n"
    "  replay        Run the same engine over history as fast as possible: the\n"
    "                inputs' files (JSON lines, CSV exports or Avro object\n"
    "                container files), or with --kafka a\n"
    "                range of their topics. Alerts go out as JSON lines, a summary\n"
    "                to stderr. The same input gives the same alerts on every run\n"
    "                (but emitted_at). Each input's files are read in the order\n"
    "                given and the inputs are merged by event time, so each\n"
    "                input's files should be roughly time ordered (or its\n"
    "                lateness set to cover their disorder).\n"
    "  check-config  Validate FILE (config, price table, and the Kafka properties\n"
    "                as librdkafka takes them, without connecting) and print the\n"
    "                effective configuration on stdout (values given as ${...}\n"
    "                shown as written). Every error is reported in one run, one a\n"
    "                line, sorted by line: FILE:LINE: KEY: message.\n"
    "  snapshot show Print a snapshot as JSON (PATH: a snapshot file, or a state\n"
    "                directory for its newest valid one): offsets, counters,\n"
    "                watermark, every series with its total, budget periods,\n"
    "                open incidents and the dedup window's size.\n"
    "\n";

/* Two strings: C99 promises string literals of 4095 bytes only. */
static const char usage_options[] =
    "Options:\n"
    "  --config FILE          configuration file (YAML)\n"
    "  --brokers LIST         bootstrap servers, overriding kafka.brokers\n"
    "  --print-alerts         also print each alert as a readable line on stdout\n"
    "  --log-level L          error, warn, info or debug (default: the config's)\n"
    "  --log-format F         logfmt or json: log lines on stderr as key=value\n"
    "                         pairs or one JSON object each (default: the\n"
    "                         config's log.format, logfmt); a reload keeps a\n"
    "                         level or format given here\n"
    "  --input NAME=PATH      replay PATH as input NAME; repeatable; replaces the\n"
    "                         input's files from the config\n"
    "  --kafka                replay the inputs' topics instead of files: every\n"
    "                         partition is assigned, nothing is committed\n"
    "  --from TIME, --to TIME count only records with event time in [from, to)\n"
    "                         (RFC 3339, \"YYYY-MM-DD[ HH:MM:SS]\" UTC, or epoch)\n"
    "  --start-offset N|beginning  first offset of each partition (default beginning)\n"
    "  --end-offset N|end     stop before offset N, or at the end offsets seen at\n"
    "                         start (default end)\n"
    "  --output FILE|-        alerts as JSON lines to FILE (default -: stdout)\n"
    "  --dead-letters FILE    unusable messages as JSON lines to FILE (default:\n"
    "                         counted in the summary only)\n"
    "  -h, --help             this text\n"
    "  --version              print the version\n"
    "\n"
    "Exit status: 0 ok, 1 runtime or configuration error, 2 usage error.\n";

static void print_usage(FILE *fp) {
    fputs(usage_text, fp);
    fputs(usage_options, fp);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;

    fputs("burnrate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    print_usage(stderr);
    return EXIT_USAGE;
}

/* Walks "--name value" and "--name=value" arguments. */
typedef struct args {
    int argc;
    char **argv;
    int i;            /* next argument */
    const char *name; /* current option, without any "=value" */
    char namebuf[64];
    char *inline_value; /* after '=', or NULL */
} args_t;

/* @returns 1 with the next option in a->name, 0 at the end, -1 for a
 * positional argument (in a->name). */
static int next_opt(args_t *a) {
    char *arg, *eq;

    if (a->i >= a->argc)
        return 0;
    arg = a->argv[a->i++];
    a->inline_value = NULL;
    if (strncmp(arg, "--", 2) != 0 && strcmp(arg, "-h") != 0) {
        a->name = arg;
        return -1;
    }
    eq = strchr(arg, '=');
    if (eq && (size_t)(eq - arg) < sizeof a->namebuf) {
        memcpy(a->namebuf, arg, (size_t)(eq - arg));
        a->namebuf[eq - arg] = '\0';
        a->name = a->namebuf;
        a->inline_value = eq + 1;
    } else {
        a->name = arg;
    }
    return 1;
}

static bool is(const args_t *a, const char *name) {
    return strcmp(a->name, name) == 0;
}

/* @returns the option's value (writable: it lives in argv) or NULL when it
 * is missing. */
static char *value(args_t *a) {
    if (a->inline_value)
        return a->inline_value;
    if (a->i >= a->argc)
        return NULL;
    return a->argv[a->i++];
}

static bool parse_offset(const char *s, const char *word, int64_t sentinel,
                         int64_t *out) {
    char *end = NULL;
    long long v;

    if (strcmp(s, word) == 0) {
        *out = sentinel;
        return true;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return false;
    *out = v;
    return true;
}

/* Errors on stderr: every line of them, with credentials in URLs and
 * values from ${...} replaced by [redacted]. */
static void print_errors(const char *errstr) {
    static char clean[BR_ERRSTR_MAX + 256], cleaner[BR_ERRSTR_MAX + 512];
    fprintf(stderr, "%s\n",
            br_redact_values(cleaner, sizeof cleaner,
                             br_redact_urls(clean, sizeof clean, errstr)));
}

static br_config_t *load_config(const char *path) {
    static char errstr[BR_ERRSTR_MAX];
    br_config_t *conf = br_config_load(path, errstr, sizeof errstr);

    if (!conf)
        print_errors(errstr);
    else /* no log line may hold them either */
        br_redact_add_values((const char *const *)conf->secrets,
                             conf->secret_cnt);
    return conf;
}

static void nop_alert(void *opaque, const br_alert_t *alert) {
    (void)opaque;
    (void)alert;
}

static void nop_dead_letter(void *opaque, const br_origin_t *origin,
                            const void *payload, size_t len, br_err_t reason,
                            const char *detail) {
    (void)opaque, (void)origin, (void)payload, (void)len, (void)reason, (void)detail;
}

static int cmd_check_config(args_t *a) {
    const char *path = NULL;
    br_config_t *conf;
    br_pipeline_t *pl;
    br_sink_t sink = {nop_alert, nop_dead_letter, NULL};
    static char errstr[BR_ERRSTR_MAX], more[BR_ERRSTR_MAX];
    bool mistakes = false;
    int rc;

    while ((rc = next_opt(a)) != 0) {
        if (rc < 0 && !path) {
            path = a->name;
        } else if (rc > 0 && (is(a, "--help") || is(a, "-h"))) {
            print_usage(stdout);
            return 0;
        } else {
            return usage_error("check-config: unexpected argument %s", a->name);
        }
    }
    if (!path)
        return usage_error("check-config: %s", "missing FILE");
    /* Every mistake in one run, sorted by line: the loader's, then what
     * librdkafka refuses of the properties (the consumer's and producer's
     * configurations built as run builds them, no client, no network) and
     * the price table, also when the rest has mistakes. */
    if (!(conf = br_config_load_check(path, &mistakes, errstr, sizeof errstr))) {
        print_errors(errstr);
        return 1;
    }
    br_redact_add_values((const char *const *)conf->secrets, conf->secret_cnt);
    if (!mistakes)
        errstr[0] = '\0';
    if (br_kafka_check_config(conf, more, sizeof more)) {
        br_config_merge_errors(errstr, sizeof errstr, more);
        mistakes = true;
    }
    if (mistakes) {
        br_prices_t *prices = br_prices_new();
        if (prices && br_pipeline_load_prices(conf, prices, more, sizeof more))
            br_config_merge_errors(errstr, sizeof errstr, more);
        br_prices_destroy(prices);
        print_errors(errstr);
        br_config_destroy(conf);
        return 1;
    }
    /* The pipeline loads the price table and builds every decoder and
     * detector: what run would refuse, check-config refuses too. */
    pl = br_pipeline_new(conf, &sink, errstr, sizeof errstr);
    if (!pl) {
        print_errors(errstr);
        br_config_destroy(conf);
        return 1;
    }
    br_pipeline_destroy(pl);
    br_config_dump(conf, stdout);
    fflush(stdout);
    fprintf(stderr, "%s: OK\n", path);
    br_config_destroy(conf);
    return 0;
}

static int apply_log_level(const br_config_t *conf, const char *level) {
    br_log_level_t lv = conf->log_level;

    if (level && br_log_level_parse(level, &lv)) {
        fprintf(stderr, "burnrate: --log-level %s: expected error, warn, info or debug\n",
                level);
        return EXIT_USAGE;
    }
    br_log_set_level(lv);
    return 0;
}

/* --log-format wins over log.format; checked before the config is read. */
static void apply_log_format(const br_config_t *conf, const char *format) {
    br_log_format_t fmt = conf->log_format;

    if (format)
        br_log_format_parse(format, &fmt);
    br_log_set_format(fmt);
}

static bool bad_log_format(const char *format) {
    br_log_format_t fmt;
    return format && br_log_format_parse(format, &fmt) != BR_ERR_OK;
}

static int cmd_run(args_t *a) {
    const char *config = NULL, *level = NULL, *format = NULL;
    br_daemon_opts_t opts = {NULL, false, false, false};
    br_config_t *conf;
    int rc;

    while ((rc = next_opt(a)) != 0) {
        if (rc < 0)
            return usage_error("run: unexpected argument %s", a->name);
        if (is(a, "--help") || is(a, "-h")) {
            print_usage(stdout);
            return 0;
        } else if (is(a, "--print-alerts") && !a->inline_value) {
            opts.print_alerts = true;
        } else if (is(a, "--config") || is(a, "--brokers") || is(a, "--log-level") ||
                   is(a, "--log-format")) {
            const char *v = value(a);
            if (!v)
                return usage_error("run: %s needs a value", a->name);
            if (is(a, "--config"))
                config = v;
            else if (is(a, "--brokers"))
                opts.brokers = v;
            else if (is(a, "--log-format"))
                format = v;
            else
                level = v;
        } else {
            return usage_error("run: unknown option %s", a->name);
        }
    }
    if (!config)
        return usage_error("run: %s is required", "--config FILE");
    if (level) {
        br_log_level_t lv;
        if (br_log_level_parse(level, &lv))
            return usage_error("--log-level %s: expected error, warn, info or debug",
                               level);
    }
    if (bad_log_format(format))
        return usage_error("--log-format %s: expected logfmt or json", format);
    if (!(conf = load_config(config)))
        return 1;
    opts.keep_log_level = level != NULL;
    opts.keep_log_format = format != NULL;
    apply_log_format(conf, format);
    if ((rc = apply_log_level(conf, level)) != 0) {
        br_config_destroy(conf);
        return rc;
    }
    br_daemon_install_signals();
    return br_daemon_run(conf, &opts); /* takes conf */
}

static int cmd_replay(args_t *a) {
    const char *config = NULL, *level = NULL, *format = NULL;
    br_replay_opts_t opts;
    br_replay_file_t *files = calloc((size_t)a->argc, sizeof *files);
    br_config_t *conf = NULL;
    int rc;

    memset(&opts, 0, sizeof opts);
    opts.from_ms = INT64_MIN;
    opts.to_ms = INT64_MAX;
    opts.start_offset = BR_REPLAY_OFFSET_BEGINNING;
    opts.end_offset = BR_REPLAY_OFFSET_END;
    opts.files = files;
    if (!files) {
        fputs("burnrate: out of memory\n", stderr);
        return 1;
    }
    while ((rc = next_opt(a)) != 0) {
        char *v;
        if (rc < 0) {
            rc = usage_error("replay: unexpected argument %s", a->name);
            goto done;
        }
        if (is(a, "--help") || is(a, "-h")) {
            print_usage(stdout);
            rc = 0;
            goto done;
        }
        if ((is(a, "--print-alerts") || is(a, "--kafka")) && !a->inline_value) {
            if (is(a, "--kafka"))
                opts.kafka = true;
            else
                opts.print_alerts = true;
            continue;
        }
        if (!is(a, "--config") && !is(a, "--input") && !is(a, "--brokers") &&
            !is(a, "--from") && !is(a, "--to") && !is(a, "--start-offset") &&
            !is(a, "--end-offset") && !is(a, "--output") &&
            !is(a, "--dead-letters") && !is(a, "--log-level") &&
            !is(a, "--log-format")) {
            rc = usage_error("replay: unknown option %s", a->name);
            goto done;
        }
        if (!(v = value(a))) {
            rc = usage_error("replay: %s needs a value", a->name);
            goto done;
        }
        if (is(a, "--config")) {
            config = v;
        } else if (is(a, "--input")) {
            char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1]) {
                rc = usage_error("replay: --input %s: expected NAME=PATH", v);
                goto done;
            }
            /* Split in place: argv strings are ours to modify. */
            *eq = '\0';
            files[opts.file_cnt].input = v;
            files[opts.file_cnt].path = eq + 1;
            opts.file_cnt++;
        } else if (is(a, "--brokers")) {
            opts.brokers = v;
        } else if (is(a, "--from") || is(a, "--to")) {
            int64_t ms;
            if (br_ts_parse(v, strlen(v), &ms)) {
                rc = usage_error("replay: cannot read time %s (RFC 3339, "
                                 "YYYY-MM-DD[ HH:MM:SS] or epoch)", v);
                goto done;
            }
            if (is(a, "--from"))
                opts.from_ms = ms;
            else
                opts.to_ms = ms;
        } else if (is(a, "--start-offset")) {
            if (!parse_offset(v, "beginning", BR_REPLAY_OFFSET_BEGINNING,
                              &opts.start_offset)) {
                rc = usage_error("replay: --start-offset %s: expected N or beginning", v);
                goto done;
            }
        } else if (is(a, "--end-offset")) {
            if (!parse_offset(v, "end", BR_REPLAY_OFFSET_END, &opts.end_offset)) {
                rc = usage_error("replay: --end-offset %s: expected N or end", v);
                goto done;
            }
        } else if (is(a, "--output")) {
            opts.output = v;
        } else if (is(a, "--dead-letters")) {
            opts.dead_letters = v;
        } else if (is(a, "--log-format")) {
            if (bad_log_format(v)) {
                rc = usage_error("--log-format %s: expected logfmt or json", v);
                goto done;
            }
            format = v;
        } else {
            br_log_level_t lv;
            if (br_log_level_parse(v, &lv)) {
                rc = usage_error("--log-level %s: expected error, warn, info or debug", v);
                goto done;
            }
            level = v;
        }
    }
    if (!config) {
        rc = usage_error("replay: %s is required", "--config FILE");
        goto done;
    }
    if (opts.from_ms >= opts.to_ms) {
        rc = usage_error("replay: %s", "--from must be before --to");
        goto done;
    }
    if (!opts.kafka && (opts.start_offset != BR_REPLAY_OFFSET_BEGINNING ||
                        opts.end_offset != BR_REPLAY_OFFSET_END || opts.brokers)) {
        rc = usage_error("replay: %s apply to --kafka only",
                         "--start-offset, --end-offset and --brokers");
        goto done;
    }
    if (opts.kafka && opts.file_cnt) {
        rc = usage_error("replay: %s", "--input and --kafka exclude each other");
        goto done;
    }
    if (!(conf = load_config(config))) {
        rc = 1;
        goto done;
    }
    apply_log_format(conf, format);
    if ((rc = apply_log_level(conf, level)) == 0) {
        br_daemon_install_signals();
        rc = br_replay_run(conf, &opts);
    }
done:
    br_config_destroy(conf);
    free(files);
    return rc;
}

static int cmd_snapshot(args_t *a) {
    const char *sub = NULL, *path = NULL;
    char errstr[1024], file[4096];
    br_buf_t bytes, json;
    br_snapshot_t snap;
    struct stat st;
    int rc;

    while ((rc = next_opt(a)) != 0) {
        if (rc < 0 && !sub) {
            sub = a->name;
        } else if (rc < 0 && !path) {
            path = a->name;
        } else if (rc > 0 && (is(a, "--help") || is(a, "-h"))) {
            print_usage(stdout);
            return 0;
        } else {
            return usage_error("snapshot: unexpected argument %s", a->name);
        }
    }
    if (!sub || strcmp(sub, "show") != 0)
        return usage_error("%s", "snapshot: the only subcommand is show");
    if (!path)
        return usage_error("%s", "snapshot show: missing PATH");
    br_buf_init(&bytes);
    br_buf_init(&json);
    memset(&snap, 0, sizeof snap);
    snprintf(file, sizeof file, "%s", path);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        rc = br_snapshot_read_newest(path, &bytes, &snap, file, sizeof file,
                                     errstr, sizeof errstr);
    else
        rc = br_snapshot_read_file(path, &bytes, &snap, errstr, sizeof errstr);
    if (rc == BR_ERR_OK)
        rc = br_pipeline_describe(snap.core, snap.core_len, &json, errstr,
                                  sizeof errstr);
    if (rc != BR_ERR_OK) {
        fprintf(stderr, "burnrate: snapshot show: %s\n", errstr);
        rc = 1;
    } else {
        char when[40];
        br_ts_format(snap.written_ms, when, sizeof when);
        br_buf_t head;
        br_buf_init(&head);
        br_buf_puts(&head, "{\"file\": ");
        br_buf_json_str(&head, file);
        br_buf_printf(&head, ",\n\"format\": %u, \"generation\": %llu, "
                             "\"written_at\": \"%s\", \"written_by\": ",
                      (unsigned)snap.format,
                      (unsigned long long)snap.generation, when);
        br_buf_json_str(&head, snap.version ? snap.version : "");
        br_buf_puts(&head, ", \"group\": ");
        br_buf_json_str(&head, snap.group ? snap.group : "");
        br_buf_puts(&head, ",\n\"offsets\": [");
        for (size_t i = 0; i < snap.offset_cnt; i++) {
            br_buf_printf(&head, "%s{\"topic\": ", i ? ", " : "");
            br_buf_json_str(&head, snap.offsets[i].topic);
            br_buf_printf(&head, ", \"partition\": %d, \"offset\": %lld}",
                          (int)snap.offsets[i].partition,
                          (long long)snap.offsets[i].offset);
        }
        br_buf_puts(&head, "],\n");
        fwrite(head.data, 1, head.len, stdout);
        fwrite(json.data, 1, json.len, stdout);
        fputs("}\n", stdout);
        br_buf_free(&head);
        rc = 0;
    }
    br_snapshot_clear(&snap);
    br_buf_free(&bytes);
    br_buf_free(&json);
    return rc;
}

int main(int argc, char **argv) {
    args_t a;
    const char *cmd;

    memset(&a, 0, sizeof a);
    a.argc = argc;
    a.argv = argv;
    a.i = 2;
    if (argc < 2)
        return usage_error("%s", "missing command");
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("burnrate %s\n", BR_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(&a);
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(&a);
    if (strcmp(cmd, "check-config") == 0)
        return cmd_check_config(&a);
    if (strcmp(cmd, "snapshot") == 0)
        return cmd_snapshot(&a);
    return usage_error("unknown command %s", cmd);
}
