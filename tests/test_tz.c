/*
 * Time zones and calendar periods. The zones are read from the TZif files
 * in tests/tz/zoneinfo (tzdata 2025b, see tests/tz/README.md), never from
 * the host's tz database, so expectations for future dates hold whatever
 * tzdata the host has; expected instants come from `zdump -v` on those
 * files or are well known. Crafted TZif files cover v1 files, POSIX rule
 * forms and damaged input.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brtest.h"
#include "burnrate/ts.h"
#include "burnrate/tz.h"

#define HOUR_MS INT64_C(3600000)

static char errstr[512];
static char zoneinfo[1024];   /* tests/tz/zoneinfo: TZDIR for every load */

static int64_t ms(const char *s) {
    int64_t out = 0;
    if (br_ts_parse(s, strlen(s), &out) != BR_ERR_OK) {
        fprintf(stderr, "bad test timestamp %s\n", s);
        brt_fail++;
    }
    return out;
}

static br_tz_t *load(const char *name) {
    br_tz_t *tz = br_tz_load(name, errstr, sizeof(errstr));
    CHECK(tz != NULL);
    if (!tz)
        fprintf(stderr, "load %s: %s\n", name, errstr);
    return tz;
}

/* Check the period containing t is [start, end) (RFC 3339 UTC strings). */
#define CHECK_PERIOD(tz, period, t, start, end)                            \
    do {                                                                   \
        int64_t s_ = 0, e_ = 0;                                            \
        br_tz_period_bounds((tz), (period), ms(t), &s_, &e_);              \
        char sb_[32], eb_[32];                                             \
        br_ts_format(s_, sb_, sizeof(sb_));                                \
        br_ts_format(e_, eb_, sizeof(eb_));                                \
        CHECK_STR(sb_, start);                                             \
        CHECK_STR(eb_, end);                                               \
    } while (0)

static void test_berlin(void) {
    br_tz_t *tz = load("Europe/Berlin");
    if (!tz)
        return;
    CHECK_STR(br_tz_name(tz), "Europe/Berlin");
    /* zdump: CET -> CEST at 2025-03-30 01:00Z, back at 2025-10-26 01:00Z */
    CHECK_INT(br_tz_offset_ms(tz, ms("2025-03-30T00:59:59.999Z")), HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2025-03-30T01:00:00Z")), 2 * HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2025-10-26T00:59:59Z")), 2 * HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2025-10-26T01:00:00Z")), HOUR_MS);
    CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2025-03-15T12:00:00Z",
                 "2025-02-28T23:00:00Z", "2025-03-31T22:00:00Z");
    /* first and last instants of the month belong to it */
    CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2025-02-28T23:00:00Z",
                 "2025-02-28T23:00:00Z", "2025-03-31T22:00:00Z");
    CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2025-03-31T21:59:59.999Z",
                 "2025-02-28T23:00:00Z", "2025-03-31T22:00:00Z");
    CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2025-03-31T22:00:00Z",
                 "2025-03-31T22:00:00Z", "2025-04-30T22:00:00Z");
    /* the spring-forward day has 23 hours, the fall-back day 25 */
    CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-03-30T12:00:00Z",
                 "2025-03-29T23:00:00Z", "2025-03-30T22:00:00Z");
    CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-10-26T12:00:00Z",
                 "2025-10-25T22:00:00Z", "2025-10-26T23:00:00Z");
    /* 23:30Z on the 25th is 01:30 CEST on the 26th */
    CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-10-25T23:30:00Z",
                 "2025-10-25T22:00:00Z", "2025-10-26T23:00:00Z");
    /* ISO week across the year end: 2025-01-01 was a Wednesday */
    CHECK_PERIOD(tz, BR_PERIOD_WEEK, "2025-01-01T10:00:00Z",
                 "2024-12-29T23:00:00Z", "2025-01-05T23:00:00Z");
    /* a week containing the DST change is 167 hours long */
    CHECK_PERIOD(tz, BR_PERIOD_WEEK, "2025-03-27T00:00:00Z",
                 "2025-03-23T23:00:00Z", "2025-03-30T22:00:00Z");
    /* year 2100 lies past the last transition: the footer rule
     * "CET-1CEST,M3.5.0,M10.5.0/3"; zdump: 2100-03-28 01:00Z and
     * 2100-10-31 01:00Z */
    CHECK_INT(br_tz_offset_ms(tz, ms("2100-03-28T00:59:59Z")), HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2100-03-28T01:00:00Z")), 2 * HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-31T00:59:59Z")), 2 * HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-31T01:00:00Z")), HOUR_MS);
    CHECK_PERIOD(tz, BR_PERIOD_DAY, "2100-03-28T10:00:00Z",
                 "2100-03-27T23:00:00Z", "2100-03-28T22:00:00Z");
    CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2100-03-01T00:00:00Z",
                 "2100-02-28T23:00:00Z", "2100-03-31T22:00:00Z");
    br_tz_destroy(tz);
}

