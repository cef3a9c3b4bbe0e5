/*
 * Avro datums into the JSON shape the dialects read, so a field path in a
 * mapping means the same for JSON and Avro input and no dialect logic is
 * written twice: a record becomes an object of its fields, a map an object,
 * a union its branch's value, an enum its symbol; logical types
 * timestamp-millis/micros and date become RFC 3339 text and decimals exact
 * decimal text. Writer schemas are resolved against an optional reader
 * schema by the Avro spec's rules (fields matched by name or reader alias,
 * unknown ones dropped, missing ones defaulted, int/long/float promoted to
 * wider numbers, string and bytes interchangeable, union branches matched,
 * enum symbols mapped); avro-c's own resolver cannot default a missing
 * field and double-frees trying, so this is done here.
 * And back: JSON values into Avro datums (alerts), and object container
 * files read record by record (replay).
 * No I/O but br_avro_file_*; schemas arrive as JSON text.
 */
#ifndef BURNRATE_AVRO_H
#define BURNRATE_AVRO_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <jansson.h>

#include "burnrate/buf.h"
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
 * @returns a reader, or NULL with errstr: BR_ERR_TYPE when the writer
 *          schema cannot be read as the reader's (a reader field the writer
 *          lacks without a default, a type that does not promote; the
 *          errstr names the field), BR_ERR_NOMEM. A writer union or enum
 *          that fits only in part is accepted; a datum in the part that
 *          does not fit is refused when decoded.
 */
br_avro_reader_t *br_avro_reader_new(const br_avro_schema_t *writer,
                                     const br_avro_schema_t *reader,
                                     char *errstr, size_t errstr_size);
void br_avro_reader_free(br_avro_reader_t *r);

/**
 * @brief Decode one Avro binary datum (exactly len bytes) into a new JSON
 *        value (*out, the caller decrefs).
 * @returns BR_ERR_OK; BR_ERR_PARSE with errstr (truncated, trailing
 *          bytes, bad encoding: every length and block count is checked
 *          against the bytes left before it is used, so a lying length
 *          allocates nothing and what a datum makes is bounded by len);
 *          BR_ERR_TYPE (a well-formed datum with a union branch or enum
 *          symbol the reader cannot take, text or a map key that is not
 *          UTF-8). The errstr names the field.
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

/** @brief Append the Confluent header of schema `id` to out. */
void br_avro_confluent_header(uint32_t id, br_buf_t *out);

typedef struct br_avro_encoder br_avro_encoder_t;

/** @returns an encoder of JSON values as datums of s (borrowed), or NULL. */
br_avro_encoder_t *br_avro_encoder_new(const br_avro_schema_t *s,
                                       char *errstr, size_t errstr_size);
void br_avro_encoder_free(br_avro_encoder_t *e);

/**
 * @brief Append `value` as one Avro binary datum to out. Records come from
 *        objects (absent fields take their defaults), maps from objects,
 *        enums from symbols, unions from the first branch the value fits,
 *        decimals from exact decimal text (or integers), timestamps and
 *        dates from RFC 3339 text or integers.
 * @returns BR_ERR_OK, or BR_ERR_TYPE with errstr naming the field.
 */
br_err_t br_avro_encode(br_avro_encoder_t *e, json_t *value, br_buf_t *out,
                        char *errstr, size_t errstr_size);

typedef struct br_avro_file br_avro_file_t;

/**
 * @brief Read an Avro object container file from an open stream, which the
 *        file then owns and closes (on failure it stays the caller's):
 *        read by burnrate itself (any codec of burnrate/codec.h), its
 *        records seen through `reader` (borrowed; NULL: the file's own
 *        schema).
 * @returns the file, or NULL with errstr (not an object container file, a
 *          header cut off or beyond 4 MiB, an unknown codec, BR_ERR_TYPE
 *          when its schema does not resolve against the reader's).
 */
br_avro_file_t *br_avro_file_fopen(FILE *fp, const br_avro_schema_t *reader,
                                   char *errstr, size_t errstr_size);

/**
 * @brief The next record as JSON (*out, the caller decrefs).
 * @returns BR_ERR_OK; BR_ERR_NOTFOUND at the end; BR_ERR_TYPE for a record
 *          the reader schema cannot take, BR_ERR_PARSE for bytes that are
 *          not a record of the file's schema (then the rest of its block,
 *          whose record boundaries are lost, in one) or that follow a
 *          block's last record: read on after either; BR_ERR_IO for a
 *          block that cannot be read (cut, corrupt compressed data, a sync
 *          marker that is not the header's, stated sizes beyond 256 MiB):
 *          the rest of the file is lost; BR_ERR_NOMEM.
 */
br_err_t br_avro_file_next(br_avro_file_t *f, json_t **out, char *errstr,
                           size_t errstr_size);

/** @brief The bytes br_avro_file_next() last read (a record, or the bytes
 *         a BR_ERR_PARSE is about), valid until the next call. */
const void *br_avro_file_raw(const br_avro_file_t *f, size_t *len);

void br_avro_file_close(br_avro_file_t *f);

#endif
