/*
 * Decode: every dialect is a row in one data table of candidate field paths;
 * an input's mapping overrides rows of it. Resolving, typing and copying a
 * field is written once, so a custom mapping and a preset behave the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "burnrate/decode.h"
#include "burnrate/money.h"
#include "burnrate/ts.h"

#define CAND_MAX 10        /* candidate paths per canonical field */
#define PRESET_DIMS 12     /* dimensions a preset fills */
#define EMB_MAX 8          /* JSON documents embedded in strings, per message */
#define TOKENS_MAX (INT64_C(1) << 40)
#define MAX_TIME_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define ID_MORE (BR_ID_PARTS_MAX - 1) /* fields of a composite id after F_ID */

/* Canonical scalar fields other than the dimensions. */
enum {
    F_TIME,
    F_TIME_END,
    F_COST,
    F_CURRENCY,
    F_ID,            /* the id, or the first field of a composite id */
    F_CATEGORY,      /* charge category, billing dialects */
    F_TOK,           /* first of BR_TOK__CNT token fields */
    F__CNT = F_TOK + BR_TOK__CNT
};

typedef struct preset_dim {
    const char *name;
    const char *paths[CAND_MAX];
} preset_dim_t;

/* A map whose every key becomes a dimension (FOCUS Tags, Bedrock
 * requestMetadata); strip is a key prefix removed first ("user_" in CUR 2.0). */
typedef struct tag_map {
    const char *path;
    const char *strip;
} tag_map_t;

typedef struct preset {
    br_kind_t kind;
    const char *fields[F__CNT][CAND_MAX];
    const char *id_more[ID_MORE][CAND_MAX]; /* the rest of a composite id */
    const char *model[CAND_MAX];
    const char *provider[CAND_MAX];
    const char *provider_default;     /* when no provider path is present */
    preset_dim_t dims[PRESET_DIMS];
    tag_map_t tag_maps[3];
    const char *tag_prefixes[5];      /* top-level keys "<prefix><tag>" */
    const char *categories[6];        /* charge categories counted by default */
    unsigned input_includes;          /* BR_TOK_* bits counted inside input */
    bool output_includes_reasoning;
} preset_t;

#define BIT(t) (1u << (t))
#define T(tok) [F_TOK + (tok)]

/*
 * The presets. Sources: OpenTelemetry GenAI semantic conventions (input
 * tokens include cache reads and writes, output tokens include reasoning);
 * OpenAI Chat Completions and Responses usage (prompt/input tokens include
 * cached tokens, completion/output tokens include reasoning); Anthropic
 * Messages usage (four disjoint counts); LiteLLM LiteLLM_SpendLogs rows and
 * StandardLoggingPayload; Bedrock ModelInvocationLog records; FOCUS 1.x
 * columns; AWS CUR (Athena/Parquet snake_case, CUR 2.0, and legacy CSV
 * "lineItem/..." headers).
 */
