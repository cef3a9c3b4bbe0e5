/*
 * Writes the generated seed inputs of tests/fuzz/corpus (those that are
 * not copies of other corpora): Avro datums of schemas/usage.avsc made
 * from tests/replay's OpenAI events, the fixtures' datums plain and
 * Confluent-framed, schema+datum pairs, pipeline inputs (one compact JSON
 * message a line; "#avro" messages of those datums and of
 * tests/avro/hostile; "#csv" files cut from scripts/data's FOCUS sample,
 * tests/replay's excerpt and the decoder corpus, see fuzz_pipeline.c) and
 * snapshots of today's layout. Run again after a format change:
 * fuzz_mkseeds tests/fuzz/corpus (from the source tree).
 */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "burnrate/avro.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/csv.h"
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

/* One message of a pipeline "#avro" seed: 2-byte big-endian length, then
 * the bytes. */
static void avro_msg(br_buf_t *b, const void *msg, size_t len) {
    FUZZ_ASSERT(len <= 0xffff, "message of %zu bytes", len);
    unsigned char hdr[2] = {(unsigned char)(len >> 8), (unsigned char)len};
    br_buf_append(b, hdr, 2);
    br_buf_append(b, msg, len);
}

/* A datum as a Confluent message of writer schema `id` (the ids of
 * fuzz_pipeline.c's fetch_schema, which are fuzz_avro.c's). */
static void avro_framed(br_buf_t *b, uint32_t id, const void *datum,
                        size_t len) {
    br_buf_t f;
    br_buf_init(&f);
    br_avro_confluent_header(id, &f);
    br_buf_append(&f, datum, len);
    avro_msg(b, f.data, f.len);
    br_buf_free(&f);
}

/* Both framings of a datum, plain first. */
static void avro_both(br_buf_t *b, uint32_t id, const void *datum, size_t len) {
    avro_msg(b, datum, len);
    avro_framed(b, id, datum, len);
}

/* The first n lines of a JSON-lines file as Avro datums of usage.avsc;
 * the first 8 also make the pipeline's "#avro" seed avro-usage, and the
 * first one the seed of schema ids the pipeline cannot use. */
static void usage_datums(int n) {
    br_avro_schema_t *s = schema("schemas/usage.avsc");
    char errstr[512], name[64];
    br_avro_encoder_t *e = br_avro_encoder_new(s, errstr, sizeof errstr);
    FUZZ_ASSERT(e, "%s", errstr);
    char *text = fuzz_slurp("tests/replay/tokens_a.jsonl", NULL);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    size_t avsc_len;
    char *avsc = fuzz_slurp("schemas/usage.avsc", &avsc_len);
    br_buf_t pipe, ids;
    br_buf_init(&pipe);
    br_buf_init(&ids);
    br_buf_puts(&pipe, "#avro\n");
    br_buf_puts(&ids, "#avro\n");
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
        if (i < 8)
            avro_both(&pipe, 0, b.data, b.len);
        if (i == 0) {
            /* unknown, registry down, the wrong writer, then the right one */
            avro_framed(&ids, 77, b.data, b.len);
            avro_framed(&ids, UINT32_C(0x80000000), b.data, b.len);
            avro_framed(&ids, 2, b.data, b.len);
            avro_framed(&ids, 0, b.data, b.len);
        }
        br_buf_free(&p);
        br_buf_free(&b);
        json_decref(v);
    }
    avro_msg(&pipe, "", 0); /* and an empty message */
    put("pipeline", "avro-usage", pipe.data, pipe.len);
    put("pipeline", "avro-schema-ids", ids.data, ids.len);
    br_buf_free(&pipe);
    br_buf_free(&ids);
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
        br_buf_t pipe;
        br_buf_init(&pipe);
        br_buf_puts(&pipe, "#avro\n");
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
            avro_both(&pipe, (uint32_t)k + 1, line, n);
        }
        snprintf(name, sizeof name, "avro-%s", pairs[k]);
        put("pipeline", name, pipe.data, pipe.len);
        br_buf_free(&pipe);
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

/* The datums of tests/avro/hostile (lengths and counts that lie), each
 * plain and as id 0, then its good datum: "#avro" seed avro-hostile. */
