/*
 * Loads the YAML file a person writes into br_config_t and checks every value
 * up front, so a mistake is reported once, at startup, as
 * "FILE:LINE: KEY.PATH: message" instead of surfacing later as odd behaviour.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "burnrate/avro.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/conftab.h"
#include "burnrate/expand.h"
#include "burnrate/money.h"
#include "burnrate/redact.h"
#include "burnrate/suggest.h"
#include "burnrate/ts.h"

#define PATH_LEN 256                    /* longest key path in a message */
#define MS_PER_S INT64_C(1000)
#define MS_PER_MIN INT64_C(60000)
#define MS_PER_H INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)
#define DURATION_MAX_MS (INT64_C(3650) * MS_PER_DAY)  /* ten years */
#define CONFIG_FILE_MAX (16u << 20)     /* a config larger than this is a mistake */

/* One mistake found: the whole "FILE:LINE: KEY: message" line. */
typedef struct cerr {
    int line;
    char *text;                 /* owned */
} cerr_t;

/* One load in progress: the document and the mistakes found so far. Every
 * mistake is collected (fail()) and loading goes on past it where it
 * sensibly can, so that one run of check-config reports them all. */
typedef struct ctx {
    yaml_document_t *doc;
    const char *name;           /* file name used in messages */
    const char *base_dir;       /* for relative paths; may be NULL */
    char *errstr;
    size_t errstr_size;
    br_config_t *conf;          /* being loaded: key lines are noted here */
    cerr_t *errs;               /* mistakes, in the order found */
    size_t err_cnt, err_cap;
    bool oom;                   /* out of memory: the load stops */
    bool *expanded;             /* per node index - 1: visited by expand */
    bool *unexpanded;           /* per node index - 1: a ${...} that failed */
    size_t node_cnt;
    struct {
        const yaml_node_t *map;
        const char *key;        /* static: an accepted key */
    } *near;                    /* unknown keys close to an accepted one */
    size_t near_cnt;
    char **zones;               /* time zone names, read once when needed */
    size_t zone_cnt;
    bool zones_read;
} ctx_t;

static const char *const dialect_names[BR_DIALECT__CNT] = {
    [BR_DIALECT_OTEL] = "otel",
    [BR_DIALECT_OPENAI] = "openai",
    [BR_DIALECT_ANTHROPIC] = "anthropic",
    [BR_DIALECT_LITELLM] = "litellm",
    [BR_DIALECT_BEDROCK] = "bedrock",
    [BR_DIALECT_FOCUS] = "focus",
    [BR_DIALECT_CUR] = "cur",
    [BR_DIALECT_CUSTOM] = "custom",
};

static const char *const log_level_names[] = {
    [BR_LOG_ERROR] = "error",
    [BR_LOG_WARN] = "warn",
    [BR_LOG_INFO] = "info",
    [BR_LOG_DEBUG] = "debug",
};

/* Token types as written in mapping keys ("<name>_tokens") and price specs. */
static const char *const tok_names[BR_TOK__CNT] = {
    [BR_TOK_INPUT] = "input",
    [BR_TOK_OUTPUT] = "output",
    [BR_TOK_CACHE_READ] = "cache_read",
    [BR_TOK_CACHE_WRITE] = "cache_write",
    [BR_TOK_REASONING] = "reasoning",
};


/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static char *xstrndup(const char *s, size_t len) {
    char *d = malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

static void free_strv(char **v, size_t cnt) {
    for (size_t i = 0; i < cnt; i++)
        free(v[i]);
    free(v);
}

static void free_kv(br_kv_t *kv, size_t cnt) {
    for (size_t i = 0; i < cnt; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static bool same_str(const char *a, const char *b) {
    return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool is_billing(br_dialect_t dialect) {
    return dialect == BR_DIALECT_FOCUS || dialect == BR_DIALECT_CUR;
}

static int node_line(const yaml_node_t *node) {
    return node ? (int)node->start_mark.line + 1 : 1;
}

/* Key paths are only for messages: a path cut at PATH_LEN is still useful. */
static void join_path(char *out, size_t size, const char *parent,
                      const char *key) {
    int n = parent && *parent ? snprintf(out, size, "%s.%s", parent, key)
                              : snprintf(out, size, "%s", key);
    if (n < 0)
        out[0] = '\0';
}

static void index_path(char *out, size_t size, const char *parent, size_t i) {
    if (snprintf(out, size, "%s[%zu]", parent, i) < 0)
        out[0] = '\0';
}

static br_err_t nomem(ctx_t *cx) {
    cx->oom = true;
    return BR_ERR_NOMEM;
}

static void scrub_values(const br_config_t *conf, char *s, size_t size);

/** Add "FILE:LINE: PATH: message" about node to the mistakes found;
 *  returns BR_ERR_CONFIG (BR_ERR_NOMEM when it cannot be kept). */
__attribute__((format(printf, 4, 5)))
static br_err_t fail(ctx_t *cx, const yaml_node_t *node, const char *path,
                     const char *fmt, ...) {
    char text[1024];
    int line = node_line(node);
    int n;
    /* A value whose ${...} could not be expanded was reported once; what
     * its text as written would make of it is not another mistake. */
    if (cx->unexpanded && node >= cx->doc->nodes.start &&
        node < cx->doc->nodes.top &&
        cx->unexpanded[node - cx->doc->nodes.start])
        return BR_ERR_CONFIG;
    if (path)
        n = snprintf(text, sizeof text, "%s:%d: %s: ", cx->name, line,
                     *path ? path : "(top level)");
    else
        n = snprintf(text, sizeof text, "%s:%d: ", cx->name, line);
    if (n >= 0 && (size_t)n < sizeof text) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* A message may quote a value; one that came from ${...} never shows. */
    scrub_values(cx->conf, text, sizeof text);
    if (cx->err_cnt == cx->err_cap) {
        size_t cap = cx->err_cap ? cx->err_cap * 2 : 16;
        cerr_t *g = realloc(cx->errs, cap * sizeof *g);
        if (!g)
            return nomem(cx);
        cx->errs = g;
        cx->err_cap = cap;
    }
    cx->errs[cx->err_cnt].text = xstrndup(text, strlen(text));
    if (!cx->errs[cx->err_cnt].text)
        return nomem(cx);
    cx->errs[cx->err_cnt++].line = line;
    return BR_ERR_CONFIG;
}

/* Go on past a mistake (already collected) so one run reports them all:
 * *bad remembers there was one; only running out of memory stops. */
static br_err_t go_on(br_err_t *bad, br_err_t err) {
    if (err == BR_ERR_CONFIG) {
        *bad = err;
        return BR_ERR_OK;
    }
    return err;
}

static yaml_node_t *get_node(ctx_t *cx, int idx) {
    return yaml_document_get_node(cx->doc, idx);
}

static const char *sval(const yaml_node_t *node) {
    return (const char *)node->data.scalar.value;
}

static size_t slen(const yaml_node_t *node) {
    return node->data.scalar.length;
}

/** A plain ~, null or nothing: YAML's way to say "no value". */
static bool is_null(const yaml_node_t *node) {
    if (!node)
        return true;
    if (node->type != YAML_SCALAR_NODE ||
        node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = sval(node);
    return slen(node) == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static size_t map_cnt(const yaml_node_t *map) {
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

static size_t seq_cnt(const yaml_node_t *seq) {
    return (size_t)(seq->data.sequence.items.top -
                    seq->data.sequence.items.start);
}

/** @returns the value node for key in map (maybe a null scalar), or NULL. */
static yaml_node_t *map_get(ctx_t *cx, const yaml_node_t *map, const char *key,
                            yaml_node_t **key_node) {
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = get_node(cx, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp(sval(k), key) == 0) {
            if (key_node)
                *key_node = k;
            return get_node(cx, p->value);
        }
    }
    return NULL;
}

/** Append "a, b, c" of names to buf. */
static void list_names(char *buf, size_t size, const char *const *names,
                       size_t cnt) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cnt && names[i]; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                         names[i]);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

/* Remember where each key path was given, for messages about a config
 * after it was loaded (a reload naming what needs a restart). */
static br_err_t note_key_line(ctx_t *cx, const char *kpath, int line) {
    br_config_t *conf = cx->conf;
    if (!conf)
        return BR_ERR_OK;
    if (conf->key_line_cnt == conf->key_line_cap) {
        size_t cap = conf->key_line_cap ? conf->key_line_cap * 2 : 64;
        br_key_line_t *kl = realloc(conf->key_lines, cap * sizeof *kl);
        if (!kl)
            return BR_ERR_NOMEM;
        conf->key_lines = kl;
        conf->key_line_cap = cap;
    }
    br_key_line_t *kl = &conf->key_lines[conf->key_line_cnt];
    kl->path = xstrndup(kpath, strlen(kpath));
    if (!kl->path)
        return BR_ERR_NOMEM;
    kl->line = line;
    conf->key_line_cnt++;
    return BR_ERR_OK;
}

/**
 * Check that node is a mapping whose keys are non-empty scalars, unique, and
 * (when accepted is not NULL) among accepted. Every unknown or duplicate key
 * is reported and the rest of the map still read; the map is unusable
 * (BR_ERR_CONFIG) only when it is not a mapping or a key is not a string.
 */
static br_err_t check_map(ctx_t *cx, const yaml_node_t *node, const char *path,
                          const char *const *accepted, const char *what) {
    char kpath[PATH_LEN];
    br_err_t bad = BR_ERR_OK, err;
    if (node->type != YAML_MAPPING_NODE)
        return fail(cx, node, path, "must be a mapping of %s", what);
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = get_node(cx, p->key);
        if (!k || k->type != YAML_SCALAR_NODE || slen(k) == 0 ||
            strlen(sval(k)) != slen(k)) {
            if ((err = go_on(&bad, fail(cx, k, path,
                                        "keys must be non-empty strings"))))
                return err;
            continue;
        }
        join_path(kpath, sizeof kpath, path, sval(k));
        if (note_key_line(cx, kpath, node_line(k)))
            return nomem(cx);
        if (accepted) {
            size_t i;
            for (i = 0; accepted[i]; i++)
                if (strcmp(accepted[i], sval(k)) == 0)
                    break;
            if (!accepted[i]) {
                const char *near = br_suggest(sval(k), accepted, SIZE_MAX);
                char names[512];
                if (near) {
                    void *g = realloc(cx->near, (cx->near_cnt + 1) *
                                                    sizeof *cx->near);
                    if (!g)
                        return nomem(cx);
                    cx->near = g;
                    cx->near[cx->near_cnt].map = node;
                    cx->near[cx->near_cnt++].key = near;
                }
                list_names(names, sizeof names, accepted, SIZE_MAX);
                err = near ? fail(cx, k, kpath,
                                  "unknown key (did you mean \"%s\"?)", near)
                           : fail(cx, k, kpath,
                                  "unknown key; accepted keys: %s", names);
                if (err != BR_ERR_CONFIG)
                    return err;
                continue;
            }
        }
        for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = get_node(cx, q->key);
            if (prev && prev->type == YAML_SCALAR_NODE &&
                strcmp(sval(prev), sval(k)) == 0) {
                err = fail(cx, k, kpath,
                           "duplicate key (first given on line %d)",
                           node_line(prev));
                if (err != BR_ERR_CONFIG)
                    return err;
                break;
            }
        }
    }
    return bad;
}

/* Whether an unknown key of map looked like one of keys (NULL-terminated):
 * then "is required" about it would only repeat that mistake. */
static bool misspelt(const ctx_t *cx, const yaml_node_t *map,
                     const char *const *keys) {
    for (size_t i = 0; i < cx->near_cnt; i++)
        for (size_t k = 0; cx->near[i].map == map && keys[k]; k++)
            if (strcmp(cx->near[i].key, keys[k]) == 0)
                return true;
    return false;
}

/* "is required" about key, unless the mistake was its spelling. */
static br_err_t fail_required(ctx_t *cx, const yaml_node_t *map,
                              const yaml_node_t *at, const char *kpath,
                              const char *key, const char *fmt) {
    const char *keys[] = {key, NULL};
    if (misspelt(cx, map, keys))
        return BR_ERR_CONFIG;
    return fail(cx, at, kpath, "%s", fmt);
}

/** A scalar that holds text: non-null, no embedded NUL. */
static br_err_t want_scalar(ctx_t *cx, const yaml_node_t *v, const char *path,
                            const char *what) {
    if (v->type != YAML_SCALAR_NODE)
        return fail(cx, v, path, "must be %s, not a %s", what,
                    v->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
    if (strlen(sval(v)) != slen(v))
        return fail(cx, v, path, "must not contain NUL characters");
    return BR_ERR_OK;
}

/** Copy a non-empty string scalar into *out (freeing what was there). */
static br_err_t take_str(ctx_t *cx, const yaml_node_t *v, const char *path,
                         char **out) {
    br_err_t err = want_scalar(cx, v, path, "a string");
    if (err)
        return err;
    if (is_null(v) || slen(v) == 0)
        return fail(cx, v, path, "must not be empty");
    char *s = xstrndup(sval(v), slen(v));
    if (!s)
        return nomem(cx);
    free(*out);
    *out = s;
    return BR_ERR_OK;
}

static bool parse_int_text(const char *s, int64_t *out) {
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = (int64_t)v;
    return true;
}

static bool parse_double_text(const char *s, double *out) {
    if (!*s)
        return false;
    for (const char *q = s; *q; q++)
        if (!isdigit((unsigned char)*q) && !strchr("+-.eE", *q))
            return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/** "90s", "5m", "1h30m", "1d", "500ms", or a bare number of seconds. */
static bool parse_duration_text(const char *s, int64_t *out_ms) {
    int64_t total = 0;
    const char *p = s;
    if (!*p)
        return false;
    bool bare = true;
    for (const char *q = s; *q; q++)
        if (!isdigit((unsigned char)*q))
            bare = false;
    if (bare) {
        int64_t secs;
        if (!parse_int_text(s, &secs) || secs > DURATION_MAX_MS / MS_PER_S)
            return false;
        *out_ms = secs * MS_PER_S;
        return true;
    }
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return false;
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            n = n * 10 + (*p - '0');
            if (n > DURATION_MAX_MS)
                return false;
            p++;
        }
        int64_t unit;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (*p == 's') {
            unit = MS_PER_S;
            p++;
        } else if (*p == 'm') {
            unit = MS_PER_MIN;
            p++;
        } else if (*p == 'h') {
            unit = MS_PER_H;
            p++;
        } else if (*p == 'd') {
            unit = MS_PER_DAY;
            p++;
        } else {
            return false;
        }
        if (n > (DURATION_MAX_MS - total) / unit)
            return false;
        total += n * unit;
    }
    *out_ms = total;
    return true;
}

/** Write ms as the largest exact unit: "1d", "6h", "90s", "500ms". */
static void format_duration(int64_t ms, char *buf, size_t size) {
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{MS_PER_DAY, "d"}, {MS_PER_H, "h"}, {MS_PER_MIN, "m"},
                 {MS_PER_S, "s"}};
    if (ms == 0) {
        snprintf(buf, size, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms % units[i].ms == 0) {
            snprintf(buf, size, "%" PRId64 "%s", ms / units[i].ms,
                     units[i].unit);
            return;
        }
    }
    snprintf(buf, size, "%" PRId64 "ms", ms);
}

/** A whole number in [min, max] from the scalar v. */
static br_err_t take_int(ctx_t *cx, const yaml_node_t *v, const char *path,
                         int64_t min, int64_t max, int64_t *out) {
    int64_t n;
    br_err_t err = want_scalar(cx, v, path, "a whole number");
    if (err)
        return err;
    if (!parse_int_text(sval(v), &n) || n < min || n > max)
        return fail(cx, v, path,
                    "must be a whole number between %" PRId64 " and %" PRId64,
                    min, max);
    *out = n;
    return BR_ERR_OK;
}

/** A number >= min (> min when min_open) and <= max from the scalar v. */
static br_err_t take_double(ctx_t *cx, const yaml_node_t *v, const char *path,
                            double min, bool min_open, double max,
                            double *out) {
    double d;
    br_err_t err = want_scalar(cx, v, path, "a number");
    if (err)
        return err;
    if (!parse_double_text(sval(v), &d) || d < min || (min_open && d == min))
        return fail(cx, v, path, "must be a number %s %g",
                    min_open ? "greater than" : "of at least", min);
    if (d > max)
        return fail(cx, v, path, "must be at most %g", max);
    *out = d;
    return BR_ERR_OK;
}

/** A duration of at least min_ms (and at most max_ms unless 0) from v. */
static br_err_t take_duration(ctx_t *cx, const yaml_node_t *v,
                              const char *path, int64_t min_ms,
                              int64_t max_ms, int64_t *out) {
    char limit[32];
    int64_t ms;
    br_err_t err = want_scalar(cx, v, path, "a duration");
    if (err)
        return err;
    if (!parse_duration_text(sval(v), &ms))
        return fail(cx, v, path,
                    "must be a duration such as 500ms, 90s, 5m, 1h or 1d "
                    "(a bare number is seconds), got \"%s\"", sval(v));
    if (ms < min_ms) {
        format_duration(min_ms, limit, sizeof limit);
        return fail(cx, v, path, "must be at least %s", limit);
    }
    if (max_ms && ms > max_ms) {
        format_duration(max_ms, limit, sizeof limit);
        return fail(cx, v, path, "must be at most %s", limit);
    }
    *out = ms;
    return BR_ERR_OK;
}

/** Exact money from the scalar's text, >= 0 (> 0 when positive). */
static br_err_t take_money(ctx_t *cx, const yaml_node_t *v, const char *path,
                           bool positive, int64_t *out) {
    int64_t nanos;
    br_err_t err = want_scalar(cx, v, path, "an amount");
    if (err)
        return err;
    if (is_null(v) || br_money_parse(sval(v), slen(v), &nanos) != BR_ERR_OK)
        return fail(cx, v, path,
                    "must be an amount such as 100 or 12.50 (at most 9.2e9)");
    if (nanos < 0 || (positive && nanos == 0))
        return fail(cx, v, path, "must be %s", positive ? "greater than 0"
                                                        : "0 or more");
    *out = nanos;
    return BR_ERR_OK;
}

static br_err_t check_currency(ctx_t *cx, const yaml_node_t *v,
                               const char *path, const char *s) {
    if (strlen(s) != 3 || !isupper((unsigned char)s[0]) ||
        !isupper((unsigned char)s[1]) || !isupper((unsigned char)s[2]))
        return fail(cx, v, path,
                    "must be an ISO 4217 code of 3 uppercase letters such as "
                    "USD, got \"%s\"", s);
    return BR_ERR_OK;
}

/** A currency code from the scalar v copied into out[BR_CURRENCY_MAX]. */
static br_err_t take_currency(ctx_t *cx, const yaml_node_t *v,
                              const char *path, char *out) {
    char *s = NULL;
    br_err_t err = take_str(cx, v, path, &s);
    if (!err)
        err = check_currency(cx, v, path, s);
    if (!err)
        snprintf(out, BR_CURRENCY_MAX, "%s", s);
    free(s);
    return err;
}

/* One value of a closed set: "unknown WHAT "x" (did you mean "y"?);
 * accepted: a, b, c". */
static br_err_t fail_unknown(ctx_t *cx, const yaml_node_t *v, const char *path,
                             const char *what, const char *s,
                             const char *const *names, size_t cnt) {
    char list[512];
    const char *near = br_suggest(s, names, cnt);
    list_names(list, sizeof list, names, cnt);
    if (near)
        return fail(cx, v, path, "unknown %s \"%s\" (did you mean \"%s\"?); "
                                 "accepted: %s", what, s, near, list);
    return fail(cx, v, path, "unknown %s \"%s\"; accepted: %s", what, s, list);
}

/* One of names from the scalar v: its index into *out. */
static br_err_t take_enum(ctx_t *cx, const yaml_node_t *v, const char *path,
                          const char *what, const char *const *names,
                          size_t cnt, int *out) {
    char *s = NULL;
    br_err_t err = take_str(cx, v, path, &s);
    if (err)
        return err;
    for (size_t i = 0; i < cnt; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = (int)i;
            free(s);
            return BR_ERR_OK;
        }
    }
    err = fail_unknown(cx, v, path, what, s, names, cnt);
    free(s);
    return err;
}

/** A list of non-empty, distinct strings; appends to *out. */
static br_err_t take_str_list(ctx_t *cx, const yaml_node_t *v,
                              const char *path, const char *what, char ***out,
                              size_t *cnt) {
    char ipath[PATH_LEN];
    br_err_t bad = BR_ERR_OK;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(cx, v, path, "must be a list of %s", what);
    size_t n = seq_cnt(v);
    if (n == 0)
        return BR_ERR_OK;
    char **grown = realloc(*out, (*cnt + n) * sizeof(char *));
    if (!grown)
        return nomem(cx);
    *out = grown;
    size_t i = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start;
         it < v->data.sequence.items.top; it++, i++) {
        yaml_node_t *item = get_node(cx, *it);
        index_path(ipath, sizeof ipath, path, i);
        char *s = NULL;
        br_err_t err = take_str(cx, item, ipath, &s);
        if (err) {
            if ((err = go_on(&bad, err)))
                return err;
            continue;
        }
        for (size_t j = 0; s && j < *cnt; j++) {
            if (strcmp((*out)[j], s) == 0) {
                err = go_on(&bad, fail(cx, item, ipath,
                                       "\"%s\" is listed twice", (*out)[j]));
                free(s);
                s = NULL;
                if (err)
                    return err;
            }
        }
        if (s)
            (*out)[(*cnt)++] = s;
    }
    return bad;
}

/**
 * A mapping of name -> scalar into a new br_kv_t array. any_scalar: values
 * may be any string, number or boolean (passed as their text, empty allowed
 * when quoted); otherwise they must be non-empty strings.
 */