static const preset_t presets[BR_DIALECT__CNT] = {
    [BR_DIALECT_OTEL] = {
        .kind = BR_KIND_TOKENS,
        .fields = {
            [F_TIME] = {"timeUnixNano", "endTimeUnixNano", "startTimeUnixNano",
                        "observedTimeUnixNano", "end_time", "start_time",
                        "timestamp", "time"},
            [F_COST] = {"attributes.gen_ai.usage.cost", "gen_ai.usage.cost"},
            [F_ID] = {"attributes.gen_ai.response.id", "gen_ai.response.id"},
            T(BR_TOK_INPUT) = {"attributes.gen_ai.usage.input_tokens",
                               "gen_ai.usage.input_tokens",
                               "attributes.gen_ai.usage.prompt_tokens",
                               "gen_ai.usage.prompt_tokens"},
            T(BR_TOK_OUTPUT) = {"attributes.gen_ai.usage.output_tokens",
                                "gen_ai.usage.output_tokens",
                                "attributes.gen_ai.usage.completion_tokens",
                                "gen_ai.usage.completion_tokens"},
            T(BR_TOK_CACHE_READ) = {
                "attributes.gen_ai.usage.cache_read.input_tokens",
                "gen_ai.usage.cache_read.input_tokens"},
            T(BR_TOK_CACHE_WRITE) = {
                "attributes.gen_ai.usage.cache_creation.input_tokens",
                "gen_ai.usage.cache_creation.input_tokens"},
            T(BR_TOK_REASONING) = {
                "attributes.gen_ai.usage.reasoning.output_tokens",
                "gen_ai.usage.reasoning.output_tokens"},
        },
        .model = {"attributes.gen_ai.request.model", "gen_ai.request.model",
                  "attributes.gen_ai.response.model", "gen_ai.response.model"},
        .provider = {"attributes.gen_ai.provider.name", "gen_ai.provider.name",
                     "attributes.gen_ai.system", "gen_ai.system"},
        .dims = {
            {"service", {"resource.attributes.service.name",
                         "attributes.service.name", "service.name"}},
            {"user", {"attributes.user.id", "attributes.enduser.id"}},
        },
        .input_includes = BIT(BR_TOK_CACHE_READ) | BIT(BR_TOK_CACHE_WRITE),
        .output_includes_reasoning = true,
    },
    [BR_DIALECT_OPENAI] = {
        .kind = BR_KIND_TOKENS,
        .fields = {
            [F_TIME] = {"timestamp", "time", "created", "created_at",
                        "response.created", "response.created_at"},
            [F_COST] = {"cost"},
            [F_CURRENCY] = {"currency"},
            [F_ID] = {"id", "response.id"},
            T(BR_TOK_INPUT) = {"usage.prompt_tokens", "usage.input_tokens",
                               "response.usage.prompt_tokens",
                               "response.usage.input_tokens"},
            T(BR_TOK_OUTPUT) = {"usage.completion_tokens",
                                "usage.output_tokens",
                                "response.usage.completion_tokens",
                                "response.usage.output_tokens"},
            T(BR_TOK_CACHE_READ) = {
                "usage.prompt_tokens_details.cached_tokens",
                "usage.input_tokens_details.cached_tokens",
                "response.usage.prompt_tokens_details.cached_tokens",
                "response.usage.input_tokens_details.cached_tokens"},
            T(BR_TOK_REASONING) = {
                "usage.completion_tokens_details.reasoning_tokens",
                "usage.output_tokens_details.reasoning_tokens",
                "response.usage.completion_tokens_details.reasoning_tokens",
                "response.usage.output_tokens_details.reasoning_tokens"},
        },
        .model = {"model", "response.model"},
        .provider = {"provider"},
        .provider_default = "openai",
        .dims = {
            {"team", {"metadata.team", "team"}},
            {"user", {"user", "metadata.user", "metadata.user_id"}},
            {"key", {"metadata.key", "key"}},
            {"service_tier", {"service_tier", "response.service_tier"}},
        },
        .input_includes = BIT(BR_TOK_CACHE_READ),
        .output_includes_reasoning = true,
    },
    [BR_DIALECT_ANTHROPIC] = {
        .kind = BR_KIND_TOKENS,
        .fields = {
            /* A raw Messages response carries no time: the Kafka record's
             * timestamp stands in (never in files). */
            [F_TIME] = {"timestamp", "time", "created_at",
                        "message.created_at", BR_KAFKA_TIMESTAMP},
            [F_COST] = {"cost"},
            [F_CURRENCY] = {"currency"},
            [F_ID] = {"id", "message.id"},
            T(BR_TOK_INPUT) = {"usage.input_tokens",
                               "message.usage.input_tokens"},
            T(BR_TOK_OUTPUT) = {"usage.output_tokens",
                                "message.usage.output_tokens"},
            T(BR_TOK_CACHE_READ) = {"usage.cache_read_input_tokens",
                                    "message.usage.cache_read_input_tokens"},
            T(BR_TOK_CACHE_WRITE) = {
                "usage.cache_creation_input_tokens",
                "message.usage.cache_creation_input_tokens"},
        },
        .model = {"model", "message.model"},
        .provider = {"provider"},
        .provider_default = "anthropic",
        .dims = {
            {"team", {"metadata.team", "team"}},
            {"user", {"metadata.user_id", "user"}},
            {"key", {"metadata.key", "key"}},
            {"service_tier", {"usage.service_tier", "service_tier"}},
        },
    },
    [BR_DIALECT_LITELLM] = {
        .kind = BR_KIND_TOKENS,
        .fields = {
            [F_TIME] = {"startTime", "start_time", "endTime", "end_time"},
            [F_COST] = {"spend", "response_cost"},
            [F_ID] = {"request_id", "id"},
            T(BR_TOK_INPUT) = {"prompt_tokens"},
            T(BR_TOK_OUTPUT) = {"completion_tokens"},
            T(BR_TOK_CACHE_READ) = {
                "metadata.usage_object.prompt_tokens_details.cached_tokens"},
            T(BR_TOK_CACHE_WRITE) = {
                "metadata.usage_object.cache_creation_input_tokens"},
            T(BR_TOK_REASONING) = {
                "metadata.usage_object.completion_tokens_details"
                ".reasoning_tokens"},
        },
        .model = {"model", "model_group"},
        .provider = {"custom_llm_provider"},
        .dims = {
            {"team", {"metadata.user_api_key_team_alias",
                      "metadata.user_api_key_team_id", "team_id"}},
            {"key", {"metadata.user_api_key_alias", "key_alias", "api_key"}},
            {"user", {"user", "metadata.user_api_key_user_id"}},
            {"end_user", {"end_user"}},
            {"model_group", {"model_group"}},
            {"organization", {"metadata.user_api_key_org_id",
                              "organization_id"}},
        },
        .input_includes = BIT(BR_TOK_CACHE_READ),
        .output_includes_reasoning = true,
    },
    [BR_DIALECT_BEDROCK] = {
        .kind = BR_KIND_TOKENS,
        .fields = {
            [F_TIME] = {"timestamp"},
            [F_ID] = {"requestId"},
            T(BR_TOK_INPUT) = {"input.inputTokenCount"},
            T(BR_TOK_OUTPUT) = {"output.outputTokenCount"},
            T(BR_TOK_CACHE_READ) = {"input.cacheReadInputTokenCount"},
            T(BR_TOK_CACHE_WRITE) = {"input.cacheWriteInputTokenCount"},
        },
        .model = {"modelId"},
        .provider_default = "bedrock",
        .dims = {
            {"account", {"accountId"}},
            {"region", {"region"}},
            {"identity", {"identity.arn"}},
            {"operation", {"operation"}},
        },
        .tag_maps = {{"requestMetadata", NULL}},
    },
    [BR_DIALECT_FOCUS] = {
        .kind = BR_KIND_BILLING,
        .fields = {
            [F_TIME] = {"ChargePeriodStart"},
            [F_TIME_END] = {"ChargePeriodEnd"},
            [F_COST] = {"BilledCost"},
            [F_CURRENCY] = {"BillingCurrency"},
            [F_CATEGORY] = {"ChargeCategory"},
            [F_ID] = {"BillingAccountId"},
        },
        /* FOCUS rows carry no row id (1.0 to 1.2): a charge is identified
         * by the account billed, the billing and charge periods, what kind
         * of charge it is, and what was charged (resource, SKU, price,
         * commitment, capacity reservation). README, "Duplicates and
         * restatements", says why these columns and not others. */
        .id_more = {{"SubAccountId"}, {"BillingPeriodStart"},
                    {"ChargePeriodStart"}, {"ChargePeriodEnd"},
                    {"ChargeCategory"}, {"ChargeClass"}, {"ResourceId"},
                    {"SkuId"}, {"SkuPriceId"}, {"CommitmentDiscountId"},
                    {"CommitmentDiscountStatus"}, {"CapacityReservationId"}},
        .provider = {"ServiceProviderName", "ProviderName"},
        .dims = {
            {"service", {"ServiceName"}},
            {"service_category", {"ServiceCategory"}},
            {"account", {"SubAccountId"}},
            {"account_name", {"SubAccountName"}},
            {"region", {"RegionId"}},
            {"resource", {"ResourceId"}},
            {"sku", {"SkuId"}},
            {"charge_category", {"ChargeCategory"}},
            {"charge_class", {"ChargeClass"}},
        },
        .tag_maps = {{"Tags", NULL}},
        .categories = {"Usage", "Credit", "Adjustment"},
    },
    [BR_DIALECT_CUR] = {
        .kind = BR_KIND_BILLING,
        .fields = {
            [F_TIME] = {"line_item_usage_start_date",
                        "lineItem/UsageStartDate"},
            [F_TIME_END] = {"line_item_usage_end_date",
                            "lineItem/UsageEndDate"},
            [F_COST] = {"line_item_unblended_cost", "lineItem/UnblendedCost"},
            [F_CURRENCY] = {"line_item_currency_code",
                            "lineItem/CurrencyCode"},
            [F_ID] = {"identity_line_item_id", "identity/LineItemId"},
            [F_CATEGORY] = {"line_item_line_item_type",
                            "lineItem/LineItemType"},
        },
        .id_more = {{"identity_time_interval", "identity/TimeInterval"}},
        .provider = {"bill_billing_entity", "bill/BillingEntity"},
        .provider_default = "AWS",
        .dims = {
            {"service", {"line_item_product_code", "product_servicecode",
                         "lineItem/ProductCode", "product/servicecode"}},
            {"account", {"line_item_usage_account_id",
                         "lineItem/UsageAccountId"}},
            {"account_name", {"line_item_usage_account_name"}},
            {"region", {"product_region_code", "product_region",
                        "product/regionCode", "product/region"}},
            {"resource", {"line_item_resource_id", "lineItem/ResourceId"}},
            {"sku", {"product_sku", "product/sku"}},
            {"charge_category", {"line_item_line_item_type",
                                 "lineItem/LineItemType"}},
            {"model", {"product_model", "product/model"}},
        },
        .tag_maps = {{"resource_tags", "user_"}},
        .tag_prefixes = {"resource_tags_user_", "resource_tags_",
                         "resourceTags/user:", "resourceTags/"},
        .categories = {"Usage", "Credit", "Refund", "DiscountedUsage",
                       "SavingsPlanCoveredUsage"},
    },
    [BR_DIALECT_CUSTOM] = {
        .kind = BR_KIND_TOKENS,
    },
};

