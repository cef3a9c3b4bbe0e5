/*
 * Streaming RFC 4180 reader for billing exports: one record at a time, so a
 * multi-gigabyte CUR file needs memory for its longest row only. Each row
 * becomes a JSON object of strings keyed by the header, for the decoder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/csv.h"

#define CSV_RECORD_MAX (1u << 20)   /* bytes; a longer record is an error */

struct br_csv {
    FILE *fp;                 /* borrowed */
    char **cols;              /* owned header names */
    size_t col_cnt;
    char *line;               /* getline() buffer, owned */
    size_t line_cap;
    char *raw;                /* the current record's text, owned */
    size_t raw_len, raw_cap;
    char *field;              /* one unescaped field, owned */
    size_t field_cap;
    int64_t row;              /* data rows read so far */
};

static br_err_t raw_append(br_csv_t *csv, const char *s, size_t n) {
    if (csv->raw_len + n + 1 > csv->raw_cap) {
        size_t cap = csv->raw_cap ? csv->raw_cap : 256;
        while (cap < csv->raw_len + n + 1) cap *= 2;
        char *p = realloc(csv->raw, cap);
        if (!p) return BR_ERR_NOMEM;
        csv->raw = p;
        csv->raw_cap = cap;
    }
    memcpy(csv->raw + csv->raw_len, s, n);
    csv->raw_len += n;
    csv->raw[csv->raw_len] = '\0';
    return BR_ERR_OK;
}

/*
 * Read one record: physical lines until the quotes balance. Returns
 * BR_ERR_NOTFOUND at end of file, BR_ERR_PARSE when the file ends inside a
 * quoted field or the record grows past CSV_RECORD_MAX (the reader then goes
 * on from the next line).
 */
static br_err_t read_record(br_csv_t *csv, char *errstr, size_t errstr_size) {
    int in_quotes = 0;
    csv->raw_len = 0;
    if (csv->raw) csv->raw[0] = '\0';
    for (;;) {
        errno = 0;
        ssize_t n = getline(&csv->line, &csv->line_cap, csv->fp);
        if (n < 0) {
            if (ferror(csv->fp))
                return br_seterr(errstr, errstr_size, BR_ERR_IO,
                                 "read error: %s", strerror(errno));
            if (csv->raw_len == 0) return BR_ERR_NOTFOUND;
            if (in_quotes)
                return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                                 "file ends inside a quoted field");
            return BR_ERR_OK;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (csv->line[i] == '"') in_quotes = !in_quotes;
        }
        if (csv->raw_len + (size_t)n > CSV_RECORD_MAX)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "record longer than %u bytes (unbalanced "
                             "quote?)", CSV_RECORD_MAX);
        if (raw_append(csv, csv->line, (size_t)n))
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                             "out of memory");
        if (!in_quotes) break;
    }
    /* Drop the record's own line ending (CRLF or LF). */
    if (csv->raw_len && csv->raw[csv->raw_len - 1] == '\n') csv->raw_len--;
    if (csv->raw_len && csv->raw[csv->raw_len - 1] == '\r') csv->raw_len--;
    csv->raw[csv->raw_len] = '\0';
    return BR_ERR_OK;
}

/*
 * Split the current record. For each field calls emit(ctx, index, text,
 * len, quoted); text is unescaped in csv->field. Returns the field count,
 * or -1 on a quote error (message in errstr).
 */
typedef br_err_t (*emit_fn)(void *ctx, size_t idx, const char *s, size_t len,
                            int quoted, char *errstr, size_t errstr_size);

static long split(br_csv_t *csv, emit_fn emit, void *ctx, br_err_t *err,
                  char *errstr, size_t errstr_size) {
    const char *p = csv->raw, *end = csv->raw + csv->raw_len;
    size_t idx = 0;
    if (csv->field_cap < csv->raw_len + 1) {
        char *f = realloc(csv->field, csv->raw_len + 1);
        if (!f) {
            *err = br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                             "out of memory");
            return -1;
        }
        csv->field = f;
        csv->field_cap = csv->raw_len + 1;
    }
    for (;;) {
        size_t len = 0;
        int quoted = p < end && *p == '"';
        if (quoted) {
            p++;
            for (;;) {
                if (p >= end) {
                    *err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                                     "field %zu: unterminated quote",
                                     idx + 1);
                    return -1;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        csv->field[len++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                csv->field[len++] = *p++;
            }
            if (p < end && *p != ',') {
                *err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                                 "field %zu: text after closing quote",
                                 idx + 1);
                return -1;
            }
        } else {
            while (p < end && *p != ',') csv->field[len++] = *p++;
        }
        if (emit) {
            *err = emit(ctx, idx, csv->field, len, quoted, errstr,
                        errstr_size);
            if (*err) return -1;
        }
        idx++;
        if (p >= end) break;
        p++; /* the comma */
    }
    return (long)idx;
}

