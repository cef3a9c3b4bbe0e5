/*
 * Decode-only figures for scripts/bench: the same OpenAI usage events as JSON
 * text and as Avro datums (plain and Confluent-framed, schemas/usage.avsc),
 * timed through each stage burnrate runs per message, so Avro's cost can be
 * read next to JSON's without Kafka in the way. Prints one line per case.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <avro.h>
#include <jansson.h>

#include "burnrate/avro.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/decode.h"
#include "burnrate/record.h"

#define SCHEMA_ID 1u
#define CREATED_0 INT64_C(1740960000) /* 2025-03-03T00:00:00Z, seconds */

/* The openai dialect with its presets, as a user would declare it. */
static const char CONF[] =
    "inputs:\n"
    "  - name: openai\n"
    "    topic: llm.openai\n"
    "    dialect: openai\n"
    "scopes:\n"
    "  - {name: total, dims: []}\n";

/* Every event in each encoding: one contiguous buffer and where each
 * message starts (off[i] .. off[i + 1]). */
typedef struct corpus {
    br_buf_t bytes;
    size_t *off;     /* cnt + 1 entries */
    size_t cnt;
} corpus_t;

typedef struct bench {
    corpus_t json, avro, framed;
    br_avro_reader_t *plain;    /* writer schema read as itself */
    br_avro_reader_t *resolved; /* writer resolved against the reader schema,
                                   as avro-confluent inputs read */
    br_decoder_t *dec;
    br_record_t *rec;           /* large: on the heap */
    /* avro-c alone, the reference: its generic reader into one value */
    avro_schema_t cschema;
    avro_value_iface_t *ciface;
    avro_value_t cvalue;
    bool has_cvalue;
    avro_reader_t cmem;
} bench_t;

typedef enum {
    CASE_AVROC_READ,      /* Avro datum -> avro-c generic value (reference) */
    CASE_JSON_PARSE,      /* JSON text -> json_t */
    CASE_AVRO_PARSE,      /* Avro datum -> json_t */
    CASE_CF_PARSE,        /* Confluent split + resolved datum -> json_t */
    CASE_JSON_RECORD,     /* JSON text -> canonical record */
    CASE_AVRO_RECORD,     /* Avro datum -> json_t -> canonical record */
    CASE_CF_RECORD,       /* framed datum -> json_t -> canonical record */
    CASE__CNT
} case_t;

static const char *const case_names[CASE__CNT] = {
    "avro-c generic read only",
    "json text -> json_t",
    "avro datum -> json_t",
    "avro-confluent -> json_t",
    "json text -> record",
    "avro datum -> record",
    "avro-confluent -> record",
};

/* ---- deterministic events (splitmix64) ---- */

static uint64_t next_u64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t next_in(uint64_t *x, int64_t lo, int64_t hi) {
    return lo + (int64_t)(next_u64(x) % (uint64_t)(hi - lo + 1));
}

static const char *const models[] = {"gpt-4o-mini", "gpt-4o", "o3-mini",
                                     "gpt-4.1", "gpt-4.1-mini"};
static const char *const teams[] = {"search", "ml-research", "support-bot",
                                    "platform", "growth", "data"};
static const char *const apps[] = {"search-rerank", "notebooks", "gateway",
                                   "copilot", "batch-eval"};

/* One chat completion as a gateway logs it: prompt_tokens include the
 * cached ones, completion_tokens the reasoning ones. */
static int fmt_event(uint64_t *x, int64_t i, char *buf, size_t size) {
    const char *model = models[next_u64(x) % 5];
    int64_t in = next_in(x, 20, 12000);
    int64_t out = next_in(x, 0, 2000);
    int64_t cached = next_u64(x) % 3 ? next_in(x, 0, in) : 0;
    int64_t reasoning = model[0] == 'o' ? next_in(x, 0, out) : 0;
    uint64_t a = next_u64(x), b = next_u64(x);
    return snprintf(
        buf, size,
        "{\"id\":\"chatcmpl-%016" PRIx64 "%016" PRIx64 "\","
        "\"object\":\"chat.completion\",\"created\":%" PRId64 ","
        "\"model\":\"%s\",\"usage\":{\"prompt_tokens\":%" PRId64
        ",\"completion_tokens\":%" PRId64 ",\"total_tokens\":%" PRId64
        ",\"prompt_tokens_details\":{\"cached_tokens\":%" PRId64
        "},\"completion_tokens_details\":{\"reasoning_tokens\":%" PRId64
        "}},\"metadata\":{\"team\":\"%s\",\"app\":\"%s\"},"
        "\"user\":\"u-%04d\"}",
        a, b, CREATED_0 + i / 4, model, in, out, in + out, cached, reasoning,
        teams[next_u64(x) % 6], apps[next_u64(x) % 5],
        (int)(next_u64(x) % 5000));
}

