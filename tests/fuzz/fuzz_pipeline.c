/*
 * Hostile records through the whole core: decode, pricing, attribution,
 * dedup, state, detectors and budgets. The first line of an input says
 * how its records come in:
 *
 * - "#avro": Avro messages as producers send them, each a 2-byte
 *   big-endian length then that many bytes (the last one takes what is
 *   left; a last lone byte is left out), each fed (br_pipeline_feed) to
 *   the four Kafka inputs of AVRO_CSV_CONF below: plain datums of
 *   schemas/usage.avsc (openai) and of schemas/focus.avsc (focus), and
 *   Confluent framing (magic 0, 4-byte big-endian schema id, datum) read
 *   against the reader schemas usage.avsc (openai) and the float
 *   fixture's FOCUS reader (focus). The writer schema of an id comes from
 *   fetch_schema below: the table of fuzz_avro.c (0 usage.avsc, 1-5 the
 *   writer schemas of tests/avro/fixtures, resolved against the reader or
 *   refused as incompatible), any other id unknown, ids with the top bit
 *   set a registry that cannot answer now. Each message must be counted once,
 *   taken or dead-lettered, except one whose schema source cannot answer:
 *   that one not at all (it comes again). Binary lengths rather than hex
 *   lines: a mutation lands on the datum's bytes themselves, any byte
 *   (newlines too) can be in a message, and a mutated length only moves
 *   the boundaries, which is another input worth running.
 * - "#csv": the rest is one CSV file, read as replay reads a CSV input
 *   (br_csv over the bytes, here fmemopen) once for each of the focus and
 *   cur CSV inputs of AVRO_CSV_CONF: each row's object through
 *   br_pipeline_decode and br_pipeline_feed_decoded with its row number
 *   as origin offset and its raw text as a dead letter's payload; a row
 *   the reader refuses (width, quotes, NUL, UTF-8) is a dead letter
 *   (PARSE) as in replay, and any other reader error, which would stop a
 *   replay, is a finding.
 * - anything else: JSON messages one a line, each fed to every input of
 *   the fixed config in fuzz.h (FUZZ_PIPELINE_CONF) in turn. Inputs whose
 *   first line is not exactly "#avro" or "#csv" mean what they always
 *   meant.
 *
 * Kafka messages get timestamps and offsets that move. Then the end of
 * input; the state must then save, describe and restore with nothing
 * dropped, and the restored state must save to the same bytes (snapshots
 * are deterministic).
 */
#include <inttypes.h>
#include <string.h>

#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/csv.h"
#include "burnrate/pipeline.h"
#include "fuzz.h"

#define NOW_MS INT64_C(1748736000000) /* 2025-06-01T00:00:00Z */

/* The Avro and CSV inputs, with the scopes, detectors and budgets of
 * FUZZ_PIPELINE_CONF. Paths are relative to the source tree. schema_dir
 * is only there because a Kafka avro-confluent input needs a schema
 * source to load: the harness answers lookups itself (fetch_schema), from
 * memory, with more schemas than that directory has and with the answer
 * "cannot answer now" too. The float fixture's reader is the FOCUS schema
 * with double costs, so its float writer resolves by promotion. */
static const char *const AVRO_CSV_CONF =
    "inputs:\n"
    "  - name: avro\n"
    "    topic: avro\n"
    "    dialect: openai\n"
    "    format: avro\n"
    "    max_future: 1d\n"
    "    avro: {schema: schemas/usage.avsc}\n"
    "  - name: avro_focus\n"
    "    topic: avro_focus\n"
    "    dialect: focus\n"
    "    format: avro\n"
    "    avro: {schema: schemas/focus.avsc}\n"
    "  - name: confluent\n"
    "    topic: confluent\n"
    "    dialect: openai\n"
    "    format: avro-confluent\n"
    "    lateness: 1h\n"
    "    avro:\n"
    "      schema: schemas/usage.avsc\n"
    "      schema_dir: tests/avro/hostile/schemas\n"
    "  - name: confluent_focus\n"
    "    topic: confluent_focus\n"
    "    dialect: focus\n"
    "    format: avro-confluent\n"
    "    avro:\n"
    "      schema: tests/avro/fixtures/float.reader.avsc\n"
    "      schema_dir: tests/avro/hostile/schemas\n"
    "  - name: focus_csv\n"
    "    files: [focus.csv]\n"
    "    dialect: focus\n"
    "    format: csv\n"
    "  - name: cur_csv\n"
    "    files: [cur.csv]\n"
    "    dialect: cur\n"
    "    format: csv\n"
    "    restatements: duplicate\n" FUZZ_CORE_CONF;

