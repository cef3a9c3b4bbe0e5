/*
 * The series store (see series.h): series in one array, an open-addressing
 * table of their indices by br_hash_series(), the scopes with their parents
 * and the inputs that can feed them, and attribution of records to series.
 */
#include <stdlib.h>
#include <string.h>

#include "burnrate/hash.h"
#include "burnrate/series.h"
#include "burnrate/state.h"

#define NONE BR_SERIES_NONE
#define RING_MIN BR_SERIES_RING_MIN
#define RING_MAX BR_SERIES_RING_MAX
#define OTHER BR_SERIES_OTHER
#define UNSET BR_SERIES_UNSET

struct br_series_store {
    const br_config_t *conf;
    br_scope_t *scopes;
    uint32_t *scope_order;     /* scopes by ascending dim count */
    br_series_t *series;
    uint32_t series_cnt, series_cap;
    uint32_t *table;           /* open addressing of series indices */
    uint32_t table_cap;
};

uint64_t br_series_input_bit(int i) {
    return UINT64_C(1) << (i < 63 ? i : 63);
}

/* Whether parent's dims are child's but one. */
static bool dims_subset_minus_one(const br_scope_conf_t *parent,
                                  const br_scope_conf_t *child) {
    if (parent->dim_cnt + 1 != child->dim_cnt)
        return false;
    for (size_t i = 0; i < parent->dim_cnt; i++) {
        bool found = false;
        for (size_t j = 0; j < child->dim_cnt && !found; j++)
            found = strcmp(parent->dims[i], child->dims[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

br_series_store_t *br_series_store_new(const br_config_t *conf,
                                       br_decoder_t *const *decoders) {
    if (conf->scope_cnt > BR_SERIES_SCOPES_MAX)
        return NULL;
    br_series_store_t *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->conf = conf;
    st->scopes = calloc(conf->scope_cnt + 1, sizeof(*st->scopes));
    st->scope_order = calloc(conf->scope_cnt + 1, sizeof(*st->scope_order));
    if (!st->scopes || !st->scope_order) {
        br_series_store_destroy(st);
        return NULL;
    }
    for (size_t i = 0; i < conf->scope_cnt; i++) {
        br_scope_t *sc = &st->scopes[i];
        sc->conf = &conf->scopes[i];
        sc->other = NONE;
        for (size_t k = 0; k < conf->input_cnt; k++) {
            uint64_t bit = br_series_input_bit((int)k);
            bool feeds = !sc->conf->inputs;
            for (size_t n = 0; !feeds && n < sc->conf->input_cnt; n++)
                feeds = strcmp(sc->conf->inputs[n], conf->inputs[k].name) == 0;
            if (!feeds)
                continue;
            sc->inputs |= bit;
            for (size_t d = 0; d < sc->conf->dim_cnt && d < BR_DIM_MAX; d++)
                if (br_decoder_may_set(decoders[k], sc->conf->dims[d]))
                    sc->dim_inputs[d] |= bit;
        }
        for (size_t j = 0; j < conf->scope_cnt; j++)
            if (dims_subset_minus_one(&conf->scopes[j], &conf->scopes[i]))
                sc->parents[sc->parent_cnt++] = (uint32_t)j;
        st->scope_order[i] = (uint32_t)i;
    }
    /* Parents before children, so a new child finds its parent series. */
    for (size_t i = 1; i < conf->scope_cnt; i++)
        for (size_t j = i; j > 0 &&
             conf->scopes[st->scope_order[j - 1]].dim_cnt >
                 conf->scopes[st->scope_order[j]].dim_cnt; j--) {
            uint32_t t = st->scope_order[j];
            st->scope_order[j] = st->scope_order[j - 1];
            st->scope_order[j - 1] = t;
        }
    return st;
}

void br_series_release(br_series_t *s) {
    free(s->blob);
    free(s->ring);
    s->ring = NULL;
    free(s->children);
    for (int k = 0; k < BR_SERIES_INCIDENTS; k++) {
        free(s->inc[k]);
        s->inc[k] = NULL;
    }
    s->blob = NULL;
    s->children = NULL;
}

void br_series_store_destroy(br_series_store_t *st) {
    if (!st)
        return;
    for (uint32_t i = 0; i < st->series_cnt; i++)
        br_series_release(&st->series[i]);
    free(st->series);
    free(st->table);
    free(st->scopes);
    free(st->scope_order);
    free(st);
}

uint32_t br_series_count(const br_series_store_t *st) {
    return st->series_cnt;
}

br_series_t *br_series_at(br_series_store_t *st, uint32_t idx) {
    return &st->series[idx];
}

const br_scope_t *br_series_scope(const br_series_store_t *st,
                                  uint32_t scope) {
    return &st->scopes[scope];
}

const uint32_t *br_series_scope_order(const br_series_store_t *st) {
    return st->scope_order;
}

void br_series_set_cap_alerted(br_series_store_t *st, uint32_t scope,
                               bool alerted) {
    st->scopes[scope].cap_alerted = alerted;
}

uint64_t br_series_scope_size(const br_series_store_t *st, uint32_t scope) {
    return (uint64_t)st->scopes[scope].series_cnt +
           (st->scopes[scope].other != NONE ? 1 : 0);
}

void br_series_memory(const br_series_store_t *st, size_t *series,
                      size_t *index) {
    *series = (size_t)st->series_cap * sizeof(br_series_t);
    for (uint32_t i = 0; i < st->series_cnt; i++) {
        const br_series_t *s = &st->series[i];
        *series += (s->blob_len ? s->blob_len : 1) +
                   (size_t)s->child_cap * sizeof(uint32_t) +
                   (size_t)s->ring_cap * sizeof(*s->ring);
    }
    *index = (size_t)st->table_cap * sizeof(uint32_t);
}

/* ---- lookup ------------------------------------------------------------ */

/* The inputs that can feed the series of scope si with these labels, from
 * the config alone (so the same in every arrival order): those of the
 * scope whose records can carry each dimension the series has a value
 * for; a dimension a record lacks ("(none)") or folded ("(other)") any of
 * them can feed. */
static uint64_t series_inputs(const br_series_store_t *st, uint32_t si,
                              const char *blob) {
    const br_scope_t *sc = &st->scopes[si];
    uint64_t m = sc->inputs;
    const char *v = blob;
    for (size_t d = 0; d < sc->conf->dim_cnt; d++) {
        if (d < BR_DIM_MAX && strcmp(v, UNSET) != 0 && strcmp(v, OTHER) != 0)
            m &= sc->dim_inputs[d];
        v += strlen(v) + 1;
    }
    return m;
}

static bool table_grow(br_series_store_t *st) {
    uint32_t cap = st->table_cap ? st->table_cap * 2 : 1024;
    uint32_t *t = malloc(sizeof(*t) * cap);
    if (!t)
        return false;
    memset(t, 0xff, sizeof(*t) * cap);
    for (uint32_t i = 0; i < st->series_cnt; i++) {
        uint32_t j = (uint32_t)st->series[i].hash & (cap - 1);
        while (t[j] != NONE)
            j = (j + 1) & (cap - 1);
        t[j] = i;
    }
    free(st->table);
    st->table = t;
    st->table_cap = cap;
    return true;
}

static uint32_t find(const br_series_store_t *st, uint32_t scope,
                     const char *blob, size_t len, uint64_t h) {
    if (!st->table_cap)
        return NONE;
    uint32_t j = (uint32_t)h & (st->table_cap - 1);
    for (;;) {
        uint32_t i = st->table[j];
        if (i == NONE)
            return NONE;
        const br_series_t *s = &st->series[i];
        if (s->hash == h && s->scope == scope && s->blob_len == len &&
            memcmp(s->blob, blob, len) == 0)
            return i;
        j = (j + 1) & (st->table_cap - 1);
    }
}

uint32_t br_series_find(const br_series_store_t *st, uint32_t scope,
                        const char *blob, size_t len) {
    return find(st, scope, blob, len, br_hash_series(scope, blob, len));
}

/* Double the series array (256 to start). */
static bool series_grow(br_series_store_t *st) {
    uint32_t cap = st->series_cap ? st->series_cap * 2 : 256;
    br_series_t *s = realloc(st->series, sizeof(*s) * cap);
    if (s) {
        st->series = s;
        st->series_cap = cap;
    }
    return s != NULL;
}

/* A new series whose buckets up to last_final count as final. */
static uint32_t create(br_series_store_t *st, uint32_t scope,
                       const char *blob, size_t len, uint64_t h,
                       int64_t last_final) {
    if ((st->series_cnt + 1) * 2 > st->table_cap && !table_grow(st))
        return NONE;
    if (st->series_cnt == st->series_cap && !series_grow(st))
        return NONE;
    br_series_t *s = &st->series[st->series_cnt];
    memset(s, 0, sizeof(*s));
    s->blob = malloc(len ? len : 1);
    s->ring = calloc(RING_MIN, sizeof *s->ring);
    if (!s->blob || !s->ring) {
        free(s->blob);
        free(s->ring);
        return NONE;
    }
    s->ring_cap = RING_MIN;
    memcpy(s->blob, blob, len);
    s->blob_len = (uint32_t)len;
    s->hash = h;
    s->scope = scope;
    s->last_final = last_final;
    s->fresh = true;
    s->inputs = series_inputs(st, scope, s->blob);
    br_baseline_init(&s->bl);
    uint32_t idx = st->series_cnt++;
    uint32_t j = (uint32_t)h & (st->table_cap - 1);
    while (st->table[j] != NONE)
        j = (j + 1) & (st->table_cap - 1);
    st->table[j] = idx;
    return idx;
}

uint32_t br_series_parent(const br_series_store_t *st, const br_series_t *s,
                          size_t p) {
    const br_scope_t *sc = &st->scopes[s->scope];
    const br_scope_conf_t *pc = st->scopes[sc->parents[p]].conf;
    char blob[1024];
    size_t len = 0;
    for (size_t d = 0; d < pc->dim_cnt; d++) {
        const char *v = s->blob;
        for (size_t j = 0; j < sc->conf->dim_cnt &&
                           strcmp(sc->conf->dims[j], pc->dims[d]) != 0;
             j++)
            v += strlen(v) + 1;
        size_t n = strlen(v) + 1;
        if (len + n > sizeof(blob))
            return NONE;
        memcpy(blob + len, v, n);
        len += n;
    }
    uint32_t idx = br_series_find(st, sc->parents[p], blob, len);
    if (idx != NONE && (st->series[idx].inputs & ~s->inputs))
        return NONE;
    return idx;
}

size_t br_series_labels(const br_series_store_t *st, const br_series_t *s,
                        br_dim_t *out, size_t cap) {
    const br_scope_conf_t *sc = st->scopes[s->scope].conf;
    const char *p = s->blob;
    size_t n = 0;
    for (size_t i = 0; i < sc->dim_cnt && n < cap; i++) {
        out[n].key = sc->dims[i];
        out[n].value = p;
        n++;
        p += strlen(p) + 1;
    }
    return n;
}

/* ---- attribution ------------------------------------------------------- */

static void add_child(br_series_t *parent, uint32_t child) {
    if (parent->child_cnt == parent->child_cap) {
        uint32_t cap = parent->child_cap ? parent->child_cap * 2 : 4;
        uint32_t *c = realloc(parent->children, sizeof(*c) * cap);
        if (!c)
            return; /* contributors are best effort under memory pressure */
        parent->children = c;
        parent->child_cap = cap;
    }
    parent->children[parent->child_cnt++] = child;
}

br_attribution_t br_series_attribute(br_series_store_t *st, uint32_t si,
                                     const br_record_t *rec,
                                     int64_t last_final,
                                     const uint32_t *rec_series) {
    br_attribution_t r = {NONE, false, false, false};
    br_scope_t *sc = &st->scopes[si];
    char blob[1024];
    size_t len = 0;
    for (size_t d = 0; d < sc->conf->dim_cnt; d++) {
        const char *v = br_record_dim(rec, sc->conf->dims[d]);
        if (!v)
            v = UNSET;
        size_t n = strlen(v) + 1;
        if (len + n > sizeof(blob))
            n = sizeof(blob) - len; /* over-long values are cut */
        memcpy(blob + len, v, n);
        len += n;
        blob[len - 1] = '\0';
    }
    uint64_t h = br_hash_series(si, blob, len);
    r.idx = find(st, si, blob, len, h);
    if (r.idx != NONE)
        return r;
    r.folded = sc->series_cnt >= sc->conf->max_series;
    if (r.folded) {
        if (sc->other != NONE) {
            r.idx = sc->other;
            return r;
        }
        len = 0;
        for (size_t d = 0; d < sc->conf->dim_cnt; d++) {
            memcpy(blob + len, OTHER, sizeof(OTHER));
            len += sizeof(OTHER);
        }
        h = br_hash_series(si, blob, len);
        if (!sc->cap_alerted)
            sc->cap_alerted = r.cap_reached = true;
    }
    r.idx = create(st, si, blob, len, h, last_final);
    if (r.idx == NONE)
        return r;
    r.created = true;
    if (r.folded) {
        st->series[r.idx].other = true;
        sc->other = r.idx;
    } else {
        sc->series_cnt++;
    }
    for (size_t p = 0; p < sc->parent_cnt; p++) {
        uint32_t parent = rec_series[sc->parents[p]];
        if (parent != NONE)
            add_child(&st->series[parent], r.idx);
    }
    return r;
}

const char *br_series_runaway_dim(const br_series_store_t *st, uint32_t si,
                                  const br_record_t *rec, size_t *distinct) {
    const br_scope_conf_t *sc = st->scopes[si].conf;
    const char *best = NULL;
    *distinct = 0;
    for (size_t d = 0; d < sc->dim_cnt; d++) {
        br_strset_t seen = {0};
        for (uint32_t i = 0; i < st->series_cnt; i++) {
            const br_series_t *s = &st->series[i];
            if (s->scope != si || s->other)
                continue;
            const char *v = s->blob;
            for (size_t k = 0; k < d; k++)
                v += strlen(v) + 1;
            br_strset_add(&seen, v);
        }
        const char *v = br_record_dim(rec, sc->dims[d]);
        br_strset_add(&seen, v ? v : UNSET);
        if (seen.cnt > *distinct) {
            *distinct = seen.cnt;
            best = sc->dims[d];
        }
        br_strset_free(&seen);
    }
    return best;
}

br_err_t br_series_adopt(br_series_store_t *st, uint32_t scope,
                         br_series_t *in, uint32_t *idx) {
    uint64_t h = br_hash_series(scope, in->blob, in->blob_len);
    if (find(st, scope, in->blob, in->blob_len, h) != NONE)
        return BR_ERR_PARSE;
    *idx = create(st, scope, in->blob, in->blob_len, h, in->last_final);
    if (*idx == NONE)
        return BR_ERR_NOMEM;
    br_series_t *s = &st->series[*idx];
    free(s->blob);
    free(s->ring);
    *s = *in;
    s->scope = scope;
    s->hash = h;
    /* Which inputs feed it follows from this config. */
    s->inputs = series_inputs(st, scope, s->blob);
    in->blob = NULL;
    in->ring = NULL;
    in->children = NULL;
    for (int k = 0; k < BR_SERIES_INCIDENTS; k++)
        in->inc[k] = NULL;
    if (s->other)
        st->scopes[scope].other = *idx;
    else
        st->scopes[scope].series_cnt++;
    return BR_ERR_OK;
}

/* ---- open buckets ------------------------------------------------------ */

br_money_t *br_series_slot(const br_series_t *s, int64_t b) {
    return &s->ring[(uint64_t)b & (s->ring_cap - 1)];
}

bool br_series_fit(br_series_t *s, int64_t b) {
    if (b - s->last_final <= (int64_t)s->ring_cap)
        return true;
    if (b - s->last_final > RING_MAX)
        return false;
    uint32_t cap = s->ring_cap;
    while ((int64_t)cap < b - s->last_final)
        cap *= 2;
    br_money_t *r = calloc(cap, sizeof *r);
    if (!r)
        return false;
    for (int64_t k = s->last_final + 1; k <= s->last_final + s->ring_cap; k++)
        r[(uint64_t)k & (cap - 1)] = *br_series_slot(s, k);
    free(s->ring);
    s->ring = r;
    s->ring_cap = cap;
    return true;
}

/* The highest open bucket of s with spend, or last_final when none. */
static int64_t ring_top(const br_series_t *s) {
    for (int64_t k = s->last_final + s->ring_cap; k > s->last_final; k--)
        if (*br_series_slot(s, k) != 0)
            return k;
    return s->last_final;
}

bool br_series_open_from(br_series_t *s, int64_t b) {
    int64_t lf = b - 1, top = ring_top(s);
    if (top - lf > RING_MAX)
        return false;
    uint32_t cap = s->ring_cap;
    while ((int64_t)cap < top - lf)
        cap *= 2;
    if (cap != s->ring_cap) {
        br_money_t *r = calloc(cap, sizeof *r);
        if (!r)
            return false;
        for (int64_t k = s->last_final + 1; k <= top; k++)
            r[(uint64_t)k & (cap - 1)] = *br_series_slot(s, k);
        free(s->ring);
        s->ring = r;
        s->ring_cap = cap;
    }
    s->last_final = lf;
    return true;
}

/* ---- its parts of the core snapshot ----------------------------------- */

void br_series_save_scopes(const br_series_store_t *st, br_buf_t *b) {
    const br_config_t *conf = st->conf;
    br_wr_uvar(b, conf->scope_cnt);
    for (size_t i = 0; i < conf->scope_cnt; i++) {
        const br_scope_conf_t *sc = &conf->scopes[i];
        br_wr_str(b, sc->name);
        br_wr_uvar(b, sc->dim_cnt);
        for (size_t d = 0; d < sc->dim_cnt; d++)
            br_wr_str(b, sc->dims[d]);
        br_wr_u8(b, st->scopes[i].cap_alerted);
    }
}

/* The config's scope of that name and dims, or -1. */
static int scope_match(const br_config_t *conf, const char *name,
                       char *const *dims, size_t dim_cnt) {
    for (size_t k = 0; k < conf->scope_cnt; k++) {
        const br_scope_conf_t *sc = &conf->scopes[k];
        if (strcmp(sc->name, name) != 0 || sc->dim_cnt != dim_cnt)
            continue;
        bool same = true;
        for (size_t d = 0; d < dim_cnt && same; d++)
            same = strcmp(sc->dims[d], dims[d]) == 0;
        return same ? (int)k : -1;
    }
    return -1;
}

void br_series_load_scopes(br_rd_t *r, br_series_store_t *st,
                           br_series_scopes_t *sc, uint64_t *dropped) {
    memset(sc, 0, sizeof *sc);
    sc->cnt = (size_t)br_rd_count(r, BR_SERIES_SCOPES_MAX);
    for (size_t i = 0; i < sc->cnt && !r->err; i++) {
        char *name = br_rd_strdup(r);
        size_t dc = (size_t)br_rd_count(r, BR_DIM_MAX);
        char **dims = calloc(dc + 1, sizeof *dims);
        if (!dims)
            sc->oom = true;
        for (size_t d = 0; d < dc; d++) {
            char *v = br_rd_strdup(r);
            if (dims)
                dims[d] = v;
            else
                free(v);
        }
        bool cap = br_rd_bool(r);
        sc->name[i] = name;
        sc->dims[i] = dims;
        sc->dim_cnt[i] = dc;
        sc->map[i] = -1;
        if (r->err || !st)
            continue;
        if (!name || !dims) {
            sc->oom = true;
            continue;
        }
        sc->map[i] = scope_match(st->conf, name, dims, dc);
        if (sc->map[i] >= 0)
            br_series_set_cap_alerted(st, (uint32_t)sc->map[i], cap);
        else
            (*dropped)++;
    }
}

void br_series_scopes_free(br_series_scopes_t *sc) {
    for (size_t i = 0; i < BR_SERIES_SCOPES_MAX; i++) {
        free(sc->name[i]);
        for (size_t d = 0; sc->dims[i] && d < sc->dim_cnt[i]; d++)
            free(sc->dims[i][d]);
        free(sc->dims[i]);
        sc->name[i] = NULL;
        sc->dims[i] = NULL;
    }
}

void br_series_save(const br_series_t *s, br_buf_t *b) {
    br_wr_uvar(b, s->scope);
    br_wr_bytes(b, s->blob, s->blob_len);
    br_wr_ivar(b, s->last_final);
    br_wr_uvar(b, s->ring_cap);
    for (int64_t k = s->last_final + 1; k <= s->last_final + s->ring_cap; k++)
        br_wr_money(b, *br_series_slot(s, k));
    br_wr_u8(b, s->fresh);
    br_wr_money(b, s->last_val);
    br_wr_money(b, s->last_exp);
    br_baseline_save(&s->bl, b);
    br_wr_ivar(b, s->new_until);
    br_wr_ivar(b, s->new_first_ms);
    br_wr_money(b, s->new_nanos);
    br_wr_u8(b, s->new_fired);
    br_wr_u8(b, s->other);
    br_wr_money(b, s->total);
    br_wr_uvar(b, s->child_cnt);
    for (uint32_t c = 0; c < s->child_cnt; c++)
        br_wr_uvar(b, s->children[c]);
}

void br_series_load(br_rd_t *r, uint64_t layout, const br_series_scopes_t *sc,
                    uint64_t series_cnt, br_series_t *s) {
    memset(s, 0, sizeof *s);
    uint64_t scope = br_rd_uvar(r);
    size_t bl;
    const char *blob = br_rd_bytes(r, &bl);
    if (!r->err && scope >= sc->cnt)
        br_rd_fail(r, "series of an unknown scope");
    if (r->err)
        return;
    /* The labels: exactly one NUL-terminated value per dim. */
    size_t nuls = 0;
    for (size_t k = 0; k < bl; k++)
        nuls += blob[k] == '\0';
    if (nuls != sc->dim_cnt[scope] || (bl && blob[bl - 1] != '\0')) {
        br_rd_fail(r, "series labels do not match their scope");
        return;
    }
    s->scope = (uint32_t)scope;
    s->blob_len = (uint32_t)bl;
    s->blob = malloc(bl ? bl : 1);
    if (!s->blob) {
        br_rd_fail(r, "out of memory");
        return;
    }
    memcpy(s->blob, blob, bl);
    s->hash = br_hash_series(s->scope, s->blob, bl);
    s->last_final = br_state_rd_bucket(r, false);
    /* Layouts before 5: 8 open buckets by b % 8, fed by every input. */
    uint64_t cap = layout >= BR_STATE_RINGS ? br_rd_uvar(r) : 8;
    if (!r->err && (cap < BR_SERIES_RING_MIN || cap > BR_SERIES_RING_MAX ||
                    (cap & (cap - 1)))) {
        br_rd_fail(r, "series ring size out of range");
        br_series_release(s);
        return;
    }
    s->ring = calloc(cap, sizeof *s->ring);
    if (!s->ring) {
        br_rd_fail(r, "out of memory");
        br_series_release(s);
        return;
    }
    s->ring_cap = (uint32_t)cap;
    if (layout >= BR_STATE_RINGS) {
        for (int64_t k = s->last_final + 1;
             k <= s->last_final + (int64_t)cap; k++)
            *br_series_slot(s, k) = br_rd_money(r);
        s->fresh = br_rd_bool(r);
    } else {
        for (uint64_t k = 0; k < cap; k++)
            s->ring[k] = br_state_rd_money(r, layout);
    }
    s->last_val = br_state_rd_money(r, layout);
    s->last_exp = br_state_rd_money(r, layout);
    br_baseline_load(r, layout, &s->bl);
    s->new_until = br_state_rd_bucket(r, false);
    s->new_first_ms = br_state_rd_time(r);
    s->new_nanos = br_state_rd_money(r, layout);
    s->new_fired = br_rd_bool(r);
    s->other = br_rd_bool(r);
    s->total = br_state_rd_money(r, layout);
    uint64_t cc = br_rd_count(r, series_cnt);
    if (cc) {
        s->children = malloc(cc * sizeof *s->children);
        if (!s->children)
            br_rd_fail(r, "out of memory");
        s->child_cap = (uint32_t)cc;
    }
    for (uint64_t c = 0; c < cc && !r->err; c++) {
        uint64_t idx = br_rd_uvar(r);
        if (idx >= series_cnt)
            br_rd_fail(r, "child link out of range");
        s->children[c] = (uint32_t)idx;
        s->child_cnt = (uint32_t)c + 1;
    }
}

void br_series_remap_children(br_series_store_t *st, const uint32_t *map,
                              size_t map_cnt) {
    for (uint32_t i = 0; i < st->series_cnt; i++) {
        br_series_t *s = &st->series[i];
        uint32_t n = 0;
        for (uint32_t c = 0; c < s->child_cnt; c++) {
            uint32_t old = s->children[c];
            uint32_t now = old < map_cnt ? map[old] : BR_SERIES_NONE;
            if (now != BR_SERIES_NONE)
                s->children[n++] = now;
        }
        s->child_cnt = n;
    }
}

void br_series_describe_labels(const br_series_t *s,
                               const br_series_scopes_t *sc, br_buf_t *l) {
    br_buf_puts(l, "{");
    const char *p = s->blob;
    for (size_t d = 0; d < sc->dim_cnt[s->scope]; d++) {
        const char *k = sc->dims[s->scope] ? sc->dims[s->scope][d] : NULL;
        br_buf_printf(l, "%s", d ? ", " : "");
        br_buf_json_str(l, k ? k : "");
        br_buf_puts(l, ": ");
        br_buf_json_str(l, p);
        p += strlen(p) + 1;
    }
    br_buf_puts(l, "}");
}