static void hostile_datums(void) {
    char dir[512], rel[1024];
    snprintf(dir, sizeof dir, "%s/tests/avro/hostile", BR_FUZZ_SRC);
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    FUZZ_ASSERT(n >= 0, "%s", dir);
    br_buf_t pipe;
    br_buf_init(&pipe);
    br_buf_puts(&pipe, "#avro\n");
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm), len;
        if (l > 4 && strcmp(nm + l - 4, ".bin") == 0) {
            snprintf(rel, sizeof rel, "tests/avro/hostile/%s", nm);
            char *bytes = fuzz_slurp(rel, &len);
            avro_both(&pipe, 0, bytes, len);
            free(bytes);
        }
        free(names[i]);
    }
    free(names);
    char *good = fuzz_slurp("tests/avro/hostile/good.hex", NULL);
    size_t good_len = unhex(good);
    avro_both(&pipe, 0, good, good_len);
    free(good);
    put("pipeline", "avro-hostile", pipe.data, pipe.len);
    br_buf_free(&pipe);
}

/* One CSV field: strings quoted (quotes doubled), null the literal NULL,
 * anything else its compact JSON text, quoted (how exports carry tags). */
static void csv_field(br_buf_t *b, json_t *v) {
    if (!v || json_is_null(v)) {
        br_buf_puts(b, "NULL");
        return;
    }
    char *dump =
        json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *t = dump ? dump : json_string_value(v);
    br_buf_puts(b, "\"");
    for (; t && *t; t++)
        br_buf_append(b, *t == '"' ? "\"\"" : t, *t == '"' ? 2 : 1);
    br_buf_puts(b, "\"");
    free(dump);
}

/* The valid decoder cases of a billing dialect as one CSV file (header:
 * every key any case has; a case without a column has NULL there), and
 * its first row again at the end, an id seen before: "#csv" seed
 * csv-<dialect>. */
static void csv_from_corpus(const char *dialect) {
    char dir[512], path[1024], name[64];
    snprintf(dir, sizeof dir, "%s/tests/corpus/valid/%s", BR_FUZZ_SRC, dialect);
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    FUZZ_ASSERT(n >= 0, "%s", dir);
    json_t *rows = json_array(), *keys = json_array();
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        if (l > 5 && strcmp(nm + l - 5, ".json") == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, nm);
            json_t *v = json_load_file(path, 0, NULL);
            FUZZ_ASSERT(json_is_object(v), "%s", path);
            const char *k;
            json_t *x, *seen;
            size_t j;
            json_object_foreach(v, k, x) {
                int have = 0;
                json_array_foreach(keys, j, seen) {
                    have |= strcmp(json_string_value(seen), k) == 0;
                }
                if (!have)
                    json_array_append_new(keys, json_string(k));
            }
            json_array_append_new(rows, v);
        }
        free(names[i]);
    }
    free(names);
    json_array_append(rows, json_array_get(rows, 0));
    br_buf_t b;
    br_buf_init(&b);
    br_buf_puts(&b, "#csv\n");
    size_t j, r;
    json_t *k, *row;
    json_array_foreach(keys, j, k) {
        br_buf_puts(&b, j ? "," : "");
        csv_field(&b, k);
    }
    br_buf_puts(&b, "\r\n"); /* the RFC's line ends, LF in the others */
    json_array_foreach(rows, r, row) {
        json_array_foreach(keys, j, k) {
            br_buf_puts(&b, j ? "," : "");
            csv_field(&b, json_object_get(row, json_string_value(k)));
        }
        br_buf_puts(&b, "\r\n");
    }
    snprintf(name, sizeof name, "csv-%s", dialect);
    put("pipeline", name, b.data, b.len);
    br_buf_free(&b);
    json_decref(rows);
    json_decref(keys);
}

/* A FOCUS row of a CSV export as a datum of focus.avsc: its Tags column
 * is JSON text, the schema's a map of strings. */
static void focus_datum(br_avro_encoder_t *e, json_t *row, br_buf_t *pipe) {
    char errstr[512];
    const char *text = json_string_value(json_object_get(row, "Tags"));
    json_t *tags = json_loads(text ? text : "{}", 0, NULL);
    json_t *map = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v) {
        if (json_is_string(v))
            json_object_set(map, k, v);
    }
    json_object_set_new(row, "Tags", map);
    json_decref(tags);
    br_buf_t b;
    br_buf_init(&b);
    br_err_t err = br_avro_encode(e, row, &b, errstr, sizeof errstr);
    FUZZ_ASSERT(err == BR_ERR_OK, "focus.avsc: %s", errstr);
    avro_msg(pipe, b.data, b.len);
    br_buf_free(&b);
}

