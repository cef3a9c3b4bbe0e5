/*
 * Decoder tests: every case under tests/corpus (see its README for the
 * .expect format) plus the ones too big to keep as files, record reuse and
 * the limits of a record.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brtest.h"
#include "burnrate/buf.h"
#include "burnrate/decode.h"
#include "burnrate/pipeline.h"

#define CORPUS "corpus"
#define MAX_LINES 128

static const char *const tok_keys[BR_TOK__CNT] = {
    "tokens.input", "tokens.output", "tokens.cache_read",
    "tokens.cache_write", "tokens.reasoning",
};

static void fail(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(const char *name, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "corpus case %s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    brt_fail++;
}

/* Reads a whole file; returns a malloc'd buffer (NUL-terminated too). */
static char *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
        size_t r = fread(buf + n, 1, cap - n - 1, fp);
        if (r == 0) break;
        n += r;
    }
    fclose(fp);
    buf[n] = '\0';
    *len = n;
    return buf;
}

typedef struct kv {
    char *key;
    char *value;
} kv_t;

/* Splits text in place into key=value lines. */
static size_t parse_expect(char *text, kv_t *out, size_t max) {
    size_t cnt = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r') line[--l] = '\0';
        if (l == 0 || line[0] == '#') continue;
        char *eq = strchr(line, '=');
        if (!eq || cnt == max) continue;
        *eq = '\0';
        out[cnt].key = line;
        out[cnt].value = eq + 1;
        cnt++;
    }
    return cnt;
}

static const char *get(const kv_t *kv, size_t cnt, const char *key) {
    for (size_t i = 0; i < cnt; i++) {
        if (strcmp(kv[i].key, key) == 0) return kv[i].value;
    }
    return NULL;
}

static br_record_t rec;

