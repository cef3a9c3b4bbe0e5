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

static void test_flat(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 1;
    int spikes = 0;
    for (int i = 0; i < 24 * 7; i++) {
        int64_t x = (int64_t)((1.0 + 0.05 * noise(&st)) * U);
        br_verdict_t v = br_baseline_judge(&bl, &sc, T0 + i * H, x);
        spikes += v.spike;
        br_baseline_update(&bl, T0 + i * H, x);
    }
    CHECK_INT(spikes, 0);
    int64_t t = T0 + 24 * 7 * H;
    br_verdict_t v = br_baseline_judge(&bl, &sc, t, U);
    CHECK(v.warm);
    CHECK(!v.spike);
    CHECK(llabs(v.expected_nanos - U) < U / 20);
    CHECK(!br_baseline_judge(&bl, &sc, t, (int64_t)(1.3 * U)).spike);
    v = br_baseline_judge(&bl, &sc, t, 20 * U);
    CHECK(v.spike);
    CHECK(v.score > 10);
}

static void test_warmup(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    for (int i = 0; i < 23; i++)
        br_baseline_update(&bl, T0 + i * H, U);
    br_verdict_t v = br_baseline_judge(&bl, &sc, T0 + 23 * H, 100 * U);
    CHECK(!v.warm);
    CHECK(!v.spike);
    br_baseline_update(&bl, T0 + 23 * H, U);
    CHECK(br_baseline_judge(&bl, &sc, T0 + 24 * H, 100 * U).spike);
}

/* A lasting doubling alerts at first and is absorbed within a day. */
static void test_step(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 7;
    int i = 0;
    for (; i < 48; i++)
        br_baseline_update(&bl, T0 + i * H,
                           (int64_t)((1.0 + 0.05 * noise(&st)) * U));
    int last_spike = -1;
    for (int k = 0; k < 48; k++, i++) {
        int64_t x = (int64_t)((3.0 + 0.15 * noise(&st)) * U);
        if (br_baseline_judge(&bl, &sc, T0 + i * H, x).spike)
            last_spike = k;
        br_baseline_update(&bl, T0 + i * H, x);
    }
    CHECK(last_spike >= 0);  /* the step itself is news */
    CHECK(last_spike < 24);  /* ...but not for more than a day */
    br_verdict_t v = br_baseline_judge(&bl, &sc, T0 + i * H, 3 * U);
    CHECK(!v.spike);
    CHECK(llabs(v.expected_nanos - 3 * U) < U / 2);
}

static void test_ramp(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    int spikes = 0;
    double x = 1.0;
    for (int i = 0; i < 24 * 10; i++, x *= 1.01) {
        int64_t v = (int64_t)(x * U);
        spikes += br_baseline_judge(&bl, &sc, T0 + i * H, v).spike;
        br_baseline_update(&bl, T0 + i * H, v);
    }
    CHECK_INT(spikes, 0);
}

/* Office hours: 4 units 09-17h, 0.5 otherwise, learned over two weeks. */
static void test_seasonal(void) {
    br_spike_conf_t sc = rule();
    br_baseline_t bl;
    br_baseline_init(&bl);
    uint32_t st = 3;
    int spikes_late = 0;
    for (int i = 0; i < 24 * 14; i++) {
        int hour = i % 24;
        double base = (hour >= 9 && hour < 17) ? 4.0 : 0.5;
        int64_t x = (int64_t)(base * (1.0 + 0.05 * noise(&st)) * U);
        br_verdict_t v = br_baseline_judge(&bl, &sc, T0 + i * H, x);
        if (i >= 24 * 7)
            spikes_late += v.spike;
        br_baseline_update(&bl, T0 + i * H, x);
    }
    CHECK_INT(spikes_late, 0); /* the daily rhythm is not news */
    int64_t day = T0 + 24 * 14 * H;
    double noon = br_baseline_expect(&bl, day + 12 * H);
    double night = br_baseline_expect(&bl, day + 3 * H);
    CHECK(noon > 3.0 * U && noon < 5.0 * U);
    CHECK(night < 1.5 * U);
    /* Office-hours spend at 3 am is unusual; at noon it is not. */
    CHECK(br_baseline_judge(&bl, &sc, day + 3 * H, 4 * U).spike);
    CHECK(!br_baseline_judge(&bl, &sc, day + 12 * H, 4 * U).spike);
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
    test_sparse();
    test_gap();
    test_negative();
    return brt_done();
}
