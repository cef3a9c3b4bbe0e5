/* Avro datums written by an independent encoder (python3-avro; see
 * tests/avro/gen.py) decode into burnrate's JSON shape through writer/reader
 * schema pairs: added, removed and promoted fields resolve, an incompatible
 * writer schema is refused naming its field, every truncation of a datum is
 * a parse error and a lying length allocates nothing; JSON values encode
 * into datums that decode back to the same values (the alert schema);
 * object container files written by python3-avro read record by record;
 * Confluent framing is checked. Hostile datums (tests/avro/hostile/, one
 * per file) are dead letters, plain and Confluent-framed through the
 * pipeline, and so is every mutation of a good datum that is not one. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/avro.h"
#include "burnrate/alert.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"
#include "burnrate/schemasrc.h"
#include "burnrate/ts.h"

static char *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static br_avro_schema_t *schema(const char *path) {
    size_t len;
    char err[512], *text = slurp(path, &len);
    CHECK(text != NULL);
    if (!text)
        return NULL;
    br_avro_schema_t *s = br_avro_schema_parse(text, len, err, sizeof err);
    if (!s)
        fprintf(stderr, "%s: %s\n", path, err);
    free(text);
    return s;
}

static size_t unhex(const char *h, unsigned char *out, size_t cap) {
    size_t n = 0;
    while (h[0] && h[1] && n < cap) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1)
            break;
        out[n++] = (unsigned char)v;
        h += 2;
    }
    return n;
}

/* Times compare as instants: RFC 3339 text becomes epoch ms. */
static void normalize(json_t *v) {
    const char *k;
    json_t *c;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, k, c) {
            int64_t ms;
            if (json_is_string(c) && json_string_length(c) >= 20 &&
                json_string_value(c)[4] == '-' &&
                br_ts_parse(json_string_value(c), json_string_length(c),
                            &ms) == BR_ERR_OK)
                json_object_set_new(v, k, json_integer(ms));
            else
                normalize(c);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, c) normalize(c);
    }
}

/* Numbers and decimal text compare by value, so "1.50" equals 1.5. */
static void check_case(const char *name, bool compatible) {
    char path[256], err[512];
    snprintf(path, sizeof path, "avro/fixtures/%s.writer.avsc", name);
    br_avro_schema_t *w = schema(path);
    snprintf(path, sizeof path, "avro/fixtures/%s.reader.avsc", name);
    br_avro_schema_t *rd = schema(path);
    CHECK(w && rd);
    if (!w || !rd)
        return;
    br_avro_reader_t *r = br_avro_reader_new(w, rd, err, sizeof err);
    if (!compatible) {
        /* Refused once, when the reader is made, naming the field: every
         * message of this writer schema is then a TYPE dead letter. */
        CHECK(r == NULL);
        CHECK(strstr(err, "usage.prompt_tokens") != NULL);
        CHECK(strstr(err, "string cannot be read as long") != NULL);
        br_avro_reader_free(r);
        br_avro_schema_free(w);
        br_avro_schema_free(rd);
        return;
    }
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "%s: %s\n", name, err);
        return;
    }
    snprintf(path, sizeof path, "avro/fixtures/%s.hex", name);
    FILE *hx = fopen(path, "r");
    snprintf(path, sizeof path, "avro/fixtures/%s.expect.jsonl", name);
    FILE *ex = fopen(path, "r");
    CHECK(hx && ex);
    char hline[65536], eline[65536];
    int cases = 0, mismatched = 0, truncations_ok = 0;
    while (hx && ex && fgets(hline, sizeof hline, hx) &&
           fgets(eline, sizeof eline, ex)) {
        unsigned char bin[32768];
        size_t n = unhex(hline, bin, sizeof bin);
        json_t *got = NULL;
        json_error_t jerr;
        json_t *want = json_loads(eline, JSON_DECODE_ANY, &jerr);
        br_err_t e = br_avro_reader_decode(r, bin, n, &got, err, sizeof err);
        CHECK_INT(e, BR_ERR_OK);
        cases++;
        normalize(got);
        normalize(want);
        if (e == BR_ERR_OK && !json_equal(got, want)) {
            char *g = json_dumps(got, JSON_SORT_KEYS);
            if (mismatched++ == 0)
                fprintf(stderr, "%s: got  %s\n%s: want %s", name, g, name,
                        eline);
            free(g);
        }
        json_decref(got);
        json_decref(want);
        for (size_t k = 0; k < n; k++) {
            json_t *t = NULL;
            if (br_avro_reader_decode(r, bin, k, &t, err, sizeof err) ==
                BR_ERR_OK)
                truncations_ok++;
            json_decref(t);
        }
    }
    CHECK(cases > 0);
    CHECK_INT(mismatched, 0);
    CHECK_INT(truncations_ok, 0);
    if (hx)
        fclose(hx);
    if (ex)
        fclose(ex);
    br_avro_reader_free(r);
    br_avro_schema_free(w);
    br_avro_schema_free(rd);
}

