/* Budget periods and once-per-period thresholds, forecasts from the
 * budget's own hour-of-week pattern, multi-window burn rates and rolling
 * windows; see budget.h. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/budget.h"
#include "burnrate/state.h"
#include "burnrate/ts.h"
#include "burnrate/tz.h"
#include "burnrate/wire.h"

#define MS_PER_MIN INT64_C(60000)
#define MS_PER_H INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)
#define WEEK_HOURS 168
#define ALPHA_WEEK 0.3          /* per week, hour-of-week slots */
#define ALPHA_DAY 0.2           /* per day, hour-of-day slots */
#define FORECAST_MIN_HOURS 24   /* learned hours before any forecast */
#define FORECAST_BACK 0.9       /* early resolve below this x the level */
#define GAP_FOLD_MAX (2 * WEEK_HOURS) /* empty hours folded after a gap */
#define BURN_SLOTS 1440         /* sub-buckets covering the longest window */
#define ROLL_SLOTS 720          /* sub-buckets covering a rolling window */
#define BLOB_VERSION 2          /* 2: money as 128-bit varints; 1 still loads */

/* Sums over sub-buckets [head - n + 1, head] of width res_ms. */
typedef struct ring {
    int64_t res_ms;             /* 0: no ring */
    size_t n;
    int64_t head;               /* sub-bucket index of now; INT64_MIN empty */
    br_money_t total_nanos;     /* sum of all n */
    br_money_t *sums;           /* n slots, index mod n */
} ring_t;

struct br_budget {
    const br_budget_conf_t *conf;
    const br_tz_t *tz;         /* conf->tz, or own_tz */
    br_tz_t *own_tz;           /* UTC or a fixed offset, built here */
    br_budget_period_t periods[BR_BUDGET_PERIODS];
    int64_t newest_ms;          /* newest matched event time */
    int64_t now_ms;             /* max(newest, watermark seen) */
    /* forecast profile, local time */
    double wk[WEEK_HOURS];      /* nanos per hour, hour-of-week from Monday */
    double hod[24];             /* nanos per hour, hour of day */
    uint64_t seen_wk[3];        /* bit: slot has a value */
    uint32_t seen_hod;
    int64_t hours;              /* hours learned */
    int64_t cur_hour;           /* local hour index accumulating, or MIN */
    br_money_t cur_nanos;       /* its spend so far */
    /* projection of the full hours after the current one, cached per hour */
    int64_t cache_from_ms, cache_end_ms, cache_hours;
    double cache_nanos;
    bool cache_ok;
    /* burn rates */
    ring_t burn;
    bool burn_on[BR_BURN_RATES_MAX];
    int64_t burn_since_ms[BR_BURN_RATES_MAX];
    /* rolling thresholds */
    ring_t roll;
    bool roll_on[64];
    int64_t roll_cross_ms[64], roll_ws_ms[64], roll_we_ms[64];
};

/* ---- rings ------------------------------------------------------------ */

static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static bool ring_init(ring_t *r, int64_t span_ms, size_t slots) {
    int64_t res = ceil_div(ceil_div(span_ms, (int64_t)slots), MS_PER_MIN) *
                  MS_PER_MIN;
    r->res_ms = res;
    r->n = (size_t)ceil_div(span_ms, res);
    r->head = INT64_MIN;
    r->total_nanos = 0;
    r->sums = calloc(r->n, sizeof(*r->sums));
    return r->sums != NULL;
}

static size_t ring_slot(const ring_t *r, int64_t idx) {
    int64_t m = idx % (int64_t)r->n;
    return (size_t)(m < 0 ? m + (int64_t)r->n : m);
}

static void ring_advance(ring_t *r, int64_t t_ms) {
    if (!r->res_ms)
        return;
    int64_t idx = br_floordiv(t_ms, r->res_ms);
    if (r->head != INT64_MIN && idx <= r->head)
        return;
    if (r->head == INT64_MIN || idx - r->head >= (int64_t)r->n) {
        memset(r->sums, 0, r->n * sizeof(*r->sums));
        r->total_nanos = 0;
    } else {
        for (int64_t j = r->head + 1; j <= idx; j++) {
            size_t s = ring_slot(r, j);
            r->total_nanos -= r->sums[s];
            r->sums[s] = 0;
        }
    }
    r->head = idx;
}

/* The ring's head is already at or past t (now >= t). */
static void ring_add(ring_t *r, int64_t t_ms, int64_t cost_nanos) {
    if (!r->res_ms || r->head == INT64_MIN)
        return;
    int64_t idx = br_floordiv(t_ms, r->res_ms);
    if (idx > r->head || idx <= r->head - (int64_t)r->n)
        return; /* older than the ring keeps */
    r->sums[ring_slot(r, idx)] += cost_nanos;
    r->total_nanos += cost_nanos;
}

/* Spend over the sub-buckets of the last window_ms, ending with now's. */
static br_money_t ring_sum(const ring_t *r, int64_t window_ms) {
    if (!r->res_ms || r->head == INT64_MIN)
        return 0;
    int64_t k = ceil_div(window_ms, r->res_ms);
    if (k >= (int64_t)r->n)
        return r->total_nanos;
    br_money_t sum = 0;
    for (int64_t j = r->head - k + 1; j <= r->head; j++)
        sum += r->sums[ring_slot(r, j)];
    return sum;
}

