/*
 * Reloading the configuration of a running stage (SIGHUP) without losing
 * its state: a pure check of what changed and whether it can change live,
 * and the move of the state into a pipeline built from the new config. The
 * daemon reads the file, swaps, and logs; nothing here does I/O.
 */
#ifndef BURNRATE_RELOAD_H
#define BURNRATE_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "burnrate/config.h"
#include "burnrate/err.h"
#include "burnrate/pipeline.h"

/**
 * @brief Can the running stage move from old to conf without a restart?
 *        What needs one is what the running Kafka clients, the state
 *        directory or the state's meaning depend on: the keys the property
 *        table marks BR_CONF_RESTART (burnrate/conftab.h; the README's
 *        "Reloading the configuration" lists them), and the inputs that
 *        have topics (added, removed, or with other topics or format).
 *        Everything else applies live.
 * @param old, conf borrowed for the call.
 * @returns BR_ERR_OK; BR_ERR_CONFIG with errstr naming each key that needs
 *          a restart, "FILE:LINE: KEY: changed; ..." (lines of conf; never
 *          a value, so secrets stay out of logs).
 */
br_err_t br_reload_check(const br_config_t *old, const br_config_t *conf,
                         char *errstr, size_t errstr_size);

/** What a reload kept, added and dropped. */
typedef struct br_reload_info {
    br_restore_info_t restore;   /* series kept; scopes, series, budgets and
                                    inputs the new config dropped */
    uint64_t scopes_added;       /* new names, or same name with other dims */
    uint64_t scopes_removed;     /* names gone */
    uint64_t budgets_added;      /* new names */
    uint64_t budgets_removed;    /* names gone */
    uint64_t budgets_changed;    /* same name, other settings (those with
                                    another period or time zone restart) */
} br_reload_info_t;

/** @brief Count the scopes and budgets added, removed and changed from old
 *         to conf (the config half of br_reload_info_t). */
void br_reload_diff(const br_config_t *old, const br_config_t *conf,
                    br_reload_info_t *info);

/**
 * @brief Build a pipeline from conf holding the state of pl: saved with
 *        br_pipeline_save() and restored by name (series of unchanged
 *        scopes keep their buckets, baselines, totals and open incidents;
 *        new scopes start empty; removed ones are dropped; budgets whose
 *        period changed restart).
 * @param pl borrowed, left as it was (the caller destroys it after a swap,
 *        or keeps running on it after a failure).
 * @param conf borrowed; must outlive the new pipeline.
 * @param sink copied into the new pipeline.
 * @param info filled on success (restore counts and br_reload_diff()).
 * @returns a new pipeline the caller owns, or NULL with errstr set (the
 *          config cannot build a pipeline, or the state does not fit it).
 */
br_pipeline_t *br_reload_pipeline(const br_pipeline_t *pl,
                                  const br_config_t *old,
                                  const br_config_t *conf,
                                  const br_sink_t *sink,
                                  br_reload_info_t *info, char *errstr,
                                  size_t errstr_size);

#endif
