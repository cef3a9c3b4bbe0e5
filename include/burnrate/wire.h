/*
 * A small binary encoding for snapshots: little-endian fixed-width integers,
 * LEB128 varints (zigzag for signed), doubles by their bit pattern (so a
 * restored baseline is the same double, bit for bit), length-prefixed
 * strings, and CRC-32C. The reader checks every bound and keeps a sticky
 * error, so a truncated or corrupted input can never read out of bounds.
 */
#ifndef BURNRATE_WIRE_H
#define BURNRATE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/buf.h"

/* Writing appends to a br_buf_t; its oom flag reports a failed append. */
void br_wr_u8(br_buf_t *b, uint8_t v);
void br_wr_u32le(br_buf_t *b, uint32_t v);
void br_wr_u64le(br_buf_t *b, uint64_t v);
void br_wr_uvar(br_buf_t *b, uint64_t v);
void br_wr_ivar(br_buf_t *b, int64_t v);
/** Money as a zigzag LEB128 varint of 128 bits (up to 19 bytes): a value
 *  within int64 has exactly the bytes br_wr_ivar() writes for it. */
void br_wr_money(br_buf_t *b, br_money_t v);
void br_wr_f64(br_buf_t *b, double v);
void br_wr_f32(br_buf_t *b, float v);
/** Length (varint) then the bytes; s may hold NULs. */
void br_wr_bytes(br_buf_t *b, const void *s, size_t len);
void br_wr_str(br_buf_t *b, const char *s);

/** A bounded reader over borrowed bytes. Once a read fails, err is set and
 *  every later read returns 0 / NULL. */
typedef struct br_rd {
    const unsigned char *p;
    const unsigned char *end;
    const char *err;           /* static text of the first failure, or NULL */
} br_rd_t;

void br_rd_init(br_rd_t *r, const void *data, size_t len);
uint8_t br_rd_u8(br_rd_t *r);
uint32_t br_rd_u32le(br_rd_t *r);
uint64_t br_rd_u64le(br_rd_t *r);
uint64_t br_rd_uvar(br_rd_t *r);
int64_t br_rd_ivar(br_rd_t *r);
br_money_t br_rd_money(br_rd_t *r);
/** A varint that must be <= max (a count about to size an allocation). */
uint64_t br_rd_count(br_rd_t *r, uint64_t max);
double br_rd_f64(br_rd_t *r);
float br_rd_f32(br_rd_t *r);
bool br_rd_bool(br_rd_t *r);
/** @returns a pointer into the input and its length via len. */
const void *br_rd_bytes(br_rd_t *r, size_t *len);
/** @returns a malloc'd NUL-terminated copy (NULL on error or when the bytes
 *  hold a NUL); the caller frees it. */
char *br_rd_strdup(br_rd_t *r);
size_t br_rd_left(const br_rd_t *r);
void br_rd_fail(br_rd_t *r, const char *why);

/** CRC-32C (Castagnoli) of data, continuing from crc (start with 0). */
uint32_t br_crc32c(uint32_t crc, const void *data, size_t len);

#endif
