/*
 * SIGHUP reload, the pure half: which changed keys need a restart (the
 * keys the property table marks BR_CONF_RESTART, and the rule about inputs
 * with topics below), and the state carried from the running pipeline into
 * one built from the new config through the snapshot layout (save, then
 * restore by name).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "burnrate/conftab.h"
#include "burnrate/reload.h"

/* The refusal being written: "FILE:LINE: KEY: why" items joined by "; ". */
typedef struct refusal {
    const br_config_t *conf;     /* the new config: file and lines */
    char *errstr;
    size_t errstr_size;
    size_t len;
    size_t cnt;                  /* keys named */
} refusal_t;

static bool same_str(const char *a, const char *b) {
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Line of exactly path in conf, else fallback, else the nearest key. */
static int line_of(const br_config_t *conf, const char *path, int fallback) {
    for (size_t i = 0; i < conf->key_line_cnt; i++)
        if (strcmp(conf->key_lines[i].path, path) == 0)
            return conf->key_lines[i].line;
    return fallback > 0 ? fallback : br_config_key_line(conf, path);
}

__attribute__((format(printf, 4, 5)))
static void refuse(refusal_t *r, const char *path, int fallback_line,
                   const char *fmt, ...) {
    if (r->errstr && r->errstr_size && r->len + 1 < r->errstr_size) {
        int n = snprintf(r->errstr + r->len, r->errstr_size - r->len,
                         "%s%s:%d: %s: ", r->cnt ? "; " : "",
                         r->conf->path ? r->conf->path : "config",
                         line_of(r->conf, path, fallback_line), path);
        if (n > 0)
            r->len += (size_t)n;
        if (r->len + 1 < r->errstr_size) {
            va_list ap;
            va_start(ap, fmt);
            n = vsnprintf(r->errstr + r->len, r->errstr_size - r->len, fmt, ap);
            va_end(ap);
            if (n > 0)
                r->len += (size_t)n;
        }
        if (r->len >= r->errstr_size)
            r->len = r->errstr_size - 1;
    }
    r->cnt++;
}

static const br_kv_t *kv_find(const br_kv_t *kv, size_t cnt, const char *key) {
    for (size_t i = 0; i < cnt; i++)
        if (strcmp(kv[i].key, key) == 0)
            return &kv[i];
    return NULL;
}

/* A key the table marks BR_CONF_RESTART changed. */
static void on_restart_change(void *opaque, const char *path, int line,
                              const char *what) {
    refuse(opaque, path, line, "%s", what);
}

static bool has_topic(const br_input_conf_t *in, const char *topic) {
    for (size_t t = 0; t < in->topic_cnt; t++)
        if (strcmp(in->topics[t], topic) == 0)
            return true;
    return false;
}

static bool same_topics(const br_input_conf_t *a, const br_input_conf_t *b) {
    if (a->topic_cnt != b->topic_cnt)
        return false;
    for (size_t t = 0; t < a->topic_cnt; t++)
        if (!has_topic(b, a->topics[t]))
            return false;
    return true;
}

/* The consumer's subscription and each topic's decoder kind: inputs with
 * topics must stay as they are (inputs with files only are free). */
static void check_inputs(refusal_t *r, const br_config_t *old,
                         const br_config_t *conf) {
    char path[300];
    for (size_t i = 0; i < old->input_cnt; i++) {
        const br_input_conf_t *a = &old->inputs[i];
        int j = br_config_input_index(conf, a->name);
        if (j < 0) {
            if (a->topic_cnt) {
                snprintf(path, sizeof path, "inputs.%s", a->name);
                refuse(r, path, line_of(conf, "inputs", 0),
                       "removed (its topics are subscribed)");
            }
            continue;
        }
        const br_input_conf_t *b = &conf->inputs[j];
        if (!same_topics(a, b)) {
            snprintf(path, sizeof path, "inputs[%d].topics", j);
            if (line_of(conf, path, -1) < 0)
                snprintf(path, sizeof path, "inputs[%d].topic", j);
            refuse(r, path, b->line, "changed (input %s)", b->name);
        }
        if (a->format != b->format && (a->topic_cnt || b->topic_cnt)) {
            snprintf(path, sizeof path, "inputs[%d].format", j);
            refuse(r, path, b->line, "changed (input %s)", b->name);
        }
    }
    for (size_t j = 0; j < conf->input_cnt; j++) {
        const br_input_conf_t *b = &conf->inputs[j];
        if (b->topic_cnt && br_config_input_index(old, b->name) < 0) {
            snprintf(path, sizeof path, "inputs[%zu]", j);
            refuse(r, path, b->line, "new input %s with topics", b->name);
        }
    }
}

br_err_t br_reload_check(const br_config_t *old, const br_config_t *conf,
                         char *errstr, size_t errstr_size) {
    refusal_t r = {conf, errstr, errstr_size, 0, 0};

    if (errstr && errstr_size)
        errstr[0] = '\0';
    br_conftab_restart_changes(old, conf, on_restart_change, &r);
    check_inputs(&r, old, conf);
    if (!r.cnt)
        return BR_ERR_OK;
    /* Said once at the end, whatever the count. */
    if (errstr && errstr_size && r.len + 1 < errstr_size)
        snprintf(errstr + r.len, errstr_size - r.len,
                 " (%zu key%s need%s a restart; the running config stays)",
                 r.cnt, r.cnt == 1 ? "" : "s", r.cnt == 1 ? "s" : "");
    return BR_ERR_CONFIG;
}

static int scope_index(const br_config_t *conf, const char *name) {
    for (size_t i = 0; i < conf->scope_cnt; i++)
        if (strcmp(conf->scopes[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool same_dims(const br_scope_conf_t *a, const br_scope_conf_t *b) {
    if (a->dim_cnt != b->dim_cnt)
        return false;
    for (size_t d = 0; d < a->dim_cnt; d++)
        if (strcmp(a->dims[d], b->dims[d]) != 0)
            return false;
    return true;
}

static int budget_index(const br_config_t *conf, const char *name) {
    for (size_t i = 0; i < conf->budget_cnt; i++)
        if (strcmp(conf->budgets[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool same_kvs(const br_kv_t *a, size_t a_cnt, const br_kv_t *b,
                     size_t b_cnt) {
    if (a_cnt != b_cnt)
        return false;
    for (size_t i = 0; i < a_cnt; i++) {
        const br_kv_t *nb = kv_find(b, b_cnt, a[i].key);
        if (!nb || !same_str(a[i].value, nb->value))
            return false;
    }
    return true;
}

static bool same_burn_rates(const br_budget_conf_t *a,
                            const br_budget_conf_t *b) {
    if (a->burn_rate_cnt != b->burn_rate_cnt)
        return false;
    for (size_t k = 0; k < a->burn_rate_cnt; k++)
        if (a->burn_rates[k].long_ms != b->burn_rates[k].long_ms ||
            a->burn_rates[k].short_ms != b->burn_rates[k].short_ms ||
            a->burn_rates[k].factor != b->burn_rates[k].factor)
            return false;
    return true;
}

static bool same_budget(const br_budget_conf_t *a, const br_budget_conf_t *b) {
    return same_kvs(a->match, a->match_cnt, b->match, b->match_cnt) &&
           a->amount_nanos == b->amount_nanos &&
           strcmp(a->currency, b->currency) == 0 && a->period == b->period &&
           same_str(a->timezone, b->timezone) &&
           a->threshold_cnt == b->threshold_cnt &&
           (!a->threshold_cnt ||
            !memcmp(a->thresholds_bp, b->thresholds_bp,
                    a->threshold_cnt * sizeof *a->thresholds_bp)) &&
           a->window_ms == b->window_ms && a->start_day == b->start_day &&
           a->every_days == b->every_days &&
           a->every_months == b->every_months &&
           a->forecast_cnt == b->forecast_cnt &&
           (!a->forecast_cnt ||
            !memcmp(a->forecast_bp, b->forecast_bp,
                    a->forecast_cnt * sizeof *a->forecast_bp)) &&
           same_burn_rates(a, b);
}

void br_reload_diff(const br_config_t *old, const br_config_t *conf,
                    br_reload_info_t *info) {
    info->scopes_added = info->scopes_removed = 0;
    info->budgets_added = info->budgets_removed = info->budgets_changed = 0;
    for (size_t i = 0; i < conf->scope_cnt; i++) {
        int o = scope_index(old, conf->scopes[i].name);
        if (o < 0 || !same_dims(&old->scopes[o], &conf->scopes[i]))
            info->scopes_added++;
    }
    for (size_t i = 0; i < old->scope_cnt; i++)
        if (scope_index(conf, old->scopes[i].name) < 0)
            info->scopes_removed++;
    for (size_t i = 0; i < conf->budget_cnt; i++) {
        int o = budget_index(old, conf->budgets[i].name);
        if (o < 0)
            info->budgets_added++;
        else if (!same_budget(&old->budgets[o], &conf->budgets[i]))
            info->budgets_changed++;
    }
    for (size_t i = 0; i < old->budget_cnt; i++)
        if (budget_index(conf, old->budgets[i].name) < 0)
            info->budgets_removed++;
}

br_pipeline_t *br_reload_pipeline(const br_pipeline_t *pl,
                                  const br_config_t *old,
                                  const br_config_t *conf,
                                  const br_sink_t *sink,
                                  br_reload_info_t *info, char *errstr,
                                  size_t errstr_size) {
    br_pipeline_t *npl = NULL;
    br_buf_t state;
    char why[1024];
    br_err_t err;

    br_buf_init(&state);
    memset(info, 0, sizeof *info);
    if ((err = br_pipeline_save(pl, &state))) {
        br_seterr(errstr, errstr_size, err, "out of memory saving the state");
        goto fail;
    }
    npl = br_pipeline_new(conf, sink, errstr, errstr_size);
    if (!npl)
        goto fail;
    if ((err = br_pipeline_restore(npl, state.data, state.len, &info->restore,
                                   why, sizeof why))) {
        br_seterr(errstr, errstr_size, err, "%s: the state does not fit the "
                  "new config: %s", conf->path ? conf->path : "config", why);
        goto fail;
    }
    br_buf_free(&state);
    br_pipeline_carry_input_stats(npl, pl);
    br_reload_diff(old, conf, info);
    return npl;
fail:
    br_pipeline_destroy(npl);
    br_buf_free(&state);
    return NULL;
}
