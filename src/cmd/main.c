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
#include "burnrate/signals.h"
#include "burnrate/sortrun.h"
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
    "                       [--end-offset N|end] [--output FILE|-] [--dead-letters FILE|-]\n"
    "                       [--sort-memory SIZE] [--print-alerts] [--log-level L]\n"
    "                       [--log-format F]\n"
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
    "                127.0.0.1:9477). Assigned partitions are fed in event-time\n"
    "                order (the oldest buffered record first; a partition with\n"
    "                messages waiting holds the others), so catching up on\n"
    "                history gives the alerts a replay of it gives.\n"
    "  replay        Run the same engine over history as fast as possible: the\n"
    "                inputs' files (JSON lines, CSV exports or Avro object\n"
    "                container files), or with --kafka a range of their topics\n"
    "                (partitions merged by event time). Alerts go out as JSON\n"
    "                lines, a summary to stderr. The same input gives the same\n"
    "                alerts on every run (but emitted_at). Each input's files\n"
    "                are sorted together\n"
    "                by event time (stably: equal times keep file order) and\n"
    "                the inputs merged by event time, so row order in the\n"
    "                files does not matter.\n"
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
    "                         (replay: with --output FILE, so that stdout\n"
    "                         carries one kind of line)\n"
    "  --log-level L          error, warn, info or debug (default: the config's)\n"
    "  --log-format F         logfmt or json: log lines on stderr as key=value\n"
    "                         pairs or one JSON object each (default: the\n"
    "                         config's log.format, logfmt); a reload keeps a\n"
    "                         level or format given here\n"
    "  --input NAME=PATH      replay PATH as input NAME; repeatable; replaces the\n"
    "                         input's files from the config\n"
    "  --kafka                replay the inputs' topics instead of files: every\n"
    "                         partition is assigned, nothing is committed\n"
    "  --from TIME, --to TIME count only records with event time in [from, to).\n"
    "                         TIME is RFC 3339, \"YYYY-MM-DD[ HH:MM:SS]\" (UTC),\n"
    "                         epoch seconds or ms, or relative to now: now,\n"
    "                         today, yesterday, tomorrow (00:00 UTC), -7d,\n"
    "                         now-24h, today+9h, now-1d12h (units s, m, h, d, w)\n"
    "  --start-offset N|beginning  first offset of each partition (default beginning)\n"
    "  --end-offset N|end     stop before offset N, or at the end offsets seen at\n"
    "                         start (default end)\n"
    "  --output FILE|-        alerts as JSON lines to FILE (default -: stdout)\n"
    "  --dead-letters FILE|-  unusable messages as JSON lines to FILE, or to\n"
    "                         stdout with - (stdout carries one kind of line:\n"
    "                         then give --output FILE, and no --print-alerts);\n"
    "                         default: counted in the summary only\n"
    "  --sort-memory SIZE     memory for sorting files by event time, shared by\n"
    "                         the inputs (default 256M; K, M, G suffixes); beyond\n"
    "                         it sorted runs spill to temporary files in $TMPDIR\n"
    "  -h, --help             this text\n"
    "  --version              print the version\n"
    "\n"
    "Exit status: 0 ok, 1 runtime or configuration error, 2 usage error (one\n"
    "line on stderr, with the option or command meant when one is close).\n";

