/*
 * Price table: known answers from the real LiteLLM file in $BR_DATA, the
 * lookup rules, override specs and exact, once-rounded costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brtest.h"
#include "burnrate/price.h"

static char errstr[512];

static int64_t cost_of(const br_price_t *p, int64_t in, int64_t out,
                       int64_t cr, int64_t cw, int64_t rs) {
    int64_t tok[BR_TOK__CNT] = {in, out, cr, cw, rs};
    int64_t nanos = -1;
    br_err_t err = br_price_cost(p, tok, &nanos);
    CHECK_INT(err, BR_ERR_OK);
    return nanos;
}

/* Write text to a fresh temporary file; returns its path (static). */
static const char *tmpfile_with(const char *text) {
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/test_price_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        return NULL;
    }
    close(fd);
    return path;
}

static void test_real_file(void) {
    const char *data = getenv("BR_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/litellm_model_prices.json",
             data ? data : "../scripts/data");
    br_prices_t *prices = br_prices_new();
    CHECK(prices != NULL);
    br_err_t err = br_prices_load_litellm(prices, path, errstr,
                                          sizeof(errstr));
    CHECK_INT(err, BR_ERR_OK);
    if (err != BR_ERR_OK) {
        fprintf(stderr, "load: %s\n", errstr);
        br_prices_destroy(prices);
        return;
    }
    /* 2984 keys: sample_spec and 462 image/audio/search/per-second-only
     * entries carry no token price. */
    CHECK_INT(br_prices_count(prices), 2521);

    /* gpt-4o: input 2.5e-06, output 1e-05, cache read 1.25e-06. */
    const br_price_t *p = br_prices_lookup(prices, NULL, "gpt-4o");
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 2500000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_OUTPUT], 10000000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_CACHE_READ], 1250000000LL);
        CHECK(!p->has[BR_TOK_CACHE_WRITE]);
        CHECK(!p->has[BR_TOK_REASONING]);
        /* 1000 * 2.5e-6 + 500 * 1e-5 = 0.0075 */
        CHECK_INT(cost_of(p, 1000, 500, 0, 0, 0), 7500000);
        /* + 2000 cached * 1.25e-6 = 0.0025 */
        CHECK_INT(cost_of(p, 1000, 500, 2000, 0, 0), 10000000);
        /* cache write has no own price: input price (4 * 2.5e-6) */
        CHECK_INT(cost_of(p, 0, 0, 0, 4, 0), 10000);
        /* reasoning falls back to output: 3 * 1e-5 */
        CHECK_INT(cost_of(p, 0, 0, 0, 0, 3), 30000);
    }
    /* provider given: exact name still wins */
    CHECK(br_prices_lookup(prices, "openai", "gpt-4o") == p);
    /* a "provider/" prefix the table does not have is dropped */
    CHECK(br_prices_lookup(prices, NULL, "openai/gpt-4o") == p);
    CHECK(br_prices_lookup(prices, NULL, "GPT-4o") == p);
    CHECK(br_prices_lookup(prices, "OpenAI", "OpenAI/GPT-4O") == p);

    /* gpt-4o-mini: 0.15 / 0.60 per 1M tokens */
    p = br_prices_lookup(prices, "openai", "gpt-4o-mini");
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 150000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_CACHE_READ], 75000000LL);
        CHECK_INT(cost_of(p, 0, 0, 1, 0, 0), 75);
        CHECK_INT(cost_of(p, 3, 0, 7, 0, 0), 975);
    }

    /* Anthropic: claude-sonnet-4-5 3e-06 / 1.5e-05 / 3e-07 / 3.75e-06 */
    p = br_prices_lookup(prices, "anthropic", "claude-sonnet-4-5");
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->femto_per_token[BR_TOK_CACHE_WRITE], 3750000000LL);
        /* 1000*3e-6 + 200*1.5e-5 + 10000*3e-7 + 2000*3.75e-6
         * = 0.003 + 0.003 + 0.003 + 0.0075 */
        CHECK_INT(cost_of(p, 1000, 200, 10000, 2000, 0), 16500000);
    }
    /* Vertex carries it under a prefix that differs from its provider
     * ("vertex_ai-anthropic_models"), so only the full key reaches it. */
    CHECK(br_prices_lookup(prices, NULL, "vertex_ai/claude-sonnet-4-5") !=
          NULL);

    /* Bedrock model ids are keys of their own */
    p = br_prices_lookup(prices, "bedrock",
                         "anthropic.claude-3-5-sonnet-20241022-v2:0");
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 3000000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_CACHE_READ], 300000000LL);
        CHECK_INT(cost_of(p, 100, 100, 0, 0, 0), 1800000);
    }
    /* "bedrock/moonshotai.kimi-k2-thinking" (7.3e-07 / 3.03e-06) is also
     * reachable without its provider prefix, which is no key itself */
    p = br_prices_lookup(prices, NULL, "moonshotai.kimi-k2-thinking");
    CHECK(p != NULL);
    CHECK(p == br_prices_lookup(prices, NULL,
                                "bedrock/moonshotai.kimi-k2-thinking"));
    if (p) {
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 730000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_OUTPUT], 3030000000LL);
    }
    /* "bedrock/us-gov-east-1/anthropic.claude-sonnet-4-5-20250929-v1:0" */
    p = br_prices_lookup(prices, "bedrock",
                         "us-gov-east-1/anthropic.claude-sonnet-4-5-20250929-v1:0");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 3600000000LL);

    /* provider/model: deepseek-r1 is priced differently by deepseek
     * (5.5e-07) and azure_ai (1.35e-06), so the bare name is ambiguous */
    CHECK(br_prices_lookup(prices, NULL, "deepseek-r1") == NULL);
    p = br_prices_lookup(prices, "deepseek", "deepseek-r1");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 550000000LL);
    p = br_prices_lookup(prices, "azure_ai", "deepseek-r1");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 1350000000LL);

    /* Reasoning tokens with their own price (dashscope/qwen-turbo: output
     * 2e-07, reasoning 5e-07) and without (o1: output 6e-05). */
    p = br_prices_lookup(prices, "dashscope", "qwen-turbo");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(cost_of(p, 0, 10, 0, 0, 100), 2000 + 50000);
    p = br_prices_lookup(prices, "openai", "o1");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(cost_of(p, 0, 0, 0, 0, 10), 600000);

    /* Doubles whose shortest text has many digits stay exact:
     * 2.9999900000000002e-06 and 7.500003000000001e-05 */
    p = br_prices_lookup(prices, NULL, "databricks/databricks-claude-3-7-sonnet");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 2999990000LL);
    p = br_prices_lookup(prices, NULL, "databricks/databricks-claude-opus-4");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(p->femto_per_token[BR_TOK_OUTPUT], 75000030000LL);

    /* case variants with equal prices stay reachable */
    CHECK(br_prices_lookup(prices, NULL, "together_ai/Baai/bge-base-en-v1.5")
          != NULL);

    /* unknown stays unknown; entries without token prices are skipped */
    CHECK(br_prices_lookup(prices, NULL, "gpt-4o-nonexistent") == NULL);
    CHECK(br_prices_lookup(prices, "openai", "gpt-4") != NULL);
    CHECK(br_prices_lookup(prices, "openai", "gpt-5o-bogus") == NULL);
    CHECK(br_prices_lookup(prices, NULL, "sample_spec") == NULL);
    CHECK(br_prices_lookup(prices, NULL, "") == NULL);
    CHECK(br_prices_lookup(prices, NULL, "/") == NULL);

    /* An override replaces the file's price for that name only. */
    CHECK_INT(br_prices_set_spec(prices, "gpt-4o", "input=1,output=2",
                                 errstr, sizeof(errstr)), BR_ERR_OK);
    p = br_prices_lookup(prices, NULL, "gpt-4o");
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 1000000000LL);
        CHECK(!p->has[BR_TOK_CACHE_READ]);
        /* cache read now falls back to the input price */
        CHECK_INT(cost_of(p, 0, 0, 1000000, 0, 0), 1000000000);
    }
    p = br_prices_lookup(prices, NULL, "azure/gpt-4o");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 2500000000LL);
    CHECK_INT(br_prices_count(prices), 2521);
    /* An override resolves an ambiguous alias. */
    CHECK_INT(br_prices_set_spec(prices, "deepseek-r1", "input=0.5",
                                 errstr, sizeof(errstr)), BR_ERR_OK);
    p = br_prices_lookup(prices, NULL, "deepseek-r1");
    CHECK(p != NULL);
    if (p)
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 500000000LL);
    CHECK_INT(br_prices_count(prices), 2522);
    br_prices_destroy(prices);
}

