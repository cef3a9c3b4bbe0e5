/*
 * The config file (br_config_load_string): YAML, every key's validation,
 * ${VAR} / ${env:VAR} / ${file:PATH} expansion (src/cmd/expand.c, reached
 * through any value), relative paths resolved against tests/config/valid
 * (where the fixtures' schema and price files are). A config that loads
 * is dumped (br_config_dump), must load again from its dump, and builds
 * a pipeline: what check-config and a reload do with it.
 */
#include <string.h>

#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "fuzz.h"

static char *dump(const br_config_t *conf) {
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    FUZZ_ASSERT(fp, "open_memstream");
    br_config_dump(conf, fp);
    fclose(fp);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char errstr[8192];
    static int once;
    if (!once) {
        /* What ${VAR} finds: fixed, so a run reproduces. */
        setenv("BR_FUZZ_VAR", "fuzz-value-0123456789", 1);
        once = 1;
    }
    char *yaml = malloc(size + 1);
    FUZZ_ASSERT(yaml, "out of memory");
    memcpy(yaml, data, size);
    yaml[size] = '\0';
    const char *base = BR_FUZZ_SRC "/tests/config/valid";
    br_config_t *conf = br_config_load_string(yaml, "fuzz.yaml", base, errstr,
                                              sizeof errstr);
    FUZZ_LOG("%s", conf ? "loads" : errstr);
    if (!conf) {
        free(yaml);
        FUZZ_ASSERT(memchr(errstr, '\0', sizeof errstr), "errstr");
        return 0;
    }
    /* dump -> load -> dump is stable (tests/test_config.c holds every
     * fixture to it). Not with ${...}: a dump prints expanded values,
     * which a second load would expand again. */
    char *a = dump(conf);
    if (!memchr(data, '$', size)) {
        br_config_t *again = br_config_load_string(a, "dump", base, errstr,
                                                   sizeof errstr);
        FUZZ_ASSERT(again, "the dump does not load: %s\n%s", errstr, a);
        char *b = dump(again);
        FUZZ_ASSERT(strcmp(a, b) == 0, "round trip differs:\n%s\n---\n%s",
                    a, b);
        free(b);
        br_config_destroy(again);
    }
    free(a);
    free(yaml);
    br_pipeline_t *pl = br_pipeline_new(conf, &(br_sink_t){0}, errstr,
                                        sizeof errstr);
    FUZZ_LOG("pipeline: %s", pl ? "built" : errstr);
    br_pipeline_destroy(pl);
    br_config_destroy(conf);
    return 0;
}
