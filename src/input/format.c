/*
 * Formats: payloads into records for every input format, and files read
 * message by message. See burnrate/format.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/avro.h"
#include "burnrate/csv.h"
#include "burnrate/format.h"

/* An Avro reader: the configured schema's (format avro), or that of one
 * writer schema id (avro-confluent); failures are remembered too. */
typedef struct avro_ent {
    uint32_t id;
    br_avro_schema_t *schema; /* writer schema, owned */
    br_avro_reader_t *reader; /* NULL: unusable, see why */
    br_err_t err;
    char *why;
} avro_ent_t;

struct br_format_state {
    const br_input_conf_t *in;
    br_decoder_t *dec;
    br_avro_schema_t *schema; /* avro.schema: writer (avro) or reader */
    avro_ent_t *ents;
    size_t cnt, cap;
    br_schema_fetch_fn fetch;
    void *fetch_opaque;
    br_buf_t fetched;
};

void br_format_destroy(br_format_state_t *f) {
    if (!f)
        return;
    br_decoder_destroy(f->dec);
    for (size_t k = 0; k < f->cnt; k++) {
        br_avro_reader_free(f->ents[k].reader);
        br_avro_schema_free(f->ents[k].schema);
        free(f->ents[k].why);
    }
    free(f->ents);
    br_avro_schema_free(f->schema);
    br_buf_free(&f->fetched);
    free(f);
}

static bool is_avro(const br_input_conf_t *in) {
    return in->format == BR_FORMAT_AVRO ||
           in->format == BR_FORMAT_AVRO_CONFLUENT;
}

static avro_ent_t *avro_ent_add(br_format_state_t *f, uint32_t id) {
    if (f->cnt == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        avro_ent_t *e = realloc(f->ents, cap * sizeof *e);
        if (!e)
            return NULL;
        f->ents = e;
        f->cap = cap;
    }
    avro_ent_t *e = &f->ents[f->cnt++];
    memset(e, 0, sizeof *e);
    e->id = id;
    return e;
}

br_format_state_t *br_format_new(const br_input_conf_t *in,
                                 const char *const *want, size_t want_cnt,
                                 char *errstr, size_t errstr_size) {
    char err[512];
    br_format_state_t *f = calloc(1, sizeof *f);
    if (!f) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "inputs.%s: out of memory",
                  in->name);
        return NULL;
    }
    f->in = in;
    br_buf_init(&f->fetched);
    f->dec = br_decoder_new_wanting(in, want, want_cnt, err, sizeof err);
    if (!f->dec) {
        br_seterr(errstr, errstr_size, BR_ERR_CONFIG, "inputs.%s: %s", in->name,
                  err);
        goto fail;
    }
    if (!in->avro.schema_json)
        return f;
    f->schema = br_avro_schema_parse(
        in->avro.schema_json, strlen(in->avro.schema_json), err, sizeof err);
    if (!f->schema)
        goto schema_fail;
    if (in->format == BR_FORMAT_AVRO) {
        avro_ent_t *e = avro_ent_add(f, 0);
        if (!e) {
            snprintf(err, sizeof err, "out of memory");
            goto schema_fail;
        }
        e->reader = br_avro_reader_new(f->schema, NULL, err, sizeof err);
        if (!e->reader)
            goto schema_fail;
    }
    return f;
schema_fail:
    br_seterr(errstr, errstr_size, BR_ERR_CONFIG, "inputs.%s.avro.schema: %s",
              in->name, err);
fail:
    br_format_destroy(f);
    return NULL;
}

void br_format_set_schema_fetch(br_format_state_t *f, br_schema_fetch_fn fn,
                                void *opaque) {
    f->fetch = fn;
    f->fetch_opaque = opaque;
}

br_decoder_t *br_format_decoder(const br_format_state_t *f) {
    return f->dec;
}

/* The reader for writer schema `id` of an avro-confluent input, fetched
 * and resolved on first use; BR_ERR_IO when the source cannot answer
 * (then nothing is remembered: the next message asks again). */