static void test_new_york(void) {
    br_tz_t *tz = load("America/New_York");
    if (!tz)
        return;
    /* zdump: EST -> EDT at 2025-03-09 07:00Z, back at 2025-11-02 06:00Z */
    CHECK_INT(br_tz_offset_ms(tz, ms("2025-03-09T06:59:59Z")), -5 * HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2025-03-09T07:00:00Z")), -4 * HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2025-11-02T05:59:59Z")), -4 * HOUR_MS);
    CHECK_INT(br_tz_offset_ms(tz, ms("2025-11-02T06:00:00Z")), -5 * HOUR_MS);
    CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-03-09T12:00:00Z",
                 "2025-03-09T05:00:00Z", "2025-03-10T04:00:00Z");
    CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-11-02T12:00:00Z",
                 "2025-11-02T04:00:00Z", "2025-11-03T05:00:00Z");
    /* 03:00Z on Jan 1 is still Dec 31 in New York */
    CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2026-01-01T03:00:00Z",
                 "2025-12-01T05:00:00Z", "2026-01-01T05:00:00Z");
    /* 2025-12-29 is a Monday */
    CHECK_PERIOD(tz, BR_PERIOD_WEEK, "2026-01-01T12:00:00Z",
                 "2025-12-29T05:00:00Z", "2026-01-05T05:00:00Z");
    br_tz_destroy(tz);
}

static void test_fixed_like(void) {
    /* zdump: Asia/Kolkata is +05:30 since 1945-10-14 */
    br_tz_t *tz = load("Asia/Kolkata");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, ms("2025-06-15T00:00:00Z")),
                  5 * HOUR_MS + 30 * 60000);
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-06-15T10:00:00Z",
                     "2025-06-14T18:30:00Z", "2025-06-15T18:30:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-06-14T18:30:00Z",
                     "2025-06-14T18:30:00Z", "2025-06-15T18:30:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-06-14T18:29:59.999Z",
                     "2025-06-13T18:30:00Z", "2025-06-14T18:30:00Z");
        br_tz_destroy(tz);
    }
    tz = load("+05:30");
    if (tz) {
        CHECK_STR(br_tz_name(tz), "+05:30");
        CHECK_INT(br_tz_offset_ms(tz, 0), 5 * HOUR_MS + 30 * 60000);
        CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2025-02-28T18:30:00Z",
                     "2025-02-28T18:30:00Z", "2025-03-31T18:30:00Z");
        br_tz_destroy(tz);
    }
    tz = load("-08:00");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, ms("2025-07-01T00:00:00Z")),
                  -8 * HOUR_MS);
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-07-01T07:59:59Z",
                     "2025-06-30T08:00:00Z", "2025-07-01T08:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_WEEK, "2025-07-01T07:59:59Z",
                     "2025-06-30T08:00:00Z", "2025-07-07T08:00:00Z");
        br_tz_destroy(tz);
    }
    tz = load("-0330");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, 0), -(3 * HOUR_MS + 30 * 60000));
        br_tz_destroy(tz);
    }
    static const char *const utc[] = {"UTC", "Z", "+00:00", "-00", "Etc/UTC"};
    for (size_t i = 0; i < sizeof(utc) / sizeof(utc[0]); i++) {
        tz = load(utc[i]);
        if (!tz)
            continue;
        CHECK_INT(br_tz_offset_ms(tz, ms("2025-07-01T00:00:00Z")), 0);
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-07-01T23:59:59.999Z",
                     "2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2024-02-29T12:00:00Z",
                     "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_MONTH, "1969-12-31T23:59:59.999Z",
                     "1969-12-01T00:00:00Z", "1970-01-01T00:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_WEEK, "1970-01-01T00:00:00Z",
                     "1969-12-29T00:00:00Z", "1970-01-05T00:00:00Z");
        br_tz_destroy(tz);
    }
}