static void test_spec(void) {
    br_prices_t *prices = br_prices_new();
    CHECK_INT(br_prices_set_spec(prices, "my-model",
                                 "input=0.15,output=0.60,cache_read=0.075,"
                                 "cache_write=0.30,reasoning=0.60",
                                 errstr, sizeof(errstr)), BR_ERR_OK);
    const br_price_t *p = br_prices_lookup(prices, NULL, "my-model");
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->femto_per_token[BR_TOK_INPUT], 150000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_OUTPUT], 600000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_CACHE_READ], 75000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_CACHE_WRITE], 300000000LL);
        CHECK_INT(p->femto_per_token[BR_TOK_REASONING], 600000000LL);
        for (int t = 0; t < BR_TOK__CNT; t++)
            CHECK(p->has[t]);
        /* 1M of each: 0.15 + 0.60 + 0.075 + 0.30 + 0.60 = 1.725 */
        CHECK_INT(cost_of(p, 1000000, 1000000, 1000000, 1000000, 1000000),
                  1725000000);
    }
    /* blanks, exponents and integers */
    CHECK_INT(br_prices_set_spec(prices, "m2", " input = 1.5e-1 , output=3 ",
                                 errstr, sizeof(errstr)), BR_ERR_OK);
    p = br_prices_lookup(prices, NULL, "m2");
    CHECK(p && p->femto_per_token[BR_TOK_INPUT] == 150000000LL);
    CHECK(p && p->femto_per_token[BR_TOK_OUTPUT] == 3000000000LL);
    CHECK(p && !p->has[BR_TOK_CACHE_READ]);
    /* below a femto per token: rounded half away from zero */
    CHECK_INT(br_prices_set_spec(prices, "m3", "input=0.0000000005",
                                 errstr, sizeof(errstr)), BR_ERR_OK);
    p = br_prices_lookup(prices, NULL, "m3");
    CHECK(p && p->femto_per_token[BR_TOK_INPUT] == 1);
    /* 0.4 and 0.1 nanos per token: the cost is rounded once, on the
     * total, half away from zero (rounding each type would give 0) */
    CHECK_INT(br_prices_set_spec(prices, "tiny", "input=0.0004,cache_read=0.0001",
                                 errstr, sizeof(errstr)), BR_ERR_OK);
    p = br_prices_lookup(prices, NULL, "tiny");
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(cost_of(p, 1, 0, 0, 0, 0), 0);
        CHECK_INT(cost_of(p, 1, 0, 1, 0, 0), 1);   /* 0.5 -> 1 */
        CHECK_INT(cost_of(p, 0, 0, 4, 0, 0), 0);   /* 0.4 -> 0 */
        CHECK_INT(cost_of(p, 3, 0, 0, 0, 0), 1);   /* 1.2 -> 1 */
        CHECK_INT(cost_of(p, 3, 0, 3, 0, 0), 2);   /* 1.5 -> 2 */
    }
    CHECK_INT(br_prices_count(prices), 4);

    static const char *const bad[] = {
        "", "input", "input=", "input=abc", "input=1.2.3", "input=-1",
        "input=1,input=2", "prompt=1", "input=1,", "input=nan",
        "input=inf", "input=0x10", "input=1e", ",input=1", "input=1;output=2",
        "input=99999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errstr[0] = '\0';
        br_err_t err = br_prices_set_spec(prices, "bad", bad[i], errstr,
                                          sizeof(errstr));
        CHECK_INT(err, BR_ERR_PARSE);
        if (err != BR_ERR_PARSE)
            fprintf(stderr, "  spec \"%s\" accepted\n", bad[i]);
        CHECK(strstr(errstr, "\"bad\"") != NULL);
    }
    CHECK(br_prices_lookup(prices, NULL, "bad") == NULL);
    CHECK_INT(br_prices_set_spec(prices, "", "input=1", errstr,
                                 sizeof(errstr)), BR_ERR_PARSE);
    br_prices_destroy(prices);
}