#undef T

/* A compiled field: candidate paths, first present wins. */
typedef struct cfield {
    const char *paths[CAND_MAX];
    size_t lens[CAND_MAX];
    int cnt;
} cfield_t;

typedef struct cdim {
    const char *name;
    cfield_t f;
    const char *fallback;   /* static value when no path is present */
} cdim_t;

struct br_decoder {
    const br_input_conf_t *in;      /* borrowed */
    const preset_t *preset;
    br_kind_t kind;
    cfield_t fields[F__CNT];
    cfield_t id_more[ID_MORE];      /* fields of a composite id after F_ID */
    size_t id_more_cnt;
    cdim_t *dims;                   /* owned */
    size_t dim_cnt;
    const char *const *categories;  /* borrowed: config or preset */
    size_t category_cnt;
    const char **want;              /* owned array of borrowed names: the
                                       dimensions the config uses, stored
                                       first; NULL: no preference */
    size_t want_cnt;
    /* JSON documents found inside strings during one decode (FOCUS Tags
     * exported as text): parsed once, freed when the decode ends. */
    json_t *emb_src[EMB_MAX];
    json_t *emb_doc[EMB_MAX];
    size_t emb_cnt;
};

/* ---- compiling ---------------------------------------------------------- */

static void cfield_one(cfield_t *f, const char *path) {
    f->paths[0] = path;
    f->lens[0] = strlen(path);
    f->cnt = 1;
}

static void cfield_list(cfield_t *f, const char *const *paths) {
    f->cnt = 0;
    for (int i = 0; i < CAND_MAX && paths[i]; i++) {
        f->paths[f->cnt] = paths[i];
        f->lens[f->cnt] = strlen(paths[i]);
        f->cnt++;
    }
}

static cdim_t *dim_find(br_decoder_t *dec, const char *name) {
    for (size_t i = 0; i < dec->dim_cnt; i++) {
        if (strcmp(dec->dims[i].name, name) == 0) return &dec->dims[i];
    }
    return NULL;
}

bool br_decoder_may_set(const br_decoder_t *dec, const char *dim) {
    for (size_t i = 0; i < dec->dim_cnt; i++)
        if (strcmp(dec->dims[i].name, dim) == 0 &&
            (dec->dims[i].f.cnt > 0 || dec->dims[i].fallback))
            return true;
    /* A tag map (FOCUS Tags, CUR resource tags, Bedrock request metadata)
     * turns whatever keys a row carries into dimensions, but for the model:
     * that is a field of token events, which billing rows do not carry. */
    return dec->preset->tag_maps[0].path && strcmp(dim, "model") != 0;
}

br_decoder_t *br_decoder_new(const br_input_conf_t *in, char *errstr,
                             size_t errstr_size) {
    return br_decoder_new_wanting(in, NULL, 0, errstr, errstr_size);
}

