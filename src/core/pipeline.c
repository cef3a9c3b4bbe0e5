/*
 * The pure core: decode -> price -> attribute -> state -> detect -> alert.
 * Series live in the series store (series.h); every record feeds one
 * series per scope, event-time buckets become final as the watermark passes
 * them, and the detectors (detector.h, one module each, listed in
 * `detectors[]` below) hear each stage through their hooks: a counted
 * record, attribution, final buckets (and early, filling ones), the
 * watermark, the daemon's wall clock. Whoever raises an alert is handed
 * what it is reported against (br_emit_ctx_t, emit.h); ids come from
 * hash.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/baseline.h"
#include "burnrate/budget.h"
#include "burnrate/decode.h"
#include "burnrate/detector.h"
#include "burnrate/emit.h"
#include "burnrate/format.h"
#include "burnrate/hash.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"
#include "burnrate/price.h"
#include "burnrate/series.h"
#include "burnrate/state.h"
#include "burnrate/ts.h"
#include "burnrate/wire.h"

#define RING_MIN BR_SERIES_RING_MIN
#define RING_MAX BR_SERIES_RING_MAX
#define NONE BR_SERIES_NONE
#define MAX_SCOPES BR_SERIES_SCOPES_MAX
#define GAP_REPLAY_MAX 400     /* empty buckets learned before a skip */
#define UNSET BR_SERIES_UNSET

typedef struct part {
    int input;
    int32_t partition;
    int64_t max_ms;
    bool behind;               /* messages waiting (br_pipeline_note_backlog);
                                  not saved */
} part_t;

/* The dedup window of one input: ids (as two 64-bit hashes of input name
 * and id) in arrival order, oldest first, with an index for lookup, and
 * what each id's record counted, so that a restated row (same id, another
 * amount) can replace it. 40 bytes an entry, plus 8 to 16 in the index. */
#define AMOUNT_UNKNOWN INT64_MIN /* ids of a layout before amounts */

typedef struct dedup_ent {
    uint64_t h1, h2;
    int64_t t;                 /* event time */
    int64_t amount;            /* nanos the id's latest record counted (0:
                                  none yet); AMOUNT_UNKNOWN: not known */
    int64_t peak;              /* its largest positive amount, nanos: what
                                  it put into spike buckets */
} dedup_ent_t;

typedef struct dedup {
    dedup_ent_t *ring;
    size_t alloc;              /* entries allocated (grows to max) */
    size_t head;               /* index of the oldest */
    size_t cnt;
    uint32_t *table;           /* ring index + 1; 0 = empty */
    size_t table_cap;
} dedup_t;

struct br_pipeline {
    const br_config_t *conf;
    br_sink_t sink;
    br_prices_t *prices;
    br_format_state_t **formats; /* per input: payloads into records */
    br_decoder_t **decoders;   /* per input, borrowed from formats */
    const char **input_names;
    br_series_store_t *store;  /* series and scopes */
    br_budget_t **budgets;
    part_t *parts;
    size_t part_cnt, part_cap;
    int64_t *input_max;        /* per input max event time */
    int64_t *input_prev;       /* input_final as last computed */
    int64_t *input_own;        /* per input: the last bucket its own
                                  watermark has passed, idle or not
                                  (INT64_MIN: no data); what a record of it
                                  is late against */
    int64_t *input_final;      /* per input: the last bucket its watermark
                                  has passed (INT64_MIN: none yet); an idle
                                  input or one without data holds nothing
                                  back and counts as the newest input's */
    int64_t watermark_ms;
    int64_t final_bucket;      /* all series final up to here */
    int64_t first_bucket;
    int64_t max_event_ms;
    int64_t from_ms, to_ms;
    int64_t now_ms;            /* wall clock from the edge (max_future);
                                  INT64_MIN: not told, no check */
    dedup_t *dedup;            /* per input; [input_cnt]: ids restored from
                                  a layout that did not say their input */
    br_record_t rec;           /* reused for every message */
    br_pipeline_stats_t st;
    br_pipeline_input_stats_t *in_st; /* per input, [input_cnt] for unknown */
    uint32_t *fin_order;       /* advance_final's series, parents first */
    int64_t *fin_target;       /* and the bucket each may be final to */
    uint32_t fin_cap;
    br_detect_env_t env;       /* what the detectors read of the stage */
    void **det;                /* per registered detector: its state */
    char errbuf[512];
};

/* ---- the detectors ----------------------------------------------------- */

/* The registration table: every detector (detector.h), in the order their
 * hooks are called. */
static const br_detector_t *const detectors[] = {
    &br_detector_budget,
    &br_detector_series_cap,
    &br_detector_new_spend,
    &br_detector_incidents,
    &br_detector_unpriced,
    &br_detector_stale,
};
#define DET_CNT (sizeof(detectors) / sizeof(detectors[0]))

/* Call hook of every detector that has one, in table order. */
#define DETECT(pl, hook, ...)                                                \
    do {                                                                     \
        for (size_t d_ = 0; d_ < DET_CNT; d_++)                              \
            if (detectors[d_]->hook)                                         \
                detectors[d_]->hook((pl)->det[d_], __VA_ARGS__);             \
    } while (0)

/* The state of detector def. */
static void *det_self(const br_pipeline_t *pl, const br_detector_t *def) {
    for (size_t d = 0; d < DET_CNT; d++)
        if (detectors[d] == def)
            return pl->det[d];
    return NULL;
}

/* ---- dedup window ------------------------------------------------------ */

static size_t dedup_slot(const dedup_t *dd, uint64_t h1, uint64_t h2,
                         bool *found) {
    size_t mask = dd->table_cap - 1, j = (size_t)h1 & mask;
    for (;;) {
        uint32_t v = dd->table[j];
        if (v == 0) {
            *found = false;
            return j;
        }
        const dedup_ent_t *e = &dd->ring[v - 1];
        if (e->h1 == h1 && e->h2 == h2) {
            *found = true;
            return j;
        }
        j = (j + 1) & mask;
    }
}

/* Remove table slot j (linear probing: shift the cluster back). */
static void dedup_unlink(dedup_t *dd, size_t j) {
    size_t mask = dd->table_cap - 1;
    dd->table[j] = 0;
    for (size_t k = (j + 1) & mask; dd->table[k]; k = (k + 1) & mask) {
        size_t home = (size_t)dd->ring[dd->table[k] - 1].h1 & mask;
        /* Move k to j when its home is not within (j, k]. */
        if (((k - home) & mask) >= ((k - j) & mask)) {
            dd->table[j] = dd->table[k];
            dd->table[k] = 0;
            j = k;
        }
    }
}

static void dedup_pop(dedup_t *dd) {
    const dedup_ent_t *e = &dd->ring[dd->head];
    bool found;
    size_t j = dedup_slot(dd, e->h1, e->h2, &found);
    if (found)
        dedup_unlink(dd, j);
    dd->head = (dd->head + 1) % dd->alloc;
    dd->cnt--;
}

/* Grow the ring (entries become contiguous, oldest at 0) and the table. */
static bool dedup_grow(dedup_t *dd, size_t max) {
    size_t alloc = dd->alloc ? dd->alloc * 2 : 1024;
    if (alloc > max)
        alloc = max;
    size_t tcap = 1;
    while (tcap < alloc * 2)
        tcap <<= 1;
    dedup_ent_t *ring = malloc(alloc * sizeof *ring);
    uint32_t *table = calloc(tcap, sizeof *table);
    if (!ring || !table) {
        free(ring);
        free(table);
        return false;
    }
    for (size_t i = 0; i < dd->cnt; i++)
        ring[i] = dd->ring[(dd->head + i) % dd->alloc];
    free(dd->ring);
    free(dd->table);
    dd->ring = ring;
    dd->table = table;
    dd->alloc = alloc;
    dd->table_cap = tcap;
    dd->head = 0;
    for (size_t i = 0; i < dd->cnt; i++) {
        bool found;
        size_t j = dedup_slot(dd, ring[i].h1, ring[i].h2, &found);
        if (!found)
            table[j] = (uint32_t)i + 1;
    }
    return true;
}

/* Window and cap of dedup ring i (input_cnt: ids of an older layout). */
static int64_t dedup_window(const br_pipeline_t *pl, size_t i) {
    const br_config_t *conf = pl->conf;
    return i < conf->input_cnt ? conf->inputs[i].dedup_window_ms
                               : conf->dedup_window_ms;
}

static size_t dedup_max(const br_pipeline_t *pl, size_t i) {
    const br_config_t *conf = pl->conf;
    return i < conf->input_cnt ? conf->inputs[i].dedup_max_ids
                               : conf->dedup_max_ids;
}

/* Forget the oldest ids of ring i while they are older than its window
 * behind now (the input's newest event time, the record at hand
 * included). */
static void dedup_expire(br_pipeline_t *pl, size_t i, int64_t now) {
    dedup_t *dd = &pl->dedup[i];
    int64_t window = dedup_window(pl, i);
    if (now == INT64_MIN || now < INT64_MIN + window)
        return;
    while (dd->cnt && dd->ring[dd->head].t < now - window)
        dedup_pop(dd);
}