static void test_confluent(void) {
    const unsigned char ok[] = {0, 0, 0, 1, 44, 2};
    const unsigned char bad[] = {1, 0, 0, 0, 1, 2};
    uint32_t id;
    const void *body;
    size_t len;
    char err[256];
    CHECK_INT(br_avro_confluent_split(ok, sizeof ok, &id, &body, &len, err,
                                      sizeof err), BR_ERR_OK);
    CHECK(id == 300 && len == 1);
    CHECK_INT(br_avro_confluent_split(bad, sizeof bad, &id, &body, &len, err,
                                      sizeof err), BR_ERR_PARSE);
    CHECK(strstr(err, "magic") != NULL);
    CHECK_INT(br_avro_confluent_split(ok, 4, &id, &body, &len, err,
                                      sizeof err), BR_ERR_PARSE);
}

/* A string that claims a gigabyte in a 3-byte datum: refused by the bounds
 * check before avro-c allocates anything (LSan would see avro-c's leak). */
static void test_lying_length(void) {
    const char *sch = "{\"type\":\"record\",\"name\":\"R\",\"fields\":"
                      "[{\"name\":\"s\",\"type\":\"string\"},"
                      "{\"name\":\"a\",\"type\":{\"type\":\"array\","
                      "\"items\":\"null\"}}]}";
    char err[512];
    br_avro_schema_t *s = br_avro_schema_parse(sch, strlen(sch), err, sizeof err);
    CHECK(s != NULL);
    br_avro_reader_t *r = s ? br_avro_reader_new(s, NULL, err, sizeof err) : NULL;
    CHECK(r != NULL);
    if (!r) {
        br_avro_schema_free(s);
        return;
    }
    /* zigzag(2^30) = 2^31: varint 80 80 80 80 08 */
    const unsigned char big[] = {0x80, 0x80, 0x80, 0x80, 0x08, 'x'};
    json_t *out = NULL;
    CHECK_INT(br_avro_reader_decode(r, big, sizeof big, &out, err, sizeof err),
              BR_ERR_PARSE);
    CHECK(strstr(err, "s: truncated") != NULL);
    /* An array of nulls claiming 2^40 items. */
    const unsigned char many[] = {0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00};
    CHECK_INT(br_avro_reader_decode(r, many, sizeof many, &out, err, sizeof err),
              BR_ERR_PARSE);
    CHECK(strstr(err, "a: a block count larger than the datum") != NULL);
    const unsigned char neg[] = {0x01, 0x00};
    CHECK_INT(br_avro_reader_decode(r, neg, sizeof neg, &out, err, sizeof err),
              BR_ERR_PARSE);
    CHECK(strstr(err, "negative length") != NULL);
    const unsigned char ok[] = {0x02, 'h', 0x04, 0x00};
    CHECK_INT(br_avro_reader_decode(r, ok, sizeof ok, &out, err, sizeof err),
              BR_ERR_OK);
    CHECK(json_is_string(json_object_get(out, "s")) &&
          !strcmp(json_string_value(json_object_get(out, "s")), "h"));
    CHECK_INT(json_array_size(json_object_get(out, "a")), 2);
    json_decref(out);
    br_avro_reader_free(r);
    br_avro_schema_free(s);
}