static br_err_t emit_header(void *ctx, size_t idx, const char *s, size_t len,
                            int quoted, char *errstr, size_t errstr_size) {
    br_csv_t *csv = ctx;
    (void)quoted;
    if (len == 0)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "header: column %zu has no name", idx + 1);
    if (memchr(s, '\0', len))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "header: column %zu: a NUL byte", idx + 1);
    /* A name is a key of every row's object, and jansson refuses keys
     * that are not UTF-8: each row would fail (as out of memory, which
     * stops a replay) instead of the header. */
    json_t *name = json_stringn(s, len);
    if (!name)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "header: column %zu: invalid UTF-8", idx + 1);
    json_decref(name);
    char **cols = realloc(csv->cols, (idx + 1) * sizeof(*cols));
    if (!cols) return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                                "out of memory");
    csv->cols = cols;
    cols[idx] = malloc(len + 1);
    if (!cols[idx]) return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                                     "out of memory");
    memcpy(cols[idx], s, len);
    cols[idx][len] = '\0';
    csv->col_cnt = idx + 1;
    for (size_t i = 0; i < idx; i++) {
        if (strcmp(cols[i], cols[idx]) == 0)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "header: column \"%s\" appears twice", cols[idx]);
    }
    return BR_ERR_OK;
}

br_csv_t *br_csv_open(FILE *fp, char *errstr, size_t errstr_size) {
    br_err_t err;
    br_csv_t *csv = calloc(1, sizeof(*csv));
    if (!csv) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    csv->fp = fp;
    do {
        err = read_record(csv, errstr, errstr_size);
        if (err == BR_ERR_NOTFOUND)
            br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                      "empty file: no header row");
        if (err) goto fail;
    } while (csv->raw_len == 0);
    /* A UTF-8 byte order mark, as spreadsheet exports write it. */
    if (csv->raw_len >= 3 && memcmp(csv->raw, "\xEF\xBB\xBF", 3) == 0) {
        memmove(csv->raw, csv->raw + 3, csv->raw_len - 2);
        csv->raw_len -= 3;
    }
    if (split(csv, emit_header, csv, &err, errstr, errstr_size) < 0)
        goto fail;
    return csv;

fail:
    br_csv_destroy(csv);
    return NULL;
}

void br_csv_destroy(br_csv_t *csv) {
    if (!csv) return;
    for (size_t i = 0; i < csv->col_cnt; i++) free(csv->cols[i]);
    free(csv->cols);
    free(csv->line);
    free(csv->raw);
    free(csv->field);
    free(csv);
}

typedef struct row_ctx {
    br_csv_t *csv;
    json_t *obj;
} row_ctx_t;

static br_err_t emit_row(void *ctx, size_t idx, const char *s, size_t len,
                         int quoted, char *errstr, size_t errstr_size) {
    row_ctx_t *rc = ctx;
    if (idx >= rc->csv->col_cnt)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "more fields than the header's %zu",
                         rc->csv->col_cnt);
    if (len == 0 || (!quoted && len == 4 && memcmp(s, "NULL", 4) == 0))
        return BR_ERR_OK;
    /* Text holds no NUL (JSON messages cannot carry one either): a value
     * cut at it would turn a label into "" or another team's name. */
    if (memchr(s, '\0', len))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "column \"%s\": a NUL byte", rc->csv->cols[idx]);
    json_t *v = json_stringn(s, len);
    if (!v)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "column \"%s\": invalid UTF-8", rc->csv->cols[idx]);
    if (json_object_set_new(rc->obj, rc->csv->cols[idx], v))
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    return BR_ERR_OK;
}

br_err_t br_csv_next(br_csv_t *csv, json_t **out, int64_t *row,
                     char *errstr, size_t errstr_size) {
    br_err_t err;
    row_ctx_t rc = {csv, NULL};
    *out = NULL;
    do {
        err = read_record(csv, errstr, errstr_size);
        if (err == BR_ERR_NOTFOUND || err == BR_ERR_IO || err == BR_ERR_NOMEM)
            return err;
        /* Blank lines are not rows. */
    } while (err == BR_ERR_OK && csv->raw_len == 0);
    *row = ++csv->row;
    if (err) return err;

    rc.obj = json_object();
    if (!rc.obj) return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                                  "out of memory");
    long cnt = split(csv, emit_row, &rc, &err, errstr, errstr_size);
    if (cnt < 0) goto fail;
    if ((size_t)cnt != csv->col_cnt) {
        err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                        "%ld fields, the header has %zu", cnt, csv->col_cnt);
        goto fail;
    }
    *out = rc.obj;
    return BR_ERR_OK;

fail:
    json_decref(rc.obj);
    return err;
}

const char *br_csv_raw(const br_csv_t *csv, size_t *len) {
    *len = csv->raw_len;
    return csv->raw ? csv->raw : "";
}
