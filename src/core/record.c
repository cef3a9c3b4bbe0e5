/*
 * The canonical record's helpers: strings live in the record's own arena so
 * a record can be reused message after message without allocating.
 */
#include <string.h>

#include "burnrate/record.h"

/* Leaves origin alone: the caller sets it before decode resets the rest. */
void br_record_reset(br_record_t *rec) {
    rec->kind = BR_KIND_TOKENS;
    rec->event_ms = 0;
    rec->cost_nanos = 0;
    rec->has_cost = false;
    rec->priced = false;
    rec->currency[0] = '\0';
    for (int t = 0; t < BR_TOK__CNT; t++) rec->tokens[t] = 0;
    rec->id = NULL;
    rec->dim_cnt = 0;
    rec->dims_ignored = 0;
    rec->arena_used = 0;
}

const char *br_record_strdup(br_record_t *rec, const char *s, size_t len) {
    if (len >= BR_RECORD_ARENA - rec->arena_used) return NULL;
    char *dst = rec->arena + rec->arena_used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    rec->arena_used += len + 1;
    return dst;
}

bool br_record_set_dim(br_record_t *rec, const char *key, const char *value,
                       size_t value_len) {
    if (value_len == 0) return true;
    for (size_t i = 0; i < rec->dim_cnt; i++) {
        if (strcmp(rec->dims[i].key, key) == 0) {
            const char *v = br_record_strdup(rec, value, value_len);
            if (!v) return false;
            rec->dims[i].value = v;
            return true;
        }
    }
    if (rec->dim_cnt >= BR_DIM_MAX) return false;
    size_t mark = rec->arena_used;
    const char *k = br_record_strdup(rec, key, strlen(key));
    const char *v = k ? br_record_strdup(rec, value, value_len) : NULL;
    if (!v) {
        rec->arena_used = mark;
        return false;
    }
    rec->dims[rec->dim_cnt].key = k;
    rec->dims[rec->dim_cnt].value = v;
    rec->dim_cnt++;
    return true;
}

const char *br_record_dim(const br_record_t *rec, const char *key) {
    for (size_t i = 0; i < rec->dim_cnt; i++) {
        if (strcmp(rec->dims[i].key, key) == 0) return rec->dims[i].value;
    }
    return NULL;
}

const char *br_tok_name(br_tok_t tok) {
    static const char *const names[BR_TOK__CNT] = {
        "input", "output", "cache_read", "cache_write", "reasoning",
    };
    return (unsigned)tok < BR_TOK__CNT ? names[tok] : "unknown";
}