/* Runs one case; dialect is the folder's (NULL for invalid/). */
static void run_case(const char *name, const char *msg_path,
                     const char *expect_path, const char *dialect) {
    size_t msg_len = 0, exp_len = 0;
    char *msg = slurp(msg_path, &msg_len);
    char *exp = slurp(expect_path, &exp_len);
    br_decoder_t *dec = NULL;
    if (!msg || !exp) {
        fail(name, "cannot read %s or %s", msg_path, expect_path);
        goto done;
    }
    kv_t kv[MAX_LINES];
    size_t n = parse_expect(exp, kv, MAX_LINES);

    /* The input configuration. */
    br_input_conf_t in;
    memset(&in, 0, sizeof(in));
    in.name = (char *)(uintptr_t)name;
    const char *dname = dialect ? dialect : get(kv, n, "dialect");
    if (br_dialect_parse(dname ? dname : "openai", &in.dialect) != BR_ERR_OK) {
        fail(name, "unknown dialect %s", dname);
        goto done;
    }
    br_kv_t dims[32];
    char *cats[16];
    char cat_buf[256];
    char *ids[16];
    char id_buf[512];
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i].key;
        char *v = kv[i].value;
        if (strncmp(k, "conf.mapping.dim.", 17) == 0 && in.mapping.dim_cnt < 32) {
            dims[in.mapping.dim_cnt].key = (char *)(uintptr_t)(k + 17);
            dims[in.mapping.dim_cnt].value = v;
            in.mapping.dims = dims;
            in.mapping.dim_cnt++;
        } else if (strcmp(k, "conf.mapping.time") == 0) in.mapping.time = v;
        else if (strcmp(k, "conf.mapping.time_end") == 0) in.mapping.time_end = v;
        else if (strcmp(k, "conf.mapping.cost") == 0) in.mapping.cost = v;
        else if (strcmp(k, "conf.mapping.currency") == 0) in.mapping.currency = v;
        else if (strcmp(k, "conf.mapping.id") == 0) {
            /* one field, or a composite id: fields separated by commas */
            snprintf(id_buf, sizeof(id_buf), "%s", v);
            in.mapping.id = ids;
            for (char *c = strtok(id_buf, ","); c && in.mapping.id_cnt < 16;
                 c = strtok(NULL, ","))
                ids[in.mapping.id_cnt++] = c;
        }
        else if (strcmp(k, "conf.mapping.model") == 0) in.mapping.model = v;
        else if (strcmp(k, "conf.mapping.provider") == 0) in.mapping.provider = v;
        else if (strcmp(k, "conf.cost_column") == 0) in.cost_column = v;
        else if (strcmp(k, "conf.charge_categories") == 0) {
            snprintf(cat_buf, sizeof(cat_buf), "%s", v);
            in.charge_categories = cats;
            for (char *c = strtok(cat_buf, ","); c && in.charge_category_cnt < 16;
                 c = strtok(NULL, ","))
                cats[in.charge_category_cnt++] = c;
        } else if (strncmp(k, "conf.mapping.tokens.", 20) == 0) {
            for (int t = 0; t < BR_TOK__CNT; t++) {
                if (strcmp(k + 13, tok_keys[t]) == 0) in.mapping.tokens[t] = v;
            }
        } else if (strncmp(k, "conf.", 5) == 0) {
            fail(name, "unknown conf key %s", k);
            goto done;
        }
    }

    char errstr[512] = "";
    dec = br_decoder_new(&in, errstr, sizeof(errstr));
    if (!dec) {
        fail(name, "decoder_new: %s", errstr);
        goto done;
    }
    rec.origin.partition = 7;
    rec.origin.offset = 4242;
    br_err_t err = br_decoder_decode(dec, msg, msg_len, &rec, errstr,
                                     sizeof(errstr));
    int before = brt_fail;

    const char *want_res = get(kv, n, "result");
    if (!want_res) want_res = dialect ? "OK" : NULL;
    if (!want_res) fail(name, "invalid case without result=");
    else if (strcmp(br_err_name(err), want_res) != 0)
        fail(name, "result %s (%s), want %s", br_err_name(err), errstr,
             want_res);
    const char *reason = get(kv, n, "reason");
    if (err != BR_ERR_OK) {
        if (!reason) fail(name, "no reason= for an error case");
        else if (!strstr(errstr, reason))
            fail(name, "reason \"%s\" lacks \"%s\"", errstr, reason);
    }
    if (rec.origin.partition != 7 || rec.origin.offset != 4242)
        fail(name, "origin was touched");

    if (err == BR_ERR_OK && strcmp(want_res ? want_res : "", "OK") == 0) {
        const char *kind = get(kv, n, "kind");
        const char *got_kind = rec.kind == BR_KIND_BILLING ? "billing" : "tokens";
        if (!kind || strcmp(kind, got_kind) != 0)
            fail(name, "kind %s, want %s", got_kind, kind ? kind : "(unset)");
        const char *ev = get(kv, n, "event_ms");
        if (!ev || strtoll(ev, NULL, 10) != rec.event_ms)
            fail(name, "event_ms %lld, want %s", (long long)rec.event_ms,
                 ev ? ev : "(unset)");
        const char *cost = get(kv, n, "cost_nanos");
        if (cost ? (!rec.has_cost || strtoll(cost, NULL, 10) != rec.cost_nanos)
                 : rec.has_cost)
            fail(name, "cost %s %lld, want %s", rec.has_cost ? "set" : "unset",
                 (long long)rec.cost_nanos, cost ? cost : "none");
        const char *cur = get(kv, n, "currency");
        if (strcmp(rec.currency, cur ? cur : "") != 0)
            fail(name, "currency \"%s\", want \"%s\"", rec.currency,
                 cur ? cur : "");
        const char *id = get(kv, n, "id");
        if (id ? (!rec.id || strcmp(rec.id, id) != 0) : rec.id != NULL)
            fail(name, "id %s, want %s", rec.id ? rec.id : "NULL",
                 id ? id : "NULL");
        for (int t = 0; t < BR_TOK__CNT; t++) {
            const char *tv = get(kv, n, tok_keys[t]);
            long long want = tv ? strtoll(tv, NULL, 10) : 0;
            if (rec.tokens[t] != want)
                fail(name, "%s %lld, want %lld", tok_keys[t],
                     (long long)rec.tokens[t], want);
        }
        size_t want_dims = 0;
        for (size_t i = 0; i < n; i++) {
            if (strncmp(kv[i].key, "dim.", 4) != 0) continue;
            want_dims++;
            const char *got = br_record_dim(&rec, kv[i].key + 4);
            if (!got || strcmp(got, kv[i].value) != 0)
                fail(name, "%s \"%s\", want \"%s\"", kv[i].key,
                     got ? got : "(absent)", kv[i].value);
        }
        if (rec.dim_cnt != want_dims) {
            fail(name, "%zu dims, want %zu:", rec.dim_cnt, want_dims);
            for (size_t i = 0; i < rec.dim_cnt; i++)
                fprintf(stderr, "    %s=%s\n", rec.dims[i].key,
                        rec.dims[i].value);
        }
    }
    if (brt_fail == before) brt_pass++;

done:
    br_decoder_destroy(dec);
    free(msg);
    free(exp);
}

static int has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Runs every case in dir; returns how many. */
static int run_dir(const char *dir, const char *dialect) {
    DIR *d = opendir(dir);
    int cnt = 0;
    if (!d) {
        fprintf(stderr, "cannot open %s\n", dir);
        brt_fail++;
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *f = de->d_name;
        if (!has_suffix(f, ".json") && !has_suffix(f, ".bin")) continue;
        char msg_path[512], exp_path[512], name[300];
        size_t base = strlen(f) - (has_suffix(f, ".json") ? 5 : 4);
        snprintf(msg_path, sizeof(msg_path), "%s/%s", dir, f);
        snprintf(exp_path, sizeof(exp_path), "%s/%.*s.expect", dir, (int)base, f);
        snprintf(name, sizeof(name), "%s/%.*s", dir, (int)base, f);
        run_case(name, msg_path, exp_path, dialect);
        cnt++;
    }
    closedir(d);
    return cnt;
}

