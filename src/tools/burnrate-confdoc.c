/*
 * Writes the configuration reference of README.md from the property table
 * (include/burnrate/conftab.h): every "<!-- conftab: ... -->" block is
 * replaced by the tables generated from the rows; the prose around the
 * blocks is left as it is. tests/test_conftab.c fails while README.md
 * differs from what this writes. Run it after changing a row:
 *
 *     cmake --build build --target readme
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/conftab.h"

#define README_MAX (4u << 20)

static char *read_all(const char *path) {
    FILE *fp = fopen(path, "rb");
    char *buf = fp ? malloc(README_MAX + 1) : NULL;
    size_t len = buf ? fread(buf, 1, README_MAX + 1, fp) : 0;
    if (fp)
        fclose(fp);
    if (!buf || len > README_MAX) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int main(int argc, char **argv) {
    char why[256] = "", *text, *out = NULL;
    size_t out_len = 0;
    int check = argc == 3 && strcmp(argv[1], "--check") == 0;
    const char *path = argv[argc - 1];
    FILE *fp;

    if (argc != 2 && !check) {
        fprintf(stderr, "usage: burnrate-confdoc [--check] README.md\n\n"
                        "Rewrites the configuration reference tables of "
                        "README.md from the property table;\n"
                        "--check only says whether they are up to date "
                        "(exit 1 when not).\n");
        return 2;
    }
    if (!(text = read_all(path))) {
        fprintf(stderr, "burnrate-confdoc: %s: cannot read: %s\n", path,
                strerror(errno));
        return 1;
    }
    fp = open_memstream(&out, &out_len);
    if (!fp || br_conftab_markdown(text, fp, why, sizeof why) != 0) {
        fprintf(stderr, "burnrate-confdoc: %s: %s\n", path,
                fp ? why : "out of memory");
        if (fp)
            fclose(fp);
        free(out);
        free(text);
        return 1;
    }
    fclose(fp);
    int same = strcmp(out, text) == 0;
    if (check) {
        if (!same)
            fprintf(stderr, "burnrate-confdoc: %s: the configuration "
                            "reference differs from the table; run "
                            "burnrate-confdoc %s\n", path, path);
    } else if (!same) {
        if (!(fp = fopen(path, "wb")) || fwrite(out, 1, out_len, fp) != out_len ||
            fclose(fp) != 0) {
            fprintf(stderr, "burnrate-confdoc: %s: cannot write: %s\n", path,
                    strerror(errno));
            free(out);
            free(text);
            return 1;
        }
    }
    free(out);
    free(text);
    return check && !same ? 1 : 0;
}
