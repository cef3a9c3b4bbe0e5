/* Budgets across period boundaries and time zones: which period a row
 * counts in, thresholds once per period, late rows, credits, closing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brtest.h"
#include "burnrate/budget.h"
#include "burnrate/state.h"
#include "burnrate/ts.h"

#define U INT64_C(1000000000)

static int64_t ts(const char *s) {
    int64_t ms = 0;
    CHECK_INT(br_ts_parse(s, strlen(s), &ms), BR_ERR_OK);
    return ms;
}

/* A named zone as config loading reads it (budgets read no file), loaded
 * once per name; NULL when it does not load. */
static br_tz_t *zone(const char *name) {
    static struct { char name[64]; br_tz_t *tz; } cache[8];
    char err[256];
    size_t i;
    if (!name)
        return NULL;
    for (i = 0; i < 8 && cache[i].name[0]; i++)
        if (strcmp(cache[i].name, name) == 0)
            return cache[i].tz;
    br_tz_t *tz = br_tz_load(name, err, sizeof err);
    if (i < 8) {
        snprintf(cache[i].name, sizeof cache[i].name, "%s", name);
        cache[i].tz = tz;
    }
    return tz;
}

static br_budget_conf_t conf(br_period_t period, char *tz, int32_t *bp,
                             size_t cnt) {
    br_budget_conf_t bc;
    memset(&bc, 0, sizeof(bc));
    static char name[] = "b";
    bc.name = name;
    bc.amount_nanos = 100 * U;
    memcpy(bc.currency, "USD", 4);
    bc.period = period;
    bc.timezone = tz;
    bc.tz = zone(tz);
    bc.thresholds_bp = bp;
    bc.threshold_cnt = cnt;
    return bc;
}

/* Berlin's March starts at 2025-02-28T23:00Z: a row at 23:30Z on Feb 28 is
 * March spend there, February spend in UTC. */
/* b takes a's period slots as a snapshot restore gives them (the blob
 * is left to the caller's br_budget_load()). */
static void copy_periods(br_budget_t *b, const br_budget_t *a) {
    br_buf_t part;
    br_buf_init(&part);
    br_budget_snap_save(a, &part);
    br_rd_t r;
    br_rd_init(&r, part.data, part.len);
    br_budget_snap_t sn;
    br_budget_snap_read(&r, BR_STATE_LAYOUT, &sn);
    sn.state = NULL;
    CHECK(!r.err && br_budget_snap_restore(b, &sn));
    br_budget_snap_free(&sn);
    br_buf_free(&part);
}

static void test_month_berlin(void) {
    int32_t bp[] = {5000, 10000};
    char tz[] = "Europe/Berlin";
    br_budget_conf_t bc = conf(BR_PERIOD_MONTH, tz, bp, 2);
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    CHECK(b != NULL);
    br_budget_crossing_t x[4];
    CHECK_INT(br_budget_add(b, ts("2025-02-28T23:30:00Z"), 60 * U, x, 4), 1);
    CHECK_INT(x[0].threshold, 0);
    CHECK_INT(x[0].period->start_ms, ts("2025-02-28T23:00:00Z"));
    CHECK_INT(x[0].period->end_ms, ts("2025-03-31T22:00:00Z"));
    /* Once per period: more spend does not re-fire 50 %. */
    CHECK_INT(br_budget_add(b, ts("2025-03-10T12:00:00Z"), 10 * U, x, 4), 0);
    /* A credit lowers spend; crossing 100 % later still fires once. */
    CHECK_INT(br_budget_add(b, ts("2025-03-11T12:00:00Z"), -20 * U, x, 4), 0);
    CHECK_INT(br_budget_add(b, ts("2025-03-31T21:59:59Z"), 50 * U, x, 4), 1);
    CHECK_INT(x[0].threshold, 1);
    CHECK_INT(x[0].period->spent_nanos, 100 * U);
    /* April (Berlin) starts at 22:00Z: a new period, thresholds re-armed. */
    CHECK_INT(br_budget_add(b, ts("2025-03-31T22:00:00Z"), 100 * U, x, 4), 2);
    CHECK_INT(x[0].period->start_ms, ts("2025-03-31T22:00:00Z"));
    br_budget_destroy(b);
}