br_decoder_t *br_decoder_new_wanting(const br_input_conf_t *in,
                                     const char *const *want, size_t want_cnt,
                                     char *errstr, size_t errstr_size) {
    br_decoder_t *dec = NULL;
    const br_mapping_t *map = &in->mapping;
    if ((unsigned)in->dialect >= BR_DIALECT__CNT) {
        br_seterr(errstr, errstr_size, BR_ERR_INVAL, "unknown dialect %d",
                  (int)in->dialect);
        goto fail;
    }
    dec = calloc(1, sizeof(*dec));
    if (!dec) goto nomem;
    dec->in = in;
    dec->preset = &presets[in->dialect];
    if (want) {
        /* One more slot, so that an empty set is still a set. */
        dec->want = calloc(want_cnt + 1, sizeof(*dec->want));
        if (!dec->want) goto nomem;
        for (size_t i = 0; i < want_cnt; i++) dec->want[i] = want[i];
        dec->want_cnt = want_cnt;
    }
    dec->kind = dec->preset->kind;

    for (int f = 0; f < F__CNT; f++)
        cfield_list(&dec->fields[f], dec->preset->fields[f]);
    /* Billing cost column, then the mapping, override the preset. The
     * config fills in the preset's own column when none is given: that
     * one keeps the preset's other spellings of it (CUR's legacy CSV
     * header lineItem/UnblendedCost), or such exports would have no cost. */
    if (in->cost_column && *in->cost_column &&
        !(dec->fields[F_COST].cnt &&
          strcmp(dec->fields[F_COST].paths[0], in->cost_column) == 0))
        cfield_one(&dec->fields[F_COST], in->cost_column);
    const char *const overrides[F__CNT] = {
        [F_TIME] = map->time, [F_TIME_END] = map->time_end,
        [F_COST] = map->cost, [F_CURRENCY] = map->currency,
        [F_ID] = map->id_cnt ? map->id[0] : NULL,
        [F_TOK + BR_TOK_INPUT] = map->tokens[BR_TOK_INPUT],
        [F_TOK + BR_TOK_OUTPUT] = map->tokens[BR_TOK_OUTPUT],
        [F_TOK + BR_TOK_CACHE_READ] = map->tokens[BR_TOK_CACHE_READ],
        [F_TOK + BR_TOK_CACHE_WRITE] = map->tokens[BR_TOK_CACHE_WRITE],
        [F_TOK + BR_TOK_REASONING] = map->tokens[BR_TOK_REASONING],
    };
    for (int f = 0; f < F__CNT; f++) {
        if (overrides[f] && *overrides[f]) cfield_one(&dec->fields[f],
                                                      overrides[f]);
    }
    /* A mapped id replaces the preset's (composite) id entirely. */
    while (dec->id_more_cnt < ID_MORE &&
           dec->preset->id_more[dec->id_more_cnt][0])
        dec->id_more_cnt++;
    if (map->id_cnt) dec->id_more_cnt = 0;
    for (size_t i = 0; i < dec->id_more_cnt; i++)
        cfield_list(&dec->id_more[i], dec->preset->id_more[i]);
    for (size_t i = 1; i < map->id_cnt && i <= ID_MORE; i++)
        cfield_one(&dec->id_more[dec->id_more_cnt++], map->id[i]);

    /* Dimensions: model, provider, the preset's, then the mapping's, a
     * mapping entry replacing the preset's dimension of the same name. */
    size_t cap = 2 + PRESET_DIMS + map->dim_cnt;
    dec->dims = calloc(cap, sizeof(*dec->dims));
    if (!dec->dims) goto nomem;
    dec->dims[0].name = "model";
    cfield_list(&dec->dims[0].f, dec->preset->model);
    dec->dims[1].name = "provider";
    cfield_list(&dec->dims[1].f, dec->preset->provider);
    dec->dims[1].fallback = dec->preset->provider_default;
    dec->dim_cnt = 2;
    for (int i = 0; i < PRESET_DIMS && dec->preset->dims[i].name; i++) {
        const preset_dim_t *pd = &dec->preset->dims[i];
        cdim_t *d = dim_find(dec, pd->name);
        if (!d) {
            d = &dec->dims[dec->dim_cnt++];
            d->name = pd->name;
        }
        cfield_list(&d->f, pd->paths);
    }
    if (map->model && *map->model) cfield_one(&dec->dims[0].f, map->model);
    if (map->provider && *map->provider)
        cfield_one(&dec->dims[1].f, map->provider);
    for (size_t i = 0; i < map->dim_cnt; i++) {
        const br_kv_t *kv = &map->dims[i];
        if (!kv->key || !*kv->key || !kv->value || !*kv->value) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "input \"%s\": mapping dimension %zu has an empty "
                      "name or path", in->name ? in->name : "", i);
            goto fail;
        }
        cdim_t *d = dim_find(dec, kv->key);
        if (!d) {
            d = &dec->dims[dec->dim_cnt++];
            d->name = kv->key;
        }
        cfield_one(&d->f, kv->value);
        d->fallback = NULL;
    }

    if (in->charge_categories) {
        dec->categories = (const char *const *)in->charge_categories;
        dec->category_cnt = in->charge_category_cnt;
    } else {
        dec->categories = dec->preset->categories;
        while (dec->category_cnt < 6 && dec->preset->categories[dec->category_cnt])
            dec->category_cnt++;
    }

    if (in->dialect == BR_DIALECT_CUSTOM) {
        bool any_tok = false;
        for (int t = 0; t < BR_TOK__CNT; t++)
            any_tok |= dec->fields[F_TOK + t].cnt > 0;
        if (dec->fields[F_TIME].cnt == 0 ||
            (dec->fields[F_COST].cnt == 0 && !any_tok)) {
            br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                      "input \"%s\": the custom dialect needs mapping.time "
                      "and mapping.cost or a mapping.tokens path",
                      in->name ? in->name : "");
            goto fail;
        }
        /* A custom feed with a cost and no token counts is billing data. */
        dec->kind = any_tok ? BR_KIND_TOKENS : BR_KIND_BILLING;
    }
    return dec;

nomem:
    br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
fail:
    br_decoder_destroy(dec);
    return NULL;
}

void br_decoder_destroy(br_decoder_t *dec) {
    if (!dec) return;
    free(dec->want);
    free(dec->dims);
    free(dec);
}

/* ---- path resolution ---------------------------------------------------- */

/* OTLP/JSON wraps attribute values: {"intValue": "120"}; a kvlist's values
 * are an attribute array again. Anything else is returned as is. */
static json_t *otlp_unwrap(json_t *v) {
    if (!json_is_object(v) || json_object_size(v) != 1) return v;
    static const char *const scalars[] = {"stringValue", "intValue",
                                          "doubleValue", "boolValue",
                                          "bytesValue"};
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        json_t *x = json_object_get(v, scalars[i]);
        if (x) return x;
    }
    json_t *kv = json_object_get(v, "kvlistValue");
    if (!kv) kv = json_object_get(v, "arrayValue");
    if (json_is_object(kv)) {
        json_t *vals = json_object_get(kv, "values");
        return vals ? vals : kv;
    }
    return v;
}

/* A string holding a JSON object (FOCUS Tags in CSV, metadata exported as
 * text) is parsed once per decode and then walked like any object. */
static json_t *embedded(br_decoder_t *dec, json_t *s) {
    const char *p = json_string_value(s);
    size_t n = json_string_length(s), i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
    if (i == n || p[i] != '{') return NULL;
    for (size_t k = 0; k < dec->emb_cnt; k++) {
        if (dec->emb_src[k] == s) return dec->emb_doc[k];
    }
    if (dec->emb_cnt == EMB_MAX) return NULL;
    json_t *doc = json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL);
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    dec->emb_src[dec->emb_cnt] = s;
    dec->emb_doc[dec->emb_cnt] = doc;
    dec->emb_cnt++;
    return doc;
}

static void embedded_clear(br_decoder_t *dec) {
    for (size_t k = 0; k < dec->emb_cnt; k++) json_decref(dec->emb_doc[k]);
    dec->emb_cnt = 0;
}

static bool all_digits(const char *p, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
    }
    return true;
}

/*
 * Find dotted path p[0..n) under node. Keys may contain dots themselves
 * ("gen_ai.usage.input_tokens"), so at each object the longest literal key
 * that prefixes the path is tried first, then shorter ones. Arrays are
 * OTLP attribute lists ({"key": ..., "value": ...}) searched in one pass, or
 * indexed by a numeric segment. Returns a borrowed value or NULL.
 */