/* ---- life ------------------------------------------------------------- */

static void reset_extra(br_budget_t *b) {
    b->newest_ms = INT64_MIN;
    b->now_ms = INT64_MIN;
    memset(b->wk, 0, sizeof(b->wk));
    memset(b->hod, 0, sizeof(b->hod));
    memset(b->seen_wk, 0, sizeof(b->seen_wk));
    b->seen_hod = 0;
    b->hours = 0;
    b->cur_hour = INT64_MIN;
    b->cur_nanos = 0;
    b->cache_ok = false;
    ring_t *rings[] = {&b->burn, &b->roll};
    for (size_t i = 0; i < 2; i++) {
        if (rings[i]->sums)
            memset(rings[i]->sums, 0, rings[i]->n * sizeof(int64_t));
        rings[i]->head = INT64_MIN;
        rings[i]->total_nanos = 0;
    }
    memset(b->burn_on, 0, sizeof(b->burn_on));
    memset(b->roll_on, 0, sizeof(b->roll_on));
}

br_budget_t *br_budget_new(const br_budget_conf_t *bc, char *errstr,
                           size_t errstr_size) {
    br_budget_t *b = calloc(1, sizeof(*b));
    if (!b) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    b->conf = bc;
    /* Named zones come loaded with the config (no file is read here). */
    if (bc->tz) {
        b->tz = bc->tz;
    } else if ((b->own_tz = br_tz_fixed(bc->timezone ? bc->timezone : "UTC"))) {
        b->tz = b->own_tz;
    } else {
        br_seterr(errstr, errstr_size, BR_ERR_NOTFOUND,
                  "time zone \"%s\" is not loaded (br_budget_conf_t.tz)",
                  bc->timezone);
        free(b);
        return NULL;
    }
    int64_t longest = 0;
    for (size_t i = 0; i < bc->burn_rate_cnt; i++)
        if (bc->burn_rates[i].long_ms > longest)
            longest = bc->burn_rates[i].long_ms;
    bool ok = true;
    if (longest > 0)
        ok = ring_init(&b->burn, longest, BURN_SLOTS);
    if (ok && bc->period == BR_PERIOD_ROLLING && bc->window_ms > 0)
        ok = ring_init(&b->roll, bc->window_ms, ROLL_SLOTS);
    if (!ok) {
        br_budget_destroy(b);
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    reset_extra(b);
    return b;
}

void br_budget_destroy(br_budget_t *b) {
    if (!b)
        return;
    br_tz_destroy(b->own_tz);
    free(b->burn.sums);
    free(b->roll.sums);
    free(b);
}

const br_budget_conf_t *br_budget_conf(const br_budget_t *b) {
    return b->conf;
}

int64_t br_budget_now(const br_budget_t *b) {
    return b->now_ms;
}

bool br_budget_matches(const br_budget_t *b, const br_record_t *rec) {
    for (size_t i = 0; i < b->conf->match_cnt; i++) {
        const char *v = br_record_dim(rec, b->conf->match[i].key);
        if (!v || strcmp(v, b->conf->match[i].value) != 0)
            return false;
    }
    return true;
}

/* ---- periods ---------------------------------------------------------- */

static int64_t month_day(int64_t y, int64_t m0, int64_t d) {
    /* m0: months since year 0 of y; the day clamped to the month's length */
    int64_t yy = y + br_floordiv(m0, 12);
    unsigned mm = (unsigned)(m0 - br_floordiv(m0, 12) * 12) + 1;
    int64_t first = br_days_from_civil(yy, mm, 1);
    int64_t next = mm == 12 ? br_days_from_civil(yy + 1, 1, 1)
                            : br_days_from_civil(yy, mm + 1, 1);
    return first + (d - 1 < next - first ? d - 1 : next - first - 1);
}

/* Local days [first, next) of the custom period holding local day `day`. */
static void custom_days(const br_budget_conf_t *bc, int64_t day,
                        int64_t *first, int64_t *next) {
    if (bc->every_days > 0) {
        int64_t k = br_floordiv(day - bc->start_day, bc->every_days);
        *first = bc->start_day + k * bc->every_days;
        *next = *first + bc->every_days;
        return;
    }
    int64_t y0, y;
    unsigned m0, d0, m, d;
    br_civil_from_days(bc->start_day, &y0, &m0, &d0);
    br_civil_from_days(day, &y, &m, &d);
    int64_t diff = (y - y0) * 12 + ((int64_t)m - (int64_t)m0);
    int64_t k = br_floordiv(diff, bc->every_months);
    int64_t mi = (int64_t)m0 - 1 + k * bc->every_months;
    int64_t start = month_day(y0, mi, d0);
    while (start > day) {
        k--;
        mi -= bc->every_months;
        start = month_day(y0, mi, d0);
    }
    int64_t end = month_day(y0, mi + bc->every_months, d0);
    while (end <= day) {
        mi += bc->every_months;
        start = end;
        end = month_day(y0, mi + bc->every_months, d0);
    }
    *first = start;
    *next = end;
}

static void bounds(const br_budget_t *b, int64_t t_ms, int64_t *start_ms,
                   int64_t *end_ms) {
    const br_budget_conf_t *bc = b->conf;
    if (bc->period != BR_PERIOD_CUSTOM) {
        br_tz_period_bounds(b->tz, bc->period, t_ms, start_ms, end_ms);
        return;
    }
    int64_t day = br_floordiv(t_ms + br_tz_offset_ms(b->tz, t_ms),
                              MS_PER_DAY);
    int64_t first, next;
    custom_days(bc, day, &first, &next);
    *start_ms = br_tz_local_to_utc(b->tz, first * MS_PER_DAY);
    *end_ms = br_tz_local_to_utc(b->tz, next * MS_PER_DAY);
}

/* The slot for the period starting at start, evicting the oldest when the
 * period is newer than all; NULL when it is older than every kept one. */
static br_budget_period_t *slot_for(br_budget_t *b, int64_t start,
                                    int64_t end) {
    br_budget_period_t *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < BR_BUDGET_PERIODS; i++) {
        br_budget_period_t *p = &b->periods[i];
        if (!p->open) {
            if (!free_slot)
                free_slot = p;
            continue;
        }
        if (p->start_ms == start)
            return p;
        if (!oldest || p->start_ms < oldest->start_ms)
            oldest = p;
    }
    br_budget_period_t *p = free_slot;
    if (!p) {
        if (start < oldest->start_ms)
            return NULL;
        p = oldest;
    }
    memset(p, 0, sizeof(*p));
    p->open = true;
    p->start_ms = start;
    p->end_ms = end;
    return p;
}

