/*
 * Config loader: a data-driven corpus (config/valid loads and round-trips
 * through its own dump; config/invalid fails with the message each file
 * names on its first line) plus known answers for defaults and exact values.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brtest.h"
#include "burnrate/config.h"
#include "burnrate/kafka.h"

static char errstr[512];

static char *dump_str(const br_config_t *conf) {
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp)
        return NULL;
    br_config_dump(conf, fp);
    fclose(fp);
    return buf;
}

/* dump -> load -> dump must give the same text, and the dump must load. */
static void check_round_trip(const br_config_t *conf, const char *what) {
    char *a = dump_str(conf);
    CHECK(a != NULL && strlen(a) > 0);
    if (!a)
        return;
    br_config_t *again = br_config_load_string(a, "dump", NULL, errstr,
                                               sizeof errstr);
    if (!again) {
        fprintf(stderr, "%s: dump does not load: %s\n%s", what, errstr, a);
        CHECK(again != NULL);
        free(a);
        return;
    }
    char *b = dump_str(again);
    CHECK(b != NULL);
    if (b && strcmp(a, b) != 0) {
        fprintf(stderr, "%s: round trip differs:\n--- first\n%s--- second\n%s",
                what, a, b);
        CHECK_STR(a, b);
    } else {
        CHECK(b != NULL);
    }
    free(b);
    free(a);
    br_config_destroy(again);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/** Sorted *.yaml names in dir; returns the count (0 when unreadable). */
static size_t list_yaml(const char *dir, char ***out) {
    DIR *d = opendir(dir);
    size_t cnt = 0, cap = 0;
    *out = NULL;
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0)
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 32;
            *out = realloc(*out, cap * sizeof(char *));
        }
        (*out)[cnt++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(*out, cnt, sizeof(char *), cmp_str);
    return cnt;
}

static void test_valid_corpus(void) {
    char **names, path[512];
    size_t n = list_yaml("config/valid", &names);
    CHECK(n >= 10);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "config/valid/%s", names[i]);
        br_config_t *conf = br_config_load(path, errstr, sizeof errstr);
        if (!conf) {
            fprintf(stderr, "%s: should load: %s\n", path, errstr);
            CHECK(conf != NULL);
        } else {
            CHECK(conf->input_cnt >= 1);
            check_round_trip(conf, path);
            br_config_destroy(conf);
        }
        free(names[i]);
    }
    free(names);
}

/* The "# expect: " lines at the top of an invalid file: each names one
 * error, in the order check-config reports them (by line). */
static size_t read_expects(const char *path, char expects[][512], size_t max) {
    char line[512];
    size_t n = 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    while (n < max && fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "# expect: ", 10) != 0)
            break;
        snprintf(expects[n++], 512, "%s", line + 10);
    }
    fclose(fp);
    return n;
}

static void test_invalid_corpus(void) {
    char **names, path[512], expects[32][512];
    static char all[16384];
    size_t n = list_yaml("config/invalid", &names);
    CHECK(n >= 30);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "config/invalid/%s", names[i]);
        size_t want = read_expects(path, expects, 32);
        if (!want) {
            fprintf(stderr, "%s: first line must be '# expect: ...'\n", path);
            CHECK(want > 0);
            free(names[i]);
            continue;
        }
        all[0] = '\0';
        br_config_t *conf = br_config_load(path, all, sizeof all);
        if (conf) {
            fprintf(stderr, "%s: loaded but should fail with: %s\n", path,
                    expects[0]);
            CHECK(conf == NULL);
            br_config_destroy(conf);
            free(names[i]);
            continue;
        }
        /* Exactly the errors expected, one a line, in this order, each
         * starting with the file name and a line number. */
        size_t got = 0;
        bool ok = true;
        for (char *save = NULL, *l = strtok_r(all, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save), got++) {
            if (got < want && !strstr(l, expects[got])) {
                fprintf(stderr, "%s: error %zu:\n  expected: %s\n  got:      "
                        "%s\n", path, got + 1, expects[got], l);
                ok = false;
            } else if (got >= want) {
                fprintf(stderr, "%s: unexpected error: %s\n", path, l);
                ok = false;
            }
            if (strncmp(l, path, strlen(path)) != 0 || l[strlen(path)] != ':') {
                fprintf(stderr, "%s: error without FILE: %s\n", path, l);
                ok = false;
            }
        }
        if (got < want) {
            fprintf(stderr, "%s: %zu errors, expected %zu (first missing: "
                    "%s)\n", path, got, want, expects[got]);
            ok = false;
        }
        CHECK(ok);
        free(names[i]);
    }
    free(names);
}