/* Remember (h1, h2), not there yet, at event time t, evicting the oldest
 * when the set holds max ids. @returns true when it evicted; *pos is the
 * entry's ring index, or SIZE_MAX when it could not be remembered. */
static bool dedup_put(dedup_t *dd, size_t max, uint64_t h1, uint64_t h2,
                      int64_t t, size_t *pos) {
    bool found, evicted = false;
    *pos = SIZE_MAX;
    if (dd->cnt == max) {
        dedup_pop(dd);
        evicted = true;
    }
    if (dd->cnt == dd->alloc && !dedup_grow(dd, max))
        return evicted; /* out of memory: this id is not remembered */
    *pos = (dd->head + dd->cnt) % dd->alloc;
    dd->ring[*pos] = (dedup_ent_t){h1, h2, t, 0, 0};
    size_t j = dedup_slot(dd, h1, h2, &found);
    dd->table[j] = (uint32_t)*pos + 1;
    dd->cnt++;
    return evicted;
}

/* The entry of (h1, h2) in dd, or NULL. */
static dedup_ent_t *dedup_find(dedup_t *dd, uint64_t h1, uint64_t h2) {
    bool found = false;
    if (!dd->cnt)
        return NULL;
    size_t j = dedup_slot(dd, h1, h2, &found);
    return found ? &dd->ring[dd->table[j] - 1] : NULL;
}

/* Look the record's id up in its input's window (then in the ids of an
 * older layout). @returns the entry of an id seen before, with *seen set;
 * else the entry just made for it (amount 0: nothing counted yet), or NULL
 * when the record has no id, its input remembers none, or memory ran out.
 * The entry stays valid until the next dedup call. */
static dedup_ent_t *dedup_seen(br_pipeline_t *pl, const br_record_t *rec,
                               bool *seen) {
    size_t in = (size_t)rec->origin.input, n = pl->conf->input_cnt;
    *seen = false;
    if (!rec->id || !rec->id[0] || in >= n || dedup_max(pl, in) == 0)
        return NULL;
    uint64_t h1, h2;
    br_hash_dedup_key(pl->conf->inputs[in].name, rec->id, &h1, &h2);
    int64_t now = rec->event_ms > pl->input_max[in] ? rec->event_ms
                                                    : pl->input_max[in];
    dedup_expire(pl, in, now);
    if (pl->dedup[n].cnt)
        dedup_expire(pl, n, rec->event_ms > pl->max_event_ms
                                ? rec->event_ms : pl->max_event_ms);
    dedup_ent_t *e = dedup_find(&pl->dedup[in], h1, h2);
    if (!e)
        e = dedup_find(&pl->dedup[n], h1, h2);
    if (e) {
        *seen = true;
        return e;
    }
    size_t pos;
    if (dedup_put(&pl->dedup[in], dedup_max(pl, in), h1, h2, rec->event_ms,
                  &pos)) {
        pl->st.dedup_evicted++;
        pl->in_st[in].dedup_evicted++;
    }
    return pos == SIZE_MAX ? NULL : &pl->dedup[in].ring[pos];
}

/* Ids remembered now, all inputs. */
static uint64_t dedup_cnt(const br_pipeline_t *pl) {
    uint64_t n = 0;
    for (size_t i = 0; pl->dedup && i <= pl->conf->input_cnt; i++)
        n += pl->dedup[i].cnt;
    return n;
}

static size_t dedup_bytes(const dedup_t *dd) {
    return dd->alloc * sizeof(dedup_ent_t) + dd->table_cap * sizeof(uint32_t);
}

static void dedup_free(dedup_t *dd) {
    free(dd->ring);
    free(dd->table);
    memset(dd, 0, sizeof *dd);
}

/* ---- series ----------------------------------------------------------- */

static br_series_t *series_at(const br_pipeline_t *pl, uint32_t idx) {
    return br_series_at(pl->store, idx);
}

/* ---- alerts ----------------------------------------------------------- */

static br_emit_ctx_t emit_ctx(br_pipeline_t *pl, const br_origin_t *origin,
                           int64_t event_ms) {
    return (br_emit_ctx_t){&pl->sink, &pl->st.alerts, pl->conf->currency,
                        &pl->watermark_ms, origin, event_ms};
}

/* The context of work no record set off. */
static br_emit_ctx_t emit_ctx_none(br_pipeline_t *pl) {
    return emit_ctx(pl, NULL, pl->max_event_ms);
}

/* ---- buckets and the watermark --------------------------------------- */

static void finalize_one(br_pipeline_t *pl, const br_emit_ctx_t *ec,
                         br_series_t *s, int64_t b) {
    br_money_t *slot = br_series_slot(s, b);
    br_money_t x = *slot;
    *slot = 0;
    int64_t bucket_ms = b * pl->conf->spike.bucket_ms;
    /* The baseline is an estimate in doubles; the sums stay exact. */
    double xd = br_money_to_double(x);
    br_verdict_t v = br_baseline_judge(&s->bl, &pl->conf->spike, bucket_ms,
                                       xd);
    s->last_final = b;
    s->fresh = false;
    s->last_val = x;
    s->last_exp = v.expected_nanos;
    DETECT(pl, on_bucket_final, ec, s, b, x, &v);
    br_baseline_update(&s->bl, bucket_ms, xd);
}

/* Make every bucket of s up to `upto` final; horizon (>= upto) is how far
 * the caller will take it, which decides whether a long silence is
 * skipped. */
static void finalize_series(br_pipeline_t *pl, const br_emit_ctx_t *ec,
                            uint32_t idx, int64_t upto, int64_t horizon) {
    br_series_t *s = series_at(pl, idx);
    while (s->last_final < upto) {
        int64_t b = s->last_final + 1;
        bool open_incident = false;
        for (int k = 0; k < BR_SERIES_INCIDENTS; k++)
            open_incident |= s->inc[k] != NULL;
        if (horizon - b > GAP_REPLAY_MAX && !open_incident) {
            bool empty = true;
            for (uint32_t i = 0; i < s->ring_cap; i++)
                empty = empty && s->ring[i] == 0;
            if (empty && br_baseline_is_quiet(&s->bl)) {
                /* A long silence teaches nothing more: skip ahead. */
                s->last_final = horizon - RING_MIN;
                s->fresh = false;
                s->last_val = 0;
                s->last_exp = 0;
                continue;
            }
        }
        finalize_one(pl, ec, s, b);
    }
}

static void judge_open(br_pipeline_t *pl, const br_emit_ctx_t *ec, uint32_t idx,
                       int64_t b);

/* The bucket series s may be final to: the least of the finals of the
 * inputs that have fed it, so that a bucket is learned only when every
 * input that feeds the series has passed it (a billing feed a day behind
 * holds back the series it feeds, not those of token events alone). */
static int64_t series_target(const br_pipeline_t *pl, const br_series_t *s) {
    int64_t t = INT64_MAX;
    size_t n = pl->conf->input_cnt;
    for (size_t i = 0; i < n; i++)
        if ((s->inputs & br_series_input_bit((int)i)) && pl->input_final[i] < t)
            t = pl->input_final[i];
    return t == INT64_MAX ? pl->final_bucket : t;
}

/* advance_final()'s order: the next bucket a series makes final, then its
 * scope's rank (parents first), then its index. */
typedef struct fin_ctx {
    br_pipeline_t *pl;
    uint32_t rank[MAX_SCOPES];
    uint32_t *heap;             /* series waiting for a later bucket */
    size_t heap_n;
} fin_ctx_t;

static bool fin_before(const fin_ctx_t *c, uint32_t a, uint32_t b) {
    const br_series_t *sa = series_at(c->pl, a), *sb = series_at(c->pl, b);
    if (sa->last_final != sb->last_final)
        return sa->last_final < sb->last_final;
    if (sa->scope != sb->scope)
        return c->rank[sa->scope] < c->rank[sb->scope];
    return a < b;
}