static void test_overflow(void) {
    br_price_t p;
    memset(&p, 0, sizeof(p));
    int64_t nanos = 0;
    p.femto_per_token[BR_TOK_INPUT] = INT64_MAX;
    p.has[BR_TOK_INPUT] = true;
    int64_t tok[BR_TOK__CNT] = {INT64_MAX, 0, 0, 0, 0};
    CHECK_INT(br_price_cost(&p, tok, &nanos), BR_ERR_RANGE);
    /* the same price for all five types: the i128 sum itself would wrap */
    int64_t all[BR_TOK__CNT] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX,
                                INT64_MAX};
    p.femto_per_token[BR_TOK_OUTPUT] = INT64_MAX;
    p.has[BR_TOK_OUTPUT] = true;
    CHECK_INT(br_price_cost(&p, all, &nanos), BR_ERR_RANGE);
    /* just inside: 9.2e12 tokens at 1e6 femto (1 nano) each */
    int64_t fit[BR_TOK__CNT] = {INT64_MAX, 0, 0, 0, 0};
    p.femto_per_token[BR_TOK_INPUT] = 1000000;
    CHECK_INT(br_price_cost(&p, fit, &nanos), BR_ERR_OK);
    CHECK_INT(nanos, INT64_MAX);
    p.femto_per_token[BR_TOK_INPUT] = 1000001;
    CHECK_INT(br_price_cost(&p, fit, &nanos), BR_ERR_RANGE);
    /* no price at all: zero, not an error */
    memset(&p, 0, sizeof(p));
    int64_t some[BR_TOK__CNT] = {5, 5, 5, 5, 5};
    CHECK_INT(br_price_cost(&p, some, &nanos), BR_ERR_OK);
    CHECK_INT(nanos, 0);
}

