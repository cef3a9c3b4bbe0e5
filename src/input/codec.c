/*
 * Block codecs of Avro object container files (see burnrate/codec.h). Each
 * streaming decompressor writes into an output that doubles when it is
 * full, up to the caller's bound: the size a block claims (snappy's
 * preamble) is believed only after the block has been validated, and then
 * only up to the bound.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lzma.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "burnrate/codec.h"

#define FIRST_CAP (64u << 10)
#define XZ_MEMLIMIT (UINT64_C(256) << 20)

static const char *const names[BR_CODEC__CNT] = {
    [BR_CODEC_NULL] = "null",       [BR_CODEC_DEFLATE] = "deflate",
    [BR_CODEC_SNAPPY] = "snappy",   [BR_CODEC_BZIP2] = "bzip2",
    [BR_CODEC_XZ] = "xz",           [BR_CODEC_ZSTANDARD] = "zstandard",
    [BR_CODEC_LZMA] = "lzma",
};

int br_codec_by_name(const char *name, size_t len) {
    for (int c = 0; c < BR_CODEC__CNT; c++)
        if (strlen(names[c]) == len && memcmp(names[c], name, len) == 0)
            return c;
    return -1;
}

const char *br_codec_name(br_codec_t codec) {
    return codec >= 0 && codec < BR_CODEC__CNT ? names[codec] : "?";
}

void br_codec_buf_free(br_codec_buf_t *b) {
    free(b->data);
    *b = (br_codec_buf_t){0};
}

static br_err_t too_big(const char *codec, size_t max, char *errstr,
                        size_t errstr_size) {
    return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                     "%s block decompresses to more than %zu bytes", codec,
                     max);
}

/* Make room for at least one more byte. The output may reach max + 1
 * bytes, one beyond the bound, so that a stream of exactly max bytes whose
 * end the decompressor has not yet seen is told from a longer one. */
static br_err_t grow(br_codec_buf_t *b, size_t max, const char *codec,
                     char *errstr, size_t errstr_size) {
    if (b->len > max)
        return too_big(codec, max, errstr, errstr_size);
    if (b->len < b->cap && b->len <= max)
        return BR_ERR_OK;
    size_t cap = b->cap ? b->cap * 2 : FIRST_CAP;
    if (cap > max + 1 || cap < b->cap)
        cap = max + 1;
    unsigned char *d = realloc(b->data, cap);
    if (!d)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    b->data = d;
    b->cap = cap;
    return BR_ERR_OK;
}

/* The space the decompressor may fill: up to max + 1 bytes in all. */
static size_t space(const br_codec_buf_t *b, size_t max) {
    size_t lim = b->cap < max + 1 ? b->cap : max + 1;
    return lim - b->len;
}

/* The same, as the unsigned int zlib and bzip2 take. */
static unsigned room(const br_codec_buf_t *b, size_t max) {
    size_t n = space(b, max);
    return n > UINT_MAX ? UINT_MAX : (unsigned)n;
}

static br_err_t cut(const char *codec, char *errstr, size_t errstr_size) {
    return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                     "%s block cut short: its data ends before the "
                     "compressed stream does",
                     codec);
}

static br_err_t trailing(const char *codec, size_t n, char *errstr,
                         size_t errstr_size) {
    return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                     "%s block: %zu bytes after the end of the compressed "
                     "stream",
                     codec, n);
}

static br_err_t inflate_block(const unsigned char *in, size_t len,
                              br_codec_buf_t *out, size_t max, char *errstr,
                              size_t errstr_size) {
    z_stream s = {0};
    if (len > UINT_MAX)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "deflate block of %zu bytes", len);
    if (inflateInit2(&s, -15) != Z_OK)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    s.next_in = (unsigned char *)(uintptr_t)in;
    s.avail_in = (unsigned)len;
    br_err_t err = BR_ERR_OK;
    for (;;) {
        if ((err = grow(out, max, "deflate", errstr, errstr_size)))
            break;
        s.next_out = out->data + out->len;
        s.avail_out = room(out, max);
        unsigned before = s.avail_out;
        int rc = inflate(&s, Z_NO_FLUSH);
        out->len += before - s.avail_out;
        /* Bytes after the stream's end are let be, as Java's Inflater
         * does: python3-avro writes zlib.compress()[2:-1], which leaves
         * three bytes of the zlib trailer behind every block. */
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && s.avail_in == 0) {
            err = cut("deflate", errstr, errstr_size);
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            err = br_seterr(errstr, errstr_size,
                            rc == Z_MEM_ERROR ? BR_ERR_NOMEM : BR_ERR_PARSE,
                            "deflate block: %s",
                            s.msg ? s.msg : "not deflate data");
            break;
        }
    }
    inflateEnd(&s);
    return err;
}

