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
#define NZ_ALPHA 0.05 /* sparse-series statistics */
#define SPARSE 0.5  /* below this share of non-empty buckets */
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
    double d = dispersion(bl, e);
    if (bl->nz_rate < SPARSE && bl->nz_mean > e) {
        /* Sparse: when it spends, it spends about nz_mean. */
        e = bl->nz_mean;
        double dz = bl->nz_disp > REL_FLOOR * e ? bl->nz_disp : REL_FLOOR * e;
        if (dz > d)
            d = dz;
    }
    double ex = e > 0 ? e : 0;
    v.expected_nanos = (int64_t)llround(ex);
    v.score = ((double)observed_nanos - e) / d;
    v.warm = bl->n >= (uint32_t)sc->warmup_buckets;
    int64_t impact = observed_nanos - v.expected_nanos;
    if (!v.warm)
        return v;
    if (sc->direction & BR_DIRECTION_UP)
        v.spike = v.score >= sc->sensitivity &&
                  impact >= sc->min_impact_nanos &&
                  (double)observed_nanos >= sc->min_ratio * ex;
    if (!v.spike && (sc->direction & BR_DIRECTION_DOWN)) {
        /* A collapse: as far below as a spike is above, by the same floor,
         * and down to at most 1/min_ratio of the forecast. */
        v.drop = v.score <= -sc->sensitivity &&
                 -impact >= sc->min_impact_nanos &&
                 (double)observed_nanos * sc->min_ratio <= ex;
        v.spike = v.drop;
    }
    return v;
}

/* Keep the seasonal offsets centred on zero, so that level alone carries
 * the series' mean and a silent series decays to an all-zero state. */
static void normalize(br_baseline_t *bl) {
    double m = 0;
    for (int i = 0; i < 24; i++)
        m += bl->hod[i];
    m /= 24;
    for (int i = 0; i < 24; i++)
        bl->hod[i] -= (float)m;
    bl->level += m;
    m = 0;
    for (int i = 0; i < 7; i++)
        m += bl->dow[i];
    m /= 7;
    for (int i = 0; i < 7; i++)
        bl->dow[i] -= (float)m;
    bl->level += m;
}

void br_baseline_update(br_baseline_t *bl, int64_t bucket_ms,
                        int64_t observed_nanos) {
    int hod, dow;
    slots(bucket_ms, &hod, &dow);
    double x = (double)observed_nanos;
    double nz = observed_nanos != 0 ? 1.0 : 0.0;
    if (observed_nanos != 0) {
        if (bl->nz_mean == 0 && bl->nz_disp == 0) {
            bl->nz_mean = x;
        } else {
            double dev = fabs(x - bl->nz_mean);
            double cap = 3.0 * (bl->nz_disp > REL_FLOOR * fabs(bl->nz_mean)
                                    ? bl->nz_disp
                                    : REL_FLOOR * fabs(bl->nz_mean));
            double xc = x;
            if (bl->n >= 3 && dev > cap)
                xc = x > bl->nz_mean ? bl->nz_mean + cap : bl->nz_mean - cap;
            bl->nz_disp += NZ_ALPHA * (fabs(xc - bl->nz_mean) - bl->nz_disp);
            bl->nz_mean += NZ_ALPHA * (xc - bl->nz_mean);
        }
    }
    bl->nz_rate = bl->n == 0 ? nz : bl->nz_rate + NZ_ALPHA * (nz - bl->nz_rate);
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
    normalize(bl);
    if (bl->n < UINT32_MAX)
        bl->n++;
}

bool br_baseline_is_quiet(const br_baseline_t *bl) {
    /* ~135 empty buckets in a row: more of them barely move anything. */
    return bl->n > 0 && bl->nz_rate < 1e-3;
}
