/*
 * The snapshot encoding: explicit little-endian bytes, never a struct dump,
 * so a file written on one machine reads on another and on the next version.
 */
#include <stdlib.h>
#include <string.h>

#include "burnrate/wire.h"

void br_wr_u8(br_buf_t *b, uint8_t v) {
    br_buf_append(b, &v, 1);
}

void br_wr_u32le(br_buf_t *b, uint32_t v) {
    unsigned char x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    br_buf_append(b, x, 4);
}

void br_wr_u64le(br_buf_t *b, uint64_t v) {
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    br_buf_append(b, x, 8);
}

void br_wr_uvar(br_buf_t *b, uint64_t v) {
    unsigned char x[10];
    size_t n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        x[n++] = c | (v ? 0x80 : 0);
    } while (v);
    br_buf_append(b, x, n);
}

void br_wr_ivar(br_buf_t *b, int64_t v) {
    br_wr_uvar(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void br_wr_money(br_buf_t *b, br_money_t v) {
    __extension__ typedef unsigned __int128 u128;
    u128 u = ((u128)v << 1) ^ (u128)(v >> 127);
    unsigned char x[19];
    size_t n = 0;
    do {
        unsigned char c = (unsigned char)(u & 0x7f);
        u >>= 7;
        x[n++] = c | (u ? 0x80 : 0);
    } while (u);
    br_buf_append(b, x, n);
}

void br_wr_f64(br_buf_t *b, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    br_wr_u64le(b, u);
}

void br_wr_f32(br_buf_t *b, float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    br_wr_u32le(b, u);
}

void br_wr_bytes(br_buf_t *b, const void *s, size_t len) {
    br_wr_uvar(b, len);
    br_buf_append(b, s, len);
}

void br_wr_str(br_buf_t *b, const char *s) {
    br_wr_bytes(b, s, strlen(s));
}

void br_rd_init(br_rd_t *r, const void *data, size_t len) {
    r->p = data;
    r->end = r->p + len;
    r->err = NULL;
}

void br_rd_fail(br_rd_t *r, const char *why) {
    if (!r->err)
        r->err = why;
    r->p = r->end;
}

size_t br_rd_left(const br_rd_t *r) {
    return (size_t)(r->end - r->p);
}

static const unsigned char *take(br_rd_t *r, size_t n) {
    if (r->err || br_rd_left(r) < n) {
        br_rd_fail(r, "truncated");
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    return p;
}

uint8_t br_rd_u8(br_rd_t *r) {
    const unsigned char *p = take(r, 1);
    return p ? p[0] : 0;
}

uint32_t br_rd_u32le(br_rd_t *r) {
    const unsigned char *p = take(r, 4);
    uint32_t v = 0;
    for (int i = 0; p && i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

uint64_t br_rd_u64le(br_rd_t *r) {
    const unsigned char *p = take(r, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint64_t br_rd_uvar(br_rd_t *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        const unsigned char *p = take(r, 1);
        if (!p)
            return 0;
        if (shift == 63 && (*p & 0x7e)) {
            br_rd_fail(r, "varint overflows 64 bits");
            return 0;
        }
        v |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80))
            return v;
    }
    br_rd_fail(r, "varint longer than 10 bytes");
    return 0;
}

int64_t br_rd_ivar(br_rd_t *r) {
    uint64_t u = br_rd_uvar(r);
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

br_money_t br_rd_money(br_rd_t *r) {
    __extension__ typedef unsigned __int128 u128;
    u128 u = 0;
    for (int shift = 0; shift < 128; shift += 7) {
        const unsigned char *p = take(r, 1);
        if (!p)
            return 0;
        if (shift == 126 && (*p & 0x7c)) {
            br_rd_fail(r, "varint overflows 128 bits");
            return 0;
        }
        u |= (u128)(*p & 0x7f) << shift;
        if (!(*p & 0x80))
            return (br_money_t)((u >> 1) ^ (~(u & 1) + 1));
    }
    br_rd_fail(r, "varint longer than 19 bytes");
    return 0;
}

uint64_t br_rd_count(br_rd_t *r, uint64_t max) {
    uint64_t n = br_rd_uvar(r);
    if (n > max) {
        br_rd_fail(r, "count out of range");
        return 0;
    }
    return n;
}

double br_rd_f64(br_rd_t *r) {
    uint64_t u = br_rd_u64le(r);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

float br_rd_f32(br_rd_t *r) {
    uint32_t u = br_rd_u32le(r);
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

bool br_rd_bool(br_rd_t *r) {
    uint8_t v = br_rd_u8(r);
    if (v > 1)
        br_rd_fail(r, "bad boolean");
    return v == 1;
}

const void *br_rd_bytes(br_rd_t *r, size_t *len) {
    uint64_t n = br_rd_uvar(r);
    *len = 0;
    if (r->err)
        return NULL;
    if (n > br_rd_left(r)) {
        br_rd_fail(r, "truncated");
        return NULL;
    }
    *len = (size_t)n;
    return take(r, (size_t)n);
}

char *br_rd_strdup(br_rd_t *r) {
    size_t len;
    const char *s = br_rd_bytes(r, &len);
    if (!s)
        return NULL;
    if (memchr(s, '\0', len)) {
        br_rd_fail(r, "NUL inside a string");
        return NULL;
    }
    char *d = malloc(len + 1);
    if (!d) {
        br_rd_fail(r, "out of memory");
        return NULL;
    }
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                              crc_table[0][crc_table[t - 1][i] & 0xff];
    crc_ready = 1;
}

uint32_t br_crc32c(uint32_t crc, const void *data, size_t len) {
    const unsigned char *p = data;
    if (!crc_ready)
        crc_init();
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
              crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
              crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
              crc_table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}