static void fin_push(fin_ctx_t *c, uint32_t i) {
    size_t k = c->heap_n++;
    while (k > 0 && fin_before(c, i, c->heap[(k - 1) / 2])) {
        c->heap[k] = c->heap[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    c->heap[k] = i;
}

static uint32_t fin_pop(fin_ctx_t *c) {
    uint32_t top = c->heap[0], last = c->heap[--c->heap_n];
    size_t k = 0, n = c->heap_n;
    for (;;) {
        size_t l = 2 * k + 1, m = l;
        if (l >= n)
            break;
        if (l + 1 < n && fin_before(c, c->heap[l + 1], c->heap[l]))
            m = l + 1;
        if (!fin_before(c, c->heap[m], last))
            break;
        c->heap[k] = c->heap[m];
        k = m;
    }
    if (n)
        c->heap[k] = last;
    return top;
}

/* The bucket series i makes final next. */
static int64_t fin_next(br_pipeline_t *pl, uint32_t i) {
    return series_at(pl, i)->last_final + 1;
}

/* Every series final up to its target, bucket by bucket across series and
 * within a bucket parents (fewer dimensions) first: a parent's verdict on
 * a bucket is usually known before its children's (see det_incidents.c
 * for a parent fed by an input that lags).
 *
 * The series that make bucket b final form a list in that order; one that
 * then needs b + 1 stays in the list, one that skips ahead (a long
 * silence) waits in a heap until its bucket comes. Series that move
 * together (the usual case) cost a pass of the list per bucket; series
 * far apart (a restored state, a record centuries old) cost a heap step
 * per bucket each, never a pass over all of them for every bucket any of
 * them needs (fuzz: a snapshot of 30 series thousands of buckets apart
 * took 14M calls to restore). */
static void advance_final(br_pipeline_t *pl, const br_emit_ctx_t *ec) {
    uint32_t series_cnt = br_series_count(pl->store);
    if (pl->first_bucket == INT64_MIN || series_cnt == 0)
        return;
    if (series_cnt > pl->fin_cap) {
        uint32_t cap = pl->fin_cap ? pl->fin_cap : 256;
        while (cap < series_cnt)
            cap *= 2;
        uint32_t *o = realloc(pl->fin_order, sizeof(*o) * 3 * (size_t)cap);
        int64_t *t = realloc(pl->fin_target, sizeof(*t) * cap);
        if (o)
            pl->fin_order = o;
        if (t)
            pl->fin_target = t;
        if (!o || !t) {
            /* Out of memory: series one after another (grouping may miss
             * a child judged before its parent). */
            for (uint32_t i = 0; i < series_cnt; i++) {
                int64_t st = series_target(pl, series_at(pl, i));
                finalize_series(pl, ec, i, st, st);
            }
            return;
        }
        pl->fin_cap = cap;
    }
    /* Three arrays of fin_cap: the list, the next list, the heap. */
    uint32_t *list = pl->fin_order, *next_list = list + pl->fin_cap;
    fin_ctx_t c = {.pl = pl, .heap = list + 2 * (size_t)pl->fin_cap};
    for (size_t k = 0; k < pl->conf->scope_cnt; k++)
        c.rank[br_series_scope_order(pl->store)[k]] = (uint32_t)k;
    /* Counting sort by rank of the series that start at the least bucket;
     * the others wait in the heap. */
    size_t at[MAX_SCOPES + 1] = {0};
    int64_t lo = INT64_MAX;
    for (uint32_t i = 0; i < series_cnt; i++) {
        const br_series_t *s = series_at(pl, i);
        int64_t t = series_target(pl, s);
        pl->fin_target[i] = t;
        if (t != INT64_MIN && s->last_final < t && s->last_final + 1 < lo)
            lo = s->last_final + 1;
    }
    for (uint32_t i = 0; i < series_cnt; i++) {
        const br_series_t *s = series_at(pl, i);
        int64_t t = pl->fin_target[i];
        if (t != INT64_MIN && s->last_final < t && s->last_final + 1 == lo)
            at[c.rank[s->scope] + 1]++;
    }
    for (size_t k = 1; k <= pl->conf->scope_cnt; k++)
        at[k] += at[k - 1];
    size_t n = at[pl->conf->scope_cnt];
    for (uint32_t i = 0; i < series_cnt; i++) {
        const br_series_t *s = series_at(pl, i);
        int64_t t = pl->fin_target[i];
        if (t == INT64_MIN || s->last_final >= t)
            continue;
        if (s->last_final + 1 == lo)
            list[at[c.rank[s->scope]]++] = i;
        else
            fin_push(&c, i);
    }
    for (int64_t b = lo; n > 0 || c.heap_n > 0;) {
        /* Those in the heap whose bucket is b join the list, in order. */
        if (c.heap_n && fin_next(pl, c.heap[0]) == b) {
            size_t m = 0, k = 0;
            while (c.heap_n && fin_next(pl, c.heap[0]) == b) {
                uint32_t h = fin_pop(&c);
                while (k < n && fin_before(&c, list[k], h))
                    next_list[m++] = list[k++];
                next_list[m++] = h;
            }
            while (k < n)
                next_list[m++] = list[k++];
            uint32_t *tmp = list;
            list = next_list;
            next_list = tmp;
            n = m;
        }
        size_t m = 0;
        for (size_t k = 0; k < n; k++) {
            uint32_t i = list[k];
            int64_t t = pl->fin_target[i];
            finalize_series(pl, ec, i, b, t);
            br_series_t *s = series_at(pl, i);
            if (s->last_final >= t) {
                /* Done: its first open bucket can be judged now. */
                if (*br_series_slot(s, s->last_final + 1) > 0)
                    judge_open(pl, ec, i, s->last_final + 1);
            } else if (s->last_final == b) {
                next_list[m++] = i;
            } else {
                fin_push(&c, i); /* skipped ahead */
            }
        }
        uint32_t *tmp = list;
        list = next_list;
        next_list = tmp;
        n = m;
        if (n)
            b++;
        else if (c.heap_n)
            b = fin_next(pl, c.heap[0]);
    }
}

/* The watermark of every input (its newest event time, the least over its
 * partitions that are not idle, minus its lateness) and from it the bucket
 * each input has passed. An input that is behind (a partition with messages
 * waiting) is never idle; one whose newest event lags the newest of all
 * inputs by more than its idle_timeout, or without data, holds nothing
 * back. The stage's watermark is the least of them: budgets close and the
 * alerts' watermark field follow it. */
/* Compute every input's final bucket and the stage's watermark (see
 * update_watermark()). @returns whether any of them moved. */
static bool compute_finals(br_pipeline_t *pl) {
    const br_config_t *conf = pl->conf;
    int64_t bms = conf->spike.bucket_ms;
    int64_t gmax = INT64_MIN;
    for (size_t i = 0; i < conf->input_cnt; i++)
        if (pl->input_max[i] > gmax)
            gmax = pl->input_max[i];
    if (gmax == INT64_MIN)
        return false;
    int64_t wm = INT64_MAX, front = INT64_MIN;
    bool held = false, changed = false;
    for (size_t i = 0; i < conf->input_cnt; i++) {
        const br_input_conf_t *in = &conf->inputs[i];
        int64_t imax = pl->input_max[i];
        int64_t fin = INT64_MAX; /* holds nothing back: the front, below */
        int64_t own = INT64_MIN;
        bool behind = false;
        for (size_t p = 0; p < pl->part_cnt; p++)
            if (pl->parts[p].input == (int)i && pl->parts[p].behind)
                behind = true;
        /* Partitions that lag the input's newest by more than idle_timeout
         * are idle (none before the input has data). */
        int64_t idle_below = imax == INT64_MIN ? INT64_MIN : imax - in->idle_ms;
        int64_t imin = INT64_MAX;
        for (size_t p = 0; p < pl->part_cnt; p++) {
            const part_t *pt = &pl->parts[p];
            if (pt->input != (int)i || (!pt->behind && pt->max_ms < idle_below))
                continue;
            if (pt->max_ms < imin)
                imin = pt->max_ms;
        }
        /* An input that has delivered nothing yet is taken to be at the
         * stage's first event time: at a cold start the first records of a
         * slower topic are not late behind a quicker one; only once the
         * newest input is idle_timeout past that does it stop holding. */
        bool cold = imax == INT64_MIN && !behind &&
                    pl->first_bucket != INT64_MIN &&
                    gmax - in->idle_ms < pl->first_bucket * bms;
        if (cold)
            imin = pl->first_bucket * bms;
        if (imin != INT64_MIN && imin != INT64_MAX)
            own = br_floordiv(imin - in->lateness_ms, bms) - 1;
        if (cold || behind ||
            (imax != INT64_MIN && imax >= gmax - in->idle_ms)) {
            if (imin == INT64_MIN) {
                /* A partition with messages waiting, none read yet. */
                held = true;
                fin = INT64_MIN;
            } else if (imin != INT64_MAX) {
                int64_t iwm = imin - in->lateness_ms;
                if (iwm < wm)
                    wm = iwm;
                fin = own;
                if (fin > front)
                    front = fin;
            }
        }
        pl->input_own[i] = own;
        pl->input_final[i] = fin;
    }
    for (size_t i = 0; i < conf->input_cnt; i++) {
        if (pl->input_final[i] == INT64_MAX)
            pl->input_final[i] = front;
        if (pl->input_final[i] != pl->input_prev[i])
            changed = true;
        pl->input_prev[i] = pl->input_final[i];
    }
    if (!held && wm != INT64_MAX &&
        (pl->watermark_ms == INT64_MIN || wm > pl->watermark_ms)) {
        pl->watermark_ms = wm;
        pl->st.watermark_ms = wm;
        pl->final_bucket = br_floordiv(wm, bms) - 1;
        changed = true;
    }
    return changed && front != INT64_MIN;
}

/* The watermark of every input (its newest event time, the least over its
 * partitions that are not idle, minus its lateness) and from it the bucket
 * each input has passed. An input that is behind (a partition with messages
 * waiting) is never idle; one whose newest event lags the newest of all
 * inputs by more than its idle_timeout, or without data, holds nothing
 * back. The stage's watermark is the least of them: budgets close and the
 * alerts' watermark field follow it. Series are made final as far as
 * their own inputs allow. */
static void update_watermark(br_pipeline_t *pl, const br_emit_ctx_t *ec) {
    if (!compute_finals(pl))
        return;
    advance_final(pl, ec);
    DETECT(pl, on_watermark, ec);
}

/* The partition's entry, added when new. @returns NULL out of memory. */
static part_t *part_get(br_pipeline_t *pl, int input, int32_t partition) {
    for (size_t i = 0; i < pl->part_cnt; i++)
        if (pl->parts[i].input == input && pl->parts[i].partition == partition)
            return &pl->parts[i];
    if (pl->part_cnt == pl->part_cap) {
        size_t cap = pl->part_cap ? pl->part_cap * 2 : 16;
        part_t *p = realloc(pl->parts, sizeof(*p) * cap);
        if (!p)
            return NULL;
        pl->parts = p;
        pl->part_cap = cap;
    }
    pl->parts[pl->part_cnt] = (part_t){input, partition, INT64_MIN, false};
    return &pl->parts[pl->part_cnt++];
}

void br_pipeline_note_backlog(br_pipeline_t *pl, const br_origin_t *origin,
                              bool behind) {
    if (origin->input < 0 || (size_t)origin->input >= pl->conf->input_cnt)
        return;
    part_t *pt = NULL;
    for (size_t i = 0; i < pl->part_cnt && !pt; i++)
        if (pl->parts[i].input == origin->input &&
            pl->parts[i].partition == origin->partition)
            pt = &pl->parts[i];
    if (!pt && behind)
        pt = part_get(pl, origin->input, origin->partition);
    if (!pt || pt->behind == behind)
        return;
    pt->behind = behind;
    /* It may have been all that held the watermark; but one that has not
     * delivered yet is about to (the caller feeds the message next): let
     * that message move the watermark, so that it is not late itself. No
     * record sets this work off: its alerts name none. */
    if (!behind && pt->max_ms != INT64_MIN) {
        br_emit_ctx_t ec = emit_ctx_none(pl);
        update_watermark(pl, &ec);
    }
}

void br_pipeline_clear_backlog(br_pipeline_t *pl) {
    bool any = false;
    for (size_t i = 0; i < pl->part_cnt; i++) {
        any |= pl->parts[i].behind;
        pl->parts[i].behind = false;
    }
    if (any) {
        br_emit_ctx_t ec = emit_ctx_none(pl);
        update_watermark(pl, &ec);
    }
}

/* The record of ec has been taken: its event time moves its input's and
 * partition's newest, and with them the watermark. */
static void note_event_time(br_pipeline_t *pl, const br_emit_ctx_t *ec) {
    const br_origin_t *o = ec->origin;
    int64_t t = ec->event_ms;
    if (t > pl->max_event_ms) {
        pl->max_event_ms = t;
        pl->st.max_event_ms = t;
    }
    int input = o->input;
    bool moved = false;
    if (t > pl->input_max[input]) {
        pl->input_max[input] = t;
        moved = true;
    }
    part_t *pt = part_get(pl, input, o->partition);
    if (!pt)
        return;
    if (t > pt->max_ms) {
        pt->max_ms = t;
        moved = true;
    }
    if (moved)
        update_watermark(pl, ec);
}

/* ---- attribution ------------------------------------------------------ */

/* The series of scope si for the record, created (or folded) as needed;
 * rec_series holds the record's series of the scopes done before (parents
 * first), NONE elsewhere. */
static uint32_t attribute(br_pipeline_t *pl, const br_emit_ctx_t *ec,
                          uint32_t si, const br_record_t *rec, int64_t b,
                          const uint32_t *rec_series) {
    /* Buckets its input has passed are final for a new series too (a
     * record there is late); an input without a watermark yet leaves the
     * series fresh from this bucket on (see add_to_series()). */
    int64_t own = pl->input_own[rec->origin.input];
    int64_t lf = own == INT64_MIN ? b - 1 : own;
    if (b - lf > RING_MAX)
        lf = b - RING_MAX;
    br_attribution_t r = br_series_attribute(pl->store, si, rec, lf,
                                             rec_series);
    if (r.folded)
        pl->st.folded++;
    if (r.cap_reached) {
        br_series_event_t ev = {BR_SERIES_EV_CAP, si, NULL, b, rec};
        DETECT(pl, on_series, ec, &ev);
    }
    if (r.created && !r.folded) {
        br_series_event_t ev = {BR_SERIES_EV_CREATED, si,
                                series_at(pl, r.idx), b, rec};
        DETECT(pl, on_series, ec, &ev);
    }
    return r.idx;
}

/* Where add_to_series() put a record's cost. */
typedef enum {
    ADD_OK,        /* into an open bucket */
    ADD_BEHIND,    /* its bucket was made final by the other inputs that
                      feed the series (this one was behind or idle), or by
                      the open-bucket limit */
    ADD_LATE,      /* beyond the lateness of its own input */
} add_t;

/* Add the record's cost to bucket b of the series, gross (>= 0) to its
 * spike bucket. A bucket already final takes nothing (the record is late:
 * counted in totals and budgets only), except in a fresh series, which
 * opens earlier buckets for records its own input still takes. */
static add_t add_to_series(br_pipeline_t *pl, const br_emit_ctx_t *ec,
                           uint32_t idx, int64_t b, const br_record_t *rec,
                           int64_t gross) {
    br_series_t *s = series_at(pl, idx);
    int input = rec->origin.input;
    br_money_t cost = rec->cost_nanos;
    int64_t own = pl->input_own[input];
    /* (A dimension's fallback value may let another input feed it.) */
    s->inputs |= br_series_input_bit(input);
    if (b <= s->last_final) {
        if (own != INT64_MIN && b <= own)
            return ADD_LATE;
        if (!s->fresh || !br_series_open_from(s, b))
            return ADD_BEHIND;
        /* The series' first buckets moved earlier. */
        br_series_event_t ev = {BR_SERIES_EV_EARLIER, s->scope, s, b, rec};
        DETECT(pl, on_series, ec, &ev);
    }
    if (!br_series_fit(s, b)) {
        finalize_series(pl, ec, idx, b - RING_MAX, b - RING_MAX);
        s = series_at(pl, idx);
        if (!br_series_fit(s, b))
            return ADD_BEHIND; /* out of memory */
    }
    *br_series_slot(s, b) += gross;
    s->total += cost;
    br_series_event_t ev = {BR_SERIES_EV_ADDED, s->scope, s, b, rec};
    DETECT(pl, on_series, ec, &ev);
    return ADD_OK;
}

/* Early detection: a filling bucket can already be unusual, since its
 * gross spend only grows. Only the series' first open bucket is judged,
 * once the bucket before it is final: the baseline is then the one its
 * final verdict will use (learned up to the bucket before), and a verdict
 * that grows with the spend makes "the bucket crossed the line while
 * filling" the same fact as "its final sum crossed it". So which buckets
 * are unusual, and in which order incidents open, grow and end, does not
 * depend on the order records arrive in; a bucket whose records come
 * before the one before it is final is judged as soon as that one is
 * (see advance_final()). */
static void judge_open(br_pipeline_t *pl, const br_emit_ctx_t *ec, uint32_t idx,
                       int64_t b) {
    br_series_t *s = series_at(pl, idx);
    if (s->other || b != s->last_final + 1)
        return;
    br_money_t obs = *br_series_slot(s, b);
    br_verdict_t v = br_baseline_judge(&s->bl, &pl->conf->spike,
                                       b * pl->conf->spike.bucket_ms,
                                       br_money_to_double(obs));
    /* Only rises: a bucket still filling is below its forecast until it
     * ends, so a drop is judged on final buckets alone. */
    DETECT(pl, on_bucket_open, ec, s, b, &v);
}

/* ---- feeding ---------------------------------------------------------- */

/* The per-input counters of input, or the slot of unknown inputs. */
static br_pipeline_input_stats_t *input_stats(br_pipeline_t *pl, int input) {
    size_t n = pl->conf->input_cnt;
    return &pl->in_st[input >= 0 && (size_t)input < n ? (size_t)input : n];
}

static br_err_t dead_letter(br_pipeline_t *pl, const br_origin_t *o,
                            const void *payload, size_t len, br_err_t err,
                            const char *detail) {
    pl->st.dead_letters++;
    input_stats(pl, o->input)->dead_letters++;
    if ((unsigned)err < BR_ERR__CNT)
        input_stats(pl, o->input)->dead_by_reason[err]++;
    if (pl->sink.dead_letter)
        pl->sink.dead_letter(pl->sink.opaque, o, payload, len, err, detail);
    return err;
}

static br_err_t duplicate(br_pipeline_t *pl, const br_origin_t *o) {
    pl->st.duplicates++;
    input_stats(pl, o->input)->duplicates++;
    return BR_ERR_SKIP;
}

/* a - b into *d; true when it does not fit. */
static bool sub_overflows(int64_t a, int64_t b, int64_t *d) {
    if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
        return true;
    *d = a - b;
    return false;
}

static br_err_t process(br_pipeline_t *pl, br_record_t *rec,
                        const void *payload, size_t len) {
    const br_origin_t *o = &rec->origin;
    char *errbuf = pl->errbuf;
    if (rec->event_ms < pl->from_ms || rec->event_ms >= pl->to_ms) {
        pl->st.skipped++;
        input_stats(pl, o->input)->skipped++;
        return BR_ERR_SKIP;
    }
    bool seen;
    dedup_ent_t *de = dedup_seen(pl, rec, &seen);
    pl->st.dedup_ids = dedup_cnt(pl);
    /* An id seen before is a duplicate, unless its input replaces restated
     * rows and knows what the id counted: then the amount decides, below. */
    if (seen && (pl->conf->inputs[o->input].restatements !=
                     BR_RESTATE_REPLACE ||
                 de->amount == AMOUNT_UNKNOWN))
        return duplicate(pl, o);
    /* Whatever this record sets off (a watermark move included) is reported
     * with its origin and time. */
    const br_emit_ctx_t ec = emit_ctx(pl, o, rec->event_ms);
    if (rec->currency[0] && strcmp(rec->currency, pl->conf->currency) != 0) {
        br_emit_text(errbuf, sizeof(pl->errbuf),
                 "currency %s differs from the stage currency %s (no "
                 "conversion)", rec->currency, pl->conf->currency);
        return dead_letter(pl, o, payload, len, BR_ERR_INVAL, errbuf);
    }
    if (!rec->has_cost) {
        const char *model = br_record_dim(rec, "model");
        const char *provider = br_record_dim(rec, "provider");
        const br_price_t *price =
            model ? br_prices_lookup(pl->prices, provider, model) : NULL;
        if (!price) {
            pl->st.unpriced++;
            input_stats(pl, o->input)->unpriced++;
            DETECT(pl, on_unpriced, &ec, rec, model, provider);
            note_event_time(pl, &ec);
            return BR_ERR_OK;
        }
        br_err_t err = br_price_cost(price, rec->tokens, &rec->cost_nanos);
        if (err != BR_ERR_OK || !br_money_record_ok(rec->cost_nanos)) {
            br_emit_text(errbuf, sizeof(pl->errbuf),
                     "token counts overflow the cost of model %s: beyond "
                     "the per-record bound of +/-%s %s", model,
                     BR_MONEY_RECORD_MAX_TEXT, pl->conf->currency);
            return dead_letter(pl, o, payload, len, BR_ERR_RANGE, errbuf);
        }
        rec->has_cost = true;
        rec->priced = true;
        pl->st.priced++;
    }
    /* Spike buckets hold gross spend: a credit or refund (negative cost)
     * counts in totals and budgets, but can neither hide a spike nor look
     * like a collapse. */
    int64_t gross = rec->cost_nanos > 0 ? rec->cost_nanos : 0;
    if (de && seen) {
        /* A restated row: the difference from what its id counted goes to
         * totals, budgets and series (the row's own time and dims: the same
         * as before when the id includes them). Its spike buckets get only
         * a rise above the largest amount the id put there, so that they
         * only grow, as a credit would not lower them either. */
        int64_t diff;
        if (rec->cost_nanos == de->amount)
            return duplicate(pl, o);
        if (sub_overflows(rec->cost_nanos, de->amount, &diff)) {
            br_emit_text(errbuf, sizeof(pl->errbuf), "the restated amount differs "
                 "from the earlier one by more than the money range");
            return dead_letter(pl, o, payload, len, BR_ERR_RANGE, errbuf);
        }
        de->amount = rec->cost_nanos;
        gross = gross > de->peak ? gross - de->peak : 0;
        de->peak += gross;
        rec->cost_nanos = diff;
        pl->st.restated++;
        input_stats(pl, o->input)->restated++;
    } else if (de) {
        de->amount = rec->cost_nanos;
        de->peak = gross;
    }
    pl->st.ok++;
    input_stats(pl, o->input)->ok++;
    pl->st.total_nanos += rec->cost_nanos;

    int64_t b = br_floordiv(rec->event_ms, pl->conf->spike.bucket_ms);
    if (pl->first_bucket == INT64_MIN || b < pl->first_bucket)
        pl->first_bucket = b;
    DETECT(pl, on_record, &ec, rec);
    add_t late = ADD_OK;
    uint32_t rec_series[MAX_SCOPES]; /* the record's series, by scope */
    for (size_t k = 0; k < pl->conf->scope_cnt; k++)
        rec_series[k] = NONE;
    for (size_t k = 0; k < pl->conf->scope_cnt; k++) {
        uint32_t si = br_series_scope_order(pl->store)[k];
        if (!(br_series_scope(pl->store, si)->inputs &
              br_series_input_bit(o->input)))
            continue; /* scopes[].inputs leaves this input out */
        uint32_t idx = attribute(pl, &ec, si, rec, b, rec_series);
        rec_series[si] = idx;
        add_t r = idx != NONE ? add_to_series(pl, &ec, idx, b, rec, gross)
                              : ADD_OK;
        if (r > late)
            late = r;
    }
    if (late != ADD_OK) {
        br_pipeline_input_stats_t *is = input_stats(pl, o->input);
        pl->st.late++;
        is->late++;
        pl->st.late_nanos += rec->cost_nanos;
        if (late == ADD_BEHIND) {
            pl->st.late_behind++;
            is->late_behind++;
        }
    } else if (gross > 0) {
        /* Judge after every scope has the cost, so that contributors one
         * level down already include it. */
        for (size_t k = 0; k < pl->conf->scope_cnt; k++) {
            uint32_t idx = rec_series[br_series_scope_order(pl->store)[k]];
            if (idx != NONE)
                judge_open(pl, &ec, idx, b);
        }
    }
    note_event_time(pl, &ec);
    return BR_ERR_OK;
}

void br_pipeline_set_schema_fetch(br_pipeline_t *pl, br_schema_fetch_fn fn,
                                  void *opaque) {
    for (size_t i = 0; i < pl->conf->input_cnt; i++)
        br_format_set_schema_fetch(pl->formats[i], fn, opaque);
}

const br_format_state_t *br_pipeline_format(const br_pipeline_t *pl,
                                            int input) {
    if (input < 0 || (size_t)input >= pl->conf->input_cnt)
        return NULL;
    return pl->formats[input];
}

/* A record stamped more than its input's max_future ahead of the wall
 * clock the edge reported is a dead letter (FUTURE): taken, it would move
 * the watermark past every real record to come, for good. */
static br_err_t future_check(br_pipeline_t *pl, br_record_t *rec,
                             const void *payload, size_t len) {
    const br_input_conf_t *in = &pl->conf->inputs[rec->origin.input];
    if (pl->now_ms == INT64_MIN || in->max_future_ms <= 0 ||
        rec->event_ms - pl->now_ms <= in->max_future_ms)
        return BR_ERR_OK;
    char ts[40], now[40], ahead[32], max[32];
    br_ts_format(rec->event_ms, ts, sizeof ts);
    br_ts_format(pl->now_ms, now, sizeof now);
    int64_t d = rec->event_ms - pl->now_ms;
    if (d >= 86400000)
        br_emit_text(ahead, sizeof ahead, "%" PRId64 "d", d / 86400000);
    else
        br_emit_duration(d, ahead, sizeof ahead);
    br_emit_duration(in->max_future_ms, max, sizeof max);
    br_emit_text(pl->errbuf, sizeof(pl->errbuf),
         "event time %s is %s ahead of the clock (%s), more than input "
         "\"%s\" allows (max_future %s)", ts, ahead, now, in->name, max);
    return dead_letter(pl, &rec->origin, payload, len, BR_ERR_FUTURE,
                       pl->errbuf);
}

br_err_t br_pipeline_decode(br_pipeline_t *pl, const br_origin_t *origin,
                            const void *payload, size_t len, json_t *obj,
                            br_record_t *rec) {
    pl->st.messages++;
    input_stats(pl, origin->input)->messages++;
    if (origin->input < 0 || (size_t)origin->input >= pl->conf->input_cnt)
        return dead_letter(pl, origin, payload, len, BR_ERR_INVAL,
                           "message from an unknown input");
    if (!obj && len > pl->conf->max_message_bytes) {
        br_emit_text(pl->errbuf, sizeof(pl->errbuf),
             "message of %zu bytes exceeds limits.max_message_bytes (%zu)",
             len, pl->conf->max_message_bytes);
        return dead_letter(pl, origin, payload, len, BR_ERR_LIMIT, pl->errbuf);
    }
    br_format_state_t *fmt = pl->formats[origin->input];
    rec->origin = *origin; /* decode may take the Kafka record's timestamp */
    br_err_t err =
        obj ? br_format_decode_object(fmt, obj, rec, pl->errbuf,
                                      sizeof(pl->errbuf))
            : br_format_decode(fmt, payload, len, rec, pl->errbuf,
                               sizeof(pl->errbuf));
    if (err == BR_ERR_IO) {
        pl->st.messages--; /* not taken: it comes again */
        input_stats(pl, origin->input)->messages--;
        return err;
    }
    if (err == BR_ERR_SKIP) {
        pl->st.skipped++;
        input_stats(pl, origin->input)->skipped++;
        return err;
    }
    if (err != BR_ERR_OK)
        return dead_letter(pl, origin, payload, len, err, pl->errbuf);
    /* Tags left out for want of room are counted once, at decode. */
    pl->st.dims_ignored += rec->dims_ignored;
    input_stats(pl, origin->input)->dims_ignored += rec->dims_ignored;
    rec->origin = *origin;
    return future_check(pl, rec, payload, len);
}

const char *br_pipeline_last_error(const br_pipeline_t *pl) {
    return pl->errbuf;
}

br_err_t br_pipeline_feed_decoded(br_pipeline_t *pl, br_record_t *rec,
                                  const void *payload, size_t len) {
    return process(pl, rec, payload, len);
}

br_err_t br_pipeline_feed(br_pipeline_t *pl, const br_origin_t *origin,
                          const void *payload, size_t len) {
    br_err_t err = br_pipeline_decode(pl, origin, payload, len, NULL, &pl->rec);
    return err == BR_ERR_OK ? process(pl, &pl->rec, payload, len) : err;
}

br_err_t br_pipeline_feed_why(br_pipeline_t *pl, const br_origin_t *origin,
                              const void *payload, size_t len, char *why,
                              size_t why_size) {
    br_err_t err = br_pipeline_feed(pl, origin, payload, len);
    if (err != BR_ERR_OK && err != BR_ERR_SKIP && why)
        snprintf(why, why_size, "%s", pl->errbuf);
    return err;
}

br_err_t br_pipeline_feed_object(br_pipeline_t *pl, const br_origin_t *origin,
                                 json_t *obj, const void *raw, size_t raw_len) {
    br_err_t err = br_pipeline_decode(pl, origin, raw, raw_len, obj, &pl->rec);
    return err == BR_ERR_OK ? process(pl, &pl->rec, raw, raw_len) : err;
}

void br_pipeline_set_now(br_pipeline_t *pl, int64_t now_ms) {
    pl->now_ms = now_ms;
}

void br_pipeline_set_time_range(br_pipeline_t *pl, int64_t from_ms,
                                int64_t to_ms) {
    pl->from_ms = from_ms;
    pl->to_ms = to_ms;
}

void br_pipeline_finish(br_pipeline_t *pl) {
    if (pl->max_event_ms == INT64_MIN)
        return;
    /* The end of input sets this off, no record. */
    const br_emit_ctx_t ec = emit_ctx_none(pl);
    int64_t bms = pl->conf->spike.bucket_ms;
    int64_t last = br_floordiv(pl->max_event_ms, bms);
    int64_t end = (last + 1) * bms;
    if (end > pl->watermark_ms) {
        pl->watermark_ms = end;
        pl->st.watermark_ms = end;
    }
    for (size_t i = 0; i < pl->conf->input_cnt; i++)
        pl->input_final[i] = last;
    pl->final_bucket = last;
    advance_final(pl, &ec);
    DETECT(pl, on_watermark, &ec);
}

void br_pipeline_stats(const br_pipeline_t *pl, br_pipeline_stats_t *stats) {
    *stats = pl->st;
    stats->series = br_series_count(pl->store);
}

const char **br_pipeline_input_names(const br_pipeline_t *pl) {
    return pl->input_names;
}

/* ---- the daemon's wall clock (stale inputs) ------------------------- */

void br_pipeline_set_live(br_pipeline_t *pl, int input, bool live,
                          int64_t now_ms) {
    DETECT(pl, on_live, input, live, now_ms);
}

void br_pipeline_note_arrival(br_pipeline_t *pl, const br_origin_t *origin,
                              int64_t now_ms) {
    DETECT(pl, on_arrival, origin, now_ms);
}

void br_pipeline_check_stale(br_pipeline_t *pl, int64_t now_ms) {
    DETECT(pl, on_tick, now_ms);
}

/* ---- its parts of the core snapshot (state.c sequences them) --------- */

static void save_stats(br_buf_t *b, const br_pipeline_stats_t *st) {
    const uint64_t v[] = {st->messages, st->ok, st->skipped, st->dead_letters,
                          st->priced, st->unpriced, st->late, st->alerts,
                          st->folded, st->duplicates, st->dedup_evicted,
                          st->late_behind, st->restated};
    br_wr_uvar(b, sizeof v / sizeof v[0]);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        br_wr_uvar(b, v[i]);
    br_wr_money(b, st->total_nanos);
    br_wr_money(b, st->late_nanos);
}

static void load_stats(br_rd_t *r, uint64_t version, br_pipeline_stats_t *st) {
    uint64_t *v[] = {&st->messages, &st->ok, &st->skipped, &st->dead_letters,
                     &st->priced, &st->unpriced, &st->late, &st->alerts,
                     &st->folded, &st->duplicates, &st->dedup_evicted,
                     &st->late_behind, &st->restated};
    uint64_t n = br_rd_count(r, 64);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = br_rd_uvar(r);
        if (i < sizeof v / sizeof v[0])
            *v[i] = x; /* counters of a later layout are skipped */
    }
    st->total_nanos = br_state_rd_money(r, version);
    /* Late money since layout 5 (before: not counted apart). */
    st->late_nanos = version >= 5 ? br_rd_money(r) : 0;
}

void br_pipeline_save_head(const br_pipeline_t *pl, br_buf_t *b) {
    br_wr_ivar(b, pl->conf->spike.bucket_ms);
    save_stats(b, &pl->st);
    br_wr_ivar(b, pl->watermark_ms);
    br_wr_ivar(b, pl->final_bucket);
    br_wr_ivar(b, pl->first_bucket);
    br_wr_ivar(b, pl->max_event_ms);
}

void br_pipeline_read_head(br_rd_t *r, uint64_t layout,
                           br_pipeline_head_t *h) {
    memset(h, 0, sizeof *h);
    h->bucket_ms = br_rd_ivar(r);
    load_stats(r, layout, &h->st);
    h->watermark_ms = br_state_rd_time(r);
    h->final_bucket = br_state_rd_bucket(r, true);
    h->first_bucket = br_state_rd_bucket(r, true);
    h->max_event_ms = br_state_rd_time(r);
    /* spike.bucket is 1 minute to 1 day (config.c); br_state_rd_bucket()
     * counts on the day. */
    if (!r->err && (h->bucket_ms <= 0 || h->bucket_ms > 86400000))
        br_rd_fail(r, "bad bucket width");
}

br_err_t br_pipeline_restore_head(br_pipeline_t *pl,
                                  const br_pipeline_head_t *h, char *errstr,
                                  size_t errstr_size) {
    if (h->bucket_ms != pl->conf->spike.bucket_ms) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%" PRId64 "s", h->bucket_ms / 1000);
        snprintf(b, sizeof b, "%" PRId64 "s", pl->conf->spike.bucket_ms / 1000);
        return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                         "the snapshot was taken with spike.bucket %s, the "
                         "config says %s: its buckets cannot be reused (move "
                         "the state directory aside to start empty)", a, b);
    }
    pl->st = h->st;
    pl->st.dedup_ids = 0;
    pl->st.watermark_ms = h->watermark_ms;
    pl->st.max_event_ms = h->max_event_ms;
    pl->watermark_ms = h->watermark_ms;
    pl->final_bucket = h->final_bucket;
    pl->first_bucket = h->first_bucket;
    pl->max_event_ms = h->max_event_ms;
    return BR_ERR_OK;
}

