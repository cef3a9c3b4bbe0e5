/* Growable byte buffer and a JSON writer's primitives, so alert bytes are
 * fully determined by the alert (jansson would format money as doubles). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/buf.h"
#include "burnrate/money.h"

void br_buf_init(br_buf_t *b) {
    memset(b, 0, sizeof(*b));
}

void br_buf_free(br_buf_t *b) {
    free(b->data);
    br_buf_init(b);
}

void br_buf_reset(br_buf_t *b) {
    b->len = 0;
    b->oom = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int reserve(br_buf_t *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

void br_buf_append(br_buf_t *b, const void *p, size_t n) {
    if (!reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void br_buf_puts(br_buf_t *b, const char *s) {
    br_buf_append(b, s, strlen(s));
}

void br_buf_printf(br_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        br_buf_append(b, tmp, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    if ((c & 0xe0) == 0xc0) { n = 2; min = 0x80; c &= 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 3; min = 0x800; c &= 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 4; min = 0x10000; c &= 0x07; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return n;
}

void br_buf_json_str(br_buf_t *b, const char *s) {
    br_buf_append(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            br_buf_append(b, esc, 2);
            p++;
        } else if (c < 0x20) {
            br_buf_printf(b, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            br_buf_append(b, p, 1);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                br_buf_puts(b, "\xef\xbf\xbd");
                p++;
            } else {
                br_buf_append(b, p, n);
                p += n;
            }
        }
    }
    br_buf_append(b, "\"", 1);
}

void br_buf_money(br_buf_t *b, br_money_t nanos) {
    char tmp[BR_MONEY_STR_MAX];
    size_t n = br_money_format(nanos, tmp, sizeof(tmp));
    br_buf_append(b, tmp, n);
}