/* In UTC the same row is still February. */
static void test_month_utc(void) {
    int32_t bp[] = {5000};
    br_budget_conf_t bc = conf(BR_PERIOD_MONTH, NULL, bp, 1);
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    br_budget_crossing_t x[4];
    CHECK_INT(br_budget_add(b, ts("2025-02-28T23:30:00Z"), 60 * U, x, 4), 1);
    CHECK_INT(x[0].period->start_ms, ts("2025-02-01T00:00:00Z"));
    CHECK_INT(x[0].period->end_ms, ts("2025-03-01T00:00:00Z"));
    br_budget_destroy(b);
}

/* Late rows count toward the day they belong to, while it is kept. */
static void test_late_and_close(void) {
    int32_t bp[] = {8000};
    char tz[] = "America/New_York";
    br_budget_conf_t bc = conf(BR_PERIOD_DAY, tz, bp, 1);
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    br_budget_crossing_t x[4];
    /* New York day of 2025-03-09 (DST starts): 05:00Z to 04:00Z next day. */
    CHECK_INT(br_budget_add(b, ts("2025-03-09T12:00:00Z"), 50 * U, x, 4), 0);
    CHECK_INT(br_budget_add(b, ts("2025-03-10T12:00:00Z"), 10 * U, x, 4), 0);
    br_budget_period_t closed[4];
    size_t n = br_budget_close(b, ts("2025-03-10T04:00:00Z"), closed, 4);
    CHECK_INT(n, 1);
    CHECK_INT(closed[0].start_ms, ts("2025-03-09T05:00:00Z"));
    CHECK_INT(closed[0].end_ms, ts("2025-03-10T04:00:00Z"));
    CHECK_INT(br_budget_close(b, ts("2025-03-10T04:00:00Z"), closed, 4), 0);
    /* A late row for the closed day still counts, and crosses 80 %. */
    CHECK_INT(br_budget_add(b, ts("2025-03-09T23:00:00Z"), 30 * U, x, 4), 1);
    CHECK(x[0].period->closed);
    CHECK_INT(x[0].period->spent_nanos, 80 * U);
    /* Four newer days push the oldest out: its rows no longer count. */
    for (int d = 11; d <= 14; d++) {
        char when[32];
        snprintf(when, sizeof(when), "2025-03-%02dT12:00:00Z", d);
        br_budget_add(b, ts(when), U, x, 4);
    }
    CHECK_INT(br_budget_add(b, ts("2025-03-09T23:00:00Z"), U, x, 4), -1);
    br_budget_destroy(b);
}

static void test_matches(void) {
    int32_t bp[] = {10000};
    br_budget_conf_t bc = conf(BR_PERIOD_WEEK, NULL, bp, 1);
    char k1[] = "team", v1[] = "ml", k2[] = "model", v2[] = "gpt-4o";
    br_kv_t m[2] = {{k1, v1, 1}, {k2, v2, 2}};
    bc.match = m;
    bc.match_cnt = 2;
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    br_record_t *rec = calloc(1, sizeof(*rec));
    br_record_reset(rec);
    br_record_set_dim(rec, "team", "ml", 2);
    CHECK(!br_budget_matches(b, rec));
    br_record_set_dim(rec, "model", "gpt-4o", 6);
    CHECK(br_budget_matches(b, rec));
    br_record_set_dim(rec, "team", "web", 3);
    CHECK(!br_budget_matches(b, rec));
    /* Weeks start on Monday: 2025-01-01 is a Wednesday. */
    br_budget_crossing_t x[2];
    CHECK_INT(br_budget_add(b, ts("2025-01-01T10:00:00Z"), 100 * U, x, 2), 1);
    CHECK_INT(x[0].period->start_ms, ts("2024-12-30T00:00:00Z"));
    CHECK_INT(x[0].period->end_ms, ts("2025-01-06T00:00:00Z"));
    free(rec);
    br_budget_destroy(b);
}