void br_pipeline_describe_head(const br_pipeline_head_t *h, br_buf_t *b) {
    const br_pipeline_stats_t *st = &h->st;
    br_buf_printf(b,
                  "\"stats\": {\"messages\": %" PRIu64 ", \"ok\": %" PRIu64
                  ", \"skipped\": %" PRIu64 ", \"dead_letters\": %" PRIu64
                  ", \"duplicates\": %" PRIu64 ", \"late\": %" PRIu64
                  ", \"priced\": %" PRIu64 ", \"unpriced\": %" PRIu64
                  ", \"folded\": %" PRIu64 ", \"alerts\": %" PRIu64
                  ", \"dedup_evicted\": %" PRIu64 ", \"late_behind\": %" PRIu64
                  ", \"restated\": %" PRIu64 ", \"total\": ",
                  st->messages, st->ok, st->skipped, st->dead_letters,
                  st->duplicates, st->late, st->priced, st->unpriced,
                  st->folded, st->alerts, st->dedup_evicted, st->late_behind,
                  st->restated);
    br_state_put_money(b, st->total_nanos);
    /* Late records count in totals and budgets, not in buckets: their
     * money apart, so that the series' totals and stats.total reconcile. */
    br_buf_puts(b, ", \"late_money\": ");
    br_state_put_money(b, st->late_nanos);
    br_buf_printf(b, "},\n\"bucket_seconds\": %" PRId64 ",\n\"watermark\": ",
                  h->bucket_ms / 1000);
    br_state_put_ms(b, h->watermark_ms);
    br_buf_puts(b, ",\n\"max_event_time\": ");
    br_state_put_ms(b, h->max_event_ms);
    br_buf_puts(b, ",\n");
}