static br_config_t *load_valid(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "config/valid/%s", name);
    br_config_t *conf = br_config_load(path, errstr, sizeof errstr);
    if (!conf)
        fprintf(stderr, "%s: %s\n", path, errstr);
    return conf;
}

static void test_defaults(void) {
    br_config_t *conf = load_valid("minimal.yaml");
    CHECK(conf != NULL);
    if (!conf)
        return;
    CHECK_STR(conf->path, "config/valid/minimal.yaml");
    CHECK_STR(conf->currency, "USD");
    CHECK_INT(conf->input_cnt, 1);
    br_input_conf_t *in = &conf->inputs[0];
    CHECK_STR(in->name, "usage");
    CHECK_INT(in->topic_cnt, 1);
    CHECK_STR(in->topics[0], "llm.usage");
    CHECK_INT(in->file_cnt, 0);
    CHECK_INT(in->format, BR_FORMAT_JSON);
    CHECK_INT(in->dialect, BR_DIALECT_OTEL);
    CHECK(in->cost_column == NULL);
    CHECK_INT(in->charge_category_cnt, 0);
    CHECK_INT(in->lateness_ms, 5 * 60 * 1000);
    CHECK_INT(in->idle_ms, 3600 * 1000);
    CHECK(in->mapping.time == NULL && in->mapping.dim_cnt == 0);
    CHECK_INT(in->line, 2);
    CHECK_INT(conf->scope_cnt, 1);
    CHECK_STR(conf->scopes[0].name, "total");
    CHECK_INT(conf->scopes[0].dim_cnt, 0);
    CHECK_INT(conf->scopes[0].max_series, 10000);
    CHECK_INT(conf->spike.bucket_ms, 3600 * 1000);
    CHECK(conf->spike.sensitivity == 4.0);
    CHECK_INT(conf->spike.min_impact_nanos, INT64_C(10000000000));
    CHECK(conf->spike.min_ratio == 1.5);
    CHECK_INT(conf->spike.warmup_buckets, 24);
    CHECK_INT(conf->spike.new_spend_min_nanos, INT64_C(10000000000));
    CHECK_INT(conf->spike.resolve_buckets, 2);
    CHECK_INT(conf->budget_cnt, 0);
    CHECK(conf->prices_file == NULL);
    CHECK_INT(conf->price_override_cnt, 0);
    CHECK(conf->kafka.brokers == NULL);
    CHECK_STR(conf->kafka.group_id, "burnrate");
    CHECK_STR(conf->kafka.alerts_topic, "burnrate.alerts");
    CHECK_STR(conf->kafka.dlq_topic, "burnrate.dlq");
    CHECK_INT(conf->kafka.prop_cnt, 0);
    CHECK_STR(conf->state_dir, "config/valid/burnrate-state");
    CHECK_INT(conf->snapshot_unready_after, 3);
    CHECK_INT(conf->max_message_bytes, 524288);
    CHECK_INT(conf->log_level, BR_LOG_INFO);
    CHECK_INT(br_config_input_index(conf, "usage"), 0);
    CHECK_INT(br_config_input_index(conf, "nope"), -1);
    br_config_destroy(conf);
}