static void test_bad_zone(void) {
    int32_t bp[] = {10000};
    char tz[] = "Europe/Berln";
    br_budget_conf_t bc = conf(BR_PERIOD_DAY, tz, bp, 1);
    char err[256] = "";
    CHECK(br_budget_new(&bc, err, sizeof(err)) == NULL);
    CHECK(err[0] != '\0');
}


/* ---- look-ahead: forecasts, burn rates, rolling and custom periods ---- */

#define H INT64_C(3600000)
#define MIN INT64_C(60000)
#define DAY (24 * H)

/* One row of per_hour at hh:30 for local hours 9..18 of the day whose local
 * midnight is the UTC instant day0; events found are appended to ev. */
static size_t work_day(br_budget_t *b, int64_t day0, int64_t per_hour,
                       br_budget_event_t *ev, size_t cap, size_t n) {
    br_budget_crossing_t x[4];
    for (int h = 9; h <= 18; h++) {
        br_budget_add(b, day0 + h * H + 30 * MIN, per_hour, x, 4);
        n += br_budget_check(b, INT64_MIN, ev + n, cap - n);
    }
    return n;
}

/* New York week budget whose spend comes on weekdays only (10 hours of 2 a
 * day, 100 a week) against 120: a straight line through Tuesday says 140,
 * the hour-of-week profile says 100, and a quiet Sunday adds nothing. */
static void test_forecast_weekdays(void) {
    int32_t bp[] = {10000}, fbp[] = {10000};
    char tz[] = "America/New_York";
    br_budget_conf_t bc = conf(BR_PERIOD_WEEK, tz, bp, 1);
    bc.amount_nanos = 120 * U;
    bc.forecast_bp = fbp;
    bc.forecast_cnt = 1;
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    CHECK(b != NULL);
    br_budget_event_t ev[64];
    size_t n = 0;
    int64_t mon1 = ts("2025-01-06T05:00:00Z"); /* Monday 00:00 EST */
    br_money_t proj = 0;
    /* Week 1: before 24 h learned there is no forecast; then the hour-of-
     * day fallback knows no weekend and projects Tuesday 09:30 at 22 + 1 +
     * 18 + 5 x 20 = 141: it fires (the documented cost of the fallback). */
    n = work_day(b, mon1, 2 * U, ev, 64, n);
    CHECK(!br_budget_forecast(b, &proj));
    CHECK_INT(n, 0);
    br_budget_crossing_t x1[4];
    br_budget_add(b, mon1 + DAY + 9 * H + 30 * MIN, 2 * U, x1, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 64), 1);
    CHECK_INT(ev[0].forecast_nanos, 141 * U);
    for (int h = 10; h <= 18; h++)
        br_budget_add(b, mon1 + DAY + h * H + 30 * MIN, 2 * U, x1, 4);
    for (int d = 2; d < 5; d++)
        n = work_day(b, mon1 + d * DAY, 2 * U, ev, 64, n);
    CHECK_INT(n, 0);
    /* Week 2 learns on the hour-of-week profile (168 h by Monday 09:30). */
    for (int d = 0; d < 5; d++)
        n = work_day(b, mon1 + (7 + d) * DAY, 2 * U, ev, 64, n);
    CHECK_INT(n, 0);
    /* Week 3: Monday and Tuesday as usual; at Wednesday 00:00 the profile
     * projects 40 + 3 x 20 + 0 for the weekend. */
    int64_t mon3 = mon1 + 14 * DAY;
    n = work_day(b, mon3, 2 * U, ev, 64, n);
    n = work_day(b, mon3 + DAY, 2 * U, ev, 64, n);
    n += br_budget_check(b, mon3 + 2 * DAY, ev + n, 64 - n);
    CHECK(br_budget_forecast(b, &proj));
    CHECK_INT(proj, 100 * U);
    CHECK_INT(n, 0);
    for (int d = 2; d < 5; d++)
        n = work_day(b, mon3 + d * DAY, 2 * U, ev, 64, n);
    /* Quiet Sunday noon: the weekend's slots are empty, nothing is added. */
    n += br_budget_check(b, mon3 + 6 * DAY + 12 * H, ev + n, 64 - n);
    CHECK(br_budget_forecast(b, &proj));
    CHECK_INT(proj, 100 * U);
    CHECK_INT(n, 0);
    /* Week 4: Tuesday runs at 6 an hour. At 13:30 the projection is
     * 20 + 5 x 6 + half of 13:00's 2 + 5 x 2 + 60 = 121 >= 120 (at 12:30 it
     * was 117): the forecast fires then, once. */
    int64_t mon4 = mon1 + 21 * DAY;
    n = work_day(b, mon4, 2 * U, ev, 64, n);
    CHECK_INT(n, 0);
    br_budget_crossing_t x[4];
    for (int h = 9; h <= 18; h++) {
        br_budget_add(b, mon4 + DAY + h * H + 30 * MIN, 6 * U, x, 4);
        size_t k = br_budget_check(b, INT64_MIN, ev + n, 64 - n);
        CHECK_INT(k, h == 13 ? 1 : 0);
        n += k;
    }
    CHECK_INT(n, 1);
    CHECK_INT(ev[0].kind, BR_BUDGET_EV_FORECAST);
    CHECK(!ev[0].resolved);
    CHECK_INT(ev[0].forecast_nanos, 121 * U);
    CHECK_INT(ev[0].spent_nanos, 50 * U);
    CHECK_INT(ev[0].level_nanos, 120 * U);
    CHECK_INT(ev[0].window_start_ms, mon4);
    CHECK_INT(ev[0].window_end_ms, mon4 + 7 * DAY);
    n = 0;
    for (int d = 2; d < 5; d++)
        n = work_day(b, mon4 + d * DAY, 2 * U, ev, 64, n);
    CHECK_INT(n, 0);
    /* The week closes at the watermark: the forecast resolves with the
     * real spend (140, above the 120 it forecast). */
    br_budget_period_t closed[4];
    CHECK_INT(br_budget_close(b, mon4, closed, 4), 3);
    CHECK_INT(br_budget_close(b, mon4 + 7 * DAY, closed, 4), 1);
    CHECK_INT(br_budget_forecast_closed(b, &closed[0], ev, 64), 1);
    CHECK(ev[0].resolved && ev[0].period_over);
    CHECK_INT(ev[0].spent_nanos, 140 * U);
    CHECK_INT(ev[0].forecast_nanos, 121 * U);
    CHECK_INT(ev[0].key_ms, mon4);
    /* Week 5 starts re-armed and too young to forecast (a tenth: 16.8 h). */
    CHECK_INT(br_budget_check(b, mon4 + 7 * DAY, ev, 64), 0);
    br_budget_destroy(b);
}