/* ---- forecast profile ------------------------------------------------- */

static int64_t local_hour(const br_budget_t *b, int64_t t_ms) {
    return br_floordiv(t_ms + br_tz_offset_ms(b->tz, t_ms), MS_PER_H);
}

/* Hour of week from Monday 00:00 local; 1970-01-01 was a Thursday. */
static size_t hour_of_week(int64_t lh) {
    int64_t day = br_floordiv(lh, 24);
    int64_t wd = day + 3 - br_floordiv(day + 3, 7) * 7;
    return (size_t)(wd * 24 + (lh - day * 24));
}

static void learn(br_budget_t *b, int64_t lh, double v) {
    size_t w = hour_of_week(lh), d = w % 24;
    if (b->seen_wk[w / 64] & (UINT64_C(1) << (w % 64))) {
        b->wk[w] += ALPHA_WEEK * (v - b->wk[w]);
    } else {
        b->wk[w] = v;
        b->seen_wk[w / 64] |= UINT64_C(1) << (w % 64);
    }
    if (b->seen_hod & (UINT32_C(1) << d)) {
        b->hod[d] += ALPHA_DAY * (v - b->hod[d]);
    } else {
        b->hod[d] = v;
        b->seen_hod |= UINT32_C(1) << d;
    }
    b->hours++;
}

/* Learn the hours before local hour lh that are now complete. */
static void advance_hours(br_budget_t *b, int64_t lh) {
    if (b->cur_hour == INT64_MIN) {
        b->cur_hour = lh;
        b->cur_nanos = 0;
        return;
    }
    if (lh <= b->cur_hour)
        return;
    learn(b, b->cur_hour, br_money_to_double(b->cur_nanos));
    int64_t gap = lh - b->cur_hour - 1;
    int64_t k = gap < GAP_FOLD_MAX ? gap : GAP_FOLD_MAX;
    for (int64_t h = lh - k; h < lh; h++)
        learn(b, h, 0);
    b->cur_hour = lh;
    b->cur_nanos = 0;
}

static void set_now(br_budget_t *b, int64_t t_ms) {
    if (b->now_ms != INT64_MIN && t_ms <= b->now_ms)
        return;
    b->now_ms = t_ms;
    ring_advance(&b->burn, t_ms);
    ring_advance(&b->roll, t_ms);
    advance_hours(b, local_hour(b, t_ms));
}

static double profile_at(const br_budget_t *b, int64_t lh) {
    if (b->hours >= WEEK_HOURS)
        return b->wk[hour_of_week(lh)];
    return b->hod[(size_t)(lh - br_floordiv(lh, 24) * 24)];
}

/* Spend the profile expects from now to end_ms. */
static double rest_of(br_budget_t *b, int64_t end_ms) {
    int64_t now = b->now_ms;
    int64_t lh = local_hour(b, now);
    int64_t off = br_tz_offset_ms(b->tz, now);
    int64_t hour_end = lh * MS_PER_H - off + MS_PER_H;
    if (hour_end <= now) /* an offset change inside the hour */
        hour_end = now + MS_PER_H - (now + off - lh * MS_PER_H);
    int64_t part_end = hour_end < end_ms ? hour_end : end_ms;
    double rest = part_end > now
                      ? profile_at(b, lh) * (double)(part_end - now) /
                            (double)MS_PER_H
                      : 0;
    if (!b->cache_ok || b->cache_from_ms != hour_end ||
        b->cache_end_ms != end_ms || b->cache_hours != b->hours) {
        double sum = 0;
        for (int64_t u = hour_end; u < end_ms; u += MS_PER_H) {
            double v = profile_at(b, local_hour(b, u));
            if (u + MS_PER_H > end_ms)
                v *= (double)(end_ms - u) / (double)MS_PER_H;
            sum += v;
        }
        b->cache_from_ms = hour_end;
        b->cache_end_ms = end_ms;
        b->cache_hours = b->hours;
        b->cache_nanos = sum;
        b->cache_ok = true;
    }
    return rest + b->cache_nanos;
}