static void test_billing_defaults(void) {
    br_config_t *conf = load_valid("billing_defaults.yaml");
    CHECK(conf != NULL);
    if (!conf)
        return;
    CHECK_INT(conf->input_cnt, 2);
    br_input_conf_t *f = &conf->inputs[0], *c = &conf->inputs[1];
    CHECK_INT(f->dialect, BR_DIALECT_FOCUS);
    CHECK_INT(f->format, BR_FORMAT_CSV);
    CHECK_STR(f->cost_column, "BilledCost");
    CHECK_INT(f->charge_category_cnt, 3);
    if (f->charge_category_cnt == 3) {
        CHECK_STR(f->charge_categories[0], "Usage");
        CHECK_STR(f->charge_categories[1], "Credit");
        CHECK_STR(f->charge_categories[2], "Adjustment");
    }
    CHECK_INT(f->lateness_ms, 48 * 3600 * 1000);
    CHECK_INT(f->idle_ms, 3 * 86400 * 1000);
    CHECK_INT(f->file_cnt, 2);
    if (f->file_cnt == 2) {
        CHECK_STR(f->files[0], "config/valid/focus.csv");
        CHECK_STR(f->files[1], "/abs/focus2.csv");
    }
    CHECK_INT(c->dialect, BR_DIALECT_CUR);
    CHECK_STR(c->cost_column, "line_item_unblended_cost");
    CHECK_INT(c->charge_category_cnt, 5);
    if (c->charge_category_cnt == 5) {
        CHECK_STR(c->charge_categories[0], "Usage");
        CHECK_STR(c->charge_categories[3], "DiscountedUsage");
        CHECK_STR(c->charge_categories[4], "SavingsPlanCoveredUsage");
    }
    CHECK_INT(c->lateness_ms, 48 * 3600 * 1000);
    CHECK_INT(c->idle_ms, 3 * 86400 * 1000);
    br_config_destroy(conf);
}

/* mapping.id as a list, restatements, dedup_window and dedup_max_ids, and
 * their defaults per kind of input. */
static void test_identity(void) {
    br_config_t *conf = load_valid("identity.yaml");
    CHECK(conf != NULL);
    if (!conf)
        return;
    const br_input_conf_t *r = &conf->inputs[0], *f = &conf->inputs[1],
                          *t = &conf->inputs[2];
    CHECK_INT(r->mapping.id_cnt, 3);
    if (r->mapping.id_cnt == 3) {
        CHECK_STR(r->mapping.id[0], "account");
        CHECK_STR(r->mapping.id[2], "sku");
    }
    CHECK_INT(r->restatements, BR_RESTATE_REPLACE);
    CHECK_INT(r->dedup_window_ms, 3 * 86400 * INT64_C(1000));
    CHECK_INT(r->dedup_max_ids, 500);
    CHECK_INT(f->mapping.id_cnt, 0);
    CHECK_INT(f->restatements, BR_RESTATE_REPLACE);
    CHECK_INT(f->dedup_window_ms, 40 * 86400 * INT64_C(1000));
    CHECK_INT(f->dedup_max_ids, 2000);
    CHECK_INT(t->restatements, BR_RESTATE_DUPLICATE);
    CHECK_INT(t->dedup_window_ms, 12 * 3600 * INT64_C(1000));
    CHECK_INT(t->dedup_max_ids, 2000);
    br_config_destroy(conf);
    conf = load_valid("custom_cost.yaml"); /* id: one field */
    CHECK(conf != NULL);
    if (conf) {
        CHECK_INT(conf->inputs[0].mapping.id_cnt, 1);
        CHECK_STR(conf->inputs[0].mapping.id[0], "invoice_id");
        br_config_destroy(conf);
    }
}