static br_decoder_t *decoder(br_dialect_t dialect) {
    static br_input_conf_t ins[BR_DIALECT__CNT];
    br_input_conf_t *in = &ins[dialect];
    memset(in, 0, sizeof(*in));
    in->name = (char *)(uintptr_t)"test";
    in->dialect = dialect;
    char errstr[256];
    br_decoder_t *dec = br_decoder_new(in, errstr, sizeof(errstr));
    if (!dec) fprintf(stderr, "decoder_new: %s\n", errstr);
    return dec;
}

/* A 1 MB OTLP span whose usage attributes come after 20000 others: must
 * decode, and in linear time. */
static void test_big_payloads(void) {
    br_decoder_t *dec = decoder(BR_DIALECT_OTEL);
    char errstr[512];
    size_t cap = 2u << 20, n = 0;
    char *buf = malloc(cap);
    n += (size_t)snprintf(buf + n, cap - n,
                          "{\"endTimeUnixNano\": \"1726696800000000000\", "
                          "\"attributes\": [");
    int filler = 0;
    while (n < (1u << 20) - 512) {
        n += (size_t)snprintf(buf + n, cap - n,
                              "{\"key\": \"app.filler.%d\", \"value\": "
                              "{\"stringValue\": \"xxxxxxxxxxxx\"}},",
                              filler++);
    }
    n += (size_t)snprintf(buf + n, cap - n,
                          "{\"key\": \"gen_ai.usage.input_tokens\", "
                          "\"value\": {\"intValue\": \"77\"}},"
                          "{\"key\": \"gen_ai.request.model\", "
                          "\"value\": {\"stringValue\": \"gpt-4o\"}}]}");
    CHECK(n >= (1u << 20) - 512);
    CHECK(filler > 15000);
    clock_t t0 = clock();
    br_err_t err = br_decoder_decode(dec, buf, n, &rec, errstr, sizeof(errstr));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_INT(err, BR_ERR_OK);
    CHECK_INT(rec.tokens[BR_TOK_INPUT], 77);
    CHECK_STR(br_record_dim(&rec, "model"), "gpt-4o");
    if (secs > 2.0) fprintf(stderr, "1 MB decode took %.2f s\n", secs);
    CHECK(secs < 2.0);

    /* A 1 MB model name does not fit a record: rejected, not truncated. */
    n = (size_t)snprintf(buf, cap, "{\"created\": 1726696800, "
                         "\"usage\": {\"prompt_tokens\": 1}, \"model\": \"");
    memset(buf + n, 'm', 1u << 20);
    n += 1u << 20;
    n += (size_t)snprintf(buf + n, cap - n, "\"}");
    br_decoder_t *oai = decoder(BR_DIALECT_OPENAI);
    err = br_decoder_decode(oai, buf, n, &rec, errstr, sizeof(errstr));
    CHECK_INT(err, BR_ERR_LIMIT);
    CHECK(strstr(errstr, "\"model\"") != NULL);
    CHECK_INT(rec.dim_cnt, 0); /* nothing half-decoded is left */

    /* 1 MB of a valid message's padding is no problem in itself. */
    n = (size_t)snprintf(buf, cap, "{\"created\": 1726696800, "
                         "\"usage\": {\"prompt_tokens\": 3}, \"pad\": \"");
    memset(buf + n, ' ', 1u << 20);
    n += 1u << 20;
    n += (size_t)snprintf(buf + n, cap - n, "\"}");
    CHECK_INT(br_decoder_decode(oai, buf, n, &rec, errstr, sizeof(errstr)),
              BR_ERR_OK);
    CHECK_INT(rec.tokens[BR_TOK_INPUT], 3);
    free(buf);
    br_decoder_destroy(dec);
    br_decoder_destroy(oai);
}

