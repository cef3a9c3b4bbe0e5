/* Online seasonal baseline with robust dispersion; see baseline.h. The
 * constants are per final bucket and were chosen so an hourly series learns
 * its daily shape in a few days and a 2x level shift stops alerting within a
 * day. */
#include <math.h>
#include <string.h>

#include "burnrate/baseline.h"
#include "burnrate/ts.h"

#define ALPHA 0.15  /* level */
#define GAMMA 0.25  /* hour-of-day offset, per visit (once a day) */
#define DELTA 0.02  /* day-of-week offset, per bucket of that day */
#define BETA 0.10   /* dispersion */
#define CLIP 3.0    /* Huber clip of residuals, in dispersions */
#define REL_FLOOR 0.05 /* dispersion never below 5% of the forecast */
#define ABS_FLOOR 1e6  /* nor below 0.001 currency units */

#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

void br_baseline_init(br_baseline_t *bl) {
    memset(bl, 0, sizeof(*bl));
}

static void slots(int64_t bucket_ms, int *hod, int *dow) {
    int64_t day = br_floordiv(bucket_ms, MS_PER_DAY);
    *hod = (int)((bucket_ms - day * MS_PER_DAY) / MS_PER_HOUR);
    /* 1970-01-01 was a Thursday; 0 = Monday. */
    *dow = (int)(((day % 7) + 7 + 3) % 7);
}

double br_baseline_expect(const br_baseline_t *bl, int64_t bucket_ms) {
    int hod, dow;
    slots(bucket_ms, &hod, &dow);
    return bl->level + bl->hod[hod] + bl->dow[dow];
}

static double dispersion(const br_baseline_t *bl, double expected) {
    double d = bl->disp;
    if (d < REL_FLOOR * fabs(expected))
        d = REL_FLOOR * fabs(expected);
    if (d < ABS_FLOOR)
        d = ABS_FLOOR;
    return d;
}

br_verdict_t br_baseline_judge(const br_baseline_t *bl,
                               const br_spike_conf_t *sc, int64_t bucket_ms,
                               int64_t observed_nanos) {
    br_verdict_t v = {0};
    double e = br_baseline_expect(bl, bucket_ms);
    double ex = e > 0 ? e : 0;
    v.expected_nanos = (int64_t)llround(ex);
    v.score = ((double)observed_nanos - e) / dispersion(bl, e);
    v.warm = bl->n >= (uint32_t)sc->warmup_buckets;
    int64_t impact = observed_nanos - v.expected_nanos;
    v.spike = v.warm && v.score >= sc->sensitivity &&
              impact >= sc->min_impact_nanos &&
              (double)observed_nanos >= sc->min_ratio * ex;
    return v;
}

void br_baseline_update(br_baseline_t *bl, int64_t bucket_ms,
                        int64_t observed_nanos) {
    int hod, dow;
    slots(bucket_ms, &hod, &dow);
    double x = (double)observed_nanos;
    if (bl->n == 0) {
        bl->level = x;
        bl->n = 1;
        return;
    }
    double e = bl->level + bl->hod[hod] + bl->dow[dow];
    double d = dispersion(bl, e);
    double r = x - e;
    if (bl->n < 3) {
        /* Too early to call anything an outlier: learn freely. */
    } else if (r > CLIP * d) {
        r = CLIP * d;
    } else if (r < -CLIP * d) {
        r = -CLIP * d;
    }
    double xc = e + r;
    bl->level += ALPHA * (xc - bl->hod[hod] - bl->dow[dow] - bl->level);
    bl->hod[hod] += (float)(GAMMA * (xc - bl->level - bl->dow[dow] - bl->hod[hod]));
    bl->dow[dow] += (float)(DELTA * (xc - bl->level - bl->hod[hod] - bl->dow[dow]));
    bl->disp += BETA * (fabs(r) - bl->disp);
    if (bl->n < UINT32_MAX)
        bl->n++;
}

bool br_baseline_is_quiet(const br_baseline_t *bl) {
    if (fabs(bl->level) >= 0.5 || bl->disp >= 0.5)
        return false;
    for (int i = 0; i < 24; i++)
        if (fabsf(bl->hod[i]) >= 0.5f)
            return false;
    for (int i = 0; i < 7; i++)
        if (fabsf(bl->dow[i]) >= 0.5f)
            return false;
    return true;
}