static void test_values(void) {
    br_config_t *conf = load_valid("full.yaml");
    CHECK(conf != NULL);
    if (!conf)
        return;
    CHECK_STR(conf->currency, "EUR");
    CHECK_INT(conf->input_cnt, 3);
    br_input_conf_t *in = &conf->inputs[0];
    CHECK_INT(in->topic_cnt, 3);
    if (in->topic_cnt == 3) {
        CHECK_STR(in->topics[0], "a");
        CHECK_STR(in->topics[1], "b");
        CHECK_STR(in->topics[2], "c");
    }
    CHECK_INT(in->lateness_ms, 500);
    CHECK_INT(in->idle_ms, 90 * 1000);
    CHECK_INT(in->stale_after_ms, 15 * 60 * 1000);
    in = &conf->inputs[1];
    CHECK_INT(in->dialect, BR_DIALECT_CUSTOM);
    CHECK_STR(in->mapping.time, "ts");
    CHECK_STR(in->mapping.model, "req.model");
    CHECK_STR(in->mapping.tokens[BR_TOK_INPUT], "usage.in");
    CHECK_STR(in->mapping.tokens[BR_TOK_CACHE_READ], "usage.cached");
    CHECK_STR(in->mapping.tokens[BR_TOK_REASONING], "usage.think");
    CHECK(in->mapping.tokens[BR_TOK_OUTPUT] == NULL);
    CHECK_INT(in->mapping.dim_cnt, 2);
    if (in->mapping.dim_cnt == 2) {
        CHECK_STR(in->mapping.dims[0].key, "team");
        CHECK_STR(in->mapping.dims[0].value, "meta.team");
        CHECK_STR(in->mapping.dims[1].key, "user");
    }
    CHECK_INT(in->lateness_ms, 5400 * 1000);   /* 1h30m */
    CHECK_INT(in->idle_ms, 120 * 1000);        /* bare 120 = seconds */
    CHECK_INT(in->stale_after_ms, 0);          /* off by default */
    in = &conf->inputs[2];
    CHECK_INT(in->stale_after_ms, 0);          /* 0 = off */
    CHECK_STR(in->cost_column, "EffectiveCost");
    CHECK_INT(in->charge_category_cnt, 1);

    CHECK_INT(conf->scope_cnt, 2);
    CHECK_INT(conf->scopes[1].dim_cnt, 2);
    CHECK_STR(conf->scopes[1].dims[1], "model");
    CHECK_INT(conf->scopes[1].max_series, 50);

    CHECK_INT(conf->spike.bucket_ms, 15 * 60 * 1000);
    CHECK(conf->spike.sensitivity == 3.5);
    CHECK_INT(conf->spike.min_impact_nanos, 100000000);        /* 0.1 exact */
    CHECK(conf->spike.min_ratio == 2.0);
    CHECK_INT(conf->spike.warmup_buckets, 0);
    CHECK_INT(conf->spike.new_spend_min_nanos, 100000000);     /* = min_impact */
    CHECK_INT(conf->spike.resolve_buckets, 3);
    CHECK_INT(conf->spike.cooldown_ms, 6 * 15 * 60 * 1000); /* 6 buckets */

    CHECK_INT(conf->budget_cnt, 2);
    br_budget_conf_t *b = &conf->budgets[0];
    CHECK_STR(b->name, "team-a");
    CHECK_INT(b->amount_nanos, 100000000);                     /* 0.1 */
    CHECK_STR(b->currency, "EUR");                             /* inherited */
    CHECK_INT(b->period, BR_PERIOD_WEEK);
    CHECK_STR(b->timezone, "Europe/Berlin");
    CHECK_INT(b->match_cnt, 2);
    if (b->match_cnt == 2) {
        CHECK_STR(b->match[0].key, "team");
        CHECK_STR(b->match[0].value, "a");
        CHECK_STR(b->match[1].value, "42");
        CHECK(b->match[0].line > 0);
    }
    CHECK_INT(b->threshold_cnt, 4);
    if (b->threshold_cnt == 4) {   /* given as [100, 12.5, 80, 0.01], sorted */
        CHECK_INT(b->thresholds_bp[0], 1);
        CHECK_INT(b->thresholds_bp[1], 1250);
        CHECK_INT(b->thresholds_bp[2], 8000);
        CHECK_INT(b->thresholds_bp[3], 10000);
    }
    b = &conf->budgets[1];
    CHECK_INT(b->amount_nanos, INT64_C(1234567890123));        /* 1234.567890123 */
    CHECK_STR(b->currency, "USD");
    CHECK_INT(b->period, BR_PERIOD_MONTH);
    CHECK_STR(b->timezone, "UTC");
    CHECK_INT(b->threshold_cnt, 3);
    if (b->threshold_cnt == 3) {
        CHECK_INT(b->thresholds_bp[0], 5000);
        CHECK_INT(b->thresholds_bp[2], 10000);
    }
    CHECK_INT(b->match_cnt, 0);

    CHECK_STR(conf->prices_file, "/srv/prices.json");
    CHECK_INT(conf->price_override_cnt, 2);
    if (conf->price_override_cnt == 2) {
        CHECK_STR(conf->price_overrides[0].key, "gpt-4o-mini");
        CHECK_STR(conf->price_overrides[0].value,
                  "input=0.15,output=0.60,cache_read=0.075,cache_write=0.30,"
                  "reasoning=0.60");
        CHECK_STR(conf->price_overrides[1].key, "vendor/model:v2");
        CHECK_STR(conf->price_overrides[1].value, "input=1e-1");
    }

    CHECK_STR(conf->kafka.brokers, "k1:9092,k2:9092");
    CHECK_STR(conf->kafka.group_id, "g");
    CHECK_STR(conf->kafka.alerts_topic, "out");
    CHECK_STR(conf->kafka.dlq_topic, "dead");
    CHECK_INT(conf->kafka.prop_cnt, 4);
    if (conf->kafka.prop_cnt == 4) {
        CHECK_STR(conf->kafka.props[0].key, "security.protocol");
        CHECK_STR(conf->kafka.props[1].key, "sasl.password");
        CHECK_STR(conf->kafka.props[1].value, "hunter2");
        CHECK_STR(conf->kafka.props[2].value, "true");          /* bool as text */
        CHECK_STR(conf->kafka.props[3].value, "5000");          /* number as text */
    }
    CHECK_INT(conf->kafka.consumer_prop_cnt, 1);
    CHECK_INT(conf->kafka.producer_prop_cnt, 2);
    CHECK_STR(conf->state_dir, "/var/lib/burnrate");
    CHECK_INT(conf->snapshot_unready_after, 0);
    CHECK_INT(conf->max_message_bytes, 1048576);
    CHECK_INT(conf->log_level, BR_LOG_DEBUG);

    /* The dump hides secrets but nothing else. */
    char *d = dump_str(conf);
    CHECK(d != NULL);
    if (d) {
        CHECK(strstr(d, "hunter2") == NULL);
        CHECK(strstr(d, "opensesame") == NULL);
        CHECK(strstr(d, "s3cr3t") == NULL);
        CHECK(strstr(d, "sasl.password: \"[redacted]\"") != NULL);
        CHECK(strstr(d, "security.protocol: SASL_SSL") != NULL);
        CHECK(strstr(d, "thresholds: [0.01, 12.5, 80, 100]") != NULL);
        CHECK(strstr(d, "amount: 0.10") != NULL);
        CHECK(strstr(d, "lateness: 500ms") != NULL);
        CHECK(strstr(d, "idle_timeout: 90s") != NULL);
        CHECK(strstr(d, "bucket: 15m") != NULL);
        free(d);
    }
    br_config_destroy(conf);
}

