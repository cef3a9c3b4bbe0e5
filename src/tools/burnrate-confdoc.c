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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/conftab.h"

static int write_all(const char *path, const char *text) {
    FILE *fp = fopen(path, "wb");
    size_t len = strlen(text);
    if (!fp || fwrite(text, 1, len, fp) != len) {
        if (fp)
            fclose(fp);
        return -1;
    }
    return fclose(fp) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    char why[256] = "", *text = NULL, *out = NULL;
    bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
    const char *path = argv[argc - 1];
    int rc = 0;

    if (argc != 2 && !check) {
        fprintf(stderr, "usage: burnrate-confdoc [--check] README.md\n\n"
                        "Rewrites the configuration reference tables of "
                        "README.md from the property table;\n"
                        "--check only says whether they are up to date "
                        "(exit 1 when not).\n");
        return 2;
    }
    if (br_conftab_readme(path, &text, &out, why, sizeof why) != 0) {
        fprintf(stderr, "burnrate-confdoc: %s: %s\n", path, why);
        rc = 1;
    } else if (strcmp(out, text) != 0 && check) {
        fprintf(stderr, "burnrate-confdoc: %s: the configuration reference "
                        "differs from the table; run burnrate-confdoc %s\n",
                path, path);
        rc = 1;
    } else if (strcmp(out, text) != 0 && write_all(path, out) != 0) {
        fprintf(stderr, "burnrate-confdoc: %s: cannot write: %s\n", path,
                strerror(errno));
        rc = 1;
    }
    free(out);
    free(text);
    return rc;
}
