/*
 * The configuration reference, written from the property table: the key
 * tables of the README (between "<!-- conftab: ... -->" markers, so the
 * prose around them stays hand-written) and the CONFIGURATION section of
 * the man page. A row's type, bounds, accepted names and default say what
 * the reference says, so the two cannot disagree with the loader.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/buf.h"
#include "burnrate/conftab.h"

#define README_MAX (4u << 20)
#define MARK_BEGIN "<!-- conftab: "
#define MARK_END "<!-- /conftab -->"
#define MS_UNITS_CNT 5

/* A duration in ms as written in a config: the largest exact unit. */
static void put_duration(br_buf_t *b, int64_t ms) {
    static const struct {
        int64_t ms;
        const char *unit;
    } units[MS_UNITS_CNT] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"},
                             {1000, "s"}, {1, "ms"}};
    for (size_t i = 0; i < MS_UNITS_CNT; i++) {
        if (ms % units[i].ms == 0) {
            br_buf_printf(b, "`%lld%s`", (long long)(ms / units[i].ms),
                          ms ? units[i].unit : "s");
            return;
        }
    }
}

/* "`a`, `b` or `c`". */
static void put_names(br_buf_t *b, const br_conf_row_t *row) {
    for (size_t i = 0; i < row->name_cnt; i++)
        br_buf_printf(b, "%s`%s`",
                      i == 0                  ? ""
                      : i + 1 < row->name_cnt ? ", "
                                              : " or ",
                      row->names[i]);
}

/* The type column made from the row's type and bounds. */
static void put_type(br_buf_t *b, const br_conf_row_t *row) {
    bool open = (row->flags & BR_CONF_OPEN_MIN) != 0;
    switch (row->type) {
    case BR_CONF_STR:
        br_buf_puts(b, row->what ? row->what : "string");
        break;
    case BR_CONF_PATH:
        br_buf_puts(b, "path");
        break;
    case BR_CONF_INT:
        br_buf_printf(b, "integer, %lld to %lld", (long long)row->min,
                      (long long)row->max);
        break;
    case BR_CONF_DOUBLE:
        br_buf_printf(b, open ? "number > %.15g" : "number, at least %.15g",
                      row->dmin);
        br_buf_printf(b, ", at most %.15g", row->dmax);
        break;
    case BR_CONF_DURATION:
        br_buf_puts(b, "duration");
        if (row->min && row->max) {
            br_buf_puts(b, ", ");
            put_duration(b, row->min);
            br_buf_puts(b, " to ");
            put_duration(b, row->max);
        } else if (row->min) {
            br_buf_puts(b, ", at least ");
            put_duration(b, row->min);
        } else if (row->max) {
            br_buf_puts(b, ", at most ");
            put_duration(b, row->max);
        }
        break;
    case BR_CONF_MONEY:
        br_buf_puts(b, open ? "money > 0" : "money, at least 0");
        break;
    case BR_CONF_ENUM:
        put_names(b, row);
        break;
    case BR_CONF_CURRENCY:
        br_buf_puts(b, "ISO 4217 code");
        break;
    case BR_CONF_STRS:
    case BR_CONF_PATHS:
        br_buf_printf(b, "list of %s", row->what ? row->what : "strings");
        break;
    case BR_CONF_PERCENTS:
        br_buf_puts(b, "list of percents, each > 0 and at most 1000, with up "
                       "to two decimals");
        break;
    case BR_CONF_KV:
    case BR_CONF_MAP:
        br_buf_puts(b, "map");
        break;
    case BR_CONF_LIST:
        br_buf_puts(b, "list");
        break;
    case BR_CONF_CUSTOM:
        br_buf_puts(b, "string");
        break;
    }
}

/* type_doc, where "%s" stands for the text made from type and bounds. */
static void put_type_doc(br_buf_t *b, const br_conf_row_t *row) {
    const char *at = row->type_doc ? strstr(row->type_doc, "%s") : NULL;
    if (!row->type_doc) {
        put_type(b, row);
    } else if (!at) {
        br_buf_puts(b, row->type_doc);
    } else {
        br_buf_append(b, row->type_doc, (size_t)(at - row->type_doc));
        put_type(b, row);
        br_buf_puts(b, at + 2);
    }
}