/* The projection is an estimate: the exact spend so far plus the profile's
 * rest, rounded once. */
static bool project(br_budget_t *b, const br_budget_period_t *p,
                    br_money_t *out) {
    if (b->conf->period == BR_PERIOD_ROLLING || b->now_ms == INT64_MIN ||
        b->hours < FORECAST_MIN_HOURS)
        return false;
    *out = p->spent_nanos + br_money_from_double_est(rest_of(b, p->end_ms));
    return true;
}

bool br_budget_forecast(br_budget_t *b, br_money_t *projected_nanos) {
    if (b->conf->period == BR_PERIOD_ROLLING || b->now_ms == INT64_MIN)
        return false;
    int64_t s, e;
    bounds(b, b->now_ms, &s, &e);
    br_money_t spent = 0;
    for (size_t i = 0; i < BR_BUDGET_PERIODS; i++)
        if (b->periods[i].open && b->periods[i].start_ms == s)
            spent = b->periods[i].spent_nanos;
    br_budget_period_t p = {.start_ms = s, .end_ms = e, .spent_nanos = spent};
    return project(b, &p, projected_nanos);
}

/* ---- adding and checking ---------------------------------------------- */

/* threshold x amount, truncated: what an event reports as crossed. */
static br_money_t level_of(int64_t amount_nanos, int32_t bp) {
    return (br_money_t)amount_nanos * bp / 10000;
}

/* spent >= amount x bp / 10000, exactly: spent x 10000 could overflow
 * 128 bits, amount x bp cannot. */
static bool reaches(br_money_t spent, int64_t amount_nanos, int32_t bp) {
    br_money_t need = (br_money_t)amount_nanos * bp;
    br_money_t lvl = need >= 0 ? (need + 9999) / 10000 : need / 10000;
    return spent >= lvl;
}

int br_budget_add(br_budget_t *b, int64_t t_ms, int64_t cost_nanos,
                  br_budget_crossing_t *out, size_t out_cap) {
    if (b->newest_ms == INT64_MIN || t_ms > b->newest_ms)
        b->newest_ms = t_ms;
    set_now(b, t_ms);
    if (local_hour(b, t_ms) == b->cur_hour)
        b->cur_nanos += cost_nanos;
    ring_add(&b->burn, t_ms, cost_nanos);
    if (b->conf->period == BR_PERIOD_ROLLING) {
        ring_add(&b->roll, t_ms, cost_nanos);
        return 0;
    }
    int64_t start, end;
    bounds(b, t_ms, &start, &end);
    br_budget_period_t *p = slot_for(b, start, end);
    if (!p)
        return -1;
    p->spent_nanos += cost_nanos;
    size_t n = 0;
    for (size_t i = 0; i < b->conf->threshold_cnt && i < 64; i++) {
        if (p->fired & (UINT64_C(1) << i))
            continue;
        if (!reaches(p->spent_nanos, b->conf->amount_nanos,
                     b->conf->thresholds_bp[i]))
            break; /* thresholds ascend */
        p->fired |= UINT64_C(1) << i;
        if (n < out_cap) {
            out[n].period = p;
            out[n].threshold = i;
            n++;
        }
    }
    return (int)n;
}

static br_budget_event_t *ev_new(br_budget_event_t *out, size_t out_cap,
                                 size_t *n, br_budget_ev_kind_t kind,
                                 size_t index, bool resolved, int64_t now) {
    if (*n >= out_cap)
        return NULL;
    br_budget_event_t *ev = &out[(*n)++];
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->index = index;
    ev->resolved = resolved;
    ev->now_ms = now;
    ev->forecast_nanos = -1;
    return ev;
}

static void check_forecast(br_budget_t *b, br_budget_event_t *out,
                           size_t out_cap, size_t *n) {
    const br_budget_conf_t *bc = b->conf;
    int64_t s, e;
    br_money_t proj;
    bounds(b, b->now_ms, &s, &e);
    int64_t min_elapsed = (e - s) / 10 > MS_PER_H ? (e - s) / 10 : MS_PER_H;
    if (b->now_ms - s < min_elapsed)
        return;
    br_budget_period_t *p = slot_for(b, s, e);
    if (!p || !project(b, p, &proj))
        return;
    for (size_t i = 0; i < bc->forecast_cnt && i < 64; i++) {
        uint64_t bit = UINT64_C(1) << i;
        br_money_t level = level_of(bc->amount_nanos, bc->forecast_bp[i]);
        bool fire = !(p->fc_fired & bit) && proj >= level;
        bool back = (p->fc_fired & bit) && !(p->fc_done & bit) &&
                    br_money_to_double(proj) <
                        FORECAST_BACK * br_money_to_double(level);
        if (!fire && !back)
            continue;
        br_budget_event_t *ev = ev_new(out, out_cap, n, BR_BUDGET_EV_FORECAST,
                                       i, back, b->now_ms);
        if (!ev)
            return;
        if (fire) {
            p->fc_fired |= bit;
            p->fc_nanos = proj;
        } else {
            p->fc_done |= bit;
        }
        ev->key_ms = p->start_ms;
        ev->window_start_ms = p->start_ms;
        ev->window_end_ms = p->end_ms;
        ev->spent_nanos = p->spent_nanos;
        ev->level_nanos = level;
        ev->forecast_nanos = proj;
    }
}

