/*
 * Where alerts and dead letters leave: a list of outputs, each a struct of
 * callbacks and an opaque pointer (Kafka topics, readable lines, JSON lines
 * in a file). `run` and `replay` build their list from the config and the
 * command line; another destination is one more entry.
 *
 * @locality the calling thread; an output's I/O is its own.
 */
#ifndef BURNRATE_OUTPUTS_H
#define BURNRATE_OUTPUTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "burnrate/alert.h"
#include "burnrate/buf.h"
#include "burnrate/err.h"
#include "burnrate/record.h"

/** One dead letter as every output sees it; all borrowed for the call. */
typedef struct br_dead_letter {
    const br_origin_t *origin;
    const char *input;        /* the input's name, "" when unknown */
    const void *key;          /* the Kafka message key, or NULL */
    size_t key_len;
    const void *payload;
    size_t len;
    br_err_t reason;
    const char *detail;       /* a human sentence, or NULL */
} br_dead_letter_t;

/** One destination. A NULL callback: it takes nothing of that kind. */
typedef struct br_output {
    const char *name;         /* for error lines: "kafka", "lines", "file" */
    /** alert borrowed; input_names as br_pipeline_input_names();
     *  emitted_ms the wall clock; scratch a buffer to reuse (any content).
     *  @returns BR_ERR_OK, or an error with errstr (the message is lost). */
    br_err_t (*alert)(void *opaque, const br_alert_t *alert,
                      const char **input_names, int64_t emitted_ms,
                      br_buf_t *scratch, char *errstr, size_t errstr_size);
    br_err_t (*dead_letter)(void *opaque, const br_dead_letter_t *dl,
                            br_buf_t *scratch, char *errstr,
                            size_t errstr_size);
    void *opaque;             /* borrowed: the output owns nothing here */
} br_output_t;

#define BR_OUTPUTS_MAX 8

/** What an output refused: alert is NULL for a dead letter. */
typedef void (br_outputs_error_cb)(void *opaque, const br_output_t *out,
                                   const br_alert_t *alert, const char *why);

/** The list; fan-out in the order of br_outputs_add(). */
typedef struct br_outputs {
    br_output_t v[BR_OUTPUTS_MAX];
    size_t cnt;
    br_buf_t scratch;
    br_outputs_error_cb *on_error;  /* or NULL: errors are dropped */
    void *err_opaque;
} br_outputs_t;

void br_outputs_init(br_outputs_t *l, br_outputs_error_cb *on_error,
                     void *err_opaque);
void br_outputs_free(br_outputs_t *l);

/** @returns BR_ERR_OK, or BR_ERR_LIMIT when the list is full. */
br_err_t br_outputs_add(br_outputs_t *l, const br_output_t *out);

/** @brief Hand alert (borrowed) to every output that takes alerts. */
void br_outputs_alert(br_outputs_t *l, const br_alert_t *alert,
                      const char **input_names, int64_t emitted_ms);

/** @brief Hand dl (borrowed) to every output that takes dead letters. */
void br_outputs_dead_letter(br_outputs_t *l, const br_dead_letter_t *dl);

/** @returns an output printing each alert as br_alert_format_line() to fp
 *           (borrowed), flushed at once; it takes no dead letters. */
br_output_t br_output_lines(FILE *fp);

/** @returns an output writing each alert as one JSON line
 *           (br_alert_to_json()) to fp (borrowed; not flushed). */
br_output_t br_output_alert_file(FILE *fp);

/** @returns an output writing each dead letter as one JSON line to fp
 *           (borrowed; not flushed): reason, detail, input, topic,
 *           partition, offset, key (when there is one), payload. Key and
 *           payload are JSON strings: control bytes escaped, invalid UTF-8
 *           replaced by U+FFFD. */
br_output_t br_output_dead_letter_file(FILE *fp);

#endif
