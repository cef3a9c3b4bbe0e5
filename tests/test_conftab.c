/*
 * The property table (burnrate/conftab.h): README.md's configuration
 * reference is exactly what the table writes (so the two cannot drift),
 * every section of the table has its block in the README, every row is
 * whole, the man page's CONFIGURATION section names every key, and a
 * reload compares an Avro schema by its file's text.
 */
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brtest.h"
#include "burnrate/conftab.h"
#include "burnrate/reload.h"

static const char *readme_path(void) {
    static char path[1024];
    const char *src = getenv("BR_SRC");
    snprintf(path, sizeof path, "%s/README.md", src ? src : "..");
    return path;
}

/* The first line where a and b part, for the failure message. */
static void first_difference(const char *a, const char *b) {
    int line = 1;
    const char *la = a;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
        }
        a++, b++;
    }
    const char *end = strchr(la, '\n');
    fprintf(stderr, "README.md:%d differs from the property table:\n  has: "
            "%.*s\nrun `cmake --build BUILD --target readme` (or "
            "burnrate-confdoc README.md) after changing a row\n", line,
            end ? (int)(end - la) : (int)strlen(la), la);
}

static void test_readme_is_generated(void) {
    char *text = NULL, *out = NULL, why[256] = "";
    int rc = br_conftab_readme(readme_path(), &text, &out, why, sizeof why);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", readme_path(), why);
    CHECK_INT(rc, 0);
    if (rc == 0 && strcmp(out, text) != 0)
        first_difference(text, out);
    CHECK(rc == 0 && strcmp(out, text) == 0);
    free(out);
    free(text);
}

/* Sections named by the README's blocks ("top" is the top level). */
typedef struct named {
    const br_conf_section_t *secs[64];
    size_t cnt;
} named_t;

static void name_blocks(const char *text, named_t *named) {
    const char *mark = "<!-- conftab: ";
    for (const char *p = strstr(text, mark); p; p = strstr(p + 1, mark)) {
        char spec[256];
        const char *s = p + strlen(mark), *end = strstr(s, " -->");
        if (!end)
            break;
        snprintf(spec, sizeof spec, "%.*s", (int)(end - s), s);
        for (char *save = NULL, *w = strtok_r(spec, " ", &save); w;
             w = strtok_r(NULL, " ", &save)) {
            size_t len = strlen(w);
            const br_conf_row_t *row;
            if (len > 2 && strcmp(w + len - 2, ".*") == 0)
                w[len - 2] = '\0';
            if (strcmp(w, "top") == 0 && named->cnt < 64)
                named->secs[named->cnt++] = br_conftab_root();
            else if ((row = br_conftab_find(w)) && row->sub &&
                     named->cnt < 64)
                named->secs[named->cnt++] = row->sub;
        }
    }
}

