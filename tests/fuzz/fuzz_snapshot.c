/*
 * Snapshot files and the pipeline state inside (the CORE section), as a
 * restart or `burnrate snapshot show` reads them from the state
 * directory. An input that starts with the magic is a whole file: its
 * length field and both CRC-32Cs are fixed up first, or nothing would get
 * past the checksums to the parsers behind them. Any other input is a CORE
 * blob, wrapped in a container by br_snapshot_encode, so that inserting or
 * dropping bytes inside the state does not merely break a section length.
 * What decodes is then described (needs no config) and restored into a
 * fresh pipeline of fuzz.h's config.
 */
#include <string.h>

#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/snapshot.h"
#include "burnrate/wire.h"
#include "fuzz.h"

static const uint8_t MAGIC[8] = {'B', 'R', 'S', 'N', 'A', 'P', '\r', '\n'};

static br_config_t *conf;

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void load(const void *file, size_t len) {
    char errstr[1024];
    br_snapshot_t snap;
    if (br_snapshot_decode(file, len, &snap, errstr, sizeof errstr) !=
        BR_ERR_OK) {
        FUZZ_LOG("container: %s", errstr);
        return;
    }
    br_buf_t json;
    br_buf_init(&json);
    br_err_t err = br_pipeline_describe(snap.core, snap.core_len, &json,
                                        errstr, sizeof errstr);
    FUZZ_LOG("describe: %s", err == BR_ERR_OK ? "ok" : errstr);
    br_buf_free(&json);
    br_pipeline_t *pl = br_pipeline_new(conf, &(br_sink_t){0}, errstr,
                                        sizeof errstr);
    FUZZ_ASSERT(pl, "%s", errstr);
    br_restore_info_t info;
    err = br_pipeline_restore(pl, snap.core, snap.core_len, &info, errstr,
                              sizeof errstr);
    FUZZ_LOG("restore: %s", err == BR_ERR_OK ? "ok" : errstr);
    if (err == BR_ERR_OK) {
        /* A restored pipeline runs on and saves. */
        br_pipeline_finish(pl);
        br_buf_t saved;
        br_buf_init(&saved);
        FUZZ_ASSERT(br_pipeline_save(pl, &saved) == BR_ERR_OK, "save");
        br_buf_free(&saved);
    }
    br_pipeline_destroy(pl);
    br_snapshot_clear(&snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!conf) {
        char errstr[1024];
        conf = br_config_load_string(FUZZ_PIPELINE_CONF, "fuzz.yaml", NULL,
                                     errstr, sizeof errstr);
        FUZZ_ASSERT(conf, "%s", errstr);
    }
    if (size >= BR_SNAPSHOT_HEADER && memcmp(data, MAGIC, sizeof MAGIC) == 0) {
        uint8_t *file = malloc(size);
        FUZZ_ASSERT(file, "out of memory");
        memcpy(file, data, size);
        uint64_t plen = size - BR_SNAPSHOT_HEADER;
        put_u32(file + 16, (uint32_t)plen);
        put_u32(file + 20, (uint32_t)(plen >> 32));
        put_u32(file + 24, br_crc32c(0, file + BR_SNAPSHOT_HEADER, plen));
        put_u32(file + 28, br_crc32c(0, file, 28));
        load(file, size);
        free(file);
        return 0;
    }
    br_snap_offset_t offs = {FUZZ_STR("usage"), 0, 42};
    br_snapshot_t snap = {.generation = 7,
                          .written_ms = 1748736000000,
                          .version = FUZZ_STR("fuzz"),
                          .group = FUZZ_STR("burnrate"),
                          .offsets = &offs,
                          .offset_cnt = 1,
                          .core = data,
                          .core_len = size};
    br_buf_t file;
    br_buf_init(&file);
    FUZZ_ASSERT(br_snapshot_encode(&snap, &file) == BR_ERR_OK, "encode");
    load(file.data, file.len);
    br_buf_free(&file);
    return 0;
}
