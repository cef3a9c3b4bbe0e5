/* Online log-space baseline with an hour-of-week profile; see baseline.h.
 * The constants are per final bucket; they were chosen on scripts/eval so a
 * series is judged after a day, learns its week in a week, and a lasting
 * level shift stops alerting after BR_BASELINE_SHIFT_RUN buckets. */
#include <math.h>
#include <string.h>

#include "burnrate/baseline.h"
#include "burnrate/ts.h"
#include "burnrate/wire.h"

#define ALPHA 0.05    /* level deviation, per bucket of a seen slot */
#define OMEGA 0.25    /* profile slot, per visit (once a week) */
#define BETA 0.03     /* dispersion and tail share */
#define CLIP 3.0      /* Huber clip of learning, in deviations */
#define FIRST_CLIP 4.0 /* wider clip while a slot is young */
#define DCLIP 2.5     /* clip of a residual before it feeds the dispersion */
#define SHIFT_Z 2.0   /* a run beyond this many deviations may be a shift */
#define MAD_SIGMA 1.2533 /* mean absolute deviation -> standard deviation */
#define SIG_FLOOR 0.03   /* never judge against less than 3 % noise */
#define TAIL_Z 3.0    /* tail share counts residuals beyond this */
#define TAIL_GAUSS 0.0027 /* ... which a normal series has this often */
#define TAIL_GAIN 30.0 /* widening per unit of excess tail share */
#define TAIL_RATE 0.005 /* tail share learning rate */
#define TAIL_MAX 1.7  /* most widening for heavy tails */
#define NZ_ALPHA 0.05 /* sparse-series statistics */
#define SPARSE 0.5    /* below this share of non-empty buckets */
#define C_FRAC 0.1    /* offset: this share of the usual non-zero bucket */
#define C_RATE 0.002 /* offset: learning rate (about three weeks) */
#define C_MIN 1e6     /* nor below 0.001 currency units */
#define DISP_SEED 24  /* residuals learned as a plain mean before clipping */
#define DISP_MIN 8    /* residuals needed before judging */
#define PREV_KEEP 48  /* buckets the level before a shift is remembered */

#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

void br_baseline_init(br_baseline_t *bl) {
    memset(bl, 0, sizeof(*bl));
}

static int slot_of(int64_t bucket_ms) {
    int64_t day = br_floordiv(bucket_ms, MS_PER_DAY);
    int hod = (int)((bucket_ms - day * MS_PER_DAY) / MS_PER_HOUR);
    /* 1970-01-01 was a Thursday; 0 = Monday. */
    int dow = (int)(((day % 7) + 7 + 3) % 7);
    return dow * 24 + hod;
}

static bool seen(const br_baseline_t *bl, int slot) {
    return bl->visits[slot] > 0;
}

static double offset(const br_baseline_t *bl) {
    double c = C_FRAC * bl->nz_lin;
    return c > C_MIN ? c : C_MIN;
}

static double to_log(const br_baseline_t *bl, double x) {
    return log((x > 0 ? x : 0) + offset(bl));
}

/* A forecast is an estimate: five significant digits, so a steady 1.00 is
 * expected as 1.00, not as 1.000000875 from float rounding in log space. */
static double from_log(const br_baseline_t *bl, double y) {
    double x = exp(y) - offset(bl);
    if (x <= 0)
        return 0;
    double q = pow(10.0, floor(log10(x)) - 4);
    return q >= 1 ? floor(x / q + 0.5) * q : x;
}

/* The standard deviation residuals are judged against, log. */
static double sigma(const br_baseline_t *bl) {
    double s = MAD_SIGMA * bl->disp;
    double widen = 1.0 + TAIL_GAIN * (bl->tail - TAIL_GAUSS);
    if (widen > TAIL_MAX)
        widen = TAIL_MAX;
    if (widen > 1.0)
        s *= widen;
    return s > SIG_FLOOR ? s : SIG_FLOOR;
}

/* What a bucket in slot is judged against: one value for a seen slot; for
 * an unseen one the span of the same hour on the days seen (or of every
 * seen slot). Log, without the deviation. @returns false with none seen. */
typedef struct envelope {
    double lo, hi, mid;
    double all_lo;    /* the lowest seen slot of any hour */
    bool exact;       /* the slot itself has been seen */
    bool same_hour;   /* built from the same hour on other days */
} envelope_t;