/* A forecast that falls back under 90 % of its level resolves early and
 * does not fire again that period; the close does not resolve it twice. */
static void test_forecast_falls_back(void) {
    int32_t bp[] = {10000}, fbp[] = {10000};
    br_budget_conf_t bc = conf(BR_PERIOD_WEEK, NULL, bp, 1);
    bc.amount_nanos = 200 * U;
    bc.forecast_bp = fbp;
    bc.forecast_cnt = 1;
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    br_budget_event_t ev[16];
    br_budget_crossing_t x[4];
    /* Two days of 1 an hour from Monday 2025-01-06 00:00 UTC: the hour-of-
     * day profile says 1 an hour, 168 a week. */
    int64_t t0 = ts("2025-01-06T00:30:00Z");
    size_t n = 0;
    for (int h = 0; h < 48; h++) {
        br_budget_add(b, t0 + h * H, U, x, 4);
        n += br_budget_check(b, INT64_MIN, ev, 16);
    }
    CHECK_INT(n, 0);
    /* A burst of 40 lifts the projection past 200. */
    br_budget_add(b, t0 + 48 * H, 40 * U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 16), 1);
    CHECK(!ev[0].resolved);
    /* A credit of 80 brings it back to about 165 < 180: resolved early. */
    br_budget_add(b, t0 + 49 * H, -80 * U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 16), 1);
    CHECK(ev[0].resolved && !ev[0].period_over);
    br_budget_add(b, t0 + 50 * H, 100 * U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 16), 0);
    br_budget_period_t closed[4];
    CHECK_INT(br_budget_close(b, ts("2025-01-13T00:00:00Z"), closed, 4), 1);
    CHECK_INT(br_budget_forecast_closed(b, &closed[0], ev, 16), 0);
    br_budget_destroy(b);
}