static void test_string_loader(void) {
    const char *yaml =
        "inputs:\n"
        "  - name: f\n"
        "    files: [a.jsonl, /x/b.jsonl]\n"
        "    dialect: litellm\n"
        "prices: {file: p.json}\n"
        "state: {dir: st}\n";
    br_config_t *conf = br_config_load_string(yaml, "inline", "/etc/br",
                                              errstr, sizeof errstr);
    CHECK(conf != NULL);
    if (conf) {
        CHECK_STR(conf->path, "inline");
        CHECK_STR(conf->inputs[0].files[0], "/etc/br/a.jsonl");
        CHECK_STR(conf->inputs[0].files[1], "/x/b.jsonl");
        CHECK_STR(conf->prices_file, "/etc/br/p.json");
        CHECK_STR(conf->state_dir, "/etc/br/st");
        br_config_destroy(conf);
    }
    /* No base dir: relative paths stay relative (to the working dir). */
    conf = br_config_load_string(yaml, "inline", NULL, errstr, sizeof errstr);
    CHECK(conf != NULL);
    if (conf) {
        CHECK_STR(conf->inputs[0].files[0], "a.jsonl");
        CHECK_STR(conf->state_dir, "st");
        br_config_destroy(conf);
    }

    conf = br_config_load_string("inputs:\n  - name: x\n    topic: t\n"
                                 "    dialect: otel\n\tbad: 1\n",
                                 "s.yaml", NULL, errstr, sizeof errstr);
    CHECK(conf == NULL);
    if (strncmp(errstr, "s.yaml:5: YAML syntax error at column", 37) != 0)
        fprintf(stderr, "syntax error message: %s\n", errstr);
    CHECK(strncmp(errstr, "s.yaml:5: YAML syntax error at column", 37) == 0);
    CHECK(strstr(errstr, "YAML syntax error") != NULL);

    conf = br_config_load_string("", "empty.yaml", NULL, errstr,
                                 sizeof errstr);
    CHECK(conf == NULL);
    CHECK(strstr(errstr, "empty.yaml:1:") != NULL);

    conf = br_config_load("config/does-not-exist.yaml", errstr, sizeof errstr);
    CHECK(conf == NULL);
    CHECK(strstr(errstr, "config/does-not-exist.yaml: cannot open") != NULL);

    br_config_destroy(NULL);
}