static bool envelope(const br_baseline_t *bl, int slot, envelope_t *ev) {
    memset(ev, 0, sizeof(*ev));
    if (seen(bl, slot)) {
        ev->lo = ev->hi = ev->mid = ev->all_lo = bl->prof[slot];
        ev->exact = ev->same_hour = true;
        return true;
    }
    bool any = false;
    for (int k = 0; k < BR_BASELINE_SLOTS; k++)
        if (seen(bl, k) && (!any || bl->prof[k] < ev->all_lo)) {
            ev->all_lo = bl->prof[k];
            any = true;
        }
    int cnt = 0;
    double sum = 0;
    for (int pass = 0; pass < 2 && cnt == 0; pass++) {
        for (int k = 0; k < BR_BASELINE_SLOTS; k++) {
            if (!seen(bl, k) || (pass == 0 && k % 24 != slot % 24))
                continue;
            double p = bl->prof[k];
            if (cnt == 0 || p < ev->lo)
                ev->lo = p;
            if (cnt == 0 || p > ev->hi)
                ev->hi = p;
            sum += p;
            cnt++;
        }
        ev->same_hour = pass == 0;
    }
    if (cnt == 0)
        return false;
    ev->mid = sum / cnt;
    return true;
}

double br_baseline_expect(const br_baseline_t *bl, int64_t bucket_ms) {
    envelope_t ev;
    if (!envelope(bl, slot_of(bucket_ms), &ev))
        return 0;
    return from_log(bl, ev.mid + bl->dev);
}

br_verdict_t br_baseline_judge(const br_baseline_t *bl,
                               const br_spike_conf_t *sc, int64_t bucket_ms,
                               double observed_nanos) {
    br_verdict_t v = {0};
    envelope_t ev;
    if (!envelope(bl, slot_of(bucket_ms), &ev))
        return v;
    double y = to_log(bl, (double)observed_nanos);
    double s = sigma(bl);
    double hi = ev.hi + bl->dev, lo = ev.lo + bl->dev;
    /* After a shift was taken in, going back to the level before it is a
     * recovery: not a spike after a collapse, not a drop after a plateau. */
    if (bl->prev_left > 0 && bl->prev_dev > bl->dev)
        hi = ev.hi + bl->prev_dev;
    double dlo = bl->prev_left > 0 && bl->prev_dev < bl->dev ? bl->prev_dev
                                                            : bl->dev;
    lo = ev.lo + dlo;
    if (bl->nz_rate < SPARSE) {
        /* Sparse: when it spends, it spends about nz_mean; empty buckets
         * are its usual state, never a collapse. */
        double sz = MAD_SIGMA * bl->nz_disp;
        hi = lo = bl->nz_mean;
        s = sz > SIG_FLOOR ? sz : SIG_FLOOR;
    }
    double up = (y - hi) / s, down = (y - lo) / s;
    /* A run of buckets beyond SHIFT_Z the same way (a plateau, a ramp) is
     * judged as a whole too: the sum of its residuals over sqrt(length). */
    if (bl->nz_rate >= SPARSE && ev.exact && bl->run != 0 &&
        !bl->run_first) {
        double k = fabs((double)bl->run) + 1;
        double r = y - hi;
        if (bl->run > 0 && r > SHIFT_Z * s) {
            double z = (bl->run_sum + r) / (s * sqrt(k));
            if (z > up)
                up = z;
        }
        r = y - lo;
        if (bl->run < 0 && r < -SHIFT_Z * s) {
            double z = (bl->run_sum + r) / (s * sqrt(k));
            if (z < down)
                down = z;
        }
    }
    double e_hi = from_log(bl, hi), e_lo = from_log(bl, lo);
    /* Warm: the configured history, and a dispersion learned from the same
     * hour on another day (or, when sparse, from enough bursts). */
    v.warm = bl->n >= (uint32_t)sc->warmup_buckets &&
             (bl->nz_rate < SPARSE ? bl->nzn >= DISP_MIN : bl->dn >= DISP_MIN);
    bool spike = false, drop = false;
    if (v.warm && (sc->direction & BR_DIRECTION_UP))
        spike = up >= sc->sensitivity &&
                (double)observed_nanos - e_hi >= (double)sc->min_impact_nanos &&
                (double)observed_nanos >= sc->min_ratio * e_hi;
    /* Where the hour of the week has not been seen yet, a collapse must go
     * below every hour seen so far, so a first weekend rarely is one. */
    if (!ev.exact && bl->nz_rate >= SPARSE) {
        lo = ev.all_lo + dlo;
        down = (y - lo) / s;
        e_lo = from_log(bl, lo);
    }
    if (v.warm && !spike && (sc->direction & BR_DIRECTION_DOWN) &&
        bl->nz_rate >= SPARSE)
        /* A collapse: as far below as a spike is above, by the same floor,
         * and down to at most 1/min_ratio of the forecast. */
        drop = down <= -sc->sensitivity &&
               e_lo - (double)observed_nanos >= (double)sc->min_impact_nanos &&
               (double)observed_nanos * sc->min_ratio <= e_lo;
    v.spike = spike || drop;
    v.drop = drop;
    if (drop || (!spike && y < lo)) {
        v.score = down;
        v.expected_nanos = br_money_from_double_est(e_lo);
    } else if (spike || y > hi) {
        v.score = up;
        v.expected_nanos = br_money_from_double_est(e_hi);
    } else {
        v.score = 0;
        v.expected_nanos = br_money_from_double_est(from_log(bl, ev.mid + bl->dev));
    }
    return v;
}