static int64_t pace_span(const br_budget_t *b) {
    if (b->conf->period == BR_PERIOD_ROLLING)
        return b->conf->window_ms;
    int64_t s, e;
    bounds(b, b->now_ms, &s, &e);
    return e - s;
}

static void check_burn(br_budget_t *b, br_budget_event_t *out,
                       size_t out_cap, size_t *n) {
    const br_budget_conf_t *bc = b->conf;
    double span = (double)pace_span(b);
    for (size_t i = 0; i < bc->burn_rate_cnt && i < BR_BURN_RATES_MAX; i++) {
        const br_burn_rate_conf_t *r = &bc->burn_rates[i];
        double pace = (double)bc->amount_nanos / span; /* nanos per ms */
        double need_l = r->factor * pace * (double)r->long_ms;
        double need_s = r->factor * pace * (double)r->short_ms;
        br_money_t sum_l = ring_sum(&b->burn, r->long_ms);
        br_money_t sum_s = ring_sum(&b->burn, r->short_ms);
        /* Pace is an estimate: the comparison is in doubles. */
        bool fire = !b->burn_on[i] && br_money_to_double(sum_l) >= need_l &&
                    br_money_to_double(sum_s) >= need_s;
        bool back = b->burn_on[i] && br_money_to_double(sum_s) < need_s;
        if (!fire && !back)
            continue;
        br_budget_event_t *ev = ev_new(out, out_cap, n,
                                       BR_BUDGET_EV_BURN_RATE, i, back,
                                       b->now_ms);
        if (!ev)
            return;
        if (fire) {
            b->burn_on[i] = true;
            b->burn_since_ms[i] = b->now_ms;
        } else {
            b->burn_on[i] = false;
        }
        ev->key_ms = b->burn_since_ms[i];
        ev->window_start_ms = b->now_ms - r->long_ms;
        ev->window_end_ms = b->now_ms;
        ev->spent_nanos = sum_l;
        ev->short_nanos = sum_s;
        ev->level_nanos = br_money_from_double_est(need_l);
    }
}

static void check_rolling(br_budget_t *b, br_budget_event_t *out,
                          size_t out_cap, size_t *n) {
    const br_budget_conf_t *bc = b->conf;
    br_money_t sum = b->roll.total_nanos;
    for (size_t i = 0; i < bc->threshold_cnt && i < 64; i++) {
        br_money_t level = level_of(bc->amount_nanos, bc->thresholds_bp[i]);
        bool fire = !b->roll_on[i] && sum >= level;
        bool back = b->roll_on[i] && sum < level;
        if (!fire && !back)
            continue;
        br_budget_event_t *ev = ev_new(out, out_cap, n, BR_BUDGET_EV_ROLLING,
                                       i, back, b->now_ms);
        if (!ev)
            return;
        if (fire) {
            b->roll_on[i] = true;
            b->roll_cross_ms[i] = b->now_ms;
            b->roll_ws_ms[i] = b->now_ms - bc->window_ms;
            b->roll_we_ms[i] = b->now_ms;
        } else {
            b->roll_on[i] = false;
        }
        ev->key_ms = b->roll_cross_ms[i];
        ev->window_start_ms = b->roll_ws_ms[i];
        ev->window_end_ms = b->roll_we_ms[i];
        ev->spent_nanos = sum;
        ev->level_nanos = level;
    }
}

size_t br_budget_check(br_budget_t *b, int64_t watermark_ms,
                       br_budget_event_t *out, size_t out_cap) {
    if (watermark_ms != INT64_MIN)
        set_now(b, watermark_ms);
    if (b->now_ms == INT64_MIN)
        return 0;
    size_t n = 0;
    if (b->conf->forecast_cnt && b->conf->period != BR_PERIOD_ROLLING)
        check_forecast(b, out, out_cap, &n);
    if (b->conf->burn_rate_cnt)
        check_burn(b, out, out_cap, &n);
    if (b->conf->period == BR_PERIOD_ROLLING)
        check_rolling(b, out, out_cap, &n);
    return n;
}

br_money_t br_budget_window_spend(const br_budget_t *b, int64_t window_ms) {
    if (b->conf->period == BR_PERIOD_ROLLING &&
        window_ms == b->conf->window_ms)
        return b->roll.total_nanos;
    if (!b->burn.res_ms ||
        ceil_div(window_ms, b->burn.res_ms) > (int64_t)b->burn.n)
        return -1;
    return ring_sum(&b->burn, window_ms);
}

