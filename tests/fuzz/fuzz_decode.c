/*
 * JSON messages through every dialect's decoder (br_decoder_decode), each
 * input through all eight: seeds are the decoder corpus as it is, a
 * finding is a plain JSON file that reproduces in any dialect's test, and
 * the mutator's finds in one dialect (a number, a time, a tag list) reach
 * the others without learning a selector byte first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/decode.h"
#include "fuzz.h"

static br_decoder_t *decoders[BR_DIALECT__CNT];

/* The custom dialect has no preset: a mapping with every field kind, ids
 * of two parts and a dimension under a nested path. */
static char *custom_ids[] = {FUZZ_STR("id"), FUZZ_STR("attempt")};
static br_kv_t custom_dims[] = {
    {FUZZ_STR("team"), FUZZ_STR("labels.team"), 0},
    {FUZZ_STR("key"), FUZZ_STR("key"), 0},
};

static void init(void) {
    static br_input_conf_t ins[BR_DIALECT__CNT];
    char errstr[256];
    for (int d = 0; d < BR_DIALECT__CNT; d++) {
        br_input_conf_t *in = &ins[d];
        memset(in, 0, sizeof *in);
        in->name = FUZZ_STR("fuzz");
        in->dialect = (br_dialect_t)d;
        if (d == BR_DIALECT_CUSTOM) {
            in->mapping.time = FUZZ_STR("ts");
            in->mapping.time_end = FUZZ_STR("until");
            in->mapping.cost = FUZZ_STR("cost");
            in->mapping.currency = FUZZ_STR("currency");
            in->mapping.id = custom_ids;
            in->mapping.id_cnt = 2;
            in->mapping.model = FUZZ_STR("model");
            in->mapping.provider = FUZZ_STR("provider");
            in->mapping.tokens[BR_TOK_INPUT] = FUZZ_STR("usage.in");
            in->mapping.tokens[BR_TOK_OUTPUT] = FUZZ_STR("usage.out");
            in->mapping.dims = custom_dims;
            in->mapping.dim_cnt = 2;
        }
        decoders[d] = br_decoder_new(in, errstr, sizeof errstr);
        FUZZ_ASSERT(decoders[d], "dialect %d: %s", d, errstr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!decoders[0])
        init();
    static br_record_t rec; /* 4 kB arena: reused, as the daemon does */
    for (int d = 0; d < BR_DIALECT__CNT; d++) {
        char errstr[512];
        br_record_reset(&rec);
        br_err_t err = br_decoder_decode(decoders[d], data, size, &rec, errstr,
                                         sizeof errstr);
        FUZZ_ASSERT(err >= 0 && err < BR_ERR__CNT, "dialect %d: error %d", d,
                    (int)err);
        FUZZ_LOG("%s: %s", br_dialect_name((br_dialect_t)d),
                 err == BR_ERR_OK ? "ok" : errstr);
        if (err == BR_ERR_OK)
            fuzz_check_record(&rec);
        else
            FUZZ_ASSERT(memchr(errstr, '\0', sizeof errstr) != NULL,
                        "errstr not terminated");
    }
    return 0;
}
