/*
 * Deterministic, realistic cost traffic for the demo, the benchmark and
 * tests: LLM token events (OpenTelemetry GenAI, OpenAI, LiteLLM shapes) and
 * FOCUS billing rows over a few simulated days, with daily patterns, noise,
 * one injected spike and one budget breach, to Kafka or to JSON-lines files.
 * OpenAI-shape events can go to Kafka as Avro (plain or Confluent-framed) for
 * the Avro benchmark, encoded with burnrate's own encoder.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "burnrate/avro.h"
#include "burnrate/buf.h"
#include "burnrate/ts.h"

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)
#define MINUTE_MS 60000LL
#define PI 3.14159265358979323846

/* Default simulated start: Monday 2025-03-03T00:00:00Z. */
#define DEFAULT_START_MS 1740960000000LL

typedef enum { SHAPE_OTEL, SHAPE_OPENAI, SHAPE_LITELLM, SHAPE__CNT } shape_t;

/* How OpenAI-shape events are encoded (the other shapes are always JSON). */
typedef enum { FMT_JSON, FMT_AVRO, FMT_AVRO_CONFLUENT, FMT__CNT } fmt_t;

static const char *const fmt_names[FMT__CNT] = {"json", "avro",
                                                "avro-confluent"};

/* Prices in currency units per token, as in the LiteLLM table, used only to
 * put a "spend" on LiteLLM rows the way the gateway itself would. */
typedef struct model {
    const char *name;
    const char *provider;
    double in, out, cache_read;
} model_t;

static const model_t models[] = {
    {"gpt-4o-mini", "openai", 1.5e-7, 6e-7, 7.5e-8},
    {"gpt-4o", "openai", 2.5e-6, 1e-5, 1.25e-6},
    {"text-embedding-3-small", "openai", 2e-8, 0, 2e-8},
    {"claude-sonnet-4-20250514", "anthropic", 3e-6, 1.5e-5, 3e-7},
    {"o3-mini", "openai", 1.1e-6, 4.4e-6, 5.5e-7},
    {"gpt-4.1", "openai", 2e-6, 8e-6, 5e-7},
    {"claude-3-haiku-20240307", "anthropic", 2.5e-7, 1.25e-6, 3e-8},
    {"acme-llm-9000", "acme", 0, 0, 0}, /* not in any price table */
};

enum { M_4O_MINI, M_4O, M_EMBED, M_SONNET, M_O3_MINI, M_41, M_HAIKU, M_ACME };

/* One stream of LLM calls: who calls which model, through which shape. */
typedef struct flow {
    const char *team;
    const char *service;      /* emitting application */
    int model;                /* index into models[] */
    shape_t shape;
    double calls_per_hour;    /* at the daily peak */
    double in_tokens;         /* mean prompt tokens, cache included */
    double out_tokens;        /* mean completion tokens, reasoning included */
    double cache_frac;        /* share of the prompt read from cache */
    double reasoning_frac;    /* extra reasoning tokens, share of output */
    bool unpriced;            /* only with --unpriced */
} flow_t;

static const flow_t flows[] = {
    {"search", "search-api", M_4O_MINI, SHAPE_OTEL, 240, 1800, 300, 0.3, 0, false},
    {"search", "search-indexer", M_EMBED, SHAPE_OTEL, 200, 900, 0, 0, 0, false},
    {"search", "search-rerank", M_4O, SHAPE_OPENAI, 60, 3500, 400, 0.2, 0, false},
    {"ml-research", "eval-harness", M_SONNET, SHAPE_OTEL, 150, 12000, 1500, 0.5, 0, false},
    {"ml-research", "notebooks", M_O3_MINI, SHAPE_OPENAI, 20, 2500, 600, 0, 2.0, false},
    {"support-bot", "support-gateway", M_4O_MINI, SHAPE_LITELLM, 120, 1400, 250, 0.4, 0, false},
    {"support-bot", "support-gateway", M_HAIKU, SHAPE_LITELLM, 50, 2200, 350, 0, 0, false},
    {"platform", "platform-copilot", M_41, SHAPE_OTEL, 30, 4000, 800, 0.25, 0, false},
    {"platform", "platform-copilot", M_ACME, SHAPE_OTEL, 12, 1500, 300, 0, 0, true},
};
#define FLOW_CNT (sizeof(flows) / sizeof(flows[0]))
#define SPIKE_FLOW 3          /* ml-research on claude-sonnet-4 */
#define SPIKE_FACTOR 15.0
#define SPIKE_HOUR 15         /* of the last day, for two hours */

/* One billed cloud resource: FOCUS rows, one per hour. */
typedef struct resource {
    const char *provider;     /* ProviderName */
    const char *service;      /* ServiceName */
    const char *category;     /* ServiceCategory */
    const char *team;         /* Tags.team */
    const char *account;      /* SubAccountId */
    const char *account_name; /* SubAccountName */
    const char *region;
    const char *resource_id;
    const char *sku;
    double cost_per_hour;     /* mean BilledCost of one hourly row */
    double diurnal;           /* 0 flat .. 1 follows the daily pattern */
} resource_t;

