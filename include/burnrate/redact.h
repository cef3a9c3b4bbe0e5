/*
 * What counts as a secret, in one place for every printer: config keys
 * and librdkafka properties by name, and the user:password part of URLs.
 * Pure string functions; the config dump and the log use them alike.
 */
#ifndef BURNRATE_REDACT_H
#define BURNRATE_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/** The text printed in place of a secret. */
#define BR_REDACTED "[redacted]"

/** @returns true when key names a secret: it contains password, secret,
 *           token, key, credential or jaas, or is sasl.oauthbearer.config
 *           (any case). */
bool br_redact_is_secret(const char *key);

/**
 * @brief Copy s into buf with the user-info of every URL in it
 *        ("scheme://user:password@host") replaced by "[redacted]".
 * @returns buf (always NUL-terminated, cut to size).
 */
const char *br_redact_urls(char *buf, size_t size, const char *s);

/** @returns true when s holds a URL with a user-info part. */
bool br_redact_has_userinfo(const char *s);

/** Values shorter than this are not looked for inside other text. */
#define BR_REDACT_VALUE_MIN 4

/**
 * @brief Remember values that must never be printed (each a ${...} of the
 *        config stood for), for br_redact_values(). Copies them; adds to
 *        what was remembered before, for the life of the process (a reload
 *        keeps the clients of the config it started with).
 * @locality any thread.
 */
void br_redact_add_values(const char *const *values, size_t cnt);

/**
 * @brief Copy s into buf with every remembered value of
 *        BR_REDACT_VALUE_MIN bytes or more replaced by "[redacted]".
 * @returns buf (always NUL-terminated, cut to size).
 * @locality any thread.
 */
const char *br_redact_values(char *buf, size_t size, const char *s);

#endif