/* Zones whose clocks jump across local midnight. */
static void test_midnight_changes(void) {
    /* zdump America/Sao_Paulo 2018: 2018-11-04 03:00Z 23:59:59 -03 ->
     * 01:00 -02, so Nov 4 starts at 01:00 local; 2018-02-18 02:00Z
     * 23:59:59 -02 -> 23:00 -03, so Feb 17 has 25 hours. */
    br_tz_t *tz = load("America/Sao_Paulo");
    if (tz) {
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2018-11-04T12:00:00Z",
                     "2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2018-11-04T02:59:59.999Z",
                     "2018-11-03T03:00:00Z", "2018-11-04T03:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2018-02-17T12:00:00Z",
                     "2018-02-17T02:00:00Z", "2018-02-18T03:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_WEEK, "2018-11-04T12:00:00Z",
                     "2018-10-29T03:00:00Z", "2018-11-05T02:00:00Z");
        br_tz_destroy(tz);
    }
    /* zdump America/Havana 2025: 2025-03-09 05:00Z 23:59:59 CST -> 01:00
     * CDT (midnight skipped); 2025-11-02 05:00Z 00:59:59 CDT -> 00:00 CST
     * (midnight twice: the day starts at the first one, 04:00Z). */
    tz = load("America/Havana");
    if (tz) {
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-03-09T12:00:00Z",
                     "2025-03-09T05:00:00Z", "2025-03-10T04:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-03-08T12:00:00Z",
                     "2025-03-08T05:00:00Z", "2025-03-09T05:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-11-02T04:30:00Z",
                     "2025-11-02T04:00:00Z", "2025-11-03T05:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-11-02T05:30:00Z",
                     "2025-11-02T04:00:00Z", "2025-11-03T05:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2025-11-02T03:59:59Z",
                     "2025-11-01T04:00:00Z", "2025-11-02T04:00:00Z");
        /* the same rules from the footer "CST5CDT,M3.2.0/0,M11.1.0/1";
         * zdump 2100: 2100-03-14 05:00Z and 2100-11-07 05:00Z */
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2100-03-14T12:00:00Z",
                     "2100-03-14T05:00:00Z", "2100-03-15T04:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2100-11-07T12:00:00Z",
                     "2100-11-07T04:00:00Z", "2100-11-08T05:00:00Z");
        br_tz_destroy(tz);
    }
    /* zdump America/Santiago 2100, footer "<-04>4<-03>,M9.1.6/24,M4.1.6/24":
     * 2100-09-05 04:00Z 23:59:59 -04 -> 01:00 -03; 2100-04-04 03:00Z
     * 23:59:59 -03 -> 23:00 -04 (Apr 3 has 25 hours). */
    tz = load("America/Santiago");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-09-05T03:59:59Z")),
                  -4 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-09-05T04:00:00Z")),
                  -3 * HOUR_MS);
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2100-09-05T12:00:00Z",
                     "2100-09-05T04:00:00Z", "2100-09-06T03:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2100-04-03T12:00:00Z",
                     "2100-04-03T03:00:00Z", "2100-04-04T04:00:00Z");
        br_tz_destroy(tz);
    }
    /* zdump America/Nuuk 2100, footer "<-02>2<-01>,M3.5.0/-1,M10.5.0/0":
     * 2100-03-28 01:00Z 22:59:59 -02 -> 00:00 -01; 2100-10-31 01:00Z
     * 23:59:59 -01 -> 23:00 -02. */
    tz = load("America/Nuuk");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-03-28T00:59:59Z")),
                  -2 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-03-28T01:00:00Z")),
                  -1 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-31T00:59:59Z")),
                  -1 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-31T01:00:00Z")),
                  -2 * HOUR_MS);
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2100-03-27T12:00:00Z",
                     "2100-03-27T02:00:00Z", "2100-03-28T01:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2100-10-30T12:00:00Z",
                     "2100-10-30T01:00:00Z", "2100-10-31T02:00:00Z");
        br_tz_destroy(tz);
    }
    /* zdump Asia/Jerusalem 2100, footer "IST-2IDT,M3.4.4/26,M10.5.0":
     * 2100-03-26 00:00Z and 2100-10-30 23:00Z */
    tz = load("Asia/Jerusalem");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-03-25T23:59:59Z")),
                  2 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-03-26T00:00:00Z")),
                  3 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-30T22:59:59Z")),
                  3 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-30T23:00:00Z")),
                  2 * HOUR_MS);
        br_tz_destroy(tz);
    }
    /* zdump Europe/Dublin 2100, footer "IST-1GMT0,M10.5.0,M3.5.0/1" (the
     * winter offset is the "DST"): 2100-03-28 01:00Z, 2100-10-31 01:00Z */
    tz = load("Europe/Dublin");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-03-28T00:59:59Z")), 0);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-03-28T01:00:00Z")), HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-31T00:59:59Z")), HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-31T01:00:00Z")), 0);
        br_tz_destroy(tz);
    }
    /* zdump Australia/Lord_Howe 2100: half-hour DST, 2100-10-02 15:30Z
     * +1030 -> +11, 2100-04-03 15:00Z +11 -> +1030 */
    tz = load("Australia/Lord_Howe");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-02T15:29:59Z")),
                  10 * HOUR_MS + 30 * 60000);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-10-02T15:30:00Z")),
                  11 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-04-03T14:59:59Z")),
                  11 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-04-03T15:00:00Z")),
                  10 * HOUR_MS + 30 * 60000);
        br_tz_destroy(tz);
    }
    /* zdump Pacific/Apia 2011: 2011-12-30 10:00Z 23:59:59 Dec 29 -10 ->
     * 00:00 Dec 31 +14; Dec 30 never happened there. */
    tz = load("Pacific/Apia");
    if (tz) {
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2011-12-30T09:59:59Z",
                     "2011-12-29T10:00:00Z", "2011-12-30T10:00:00Z");
        CHECK_PERIOD(tz, BR_PERIOD_DAY, "2011-12-30T10:00:00Z",
                     "2011-12-30T10:00:00Z", "2011-12-31T10:00:00Z");
        /* Dec 1 2011 was -10 (DST since 2011-09-24 14:00Z) */
        CHECK_PERIOD(tz, BR_PERIOD_MONTH, "2011-12-15T00:00:00Z",
                     "2011-12-01T10:00:00Z", "2011-12-31T10:00:00Z");
        br_tz_destroy(tz);
    }
}

