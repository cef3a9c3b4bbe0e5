/*
 * Decode: one message (or one CSV row) into one canonical br_record_t,
 * through a dialect preset plus the input's field mapping. Pure: no I/O, no
 * clock, no logging; a bad message is an error code and a reason string.
 */
#ifndef BURNRATE_DECODE_H
#define BURNRATE_DECODE_H

#include <stddef.h>

#include <jansson.h>

#include "burnrate/config.h"
#include "burnrate/err.h"
#include <stdbool.h>

#include "burnrate/record.h"

typedef struct br_decoder br_decoder_t;

/**
 * @brief Build the decoder for one input: preset merged with the mapping.
 *        Every dimension is alike: when a record's BR_DIM_MAX dimensions or
 *        BR_RECORD_ARENA bytes are full, later tags are left out (counted
 *        in br_record_t.dims_ignored).
 * @param in borrowed; must outlive the decoder.
 * @returns a new decoder the caller destroys, or NULL with errstr set.
 */
br_decoder_t *br_decoder_new(const br_input_conf_t *in, char *errstr,
                             size_t errstr_size);

/**
 * @brief Same, preferring the dimensions named in want (those the config's
 *        scopes, budgets and pricing look at): they are stored before any
 *        other, so a message with more tags than a record holds keeps every
 *        wanted one it carries; the others are stored while there is room
 *        and counted in br_record_t.dims_ignored when there is none.
 * @param want borrowed array of borrowed names (copied; the names must
 *        outlive the decoder); want_cnt may be 0: nothing is preferred
 *        over the mapped dimensions, tags come last.
 */
br_decoder_t *br_decoder_new_wanting(const br_input_conf_t *in,
                                     const char *const *want, size_t want_cnt,
                                     char *errstr, size_t errstr_size);
void br_decoder_destroy(br_decoder_t *dec);

/**
 * @brief Whether records of this decoder can carry dimension dim: the
 *        preset or the mapping names a field for it, or the dialect turns
 *        a tag map into dimensions (then any name but "model" may appear:
 *        the model is a field of token events). Used to know, from the
 *        config alone, which inputs can feed a series.
 */
bool br_decoder_may_set(const br_decoder_t *dec, const char *dim);

/**
 * @brief Decode one JSON message into rec (reset first; origin untouched).
 * @returns BR_ERR_OK; BR_ERR_SKIP for a valid row the config filters out
 *          (an uncounted charge category); otherwise the reason it is bad
 *          (BR_ERR_PARSE not JSON/not an object/invalid UTF-8, BR_ERR_MISSING
 *          no time or neither cost nor tokens, BR_ERR_TYPE, BR_ERR_RANGE
 *          huge/negative token counts, NaN, time out of range) with errstr
 *          naming the field.
 */
br_err_t br_decoder_decode(br_decoder_t *dec, const void *buf, size_t len,
                           br_record_t *rec, char *errstr, size_t errstr_size);

/** @brief Same, from an already parsed object (CSV rows); obj borrowed. */
br_err_t br_decoder_decode_object(br_decoder_t *dec, json_t *obj,
                                  br_record_t *rec, char *errstr,
                                  size_t errstr_size);

#endif