/* Blocks with a negative count carry their size in bytes (the spec); a
 * size that is not what the block's items take is a lie. */
static void test_negative_block_count(void) {
    const char *sch = "{\"type\":\"map\",\"values\":\"string\"}";
    char err[512];
    br_avro_schema_t *s = br_avro_schema_parse(sch, strlen(sch), err, sizeof err);
    br_avro_reader_t *r = s ? br_avro_reader_new(s, NULL, err, sizeof err) : NULL;
    CHECK(r != NULL);
    if (!r) {
        br_avro_schema_free(s);
        return;
    }
    /* {"a": "x"} in a block of -1 items, 4 bytes; then {"b": ""}. */
    const unsigned char ok[] = {0x01, 0x08, 0x02, 'a', 0x02, 'x',
                                0x02, 0x02, 'b', 0x00, 0x00};
    json_t *out = NULL;
    CHECK_INT(br_avro_reader_decode(r, ok, sizeof ok, &out, err, sizeof err),
              BR_ERR_OK);
    CHECK_STR(json_string_value(json_object_get(out, "a")), "x");
    CHECK_STR(json_string_value(json_object_get(out, "b")), "");
    json_decref(out);
    unsigned char wrong[sizeof ok];
    memcpy(wrong, ok, sizeof ok);
    wrong[1] = 0x06; /* 3 bytes */
    CHECK_INT(br_avro_reader_decode(r, wrong, sizeof wrong, &out, err, sizeof err),
              BR_ERR_PARSE);
    CHECK(strstr(err, "a block size that is not its items' size") != NULL);
    br_avro_reader_free(r);
    br_avro_schema_free(s);
}

static const char *HOSTILE_CONF =
    "inputs:\n"
    "  - name: plain\n"
    "    topic: p\n"
    "    dialect: openai\n"
    "    format: avro\n"
    "    avro: {schema: ../schemas/usage.avsc}\n"
    "  - name: framed\n"
    "    topic: f\n"
    "    dialect: openai\n"
    "    format: avro-confluent\n"
    "    avro: {schema_dir: avro/hostile/schemas}\n"
    "scopes:\n"
    "  - {name: total, dims: []}\n";

/* Feed one datum to both inputs (the second in the Confluent framing,
 * schema id 1 from the schema directory): @returns whether both became
 * dead letters with reason PARSE or TYPE and a detail. */
static bool pipeline_refuses(br_pipeline_t *pl, const brp_sink_t *d,
                             const unsigned char *datum, size_t len) {
    bool ok = true;
    br_buf_t framed;
    br_buf_init(&framed);
    br_avro_confluent_header(1, &framed);
    br_buf_append(&framed, datum, len);
    for (int input = 0; input < 2; input++) {
        br_origin_t o = {input, input ? "f" : "p", 0, 0, 0};
        int before = d->dead;
        br_err_t e = input ? br_pipeline_feed(pl, &o, framed.data, framed.len)
                           : br_pipeline_feed(pl, &o, datum, len);
        ok = ok && (e == BR_ERR_PARSE || e == BR_ERR_TYPE) &&
             d->dead == before + 1 && d->last_dead.reason == e &&
             d->last_dead.detail[0];
    }
    br_buf_free(&framed);
    return ok;
}

/* Every file of tests/avro/hostile/ (a datum of usage.avsc whose lengths
 * or counts lie, the first of them issue 15's) is refused as PARSE by the
 * reader, and as a dead letter by the pipeline in both framings, with no
 * allocation of the size it claims (ASan would abort). A good datum built
 * the same way decodes. */
