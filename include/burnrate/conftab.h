/*
 * The property table of the configuration: one row per key, after
 * librdkafka's rdkafka_conf.c and Fluent Bit's config maps. A row says
 * where the value lives (offsetof into the config structs), its type,
 * default, bounds and accepted names, whether a reload may change it, and
 * its documentation. The loader (src/cmd/config.c) reads, defaults and dumps
 * every key from its row, reload (src/cmd/reload.c) takes its restart rules
 * from the rows, and src/cmd/confdoc.c writes the configuration reference of
 * the README and the man page from them. What ties one key to another is
 * hand-written next to the rows (struct br_conf_hooks, private to
 * config.c).
 */
#ifndef BURNRATE_CONFTAB_H
#define BURNRATE_CONFTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "burnrate/config.h"

typedef enum {
    BR_CONF_STR,       /* non-empty string (char *) */
    BR_CONF_PATH,      /* a string resolved against the config's directory */
    BR_CONF_INT,       /* whole number in [min, max] (int, int64_t or size_t) */
    BR_CONF_DOUBLE,    /* number in [dmin, dmax] (double) */
    BR_CONF_DURATION,  /* "90s", "5m", "1h30m" (int64_t ms), at least min */
    BR_CONF_MONEY,     /* exact amount (int64_t nanos), 0 or more */
    BR_CONF_ENUM,      /* one of names (stored as values[i], or i) */
    BR_CONF_CURRENCY,  /* ISO 4217 code (char[BR_CURRENCY_MAX]) */
    BR_CONF_STRS,      /* list of distinct strings (char **, count) */
    BR_CONF_PATHS,     /* BR_CONF_STRS, each resolved like BR_CONF_PATH */
    BR_CONF_PERCENTS,  /* list of percents (int32_t * basis points, count) */
    BR_CONF_KV,        /* mapping of name to string (br_kv_t *, count) */
    BR_CONF_MAP,       /* a section of its own (sub), at off */
    BR_CONF_LIST,      /* list of sections (sub; array at off, count) */
    BR_CONF_CUSTOM,    /* read and printed by hooks only */
} br_conf_type_t;

/* Row flags. */
#define BR_CONF_REQUIRED 0x001u   /* absent: "is required" */
#define BR_CONF_RESTART 0x002u    /* a reload may not change it; a map: no
                                     key in it */
#define BR_CONF_RELOAD_RULE 0x004u /* a reload may change it unless a rule
                                      in reload.c says otherwise */
#define BR_CONF_OPEN_MIN 0x008u   /* DOUBLE, MONEY: greater than min */
#define BR_CONF_NONEMPTY 0x010u   /* PERCENTS: at least one */
#define BR_CONF_HIDE_UNSET 0x020u /* dump: left out while unset (NULL, or
                                     below 0) */
#define BR_CONF_NO_DUMP 0x040u    /* dump: never printed (folded into
                                     another key) */
#define BR_CONF_URLS 0x080u       /* dump: user:password in URLs redacted */
#define BR_CONF_SECRET 0x100u     /* dump: redacted unless written as ${...};
                                     KV: the values of keys that look
                                     secret */
#define BR_CONF_ANY_SCALAR 0x200u /* KV: numbers and booleans pass as text */

#define BR_CONF_ROWS_MAX 32        /* rows of one section at most */

/* Section flags. */
#define BR_CONF_FLOW 0x1u          /* dump: one line, {a: 1, b: 2} */
#define BR_CONF_REQUIRED_FIRST 0x2u /* a required key missing: nothing else
                                       of the section is read */
#define BR_CONF_LINE 0x4u          /* LIST items note their line (line_off) */

struct br_conf_hooks;             /* config.c: the hand-written rules */
struct br_conf_section;

