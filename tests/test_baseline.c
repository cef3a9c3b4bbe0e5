/* Baseline and spike rule over synthetic series with known answers: flat,
 * step, ramp, seasonal, sparse and gaps. */
#include <math.h>
#include <stdlib.h>
#include <stdint.h>

#include "brtest.h"
#include "burnrate/baseline.h"

#define H INT64_C(3600000)
#define U INT64_C(1000000000) /* one currency unit in nanos */
#define T0 INT64_C(1735689600000) /* 2025-01-01T00:00:00Z, a Wednesday */

static br_spike_conf_t rule(void) {
    br_spike_conf_t sc = {0};
    sc.bucket_ms = H;
    sc.sensitivity = 4.0;
    sc.min_impact_nanos = U / 10;
    sc.min_ratio = 1.5;
    sc.warmup_buckets = 24;
    sc.new_spend_min_nanos = U;
    sc.resolve_buckets = 2;
    sc.direction = BR_DIRECTION_UP;
    return sc;
}

/* Deterministic noise in [-1, 1]. */
static double noise(uint32_t *st) {
    *st = *st * 1664525u + 1013904223u;
    return ((double)(*st >> 8) / (double)(1u << 24)) * 2.0 - 1.0;
}

/* Feed n hourly buckets from bucket `from` of f(i) * (1 + 5 % noise) units;
 * @returns how many were judged spikes before being learned. */
static int feed(br_baseline_t *bl, const br_spike_conf_t *sc, int from, int n,
                double (*f)(int), uint32_t *st) {
    int spikes = 0;
    for (int i = from; i < from + n; i++) {
        int64_t x = (int64_t)(f(i) * (1.0 + 0.05 * noise(st)) * U);
        spikes += br_baseline_judge(bl, sc, T0 + i * H, x).spike;
        br_baseline_update(bl, T0 + i * H, x);
    }
    return spikes;
}

static double one(int i) {
    (void)i;
    return 1.0;
}

static void test_flat(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 1;
    CHECK_INT(feed(&bl, &sc, 0, 24 * 14, one, &st), 0);
    int64_t t = T0 + 24 * 14 * H;
    br_verdict_t v = br_baseline_judge(&bl, &sc, t, U);
    CHECK(v.warm);
    CHECK(!v.spike);
    CHECK(llabs((long long)(v.expected_nanos - U)) < U / 20);
    CHECK(!br_baseline_judge(&bl, &sc, t, (int64_t)(1.3 * U)).spike);
    v = br_baseline_judge(&bl, &sc, t, 20 * U);
    CHECK(v.spike);
    CHECK(!v.drop);
    CHECK(v.score > 10);
    /* Watched upward only, a collapse is not news. */
    v = br_baseline_judge(&bl, &sc, t, 0);
    CHECK(!v.spike);
    CHECK(v.score < -10);
}

/* Judged once the configured history is there and the noise has been
 * measured against the same hour on another day (a day and 12 hours). */
static void test_warmup(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 5;
    feed(&bl, &sc, 0, 23, one, &st);
    br_verdict_t v = br_baseline_judge(&bl, &sc, T0 + 23 * H, 100 * U);
    CHECK(!v.warm);
    CHECK(!v.spike);
    feed(&bl, &sc, 23, 1, one, &st);
    CHECK(!br_baseline_judge(&bl, &sc, T0 + 24 * H, 100 * U).warm);
    feed(&bl, &sc, 24, 12, one, &st);
    v = br_baseline_judge(&bl, &sc, T0 + 36 * H, 100 * U);
    CHECK(v.warm);
    CHECK(v.spike);
    /* A longer configured warm-up is honoured as such. */
    sc.warmup_buckets = 48;
    CHECK(!br_baseline_judge(&bl, &sc, T0 + 36 * H, 100 * U).warm);
    feed(&bl, &sc, 36, 12, one, &st);
    CHECK(br_baseline_judge(&bl, &sc, T0 + 48 * H, 100 * U).spike);
}

static double step3(int i) {
    return i < 24 * 14 ? 1.0 : 3.0;
}

static double step3_early(int i) {
    return i < 48 ? 1.0 : 3.0;
}

/* A lasting tripling alerts at first and is absorbed after
 * BR_BASELINE_SHIFT_RUN buckets (in the first week, within a day). */