static void learn_sparse(br_baseline_t *bl, double x) {
    double nz = x > 0 ? 1.0 : 0.0;
    bl->nz_rate = bl->n == 0 ? nz : bl->nz_rate + NZ_ALPHA * (nz - bl->nz_rate);
    if (x <= 0)
        return;
    /* The offset must hardly move, or learned log values drift: a running
     * mean of non-zero buckets, then a slow exponential one. */
    double wl = bl->nzn < (uint32_t)(1.0 / C_RATE) ? 1.0 / (bl->nzn + 1) : C_RATE;
    bl->nz_lin += wl * (x - bl->nz_lin);
    double y = to_log(bl, x);
    if (bl->nzn == 0) {
        bl->nz_mean = y;
        bl->nzn = 1;
        return;
    }
    double cap = CLIP * (MAD_SIGMA * bl->nz_disp > SIG_FLOOR
                             ? MAD_SIGMA * bl->nz_disp : SIG_FLOOR);
    double d = y - bl->nz_mean;
    if (bl->nzn >= DISP_SEED && fabs(d) > cap)
        d = d > 0 ? cap : -cap;
    double w = bl->nzn < (uint32_t)(1.0 / NZ_ALPHA) ? 1.0 / (bl->nzn + 1)
                                                    : NZ_ALPHA;
    bl->nz_disp += w * (fabs(d) - bl->nz_disp);
    bl->nz_mean += w * d;
    bl->nzn++;
}

static void learn_disp(br_baseline_t *bl, double r, double s) {
    uint32_t *dn = &bl->dn;
    double a = fabs(r);
    if (a > DCLIP * s && *dn >= DISP_SEED)
        a = DCLIP * s;
    double w = *dn < (uint32_t)(1.0 / BETA) ? 1.0 / (*dn + 1) : BETA;
    bl->disp += w * (a - bl->disp);
    double t = fabs(r) > TAIL_Z * s ? 1.0 : 0.0;
    if (*dn >= DISP_SEED)
        bl->tail += TAIL_RATE * (t - bl->tail);
    (*dn)++;
}

/* Extend or restart the run of residuals beyond SHIFT_Z (dir +1 above,
 * -1 below, 0 within). */
static void track_run(br_baseline_t *bl, bool first, int dir, double r) {
    if (dir == 0 || (bl->run > 0) != (dir > 0) || bl->run_first != first) {
        bl->run_first = first;
        bl->run = 0;
        bl->run_sum = 0;
        bl->run_dev = bl->dev;
    }
    if (dir != 0 && bl->run > -1000000 && bl->run < 1000000) {
        bl->run += dir;
        bl->run_sum += r;
    }
}

