/*
 * Block codecs of Avro container files (burnrate/codec.h): each decodes
 * what the codec's own library compressed; a block that decompresses
 * beyond the bound, is cut short, is not the codec's data or fails its
 * checksum is refused with a reason; a snappy preamble that claims more
 * than the block can hold allocates nothing (ASan would see a 2 GiB ask).
 */
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lzma.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "brtest.h"
#include "burnrate/codec.h"

#define PLAIN_LEN (300u << 10)

static unsigned char plain[PLAIN_LEN];

/* Compressible, not trivial: repeated text with a counter. */
static void fill(void) {
    for (size_t i = 0; i < PLAIN_LEN; i++)
        plain[i] = (unsigned char)("burnrate-"[i % 9] + (i / 4096) % 7);
}

static size_t deflate_raw(unsigned char *out, size_t cap) {
    z_stream s = {0};
    CHECK(deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    s.next_in = plain;
    s.avail_in = PLAIN_LEN;
    s.next_out = out;
    s.avail_out = (unsigned)cap;
    CHECK(deflate(&s, Z_FINISH) == Z_STREAM_END);
    size_t n = s.total_out;
    deflateEnd(&s);
    return n;
}

static size_t compress_with(br_codec_t c, unsigned char *out, size_t cap) {
    size_t n = cap;
    switch (c) {
    case BR_CODEC_NULL:
        memcpy(out, plain, PLAIN_LEN);
        return PLAIN_LEN;
    case BR_CODEC_DEFLATE:
        return deflate_raw(out, cap);
    case BR_CODEC_SNAPPY: {
        CHECK(snappy_compress((const char *)plain, PLAIN_LEN, (char *)out,
                              &n) == SNAPPY_OK);
        uint32_t crc = (uint32_t)crc32(0, plain, PLAIN_LEN);
        out[n] = (unsigned char)(crc >> 24);
        out[n + 1] = (unsigned char)(crc >> 16);
        out[n + 2] = (unsigned char)(crc >> 8);
        out[n + 3] = (unsigned char)crc;
        return n + 4;
    }
    case BR_CODEC_BZIP2: {
        unsigned len = (unsigned)cap;
        CHECK(BZ2_bzBuffToBuffCompress((char *)out, &len, (char *)plain,
                                       PLAIN_LEN, 9, 0, 0) == BZ_OK);
        return len;
    }
    case BR_CODEC_XZ: {
        size_t pos = 0;
        CHECK(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, plain,
                                      PLAIN_LEN, out, &pos, cap) == LZMA_OK);
        return pos;
    }
    case BR_CODEC_ZSTANDARD:
        n = ZSTD_compress(out, cap, plain, PLAIN_LEN, 3);
        CHECK(!ZSTD_isError(n));
        return n;
    case BR_CODEC_LZMA: {
        lzma_options_lzma opt;
        lzma_lzma_preset(&opt, LZMA_PRESET_DEFAULT);
        lzma_filter f[2] = {{LZMA_FILTER_LZMA2, &opt},
                            {LZMA_VLI_UNKNOWN, NULL}};
        size_t pos = 0;
        CHECK(lzma_raw_buffer_encode(f, NULL, plain, PLAIN_LEN, out, &pos,
                                     cap) == LZMA_OK);
        return pos;
    }
    case BR_CODEC__CNT:
        break;
    }
    return 0;
}