static void test_dialects(void) {
    br_dialect_t d;
    for (int i = 0; i < BR_DIALECT__CNT; i++) {
        CHECK_INT(br_dialect_parse(br_dialect_name((br_dialect_t)i), &d),
                  BR_ERR_OK);
        CHECK_INT(d, i);
    }
    CHECK_STR(br_dialect_name(BR_DIALECT_FOCUS), "focus");
    CHECK_STR(br_dialect_name(BR_DIALECT_OTEL), "otel");
    CHECK_INT(br_dialect_parse("FOCUS", &d), BR_ERR_INVAL);
    CHECK_INT(br_dialect_parse("", &d), BR_ERR_INVAL);
}

static void test_example(void) {
    char path[1024];
    const char *src = getenv("BR_SRC");
    if (src)
        snprintf(path, sizeof path, "%s/scripts/burnrate.example.yaml", src);
    else
        snprintf(path, sizeof path, "../scripts/burnrate.example.yaml");
    br_config_t *conf = br_config_load(path, errstr, sizeof errstr);
    if (!conf)
        fprintf(stderr, "%s: %s\n", path, errstr);
    CHECK(conf != NULL);
    if (!conf)
        return;
    CHECK_INT(conf->input_cnt, 4);
    CHECK_INT(br_config_input_index(conf, "focus-billing"), 3);
    CHECK_STR(conf->inputs[0].topics[0], "llm.usage");
    CHECK_STR(conf->inputs[1].topics[0], "llm.openai");
    CHECK_STR(conf->inputs[2].topics[0], "llm.openai.avro");
    CHECK_INT(conf->inputs[2].format, BR_FORMAT_AVRO_CONFLUENT);
    CHECK(conf->inputs[2].avro.schema_json != NULL); /* schemas/usage.avsc */
    CHECK_STR(conf->inputs[3].topics[0], "billing.focus");
    CHECK_INT(conf->scope_cnt, 6);
    CHECK_INT(conf->scopes[5].input_cnt, 3); /* llm_team: token inputs */
    CHECK(conf->scopes[0].inputs == NULL);  /* total: every input */
    CHECK(conf->budget_cnt >= 2);
    /* The shipped price table is reachable from the example. */
    CHECK(conf->prices_file != NULL);
    FILE *fp = conf->prices_file ? fopen(conf->prices_file, "r") : NULL;
    if (!fp)
        fprintf(stderr, "prices.file %s does not open\n",
                conf->prices_file ? conf->prices_file : "(null)");
    CHECK(fp != NULL);
    if (fp)
        fclose(fp);
    check_round_trip(conf, path);
    br_config_destroy(conf);
}

