/*
 * The configuration a person writes (YAML, parsed with libyaml), as plain
 * structs. Every value is validated at load time; a mistake is reported as
 * "FILE:LINE: KEY.PATH: what is wrong". Unknown keys are errors.
 */
#ifndef BURNRATE_CONFIG_H
#define BURNRATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "burnrate/err.h"
#include "burnrate/record.h"
#include "burnrate/tz.h"

/** A string pair with the config line it came from. */
typedef struct br_kv {
    char *key;
    char *value;
    int line;
} br_kv_t;

typedef enum {
    BR_FORMAT_JSON,  /* one JSON object per message / per line of a file */
    BR_FORMAT_CSV,   /* files only: a FOCUS or CUR CSV export with header */
    BR_FORMAT_AVRO,  /* one Avro binary datum per message (avro.schema) */
    BR_FORMAT_AVRO_CONFLUENT, /* magic 0, 4-byte schema id, Avro body */
} br_format_t;

/** Where Avro schemas come from (inputs of formats avro and avro-confluent,
 *  and Avro alerts). */
typedef struct br_avro_conf {
    char *schema;                /* .avsc path: writer schema (avro), reader
                                    schema (avro-confluent, object container
                                    files) or the alert schema */
    char *schema_json;           /* its text, read at load time */
    char *schema_dir;            /* avro-confluent: <id>.avsc files */
    char *registry;              /* Schema Registry URL */
    char *subject;               /* alerts: subject to register under
                                    (default "<alerts_topic>-value") */
    int64_t schema_id;           /* alerts: the id given, -1 when none */
    char *registry_username;
    char *registry_password;     /* secret: never printed */
    char *registry_ca_file;
} br_avro_conf_t;

typedef enum {
    BR_DIALECT_OTEL,       /* OpenTelemetry GenAI span/log attributes */
    BR_DIALECT_OPENAI,     /* OpenAI response/usage object */
    BR_DIALECT_ANTHROPIC,  /* Anthropic Messages usage object */
    BR_DIALECT_LITELLM,    /* LiteLLM spend log rows */
    BR_DIALECT_BEDROCK,    /* AWS Bedrock model invocation logs */
    BR_DIALECT_FOCUS,      /* FinOps FOCUS 1.x billing rows */
    BR_DIALECT_CUR,        /* AWS Cost and Usage Report rows */
    BR_DIALECT_CUSTOM,     /* nothing preset: the mapping says it all */
    BR_DIALECT__CNT
} br_dialect_t;

#define BR_ID_PARTS_MAX 16      /* fields of a composite id (mapping.id) */

/**
 * Field paths ("usage.prompt_tokens", "attributes.gen_ai.request.model") for
 * each canonical field. NULL means "use the dialect's preset"; for the custom
 * dialect, time and cost-or-tokens are required.
 */
typedef struct br_mapping {
    char *time;                  /* event time */
    char *time_end;              /* end of a charge period, optional */
    char *cost;                  /* amount in currency units */
    char *currency;
    char **id;                   /* fields whose values together are the
                                    record's identity (dedup id); NULL: the
                                    dialect's preset */
    size_t id_cnt;
    char *model;
    char *provider;
    char *tokens[BR_TOK__CNT];
    br_kv_t *dims;               /* dim name -> field path */
    size_t dim_cnt;
} br_mapping_t;

/** What a record whose id was seen before, with another amount, does. */
typedef enum {
    BR_RESTATE_DUPLICATE,        /* counted once: the first amount stays */
    BR_RESTATE_REPLACE,          /* the latest amount replaces the earlier
                                    one (the difference is counted) */
} br_restate_t;

