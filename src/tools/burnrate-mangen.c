/*
 * Build-time generator of burnrate(1): runs `burnrate --help` and turns its
 * usage lines, Commands, Options and Exit status into troff inside a
 * hand-written template, so the man page and --help never disagree; the
 * CONFIGURATION section comes from the property table (burnrate/conftab.h)
 * the loader reads every key by.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/buf.h"
#include "burnrate/conftab.h"

#define MAX_LINES 4096

/* Marker lines of the template, replaced by generated troff. */
#define MARK_SYNOPSIS ".\\\" %SYNOPSIS%"
#define MARK_SECTIONS ".\\\" %SECTIONS%"
#define MARK_CONFIGURATION ".\\\" %CONFIGURATION%"

typedef struct help {
    char *lines[MAX_LINES]; /* owned, without the newline */
    size_t cnt;
} help_t;

static void help_free(help_t *h) {
    for (size_t i = 0; i < h->cnt; i++)
        free(h->lines[i]);
    h->cnt = 0;
}

static size_t indent_of(const char *s) {
    size_t n = 0;
    while (s[n] == ' ')
        n++;
    return n;
}

static bool blank(const char *s) {
    return s[indent_of(s)] == '\0';
}

/* Runs `PROGRAM --help` and keeps its stdout, line by line. */
static int read_help(const char *program, help_t *h) {
    br_buf_t cmd;
    FILE *fp;
    char line[1024];
    int status, rc = -1;

    br_buf_init(&cmd);
    br_buf_puts(&cmd, "'");
    for (const char *p = program; *p; p++)
        br_buf_puts(&cmd, *p == '\'' ? "'\\''" : (char[2]){*p, 0});
    br_buf_puts(&cmd, "' --help");
    if (cmd.oom || !(fp = popen(cmd.data, "r"))) {
        fprintf(stderr, "burnrate-mangen: cannot run %s: %s\n", program, strerror(errno));
        goto out;
    }
    while (fgets(line, sizeof line, fp)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (h->cnt == MAX_LINES || !(h->lines[h->cnt] = strdup(line))) {
            fprintf(stderr, "burnrate-mangen: --help is too long\n");
            pclose(fp);
            goto out;
        }
        h->cnt++;
    }
    status = pclose(fp);
    if (status != 0) {
        fprintf(stderr, "burnrate-mangen: %s --help failed (status %d)\n", program, status);
        goto out;
    }
    rc = 0;
out:
    br_buf_free(&cmd);
    return rc;
}