/* A cut of a FOCUS CSV export, "#csv" seed `name`: the header, the first
 * `first` rows, and when `more` the later rows that are not plain usage or
 * are AI services (credits, adjustments, Bedrock). With focus_avro, the
 * same rows as datums of schemas/focus.avsc: "#avro" seed `focus_avro`. */
static void csv_cut(const char *rel, const char *name, int first, int more,
                    const char *focus_avro) {
    char errstr[512], path[1024];
    snprintf(path, sizeof path, "%s/%s", BR_FUZZ_SRC, rel);
    FILE *fp = fopen(path, "rb");
    FUZZ_ASSERT(fp, "%s", path);
    br_csv_t *csv = br_csv_open(fp, errstr, sizeof errstr);
    FUZZ_ASSERT(csv, "%s: %s", rel, errstr);
    char *text = fuzz_slurp(rel, NULL);
    char *nl = strchr(text, '\n');
    FUZZ_ASSERT(nl, "%s: no header line", rel);
    br_buf_t b, pipe;
    br_buf_init(&b);
    br_buf_init(&pipe);
    br_buf_puts(&b, "#csv\n");
    br_buf_append(&b, text, (size_t)(nl - text) + 1);
    br_buf_puts(&pipe, "#avro\n");
    br_avro_schema_t *s = focus_avro ? schema("schemas/focus.avsc") : NULL;
    br_avro_encoder_t *e =
        s ? br_avro_encoder_new(s, errstr, sizeof errstr) : NULL;
    FUZZ_ASSERT(!focus_avro || e, "%s", errstr);
    json_t *obj;
    int64_t row;
    while (br_csv_next(csv, &obj, &row, errstr, sizeof errstr) == BR_ERR_OK) {
        const char *cat =
            json_string_value(json_object_get(obj, "ChargeCategory"));
        const char *svc =
            json_string_value(json_object_get(obj, "ServiceCategory"));
        if (row <= first ||
            (more && ((cat && strcmp(cat, "Usage") != 0) ||
                      (svc && strcmp(svc, "AI and Machine Learning") == 0)))) {
            size_t len;
            const char *raw = br_csv_raw(csv, &len);
            br_buf_append(&b, raw, len);
            br_buf_puts(&b, "\n");
            if (e)
                focus_datum(e, obj, &pipe);
        }
        json_decref(obj);
    }
    put("pipeline", name, b.data, b.len);
    if (e)
        put("pipeline", focus_avro, pipe.data, pipe.len);
    br_avro_encoder_free(e);
    br_avro_schema_free(s);
    br_buf_free(&b);
    br_buf_free(&pipe);
    free(text);
    br_csv_destroy(csv);
    fclose(fp);
}

/* The CSV reader's own seeds (quoting, CRLF, a NUL in a field) as
 * "#csv" seeds of the pipeline. */
static void csv_copy(const char *file) {
    char rel[256], name[128];
    size_t len;
    snprintf(rel, sizeof rel, "tests/fuzz/corpus/csv/%s", file);
    char *text = fuzz_slurp(rel, &len);
    br_buf_t b;
    br_buf_init(&b);
    br_buf_puts(&b, "#csv\n");
    br_buf_append(&b, text, len);
    snprintf(name, sizeof name, "csv-%s", file);
    put("pipeline", name, b.data, b.len);
    br_buf_free(&b);
    free(text);
}

static void pipeline_avro_csv_seeds(void) {
    hostile_datums();
    csv_from_corpus("focus");
    csv_from_corpus("cur");
    csv_cut("scripts/data/focus_sample.csv", "csv-focus-sample", 10, 1,
            "avro-focus-sample");
    csv_cut("tests/replay/focus_excerpt.csv", "csv-focus-excerpt", 15, 0, NULL);
    csv_copy("quoting-crlf.csv");
    csv_copy("nul-byte-in-field");
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
    pipeline_avro_csv_seeds();
    snapshot_seeds();
    return 0;
}