/* ---- setup ---- */

static bool corpus_init(corpus_t *c, size_t cnt) {
    memset(c, 0, sizeof(*c));
    br_buf_init(&c->bytes);
    c->off = calloc(cnt + 1, sizeof(*c->off));
    return c->off != NULL;
}

static void corpus_free(corpus_t *c) {
    br_buf_free(&c->bytes);
    free(c->off);
}

/* Close message number c->cnt at the buffer's current end. */
static void corpus_mark(corpus_t *c) {
    c->off[++c->cnt] = c->bytes.len;
}

static char *read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    long n;

    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
        fseek(fp, 0, SEEK_SET) == 0 && (text = malloc((size_t)n + 1))) {
        *len = fread(text, 1, (size_t)n, fp);
        text[*len] = '\0';
    }
    fclose(fp);
    return text;
}

/* Build every message in the three encodings: JSON text, and each event
 * parsed once and encoded as a plain and a framed Avro datum. */
static int build(bench_t *b, br_avro_encoder_t *enc, size_t cnt) {
    uint64_t x = 42;
    char buf[1024];
    char err[512];

    if (!corpus_init(&b->json, cnt) || !corpus_init(&b->avro, cnt) ||
        !corpus_init(&b->framed, cnt))
        return -1;
    for (size_t i = 0; i < cnt; i++) {
        int len = fmt_event(&x, (int64_t)i, buf, sizeof(buf));
        json_t *obj;
        size_t at;

        if (len <= 0 || (size_t)len >= sizeof(buf))
            return -1;
        br_buf_append(&b->json.bytes, buf, (size_t)len);
        corpus_mark(&b->json);
        obj = json_loadb(buf, (size_t)len, 0, NULL);
        if (!obj)
            return -1;
        if (br_avro_encode(enc, obj, &b->avro.bytes, err, sizeof(err))) {
            fprintf(stderr, "burnrate-avrobench: encode: %s\n", err);
            json_decref(obj);
            return -1;
        }
        corpus_mark(&b->avro);
        br_avro_confluent_header(SCHEMA_ID, &b->framed.bytes);
        at = b->avro.off[i];
        br_buf_append(&b->framed.bytes, b->avro.bytes.data + at,
                      b->avro.bytes.len - at);
        corpus_mark(&b->framed);
        json_decref(obj);
    }
    return b->json.bytes.oom || b->avro.bytes.oom || b->framed.bytes.oom ? -1 : 0;
}

/* ---- the cases ---- */

static const corpus_t *case_corpus(const bench_t *b, case_t k) {
    switch (k) {
    case CASE_JSON_PARSE:
    case CASE_JSON_RECORD:
        return &b->json;
    case CASE_CF_PARSE:
    case CASE_CF_RECORD:
        return &b->framed;
    default:
        return &b->avro;
    }
}

/* Decode message i of the case's corpus; *obj is set by the parse cases
 * (the caller decrefs), rec filled by the record cases. */
