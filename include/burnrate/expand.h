/*
 * ${...} references in config values, after Fluent Bit and the
 * OpenTelemetry Collector: ${VAR} and ${env:VAR} take an environment
 * variable, ${file:PATH} a file's contents (one trailing newline dropped),
 * and $$ is a literal $. PATH may itself hold ${VAR} or ${env:VAR}, so
 * ${file:${CREDENTIALS_DIRECTORY}/sasl-password} reads a systemd
 * credential. Reads the environment and files; no other state.
 */
#ifndef BURNRATE_EXPAND_H
#define BURNRATE_EXPAND_H

#include <stdbool.h>
#include <stddef.h>

#include "burnrate/err.h"

/** Largest file ${file:PATH} reads. */
#define BR_EXPAND_FILE_MAX (1u << 20)

/** Called with each value substituted for a reference (borrowed for the
 *  call), so that the caller can keep it out of every output. */
typedef void br_expand_value_cb(void *opaque, const char *value);

/**
 * @brief Expand every reference in s.
 * @param base_dir joined to a relative ${file:PATH}; NULL: the working dir.
 * @param on_value may be NULL.
 * @param out set to a new string the caller frees (only on BR_ERR_OK).
 * @param changed set to true when s held a reference or $$ (out then
 *        differs from s); may be NULL.
 * @returns BR_ERR_OK; BR_ERR_CONFIG with errstr naming the reference (never
 *          a value): an unset variable, an unreadable file, a bad name or an
 *          unterminated ${; BR_ERR_NOMEM.
 */
br_err_t br_expand(const char *s, const char *base_dir,
                   br_expand_value_cb *on_value, void *opaque, char **out,
                   bool *changed, char *errstr, size_t errstr_size);

#endif