typedef struct br_input_conf {
    char *name;                  /* unique; names the input in alerts/logs */
    char **topics;               /* Kafka topics this input reads */
    size_t topic_cnt;
    char **files;                /* files for replay (JSON lines or CSV) */
    size_t file_cnt;
    br_format_t format;
    br_dialect_t dialect;
    br_mapping_t mapping;        /* overrides on top of the dialect preset */
    br_avro_conf_t avro;         /* formats avro and avro-confluent */
    char *cost_column;           /* billing dialects: column holding cost
                                    (FOCUS default BilledCost, CUR default
                                    line_item_unblended_cost) */
    char **charge_categories;    /* billing: categories that count
                                    (default Usage, Credit, Adjustment) */
    size_t charge_category_cnt;
    int64_t lateness_ms;         /* allowed lateness behind max event time */
    int64_t idle_ms;             /* event-time lag after which a partition is
                                    idle and left out of the watermark */
    int64_t stale_after_ms;      /* wall-clock silence (no message while the
                                    input's partitions are assigned) that
                                    raises a stale_input alert; 0 = off */
    int64_t max_future_ms;       /* event time further than this ahead of the
                                    wall clock is a dead letter (FUTURE);
                                    0 = off */
    br_restate_t restatements;   /* default: replace for focus and cur,
                                    duplicate for the others */
    int64_t dedup_window_ms;     /* event time an id is remembered (focus,
                                    cur: 40d; others: dedup.window) */
    size_t dedup_max_ids;        /* ids remembered at most (dedup.max_ids);
                                    0: no dedup for this input */
    int line;
} br_input_conf_t;

typedef struct br_scope_conf {
    char *name;                  /* unique; e.g. "team_model" */
    char **dims;                 /* dimension names; empty = total */
    size_t dim_cnt;
    size_t max_series;           /* beyond it new values fold into "(other)" */
    char **inputs;               /* names of the inputs that feed it; NULL:
                                    every input */
    size_t input_cnt;
    int line;
} br_scope_conf_t;

/* Which way a series must move to be unusual (bit set). */
typedef enum {
    BR_DIRECTION_UP = 1,         /* spend above the baseline (default) */
    BR_DIRECTION_DOWN = 2,       /* spend collapsed below it */
    BR_DIRECTION_BOTH = 3,
} br_direction_t;

typedef struct br_spike_conf {
    int64_t bucket_ms;           /* bucket width (default 1h) */
    double sensitivity;          /* robust z-score threshold (default 4) */
    int64_t min_impact_nanos;    /* absolute floor on observed - expected */
    double min_ratio;            /* observed must be >= ratio * expected */
    int warmup_buckets;          /* buckets of history before spikes fire */
    int64_t new_spend_min_nanos; /* a new series spending this much alerts */
    int resolve_buckets;         /* quiet final buckets before resolving */
    br_direction_t direction;    /* up (default), down or both */
    int64_t cooldown_ms;         /* event time after an incident resolves in
                                    which the series' next unusual bucket of
                                    the same direction reopens it (default 6
                                    buckets; 0: never) */
} br_spike_conf_t;

/** A multi-window burn-rate rule: both windows, ending at the budget's
 *  "now", spend at least factor x the budget's even pace. */
typedef struct br_burn_rate_conf {
    int64_t long_ms;             /* long window */
    int64_t short_ms;            /* short window, < long_ms */
    double factor;               /* multiple of the even pace, > 0 */
    int line;
} br_burn_rate_conf_t;

#define BR_BURN_RATES_MAX 8