/* The projection walks the real local hours left: 23 on the day DST
 * starts in New York, 25 on the day it ends. */
static void test_forecast_dst_days(void) {
    int32_t bp[] = {10000};
    char tz[] = "America/New_York";
    br_budget_conf_t bc = conf(BR_PERIOD_DAY, tz, bp, 1);
    char err[256];
    br_budget_crossing_t x[4];
    br_money_t proj = 0;
    struct {
        const char *first, *now;
        int64_t rows, want;
    } cases[] = {
        /* 2025-03-09 is 05:00Z to 04:00Z: 7 rows by 12:00Z, 16 h left. */
        {"2025-03-07T05:30:00Z", "2025-03-09T12:00:00Z", 55, 23},
        /* 2025-11-02 is 04:00Z to 05:00Z: 10 rows by 14:00Z, 15 h left. */
        {"2025-10-31T04:30:00Z", "2025-11-02T14:00:00Z", 58, 25},
    };
    for (size_t c = 0; c < 2; c++) {
        br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
        int64_t t = ts(cases[c].first);
        for (int64_t i = 0; i < cases[c].rows; i++)
            br_budget_add(b, t + i * H, U, x, 4);
        br_budget_event_t ev[4];
        br_budget_check(b, ts(cases[c].now), ev, 4);
        CHECK(br_budget_forecast(b, &proj));
        CHECK_INT(proj, cases[c].want * U);
        br_budget_destroy(b);
    }
}

static br_burn_rate_conf_t slo_rules[] = {
    {60 * MIN, 5 * MIN, 14.4, 0},
    {6 * H, 30 * MIN, 6, 0},
};

/* April (720 h) against 7200: an even pace of 10 an hour. 2 % of the
 * budget in one hour (144) is 14.4 x the pace: the first rule fires on the
 * burst, critical; even spend never fires; the short window resolves it. */
static void test_burn_rate(void) {
    int32_t bp[] = {10000};
    br_budget_conf_t bc = conf(BR_PERIOD_MONTH, NULL, bp, 1);
    bc.amount_nanos = 7200 * U;
    bc.burn_rates = slo_rules;
    bc.burn_rate_cnt = 2;
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    br_budget_crossing_t x[4];
    br_budget_event_t ev[8];
    int64_t t = ts("2025-04-10T00:00:00Z");
    size_t n = 0;
    /* Twelve hours at the even pace: 1 every 6 minutes. */
    for (int i = 0; i < 120; i++) {
        br_budget_add(b, t, U, x, 4);
        n += br_budget_check(b, INT64_MIN, ev, 8);
        t += 6 * MIN;
    }
    CHECK_INT(n, 0);
    CHECK_INT(br_budget_window_spend(b, 60 * MIN), 10 * U);
    /* The burst: 14.4 every 6 minutes; the 1 h window holds 144 (plus the
     * last even row) at the tenth row, 131.6 at the ninth. */
    for (int i = 0; i < 10; i++) {
        br_budget_add(b, t, 144 * U / 10, x, 4);
        size_t k = br_budget_check(b, INT64_MIN, ev, 8);
        CHECK_INT(k, i == 9 ? 1 : 0);
        if (k) {
            CHECK_INT(ev[0].kind, BR_BUDGET_EV_BURN_RATE);
            CHECK_INT(ev[0].index, 0);
            CHECK(!ev[0].resolved);
            CHECK_INT(ev[0].level_nanos, 144 * U);
            CHECK_INT(ev[0].spent_nanos, 144 * U);
            CHECK_INT(ev[0].short_nanos, 144 * U / 10);
            CHECK_INT(ev[0].window_end_ms, t);
            CHECK_INT(ev[0].window_start_ms, t - 60 * MIN);
        }
        t += 6 * MIN;
    }
    /* Back to even: the short window (5 min) drops under 12 at once. */
    br_budget_add(b, t, U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 8), 1);
    CHECK(ev[0].resolved);
    CHECK_INT(ev[0].index, 0);
    CHECK_INT(ev[0].key_ms, t - 6 * MIN);
    br_budget_destroy(b);
}