static void test_hostile(void) {
    char err[512];
    br_avro_schema_t *s = schema("../schemas/usage.avsc");
    br_avro_reader_t *r = s ? br_avro_reader_new(s, NULL, err, sizeof err) : NULL;
    br_config_t *conf = brp_config_in(HOSTILE_CONF, "hostile.yaml", ".");
    brp_sink_t d = {0};
    br_pipeline_t *pl = conf ? brp_start(conf, &d) : NULL;
    CHECK(r && pl);
    DIR *dir = opendir("avro/hostile");
    CHECK(dir != NULL);
    if (!r || !pl || !dir)
        goto done;
    br_pipeline_set_schema_fetch(pl, br_schemasrc_fetch, NULL);
    size_t len;
    char *good_hex = slurp("avro/hostile/good.hex", &len);
    unsigned char good[256];
    size_t good_len = good_hex ? unhex(good_hex, good, sizeof good) : 0;
    free(good_hex);
    json_t *out = NULL;
    CHECK_INT(br_avro_reader_decode(r, good, good_len, &out, err, sizeof err),
              BR_ERR_OK);
    CHECK_STR(json_string_value(json_object_get(json_object_get(out, "metadata"),
                                                "team")), "ml");
    json_decref(out);
    int cases = 0;
    bool issue15 = false;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".bin"))
            continue;
        char path[512];
        snprintf(path, sizeof path, "avro/hostile/%s", de->d_name);
        unsigned char *bin = (unsigned char *)slurp(path, &len);
        CHECK(bin != NULL);
        if (!bin)
            continue;
        cases++;
        issue15 |= !strncmp(de->d_name, "issue15_", 8);
        br_err_t e = br_avro_reader_decode(r, bin, len, &out, err, sizeof err);
        if (e != BR_ERR_PARSE || out)
            fprintf(stderr, "%s: %s (%s)\n", de->d_name, br_err_name(e), err);
        CHECK_INT(e, BR_ERR_PARSE);
        CHECK(out == NULL);
        json_decref(out);
        if (!pipeline_refuses(pl, &d, bin, len)) {
            fprintf(stderr, "%s: not a dead letter in the pipeline (%s)\n",
                    de->d_name, d.last_dead.detail);
            CHECK(0);
        }
        free(bin);
    }
    CHECK(cases >= 15 && issue15);
done:
    if (dir)
        closedir(dir);
    br_pipeline_destroy(pl);
    brp_sink_free(&d);
    br_config_destroy(conf);
    br_avro_reader_free(r);
    br_avro_schema_free(s);
}

/* Mutations of good datums (a byte changed, a varint of any size put in,
 * bytes cut out, a negative length or count) decode or are refused as
 * PARSE or TYPE, read as written and resolved against another schema,
 * and never crash or allocate what a length claims (under ASan). */
static void test_mutations(void) {
    char err[512];
    br_avro_schema_t *s = schema("../schemas/usage.avsc");
    br_avro_reader_t *r = s ? br_avro_reader_new(s, NULL, err, sizeof err) : NULL;
    br_avro_schema_t *w8 = schema("avro/fixtures/added.writer.avsc");
    br_avro_reader_t *r8 = w8 && s ? br_avro_reader_new(w8, s, err, sizeof err) : NULL;
    CHECK(r && r8);
    FILE *hx = fopen("avro/fixtures/added.hex", "r");
    CHECK(hx != NULL);
    char line[65536];
    uint64_t seed = 15;
    int decoded = 0, refused = 0;
    while (r && r8 && hx && fgets(line, sizeof line, hx)) {
        unsigned char bin[4096], m[4096 + 16];
        size_t n = unhex(line, bin, sizeof bin);
        for (int k = 0; k < 400 && n; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            size_t at = (size_t)(seed >> 33) % n, ml = n;
            memcpy(m, bin, n);
            switch ((seed >> 20) % 4) {
            case 0: /* a byte */
                m[at] = (unsigned char)(seed >> 8);
                break;
            case 1: /* a varint of any size put in */
                memmove(m + at + 10, m + at, n - at);
                for (int i = 0; i < 10; i++)
                    m[at + i] = (unsigned char)(seed >> (i * 6)) | (i < 9 ? 0x80 : 0);
                m[at + (seed >> 60) % 10] &= 0x7f;
                ml = n + 10;
                break;
            case 2: /* bytes cut out */
                ml = n - (size_t)((seed >> 40) % (n - at));
                memmove(m + at, bin + n - (ml - at), ml - at);
                break;
            default: /* a negative length or count */
                m[at] = (unsigned char)(((seed >> 8) & 0x7e) | 1);
                break;
            }
            json_t *out = NULL;
            br_err_t e = br_avro_reader_decode(r8, m, ml, &out, err, sizeof err);
            CHECK(e == BR_ERR_OK || e == BR_ERR_PARSE || e == BR_ERR_TYPE);
            CHECK((e == BR_ERR_OK) == (out != NULL));
            if (e == BR_ERR_OK)
                decoded++;
            else
                refused++;
            json_decref(out);
            br_avro_reader_decode(r, m, ml, &out, err, sizeof err);
            json_decref(out);
        }
    }
    CHECK(decoded > 0 && refused > 0);
    if (hx)
        fclose(hx);
    br_avro_reader_free(r);
    br_avro_reader_free(r8);
    br_avro_schema_free(s);
    br_avro_schema_free(w8);
}