void br_baseline_update(br_baseline_t *bl, int64_t bucket_ms,
                        double observed_nanos) {
    double x = observed_nanos;
    int slot = slot_of(bucket_ms);
    if (x == 0 && bl->nzn == 0)
        return; /* a series starts with its first spend */
    if (x < 0) {
        /* Net credit: says nothing about usage; counted, not learned. */
        if (bl->n > 0 && bl->n < UINT32_MAX)
            bl->n++;
        return;
    }
    learn_sparse(bl, x);
    double y = to_log(bl, x);
    envelope_t ev;
    if (bl->n == 0 || !envelope(bl, slot, &ev)) {
        bl->prof[slot] = (float)(y - bl->dev);
        bl->visits[slot] = 1;
        bl->n = 1;
        return;
    }
    double s = sigma(bl);
    if (bl->prev_left > 0) {
        bl->prev_left--;
        /* Back near the level before the last shift: take it at once. */
        if (ev.exact && fabs(y - (ev.mid + bl->prev_dev)) <= SHIFT_Z * s) {
            bl->dev = bl->prev_dev;
            bl->prev_left = 0;
            track_run(bl, false, 0, 0);
        }
    }
    double r = y - (ev.mid + bl->dev);
    double lim = bl->n < 3 ? INFINITY : CLIP * s;
    double rc = r > lim ? lim : (r < -lim ? -lim : r);
    if (ev.exact) {
        if (ev.same_hour)
            learn_disp(bl, r, s);
        /* A run of residuals beyond SHIFT_Z the same way is a shift. */
        track_run(bl, false,
                  r > SHIFT_Z * s ? 1 : (r < -SHIFT_Z * s ? -1 : 0), r);
        double dev0 = bl->dev;
        bl->dev += ALPHA * rc;
        /* A slot's first visits are averaged (and clipped wider), so one
         * odd value in the first week does not stay for weeks. */
        unsigned k = bl->visits[slot];
        double w = 1.0 / (k + 1) > OMEGA ? 1.0 / (k + 1) : OMEGA;
        double rp = k < 3 ? (r > FIRST_CLIP * s ? FIRST_CLIP * s
                             : (r < -FIRST_CLIP * s ? -FIRST_CLIP * s : r))
                          : rc;
        bl->prof[slot] += (float)(w * (ev.mid + dev0 + rp - bl->dev -
                                       bl->prof[slot]));
        if (k < 255)
            bl->visits[slot] = (uint8_t)(k + 1);
        if (bl->run >= BR_BASELINE_SHIFT_RUN ||
            bl->run <= -BR_BASELINE_SHIFT_RUN) {
            bl->prev_dev = bl->run_dev;
            bl->prev_left = PREV_KEEP;
            bl->dev = bl->run_dev + bl->run_sum / fabs((double)bl->run);
            bl->run = 0;
            bl->run_sum = 0;
            bl->run_dev = bl->dev;
        }
    } else {
        /* First visit of this hour of the week: it teaches the profile,
         * not the level, kept within reach of the same hour seen before. */
        if (ev.same_hour && bl->dn < DISP_SEED)
            learn_disp(bl, r, s);
        double p = y - bl->dev;
        if (bl->dn >= DISP_MIN && ev.same_hour) {
            /* Beyond the same hour of every day seen, for SHIFT_RUN buckets
             * in a row: the series moved (or it is the weekend), so the new
             * values are learned as they are; before that, an outlier is not
             * learned at all (the slot stays unseen), so neither a spike nor
             * the first hours of a first weekend stay in the profile. */
            double hi_r = p - ev.hi, lo_r = p - ev.lo;
            int dir = hi_r > SHIFT_Z * s ? 1 : (lo_r < -SHIFT_Z * s ? -1 : 0);
            track_run(bl, true, dir, dir > 0 ? hi_r : lo_r);
            if (bl->run < BR_BASELINE_SHIFT_RUN &&
                bl->run > -BR_BASELINE_SHIFT_RUN &&
                (hi_r > FIRST_CLIP * s || lo_r < -FIRST_CLIP * s)) {
                if (bl->n < UINT32_MAX)
                    bl->n++;
                return;
            }
        }
        bl->prof[slot] = (float)p;
        bl->visits[slot] = 1;
    }
    if (bl->n < UINT32_MAX)
        bl->n++;
}

bool br_baseline_is_quiet(const br_baseline_t *bl) {
    /* Nothing spent yet: empty buckets teach nothing (a series starts with
     * its first spend; a fuzzed stream with one credit a thousand years
     * before the rest stalled on learning nothing bucket by bucket). Or
     * ~135 empty buckets in a row: more of them barely move anything. */
    return bl->nzn == 0 || (bl->n > 0 && bl->nz_rate < 1e-3);
}

/* ---- snapshot codec --------------------------------------------------- */

