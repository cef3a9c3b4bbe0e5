/*
 * The series store: every series of every scope in one array, looked up by
 * (scope, labels) through an open-addressing table. A series is one scope's
 * spend for one combination of label values: its open event-time buckets
 * (a ring), its total, the series one dimension down that it is made of
 * (children), and the detectors' per-series state (baseline, new spend,
 * incidents), which the store keeps for them (a new series' empty) and
 * never reads.
 *
 * Attribution finds or creates the series of a scope that a record feeds.
 * A scope holds at most its max_series; label values beyond that fold into
 * the scope's "(other)" series, and attribution says when a scope first
 * reaches its cap (the caller raises the series_cap alert). The store knows
 * the config's scopes and which inputs can feed each series; it knows
 * nothing of watermarks, budgets or alerts: the caller says where a new
 * series' final buckets end.
 *
 * Ownership: the store owns the series array and, for every series, its
 * labels, ring, child links and the incidents hung on it (each one block
 * from malloc, freed with the series). A br_series_t pointer is valid until
 * the next series is added (the array may move); an index is valid for the
 * store's life. Strings handed out are borrowed from the store or the
 * config.
 *
 * Pure: no clock, no I/O, no logging; the same records in the same order
 * give the same series at the same indices.
 *
 * @locality one thread.
 */
#ifndef BURNRATE_SERIES_H
#define BURNRATE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/baseline.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/decode.h"
#include "burnrate/err.h"
#include "burnrate/money.h"
#include "burnrate/record.h"
#include "burnrate/wire.h"

#define BR_SERIES_NONE UINT32_MAX   /* no series */
#define BR_SERIES_SCOPES_MAX 32     /* scopes a store holds at most */
#define BR_SERIES_RING_MIN 8        /* open buckets a series holds at least */
#define BR_SERIES_RING_MAX 4096     /* and at most (a power of two): a record
                                       further ahead makes the oldest final */
#define BR_SERIES_INCIDENTS 2       /* incident slots: spike, drop */
#define BR_SERIES_OTHER "(other)"   /* every label of a folded series */
#define BR_SERIES_UNSET "(none)"    /* the value of a dimension a record
                                       lacks */

struct br_incident; /* the spike detector's, in det_incidents.c */

typedef struct br_series {
    uint64_t hash;             /* br_hash_series() of scope and blob */
    uint32_t scope;            /* index into the config's scopes */
    uint32_t blob_len;
    char *blob;                /* values, NUL-separated, in scope dim order */
    int64_t last_final;        /* last final bucket index */
    br_money_t *ring;          /* buckets last_final+1 .. +ring_cap, by
                                  b & (ring_cap - 1), nanos */
    uint32_t ring_cap;         /* a power of two, RING_MIN..RING_MAX */
    bool fresh;                /* no bucket made final yet: an earlier
                                  record may still open an earlier bucket */
    uint64_t inputs;           /* inputs that can feed it (bits of
                                  br_series_input_bit()): its buckets are
                                  final when all of them have passed */
    br_money_t last_val;       /* final total of bucket last_final */
    br_money_t last_exp;       /* its expectation */
    br_baseline_t bl;
    int64_t new_until;         /* new-spend window end bucket; 0: not new */
    int64_t new_first_ms;
    br_money_t new_nanos;
    bool new_fired;
    bool other;                /* the scope's "(other)" series */
    br_money_t total;          /* all cost ever added to its buckets */
    uint32_t *children;        /* indices of the series one dim down */
    uint32_t child_cnt, child_cap;
    struct br_incident *inc[BR_SERIES_INCIDENTS]; /* by kind; NULL: none */
} br_series_t;

/** A scope as the store holds it; read-only outside the store. */
typedef struct br_scope {
    const br_scope_conf_t *conf; /* borrowed from the config */
    uint32_t series_cnt;       /* excluding (other) */
    uint32_t other;            /* series index of "(other)" or NONE */
    uint32_t parents[BR_SERIES_SCOPES_MAX]; /* scopes one dim up */
    size_t parent_cnt;
    bool cap_alerted;          /* reached max_series once (saved) */
    uint64_t inputs;           /* inputs that feed it (scopes[].inputs) */
    uint64_t dim_inputs[BR_DIM_MAX]; /* of those, the ones whose records can
                                  carry each dim (br_decoder_may_set()) */
} br_scope_t;