static void test_misc(void) {
    char errstr[512];
    br_decoder_t *oai = decoder(BR_DIALECT_OPENAI);

    /* The reason names the field and the value, exactly. */
    const char *m = "{\"created\": 1726696800, \"usage\": "
                    "{\"prompt_tokens\": \"12a\"}}";
    CHECK_INT(br_decoder_decode(oai, m, strlen(m), &rec, errstr,
                                sizeof(errstr)), BR_ERR_TYPE);
    CHECK_STR(errstr, "field \"usage.prompt_tokens\": expected a non-negative "
                      "integer, got string \"12a\"");

    /* A reused record keeps nothing of the previous message. */
    m = "{\"id\": \"a\", \"created\": 1, \"model\": \"m1\", \"user\": \"u\", "
        "\"cost\": 2, \"currency\": \"USD\", \"usage\": {\"prompt_tokens\": 5}}";
    CHECK_INT(br_decoder_decode(oai, m, strlen(m), &rec, errstr,
                                sizeof(errstr)), BR_ERR_OK);
    CHECK_INT(rec.dim_cnt, 3);
    CHECK_INT(rec.cost_nanos, INT64_C(2000000000));
    m = "{\"created\": 2, \"usage\": {\"completion_tokens\": 9}}";
    CHECK_INT(br_decoder_decode(oai, m, strlen(m), &rec, errstr,
                                sizeof(errstr)), BR_ERR_OK);
    CHECK_INT(rec.dim_cnt, 1);
    CHECK_STR(br_record_dim(&rec, "provider"), "openai");
    CHECK(rec.id == NULL);
    CHECK(!rec.has_cost);
    CHECK_STR(rec.currency, "");
    CHECK_INT(rec.tokens[BR_TOK_INPUT], 0);
    CHECK_INT(rec.tokens[BR_TOK_OUTPUT], 9);
    CHECK_INT(rec.event_ms, 2000);

    /* A cached count above its total clamps input to zero. */
    m = "{\"created\": 2, \"usage\": {\"prompt_tokens\": 5, "
        "\"prompt_tokens_details\": {\"cached_tokens\": 9}}}";
    CHECK_INT(br_decoder_decode(oai, m, strlen(m), &rec, errstr,
                                sizeof(errstr)), BR_ERR_OK);
    CHECK_INT(rec.tokens[BR_TOK_INPUT], 0);
    CHECK_INT(rec.tokens[BR_TOK_CACHE_READ], 9);

    /* decode_object refuses non-objects. */
    json_t *arr = json_array();
    CHECK_INT(br_decoder_decode_object(oai, arr, &rec, errstr,
                                       sizeof(errstr)), BR_ERR_PARSE);
    json_decref(arr);

    /* Tags beyond the record's capacity are dropped; mapped dims stay. */
    br_decoder_t *focus = decoder(BR_DIALECT_FOCUS);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s}", "BilledCost", "1.5",
                            "ChargeCategory", "Usage", "ChargePeriodStart",
                            "2024-09-18 22:00:00", "ServiceName", "EC2",
                            "RegionId", "us-east-1");
    json_t *tags = json_object();
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof(k), "tag%02d", i);
        json_object_set_new(tags, k, json_string("v"));
    }
    json_object_set_new(row, "Tags", tags);
    CHECK_INT(br_decoder_decode_object(focus, row, &rec, errstr,
                                       sizeof(errstr)), BR_ERR_OK);
    CHECK_INT(rec.dim_cnt, BR_DIM_MAX);
    CHECK_STR(br_record_dim(&rec, "service"), "EC2");
    CHECK_STR(br_record_dim(&rec, "region"), "us-east-1");
    CHECK_INT(rec.cost_nanos, INT64_C(1500000000));
    /* A skipped category wins over anything else wrong with the row. */
    json_object_set_new(row, "ChargeCategory", json_string("Tax"));
    json_object_set_new(row, "BilledCost", json_string("garbage"));
    CHECK_INT(br_decoder_decode_object(focus, row, &rec, errstr,
                                       sizeof(errstr)), BR_ERR_SKIP);
    json_decref(row);

    /* The custom dialect needs time and cost or tokens. */
    br_input_conf_t in;
    memset(&in, 0, sizeof(in));
    in.name = (char *)(uintptr_t)"c";
    in.dialect = BR_DIALECT_CUSTOM;
    errstr[0] = '\0';
    CHECK(br_decoder_new(&in, errstr, sizeof(errstr)) == NULL);
    CHECK(strstr(errstr, "mapping.time") != NULL);
    in.mapping.time = (char *)(uintptr_t)"t";
    CHECK(br_decoder_new(&in, errstr, sizeof(errstr)) == NULL);
    in.mapping.tokens[BR_TOK_INPUT] = (char *)(uintptr_t)"n";
    br_decoder_t *custom = br_decoder_new(&in, errstr, sizeof(errstr));
    CHECK(custom != NULL);
    m = "{\"t\": \"2024-09-18T22:00:00Z\", \"n\": 4}";
    CHECK_INT(br_decoder_decode(custom, m, strlen(m), &rec, errstr,
                                sizeof(errstr)), BR_ERR_OK);
    CHECK_INT(rec.kind, BR_KIND_TOKENS);
    CHECK_INT(rec.dim_cnt, 0);

    /* A mapping path overrides a preset's candidates. */
    memset(&in, 0, sizeof(in));
    in.name = (char *)(uintptr_t)"o";
    in.dialect = BR_DIALECT_OPENAI;
    in.mapping.time = (char *)(uintptr_t)"meta.sent_at";
    br_decoder_t *over = br_decoder_new(&in, errstr, sizeof(errstr));
    m = "{\"created\": 1, \"meta\": {\"sent_at\": \"1970-01-01T00:00:05Z\"}, "
        "\"usage\": {\"prompt_tokens\": 1}}";
    CHECK_INT(br_decoder_decode(over, m, strlen(m), &rec, errstr,
                                sizeof(errstr)), BR_ERR_OK);
    CHECK_INT(rec.event_ms, 5000);
    m = "{\"created\": 1, \"usage\": {\"prompt_tokens\": 1}}";
    CHECK_INT(br_decoder_decode(over, m, strlen(m), &rec, errstr,
                                sizeof(errstr)), BR_ERR_MISSING);
    CHECK(strstr(errstr, "meta.sent_at") != NULL);

    br_decoder_destroy(over);
    br_decoder_destroy(custom);
    br_decoder_destroy(focus);
    br_decoder_destroy(oai);
    br_decoder_destroy(NULL);
}