static void put_default(br_buf_t *b, const br_conf_row_t *row) {
    if (row->def_doc)
        br_buf_puts(b, row->def_doc);
    else if (row->def && row->type == BR_CONF_PERCENTS)
        br_buf_printf(b, "`[%s]`", row->def);
    else if (row->def)
        br_buf_printf(b, "`%s`", row->def);
    else
        br_buf_puts(b, row->flags & BR_CONF_REQUIRED ? "required" : "none");
}

/* The doc, where "%s" in a map's stands for its keys. */
static void put_doc(br_buf_t *b, const br_conf_row_t *row) {
    const char *doc = row->doc ? row->doc : "";
    const char *at = row->sub ? strstr(doc, "%s") : NULL;
    if (!at) {
        br_buf_puts(b, doc);
        return;
    }
    br_buf_append(b, doc, (size_t)(at - doc));
    for (size_t i = 0; i < row->sub->row_cnt; i++)
        br_buf_printf(b, "%s`%s`", i ? ", " : "", row->sub->rows[i].key);
    br_buf_puts(b, at + 2);
}

/* An example as code, unless it is written as markdown already. */
static void put_example(br_buf_t *b, const char *ex) {
    if (ex && strchr(ex, '`'))
        br_buf_puts(b, ex);
    else if (ex)
        br_buf_printf(b, "`%s`", ex);
}

/* One section of a marker: its path and whether its keys show it. */
typedef struct part {
    const br_conf_section_t *sec;
    char path[128];
    bool dotted;
} part_t;

/* The section at path ("" the top level; "inputs.avro"), or NULL. */
static const br_conf_section_t *section_at(const char *path) {
    const br_conf_row_t *row;
    if (!*path)
        return br_conftab_root();
    row = br_conftab_find(path);
    return row ? row->sub : NULL;
}

static bool any_example(const part_t *parts, size_t cnt) {
    for (size_t p = 0; p < cnt; p++)
        for (size_t i = 0; i < parts[p].sec->row_cnt; i++)
            if (parts[p].sec->rows[i].example)
                return true;
    return false;
}

/* A cell: its text with | escaped. */
static void put_cell(br_buf_t *row, const br_buf_t *cell) {
    br_buf_puts(row, " ");
    for (size_t i = 0; i < cell->len; i++)
        br_buf_puts(row, cell->data[i] == '|' ? "\\|"
                                              : (char[2]){cell->data[i], 0});
    br_buf_puts(row, " |");
}

/* The table of the sections a marker names, rows in dump order. */
static void put_table(br_buf_t *b, const part_t *parts, size_t cnt) {
    bool examples = any_example(parts, cnt);
    br_buf_puts(b, examples ? "| key | type | default | meaning | example |\n"
                              "|---|---|---|---|---|\n"
                            : "| key | type | default | meaning |\n"
                              "|---|---|---|---|\n");
    for (size_t p = 0; p < cnt; p++) {
        size_t order[BR_CONF_ROWS_MAX];
        size_t n = br_conftab_order(parts[p].sec, order);
        for (size_t i = 0; i < n; i++) {
            const br_conf_row_t *row = &parts[p].sec->rows[order[i]];
            br_buf_t cell;
            br_buf_init(&cell);
            br_buf_puts(b, "|");
            br_buf_printf(&cell, "`%s%s%s`", parts[p].dotted ? parts[p].path : "",
                          parts[p].dotted ? "." : "", row->key);
            put_cell(b, &cell);
            br_buf_reset(&cell);
            put_type_doc(&cell, row);
            put_cell(b, &cell);
            br_buf_reset(&cell);
            put_default(&cell, row);
            put_cell(b, &cell);
            br_buf_reset(&cell);
            put_doc(&cell, row);
            put_cell(b, &cell);
            if (examples) {
                br_buf_reset(&cell);
                put_example(&cell, row->example);
                put_cell(b, &cell);
            }
            br_buf_puts(b, "\n");
            br_buf_free(&cell);
        }
    }
}

/* What a reload cannot change, one item a key (a map: every key in it),
 * and the rows whose rule is reload.c's. */
static void put_restart(br_buf_t *b, const br_conf_section_t *sec,
                        const char *path) {
    for (size_t i = 0; i < sec->row_cnt; i++) {
        const br_conf_row_t *row = &sec->rows[i];
        char kpath[128];
        snprintf(kpath, sizeof kpath, "%s%s%s", path, *path ? "." : "",
                 row->key);
        if ((row->flags & BR_CONF_RESTART) && row->type == BR_CONF_MAP) {
            br_buf_printf(b, "- every `%s` key:", kpath);
            for (size_t k = 0; k < row->sub->row_cnt; k++)
                br_buf_printf(b, "%s `%s`", k ? "," : "",
                              row->sub->rows[k].key);
            br_buf_puts(b, "\n");
        } else if (row->flags & (BR_CONF_RESTART | BR_CONF_RELOAD_RULE)) {
            br_buf_printf(b, "- `%s`%s%s\n", kpath,
                          row->restart_why ? ": " : "",
                          row->restart_why ? row->restart_why : "");
        } else if (row->type == BR_CONF_MAP) {
            put_restart(b, row->sub, kpath);
        }
    }
}

