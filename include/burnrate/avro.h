/*
 * Avro datums into the JSON shape the dialects read, so a field path in a
 * mapping means the same for JSON and Avro input and no dialect logic is
 * written twice: a record becomes an object of its fields, a map an object,
 * a union its branch's value, an enum its symbol; logical types
 * timestamp-millis/micros and date become RFC 3339 text and decimals exact
 * decimal text. Writer schemas are resolved against an optional reader
 * schema on the JSON (fields the reader does not know dropped, defaults
 * filled, promotions free); avro-c's own resolver cannot default a missing
 * field and double-frees trying.
 * Pure: no I/O; schemas arrive as JSON text.
 */
#ifndef BURNRATE_AVRO_H
#define BURNRATE_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "burnrate/err.h"

typedef struct br_avro_schema br_avro_schema_t;

/** @returns a parsed schema, or NULL with errstr (not JSON, not Avro). */
br_avro_schema_t *br_avro_schema_parse(const char *json, size_t len,
                                       char *errstr, size_t errstr_size);
void br_avro_schema_free(br_avro_schema_t *s);

typedef struct br_avro_reader br_avro_reader_t;

/**
 * @brief A reader of datums written with `writer`, seen through `reader`
 *        (NULL: the writer schema itself). Both borrowed; they must outlive
 *        the reader.
 * @returns a reader, or NULL with errstr (out of memory). A writer schema
 *          whose types do not fit the reader's is read with the writer's
 *          types; the dialect's decoder refuses them per message.
 */
br_avro_reader_t *br_avro_reader_new(const br_avro_schema_t *writer,
                                     const br_avro_schema_t *reader,
                                     char *errstr, size_t errstr_size);
void br_avro_reader_free(br_avro_reader_t *r);

/**
 * @brief Decode one Avro binary datum (exactly len bytes) into a new JSON
 *        value (*out, the caller decrefs).
 * @returns BR_ERR_OK, or BR_ERR_PARSE with errstr (truncated, trailing
 *          bytes, bad encoding).
 */
br_err_t br_avro_reader_decode(br_avro_reader_t *r, const void *buf,
                               size_t len, json_t **out, char *errstr,
                               size_t errstr_size);

/** The Confluent wire format: magic 0, 4-byte big-endian schema id, body. */
#define BR_AVRO_CONFLUENT_HEADER 5

/**
 * @brief Split a Confluent-framed message.
 * @returns BR_ERR_OK with *id and the body, or BR_ERR_PARSE with errstr
 *          (too short, wrong magic byte).
 */
br_err_t br_avro_confluent_split(const void *msg, size_t len, uint32_t *id,
                                 const void **body, size_t *body_len,
                                 char *errstr, size_t errstr_size);

#endif