/* record.c: replace semantics, empty values, a full arena. */
static void test_record(void) {
    static br_record_t r;
    r.origin.offset = 99;
    br_record_reset(&r);
    CHECK_INT(r.origin.offset, 99); /* reset leaves origin alone */
    CHECK(br_record_set_dim(&r, "team", "ml", 2));
    CHECK(br_record_set_dim(&r, "model", "gpt-4o-mini", 6)); /* a prefix */
    CHECK(br_record_set_dim(&r, "team", "", 0));              /* ignored */
    CHECK_STR(br_record_dim(&r, "team"), "ml");
    CHECK_STR(br_record_dim(&r, "model"), "gpt-4o");
    CHECK(br_record_set_dim(&r, "team", "search", 6));        /* replaces */
    CHECK_INT(r.dim_cnt, 2);
    CHECK_STR(br_record_dim(&r, "team"), "search");
    CHECK(br_record_dim(&r, "user") == NULL);
    CHECK_STR(br_tok_name(BR_TOK_CACHE_WRITE), "cache_write");
    CHECK_STR(br_tok_name(BR_TOK_REASONING), "reasoning");
    static char big[BR_RECORD_ARENA];
    memset(big, 'x', sizeof(big));
    CHECK(br_record_strdup(&r, big, sizeof(big)) == NULL);
    size_t used = r.arena_used;
    CHECK(!br_record_set_dim(&r, "huge", big, BR_RECORD_ARENA - used - 2));
    CHECK_INT(r.arena_used, used); /* a failed set leaves nothing behind */
    CHECK_INT(r.dim_cnt, 2);
    for (int i = 0; i < BR_DIM_MAX; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        bool ok = br_record_set_dim(&r, k, "v", 1);
        CHECK(ok == (i < BR_DIM_MAX - 2));
    }
    br_record_reset(&r);
    CHECK_INT(r.dim_cnt, 0);
    CHECK_INT(r.arena_used, 0);
}

/* mapping.time: $kafka.timestamp takes the record's timestamp from its
 * origin; without one the record is MISSING. The anthropic preset falls
 * back to it when the payload carries no time (a raw Messages response). */
static void test_kafka_timestamp(void) {
    char errstr[512];
    const int64_t ts = INT64_C(1726696800123); /* 2024-09-18T22:00:00.123Z */
    br_input_conf_t in;
    memset(&in, 0, sizeof in);
    in.name = (char *)(uintptr_t)"raw";
    in.dialect = BR_DIALECT_OPENAI;
    in.mapping.time = (char *)(uintptr_t)BR_KAFKA_TIMESTAMP;
    br_decoder_t *dec = br_decoder_new(&in, errstr, sizeof errstr);
    CHECK(dec != NULL);
    /* The payload's own "created" is not looked at: the mapping names the
     * record's timestamp alone. */
    const char *m = "{\"created\": 1, \"model\": \"gpt-4o\", "
                    "\"usage\": {\"prompt_tokens\": 5}}";
    rec.origin.timestamp_ms = ts;
    CHECK_INT(br_decoder_decode(dec, m, strlen(m), &rec, errstr,
                                sizeof errstr), BR_ERR_OK);
    CHECK_INT(rec.event_ms, ts);
    CHECK_INT(rec.origin.timestamp_ms, ts); /* origin untouched */
    rec.origin.timestamp_ms = -1; /* the broker kept none */
    CHECK_INT(br_decoder_decode(dec, m, strlen(m), &rec, errstr,
                                sizeof errstr), BR_ERR_MISSING);
    CHECK_STR(errstr, "no event time: mapping.time is $kafka.timestamp and "
                      "the record has no Kafka timestamp (files carry none)");
    rec.origin.timestamp_ms = INT64_C(253402300800000); /* year 10000 */
    CHECK_INT(br_decoder_decode(dec, m, strlen(m), &rec, errstr,
                                sizeof errstr), BR_ERR_RANGE);
    br_decoder_destroy(dec);

    /* Anthropic: a Messages response as the API returns it. */
    br_decoder_t *ant = decoder(BR_DIALECT_ANTHROPIC);
    const char *resp =
        "{\"id\": \"msg_01\", \"type\": \"message\", \"role\": "
        "\"assistant\", \"model\": \"claude-sonnet-4-5\", \"content\": [], "
        "\"stop_reason\": \"end_turn\", \"usage\": {\"input_tokens\": 10, "
        "\"output_tokens\": 20, \"cache_read_input_tokens\": 0}}";
    rec.origin.timestamp_ms = ts;
    CHECK_INT(br_decoder_decode(ant, resp, strlen(resp), &rec, errstr,
                                sizeof errstr), BR_ERR_OK);
    CHECK_INT(rec.event_ms, ts);
    CHECK_INT(rec.tokens[BR_TOK_OUTPUT], 20);
    /* A time in the payload wins over the record's. */
    const char *stamped = "{\"timestamp\": \"2024-09-18T00:00:00Z\", "
                          "\"model\": \"m\", \"usage\": {\"input_tokens\": 1}}";
    CHECK_INT(br_decoder_decode(ant, stamped, strlen(stamped), &rec, errstr,
                                sizeof errstr), BR_ERR_OK);
    CHECK_INT(rec.event_ms, INT64_C(1726617600000));
    /* From a file: neither. */
    rec.origin.timestamp_ms = 0;
    CHECK_INT(br_decoder_decode(ant, resp, strlen(resp), &rec, errstr,
                                sizeof errstr), BR_ERR_MISSING);
    CHECK_STR(errstr, "no event time (field \"timestamp\" or its "
                      "alternatives, nor a Kafka record timestamp)");
    br_decoder_destroy(ant);
    memset(&rec.origin, 0, sizeof rec.origin);
}