size_t br_budget_forecast_closed(const br_budget_t *b,
                                 const br_budget_period_t *p,
                                 br_budget_event_t *out, size_t out_cap) {
    const br_budget_conf_t *bc = b->conf;
    size_t n = 0;
    for (size_t i = 0; i < bc->forecast_cnt && i < 64; i++) {
        uint64_t bit = UINT64_C(1) << i;
        if (!(p->fc_fired & bit) || (p->fc_done & bit))
            continue;
        br_budget_event_t *ev = ev_new(out, out_cap, &n,
                                       BR_BUDGET_EV_FORECAST, i, true,
                                       p->end_ms);
        if (!ev)
            break;
        ev->period_over = true;
        ev->key_ms = p->start_ms;
        ev->window_start_ms = p->start_ms;
        ev->window_end_ms = p->end_ms;
        ev->spent_nanos = p->spent_nanos;
        ev->level_nanos = level_of(bc->amount_nanos, bc->forecast_bp[i]);
        ev->forecast_nanos = p->fc_nanos;
    }
    return n;
}

size_t br_budget_close(br_budget_t *b, int64_t watermark_ms,
                       br_budget_period_t *out, size_t out_cap) {
    size_t n = 0;
    for (size_t i = 0; i < BR_BUDGET_PERIODS && n < out_cap; i++) {
        br_budget_period_t *p = &b->periods[i];
        if (p->open && !p->closed && p->end_ms <= watermark_ms) {
            p->closed = true;
            out[n++] = *p;
        }
    }
    return n;
}

/* ---- snapshot blob ---------------------------------------------------- */

static void ring_save(const ring_t *r, br_buf_t *out) {
    br_wr_ivar(out, r->res_ms);
    br_wr_uvar(out, r->res_ms ? r->n : 0);
    if (!r->res_ms)
        return;
    br_wr_ivar(out, r->head);
    for (size_t i = 0; i < r->n; i++)
        br_wr_money(out, r->sums[i]);
}

void br_budget_save(const br_budget_t *b, br_buf_t *out) {
    const br_budget_conf_t *bc = b->conf;
    br_wr_u8(out, BLOB_VERSION);
    br_wr_ivar(out, b->newest_ms);
    br_wr_ivar(out, b->now_ms);
    br_wr_ivar(out, b->hours);
    br_wr_ivar(out, b->cur_hour);
    br_wr_money(out, b->cur_nanos);
    for (size_t i = 0; i < 3; i++)
        br_wr_u64le(out, b->seen_wk[i]);
    br_wr_uvar(out, b->seen_hod);
    for (size_t i = 0; i < WEEK_HOURS; i++)
        br_wr_f64(out, b->wk[i]);
    for (size_t i = 0; i < 24; i++)
        br_wr_f64(out, b->hod[i]);
    ring_save(&b->burn, out);
    br_wr_uvar(out, bc->burn_rate_cnt);
    for (size_t i = 0; i < bc->burn_rate_cnt; i++) {
        br_wr_ivar(out, bc->burn_rates[i].long_ms);
        br_wr_ivar(out, bc->burn_rates[i].short_ms);
        br_wr_f64(out, bc->burn_rates[i].factor);
        br_wr_u8(out, b->burn_on[i]);
        br_wr_ivar(out, b->burn_since_ms[i]);
    }
    ring_save(&b->roll, out);
    size_t rc = bc->period == BR_PERIOD_ROLLING
                    ? (bc->threshold_cnt < 64 ? bc->threshold_cnt : 64) : 0;
    br_wr_uvar(out, rc);
    for (size_t i = 0; i < rc; i++) {
        br_wr_ivar(out, bc->thresholds_bp[i]);
        br_wr_u8(out, b->roll_on[i]);
        br_wr_ivar(out, b->roll_cross_ms[i]);
        br_wr_ivar(out, b->roll_ws_ms[i]);
        br_wr_ivar(out, b->roll_we_ms[i]);
    }
    /* Forecast flags by period start and threshold percent, so they
     * survive a reordered or edited list. */
    size_t pc = 0;
    for (size_t k = 0; k < BR_BUDGET_PERIODS; k++)
        pc += b->periods[k].open && b->periods[k].fc_fired;
    br_wr_uvar(out, pc);
    for (size_t k = 0; k < BR_BUDGET_PERIODS; k++) {
        const br_budget_period_t *p = &b->periods[k];
        if (!p->open || !p->fc_fired)
            continue;
        br_wr_ivar(out, p->start_ms);
        br_wr_money(out, p->fc_nanos);
        size_t fc = 0;
        for (size_t i = 0; i < bc->forecast_cnt && i < 64; i++)
            fc += (p->fc_fired >> i) & 1;
        br_wr_uvar(out, fc);
        for (size_t i = 0; i < bc->forecast_cnt && i < 64; i++)
            if ((p->fc_fired >> i) & 1) {
                br_wr_ivar(out, bc->forecast_bp[i]);
                br_wr_u8(out, (p->fc_done >> i) & 1);
            }
    }
}

/* Money in a blob: int64 varints in version 1, 128-bit ones since 2. */
static br_money_t rd_money(br_rd_t *rd, unsigned version) {
    return version < 2 ? br_rd_ivar(rd) : br_rd_money(rd);
}

