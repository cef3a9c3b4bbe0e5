/*
 * Writes the generated seed inputs of tests/fuzz/corpus (those that are
 * not copies of other corpora): Avro datums of schemas/usage.avsc made
 * from tests/replay's OpenAI events, the fixtures' datums plain and
 * Confluent-framed, schema+datum pairs, pipeline inputs (one compact JSON
 * message a line) and snapshots of today's layout. Run again after a
 * format change: fuzz_mkseeds tests/fuzz/corpus (from the source tree).
 */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "burnrate/avro.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/snapshot.h"
#include "fuzz.h"

static const char *out_dir;

static void put(const char *harness, const char *name, const void *data,
                size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_dir, harness);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, harness, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        fprintf(stderr, "mkseeds: cannot write %s\n", path);
        exit(1);
    }
}

static br_avro_schema_t *schema(const char *rel) {
    size_t len;
    char errstr[512];
    char *text = fuzz_slurp(rel, &len);
    br_avro_schema_t *s = br_avro_schema_parse(text, len, errstr, sizeof errstr);
    FUZZ_ASSERT(s, "%s: %s", rel, errstr);
    free(text);
    return s;
}

/* Hex text to bytes in place; returns the byte count. */
static size_t unhex(char *s) {
    size_t n = 0;
    for (size_t i = 0; s[i] && s[i + 1]; i += 2) {
        unsigned v;
        if (sscanf(s + i, "%2x", &v) != 1)
            break;
        s[n++] = (char)v;
    }
    return n;
}

static void confluent(const char *harness, const char *name, uint32_t id,
                      const void *body, size_t len) {
    br_buf_t b;
    br_buf_init(&b);
    br_avro_confluent_header(id, &b);
    br_buf_append(&b, body, len);
    put(harness, name, b.data, b.len);
    br_buf_free(&b);
}

/* The first n lines of a JSON-lines file as Avro datums of usage.avsc. */
static void usage_datums(int n) {
    br_avro_schema_t *s = schema("schemas/usage.avsc");
    char errstr[512], name[64];
    br_avro_encoder_t *e = br_avro_encoder_new(s, errstr, sizeof errstr);
    FUZZ_ASSERT(e, "%s", errstr);
    char *text = fuzz_slurp("tests/replay/tokens_a.jsonl", NULL);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    size_t avsc_len;
    char *avsc = fuzz_slurp("schemas/usage.avsc", &avsc_len);
    for (int i = 0; i < n && line; i++, line = strtok_r(NULL, "\n", &save)) {
        json_t *v = json_loads(line, 0, NULL);
        FUZZ_ASSERT(v, "tokens_a.jsonl line %d", i + 1);
        if (i == 1) /* one with a cost and a currency */
            json_object_set_new(v, "cost", json_string("0.012345"));
        if (i == 1)
            json_object_set_new(v, "currency", json_string("USD"));
        br_buf_t b;
        br_buf_init(&b);
        FUZZ_ASSERT(br_avro_encode(e, v, &b, errstr, sizeof errstr) ==
                        BR_ERR_OK, "%s", errstr);
        snprintf(name, sizeof name, "usage-%02d", i);
        put("avro", name, b.data, b.len);
        snprintf(name, sizeof name, "usage-%02d.confluent", i);
        confluent("avro", name, 0, b.data, b.len);
        /* avro_schema: the schema text, NUL, the datum */
        br_buf_t p;
        br_buf_init(&p);
        br_buf_append(&p, avsc, avsc_len);
        br_buf_append(&p, "", 1);
        br_buf_append(&p, b.data, b.len);
        snprintf(name, sizeof name, "usage-%02d", i);
        if (i < 3)
            put("avro_schema", name, p.data, p.len);
        br_buf_free(&p);
        br_buf_free(&b);
        json_decref(v);
    }
    free(avsc);
    free(text);
    br_avro_encoder_free(e);
    br_avro_schema_free(s);
}

/* tests/avro/fixtures: <pair>.hex datums; the id of a Confluent seed is
 * the pair's reader in fuzz_avro.c (usage.avsc is 0). */
static void fixture_datums(void) {
    static const char *const pairs[] = {"added", "removed", "promoted",
                                        "float", "incompatible"};
    char rel[256], name[128];
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        snprintf(rel, sizeof rel, "tests/avro/fixtures/%s.hex", pairs[k]);
        char *text = fuzz_slurp(rel, NULL);
        snprintf(rel, sizeof rel, "tests/avro/fixtures/%s.writer.avsc",
                 pairs[k]);
        size_t avsc_len;
        char *avsc = fuzz_slurp(rel, &avsc_len);
        char *save = NULL;
        int i = 0;
        for (char *line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save), i++) {
            size_t n = unhex(line);
            snprintf(name, sizeof name, "%s-%d", pairs[k], i);
            put("avro", name, line, n);
            snprintf(name, sizeof name, "%s-%d.confluent", pairs[k], i);
            confluent("avro", name, (uint32_t)k + 1, line, n);
            br_buf_t p;
            br_buf_init(&p);
            br_buf_append(&p, avsc, avsc_len);
            br_buf_append(&p, "", 1);
            br_buf_append(&p, line, n);
            snprintf(name, sizeof name, "%s-%d", pairs[k], i);
            put("avro_schema", name, p.data, p.len);
            br_buf_free(&p);
        }
        free(avsc);
        free(text);
    }
}