/* A FOCUS row whose Tags hold tag_cnt tags "t00".."tNN" of value_len bytes
 * each, then "team": team last; into buf. */
static size_t focus_many_tags(char *buf, size_t cap, int tag_cnt,
                              size_t value_len, const char *team) {
    char value[1024];
    memset(value, 'v', value_len);
    value[value_len] = '\0';
    size_t n = (size_t)snprintf(buf, cap,
                                "{\"ChargePeriodStart\": "
                                "\"2025-01-01T00:00:00Z\", \"BilledCost\": "
                                "\"2.50\", \"BillingCurrency\": \"USD\", "
                                "\"ChargeCategory\": \"Usage\", "
                                "\"ProviderName\": \"AWS\", \"Tags\": {");
    for (int i = 0; i < tag_cnt; i++)
        n += (size_t)snprintf(buf + n, cap - n, "\"t%02d\": \"%s\", ", i,
                              value);
    n += (size_t)snprintf(buf + n, cap - n, "\"team\": \"%s\"}}", team);
    return n;
}

/* Issue 15: a record holds BR_DIM_MAX dimensions and BR_RECORD_ARENA bytes,
 * a message may carry more. The dimensions the config uses are stored
 * first, whatever their place in the message; what is left out is counted. */
static void test_dims_beyond_limit(void) {
    static char msg[64 * 1024];
    static const char *const want[] = {"model", "provider", "team"};
    char errstr[512];
    br_input_conf_t in;
    memset(&in, 0, sizeof in);
    in.name = (char *)(uintptr_t)"focus";
    in.dialect = BR_DIALECT_FOCUS;
    br_decoder_t *plain = br_decoder_new(&in, errstr, sizeof errstr);
    br_decoder_t *dec = br_decoder_new_wanting(&in, want, 3, errstr,
                                               sizeof errstr);
    CHECK(plain != NULL);
    CHECK(dec != NULL);
    if (!plain || !dec) goto done;

    /* 40 tags, team last: provider and charge_category from columns, then
     * 41 tags for 22 places. */
    size_t n = focus_many_tags(msg, sizeof msg, 40, 4, "ml");
    CHECK_INT(br_decoder_decode(plain, msg, n, &rec, errstr, sizeof errstr),
              BR_ERR_OK);
    CHECK_INT(rec.dim_cnt, BR_DIM_MAX);
    CHECK(br_record_dim(&rec, "team") == NULL); /* no preference: lost... */
    CHECK_INT(rec.dims_ignored, 2 + 41 - BR_DIM_MAX); /* ...but counted */
    CHECK_INT(br_decoder_decode(dec, msg, n, &rec, errstr, sizeof errstr),
              BR_ERR_OK);
    CHECK_INT(rec.dim_cnt, BR_DIM_MAX);
    CHECK_STR(br_record_dim(&rec, "team"), "ml");
    CHECK_STR(br_record_dim(&rec, "provider"), "AWS");
    CHECK_STR(br_record_dim(&rec, "charge_category"), "Usage");
    CHECK_STR(br_record_dim(&rec, "t00"), "vvvv");
    CHECK(br_record_dim(&rec, "t39") == NULL);
    CHECK_INT(rec.dims_ignored, 2 + 41 - BR_DIM_MAX);
    CHECK_INT(rec.cost_nanos, INT64_C(2500000000));

    /* Few tags: nothing ignored, nothing reordered away. */
    n = focus_many_tags(msg, sizeof msg, 3, 4, "ml");
    CHECK_INT(br_decoder_decode(dec, msg, n, &rec, errstr, sizeof errstr),
              BR_ERR_OK);
    CHECK_INT(rec.dim_cnt, 2 + 4);
    CHECK_INT(rec.dims_ignored, 0);
    CHECK_STR(br_record_dim(&rec, "t02"), "vvvv");

    /* A tag map that fills the arena (20 tags of 500 bytes: 10 kB for
     * 4 kB) before a long team tag: team still fits, the rest is counted. */
    char team[401];
    memset(team, 'T', 400);
    team[400] = '\0';
    n = focus_many_tags(msg, sizeof msg, 20, 500, team);
    CHECK_INT(br_decoder_decode(dec, msg, n, &rec, errstr, sizeof errstr),
              BR_ERR_OK);
    CHECK_STR(br_record_dim(&rec, "team"), team);
    CHECK_STR(br_record_dim(&rec, "provider"), "AWS");
    CHECK(rec.arena_used <= BR_RECORD_ARENA);
    CHECK(rec.dim_cnt < 2 + 21);
    CHECK_INT(rec.dim_cnt + rec.dims_ignored, 2 + 21);
    CHECK(rec.dims_ignored >= 20 - BR_RECORD_ARENA / 500);
    CHECK_INT(br_decoder_decode(plain, msg, n, &rec, errstr, sizeof errstr),
              BR_ERR_OK);
    CHECK(br_record_dim(&rec, "team") == NULL); /* in message order: no room */
    CHECK_INT(rec.dim_cnt + rec.dims_ignored, 2 + 21);

    /* CUR's resource_tags_user_* columns take the same road. */
    br_input_conf_t cur;
    memset(&cur, 0, sizeof cur);
    cur.name = (char *)(uintptr_t)"cur";
    cur.dialect = BR_DIALECT_CUR;
    br_decoder_t *cd = br_decoder_new_wanting(&cur, want, 3, errstr,
                                              sizeof errstr);
    CHECK(cd != NULL);
    if (cd) {
        n = (size_t)snprintf(msg, sizeof msg,
                             "{\"line_item_usage_start_date\": "
                             "\"2025-01-01T00:00:00Z\", "
                             "\"line_item_unblended_cost\": 1.5, ");
        for (int i = 0; i < 30; i++)
            n += (size_t)snprintf(msg + n, sizeof msg - n,
                                  "\"resource_tags_user_t%02d\": \"x\", ", i);
        n += (size_t)snprintf(msg + n, sizeof msg - n,
                              "\"resource_tags_user_team\": \"data\"}");
        CHECK_INT(br_decoder_decode(cd, msg, n, &rec, errstr, sizeof errstr),
                  BR_ERR_OK);
        CHECK_STR(br_record_dim(&rec, "team"), "data");
        CHECK_STR(br_record_dim(&rec, "provider"), "AWS");
        CHECK_INT(rec.dim_cnt, BR_DIM_MAX);
        CHECK_INT(rec.dims_ignored, 2 + 30 - BR_DIM_MAX);
    }
    br_decoder_destroy(cd);
done:
    br_decoder_destroy(plain);
    br_decoder_destroy(dec);
}