/* February (672 h) against 672: a pace of 1 an hour, so 14.4 in an hour
 * fires there; the same hour in March (744 h) needs 14.4 x 672 / 744. */
static void test_burn_rate_pace_per_period(void) {
    int32_t bp[] = {10000};
    char tz[] = "Europe/Berlin";
    br_budget_conf_t bc = conf(BR_PERIOD_MONTH, tz, bp, 1);
    bc.amount_nanos = 672 * U;
    bc.burn_rates = slo_rules;
    bc.burn_rate_cnt = 1;
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    br_budget_crossing_t x[4];
    br_budget_event_t ev[4];
    /* 13 in February's last local hour (22:00Z-23:00Z) is under 14.4. */
    br_budget_add(b, ts("2025-02-28T22:30:00Z"), 13 * U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 4), 0);
    /* Berlin's March starts at 23:00Z and has 743 h (DST on the 30th): the
     * hour now needs 14.4 x 672 / 743 = 13.02 and the 5 minutes 1.09; 2 at
     * 23:05Z makes 15 and 2. */
    br_budget_add(b, ts("2025-02-28T23:05:00Z"), 2 * U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 4), 1);
    CHECK(ev[0].level_nanos > 13020 * U / 1000 &&
          ev[0].level_nanos < 13030 * U / 1000);
    CHECK_INT(ev[0].spent_nanos, 15 * U);
    br_budget_destroy(b);
}

/* Rolling 30 days against 300: the third 100 crosses 100 %; the first
 * leaves the window 30 days after it came (hour sub-buckets). */
static void test_rolling(void) {
    int32_t bp[] = {5000, 10000};
    char tz[] = "Asia/Tokyo";
    br_budget_conf_t bc = conf(BR_PERIOD_ROLLING, tz, bp, 2);
    bc.amount_nanos = 300 * U;
    bc.window_ms = 30 * DAY;
    char err[256];
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    br_budget_crossing_t x[4];
    br_budget_event_t ev[4];
    CHECK_INT(br_budget_add(b, ts("2025-01-01T12:00:00Z"), 100 * U, x, 4), 0);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 4), 0);
    br_budget_add(b, ts("2025-01-10T12:00:00Z"), 100 * U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 4), 1);
    CHECK_INT(ev[0].kind, BR_BUDGET_EV_ROLLING);
    CHECK_INT(ev[0].index, 0);
    br_budget_add(b, ts("2025-01-20T12:00:00Z"), 100 * U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 4), 1);
    CHECK_INT(ev[0].index, 1);
    CHECK_INT(ev[0].spent_nanos, 300 * U);
    CHECK_INT(ev[0].window_end_ms, ts("2025-01-20T12:00:00Z"));
    CHECK_INT(ev[0].window_start_ms, ts("2024-12-21T12:00:00Z"));
    int64_t key = ev[0].key_ms;
    /* A row older than the window does not count. */
    br_budget_add(b, ts("2024-12-01T00:00:00Z"), 100 * U, x, 4);
    CHECK_INT(br_budget_check(b, INT64_MIN, ev, 4), 0);
    CHECK_INT(br_budget_window_spend(b, 30 * DAY), 300 * U);
    CHECK_INT(br_budget_check(b, ts("2025-01-31T11:59:00Z"), ev, 4), 0);
    CHECK_INT(br_budget_check(b, ts("2025-01-31T12:00:00Z"), ev, 4), 1);
    CHECK(ev[0].resolved);
    CHECK_INT(ev[0].index, 1);
    CHECK_INT(ev[0].spent_nanos, 200 * U);
    CHECK_INT(ev[0].key_ms, key);
    CHECK_INT(ev[0].window_start_ms, ts("2024-12-21T12:00:00Z"));
    br_budget_destroy(b);
}