/* Read a saved ring; its sums go into r only when the sizing matches. */
static void ring_load(br_rd_t *rd, ring_t *r, unsigned version) {
    int64_t res = br_rd_ivar(rd);
    size_t n = (size_t)br_rd_count(rd, br_rd_left(rd));
    if (rd->err || n == 0)
        return;
    int64_t head = br_rd_ivar(rd);
    bool same = r->res_ms == res && r->n == n;
    br_money_t total = 0;
    for (size_t i = 0; i < n && !rd->err; i++) {
        br_money_t v = rd_money(rd, version);
        if (same) {
            r->sums[i] = v;
            total += v;
        }
    }
    if (same && !rd->err) {
        r->head = head;
        r->total_nanos = total;
    }
}

bool br_budget_load(br_budget_t *b, const void *data, size_t len) {
    const br_budget_conf_t *bc = b->conf;
    br_rd_t rd;
    br_rd_init(&rd, data, len);
    unsigned version = br_rd_u8(&rd);
    if (version < 1 || version > BLOB_VERSION)
        br_rd_fail(&rd, "unknown budget state version");
    b->newest_ms = br_rd_ivar(&rd);
    b->now_ms = br_rd_ivar(&rd);
    b->hours = br_rd_ivar(&rd);
    b->cur_hour = br_rd_ivar(&rd);
    b->cur_nanos = rd_money(&rd, version);
    for (size_t i = 0; i < 3; i++)
        b->seen_wk[i] = br_rd_u64le(&rd);
    b->seen_hod = (uint32_t)br_rd_count(&rd, UINT32_MAX);
    for (size_t i = 0; i < WEEK_HOURS; i++)
        b->wk[i] = br_rd_f64(&rd);
    for (size_t i = 0; i < 24; i++)
        b->hod[i] = br_rd_f64(&rd);
    b->cache_ok = false;
    ring_load(&rd, &b->burn, version);
    size_t cnt = (size_t)br_rd_count(&rd, BR_BURN_RATES_MAX);
    for (size_t i = 0; i < cnt && !rd.err; i++) {
        int64_t l = br_rd_ivar(&rd), s = br_rd_ivar(&rd);
        double f = br_rd_f64(&rd);
        bool on = br_rd_bool(&rd);
        int64_t since = br_rd_ivar(&rd);
        for (size_t j = 0; j < bc->burn_rate_cnt; j++)
            if (bc->burn_rates[j].long_ms == l &&
                bc->burn_rates[j].short_ms == s &&
                bc->burn_rates[j].factor == f) {
                b->burn_on[j] = on;
                b->burn_since_ms[j] = since;
            }
    }
    ring_load(&rd, &b->roll, version);
    cnt = (size_t)br_rd_count(&rd, 64);
    for (size_t i = 0; i < cnt && !rd.err; i++) {
        int32_t bp = (int32_t)br_rd_ivar(&rd);
        bool on = br_rd_bool(&rd);
        int64_t cross = br_rd_ivar(&rd), ws = br_rd_ivar(&rd),
                we = br_rd_ivar(&rd);
        if (bc->period != BR_PERIOD_ROLLING)
            continue;
        for (size_t j = 0; j < bc->threshold_cnt && j < 64; j++)
            if (bc->thresholds_bp[j] == bp) {
                b->roll_on[j] = on;
                b->roll_cross_ms[j] = cross;
                b->roll_ws_ms[j] = ws;
                b->roll_we_ms[j] = we;
            }
    }
    cnt = (size_t)br_rd_count(&rd, BR_BUDGET_PERIODS);
    for (size_t k = 0; k < cnt && !rd.err; k++) {
        int64_t start = br_rd_ivar(&rd);
        br_money_t fc_nanos = rd_money(&rd, version);
        size_t fc = (size_t)br_rd_count(&rd, 64);
        br_budget_period_t *p = NULL;
        for (size_t i = 0; i < BR_BUDGET_PERIODS; i++)
            if (b->periods[i].open && b->periods[i].start_ms == start)
                p = &b->periods[i];
        if (p)
            p->fc_nanos = fc_nanos;
        for (size_t f = 0; f < fc && !rd.err; f++) {
            int32_t bp = (int32_t)br_rd_ivar(&rd);
            bool done = br_rd_bool(&rd);
            for (size_t i = 0; p && i < bc->forecast_cnt && i < 64; i++)
                if (bc->forecast_bp[i] == bp) {
                    p->fc_fired |= UINT64_C(1) << i;
                    if (done)
                        p->fc_done |= UINT64_C(1) << i;
                }
        }
    }
    if (!rd.err && br_rd_left(&rd) != 0)
        br_rd_fail(&rd, "trailing bytes");
    if (rd.err) {
        reset_extra(b);
        for (size_t i = 0; i < BR_BUDGET_PERIODS; i++) {
            b->periods[i].fc_fired = 0;
            b->periods[i].fc_done = 0;
        }
        return false;
    }
    return true;
}

/* ---- its part of the core snapshot ------------------------------------ */