void br_pipeline_save_inputs(const br_pipeline_t *pl, br_buf_t *b) {
    br_wr_uvar(b, pl->conf->input_cnt);
    for (size_t i = 0; i < pl->conf->input_cnt; i++) {
        br_wr_str(b, pl->conf->inputs[i].name);
        br_wr_ivar(b, pl->input_max[i]);
    }
}

void br_pipeline_load_inputs(br_rd_t *r, br_pipeline_t *pl,
                             br_pipeline_inputs_t *in,
                             br_restore_info_t *info) {
    memset(in, 0, sizeof *in);
    in->cnt = (size_t)br_rd_count(r, 100000);
    for (size_t i = 0; i < in->cnt && !r->err; i++) {
        char *name = br_rd_strdup(r);
        int64_t mx = br_state_rd_time(r);
        int *m = !r->err && pl ? realloc(in->map, (i + 1) * sizeof *m)
                               : NULL;
        if (m) {
            in->map = m;
            in->map_cnt = i + 1;
            m[i] = br_config_input_index(pl->conf, name);
            if (m[i] < 0)
                info->dropped_inputs++;
            else
                pl->input_max[m[i]] = mx;
        }
        free(name);
    }
}

void br_pipeline_save_partitions(const br_pipeline_t *pl, br_buf_t *b) {
    br_wr_uvar(b, pl->part_cnt);
    for (size_t i = 0; i < pl->part_cnt; i++) {
        br_wr_uvar(b, (uint64_t)pl->parts[i].input);
        br_wr_ivar(b, pl->parts[i].partition);
        br_wr_ivar(b, pl->parts[i].max_ms);
    }
}

