/*
 * Avro object container files as a replay reads them: the input is a whole
 * file (fmemopen), read record by record by br_avro_file_next through
 * schemas/usage.avsc as the reader schema and again with the file's own
 * schema, each record on into the openai decoder as the pipeline does.
 * Every codec of burnrate/codec.h is reachable: the seeds hold a file of
 * each, in blocks of a few records.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "burnrate/avro.h"
#include "burnrate/decode.h"
#include "fuzz.h"

static br_avro_schema_t *usage;
static br_decoder_t *dec;

static void fini(void) {
    br_avro_schema_free(usage);
    br_decoder_destroy(dec);
}

static void init(void) {
    atexit(fini);
    size_t len;
    char errstr[512];
    char *text = fuzz_slurp("schemas/usage.avsc", &len);
    usage = br_avro_schema_parse(text, len, errstr, sizeof errstr);
    FUZZ_ASSERT(usage, "usage.avsc: %s", errstr);
    free(text);
    static br_input_conf_t in;
    in.name = FUZZ_STR("fuzz");
    in.dialect = BR_DIALECT_OPENAI;
    in.format = BR_FORMAT_AVRO;
    dec = br_decoder_new(&in, errstr, sizeof errstr);
    FUZZ_ASSERT(dec, "%s", errstr);
}

static void read_file(const uint8_t *data, size_t size,
                      const br_avro_schema_t *reader) {
    static br_record_t rec;
    char errstr[512];
    FILE *fp = fmemopen((void *)(uintptr_t)data, size, "rb");
    FUZZ_ASSERT(fp, "fmemopen");
    br_avro_file_t *f = br_avro_file_fopen(fp, reader, errstr, sizeof errstr);
    if (!f) {
        FUZZ_LOG("open: %s", errstr);
        fclose(fp);
        return;
    }
    uint64_t ok = 0, bad = 0;
    for (;;) {
        json_t *obj = NULL;
        br_err_t err = br_avro_file_next(f, &obj, errstr, sizeof errstr);
        if (err == BR_ERR_NOTFOUND || err == BR_ERR_IO || err == BR_ERR_NOMEM) {
            FUZZ_ASSERT(obj == NULL, "a JSON value at the end");
            FUZZ_LOG("%" PRIu64 " records, %" PRIu64 " bad, then %s", ok, bad,
                     err == BR_ERR_NOTFOUND ? "the end" : errstr);
            break;
        }
        size_t raw_len;
        const void *raw = br_avro_file_raw(f, &raw_len);
        FUZZ_ASSERT(raw_len <= size, "a record of %zu bytes in %zu", raw_len,
                    size);
        FUZZ_ASSERT(raw != NULL || raw_len == 0, "no bytes");
        if (err != BR_ERR_OK) {
            FUZZ_ASSERT(err == BR_ERR_TYPE || err == BR_ERR_PARSE, "error %d",
                        (int)err);
            FUZZ_ASSERT(obj == NULL, "a JSON value on error");
            bad++;
            continue;
        }
        FUZZ_ASSERT(obj != NULL, "no JSON value on success");
        ok++;
        br_record_reset(&rec);
        if (br_decoder_decode_object(dec, obj, &rec, errstr, sizeof errstr) ==
            BR_ERR_OK)
            fuzz_check_record(&rec);
        json_decref(obj);
    }
    br_avro_file_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dec)
        init();
    if (size == 0)
        return 0; /* fmemopen wants a buffer */
    read_file(data, size, usage);
    read_file(data, size, NULL);
    return 0;
}
