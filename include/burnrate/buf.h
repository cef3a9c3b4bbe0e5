/*
 * A growable byte buffer with JSON string escaping, for building alert
 * messages byte-for-byte deterministically without a JSON library.
 */
#ifndef BURNRATE_BUF_H
#define BURNRATE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "burnrate/money.h"

typedef struct br_buf {
    char *data;      /* NUL-terminated when len > 0; owned */
    size_t len;      /* bytes used, without the NUL */
    size_t cap;      /* bytes allocated */
    int oom;         /* an append failed; contents are truncated */
} br_buf_t;

void br_buf_init(br_buf_t *b);
void br_buf_free(br_buf_t *b);
void br_buf_reset(br_buf_t *b);
void br_buf_append(br_buf_t *b, const void *p, size_t n);
void br_buf_puts(br_buf_t *b, const char *s);
void br_buf_printf(br_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Append s as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
void br_buf_json_str(br_buf_t *b, const char *s);
/** Append an exact decimal amount (see br_money_format()) as a JSON number. */
void br_buf_money(br_buf_t *b, br_money_t nanos);

#endif