/* The same row through the pipeline: the spend lands under team=ml, not
 * "(none)", and the tags left out are counted for the input. */
static void test_dims_beyond_limit_pipeline(void) {
    static const char conf_text[] =
        "currency: USD\n"
        "inputs:\n"
        "  - name: billing\n"
        "    topic: billing\n"
        "    dialect: focus\n"
        "scopes:\n"
        "  - name: team\n"
        "    dims: [team]\n"
        "budgets:\n"
        "  - name: ml\n"
        "    match:\n"
        "      env: prod\n"
        "    amount: 100\n"
        "    period: month\n";
    static char msg[64 * 1024];
    char err[512];
    br_config_t *conf = br_config_load_string(conf_text, "limits.yaml", NULL,
                                              err, sizeof err);
    CHECK(conf != NULL);
    if (!conf) {
        fprintf(stderr, "config: %s\n", err);
        return;
    }
    br_pipeline_t *pl = br_pipeline_new(conf, NULL, err, sizeof err);
    CHECK(pl != NULL);
    if (!pl) {
        fprintf(stderr, "pipeline: %s\n", err);
        br_config_destroy(conf);
        return;
    }
    /* 40 tags, then team; env (a budget's match key) in the middle of
     * them, past the 24th. */
    size_t n = focus_many_tags(msg, sizeof msg, 40, 4, "ml");
    char *t30 = strstr(msg, "\"t30\": \"vvvv\"");
    CHECK(t30 != NULL);
    if (t30) memcpy(t30, "\"env\": \"prod\"", 13);
    br_origin_t o = {.input = 0, .topic = "billing", .offset = 1};
    CHECK_INT(br_pipeline_feed(pl, &o, msg, n), BR_ERR_OK);
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);
    CHECK_INT(st.ok, 1);
    CHECK_INT(st.dims_ignored, 2 + 41 - BR_DIM_MAX);
    br_pipeline_input_stats_t is;
    br_pipeline_input_stats(pl, 0, &is);
    CHECK_INT(is.dims_ignored, 2 + 41 - BR_DIM_MAX);

    br_buf_t snap, json;
    br_buf_init(&snap);
    br_buf_init(&json);
    CHECK_INT(br_pipeline_save(pl, &snap), BR_ERR_OK);
    CHECK_INT(br_pipeline_describe(snap.data, snap.len, &json, err,
                                   sizeof err), BR_ERR_OK);
    CHECK(json.data && strstr(json.data, "{\"team\": \"ml\"}, \"total\": "
                                         "\"2.50\"") != NULL);
    CHECK(json.data && strstr(json.data, "(none)") == NULL);
    CHECK(json.data && strstr(json.data, "\"spent\": \"2.50\"") != NULL);
    if (json.data && (strstr(json.data, "(none)") ||
                      !strstr(json.data, "\"spent\": \"2.50\"")))
        fprintf(stderr, "%s\n", json.data);
    br_buf_free(&snap);
    br_buf_free(&json);
    br_pipeline_destroy(pl);
    br_config_destroy(conf);
}