static const resource_t resources[] = {
    {"AWS", "Amazon Elastic Compute Cloud", "Compute", "platform", "412398765012",
     "platform-prod", "us-east-1", "arn:aws:ec2:us-east-1:412398765012:instance/i-0a3f9c2e51b7d4e10",
     "EC2-BoxUsage:m6i.4xlarge", 4.6, 0.3},
    {"AWS", "Amazon Simple Storage Service", "Storage", "platform", "412398765012",
     "platform-prod", "us-east-1", "arn:aws:s3:::platform-artifacts-prod", "S3-TimedStorage-ByteHrs",
     0.9, 0},
    {"AWS", "Amazon Relational Database Service", "Databases", "platform", "412398765012",
     "platform-prod", "us-east-1", "arn:aws:rds:us-east-1:412398765012:db:platform-main",
     "RDS:db.r6g.2xlarge", 2.2, 0},
    {"AWS", "AWS Key Management Service", "Security", "platform", "412398765012",
     "platform-prod", "us-east-1", "arn:aws:kms:us-east-1:412398765012:key/5b1e0c1a",
     "KMS-Requests", 0.06, 0.5},
    {"AWS", "Amazon SageMaker", "AI and Machine Learning", "ml-research", "590214876301",
     "ml-research", "us-west-2", "arn:aws:sagemaker:us-west-2:590214876301:training-job/llm-eval",
     "SageMaker:ml.g5.12xlarge-Training", 9.5, 0.6},
    {"AWS", "Amazon Bedrock", "AI and Machine Learning", "support-bot", "730165442980",
     "support-prod", "us-east-1", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
     "Bedrock:claude-3-haiku-input-tokens", 1.4, 1.0},
    {"AWS", "Amazon OpenSearch Service", "Analytics", "search", "230987654321",
     "search-prod", "eu-west-1", "arn:aws:es:eu-west-1:230987654321:domain/search-main",
     "ES:r6g.xlarge.search", 1.8, 0},
    {"Google Cloud", "Compute Engine", "Compute", "search", "search-prod-4821",
     "search-prod", "europe-west4", "//compute.googleapis.com/projects/search-prod-4821/zones/europe-west4-a/instances/crawler-1",
     "Compute:N2-Standard-8", 3.1, 0.4},
    {"Google Cloud", "Cloud Storage", "Storage", "search", "search-prod-4821",
     "search-prod", "europe-west4", "//storage.googleapis.com/projects/_/buckets/search-corpus",
     "GCS:Standard-Storage", 0.45, 0},
    {"Google Cloud", "Vertex AI", "AI and Machine Learning", "ml-research", "ml-research-7730",
     "ml-research", "us-central1", "//aiplatform.googleapis.com/projects/ml-research-7730/locations/us-central1/endpoints/ft-ranker",
     "Vertex:Online-Prediction-A100", 2.6, 0.5},
};
#define RESOURCE_CNT (sizeof(resources) / sizeof(resources[0]))

static const char *const bench_teams[] = {"search", "ml-research",
                                          "support-bot", "platform"};
static const int bench_models[] = {M_4O_MINI, M_4O, M_SONNET, M_41, M_HAIKU};
/* OpenAI-shape events name no provider: OpenAI's models only. */
static const int bench_openai_models[] = {M_4O_MINI, M_4O, M_O3_MINI, M_41};

typedef struct opts {
    const char *brokers;
    const char *out_dir;
    const char *topics[SHAPE__CNT];
    const char *billing_topic;
    uint64_t seed;
    int days;
    int64_t start_ms;
    double rate;              /* messages per second, 0 = as fast as possible */
    bool unpriced;
    bool no_spike;
    int64_t events;           /* benchmark mode: number of token events */
    int64_t series;           /* benchmark mode: distinct users */
    shape_t shape;            /* benchmark mode: OTEL or OPENAI events */
    fmt_t format;             /* encoding of OpenAI-shape events */
    const char *avro_schema;  /* .avsc path: writer schema (Avro formats) */
    uint32_t schema_id;       /* avro-confluent: id in every message */
    const char *compression;  /* producer compression.codec */
} opts_t;

/* Where messages go: a Kafka producer or files. */
typedef struct out {
    rd_kafka_t *rk;
    FILE *files[SHAPE__CNT + 1];   /* last one: billing */
    const char *topics[SHAPE__CNT + 1];
    uint64_t sent;
    uint64_t counts[SHAPE__CNT + 1];
    uint64_t bytes;
    double rate;
    struct timespec t0;
    br_avro_encoder_t *enc;   /* set: OpenAI-shape events go as Avro */
    bool framed;              /* Confluent framing, schema_id */
    uint32_t schema_id;
    br_buf_t avro;            /* one encoded message */
} out_t;

#define OUT_BILLING SHAPE__CNT

static volatile sig_atomic_t stop_sig;
static uint64_t delivery_errors;

static void on_signal(int sig) {
    stop_sig = sig;
}

/* ---- deterministic randomness (splitmix64 seeding xoshiro256**) ---- */