static br_err_t take_kv(ctx_t *cx, const yaml_node_t *v, const char *path,
                        const char *what, bool any_scalar, br_kv_t **out,
                        size_t *cnt) {
    char kpath[PATH_LEN];
    br_err_t bad = BR_ERR_OK;
    br_err_t err = check_map(cx, v, path, NULL, what);
    if (err)
        return err;
    size_t n = map_cnt(v);
    if (n == 0)
        return BR_ERR_OK;
    *out = calloc(n, sizeof(br_kv_t));
    if (!*out)
        return nomem(cx);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
         p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = get_node(cx, p->key);
        yaml_node_t *val = get_node(cx, p->value);
        br_kv_t *kv = &(*out)[*cnt];
        join_path(kpath, sizeof kpath, path, sval(k));
        if (any_scalar) {
            if (val->type != YAML_SCALAR_NODE || is_null(val))
                err = fail(cx, val, kpath,
                           "must be a string, number or boolean");
            else
                err = want_scalar(cx, val, kpath, "a string");
            if (!err) {
                kv->value = xstrndup(sval(val), slen(val));
                if (!kv->value)
                    return nomem(cx);
            }
        } else {
            err = take_str(cx, val, kpath, &kv->value);
        }
        if (err) {
            if ((err = go_on(&bad, err)))
                return err;
            continue;
        }
        kv->key = xstrndup(sval(k), slen(k));
        if (!kv->key) {
            free(kv->value);
            kv->value = NULL;
            return nomem(cx);
        }
        kv->line = node_line(k);
        (*cnt)++;
    }
    return bad;
}

/** A relative path joined to the config's directory; new string or NULL. */
static char *resolve_path(const char *base_dir, const char *path) {
    if (!base_dir || !*base_dir || path[0] == '/')
        return xstrndup(path, strlen(path));
    size_t blen = strlen(base_dir);
    bool slash = base_dir[blen - 1] == '/';
    size_t len = blen + (slash ? 0 : 1) + strlen(path);
    char *out = malloc(len + 1);
    if (out)
        snprintf(out, len + 1, "%s%s%s", base_dir, slash ? "" : "/", path);
    return out;
}

static br_err_t resolve_in_place(ctx_t *cx, char **path) {
    char *r = resolve_path(cx->base_dir, *path);
    if (!r)
        return nomem(cx);
    free(*path);
    *path = r;
    return BR_ERR_OK;
}

/* Read a whole small file (an Avro schema) into *out. */
static bool read_text(const char *path, char **out, char *why, size_t why_size) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(why, why_size, "%s", strerror(errno));
        return false;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, fp);
        len += n;
        if (len < cap - 1)
            break;
        if (cap > ((size_t)16 << 20)) {
            snprintf(why, why_size, "larger than 16 MB");
            free(buf);
            fclose(fp);
            return false;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(fp);
    if (!buf) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    buf[len] = '\0';
    *out = buf;
    return true;
}

/* A file or directory a path key names must be there when the config
 * loads: "KEY: /resolved/path: reason". */
static br_err_t check_path(ctx_t *cx, const yaml_node_t *map, const char *path,
                           const char *key, const char *resolved, bool dir) {
    char kpath[PATH_LEN];
    struct stat st;
    const char *why = NULL;
    join_path(kpath, sizeof kpath, path, key);
    if (stat(resolved, &st) != 0)
        why = strerror(errno);
    else if (dir && !S_ISDIR(st.st_mode))
        why = "not a directory";
    else if (!dir && S_ISDIR(st.st_mode))
        why = "a directory, not a file";
    else if (access(resolved, dir ? R_OK | X_OK : R_OK) != 0)
        why = strerror(errno);
    if (!why)
        return BR_ERR_OK;
    return fail(cx, map_get(cx, map, key, NULL), kpath, "%s: %s", resolved,
                why);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/** A list of percents into basis points, ascending; replaces *out. */
static br_err_t parse_thresholds(ctx_t *cx, const yaml_node_t *v,
                                 const char *path, bool allow_empty,
                                 int32_t **out, size_t *out_cnt) {
    char ipath[PATH_LEN];
    br_err_t bad = BR_ERR_OK;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(cx, v, path, "must be a list of percents such as "
                                 "[50, 80, 100]");
    size_t n = seq_cnt(v);
    if (n == 0 && !allow_empty)
        return fail(cx, v, path, "must list at least one threshold");
    if (n == 0)
        return BR_ERR_OK;
    free(*out);
    *out_cnt = 0;
    *out = calloc(n, sizeof(int32_t));
    if (!*out)
        return nomem(cx);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = get_node(cx, v->data.sequence.items.start[i]);
        int64_t nanos;
        index_path(ipath, sizeof ipath, path, i);
        /* Percent to basis points exactly: 12.5 % is 1250 bp. */
        br_err_t e = BR_ERR_OK;
        if (item->type != YAML_SCALAR_NODE || is_null(item) ||
            br_money_parse(sval(item), slen(item), &nanos) != BR_ERR_OK ||
            nanos <= 0 || nanos > 1000 * BR_NANOS_PER_UNIT)
            e = fail(cx, item, ipath,
                     "must be a number between 0 and 1000 (percent)");
        else if (nanos % 10000000 != 0)
            e = fail(cx, item, ipath,
                     "must have at most two decimals (percent, kept in "
                     "basis points)");
        for (size_t j = 0; !e && j < *out_cnt; j++)
            if ((*out)[j] == (int32_t)(nanos / 10000000))
                e = fail(cx, item, ipath, "threshold %s%% is listed twice",
                         sval(item));
        if (e) {
            if ((e = go_on(&bad, e)))
                return e;
            continue;
        }
        (*out)[(*out_cnt)++] = (int32_t)(nanos / 10000000);
    }
    qsort(*out, *out_cnt, sizeof(int32_t), cmp_i32);
    return bad;
}

/* ------------------------------------------------------------------------ */
/* The engine: every key read and defaulted from its row (conftab.h)        */

#define ROWS_MAX BR_CONF_ROWS_MAX         /* rows of one section (frame bits) */

/* One section being read, for the rules that tie its keys together. */
typedef struct frame {
    const br_conf_section_t *sec;
    const yaml_node_t *node;     /* its mapping */
    const char *path;            /* its key path */
    void *base;                  /* the struct its rows point into */
    uint32_t given, failed;      /* per row: present; read with a mistake */
} frame_t;

typedef struct out out_t;

/* The hand-written parts of a row or of a section. */
struct br_conf_hooks {
    /* Reads the row instead of the generic reader; v is the value node,
     * NULL or a null scalar when the key is absent. */
    br_err_t (*parse)(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                      const yaml_node_t *v, const char *kpath);
    /* Runs after the row was read, given or not: rules that tie it to the
     * keys read before it. */
    br_err_t (*check)(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                      const yaml_node_t *v, const char *kpath);
    /* Sets a default that is no plain value (of a section: row is NULL,
     * after the rows' defaults). */
    br_err_t (*init)(ctx_t *cx, const br_conf_row_t *row, void *base);
    /* Of a section: runs after its rows, when it was given. */
    br_err_t (*done)(ctx_t *cx, frame_t *fr);
    /* Dump: whether the row is printed (NULL: it is). */
    bool (*shown)(const void *base);
    /* CUSTOM: the value as the dump prints it and a reload compares it. */
    void (*text)(const void *base, char *buf, size_t size);
    /* CUSTOM: prints the value after its key. */
    void (*dump)(out_t *o, const br_conf_row_t *row, const void *base);
    /* Reload: how the value of a (old) and b (new) differ, NULL when they
     * do not (instead of comparing by type). */
    const char *(*diff)(const void *a, const void *b);
};

static void *field(void *base, const br_conf_row_t *row) {
    return (char *)base + row->off;
}

static const void *cfield(const void *base, const br_conf_row_t *row) {
    return (const char *)base + row->off;
}

static size_t *count_of(void *base, const br_conf_row_t *row) {
    return (size_t *)(void *)((char *)base + row->cnt_off);
}

static size_t ccount_of(const void *base, const br_conf_row_t *row) {
    return *(const size_t *)(const void *)((const char *)base + row->cnt_off);
}

/* Whole numbers, enums and flags live in fields of their own width. */
static int64_t get_num(const void *p, size_t size) {
    int8_t i8;
    int32_t i32;
    int64_t i64;
    if (size == sizeof i8) {
        memcpy(&i8, p, sizeof i8);
        return i8;
    }
    if (size == sizeof i32) {
        memcpy(&i32, p, sizeof i32);
        return i32;
    }
    memcpy(&i64, p, sizeof i64);
    return i64;
}

static void put_num(void *p, size_t size, int64_t v) {
    int8_t i8 = (int8_t)v;
    int32_t i32 = (int32_t)v;
    if (size == sizeof i8)
        memcpy(p, &i8, sizeof i8);
    else if (size == sizeof i32)
        memcpy(p, &i32, sizeof i32);
    else
        memcpy(p, &v, sizeof v);
}

/* The bit of the row named key in fr: a rule naming a key its section has
 * not is a mistake of the table, which every load would make. */
static uint32_t row_bit(const frame_t *fr, const char *key) {
    for (size_t i = 0; i < fr->sec->row_cnt; i++)
        if (strcmp(fr->sec->rows[i].key, key) == 0)
            return UINT32_C(1) << i;
    abort();
}

static bool given(const frame_t *fr, const char *key) {
    return (fr->given & row_bit(fr, key)) != 0;
}

/* Given and read without a mistake. */
static bool read_ok(const frame_t *fr, const char *key) {
    uint32_t bit = row_bit(fr, key);
    return (fr->given & bit) && !(fr->failed & bit);
}

static br_err_t read_section(ctx_t *cx, const yaml_node_t *node,
                             const char *path, const br_conf_section_t *sec,
                             void *base, unsigned only);

/* A list of strings (paths: resolved against the config's directory). */
static br_err_t read_strs(ctx_t *cx, void *base, const br_conf_row_t *row,
                          const yaml_node_t *v, const char *kpath) {
    char ***list = field(base, row);
    size_t *cnt = count_of(base, row);
    br_err_t err = take_str_list(cx, v, kpath, row->what, list, cnt);
    if (err == BR_ERR_NOMEM || row->type != BR_CONF_PATHS)
        return err;
    for (size_t i = 0; i < *cnt; i++)
        if (resolve_in_place(cx, &(*list)[i]))
            return BR_ERR_NOMEM;
    return err;
}

/* The generic reader: the value v (given) of row, by its type. */
static br_err_t read_value(ctx_t *cx, const frame_t *fr,
                           const br_conf_row_t *row, const yaml_node_t *v,
                           const char *kpath) {
    void *p = field(fr->base, row);
    bool open = (row->flags & BR_CONF_OPEN_MIN) != 0;
    int64_t n = 0;
    int i = 0;
    br_err_t err;
    switch (row->type) {
    case BR_CONF_STR:
        return take_str(cx, v, kpath, p);
    case BR_CONF_PATH:
        if ((err = take_str(cx, v, kpath, p)))
            return err;
        return resolve_in_place(cx, p);
    case BR_CONF_INT:
        if ((err = take_int(cx, v, kpath, row->min, row->max, &n)))
            return err;
        put_num(p, row->size, n);
        return BR_ERR_OK;
    case BR_CONF_DOUBLE:
        return take_double(cx, v, kpath, row->dmin, open, row->dmax, p);
    case BR_CONF_DURATION:
        return take_duration(cx, v, kpath, row->min, row->max, p);
    case BR_CONF_MONEY:
        return take_money(cx, v, kpath, open, p);
    case BR_CONF_ENUM:
        if ((err = take_enum(cx, v, kpath, row->what, row->names,
                             row->name_cnt, &i)))
            return err;
        put_num(p, row->size, row->values ? row->values[i] : i);
        return BR_ERR_OK;
    case BR_CONF_CURRENCY:
        return take_currency(cx, v, kpath, p);
    case BR_CONF_STRS:
    case BR_CONF_PATHS:
        return read_strs(cx, fr->base, row, v, kpath);
    case BR_CONF_PERCENTS:
        return parse_thresholds(cx, v, kpath,
                                !(row->flags & BR_CONF_NONEMPTY), p,
                                count_of(fr->base, row));
    case BR_CONF_KV:
        return take_kv(cx, v, kpath, row->what,
                       (row->flags & BR_CONF_ANY_SCALAR) != 0, p,
                       count_of(fr->base, row));
    case BR_CONF_MAP:
        return read_section(cx, v, kpath, row->sub, p, (unsigned)row->arg);
    case BR_CONF_LIST:
    case BR_CONF_CUSTOM:
        break;
    }
    return fail(cx, v, kpath, "has no reader (a mistake of burnrate's)");
}

/* One key: its hook or the generic reader, then the rules after it. */
static br_err_t read_row(ctx_t *cx, frame_t *fr, size_t i) {
    const br_conf_row_t *row = &fr->sec->rows[i];
    const struct br_conf_hooks *h = row->hooks;
    char kpath[PATH_LEN];
    br_err_t err, bad = BR_ERR_OK;
    yaml_node_t *v = map_get(cx, fr->node, row->key, NULL);
    join_path(kpath, sizeof kpath, fr->path, row->key);
    if (!is_null(v))
        fr->given |= UINT32_C(1) << i;
    if (h && h->parse)
        err = h->parse(cx, fr, row, v, kpath);
    else if (!is_null(v))
        err = read_value(cx, fr, row, v, kpath);
    else if (row->flags & BR_CONF_REQUIRED)
        err = fail_required(cx, fr->node, v ? v : fr->node, kpath, row->key,
                            "is required");
    else
        err = BR_ERR_OK;
    if (err == BR_ERR_CONFIG)
        fr->failed |= UINT32_C(1) << i;
    if ((err = go_on(&bad, err)))
        return err;
    if (h && h->check &&
        (err = go_on(&bad, h->check(cx, fr, row, v, kpath))))
        return err;
    return bad;
}

/* Sections that are read only whole: every required key missing is
 * reported (at the section) and none of the others read. */
static br_err_t check_required(ctx_t *cx, frame_t *fr) {
    char kpath[PATH_LEN];
    br_err_t err, bad = BR_ERR_OK;
    for (size_t i = 0; i < fr->sec->row_cnt; i++) {
        const br_conf_row_t *row = &fr->sec->rows[i];
        if (!(row->flags & BR_CONF_REQUIRED) ||
            !is_null(map_get(cx, fr->node, row->key, NULL)))
            continue;
        join_path(kpath, sizeof kpath, fr->path, row->key);
        fr->failed |= UINT32_C(1) << i;
        if ((err = go_on(&bad, fail_required(cx, fr->node, fr->node, kpath,
                                             row->key, "is required"))))
            return err;
    }
    return bad;
}

/* A section (a mapping): its keys checked against the rows accepted where
 * it is read (only), then every row read in table order. A key that is
 * not accepted here is reported as unknown and read all the same, as the
 * avro keys always were. */
static br_err_t read_section(ctx_t *cx, const yaml_node_t *node,
                             const char *path, const br_conf_section_t *sec,
                             void *base, unsigned only) {
    const char *keys[ROWS_MAX + 1];
    frame_t fr = {sec, node, path, base, 0, 0};
    br_err_t err, bad = BR_ERR_OK;
    size_t n = 0;
    for (size_t i = 0; i < sec->row_cnt; i++)
        if (!sec->rows[i].only || (sec->rows[i].only & only))
            keys[n++] = sec->rows[i].key;
    keys[n] = NULL;
    if ((err = check_map(cx, node, path, keys, sec->what)))
        return err;
    if ((sec->flags & BR_CONF_REQUIRED_FIRST) && (err = check_required(cx, &fr)))
        return err;
    for (size_t i = 0; i < sec->row_cnt; i++)
        if ((err = go_on(&bad, read_row(cx, &fr, i))))
            return err;
    if (sec->hooks && sec->hooks->done &&
        (err = go_on(&bad, sec->hooks->done(cx, &fr))))
        return err;
    return bad;
}

/* A list default, "50, 80, 100": percents into basis points. */
static bool default_percents(const br_conf_row_t *row, void *base) {
    int32_t **out = field(base, row);
    size_t *cnt = count_of(base, row);
    const char *s = row->def;
    *out = calloc(strlen(s) / 2 + 1, sizeof **out);
    while (*out && *s) {
        size_t len = strcspn(s, ",");
        int64_t nanos;
        if (br_money_parse(s, len, &nanos) != BR_ERR_OK)
            return false;
        (*out)[(*cnt)++] = (int32_t)(nanos / 10000000);
        s += len;
        s += strspn(s, ", ");
    }
    return *out != NULL;
}

/* A row's default, read from its text as a value of its type would be. */
static bool default_value(ctx_t *cx, const br_conf_row_t *row, void *base) {
    void *p = field(base, row);
    const char *def = row->def;
    int64_t n;
    switch (row->type) {
    case BR_CONF_STR:
        return (*(char **)p = xstrndup(def, strlen(def))) != NULL;
    case BR_CONF_PATH:
        return (*(char **)p = resolve_path(cx->base_dir, def)) != NULL;
    case BR_CONF_INT:
        if (!parse_int_text(def, &n))
            return false;
        put_num(p, row->size, n);
        return true;
    case BR_CONF_DOUBLE:
        return parse_double_text(def, p);
    case BR_CONF_DURATION:
        return parse_duration_text(def, p);
    case BR_CONF_MONEY:
        return br_money_parse(def, strlen(def), p) == BR_ERR_OK;
    case BR_CONF_ENUM:
        for (size_t i = 0; i < row->name_cnt; i++) {
            if (strcmp(row->names[i], def) == 0) {
                put_num(p, row->size, row->values ? row->values[i] : (int)i);
                return true;
            }
        }
        return false;
    case BR_CONF_CURRENCY:
        snprintf(p, BR_CURRENCY_MAX, "%s", def);
        return true;
    case BR_CONF_PERCENTS:
        return default_percents(row, base);
    default:
        return false;
    }
}

/* Every default of a section (and of the sections inside it). A default
 * that does not read back is a mistake of the table. */
static br_err_t init_section(ctx_t *cx, const br_conf_section_t *sec,
                             void *base) {
    br_err_t err = BR_ERR_OK;
    for (size_t i = 0; i < sec->row_cnt && !err; i++) {
        const br_conf_row_t *row = &sec->rows[i];
        if (row->hooks && row->hooks->init)
            err = row->hooks->init(cx, row, base);
        else if (row->def && !default_value(cx, row, base))
            err = cx->oom ? BR_ERR_NOMEM
                          : fail(cx, NULL, row->key, "default \"%s\" does not "
                                 "read (a mistake of burnrate's)", row->def);
        else if (row->type == BR_CONF_MAP)
            err = init_section(cx, row->sub, field(base, row));
    }
    if (!err && sec->hooks && sec->hooks->init)
        err = sec->hooks->init(cx, NULL, base);
    return err;
}

/* One item of a list row: its defaults, its line, its keys. */
static br_err_t read_item(ctx_t *cx, const br_conf_section_t *sub,
                          const yaml_node_t *item, const char *ipath,
                          void *it) {
    br_err_t err;
    if (sub->flags & BR_CONF_LINE) {
        int line = node_line(item);
        memcpy((char *)it + sub->line_off, &line, sizeof line);
    }
    if ((err = init_section(cx, sub, it)))
        return err;
    return read_section(cx, item, ipath, sub, it, 0);
}

/* The name of a list item (its row "name"), or NULL. */
static const char *item_name(const br_conf_section_t *sub, const void *it) {
    for (size_t i = 0; i < sub->row_cnt; i++)
        if (strcmp(sub->rows[i].key, "name") == 0)
            return *(char *const *)cfield(it, &sub->rows[i]);
    return NULL;
}

static int item_line(const br_conf_section_t *sub, const void *it) {
    int line;
    memcpy(&line, (const char *)it + sub->line_off, sizeof line);
    return line;
}

/* A rule between two items of a list (it, read after other). */
typedef br_err_t (*pair_rule_t)(ctx_t *cx, const yaml_node_t *item,
                                const char *ipath, const void *it,
                                const void *other);

/* The items of a list row, each read as its section whatever the others
 * hold, and counted before it is read (so that what it holds is freed).
 * Names are unique across the list ("duplicate NOUN name"); pair, when
 * given, is checked against every earlier item as well. */
static br_err_t read_items(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                           const yaml_node_t *v, const char *kpath,
                           const char *noun, pair_rule_t pair) {
    char ipath[PATH_LEN], npath[PATH_LEN];
    const br_conf_section_t *sub = row->sub;
    size_t n = seq_cnt(v), *cnt = count_of(fr->base, row);
    char **items = field(fr->base, row);
    br_err_t err, bad = BR_ERR_OK;
    if (!(*items = calloc(n, sub->size)))
        return nomem(cx);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = get_node(cx, v->data.sequence.items.start[i]);
        char *it = *items + i * sub->size;
        index_path(ipath, sizeof ipath, kpath, i);
        (*cnt)++;
        if ((err = go_on(&bad, read_item(cx, sub, item, ipath, it))))
            return err;
        for (size_t j = 0; j < i; j++) {
            const char *other = *items + j * sub->size;
            const char *a = item_name(sub, it), *b = item_name(sub, other);
            join_path(npath, sizeof npath, ipath, "name");
            if (a && b && strcmp(a, b) == 0 &&
                (err = go_on(&bad, fail(cx, map_get(cx, item, "name", NULL),
                                        npath, "duplicate %s name \"%s\" "
                                        "(first used on line %d)", noun, a,
                                        item_line(sub, other)))))
                return err;
            if (pair &&
                (err = go_on(&bad, pair(cx, item, ipath, it, other))))
                return err;
        }
    }
    return bad;
}

