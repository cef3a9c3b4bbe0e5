/*
 * ${VAR}, ${env:VAR}, ${file:PATH} and $$ (src/cmd/expand.c), and the edit
 * distance behind "did you mean" (src/cmd/suggest.c): known answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brtest.h"
#include "burnrate/expand.h"
#include "burnrate/suggest.h"

static char errstr[512];
static char seen[512];

static void note(void *opaque, const char *value) {
    (void)opaque;
    size_t n = strlen(seen);
    snprintf(seen + n, sizeof seen - n, "[%s]", value);
}

/* Expansion of s, or "ERR: <message>". */
static char *x(const char *s, const char *base) {
    static char res[1024];
    char *out = NULL;
    bool changed = false;
    errstr[0] = '\0';
    if (br_expand(s, base, note, NULL, &out, &changed, errstr,
                  sizeof errstr) != BR_ERR_OK) {
        snprintf(res, sizeof res, "ERR: %s", errstr);
        return res;
    }
    snprintf(res, sizeof res, "%s%s", out, changed ? "" : " (unchanged)");
    free(out);
    return res;
}

static void test_env(void) {
    setenv("BR_T_A", "alpha", 1);
    setenv("BR_T_EMPTY", "", 1);
    unsetenv("BR_T_UNSET");
    CHECK_STR(x("plain", NULL), "plain (unchanged)");
    CHECK_STR(x("", NULL), " (unchanged)");
    CHECK_STR(x("${BR_T_A}", NULL), "alpha");
    CHECK_STR(x("${env:BR_T_A}", NULL), "alpha");
    CHECK_STR(x("x-${BR_T_A}-${BR_T_A}", NULL), "x-alpha-alpha");
    CHECK_STR(x("${BR_T_EMPTY}", NULL), "");
    CHECK_STR(x("$$", NULL), "$");
    CHECK_STR(x("$${BR_T_A}", NULL), "${BR_T_A}");
    CHECK_STR(x("$.a.b", NULL), "$.a.b (unchanged)");
    CHECK_STR(x("cost$", NULL), "cost$ (unchanged)");
    CHECK_STR(x("${BR_T_UNSET}", NULL),
              "ERR: ${BR_T_UNSET}: environment variable BR_T_UNSET is not set");
    CHECK(strncmp(x("${1X}", NULL), "ERR: ${1X}: not a variable name", 31) == 0);
    CHECK(strncmp(x("${}", NULL), "ERR: ${}: not a variable name", 29) == 0);
    CHECK(strncmp(x("${vault:x}", NULL),
                  "ERR: ${vault:x}: unknown source \"vault\"", 39) == 0);
    CHECK(strncmp(x("a ${BR_T_A", NULL), "ERR: ${BR_T_A: unterminated ${",
                  30) == 0);
    seen[0] = '\0';
    x("${BR_T_A}:${env:BR_T_A}", NULL);
    CHECK_STR(seen, "[alpha][alpha]");
}

static void test_file(void) {
    char dir[] = "/tmp/br_expand_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/pw", dir);
    FILE *fp = fopen(path, "w");
    fputs("s3cret-Value\n", fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/crlf", dir);
    fp = fopen(path, "w");
    fputs("two\nlines\r\n", fp);
    fclose(fp);

    CHECK_STR(x("${file:pw}", dir), "s3cret-Value");
    CHECK_STR(x("${file:crlf}", dir), "two\nlines");
    snprintf(path, sizeof path, "${file:%s/pw}", dir);
    CHECK_STR(x(path, "/nonexistent"), "s3cret-Value");
    /* The systemd credential way: the directory from the environment. */
    setenv("BR_T_CREDS", dir, 1);
    seen[0] = '\0';
    CHECK_STR(x("${file:${BR_T_CREDS}/pw}", NULL), "s3cret-Value");
    CHECK_STR(seen, "[s3cret-Value]"); /* the directory is no secret */
    CHECK_STR(x("${file:${env:BR_T_CREDS}/pw}", NULL), "s3cret-Value");

    snprintf(path, sizeof path, "ERR: ${file:nope}: %s/nope: No such file or "
             "directory", dir);
    CHECK_STR(x("${file:nope}", dir), path);
    CHECK(strstr(x("${file:${BR_T_UNSET}/pw}", NULL),
                 "environment variable BR_T_UNSET is not set") != NULL);
    CHECK(strstr(x("${file:}", dir), "empty file path") != NULL);
    CHECK(strstr(x("${file:${file:pw}}", dir), "cannot be nested") != NULL);

    snprintf(path, sizeof path, "%s/pw", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/crlf", dir);
    unlink(path);
    rmdir(dir);
}

static void test_suggest(void) {
    static const char *const keys[] = {"name", "topic", "topics", "format",
                                       "dialect", NULL};
    CHECK_INT(br_edit_distance("", ""), 0);
    CHECK_INT(br_edit_distance("abc", ""), 3);
    CHECK_INT(br_edit_distance("kitten", "sitting"), 3);
    CHECK_INT(br_edit_distance("formatt", "format"), 1);
    CHECK_INT(br_edit_distance("fromat", "format"), 1); /* a swap is one */
    CHECK_INT(br_edit_distance("FOCUS", "focus"), 0);
    CHECK_STR(br_suggest("formatt", keys, SIZE_MAX), "format");
    CHECK_STR(br_suggest("dialcet", keys, SIZE_MAX), "dialect");
    CHECK_STR(br_suggest("topik", keys, SIZE_MAX), "topic");
    CHECK(br_suggest("zzzzzz", keys, SIZE_MAX) == NULL);
    CHECK(br_suggest("x", keys, SIZE_MAX) == NULL);
    CHECK_STR(br_suggest("nme", keys, 5), "name");
    /* Close means at most a third of the word, at least one. */
    CHECK(br_suggest_close("ab", 1));
    CHECK(!br_suggest_close("ab", 2));
    CHECK(br_suggest_close("Europe/Berln", 1));
    CHECK(!br_suggest_close("abcdef", 3));
}

int main(void) {
    test_env();
    test_file();
    test_suggest();
    return brt_done();
}