static void test_step(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 7;
    CHECK_INT(feed(&bl, &sc, 0, 24 * 14, step3, &st), 0);
    int last_spike = -1, spikes = 0;
    for (int k = 0; k < 48; k++) {
        int i = 24 * 14 + k;
        if (feed(&bl, &sc, i, 1, step3, &st)) {
            last_spike = k;
            spikes++;
        }
    }
    CHECK(spikes >= 1); /* the step itself is news */
    CHECK(last_spike < BR_BASELINE_SHIFT_RUN); /* ...but not for long */
    br_verdict_t v = br_baseline_judge(&bl, &sc, T0 + 24 * 16 * H, 3 * U);
    CHECK(!v.spike);
    CHECK(llabs((long long)(v.expected_nanos - 3 * U)) < U / 3);

    br_baseline_init(&bl);
    last_spike = -1;
    for (int i = 0; i < 24 * 7; i++)
        if (feed(&bl, &sc, i, 1, step3_early, &st))
            last_spike = i;
    CHECK(last_spike >= 48);
    CHECK(last_spike < 48 + 24 + BR_BASELINE_SHIFT_RUN);
}

static double slow_growth(int i) {
    return pow(1.001, i); /* +2.4 % a day */
}

static void test_ramp(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 11;
    CHECK_INT(feed(&bl, &sc, 0, 24 * 21, slow_growth, &st), 0);
}

static double office(int i) {
    int hour = i % 24;
    return (hour >= 9 && hour < 17) ? 4.0 : 0.5;
}

/* Office hours: 4 units 09-17h, 0.5 otherwise, learned over two weeks. */
static void test_seasonal(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 3;
    feed(&bl, &sc, 0, 24 * 7, office, &st);
    CHECK_INT(feed(&bl, &sc, 24 * 7, 24 * 7, office, &st), 0);
    int64_t day = T0 + 24 * 14 * H;
    double noon = br_baseline_expect(&bl, day + 12 * H);
    double night = br_baseline_expect(&bl, day + 3 * H);
    CHECK(noon > 3.5 * U && noon < 4.5 * U);
    CHECK(night > 0.4 * U && night < 0.6 * U);
    /* Office-hours spend at 3 am is unusual; at noon it is not. */
    CHECK(br_baseline_judge(&bl, &sc, day + 3 * H, 4 * U).spike);
    CHECK(!br_baseline_judge(&bl, &sc, day + 12 * H, 4 * U).spike);
}

/* T0 is a Wednesday: buckets 72..119 are the first Saturday and Sunday. */
static double weekdays(int i) {
    int dow = (i / 24 + 2) % 7; /* 0 = Monday */
    return dow >= 5 ? 0.25 : 2.0;
}

/* A quiet weekend and the Monday after it are not news, not even the first
 * time; after a week, weekday spend on a Saturday is. */
static void test_weekly(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 13;
    CHECK_INT(feed(&bl, &sc, 0, 24 * 7, weekdays, &st), 0);
    /* From the second week the weekend is known: no drop either. (In the
     * first, a collapse only has to go below every hour seen so far, which
     * this weekend does.) */
    sc.direction = BR_DIRECTION_BOTH;
    CHECK_INT(feed(&bl, &sc, 24 * 7, 24 * 14, weekdays, &st), 0);
    int64_t sat = T0 + (24 * 21 + 72 + 12) * H; /* Saturday noon, week 4 */
    br_verdict_t v = br_baseline_judge(&bl, &sc, sat, (int64_t)(0.25 * U));
    CHECK(!v.spike);
    CHECK(llabs((long long)(v.expected_nanos - U / 4)) < U / 20);
    v = br_baseline_judge(&bl, &sc, sat, 2 * U);
    CHECK(v.spike);
    CHECK(!v.drop);
}

/* Watched downward, spend that collapses to nothing is a drop. */
static void test_drop(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 17;
    feed(&bl, &sc, 0, 24 * 14, one, &st);
    int64_t t = T0 + 24 * 14 * H;
    CHECK(!br_baseline_judge(&bl, &sc, t, 0).spike); /* up only */
    sc.direction = BR_DIRECTION_DOWN;
    br_verdict_t v = br_baseline_judge(&bl, &sc, t, 0);
    CHECK(v.spike);
    CHECK(v.drop);
    CHECK(v.score < -4);
    CHECK(llabs((long long)(v.expected_nanos - U)) < U / 10);
    CHECK(!br_baseline_judge(&bl, &sc, t, 20 * U).spike); /* down only */
    CHECK(!br_baseline_judge(&bl, &sc, t, (int64_t)(0.8 * U)).spike);
    /* The floor: a fall smaller than min_impact is not a drop. */
    sc.min_impact_nanos = 2 * U;
    CHECK(!br_baseline_judge(&bl, &sc, t, 0).spike);
    sc.min_impact_nanos = U / 10;
    sc.direction = BR_DIRECTION_BOTH;
    CHECK(br_baseline_judge(&bl, &sc, t, 0).drop);
    CHECK(br_baseline_judge(&bl, &sc, t, 20 * U).spike);
}

/* Two weeks at 1, an outage at 0.05 for 10 hours (taken in as a shift after
 * BR_BASELINE_SHIFT_RUN), then back at 1: the recovery is not a spike, and
 * the old level is back at once. A real spike after it still is one. The
 * same the other way: back from a plateau is not a drop. */