static void print_usage(FILE *fp) {
    fputs(usage_text, fp);
    fputs(usage_options, fp);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error is one line and a pointer to --help, as GNU tools do: the
 * whole help would push the line that matters off the screen. */
static int usage_error(const char *fmt, ...) {
    va_list ap;

    fputs("burnrate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'burnrate --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* The words each command takes, for checking and for "did you mean". */
static const char *const commands[] = {"run", "replay", "check-config", "snapshot",
                                       "help", "--help", "--version", NULL};
static const char *const run_opts[] = {"--config", "--brokers", "--print-alerts",
                                       "--log-level", "--log-format", "--help", NULL};
static const char *const replay_opts[] = {
    "--config", "--input", "--kafka", "--brokers", "--from", "--to",
    "--start-offset", "--end-offset", "--output", "--dead-letters",
    "--print-alerts", "--log-level", "--log-format", "--sort-memory", "--help",
    NULL};
static const char *const help_opts[] = {"--help", NULL};
static const char *const snapshot_subs[] = {"show", NULL};

/* Optimal string alignment distance (Levenshtein plus swapping two
 * neighbours, so "repaly" is one edit from "replay"); words longer than
 * 31 bytes are far from everything. */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), d[32][32];

    if (la >= 32 || lb >= 32)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* @returns the word of `words` that `typed` most likely meant, or NULL:
 * the nearest within one edit (two for words of six letters or more),
 * else the only word that `typed` (three letters or more) begins. Leading
 * dashes are not counted, so "-from" means "--from". */
static const char *did_you_mean(const char *typed, const char *const *words) {
    const char *best = NULL, *prefixed = NULL, *t = typed + strspn(typed, "-");
    size_t best_d = SIZE_MAX, tlen = strlen(t), prefix_cnt = 0;

    if (!tlen)
        return NULL;
    for (size_t i = 0; words[i]; i++) {
        const char *w = words[i] + strspn(words[i], "-");
        size_t d = edit_distance(t, w), wlen = strlen(w);
        if (d <= (wlen >= 6 ? 2u : 1u) && d < best_d) {
            best = words[i];
            best_d = d;
        }
        if (tlen >= 3 && tlen < wlen && strncmp(t, w, tlen) == 0) {
            prefixed = words[i];
            prefix_cnt++;
        }
    }
    if (best && strcmp(best, typed) == 0)
        return NULL;
    return best ? best : prefix_cnt == 1 ? prefixed : NULL;
}

/* "CMD: unknown option OPT", with the option meant or the command that
 * takes it when there is one. */
static int unknown_option(const char *cmd, const char *opt,
                          const char *const *opts) {
    const char *meant = did_you_mean(opt, opts);
    bool in_run = false, in_replay = false;

    for (size_t i = 0; opts[i]; i++) {
        if (strcmp(opt, opts[i]) == 0) /* a flag given "=value" */
            return usage_error("%s: %s takes no value", cmd, opt);
    }
    if (meant)
        return usage_error("%s: unknown option %s (did you mean %s?)", cmd, opt,
                           meant);
    for (size_t i = 0; run_opts[i]; i++)
        in_run |= strcmp(opt, run_opts[i]) == 0;
    for (size_t i = 0; replay_opts[i]; i++)
        in_replay |= strcmp(opt, replay_opts[i]) == 0;
    if (in_replay && !in_run)
        return usage_error("%s: unknown option %s (an option of replay)", cmd, opt);
    if (in_run && !in_replay)
        return usage_error("%s: unknown option %s (an option of run)", cmd, opt);
    return usage_error("%s: unknown option %s", cmd, opt);
}

/* A positional argument where none fits: an option with one dash too few
 * is taken for the option. */
static int unexpected(const char *cmd, const char *arg, const char *const *opts) {
    if (arg[0] == '-' && arg[1])
        return unknown_option(cmd, arg, opts);
    return usage_error("%s: unexpected argument %s", cmd, arg);
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
        } else if (rc > 0) {
            return unknown_option("check-config", a->name, help_opts);
        } else {
            return unexpected("check-config", a->name, help_opts);
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
            return unexpected("run", a->name, run_opts);
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
            return unknown_option("run", a->name, run_opts);
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
    br_signals_install();
    return br_daemon_run(conf, &opts); /* takes conf */
}

static int cmd_replay(args_t *a) {
    const char *config = NULL, *level = NULL, *format = NULL;
    br_replay_opts_t opts;
    br_replay_file_t *files = calloc((size_t)a->argc, sizeof *files);
    br_config_t *conf = NULL;
    /* Read once, here at the edge: --from and --to relative to one now. */
    int64_t now_ms = br_log_wall_ms();
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
            rc = unexpected("replay", a->name, replay_opts);
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
            !is(a, "--log-format") && !is(a, "--sort-memory")) {
            rc = unknown_option("replay", a->name, replay_opts);
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
            br_err_t err = br_ts_parse_relative(v, strlen(v), now_ms, &ms);
            if (err) {
                rc = usage_error("replay: %s %s: %s; accepted: RFC 3339, "
                                 "YYYY-MM-DD[ HH:MM:SS] (UTC), epoch seconds or ms, "
                                 "now, today, yesterday, tomorrow (00:00 UTC), "
                                 "now-24h, today+9h, -7d (units s m h d w)",
                                 a->name, v,
                                 err == BR_ERR_RANGE ? "outside years 0000-9999"
                                                     : "not a time");
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
        } else if (is(a, "--sort-memory")) {
            if (br_sortrun_parse_size(v, &opts.sort_memory_bytes)) {
                rc = usage_error("replay: --sort-memory %s: expected a size such as 256M", v);
                goto done;
            }
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
        char from[40], to[40];
        br_ts_format(opts.from_ms, from, sizeof from);
        br_ts_format(opts.to_ms, to, sizeof to);
        rc = usage_error("replay: --from (%s) must be before --to (%s)", from, to);
        goto done;
    }
    /* stdout carries one kind of line (alert JSON, dead-letter JSON or
     * readable alerts), so that a parser reading it sees one shape. */
    if (opts.print_alerts && (!opts.output || strcmp(opts.output, "-") == 0)) {
        rc = usage_error("replay: --print-alerts and the alerts (--output, "
                         "default -) would share stdout; give --output FILE "
                         "(or /dev/null)");
        goto done;
    }
    if (opts.dead_letters && strcmp(opts.dead_letters, "-") == 0) {
        if (!opts.output || strcmp(opts.output, "-") == 0) {
            rc = usage_error("replay: --dead-letters - and the alerts (--output, "
                             "default -) would share stdout; give --output FILE "
                             "(or /dev/null)");
            goto done;
        }
        if (opts.print_alerts) {
            rc = usage_error("replay: --dead-letters - and --print-alerts would "
                             "share stdout");
            goto done;
        }
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
        br_signals_install();
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
        } else if (rc > 0) {
            return unknown_option("snapshot", a->name, help_opts);
        } else {
            return unexpected("snapshot", a->name, help_opts);
        }
    }
    if (!sub)
        return usage_error("%s", "snapshot: missing subcommand (show)");
    if (strcmp(sub, "show") != 0) {
        const char *meant = did_you_mean(sub, snapshot_subs);
        if (meant)
            return usage_error("snapshot: unknown subcommand %s (did you mean %s?)",
                               sub, meant);
        return usage_error("snapshot: unknown subcommand %s (the only one is show)",
                           sub);
    }
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
    const char *cmd, *meant;

    memset(&a, 0, sizeof a);
    a.argc = argc;
    a.argv = argv;
    a.i = 2;
    if (argc < 2)
        return usage_error("%s", "missing command (run, replay, check-config or "
                                 "snapshot)");
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
    meant = did_you_mean(cmd, commands);
    if (meant)
        return usage_error("unknown command %s (did you mean %s?)", cmd, meant);
    for (size_t i = 0; replay_opts[i]; i++) {
        if (strncmp(cmd, replay_opts[i], strcspn(cmd, "=")) == 0 &&
            !replay_opts[i][strcspn(cmd, "=")])
            return usage_error("%s: options come after the command "
                               "(burnrate run|replay %s ...)", cmd, cmd);
    }
    return usage_error("unknown command %s", cmd);
}