#define ROWS(r) .rows = r, .row_cnt = sizeof r / sizeof r[0]
#define AT(type, member)                                                      \
    .off = offsetof(type, member), .size = sizeof(((type *)0)->member)
#define NAMES(n) .names = n, .name_cnt = sizeof n / sizeof n[0]
#define STR_(x) #x
#define STR(x) STR_(x)


/* ------------------------------------------------------------------------ */
/* Sections                                                                 */

/* avro: where Avro schemas come from, for an input (inputs[].avro) or for
 * the alerts (kafka.alerts_avro); row.only says which accepts a key. */

/* The files the section names are there and the schema parses: checked
 * after every key was read, so one run names all of them. */
static br_err_t avro_done(ctx_t *cx, frame_t *fr) {
    char sub[PATH_LEN], why[256];
    br_avro_conf_t *a = fr->base;
    const yaml_node_t *an = fr->node;
    br_err_t err, bad = BR_ERR_OK;
    if (a->registry && strncmp(a->registry, "http://", 7) != 0 &&
        strncmp(a->registry, "https://", 8) != 0) {
        join_path(sub, sizeof sub, fr->path, "registry");
        if ((err = go_on(&bad, fail(cx, map_get(cx, an, "registry", NULL), sub,
                                    "must be an http:// or https:// URL"))))
            return err;
    }
    if (a->schema_dir &&
        (err = go_on(&bad, check_path(cx, an, fr->path, "schema_dir",
                                      a->schema_dir, true))))
        return err;
    if (a->registry_ca_file &&
        (err = go_on(&bad, check_path(cx, an, fr->path, "registry_ca_file",
                                      a->registry_ca_file, false))))
        return err;
    if (!a->schema)
        return bad;
    join_path(sub, sizeof sub, fr->path, "schema");
    if (!read_text(a->schema, &a->schema_json, why, sizeof why))
        return fail(cx, map_get(cx, an, "schema", NULL), sub, "%s: %s",
                    a->schema, why);
    br_avro_schema_t *s = br_avro_schema_parse(
        a->schema_json, strlen(a->schema_json), why, sizeof why);
    if (!s)
        return fail(cx, map_get(cx, an, "schema", NULL), sub, "%s: %s",
                    a->schema, why);
    br_avro_schema_free(s);
    return bad;
}

/* A schema read at start is built into the running producer: the file's
 * text counts, not only its name. */
static const char *schema_diff(const void *a, const void *b) {
    const br_avro_conf_t *x = a, *y = b;
    if (!same_str(x->schema, y->schema))
        return "changed";
    return same_str(x->schema_json, y->schema_json) ? NULL
                                                    : "the schema file changed";
}

static const br_conf_row_t avro_rows[] = {
    {.key = "schema", .type = BR_CONF_PATH, .flags = BR_CONF_HIDE_UNSET,
     AT(br_avro_conf_t, schema),
     .hooks = &(const struct br_conf_hooks){.diff = schema_diff},
     .type_doc = "path of an `.avsc` file",
     .def_doc = "none; required for `format: avro` on topics",
     .doc = "`avro`: the writer schema of every message. `avro-confluent` "
            "and object container files: the reader schema each writer "
            "schema is resolved against (without it, each is read as "
            "written). In `kafka.alerts_avro`: the alert schema (default: the "
            "built-in `schemas/alert.avsc`).",
     .example = "schemas/usage.avsc"},
    {.key = "schema_id", .type = BR_CONF_INT, .flags = BR_CONF_HIDE_UNSET,
     .only = BR_CONF_ONLY_ALERTS, AT(br_avro_conf_t, schema_id), .def = "-1",
     .min = 0, .max = INT32_MAX, .def_doc = "none",
     .doc = "`kafka.alerts_avro` only: the id the alert schema has in your "
            "registry. Exactly one of `schema_id` and `registry`.",
     .example = "42"},
    {.key = "schema_dir", .type = BR_CONF_PATH, .flags = BR_CONF_HIDE_UNSET,
     .only = BR_CONF_ONLY_INPUT, AT(br_avro_conf_t, schema_dir),
     .doc = "Inputs only, `avro-confluent`: a directory of `<id>.avsc` "
            "files, looked up first.",
     .example = "/etc/burnrate/schemas"},
    {.key = "registry", .type = BR_CONF_STR,
     .flags = BR_CONF_HIDE_UNSET | BR_CONF_URLS, AT(br_avro_conf_t, registry),
     .type_doc = "`http://` or `https://` URL",
     .doc = "`avro-confluent`: a Confluent Schema Registry; `GET "
            "/schemas/ids/{id}`, 2 s to connect, 5 s per lookup. "
            "`avro-confluent` on topics needs `schema_dir` or `registry`. In "
            "`kafka.alerts_avro`: the registry the alert schema is "
            "registered with at start.",
     .example = "https://registry:8081"},
    {.key = "subject", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     .only = BR_CONF_ONLY_ALERTS, AT(br_avro_conf_t, subject),
     .def_doc = "`<alerts_topic>-value`",
     .doc = "`kafka.alerts_avro` only, with `registry`: the subject the "
            "alert schema is registered under.",
     .example = "finops.alerts-value"},
    {.key = "registry_username", .type = BR_CONF_STR,
     .flags = BR_CONF_HIDE_UNSET, AT(br_avro_conf_t, registry_username),
     .doc = "HTTP basic auth for the registry: the user.",
     .example = "burnrate"},
    {.key = "registry_password", .type = BR_CONF_STR,
     .flags = BR_CONF_HIDE_UNSET | BR_CONF_SECRET,
     AT(br_avro_conf_t, registry_password),
     .doc = "HTTP basic auth for the registry: the password (shown as "
            "`[redacted]`).",
     .example = "${file:${CREDENTIALS_DIRECTORY}/registry}"},
    {.key = "registry_ca_file", .type = BR_CONF_PATH,
     .flags = BR_CONF_HIDE_UNSET, AT(br_avro_conf_t, registry_ca_file),
     .def_doc = "system CAs",
     .doc = "CA bundle to verify the registry's TLS certificate.",
     .example = "/etc/ssl/registry-ca.pem"},
};

static const br_conf_section_t avro_section = {
    .what = "Avro settings", ROWS(avro_rows),
    .hooks = &(const struct br_conf_hooks){.done = avro_done}};

/* inputs[].mapping: field paths of the canonical fields, on top of the
 * dialect's preset. */

/* "$..." names record metadata; only the Kafka timestamp is known. */
static br_err_t check_time_field(ctx_t *cx, frame_t *fr,
                                 const br_conf_row_t *row,
                                 const yaml_node_t *v, const char *kpath) {
    const br_mapping_t *m = fr->base;
    (void)row;
    if (!m->time || m->time[0] != '$' || !strcmp(m->time, BR_KAFKA_TIMESTAMP))
        return BR_ERR_OK;
    return fail(cx, v, kpath, "\"%s\" is no record metadata burnrate knows "
                              "(\"%s\" is the Kafka record's timestamp)",
                m->time, BR_KAFKA_TIMESTAMP);
}

/* id: one field, or a list whose values together are the identity. */
static br_err_t parse_id(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                         const yaml_node_t *id, const char *kpath) {
    br_mapping_t *m = fr->base;
    br_err_t err;
    (void)row;
    if (is_null(id))
        return BR_ERR_OK;
    if (id->type != YAML_SEQUENCE_NODE) {
        if (!(m->id = calloc(1, sizeof(char *))))
            return nomem(cx);
        m->id_cnt = 1;
        return take_str(cx, id, kpath, &m->id[0]);
    }
    if ((err = take_str_list(cx, id, kpath, "field paths", &m->id,
                             &m->id_cnt)))
        return err;
    if (m->id_cnt == 0 || m->id_cnt > BR_ID_PARTS_MAX)
        return fail(cx, id, kpath, "must list 1 to %d field paths",
                    BR_ID_PARTS_MAX);
    return BR_ERR_OK;
}

static void dump_id(out_t *o, const br_conf_row_t *row, const void *base);

#define FIELD_PATH .what = "field path", .def_doc = "the dialect's preset"
#define TOKENS(t) AT(br_mapping_t, tokens[t]), FIELD_PATH

static const br_conf_row_t mapping_rows[] = {
    {.key = "time", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     AT(br_mapping_t, time), FIELD_PATH,
     .hooks = &(const struct br_conf_hooks){.check = check_time_field},
     .doc = "Event time: RFC 3339 with any offset, or epoch seconds or "
            "milliseconds. `" BR_KAFKA_TIMESTAMP "`: the Kafka record's "
            "timestamp instead of a field ([event time from the Kafka "
            "record](#what-it-reads)).",
     .example = "created_at"},
    {.key = "time_end", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     AT(br_mapping_t, time_end), FIELD_PATH,
     .doc = "End of a charge period (billing), optional.",
     .example = "period.end"},
    {.key = "cost", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     AT(br_mapping_t, cost), FIELD_PATH,
     .doc = "Cost in currency units. Without a cost the event is priced from "
            "its tokens.",
     .example = "spend"},
    {.key = "currency", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     AT(br_mapping_t, currency), FIELD_PATH,
     .doc = "Currency code of the cost.", .example = "billing.currency"},
    {.key = "id", .type = BR_CONF_STRS, .flags = BR_CONF_HIDE_UNSET,
     AT(br_mapping_t, id), .cnt_off = offsetof(br_mapping_t, id_cnt),
     .what = "field paths", .dump_after = "reasoning_tokens",
     .hooks = &(const struct br_conf_hooks){.parse = parse_id,
                                            .dump = dump_id},
     .type_doc = "field path, or a list of 1 to " STR(BR_ID_PARTS_MAX),
     .def_doc = "the dialect's preset",
     .doc = "The record's identity: one field, or a list of fields whose "
            "values together identify it (a composite id). A record whose "
            "identity the input has seen within its `dedup_window` is a "
            "duplicate or, with `restatements: replace`, a restatement. "
            "Replaces the preset's identity (FOCUS and CUR: see [Duplicates "
            "and restatements](#duplicates-and-restatements)).",
     .example = "`request_id`, `[account, day, sku]`"},
    {.key = "model", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     AT(br_mapping_t, model), FIELD_PATH,
     .doc = "Model name. Sets dimension `model` and selects the price.",
     .example = "request.model"},
    {.key = "provider", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     AT(br_mapping_t, provider), FIELD_PATH,
     .doc = "Provider name. Sets dimension `provider`.", .example = "vendor"},
    {.key = "input_tokens", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     TOKENS(BR_TOK_INPUT),
     .doc = "Prompt tokens not served from the cache.", .example = "usage.in"},
    {.key = "output_tokens", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     TOKENS(BR_TOK_OUTPUT),
     .doc = "Completion tokens, reasoning excluded.", .example = "usage.out"},
    {.key = "cache_read_tokens", .type = BR_CONF_STR,
     .flags = BR_CONF_HIDE_UNSET, TOKENS(BR_TOK_CACHE_READ),
     .doc = "Prompt tokens served from the cache.", .example = "usage.cached"},
    {.key = "cache_write_tokens", .type = BR_CONF_STR,
     .flags = BR_CONF_HIDE_UNSET, TOKENS(BR_TOK_CACHE_WRITE),
     .doc = "Prompt tokens written to the cache.",
     .example = "usage.cache_write"},
    {.key = "reasoning_tokens", .type = BR_CONF_STR,
     .flags = BR_CONF_HIDE_UNSET, TOKENS(BR_TOK_REASONING),
     .doc = "Reasoning or thinking output tokens.",
     .example = "usage.reasoning"},
    {.key = "dims", .type = BR_CONF_KV, .flags = BR_CONF_HIDE_UNSET,
     AT(br_mapping_t, dims), .cnt_off = offsetof(br_mapping_t, dim_cnt),
     .what = "dimension name -> field path",
     .type_doc = "map of dimension name to field path", .def_doc = "none",
     .doc = "Adds dimensions to every record of the input.",
     .example = "{team: metadata.team, app: metadata.app}"},
};

static const br_conf_section_t mapping_section = {
    .what = "canonical field -> field path", ROWS(mapping_rows)};

/* inputs: where cost data comes from. */

/* Defaults that follow the dialect. Billing exports arrive 24-48 h after
 * the usage and a file's rows are grouped by account, not time: 48 h of
 * disorder within the input. An input is judged against its own progress,
 * so billing running a day or two behind the token feeds is not late; only
 * past idle_timeout of lag does it stop holding back the series it feeds.
 * Producers' clocks drift by seconds; billing exports may write local
 * time as UTC (up to 14h off). A billing export is rewritten while its
 * period is open: a row seen again with another amount is that row
 * restated, so billing inputs replace, and remember at least a billing
 * period (a month of 31 days, restated until the invoice closes a few days
 * later) plus the export delay. */
#define BILLING_LATENESS "48h"
#define TOKEN_LATENESS "5m"
#define BILLING_IDLE "3d"
#define TOKEN_IDLE "1h"
#define BILLING_MAX_FUTURE "1d"
#define TOKEN_MAX_FUTURE "15m"
#define BILLING_RESTATEMENTS "replace"
#define TOKEN_RESTATEMENTS "duplicate"
#define BILLING_DEDUP_WINDOW "40d"
#define FOCUS_COST_COLUMN "BilledCost"
#define CUR_COST_COLUMN "line_item_unblended_cost"
#define FOCUS_CATEGORIES "Usage, Credit, Adjustment"
#define CUR_CATEGORIES                                                        \
    "Usage, Credit, Refund, DiscountedUsage, SavingsPlanCoveredUsage"

static int64_t preset_ms(const char *text) {
    int64_t ms = 0;
    parse_duration_text(text, &ms);
    return ms;
}

static const char *const format_names[] = {
    [BR_FORMAT_JSON] = "json",
    [BR_FORMAT_CSV] = "csv",
    [BR_FORMAT_AVRO] = "avro",
    [BR_FORMAT_AVRO_CONFLUENT] = "avro-confluent",
};

static const char *const restatement_names[] = {
    [BR_RESTATE_DUPLICATE] = "duplicate", [BR_RESTATE_REPLACE] = "replace"};

/* The keys a wrong key would have been: "is required" about them would
 * only repeat that mistake. */
static const char *const source_keys[] = {"topic", "topics", "files", NULL};

static uint32_t source_bits(const frame_t *fr) {
    return row_bit(fr, "topic") | row_bit(fr, "topics") | row_bit(fr, "files");
}

/* topic (one) and topics (a list) add up. */
static br_err_t parse_topic(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                            const yaml_node_t *v, const char *kpath) {
    br_input_conf_t *in = fr->base;
    char *s = NULL;
    br_err_t err;
    (void)row;
    if (is_null(v))
        return BR_ERR_OK;
    if ((err = take_str(cx, v, kpath, &s)))
        return err;
    if (!(in->topics = malloc(sizeof(char *)))) {
        free(s);
        return nomem(cx);
    }
    in->topics[in->topic_cnt++] = s;
    return BR_ERR_OK;
}

/* An input reads topics or files, or both; csv is read from files only. */
static br_err_t check_sources(ctx_t *cx, const frame_t *fr) {
    const br_input_conf_t *in = fr->base;
    char kpath[PATH_LEN];
    br_err_t err, bad = BR_ERR_OK;
    if (!(fr->failed & source_bits(fr)) && !in->topic_cnt && !in->file_cnt &&
        !misspelt(cx, fr->node, source_keys) &&
        (err = go_on(&bad, fail(cx, fr->node, fr->path,
                                "needs at least one Kafka topic (topic or "
                                "topics) or one file (files)"))))
        return err;
    join_path(kpath, sizeof kpath, fr->path, "format");
    if (in->format == BR_FORMAT_CSV && in->topic_cnt > 0 &&
        (err = go_on(&bad, fail(cx, map_get(cx, fr->node, "format", NULL),
                                kpath, "format csv reads files only; Kafka "
                                "topics carry one JSON object per message"))))
        return err;
    return bad;
}

/* Once the dialect is read: the rules about the sources (reported after
 * the dialect's own mistakes, as they always were), then the dialect's
 * defaults (a dialect with a mistake: otel's), before the keys that
 * override them are read. */
static br_err_t dialect_presets(ctx_t *cx, frame_t *fr,
                                const br_conf_row_t *row, const yaml_node_t *v,
                                const char *kpath) {
    br_input_conf_t *in = fr->base;
    bool billing = is_billing(in->dialect);
    (void)row, (void)v, (void)kpath;
    in->lateness_ms = preset_ms(billing ? BILLING_LATENESS : TOKEN_LATENESS);
    in->idle_ms = preset_ms(billing ? BILLING_IDLE : TOKEN_IDLE);
    in->max_future_ms =
        preset_ms(billing ? BILLING_MAX_FUTURE : TOKEN_MAX_FUTURE);
    in->restatements = billing ? BR_RESTATE_REPLACE : BR_RESTATE_DUPLICATE;
    return check_sources(cx, fr);
}

static bool mapping_has_tokens(const br_mapping_t *m) {
    for (int t = 0; t < BR_TOK__CNT; t++)
        if (m->tokens[t])
            return true;
    return false;
}

/* The custom dialect presets nothing: time, and a cost or tokens, must be
 * mapped. Left alone when the dialect or the mapping has a mistake. */
static br_err_t check_custom(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                             const yaml_node_t *m, const char *kpath) {
    static const char *const time_key[] = {"time", NULL};
    const br_input_conf_t *in = fr->base;
    const yaml_node_t *at = is_null(m) ? fr->node : m;
    char tpath[PATH_LEN];
    const char *path = kpath;
    br_err_t err, bad = BR_ERR_OK;
    if (in->dialect != BR_DIALECT_CUSTOM || !read_ok(fr, "dialect") ||
        (fr->failed & row_bit(fr, row->key)))
        return BR_ERR_OK;
    if (!in->mapping.time && !(m && misspelt(cx, m, time_key))) {
        join_path(tpath, sizeof tpath, kpath, "time");
        path = tpath;
        if ((err = go_on(&bad, fail(cx, at, path, "is required for the custom "
                                    "dialect (the field that holds the event "
                                    "time)"))))
            return err;
    }
    if (!in->mapping.cost && !mapping_has_tokens(&in->mapping) &&
        (err = go_on(&bad, fail(cx, at, path, "the custom dialect needs "
                                "mapping.cost or at least one token field "
                                "(input_tokens, output_tokens, ...)"))))
        return err;
    return bad;
}

/* Billing settings: only FOCUS and CUR rows have a cost column and charge
 * categories. *billing: they apply and v is to be read. */
static br_err_t billing_only(ctx_t *cx, const frame_t *fr,
                             const yaml_node_t *v, const char *kpath,
                             const char *instead, bool *billing) {
    const br_input_conf_t *in = fr->base;
    *billing = is_billing(in->dialect);
    if (*billing || is_null(v) || !read_ok(fr, "dialect"))
        return BR_ERR_OK;
    return fail(cx, v, kpath, "applies only to the focus and cur dialects%s",
                instead);
}

static br_err_t parse_cost_column(ctx_t *cx, frame_t *fr,
                                  const br_conf_row_t *row,
                                  const yaml_node_t *v, const char *kpath) {
    br_input_conf_t *in = fr->base;
    const char *def = in->dialect == BR_DIALECT_FOCUS ? FOCUS_COST_COLUMN
                                                      : CUR_COST_COLUMN;
    bool billing;
    br_err_t err = billing_only(cx, fr, v, kpath, " (use mapping.cost)",
                                &billing);
    (void)row;
    if (err || !billing)
        return err;
    if (!(in->cost_column = xstrndup(def, strlen(def))))
        return nomem(cx);
    return is_null(v) ? BR_ERR_OK : take_str(cx, v, kpath, &in->cost_column);
}

/* A list default, "a, b, c", into *out. */
static br_err_t set_str_list(ctx_t *cx, char ***out, size_t *cnt,
                             const char *text) {
    *out = calloc(strlen(text) / 2 + 1, sizeof(char *));
    while (*out && *text) {
        size_t len = strcspn(text, ",");
        if (!((*out)[*cnt] = xstrndup(text, len)))
            return nomem(cx);
        (*cnt)++;
        text += len;
        text += strspn(text, ", ");
    }
    return *out ? BR_ERR_OK : nomem(cx);
}

static br_err_t parse_charges(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                              const yaml_node_t *v, const char *kpath) {
    br_input_conf_t *in = fr->base;
    bool billing;
    br_err_t err = billing_only(cx, fr, v, kpath, "", &billing);
    if (err || !billing)
        return err;
    if (is_null(v))
        return set_str_list(cx, &in->charge_categories,
                            &in->charge_category_cnt,
                            in->dialect == BR_DIALECT_FOCUS ? FOCUS_CATEGORIES
                                                            : CUR_CATEGORIES);
    err = read_value(cx, fr, row, v, kpath);
    if (err == BR_ERR_OK && in->charge_category_cnt == 0)
        err = fail(cx, v, kpath, "must list at least one category (nothing "
                                 "would count)");
    return err;
}

static bool billing_shown(const void *base) {
    return is_billing(((const br_input_conf_t *)base)->dialect);
}

static bool is_avro(const br_input_conf_t *in) {
    return in->format == BR_FORMAT_AVRO ||
           in->format == BR_FORMAT_AVRO_CONFLUENT;
}

static bool avro_shown(const void *base) {
    return is_avro(base);
}

/* inputs[].avro: where the schemas of an Avro input come from. Files are
 * object container files, which carry their writer schema, so an input
 * that only replays files needs no schema source. Left alone when the
 * format or the sources have a mistake. */