static br_err_t bunzip_block(const unsigned char *in, size_t len,
                             br_codec_buf_t *out, size_t max, char *errstr,
                             size_t errstr_size) {
    bz_stream s = {0};
    if (len > UINT_MAX)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "bzip2 block of %zu bytes", len);
    if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    s.next_in = (char *)(uintptr_t)in;
    s.avail_in = (unsigned)len;
    br_err_t err = BR_ERR_OK;
    for (;;) {
        if ((err = grow(out, max, "bzip2", errstr, errstr_size)))
            break;
        s.next_out = (char *)out->data + out->len;
        s.avail_out = room(out, max);
        unsigned before = s.avail_out;
        int rc = BZ2_bzDecompress(&s);
        out->len += before - s.avail_out;
        if (rc == BZ_STREAM_END) {
            if (s.avail_in)
                err = trailing("bzip2", s.avail_in, errstr, errstr_size);
            break;
        }
        if (rc != BZ_OK) {
            err = br_seterr(errstr, errstr_size,
                            rc == BZ_MEM_ERROR ? BR_ERR_NOMEM : BR_ERR_PARSE,
                            "bzip2 block: %s",
                            rc == BZ_DATA_ERROR_MAGIC ? "not bzip2 data"
                                                      : "corrupt data");
            break;
        }
        /* BZ_OK with every input byte taken and room left: the stream
         * wants bytes the block does not have. */
        if (s.avail_in == 0 && s.avail_out > 0) {
            err = cut("bzip2", errstr, errstr_size);
            break;
        }
    }
    BZ2_bzDecompressEnd(&s);
    return err;
}

/* xz and avro-c's raw LZMA2: one liblzma loop, two decoders. */
static br_err_t unlzma_block(br_codec_t codec, const unsigned char *in,
                             size_t len, br_codec_buf_t *out, size_t max,
                             char *errstr, size_t errstr_size) {
    const char *name = names[codec];
    lzma_stream s = LZMA_STREAM_INIT;
    lzma_ret rc;
    if (codec == BR_CODEC_XZ) {
        rc = lzma_stream_decoder(&s, XZ_MEMLIMIT, 0);
    } else {
        lzma_options_lzma opt;
        if (lzma_lzma_preset(&opt, LZMA_PRESET_DEFAULT))
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "lzma: no default preset");
        lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &opt},
                                  {LZMA_VLI_UNKNOWN, NULL}};
        rc = lzma_raw_decoder(&s, filters);
    }
    if (rc != LZMA_OK)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    s.next_in = in;
    s.avail_in = len;
    br_err_t err = BR_ERR_OK;
    for (;;) {
        if ((err = grow(out, max, name, errstr, errstr_size)))
            break;
        s.next_out = out->data + out->len;
        s.avail_out = space(out, max);
        size_t before = s.avail_out;
        rc = lzma_code(&s, LZMA_FINISH);
        out->len += before - s.avail_out;
        if (rc == LZMA_STREAM_END) {
            if (s.avail_in)
                err = trailing(name, s.avail_in, errstr, errstr_size);
            break;
        }
        if (rc == LZMA_OK)
            continue;
        if (rc == LZMA_BUF_ERROR && s.avail_in == 0) {
            err = cut(name, errstr, errstr_size);
            break;
        }
        if (rc == LZMA_BUF_ERROR)
            continue; /* output full: grow */
        err = br_seterr(errstr, errstr_size,
                        rc == LZMA_MEM_ERROR ? BR_ERR_NOMEM : BR_ERR_PARSE,
                        "%s block: %s", name,
                        rc == LZMA_FORMAT_ERROR    ? "not xz data"
                        : rc == LZMA_MEMLIMIT_ERROR ? "needs more than 256 MiB "
                                                      "of memory to decode"
                        : rc == LZMA_OPTIONS_ERROR  ? "unsupported options"
                                                    : "corrupt data");
        break;
    }
    lzma_end(&s);
    return err;
}