/* Writer schemas by Confluent id: the numbering of fuzz_avro.c and of
 * the seeds fuzz_mkseeds writes. */
static const char *const writers[] = {
    "schemas/usage.avsc",
    "tests/avro/fixtures/added.writer.avsc",
    "tests/avro/fixtures/removed.writer.avsc",
    "tests/avro/fixtures/promoted.writer.avsc",
    "tests/avro/fixtures/float.writer.avsc",
    "tests/avro/fixtures/incompatible.writer.avsc"};
#define WRITERS (sizeof writers / sizeof writers[0])

/* How an input's records come in (its first line). */
typedef enum { FRAMING_JSON, FRAMING_AVRO, FRAMING_CSV } framing_t;

static br_config_t *json_conf, *avro_csv_conf;
static char *writer_text[WRITERS];
static size_t writer_len[WRITERS];
static uint64_t alerts_cnt, dead_cnt;

static void on_alert(void *opaque, const br_alert_t *alert) {
    (void)opaque;
    (void)alert;
    alerts_cnt++;
}

static void on_dead(void *opaque, const br_origin_t *origin,
                    const void *payload, size_t len, br_err_t reason,
                    const char *detail) {
    (void)opaque;
    (void)payload;
    (void)len;
    FUZZ_ASSERT(reason > BR_ERR_SKIP && reason < BR_ERR__CNT, "reason %d",
                (int)reason);
    FUZZ_ASSERT(detail != NULL, "dead letter without detail");
    FUZZ_LOG("dead letter, input %d offset %" PRId64 ": %s: %s", origin->input,
             origin->offset, br_err_name(reason), detail);
    dead_cnt++;
}

static const br_sink_t sink = {on_alert, on_dead, NULL};

/* A schema source without a registry (br_schema_fetch_fn): ids of the
 * table answer at once, ids with the top bit set are a registry that is
 * down (the message is not taken and comes again), others do not exist. */
static br_err_t fetch_schema(void *opaque, const br_input_conf_t *in,
                             uint32_t id, br_buf_t *out, char *errstr,
                             size_t errstr_size) {
    (void)opaque;
    (void)in;
    if (id & UINT32_C(0x80000000)) {
        snprintf(errstr, errstr_size, "registry down (id %" PRIu32 ")", id);
        return BR_ERR_IO;
    }
    if (id >= WRITERS) {
        snprintf(errstr, errstr_size, "unknown schema id %" PRIu32, id);
        return BR_ERR_NOTFOUND;
    }
    br_buf_append(out, writer_text[id], writer_len[id]);
    return BR_ERR_OK;
}

static void init(void) {
    char errstr[1024];
    json_conf = br_config_load_string(FUZZ_PIPELINE_CONF, "fuzz.yaml", NULL,
                                      errstr, sizeof errstr);
    FUZZ_ASSERT(json_conf, "%s", errstr);
    avro_csv_conf = br_config_load_string(AVRO_CSV_CONF, "fuzz-avro-csv.yaml",
                                          BR_FUZZ_SRC, errstr, sizeof errstr);
    FUZZ_ASSERT(avro_csv_conf, "%s", errstr);
    for (size_t i = 0; i < WRITERS; i++)
        writer_text[i] = fuzz_slurp(writers[i], &writer_len[i]);
}

static br_pipeline_t *pipeline(const br_config_t *conf) {
    char errstr[1024];
    br_pipeline_t *pl = br_pipeline_new(conf, &sink, errstr, sizeof errstr);
    FUZZ_ASSERT(pl, "%s", errstr);
    br_pipeline_set_schema_fetch(pl, fetch_schema, NULL);
    return pl;
}

/* The origin of message n of a Kafka input: offsets, partitions and
 * timestamps move with n. */
static br_origin_t kafka_origin(const br_config_t *conf, int input, int64_t n) {
    br_origin_t o = {input, conf->inputs[input].name, (int32_t)(n % 3), n,
                     NOW_MS - 3600000 + n * 1000};
    return o;
}