static br_err_t parse_input_avro(ctx_t *cx, frame_t *fr,
                                 const br_conf_row_t *row,
                                 const yaml_node_t *an, const char *kpath) {
    br_input_conf_t *in = fr->base;
    const br_avro_conf_t *a = &in->avro;
    const yaml_node_t *fmt = map_get(cx, fr->node, "format", NULL);
    bool kafka = in->topic_cnt > 0;
    char sub[PATH_LEN];
    br_err_t err;
    if (fr->failed & (row_bit(fr, "format") | source_bits(fr)))
        return BR_ERR_OK;
    if (!is_avro(in))
        return is_null(an) ? BR_ERR_OK
                           : fail(cx, an, kpath, "is for inputs of format "
                                                 "avro or avro-confluent");
    join_path(sub, sizeof sub, kpath, "schema");
    if (is_null(an) && !kafka)
        return BR_ERR_OK;
    if (is_null(an))
        return fail(cx, fmt ? fmt : fr->node, sub,
                    in->format == BR_FORMAT_AVRO
                        ? "is required for format avro (the writer schema, "
                          "an .avsc file)"
                        : "format avro-confluent needs avro.schema_dir or "
                          "avro.registry (where schemas by id come from)");
    if ((err = read_section(cx, an, kpath, row->sub, field(fr->base, row),
                            (unsigned)row->arg)))
        return err;
    if (kafka && in->format == BR_FORMAT_AVRO && !a->schema)
        return fail(cx, an, sub,
                    "is required for format avro (the writer schema)");
    if (kafka && in->format == BR_FORMAT_AVRO_CONFLUENT && !a->schema_dir &&
        !a->registry)
        return fail(cx, an, kpath,
                    "format avro-confluent needs schema_dir or registry "
                    "(where schemas by id come from)");
    return BR_ERR_OK;
}

/* stale_after: off (0) by default, since a silence that matters depends on
 * the feed: token events flow every second, billing exports arrive hours
 * or a day apart. Below a second it would be poll jitter. */
static br_err_t check_stale_after(ctx_t *cx, frame_t *fr,
                                  const br_conf_row_t *row,
                                  const yaml_node_t *v, const char *kpath) {
    const br_input_conf_t *in = fr->base;
    (void)row;
    if (in->stale_after_ms == 0 || in->stale_after_ms >= MS_PER_S)
        return BR_ERR_OK;
    return fail(cx, v, kpath, "must be 0 (off) or at least 1s");
}

/* Not given: the dedup section's, resolved once it is read
 * (input_dedup_defaults). */
static br_err_t input_init(ctx_t *cx, const br_conf_row_t *row, void *base) {
    br_input_conf_t *in = base;
    (void)cx, (void)row;
    in->dedup_window_ms = -1;
    in->dedup_max_ids = SIZE_MAX;
    return BR_ERR_OK;
}

static void input_dedup_defaults(br_config_t *conf) {
    int64_t billing_ms = preset_ms(BILLING_DEDUP_WINDOW);
    for (size_t i = 0; i < conf->input_cnt; i++) {
        br_input_conf_t *in = &conf->inputs[i];
        if (in->dedup_window_ms < 0) {
            in->dedup_window_ms = conf->dedup_window_ms;
            if (is_billing(in->dialect) && in->dedup_window_ms < billing_ms)
                in->dedup_window_ms = billing_ms;
        }
        if (in->dedup_max_ids == SIZE_MAX)
            in->dedup_max_ids = conf->dedup_max_ids;
    }
}

#define BILLING_OR(billing, other)                                            \
    "`" billing "` for focus and cur, `" other "` for the other dialects"

static const br_conf_row_t input_rows[] = {
    {.key = "name", .type = BR_CONF_STR, .flags = BR_CONF_REQUIRED,
     AT(br_input_conf_t, name),
     .doc = "Unique name. Alerts, logs and dead letters use it.",
     .example = "openai"},
    {.key = "topic", .type = BR_CONF_CUSTOM,
     .flags = BR_CONF_NO_DUMP | BR_CONF_RELOAD_RULE,
     .restart_why = "of an input that has topics",
     .hooks = &(const struct br_conf_hooks){.parse = parse_topic},
     .type_doc = "string", .doc = "One Kafka topic.", .example = "llm.usage"},
    {.key = "topics", .type = BR_CONF_STRS, .flags = BR_CONF_RELOAD_RULE,
     .restart_why = "of an input that has topics",
     AT(br_input_conf_t, topics),
     .cnt_off = offsetof(br_input_conf_t, topic_cnt),
     .what = "Kafka topic names",
     .doc = "Several Kafka topics (adds to `topic`).",
     .example = "[llm.openai, llm.azure]"},
    {.key = "files", .type = BR_CONF_PATHS, AT(br_input_conf_t, files),
     .cnt_off = offsetof(br_input_conf_t, file_cnt), .what = "file paths",
     .doc = "Files for `burnrate replay`: JSON lines, CSV with `format: csv`, "
            "Avro object container files with `format: avro` or "
            "`avro-confluent`.",
     .example = "[exports/focus-2024-06.csv]"},
    {.key = "format", .type = BR_CONF_ENUM, .flags = BR_CONF_RELOAD_RULE,
     .restart_why = "of an input that has topics",
     AT(br_input_conf_t, format), .def = "json", NAMES(format_names),
     .what = "format", .dump_after = "dialect",
     .doc = "`json`: one JSON object per message or per line. `csv`: a FOCUS "
            "or CUR export with a header row (files only). `avro`: one Avro "
            "binary datum per message. `avro-confluent`: the Confluent "
            "framing (magic byte, schema id, datum). See [Avro](#avro).",
     .example = "avro-confluent"},
    {.key = "dialect", .type = BR_CONF_ENUM, .flags = BR_CONF_REQUIRED,
     AT(br_input_conf_t, dialect), NAMES(dialect_names), .what = "dialect",
     .dump_after = "name",
     .hooks = &(const struct br_conf_hooks){.check = dialect_presets},
     .doc = "Which preset turns a message into a cost record (see the "
            "dialects below).",
     .example = "focus"},
    {.key = "mapping", .type = BR_CONF_MAP, AT(br_input_conf_t, mapping),
     .sub = &mapping_section,
     .hooks = &(const struct br_conf_hooks){.check = check_custom},
     .type_doc = "[mapping](#mapping)", .def_doc = "the dialect's preset",
     .doc = "Field overrides on top of the preset."},
    {.key = "cost_column", .type = BR_CONF_STR, .flags = BR_CONF_HIDE_UNSET,
     AT(br_input_conf_t, cost_column),
     .hooks = &(const struct br_conf_hooks){.parse = parse_cost_column},
     .def_doc = "focus: `" FOCUS_COST_COLUMN "`; cur: `" CUR_COST_COLUMN "`",
     .doc = "Billing dialects only. The column that holds the cost, e.g. "
            "`EffectiveCost` for amortized cost, or "
            "`line_item_net_unblended_cost`.",
     .example = "EffectiveCost"},
    {.key = "charge_categories", .type = BR_CONF_STRS,
     AT(br_input_conf_t, charge_categories),
     .cnt_off = offsetof(br_input_conf_t, charge_category_cnt),
     .what = "charge categories",
     .hooks = &(const struct br_conf_hooks){.parse = parse_charges,
                                            .shown = billing_shown},
     .def_doc = "focus: `[" FOCUS_CATEGORIES "]`; cur: `[" CUR_CATEGORIES "]`",
     .doc = "Billing dialects only. Rows are counted only when their "
            "category is listed; other rows are skipped. For focus the value "
            "matched is `ChargeCategory` (FOCUS also has `Purchase` and "
            "`Tax`). For cur it is `line_item_line_item_type` (CUR also has "
            "`Fee`, `Tax`, `RIFee`, `SavingsPlanRecurringFee`, "
            "`SavingsPlanNegation`, ...).",
     .example = "[Usage]"},
    {.key = "lateness", .type = BR_CONF_DURATION,
     AT(br_input_conf_t, lateness_ms), .min = 0,
     .def_doc = "`" BILLING_LATENESS "` for focus and cur (exports arrive a "
                "day or two after the usage, their rows grouped by account "
                "rather than time), `" TOKEN_LATENESS "` for the other "
                "dialects",
     .doc = "How far event time may lag behind the newest event of the same "
            "input before a bucket is final (the input's watermark is its "
            "newest event time minus this). Other inputs' progress does not "
            "count: a record is late only against its own input.",
     .example = "2h"},
    {.key = "idle_timeout", .type = BR_CONF_DURATION,
     AT(br_input_conf_t, idle_ms), .min = MS_PER_S,
     .def_doc = BILLING_OR(BILLING_IDLE, TOKEN_IDLE),
     .doc = "A partition whose event time lags the input's newest event by "
            "more than this is idle and left out of the input's watermark, "
            "so one quiet partition cannot stall the input; an input lagging "
            "the newest input by more than this stops holding back the "
            "series it feeds (unless messages are waiting in it).",
     .example = "30m"},
    {.key = "avro", .type = BR_CONF_MAP, AT(br_input_conf_t, avro),
     .sub = &avro_section, .arg = BR_CONF_ONLY_INPUT,
     .dump_after = "cost_column",
     .hooks = &(const struct br_conf_hooks){.parse = parse_input_avro,
                                            .shown = avro_shown},
     .type_doc = "[avro](#avro-settings) map",
     .doc = "Avro formats only: where the schemas come from."},
    {.key = "stale_after", .type = BR_CONF_DURATION,
     AT(br_input_conf_t, stale_after_ms), .def = "0s", .min = 0,
     .hooks = &(const struct br_conf_hooks){.check = check_stale_after},
     .type_doc = "%s (`0` or at least `1s`)", .def_doc = "`0`: off",
     .doc = "`burnrate run` only: wall-clock time without any message of "
            "this input, while a partition of it is assigned, that raises a "
            "`stale_input` alert; the next message resolves it. Off by "
            "default because a normal gap depends on the feed (token events "
            "flow every second, billing exports arrive hours or a day "
            "apart): set it above the longest quiet time the feed has. See "
            "[stale inputs](#what-it-detects).",
     .example = "15m"},
    {.key = "max_future", .type = BR_CONF_DURATION,
     AT(br_input_conf_t, max_future_ms), .min = 0,
     .type_doc = "%s (`0`: off)",
     .def_doc = BILLING_OR(BILLING_MAX_FUTURE, TOKEN_MAX_FUTURE),
     .doc = "A record whose event time is more than this ahead of the wall "
            "clock (`run`: at consume; `replay`: at start) goes to the "
            "dead-letter topic with reason `FUTURE` and moves nothing. "
            "Producers' clocks drift by seconds; a bigger lead is a broken "
            "clock or a hostile record, which would otherwise carry the "
            "watermark ahead of every real record. `0` turns the check off "
            "(a synthetic future replayed on purpose). See [event time "
            "against the clock](#what-it-reads).",
     .example = "1h"},
    {.key = "restatements", .type = BR_CONF_ENUM,
     AT(br_input_conf_t, restatements), NAMES(restatement_names),
     .what = "value",
     .def_doc = BILLING_OR(BILLING_RESTATEMENTS, TOKEN_RESTATEMENTS),
     .doc = "What a record whose identity was seen, with another amount, "
            "does: `duplicate` counts it once (the first amount stays); "
            "`replace` counts the difference, as the row restated. See "
            "[Duplicates and restatements](#duplicates-and-restatements).",
     .example = "replace"},
    {.key = "dedup_window", .type = BR_CONF_DURATION,
     AT(br_input_conf_t, dedup_window_ms), .min = MS_PER_S,
     .def_doc = "`" BILLING_DEDUP_WINDOW "` for focus and cur (at least "
                "`dedup.window`), else `dedup.window`",
     .doc = "Event time an identity is remembered behind the input's newest "
            "event.",
     .example = "62d"},
    {.key = "dedup_max_ids", .type = BR_CONF_INT,
     AT(br_input_conf_t, dedup_max_ids), .min = 0, .max = 100000000,
     .def_doc = "`dedup.max_ids`",
     .doc = "Identities the input remembers at most (56 bytes each at most); "
            "beyond it the oldest are forgotten early. `0`: no deduplication "
            "for this input.",
     .example = "5000000"},
};

static const br_conf_section_t input_section = {
    .what = "input settings (name, topic, dialect, ...)", ROWS(input_rows),
    .size = sizeof(br_input_conf_t),
    .line_off = offsetof(br_input_conf_t, line), .flags = BR_CONF_LINE,
    .hooks = &(const struct br_conf_hooks){.init = input_init}};

/* A topic belongs to one input: a message must map to exactly one
 * decoder. */
static br_err_t topics_unique(ctx_t *cx, const yaml_node_t *item,
                              const char *ipath, const void *it,
                              const void *other) {
    const br_input_conf_t *in = it, *o = other;
    br_err_t err, bad = BR_ERR_OK;
    for (size_t a = 0; a < in->topic_cnt; a++)
        for (size_t b = 0; b < o->topic_cnt; b++)
            if (strcmp(in->topics[a], o->topics[b]) == 0 &&
                (err = go_on(&bad, fail(cx, item, ipath, "topic \"%s\" is "
                                        "already read by input \"%s\"",
                                        in->topics[a],
                                        o->name ? o->name : "?"))))
                return err;
    return bad;
}

static br_err_t parse_inputs(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                             const yaml_node_t *v, const char *kpath) {
    if (is_null(v))
        return fail(cx, v ? v : fr->node, kpath,
                    "is required: list at least one input (a topic or files "
                    "and a dialect)");
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(cx, v, kpath, "must be a list of inputs");
    if (seq_cnt(v) == 0)
        return fail(cx, v, kpath, "must list at least one input");
    return read_items(cx, fr, row, v, kpath, "input", topics_unique);
}

/* scopes: which series are tracked. */

static br_err_t check_dims(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                           const yaml_node_t *v, const char *kpath) {
    const br_scope_conf_t *sc = fr->base;
    (void)row;
    if (sc->dim_cnt <= BR_DIM_MAX)
        return BR_ERR_OK;
    return fail(cx, v, kpath, "at most %d dimensions", BR_DIM_MAX);
}

/* The inputs that feed a scope are named, and exist: inputs are read
 * before scopes. */
static br_err_t check_scope_inputs(ctx_t *cx, frame_t *fr,
                                   const br_conf_row_t *row,
                                   const yaml_node_t *ins, const char *kpath) {
    const br_scope_conf_t *sc = fr->base;
    const br_config_t *conf = cx->conf;
    br_err_t err, bad = BR_ERR_OK;
    (void)row;
    if (is_null(ins))
        return BR_ERR_OK;
    if (ins->type == YAML_SEQUENCE_NODE && sc->input_cnt == 0 &&
        (err = go_on(&bad, fail(cx, ins, kpath,
                                "must name at least one input (leave the "
                                "key out for all inputs)"))))
        return err;
    for (size_t i = 0; i < sc->input_cnt; i++) {
        const char **names = calloc(conf->input_cnt + 1, sizeof *names);
        if (!names)
            return nomem(cx);
        bool known = false;
        for (size_t k = 0; k < conf->input_cnt; k++) {
            names[k] = conf->inputs[k].name;
            known |= names[k] && strcmp(names[k], sc->inputs[i]) == 0;
        }
        const char *near = known ? NULL
                                 : br_suggest(sc->inputs[i], names,
                                              conf->input_cnt);
        free(names);
        if (known)
            continue;
        char ipath[PATH_LEN];
        index_path(ipath, sizeof ipath, kpath, i);
        if ((err = go_on(&bad, fail(cx, ins, ipath,
                                    "no input is named \"%s\"%s%s%s",
                                    sc->inputs[i],
                                    near ? " (did you mean \"" : "",
                                    near ? near : "", near ? "\"?)" : ""))))
            return err;
    }
    return bad;
}

static const br_conf_row_t scope_rows[] = {
    {.key = "name", .type = BR_CONF_STR, .flags = BR_CONF_REQUIRED,
     AT(br_scope_conf_t, name),
     .doc = "Unique scope name; alerts carry it.", .example = "team_model"},
    {.key = "dims", .type = BR_CONF_STRS, AT(br_scope_conf_t, dims),
     .cnt_off = offsetof(br_scope_conf_t, dim_cnt), .what = "dimension names",
     .hooks = &(const struct br_conf_hooks){.check = check_dims},
     .type_doc = "list of dimension names",
     .def_doc = "`[]` (one series for everything)",
     .doc = "Dimensions that key the series. No duplicates, at most "
            STR(BR_DIM_MAX) ".",
     .example = "[team, model]"},
    {.key = "max_series", .type = BR_CONF_INT,
     AT(br_scope_conf_t, max_series), .def = "10000", .min = 1,
     .max = 100000000,
     .doc = "Series cap for the scope. Once it is reached, new values are "
            "folded into one `(other)` series.",
     .example = "500"},
    {.key = "inputs", .type = BR_CONF_STRS, .flags = BR_CONF_HIDE_UNSET,
     AT(br_scope_conf_t, inputs),
     .cnt_off = offsetof(br_scope_conf_t, input_cnt), .what = "input names",
     .dump_after = "dims",
     .hooks = &(const struct br_conf_hooks){.check = check_scope_inputs},
     .type_doc = "list of input names", .def_doc = "every input",
     .doc = "The inputs whose records feed the scope. A series' buckets are "
            "final when every input that can feed it has passed them, and a "
            "new incident of a series with a parent scope waits for the "
            "parent's bucket: a scope fed by token inputs only (`inputs: "
            "[otel, openai]`) keeps its alerts as quick as those inputs when "
            "a billing feed with 48 h of lateness feeds other scopes.",
     .example = "[otel, openai]"},
};

static const br_conf_section_t scope_section = {
    .what = "scope settings (name, dims, max_series, inputs)",
    ROWS(scope_rows), .size = sizeof(br_scope_conf_t),
    .line_off = offsetof(br_scope_conf_t, line), .flags = BR_CONF_LINE};

/* Without scopes there is one, "total", with no dimensions. */
static br_err_t parse_scopes(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                             const yaml_node_t *v, const char *kpath) {
    br_config_t *conf = fr->base;
    br_err_t err;
    if (!is_null(v) && v->type != YAML_SEQUENCE_NODE)
        return fail(cx, v, kpath, "must be a list of scopes");
    if (!is_null(v) && seq_cnt(v) == 0)
        return fail(cx, v, kpath,
                    "must list at least one scope (leave the key out for the "
                    "default scope \"total\")");
    if (!is_null(v))
        return read_items(cx, fr, row, v, kpath, "scope", NULL);
    if (!(conf->scopes = calloc(1, sizeof(br_scope_conf_t))))
        return nomem(cx);
    conf->scope_cnt = 1;
    if ((err = init_section(cx, &scope_section, conf->scopes)))
        return err;
    conf->scopes[0].name = xstrndup("total", 5);
    return conf->scopes[0].name ? BR_ERR_OK : nomem(cx);
}


/* spike: the spike and new-spend rules. */

static const char *const direction_names[] = {"up", "down", "both"};
static const int direction_values[] = {BR_DIRECTION_UP, BR_DIRECTION_DOWN,
                                       BR_DIRECTION_BOTH};

/* The baseline compares a bucket with the same hour of other days, so a
 * bucket must divide one day. */
static br_err_t check_bucket(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                             const yaml_node_t *v, const char *kpath) {
    br_spike_conf_t *sp = fr->base;
    (void)row;
    if (MS_PER_DAY % sp->bucket_ms == 0)
        return BR_ERR_OK;
    sp->bucket_ms = MS_PER_H; /* so that the cooldown default is sane */
    return fail(cx, v, kpath, "must divide one day evenly (e.g. 1m, 5m, 15m, "
                              "1h, 6h, 1d)");
}

/* Defaults that follow other keys: a new series alerts from the spike
 * floor on, an incident reopens within six buckets. */
static void spike_follow(br_spike_conf_t *sp, bool new_spend, bool cooldown) {
    if (new_spend)
        sp->new_spend_min_nanos = sp->min_impact_nanos;
    if (cooldown)
        sp->cooldown_ms = 6 * sp->bucket_ms;
}

static br_err_t spike_init(ctx_t *cx, const br_conf_row_t *row, void *base) {
    (void)cx, (void)row;
    spike_follow(base, true, true);
    return BR_ERR_OK;
}

static br_err_t spike_done(ctx_t *cx, frame_t *fr) {
    (void)cx;
    spike_follow(fr->base, !given(fr, "new_spend_min"),
                 !read_ok(fr, "cooldown"));
    return BR_ERR_OK;
}