typedef struct br_budget_conf {
    char *name;                  /* unique */
    br_kv_t *match;              /* dim = value; all must match; empty = all */
    size_t match_cnt;
    int64_t amount_nanos;        /* > 0 */
    char currency[BR_CURRENCY_MAX];
    br_period_t period;
    char *timezone;              /* default "UTC" */
    br_tz_t *tz;                 /* the zone, read when the config loads
                                    (owned); NULL: build it from timezone
                                    (UTC or a fixed offset, br_tz_fixed()) */
    int32_t *thresholds_bp;      /* ascending, in basis points (80% = 8000) */
    size_t threshold_cnt;
    int64_t window_ms;           /* period rolling: window length, else 0 */
    int64_t start_day;           /* period custom: local date of a period
                                    start, days since 1970-01-01 */
    int64_t every_days;          /* period custom: length in local days, or 0 */
    int64_t every_months;        /* period custom: length in months, or 0 */
    int32_t *forecast_bp;        /* forecast thresholds, ascending bp; none
                                    for rolling budgets */
    size_t forecast_cnt;
    br_burn_rate_conf_t *burn_rates; /* at most BR_BURN_RATES_MAX */
    size_t burn_rate_cnt;
    int line;
} br_budget_conf_t;

typedef struct br_kafka_conf {
    char *brokers;               /* bootstrap.servers */
    char *group_id;              /* default "burnrate" */
    char *alerts_topic;          /* default "burnrate.alerts" */
    bool alerts_avro_on;         /* alerts_format avro-confluent (else JSON) */
    br_avro_conf_t alerts_avro;  /* its schema and id or registry */
    char *dlq_topic;             /* default "burnrate.dlq" */
    br_kv_t *props;              /* passed to every client as-is */
    size_t prop_cnt;
    br_kv_t *consumer_props;     /* consumer only */
    size_t consumer_prop_cnt;
    br_kv_t *producer_props;     /* producer only */
    size_t producer_prop_cnt;
} br_kafka_conf_t;

/** The HTTP listener for /metrics, /healthz and /readyz (http.listen). */
#define BR_HTTP_DEFAULT_HOST "127.0.0.1"
#define BR_HTTP_DEFAULT_PORT 9477

typedef struct br_http_conf {
    bool on;                     /* false: http.listen is off */
    bool given;                  /* http.listen was set (a bind failure then
                                    stops the start; the default only warns) */
    char *host;                  /* address or name to bind; IPv6 literals
                                    without brackets */
    int port;                    /* 0: an ephemeral port (logged) */
    int line;                    /* of http.listen, 0 for the default */
} br_http_conf_t;

typedef enum { BR_LOG_ERROR, BR_LOG_WARN, BR_LOG_INFO, BR_LOG_DEBUG } br_log_level_t;

/** How log lines are written: logfmt (default) or one JSON object each. */
typedef enum { BR_LOG_FORMAT_LOGFMT, BR_LOG_FORMAT_JSON } br_log_format_t;

/** Where a key path ("kafka.brokers", "inputs[0].topics") was given. */
typedef struct br_key_line {
    char *path;                  /* owned */
    int line;
} br_key_line_t;

typedef struct br_config {
    char *path;                  /* file it was loaded from */
    char currency[BR_CURRENCY_MAX]; /* stage currency (default "USD") */
    br_input_conf_t *inputs;
    size_t input_cnt;
    br_scope_conf_t *scopes;
    size_t scope_cnt;
    br_spike_conf_t spike;
    br_budget_conf_t *budgets;
    size_t budget_cnt;
    char *prices_file;           /* LiteLLM-format price table, or NULL */
    char *prices_json;           /* its bytes, read when the config loads
                                    (the pipeline opens no file), or NULL */
    size_t prices_json_len;
    char *prices_error;          /* why it could not be opened, or NULL */
    br_kv_t *price_overrides;    /* "model" -> "input=0.15,output=0.60"
                                    (currency units per 1M tokens) */
    size_t price_override_cnt;
    br_kafka_conf_t kafka;
    char *state_dir;             /* default "./burnrate-state" */
    int64_t snapshot_interval_ms; /* wall clock between snapshots (30s) */
    int snapshot_keep;           /* snapshot generations kept (3) */
    int snapshot_unready_after;  /* snapshots failed in a row after which
                                    /readyz answers 503 (3); 0: never */
    int64_t dedup_window_ms;     /* default of inputs[].dedup_window (48h) */
    size_t dedup_max_ids;        /* default of inputs[].dedup_max_ids
                                    (1000000); 0: off */
    size_t max_message_bytes;    /* larger messages are dead-lettered */
    br_http_conf_t http;         /* metrics and health endpoints */
    br_log_level_t log_level;
    br_log_format_t log_format;  /* log.format (logfmt) */
    br_key_line_t *key_lines;    /* every key the file gave, in file order */
    size_t key_line_cnt, key_line_cap;
    br_kv_t *refs;               /* values written with ${...}: key = the
                                    text as written, value = expanded; the
                                    dump prints the text as written */
    size_t ref_cnt;
    char **secrets;              /* each value a ${...} stood for: never
                                    printed (br_config_scrub()) */
    size_t secret_cnt;
} br_config_t;