/* Compact JSON of every valid decoder case of a dialect, one a line. */
static void corpus_lines(const char *dialect, br_buf_t *out) {
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "%s/tests/corpus/valid/%s", BR_FUZZ_SRC, dialect);
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    FUZZ_ASSERT(n >= 0, "%s", dir);
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        if (l > 5 && strcmp(nm + l - 5, ".json") == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, nm);
            json_t *v = json_load_file(path, 0, NULL);
            char *c = v ? json_dumps(v, JSON_COMPACT) : NULL;
            if (c) {
                br_buf_puts(out, c);
                br_buf_puts(out, "\n");
            }
            free(c);
            json_decref(v);
        }
        free(names[i]);
    }
    free(names);
}

/* Custom-dialect events of the "usage" input over 30 hours: a flat hour
 * rate with a spike, a duplicate and a restatement. */
static void usage_lines(br_buf_t *out) {
    for (int h = 0; h < 30; h++) {
        int spike = h == 27;
        br_buf_printf(out,
                      "{\"ts\":\"2025-05-%02dT%02d:00:00Z\",\"cost\":\"%s\","
                      "\"rid\":\"r%d\",\"model\":\"tiny\",\"in\":%d,"
                      "\"out\":%d,\"team\":\"%s\",\"key\":\"k%d\"}\n",
                      30 + h / 24, h % 24, spike ? "90.5" : "1.25", h,
                      100 + h, 50, h % 2 ? "ml" : "search", h % 5);
    }
    br_buf_puts(out, "{\"ts\":\"2025-05-30T01:10:00Z\",\"cost\":\"1.25\","
                     "\"rid\":\"r1\",\"model\":\"tiny\",\"team\":\"ml\"}\n");
}

static void pipeline_seeds(void) {
    br_buf_t b;
    br_buf_init(&b);
    static const char *const dialects[] = {"openai", "anthropic", "otel",
                                           "litellm", "bedrock", "focus",
                                           "cur", "custom"};
    for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++) {
        br_buf_reset(&b);
        corpus_lines(dialects[i], &b);
        put("pipeline", dialects[i], b.data, b.len);
    }
    br_buf_reset(&b);
    usage_lines(&b);
    put("pipeline", "usage-30h", b.data, b.len);
    br_buf_reset(&b);
    char *text = fuzz_slurp("tests/replay/tokens_b.jsonl", NULL);
    char *cut = text;
    for (int i = 0; i < 40 && (cut = strchr(cut, '\n')); i++)
        cut++;
    put("pipeline", "tokens-40", text, cut ? (size_t)(cut - text) : strlen(text));
    free(text);
    br_buf_free(&b);
}

static void sink_alert(void *opaque, const br_alert_t *alert) {
    (void)opaque;
    (void)alert;
}

/* A snapshot of today's layout with series, incidents, budgets and
 * dedup ids: the usage events above fed to the "usage" input. */
static void snapshot_seeds(void) {
    char errstr[1024];
    br_config_t *conf = br_config_load_string(FUZZ_PIPELINE_CONF, "fuzz.yaml",
                                              NULL, errstr, sizeof errstr);
    FUZZ_ASSERT(conf, "%s", errstr);
    br_sink_t sink = {sink_alert, NULL, NULL};
    br_pipeline_t *pl = br_pipeline_new(conf, &sink, errstr, sizeof errstr);
    FUZZ_ASSERT(pl, "%s", errstr);
    br_buf_t lines, core, file;
    br_buf_init(&lines);
    br_buf_init(&core);
    br_buf_init(&file);
    usage_lines(&lines);
    char *save = NULL;
    int64_t off = 0;
    for (char *l = strtok_r(lines.data, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        br_origin_t o = {0, "usage", 0, off++, 0};
        br_pipeline_feed(pl, &o, l, strlen(l));
    }
    FUZZ_ASSERT(br_pipeline_save(pl, &core) == BR_ERR_OK, "save");
    put("snapshot", "core-current", core.data, core.len);
    br_snap_offset_t offs = {FUZZ_STR("usage"), 0, off};
    br_snapshot_t s = {.generation = 3, .written_ms = 1748736000000,
                       .version = FUZZ_STR(BR_VERSION), .group = FUZZ_STR("burnrate"),
                       .offsets = &offs, .offset_cnt = 1,
                       .core = core.data, .core_len = core.len};
    FUZZ_ASSERT(br_snapshot_encode(&s, &file) == BR_ERR_OK, "encode");
    put("snapshot", "file-current.brs", file.data, file.len);
    /* The committed fixtures' CORE alone (older layouts). */
    static const char *const old[] = {"v1", "v3"};
    for (size_t i = 0; i < 2; i++) {
        char rel[128], name[64];
        size_t len;
        snprintf(rel, sizeof rel, "tests/snapshot/%s.brs", old[i]);
        char *bytes = fuzz_slurp(rel, &len);
        br_snapshot_t d;
        FUZZ_ASSERT(br_snapshot_decode(bytes, len, &d, errstr,
                                       sizeof errstr) == BR_ERR_OK, "%s", rel);
        snprintf(name, sizeof name, "core-%s", old[i]);
        put("snapshot", name, d.core, d.core_len);
        br_snapshot_clear(&d);
        free(bytes);
    }
    br_pipeline_destroy(pl);
    br_config_destroy(conf);
    br_buf_free(&lines);
    br_buf_free(&core);
    br_buf_free(&file);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_mkseeds CORPUS_DIR\n");
        return 2;
    }
    out_dir = argv[1];
    mkdir(out_dir, 0777);
    usage_datums(12);
    fixture_datums();
    pipeline_seeds();
    snapshot_seeds();
    return 0;
}