typedef struct br_conf_row {
    const char *key;
    br_conf_type_t type;
    unsigned flags;
    unsigned only;               /* a section read in several places: the
                                    places that accept the key (0: all) */
    size_t off, size;            /* the field in the section's struct */
    size_t cnt_off;              /* lists and KV: the count (size_t) */
    const char *def;             /* default as written in YAML (lists: items
                                    joined by ", "); NULL: none, or set by
                                    a rule (def_doc says which) */
    int64_t min, max;            /* INT; DURATION in ms (max 0: none) */
    double dmin, dmax;           /* DOUBLE */
    const char *const *names;    /* ENUM: accepted names */
    const int *values;           /* ENUM: the value of each (NULL: index) */
    size_t name_cnt;
    const char *what;            /* ENUM: what a name is ("dialect"); lists
                                    and KV: what the items are */
    const struct br_conf_section *sub; /* MAP, LIST */
    const char *dump_after;      /* dump: printed right after this key */
    const char *restart_why;     /* BR_CONF_RESTART: why, in the refusal
                                    "changed (WHY)"; BR_CONF_RELOAD_RULE:
                                    what the rule refuses (reference) */
    int arg;                     /* a hook's parameter */
    const struct br_conf_hooks *hooks;
    /* The reference (README, man page): */
    const char *type_doc;        /* NULL: from type and bounds */
    const char *def_doc;         /* NULL: from def */
    const char *doc;             /* what it does (a map's: "%s" stands
                                    for its keys) */
    const char *example;
} br_conf_row_t;

typedef struct br_conf_section {
    const char *what;            /* "spike rule settings": the message when
                                    it is no mapping */
    const br_conf_row_t *rows;
    size_t row_cnt;
    size_t size;                 /* LIST: the size of one item */
    size_t line_off;             /* BR_CONF_LINE: the item's int line */
    unsigned flags;
    const struct br_conf_hooks *hooks;
} br_conf_section_t;

/* Places that read the avro section (row.only). */
#define BR_CONF_ONLY_INPUT 0x1u   /* inputs[].avro */
#define BR_CONF_ONLY_ALERTS 0x2u  /* kafka.alerts_avro */

/** @returns the top-level section: every key is below it. */
const br_conf_section_t *br_conftab_root(void);

/** @brief The rows of sec in the order the dump and the reference show
 *         them (table order, a row with dump_after right after that key).
 * @param order at least sec->row_cnt indexes into sec->rows.
 * @returns sec->row_cnt. */
size_t br_conftab_order(const br_conf_section_t *sec, size_t *order);

/** @returns the row of a key path such as "spike.bucket" or
 *           "inputs.avro.schema" (list items without an index), or NULL. */
const br_conf_row_t *br_conftab_find(const char *path);

/** A key of conf that differs from old and needs a restart: line is its
 *  line in conf, 0 when not known (the nearest enclosing key's then). */
typedef void (*br_conf_change_fn)(void *opaque, const char *path, int line,
                                  const char *what);

/** @brief Call fn for every key under a BR_CONF_RESTART row whose value
 *         differs between old and conf, in table order. Lists are left to
 *         the rules of reload.c. */
void br_conftab_restart_changes(const br_config_t *old,
                                const br_config_t *conf,
                                br_conf_change_fn fn, void *opaque);

/** @brief Write the reference tables of the README: every
 *         "<!-- conftab: SECTION... -->" block of text (up to its
 *         "<!-- /conftab -->") replaced by the tables generated from the
 *         rows, the rest as it is.
 * @returns 0, or -1 with why set (an unknown section, a block not closed). */
int br_conftab_markdown(const char *text, FILE *out, char *why,
                        size_t why_size);

/** @brief br_conftab_markdown() of the README at path.
 * @param text set to the file as it is, generated to what it should be
 *        (both malloc'd, for the caller to free; NULL when not made).
 * @returns 0, or -1 with why set. */
int br_conftab_readme(const char *path, char **text, char **generated,
                      char *why, size_t why_size);

/** @brief Write the CONFIGURATION section of the man page (troff). */
void br_conftab_troff(FILE *out);

#endif
