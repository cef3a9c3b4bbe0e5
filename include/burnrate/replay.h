/*
 * `burnrate replay`: the same pipeline over history, as fast as the machine
 * allows. Files (JSON lines, CSV exports) or a bounded range of Kafka topics
 * in; alerts as JSON lines and a summary an analyst can read out.
 *
 * Event time is all that matters: the same records in the same order give
 * byte-identical alerts (but emitted_at), live or replayed. Each input's
 * files are one stream: read one after another in the order given, they
 * are sorted by event time (stably: equal times keep file order, earlier
 * files first) in memory up to sort_memory_bytes and with temporary files
 * beyond it; the inputs are then merged by the event time of their next
 * record (ties: the input listed first). So a file's row order does not
 * matter; Kafka topics are replayed in offset order, as live.
 */
#ifndef BURNRATE_REPLAY_H
#define BURNRATE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/config.h"

/** --start-offset/--end-offset sentinels. */
#define BR_REPLAY_OFFSET_BEGINNING INT64_C(-2)
#define BR_REPLAY_OFFSET_END INT64_C(-1)

/** --input NAME=PATH: replaces the files of input NAME (repeatable; several
 *  entries for one name keep their order). */
typedef struct br_replay_file {
    const char *input;           /* borrowed */
    const char *path;            /* borrowed */
} br_replay_file_t;

typedef struct br_replay_opts {
    const br_replay_file_t *files; /* --input entries, borrowed */
    size_t file_cnt;
    bool kafka;                  /* read topics instead of files */
    const char *brokers;         /* overrides kafka.brokers, or NULL */
    int64_t from_ms;             /* event-time range [from, to); */
    int64_t to_ms;               /* INT64_MIN / INT64_MAX when open */
    int64_t start_offset;        /* first offset, or ..._BEGINNING */
    int64_t end_offset;          /* stop before this offset, or ..._END
                                    (the high watermark at start) */
    const char *output;          /* alerts file, "-" or NULL for stdout */
    const char *dead_letters;    /* dead-letter JSON lines file, "-" for
                                    stdout, or NULL */
    bool print_alerts;           /* readable alert lines on stdout */
    size_t sort_memory_bytes;    /* files: records held in memory while
                                    sorting, shared by the inputs; beyond it
                                    runs spill to $TMPDIR. 0: the default,
                                    BR_SORTRUN_DEFAULT_MEMORY */
} br_replay_opts_t;

/**
 * @brief Replay, then write the summary to stderr.
 * @param conf borrowed for the call.
 * @returns the exit code: 0, or 1 on a runtime error (missing file, unknown
 *          input name, Kafka failure), reported on stderr.
 */
int br_replay_run(const br_config_t *conf, const br_replay_opts_t *opts);

#endif