static void check_custom(br_budget_conf_t *bc, const char *at,
                         const char *start, const char *end) {
    char err[256];
    br_budget_t *b = br_budget_new(bc, err, sizeof(err));
    br_budget_crossing_t x[4];
    bc->amount_nanos = U;
    CHECK_INT(br_budget_add(b, ts(at), U, x, 4), 1);
    CHECK_INT(x[0].period->start_ms, ts(start));
    CHECK_INT(x[0].period->end_ms, ts(end));
    br_budget_destroy(b);
}

/* Custom periods start at local midnight of their day in the budget's
 * zone; New York's DST starts 2026-03-08. */
static void test_custom_periods(void) {
    int32_t bp[] = {10000};
    char tz[] = "America/New_York";
    br_budget_conf_t bc = conf(BR_PERIOD_CUSTOM, tz, bp, 1);
    bc.start_day = br_days_from_civil(2026, 1, 15);
    bc.every_months = 1;
    /* Fiscal months from the 15th. */
    check_custom(&bc, "2026-02-15T04:59:59Z", "2026-01-15T05:00:00Z",
                 "2026-02-15T05:00:00Z");
    check_custom(&bc, "2026-02-15T05:00:00Z", "2026-02-15T05:00:00Z",
                 "2026-03-15T04:00:00Z");
    /* Before the start date, periods run backwards from it. */
    check_custom(&bc, "2025-12-20T12:00:00Z", "2025-12-15T05:00:00Z",
                 "2026-01-15T05:00:00Z");
    /* Every 14 days: Jan 15, 29, Feb 12, 26, Mar 12 (23 h shorter day). */
    bc.every_months = 0;
    bc.every_days = 14;
    check_custom(&bc, "2026-03-10T12:00:00Z", "2026-02-26T05:00:00Z",
                 "2026-03-12T04:00:00Z");
    check_custom(&bc, "2026-01-10T12:00:00Z", "2026-01-01T05:00:00Z",
                 "2026-01-15T05:00:00Z");
    /* Months from the 31st end on the last day of shorter months. */
    bc.start_day = br_days_from_civil(2026, 1, 31);
    bc.every_days = 0;
    bc.every_months = 1;
    check_custom(&bc, "2026-03-01T12:00:00Z", "2026-02-28T05:00:00Z",
                 "2026-03-31T04:00:00Z");
    check_custom(&bc, "2026-02-27T12:00:00Z", "2026-01-31T05:00:00Z",
                 "2026-02-28T05:00:00Z");
    /* Quarters. */
    bc.start_day = br_days_from_civil(2026, 2, 1);
    bc.every_months = 3;
    check_custom(&bc, "2026-01-31T12:00:00Z", "2025-11-01T04:00:00Z",
                 "2026-02-01T05:00:00Z");
}

/* Save, restore into a new budget, and both go on alike. */
static void test_state_round_trip(void) {
    int32_t bp[] = {10000}, fbp[] = {8000};
    br_budget_conf_t bc = conf(BR_PERIOD_MONTH, NULL, bp, 1);
    bc.amount_nanos = 7200 * U;
    bc.burn_rates = slo_rules;
    bc.burn_rate_cnt = 2;
    bc.forecast_bp = fbp;
    bc.forecast_cnt = 1;
    char err[256];
    br_budget_t *a = br_budget_new(&bc, err, sizeof(err));
    br_budget_crossing_t x[4];
    br_budget_event_t ev[8];
    int64_t t = ts("2025-04-01T00:00:00Z");
    for (int i = 0; i < 400; i++, t += 6 * MIN)
        br_budget_add(a, t, (i % 24 < 8 ? 2 : 1) * U, x, 4);
    for (int i = 0; i < 10; i++, t += 6 * MIN)
        br_budget_add(a, t, 15 * U, x, 4);
    CHECK_INT(br_budget_check(a, INT64_MIN, ev, 8), 1); /* burn fired */
    br_buf_t blob;
    br_buf_init(&blob);
    br_budget_save(a, &blob);
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    copy_periods(b, a);
    CHECK(br_budget_load(b, blob.data, blob.len));
    br_money_t pa = 0, pb = 1;
    CHECK(br_budget_forecast(a, &pa) && br_budget_forecast(b, &pb));
    CHECK_INT(pa, pb);
    CHECK_INT(br_budget_now(a), br_budget_now(b));
    CHECK_INT(br_budget_window_spend(b, 6 * H),
              br_budget_window_spend(a, 6 * H));
    /* Both resolve the burn rate on the same row. */
    br_budget_add(a, t, U, x, 4);
    br_budget_add(b, t, U, x, 4);
    br_budget_event_t eb[8];
    CHECK_INT(br_budget_check(a, INT64_MIN, ev, 8), 1);
    CHECK_INT(br_budget_check(b, INT64_MIN, eb, 8), 1);
    CHECK(eb[0].resolved && eb[0].kind == BR_BUDGET_EV_BURN_RATE);
    CHECK_INT(eb[0].key_ms, ev[0].key_ms);
    /* A truncated blob is refused and leaves a fresh state. */
    br_budget_t *c = br_budget_new(&bc, err, sizeof(err));
    CHECK(!br_budget_load(c, blob.data, blob.len - 3));
    CHECK_INT(br_budget_now(c), INT64_MIN);
    br_buf_free(&blob);
    br_budget_destroy(a);
    br_budget_destroy(b);
    br_budget_destroy(c);
}

