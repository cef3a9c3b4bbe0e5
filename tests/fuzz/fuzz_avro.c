/*
 * Avro datums as a producer sends them, through br_avro_reader_decode
 * and on into the openai decoder as the pipeline does. Every input is read
 * as a plain datum by every reader below (schemas/usage.avsc as itself,
 * and the writer/reader pairs of tests/avro/fixtures: fields added,
 * removed, promoted, float, resolved by burnrate's own resolver); an input
 * that splits as Confluent framing (magic 0, schema id) is also read as
 * the body of writer schema id % readers, the way an avro-confluent input
 * picks its writer schema.
 */
#include <string.h>

#include "burnrate/avro.h"
#include "burnrate/decode.h"
#include "fuzz.h"

static const char *const pairs[] = {"added", "removed", "promoted", "float",
                                    "incompatible"};
#define READERS_MAX 8

static br_avro_schema_t *schemas[2 * READERS_MAX];
static br_avro_reader_t *readers[READERS_MAX];
static size_t readers_cnt, schemas_cnt;
static br_decoder_t *dec;

static br_avro_schema_t *schema(const char *rel) {
    size_t len;
    char errstr[512];
    char *text = fuzz_slurp(rel, &len);
    br_avro_schema_t *s = br_avro_schema_parse(text, len, errstr, sizeof errstr);
    FUZZ_ASSERT(s, "%s: %s", rel, errstr);
    free(text);
    schemas[schemas_cnt++] = s;
    return s;
}

/* At exit: avro-c's objects are not all reachable from the pointers
 * kept here, so LeakSanitizer would report whatever is left alive. */
static void fini(void) {
    for (size_t i = 0; i < readers_cnt; i++)
        br_avro_reader_free(readers[i]);
    for (size_t i = 0; i < schemas_cnt; i++)
        br_avro_schema_free(schemas[i]);
    br_decoder_destroy(dec);
}

static void init(void) {
    atexit(fini);
    char errstr[512], rel[256];
    readers[readers_cnt] =
        br_avro_reader_new(schema("schemas/usage.avsc"), NULL, errstr,
                           sizeof errstr);
    FUZZ_ASSERT(readers[readers_cnt], "usage.avsc: %s", errstr);
    readers_cnt++;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        snprintf(rel, sizeof rel, "tests/avro/fixtures/%s.writer.avsc",
                 pairs[i]);
        br_avro_schema_t *w = schema(rel);
        snprintf(rel, sizeof rel, "tests/avro/fixtures/%s.reader.avsc",
                 pairs[i]);
        br_avro_schema_t *r = schema(rel);
        /* incompatible: refused here, as the pipeline refuses the schema */
        br_avro_reader_t *rd = br_avro_reader_new(w, r, errstr, sizeof errstr);
        if (rd)
            readers[readers_cnt++] = rd;
    }
    static br_input_conf_t in;
    in.name = FUZZ_STR("fuzz");
    in.dialect = BR_DIALECT_OPENAI;
    in.format = BR_FORMAT_AVRO;
    dec = br_decoder_new(&in, errstr, sizeof errstr);
    FUZZ_ASSERT(dec, "%s", errstr);
}

static void read_datum(br_avro_reader_t *r, const void *buf, size_t len) {
    static br_record_t rec;
    json_t *obj = NULL;
    char errstr[512];
    br_err_t err = br_avro_reader_decode(r, buf, len, &obj, errstr,
                                         sizeof errstr);
    FUZZ_LOG("reader %p: %s", (void *)r, err == BR_ERR_OK ? "ok" : errstr);
    if (err != BR_ERR_OK) {
        FUZZ_ASSERT(obj == NULL, "a JSON value on error");
        return;
    }
    FUZZ_ASSERT(obj != NULL, "no JSON value on success");
    br_record_reset(&rec);
    if (br_decoder_decode_object(dec, obj, &rec, errstr, sizeof errstr) ==
        BR_ERR_OK)
        fuzz_check_record(&rec);
    json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dec)
        init();
    for (size_t i = 0; i < readers_cnt; i++)
        read_datum(readers[i], data, size);
    uint32_t id;
    const void *body;
    size_t body_len;
    char errstr[256];
    if (br_avro_confluent_split(data, size, &id, &body, &body_len, errstr,
                                sizeof errstr) == BR_ERR_OK)
        read_datum(readers[id % readers_cnt], body, body_len);
    return 0;
}
