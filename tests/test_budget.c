/* Budgets across period boundaries and time zones: which period a row
 * counts in, thresholds once per period, late rows, credits, closing. */
#include <stdlib.h>
#include <string.h>

#include "brtest.h"
#include "burnrate/budget.h"
#include "burnrate/ts.h"

#define U INT64_C(1000000000)

static int64_t ts(const char *s) {
    int64_t ms = 0;
    CHECK_INT(br_ts_parse(s, strlen(s), &ms), BR_ERR_OK);
    return ms;
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
    bc.thresholds_bp = bp;
    bc.threshold_cnt = cnt;
    return bc;
}

/* Berlin's March starts at 2025-02-28T23:00Z: a row at 23:30Z on Feb 28 is
 * March spend there, February spend in UTC. */
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

int main(void) {
    test_month_berlin();
    test_month_utc();
    test_late_and_close();
    test_matches();
    test_bad_zone();
    return brt_done();
}