void br_pipeline_load_partitions(br_rd_t *r, br_pipeline_t *pl,
                                 const br_pipeline_inputs_t *in) {
    size_t part_cnt = (size_t)br_rd_count(r, 10000000);
    for (size_t i = 0; i < part_cnt && !r->err; i++) {
        uint64_t input = br_rd_uvar(r);
        int64_t p = br_rd_ivar(r), mx = br_state_rd_time(r);
        if (!r->err && (input >= in->cnt || p < 0 || p > INT32_MAX))
            br_rd_fail(r, "partition of an unknown input");
        if (r->err || !pl || input >= in->map_cnt || in->map[input] < 0)
            continue;
        part_t *pt = part_get(pl, in->map[input], (int32_t)p);
        if (pt)
            pt->max_ms = mx;
    }
}

br_err_t br_pipeline_save_unpriced(const br_pipeline_t *pl, br_buf_t *b) {
    return br_detector_unpriced.save(det_self(pl, &br_detector_unpriced), b);
}

void br_pipeline_load_unpriced(br_rd_t *r, br_pipeline_t *pl) {
    br_detector_unpriced.load(pl ? det_self(pl, &br_detector_unpriced) : NULL,
                              r, NULL);
}

void br_pipeline_save_dedup(const br_pipeline_t *pl, br_buf_t *b) {
    const br_config_t *conf = pl->conf;
    /* Layout 4: per input (input_cnt: not known), its ids oldest first. */
    br_wr_uvar(b, conf->input_cnt + 1);
    for (size_t k = 0; k <= conf->input_cnt; k++) {
        const dedup_t *dd = &pl->dedup[k];
        br_wr_uvar(b, k);
        br_wr_uvar(b, dd->cnt);
        for (size_t i = 0; i < dd->cnt; i++) {
            const dedup_ent_t *e = &dd->ring[(dd->head + i) % dd->alloc];
            br_wr_u64le(b, e->h1);
            br_wr_u64le(b, e->h2);
            br_wr_ivar(b, e->t);
            br_wr_ivar(b, e->amount);
            br_wr_ivar(b, e->peak);
        }
    }
}