/* librdkafka checks the properties of both clients as run builds them,
 * without a network: every misspelt or refused property, each once. */
static void test_kafka_check(void) {
    static char all[8192];
    const char *yaml =
        "inputs: [{name: a, topic: t, dialect: otel}]\n"
        "kafka:\n"
        "  properties:\n"
        "    sesion.timeout.ms: 6000\n"
        "    security.protocol: SASL_SSL\n"
        "  consumer_properties:\n"
        "    fetch.max.bytes: lots\n"
        "  producer_properties:\n"
        "    compresion.codec: gzip\n";
    br_config_t *conf = br_config_load_string(yaml, "k.yaml", NULL, errstr,
                                              sizeof errstr);
    CHECK(conf != NULL);
    if (conf) {
        CHECK_INT(br_kafka_check_config(conf, all, sizeof all), BR_ERR_CONFIG);
        const char *want[] = {
            "k.yaml:4: kafka.properties.sesion.timeout.ms: No such "
            "configuration property: \"sesion.timeout.ms\"",
            "k.yaml:7: kafka.consumer_properties.fetch.max.bytes: Invalid "
            "value",
            "k.yaml:9: kafka.producer_properties.compresion.codec: No such "
            "configuration property",
        };
        char *save = NULL, *l = strtok_r(all, "\n", &save);
        for (size_t i = 0; i < 3; i++, l = strtok_r(NULL, "\n", &save)) {
            if (!l || strncmp(l, want[i], strlen(want[i])) != 0)
                fprintf(stderr, "kafka check %zu: got %s\n", i, l ? l : "-");
            CHECK(l && strncmp(l, want[i], strlen(want[i])) == 0);
        }
        CHECK(l == NULL); /* the kafka.properties mistake only once */
        br_config_destroy(conf);
    }
    conf = br_config_load_string("inputs: [{name: a, topic: t, dialect: "
                                 "otel}]\nkafka: {properties: {linger.ms: "
                                 "5}}\n", "k.yaml", NULL, errstr,
                                 sizeof errstr);
    CHECK(conf != NULL);
    if (conf)
        CHECK_INT(br_kafka_check_config(conf, all, sizeof all), BR_ERR_OK);
    br_config_destroy(conf);

    /* What would break offsets-follow-snapshots is refused by the loader,
     * for run as for check-config. */
    conf = br_config_load_string("inputs: [{name: a, topic: t, dialect: "
                                 "otel}]\nkafka:\n  properties:\n"
                                 "    enable.auto.commit: true\n"
                                 "    acks: all\n"
                                 "  producer_properties:\n"
                                 "    message.timeout.ms: 300000\n",
                                 "r.yaml", NULL, all, sizeof all);
    CHECK(conf == NULL);
    CHECK(strncmp(all, "r.yaml:4: kafka.properties.enable.auto.commit: "
                       "refused: burnrate commits offsets itself", 87) == 0);
    CHECK(strstr(all, "\nr.yaml:7: kafka.producer_properties."
                      "message.timeout.ms: refused: ") != NULL);
    CHECK(strstr(all, "acks") == NULL); /* acks: all is what burnrate sets */
}

/* ${VAR} and ${file:} in values: expanded for use, shown as written by
 * the dump, and never quoted by a message. */
