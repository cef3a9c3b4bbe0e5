/*
 * The canonical cost record: whatever dialect a message arrives in, decode
 * turns it into this one shape, and everything after decode sees only this.
 */
#ifndef BURNRATE_RECORD_H
#define BURNRATE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BR_DIM_MAX 24           /* dimensions one record may carry */
#define BR_RECORD_ARENA 4096    /* bytes for a record's strings */
#define BR_CURRENCY_MAX 8       /* ISO 4217 code plus NUL, with room */

typedef enum {
    BR_KIND_TOKENS,   /* an LLM call's token usage (maybe with its cost) */
    BR_KIND_BILLING,  /* a cloud billing line item (FOCUS, CUR) */
} br_kind_t;

typedef enum {
    BR_TOK_INPUT,        /* prompt tokens not served from cache */
    BR_TOK_OUTPUT,       /* completion tokens, reasoning excluded */
    BR_TOK_CACHE_READ,   /* prompt tokens served from the cache */
    BR_TOK_CACHE_WRITE,  /* prompt tokens written to the cache */
    BR_TOK_REASONING,    /* reasoning/thinking output tokens */
    BR_TOK__CNT
} br_tok_t;

/** Where a record came from; copied into alerts and dead letters. */
typedef struct br_origin {
    int input;              /* index into br_config_t.inputs */
    const char *topic;      /* borrowed: Kafka topic or file path */
    int32_t partition;      /* Kafka partition, 0 for files */
    int64_t offset;         /* Kafka offset, or line/row number in a file */
    int64_t timestamp_ms;   /* the Kafka record's timestamp (CreateTime or
                               LogAppendTime), ms since the epoch; 0 or less:
                               none (files; a zero-initialised origin; a
                               broker that keeps none reports -1) */
} br_origin_t;

/** The mapping.time value naming origin.timestamp_ms instead of a field of
 *  the payload ('$' starts no JSON path burnrate resolves). */
#define BR_KAFKA_TIMESTAMP "$kafka.timestamp"

typedef struct br_dim {
    const char *key;        /* dimension name, e.g. "team", "model" */
    const char *value;      /* non-empty value */
} br_dim_t;

/**
 * One record. Strings point into arena (or are static), so a record owns
 * everything it refers to except origin.topic; it is reused message after
 * message without allocation (br_record_reset()).
 */
typedef struct br_record {
    br_kind_t kind;
    int64_t event_ms;             /* event time: usage time, ChargePeriodStart */
    int64_t cost_nanos;           /* valid when has_cost; may be negative;
                                     within +/-BR_MONEY_RECORD_MAX_NANOS */
    bool has_cost;                /* false: price from tokens */
    bool priced;                  /* set by pricing: cost came from tokens */
    char currency[BR_CURRENCY_MAX]; /* "" when the message names none */
    int64_t tokens[BR_TOK__CNT];  /* token counts, >= 0 */
    const char *id;               /* dedup id or NULL */
    size_t dim_cnt;
    br_dim_t dims[BR_DIM_MAX];    /* "model" and "provider" live here too */
    size_t dims_ignored;          /* dimensions the message carried that
                                     were not stored: dims or arena full
                                     (decode stores the wanted ones first) */
    br_origin_t origin;
    size_t arena_used;            /* bytes */
    char arena[BR_RECORD_ARENA];
} br_record_t;

/** Clear a record for reuse (does not touch the arena contents). */
void br_record_reset(br_record_t *rec);

/**
 * @brief Copy len bytes of s into the record's arena, NUL-terminated.
 * @returns the copy, or NULL when the arena is full.
 */
const char *br_record_strdup(br_record_t *rec, const char *s, size_t len);

/**
 * @brief Set dimension key to value (both copied into the arena; replaces an
 *        existing value for the same key). Empty values are ignored.
 * @returns true, or false when the arena or the dims array is full.
 */
bool br_record_set_dim(br_record_t *rec, const char *key, const char *value,
                       size_t value_len);

/** @returns the value of dimension key, or NULL; borrowed from rec. */
const char *br_record_dim(const br_record_t *rec, const char *key);

/** @returns "input", "output", "cache_read", "cache_write", "reasoning". */
const char *br_tok_name(br_tok_t tok);

#endif