static br_err_t avro_reader_for(br_format_state_t *f, uint32_t id,
                                br_avro_reader_t **out, char *errstr,
                                size_t errstr_size) {
    char why[512];
    for (size_t i = 0; i < f->cnt; i++)
        if (f->ents[i].id == id) {
            *out = f->ents[i].reader;
            if (!*out)
                br_seterr(errstr, errstr_size, BR_ERR_OK, "%s", f->ents[i].why);
            return *out ? BR_ERR_OK : f->ents[i].err;
        }
    if (!f->fetch)
        return br_seterr(errstr, errstr_size, BR_ERR_NOTFOUND,
                         "schema id %u: no schema source to look it up", id);
    br_buf_reset(&f->fetched);
    br_err_t err =
        f->fetch(f->fetch_opaque, f->in, id, &f->fetched, why, sizeof why);
    if (err == BR_ERR_IO)
        return br_seterr(errstr, errstr_size, err, "%s", why);
    avro_ent_t *e = avro_ent_add(f, id);
    if (!e)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    if (err != BR_ERR_OK) {
        e->err = err;
    } else if (!(e->schema = br_avro_schema_parse(
                     f->fetched.data, f->fetched.len, why, sizeof why))) {
        e->err = BR_ERR_PARSE;
    } else if (!(e->reader = br_avro_reader_new(e->schema, f->schema, why,
                                                sizeof why))) {
        e->err = BR_ERR_TYPE;
    }
    if (!e->reader) {
        char msg[sizeof why + 64];
        snprintf(msg, sizeof msg, "schema id %u: %s", id, why);
        br_seterr(errstr, errstr_size, e->err, "%s", msg);
        e->why = strdup(msg);
    }
    *out = e->reader;
    return e->reader ? BR_ERR_OK : e->err;
}

/* An Avro message into the JSON shape the dialects read. */
static br_err_t avro_decode(br_format_state_t *f, const void *payload,
                            size_t len, json_t **obj, char *errstr,
                            size_t errstr_size) {
    br_avro_reader_t *r = NULL;
    const void *body = payload;
    size_t body_len = len;
    br_err_t err;
    if (f->in->format == BR_FORMAT_AVRO_CONFLUENT) {
        uint32_t id;
        if ((err = br_avro_confluent_split(payload, len, &id, &body, &body_len,
                                           errstr, errstr_size)))
            return err;
        if ((err = avro_reader_for(f, id, &r, errstr, errstr_size)))
            return err;
    } else {
        r = f->cnt ? f->ents[0].reader : NULL;
        if (!r)
            return br_seterr(errstr, errstr_size, BR_ERR_TYPE, "%s",
                             f->cnt && f->ents[0].why ? f->ents[0].why
                                                      : "no Avro schema");
    }
    return br_avro_reader_decode(r, body, body_len, obj, errstr, errstr_size);
}

br_err_t br_format_decode(br_format_state_t *f, const void *payload, size_t len,
                          br_record_t *rec, char *errstr, size_t errstr_size) {
    if (!is_avro(f->in))
        return br_decoder_decode(f->dec, payload, len, rec, errstr,
                                 errstr_size);
    json_t *obj = NULL;
    br_err_t err = avro_decode(f, payload, len, &obj, errstr, errstr_size);
    if (err == BR_ERR_OK)
        err = br_decoder_decode_object(f->dec, obj, rec, errstr, errstr_size);
    json_decref(obj);
    return err;
}

br_err_t br_format_decode_object(br_format_state_t *f, json_t *obj,
                                 br_record_t *rec, char *errstr,
                                 size_t errstr_size) {
    return br_decoder_decode_object(f->dec, obj, rec, errstr, errstr_size);
}

/* ---- files -------------------------------------------------------------- */

struct br_format_file {
    const char *path; /* borrowed */
    FILE *fp;         /* JSON lines and CSV; NULL for Avro */
    br_csv_t *csv;
    br_avro_file_t *ocf; /* Avro inputs: an object container file */
    int64_t offset;      /* messages read: line, row, record */
    char *raw;           /* the message read, for dead letters */
    size_t cap;
    json_t *obj; /* the last message's, owned */
    char why[512];
};

void br_format_file_close(br_format_file_t *ff) {
    if (!ff)
        return;
    json_decref(ff->obj);
    if (ff->ocf)
        br_avro_file_close(ff->ocf); /* and its stream */
    br_csv_destroy(ff->csv);
    if (ff->fp)
        fclose(ff->fp);
    free(ff->raw);
    free(ff);
}

br_err_t br_format_file_open(const br_format_state_t *f, const char *path,
                             size_t max_bytes, br_format_file_t **out,
                             char *errstr, size_t errstr_size) {
    br_format_file_t *ff = calloc(1, sizeof *ff);
    *out = NULL;
    if (ff)
        ff->raw = malloc(max_bytes ? max_bytes : 1);
    if (!ff || !ff->raw) {
        br_format_file_close(ff);
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    }
    ff->path = path;
    ff->cap = max_bytes;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: %s", path,
                  strerror(errno));
        br_format_file_close(ff);
        return BR_ERR_IO;
    }
    if (f->in->format == BR_FORMAT_CSV) {
        ff->fp = fp;
        ff->csv = br_csv_open(fp, ff->why, sizeof ff->why);
    } else if (is_avro(f->in)) {
        ff->ocf = br_avro_file_fopen(fp, f->schema, ff->why, sizeof ff->why);
        if (!ff->ocf)
            fclose(fp); /* on success the Avro file owns fp */
    } else {
        ff->fp = fp;
    }
    if (!ff->csv && !ff->ocf && f->in->format != BR_FORMAT_JSON) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE, "%s: %s", path, ff->why);
        br_format_file_close(ff);
        return BR_ERR_PARSE;
    }
    *out = ff;
    return BR_ERR_OK;
}