typedef struct br_series_store br_series_store_t;

/**
 * @brief An empty store for conf's scopes (at most BR_SERIES_SCOPES_MAX).
 * @param conf borrowed; must outlive the store.
 * @param decoders one per input of conf, borrowed for the call: which
 *        dimensions each input's records can carry.
 * @returns a new store the caller destroys, or NULL out of memory or with
 *          more scopes than that.
 */
br_series_store_t *br_series_store_new(const br_config_t *conf,
                                       br_decoder_t *const *decoders);
void br_series_store_destroy(br_series_store_t *st);

/** @returns the bit of input i in an input mask (bit 63 stands for every
 *           input from 63 on). */
uint64_t br_series_input_bit(int i);

/** @returns series held, all scopes. */
uint32_t br_series_count(const br_series_store_t *st);
/** @returns series idx (< br_series_count()). */
br_series_t *br_series_at(br_series_store_t *st, uint32_t idx);
/** @returns scope (an index into the config's scopes). */
const br_scope_t *br_series_scope(const br_series_store_t *st, uint32_t scope);
/** @returns the scope indices, fewer dimensions first (parents before
 *           children), as many as the config has scopes. */
const uint32_t *br_series_scope_order(const br_series_store_t *st);
/** @brief Whether scope has reached its cap once (a restored state). */
void br_series_set_cap_alerted(br_series_store_t *st, uint32_t scope,
                               bool alerted);

/** @returns the series of scope with these labels (blob of len bytes), or
 *           BR_SERIES_NONE. */
uint32_t br_series_find(const br_series_store_t *st, uint32_t scope,
                        const char *blob, size_t len);

/**
 * @returns the series of s's parent scope number p (its scope's parents[p])
 *          that holds s, or BR_SERIES_NONE when it does not exist or is fed
 *          by an input that cannot feed s: a parent that waits for a slower
 *          input (a billing feed over token series) would hold s's alerts
 *          back as long, so s is not grouped under it.
 */
uint32_t br_series_parent(const br_series_store_t *st, const br_series_t *s,
                          size_t p);

/** @returns the labels of s as up to cap dims (key from the config, value
 *           from s), in its scope's dimension order. */
size_t br_series_labels(const br_series_store_t *st, const br_series_t *s,
                        br_dim_t *out, size_t cap);

/** What br_series_attribute() did. */
typedef struct br_attribution {
    uint32_t idx;              /* the record's series; NONE: out of memory */
    bool created;              /* idx is new */
    bool folded;               /* the scope is full: the record went to its
                                  "(other)" series */
    bool cap_reached;          /* the first fold of the scope (raise
                                  series_cap) */
} br_attribution_t;

/**
 * @brief The series of scope for rec: found by the record's values of the
 *        scope's dimensions ("(none)" for one it lacks, a value cut at 1 KiB
 *        of labels), created when new, or (the scope full) its "(other)"
 *        series. A new series counts buckets up to last_final as final and
 *        becomes a child of the record's series of each parent scope.
 * @param rec_series the record's series by scope, of the scopes already
 *        attributed (parents first, br_series_scope_order()); NONE elsewhere.
 */
br_attribution_t br_series_attribute(br_series_store_t *st, uint32_t scope,
                                     const br_record_t *rec,
                                     int64_t last_final,
                                     const uint32_t *rec_series);

/**
 * @returns the dimension of scope with the most distinct values among its
 *          series (counting rec's, the record that overflowed): the one
 *          running away, with that count in *distinct; NULL for a scope
 *          without dimensions.
 */
const char *br_series_runaway_dim(const br_series_store_t *st, uint32_t scope,
                                  const br_record_t *rec, size_t *distinct);

/**
 * @brief Take in a series read from a snapshot as series of scope (its
 *        scope field is overwritten): the store takes its labels, ring,
 *        child links (indices as given: the caller maps them) and
 *        incidents, and in's pointers are set to NULL; which inputs can
 *        feed it is worked out anew from this config.
 * @returns BR_ERR_OK with *idx; BR_ERR_PARSE when the store already holds
 *          that series, or BR_ERR_NOMEM (in keeps what it had).
 */
