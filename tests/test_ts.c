/* Timestamps: every accepted form against a known epoch, every range check,
 * epoch units, formatting, and the civil-date helpers over a long span. */
#include <math.h>
#include <string.h>

#include "brtest.h"
#include "burnrate/ts.h"

static int64_t ts_ok(const char *s) {
    int64_t v = -1;
    br_err_t err = br_ts_parse(s, strlen(s), &v);
    if (err != BR_ERR_OK) {
        fprintf(stderr, "parse \"%s\": %s\n", s, br_err_name(err));
        brt_fail++;
    }
    return v;
}

static br_err_t ts_err(const char *s) {
    int64_t v = 0;
    return br_ts_parse(s, strlen(s), &v);
}

static const char *fmt(int64_t ms) {
    static char buf[32];
    br_ts_format(ms, buf, sizeof(buf));
    return buf;
}

#define T0 INT64_C(1726696800000) /* 2024-09-18T22:00:00Z */

int main(void) {
    /* Every int64 formats without overflow (UBSan in the ASan build): a
     * hostile snapshot's times are described, not trusted. */
    CHECK_STR(fmt(-1), "1969-12-31T23:59:59.999Z");
    CHECK(strlen(fmt(INT64_MIN)) > 20);
    CHECK(strlen(fmt(INT64_MAX)) > 20);
    CHECK_INT(ts_ok("2024-09-18T22:00:00Z"), T0);
    CHECK_INT(ts_ok("2024-09-18t22:00:00z"), T0);
    CHECK_INT(ts_ok("2024-09-18 22:00:00"), T0);
    CHECK_INT(ts_ok("2024-09-18T22:00:00"), T0);
    CHECK_INT(ts_ok("2024-09-18T22:00"), T0);
    CHECK_INT(ts_ok("  2024-09-18T22:00:00Z\n"), T0);
    CHECK_INT(ts_ok("2024-09-18T22:00:00.123+02:00"), T0 - 7200000 + 123);
    CHECK_INT(ts_ok("2024-09-19T03:30:00+05:30"), T0);
    CHECK_INT(ts_ok("2024-09-18T14:00:00-08:00"), T0);
    CHECK_INT(ts_ok("2024-09-18T14:00:00-0800"), T0);
    CHECK_INT(ts_ok("2024-09-18T22:00:00+00:00"), T0);
    CHECK_INT(ts_ok("2024-09-18T22:00:00-00:00"), T0);
    CHECK_INT(ts_ok("2024-09-18T22:00:00.1Z"), T0 + 100);
    CHECK_INT(ts_ok("2024-09-18T22:00:00.12Z"), T0 + 120);
    CHECK_INT(ts_ok("2024-09-18T22:00:00.123456789Z"), T0 + 123);
    CHECK_INT(ts_ok("2024-09-18T22:00:00.9999999999999999999999Z"), T0 + 999);
    CHECK_INT(ts_ok("2024-09-18 22:00:00.000"), T0);
    CHECK_INT(ts_ok("2024-09-18"), T0 - 22 * 3600000);
    CHECK_INT(ts_ok("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(ts_ok("1969-12-31T23:59:59.999Z"), -1);
    CHECK_INT(ts_ok("2024-02-29T00:00:00Z"), INT64_C(1709164800000));
    CHECK_INT(ts_ok("2000-02-29"), INT64_C(951782400000));
    CHECK_INT(ts_ok("0000-01-01"), INT64_C(-62167219200000));
    CHECK_INT(ts_ok("9999-12-31T23:59:59.999Z"), INT64_C(253402300799999));
    /* leap second: last ms of its minute */
    CHECK_INT(ts_ok("2016-12-31T23:59:60Z"), INT64_C(1483228799999));
    /* epoch digit strings of every unit */
    CHECK_INT(ts_ok("1726696800"), T0);
    CHECK_INT(ts_ok("1726696800123"), T0 + 123);
    CHECK_INT(ts_ok("1726696800123456"), T0 + 123);
    CHECK_INT(ts_ok("1726696800123456789"), T0 + 123);
    CHECK_INT(ts_ok("1726696800.5"), T0 + 500);
    CHECK_INT(ts_ok("0"), 0);
    CHECK_INT(ts_ok("-1"), -1000);

    const char *bad[] = {
        "", " ", "2024-13-01", "2024-00-10", "2024-09-31",
        "2023-02-29", "1900-02-29", "2024-09-18T24:00:00Z",
        "2024-09-18T23:60:00Z", "2024-09-18T23:59:61Z", "2024-9-18",
        "2024-09-18T22:00:00+24:00", "2024-09-18T22:00:00+02:60",
        "2024-09-18T22:00:00+02:", "2024-09-18T22:00:00.Z",
        "2024-09-18T22:00:00ZZ", "2024-09-18T22:00:00 Z", "2024-09-18T",
        "2024-09-18X22:00:00", "2024-09-18T22", "2024-09-18T2:00:00",
        "yesterday", "1726696800x", "17266968.00.1", "1e9", "0x10",
        "2024-09-18T22:00:00+2", "2024-09-18T22:00:00EST", "abcd-ef-gh",
        "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        br_err_t err = ts_err(bad[i]);
        if (err == BR_ERR_OK) fprintf(stderr, "accepted \"%s\"\n", bad[i]);
        CHECK(err != BR_ERR_OK);
    }
    CHECK_INT(ts_err("2024-13-01"), BR_ERR_PARSE);
    int64_t v = 0;
    CHECK_INT(br_ts_parse("2024-09-18T22:00:00Zjunk", 20, &v), BR_ERR_OK);
    CHECK_INT(v, T0);

    /* epoch numbers */
    CHECK_INT(br_ts_from_epoch(1726696800.0, &v), BR_ERR_OK);
    CHECK_INT(v, T0);
    CHECK_INT(br_ts_from_epoch(1726696800.123, &v), BR_ERR_OK);
    CHECK_INT(v, T0 + 123);
    CHECK_INT(br_ts_from_epoch(1726696800123.0, &v), BR_ERR_OK);
    CHECK_INT(v, T0 + 123);
    CHECK_INT(br_ts_from_epoch(1726696800123456.0, &v), BR_ERR_OK);
    CHECK_INT(v, T0 + 123);
    CHECK_INT(br_ts_from_epoch(1.726696800123e18, &v), BR_ERR_OK);
    CHECK(v >= T0 + 122 && v <= T0 + 123);
    CHECK_INT(br_ts_from_epoch(-1.5, &v), BR_ERR_OK);
    CHECK_INT(v, -1500);
    CHECK_INT(br_ts_from_epoch(99999999999.0, &v), BR_ERR_OK); /* seconds */
    CHECK_INT(v, INT64_C(99999999999000));
    CHECK_INT(br_ts_from_epoch(NAN, &v), BR_ERR_RANGE);
    CHECK_INT(br_ts_from_epoch(INFINITY, &v), BR_ERR_RANGE);
    CHECK_INT(br_ts_from_epoch(1e30, &v), BR_ERR_RANGE);
    CHECK_INT(br_ts_from_epoch(9.9e13, &v), BR_ERR_OK); /* ms, year 5107 */
    CHECK_INT(v, INT64_C(99000000000000));
    CHECK_INT(br_ts_from_epoch(253402300799999.0, &v), BR_ERR_OK); /* us */
    CHECK_INT(v, INT64_C(253402300799));
    CHECK_INT(br_ts_from_epoch(-9.3e18, &v), BR_ERR_RANGE);
    /* a 4-digit string is epoch seconds, not a year */
    CHECK_INT(ts_ok("2024"), 2024000);

    /* relative to a fixed now: 2024-09-18T22:00:00.250Z, a Wednesday */
    {
        const int64_t now = T0 + 250, day = INT64_C(86400000);
        const int64_t midnight = T0 - 22 * INT64_C(3600000);
        static const struct {
            const char *s;
            int64_t want;
        } rel[] = {
            {"now", T0 + 250},
            {" NOW\n", T0 + 250},
            {"today", T0 - 22 * INT64_C(3600000)},
            {"yesterday", T0 - 22 * INT64_C(3600000) - INT64_C(86400000)},
            {"tomorrow", T0 + 2 * INT64_C(3600000)},
            {"Today", T0 - 22 * INT64_C(3600000)},
            {"-7d", T0 + 250 - 7 * INT64_C(86400000)},
            {"+1h", T0 + 250 + INT64_C(3600000)},
            {"now-24h", T0 + 250 - 24 * INT64_C(3600000)},
            {"now+1h", T0 + 250 + INT64_C(3600000)},
            {"now - 90m", T0 + 250 - 90 * INT64_C(60000)},
            {"now-30s", T0 + 250 - 30000},
            {"now-2w", T0 + 250 - 14 * INT64_C(86400000)},
            {"now-1d12h", T0 + 250 - 36 * INT64_C(3600000)},
            {"now-1D12H", T0 + 250 - 36 * INT64_C(3600000)},
            {"now-0s", T0 + 250},
            {"today+9h", T0 - 13 * INT64_C(3600000)},
            {"yesterday-1w", T0 - 22 * INT64_C(3600000) - 8 * INT64_C(86400000)},
            {"- 7d", T0 + 250 - 7 * INT64_C(86400000)},
            /* every absolute form still reads as before */
            {"2024-09-18T22:00:00Z", T0},
            {"2024-09-18", T0 - 22 * INT64_C(3600000)},
            {"1726696800", T0},
            {"-1", -1000},
            {"+5", 5000},
            {"-1.5", -1500},
        };
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            int64_t got = -1;
            br_err_t err = br_ts_parse_relative(rel[i].s, strlen(rel[i].s), now, &got);
            if (err != BR_ERR_OK || got != rel[i].want)
                fprintf(stderr, "relative \"%s\": %s %lld, want %lld\n", rel[i].s,
                        br_err_name(err), (long long)got, (long long)rel[i].want);
            CHECK_INT(err, BR_ERR_OK);
            CHECK_INT(got, rel[i].want);
        }
        CHECK_INT(midnight % day, 0);
        /* today at a negative now: UTC midnight rounds down, not to zero */
        CHECK_INT(br_ts_parse_relative("today", 5, -1, &v), BR_ERR_OK);
        CHECK_INT(v, -day);
        CHECK_INT(br_ts_parse_relative("today", 5, 0, &v), BR_ERR_OK);
        CHECK_INT(v, 0);
        /* today is the day of now, whatever its hour */
        CHECK_INT(br_ts_parse_relative("today", 5, midnight + day - 1, &v), BR_ERR_OK);
        CHECK_INT(v, midnight);

        const char *rbad[] = {
            "", "  ", "nowx", "now-", "now-24", "now-h", "now-1x", "now 1h",
            "now24h", "now--1h", "now-1h-", "now-1h+", "now-1h 2m", "24h",
            "7d", "-7", "+", "-", "-d", "-1ms", "now-1.5h", "todayy",
            "yester day", "now-1y", "now-1mo", "ago", "-7x", "now+-1h",
        };
        for (size_t i = 0; i < sizeof rbad / sizeof rbad[0]; i++) {
            int64_t got = 42;
            br_err_t err = br_ts_parse_relative(rbad[i], strlen(rbad[i]), now, &got);
            /* "-7" is epoch seconds, an absolute time */
            if (strcmp(rbad[i], "-7") == 0) {
                CHECK_INT(err, BR_ERR_OK);
                CHECK_INT(got, -7000);
                continue;
            }
            if (err == BR_ERR_OK) fprintf(stderr, "accepted relative \"%s\"\n", rbad[i]);
            CHECK_INT(err, BR_ERR_PARSE);
            CHECK_INT(got, 42);
        }
        /* out of years 0000-9999, or a number that would overflow */
        CHECK_INT(br_ts_parse_relative("now+8000w", 9, INT64_C(253402300799999), &v),
                  BR_ERR_RANGE);
        CHECK_INT(br_ts_parse_relative("-600000w", 8, now, &v), BR_ERR_RANGE);
        CHECK_INT(br_ts_parse_relative("now-99999999999999999999999s", 27, now, &v),
                  BR_ERR_RANGE);
        CHECK_INT(br_ts_parse_relative("now-9223372036854775807w", 24, now, &v),
                  BR_ERR_RANGE);
        CHECK_INT(br_ts_parse_relative("now-300000w300000w", 18, now, &v), BR_ERR_RANGE);
        CHECK_INT(br_ts_parse_relative("today", 5, INT64_C(253402300799999), &v), BR_ERR_OK);
        CHECK_INT(br_ts_parse_relative("tomorrow", 8, INT64_C(253402300799999), &v),
                  BR_ERR_RANGE);
        /* not NUL-terminated: only len bytes are read */
        CHECK_INT(br_ts_parse_relative("now-1hXYZ", 6, now, &v), BR_ERR_OK);
        CHECK_INT(v, now - INT64_C(3600000));
    }

    /* formatting round trips */
    CHECK_STR(fmt(T0), "2024-09-18T22:00:00Z");
    CHECK_STR(fmt(T0 + 5), "2024-09-18T22:00:00.005Z");
    CHECK_STR(fmt(-1), "1969-12-31T23:59:59.999Z");
    CHECK_STR(fmt(0), "1970-01-01T00:00:00Z");
    CHECK_STR(fmt(INT64_C(253402300799999)), "9999-12-31T23:59:59.999Z");

    /* civil helpers over 0000..9999, day by day every 7th day */
    int ok = 1;
    int64_t prev = br_days_from_civil(0, 1, 1) - 1;
    for (int64_t z = br_days_from_civil(0, 1, 1);
         z < br_days_from_civil(10000, 1, 1); z += 7) {
        int64_t y;
        unsigned m, d;
        br_civil_from_days(z, &y, &m, &d);
        if (br_days_from_civil(y, m, d) != z || z <= prev) ok = 0;
        prev = z;
        char buf[32];
        br_ts_format(z * INT64_C(86400000) + 3723004, buf, sizeof(buf));
        int64_t back = 0;
        if (br_ts_parse(buf, strlen(buf), &back) != BR_ERR_OK ||
            back != z * INT64_C(86400000) + 3723004) ok = 0;
    }
    CHECK(ok);
    CHECK_INT(br_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(br_days_from_civil(0, 1, 1), -719528);
    CHECK_INT(br_days_from_civil(10000, 1, 1), 2932897);
    CHECK_INT(br_days_from_civil(2024, 3, 1) - br_days_from_civil(2024, 2, 1),
              29);
    CHECK_INT(br_floordiv(-1, 1000), -1);
    CHECK_INT(br_floordiv(-1000, 1000), -1);
    CHECK_INT(br_floordiv(999, 1000), 0);
    return brt_done();
}