/* Issue 14: spend beyond int64 nanos (two rows of 9e9) stays exact in the
 * period, the burn-rate ring and the rolling window, crosses thresholds
 * above 100 % at the right row, and survives the state blob. */
static void test_spend_beyond_int64(void) {
    const int64_t big = INT64_C(9000000000) * U; /* the per-record bound */
    const br_money_t two = (br_money_t)big * 2;
    int32_t bp[] = {10000, 15000, 20000, 25000};
    br_budget_conf_t bc = conf(BR_PERIOD_DAY, NULL, bp, 4);
    bc.amount_nanos = big;
    bc.burn_rates = slo_rules;
    bc.burn_rate_cnt = 2;
    char err[256];
    br_budget_t *a = br_budget_new(&bc, err, sizeof(err));
    br_budget_crossing_t x[4];
    int64_t t = ts("2025-04-01T10:00:00Z");
    CHECK_INT(br_budget_add(a, t, big, x, 4), 1);
    CHECK_INT(x[0].threshold, 0);
    CHECK_INT(br_budget_add(a, t + MIN, big, x, 4), 2);
    CHECK_INT(x[0].threshold, 1);
    CHECK_INT(x[1].threshold, 2);
    CHECK(x[1].period->spent_nanos == two);
    CHECK(br_budget_window_spend(a, 6 * H) == two);
    /* One nano short of 250 %, then the nano. */
    CHECK_INT(br_budget_add(a, t + 2 * MIN, big / 2 - 1, x, 4), 0);
    CHECK_INT(br_budget_add(a, t + 3 * MIN, 1, x, 4), 1);
    CHECK_INT(x[0].threshold, 3);
    CHECK(x[0].period->spent_nanos == two + big / 2);
    br_budget_event_t ev[8];
    CHECK(br_budget_check(a, INT64_MIN, ev, 8) >= 1); /* burning, surely */
    CHECK(ev[0].spent_nanos == two + big / 2);
    br_buf_t blob;
    br_buf_init(&blob);
    br_budget_save(a, &blob);
    br_budget_t *b = br_budget_new(&bc, err, sizeof(err));
    copy_periods(b, a);
    CHECK(br_budget_load(b, blob.data, blob.len));
    CHECK(br_budget_window_spend(b, 6 * H) == two + big / 2);
    br_buf_free(&blob);
    br_budget_destroy(a);
    br_budget_destroy(b);
}

int main(void) {
    test_month_berlin();
    test_month_utc();
    test_late_and_close();
    test_matches();
    test_bad_zone();
    test_forecast_weekdays();
    test_forecast_falls_back();
    test_forecast_dst_days();
    test_burn_rate();
    test_burn_rate_pace_per_period();
    test_rolling();
    test_custom_periods();
    test_state_round_trip();
    test_spend_beyond_int64();
    return brt_done();
}