static json_t *resolve(br_decoder_t *dec, json_t *node, const char *p,
                       size_t n) {
    if (json_is_string(node)) node = embedded(dec, node);
    if (json_is_object(node)) {
        json_t *v = json_object_getn(node, p, n);
        if (v) return otlp_unwrap(v);
        for (size_t k = n; k-- > 0;) {
            if (p[k] != '.') continue;
            v = json_object_getn(node, p, k);
            if (!v) continue;
            json_t *r = resolve(dec, otlp_unwrap(v), p + k + 1, n - k - 1);
            if (r) return r;
        }
        return NULL;
    }
    if (json_is_array(node)) {
        json_t *best = NULL;
        size_t best_len = 0, idx;
        json_t *el;
        json_array_foreach(node, idx, el) {
            json_t *key = json_object_get(el, "key");
            if (!json_is_string(key)) continue;
            size_t kl = json_string_length(key);
            if (kl > n || (kl < n && p[kl] != '.') || kl <= best_len) continue;
            if (memcmp(json_string_value(key), p, kl) != 0) continue;
            best = el;
            best_len = kl;
        }
        if (best) {
            json_t *v = otlp_unwrap(json_object_get(best, "value"));
            if (!v) return NULL;
            if (best_len == n) return v;
            return resolve(dec, v, p + best_len + 1, n - best_len - 1);
        }
        size_t seg = 0;
        while (seg < n && p[seg] != '.') seg++;
        if (seg > 9 || !all_digits(p, seg)) return NULL;
        json_t *v = json_array_get(node, (size_t)strtoul(p, NULL, 10));
        if (!v) return NULL;
        if (seg == n) return otlp_unwrap(v);
        return resolve(dec, otlp_unwrap(v), p + seg + 1, n - seg - 1);
    }
    return NULL;
}

/* First candidate present (and not null) wins; *which names it. */
static json_t *lookup(br_decoder_t *dec, json_t *obj, const cfield_t *f,
                      const char **which) {
    for (int i = 0; i < f->cnt; i++) {
        json_t *v = resolve(dec, obj, f->paths[i], f->lens[i]);
        if (v && !json_is_null(v)) {
            *which = f->paths[i];
            return v;
        }
    }
    return NULL;
}

/* ---- typing ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    size_t len;
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) len = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) len = 4;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
    }
    return len;
}

/* Copy at most max bytes of s for an error message: whole UTF-8 sequences
 * only, control characters and invalid bytes replaced by '?', "..." when
 * cut, so the text is safe inside any JSON or log line built from it. */
static void clip(const char *s, size_t n, char *out, size_t size, size_t max) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    if (max > size - 4) max = size - 4;
    while (i < n) {
        size_t len = utf8_seq(u + i, n - i);
        if (o + (len ? len : 1) > max) break;
        if (len == 0 || (len == 1 && (u[i] < 0x20 || u[i] == 0x7f))) {
            out[o++] = '?';
            i++;
            continue;
        }
        memcpy(out + o, s + i, len);
        o += len;
        i += len;
    }
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static void describe(json_t *v, char *buf, size_t size) {
    char tmp[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        clip(json_string_value(v), json_string_length(v), tmp, sizeof(tmp),
             40);
        snprintf(buf, size, "string \"%s\"", tmp);
        break;
    case JSON_INTEGER:
        snprintf(buf, size, "integer %lld",
                 (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(buf, size, "number %.17g", json_real_value(v));
        break;
    case JSON_TRUE: snprintf(buf, size, "true"); break;
    case JSON_FALSE: snprintf(buf, size, "false"); break;
    case JSON_NULL: snprintf(buf, size, "null"); break;
    case JSON_OBJECT: snprintf(buf, size, "an object"); break;
    case JSON_ARRAY: snprintf(buf, size, "an array"); break;
    }
}

static br_err_t field_err(char *errstr, size_t errstr_size, br_err_t err,
                          const char *path, const char *expected, json_t *v) {
    char got[96];
    describe(v, got, sizeof(got));
    return br_seterr(errstr, errstr_size, err,
                     "field \"%s\": expected %s, got %s", path, expected, got);
}

static bool is_nan_word(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '+' || *s == '-')) {
        s++;
        n--;
    }
    return (n == 3 && strncasecmp(s, "nan", 3) == 0) ||
           (n == 3 && strncasecmp(s, "inf", 3) == 0) ||
           (n == 8 && strncasecmp(s, "infinity", 8) == 0);
}

/* BR_ERR_NOTFOUND: empty string, treated as absent. */
static br_err_t get_count(json_t *v, const char *path, int64_t *out,
                          char *errstr, size_t errstr_size) {
    static const char what[] = "a non-negative integer";
    int64_t n;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d)) return field_err(errstr, errstr_size, BR_ERR_TYPE,
                                            path, what, v);
        if (d < 0 || d >= (double)TOKENS_MAX)
            return field_err(errstr, errstr_size, BR_ERR_RANGE, path,
                             "a count below 2^40", v);
        n = (int64_t)d;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len == 0) return BR_ERR_NOTFOUND;
        if (all_digits(s, len)) {
            if (len > 13) return field_err(errstr, errstr_size, BR_ERR_RANGE,
                                           path, "a count below 2^40", v);
            n = strtoll(s, NULL, 10);
        } else if ((s[0] == '-' && all_digits(s + 1, len - 1)) ||
                   is_nan_word(s, len)) {
            return field_err(errstr, errstr_size, BR_ERR_RANGE, path, what, v);
        } else {
            return field_err(errstr, errstr_size, BR_ERR_TYPE, path, what, v);
        }
    } else {
        return field_err(errstr, errstr_size, BR_ERR_TYPE, path, what, v);
    }
    if (n < 0 || n >= TOKENS_MAX)
        return field_err(errstr, errstr_size, BR_ERR_RANGE, path,
                         n < 0 ? what : "a count below 2^40", v);
    *out = n;
    return BR_ERR_OK;
}

/* One record's amount: exact nanos within the per-record bound
 * (BR_MONEY_RECORD_MAX_NANOS), else BR_ERR_RANGE. */
