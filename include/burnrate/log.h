/*
 * Logging for the daemon layer only: leveled logfmt lines on stderr, a
 * per-key rate limiter so a flood of bad input cannot flood the log, secret
 * redaction, and the one readable alert line that run and replay print.
 */
#ifndef BURNRATE_LOG_H
#define BURNRATE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "burnrate/alert.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/err.h"

/** @brief Lines above this level are dropped (default BR_LOG_INFO). */
void br_log_set_level(br_log_level_t level);
bool br_log_enabled(br_log_level_t level);

/** @brief Write lines as logfmt (default) or one JSON object each. */
void br_log_set_format(br_log_format_t format);
br_log_format_t br_log_get_format(void);
/** @returns BR_ERR_OK, or BR_ERR_INVAL for a name other than logfmt, json. */
br_err_t br_log_format_parse(const char *name, br_log_format_t *out);

/** @returns "error", "warn", "info", "debug"; static. */
const char *br_log_level_name(br_log_level_t level);
/** @returns BR_ERR_OK, or BR_ERR_INVAL for a name other than the above. */
br_err_t br_log_level_parse(const char *name, br_log_level_t *out);

/**
 * @brief Write one line `ts=... level=... msg="..." <kv>` to stderr with a
 *        single write, so lines from librdkafka's threads never interleave;
 *        in the JSON format the same line as one object (br_log_render()).
 *        Credentials in URLs (user:password@) are replaced by [redacted].
 * @param kvfmt printf format of the key=value tail, or NULL; values that may
 *        hold blanks or quotes go through br_log_quote().
 * @locality any thread.
 */
void br_log(br_log_level_t level, const char *msg, const char *kvfmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * @brief Render one log line, ending in '\n': logfmt `ts=.. level=..
 *        msg=.. <kv>`, or JSON {"ts":..,"level":..,"msg":..,<kv>} with
 *        every key of the logfmt tail kv in order and its value (bare or
 *        quoted as br_log_quote() writes it) as a JSON string; invalid
 *        UTF-8 becomes U+FFFD. A line cut at size still ends its object.
 * @returns the bytes written to buf (NUL-terminated).
 */
size_t br_log_render(br_log_format_t format, const char *ts,
                     br_log_level_t level, const char *msg, const char *kv,
                     char *buf, size_t size);

/**
 * @brief Render s as a logfmt value: bare when it is plain, else quoted with
 *        `"` and `\` escaped and control bytes as \n, \t or \xHH.
 * @returns buf (always NUL-terminated, truncated to size).
 */
const char *br_log_quote(char *buf, size_t size, const char *s);

/** @returns true when a property or config key names a secret
 *           (br_redact_is_secret()). */
bool br_log_is_secret(const char *key);
/** @returns value, or "[redacted]" when key names a secret; borrowed. */
const char *br_log_redact(const char *key, const char *value);

/** @returns CLOCK_MONOTONIC in ms. */
int64_t br_log_mono_ms(void);
/** @returns CLOCK_REALTIME in ms since the epoch. */
int64_t br_log_wall_ms(void);

#define BR_RATELIMIT_KEYS 32     /* distinct keys tracked at once */
#define BR_RATELIMIT_KEY_MAX 48  /* bytes of a key, with NUL */

/**
 * A token bucket per key: burst lines at once, refilled at burst per
 * period_ms. Suppressed lines are counted so the caller can report
 * "N more suppressed" when the key is allowed again, or at a flush.
 * Single thread; no allocation.
 */
typedef struct br_ratelimit {
    int burst;                   /* tokens a full bucket holds */
    int64_t period_ms;           /* time to refill a whole bucket */
    struct {
        char key[BR_RATELIMIT_KEY_MAX];
        double tokens;           /* available lines */
        int64_t last_ms;         /* monotonic time of the last refill */
        uint64_t suppressed_cnt; /* lines dropped since the last report */
    } slot[BR_RATELIMIT_KEYS];
    size_t slot_cnt;             /* slots in use */
} br_ratelimit_t;

void br_ratelimit_init(br_ratelimit_t *rl, int burst, int64_t period_ms);

/**
 * @brief May a line for key be written at monotonic time now_ms?
 * @param suppressed_cnt set to the lines dropped for key since the last
 *        report when the answer is true (report them now), else 0.
 * @returns true to log, false to drop (counted).
 */
bool br_ratelimit_allow(br_ratelimit_t *rl, const char *key, int64_t now_ms,
                        uint64_t *suppressed_cnt);

/**
 * @brief The usual way to rate-limit a log line: allow at the monotonic
 *        clock, and when lines of key were dropped before this one, first
 *        log one warn line "N more suppressed".
 * @returns true when the caller should write its line.
 */
bool br_log_limited(br_ratelimit_t *rl, const char *key);

/**
 * @brief Report and reset the suppressed counts of every key whose bucket
 *        has refilled since it last dropped a line: one warn line each,
 *        "N more suppressed". Call it from a periodic tick.
 */
void br_ratelimit_flush(br_ratelimit_t *rl, int64_t now_ms);

/**
 * @brief Append the readable form of an alert: one line with status, type,
 *        labels, window, figures and id/revision, then the summary on a
 *        second indented line; both end in '\n'.
 */
void br_alert_format_line(const br_alert_t *alert, br_buf_t *out);

#endif