static bool word_char(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* One character as troff text: backslash and minus escaped. */
static void put_char(FILE *out, char c) {
    if (c == '\\')
        fputs("\\e", out);
    else if (c == '-')
        fputs("\\-", out);
    else
        fputc(c, out);
}

static void put_run(FILE *out, const char *s, size_t n, const char *font) {
    if (font)
        fprintf(out, "\\f%s", font);
    for (size_t i = 0; i < n; i++)
        put_char(out, s[i]);
    if (font)
        fputs("\\fR", out);
}

/* Writes s as one troff text line. Literal mode (synopsis, terms): words
 * with a lowercase letter or a leading '-' are bold, all-caps words (the
 * metavariables) italic. Prose mode: only options (-x, --xyz) are bold.
 * Hyphens in prose stay hyphens. */
static void put_text(FILE *out, const char *s, bool literal) {
    size_t i = 0;

    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    while (s[i]) {
        size_t j = i;
        bool lower = false;

        if (i == 0 || s[i - 1] == ' ') {
            /* Never hyphenate a token with options or metavariables. */
            size_t end = i + strcspn(s + i, " ");
            const char *dash = memchr(s + i, '-', end - i);
            if (literal || (dash && dash[1] != ' '))
                fputs("\\%", out);
        }
        if (!word_char(s[i])) {
            put_char(out, s[i++]);
            continue;
        }
        while (word_char(s[j])) {
            lower |= islower((unsigned char)s[j]) != 0;
            j++;
        }
        if (s[i] == '-' && j - i > 1 && isalpha((unsigned char)s[i + 1]) &&
            (i == 0 || !word_char(s[i - 1])))
            put_run(out, s + i, j - i, "B");
        else if (!literal)
            put_run(out, s + i, j - i, NULL);
        else if (lower || s[i] == '-')
            put_run(out, s + i, j - i, "B");
        else if (isalpha((unsigned char)s[i]))
            put_run(out, s + i, j - i, "I");
        else
            put_run(out, s + i, j - i, NULL);
        i = j;
    }
    fputc('\n', out);
}

/* The usage block: "usage: burnrate ..." and the lines after it up to the
 * first blank one; a line starting with the program name starts an entry,
 * deeper-indented lines continue it. @returns entries written. */
static size_t put_synopsis(FILE *out, const help_t *h, size_t *next) {
    size_t i = 0, entries = 0;
    const char *prefix = "usage:";

    while (i < h->cnt && blank(h->lines[i]))
        i++;
    if (i == h->cnt || strncmp(h->lines[i], prefix, strlen(prefix)) != 0)
        return 0;
    for (; i < h->cnt && !blank(h->lines[i]); i++) {
        const char *s = h->lines[i];
        if (entries == 0)
            s += strlen(prefix);
        s += indent_of(s);
        if (strncmp(s, "burnrate ", 9) == 0) {
            if (entries++)
                fputs(".YS\n", out);
            fputs(".SY burnrate\n", out);
            s += 9;
        }
        if (entries)
            put_text(out, s, true);
    }
    if (entries)
        fputs(".YS\n", out);
    *next = i;
    return entries;
}

/* A column-0 heading: "Options:" (no text after it) or "Exit status: 0 ok"
 * (the text follows). @returns the heading's length, 0 for none. */
static size_t heading_len(const char *s) {
    size_t n = 0;

    if (!isupper((unsigned char)s[0]))
        return 0;
    while (isalpha((unsigned char)s[n]) || s[n] == ' ')
        n++;
    if (s[n] != ':' || (s[n + 1] != '\0' && s[n + 1] != ' ') || n > 24)
        return 0;
    return n;
}

static void put_heading(FILE *out, const char *s, size_t n) {
    fputs(".SH \"", out);
    for (size_t i = 0; i < n; i++)
        fputc(toupper((unsigned char)s[i]), out);
    fputs("\"\n", out);
}

/* Where the term of an item line ends and its description begins: at the
 * column the description lines below it (or the section's earlier items)
 * start, when the line has a word boundary there; else at the first run of
 * two spaces. @returns the offset of the description, or strlen (none). */
static size_t split_item(const char *s, size_t col) {
    size_t len = strlen(s);
    const char *two;

    if (col && len > col && s[col - 1] == ' ' && s[col] != ' ')
        return col;
    two = strstr(s + indent_of(s), "  ");
    if (!two)
        return len;
    return (size_t)(two - s) + indent_of(two);
}

/* The term of an item: s[0..n), trailing blanks dropped. */
static void put_term(FILE *out, const char *s, size_t n) {
    char term[512];

    while (n && s[n - 1] == ' ')
        n--;
    if (n >= sizeof term)
        n = sizeof term - 1;
    memcpy(term, s, n);
    term[n] = '\0';
    fputs(".TP\n", out);
    put_text(out, term, true);
}

/* Everything after the usage block: headed sections of items (indented
 * term + description) and paragraphs. @returns the number of items. */
static size_t put_sections(FILE *out, const help_t *h, size_t i) {
    size_t items = 0, col = 0;
    bool para = false; /* the last output was running text */

    while (i < h->cnt) {
        const char *s = h->lines[i];
        size_t n, ind = indent_of(s);

        if (blank(s)) {
            para = false;
            i++;
            continue;
        }
        if (ind == 0 && (n = heading_len(s)) != 0) {
            put_heading(out, s, n);
            col = 0;
            s += n + 1;
            s += indent_of(s);
            if (*s)
                put_text(out, s, false);
            para = *s != '\0';
            i++;
            continue;
        }
        if (ind == 0) {
            if (!para)
                fputs(".PP\n", out);
            put_text(out, s, false);
            para = true;
            i++;
            continue;
        }
        /* An item: this line, then the deeper-indented lines below it. */
        {
            size_t first = i++, at, cont = 0;

            while (i < h->cnt && !blank(h->lines[i]) && indent_of(h->lines[i]) > ind) {
                if (!cont)
                    cont = indent_of(h->lines[i]);
                i++;
            }
            if (cont)
                col = cont;
            at = split_item(h->lines[first], col);
            put_term(out, h->lines[first] + ind, at - ind);
            if (h->lines[first][at])
                put_text(out, h->lines[first] + at, false);
            for (size_t k = first + 1; k < i; k++)
                put_text(out, h->lines[k] + indent_of(h->lines[k]), false);
            items++;
            para = false;
        }
    }
    return items;
}

int main(int argc, char **argv) {
    help_t h = {{0}, 0};
    FILE *tpl = NULL, *out = NULL;
    char line[4096];
    size_t body = 0;
    int rc = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: burnrate-mangen PROGRAM TEMPLATE OUTPUT\n\n"
                        "Writes OUTPUT, the troff man page: TEMPLATE with its\n"
                        "'%s' line replaced by PROGRAM --help's usage\n"
                        "lines, its '%s' line by the rest of --help\n"
                        "(Commands, Options, Exit status) and its '%s'\n"
                        "line by the configuration keys of the property table.\n",
                MARK_SYNOPSIS, MARK_SECTIONS, MARK_CONFIGURATION);
        return 2;
    }
    if (read_help(argv[1], &h))
        goto out;
    if (!(tpl = fopen(argv[2], "r"))) {
        fprintf(stderr, "burnrate-mangen: %s: %s\n", argv[2], strerror(errno));
        goto out;
    }
    if (!(out = fopen(argv[3], "w"))) {
        fprintf(stderr, "burnrate-mangen: %s: %s\n", argv[3], strerror(errno));
        goto out;
    }
    while (fgets(line, sizeof line, tpl)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (strcmp(line, MARK_SYNOPSIS) == 0) {
            if (put_synopsis(out, &h, &body) == 0) {
                fprintf(stderr, "burnrate-mangen: %s --help: no \"usage: burnrate\" lines\n",
                        argv[1]);
                goto out;
            }
        } else if (strcmp(line, MARK_SECTIONS) == 0) {
            if (body == 0 || put_sections(out, &h, body) == 0) {
                fprintf(stderr, "burnrate-mangen: %s --help: no options after the usage\n",
                        argv[1]);
                goto out;
            }
        } else if (strcmp(line, MARK_CONFIGURATION) == 0) {
            br_conftab_troff(out);
        } else {
            fprintf(out, "%s\n", line);
        }
    }
    if (ferror(tpl) || fflush(out) || ferror(out)) {
        fprintf(stderr, "burnrate-mangen: %s: write failed\n", argv[3]);
        goto out;
    }
    rc = 0;
out:
    if (tpl)
        fclose(tpl);
    if (out && fclose(out) && rc == 0) {
        fprintf(stderr, "burnrate-mangen: %s: %s\n", argv[3], strerror(errno));
        rc = 1;
    }
    if (rc && argc == 4)
        remove(argv[3]);
    help_free(&h);
    return rc;
}