static br_err_t get_money(json_t *v, const char *path, int64_t *out,
                          char *errstr, size_t errstr_size) {
    static const char what[] = "a decimal amount";
    static const char bound[] =
        "an amount within +/-" BR_MONEY_RECORD_MAX_TEXT " (the per-record bound)";
    br_err_t err;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i > BR_MONEY_RECORD_MAX_NANOS / BR_NANOS_PER_UNIT ||
            i < -(BR_MONEY_RECORD_MAX_NANOS / BR_NANOS_PER_UNIT))
            return field_err(errstr, errstr_size, BR_ERR_RANGE, path, bound, v);
        *out = (int64_t)i * BR_NANOS_PER_UNIT;
        return BR_ERR_OK;
    }
    if (json_is_real(v)) {
        err = br_money_from_double(json_real_value(v), out);
        if (err || !br_money_record_ok(*out))
            return field_err(errstr, errstr_size, BR_ERR_RANGE, path, bound, v);
        return BR_ERR_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len == 0) return BR_ERR_NOTFOUND;
        err = br_money_parse(s, len, out);
        if (err == BR_ERR_RANGE || (!err && !br_money_record_ok(*out)))
            return field_err(errstr, errstr_size, BR_ERR_RANGE, path, bound, v);
        if (err)
            return field_err(errstr, errstr_size,
                             is_nan_word(s, len) ? BR_ERR_RANGE : BR_ERR_TYPE,
                             path, what, v);
        return BR_ERR_OK;
    }
    return field_err(errstr, errstr_size, BR_ERR_TYPE, path, what, v);
}

static br_err_t get_time(json_t *v, const char *path, int64_t *out,
                         char *errstr, size_t errstr_size) {
    static const char what[] = "an RFC 3339 timestamp or epoch number";
    if (json_is_integer(v)) {
        /* Through text, so epoch nanoseconds beyond 2^53 stay exact. */
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%lld",
                         (long long)json_integer_value(v));
        if (br_ts_parse(buf, (size_t)n, out))
            return field_err(errstr, errstr_size, BR_ERR_RANGE, path,
                             "a time between years 0 and 9999", v);
        return BR_ERR_OK;
    }
    if (json_is_real(v)) {
        if (br_ts_from_epoch(json_real_value(v), out))
            return field_err(errstr, errstr_size, BR_ERR_RANGE, path,
                             "a time between years 0 and 9999", v);
        return BR_ERR_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len == 0) return BR_ERR_NOTFOUND;
        br_err_t err = br_ts_parse(s, len, out);
        if (err == BR_ERR_RANGE)
            return field_err(errstr, errstr_size, BR_ERR_RANGE, path,
                             "a time between years 0 and 9999", v);
        if (err) return field_err(errstr, errstr_size, BR_ERR_TYPE, path,
                                  what, v);
        return BR_ERR_OK;
    }
    return field_err(errstr, errstr_size, BR_ERR_TYPE, path, what, v);
}

/* Scalar as text: strings borrowed, numbers formatted into buf. */
static br_err_t get_text(json_t *v, const char *path, char *buf, size_t size,
                         const char **s, size_t *len, char *errstr,
                         size_t errstr_size) {
    int n;
    switch (json_typeof(v)) {
    case JSON_STRING:
        *s = json_string_value(v);
        *len = json_string_length(v);
        return *len ? BR_ERR_OK : BR_ERR_NOTFOUND;
    case JSON_INTEGER:
        n = snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        n = snprintf(buf, size, "%.15g", json_real_value(v));
        if (strtod(buf, NULL) != json_real_value(v))
            n = snprintf(buf, size, "%.17g", json_real_value(v));
        break;
    default:
        return field_err(errstr, errstr_size, BR_ERR_TYPE, path, "a string",
                         v);
    }
    *s = buf;
    *len = n > 0 ? (size_t)n : 0;
    return BR_ERR_OK;
}

static br_err_t arena_full(char *errstr, size_t errstr_size, const char *what) {
    return br_seterr(errstr, errstr_size, BR_ERR_LIMIT,
                     "field \"%s\": record has no room left (%d dimensions, "
                     "%d bytes of text at most)", what, BR_DIM_MAX,
                     BR_RECORD_ARENA);
}

/* Whether the config uses dimension name (all do without a preference). */
static bool wanted(const br_decoder_t *dec, const char *name) {
    if (!dec->want) return true;
    for (size_t i = 0; i < dec->want_cnt; i++) {
        if (strcmp(dec->want[i], name) == 0) return true;
    }
    return false;
}

/* Store a dimension that is not worth rejecting the record for: one that
 * does not fit is counted, never silent. */
static void set_or_count(br_record_t *rec, const char *key, const char *s,
                         size_t len) {
    if (!br_record_set_dim(rec, key, s, len)) rec->dims_ignored++;
}

/* Every key of map becomes a dimension, unless a mapped one has it; only
 * the keys whose wanted() is want, this pass. */
static void add_tags(br_decoder_t *dec, br_record_t *rec, json_t *map,
                     const char *strip, bool want) {
    if (json_is_string(map)) map = embedded(dec, map);
    if (!json_is_object(map)) return;
    size_t strip_len = strip ? strlen(strip) : 0;
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v) {
        const char *k = key;
        if (strip_len && strncmp(k, strip, strip_len) == 0 && k[strip_len])
            k += strip_len;
        char buf[40];
        const char *s;
        size_t len;
        v = otlp_unwrap(v);
        if (json_is_boolean(v)) {
            s = json_is_true(v) ? "true" : "false";
            len = strlen(s);
        } else if (!json_is_string(v) && !json_is_number(v)) {
            continue;
        } else if (get_text(v, k, buf, sizeof(buf), &s, &len, NULL, 0)) {
            continue;
        }
        if (!*k || wanted(dec, k) != want || br_record_dim(rec, k)) continue;
        /* Tags past the record's capacity are counted, not fatal. */
        set_or_count(rec, k, s, len);
    }
}

/*
 * The record's dimensions, in one of two passes: first those the config
 * uses (want true), then the rest, so that dimensions or arena filled by a
 * large tag map never push out a scope's or budget's dimension. A wanted
 * mapped dimension that does not fit fails the record, as it always has;
 * anything else that does not fit is counted in rec->dims_ignored.
 */
