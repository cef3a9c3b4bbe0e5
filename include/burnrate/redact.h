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

#endif
