/*
 * What the pipeline tests share: a config from YAML text, a pipeline whose
 * sink collects every alert and dead letter, a message fed as from a topic
 * partition, the state as `snapshot show` describes it. A helper that cannot
 * do its part fails the test (a failed check with the reason on stderr), so
 * no test goes on quietly with nothing to check.
 */
#ifndef BRPIPE_H
#define BRPIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "burnrate/alert.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"

/** One alert as collected: copies of what the borrowed br_alert_t showed. */
typedef struct brp_alert {
    char type[24], status[16], severity[16]; /* the names the JSON uses */
    char id[17];
    char parent[17];            /* "" when it stands on its own */
    unsigned rev;
    char scope[64];             /* scope or budget name, "" when none */
    char labels[256];           /* "team=ml,model=a", "" for no labels */
    char detail[128];           /* "" when none */
    br_money_t impact;
    int64_t start, end;         /* the window */
    int64_t event;              /* event time of the record that moved it */
    int64_t offset;             /* that record's source offset */
    size_t contrib_cnt;
    char contrib[BR_ALERT_CONTRIB_MAX][256]; /* each one's labels, as above */
    br_money_t c_obs[BR_ALERT_CONTRIB_MAX], c_exp[BR_ALERT_CONTRIB_MAX],
        c_imp[BR_ALERT_CONTRIB_MAX];
    int32_t c_share[BR_ALERT_CONTRIB_MAX];
    char summary[320];
    char json[2048];            /* its line of the sink's json (cut at 2 KiB) */
} brp_alert_t;

/** One dead letter. */
typedef struct brp_dead {
    int input;
    int64_t offset;
    br_err_t reason;
    char detail[512];
} brp_dead_t;

#define BRP_DEAD_MAX 16
#define BRP_ALERTS_MIN 16

/**
 * A collecting sink. brp_start() clears it (brp_sink_init()) and hands it
 * to the pipeline (brp_sink()), so it must stay where it is while the
 * pipeline lives; brp_sink_free() frees it. The first BRP_ALERTS_MIN alert
 * entries exist from the start and read as zeros until filled, so a test
 * that checks a count and then looks at an entry fails rather than crashes.
 */
typedef struct brp_sink {
    int n;                      /* alerts */
    brp_alert_t *a;             /* every alert, in order */
    size_t cap;
    /** Alerts whose revision is not one more than the last of their id, or
     *  that say firing on any revision but the first (or not on it). */
    int order_errors;
    br_buf_t json;              /* every alert, one JSON line each */
    int dead;                   /* dead letters */
    brp_dead_t dl[BRP_DEAD_MAX]; /* the first BRP_DEAD_MAX of them */
    brp_dead_t last_dead;       /* the newest one; zeros before any */
    /** Set after brp_start(), before anything is fed: the input names the
     *  JSON uses (NULL: their numbers), and a callback that also sees every
     *  alert as the pipeline handed it over. */
    const char **input_names;
    void (*also)(void *opaque, const br_alert_t *alert);
    void *also_opaque;
} brp_sink_t;

/** Clear c for a run: no alerts, no dead letters (a used c is freed
 *  first, or its memory is lost). */
void brp_sink_init(brp_sink_t *c);
/** The sink that reports into c, for a pipeline built otherwise. */
br_sink_t brp_sink(brp_sink_t *c);
void brp_sink_free(brp_sink_t *c);

/** Alerts of c with this type, status and labels; NULL matches any. */
int brp_count(const brp_sink_t *c, const char *type, const char *status,
              const char *labels);
/** Times needle occurs in b (the alert lines, say), overlapping ones too. */
int brp_occurs(const br_buf_t *b, const char *needle);

/**
 * @brief A config from YAML text, name standing for its file (base: the
 *        directory relative paths in it resolve against, or NULL).
 * @returns the config, or NULL after a failed check that prints the
 *          loader's error.
 */
#define brp_config(yaml, name) brp_config_at(__FILE__, __LINE__, yaml, name, NULL)
#define brp_config_in(yaml, name, base)                                       \
    brp_config_at(__FILE__, __LINE__, yaml, name, base)
br_config_t *brp_config_at(const char *file, int line, const char *yaml,
                           const char *name, const char *base);

/**
 * @brief A pipeline over conf reporting into c (cleared first), or into
 *        nothing when c is NULL.
 * @returns the pipeline, or NULL after a failed check that prints why.
 */
#define brp_start(conf, c) brp_start_at(__FILE__, __LINE__, conf, c)
br_pipeline_t *brp_start_at(const char *file, int line,
                            const br_config_t *conf, brp_sink_t *c);

/** A pipeline and what it sent. */
typedef struct brp_run {
    br_pipeline_t *pl;
    brp_sink_t got;             /* got.json: the alerts, JSON lines */
} brp_run_t;

/** brp_start() into r->got; r->pl is NULL after a failed check. */
#define brp_run_start(r, conf)                                                \
    ((r)->pl = brp_start_at(__FILE__, __LINE__, conf, &(r)->got))
/** Destroy the pipeline, free what it sent. */
void brp_run_free(brp_run_t *r);

/** Feed msg as the message at offset of partition 0 of input's topic. */
br_err_t brp_feed(br_pipeline_t *pl, int input, const char *topic,
                  int64_t offset, const char *msg);
/** The same with the message formatted. */
br_err_t brp_feedf(br_pipeline_t *pl, int input, const char *topic,
                   int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/**
 * @brief The pipeline's state as `snapshot show` prints it: the text
 *        br_pipeline_describe() appends to out.
 * @returns whether saving and describing worked (checked: a failure fails
 *          the test).
 */
bool brp_describe_text(const br_pipeline_t *pl, br_buf_t *out);
/** The same parsed as one JSON object; NULL when any of it failed. The
 *  caller decrefs. */
json_t *brp_describe(const br_pipeline_t *pl);

#endif
