/*
 * Time zones and calendar periods for budgets. Zones come from the system
 * tz database (TZif files under $TZDIR or /usr/share/zoneinfo) or are fixed
 * offsets; the lookups are pure functions of their arguments.
 */
#ifndef BURNRATE_TZ_H
#define BURNRATE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "burnrate/err.h"

typedef struct br_tz br_tz_t;

typedef enum {
    BR_PERIOD_DAY,
    BR_PERIOD_WEEK,  /* starts on Monday 00:00 local time (ISO 8601) */
    BR_PERIOD_MONTH,
    BR_PERIOD_ROLLING, /* budgets: a sliding window, no calendar bounds */
    BR_PERIOD_CUSTOM,  /* budgets: every N days or months from a start date */
} br_period_t;

/**
 * @brief Load a zone: "UTC", "Z", a fixed offset "+05:30"/"-08:00", or an
 *        IANA name such as "Europe/Berlin".
 * @returns a new zone the caller destroys, or NULL with errstr set.
 */
br_tz_t *br_tz_load(const char *name, char *errstr, size_t errstr_size);
/**
 * @brief A zone that needs no file: "UTC", "Z" or a fixed offset. Pure.
 * @returns a new zone the caller destroys, or NULL when name is none of
 *          these (or out of memory).
 */
br_tz_t *br_tz_fixed(const char *name);
void br_tz_destroy(br_tz_t *tz);
/** @returns the name it was loaded with; borrowed, valid while tz lives. */
const char *br_tz_name(const br_tz_t *tz);

/** @returns the zone's UTC offset in ms at the instant utc_ms. */
int64_t br_tz_offset_ms(const br_tz_t *tz, int64_t utc_ms);

/**
 * @brief The calendar period containing instant t_ms, as UTC instants
 *        [start_ms, end_ms). Local midnights that fall in a DST gap start at
 *        the first instant after the gap. Rolling and custom periods are
 *        not calendar periods (budget.c bounds them); they get the day.
 */
void br_tz_period_bounds(const br_tz_t *tz, br_period_t period, int64_t t_ms,
                         int64_t *start_ms, int64_t *end_ms);

/**
 * @brief The UTC instant of local wall time local_ms (ms since 1970-01-01
 *        00:00 local): its first occurrence when the clock shows it twice,
 *        the end of the gap when it never shows it.
 */
int64_t br_tz_local_to_utc(const br_tz_t *tz, int64_t local_ms);

/** @returns "day", "week", "month", "rolling" or "custom"; static. */
const char *br_period_name(br_period_t period);
/** @returns BR_ERR_OK or BR_ERR_INVAL for an unknown name. */
br_err_t br_period_parse(const char *name, br_period_t *out);

#endif