static void test_invalid(void) {
    static const char *const bad[] = {
        "", "../etc/passwd", "Europe/../../etc/passwd", "/etc/localtime",
        "Europe/Berlin ", "Europe\\Berlin", "+25:00", "+05:60", "+5", "05:30",
        "+05:3", "utc+1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errstr[0] = '\0';
        br_tz_t *tz = br_tz_load(bad[i], errstr, sizeof(errstr));
        CHECK(tz == NULL);
        if (tz) {
            fprintf(stderr, "  zone \"%s\" accepted\n", bad[i]);
            br_tz_destroy(tz);
        }
        CHECK(errstr[0] != '\0');
    }
    br_tz_t *tz = br_tz_load("Mars/Olympus_Mons", errstr, sizeof(errstr));
    CHECK(tz == NULL);
    /* The message names the zone, not a path under the tz database. */
    CHECK_STR(errstr, "unknown time zone \"Mars/Olympus_Mons\"");
    tz = br_tz_load("Europe", errstr, sizeof(errstr));  /* a directory */
    CHECK(tz == NULL);
    CHECK_STR(errstr, "unknown time zone \"Europe\" (not a zone file)");
    CHECK(br_tz_load(NULL, errstr, sizeof(errstr)) == NULL);
    br_tz_destroy(NULL);

    br_period_t p = BR_PERIOD_DAY;
    CHECK_INT(br_period_parse("week", &p), BR_ERR_OK);
    CHECK_INT(p, BR_PERIOD_WEEK);
    CHECK_INT(br_period_parse("month", &p), BR_ERR_OK);
    CHECK_INT(p, BR_PERIOD_MONTH);
    CHECK_INT(br_period_parse("day", &p), BR_ERR_OK);
    CHECK_INT(p, BR_PERIOD_DAY);
    CHECK_INT(br_period_parse("Month", &p), BR_ERR_INVAL);
    CHECK_INT(br_period_parse("year", &p), BR_ERR_INVAL);
    CHECK_INT(br_period_parse("", &p), BR_ERR_INVAL);
    CHECK_STR(br_period_name(BR_PERIOD_DAY), "day");
    CHECK_STR(br_period_name(BR_PERIOD_WEEK), "week");
    CHECK_STR(br_period_name(BR_PERIOD_MONTH), "month");
}