static void test_load_errors(void) {
    br_prices_t *prices = br_prices_new();
    CHECK_INT(br_prices_load_litellm(prices, "/nonexistent/prices.json",
                                     errstr, sizeof(errstr)), BR_ERR_IO);
    CHECK(strstr(errstr, "/nonexistent/prices.json") != NULL);

    const char *path = tmpfile_with("{\n  \"a\": {\"input_cost_per_token\": 1e-6,\n"
                                    "  \"output_cost_per_token\": }\n}\n");
    CHECK(path != NULL);
    if (path) {
        CHECK_INT(br_prices_load_litellm(prices, path, errstr,
                                         sizeof(errstr)), BR_ERR_PARSE);
        char want[128];
        snprintf(want, sizeof(want), "%s:3:", path);
        CHECK(strstr(errstr, want) != NULL);
        unlink(path);
    }
    path = tmpfile_with("[1, 2]");
    if (path) {
        CHECK_INT(br_prices_load_litellm(prices, path, errstr,
                                         sizeof(errstr)), BR_ERR_PARSE);
        unlink(path);
    }
    /* a small file: the override given first survives the load, a
     * provider-prefixed key gains an alias, priceless entries are skipped */
    CHECK_INT(br_prices_set_spec(prices, "x/m1", "input=7", errstr,
                                 sizeof(errstr)), BR_ERR_OK);
    path = tmpfile_with(
        "{\"sample_spec\": {\"input_cost_per_token\": 0.0},"
        " \"x/m1\": {\"input_cost_per_token\": 1e-6, \"litellm_provider\": \"x\"},"
        " \"x/m2\": {\"input_cost_per_token\": 2e-6, \"litellm_provider\": \"x\"},"
        " \"y/m2\": {\"input_cost_per_token\": 2e-6, \"litellm_provider\": \"y\"},"
        " \"img\": {\"input_cost_per_image\": 0.04, \"litellm_provider\": \"x\"},"
        " \"neg\": {\"input_cost_per_token\": \"free\", \"litellm_provider\": \"x\"}}");
    if (path) {
        CHECK_INT(br_prices_load_litellm(prices, path, errstr,
                                         sizeof(errstr)), BR_ERR_OK);
        CHECK_INT(br_prices_count(prices), 3);
        const br_price_t *p = br_prices_lookup(prices, NULL, "x/m1");
        CHECK(p && p->femto_per_token[BR_TOK_INPUT] == 7000000000LL);
        /* the override is not the file's entry: no alias "m1" */
        CHECK(br_prices_lookup(prices, NULL, "m1") == NULL);
        /* x/m2 and y/m2 agree, so "m2" reaches their price */
        p = br_prices_lookup(prices, NULL, "m2");
        CHECK(p && p->femto_per_token[BR_TOK_INPUT] == 2000000000LL);
        CHECK(br_prices_lookup(prices, NULL, "img") == NULL);
        CHECK(br_prices_lookup(prices, NULL, "neg") == NULL);
        CHECK(br_prices_lookup(prices, NULL, "sample_spec") == NULL);
        unlink(path);
    }
    path = tmpfile_with("{\"a\": {\"input_cost_per_token\": -1e-6}}");
    if (path) {
        CHECK_INT(br_prices_load_litellm(prices, path, errstr,
                                         sizeof(errstr)), BR_ERR_RANGE);
        CHECK(strstr(errstr, "\"a\"") != NULL);
        unlink(path);
    }
    br_prices_destroy(prices);
    br_prices_destroy(NULL);
}

int main(void) {
    test_real_file();
    test_spec();
    test_overflow();
    test_load_errors();
    return brt_done();
}