/* A saved id of input (an index into the saved inputs; SIZE_MAX: not
 * said, a layout before BR_STATE_DEDUP_AMOUNTS, whose amounts are
 * AMOUNT_UNKNOWN) into pl's window. */
static void dedup_restore(br_pipeline_t *pl, const br_pipeline_inputs_t *in,
                          size_t input, const dedup_ent_t *e) {
    size_t k = pl->conf->input_cnt, pos;
    /* Ids of an input the config no longer has are dropped (their hash
     * holds the input's name); those of an older layout, whose input is not
     * known, keep their own ring, dedup.window and dedup.max_ids. */
    if (input < in->map_cnt) {
        if (in->map[input] < 0)
            return;
        k = (size_t)in->map[input];
    }
    size_t max = dedup_max(pl, k);
    /* Oldest first, as saved: inserting in order rebuilds the same ring
     * (a smaller max_ids keeps the newest; an id listed twice, the first). */
    if (max && !dedup_find(&pl->dedup[k], e->h1, e->h2)) {
        dedup_put(&pl->dedup[k], max, e->h1, e->h2, e->t, &pos);
        if (pos != SIZE_MAX)
            pl->dedup[k].ring[pos] = *e;
    }
}

void br_pipeline_load_dedup(br_rd_t *r, uint64_t layout, br_pipeline_t *pl,
                            const br_pipeline_inputs_t *in, size_t *ids,
                            size_t *with_amount) {
    if (layout >= BR_STATE_DEDUP_AMOUNTS) {
        size_t rings = (size_t)br_rd_count(r, in->cnt + 1);
        for (size_t k = 0; k < rings && !r->err; k++) {
            uint64_t input = br_rd_uvar(r);
            size_t dn = (size_t)br_rd_count(r, br_rd_left(r) / 19);
            if (!r->err && input > in->cnt)
                br_rd_fail(r, "dedup ids of an unknown input");
            for (size_t i = 0; i < dn && !r->err; i++) {
                dedup_ent_t e;
                e.h1 = br_rd_u64le(r);
                e.h2 = br_rd_u64le(r);
                e.t = br_state_rd_time(r);
                e.amount = br_rd_ivar(r);
                e.peak = br_rd_ivar(r);
                if (r->err)
                    break;
                (*ids)++;
                *with_amount += e.amount != AMOUNT_UNKNOWN;
                if (pl)
                    dedup_restore(pl, in, (size_t)input, &e);
            }
        }
    } else {
        size_t dn = (size_t)br_rd_count(r, br_rd_left(r) / 17);
        for (size_t i = 0; i < dn && !r->err; i++) {
            dedup_ent_t e = {0, 0, 0, AMOUNT_UNKNOWN, 0};
            e.h1 = br_rd_u64le(r);
            e.h2 = br_rd_u64le(r);
            e.t = br_state_rd_time(r);
            if (r->err)
                break;
            (*ids)++;
            if (pl)
                dedup_restore(pl, in, SIZE_MAX, &e);
        }
    }
}

void br_pipeline_describe_dedup(size_t ids, size_t with_amount,
                                br_buf_t *json) {
    br_buf_printf(json, "\"dedup\": {\"ids\": %zu, \"with_amount\": %zu, "
                        "\"bytes\": %zu}",
                  ids, with_amount, ids * sizeof(dedup_ent_t));
}

void br_pipeline_save_stale(const br_pipeline_t *pl, br_buf_t *b) {
    br_detector_stale.save(det_self(pl, &br_detector_stale), b);
}

void br_pipeline_load_stale(br_rd_t *r, br_pipeline_t *pl, br_buf_t *d) {
    br_detector_stale.load(pl ? det_self(pl, &br_detector_stale) : NULL, r, d);
}

br_series_store_t *br_pipeline_store(const br_pipeline_t *pl) {
    return pl->store;
}

br_budget_t *br_pipeline_budget(const br_pipeline_t *pl, size_t i) {
    return pl->budgets[i];
}

size_t br_pipeline_budget_count(const br_pipeline_t *pl) {
    return pl->conf->budget_cnt;
}

void br_pipeline_restored(br_pipeline_t *pl, bool ok) {
    /* The inputs' finals follow from the restored watermark parts; nothing
     * is made final here (that waits for the next record or backlog note,
     * as it would have in the run that saved the state). */
    if (ok)
        compute_finals(pl);
    pl->st.dedup_ids = dedup_cnt(pl);
}

void br_pipeline_memory(const br_pipeline_t *pl, br_pipeline_memory_t *mem) {
    memset(mem, 0, sizeof *mem);
    br_series_memory(pl->store, &mem->series, &mem->index);
    mem->incidents = br_incidents_memory(pl->store);
    for (size_t i = 0; i <= pl->conf->input_cnt; i++)
        mem->dedup += dedup_bytes(&pl->dedup[i]);
    mem->other = pl->part_cap * sizeof(part_t);
    for (size_t d = 0; d < DET_CNT; d++)
        if (detectors[d]->memory)
            mem->other += detectors[d]->memory(pl->det[d]);
}

/* ---- construction ----------------------------------------------------- */

br_err_t br_pipeline_load_prices(const br_config_t *conf, br_prices_t *prices,
                                 char *errstr, size_t errstr_size) {
    char why[1024];
    if (!conf->prices_file)
        return BR_ERR_OK;
    if (conf->prices_json) {
        if (br_prices_load_litellm_json(prices, conf->prices_file,
                                        conf->prices_json,
                                        conf->prices_json_len, why,
                                        sizeof why) == BR_ERR_OK)
            return BR_ERR_OK;
    } else {
        snprintf(why, sizeof why, "%s: %s", conf->prices_file,
                 conf->prices_error ? conf->prices_error : "out of memory");
    }
    /* "CONF:LINE: prices.file: /resolved/path: reason", like every other
     * mistake in the config file. */
    return br_seterr(errstr, errstr_size, BR_ERR_CONFIG, "%s:%d: prices.file: %s",
                     conf->path, br_config_key_line(conf, "prices.file"), why);
}