static const br_conf_row_t spike_rows[] = {
    {.key = "bucket", .type = BR_CONF_DURATION, .flags = BR_CONF_RESTART,
     AT(br_spike_conf_t, bucket_ms), .def = "1h", .min = MS_PER_MIN,
     .restart_why = "the state's buckets have the old width",
     .hooks = &(const struct br_conf_hooks){.check = check_bucket},
     .type_doc = "%s, dividing one day evenly",
     .doc = "Bucket width.", .example = "15m"},
    {.key = "sensitivity", .type = BR_CONF_DOUBLE, .flags = BR_CONF_OPEN_MIN,
     AT(br_spike_conf_t, sensitivity), .def = "4", .dmin = 0, .dmax = 1e6,
     .doc = "Robust z-score threshold, in standard deviations of the log "
            "spend. Lower values fire more often.",
     .example = "3"},
    {.key = "min_impact", .type = BR_CONF_MONEY,
     AT(br_spike_conf_t, min_impact_nanos), .def = "10",
     .doc = "Smallest excess (observed minus expected) that alerts.",
     .example = "25"},
    {.key = "min_ratio", .type = BR_CONF_DOUBLE,
     AT(br_spike_conf_t, min_ratio), .def = "1.5", .dmin = 1, .dmax = 1e6,
     .doc = "Observed must be at least this many times the expected spend.",
     .example = "2"},
    {.key = "warmup", .type = BR_CONF_INT,
     AT(br_spike_conf_t, warmup_buckets), .def = "24", .min = 0,
     .max = 100000,
     .doc = "Buckets of history a series needs before its spikes fire (it "
            "also needs its noise measured: the same hour seen on another "
            "day 8 times).",
     .example = "48"},
    {.key = "new_spend_min", .type = BR_CONF_MONEY,
     AT(br_spike_conf_t, new_spend_min_nanos),
     .def_doc = "same as `min_impact`",
     .doc = "Once the stage has seen `warmup` buckets of data, a series "
            "never seen before raises one \"new spend\" alert when its spend "
            "within its first `warmup` buckets reaches this much.",
     .example = "5"},
    {.key = "resolve_after", .type = BR_CONF_INT,
     AT(br_spike_conf_t, resolve_buckets), .def = "2", .min = 1,
     .max = 100000,
     .doc = "Quiet buckets before a firing spike resolves.", .example = "3"},
    {.key = "direction", .type = BR_CONF_ENUM,
     AT(br_spike_conf_t, direction), .def = "up", NAMES(direction_names),
     .values = direction_values, .what = "direction",
     .doc = "Which way a series must move to be unusual: spend above the "
            "baseline (`cost_spike`), collapsed below it (`cost_drop`), or "
            "either.",
     .example = "both"},
    {.key = "cooldown", .type = BR_CONF_DURATION,
     AT(br_spike_conf_t, cooldown_ms), .min = 0, .def_doc = "6 buckets",
     .doc = "Event time after an incident resolves during which the same "
            "series' next unusual bucket of the same direction reopens it "
            "(same id, `updated`) instead of firing a new alert. `0s`: never "
            "reopen.",
     .example = "12h"},
};

static const br_conf_section_t spike_section = {
    .what = "spike rule settings", ROWS(spike_rows),
    .hooks = &(const struct br_conf_hooks){.init = spike_init,
                                           .done = spike_done},
};

/** "2026-01-15": a local date as days since 1970-01-01. */
static bool parse_date_text(const char *s, int64_t *out_day) {
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 ||
        y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    int64_t day = br_days_from_civil(y, (unsigned)m, (unsigned)d);
    int64_t y2;
    unsigned m2, d2;
    br_civil_from_days(day, &y2, &m2, &d2);
    if (y2 != y || (int)m2 != m || (int)d2 != d)
        return false; /* 2026-02-30 */
    *out_day = day;
    return true;
}

/** "14d", "1 month", "3 months": a custom period's length. */
static bool parse_every_text(const char *s, int64_t *days, int64_t *months) {
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (end != s && isdigit((unsigned char)*s) && errno == 0 && n >= 1 &&
        n <= 120) {
        while (*end == ' ')
            end++;
        if (strcmp(end, "month") == 0 || strcmp(end, "months") == 0) {
            *months = n;
            *days = 0;
            return true;
        }
    }
    int64_t ms;
    if (!parse_duration_text(s, &ms) || ms % MS_PER_DAY != 0 || ms == 0 ||
        ms > 3660 * MS_PER_DAY)
        return false;
    *days = ms / MS_PER_DAY;
    *months = 0;
    return true;
}

/* Zone names under TZDIR (or /usr/share/zoneinfo), read once per load and
 * only when a zone is unknown: what "did you mean" picks from. */
static void zone_walk(ctx_t *cx, const char *dir, const char *prefix,
                      int depth) {
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)) && !cx->oom) {
        char sub[1024], name[512];
        struct stat st;
        if (de->d_name[0] == '.' || strcmp(de->d_name, "posix") == 0 ||
            strcmp(de->d_name, "right") == 0)
            continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "/" : "",
                 de->d_name);
        if (stat(sub, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 3)
                zone_walk(cx, sub, name, depth + 1);
            continue;
        }
        /* Zone files start with TZif; zone.tab and friends do not. */
        if (!isupper((unsigned char)de->d_name[0]) || strchr(de->d_name, '.'))
            continue;
        char **g = realloc(cx->zones, (cx->zone_cnt + 1) * sizeof *g);
        if (!g || !(g[cx->zone_cnt] = xstrndup(name, strlen(name)))) {
            if (g)
                cx->zones = g;
            cx->oom = true;
            break;
        }
        cx->zones = g;
        cx->zone_cnt++;
    }
    closedir(d);
}

static const char *zone_suggest(ctx_t *cx, const char *name) {
    if (!cx->zones_read) {
        const char *dir = getenv("TZDIR");
        cx->zones_read = true;
        zone_walk(cx, dir && *dir ? dir : "/usr/share/zoneinfo", "", 0);
    }
    return br_suggest(name, (const char *const *)cx->zones, cx->zone_cnt);
}

/* budgets: spend limits per period, with forecasts and burn rates. */

/* A burn-rate rule {long: 1h, short: 5m, factor: 14.4}: the short window
 * confirms that the long one is still burning. */
static br_err_t burn_rate_done(ctx_t *cx, frame_t *fr) {
    const br_burn_rate_conf_t *r = fr->base;
    char kpath[PATH_LEN];
    if (fr->failed || r->short_ms < r->long_ms)
        return BR_ERR_OK;
    join_path(kpath, sizeof kpath, fr->path, "short");
    return fail(cx, map_get(cx, fr->node, "short", NULL), kpath,
                "must be shorter than long");
}

static const br_conf_row_t burn_rate_rows[] = {
    {.key = "long", .type = BR_CONF_DURATION, .flags = BR_CONF_REQUIRED,
     AT(br_burn_rate_conf_t, long_ms), .min = MS_PER_MIN,
     .max = 31 * MS_PER_DAY, .doc = "The long window.", .example = "1h"},
    {.key = "short", .type = BR_CONF_DURATION, .flags = BR_CONF_REQUIRED,
     AT(br_burn_rate_conf_t, short_ms), .min = MS_PER_MIN,
     .type_doc = "%s, shorter than `long`",
     .doc = "The short window, which confirms that the long one is still "
            "burning.",
     .example = "5m"},
    {.key = "factor", .type = BR_CONF_DOUBLE,
     .flags = BR_CONF_REQUIRED | BR_CONF_OPEN_MIN,
     AT(br_burn_rate_conf_t, factor), .dmin = 0, .dmax = 1e6,
     .doc = "Both windows must spend this many times the budget's even "
            "pace.",
     .example = "14.4"},
};

static const br_conf_section_t burn_rate_section = {
    .what = "burn-rate settings (long, short, factor)", ROWS(burn_rate_rows),
    .size = sizeof(br_burn_rate_conf_t),
    .line_off = offsetof(br_burn_rate_conf_t, line),
    .flags = BR_CONF_FLOW | BR_CONF_REQUIRED_FIRST | BR_CONF_LINE,
    .hooks = &(const struct br_conf_hooks){.done = burn_rate_done}};

/* At most BR_BURN_RATES_MAX rules; a rule with a mistake is not counted. */
static br_err_t parse_burn_rates(ctx_t *cx, frame_t *fr,
                                 const br_conf_row_t *row,
                                 const yaml_node_t *v, const char *kpath) {
    char ipath[PATH_LEN];
    br_budget_conf_t *b = fr->base;
    br_err_t err, bad = BR_ERR_OK;
    if (is_null(v))
        return BR_ERR_OK;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(cx, v, kpath, "must be a list such as [{long: 1h, short: "
                                  "5m, factor: 14.4}]");
    size_t n = seq_cnt(v);
    if (n > BR_BURN_RATES_MAX)
        return fail(cx, v, kpath, "must list at most %d rules",
                    BR_BURN_RATES_MAX);
    if (n == 0)
        return BR_ERR_OK;
    b->burn_rates = calloc(n, sizeof(*b->burn_rates));
    if (!b->burn_rates)
        return nomem(cx);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = get_node(cx, v->data.sequence.items.start[i]);
        br_burn_rate_conf_t *r = &b->burn_rates[b->burn_rate_cnt];
        index_path(ipath, sizeof ipath, kpath, i);
        err = read_item(cx, row->sub, item, ipath, r);
        if (err) {
            memset(r, 0, sizeof *r);
            if ((err = go_on(&bad, err)))
                return err;
            continue;
        }
        b->burn_rate_cnt++;
    }
    return bad;
}

/* A budget's currency is the stage's unless it says otherwise (the
 * pipeline refuses one that differs: there is no conversion). */
static br_err_t init_budget_currency(ctx_t *cx, const br_conf_row_t *row,
                                     void *base) {
    snprintf(field(base, row), BR_CURRENCY_MAX, "%s", cx->conf->currency);
    return BR_ERR_OK;
}

/* The zone must load; a name close to a known one gets a suggestion. */
static br_err_t check_timezone(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                               const yaml_node_t *v, const char *kpath) {
    br_budget_conf_t *b = fr->base;
    char tzerr[256] = "";
    const char *near;
    if (fr->failed & row_bit(fr, row->key))
        return BR_ERR_OK;
    br_tz_t *tz = br_tz_load(b->timezone, tzerr, sizeof tzerr);
    if (tz) {
        br_tz_destroy(b->tz); /* kept for the budget: its file is read here */
        b->tz = tz;
        return BR_ERR_OK;
    }
    if (strncmp(tzerr, "unknown time zone", 17) == 0 &&
        (near = zone_suggest(cx, b->timezone)))
        return fail(cx, v ? v : fr->node, kpath, "%s (did you mean \"%s\"?)",
                    tzerr, near);
    return fail(cx, v ? v : fr->node, kpath, "%s", tzerr);
}

/* Forecasts need a period that ends. */
static br_err_t parse_forecast(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                               const yaml_node_t *fc, const char *kpath) {
    const br_budget_conf_t *b = fr->base;
    if (is_null(fc))
        return BR_ERR_OK;
    if (b->period != BR_PERIOD_ROLLING)
        return read_value(cx, fr, row, fc, kpath);
    if (fc->type != YAML_SEQUENCE_NODE || seq_cnt(fc) > 0)
        return fail(cx, fc, kpath, "needs a period with an end (day, week, "
                                   "month or custom), not rolling");
    return BR_ERR_OK;
}

/* window (rolling), start and every (custom): each only with its period
 * (row->arg) and required there; left alone when the period itself has a
 * mistake. *read: the key is there to be read. */
static br_err_t period_key(ctx_t *cx, const frame_t *fr,
                           const br_conf_row_t *row, const yaml_node_t *v,
                           const char *kpath, bool *read) {
    const br_budget_conf_t *b = fr->base;
    br_period_t own = (br_period_t)row->arg;
    char msg[64];
    *read = false;
    if (fr->failed & row_bit(fr, "period"))
        return BR_ERR_OK;
    if (!is_null(v) && b->period != own)
        return fail(cx, v, kpath, "only applies to period: %s",
                    br_period_name(own));
    if (is_null(v) && b->period == own) {
        const yaml_node_t *pn = map_get(cx, fr->node, "period", NULL);
        snprintf(msg, sizeof msg, "is required with period: %s",
                 br_period_name(own));
        return fail_required(cx, fr->node, pn ? pn : fr->node, kpath,
                             row->key, msg);
    }
    *read = !is_null(v);
    return BR_ERR_OK;
}

static br_err_t parse_window(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                             const yaml_node_t *v, const char *kpath) {
    bool read;
    br_err_t err = period_key(cx, fr, row, v, kpath, &read);
    return err || !read ? err : read_value(cx, fr, row, v, kpath);
}

static br_err_t parse_start(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                            const yaml_node_t *v, const char *kpath) {
    br_budget_conf_t *b = fr->base;
    bool read;
    br_err_t err = period_key(cx, fr, row, v, kpath, &read);
    if (err || !read || (err = want_scalar(cx, v, kpath, "a date")))
        return err;
    if (!parse_date_text(sval(v), &b->start_day))
        return fail(cx, v, kpath, "must be a local date such as 2026-01-15, "
                                  "got \"%s\"", sval(v));
    return BR_ERR_OK;
}

static br_err_t parse_every(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                            const yaml_node_t *v, const char *kpath) {
    br_budget_conf_t *b = fr->base;
    bool read;
    br_err_t err = period_key(cx, fr, row, v, kpath, &read);
    if (err || !read || (err = want_scalar(cx, v, kpath, "a length")))
        return err;
    if (!parse_every_text(sval(v), &b->every_days, &b->every_months))
        return fail(cx, v, kpath, "must be whole days such as 14d, or months "
                                  "such as \"1 month\" or \"3 months\" (at "
                                  "most 120), got \"%s\"", sval(v));
    return BR_ERR_OK;
}

static bool rolling_shown(const void *base) {
    return ((const br_budget_conf_t *)base)->period == BR_PERIOD_ROLLING;
}

static bool custom_shown(const void *base) {
    return ((const br_budget_conf_t *)base)->period == BR_PERIOD_CUSTOM;
}

static void start_text(const void *base, char *buf, size_t size) {
    const br_budget_conf_t *b = base;
    int64_t y;
    unsigned m, d;
    br_civil_from_days(b->start_day, &y, &m, &d);
    snprintf(buf, size, "%04d-%02u-%02u", (int)y, m, d);
}

static void every_text(const void *base, char *buf, size_t size) {
    const br_budget_conf_t *b = base;
    if (b->every_months)
        snprintf(buf, size, "%" PRId64 " month%s", b->every_months,
                 b->every_months == 1 ? "" : "s");
    else
        snprintf(buf, size, "%" PRId64 "d", b->every_days);
}

static const char *const period_names[] = {
    [BR_PERIOD_DAY] = "day", [BR_PERIOD_WEEK] = "week",
    [BR_PERIOD_MONTH] = "month", [BR_PERIOD_ROLLING] = "rolling",
    [BR_PERIOD_CUSTOM] = "custom"};

static const br_conf_row_t budget_rows[] = {
    {.key = "name", .type = BR_CONF_STR, .flags = BR_CONF_REQUIRED,
     AT(br_budget_conf_t, name), .doc = "Unique budget name.",
     .example = "search-team-llm"},
    {.key = "match", .type = BR_CONF_KV, AT(br_budget_conf_t, match),
     .cnt_off = offsetof(br_budget_conf_t, match_cnt),
     .what = "dimension -> value", .type_doc = "map of dimension to value",
     .def_doc = "`{}` (every record)",
     .doc = "The record must have all these dimension values.",
     .example = "{team: search, provider: openai}"},
    {.key = "amount", .type = BR_CONF_MONEY,
     .flags = BR_CONF_REQUIRED | BR_CONF_OPEN_MIN,
     AT(br_budget_conf_t, amount_nanos), .doc = "Budget per period.",
     .example = "1200.50"},
    {.key = "currency", .type = BR_CONF_CURRENCY,
     AT(br_budget_conf_t, currency),
     .hooks = &(const struct br_conf_hooks){.init = init_budget_currency},
     .type_doc = "ISO 4217 code", .def_doc = "top-level `currency`",
     .doc = "Currency of `amount`. It must equal the top-level `currency`: "
            "there is no conversion.",
     .example = "USD"},
    {.key = "period", .type = BR_CONF_ENUM, AT(br_budget_conf_t, period),
     .def = "month", NAMES(period_names), .what = "period",
     .doc = "Calendar period (weeks start on Monday at 00:00 local time), a "
            "rolling window, or custom periods.",
     .example = "week"},
    {.key = "timezone", .type = BR_CONF_STR, AT(br_budget_conf_t, timezone),
     .def = "UTC",
     .hooks = &(const struct br_conf_hooks){.check = check_timezone},
     .type_doc = "IANA name, `UTC` or a fixed offset",
     .doc = "Periods start at local midnight in this zone. The name is "
            "checked against the system tz database when the config loads.",
     .example = "`Europe/Berlin`, `+05:30`"},
    {.key = "thresholds", .type = BR_CONF_PERCENTS, .flags = BR_CONF_NONEMPTY,
     AT(br_budget_conf_t, thresholds_bp),
     .cnt_off = offsetof(br_budget_conf_t, threshold_cnt),
     .def = "50, 80, 100",
     .doc = "Percent of `amount` at which an alert fires. Up to two "
            "decimals each, no duplicates; they are kept in ascending order.",
     .example = "[50, 80, 100, 120]"},
    {.key = "forecast_thresholds", .type = BR_CONF_PERCENTS,
     AT(br_budget_conf_t, forecast_bp),
     .cnt_off = offsetof(br_budget_conf_t, forecast_cnt),
     .hooks = &(const struct br_conf_hooks){.parse = parse_forecast},
     .def_doc = "`[]`",
     .doc = "Percent of `amount` that the projected period-end spend must "
            "reach to fire `budget_forecast`. Not with `rolling`.",
     .example = "[100]"},
    {.key = "burn_rates", .type = BR_CONF_LIST,
     AT(br_budget_conf_t, burn_rates),
     .cnt_off = offsetof(br_budget_conf_t, burn_rate_cnt),
     .sub = &burn_rate_section,
     .hooks = &(const struct br_conf_hooks){.parse = parse_burn_rates},
     .type_doc = "list of [burn-rate rules](#burn_rates), at most "
                 STR(BR_BURN_RATES_MAX),
     .def_doc = "`[]`",
     .doc = "Multi-window burn-rate rules: both windows must spend factor × "
            "the even pace.",
     .example = "[{long: 1h, short: 5m, factor: 14.4}, {long: 6h, short: "
                "30m, factor: 6}]"},
    {.key = "window", .type = BR_CONF_DURATION,
     AT(br_budget_conf_t, window_ms), .min = MS_PER_H, .max = 366 * MS_PER_DAY,
     .arg = BR_PERIOD_ROLLING, .dump_after = "period",
     .hooks = &(const struct br_conf_hooks){.parse = parse_window,
                                            .shown = rolling_shown},
     .def_doc = "required with `rolling` (only there)",
     .doc = "Length of the rolling window, ending at the budget's newest "
            "event time or the watermark.",
     .example = "30d"},
    {.key = "start", .type = BR_CONF_CUSTOM, .arg = BR_PERIOD_CUSTOM,
     .dump_after = "period",
     .hooks = &(const struct br_conf_hooks){.parse = parse_start,
                                            .shown = custom_shown,
                                            .text = start_text},
     .type_doc = "local date `YYYY-MM-DD`",
     .def_doc = "required with `custom` (only there)",
     .doc = "A day on which a custom period starts (at local midnight); "
            "periods run forward and backward from it.",
     .example = "2026-01-15"},
    {.key = "every", .type = BR_CONF_CUSTOM, .arg = BR_PERIOD_CUSTOM,
     .dump_after = "period",
     .hooks = &(const struct br_conf_hooks){.parse = parse_every,
                                            .shown = custom_shown,
                                            .text = every_text},
     .type_doc = "whole days (`14d`) or months (`1 month`, `3 months`, up to "
                 "120)",
     .def_doc = "required with `custom` (only there)",
     .doc = "Length of a custom period. Months keep `start`'s day of month, "
            "clamped to the month's end.",
     .example = "1 month"},
};

static const br_conf_section_t budget_section = {
    .what = "budget settings (name, amount, period, ...)", ROWS(budget_rows),
    .size = sizeof(br_budget_conf_t),
    .line_off = offsetof(br_budget_conf_t, line), .flags = BR_CONF_LINE};

static br_err_t parse_budgets(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                              const yaml_node_t *v, const char *kpath) {
    if (is_null(v))
        return BR_ERR_OK;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(cx, v, kpath, "must be a list of budgets");
    if (seq_cnt(v) == 0)
        return BR_ERR_OK;
    return read_items(cx, fr, row, v, kpath, "budget", NULL);
}


/** One model's prices -> "input=0.15,output=0.60" with the text as given. */
static br_err_t parse_model_prices(ctx_t *cx, const yaml_node_t *node,
                                   const char *path, char **out) {
    char kpath[PATH_LEN];
    br_err_t bad = BR_ERR_OK;
    br_err_t err = check_map(cx, node, path, NULL,
                             "token type -> price per 1M tokens");
    if (err)
        return err;
    if (map_cnt(node) == 0)
        return fail(cx, node, path, "must give at least one price");
    size_t len = 1;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = get_node(cx, p->key);
        yaml_node_t *v = get_node(cx, p->value);
        join_path(kpath, sizeof kpath, path, sval(k));
        int64_t nanos;
        size_t t;
        for (t = 0; t < BR_TOK__CNT; t++)
            if (strcmp(tok_names[t], sval(k)) == 0)
                break;
        if (t == BR_TOK__CNT)
            err = fail_unknown(cx, k, kpath, "token type", sval(k), tok_names,
                               BR_TOK__CNT);
        else if ((err = take_money(cx, v, kpath, false, &nanos)) == BR_ERR_OK &&
                 (memchr(sval(v), ',', slen(v)) ||
                  memchr(sval(v), '=', slen(v))))
            err = fail(cx, v, kpath, "must be a plain number");
        if ((err = go_on(&bad, err)))
            return err;
        if (v->type == YAML_SCALAR_NODE)
            len += slen(k) + 1 + slen(v) + 1;
    }
    if (bad)
        return bad;
    char *spec = malloc(len);
    if (!spec)
        return nomem(cx);
    size_t used = 0;
    spec[0] = '\0';
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = get_node(cx, p->key);
        yaml_node_t *v = get_node(cx, p->value);
        used += (size_t)snprintf(spec + used, len - used, "%s%s=%s",
                                 used ? "," : "", sval(k), sval(v));
    }
    *out = spec;
    return BR_ERR_OK;
}

/* prices.models: model name -> token type -> price per 1M tokens, kept as
 * "input=0.15,output=0.60" (the text as given) for the price table. */
