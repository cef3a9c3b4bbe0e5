/* Budget periods and once-per-period thresholds; see budget.h. */
#include <stdlib.h>
#include <string.h>

#include "burnrate/budget.h"
#include "burnrate/tz.h"

struct br_budget {
    const br_budget_conf_t *conf;
    br_tz_t *tz;
    br_budget_period_t periods[BR_BUDGET_PERIODS];
};

br_budget_t *br_budget_new(const br_budget_conf_t *bc, char *errstr,
                           size_t errstr_size) {
    br_budget_t *b = calloc(1, sizeof(*b));
    if (!b) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    b->conf = bc;
    b->tz = br_tz_load(bc->timezone ? bc->timezone : "UTC", errstr,
                       errstr_size);
    if (!b->tz) {
        free(b);
        return NULL;
    }
    return b;
}

void br_budget_destroy(br_budget_t *b) {
    if (!b)
        return;
    br_tz_destroy(b->tz);
    free(b);
}

const br_budget_conf_t *br_budget_conf(const br_budget_t *b) {
    return b->conf;
}

bool br_budget_matches(const br_budget_t *b, const br_record_t *rec) {
    for (size_t i = 0; i < b->conf->match_cnt; i++) {
        const char *v = br_record_dim(rec, b->conf->match[i].key);
        if (!v || strcmp(v, b->conf->match[i].value) != 0)
            return false;
    }
    return true;
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

int br_budget_add(br_budget_t *b, int64_t t_ms, int64_t cost_nanos,
                  br_budget_crossing_t *out, size_t out_cap) {
    int64_t start, end;
    br_tz_period_bounds(b->tz, b->conf->period, t_ms, &start, &end);
    br_budget_period_t *p = slot_for(b, start, end);
    if (!p)
        return -1;
    p->spent_nanos += cost_nanos;
    size_t n = 0;
    __extension__ __int128 spent = (__int128)p->spent_nanos * 10000;
    for (size_t i = 0; i < b->conf->threshold_cnt && i < 64; i++) {
        if (p->fired & (UINT64_C(1) << i))
            continue;
        __extension__ __int128 need =
            (__int128)b->conf->amount_nanos * b->conf->thresholds_bp[i];
        if (spent < need)
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

br_budget_period_t *br_budget_periods(br_budget_t *b) {
    return b->periods;
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
