/*
 * Writer schemas of avro-confluent inputs by id, for the pipeline's
 * br_schema_fetch_fn: a directory of <id>.avsc files (air-gapped sites)
 * and/or a Confluent Schema Registry (GET /schemas/ids/{id}, libcurl, with
 * optional basic auth and CA file). The daemon and replay wire it in; the
 * pipeline caches what it returns. And the alert schema's registration.
 */
#ifndef BURNRATE_SCHEMASRC_H
#define BURNRATE_SCHEMASRC_H

#include <stdint.h>

#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/err.h"

/** HTTP timeouts of one registry lookup. */
#define BR_SCHEMASRC_CONNECT_MS 2000
#define BR_SCHEMASRC_TOTAL_MS 5000

/**
 * @brief Look up schema `id` of input `in`: schema_dir/<id>.avsc first, then
 *        the registry. Matches br_schema_fetch_fn (opaque unused).
 * @returns BR_ERR_OK with the schema's JSON text in out; BR_ERR_NOTFOUND
 *          (no such file and no registry, or HTTP 404); BR_ERR_IO (registry
 *          unreachable, slow, 5xx or refusing the credentials: retry later).
 */
br_err_t br_schemasrc_fetch(void *opaque, const br_input_conf_t *in,
                            uint32_t id, br_buf_t *out, char *errstr,
                            size_t errstr_size);

/**
 * Lookups off the pipeline thread, for `run`: a registry that hangs must
 * not stall the partitions whose schemas are already known. One worker
 * thread does the lookups br_schemasrc_fetch() would do.
 */
typedef struct br_schemasrc_async br_schemasrc_async_t;

/** How long a new lookup is waited for before the caller is told to retry
 *  later (a healthy registry answers well within it). */
#define BR_SCHEMASRC_WAIT_MS 200

/** @returns the worker, or NULL with errstr (no thread). */
br_schemasrc_async_t *br_schemasrc_async_new(char *errstr, size_t errstr_size);

/** @brief Stop the worker, waiting out a lookup in flight (at most
 *         BR_SCHEMASRC_TOTAL_MS), and free everything. */
void br_schemasrc_async_free(br_schemasrc_async_t *a);

/**
 * @brief br_schema_fetch_fn over the worker (opaque: the worker). A lookup
 *        already answered returns its answer (once: the pipeline caches
 *        it); one in flight returns BR_ERR_IO at once; otherwise (none yet,
 *        or the last one got no answer) one is queued and waited for up to
 *        BR_SCHEMASRC_WAIT_MS, else BR_ERR_IO (the caller retries later and
 *        finds the answer). Each retry asks the source at most once.
 */
br_err_t br_schemasrc_async_fetch(void *opaque, const br_input_conf_t *in,
                                  uint32_t id, br_buf_t *out, char *errstr,
                                  size_t errstr_size);

/**
 * @brief Register the schema `schema_json` under `subject` (POST
 *        /subjects/{subject}/versions): the registry answers the id it has
 *        or gives it, so registering again is harmless.
 * @returns BR_ERR_OK with *id; BR_ERR_IO (no answer, 5xx: retry later);
 *          BR_ERR_CONFIG (refused: credentials, incompatible with the
 *          subject's earlier versions, not a valid schema).
 */
br_err_t br_schemasrc_register(const br_avro_conf_t *a, const char *subject,
                               const char *schema_json, uint32_t *id,
                               char *errstr, size_t errstr_size);

#endif