/* The dimension names anything in conf looks at: pricing's model and
 * provider, every scope's dims, every budget's match keys. Decoders store
 * these before other tags. Returns a new array of borrowed names (conf's),
 * or NULL when out of memory. */
static const char **wanted_dims(const br_config_t *conf, size_t *cnt) {
    size_t cap = 2;
    for (size_t i = 0; i < conf->scope_cnt; i++)
        cap += conf->scopes[i].dim_cnt;
    for (size_t i = 0; i < conf->budget_cnt; i++)
        cap += conf->budgets[i].match_cnt;
    const char **want = calloc(cap, sizeof(*want));
    if (!want)
        return NULL;
    size_t n = 0;
#define WANT(name)                                                         \
    do {                                                                   \
        size_t k_ = 0;                                                     \
        while (k_ < n && strcmp(want[k_], (name)) != 0)                    \
            k_++;                                                          \
        if (k_ == n)                                                       \
            want[n++] = (name);                                            \
    } while (0)
    WANT("model");
    WANT("provider");
    for (size_t i = 0; i < conf->scope_cnt; i++)
        for (size_t d = 0; d < conf->scopes[i].dim_cnt; d++)
            WANT(conf->scopes[i].dims[d]);
    for (size_t i = 0; i < conf->budget_cnt; i++)
        for (size_t m = 0; m < conf->budgets[i].match_cnt; m++)
            WANT(conf->budgets[i].match[m].key);
#undef WANT
    *cnt = n;
    return want;
}

br_pipeline_t *br_pipeline_new(const br_config_t *conf, const br_sink_t *sink,
                               char *errstr, size_t errstr_size) {
    const char **want = NULL;
    br_pipeline_t *pl = calloc(1, sizeof(*pl));
    if (!pl)
        goto oom;
    pl->conf = conf;
    if (sink)
        pl->sink = *sink;
    pl->watermark_ms = INT64_MIN;
    pl->final_bucket = INT64_MIN;
    pl->first_bucket = INT64_MIN;
    pl->max_event_ms = INT64_MIN;
    pl->from_ms = INT64_MIN;
    pl->to_ms = INT64_MAX;
    pl->now_ms = INT64_MIN;
    pl->st.watermark_ms = INT64_MIN;
    pl->st.max_event_ms = INT64_MIN;
    if (conf->scope_cnt > MAX_SCOPES) {
        br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                  "%s: at most %d scopes are supported", conf->path,
                  MAX_SCOPES);
        goto fail;
    }
    pl->prices = br_prices_new();
    if (!pl->prices)
        goto oom;
    if (br_pipeline_load_prices(conf, pl->prices, errstr, errstr_size))
        goto fail;
    for (size_t i = 0; i < conf->price_override_cnt; i++) {
        char err[256];
        if (br_prices_set_spec(pl->prices, conf->price_overrides[i].key,
                               conf->price_overrides[i].value, err,
                               sizeof(err)) != BR_ERR_OK) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "%s:%d: prices.models.%s: %s", conf->path,
                      conf->price_overrides[i].line,
                      conf->price_overrides[i].key, err);
            goto fail;
        }
    }
    pl->formats = calloc(conf->input_cnt, sizeof(*pl->formats));
    pl->decoders = calloc(conf->input_cnt, sizeof(*pl->decoders));
    pl->input_names = calloc(conf->input_cnt + 1, sizeof(*pl->input_names));
    pl->in_st = calloc(conf->input_cnt + 1, sizeof(*pl->in_st));
    pl->dedup = calloc(conf->input_cnt + 1, sizeof(*pl->dedup));
    if (!pl->in_st || !pl->dedup)
        goto oom;
    pl->input_max = malloc(sizeof(*pl->input_max) * (conf->input_cnt + 1));
    pl->input_final = malloc(sizeof(*pl->input_final) * (conf->input_cnt + 1));
    pl->input_prev = malloc(sizeof(*pl->input_prev) * (conf->input_cnt + 1));
    pl->input_own = malloc(sizeof(*pl->input_own) * (conf->input_cnt + 1));
    if (!pl->formats || !pl->decoders || !pl->input_names || !pl->input_max ||
        !pl->input_final || !pl->input_prev || !pl->input_own)
        goto oom;
    size_t want_cnt = 0;
    if (!(want = wanted_dims(conf, &want_cnt)))
        goto oom;
    for (size_t i = 0; i < conf->input_cnt; i++) {
        pl->input_max[i] = INT64_MIN;
        pl->input_final[i] = INT64_MIN;
        pl->input_prev[i] = INT64_MIN;
        pl->input_own[i] = INT64_MIN;
        pl->input_names[i] = conf->inputs[i].name;
        char err[600];
        pl->formats[i] = br_format_new(&conf->inputs[i], want, want_cnt, err,
                                       sizeof(err));
        if (!pl->formats[i]) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG, "%s:%d: %s",
                      conf->path, conf->inputs[i].line, err);
            goto fail;
        }
        pl->decoders[i] = br_format_decoder(pl->formats[i]);
    }
    free(want); /* the decoders copied it */
    want = NULL;
    if (!(pl->store = br_series_store_new(conf, pl->decoders)))
        goto oom;
    pl->budgets = calloc(conf->budget_cnt + 1, sizeof(*pl->budgets));
    if (!pl->budgets)
        goto oom;
    for (size_t i = 0; i < conf->budget_cnt; i++) {
        const br_budget_conf_t *bc = &conf->budgets[i];
        if (strcmp(bc->currency, conf->currency) != 0) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "%s:%d: budgets.%s.currency: %s differs from the stage "
                      "currency %s; currency conversion is not supported",
                      conf->path, bc->line, bc->name, bc->currency,
                      conf->currency);
            goto fail;
        }
        char err[256];
        pl->budgets[i] = br_budget_new(bc, err, sizeof(err));
        if (!pl->budgets[i]) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "%s:%d: budgets.%s.timezone: %s", conf->path, bc->line,
                      bc->name, err);
            goto fail;
        }
    }
    pl->env = (br_detect_env_t){conf, pl->store, pl->budgets, pl->input_max,
                                &pl->final_bucket, &pl->first_bucket,
                                emit_ctx(pl, NULL, INT64_MIN)};
    if (!(pl->det = calloc(DET_CNT, sizeof(*pl->det))))
        goto oom;
    for (size_t d = 0; d < DET_CNT; d++) {
        if (!detectors[d]->create)
            pl->det[d] = &pl->env; /* stateless: its self is the env */
        else if (!(pl->det[d] = detectors[d]->create(&pl->env)))
            goto oom;
    }
    return pl;
oom:
    br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
fail:
    free(want);
    br_pipeline_destroy(pl);
    return NULL;
}

void br_pipeline_destroy(br_pipeline_t *pl) {
    if (!pl)
        return;
    br_series_store_destroy(pl->store);
    free(pl->fin_order);
    free(pl->fin_target);
    free(pl->input_final);
    free(pl->input_prev);
    free(pl->input_own);
    free(pl->parts);
    if (pl->formats)
        for (size_t i = 0; i < pl->conf->input_cnt; i++)
            br_format_destroy(pl->formats[i]);
    free(pl->formats);
    free(pl->decoders);
    free(pl->input_names);
    free(pl->input_max);
    free(pl->in_st);
    if (pl->budgets)
        for (size_t i = 0; i < pl->conf->budget_cnt; i++)
            br_budget_destroy(pl->budgets[i]);
    free(pl->budgets);
    br_prices_destroy(pl->prices);
    for (size_t d = 0; pl->det && d < DET_CNT; d++)
        if (detectors[d]->destroy)
            detectors[d]->destroy(pl->det[d]);
    free(pl->det);
    for (size_t i = 0; pl->dedup && i <= pl->conf->input_cnt; i++)
        dedup_free(&pl->dedup[i]);
    free(pl->dedup);
    free(pl);
}

/* ---- per-input counters and series per scope (metrics) --------------- */

void br_pipeline_input_stats(const br_pipeline_t *pl, int input,
                             br_pipeline_input_stats_t *out) {
    size_t n = pl->conf->input_cnt;
    size_t i = input >= 0 && (size_t)input < n ? (size_t)input : n;
    *out = pl->in_st[i];
    out->dedup_ids = pl->dedup[i].cnt;
    out->dedup_bytes = dedup_bytes(&pl->dedup[i]);
}

void br_pipeline_carry_input_stats(br_pipeline_t *pl,
                                   const br_pipeline_t *from) {
    for (size_t i = 0; i < pl->conf->input_cnt; i++) {
        int j = br_config_input_index(from->conf, pl->conf->inputs[i].name);
        if (j >= 0)
            pl->in_st[i] = from->in_st[j];
    }
    pl->in_st[pl->conf->input_cnt] = from->in_st[from->conf->input_cnt];
}

uint64_t br_pipeline_scope_series(const br_pipeline_t *pl, size_t scope) {
    if (scope >= pl->conf->scope_cnt)
        return 0;
    return br_series_scope_size(pl->store, (uint32_t)scope);
}