br_err_t br_series_adopt(br_series_store_t *st, uint32_t scope,
                         br_series_t *in, uint32_t *idx);

/** @brief Free what a series outside a store holds (one being read from a
 *         snapshot) and NULL its pointers. */
void br_series_release(br_series_t *s);

/** @returns the slot of open bucket b of s (last_final < b <=
 *           last_final + ring_cap). */
br_money_t *br_series_slot(const br_series_t *s, int64_t b);

/** @brief Make room for open buckets up to b: the ring doubles until it
 *         covers last_final+1 .. b. @returns false when b is further ahead
 *         than BR_SERIES_RING_MAX, or out of memory. */
bool br_series_fit(br_series_t *s, int64_t b);

/** @brief A fresh series (nothing final yet) opens its buckets from b on,
 *         b at or before its last_final: the ring is laid out again around
 *         the new first bucket. @returns false when that would need more
 *         than BR_SERIES_RING_MAX buckets, or out of memory. */
bool br_series_open_from(br_series_t *s, int64_t b);

/** @returns series held in scope (an index into the config's scopes), its
 *           "(other)" series included. */
uint64_t br_series_scope_size(const br_series_store_t *st, uint32_t scope);

/** @brief Bytes held: the series (array, labels, child links, rings) and
 *         the lookup table. Incidents are not counted here. */
void br_series_memory(const br_series_store_t *st, size_t *series,
                      size_t *index);


/* ---- its parts of the core snapshot (sequenced by state.c) ---- */

/** The scopes of a core snapshot as read back (br_series_load_scopes()). */
typedef struct br_series_scopes {
    size_t cnt;
    char *name[BR_SERIES_SCOPES_MAX];      /* owned */
    char **dims[BR_SERIES_SCOPES_MAX];     /* owned, dim_cnt[] each */
    size_t dim_cnt[BR_SERIES_SCOPES_MAX];
    int map[BR_SERIES_SCOPES_MAX];         /* restoring: the config scope it
                                              is, -1: dropped */
    bool oom;                              /* a name or dim not kept */
} br_series_scopes_t;

/** @brief Append the config's scopes (name, dims, whether each reached its
 *         cap) to a core snapshot. */
void br_series_save_scopes(const br_series_store_t *st, br_buf_t *b);

/**
 * @brief Read the scopes br_series_save_scopes() wrote.
 * @param st the store being restored: each saved scope is mapped to the
 *        config's scope of the same name and dims, whose cap flag it
 *        takes; *dropped counts the others. NULL: read only (describe).
 */
void br_series_load_scopes(br_rd_t *r, br_series_store_t *st,
                           br_series_scopes_t *sc, uint64_t *dropped);
void br_series_scopes_free(br_series_scopes_t *sc);

/** @brief Append series s, all but its incidents (the spike detector
 *         saves those after it): scope, labels, final bucket, open
 *         buckets, baseline, new spend, totals, child links. */
void br_series_save(const br_series_t *s, br_buf_t *b);

/**
 * @brief Read one series br_series_save() wrote in core layout `layout`
 *        into s (zeroed first; free it with br_series_release()). r fails
 *        on a scope not in sc, labels that do not match their scope's dims,
 *        a ring size out of range, a bucket or time out of range, or a
 *        child link beyond series_cnt.
 */
void br_series_load(br_rd_t *r, uint64_t layout, const br_series_scopes_t *sc,
                    uint64_t series_cnt, br_series_t *s);

/** @brief Restored child links point at saved series: map them through
 *         map (saved index -> restored index or BR_SERIES_NONE; indices
 *         from map_cnt on are gone) and drop the gone ones. */
void br_series_remap_children(br_series_store_t *st, const uint32_t *map,
                              size_t map_cnt);

/** @brief Append s's labels as a JSON object, keys from sc (describe). */
void br_series_describe_labels(const br_series_t *s,
                               const br_series_scopes_t *sc, br_buf_t *json);

#endif