static void test_round_trips(void) {
    size_t cap = PLAIN_LEN * 2;
    unsigned char *z = malloc(cap);
    char errstr[256];
    for (int c = 0; c < BR_CODEC__CNT; c++) {
        const char *name = br_codec_name((br_codec_t)c);
        CHECK_INT(br_codec_by_name(name, strlen(name)), c);
        size_t n = compress_with((br_codec_t)c, z, cap);
        br_codec_buf_t out = {0};
        /* Whole, within a bound: the same bytes. */
        CHECK_INT(br_codec_decode((br_codec_t)c, z, n, &out, PLAIN_LEN,
                                  errstr, sizeof errstr),
                  BR_ERR_OK);
        CHECK(out.len == PLAIN_LEN && memcmp(out.data, plain, PLAIN_LEN) == 0);
        /* A bound below the plain size: refused, not truncated. */
        CHECK_INT(br_codec_decode((br_codec_t)c, z, n, &out, PLAIN_LEN - 1,
                                  errstr, sizeof errstr),
                  BR_ERR_PARSE);
        CHECK(strstr(errstr, "more than") != NULL);
        if (c == BR_CODEC_NULL) {
            br_codec_buf_free(&out);
            continue;
        }
        /* Cut short by a third. */
        CHECK_INT(br_codec_decode((br_codec_t)c, z, n * 2 / 3, &out,
                                  PLAIN_LEN, errstr, sizeof errstr),
                  BR_ERR_PARSE);
        /* Bytes after the stream: refused but for deflate, whose writers
         * leave zlib's trailer there (python3-avro). */
        memcpy(z + n, "xyz", 3);
        CHECK_INT(br_codec_decode((br_codec_t)c, z, n + 3, &out, PLAIN_LEN,
                                  errstr, sizeof errstr),
                  c == BR_CODEC_DEFLATE ? BR_ERR_OK : BR_ERR_PARSE);
        /* Not the codec's data (plain text). */
        CHECK_INT(br_codec_decode((br_codec_t)c, plain, 4096, &out, PLAIN_LEN,
                                  errstr, sizeof errstr),
                  BR_ERR_PARSE);
        br_codec_buf_free(&out);
    }
    free(z);
}

static void test_hostile(void) {
    char errstr[256];
    br_codec_buf_t out = {0};
    /* Snappy: a preamble claiming 2 GiB in five bytes. */
    const unsigned char claim[] = {0x80, 0x80, 0x80, 0x80, 0x08, 0, 0, 0, 0};
    CHECK_INT(br_codec_decode(BR_CODEC_SNAPPY, claim, sizeof claim, &out,
                              (size_t)4 << 30, errstr, sizeof errstr),
              BR_ERR_PARSE);
    CHECK(out.cap == 0);
    /* Snappy with its checksum wrong. */
    unsigned char z[64];
    size_t n = sizeof z;
    CHECK(snappy_compress("hello, hello", 12, (char *)z, &n) == SNAPPY_OK);
    memset(z + n, 0, 4);
    CHECK_INT(br_codec_decode(BR_CODEC_SNAPPY, z, n + 4, &out, 1024, errstr,
                              sizeof errstr),
              BR_ERR_PARSE);
    CHECK(strstr(errstr, "CRC-32") != NULL);
    CHECK_INT(br_codec_decode(BR_CODEC_SNAPPY, z, 3, &out, 1024, errstr,
                              sizeof errstr),
              BR_ERR_PARSE);
    /* Deflate: a megabyte of zeros from a few hundred bytes, bounded at
     * 64 KiB: the output stops growing at the bound. */
    static unsigned char zeros[1 << 20];
    unsigned char big[8192];
    z_stream s = {0};
    CHECK(deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    s.next_in = zeros;
    s.avail_in = sizeof zeros;
    s.next_out = big;
    s.avail_out = sizeof big;
    CHECK(deflate(&s, Z_FINISH) == Z_STREAM_END);
    n = s.total_out;
    deflateEnd(&s);
    CHECK_INT(br_codec_decode(BR_CODEC_DEFLATE, big, n, &out, 64u << 10,
                              errstr, sizeof errstr),
              BR_ERR_PARSE);
    CHECK(out.cap <= (64u << 10) + 1);
    br_codec_buf_free(&out);
    CHECK_INT(br_codec_by_name("brotli", 6), -1);
    CHECK_INT(br_codec_by_name("nul", 3), -1);
}

int main(void) {
    fill();
    test_round_trips();
    test_hostile();
    return brt_done();
}