static br_err_t parse_models(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                             const yaml_node_t *models, const char *kpath) {
    char mpath[PATH_LEN];
    br_config_t *conf = fr->base;
    br_err_t err, bad = BR_ERR_OK;
    (void)row;
    if (is_null(models))
        return BR_ERR_OK;
    if ((err = check_map(cx, models, kpath, NULL, "model name -> prices")))
        return err;
    size_t n = map_cnt(models);
    if (n == 0)
        return bad;
    conf->price_overrides = calloc(n, sizeof(br_kv_t));
    if (!conf->price_overrides)
        return nomem(cx);
    for (yaml_node_pair_t *p = models->data.mapping.pairs.start;
         p < models->data.mapping.pairs.top; p++) {
        yaml_node_t *k = get_node(cx, p->key);
        br_kv_t *kv = &conf->price_overrides[conf->price_override_cnt];
        join_path(mpath, sizeof mpath, kpath, sval(k));
        if ((err = parse_model_prices(cx, get_node(cx, p->value), mpath,
                                      &kv->value))) {
            if ((err = go_on(&bad, err)))
                return err;
            continue;
        }
        kv->key = xstrndup(sval(k), slen(k));
        kv->line = node_line(k);
        conf->price_override_cnt++;
        if (!kv->key)
            return nomem(cx);
    }
    return bad;
}

static void dump_models(out_t *o, const br_conf_row_t *row, const void *base);

/* prices.file is read with the config, the edge: its bytes go to the
 * pipeline, which parses them and names prices.file and its line in its
 * errors (br_pipeline_load_prices()). A file that cannot be opened leaves
 * the reason in the words jansson's json_load_file() used (its 160-byte
 * error text); one that cannot be read is the bytes read until then. Out
 * of memory leaves neither. */
static void read_prices(br_config_t *conf) {
    char chunk[65536];
    size_t n;
    br_buf_t b;
    FILE *fp = fopen(conf->prices_file, "rb");
    if (!fp) {
        char why[160];
        snprintf(why, sizeof why, "unable to open %s: %s", conf->prices_file,
                 strerror(errno));
        conf->prices_error = xstrndup(why, strlen(why));
        return;
    }
    br_buf_init(&b);
    while (!b.oom && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        br_buf_append(&b, chunk, n);
    fclose(fp);
    if (b.oom) {
        br_buf_free(&b);
        return;
    }
    conf->prices_json = b.data ? b.data : xstrndup("", 0);
    conf->prices_json_len = b.len;
}

/* prices: token events without a cost are priced from these. The table
 * itself is read with the config (read_prices()) and parsed by the
 * pipeline, which names prices.file and its line in its errors
 * (br_config_key_line()). */
static const br_conf_row_t prices_rows[] = {
    {.key = "file", .type = BR_CONF_PATH, .flags = BR_CONF_HIDE_UNSET,
     AT(br_config_t, prices_file),
     .doc = "A price table in LiteLLM's format. Point it at your copy of "
            "LiteLLM's `model_prices_and_context_window.json` from the "
            "BerriAI/litellm repository.",
     .example = "prices/model_prices_and_context_window.json"},
    {.key = "models", .type = BR_CONF_KV, .flags = BR_CONF_HIDE_UNSET,
     AT(br_config_t, price_overrides),
     .cnt_off = offsetof(br_config_t, price_override_cnt),
     .hooks = &(const struct br_conf_hooks){.parse = parse_models,
                                            .dump = dump_models},
     .type_doc = "map of model to prices",
     .doc = "Overrides and additions. Each model maps token types (`input`, "
            "`output`, `cache_read`, `cache_write`, `reasoning`) to a price "
            "in currency units **per 1M tokens**. An entry replaces the "
            "file's prices for that model.",
     .example = "{gpt-4o-mini: {input: 0.15, output: 0.60, cache_read: "
                "0.075}}"},
};

static const br_conf_section_t prices_section = {
    .what = "price settings (file, models)", ROWS(prices_rows)};

/* kafka: brokers, topics, the alert format and librdkafka properties. */

/* brokers: "host:port,host:port" or a list of host:port. */
static br_err_t parse_brokers(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                              const yaml_node_t *v, const char *kpath) {
    br_kafka_conf_t *k = fr->base;
    char **list = NULL;
    size_t cnt = 0, len = 1;
    br_err_t err;
    (void)row;
    if (is_null(v))
        return BR_ERR_OK;
    if (v->type != YAML_SEQUENCE_NODE)
        return take_str(cx, v, kpath, &k->brokers);
    err = take_str_list(cx, v, kpath, "host:port strings", &list, &cnt);
    if (!err && cnt == 0)
        err = fail(cx, v, kpath, "must not be empty");
    if (!err) {
        for (size_t i = 0; i < cnt; i++)
            len += strlen(list[i]) + 1;
        k->brokers = malloc(len);
        if (k->brokers) {
            size_t used = 0;
            k->brokers[0] = '\0';
            for (size_t i = 0; i < cnt; i++)
                used += (size_t)snprintf(k->brokers + used, len - used,
                                         "%s%s", i ? "," : "", list[i]);
        } else {
            err = nomem(cx);
        }
    }
    free_strv(list, cnt);
    return err;
}

/* alerts_avro: Avro alerts in the Confluent framing go under a schema id
 * given, or one registered at start; JSON alerts take no Avro settings.
 * Left alone when alerts_format itself has a mistake. */
static br_err_t parse_alerts_avro(ctx_t *cx, frame_t *fr,
                                  const br_conf_row_t *row,
                                  const yaml_node_t *an, const char *kpath) {
    br_kafka_conf_t *k = fr->base;
    br_avro_conf_t *a = &k->alerts_avro;
    br_err_t err, bad = BR_ERR_OK;
    char sub[PATH_LEN];
    if (fr->failed & row_bit(fr, "alerts_format"))
        return BR_ERR_OK;
    if (!k->alerts_avro_on)
        return is_null(an) ? BR_ERR_OK
                           : fail(cx, an, kpath, "is for kafka.alerts_format: "
                                                 "avro-confluent");
    if (is_null(an))
        return fail(cx, map_get(cx, fr->node, "alerts_format", NULL), kpath,
                    "alerts_format avro-confluent needs alerts_avro.schema_id "
                    "or alerts_avro.registry (the id the alert schema has, or "
                    "where to register it)");
    if ((err = read_section(cx, an, kpath, row->sub, a, (unsigned)row->arg)))
        return err;
    if ((a->schema_id >= 0) == (a->registry != NULL) &&
        (err = go_on(&bad, fail(cx, an, kpath,
                                "needs exactly one of schema_id (the id the "
                                "alert schema is registered under) or "
                                "registry (register it at start)"))))
        return err;
    join_path(sub, sizeof sub, kpath, "subject");
    if (a->subject && !a->registry &&
        (err = go_on(&bad, fail(cx, map_get(cx, an, "subject", NULL), sub,
                                "is the registry subject; it needs "
                                "registry"))))
        return err;
    return bad;
}

static bool alerts_avro_shown(const void *base) {
    return ((const br_kafka_conf_t *)base)->alerts_avro_on;
}

/* librdkafka properties that would quietly break what burnrate rests on:
 * offsets committed only once a durable snapshot covers them (the consumer
 * never stores or commits on its own), the group the snapshot names, and
 * alerts and dead letters acknowledged by every replica before the offsets
 * that produced them are committed. */
typedef enum { ROLE_CONSUMER = 1, ROLE_PRODUCER = 2 } role_t;
static const struct {
    const char *name;
    role_t role;
    const char *allowed;   /* values accepted, "a,b" ("" none) */
    const char *why;
} refused_props[] = {
    {"enable.auto.commit", ROLE_CONSUMER, "false",
     "burnrate commits offsets itself, only once a snapshot covers them; "
     "an automatic commit would skip messages after a crash"},
    {"auto.commit.enable", ROLE_CONSUMER, "false",
     "burnrate commits offsets itself, only once a snapshot covers them; "
     "an automatic commit would skip messages after a crash"},
    {"enable.auto.offset.store", ROLE_CONSUMER, "false",
     "burnrate stores offsets itself, only once a snapshot covers them"},
    {"group.id", ROLE_CONSUMER, "",
     "set kafka.group_id instead: the snapshot records the group and is "
     "only restored into the same one"},
    {"enable.idempotence", ROLE_PRODUCER, "true",
     "without it a retried alert can be written twice or out of order"},
    {"acks", ROLE_PRODUCER, "all,-1",
     "alerts and dead letters must be on every in-sync replica before the "
     "offsets that produced them are committed"},
    {"request.required.acks", ROLE_PRODUCER, "all,-1",
     "alerts and dead letters must be on every in-sync replica before the "
     "offsets that produced them are committed"},
    {"message.timeout.ms", ROLE_PRODUCER, "0",
     "an alert that times out is dropped while its offsets are committed; "
     "burnrate retries until delivered"},
    {"delivery.timeout.ms", ROLE_PRODUCER, "0",
     "an alert that times out is dropped while its offsets are committed; "
     "burnrate retries until delivered"},
};

static bool value_allowed(const char *allowed, const char *value) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", allowed);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w;
         w = strtok_r(NULL, ",", &save))
        if (strcasecmp(w, value) == 0)
            return true;
    return false;
}

/* The text " (accepted: a or b)" of a refused property's values. */
static void accepted_text(const char *allowed, char *buf, size_t size) {
    const char *comma = strchr(allowed, ',');
    if (!*allowed)
        buf[0] = '\0';
    else if (comma)
        snprintf(buf, size, " (accepted: %.*s or %s)",
                 (int)(comma - allowed), allowed, comma + 1);
    else
        snprintf(buf, size, " (accepted: %s)", allowed);
}

/* A refused property in one of the property maps (row->arg: the clients
 * it reaches) is a mistake of its own. */
static br_err_t check_props(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                            const yaml_node_t *v, const char *kpath) {
    const br_kv_t *kv = *(br_kv_t **)field(fr->base, row);
    size_t cnt = *count_of(fr->base, row);
    char ppath[PATH_LEN], only[80];
    br_err_t err, bad = BR_ERR_OK;
    (void)v;
    for (size_t i = 0; i < cnt; i++) {
        for (size_t r = 0; r < sizeof refused_props / sizeof refused_props[0];
             r++) {
            if (!(refused_props[r].role & (role_t)row->arg) ||
                strcmp(refused_props[r].name, kv[i].key) != 0 ||
                value_allowed(refused_props[r].allowed, kv[i].value))
                continue;
            accepted_text(refused_props[r].allowed, only, sizeof only);
            join_path(ppath, sizeof ppath, kpath, kv[i].key);
            yaml_node_t at = {.start_mark = {.line = (size_t)kv[i].line - 1}};
            if ((err = go_on(&bad, fail(cx, &at, ppath, "refused: %s%s",
                                        refused_props[r].why, only))))
                return err;
        }
    }
    return bad;
}

static const char *const alerts_format_names[] = {"json", "avro-confluent"};

static const br_conf_row_t kafka_rows[] = {
    {.key = "brokers", .type = BR_CONF_STR,
     .flags = BR_CONF_HIDE_UNSET | BR_CONF_URLS,
     AT(br_kafka_conf_t, brokers),
     .hooks = &(const struct br_conf_hooks){.parse = parse_brokers},
     .type_doc = "string or list of `host:port`",
     .def_doc = "none (required by `burnrate run`)",
     .doc = "`bootstrap.servers`.", .example = "kafka-1:9092,kafka-2:9092"},
    {.key = "group_id", .type = BR_CONF_STR, AT(br_kafka_conf_t, group_id),
     .def = "burnrate",
     .doc = "Consumer group. More instances with the same group share the "
            "partitions.",
     .example = "burnrate-prod"},
    {.key = "alerts_topic", .type = BR_CONF_STR,
     AT(br_kafka_conf_t, alerts_topic), .def = "burnrate.alerts",
     .doc = "Alerts are written here, keyed by alert id.",
     .example = "finops.alerts"},
    {.key = "alerts_format", .type = BR_CONF_ENUM,
     AT(br_kafka_conf_t, alerts_avro_on), .def = "json",
     NAMES(alerts_format_names), .what = "format",
     .doc = "How alerts are written: JSON, or Avro datums of the alert "
            "schema in the Confluent framing (see [Alerts](#alerts)).",
     .example = "avro-confluent"},
    {.key = "alerts_avro", .type = BR_CONF_MAP,
     AT(br_kafka_conf_t, alerts_avro), .sub = &avro_section,
     .arg = BR_CONF_ONLY_ALERTS,
     .hooks = &(const struct br_conf_hooks){.parse = parse_alerts_avro,
                                            .shown = alerts_avro_shown},
     .type_doc = "[avro](#avro-settings) map",
     .def_doc = "none; required by `avro-confluent`",
     .doc = "`schema_id` (the id the alert schema has in your registry) or "
            "`registry` (register it at start; with `subject`, default "
            "`<alerts_topic>-value`), plus `schema` (default: the built-in "
            "`schemas/alert.avsc`), `registry_username`, "
            "`registry_password`, `registry_ca_file` as for inputs. Exactly "
            "one of `schema_id` and `registry`.",
     .example = "{registry: \"https://registry:8081\"}"},
    {.key = "dead_letter_topic", .type = BR_CONF_STR,
     AT(br_kafka_conf_t, dlq_topic), .def = "burnrate.dlq",
     .doc = "Messages that cannot be decoded are written here with the "
            "reason and their origin.",
     .example = "finops.dlq"},
    {.key = "properties", .type = BR_CONF_KV,
     .flags = BR_CONF_ANY_SCALAR | BR_CONF_SECRET, AT(br_kafka_conf_t, props),
     .cnt_off = offsetof(br_kafka_conf_t, prop_cnt),
     .what = "librdkafka property -> value",
     .arg = ROLE_CONSUMER | ROLE_PRODUCER,
     .hooks = &(const struct br_conf_hooks){.check = check_props},
     .type_doc = "map of librdkafka property to value", .def_doc = "`{}`",
     .doc = "Passed unchanged to every client (consumer and producer). Use "
            "it for TLS and SASL.",
     .example = "{security.protocol: SASL_SSL}"},
    {.key = "consumer_properties", .type = BR_CONF_KV,
     .flags = BR_CONF_ANY_SCALAR | BR_CONF_SECRET,
     AT(br_kafka_conf_t, consumer_props),
     .cnt_off = offsetof(br_kafka_conf_t, consumer_prop_cnt),
     .what = "librdkafka property -> value", .arg = ROLE_CONSUMER,
     .hooks = &(const struct br_conf_hooks){.check = check_props},
     .type_doc = "map", .def_doc = "`{}`", .doc = "Consumer only.",
     .example = "{fetch.max.bytes: 52428800}"},
    {.key = "producer_properties", .type = BR_CONF_KV,
     .flags = BR_CONF_ANY_SCALAR | BR_CONF_SECRET,
     AT(br_kafka_conf_t, producer_props),
     .cnt_off = offsetof(br_kafka_conf_t, producer_prop_cnt),
     .what = "librdkafka property -> value", .arg = ROLE_PRODUCER,
     .hooks = &(const struct br_conf_hooks){.check = check_props},
     .type_doc = "map", .def_doc = "`{}`", .doc = "Producer only.",
     .example = "{linger.ms: 20}"},
};

static const br_conf_section_t kafka_section = {
    .what = "Kafka settings", ROWS(kafka_rows)};

/* state, dedup, limits, log: keys of the top level, grouped. */

static const br_conf_row_t state_rows[] = {
    {.key = "dir", .type = BR_CONF_PATH, .flags = BR_CONF_RESTART,
     AT(br_config_t, state_dir), .def = "burnrate-state",
     .def_doc = "`burnrate-state` next to the config file",
     .doc = "Directory for durable snapshots; created if missing, must be "
            "writable.",
     .example = "/var/lib/burnrate"},
    {.key = "snapshot_interval", .type = BR_CONF_DURATION,
     AT(br_config_t, snapshot_interval_ms), .def = "30s", .min = 100,
     .doc = "Wall-clock time between snapshots (taken only when something "
            "changed). Offsets are committed at this cadence, so it bounds "
            "what a crash re-reads.",
     .example = "10s"},
    {.key = "keep", .type = BR_CONF_INT, AT(br_config_t, snapshot_keep),
     .def = "3", .min = 1, .max = 100,
     .doc = "Snapshot generations kept.", .example = "5"},
    {.key = "unready_after", .type = BR_CONF_INT,
     AT(br_config_t, snapshot_unready_after), .def = "3", .min = 0,
     .max = 1000000,
     .doc = "Snapshots failed in a row after which `/readyz` answers 503 "
            "(and `burnrate_snapshot_failing` is 1) until one succeeds; `0`: "
            "never. Failed snapshots are retried after 1 s, 2 s, 4 s, then "
            "every 5 s (see [Crashes, restarts](#crashes-restarts-and-the-"
            "broker-going-away)).",
     .example = "10"},
};

static const br_conf_section_t state_section = {
    .what = "state settings", ROWS(state_rows)};

static const br_conf_row_t dedup_rows[] = {
    {.key = "window", .type = BR_CONF_DURATION,
     AT(br_config_t, dedup_window_ms), .def = "48h", .min = MS_PER_S,
     .doc = "Default of `inputs[].dedup_window` (billing inputs: at least "
            "`" BILLING_DEDUP_WINDOW "`): an event id is remembered this far behind the input's "
            "newest event time; a second event with the same id and input "
            "within it is counted as a duplicate (or a restatement), not as "
            "spend.",
     .example = "7d"},
    {.key = "max_ids", .type = BR_CONF_INT, AT(br_config_t, dedup_max_ids),
     .def = "1000000", .min = 0, .max = 100000000,
     .doc = "Default of `inputs[].dedup_max_ids`, the memory cap of each "
            "input: beyond it the oldest ids are forgotten early (counted as "
            "`dedup_evicted` in the stats line). 40 bytes an id plus 8 to 16 "
            "in the index; 0 turns deduplication off.",
     .example = "5000000"},
};

static const br_conf_section_t dedup_section = {
    .what = "dedup settings", ROWS(dedup_rows)};

static const br_conf_row_t limits_rows[] = {
    {.key = "max_message_bytes", .type = BR_CONF_INT,
     AT(br_config_t, max_message_bytes), .def = "524288", .min = 1024,
     .max = 1000000000,
     .doc = "Larger messages are sent to the dead-letter topic instead of "
            "being decoded.",
     .example = "1048576"},
};

static const br_conf_section_t limits_section = {
    .what = "limit settings", ROWS(limits_rows)};

static const char *const log_format_names[] = {
    [BR_LOG_FORMAT_LOGFMT] = "logfmt", [BR_LOG_FORMAT_JSON] = "json"};

static const br_conf_row_t log_rows[] = {
    {.key = "level", .type = BR_CONF_ENUM, AT(br_config_t, log_level),
     .def = "info", NAMES(log_level_names), .what = "level",
     .doc = "Log verbosity; `--log-level` overrides it.", .example = "debug"},
    {.key = "format", .type = BR_CONF_ENUM, AT(br_config_t, log_format),
     .def = "logfmt", NAMES(log_format_names), .what = "format",
     .doc = "Log lines as key=value pairs or one JSON object each (see "
            "[Logs](#logs)); `--log-format` overrides it.",
     .example = "json"},
};

static const br_conf_section_t log_section = {
    .what = "log settings", ROWS(log_rows)};

/* http.listen: "off", or HOST:PORT with an IPv6 host in brackets; port 0
 * asks the kernel for one. The address is resolved when the daemon binds. */
static bool split_listen(char *s, char **host, long *port) {
    char *colon, *end;
    *host = s;
    if (**host == '[') {
        char *close = strchr(*host, ']');
        colon = close && close[1] == ':' ? close + 1 : NULL;
        if (colon) {
            *close = '\0';
            (*host)++;
        }
    } else {
        colon = strrchr(*host, ':');
        if (colon && strchr(*host, ':') != colon)
            colon = NULL; /* a bare IPv6 address: its port is ambiguous */
    }
    *port = -1;
    if (colon && colon[1]) {
        errno = 0;
        *port = strtol(colon + 1, &end, 10);
        if (errno || *end || colon[1] == '-' || colon[1] == '+')
            *port = -1;
    }
    if (!colon || colon == *host || *port < 0 || *port > 65535)
        return false;
    *colon = '\0';
    return true;
}

static br_err_t parse_listen(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                             const yaml_node_t *v, const char *kpath) {
    br_http_conf_t *http = fr->base;
    char *s = NULL, *host;
    long port;
    br_err_t err;
    (void)row;
    if (is_null(v))
        return BR_ERR_OK;
    if ((err = take_str(cx, v, kpath, &s)))
        return err;
    http->given = true;
    http->line = node_line(v);
    if (strcmp(s, "off") == 0) {
        http->on = false;
        free(s);
        return BR_ERR_OK;
    }
    /* The message quotes s as split_listen() left it ("[::1" of
     * "[::1]:99999"), as it always has. */
    if (!split_listen(s, &host, &port)) {
        err = fail(cx, v, kpath,
                   "\"%s\" is not HOST:PORT (e.g. 127.0.0.1:%d, [::1]:%d, "
                   "0.0.0.0:%d, port 0 for any free port) or off", s,
                   BR_HTTP_DEFAULT_PORT, BR_HTTP_DEFAULT_PORT,
                   BR_HTTP_DEFAULT_PORT);
        free(s);
        return err;
    }
    free(http->host);
    http->host = xstrndup(host, strlen(host));
    http->port = (int)port;
    http->on = true;
    free(s);
    return http->host ? BR_ERR_OK : nomem(cx);
}

static br_err_t init_listen(ctx_t *cx, const br_conf_row_t *row, void *base) {
    br_http_conf_t *http = base;
    (void)row;
    http->on = true;
    http->port = BR_HTTP_DEFAULT_PORT;
    http->host = xstrndup(BR_HTTP_DEFAULT_HOST, strlen(BR_HTTP_DEFAULT_HOST));
    return http->host ? BR_ERR_OK : nomem(cx);
}

