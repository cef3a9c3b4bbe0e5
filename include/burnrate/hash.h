/*
 * Hashing and ids: 64-bit FNV-1a over exact bytes, the keys the core looks
 * series and dedup ids up by, the derivation of every alert id, and a small
 * set of strings.
 *
 * These outputs are fixed. An alert id names what the alert is about, never
 * when it was sent (README, "Alerts"): routers deduplicate on it and the
 * alert topic is compacted by it, across restarts and versions; the dedup
 * keys are saved in snapshots. tests/test_hash.c pins them.
 *
 * Every id is 16 lowercase hex digits (br_id_hex()) of FNV-1a 64 from the
 * offset basis over the fields listed at its function, in order: a string
 * with its terminating NUL (br_fnv_str()), an integer as its decimal text
 * with its NUL (br_fnv_i64()), a series' labels as its blob (each value,
 * in the scope's dimension order, with its NUL). The same fields give the
 * same id on every machine.
 *
 * Pure: no clock, no I/O, no allocation but the string set's.
 *
 * @locality any thread; a br_strset_t one thread at a time.
 */
#ifndef BURNRATE_HASH_H
#define BURNRATE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/alert.h"

#define BR_FNV_OFFSET UINT64_C(14695981039346656037)

/** @returns h advanced by FNV-1a 64 over n bytes at p. */
uint64_t br_fnv(uint64_t h, const void *p, size_t n);
/** @returns h advanced over s and its terminating NUL. */
uint64_t br_fnv_str(uint64_t h, const char *s);
/** @returns h advanced over v as decimal text ("-12") and a NUL. */
uint64_t br_fnv_i64(uint64_t h, int64_t v);
/** @returns x through the splitmix64 finalizer (every bit to every bit). */
uint64_t br_mix64(uint64_t x);
/** @brief h as 16 lowercase hex digits and a NUL: an alert id. */
void br_id_hex(uint64_t h, char out[17]);

/** @returns the lookup key of the series of scope (an index into the
 *           config's scopes) with these labels (its blob of len bytes):
 *           FNV-1a over the index's four bytes in host order, then the
 *           blob. Never saved (a restore hashes again). */
uint64_t br_hash_series(uint32_t scope, const char *blob, size_t len);

/**
 * @brief The dedup key of record id `id` of input `input` (its name): two
 *        independent 64-bit hashes, FNV-1a of the input name (with its NUL)
 *        then the id (without), from the offset basis and from
 *        0x9e3779b97f4a7c15, each through br_mix64() (the first xored with
 *        the id's length, the second plus 0x632be59bd9b4e019). Saved in
 *        snapshots.
 */
void br_hash_dedup_key(const char *input, const char *id, uint64_t *h1,
                       uint64_t *h2);

/*
 * Alert ids. Output: out, 17 bytes (16 hex digits and a NUL).
 */

/** cost_spike, cost_drop: type name, scope name, labels blob, the start
 *  (ms) of the bucket the incident was opened on. */
void br_id_incident(char out[17], br_alert_type_t type, const char *scope,
                    const char *blob, size_t blob_len, int64_t start_ms);

/** new_spend: "new_spend", scope name, labels blob. */
void br_id_new_spend(char out[17], const char *scope, const char *blob,
                     size_t blob_len);

/** budget_threshold, budget_forecast: type name, budget name, the period's
 *  start (ms; a rolling threshold: the crossing's start), the threshold in
 *  basis points. */
void br_id_budget(char out[17], br_alert_type_t type, const char *budget,
                  int64_t key_ms, int32_t bp);

/** budget_burn_rate: "budget_burn_rate", budget name, the rule's long and
 *  short windows (ms), its factor times 1000 (truncated), the episode's
 *  start (ms). */
void br_id_burn_rate(char out[17], const char *budget, int64_t long_ms,
                     int64_t short_ms, double factor, int64_t key_ms);

/** unpriced_model, series_cap: type name, scope name (or ""), detail (the
 *  model, the dimension; or ""). Once per stage and subject. */
void br_id_one_off(char out[17], br_alert_type_t type, const char *scope,
                   const char *detail);

/** stale_input: "stale_input", input name, the silence's start (wall
 *  clock, ms). */
void br_id_stale(char out[17], const char *input, int64_t since_ms);

/**
 * A set of strings, open addressing on br_fnv_str(): which slot a key
 * takes depends only on the keys and the order they came in. Zeroed is
 * empty. keys has cap slots, NULL where free; the strings are owned.
 */
typedef struct br_strset {
    char **keys;
    size_t cnt, cap;
} br_strset_t;

/** @brief Add a copy of s. @returns true when s was not there yet and is
 *         now; false when it was, or out of memory (not added). */
bool br_strset_add(br_strset_t *ss, const char *s);
/** @brief Free every key and the slots; the set is then empty. */
void br_strset_free(br_strset_t *ss);

#endif
