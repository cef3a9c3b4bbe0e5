/*
 * `burnrate run`: the long-running stage. A consumer group feeds the pure
 * pipeline; alerts and dead letters go out through one producer; clocks
 * and periodic stats live here and nowhere below (signal flags: signals.h).
 *
 * @locality everything runs on the calling thread; librdkafka's own threads
 *           do the network I/O.
 */
#ifndef BURNRATE_DAEMON_H
#define BURNRATE_DAEMON_H

#include <stdbool.h>

#include "burnrate/config.h"

/** Wall time between two stats lines. */
#define BR_DAEMON_STATS_MS 10000
/** How long shutdown waits for the producer to deliver what it holds. */
#define BR_DAEMON_FLUSH_MS 10000

typedef struct br_daemon_opts {
    const char *brokers;   /* overrides kafka.brokers, or NULL; borrowed */
    bool print_alerts;     /* also print each alert readably on stdout */
    bool keep_log_level;   /* --log-level given: a reload leaves the level */
    bool keep_log_format;  /* --log-format given: a reload leaves it */
} br_daemon_opts_t;

/**
 * @brief Run until a signal or a fatal Kafka error. SIGHUP reloads the
 *        config file (conf->path): applied live when valid and nothing in
 *        it needs a restart (br_reload_check()), else refused with one
 *        error line; the state carries over either way.
 * @param conf taken over (destroyed before return; a reload replaces it).
 * @returns the process exit code: 0 after a clean shutdown on a signal, 1
 *          when startup failed or a fatal error stopped the stage (both
 *          logged here).
 */
int br_daemon_run(br_config_t *conf, const br_daemon_opts_t *opts);

#endif