static void listen_text(const void *base, char *buf, size_t size) {
    const br_http_conf_t *http = base;
    bool v6 = http->host && strchr(http->host, ':');
    if (http->on)
        snprintf(buf, size, "%s%s%s:%d", v6 ? "[" : "",
                 http->host ? http->host : "", v6 ? "]" : "", http->port);
    else
        snprintf(buf, size, "off");
}

static const br_conf_row_t http_rows[] = {
    {.key = "listen", .type = BR_CONF_CUSTOM, .flags = BR_CONF_RESTART,
     .restart_why = "the listener is bound at start",
     .hooks = &(const struct br_conf_hooks){.parse = parse_listen,
                                            .init = init_listen,
                                            .text = listen_text},
     .type_doc = "`HOST:PORT`, `[IPv6]:PORT` or `off`",
     .def_doc = "`" BR_HTTP_DEFAULT_HOST ":" STR(BR_HTTP_DEFAULT_PORT) "`",
     .doc = "Where `burnrate run` serves `/metrics`, `/healthz` and "
            "`/readyz`. Port `0` takes any free port; the bound address is "
            "logged (`msg=\"http listening\" address=...`). `0.0.0.0:9477` "
            "exposes it beyond this host. A listen address set here that "
            "cannot be bound stops the start; the default one, when taken (a "
            "second instance on the host), only warns.",
     .example = "0.0.0.0:9477"},
};

static const br_conf_section_t http_section = {
    .what = "HTTP settings", ROWS(http_rows)};

/* Inputs without their own dedup_window or dedup_max_ids take the dedup
 * section's, read by now. */
static br_err_t dedup_follow(ctx_t *cx, frame_t *fr, const br_conf_row_t *row,
                             const yaml_node_t *v, const char *kpath) {
    (void)cx, (void)row, (void)v, (void)kpath;
    input_dedup_defaults(fr->base);
    return BR_ERR_OK;
}

/* The top level. Each section is read whatever the others hold: one run
 * reports the mistakes of all of them. */
static const br_conf_row_t root_rows[] = {
    {.key = "currency", .type = BR_CONF_CURRENCY, .flags = BR_CONF_RESTART,
     AT(br_config_t, currency), .def = "USD",
     .restart_why = "the state's sums are in it",
     .type_doc = "ISO 4217 code (3 uppercase letters)",
     .doc = "Currency of the stage. Costs, spike floors, budgets and alerts "
            "are in it."},
    {.key = "inputs", .type = BR_CONF_LIST, .flags = BR_CONF_RELOAD_RULE,
     AT(br_config_t, inputs), .cnt_off = offsetof(br_config_t, input_cnt),
     .restart_why = "the topics and format of inputs that have topics, and "
                    "adding or removing such an input",
     .sub = &input_section,
     .hooks = &(const struct br_conf_hooks){.parse = parse_inputs},
     .type_doc = "list of [inputs](#inputs)",
     .def_doc = "required, at least one",
     .doc = "Where cost data comes from."},
    {.key = "scopes", .type = BR_CONF_LIST, AT(br_config_t, scopes),
     .cnt_off = offsetof(br_config_t, scope_cnt), .sub = &scope_section,
     .hooks = &(const struct br_conf_hooks){.parse = parse_scopes},
     .type_doc = "list of [scopes](#scopes)",
     .def_doc = "one scope `total` with no dimensions",
     .doc = "Which series are tracked."},
    {.key = "spike", .type = BR_CONF_MAP, AT(br_config_t, spike),
     .sub = &spike_section, .type_doc = "[spike](#spike) map",
     .def_doc = "see below", .doc = "Spike and new-spend rule parameters."},
    {.key = "budgets", .type = BR_CONF_LIST, AT(br_config_t, budgets),
     .cnt_off = offsetof(br_config_t, budget_cnt), .sub = &budget_section,
     .hooks = &(const struct br_conf_hooks){.parse = parse_budgets},
     .type_doc = "list of [budgets](#budgets)", .def_doc = "none",
     .doc = "Spend limits per calendar, custom or rolling period, with "
            "forecasts and burn rates."},
    {.key = "prices", .type = BR_CONF_MAP, .sub = &prices_section,
     .type_doc = "[prices](#prices) map", .def_doc = "none",
     .doc = "Price table for token events that carry no cost."},
    {.key = "kafka", .type = BR_CONF_MAP, .flags = BR_CONF_RESTART,
     AT(br_config_t, kafka), .sub = &kafka_section,
     .type_doc = "[kafka](#kafka) map", .def_doc = "see below",
     .doc = "Brokers, topics and librdkafka properties."},
    {.key = "state", .type = BR_CONF_MAP, .sub = &state_section,
     .type_doc = "map", .def_doc = "see below",
     .doc = "%s: durable snapshots."},
    {.key = "dedup", .type = BR_CONF_MAP, .sub = &dedup_section,
     .hooks = &(const struct br_conf_hooks){.check = dedup_follow},
     .type_doc = "map", .def_doc = "see below",
     .doc = "%s: counting re-delivered events once."},
    {.key = "limits", .type = BR_CONF_MAP, .sub = &limits_section,
     .type_doc = "map", .def_doc = "see below", .doc = "%s."},
    {.key = "log", .type = BR_CONF_MAP, .sub = &log_section,
     .type_doc = "map", .def_doc = "see below", .doc = "%s."},
    {.key = "http", .type = BR_CONF_MAP, AT(br_config_t, http),
     .sub = &http_section, .type_doc = "map", .def_doc = "see below",
     .doc = "%s: the [metrics and health](#metrics-and-health) endpoint."},
};

static const br_conf_section_t root_section = {
    .what = "settings (inputs, scopes, budgets, ...)", ROWS(root_rows)};

const br_conf_section_t *br_conftab_root(void) {
    return &root_section;
}

static br_err_t parse_root(ctx_t *cx, const yaml_node_t *root,
                           br_config_t *conf) {
    if (is_null(root))
        return fail(cx, root, "",
                    "the configuration is empty; at least inputs is required");
    return read_section(cx, root, "", &root_section, conf, 0);
}

static br_err_t syntax_error(ctx_t *cx, const yaml_parser_t *parser) {
    const char *problem = parser->problem ? parser->problem : "syntax error";
    yaml_node_t at = {.start_mark = parser->problem_mark};
    if (parser->error == YAML_MEMORY_ERROR)
        return nomem(cx);
    /* A syntax error ends the parse: it is the one mistake reported. */
    if (parser->context)
        return fail(cx, &at, NULL, "YAML syntax error at column %zu: %s (%s at "
                                 "line %zu)", parser->problem_mark.column + 1,
                    problem, parser->context, parser->context_mark.line + 1);
    return fail(cx, &at, NULL, "YAML syntax error at column %zu: %s",
                parser->problem_mark.column + 1, problem);
}

/* ------------------------------------------------------------------------ */
/* ${...} in values                                                         */

/* Keep each value substituted for a reference, once: none may be printed. */
static void note_secret(void *opaque, const char *value) {
    ctx_t *cx = opaque;
    br_config_t *conf = cx->conf;
    for (size_t i = 0; i < conf->secret_cnt; i++)
        if (strcmp(conf->secrets[i], value) == 0)
            return;
    char **g = realloc(conf->secrets, (conf->secret_cnt + 1) * sizeof *g);
    if (!g || !(g[conf->secret_cnt] = xstrndup(value, strlen(value)))) {
        if (g)
            conf->secrets = g;
        cx->oom = true;
        return;
    }
    conf->secrets = g;
    conf->secret_cnt++;
}

/* Expand ${...} in every scalar value (never in keys) below node, each
 * node once (an alias shares its anchor's node), before anything reads it.
 * The text as written is kept for the dump. */
static br_err_t expand_node(ctx_t *cx, int idx, const char *path, bool key) {
    char sub[PATH_LEN], why[1024];
    yaml_node_t *node = get_node(cx, idx);
    br_err_t err, bad = BR_ERR_OK;
    if (!node || idx < 1 || (size_t)idx > cx->node_cnt || cx->expanded[idx - 1])
        return BR_ERR_OK;
    cx->expanded[idx - 1] = true;
    if (node->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
             p < node->data.mapping.pairs.top; p++) {
            yaml_node_t *k = get_node(cx, p->key);
            join_path(sub, sizeof sub, path,
                      k && k->type == YAML_SCALAR_NODE ? sval(k) : "?");
            if ((err = go_on(&bad, expand_node(cx, p->key, sub, true))) ||
                (err = go_on(&bad, expand_node(cx, p->value, sub, false))))
                return err;
        }
        return bad;
    }
    if (node->type == YAML_SEQUENCE_NODE) {
        size_t i = 0;
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++, i++) {
            index_path(sub, sizeof sub, path, i);
            if ((err = go_on(&bad, expand_node(cx, *it, sub, false))))
                return err;
        }
        return bad;
    }
    if (key || !memchr(sval(node), '$', slen(node)) ||
        strlen(sval(node)) != slen(node))
        return BR_ERR_OK;
    char *out = NULL;
    bool changed = false;
    err = br_expand(sval(node), cx->base_dir, note_secret, cx, &out, &changed,
                    why, sizeof why);
    if (err == BR_ERR_NOMEM || cx->oom) {
        free(out);
        return nomem(cx);
    }
    if (err) {
        err = fail(cx, node, path, "%s", why);
        cx->unexpanded[idx - 1] = true;
        return err;
    }
    if (!changed) {
        free(out);
        return BR_ERR_OK;
    }
    br_config_t *conf = cx->conf;
    br_kv_t *g = realloc(conf->refs, (conf->ref_cnt + 1) * sizeof *g);
    if (!g) {
        free(out);
        return nomem(cx);
    }
    conf->refs = g;
    g[conf->ref_cnt].key = xstrndup(sval(node), slen(node));
    g[conf->ref_cnt].value = xstrndup(out, strlen(out));
    g[conf->ref_cnt].line = node_line(node);
    if (!g[conf->ref_cnt].key || !g[conf->ref_cnt].value) {
        free(g[conf->ref_cnt].key);
        free(g[conf->ref_cnt].value);
        free(out);
        return nomem(cx);
    }
    conf->ref_cnt++;
    /* The node now holds the value; libyaml frees it with free(). */
    free(node->data.scalar.value);
    node->data.scalar.value = (yaml_char_t *)out;
    node->data.scalar.length = strlen(out);
    return BR_ERR_OK;
}

/* Replace in s (in place, cut to size) every value that came from a
 * ${...} by [redacted]: messages and dumps never show one. */
static void scrub_values(const br_config_t *conf, char *s, size_t size) {
    if (!conf)
        return;
    for (size_t i = 0; i < conf->secret_cnt; i++) {
        const char *v = conf->secrets[i];
        size_t vl = strlen(v), rl = strlen(BR_REDACTED);
        if (vl < BR_CONFIG_SECRET_MIN)
            continue;
        for (char *p = strstr(s, v); p; p = strstr(p + rl, v)) {
            size_t tail = strlen(p + vl);
            if ((size_t)(p - s) + rl + tail + 1 > size)
                tail = size - (size_t)(p - s) - rl - 1;
            if ((size_t)(p - s) + rl + 1 > size) {
                *p = '\0';
                break;
            }
            memmove(p + rl, p + vl, tail);
            p[rl + tail] = '\0';
            memcpy(p, BR_REDACTED, rl);
        }
    }
}

/* Every mistake, sorted by line (in the order found within a line), one
 * per line of errstr. */
static void report(ctx_t *cx) {
    size_t used = 0;
    if (!cx->errstr || !cx->errstr_size)
        return;
    cx->errstr[0] = '\0';
    if (cx->oom) {
        snprintf(cx->errstr, cx->errstr_size, "%s: out of memory", cx->name);
        return;
    }
    /* Insertion sort: stable, and the lists are short. */
    for (size_t i = 1; i < cx->err_cnt; i++) {
        cerr_t t = cx->errs[i];
        size_t j = i;
        for (; j > 0 && cx->errs[j - 1].line > t.line; j--)
            cx->errs[j] = cx->errs[j - 1];
        cx->errs[j] = t;
    }
    for (size_t i = 0; i < cx->err_cnt; i++) {
        int n = snprintf(cx->errstr + used, cx->errstr_size - used, "%s%s",
                         i ? "\n" : "", cx->errs[i].text);
        if (n < 0 || (size_t)n >= cx->errstr_size - used) {
            /* Cut at a whole line, and say how many did not fit. */
            char more[64];
            cx->errstr[used] = '\0';
            snprintf(more, sizeof more, "\n%s: ... and %zu more", cx->name,
                     cx->err_cnt - i);
            if (used + strlen(more) < cx->errstr_size)
                strcat(cx->errstr + used, more);
            break;
        }
        used += (size_t)n;
    }
}

static br_config_t *load(const char *yaml, size_t len, const char *name,
                         const char *base_dir, bool *mistakes, char *errstr,
                         size_t errstr_size) {
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool have_doc = false, have_extra = false;
    ctx_t cx = {.doc = &doc, .name = name ? name : "(config)",
                .base_dir = base_dir, .errstr = errstr,
                .errstr_size = errstr_size};
    br_err_t err = BR_ERR_OK;

    br_config_t *conf = calloc(1, sizeof *conf);
    if (!conf) {
        cx.oom = true;
        report(&cx);
        return NULL;
    }
    cx.conf = conf;
    if (!yaml_parser_initialize(&parser)) {
        free(conf);
        cx.oom = true;
        report(&cx);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        err = syntax_error(&cx, &parser);
        goto done;
    }
    have_doc = true;
    if (!yaml_parser_load(&parser, &extra)) {
        err = syntax_error(&cx, &parser);
        goto done;
    }
    have_extra = true;
    yaml_node_t *second = yaml_document_get_root_node(&extra);
    if (second) {
        err = fail(&cx, second, "",
                   "only one YAML document per configuration file");
        goto done;
    }
    conf->path = xstrndup(cx.name, strlen(cx.name));
    if (!conf->path) {
        err = nomem(&cx);
        goto done;
    }
    cx.node_cnt = (size_t)(doc.nodes.top - doc.nodes.start);
    cx.expanded = calloc(cx.node_cnt + 1, sizeof(bool));
    cx.unexpanded = calloc(cx.node_cnt + 1, sizeof(bool));
    if (!cx.expanded || !cx.unexpanded) {
        err = nomem(&cx);
        goto done;
    }
    /* Every default first: a key left out, or read with a mistake, keeps
     * its row's. */
    if ((err = init_section(&cx, &root_section, conf)))
        goto done;
    /* A value whose reference cannot be expanded is reported and read as
     * written; the load fails anyway. */
    if (go_on(&err, expand_node(&cx, 1, "", false)) == BR_ERR_OK)
        err = parse_root(&cx, yaml_document_get_root_node(&doc), conf);

done:
    if (conf->prices_file)
        read_prices(conf);
    if (have_extra)
        yaml_document_delete(&extra);
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    free(cx.expanded);
    free(cx.unexpanded);
    for (size_t i = 0; i < cx.zone_cnt; i++)
        free(cx.zones[i]);
    free(cx.zones);
    free(cx.near);
    if (err || cx.err_cnt || cx.oom) {
        /* A config with mistakes goes back only to br_config_load_check(),
         * and only once its YAML was read (conf->path set). */
        bool keep = mistakes && !cx.oom && conf->path && err != BR_ERR_NOMEM;
        report(&cx);
        for (size_t i = 0; i < cx.err_cnt; i++)
            free(cx.errs[i].text);
        free(cx.errs);
        if (keep) {
            *mistakes = true;
            return conf;
        }
        br_config_destroy(conf);
        return NULL;
    }
    free(cx.errs);
    return conf;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

br_config_t *br_config_load_string(const char *yaml, const char *name,
                                   const char *base_dir, char *errstr,
                                   size_t errstr_size) {
    return load(yaml, strlen(yaml), name, base_dir, NULL, errstr, errstr_size);
}

static br_config_t *load_file(const char *path, bool *mistakes,
                              char *errstr, size_t errstr_size);

br_config_t *br_config_load(const char *path, char *errstr,
                            size_t errstr_size) {
    return load_file(path, NULL, errstr, errstr_size);
}

br_config_t *br_config_load_check(const char *path, bool *mistakes,
                                  char *errstr, size_t errstr_size) {
    *mistakes = false;
    return load_file(path, mistakes, errstr, errstr_size);
}

static br_config_t *load_file(const char *path, bool *mistakes,
                              char *errstr, size_t errstr_size) {
    char *buf = NULL, *dir = NULL;
    br_config_t *conf = NULL;
    size_t len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: cannot open: %s", path,
                  strerror(errno));
        return NULL;
    }
    buf = malloc(CONFIG_FILE_MAX + 1);
    if (!buf) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    len = fread(buf, 1, CONFIG_FILE_MAX + 1, fp);
    if (ferror(fp)) {
        int e = errno;
        br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: cannot read: %s", path,
                  strerror(e));
        goto done;
    }
    if (len > CONFIG_FILE_MAX) {
        br_seterr(errstr, errstr_size, BR_ERR_LIMIT,
                  "%s: larger than %u bytes; not a configuration file", path,
                  CONFIG_FILE_MAX);
        goto done;
    }
    const char *slash = strrchr(path, '/');
    if (slash) {
        dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
        if (!dir) {
            br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "%s: out of memory",
                      path);
            goto done;
        }
    }
    conf = load(buf, len, path, dir, mistakes, errstr, errstr_size);

done:
    free(dir);
    free(buf);
    fclose(fp);
    return conf;
}

static void free_mapping(br_mapping_t *m) {
    free(m->time);
    free(m->time_end);
    free(m->cost);
    free(m->currency);
    free_strv(m->id, m->id_cnt);
    free(m->model);
    free(m->provider);
    for (int t = 0; t < BR_TOK__CNT; t++)
        free(m->tokens[t]);
    free_kv(m->dims, m->dim_cnt);
}

static void free_avro(br_avro_conf_t *a) {
    free(a->schema);
    free(a->schema_json);
    free(a->schema_dir);
    free(a->registry);
    free(a->subject);
    free(a->registry_username);
    free(a->registry_password);
    free(a->registry_ca_file);
}

void br_config_destroy(br_config_t *conf) {
    if (!conf)
        return;
    for (size_t i = 0; i < conf->input_cnt; i++) {
        br_input_conf_t *in = &conf->inputs[i];
        free(in->name);
        free_strv(in->topics, in->topic_cnt);
        free_strv(in->files, in->file_cnt);
        free_mapping(&in->mapping);
        free(in->cost_column);
        free_strv(in->charge_categories, in->charge_category_cnt);
        free_avro(&in->avro);
    }
    free(conf->inputs);
    for (size_t i = 0; i < conf->scope_cnt; i++) {
        free(conf->scopes[i].name);
        free_strv(conf->scopes[i].dims, conf->scopes[i].dim_cnt);
        free_strv(conf->scopes[i].inputs, conf->scopes[i].input_cnt);
    }
    free(conf->scopes);
    for (size_t i = 0; i < conf->budget_cnt; i++) {
        br_budget_conf_t *b = &conf->budgets[i];
        free(b->name);
        free_kv(b->match, b->match_cnt);
        free(b->timezone);
        br_tz_destroy(b->tz);
        free(b->thresholds_bp);
        free(b->forecast_bp);
        free(b->burn_rates);
    }
    free(conf->budgets);
    for (size_t i = 0; i < conf->key_line_cnt; i++)
        free(conf->key_lines[i].path);
    free(conf->key_lines);
    free_kv(conf->refs, conf->ref_cnt);
    free_strv(conf->secrets, conf->secret_cnt);
    free(conf->prices_file);
    free(conf->prices_json);
    free(conf->prices_error);
    free_kv(conf->price_overrides, conf->price_override_cnt);
    free(conf->kafka.brokers);
    free(conf->kafka.group_id);
    free(conf->kafka.alerts_topic);
    free_avro(&conf->kafka.alerts_avro);
    free(conf->kafka.dlq_topic);
    free_kv(conf->kafka.props, conf->kafka.prop_cnt);
    free_kv(conf->kafka.consumer_props, conf->kafka.consumer_prop_cnt);
    free_kv(conf->kafka.producer_props, conf->kafka.producer_prop_cnt);
    free(conf->state_dir);
    free(conf->http.host);
    free(conf->path);
    free(conf);
}

int br_config_key_line(const br_config_t *conf, const char *path) {
    char buf[PATH_LEN];
    snprintf(buf, sizeof buf, "%s", path);
    for (;;) {
        for (size_t i = 0; i < conf->key_line_cnt; i++)
            if (strcmp(conf->key_lines[i].path, buf) == 0)
                return conf->key_lines[i].line;
        /* Not given: the nearest enclosing key that was. */
        char *cut = strrchr(buf, '.');
        char *br = strrchr(buf, '[');
        if (br && (!cut || br > cut))
            cut = br;
        if (!cut)
            return 1;
        *cut = '\0';
    }
}

void br_config_scrub(const br_config_t *conf, char *s, size_t size) {
    scrub_values(conf, s, size);
}

bool br_config_is_secret_value(const br_config_t *conf, const char *value) {
    for (size_t i = 0; conf && i < conf->secret_cnt; i++)
        if (strcmp(conf->secrets[i], value) == 0)
            return true;
    return false;
}

/* The line number of "FILE:LINE: ...", 0 when there is none. The file
 * name may hold colons: the first ":<digits>:" counts. */
static long error_line(const char *l) {
    for (const char *p = strchr(l, ':'); p; p = strchr(p + 1, ':')) {
        char *end;
        if (!isdigit((unsigned char)p[1]))
            continue;
        long n = strtol(p + 1, &end, 10);
        if (*end == ':')
            return n;
    }
    return 0;
}

