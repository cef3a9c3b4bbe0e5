/*
 * Block codecs of Avro object container files: the six of the Avro
 * specification (null, deflate, snappy, bzip2, xz, zstandard) and avro-c's
 * own "lzma" (raw LZMA2, what avro-c and its avromod tool write).
 *
 * A block is a whole compressed unit; decoding it grows the output as the
 * decompressor produces bytes, never to a size the compressed data claims,
 * and stops at a bound the caller gives, so a small hostile block cannot
 * make a large allocation. No I/O.
 */
#ifndef BURNRATE_CODEC_H
#define BURNRATE_CODEC_H

#include <stddef.h>

#include "burnrate/err.h"

typedef enum {
    BR_CODEC_NULL,
    BR_CODEC_DEFLATE,   /* raw deflate (RFC 1951), no zlib header; bytes
                           after its end are ignored, as Java does */
    BR_CODEC_SNAPPY,    /* snappy, then a big-endian CRC-32 of the output */
    BR_CODEC_BZIP2,
    BR_CODEC_XZ,        /* the .xz container */
    BR_CODEC_ZSTANDARD,
    BR_CODEC_LZMA,      /* avro-c: raw LZMA2, default preset */
    BR_CODEC__CNT
} br_codec_t;

/**
 * @brief The codec an "avro.codec" header value names (len bytes, not
 *        NUL-terminated; an absent value is "null").
 * @returns the codec, or -1 for a name this reader does not know.
 */
int br_codec_by_name(const char *name, size_t len);

/** @brief The codec's name as the header writes it. */
const char *br_codec_name(br_codec_t codec);

/** A growing output buffer, reused from block to block. */
typedef struct br_codec_buf {
    unsigned char *data; /* owned */
    size_t len, cap;
} br_codec_buf_t;

/**
 * @brief Decompress one block of in_len bytes into out (replacing what it
 *        held). BR_CODEC_NULL copies.
 * @param max  the most bytes the block may decompress to.
 * @returns BR_ERR_OK; BR_ERR_PARSE with errstr for data the codec rejects,
 *          a block cut short or followed by more bytes (but deflate), a
 *          checksum that does not match, or output beyond max; BR_ERR_NOMEM.
 */
br_err_t br_codec_decode(br_codec_t codec, const void *in, size_t in_len,
                         br_codec_buf_t *out, size_t max, char *errstr,
                         size_t errstr_size);

void br_codec_buf_free(br_codec_buf_t *b);

#endif