static br_err_t run_one(bench_t *b, case_t k, size_t i, json_t **obj,
                        char *err, size_t err_size) {
    const corpus_t *c = case_corpus(b, k);
    const char *p = c->bytes.data + c->off[i];
    size_t len = c->off[i + 1] - c->off[i];
    const void *body = p;
    size_t body_len = len;
    br_avro_reader_t *r = b->plain;
    br_err_t e;

    *obj = NULL;
    switch (k) {
    case CASE_AVROC_READ:
        /* What br_avro_reader_decode does before its JSON conversion,
         * without its bounds check: avro-c's own cost. */
        avro_value_reset(&b->cvalue);
        avro_reader_memory_set_source(b->cmem, p, (int64_t)len);
        if (avro_value_read(b->cmem, &b->cvalue) != 0)
            return br_seterr(err, err_size, BR_ERR_PARSE, "%s",
                             avro_strerror());
        return BR_ERR_OK;
    case CASE_JSON_PARSE: {
        json_error_t jerr;
        *obj = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!*obj)
            return br_seterr(err, err_size, BR_ERR_PARSE, "%s", jerr.text);
        return BR_ERR_OK;
    }
    case CASE_JSON_RECORD:
        return br_decoder_decode(b->dec, p, len, b->rec, err, err_size);
    case CASE_CF_PARSE:
    case CASE_CF_RECORD: {
        uint32_t id;
        if ((e = br_avro_confluent_split(p, len, &id, &body, &body_len, err,
                                         err_size)))
            return e;
        if (id != SCHEMA_ID)
            return br_seterr(err, err_size, BR_ERR_PARSE, "schema id %u", id);
        r = b->resolved;
        break;
    }
    default:
        break;
    }
    if ((e = br_avro_reader_decode(r, body, body_len, obj, err, err_size)))
        return e;
    if (k == CASE_AVRO_RECORD || k == CASE_CF_RECORD) {
        e = br_decoder_decode_object(b->dec, *obj, b->rec, err, err_size);
        json_decref(*obj);
        *obj = NULL;
    }
    return e;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One timed pass over every message. @returns CPU seconds, or -1 when a
 * message did not decode (which the check before timing rules out). */
static double run_pass(bench_t *b, case_t k) {
    char err[512];
    double t0 = cpu_s();

    for (size_t i = 0; i < b->json.cnt; i++) {
        json_t *obj;
        if (run_one(b, k, i, &obj, err, sizeof(err))) {
            fprintf(stderr, "burnrate-avrobench: %s #%zu: %s\n",
                    case_names[k], i, err);
            return -1;
        }
        json_decref(obj);
    }
    return cpu_s() - t0;
}

/* Every Avro message must give the record its JSON twin gives: the figures
 * are only worth comparing if the work is the same. */
static int check(bench_t *b) {
    br_record_t *want = malloc(sizeof(*want));
    br_record_t *got = b->rec;
    char err[512] = "";
    size_t i;
    int ret = -1;

    if (!want)
        return -1;
    for (i = 0; i < b->json.cnt; i++) {
        json_t *obj;
        br_err_t e;

        /* A record's strings live in its own arena: decode into each. */
        b->rec = want;
        e = run_one(b, CASE_JSON_RECORD, i, &obj, err, sizeof(err));
        b->rec = got;
        if (e) {
            fprintf(stderr, "burnrate-avrobench: %s #%zu: %s\n",
                    case_names[CASE_JSON_RECORD], i, err);
            goto out;
        }
        for (case_t k = CASE_AVRO_RECORD; k <= CASE_CF_RECORD; k++) {
            if (run_one(b, k, i, &obj, err, sizeof(err))) {
                fprintf(stderr, "burnrate-avrobench: %s #%zu: %s\n",
                        case_names[k], i, err);
                goto out;
            }
            if (got->event_ms != want->event_ms ||
                got->has_cost != want->has_cost ||
                got->dim_cnt != want->dim_cnt ||
                memcmp(got->tokens, want->tokens, sizeof(got->tokens)) ||
                strcmp(got->id ? got->id : "", want->id ? want->id : "")) {
                fprintf(stderr, "burnrate-avrobench: %s #%zu: the record "
                        "differs from the JSON one\n", case_names[k], i);
                goto out;
            }
            for (size_t d = 0; d < got->dim_cnt; d++)
                if (strcmp(got->dims[d].key, want->dims[d].key) ||
                    strcmp(got->dims[d].value, want->dims[d].value)) {
                    fprintf(stderr, "burnrate-avrobench: %s #%zu: dimension "
                            "%s differs\n", case_names[k], i,
                            want->dims[d].key);
                    goto out;
                }
        }
    }
    ret = 0;
out:
    free(want);
    return ret;
}