/* Today's inputs: one JSON message a line, to every input. */
static void feed_json(br_pipeline_t *pl, const br_config_t *conf,
                      const uint8_t *p, const uint8_t *end) {
    int64_t line = 0;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        for (int i = 0; i < (int)conf->input_cnt; i++) {
            br_origin_t origin = kafka_origin(conf, i, line);
            br_pipeline_feed(pl, &origin, p, len);
        }
        line++;
        p += len + (nl != NULL);
    }
}

/* One Avro message to one input. Every message is counted once, as taken
 * or as a dead letter, except when the schema source cannot answer: then
 * it is not taken at all (the consumer gives it again later). */
static void feed_avro_one(br_pipeline_t *pl, const br_origin_t *origin,
                          const uint8_t *msg, size_t len) {
    br_pipeline_stats_t before, after;
    br_pipeline_stats(pl, &before);
    uint64_t dead_before = dead_cnt;
    br_err_t err = br_pipeline_feed(pl, origin, msg, len);
    br_pipeline_stats(pl, &after);
    if (err == BR_ERR_IO) {
        FUZZ_ASSERT(after.messages == before.messages &&
                        dead_cnt == dead_before,
                    "a message not taken (schema source down) was counted");
        return;
    }
    FUZZ_ASSERT(after.messages == before.messages + 1, "message not counted");
    if (err != BR_ERR_OK && err != BR_ERR_SKIP)
        FUZZ_ASSERT(dead_cnt == dead_before + 1,
                    "refused (%d) without a dead letter", (int)err);
}

/* "#avro" inputs: 2-byte big-endian length, message; to every Kafka
 * input (the CSV inputs read files only). */
static void feed_avro(br_pipeline_t *pl, const br_config_t *conf,
                      const uint8_t *p, const uint8_t *end) {
    int64_t n = 0;
    while (end - p >= 2) { /* a last lone byte makes no length: left out */
        size_t want = (size_t)p[0] << 8 | p[1];
        p += 2;
        size_t len = want < (size_t)(end - p) ? want : (size_t)(end - p);
        for (int i = 0; i < (int)conf->input_cnt; i++)
            if (conf->inputs[i].format != BR_FORMAT_CSV) {
                br_origin_t origin = kafka_origin(conf, i, n);
                feed_avro_one(pl, &origin, p, len);
            }
        n++;
        p += len;
    }
}

/* One CSV file into one input, as replay's cursor_read takes it: a row
 * that parses is decoded and fed at once (replay sorts first; in file
 * order here), a bad row is replay's own dead letter. */
static void feed_csv_input(br_pipeline_t *pl, const br_config_t *conf,
                           int input, const uint8_t *data, size_t size) {
    static br_record_t rec;
    char why[512];
    /* fmemopen's "r" reads the buffer in place: copy it, it is const. */
    char *copy = malloc(size);
    FUZZ_ASSERT(copy, "out of memory");
    memcpy(copy, data, size);
    FILE *fp = fmemopen(copy, size, "r");
    FUZZ_ASSERT(fp, "fmemopen");
    br_csv_t *csv = br_csv_open(fp, why, sizeof why);
    br_origin_t origin = {input, conf->inputs[input].files[0], 0, 0, 0};
    int64_t last = 0;
    while (csv) {
        json_t *obj = NULL;
        int64_t row = 0;
        br_err_t err = br_csv_next(csv, &obj, &row, why, sizeof why);
        if (err == BR_ERR_NOTFOUND || err == BR_ERR_IO)
            break; /* end of file; replay stops on a read error */
        /* rows move on, so the loop ends */
        FUZZ_ASSERT(row > last, "row %" PRId64 " after %" PRId64, row, last);
        last = row;
        origin.offset = row;
        size_t raw_len = 0;
        const char *raw = br_csv_raw(csv, &raw_len);
        if (!raw)
            raw_len = 0;
        if (raw_len > conf->max_message_bytes) /* replay's line_cap */
            raw_len = conf->max_message_bytes;
        if (err == BR_ERR_PARSE) {
            on_dead(NULL, &origin, raw, raw_len, err, why);
            continue;
        }
        /* Any other error stops a replay: a file of rows must not have
         * one (a header that was not UTF-8 made each row "out of memory"). */
        FUZZ_ASSERT(err == BR_ERR_OK && obj, "row %" PRId64 ": %s", row, why);
        err = br_pipeline_decode(pl, &origin, raw, raw_len, obj, &rec);
        json_decref(obj);
        if (err == BR_ERR_OK)
            br_pipeline_feed_decoded(pl, &rec, raw, raw_len);
    }
    br_csv_destroy(csv);
    fclose(fp);
    free(copy);
}