/* The generated text of one marker ("spike", "state.* dedup.*",
 * "restart"). @returns false when it names no section. */
static bool put_block(br_buf_t *b, const char *spec, char *why,
                      size_t why_size) {
    part_t parts[8];
    size_t cnt = 0;
    char words[256];
    snprintf(words, sizeof words, "%s", spec);
    if (strcmp(words, "restart") == 0) {
        put_restart(b, br_conftab_root(), "");
        br_buf_puts(b, "\n"); /* nor a line of the last item */
        return true;
    }
    for (char *save = NULL, *w = strtok_r(words, " ", &save); w && cnt < 8;
         w = strtok_r(NULL, " ", &save)) {
        part_t *p = &parts[cnt];
        size_t len = strlen(w);
        p->dotted = len > 2 && strcmp(w + len - 2, ".*") == 0;
        if (p->dotted)
            w[len - 2] = '\0';
        snprintf(p->path, sizeof p->path, "%s", strcmp(w, "top") ? w : "");
        if (!(p->sec = section_at(p->path))) {
            snprintf(why, why_size, "no section \"%s\" in the table", w);
            return false;
        }
        cnt++;
    }
    put_table(b, parts, cnt);
    br_buf_puts(b, "\n"); /* the end marker is no table row */
    return cnt > 0;
}

int br_conftab_markdown(const char *text, FILE *out, char *why,
                        size_t why_size) {
    br_buf_t b;
    const char *line = text;
    int rc = 0;
    br_buf_init(&b);
    while (*line && rc == 0) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        fwrite(line, 1, len, out);
        if (strncmp(line, MARK_BEGIN, strlen(MARK_BEGIN)) == 0) {
            char spec[256];
            const char *s = line + strlen(MARK_BEGIN);
            const char *close = strstr(s, " -->");
            const char *after = strstr(line + len - 1, "\n" MARK_END);
            if (!close || close > line + len || !after) {
                snprintf(why, why_size, "a conftab block is not closed with "
                                        "%s", MARK_END);
                rc = -1;
                break;
            }
            snprintf(spec, sizeof spec, "%.*s", (int)(close - s), s);
            br_buf_reset(&b);
            if (!put_block(&b, spec, why, why_size)) {
                rc = -1;
                break;
            }
            fwrite(b.data, 1, b.len, out);
            len = (size_t)(after + 1 - line);
        }
        line += len;
    }
    br_buf_free(&b);
    return rc;
}