static void usage(FILE *fp) {
    fprintf(fp,
        "usage: burnrate-avrobench SCHEMA.avsc [EVENTS [ROUNDS]]\n"
        "\n"
        "Times decoding EVENTS (default 200000) OpenAI usage events as JSON\n"
        "text and as Avro datums of SCHEMA (schemas/usage.avsc), plain and\n"
        "Confluent-framed, into JSON objects and into canonical records; the\n"
        "best of ROUNDS (default 3) passes, in process CPU time.\n");
}

int main(int argc, char **argv) {
    bench_t b;
    br_config_t *conf = NULL;
    br_avro_schema_t *schema = NULL;
    br_avro_encoder_t *enc = NULL;
    char *text = NULL;
    size_t text_len = 0;
    long events = 200000, rounds = 3;
    char err[1024];
    int ret = 1;

    memset(&b, 0, sizeof(b));
    if (argc < 2 || argc > 4 || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "--help")) {
        usage(argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : 2;
    }
    if (argc > 2)
        events = strtol(argv[2], NULL, 10);
    if (argc > 3)
        rounds = strtol(argv[3], NULL, 10);
    if (events <= 0 || events > 100000000 || rounds <= 0 || rounds > 100) {
        usage(stderr);
        return 2;
    }
    if (!(text = read_file(argv[1], &text_len))) {
        fprintf(stderr, "burnrate-avrobench: cannot read %s\n", argv[1]);
        goto done;
    }
    if (!(schema = br_avro_schema_parse(text, text_len, err, sizeof(err))) ||
        !(enc = br_avro_encoder_new(schema, err, sizeof(err))) ||
        !(b.plain = br_avro_reader_new(schema, NULL, err, sizeof(err))) ||
        !(b.resolved = br_avro_reader_new(schema, schema, err, sizeof(err))) ||
        !(conf = br_config_load_string(CONF, "avrobench", NULL, err,
                                       sizeof(err))) ||
        !(b.dec = br_decoder_new(&conf->inputs[0], err, sizeof(err)))) {
        fprintf(stderr, "burnrate-avrobench: %s: %s\n", argv[1], err);
        goto done;
    }
    if (avro_schema_from_json_length(text, text_len, &b.cschema) != 0 ||
        !(b.ciface = avro_generic_class_from_schema(b.cschema)) ||
        avro_generic_value_new(b.ciface, &b.cvalue) != 0 ||
        !(b.cmem = avro_reader_memory("", 0))) {
        fprintf(stderr, "burnrate-avrobench: avro-c: %s\n", avro_strerror());
        goto done;
    }
    b.has_cvalue = true;
    if (!(b.rec = malloc(sizeof(*b.rec))) || build(&b, enc, (size_t)events)) {
        fprintf(stderr, "burnrate-avrobench: cannot build the events\n");
        goto done;
    }
    if (check(&b))
        goto done;

    for (case_t k = 0; k < CASE__CNT; k++) {
        const corpus_t *c = case_corpus(&b, k);
        double best = -1;
        for (long r = 0; r < rounds; r++) {
            double s = run_pass(&b, k);
            if (s < 0)
                goto done;
            if (best < 0 || s < best)
                best = s;
        }
        if (best <= 0)
            best = 1e-9;
        printf("  %-26s %9.0f records/s  %6.0f ns/record  %4.0f bytes/record\n",
               case_names[k], (double)events / best, best * 1e9 / (double)events,
               (double)c->bytes.len / (double)c->cnt);
    }
    ret = 0;
done:
    br_decoder_destroy(b.dec);
    br_config_destroy(conf);
    br_avro_reader_free(b.plain);
    br_avro_reader_free(b.resolved);
    br_avro_encoder_free(enc);
    if (b.has_cvalue)
        avro_value_decref(&b.cvalue);
    if (b.ciface)
        avro_value_iface_decref(b.ciface);
    if (b.cschema)
        avro_schema_decref(b.cschema);
    if (b.cmem)
        avro_reader_free(b.cmem);
    br_avro_schema_free(schema);
    corpus_free(&b.json);
    corpus_free(&b.avro);
    corpus_free(&b.framed);
    free(b.rec);
    free(text);
    return ret;
}