/* An alert-shaped value through the alert schema and back: every field,
 * money exact to the nano (decimal(38,9)), times as instants, union
 * branches chosen by value, absent optional fields defaulted. */
static void test_encode_alert(void) {
    br_avro_schema_t *s = schema("../schemas/alert.avsc");
    CHECK(s != NULL);
    if (!s)
        return;
    const char *text =
        "{\"id\":\"00ff00ff00ff00ff\",\"fingerprint\":\"00ff00ff00ff00ff\","
        "\"revision\":2,\"type\":\"budget_threshold\",\"status\":\"updated\","
        "\"severity\":\"critical\",\"scope\":\"search-daily\","
        "\"labels\":{\"team\":\"search\"},"
        "\"window\":{\"start\":\"2025-03-01T00:00:00.000Z\","
        "\"end\":\"2025-03-02T00:00:00.000Z\"},\"currencyCode\":\"USD\","
        "\"observed\":\"92233720368.547758070\",\"expected\":\"-0.000000001\","
        "\"impact\":{\"totalImpact\":\"92233720368.547758071\","
        "\"totalActualSpend\":\"92233720368.547758070\","
        "\"totalExpectedSpend\":\"-0.000000001\",\"totalImpactPercentage\":null},"
        "\"score\":0.5,\"budget\":{\"name\":\"search-daily\",\"amount\":\"8\","
        "\"spent\":\"8.25\",\"forecast\":null,\"threshold_percent\":100.0},"
        "\"costAmount\":\"8.25\",\"budgetAmount\":\"8\","
        "\"alertThresholdExceeded\":1.0,\"detail\":null,\"parent_id\":null,"
        "\"rootCauses\":[{\"scope\":\"team_model\",\"labels\":{\"team\":"
        "\"search\",\"model\":\"gpt-4o\"},\"observed\":\"1\",\"expected\":\"0\","
        "\"impact\":\"1\",\"share\":0.25}],\"summary\":\"s\","
        "\"source\":{\"input\":\"tokens\",\"topic\":\"llm\",\"partition\":3,"
        "\"offset\":99},\"event_time\":\"2025-03-01T12:00:00.000Z\","
        "\"watermark\":null,\"emitted_at\":\"2025-03-01T12:00:01.000Z\"}";
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    CHECK(v != NULL);
    char err[512];
    br_avro_encoder_t *e = br_avro_encoder_new(s, err, sizeof err);
    br_avro_reader_t *r = br_avro_reader_new(s, NULL, err, sizeof err);
    CHECK(e && r);
    br_buf_t b;
    br_buf_init(&b);
    br_err_t rc = e && v ? br_avro_encode(e, v, &b, err, sizeof err) : BR_ERR_INVAL;
    if (rc)
        fprintf(stderr, "encode: %s\n", err);
    CHECK_INT(rc, BR_ERR_OK);
    json_t *back = NULL;
    if (!rc && r)
        CHECK_INT(br_avro_reader_decode(r, b.data, b.len, &back, err, sizeof err),
                  BR_ERR_OK);
    /* Fields the schema has come back; money at 9 places. */
    json_t *want = json_deep_copy(v);
    json_object_set_new(want, "observed", json_string("92233720368.547758070"));
    json_object_set_new(want, "expected", json_string("-0.000000001"));
    json_t *budget = json_object_get(want, "budget");
    json_object_set_new(budget, "amount", json_string("8.000000000"));
    json_object_set_new(budget, "spent", json_string("8.250000000"));
    json_object_set_new(want, "costAmount", json_string("8.250000000"));
    json_object_set_new(want, "budgetAmount", json_string("8.000000000"));
    json_t *rc0 = json_array_get(json_object_get(want, "rootCauses"), 0);
    json_object_set_new(rc0, "observed", json_string("1.000000000"));
    json_object_set_new(rc0, "expected", json_string("0.000000000"));
    json_object_set_new(rc0, "impact", json_string("1.000000000"));
    normalize(want);
    normalize(back);
    /* Only what the schema carries is compared. */
    const char *k;
    json_t *x, *tmp;
    json_object_foreach_safe(want, tmp, k, x) if (!json_object_get(back, k))
        json_object_del(want, k);
    if (back && !json_equal(back, want)) {
        char *g = json_dumps(back, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        fprintf(stderr, "got  %s\nwant %s\n", g, w);
        free(g);
        free(w);
        CHECK(0);
    }
    CHECK(back && json_object_size(back) >= 20);
    /* A value that does not fit names its field. */
    json_object_set_new(v, "revision", json_string("two"));
    br_buf_reset(&b);
    CHECK_INT(e ? br_avro_encode(e, v, &b, err, sizeof err) : BR_ERR_TYPE, BR_ERR_TYPE);
    CHECK(strstr(err, "revision") != NULL);
    json_object_set_new(v, "revision", json_integer(2));
    json_object_set_new(v, "observed", json_string("0.0000000001"));
    CHECK_INT(e ? br_avro_encode(e, v, &b, err, sizeof err) : BR_ERR_TYPE, BR_ERR_TYPE);
    CHECK(strstr(err, "observed") != NULL);
    br_buf_free(&b);
    json_decref(v);
    json_decref(want);
    json_decref(back);
    br_avro_encoder_free(e);
    br_avro_reader_free(r);
    br_avro_schema_free(s);
}

/* Same value: times as instants, money (text or number) to the nano,
 * other numbers to 1e-9. */
static bool same(json_t *a, json_t *b) {
    int64_t x, y;
    if (json_is_string(a) && json_is_string(b)) {
        if (json_equal(a, b))
            return true;
        if (br_ts_parse(json_string_value(a), json_string_length(a), &x) == BR_ERR_OK &&
            br_ts_parse(json_string_value(b), json_string_length(b), &y) == BR_ERR_OK)
            return x == y;
        return br_money_parse(json_string_value(a), json_string_length(a), &x) == BR_ERR_OK &&
               br_money_parse(json_string_value(b), json_string_length(b), &y) == BR_ERR_OK &&
               x == y;
    }
    if (json_is_number(a) && json_is_string(b))
        return same(b, a);
    if (json_is_string(a) && json_is_number(b)) {
        double d = json_number_value(b);
        double tol = 1e-9 + (d < 0 ? -d : d) * 1e-15; /* a JSON number is a double */
        return br_money_parse(json_string_value(a), json_string_length(a), &x) == BR_ERR_OK &&
               (double)x / 1e9 - d < tol && d - (double)x / 1e9 < tol;
    }
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) - json_number_value(b) < 1e-9 &&
               json_number_value(b) - json_number_value(a) < 1e-9;
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach(a, k, v) if (!json_object_get(b, k) ||
                                         !same(v, json_object_get(b, k))) {
            fprintf(stderr, "  differs at %s\n", k);
            return false;
        }
        return true;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

/* The alert's JSON text, its JSON value and its Avro datum (the built-in
 * schema) all say the same; a budget alert and a spike alert. */
static void test_alert_forms(void) {
    char err[512];
    br_avro_schema_t *s = br_avro_schema_parse(br_alert_avsc, strlen(br_alert_avsc),
                                               err, sizeof err);
    CHECK(s != NULL);
    br_avro_encoder_t *e = s ? br_avro_encoder_new(s, err, sizeof err) : NULL;
    br_avro_reader_t *r = s ? br_avro_reader_new(s, NULL, err, sizeof err) : NULL;
    CHECK(e && r);
    const char *inputs[] = {"tokens", "billing"};
    for (int k = 0; e && r && k < 2; k++) {
        br_alert_t a;
        memset(&a, 0, sizeof a);
        snprintf(a.id, sizeof a.id, "%s", k ? "0123456789abcdef" : "fedcba9876543210");
        a.revision = 3;
        a.type = k ? BR_ALERT_SPIKE : BR_ALERT_BUDGET_THRESHOLD;
        a.status = BR_STATUS_UPDATED;
        a.severity = BR_SEV_CRITICAL;
        a.scope = k ? "team" : "search-daily";
        a.label_cnt = 1;
        a.labels[0] = (br_dim_t){"team", "search"};
        a.window_start_ms = 1740787200000;
        a.window_end_ms = 1740873600000;
        a.event_ms = 1740790000123;
        a.watermark_ms = k ? INT64_MIN : 1740789000000;
        a.observed_nanos = 123456789012345678;
        a.expected_nanos = k ? 1000000001 : 0;
        a.impact_nanos = a.observed_nanos - a.expected_nanos;
        a.score = 7.25;
        if (!k) {
            a.budget = "search-daily";
            a.budget_nanos = 8000000000;
            a.spent_nanos = 8250000001;
            a.forecast_nanos = -1;
            a.threshold_bp = 10000;
        }
        a.detail = k ? NULL : "team";
        a.parent_id = k ? "00ff00ff00ff00ff" : NULL;
        snprintf(a.currency, sizeof a.currency, "USD");
        a.contrib_cnt = k;
        if (k) {
            a.contribs[0].scope = "team_model";
            a.contribs[0].label_cnt = 2;
            a.contribs[0].labels[0] = (br_dim_t){"team", "search"};
            a.contribs[0].labels[1] = (br_dim_t){"model", "gpt-4o"};
            a.contribs[0].observed_nanos = 5;
            a.contribs[0].impact_nanos = -7;
            a.contribs[0].share_bp = 2500;
        }
        a.source = (br_origin_t){1, "billing.focus", 4, 977, 0};
        snprintf(a.summary, sizeof a.summary, "summary \"%d\"", k);

        br_buf_t text, bin;
        br_buf_init(&text);
        br_buf_init(&bin);
        br_alert_to_json(&a, inputs, 1740790001000, &text);
        json_error_t jerr;
        json_t *from_text = json_loadb(text.data, text.len, 0, &jerr);
        json_t *value = br_alert_to_value(&a, inputs, 1740790001000);
        CHECK(from_text && value);
        CHECK(same(value, from_text));
        CHECK_INT(br_avro_encode(e, value, &bin, err, sizeof err), BR_ERR_OK);
        json_t *back = NULL;
        CHECK_INT(br_avro_reader_decode(r, bin.data, bin.len, &back, err, sizeof err),
                  BR_ERR_OK);
        /* The Avro form carries every field, absent ones as null. */
        const char *key;
        json_t *v;
        json_object_foreach(back, key, v) if (!json_object_get(from_text, key))
            CHECK(json_is_null(v));
        json_t *trimmed = json_deep_copy(back);
        json_t *tmp;
        json_object_foreach_safe(trimmed, tmp, key, v) if (json_is_null(v) &&
                                                           !json_object_get(from_text, key))
            json_object_del(trimmed, key);
        CHECK(same(trimmed, from_text));
        json_decref(trimmed);
        json_decref(back);
        json_decref(value);
        json_decref(from_text);
        br_buf_free(&text);
        br_buf_free(&bin);
    }
    br_avro_encoder_free(e);
    br_avro_reader_free(r);
    br_avro_schema_free(s);
}

/* Money beyond int64 nanos (issue 14) fits decimal(38,9): the Avro form
 * carries it exactly, as the JSON form does. */
static void test_alert_money_beyond_int64(void) {
    char err[512];
    br_avro_schema_t *s = br_avro_schema_parse(br_alert_avsc, strlen(br_alert_avsc),
                                               err, sizeof err);
    br_avro_encoder_t *e = s ? br_avro_encoder_new(s, err, sizeof err) : NULL;
    br_avro_reader_t *r = s ? br_avro_reader_new(s, NULL, err, sizeof err) : NULL;
    CHECK(e && r);
    if (!e || !r)
        goto done;
    br_money_t two = (br_money_t)INT64_C(9000000000000000000) * 2;
    br_alert_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "00000000000000aa");
    a.revision = 1;
    a.type = BR_ALERT_BUDGET_THRESHOLD;
    a.scope = "big";
    a.window_start_ms = 1740787200000;
    a.window_end_ms = 1740873600000;
    a.event_ms = 1740790000123;
    a.watermark_ms = INT64_MIN;
    a.observed_nanos = two;
    a.expected_nanos = INT64_C(9000000000000000000);
    a.impact_nanos = -two - 1;
    a.budget = "big";
    a.budget_nanos = INT64_C(9000000000000000000);
    a.spent_nanos = two;
    a.forecast_nanos = BR_MONEY_MAX / 1000; /* 36 digits: still decimal(38) */
    a.threshold_bp = 20000;
    snprintf(a.currency, sizeof a.currency, "USD");
    a.source = (br_origin_t){0, "usage", 0, 2, 0};
    br_buf_t text, bin;
    br_buf_init(&text);
    br_buf_init(&bin);
    br_alert_to_json(&a, NULL, -1, &text);
    CHECK(strstr(text.data, "\"observed\":18000000000.00,") != NULL);
    CHECK(strstr(text.data, "\"totalImpact\":-18000000000.000000001,") != NULL);
    CHECK(strstr(text.data, "\"totalImpactPercentage\":-200.0000}") != NULL);
    json_t *value = br_alert_to_value(&a, NULL, -1);
    CHECK_INT(br_avro_encode(e, value, &bin, err, sizeof err), BR_ERR_OK);
    json_t *back = NULL;
    CHECK_INT(br_avro_reader_decode(r, bin.data, bin.len, &back, err, sizeof err),
              BR_ERR_OK);
    json_t *bud = json_object_get(back, "budget");
    json_t *imp = json_object_get(back, "impact");
    CHECK_STR(json_string_value(json_object_get(back, "observed")),
              "18000000000.000000000");
    CHECK_STR(json_string_value(json_object_get(back, "costAmount")),
              "18000000000.000000000");
    CHECK_STR(json_string_value(json_object_get(bud, "spent")),
              "18000000000.000000000");
    CHECK_STR(json_string_value(json_object_get(bud, "forecast")),
              "170141183460469231731687303.715884105");
    CHECK_STR(json_string_value(json_object_get(imp, "totalImpact")),
              "-18000000000.000000001");
    json_decref(back);
    json_decref(value);
    br_buf_free(&text);
    br_buf_free(&bin);
done:
    br_avro_encoder_free(e);
    br_avro_reader_free(r);
    br_avro_schema_free(s);
}

int main(void) {
    check_case("added", true);
    check_case("removed", true);
    check_case("promoted", true);
    check_case("float", true);
    check_case("incompatible", false);
    test_confluent();
    test_lying_length();
    test_negative_block_count();
    test_hostile();
    test_mutations();
    test_encode_alert();
    test_alert_forms();
    test_alert_money_beyond_int64();
    return brt_done();
}
