/*
 * Formats: the one place where an input's payloads become records, for
 * `run` (Kafka messages, through br_pipeline_feed*) and `replay` (files).
 * A br_format_state_t is one input's format state, made from its
 * br_input_conf_t: the dialect decoder (decode.h) that turns JSON and CSV
 * rows into a br_record_t, and for Avro inputs the Avro readers: the
 * configured schema's (format avro), or one per writer schema id
 * (avro-confluent), fetched on first use through a br_schema_fetch_fn and
 * remembered, failures too. A schema source that cannot answer now
 * (BR_ERR_IO) is not remembered: the message is held, the caller feeds it
 * again and the fetch is tried again.
 *
 * Files (br_format_file_*) are read message by message in the input's
 * format: JSON lines, CSV rows (csv.h), Avro object container file
 * records (avro.h); each comes with its place in the file and the bytes a
 * dead letter carries.
 *
 * Ownership: a format owns its decoder, schemas, readers and the fetched
 * schema text; the input config is borrowed and must outlive it. A file
 * owns its stream and the message it last returned.
 *
 * Pure but for the fetch callback: br_format_decode*() read no clock, do no
 * I/O and no logging of their own; only br_format_file_*() read files.
 *
 * @locality one thread per format (and per file).
 */
#ifndef BURNRATE_FORMAT_H
#define BURNRATE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/decode.h"
#include "burnrate/err.h"
#include "burnrate/record.h"

/**
 * Fetches the writer schema with Confluent id `id` for an avro-confluent
 * input (a directory of <id>.avsc files or a Schema Registry): the JSON
 * text into out.
 * @returns BR_ERR_OK; BR_ERR_NOTFOUND for an id that does not exist (the
 *          message is dead-lettered); BR_ERR_IO when the source cannot
 *          answer now (the message is not consumed: the caller retries it).
 */
typedef br_err_t (*br_schema_fetch_fn)(void *opaque, const br_input_conf_t *in,
                                       uint32_t id, br_buf_t *out, char *errstr,
                                       size_t errstr_size);

typedef struct br_format_state br_format_state_t;

/**
 * @brief The format state of input `in` (borrowed; must outlive it): its
 *        decoder, preferring the dimensions in want (br_decoder_new_wanting)
 *        and, with an avro.schema, that schema and (format avro) its reader.
 * @returns a new format the caller destroys, or NULL with errstr
 *          "inputs.NAME: reason" or "inputs.NAME.avro.schema: reason".
 */
br_format_state_t *br_format_new(const br_input_conf_t *in,
                                 const char *const *want, size_t want_cnt,
                                 char *errstr, size_t errstr_size);
void br_format_destroy(br_format_state_t *f);

/** @brief Where an avro-confluent input gets writer schemas; without one,
 *         its messages are refused (BR_ERR_NOTFOUND). */
void br_format_set_schema_fetch(br_format_state_t *f, br_schema_fetch_fn fn,
                                void *opaque);

/** @returns the input's decoder (for br_decoder_may_set()); owned by f. */
br_decoder_t *br_format_decoder(const br_format_state_t *f);

/**
 * @brief Decode one message of the input into rec (rec->origin is left as
 *        the caller set it: the decoder may read its Kafka timestamp):
 *        JSON as it is; Avro as a datum of the configured schema, or
 *        Confluent-framed, read with the reader of its schema id.
 * @returns BR_ERR_OK; BR_ERR_SKIP for a row the config filters out;
 *          BR_ERR_IO when a writer schema could not be fetched now (nothing
 *          is remembered: feed the message again later); otherwise why the
 *          message is bad (a dead letter's reason), errstr its detail.
 */
br_err_t br_format_decode(br_format_state_t *f, const void *payload, size_t len,
                          br_record_t *rec, char *errstr, size_t errstr_size);

/** @brief Same, for a message a file reader already parsed (a CSV row, an
 *         Avro record: br_format_msg_t.obj, borrowed). */
br_err_t br_format_decode_object(br_format_state_t *f, json_t *obj,
                                 br_record_t *rec, char *errstr,
                                 size_t errstr_size);

typedef struct br_format_file br_format_file_t;

/**
 * @brief Open path to read the input's messages from: JSON lines, a CSV
 *        export (its header read here) or an Avro object container file
 *        (seen through the input's avro.schema when it has one).
 * @param max_bytes the longest message kept (a longer JSON line is
 *        refused; a longer CSV row or Avro record is cut for its dead
 *        letter); at least 1.
 * @returns BR_ERR_OK with *out; else BR_ERR_IO (cannot open) or
 *          BR_ERR_PARSE (not the format), errstr "PATH: reason".
 */
br_err_t br_format_file_open(const br_format_state_t *f, const char *path,
                             size_t max_bytes, br_format_file_t **out,
                             char *errstr, size_t errstr_size);

/** One message of a file, valid until the next call on its file. */
typedef struct br_format_msg {
    int64_t offset;  /* 1-based line, row or record number */
    const void *raw; /* the message as the file holds it (an Avro
                        record: its JSON, or the bytes that could not be
                        read), at most max_bytes: a dead letter's
                        payload */
    size_t raw_len;
    json_t *obj;     /* already parsed (CSV row, Avro record): decode it
                        with br_format_decode_object(); NULL: decode raw
                        with br_format_decode(); owned by the file */
    br_err_t reject; /* BR_ERR_OK, or why the reader could not take it:
                        a dead letter of reason reject, detail why */
    const char *why;
} br_format_msg_t;

/**
 * @brief The file's next message (blank JSON lines are passed over).
 * @returns BR_ERR_OK with msg; BR_ERR_NOTFOUND at the end of the file;
 *          otherwise the rest of the file cannot be read, errstr "PATH:
 *          place: reason".
 */
br_err_t br_format_file_next(br_format_file_t *ff, br_format_msg_t *msg,
                             char *errstr, size_t errstr_size);
void br_format_file_close(br_format_file_t *ff);

#endif