/* The whole of a README, NUL-terminated; NULL with why set. */
static char *read_all(const char *path, char *why, size_t why_size) {
    FILE *fp = fopen(path, "rb");
    char *buf = fp ? malloc(README_MAX + 1) : NULL;
    size_t len = buf ? fread(buf, 1, README_MAX + 1, fp) : 0;
    if (!fp || !buf || len > README_MAX)
        snprintf(why, why_size, "cannot read: %s",
                 !fp ? strerror(errno) : buf ? "larger than 4 MiB"
                                             : "out of memory");
    if (fp)
        fclose(fp);
    if (!buf || len > README_MAX) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int br_conftab_readme(const char *path, char **text, char **generated,
                      char *why, size_t why_size) {
    size_t len = 0;
    FILE *fp;
    *generated = NULL;
    if (!(*text = read_all(path, why, why_size)))
        return -1;
    if (!(fp = open_memstream(generated, &len))) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    int rc = br_conftab_markdown(*text, fp, why, why_size);
    if (fclose(fp) != 0 && rc == 0) {
        snprintf(why, why_size, "out of memory");
        rc = -1;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The man page                                                             */

/* A UTF-8 character (×, —) as groff's \[uXXXX], which needs no input
 * encoding. @returns the bytes it took, 0 when s is no UTF-8 lead. */
static size_t put_utf8(FILE *out, const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 0;
    unsigned long cp = n == 4 ? u[0] & 0x07u : n == 3 ? u[0] & 0x0fu
                                                      : u[0] & 0x1fu;
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (u[i] & 0x3fu);
    }
    if (n)
        fprintf(out, "\\[u%04lX]", cp);
    return n;
}

/* Markdown of a doc cell as troff text: `code` and **strong** bold, links
 * their text; troff's escape, a leading dot and hyphens in code escaped. */
static void put_troff(FILE *out, const char *s) {
    size_t n;
    bool code = false;
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '`') {
            fputs((code = !code) ? "\\fB" : "\\fR", out);
        } else if (!code && s[0] == '*' && s[1] == '*') {
            const char *end = strstr(s + 2, "**");
            if (end) {
                fprintf(out, "\\fB%.*s\\fR", (int)(end - s - 2), s + 2);
                s = end + 1;
            } else {
                fputc('*', out);
            }
        } else if (!code && *s == '[' && strstr(s, "](")) {
            const char *mid = strstr(s, "](");
            const char *close = strchr(mid, ')');
            fprintf(out, "%.*s", (int)(mid - s - 1), s + 1);
            s = close ? close : mid + 1;
        } else if ((n = put_utf8(out, s)) != 0) {
            s += n - 1;
        } else if (*s == '\\') {
            fputs("\\e", out);
        } else if (*s == '-' && code) {
            fputs("\\-", out);
        } else if (*s == '\n') {
            fputs("\n", out);
            if (s[1] == '.' || s[1] == '\'')
                fputs("\\&", out);
        } else {
            fputc(*s, out);
        }
    }
}

typedef struct seen {
    const br_conf_section_t *secs[64];
    size_t cnt;
} seen_t;

static bool seen_before(seen_t *seen, const br_conf_section_t *sec) {
    for (size_t i = 0; i < seen->cnt; i++)
        if (seen->secs[i] == sec)
            return true;
    if (seen->cnt < 64)
        seen->secs[seen->cnt++] = sec;
    return false;
}

/* One section: a subsection of its keys, then the sections inside it. */
static void troff_section(FILE *out, const br_conf_section_t *sec,
                          const char *path, bool restart, seen_t *seen) {
    size_t order[BR_CONF_ROWS_MAX], n = br_conftab_order(sec, order);
    br_buf_t b;
    br_buf_init(&b);
    fprintf(out, ".SS \"%s\"\n", *path ? path : "top level");
    for (size_t i = 0; i < n; i++) {
        const br_conf_row_t *row = &sec->rows[order[i]];
        br_buf_reset(&b);
        put_type_doc(&b, row);
        br_buf_puts(&b, "; default: ");
        put_default(&b, row);
        if (restart ||
            (row->flags & (BR_CONF_RESTART | BR_CONF_RELOAD_RULE)))
            br_buf_printf(&b, "; a reload cannot change it%s%s%s",
                          row->restart_why ? " (" : "",
                          row->restart_why ? row->restart_why : "",
                          row->restart_why ? ")" : "");
        br_buf_puts(&b, ".\n");
        put_doc(&b, row);
        fprintf(out, ".TP\n\\fB%s\\fR\n", row->key); /* keys: [a-z_] */
        put_troff(out, b.data ? b.data : "");
        fputs("\n", out);
    }
    br_buf_free(&b);
    for (size_t i = 0; i < n; i++) {
        const br_conf_row_t *row = &sec->rows[order[i]];
        char sub[128];
        if (!row->sub)
            continue;
        snprintf(sub, sizeof sub, "%s%s%s%s", path, *path ? "." : "",
                 row->key, row->type == BR_CONF_LIST ? "[]" : "");
        if (seen_before(seen, row->sub)) {
            fprintf(out, ".SS \"%s\"\nThe keys of the section above that "
                         "apply here.\n", sub);
            continue;
        }
        troff_section(out, row->sub, sub,
                      restart || (row->flags & BR_CONF_RESTART), seen);
    }
}

void br_conftab_troff(FILE *out) {
    seen_t seen = {{0}, 0};
    fputs(".SH CONFIGURATION\n"
          "Every key of the configuration file, by section; list items are "
          "shown as \\fIsection\\fR[].\n"
          "Durations are written as 500ms, 90s, 5m, 1h, 1d or 1h30m (a bare "
          "number is seconds), money as decimal text (read exactly), "
          "percents with up to two decimals; relative paths are resolved "
          "against the directory of the configuration file.\n", out);
    troff_section(out, br_conftab_root(), "", false, &seen);
}