/* Keep len bytes of p (cut to the cap) as the message read. */
static void keep_raw(br_format_file_t *ff, br_format_msg_t *msg, const void *p,
                     size_t len) {
    if (len > ff->cap)
        len = ff->cap;
    if (len)
        memcpy(ff->raw, p, len);
    msg->raw_len = len;
}

/* A record of an object container file: its JSON is the raw message a
 * dead letter carries; one the reader could not take goes out as the
 * bytes the file holds. */
static br_err_t next_avro(br_format_file_t *ff, br_format_msg_t *msg,
                          char *errstr, size_t errstr_size) {
    br_err_t err =
        br_avro_file_next(ff->ocf, &ff->obj, ff->why, sizeof ff->why);
    if (err == BR_ERR_NOTFOUND)
        return err;
    if (err == BR_ERR_IO || err == BR_ERR_NOMEM)
        return br_seterr(errstr, errstr_size, err,
                         "%s: after record %" PRId64 ": %s", ff->path,
                         ff->offset, ff->why);
    msg->offset = ++ff->offset; /* 1-based record number */
    char *text = ff->obj ? json_dumps(ff->obj, JSON_COMPACT) : NULL;
    size_t bin_len = 0;
    const void *bin = text ? text : br_avro_file_raw(ff->ocf, &bin_len);
    keep_raw(ff, msg, bin, text ? strlen(text) : bin_len);
    free(text);
    msg->reject = err;
    msg->obj = err == BR_ERR_OK ? ff->obj : NULL;
    return BR_ERR_OK;
}

/* A CSV row, parsed by the header; one of another width is refused. */
static br_err_t next_csv(br_format_file_t *ff, br_format_msg_t *msg,
                         char *errstr, size_t errstr_size) {
    int64_t row = 0;
    br_err_t err =
        br_csv_next(ff->csv, &ff->obj, &row, ff->why, sizeof ff->why);
    if (err == BR_ERR_NOTFOUND)
        return err;
    msg->offset = ff->offset = row;
    size_t len = 0;
    const char *raw = br_csv_raw(ff->csv, &len);
    if (len > ff->cap)
        len = ff->cap;
    memcpy(ff->raw, raw ? raw : "", raw ? len : 0);
    msg->raw_len = len;
    if (err == BR_ERR_PARSE) {
        msg->reject = err;
        return BR_ERR_OK;
    }
    if (err != BR_ERR_OK)
        return br_seterr(errstr, errstr_size, err, "%s: row %" PRId64 ": %s",
                         ff->path, row, ff->why);
    msg->obj = ff->obj;
    return BR_ERR_OK;
}

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    }
    return true;
}

/* Read one line into ff->raw (at most cap bytes kept, *total counted);
 * false at end of file. */
static bool read_line(br_format_file_t *ff, size_t *kept, size_t *total) {
    size_t n = 0;
    int ch;
    *total = 0;
    while ((ch = getc_unlocked(ff->fp)) != EOF && ch != '\n') {
        if (n < ff->cap)
            ff->raw[n++] = (char)ch;
        (*total)++;
    }
    if (ch == EOF && *total == 0)
        return false;
    if (n && ff->raw[n - 1] == '\r' && n == *total) {
        n--;
        (*total)--;
    }
    *kept = n;
    return true;
}

/* A JSON line; blank ones are passed over, one longer than the cap is
 * refused. */
static br_err_t next_line(br_format_file_t *ff, br_format_msg_t *msg,
                          char *errstr, size_t errstr_size) {
    for (;;) {
        size_t n, total;
        if (!read_line(ff, &n, &total)) {
            if (ferror(ff->fp))
                return br_seterr(errstr, errstr_size, BR_ERR_IO,
                                 "%s: read error: %s", ff->path,
                                 strerror(errno));
            return BR_ERR_NOTFOUND;
        }
        msg->offset = ++ff->offset; /* 1-based line number */
        msg->raw_len = n;
        if (total == n && blank(ff->raw, n))
            continue;
        if (total > n) {
            snprintf(ff->why, sizeof ff->why,
                     "line of %zu bytes is longer than max_message_bytes "
                     "(%zu)",
                     total, ff->cap);
            msg->reject = BR_ERR_LIMIT;
        }
        return BR_ERR_OK;
    }
}

br_err_t br_format_file_next(br_format_file_t *ff, br_format_msg_t *msg,
                             char *errstr, size_t errstr_size) {
    json_decref(ff->obj);
    ff->obj = NULL;
    memset(msg, 0, sizeof *msg);
    msg->raw = ff->raw;
    msg->why = ff->why;
    if (ff->ocf)
        return next_avro(ff, msg, errstr, errstr_size);
    if (ff->csv)
        return next_csv(ff, msg, errstr, errstr_size);
    return next_line(ff, msg, errstr, errstr_size);
}