void br_config_merge_errors(char *dst, size_t size, const char *more) {
    size_t dl = strlen(dst), ml = more ? strlen(more) : 0;
    if (!ml || !size)
        return;
    char *a = xstrndup(dst, dl), *b = xstrndup(more, ml);
    char *l[512];
    size_t n = 0, used = 0;
    if (!a || !b) {
        free(a);
        free(b);
        return;
    }
    char *parts[2] = {a, b};
    for (int k = 0; k < 2; k++)
        for (char *save = NULL, *t = strtok_r(parts[k], "\n", &save);
             t && n < 512; t = strtok_r(NULL, "\n", &save))
            l[n++] = t;
    /* Insertion sort by line: stable, dst's lines first on equal lines. */
    for (size_t i = 1; i < n; i++) {
        char *t = l[i];
        size_t j = i;
        for (; j > 0 && error_line(l[j - 1]) > error_line(t); j--)
            l[j] = l[j - 1];
        l[j] = t;
    }
    dst[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(dst + used, size - used, "%s%s", used ? "\n" : "",
                         l[i]);
        if (w < 0 || (size_t)w >= size - used) {
            dst[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    free(a);
    free(b);
}

int br_config_input_index(const br_config_t *conf, const char *name) {
    for (size_t i = 0; i < conf->input_cnt; i++)
        if (strcmp(conf->inputs[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *br_dialect_name(br_dialect_t dialect) {
    return (unsigned)dialect < BR_DIALECT__CNT ? dialect_names[dialect]
                                               : "unknown";
}

br_err_t br_dialect_parse(const char *name, br_dialect_t *out) {
    for (int d = 0; d < BR_DIALECT__CNT; d++) {
        if (strcmp(dialect_names[d], name) == 0) {
            *out = (br_dialect_t)d;
            return BR_ERR_OK;
        }
    }
    return BR_ERR_INVAL;
}

/* ------------------------------------------------------------------------ */
/* Dump: the effective configuration as YAML that loads back to itself.     */

struct out {
    yaml_emitter_t em;
    bool ok;
    const br_config_t *conf;     /* its ${...} values print as written */
};

static void emit(out_t *o, yaml_event_t *ev) {
    if (!o->ok) {
        yaml_event_delete(ev);
        return;
    }
    if (!yaml_emitter_emit(&o->em, ev))
        o->ok = false;
}

/* The written text of a ${...} value equal to s, or NULL. */
static const char *ref_of(const br_config_t *conf, const char *s) {
    for (size_t i = 0; conf && i < conf->ref_cnt; i++)
        if (strcmp(conf->refs[i].value, s) == 0)
            return conf->refs[i].key;
    return NULL;
}

/* The text the dump prints for s: a value that came from ${...} as it was
 * written (also inside a longer value, such as a resolved path), any other
 * value a reference stood for as [redacted], and a literal $ before $ or {
 * as $$, so that the dump loads back to the same configuration. */
static char *dump_text(const br_config_t *conf, const char *s) {
    const char *ref = ref_of(conf, s);
    if (ref)
        return xstrndup(ref, strlen(ref));
    size_t cap = strlen(s) * 2 + 1, len = 0;
    char *out = malloc(cap);
    for (const char *p = s; out && *p;) {
        const char *put = NULL;
        size_t skip = 0;
        for (size_t i = 0; conf && !put && i < conf->ref_cnt; i++) {
            size_t vl = strlen(conf->refs[i].value);
            if (vl >= BR_CONFIG_SECRET_MIN &&
                strncmp(p, conf->refs[i].value, vl) == 0) {
                put = conf->refs[i].key;
                skip = vl;
            }
        }
        for (size_t i = 0; conf && !put && i < conf->secret_cnt; i++) {
            size_t vl = strlen(conf->secrets[i]);
            if (vl >= BR_CONFIG_SECRET_MIN &&
                strncmp(p, conf->secrets[i], vl) == 0) {
                put = BR_REDACTED;
                skip = vl;
            }
        }
        if (!put && p[0] == '$' && (p[1] == '$' || p[1] == '{')) {
            put = "$$";
            skip = 1;
        }
        size_t pl = put ? strlen(put) : 1;
        if (len + pl + 1 > cap) {
            cap = (len + pl + 1) * 2;
            char *g = realloc(out, cap);
            if (!g) {
                free(out);
                return NULL;
            }
            out = g;
        }
        memcpy(out + len, put ? put : p, pl);
        len += pl;
        p += put ? skip : 1;
    }
    if (out)
        out[len] = '\0';
    return out;
}

static void o_scalar(out_t *o, const char *s, yaml_scalar_style_t style) {
    yaml_event_t ev;
    if (!o->ok)
        return;
    char *text = dump_text(o->conf, s);
    if (!text) {
        o->ok = false;
        return;
    }
    if (strcmp(text, s) != 0 && style == YAML_PLAIN_SCALAR_STYLE)
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
                                      (const yaml_char_t *)text,
                                      (int)strlen(text), 1, 1, style)) {
        free(text);
        o->ok = false;
        return;
    }
    free(text);
    emit(o, &ev);
}

static bool looks_plain(const char *s) {
    static const char *const reserved[] = {
        "null", "true", "false", "yes", "no", "on", "off", "y", "n"};
    if (!isalpha((unsigned char)s[0]) && s[0] != '_' && s[0] != '/')
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_./-@", *p))
            return false;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(s, reserved[i]) == 0)
            return false;
    return true;
}

/** A user string: plain when unambiguous, else double-quoted and escaped. */
static void o_str(out_t *o, const char *s) {
    o_scalar(o, s, looks_plain(s) ? YAML_PLAIN_SCALAR_STYLE
                                  : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void o_plain(out_t *o, const char *s) {
    o_scalar(o, s, YAML_PLAIN_SCALAR_STYLE);
}

static void o_map(out_t *o, bool flow) {
    yaml_event_t ev;
    if (!o->ok)
        return;
    if (!yaml_mapping_start_event_initialize(
            &ev, NULL, NULL, 1,
            flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)) {
        o->ok = false;
        return;
    }
    emit(o, &ev);
}

static void o_map_end(out_t *o) {
    yaml_event_t ev;
    if (o->ok && yaml_mapping_end_event_initialize(&ev))
        emit(o, &ev);
}

static void o_seq(out_t *o, bool flow) {
    yaml_event_t ev;
    if (!o->ok)
        return;
    if (!yaml_sequence_start_event_initialize(
            &ev, NULL, NULL, 1,
            flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE)) {
        o->ok = false;
        return;
    }
    emit(o, &ev);
}

static void o_seq_end(out_t *o) {
    yaml_event_t ev;
    if (o->ok && yaml_sequence_end_event_initialize(&ev))
        emit(o, &ev);
}

static void o_kv_str(out_t *o, const char *key, const char *value) {
    o_plain(o, key);
    o_str(o, value);
}

static void o_str_list(out_t *o, const char *key, char *const *items,
                       size_t cnt) {
    o_plain(o, key);
    o_seq(o, true);
    for (size_t i = 0; i < cnt; i++)
        o_str(o, items[i]);
    o_seq_end(o);
}

static void o_money(out_t *o, const char *key, int64_t nanos) {
    char buf[40];
    br_money_format(nanos, buf, sizeof buf);
    o_plain(o, key);
    o_plain(o, buf);
}

static void o_int(out_t *o, const char *key, int64_t n) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, n);
    o_plain(o, key);
    o_plain(o, buf);
}

/** Shortest text that reads back as the same double. */
static void o_double(out_t *o, const char *key, double d) {
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    o_plain(o, key);
    o_plain(o, buf);
}

static void o_duration(out_t *o, const char *key, int64_t ms) {
    char buf[32];
    format_duration(ms, buf, sizeof buf);
    o_plain(o, key);
    o_plain(o, buf);
}

/* A value printed by the dump: a secret key's is hidden whole, a URL's
 * user:password part wherever it appears. */
static const char *shown(const out_t *o, char *buf, size_t size,
                         const char *key, const char *value, bool redact) {
    /* A secret given as ${...} prints as its reference, which is no secret. */
    if (redact && br_redact_is_secret(key) && !ref_of(o->conf, value))
        return BR_REDACTED;
    return br_redact_urls(buf, size, value);
}

static void o_kv_map(out_t *o, const char *key, const br_kv_t *kv, size_t cnt,
                     bool redact) {
    o_plain(o, key);
    o_map(o, cnt == 0);
    for (size_t i = 0; i < cnt; i++) {
        char buf[4096];
        o_str(o, kv[i].key);
        o_str(o, shown(o, buf, sizeof buf, kv[i].key, kv[i].value, redact));
    }
    o_map_end(o);
}

static void o_bp_list(out_t *o, const char *key, const int32_t *bps,
                      size_t cnt) {
    char buf[40];
    o_plain(o, key);
    o_seq(o, true);
    for (size_t i = 0; i < cnt; i++) {
        int32_t bp = bps[i];
        if (bp % 100 == 0)
            snprintf(buf, sizeof buf, "%d", (int)(bp / 100));
        else if (bp % 10 == 0)
            snprintf(buf, sizeof buf, "%d.%d", (int)(bp / 100),
                     (int)(bp % 100 / 10));
        else
            snprintf(buf, sizeof buf, "%d.%02d", (int)(bp / 100),
                     (int)(bp % 100));
        o_plain(o, buf);
    }
    o_seq_end(o);
}

/* Whether the value of row is printed: never for a key folded into
 * another, not when a rule says so, not while unset for a key that is
 * left out then. */
static bool dumped(const br_conf_row_t *row, const void *base) {
    const void *p = cfield(base, row);
    if ((row->flags & BR_CONF_NO_DUMP) ||
        (row->hooks && row->hooks->shown && !row->hooks->shown(base)))
        return false;
    if (!(row->flags & BR_CONF_HIDE_UNSET))
        return true;
    if (row->type == BR_CONF_INT)
        return get_num(p, row->size) >= 0;
    return *(void *const *)p != NULL;
}

/* The name of an enum's value; an unknown one prints as the default. */
static const char *enum_name(const br_conf_row_t *row, int64_t v) {
    for (size_t i = 0; i < row->name_cnt; i++)
        if ((row->values ? row->values[i] : (int)i) == v)
            return row->names[i];
    return row->def ? row->def : row->names[0];
}

/* A string as the dump shows it: a secret hidden unless it was written as
 * ${...}, the user:password of URLs hidden. */
static const char *shown_str(const out_t *o, const br_conf_row_t *row,
                             const char *s, char *buf, size_t size) {
    if ((row->flags & BR_CONF_SECRET) && !ref_of(o->conf, s))
        return BR_REDACTED;
    if (row->flags & BR_CONF_URLS)
        return br_redact_urls(buf, size, s);
    return s;
}

static void dump_section(out_t *o, const br_conf_section_t *sec,
                         const void *base);

static void dump_items(out_t *o, const br_conf_row_t *row, const void *base) {
    const char *items = *(char *const *)cfield(base, row);
    size_t cnt = ccount_of(base, row);
    o_seq(o, false);
    for (size_t i = 0; i < cnt; i++)
        dump_section(o, row->sub, items + i * row->sub->size);
    o_seq_end(o);
}

/* One key and its value, by type, or as its hooks print it. */
static void dump_row(out_t *o, const br_conf_row_t *row, const void *base) {
    const struct br_conf_hooks *h = row->hooks;
    const void *p = cfield(base, row);
    const char *k = row->key;
    char buf[4096];
    if (!dumped(row, base))
        return;
    if (h && h->dump) {
        o_plain(o, k);
        h->dump(o, row, base);
        return;
    }
    if (h && h->text) {
        h->text(base, buf, sizeof buf);
        o_kv_str(o, k, buf);
        return;
    }
    switch (row->type) {
    case BR_CONF_STR:
    case BR_CONF_PATH:
        o_kv_str(o, k, shown_str(o, row, *(char *const *)p, buf, sizeof buf));
        break;
    case BR_CONF_INT:
        o_int(o, k, get_num(p, row->size));
        break;
    case BR_CONF_DOUBLE:
        o_double(o, k, *(const double *)p);
        break;
    case BR_CONF_DURATION:
        o_duration(o, k, *(const int64_t *)p);
        break;
    case BR_CONF_MONEY:
        o_money(o, k, *(const int64_t *)p);
        break;
    case BR_CONF_ENUM:
        o_kv_str(o, k, enum_name(row, get_num(p, row->size)));
        break;
    case BR_CONF_CURRENCY:
        o_kv_str(o, k, p);
        break;
    case BR_CONF_STRS:
    case BR_CONF_PATHS:
        o_str_list(o, k, *(char **const *)p, ccount_of(base, row));
        break;
    case BR_CONF_PERCENTS:
        o_bp_list(o, k, *(int32_t *const *)p, ccount_of(base, row));
        break;
    case BR_CONF_KV:
        o_kv_map(o, k, *(br_kv_t *const *)p, ccount_of(base, row),
                 (row->flags & BR_CONF_SECRET) != 0);
        break;
    case BR_CONF_MAP:
        o_plain(o, k);
        dump_section(o, row->sub, p);
        break;
    case BR_CONF_LIST:
        o_plain(o, k);
        dump_items(o, row, base);
        break;
    case BR_CONF_CUSTOM:
        break;
    }
}

/* Row i of sec, then the rows printed right after it (dump_after). */
static void order_from(const br_conf_section_t *sec, size_t i, size_t *order,
                       size_t *n) {
    order[(*n)++] = i;
    for (size_t j = 0; j < sec->row_cnt; j++)
        if (sec->rows[j].dump_after &&
            strcmp(sec->rows[j].dump_after, sec->rows[i].key) == 0)
            order_from(sec, j, order, n);
}

size_t br_conftab_order(const br_conf_section_t *sec, size_t *order) {
    size_t n = 0;
    for (size_t i = 0; i < sec->row_cnt; i++)
        if (!sec->rows[i].dump_after)
            order_from(sec, i, order, &n);
    return n;
}

static void dump_section(out_t *o, const br_conf_section_t *sec,
                         const void *base) {
    size_t order[ROWS_MAX], n = br_conftab_order(sec, order);
    o_map(o, (sec->flags & BR_CONF_FLOW) != 0);
    for (size_t i = 0; i < n; i++)
        dump_row(o, &sec->rows[order[i]], base);
    o_map_end(o);
}



/** Write a price spec "input=0.15,output=0.60" back as a flow mapping. */
static void dump_price_spec(out_t *o, const char *spec) {
    char *copy = xstrndup(spec, strlen(spec));
    if (!copy) {
        o->ok = false;
        return;
    }
    o_map(o, true);
    char *save = NULL;
    for (char *part = strtok_r(copy, ",", &save); part;
         part = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(part, '=');
        if (eq) {
            *eq = '\0';
            o_plain(o, part);
            o_plain(o, eq + 1);
        }
    }
    o_map_end(o);
    free(copy);
}

static void dump_id(out_t *o, const br_conf_row_t *row, const void *base) {
    const br_mapping_t *m = base;
    (void)row;
    if (m->id_cnt == 1) {
        o_str(o, m->id[0]);
        return;
    }
    o_seq(o, true);
    for (size_t i = 0; i < m->id_cnt; i++)
        o_str(o, m->id[i]);
    o_seq_end(o);
}



static void dump_models(out_t *o, const br_conf_row_t *row,
                        const void *base) {
    const br_config_t *conf = base;
    (void)row;
    o_map(o, false);
    for (size_t i = 0; i < conf->price_override_cnt; i++) {
        o_str(o, conf->price_overrides[i].key);
        dump_price_spec(o, conf->price_overrides[i].value);
    }
    o_map_end(o);
}

void br_config_dump(const br_config_t *conf, FILE *fp) {
    out_t o = {.ok = true, .conf = conf};
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&o.em))
        return;
    /* Written before the emitter starts, which buffers until it flushes. */
    fputs("# burnrate effective configuration: defaults filled in, secrets "
          "redacted\n", fp);
    yaml_emitter_set_output_file(&o.em, fp);
    yaml_emitter_set_unicode(&o.em, 1);
    yaml_emitter_set_indent(&o.em, 2);
    yaml_emitter_set_width(&o.em, -1);

    if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
        emit(&o, &ev);
    if (yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))
        emit(&o, &ev);
    dump_section(&o, &root_section, conf);
    if (o.ok && yaml_document_end_event_initialize(&ev, 1))
        emit(&o, &ev);
    if (o.ok && yaml_stream_end_event_initialize(&ev))
        emit(&o, &ev);
    if (o.ok)
        yaml_emitter_flush(&o.em);
    yaml_emitter_delete(&o.em);
}

/* ------------------------------------------------------------------------ */
/* Reload: what a running stage cannot take without a restart              */

typedef struct walk {
    br_conf_change_fn fn;
    void *opaque;
} walk_t;

/* A restart key's name-value map: each name added, removed or changed. */
static void diff_kv(const walk_t *w, const char *path, const br_kv_t *a,
                    size_t a_cnt, const br_kv_t *b, size_t b_cnt) {
    char kpath[PATH_LEN];
    for (size_t i = 0; i < a_cnt; i++) {
        size_t j = 0;
        while (j < b_cnt && strcmp(a[i].key, b[j].key) != 0)
            j++;
        join_path(kpath, sizeof kpath, path, a[i].key);
        if (j == b_cnt)
            w->fn(w->opaque, kpath, 0, "removed");
        else if (!same_str(a[i].value, b[j].value))
            w->fn(w->opaque, kpath, b[j].line, "changed");
    }
    for (size_t j = 0; j < b_cnt; j++) {
        size_t i = 0;
        while (i < a_cnt && strcmp(a[i].key, b[j].key) != 0)
            i++;
        join_path(kpath, sizeof kpath, path, b[j].key);
        if (i == a_cnt)
            w->fn(w->opaque, kpath, b[j].line, "added");
    }
}

static bool same_strs(char *const *a, size_t a_cnt, char *const *b,
                      size_t b_cnt) {
    if (a_cnt != b_cnt)
        return false;
    for (size_t i = 0; i < a_cnt; i++)
        if (!same_str(a[i], b[i]))
            return false;
    return true;
}

/* Whether the value of row is the same in a (old) and b (new). */
static bool same_value(const br_conf_row_t *row, const void *a,
                       const void *b) {
    const void *p = cfield(a, row), *q = cfield(b, row);
    char x[512], y[512];
    if (row->hooks && row->hooks->text) {
        row->hooks->text(a, x, sizeof x);
        row->hooks->text(b, y, sizeof y);
        return strcmp(x, y) == 0;
    }
    switch (row->type) {
    case BR_CONF_STR:
    case BR_CONF_PATH:
        return same_str(*(char *const *)p, *(char *const *)q);
    case BR_CONF_CURRENCY:
        return strcmp(p, q) == 0;
    case BR_CONF_DOUBLE:
        return *(const double *)p == *(const double *)q;
    case BR_CONF_STRS:
    case BR_CONF_PATHS:
        return same_strs(*(char **const *)p, ccount_of(a, row),
                         *(char **const *)q, ccount_of(b, row));
    case BR_CONF_PERCENTS:
        return ccount_of(a, row) == ccount_of(b, row) &&
               (!ccount_of(a, row) ||
                !memcmp(*(int32_t *const *)p, *(int32_t *const *)q,
                        ccount_of(a, row) * sizeof(int32_t)));
    default:
        return get_num(p, row->size) == get_num(q, row->size);
    }
}

/* One key under a restart row: reported when it differs. */
static void diff_row(const walk_t *w, const br_conf_row_t *row, const void *a,
                     const void *b, const char *kpath) {
    char what[128];
    const char *why = NULL;
    if (row->type == BR_CONF_KV) {
        diff_kv(w, kpath, *(br_kv_t *const *)cfield(a, row), ccount_of(a, row),
                *(br_kv_t *const *)cfield(b, row), ccount_of(b, row));
        return;
    }
    if (row->hooks && row->hooks->diff)
        why = row->hooks->diff(a, b);
    else if (!same_value(row, a, b))
        why = "changed";
    if (!why)
        return;
    if (row->restart_why)
        snprintf(what, sizeof what, "%s (%s)", why, row->restart_why);
    else
        snprintf(what, sizeof what, "%s", why);
    w->fn(w->opaque, kpath, 0, what);
}

/* Every key of sec under a restart row (restart: the section's own row is
 * one), in table order; lists are reload.c's. */
static void diff_section(const walk_t *w, const br_conf_section_t *sec,
                         const void *a, const void *b, const char *path,
                         bool restart) {
    char kpath[PATH_LEN];
    for (size_t i = 0; i < sec->row_cnt; i++) {
        const br_conf_row_t *row = &sec->rows[i];
        bool r = restart || (row->flags & BR_CONF_RESTART);
        join_path(kpath, sizeof kpath, path, row->key);
        if (row->type == BR_CONF_MAP)
            diff_section(w, row->sub, cfield(a, row), cfield(b, row), kpath,
                         r);
        else if (r && row->type != BR_CONF_LIST)
            diff_row(w, row, a, b, kpath);
    }
}

void br_conftab_restart_changes(const br_config_t *old,
                                const br_config_t *conf,
                                br_conf_change_fn fn, void *opaque) {
    walk_t w = {fn, opaque};
    diff_section(&w, &root_section, old, conf, "", false);
}

const br_conf_row_t *br_conftab_find(const char *path) {
    const br_conf_section_t *sec = &root_section;
    const br_conf_row_t *row = NULL;
    char buf[PATH_LEN];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *key = strtok_r(buf, ".", &save); key;
         key = strtok_r(NULL, ".", &save)) {
        size_t i = 0;
        if (!sec)
            return NULL;
        while (i < sec->row_cnt && strcmp(sec->rows[i].key, key) != 0)
            i++;
        if (i == sec->row_cnt)
            return NULL;
        row = &sec->rows[i];
        sec = row->sub;
    }
    return row;
}