/* A cur input loaded from a config has cost_column filled in with the
 * preset's line_item_unblended_cost; legacy CSV exports name that column
 * lineItem/UnblendedCost and must still have a cost (they were all dead
 * letters, MISSING). A cost_column chosen by the user is the only one. */
static void test_cur_legacy_cost_from_config(void) {
    static const char conf_text[] =
        "inputs:\n"
        "  - name: cur\n"
        "    files: [cur.csv]\n"
        "    format: csv\n"
        "    dialect: cur\n"
        "  - name: net\n"
        "    files: [net.csv]\n"
        "    format: csv\n"
        "    dialect: cur\n"
        "    cost_column: line_item_net_unblended_cost\n"
        "scopes:\n"
        "  - name: total\n"
        "    dims: []\n";
    static const char legacy[] =
        "{\"identity/LineItemId\": \"abc\", "
        "\"identity/TimeInterval\": "
        "\"2024-09-01T00:00:00Z/2024-09-01T01:00:00Z\", "
        "\"lineItem/LineItemType\": \"Usage\", "
        "\"lineItem/UsageStartDate\": \"2024-09-01T00:00:00Z\", "
        "\"lineItem/CurrencyCode\": \"USD\", "
        "\"lineItem/UnblendedCost\": \"12.5\"}";
    char err[512];
    br_config_t *conf = br_config_load_string(conf_text, "cur.yaml", NULL,
                                              err, sizeof err);
    CHECK(conf != NULL);
    if (!conf) {
        fprintf(stderr, "config: %s\n", err);
        return;
    }
    CHECK_STR(conf->inputs[0].cost_column, "line_item_unblended_cost");
    br_decoder_t *dec = br_decoder_new(&conf->inputs[0], err, sizeof err);
    br_decoder_t *net = br_decoder_new(&conf->inputs[1], err, sizeof err);
    CHECK(dec != NULL && net != NULL);
    if (dec && net) {
        br_record_reset(&rec);
        CHECK_INT(br_decoder_decode(dec, legacy, strlen(legacy), &rec, err,
                                    sizeof err), BR_ERR_OK);
        CHECK(rec.has_cost);
        CHECK_INT(rec.cost_nanos, INT64_C(12500000000));
        br_record_reset(&rec);
        CHECK_INT(br_decoder_decode(net, legacy, strlen(legacy), &rec, err,
                                    sizeof err), BR_ERR_MISSING);
    }
    br_decoder_destroy(dec);
    br_decoder_destroy(net);
    br_config_destroy(conf);
}

int main(void) {
    static const char *const dialects[] = {
        "otel", "openai", "anthropic", "litellm", "bedrock", "focus", "cur",
        "custom",
    };
    int valid = 0;
    for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
        char dir[256];
        snprintf(dir, sizeof(dir), CORPUS "/valid/%s", dialects[i]);
        int cnt = run_dir(dir, dialects[i]);
        if (cnt < 2) fprintf(stderr, "%s: only %d cases\n", dir, cnt);
        CHECK(cnt >= 2);
        valid += cnt;
    }
    int invalid = run_dir(CORPUS "/invalid", NULL);
    printf("corpus: %d valid, %d invalid cases\n", valid, invalid);
    CHECK(valid >= 25);
    CHECK(invalid >= 30);
    test_record();
    test_big_payloads();
    test_misc();
    test_kafka_timestamp();
    test_dims_beyond_limit();
    test_dims_beyond_limit_pipeline();
    test_cur_legacy_cost_from_config();
    return brt_done();
}