static double outage(int i) {
    return i >= 24 * 14 && i < 24 * 14 + 10 ? 0.05 : 1.0;
}

static void test_recovery(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 5;
    CHECK_INT(feed(&bl, &sc, 0, 24 * 14 + 10, outage, &st), 0);
    int64_t t = T0 + (24 * 14 + 10) * H;
    /* During the outage the level was taken in: 1 would look like 20x. */
    CHECK(br_baseline_expect(&bl, t) < 0.2 * U);
    CHECK(!br_baseline_judge(&bl, &sc, t, U).spike);
    CHECK_INT(feed(&bl, &sc, 24 * 14 + 10, 24, outage, &st), 0);
    t = T0 + (24 * 15 + 10) * H;
    CHECK(llabs((int64_t)br_baseline_expect(&bl, t) - U) < U / 10);
    CHECK(br_baseline_judge(&bl, &sc, t, 3 * U).spike);
    /* The mirror: a 10-hour plateau at 3 is taken in as a shift; coming
     * back to 1 after it is not a collapse (watched both ways). */
    sc.direction = BR_DIRECTION_BOTH;
    br_baseline_init(&bl);
    for (int i = 0; i < 24 * 14; i++)
        br_baseline_update(&bl, T0 + i * H, U);
    for (int i = 24 * 14; i < 24 * 14 + 10; i++)
        br_baseline_update(&bl, T0 + i * H, 3 * U);
    t = T0 + (24 * 14 + 10) * H;
    CHECK(br_baseline_expect(&bl, t) > 2 * U);
    CHECK(!br_baseline_judge(&bl, &sc, t, U).spike);
    br_baseline_update(&bl, t, U);
    CHECK(llabs((int64_t)br_baseline_expect(&bl, t + H) - U) < U / 10);
    CHECK(br_baseline_judge(&bl, &sc, t + H, U / 20).drop);
    sc.direction = BR_DIRECTION_UP;
    /* Without the outage having been learned first, the same 1 after a
     * lasting drop to 0.05 (a week: forgotten) is a spike again. */
    br_baseline_init(&bl);
    for (int i = 0; i < 24 * 14; i++)
        br_baseline_update(&bl, T0 + i * H, U);
    for (int i = 24 * 14; i < 24 * 21; i++)
        br_baseline_update(&bl, T0 + i * H, U / 20);
    CHECK(br_baseline_judge(&bl, &sc, T0 + 24 * 21 * H, U).spike);
}

/* Spend in one bucket of ten: the usual burst is fine, a 10x one is not. */
static void test_sparse(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    int spikes = 0;
    for (int i = 0; i < 24 * 7; i++) {
        int64_t x = (i % 10 == 0) ? U : 0;
        spikes += br_baseline_judge(&bl, &sc, T0 + i * H, x).spike;
        br_baseline_update(&bl, T0 + i * H, x);
    }
    CHECK_INT(spikes, 0);
    int64_t t = T0 + 24 * 7 * H;
    CHECK(!br_baseline_judge(&bl, &sc, t, U).spike);
    CHECK(!br_baseline_judge(&bl, &sc, t, (int64_t)(1.2 * U)).spike);
    CHECK(br_baseline_judge(&bl, &sc, t, 10 * U).spike);
    /* Its empty buckets are its usual state, never a collapse. */
    sc.direction = BR_DIRECTION_BOTH;
    CHECK(!br_baseline_judge(&bl, &sc, t + H, 0).spike);
}

/* A long gap decays the baseline towards nothing and ends up quiet. */
static void test_gap(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    for (int i = 0; i < 48; i++)
        br_baseline_update(&bl, T0 + i * H, 2 * U);
    CHECK(!br_baseline_is_quiet(&bl));
    for (int i = 48; i < 48 + 24 * 30; i++)
        br_baseline_update(&bl, T0 + i * H, 0);
    CHECK(br_baseline_is_quiet(&bl));
    /* After the silence, spending again at the old level is a spike only
     * against the floor and ratio rules, judged as a sparse series. */
    br_verdict_t v = br_baseline_judge(&bl, &sc, T0 + 800 * H, 2 * U);
    CHECK(!v.spike);
}

/* Credits: negative buckets do not break the arithmetic. */
static void test_negative(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    for (int i = 0; i < 48; i++)
        br_baseline_update(&bl, T0 + i * H, (i % 24 == 0) ? -5 * U : U);
    br_verdict_t v = br_baseline_judge(&bl, &sc, T0 + 48 * H, U);
    CHECK(!v.spike);
    CHECK(v.expected_nanos >= 0);
    CHECK(isfinite(v.score));
}

int main(void) {
    test_flat();
    test_warmup();
    test_step();
    test_ramp();
    test_seasonal();
    test_weekly();
    test_drop();
    test_recovery();
    test_sparse();
    test_gap();
    test_negative();
    return brt_done();
}