static br_err_t unzstd_block(const unsigned char *in, size_t len,
                             br_codec_buf_t *out, size_t max, char *errstr,
                             size_t errstr_size) {
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    ZSTD_inBuffer ib = {in, len, 0};
    br_err_t err = BR_ERR_OK;
    size_t rc = 1;
    for (;;) {
        if ((err = grow(out, max, "zstandard", errstr, errstr_size)))
            break;
        ZSTD_outBuffer ob = {out->data + out->len, space(out, max), 0};
        rc = ZSTD_decompressStream(d, &ob, &ib);
        out->len += ob.pos;
        if (ZSTD_isError(rc)) {
            err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                            "zstandard block: %s", ZSTD_getErrorName(rc));
            break;
        }
        /* rc 0: a frame ended and everything of it is out. Another frame
         * may follow (concatenated frames are one stream). */
        if (rc == 0 && ib.pos == ib.size)
            break;
        if (ib.pos == ib.size && ob.pos < ob.size) {
            err = cut("zstandard", errstr, errstr_size);
            break;
        }
    }
    ZSTD_freeDCtx(d);
    return err;
}

static br_err_t unsnappy_block(const unsigned char *in, size_t len,
                               br_codec_buf_t *out, size_t max, char *errstr,
                               size_t errstr_size) {
    if (len < 4)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "snappy block of %zu bytes: too short for its "
                         "checksum",
                         len);
    size_t n = len - 4, ulen = 0;
    const char *src = (const char *)in;
    /* Validation walks the block without writing, so the length in its
     * preamble is known true before anything is allocated for it. */
    if (snappy_validate_compressed_buffer(src, n) != SNAPPY_OK ||
        snappy_uncompressed_length(src, n, &ulen) != SNAPPY_OK)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "snappy block: not snappy data");
    if (ulen > max)
        return too_big("snappy", max, errstr, errstr_size);
    if (ulen > out->cap) {
        unsigned char *d = realloc(out->data, ulen ? ulen : 1);
        if (!d)
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                             "out of memory");
        out->data = d;
        out->cap = ulen ? ulen : 1;
    }
    size_t got = out->cap;
    if (snappy_uncompress(src, n, (char *)out->data, &got) != SNAPPY_OK)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "snappy block: not snappy data");
    out->len = got;
    uint32_t want = (uint32_t)in[n] << 24 | (uint32_t)in[n + 1] << 16 |
                    (uint32_t)in[n + 2] << 8 | in[n + 3];
    uint32_t crc = 0;
    for (size_t off = 0; off < got;) {
        size_t step = got - off > UINT_MAX ? UINT_MAX : got - off;
        crc = (uint32_t)crc32(crc, out->data + off, (unsigned)step);
        off += step;
    }
    if (crc != want)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "snappy block: CRC-32 %08x of the data, %08x "
                         "written",
                         crc, want);
    return BR_ERR_OK;
}

br_err_t br_codec_decode(br_codec_t codec, const void *in, size_t in_len,
                         br_codec_buf_t *out, size_t max, char *errstr,
                         size_t errstr_size) {
    const unsigned char *p = in_len ? in : (const unsigned char *)"";
    out->len = 0;
    switch (codec) {
    case BR_CODEC_NULL:
        if (in_len > max)
            return too_big("null", max, errstr, errstr_size);
        if (in_len > out->cap) {
            unsigned char *d = realloc(out->data, in_len);
            if (!d)
                return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                                 "out of memory");
            out->data = d;
            out->cap = in_len;
        }
        if (in_len)
            memcpy(out->data, p, in_len);
        out->len = in_len;
        return BR_ERR_OK;
    case BR_CODEC_SNAPPY:
        return unsnappy_block(p, in_len, out, max, errstr, errstr_size);
    case BR_CODEC_DEFLATE:
    case BR_CODEC_BZIP2:
    case BR_CODEC_XZ:
    case BR_CODEC_LZMA:
    case BR_CODEC_ZSTANDARD:
        break;
    case BR_CODEC__CNT:
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "unknown codec %d", (int)codec);
    }
    if (max == SIZE_MAX)
        max--; /* room for the one byte beyond */
    br_err_t err;
    if (codec == BR_CODEC_DEFLATE)
        err = inflate_block(p, in_len, out, max, errstr, errstr_size);
    else if (codec == BR_CODEC_BZIP2)
        err = bunzip_block(p, in_len, out, max, errstr, errstr_size);
    else if (codec == BR_CODEC_ZSTANDARD)
        err = unzstd_block(p, in_len, out, max, errstr, errstr_size);
    else
        err = unlzma_block(codec, p, in_len, out, max, errstr, errstr_size);
    if (!err && out->len > max)
        err = too_big(names[codec], max, errstr, errstr_size);
    return err;
}