/* ---- crafted TZif files ---------------------------------------------- */

static size_t put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

/* Two zone types "AAA" (off0) and "BBB" (off1); version '\0' writes a v1
 * file, '2' adds the 64-bit block and the footer. Returns the length. */
static size_t build_tzif(unsigned char *buf, char version, size_t n,
                         const int64_t *trans, const unsigned char *types,
                         int32_t off0, int32_t off1, const char *footer) {
    size_t len = 0;
    for (int pass = 0; pass < (version ? 2 : 1); pass++) {
        size_t tsize = pass ? 8 : 4;
        memcpy(buf + len, "TZif", 4);
        buf[len + 4] = (unsigned char)version;
        memset(buf + len + 5, 0, 15);
        len += 20;
        len += put32(buf + len, 0);              /* isutcnt */
        len += put32(buf + len, 0);              /* isstdcnt */
        len += put32(buf + len, 0);              /* leapcnt */
        len += put32(buf + len, (uint32_t)n);    /* timecnt */
        len += put32(buf + len, 2);              /* typecnt */
        len += put32(buf + len, 8);              /* charcnt */
        for (size_t i = 0; i < n; i++) {
            if (tsize == 8) {
                len += put32(buf + len, (uint32_t)((uint64_t)trans[i] >> 32));
                len += put32(buf + len, (uint32_t)trans[i]);
            } else {
                len += put32(buf + len, (uint32_t)(int32_t)trans[i]);
            }
        }
        if (n)
            memcpy(buf + len, types, n);
        len += n;
        len += put32(buf + len, (uint32_t)off0);
        buf[len++] = 0;
        buf[len++] = 0;
        len += put32(buf + len, (uint32_t)off1);
        buf[len++] = 1;
        buf[len++] = 4;
        memcpy(buf + len, "AAA\0BBB\0", 8);
        len += 8;
    }
    if (version) {
        size_t fl = strlen(footer);
        buf[len++] = '\n';
        memcpy(buf + len, footer, fl);
        len += fl;
        buf[len++] = '\n';
    }
    return len;
}