void br_baseline_save(const br_baseline_t *bl, br_buf_t *b) {
    br_wr_f64(b, bl->dev);
    br_wr_f64(b, bl->disp);
    br_wr_f64(b, bl->tail);
    br_wr_f64(b, bl->nz_rate);
    br_wr_f64(b, bl->nz_mean);
    br_wr_f64(b, bl->nz_disp);
    br_wr_f64(b, bl->nz_lin);
    br_wr_f64(b, bl->run_sum);
    br_wr_f64(b, bl->run_dev);
    br_wr_ivar(b, bl->run);
    br_wr_u8(b, bl->run_first ? 1 : 0);
    br_wr_uvar(b, bl->n);
    br_wr_uvar(b, bl->dn);
    br_wr_uvar(b, bl->nzn);
    for (int i = 0; i < BR_BASELINE_SLOTS; i++) {
        br_wr_uvar(b, bl->visits[i]);
        if (bl->visits[i])
            br_wr_f32(b, bl->prof[i]);
    }
    br_wr_f64(b, bl->prev_dev); /* layout 3 */
    br_wr_uvar(b, bl->prev_left);
}

/* A layout-1 baseline (additive level, hour and weekday offsets in money,
 * mean absolute residual in money) becomes a log-space profile with every
 * slot seen: the forecast it made for each hour of the week is kept. */
static void load_baseline_v1(br_rd_t *r, br_baseline_t *bl) {
    double level = br_rd_f64(r);
    double disp = br_rd_f64(r);
    float hod[24], dow[7];
    for (int i = 0; i < 24; i++)
        hod[i] = br_rd_f32(r);
    for (int i = 0; i < 7; i++)
        dow[i] = br_rd_f32(r);
    double nz_rate = br_rd_f64(r);
    double nz_mean = br_rd_f64(r);
    double nz_disp = br_rd_f64(r);
    uint32_t n = (uint32_t)br_rd_count(r, UINT32_MAX);
    br_baseline_init(bl);
    bl->nz_rate = nz_rate;
    bl->nz_lin = nz_mean > 0 ? nz_mean : (level > 0 ? level : 0);
    double c = 0.1 * bl->nz_lin > 1e6 ? 0.1 * bl->nz_lin : 1e6;
    bl->nz_mean = log((nz_mean > 0 ? nz_mean : 0) + c);
    bl->nz_disp = nz_mean > 0 ? nz_disp / (nz_mean + c) : 0;
    double sum = 0;
    for (int i = 0; i < BR_BASELINE_SLOTS; i++) {
        double e = level + hod[i % 24] + dow[i / 24];
        bl->prof[i] = (float)log((e > 0 ? e : 0) + c);
        sum += (e > 0 ? e : 0) + c;
    }
    bl->disp = disp / (sum / BR_BASELINE_SLOTS);
    memset(bl->visits, 3, sizeof(bl->visits));
    bl->n = n;
    bl->dn = n;
    bl->nzn = n;
}

void br_baseline_load(br_rd_t *r, uint64_t layout, br_baseline_t *bl) {
    if (layout < 2) {
        load_baseline_v1(r, bl);
        return;
    }
    bl->dev = br_rd_f64(r);
    bl->disp = br_rd_f64(r);
    bl->tail = br_rd_f64(r);
    bl->nz_rate = br_rd_f64(r);
    bl->nz_mean = br_rd_f64(r);
    bl->nz_disp = br_rd_f64(r);
    bl->nz_lin = br_rd_f64(r);
    bl->run_sum = br_rd_f64(r);
    bl->run_dev = br_rd_f64(r);
    int64_t run = br_rd_ivar(r);
    bl->run = run < -1000000 || run > 1000000 ? 0 : (int32_t)run;
    bl->run_first = br_rd_bool(r);
    bl->n = (uint32_t)br_rd_count(r, UINT32_MAX);
    bl->dn = (uint32_t)br_rd_count(r, UINT32_MAX);
    bl->nzn = (uint32_t)br_rd_count(r, UINT32_MAX);
    for (int i = 0; i < BR_BASELINE_SLOTS; i++) {
        bl->visits[i] = (uint8_t)br_rd_count(r, 255);
        bl->prof[i] = bl->visits[i] ? br_rd_f32(r) : 0.0f;
    }
    if (layout >= 3) {
        bl->prev_dev = br_rd_f64(r);
        bl->prev_left = (uint32_t)br_rd_count(r, UINT32_MAX);
    }
}
