/*
 * Timestamps: parsing the forms producers use, and formatting RFC 3339.
 * All times inside burnrate are int64 milliseconds since the Unix epoch, UTC.
 */
#ifndef BURNRATE_TS_H
#define BURNRATE_TS_H

#include <stddef.h>
#include <stdint.h>

#include "burnrate/err.h"

/**
 * @brief Parse a textual timestamp: RFC 3339 with any offset or "Z"
 *        ("2024-09-18T22:00:00.123+02:00"), the same with a space instead of
 *        "T", without a zone (taken as UTC: FOCUS exports write
 *        "2024-09-18 22:00:00"), a bare date "2024-09-18", or a string of
 *        digits holding epoch seconds/milliseconds/micro/nanoseconds
 *        (see br_ts_from_epoch()).
 * @param s borrowed; need not be NUL-terminated.
 * @returns BR_ERR_OK or BR_ERR_PARSE (bad syntax, field out of range such as
 *          month 13 or 25:00).
 */
br_err_t br_ts_parse(const char *s, size_t len, int64_t *out_ms);

/**
 * @brief Parse a time given on the command line: anything br_ts_parse()
 *        reads, or a time relative to now_ms:
 *        - "now"; "today", "yesterday", "tomorrow": 00:00 UTC of that day;
 *        - any of those followed by +DURATION or -DURATION ("now-24h",
 *          "today+9h", "yesterday - 1w"; blanks around the sign allowed);
 *        - a bare -DURATION or +DURATION: from now ("-7d" is "now-7d").
 *        A DURATION is one or more NUMBER UNIT groups ("90m", "1d12h") with
 *        units s, m (minutes), h, d, w; no months or years (their length
 *        varies). Words and units are case-insensitive.
 * @param s borrowed; need not be NUL-terminated.
 * @param now_ms the wall clock, read by the caller: this function is pure.
 * @returns BR_ERR_OK; BR_ERR_PARSE for text that is none of these forms;
 *          BR_ERR_RANGE when the result falls outside years 0000-9999.
 */
br_err_t br_ts_parse_relative(const char *s, size_t len, int64_t now_ms,
                              int64_t *out_ms);

/**
 * @brief Epoch number of unknown unit to ms: |v| < 1e11 is seconds, < 1e14
 *        milliseconds, < 1e17 microseconds, else nanoseconds.
 * @returns BR_ERR_OK, or BR_ERR_RANGE for NaN/Inf/beyond year 9999.
 */
br_err_t br_ts_from_epoch(double v, int64_t *out_ms);

/** @brief Format ms as "2024-09-18T22:00:00Z" ("...00.123Z" when ms != 0).
 *  @returns length written; 32 bytes suffice. */
size_t br_ts_format(int64_t ms, char *buf, size_t size);

/** Days since 1970-01-01 for a proleptic Gregorian civil date. */
int64_t br_days_from_civil(int64_t y, unsigned m, unsigned d);
/** Inverse of br_days_from_civil(). */
void br_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/** floor division for time arithmetic on negative values. */
static inline int64_t br_floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

#endif
