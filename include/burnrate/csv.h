/*
 * A streaming reader for CSV exports (RFC 4180: quoted fields, doubled
 * quotes, CRLF or LF, newlines inside quotes), used by replay for FOCUS and
 * CUR files. Each row becomes a JSON object keyed by the header, so the same
 * dialect mapping decodes CSV and JSON alike. The literal NULL (unquoted) and
 * empty fields are left out of the object.
 */
#ifndef BURNRATE_CSV_H
#define BURNRATE_CSV_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "burnrate/err.h"

typedef struct br_csv br_csv_t;

/** @brief Start reading fp (borrowed) and consume its header row.
 *  @returns a new reader, or NULL with errstr set (empty file, bad header). */
br_csv_t *br_csv_open(FILE *fp, char *errstr, size_t errstr_size);
void br_csv_destroy(br_csv_t *csv);

/**
 * @brief Read the next row.
 * @param out set to a new object the caller json_decref()s.
 * @param row set to the 1-based data row number (header is row 0).
 * @returns BR_ERR_OK, BR_ERR_NOTFOUND at end of file, BR_ERR_PARSE for a row
 *          whose field count differs from the header (the reader resyncs at
 *          the next line), BR_ERR_IO on a read error.
 */
br_err_t br_csv_next(br_csv_t *csv, json_t **out, int64_t *row,
                     char *errstr, size_t errstr_size);

/** @returns the raw text of the last row read; borrowed until the next call. */
const char *br_csv_raw(const br_csv_t *csv, size_t *len);

#endif
