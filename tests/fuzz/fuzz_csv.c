/*
 * CSV exports as replay reads them (br_csv over a FILE*, here fmemopen):
 * header, rows, quoting, CRLF, bad rows that resync; each row that parses
 * goes on through the focus and cur decoders (br_decoder_decode_object),
 * the dialects CSV files carry.
 */
#include <string.h>

#include "burnrate/csv.h"
#include "burnrate/decode.h"
#include "fuzz.h"

#define ROWS_MAX 10000 /* a resync loop that never ends is a finding */

static br_decoder_t *decs[2];

static void init(void) {
    static br_input_conf_t ins[2];
    char errstr[256];
    br_dialect_t dialects[2] = {BR_DIALECT_FOCUS, BR_DIALECT_CUR};
    for (int i = 0; i < 2; i++) {
        ins[i].name = FUZZ_STR("fuzz");
        ins[i].format = BR_FORMAT_CSV;
        ins[i].dialect = dialects[i];
        decs[i] = br_decoder_new(&ins[i], errstr, sizeof errstr);
        FUZZ_ASSERT(decs[i], "%s", errstr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static br_record_t rec;
    char errstr[512];
    if (!decs[0])
        init();
    if (size == 0) /* fmemopen refuses a zero-length buffer */
        return 0;
    /* fmemopen's "r" reads the buffer in place: copy it, it is const. */
    char *copy = malloc(size);
    FUZZ_ASSERT(copy, "out of memory");
    memcpy(copy, data, size);
    FILE *fp = fmemopen(copy, size, "r");
    FUZZ_ASSERT(fp, "fmemopen");
    br_csv_t *csv = br_csv_open(fp, errstr, sizeof errstr);
    if (csv) {
        int64_t last = 0;
        for (int i = 0; i < ROWS_MAX; i++) {
            json_t *obj = NULL;
            int64_t row = 0;
            br_err_t err = br_csv_next(csv, &obj, &row, errstr, sizeof errstr);
            if (err == BR_ERR_NOTFOUND || err == BR_ERR_IO)
                break;
            FUZZ_ASSERT(row > last, "row %lld after %lld", (long long)row,
                        (long long)last);
            last = row;
            size_t raw_len = 0;
            const char *raw = br_csv_raw(csv, &raw_len);
            FUZZ_ASSERT(raw != NULL || raw_len == 0, "raw text");
            FUZZ_LOG("row %lld: %s", (long long)row,
                     err == BR_ERR_OK ? "ok" : errstr);
            /* A bad row is PARSE and the file reads on; anything else
             * stops a replay, which a small input must never cause (an
             * "out of memory" for a header that is not UTF-8 did). */
            FUZZ_ASSERT(err == BR_ERR_OK || err == BR_ERR_PARSE,
                        "row %lld: error %d: %s", (long long)row, (int)err,
                        errstr);
            if (err != BR_ERR_OK) {
                FUZZ_ASSERT(obj == NULL, "an object with an error");
                continue;
            }
            FUZZ_ASSERT(json_is_object(obj), "row is not an object");
            for (int d = 0; d < 2; d++) {
                br_record_reset(&rec);
                br_err_t derr = br_decoder_decode_object(decs[d], obj, &rec,
                                                         errstr, sizeof errstr);
                FUZZ_LOG("  %s: %s", d ? "cur" : "focus",
                         derr == BR_ERR_OK ? "ok" : errstr);
                if (derr == BR_ERR_OK)
                    fuzz_check_record(&rec);
            }
            json_decref(obj);
        }
        br_csv_destroy(csv);
    }
    fclose(fp);
    free(copy);
    return 0;
}