static bool write_file(const char *dir, const char *name,
                       const unsigned char *data, size_t len) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static void remove_file(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

static void test_crafted(void) {
    char dir[] = "/tmp/test_tz_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    unsigned char buf[4096];
    /* v1: +1h, +2h from 1e9 s (2001-09-09T01:46:40Z), +1h from 1.1e9 s */
    int64_t trans[2] = {1000000000, 1100000000};
    unsigned char types[2] = {1, 0};
    size_t len = build_tzif(buf, '\0', 2, trans, types, 3600, 7200, "");
    CHECK(write_file(dir, "V1", buf, len));
    /* v2 without transitions, rules "Jn" and "n" in the footer; zdump on
     * the TZ string: 2024-03-01 01:00Z, 2024-10-27 01:00Z, 2025-03-01
     * 01:00Z, 2025-10-28 01:00Z */
    len = build_tzif(buf, '2', 0, NULL, NULL, 3600, 7200,
                     "XXX-1YYY,J60/2,300/3");
    CHECK(write_file(dir, "Rules", buf, len));
    /* permanent DST, the idiom tzfile(5) documents */
    len = build_tzif(buf, '2', 0, NULL, NULL, -5 * 3600, -4 * 3600,
                     "EST5EDT,0/0,J365/25");
    CHECK(write_file(dir, "AllYear", buf, len));
    len = build_tzif(buf, '2', 0, NULL, NULL, 0, 0, "EST5EDT,M3.2.0");
    CHECK(write_file(dir, "BadFooter", buf, len));
    len = build_tzif(buf, '2', 2, trans, types, 3600, 7200, "AAA-1");
    CHECK(write_file(dir, "Truncated", buf, 60));
    unsigned char disorder[2] = {0, 2};
    len = build_tzif(buf, '\0', 2, trans, disorder, 3600, 7200, "");
    CHECK(write_file(dir, "BadType", buf, len));
    CHECK(write_file(dir, "Text", (const unsigned char *)"hello\n", 6));
    setenv("TZDIR", dir, 1);

    br_tz_t *tz = load("V1");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, 999999999999), HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, 1000000000000), 2 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, 1099999999999), 2 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, 1100000000000), HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2100-07-01T00:00:00Z")), HOUR_MS);
        br_tz_destroy(tz);
    }
    tz = load("Rules");
    if (tz) {
        CHECK_INT(br_tz_offset_ms(tz, ms("2024-03-01T00:59:59Z")), HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2024-03-01T01:00:00Z")),
                  2 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2024-10-27T00:59:59Z")),
                  2 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2024-10-27T01:00:00Z")), HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2025-03-01T01:00:00Z")),
                  2 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2025-10-28T00:59:59Z")),
                  2 * HOUR_MS);
        CHECK_INT(br_tz_offset_ms(tz, ms("2025-10-28T01:00:00Z")), HOUR_MS);
        br_tz_destroy(tz);
    }
    tz = load("AllYear");
    if (tz) {
        static const char *const when[] = {
            "2025-01-01T00:00:00Z", "2025-12-31T23:59:59Z",
            "2026-01-01T04:59:59Z", "2026-01-01T05:00:00Z",
            "2026-07-01T00:00:00Z", "2100-01-01T04:00:00Z",
        };
        for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++)
            CHECK_INT(br_tz_offset_ms(tz, ms(when[i])), -4 * HOUR_MS);
        br_tz_destroy(tz);
    }
    tz = br_tz_load("BadFooter", errstr, sizeof(errstr));
    CHECK(tz == NULL);
    CHECK(strstr(errstr, "footer") != NULL);
    tz = br_tz_load("Truncated", errstr, sizeof(errstr));
    CHECK(tz == NULL);
    CHECK(strstr(errstr, "truncated") != NULL);
    tz = br_tz_load("BadType", errstr, sizeof(errstr));
    CHECK(tz == NULL);
    CHECK(strstr(errstr, "unknown type") != NULL);
    tz = br_tz_load("Text", errstr, sizeof(errstr));
    CHECK(tz == NULL);
    CHECK(strstr(errstr, "not a TZif") != NULL);

    setenv("TZDIR", zoneinfo, 1);
    static const char *const files[] = {"V1", "Rules", "AllYear",
                                        "BadFooter", "Truncated", "BadType",
                                        "Text"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        remove_file(dir, files[i]);
    rmdir(dir);
}

int main(void) {
    const char *src = getenv("BR_SRC");
    snprintf(zoneinfo, sizeof zoneinfo, "%s%s", src ? src : "..",
             "/tests/tz/zoneinfo");
    setenv("TZDIR", zoneinfo, 1);
    test_berlin();
    test_new_york();
    test_fixed_like();
    test_midnight_changes();
    test_invalid();
    test_crafted();
    return brt_done();
}