static int row_index(const br_conf_section_t *sec, const char *key) {
    for (size_t i = 0; i < sec->row_cnt; i++)
        if (strcmp(sec->rows[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* Every row whole: a doc, names for an enum, a section for a map or list,
 * keys unique, dump_after naming a sibling; and every section reachable
 * has its block in the README. */
static void check_section(const br_conf_section_t *sec, const char *path,
                          const named_t *named) {
    bool in_readme = false;
    for (size_t i = 0; i < named->cnt; i++)
        in_readme |= named->secs[i] == sec;
    if (!in_readme)
        fprintf(stderr, "section %s has no <!-- conftab: --> block in "
                "README.md\n", *path ? path : "top");
    CHECK(in_readme);
    CHECK(sec->row_cnt <= BR_CONF_ROWS_MAX);
    CHECK(sec->what != NULL);
    for (size_t i = 0; i < sec->row_cnt; i++) {
        const br_conf_row_t *row = &sec->rows[i];
        char sub[256];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", row->key);
        if (!row->doc || row_index(sec, row->key) != (int)i)
            fprintf(stderr, "%s: no doc, or its key twice\n", sub);
        CHECK(row->doc != NULL && row_index(sec, row->key) == (int)i);
        CHECK(row->type != BR_CONF_ENUM || row->name_cnt > 0);
        CHECK((row->type == BR_CONF_MAP || row->type == BR_CONF_LIST) ==
              (row->sub != NULL));
        CHECK(!row->dump_after || row_index(sec, row->dump_after) >= 0);
        CHECK(br_conftab_find(sub) == row);
        if (row->sub)
            check_section(row->sub, sub, named);
    }
}

static void test_table(void) {
    named_t named = {{0}, 0};
    char *text = NULL, *out = NULL, why[256];
    if (br_conftab_readme(readme_path(), &text, &out, why, sizeof why) == 0)
        name_blocks(text, &named);
    check_section(br_conftab_root(), "", &named);
    free(text);
    free(out);
    const br_conf_row_t *row = br_conftab_find("spike.bucket");
    CHECK(row && (row->flags & BR_CONF_RESTART));
    row = br_conftab_find("inputs.avro.schema_id");
    CHECK(row && row->only == BR_CONF_ONLY_ALERTS);
    CHECK(br_conftab_find("spike.nope") == NULL);
    CHECK(br_conftab_find("spike.bucket.x") == NULL);
}

/* The man page names every key, bold, under its section. */
static void troff_keys(const char *man, const br_conf_section_t *sec) {
    for (size_t i = 0; i < sec->row_cnt; i++) {
        char want[128];
        snprintf(want, sizeof want, ".TP\n\\fB%s\\fR\n", sec->rows[i].key);
        if (!strstr(man, want))
            fprintf(stderr, "man page: no %s\n", sec->rows[i].key);
        CHECK(strstr(man, want) != NULL);
        if (sec->rows[i].sub)
            troff_keys(man, sec->rows[i].sub);
    }
}

static void test_man_page(void) {
    char *man = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&man, &len);
    CHECK(fp != NULL);
    if (!fp)
        return;
    br_conftab_troff(fp);
    fclose(fp);
    CHECK(man && strncmp(man, ".SH CONFIGURATION\n", 18) == 0);
    CHECK(man && strstr(man, ".SS \"budgets[].burn_rates[]\"\n") != NULL);
    if (man)
        troff_keys(man, br_conftab_root());
    free(man);
}

/* A reload with the alert schema's file rewritten under the same name is
 * refused: the running producer has the old schema. */
static void test_schema_file_changed(void) {
    char dir[] = "/tmp/br_conftab_XXXXXX", path[256], err[1024];
    const char *yaml =
        "inputs: [{name: a, topic: t, dialect: otel}]\n"
        "kafka:\n"
        "  alerts_format: avro-confluent\n"
        "  alerts_avro: {schema: s.avsc, schema_id: 7}\n";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/s.avsc", dir);
    FILE *fp = fopen(path, "w");
    fputs("{\"type\": \"record\", \"name\": \"A\", \"fields\": []}", fp);
    fclose(fp);
    br_config_t *a = br_config_load_string(yaml, "r.yaml", dir, err,
                                           sizeof err);
    fp = fopen(path, "w");
    fputs("{\"type\": \"record\", \"name\": \"B\", \"fields\": []}", fp);
    fclose(fp);
    br_config_t *b = br_config_load_string(yaml, "r.yaml", dir, err,
                                           sizeof err);
    CHECK(a && b);
    if (a && b) {
        CHECK_INT(br_reload_check(a, b, err, sizeof err), BR_ERR_CONFIG);
        CHECK(strstr(err, "r.yaml:4: kafka.alerts_avro.schema: the schema "
                          "file changed") != NULL);
        CHECK_INT(br_reload_check(b, b, err, sizeof err), BR_ERR_OK);
    }
    br_config_destroy(a);
    br_config_destroy(b);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    test_readme_is_generated();
    test_table();
    test_man_page();
    test_schema_file_changed();
    return brt_done();
}