/** Values from ${...} shorter than this are not hidden inside other text
 *  (a "1" or "on" would garble every message); whole values always are. */
#define BR_CONFIG_SECRET_MIN 4

/**
 * @brief Load and validate a config file. Relative paths inside it
 *        (prices file, input files, state dir) are resolved against the
 *        directory of the file.
 *        Values may use ${VAR}, ${env:VAR}, ${file:PATH} and $$
 *        (burnrate/expand.h); what they stand for is kept in secrets.
 * @returns a new config the caller destroys, or NULL with errstr set to
 *          every mistake, "FILE:LINE: KEY: message" one a line, sorted by
 *          line (stable), cut at a whole line with "FILE: ... and N more"
 *          when errstr is too small.
 */
br_config_t *br_config_load(const char *path, char *errstr, size_t errstr_size);

/**
 * @brief br_config_load() for check-config: the config is returned even
 *        when it has mistakes (*mistakes then true, errstr lists them), so
 *        that what it does hold can be checked further (Kafka properties,
 *        the price table) in the same run. Such a config is for checks
 *        only, never to run: values with a mistake are left at defaults
 *        or missing.
 * @returns a new config the caller destroys, or NULL (errstr set) when the
 *          file cannot be read or is not YAML.
 */
br_config_t *br_config_load_check(const char *path, bool *mistakes,
                                  char *errstr, size_t errstr_size);

/** @brief Same as br_config_load() over a string; name stands in for the file
 *         name in messages and base_dir for relative paths (may be NULL). */
br_config_t *br_config_load_string(const char *yaml, const char *name,
                                   const char *base_dir, char *errstr,
                                   size_t errstr_size);

void br_config_destroy(br_config_t *conf);

/** @brief Print the effective configuration (defaults filled in) as YAML;
 *         values of properties that look secret are printed as "[redacted]". */
void br_config_dump(const br_config_t *conf, FILE *fp);

/** @returns the line where key path (e.g. "kafka.brokers",
 *           "inputs[2].topics") was given, else that of the nearest
 *           enclosing key that was, else 1. */
int br_config_key_line(const br_config_t *conf, const char *path);

/** @brief Replace in s (NUL-terminated, at most size bytes) every value
 *         that came from ${...} (BR_CONFIG_SECRET_MIN bytes or more) by
 *         "[redacted]". */
void br_config_scrub(const br_config_t *conf, char *s, size_t size);

/** @returns true when value is, whole, one a ${...} stood for. */
bool br_config_is_secret_value(const br_config_t *conf, const char *value);

/**
 * @brief Merge more into dst, two lists of errors ("FILE:LINE: ..." one a
 *        line), sorted by line number (stable: dst's first on equal lines,
 *        a line without a number first of all), cut at whole lines to
 *        size.
 */
void br_config_merge_errors(char *dst, size_t size, const char *more);

/** @returns index of the input named name, or -1. */
int br_config_input_index(const br_config_t *conf, const char *name);

const char *br_dialect_name(br_dialect_t dialect);
br_err_t br_dialect_parse(const char *name, br_dialect_t *out);

#endif
