/*
 * Hashing and ids (see hash.h): FNV-1a 64, the series and dedup keys, alert
 * ids and a string set.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/hash.h"

uint64_t br_fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

uint64_t br_fnv_str(uint64_t h, const char *s) {
    return br_fnv(h, s, strlen(s) + 1);
}

uint64_t br_fnv_i64(uint64_t h, int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    return br_fnv(h, tmp, (size_t)n + 1);
}

uint64_t br_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

void br_id_hex(uint64_t h, char out[17]) {
    snprintf(out, 17, "%016" PRIx64, h);
}

uint64_t br_hash_series(uint32_t scope, const char *blob, size_t len) {
    return br_fnv(br_fnv(BR_FNV_OFFSET, &scope, sizeof(scope)), blob, len);
}

void br_hash_dedup_key(const char *input, const char *id, uint64_t *h1,
                       uint64_t *h2) {
    uint64_t a = br_fnv_str(BR_FNV_OFFSET, input),
             b = br_fnv_str(UINT64_C(0x9e3779b97f4a7c15), input);
    size_t n = strlen(id);
    a = br_fnv(a, id, n);
    b = br_fnv(b, id, n);
    *h1 = br_mix64(a ^ (uint64_t)n);
    *h2 = br_mix64(b + UINT64_C(0x632be59bd9b4e019));
}

/* ---- alert ids --------------------------------------------------------- */

void br_id_incident(char out[17], br_alert_type_t type, const char *scope,
                    const char *blob, size_t blob_len, int64_t start_ms) {
    uint64_t h = br_fnv_str(BR_FNV_OFFSET, br_alert_type_name(type));
    h = br_fnv_str(h, scope);
    h = br_fnv(h, blob, blob_len);
    br_id_hex(br_fnv_i64(h, start_ms), out);
}

void br_id_new_spend(char out[17], const char *scope, const char *blob,
                     size_t blob_len) {
    uint64_t h = br_fnv_str(BR_FNV_OFFSET, "new_spend");
    h = br_fnv_str(h, scope);
    br_id_hex(br_fnv(h, blob, blob_len), out);
}

void br_id_budget(char out[17], br_alert_type_t type, const char *budget,
                  int64_t key_ms, int32_t bp) {
    uint64_t h = br_fnv_str(BR_FNV_OFFSET, br_alert_type_name(type));
    h = br_fnv_str(h, budget);
    h = br_fnv_i64(h, key_ms);
    br_id_hex(br_fnv_i64(h, bp), out);
}

void br_id_burn_rate(char out[17], const char *budget, int64_t long_ms,
                     int64_t short_ms, double factor, int64_t key_ms) {
    uint64_t h = br_fnv_str(BR_FNV_OFFSET, "budget_burn_rate");
    h = br_fnv_str(h, budget);
    h = br_fnv_i64(h, long_ms);
    h = br_fnv_i64(h, short_ms);
    h = br_fnv_i64(h, (int64_t)(factor * 1000));
    br_id_hex(br_fnv_i64(h, key_ms), out);
}

void br_id_one_off(char out[17], br_alert_type_t type, const char *scope,
                   const char *detail) {
    uint64_t h = br_fnv_str(BR_FNV_OFFSET, br_alert_type_name(type));
    h = br_fnv_str(h, scope ? scope : "");
    br_id_hex(br_fnv_str(h, detail ? detail : ""), out);
}

void br_id_stale(char out[17], const char *input, int64_t since_ms) {
    uint64_t h = br_fnv_str(BR_FNV_OFFSET, "stale_input");
    h = br_fnv_str(h, input);
    br_id_hex(br_fnv_i64(h, since_ms), out);
}

/* ---- string set -------------------------------------------------------- */

bool br_strset_add(br_strset_t *ss, const char *s) {
    if (ss->cnt * 2 >= ss->cap) {
        size_t cap = ss->cap ? ss->cap * 2 : 16;
        char **keys = calloc(cap, sizeof(*keys));
        if (!keys)
            return false;
        for (size_t i = 0; i < ss->cap; i++) {
            if (!ss->keys[i])
                continue;
            size_t j = br_fnv_str(BR_FNV_OFFSET, ss->keys[i]) & (cap - 1);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = ss->keys[i];
        }
        free(ss->keys);
        ss->keys = keys;
        ss->cap = cap;
    }
    size_t j = br_fnv_str(BR_FNV_OFFSET, s) & (ss->cap - 1);
    while (ss->keys[j]) {
        if (strcmp(ss->keys[j], s) == 0)
            return false;
        j = (j + 1) & (ss->cap - 1);
    }
    ss->keys[j] = strdup(s);
    if (!ss->keys[j])
        return false;
    ss->cnt++;
    return true;
}

void br_strset_free(br_strset_t *ss) {
    for (size_t i = 0; i < ss->cap; i++)
        free(ss->keys[i]);
    free(ss->keys);
    memset(ss, 0, sizeof(*ss));
}