static br_err_t decode_dims(br_decoder_t *dec, json_t *obj, br_record_t *rec,
                            bool want, char *errstr, size_t errstr_size) {
    const preset_t *ps = dec->preset;
    const char *path = NULL;
    char buf[40];
    const char *s;
    size_t len;
    br_err_t err;
    json_t *v;

    for (size_t i = 0; i < dec->dim_cnt; i++) {
        const cdim_t *d = &dec->dims[i];
        if (wanted(dec, d->name) != want) continue;
        if ((v = lookup(dec, obj, &d->f, &path))) {
            err = get_text(v, path, buf, sizeof(buf), &s, &len, errstr,
                           errstr_size);
            if (err && err != BR_ERR_NOTFOUND) return err;
            if (!err) {
                if (!want) set_or_count(rec, d->name, s, len);
                else if (!br_record_set_dim(rec, d->name, s, len))
                    return arena_full(errstr, errstr_size, path);
                continue;
            }
        }
        if (!d->fallback) continue;
        if (!want)
            set_or_count(rec, d->name, d->fallback, strlen(d->fallback));
        else if (!br_record_set_dim(rec, d->name, d->fallback,
                                    strlen(d->fallback)))
            return arena_full(errstr, errstr_size, d->name);
    }

    for (int i = 0; i < 3 && ps->tag_maps[i].path; i++) {
        v = resolve(dec, obj, ps->tag_maps[i].path,
                    strlen(ps->tag_maps[i].path));
        if (v) add_tags(dec, rec, v, ps->tag_maps[i].strip, want);
    }
    if (ps->tag_prefixes[0]) {
        const char *key;
        json_object_foreach(obj, key, v) {
            for (int i = 0; i < 5 && ps->tag_prefixes[i]; i++) {
                size_t pl = strlen(ps->tag_prefixes[i]);
                if (strncmp(key, ps->tag_prefixes[i], pl) != 0 || !key[pl])
                    continue;
                const char *k = key + pl;
                if (json_is_string(v) && json_string_length(v) &&
                    wanted(dec, k) == want && !br_record_dim(rec, k))
                    set_or_count(rec, k, json_string_value(v),
                                 json_string_length(v));
                break;
            }
        }
    }
    return BR_ERR_OK;
}

static bool category_counts(const br_decoder_t *dec, const char *s,
                            size_t len) {
    for (size_t i = 0; i < dec->category_cnt; i++) {
        const char *c = dec->categories[i];
        if (strlen(c) == len && strncasecmp(c, s, len) == 0) return true;
    }
    return false;
}

/* ---- decoding ----------------------------------------------------------- */

/* The first candidate present wins, as lookup() does; BR_KAFKA_TIMESTAMP
 * is present when the record came with a timestamp (rec->origin). */
static br_err_t event_time(br_decoder_t *dec, json_t *obj, br_record_t *rec,
                           char *errstr, size_t errstr_size) {
    const cfield_t *tf = &dec->fields[F_TIME];
    bool kafka = false;
    for (int i = 0; i < tf->cnt; i++) {
        const char *path = tf->paths[i];
        if (strcmp(path, BR_KAFKA_TIMESTAMP) == 0) {
            int64_t ts = rec->origin.timestamp_ms;
            kafka = true;
            if (ts <= 0) continue;
            if (ts > MAX_TIME_MS)
                return br_seterr(errstr, errstr_size, BR_ERR_RANGE,
                                 "Kafka record timestamp %lld is beyond year "
                                 "9999", (long long)ts);
            rec->event_ms = ts;
            return BR_ERR_OK;
        }
        json_t *v = resolve(dec, obj, path, tf->lens[i]);
        if (!v || json_is_null(v)) continue;
        br_err_t err = get_time(v, path, &rec->event_ms, errstr, errstr_size);
        if (err == BR_ERR_NOTFOUND)
            return br_seterr(errstr, errstr_size, BR_ERR_MISSING,
                             "field \"%s\": event time is empty", path);
        return err;
    }
    if (kafka && tf->cnt == 1)
        return br_seterr(errstr, errstr_size, BR_ERR_MISSING,
                         "no event time: mapping.time is %s and the record "
                         "has no Kafka timestamp (files carry none)",
                         BR_KAFKA_TIMESTAMP);
    return br_seterr(errstr, errstr_size, BR_ERR_MISSING,
                     "no event time (field \"%s\"%s%s)",
                     tf->cnt ? tf->paths[0] : "time",
                     tf->cnt > 1 ? " or its alternatives" : "",
                     kafka ? ", nor a Kafka record timestamp" : "");
}

/* Append s[0..n) to the id being built at rec->arena + mark, escaping '/'
 * and '\\' unless it is the last field. */
static bool id_put(br_record_t *rec, size_t mark, size_t *len, const char *s,
                   size_t n, bool last) {
    char *id = rec->arena + mark;
    for (size_t i = 0; i < n; i++) {
        bool esc = !last && (s[i] == '/' || s[i] == '\\');
        if (*len + 2 >= BR_RECORD_ARENA - mark) return false;
        if (esc) id[(*len)++] = '\\';
        id[(*len)++] = s[i];
    }
    return true;
}

/*
 * The record's id from v (the F_ID field, found at path) and the fields of
 * a composite id: "<first>/<second>/.../<last>", every field but the last
 * with '/' and '\\' escaped, so that distinct values give distinct ids; a
 * missing later field counts as empty. One field gives its value as is,
 * and CUR's two give "<line item id>/<time interval>", as before.
 */
static br_err_t decode_id(br_decoder_t *dec, json_t *obj, json_t *v,
                          const char *path, br_record_t *rec, char *errstr,
                          size_t errstr_size) {
    char buf[40];
    const char *s;
    size_t n, len = 0, mark = rec->arena_used;
    br_err_t err = get_text(v, path, buf, sizeof(buf), &s, &n, errstr,
                            errstr_size);
    if (err == BR_ERR_NOTFOUND) return BR_ERR_OK;
    if (err) return err;
    const char *id_path = path;
    if (!id_put(rec, mark, &len, s, n, dec->id_more_cnt == 0))
        return arena_full(errstr, errstr_size, id_path);
    for (size_t i = 0; i < dec->id_more_cnt; i++) {
        bool last = i + 1 == dec->id_more_cnt;
        s = "";
        n = 0;
        if ((v = lookup(dec, obj, &dec->id_more[i], &path))) {
            err = get_text(v, path, buf, sizeof(buf), &s, &n, errstr,
                           errstr_size);
            if (err && err != BR_ERR_NOTFOUND) return err;
            if (err) n = 0;
        }
        /* CUR: no separator before a missing time interval, as before. */
        if ((n || dec->id_more_cnt > 1) &&
            (!id_put(rec, mark, &len, "/", 1, true) ||
             !id_put(rec, mark, &len, s, n, last)))
            return arena_full(errstr, errstr_size, id_path);
    }
    rec->arena[mark + len] = '\0';
    rec->arena_used = mark + len + 1;
    rec->id = rec->arena + mark;
    return BR_ERR_OK;
}