typedef struct rng {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed) {
    int i;
    for (i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_u64(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double rng_unit(rng_t *r) {
    return (double)(rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_normal(rng_t *r) {
    double u1 = rng_unit(r), u2 = rng_unit(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

/* Poisson count with the given mean (Knuth for small, normal for large). */
static int64_t rng_poisson(rng_t *r, double mean) {
    if (mean <= 0)
        return 0;
    if (mean < 30) {
        double limit = exp(-mean), p = 1.0;
        int64_t k = 0;
        do {
            k++;
            p *= rng_unit(r);
        } while (p > limit);
        return k - 1;
    }
    {
        double v = mean + sqrt(mean) * rng_normal(r) + 0.5;
        return v < 0 ? 0 : (int64_t)v;
    }
}

/* A positive amount around mean with multiplicative noise (sigma in log). */
static double rng_around(rng_t *r, double mean, double sigma) {
    return mean * exp(sigma * rng_normal(r) - sigma * sigma / 2);
}

/* ---- time ---- */

/* Business-hours shape: 0.35 at 02:00 UTC, 1.0 at 14:00 UTC. */
static double diurnal(int64_t t_ms) {
    double h = (double)((t_ms % DAY_MS + DAY_MS) % DAY_MS) / (double)HOUR_MS;
    return 0.35 + 0.65 * 0.5 * (1.0 - cos(2.0 * PI * (h - 2.0) / 24.0));
}

static void fmt_time(int64_t ms, char *buf, size_t size) {
    br_ts_format(ms, buf, size);
}

static double mono_s(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) +
           (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* ---- output ---- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque) {
    (void)rk;
    (void)opaque;
    if (rkm->err) {
        if (delivery_errors++ < 5)
            fprintf(stderr, "burnrate-gen: delivery failed: %s\n",
                    rd_kafka_err2str(rkm->err));
    }
}

static int out_open_kafka(out_t *out, const char *brokers,
                          const char *compression, char *errstr,
                          size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    static const char *const props[][2] = {
        {"linger.ms", "20"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages", "500000"},
        {"queue.buffering.max.kbytes", "1048576"},
        {"message.max.bytes", "2000000"},
    };
    size_t i;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                          errstr_size) != RD_KAFKA_CONF_OK)
        goto fail;
    for (i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr,
                              errstr_size) != RD_KAFKA_CONF_OK)
            goto fail;
    if (rd_kafka_conf_set(conf, "compression.codec", compression, errstr,
                          errstr_size) != RD_KAFKA_CONF_OK)
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    out->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!out->rk)
        goto fail;
    return 0;
fail:
    if (!out->rk)
        rd_kafka_conf_destroy(conf);
    return -1;
}

static int out_open_dir(out_t *out, const char *dir, const char *names[],
                        size_t cnt) {
    size_t i;
    for (i = 0; i < cnt; i++) {
        char path[4096];
        if (!names[i])
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        out->files[i] = fopen(path, "w");
        if (!out->files[i]) {
            fprintf(stderr, "burnrate-gen: %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static bool out_enabled(const out_t *out, int which) {
    return out->rk ? out->topics[which] != NULL : out->files[which] != NULL;
}

/* Wait until the paced schedule allows message number out->sent. */
static void out_pace(out_t *out) {
    double due, now;

    if (out->rate <= 0 || (out->sent & 31))
        return;
    due = (double)out->sent / out->rate;
    while (!stop_sig && (now = mono_s(&out->t0)) < due) {
        int wait_ms = (int)((due - now) * 1000.0) + 1;
        if (out->rk)
            rd_kafka_poll(out->rk, wait_ms);
        else {
            struct timespec ts = {0, (long)wait_ms * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

static int out_send(out_t *out, int which, const char *key, const char *val,
                    size_t len) {
    out_pace(out);
    if (out->rk) {
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                out->rk, RD_KAFKA_V_TOPIC(out->topics[which]),
                RD_KAFKA_V_KEY(key, strlen(key)),
                RD_KAFKA_V_VALUE((void *)(uintptr_t)val, len),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (!err)
                break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "burnrate-gen: produce to %s: %s\n",
                        out->topics[which], rd_kafka_err2str(err));
                return -1;
            }
            rd_kafka_poll(out->rk, 10);
        }
        if ((out->sent & 1023) == 0)
            rd_kafka_poll(out->rk, 0);
    } else {
        FILE *fp = out->files[which];
        if (fwrite(val, 1, len, fp) != len || fputc('\n', fp) == EOF) {
            fprintf(stderr, "burnrate-gen: write: %s\n", strerror(errno));
            return -1;
        }
    }
    out->sent++;
    out->counts[which]++;
    out->bytes += len;
    return 0;
}

/* Send one token event of `shape`: as it is, or re-encoded as an Avro
 * datum when OpenAI-shape events go as Avro. */
static int out_send_event(out_t *out, int shape, const char *key,
                          const char *val, size_t len) {
    json_error_t jerr;
    json_t *obj;
    char err[512];
    br_err_t e;

    if (!out->enc || shape != SHAPE_OPENAI)
        return out_send(out, shape, key, val, len);
    obj = json_loadb(val, len, 0, &jerr);
    if (!obj) {
        fprintf(stderr, "burnrate-gen: internal: not JSON: %s\n", jerr.text);
        return -1;
    }
    br_buf_reset(&out->avro);
    if (out->framed)
        br_avro_confluent_header(out->schema_id, &out->avro);
    e = br_avro_encode(out->enc, obj, &out->avro, err, sizeof(err));
    json_decref(obj);
    if (e || out->avro.oom) {
        fprintf(stderr, "burnrate-gen: Avro: %s\n", e ? err : "out of memory");
        return -1;
    }
    return out_send(out, shape, key, out->avro.data, out->avro.len);
}

static int out_close(out_t *out) {
    int ret = 0;
    size_t i;

    if (out->rk) {
        rd_kafka_resp_err_t err = rd_kafka_flush(out->rk, 60000);
        if (err) {
            fprintf(stderr, "burnrate-gen: flush: %s\n", rd_kafka_err2str(err));
            ret = -1;
        }
        rd_kafka_destroy(out->rk);
        out->rk = NULL;
        if (delivery_errors)
            ret = -1;
    }
    for (i = 0; i < SHAPE__CNT + 1; i++) {
        if (out->files[i] && fclose(out->files[i]) != 0)
            ret = -1;
        out->files[i] = NULL;
    }
    return ret;
}

/* ---- message shapes ---- */

typedef struct call {
    const flow_t *flow;
    const model_t *model;
    int64_t t_ms;
    int64_t in, out, cache_read, reasoning;
    char id[48];
    char user[16];
} call_t;

/* OpenTelemetry GenAI: a flat log record with span-like attributes; input
 * tokens include the cached ones, as the semantic conventions say. */
static int fmt_otel(const call_t *c, char *buf, size_t size) {
    char ts[40];
    fmt_time(c->t_ms, ts, sizeof(ts));
    return snprintf(
        buf, size,
        "{\"timestamp\":\"%s\",\"trace_id\":\"%.32s\",\"name\":\"chat %s\","
        "\"resource\":{\"attributes\":{\"service.name\":\"%s\"}},"
        "\"attributes\":{\"gen_ai.operation.name\":\"%s\","
        "\"gen_ai.provider.name\":\"%s\",\"gen_ai.request.model\":\"%s\","
        "\"gen_ai.response.id\":\"%s\","
        "\"gen_ai.usage.input_tokens\":%" PRId64 ","
        "\"gen_ai.usage.output_tokens\":%" PRId64 ","
        "\"gen_ai.usage.cache_read.input_tokens\":%" PRId64 ","
        "\"team\":\"%s\",\"user.id\":\"%s\"}}",
        ts, c->id + 4, c->model->name, c->flow->service,
        c->flow->out_tokens > 0 ? "chat" : "embeddings",
        c->model->provider, c->model->name, c->id, c->in, c->out,
        c->cache_read, c->flow->team, c->user);
}

/* OpenAI chat completion response as a gateway logs it, with the caller's
 * metadata; prompt_tokens include cached, completion_tokens reasoning. */
static int fmt_openai(const call_t *c, char *buf, size_t size) {
    return snprintf(
        buf, size,
        "{\"id\":\"%s\",\"object\":\"chat.completion\",\"created\":%" PRId64
        ",\"model\":\"%s\",\"usage\":{\"prompt_tokens\":%" PRId64
        ",\"completion_tokens\":%" PRId64 ",\"total_tokens\":%" PRId64
        ",\"prompt_tokens_details\":{\"cached_tokens\":%" PRId64
        "},\"completion_tokens_details\":{\"reasoning_tokens\":%" PRId64
        "}},\"metadata\":{\"team\":\"%s\",\"app\":\"%s\"},\"user\":\"%s\"}",
        c->id, c->t_ms / 1000, c->model->name, c->in, c->out + c->reasoning,
        c->in + c->out + c->reasoning, c->cache_read, c->reasoning,
        c->flow->team, c->flow->service, c->user);
}

/* LiteLLM proxy spend log row: the gateway has already priced the call. */
static int fmt_litellm(const call_t *c, char *buf, size_t size) {
    char ts[40], te[40];
    const model_t *m = c->model;
    double spend = (double)(c->in - c->cache_read) * m->in +
                   (double)c->cache_read * m->cache_read +
                   (double)c->out * m->out;
    fmt_time(c->t_ms, ts, sizeof(ts));
    fmt_time(c->t_ms + 850 + (c->out * 12), te, sizeof(te));
    return snprintf(
        buf, size,
        "{\"request_id\":\"%s\",\"call_type\":\"acompletion\","
        "\"api_key\":\"88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b\","
        "\"spend\":%.9f,\"total_tokens\":%" PRId64 ",\"prompt_tokens\":%" PRId64
        ",\"completion_tokens\":%" PRId64 ",\"startTime\":\"%s\",\"endTime\":\"%s\","
        "\"model\":\"%s\",\"model_group\":\"%s\",\"custom_llm_provider\":\"%s\","
        "\"user\":\"%s\",\"team_id\":\"%s\",\"metadata\":{\"user_api_key_team_alias\":"
        "\"%s\",\"cache_read_input_tokens\":%" PRId64 "},\"cache_hit\":\"False\"}",
        c->id, spend, c->in + c->out, c->in, c->out, ts, te, m->name, m->name,
        m->provider, c->user, c->flow->team, c->flow->team, c->cache_read);
}

static int fmt_call(const call_t *c, char *buf, size_t size) {
    switch (c->flow->shape) {
    case SHAPE_OPENAI:
        return fmt_openai(c, buf, size);
    case SHAPE_LITELLM:
        return fmt_litellm(c, buf, size);
    default:
        return fmt_otel(c, buf, size);
    }
}

/* A FOCUS 1.x row (JSON) for one hour of one resource. */
static int fmt_focus(const resource_t *res, int64_t hour_ms, const char *category,
                     const char *description, double cost, const char *id,
                     char *buf, size_t size) {
    char ts[40], te[40];
    fmt_time(hour_ms, ts, sizeof(ts));
    fmt_time(hour_ms + HOUR_MS, te, sizeof(te));
    return snprintf(
        buf, size,
        "{\"BilledCost\":%.6f,\"EffectiveCost\":%.6f,\"ListCost\":%.6f,"
        "\"BillingCurrency\":\"USD\",\"ChargeCategory\":\"%s\","
        "\"ChargeDescription\":\"%s\",\"ChargeFrequency\":\"Usage-Based\","
        "\"ChargePeriodStart\":\"%s\",\"ChargePeriodEnd\":\"%s\","
        "\"ProviderName\":\"%s\",\"PublisherName\":\"%s\",\"InvoiceIssuerName\":\"%s\","
        "\"ServiceName\":\"%s\",\"ServiceCategory\":\"%s\","
        "\"SubAccountId\":\"%s\",\"SubAccountName\":\"%s\",\"RegionId\":\"%s\","
        "\"ResourceId\":\"%s\",\"SkuId\":\"%s\","
        "\"Tags\":{\"team\":\"%s\",\"env\":\"prod\"},\"x_LineItemId\":\"%s\"}",
        cost, cost, cost > 0 ? cost * 1.08 : cost, category, description, ts,
        te, res->provider, res->provider, res->provider, res->service,
        res->category, res->account, res->account_name, res->region,
        res->resource_id, res->sku, res->team, id);
}

/* ---- the workload ---- */

static void make_id(rng_t *r, const char *prefix, char *buf, size_t size) {
    uint64_t a = rng_u64(r), b = rng_u64(r);
    snprintf(buf, size, "%s%016" PRIx64 "%016" PRIx64, prefix, a, b);
}

static void fill_call(rng_t *r, const flow_t *f, int64_t t_ms, call_t *c) {
    static const char *const prefix[SHAPE__CNT] = {"req-", "chatcmpl-", "llm-"};
    double in = rng_around(r, f->in_tokens, 0.6);
    double out = f->out_tokens > 0 ? rng_around(r, f->out_tokens, 0.5) : 0;

    c->flow = f;
    c->model = &models[f->model];
    c->t_ms = t_ms;
    c->in = (int64_t)in + 1;
    c->out = (int64_t)out;
    c->cache_read = (int64_t)((double)c->in * f->cache_frac * rng_unit(r) * 2);
    if (c->cache_read > c->in)
        c->cache_read = c->in;
    c->reasoning = (int64_t)(out * f->reasoning_frac * rng_around(r, 1, 0.4));
    make_id(r, prefix[f->shape], c->id, sizeof(c->id));
    snprintf(c->user, sizeof(c->user), "u-%03d", (int)(rng_u64(r) % 40));
}

typedef struct emitted {
    double spend[FLOW_CNT];       /* by flow, priced here for the summary */
    double cloud_by_team[4];
} emitted_t;

static int team_index(const char *team) {
    int i;
    for (i = 0; i < 4; i++)
        if (!strcmp(bench_teams[i], team))
            return i;
    return 0;
}

/* FOCUS rows for the hour starting at hour_ms. */
static int emit_billing_hour(out_t *out, rng_t *r, int64_t hour_ms,
                             emitted_t *em, char *buf, size_t size) {
    size_t i;

    if (!out_enabled(out, OUT_BILLING))
        return 0;
    for (i = 0; i < RESOURCE_CNT; i++) {
        const resource_t *res = &resources[i];
        double shape = 1.0 - res->diurnal + res->diurnal * diurnal(hour_ms) / 0.675;
        double cost = rng_around(r, res->cost_per_hour * shape, 0.08);
        char id[48];
        char desc[160];
        int len;

        make_id(r, "li-", id, sizeof(id));
        snprintf(desc, sizeof(desc), "%s usage (%s)", res->service, res->sku);
        len = fmt_focus(res, hour_ms, "Usage", desc, cost, id, buf, size);
        em->cloud_by_team[team_index(res->team)] += cost;
        if (out_send(out, OUT_BILLING, res->resource_id, buf, (size_t)len))
            return -1;
    }
    if (hour_ms % DAY_MS == 0) {
        /* Once a day: an AWS credit (negative, counted) and tax (a category
         * that is not counted by default). */
        char id[48];
        int len;

        make_id(r, "li-", id, sizeof(id));
        len = fmt_focus(&resources[0], hour_ms, "Credit",
                        "AWS Activate promotional credit", -3.0, id, buf, size);
        em->cloud_by_team[team_index(resources[0].team)] -= 3.0;
        if (out_send(out, OUT_BILLING, resources[0].resource_id, buf, (size_t)len))
            return -1;
        make_id(r, "li-", id, sizeof(id));
        len = fmt_focus(&resources[0], hour_ms, "Tax", "Sales tax", 4.2, id,
                        buf, size);
        if (out_send(out, OUT_BILLING, resources[0].resource_id, buf, (size_t)len))
            return -1;
    }
    return 0;
}

static double call_spend(const call_t *c) {
    const model_t *m = c->model;
    return (double)(c->in - c->cache_read) * m->in +
           (double)c->cache_read * m->cache_read +
           (double)(c->out + c->reasoning) * m->out;
}

static int run_realistic(const opts_t *o, out_t *out) {
    rng_t r;
    emitted_t em;
    char buf[4096];
    int64_t end_ms = o->start_ms + (int64_t)o->days * DAY_MS;
    int64_t spike_from = end_ms - DAY_MS + SPIKE_HOUR * HOUR_MS;
    int64_t spike_to = spike_from + 2 * HOUR_MS;
    int64_t t;
    size_t f;
    double spike_spend = 0;

    memset(&em, 0, sizeof(em));
    rng_seed(&r, o->seed);
    for (t = o->start_ms; t < end_ms && !stop_sig; t += MINUTE_MS) {
        /* Billing for the hour that just ended, as soon as it ends. */
        if (t > o->start_ms && t % HOUR_MS == 0 &&
            emit_billing_hour(out, &r, t - HOUR_MS, &em, buf, sizeof(buf)))
            return -1;
        for (f = 0; f < FLOW_CNT; f++) {
            const flow_t *fl = &flows[f];
            double mean = fl->calls_per_hour / 60.0 * diurnal(t);
            int64_t n, k;

            if (fl->unpriced && !o->unpriced)
                continue;
            if (!out_enabled(out, fl->shape))
                continue;
            if (f == SPIKE_FLOW && !o->no_spike && o->days >= 2 &&
                t >= spike_from && t < spike_to)
                mean *= SPIKE_FACTOR;
            n = rng_poisson(&r, mean);
            for (k = 0; k < n; k++) {
                call_t c;
                int len;

                fill_call(&r, fl, t + (int64_t)(rng_unit(&r) * MINUTE_MS), &c);
                len = fmt_call(&c, buf, sizeof(buf));
                if (len <= 0 || (size_t)len >= sizeof(buf))
                    return -1;
                em.spend[f] += call_spend(&c);
                if (f == SPIKE_FLOW && c.t_ms >= spike_from && c.t_ms < spike_to)
                    spike_spend += call_spend(&c);
                if (out_send_event(out, fl->shape, c.id, buf, (size_t)len))
                    return -1;
            }
        }
    }
    if (!stop_sig && emit_billing_hour(out, &r, end_ms - HOUR_MS, &em, buf,
                                       sizeof(buf)))
        return -1;

    {
        char a[40], b[40];
        double team_tok[4] = {0, 0, 0, 0};
        int i;

        for (f = 0; f < FLOW_CNT; f++)
            if (!flows[f].unpriced)
                team_tok[team_index(flows[f].team)] += em.spend[f];
        fmt_time(o->start_ms, a, sizeof(a));
        fmt_time(end_ms, b, sizeof(b));
        fprintf(stderr, "burnrate-gen: event time %s .. %s (%d days, seed %" PRIu64 ")\n",
                a, b, o->days, o->seed);
        for (i = 0; i < 4; i++)
            fprintf(stderr,
                    "burnrate-gen:   team %-12s tokens $%9.2f  cloud $%9.2f\n",
                    bench_teams[i], team_tok[i], em.cloud_by_team[i]);
        fprintf(stderr,
                "burnrate-gen: budget breach: team=platform spends $%.2f in "
                "%d days ($%.2f a day), past a $450 monthly budget on day 3\n",
                team_tok[3] + em.cloud_by_team[3], o->days,
                (team_tok[3] + em.cloud_by_team[3]) / o->days);
        if (!o->no_spike && o->days >= 2) {
            fmt_time(spike_from, a, sizeof(a));
            fmt_time(spike_to, b, sizeof(b));
            fprintf(stderr,
                    "burnrate-gen: injected spike: team=ml-research model=%s "
                    "%s .. %s at %.0fx ($%.2f in those two hours)\n",
                    models[flows[SPIKE_FLOW].model].name, a, b, SPIKE_FACTOR,
                    spike_spend);
        }
    }
    return 0;
}

/* Benchmark scale: n events of one shape (OTel, or OpenAI) spread evenly
 * over the days, cycling through `series` distinct users so the team/user
 * scope has that many. */
static int run_bench(const opts_t *o, out_t *out) {
    rng_t r;
    char buf[2048];
    int64_t i;
    int64_t span = (int64_t)o->days * DAY_MS;
    bool openai = o->shape == SHAPE_OPENAI;
    flow_t fl = flows[openai ? 2 : 0];

    rng_seed(&r, o->seed);
    for (i = 0; i < o->events && !stop_sig; i++) {
        call_t c;
        int len;
        int64_t user = (int64_t)(((uint64_t)i * 2654435761ULL) % (uint64_t)o->series);

        fl.team = bench_teams[user % 4];
        if (openai) {
            fl.model = bench_openai_models[(user / 4) % 4];
            fl.reasoning_frac = fl.model == M_O3_MINI ? 2.0 : 0;
        } else {
            fl.model = bench_models[(user / 4) % 5];
        }
        fill_call(&r, &fl, o->start_ms + (int64_t)((double)span * (double)i / (double)o->events), &c);
        snprintf(c.user, sizeof(c.user), "u%07" PRId64, user);
        len = fmt_call(&c, buf, sizeof(buf));
        if (len <= 0 || (size_t)len >= sizeof(buf))
            return -1;
        if (out_send_event(out, fl.shape, c.id, buf, (size_t)len))
            return -1;
    }
    return 0;
}

/* The writer schema at path as an encoder (and the schema it borrows). */
static int open_encoder(const char *path, br_avro_schema_t **schema,
                        br_avro_encoder_t **enc, char *errstr,
                        size_t errstr_size) {
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int ret = -1;

    if (!fp) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;
        if (cap - len < 4096) {
            char *t = realloc(text, cap + 65536);
            if (!t) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                goto done;
            }
            text = t;
            cap += 65536;
        }
        n = fread(text + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(fp)) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (!(*schema = br_avro_schema_parse(text, len, errstr, errstr_size)) ||
        !(*enc = br_avro_encoder_new(*schema, errstr, errstr_size)))
        goto done;
    ret = 0;
done:
    free(text);
    fclose(fp);
    return ret;
}

static void usage(FILE *fp) {
    fprintf(fp,
        "usage: burnrate-gen (--brokers LIST | --out DIR) [options]\n"
        "\n"
        "Realistic, deterministic cost traffic: LLM token events and FOCUS\n"
        "billing rows for several teams over a few simulated days, with one\n"
        "injected spike (ml-research on claude-sonnet-4, 2 h at 15x, on the\n"
        "last day) and a platform team that spends ~$200/day.\n"
        "\n"
        "  --brokers LIST       produce to Kafka\n"
        "  --out DIR            write tokens.jsonl, openai.jsonl, litellm.jsonl,\n"
        "                       billing.jsonl into DIR instead\n"
        "  --token-topic T      OTel GenAI events (default llm.usage)\n"
        "  --openai-topic T     OpenAI usage objects (default llm.openai)\n"
        "  --litellm-topic T    LiteLLM spend logs, priced (default llm.litellm)\n"
        "  --billing-topic T    FOCUS rows (default billing.focus)\n"
        "                       (an empty topic name leaves that stream out)\n"
        "  --days N             simulated days (default 3)\n"
        "  --start TIME         first event time, RFC 3339 (default 2025-03-03T00:00:00Z)\n"
        "  --seed N             random seed (default 42)\n"
        "  --rate N             messages per second (default: as fast as possible)\n"
        "  --compression CODEC  producer compression.codec: none (default), gzip,\n"
        "                       snappy, lz4, zstd (lz4 fits more history into the\n"
        "                       embedded broker, which keeps ~5 MB per partition)\n"
        "  --unpriced           add a model that no price table knows\n"
        "  --no-spike           leave the spike out\n"
        "  --events N           benchmark mode: N token events of one shape only\n"
        "  --series N           benchmark mode: distinct users (default 1000)\n"
        "  --shape otel|openai  benchmark mode: the events' shape (default otel;\n"
        "                       openai events go to --openai-topic)\n"
        "  --format json|avro|avro-confluent\n"
        "                       encoding of the OpenAI events (default json);\n"
        "                       Avro needs --brokers and --avro-schema\n"
        "  --avro-schema FILE   writer schema of Avro events (schemas/usage.avsc)\n"
        "  --schema-id N        avro-confluent: schema id framed into each\n"
        "                       message (default 1)\n");
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end = NULL;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int main(int argc, char **argv) {
    opts_t o;
    out_t out;
    br_avro_schema_t *schema = NULL;
    char errstr[512];
    struct sigaction sa;
    int i, ret = 1;
    int64_t v;

    memset(&o, 0, sizeof(o));
    memset(&out, 0, sizeof(out));
    o.topics[SHAPE_OTEL] = "llm.usage";
    o.topics[SHAPE_OPENAI] = "llm.openai";
    o.topics[SHAPE_LITELLM] = "llm.litellm";
    o.billing_topic = "billing.focus";
    o.seed = 42;
    o.compression = "none";
    o.days = 3;
    o.start_ms = DEFAULT_START_MS;
    o.series = 1000;
    o.shape = SHAPE_OTEL;
    o.format = FMT_JSON;
    o.schema_id = 1;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool flag = true;

        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(arg, "--unpriced")) {
            o.unpriced = true;
        } else if (!strcmp(arg, "--no-spike")) {
            o.no_spike = true;
        } else {
            flag = false;
        }
        if (flag)
            continue;
        if (!val) {
            fprintf(stderr, "burnrate-gen: %s needs a value\n", arg);
            return 2;
        }
        i++;
        if (!strcmp(arg, "--brokers"))
            o.brokers = val;
        else if (!strcmp(arg, "--out"))
            o.out_dir = val;
        else if (!strcmp(arg, "--compression"))
            o.compression = val;
        else if (!strcmp(arg, "--token-topic"))
            o.topics[SHAPE_OTEL] = *val ? val : NULL;
        else if (!strcmp(arg, "--openai-topic"))
            o.topics[SHAPE_OPENAI] = *val ? val : NULL;
        else if (!strcmp(arg, "--litellm-topic"))
            o.topics[SHAPE_LITELLM] = *val ? val : NULL;
        else if (!strcmp(arg, "--billing-topic"))
            o.billing_topic = *val ? val : NULL;
        else if (!strcmp(arg, "--days") && !parse_i64(val, 1, 3650, &v))
            o.days = (int)v;
        else if (!strcmp(arg, "--seed") && !parse_i64(val, 0, INT64_MAX, &v))
            o.seed = (uint64_t)v;
        else if (!strcmp(arg, "--rate") && !parse_i64(val, 0, 100000000, &v))
            o.rate = (double)v;
        else if (!strcmp(arg, "--events") && !parse_i64(val, 1, INT64_MAX / 4, &v))
            o.events = v;
        else if (!strcmp(arg, "--series") && !parse_i64(val, 1, 100000000, &v))
            o.series = v;
        else if (!strcmp(arg, "--shape") && (!strcmp(val, "otel") || !strcmp(val, "openai")))
            o.shape = !strcmp(val, "otel") ? SHAPE_OTEL : SHAPE_OPENAI;
        else if (!strcmp(arg, "--format") && (!strcmp(val, fmt_names[FMT_JSON]) ||
                                              !strcmp(val, fmt_names[FMT_AVRO]) ||
                                              !strcmp(val, fmt_names[FMT_AVRO_CONFLUENT])))
            o.format = !strcmp(val, fmt_names[FMT_JSON]) ? FMT_JSON
                       : !strcmp(val, fmt_names[FMT_AVRO]) ? FMT_AVRO
                       : FMT_AVRO_CONFLUENT;
        else if (!strcmp(arg, "--avro-schema"))
            o.avro_schema = val;
        else if (!strcmp(arg, "--schema-id") && !parse_i64(val, 0, INT32_MAX, &v))
            o.schema_id = (uint32_t)v;
        else if (!strcmp(arg, "--start")) {
            if (br_ts_parse(val, strlen(val), &o.start_ms) != BR_ERR_OK) {
                fprintf(stderr, "burnrate-gen: --start: not RFC 3339: %s\n", val);
                return 2;
            }
        } else {
            fprintf(stderr, "burnrate-gen: bad option or value: %s %s\n", arg, val);
            usage(stderr);
            return 2;
        }
    }
    if (!o.brokers == !o.out_dir) {
        fprintf(stderr, "burnrate-gen: give exactly one of --brokers, --out\n");
        usage(stderr);
        return 2;
    }
    if (o.format != FMT_JSON && (!o.brokers || !o.avro_schema)) {
        fprintf(stderr, "burnrate-gen: --format %s needs --brokers and --avro-schema\n",
                fmt_names[o.format]);
        return 2;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    out.rate = o.rate;
    for (i = 0; i < SHAPE__CNT; i++)
        out.topics[i] = o.topics[i];
    out.topics[OUT_BILLING] = o.billing_topic;
    if (o.events > 0) {
        for (i = 0; i < SHAPE__CNT + 1; i++)
            if (i != (int)o.shape)
                out.topics[i] = NULL;
    }
    if (o.format != FMT_JSON) {
        if (open_encoder(o.avro_schema, &schema, &out.enc, errstr, sizeof(errstr))) {
            fprintf(stderr, "burnrate-gen: --avro-schema: %s\n", errstr);
            goto done;
        }
        out.framed = o.format == FMT_AVRO_CONFLUENT;
        out.schema_id = o.schema_id;
    }
    if (o.brokers) {
        if (out_open_kafka(&out, o.brokers, o.compression, errstr, sizeof(errstr))) {
            fprintf(stderr, "burnrate-gen: %s\n", errstr);
            goto done;
        }
    } else {
        const char *names[SHAPE__CNT + 1] = {"tokens.jsonl", "openai.jsonl",
                                             "litellm.jsonl", "billing.jsonl"};
        for (i = 0; i < SHAPE__CNT + 1; i++)
            if (!out.topics[i])
                names[i] = NULL;
        if (out_open_dir(&out, o.out_dir, names, SHAPE__CNT + 1))
            goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &out.t0);

    ret = o.events > 0 ? run_bench(&o, &out) : run_realistic(&o, &out);
    if (out_close(&out))
        ret = -1;
    if (ret == 0) {
        double secs = mono_s(&out.t0);
        fprintf(stderr,
                "burnrate-gen: %" PRIu64 " messages (otel %" PRIu64
                ", openai %" PRIu64 ", litellm %" PRIu64 ", focus %" PRIu64
                "), %" PRIu64 " bytes in %.2f s%s%s\n",
                out.sent, out.counts[SHAPE_OTEL], out.counts[SHAPE_OPENAI],
                out.counts[SHAPE_LITELLM], out.counts[OUT_BILLING], out.bytes,
                secs, out.enc ? "; openai as " : "",
                out.enc ? fmt_names[o.format] : "");
    }
    ret = ret == 0 && !stop_sig ? 0 : 1;
done:
    out_close(&out);
    br_avro_encoder_free(out.enc);
    br_avro_schema_free(schema);
    br_buf_free(&out.avro);
    return ret;
}