void br_budget_snap_save(const br_budget_t *b, br_buf_t *out) {
    const br_budget_conf_t *bc = b->conf;
    const br_budget_period_t *ps = b->periods;
    br_wr_str(out, bc->name);
    br_wr_uvar(out, (uint64_t)bc->period);
    br_wr_str(out, bc->timezone ? bc->timezone : "UTC");
    size_t open = 0;
    for (size_t k = 0; k < BR_BUDGET_PERIODS; k++)
        open += ps[k].open;
    br_wr_uvar(out, open);
    for (size_t k = 0; k < BR_BUDGET_PERIODS; k++) {
        const br_budget_period_t *p = &ps[k];
        if (!p->open)
            continue;
        br_wr_ivar(out, p->start_ms);
        br_wr_ivar(out, p->end_ms);
        br_wr_money(out, p->spent_nanos);
        br_wr_u8(out, p->closed);
        size_t fired = 0;
        for (size_t t = 0; t < bc->threshold_cnt && t < 64; t++)
            fired += (p->fired >> t) & 1;
        br_wr_uvar(out, fired);
        for (size_t t = 0; t < bc->threshold_cnt && t < 64; t++)
            if ((p->fired >> t) & 1)
                br_wr_ivar(out, bc->thresholds_bp[t]);
    }
    /* Layout 2: forecast profile, burn-rate and rolling rings, flags. */
    br_buf_t st;
    br_buf_init(&st);
    br_budget_save(b, &st);
    if (st.oom)
        out->oom = true;
    br_wr_bytes(out, st.data, st.len);
    br_buf_free(&st);
}

void br_budget_snap_read(br_rd_t *r, uint64_t layout, br_budget_snap_t *sn) {
    memset(sn, 0, sizeof *sn);
    sn->name = br_rd_strdup(r);
    sn->period = (int)br_rd_uvar(r);
    sn->tz = br_rd_strdup(r);
    sn->period_cnt = (size_t)br_rd_count(r, BR_BUDGET_PERIODS);
    for (size_t k = 0; k < sn->period_cnt && !r->err; k++) {
        sn->periods[k].p.open = true;
        sn->periods[k].p.start_ms = br_state_rd_time(r);
        sn->periods[k].p.end_ms = br_state_rd_time(r);
        sn->periods[k].p.spent_nanos = br_state_rd_money(r, layout);
        sn->periods[k].p.closed = br_rd_bool(r);
        sn->periods[k].bp_cnt = (size_t)br_rd_count(r, 64);
        for (size_t t = 0; t < sn->periods[k].bp_cnt; t++)
            sn->periods[k].bp[t] = (int32_t)br_rd_ivar(r);
    }
    if (layout >= 2)
        sn->state = br_rd_bytes(r, &sn->state_len);
}

void br_budget_snap_free(br_budget_snap_t *sn) {
    free(sn->name);
    free(sn->tz);
    sn->name = sn->tz = NULL;
}

bool br_budget_snap_restore(br_budget_t *b, const br_budget_snap_t *sn) {
    const br_budget_conf_t *bc = b->conf;
    if ((int)bc->period != sn->period ||
        strcmp(bc->timezone ? bc->timezone : "UTC", sn->tz) != 0)
        return false;
    for (size_t k = 0; k < sn->period_cnt && k < BR_BUDGET_PERIODS; k++) {
        br_budget_period_t *p = &b->periods[k];
        *p = sn->periods[k].p;
        p->fired = 0;
        for (size_t t = 0; t < bc->threshold_cnt && t < 64; t++)
            for (size_t f = 0; f < sn->periods[k].bp_cnt; f++)
                if (bc->thresholds_bp[t] == sn->periods[k].bp[f])
                    p->fired |= UINT64_C(1) << t;
    }
    /* A malformed blob leaves the budget's look-ahead state fresh. */
    if (sn->state)
        (void)br_budget_load(b, sn->state, sn->state_len);
    return true;
}

void br_budget_snap_describe(const br_budget_snap_t *sn, br_buf_t *b) {
    size_t cnt = sn->period_cnt;
    br_buf_puts(b, "{\"name\": ");
    br_buf_json_str(b, sn->name);
    br_buf_puts(b, ", \"timezone\": ");
    br_buf_json_str(b, sn->tz);
    br_buf_puts(b, ", \"periods\": [");
    /* Oldest first. */
    bool done[BR_BUDGET_PERIODS] = {false};
    for (size_t n = 0; n < cnt; n++) {
        size_t best = cnt;
        for (size_t k = 0; k < cnt; k++)
            if (!done[k] && (best == cnt || sn->periods[k].p.start_ms <
                                                sn->periods[best].p.start_ms))
                best = k;
        done[best] = true;
        const br_budget_period_t *p = &sn->periods[best].p;
        br_buf_printf(b, "%s{\"start\": ", n ? ", " : "");
        br_state_put_ms(b, p->start_ms);
        br_buf_puts(b, ", \"end\": ");
        br_state_put_ms(b, p->end_ms);
        br_buf_puts(b, ", \"spent\": ");
        br_state_put_money(b, p->spent_nanos);
        br_buf_printf(b, ", \"closed\": %s, \"fired_bp\": [",
                      p->closed ? "true" : "false");
        for (size_t t = 0; t < sn->periods[best].bp_cnt; t++)
            br_buf_printf(b, "%s%" PRId32, t ? ", " : "",
                          sn->periods[best].bp[t]);
        br_buf_puts(b, "]}");
    }
    br_buf_puts(b, "]");
    if (sn->state) /* layout 2: the look-ahead state's size */
        br_buf_printf(b, ", \"state_bytes\": %zu", sn->state_len);
    br_buf_puts(b, "}");
}