static br_err_t decode(br_decoder_t *dec, json_t *obj, br_record_t *rec,
                       char *errstr, size_t errstr_size) {
    const preset_t *ps = dec->preset;
    const char *path = NULL;
    char buf[40];
    const char *s;
    size_t len;
    br_err_t err;
    json_t *v;

    if (!json_is_object(obj))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "message is not a JSON object");

    /* Billing rows of uncounted categories are skipped before anything
     * else about them can fail. A row without a category counts. */
    if ((v = lookup(dec, obj, &dec->fields[F_CATEGORY], &path))) {
        err = get_text(v, path, buf, sizeof(buf), &s, &len, errstr,
                       errstr_size);
        if (err == BR_ERR_OK && !category_counts(dec, s, len)) {
            char tmp[64];
            clip(s, len, tmp, sizeof(tmp), 40);
            return br_seterr(errstr, errstr_size, BR_ERR_SKIP,
                             "field \"%s\": charge category \"%s\" is not "
                             "counted", path, tmp);
        }
        if (err && err != BR_ERR_NOTFOUND) return err;
    }

    if ((err = event_time(dec, obj, rec, errstr, errstr_size))) return err;

    if ((v = lookup(dec, obj, &dec->fields[F_TIME_END], &path))) {
        int64_t end_ms;
        err = get_time(v, path, &end_ms, errstr, errstr_size);
        if (err && err != BR_ERR_NOTFOUND) return err;
        if (!err && end_ms < rec->event_ms)
            return br_seterr(errstr, errstr_size, BR_ERR_RANGE,
                             "field \"%s\": period ends before it starts",
                             path);
    }

    if ((v = lookup(dec, obj, &dec->fields[F_COST], &path))) {
        err = get_money(v, path, &rec->cost_nanos, errstr, errstr_size);
        if (err && err != BR_ERR_NOTFOUND) return err;
        rec->has_cost = err == BR_ERR_OK;
    }

    if ((v = lookup(dec, obj, &dec->fields[F_CURRENCY], &path))) {
        if (!json_is_string(v))
            return field_err(errstr, errstr_size, BR_ERR_TYPE, path,
                             "a 3-letter currency code", v);
        s = json_string_value(v);
        len = json_string_length(v);
        if (len) {
            bool ok = len == 3;
            for (size_t i = 0; ok && i < 3; i++) {
                char c = s[i];
                ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
            }
            if (!ok) return field_err(errstr, errstr_size, BR_ERR_TYPE, path,
                                      "a 3-letter currency code", v);
            for (size_t i = 0; i < 3; i++)
                rec->currency[i] = (char)(s[i] & ~0x20);
            rec->currency[3] = '\0';
        }
    }

    bool any_tok = false;
    for (int t = 0; t < BR_TOK__CNT; t++) {
        if (!(v = lookup(dec, obj, &dec->fields[F_TOK + t], &path))) continue;
        err = get_count(v, path, &rec->tokens[t], errstr, errstr_size);
        if (err == BR_ERR_NOTFOUND) continue;
        if (err) return err;
        any_tok = true;
    }
    /* Make the counts disjoint where the producer reports totals. A cached
     * count larger than its total is the producer's inconsistency: clamp. */
    for (int t = 0; t < BR_TOK__CNT; t++) {
        if (ps->input_includes & BIT(t)) {
            rec->tokens[BR_TOK_INPUT] -= rec->tokens[t];
        }
    }
    if (ps->output_includes_reasoning)
        rec->tokens[BR_TOK_OUTPUT] -= rec->tokens[BR_TOK_REASONING];
    if (rec->tokens[BR_TOK_INPUT] < 0) rec->tokens[BR_TOK_INPUT] = 0;
    if (rec->tokens[BR_TOK_OUTPUT] < 0) rec->tokens[BR_TOK_OUTPUT] = 0;

    if (!rec->has_cost && !any_tok)
        return br_seterr(errstr, errstr_size, BR_ERR_MISSING,
                         "neither a cost nor a token count (field \"%s\")",
                         dec->fields[F_COST].cnt ? dec->fields[F_COST].paths[0]
                         : dec->fields[F_TOK].cnt ? dec->fields[F_TOK].paths[0]
                         : "cost");

    if ((v = lookup(dec, obj, &dec->fields[F_ID], &path)) &&
        (err = decode_id(dec, obj, v, path, rec, errstr, errstr_size)))
        return err;

    if ((err = decode_dims(dec, obj, rec, true, errstr, errstr_size)) ||
        (dec->want &&
         (err = decode_dims(dec, obj, rec, false, errstr, errstr_size))))
        return err;

    rec->kind = dec->kind;
    return BR_ERR_OK;
}

br_err_t br_decoder_decode_object(br_decoder_t *dec, json_t *obj,
                                  br_record_t *rec, char *errstr,
                                  size_t errstr_size) {
    br_record_reset(rec);
    br_err_t err = decode(dec, obj, rec, errstr, errstr_size);
    embedded_clear(dec);
    if (err) {
        /* A rejected record carries nothing half-decoded. */
        br_record_reset(rec);
    }
    return err;
}

br_err_t br_decoder_decode(br_decoder_t *dec, const void *buf, size_t len,
                           br_record_t *rec, char *errstr, size_t errstr_size) {
    json_error_t jerr;
    /* Duplicate keys are rejected: which value wins differs between
     * parsers, so such a message has no single meaning to count. */
    json_t *obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        br_record_reset(rec);
        br_err_t err = json_error_code(&jerr) == json_error_numeric_overflow
                       ? BR_ERR_RANGE : BR_ERR_PARSE;
        if (len == 0)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "not JSON: empty message");
        char text[160];
        clip(jerr.text, strlen(jerr.text), text, sizeof(text), 120);
        return br_seterr(errstr, errstr_size, err,
                         "not JSON: %s at line %d column %d", text,
                         jerr.line, jerr.column);
    }
    br_err_t err = br_decoder_decode_object(dec, obj, rec, errstr,
                                            errstr_size);
    json_decref(obj);
    return err;
}
