/*
 * Writer schemas as a Schema Registry or a schema directory hands them
 * over (avro-confluent inputs), with one datum: the input is the schema's
 * JSON text, a NUL byte, then the datum. The schema is parsed, resolved
 * against schemas/usage.avsc as the reader schema (what an input with
 * avro.schema does) and read as itself, and the datum read through both.
 */
#include <string.h>

#include "burnrate/avro.h"
#include "fuzz.h"

static br_avro_schema_t *usage;

static void read_datum(br_avro_reader_t *r, const void *buf, size_t len) {
    json_t *obj = NULL;
    char errstr[512];
    br_err_t err = br_avro_reader_decode(r, buf, len, &obj, errstr,
                                         sizeof errstr);
    FUZZ_LOG("datum: %s", err == BR_ERR_OK ? "ok" : errstr);
    if (err == BR_ERR_OK) {
        FUZZ_ASSERT(obj != NULL, "no JSON value on success");
        char *text = json_dumps(obj, JSON_ENCODE_ANY);
        free(text);
        json_decref(obj);
    } else {
        FUZZ_ASSERT(obj == NULL, "a JSON value on error");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char errstr[512];
    if (!usage) {
        size_t len;
        char *text = fuzz_slurp("schemas/usage.avsc", &len);
        usage = br_avro_schema_parse(text, len, errstr, sizeof errstr);
        FUZZ_ASSERT(usage, "usage.avsc: %s", errstr);
        free(text);
    }
    const uint8_t *nul = memchr(data, '\0', size);
    size_t text_len = nul ? (size_t)(nul - data) : size;
    const uint8_t *datum = nul ? nul + 1 : data + size;
    size_t datum_len = (size_t)(data + size - datum);
    br_avro_schema_t *w = br_avro_schema_parse((const char *)data, text_len,
                                               errstr, sizeof errstr);
    FUZZ_LOG("schema: %s", w ? "ok" : errstr);
    if (!w)
        return 0;
    br_avro_reader_t *as_usage = br_avro_reader_new(w, usage, errstr,
                                                    sizeof errstr);
    br_avro_reader_t *as_is = br_avro_reader_new(w, NULL, errstr,
                                                 sizeof errstr);
    FUZZ_LOG("as usage.avsc: %s", as_usage ? "ok" : errstr);
    if (as_usage)
        read_datum(as_usage, datum, datum_len);
    if (as_is)
        read_datum(as_is, datum, datum_len);
    br_avro_reader_free(as_usage);
    br_avro_reader_free(as_is);
    br_avro_schema_free(w);
    return 0;
}
