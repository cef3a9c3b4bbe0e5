/* Avro datums written by an independent encoder (python3-avro; see
 * tests/avro/gen.py) decode into burnrate's JSON shape through writer/reader
 * schema pairs: added, removed and promoted fields resolve, an incompatible
 * writer schema gives the writer's types (refused later, per message),
 * every truncation of a datum is a parse error,
 * and Confluent framing is checked. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brtest.h"
#include "burnrate/avro.h"
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
        /* Read, but with the writer's type: the dialect's decoder refuses
         * a string token count (a TYPE dead letter), never a crash. */
        CHECK(r != NULL);
        snprintf(path, sizeof path, "avro/fixtures/%s.hex", name);
        FILE *hx = fopen(path, "r");
        char hline[65536];
        int strings = 0;
        while (hx && r && fgets(hline, sizeof hline, hx)) {
            unsigned char bin[32768];
            size_t n = unhex(hline, bin, sizeof bin);
            json_t *got = NULL;
            if (br_avro_reader_decode(r, bin, n, &got, err, sizeof err) ==
                    BR_ERR_OK &&
                json_is_string(json_object_get(json_object_get(got, "usage"),
                                               "prompt_tokens")))
                strings++;
            json_decref(got);
        }
        if (hx)
            fclose(hx);
        CHECK(strings > 0);
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

int main(void) {
    check_case("added", true);
    check_case("removed", true);
    check_case("promoted", true);
    check_case("float", true);
    check_case("incompatible", false);
    test_confluent();
    return brt_done();
}