/* "#csv" inputs: the rest is one file, read by every CSV input. */
static void feed_csv(br_pipeline_t *pl, const br_config_t *conf,
                     const uint8_t *p, const uint8_t *end) {
    if (p == end) /* fmemopen refuses a zero-length buffer */
        return;
    for (int i = 0; i < (int)conf->input_cnt; i++)
        if (conf->inputs[i].format == BR_FORMAT_CSV)
            feed_csv_input(pl, conf, i, p, (size_t)(end - p));
}

/* The framing the first line names; *data and *size are moved past that
 * line. */
static framing_t framing_of(const uint8_t **data, size_t *size) {
    static const struct {
        const char *line;
        framing_t framing;
    } marks[] = {{"#avro\n", FRAMING_AVRO}, {"#csv\n", FRAMING_CSV}};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        size_t n = strlen(marks[i].line);
        if (*size >= n && memcmp(*data, marks[i].line, n) == 0) {
            *data += n;
            *size -= n;
            return marks[i].framing;
        }
    }
    return FRAMING_JSON;
}

/* After the end of input: save, describe, restore under the same config
 * with nothing dropped, and the restored state saves to the same bytes. */
static void check_state(br_pipeline_t *pl, const br_config_t *conf) {
    br_buf_t saved, again, json;
    br_buf_init(&saved);
    br_buf_init(&again);
    br_buf_init(&json);
    char errstr[1024];
    FUZZ_ASSERT(br_pipeline_save(pl, &saved) == BR_ERR_OK, "save");
    br_err_t err = br_pipeline_describe(saved.data, saved.len, &json, errstr,
                                        sizeof errstr);
    FUZZ_ASSERT(err == BR_ERR_OK, "describe of a saved state: %s", errstr);
    br_pipeline_t *restored = pipeline(conf);
    br_restore_info_t info;
    err = br_pipeline_restore(restored, saved.data, saved.len, &info, errstr,
                              sizeof errstr);
    FUZZ_ASSERT(err == BR_ERR_OK, "restore of a saved state: %s", errstr);
    FUZZ_ASSERT(info.dropped_series == 0 && info.dropped_scopes == 0 &&
                    info.dropped_budgets == 0 && info.dropped_inputs == 0,
                "restore under the same config dropped state");
    FUZZ_ASSERT(br_pipeline_save(restored, &again) == BR_ERR_OK, "save");
    FUZZ_ASSERT(again.len == saved.len &&
                    memcmp(again.data, saved.data, saved.len) == 0,
                "restored state saves to other bytes (%zu vs %zu)", again.len,
                saved.len);
    br_pipeline_destroy(restored);
    br_buf_free(&saved);
    br_buf_free(&again);
    br_buf_free(&json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!json_conf)
        init();
    framing_t framing = framing_of(&data, &size);
    const br_config_t *conf =
        framing == FRAMING_JSON ? json_conf : avro_csv_conf;
    br_pipeline_t *pl = pipeline(conf);
    br_pipeline_set_now(pl, NOW_MS);
    const uint8_t *end = data + size;
    if (framing == FRAMING_AVRO)
        feed_avro(pl, conf, data, end);
    else if (framing == FRAMING_CSV)
        feed_csv(pl, conf, data, end);
    else
        feed_json(pl, conf, data, end);
    br_pipeline_finish(pl);
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    static const char *const names[] = {"json", "avro", "csv"};
    FUZZ_LOG("%s: messages %" PRIu64 " ok %" PRIu64 " dead %" PRIu64
             " duplicates %" PRIu64 " series %" PRIu64 " alerts %" PRIu64,
             names[framing], st.messages, st.ok, st.dead_letters, st.duplicates,
             st.series, st.alerts);
    check_state(pl, conf);
    br_pipeline_destroy(pl);
    return 0;
}