static void test_expansion(void) {
    static char all[8192];
    char dir[] = "/tmp/br_conf_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/pw", dir);
    FILE *fp = fopen(path, "w");
    fputs("Pw-From-File-77\n", fp);
    fclose(fp);
    setenv("BR_TEST_GROUP", "group-from-env", 1);
    setenv("BR_TEST_LATE", "SecretLateness", 1);
    setenv("BR_TEST_DIR", dir, 1);
    const char *yaml =
        "inputs: [{name: a, topic: t, dialect: otel}]\n"
        "kafka:\n"
        "  group_id: ${BR_TEST_GROUP}\n"
        "  properties:\n"
        "    sasl.password: ${file:pw}\n"
        "    sasl.username: ${file:${BR_TEST_DIR}/pw}\n"
        "    client.rack: a$$b\n";
    br_config_t *conf = br_config_load_string(yaml, "e.yaml", dir, all,
                                              sizeof all);
    if (!conf)
        fprintf(stderr, "expansion: %s\n", all);
    CHECK(conf != NULL);
    if (conf) {
        CHECK_STR(conf->kafka.group_id, "group-from-env");
        CHECK_STR(conf->kafka.props[0].value, "Pw-From-File-77");
        CHECK_STR(conf->kafka.props[1].value, "Pw-From-File-77");
        CHECK_STR(conf->kafka.props[2].value, "a$b");
        char *d = dump_str(conf);
        CHECK(d && strstr(d, "Pw-From-File-77") == NULL);
        CHECK(d && strstr(d, "group-from-env") == NULL);
        CHECK(d && strstr(d, "group_id: \"${BR_TEST_GROUP}\"") != NULL);
        CHECK(d && strstr(d, "sasl.password: \"${file:pw}\"") != NULL);
        CHECK(d && strstr(d, "client.rack: \"a$$b\"") != NULL);
        /* The dump loads back to the same values. */
        br_config_t *again = d ? br_config_load_string(d, "dump", dir, all,
                                                       sizeof all) : NULL;
        CHECK(again != NULL);
        if (again) {
            CHECK_STR(again->kafka.props[0].value, "Pw-From-File-77");
            CHECK_STR(again->kafka.props[2].value, "a$b");
        }
        br_config_destroy(again);
        free(d);
        /* A librdkafka error never quotes a value from ${...}. */
        char line[512] = "x Pw-From-File-77 y";
        br_config_scrub(conf, line, sizeof line);
        CHECK_STR(line, "x [redacted] y");
        br_config_destroy(conf);
    }
    /* A message about an expanded value does not quote it; an unset
     * variable and a missing file are mistakes of their own. */
    conf = br_config_load_string(
        "inputs:\n  - {name: a, topic: t, dialect: otel, lateness: "
        "\"${BR_TEST_LATE}\"}\nkafka:\n  group_id: ${BR_TEST_NOT_SET}\n"
        "  properties: {sasl.password: \"${file:missing}\"}\n",
        "e.yaml", dir, all, sizeof all);
    CHECK(conf == NULL);
    if (strstr(all, "e.yaml:2: inputs[0].lateness") != all)
        fprintf(stderr, "expansion errors:\n%s\n", all);
    CHECK(strstr(all, "SecretLateness") == NULL);
    CHECK(strstr(all, "e.yaml:2: inputs[0].lateness: must be a duration") ==
          all);
    CHECK(strstr(all, "\ne.yaml:4: kafka.group_id: ${BR_TEST_NOT_SET}: "
                      "environment variable BR_TEST_NOT_SET is not set\n") !=
          NULL);
    snprintf(path, sizeof path, "\ne.yaml:5: kafka.properties.sasl.password: "
             "${file:missing}: %s/missing: No such file or directory", dir);
    CHECK(strstr(all, path) != NULL);
    snprintf(path, sizeof path, "%s/pw", dir);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    test_valid_corpus();
    test_invalid_corpus();
    test_defaults();
    test_billing_defaults();
    test_identity();
    test_values();
    test_string_loader();
    test_dialects();
    test_example();
    test_kafka_check();
    test_expansion();
    return brt_done();
}
