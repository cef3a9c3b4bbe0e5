/*
 * Unpriced model: the first record of tokens of a model no price covers
 * raises one unpriced_model alert per model name (up to MAX_UNPRICED
 * names); the names are remembered in the snapshot, so a restart does not
 * raise them again.
 */
#include <stdlib.h>
#include <string.h>

#include "burnrate/detector.h"
#include "burnrate/hash.h"

#define MAX_UNPRICED 1000      /* model names remembered for unpriced alerts */

typedef struct unpriced {
    const br_detect_env_t *env;
    br_strset_t names;
} unpriced_t;

static void *unpriced_create(const br_detect_env_t *env) {
    unpriced_t *u = calloc(1, sizeof *u);
    if (u)
        u->env = env;
    return u;
}

static void unpriced_destroy(void *self) {
    unpriced_t *u = self;
    if (!u)
        return;
    br_strset_free(&u->names);
    free(u);
}

static void unpriced_on_unpriced(void *self, const br_emit_ctx_t *ec,
                                 const br_record_t *rec, const char *model,
                                 const char *provider) {
    (void)rec;
    unpriced_t *u = self;
    const char *m = model ? model : BR_SERIES_UNSET;
    if (u->names.cnt >= MAX_UNPRICED || !br_strset_add(&u->names, m))
        return;
    char msg[320];
    br_emit_text(msg, sizeof(msg),
                 "No price for model %s%s%s: its token usage is not "
                 "counted as spend until prices.models or the price "
                 "file covers it", m, provider ? " of provider " : "",
                 provider ? provider : "");
    br_emit_one_off(ec, u->env->conf->spike.bucket_ms,
                    BR_ALERT_UNPRICED_MODEL, NULL, m, msg);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a stable order: the set's slots depend only on the names
 * and the order they came in, which a restore replays. */
static br_err_t unpriced_save(const void *self, br_buf_t *b) {
    const unpriced_t *u = self;
    char **names = NULL;
    size_t nn = 0;
    if (u->names.cnt) {
        names = malloc(u->names.cnt * sizeof *names);
        if (!names)
            return BR_ERR_NOMEM;
        for (size_t i = 0; i < u->names.cap; i++)
            if (u->names.keys[i])
                names[nn++] = u->names.keys[i];
    }
    if (nn)
        qsort(names, nn, sizeof *names, cmp_str);
    br_wr_uvar(b, nn);
    for (size_t i = 0; i < nn; i++)
        br_wr_str(b, names[i]);
    free(names);
    return BR_ERR_OK;
}

static void unpriced_load(void *self, br_rd_t *r, br_buf_t *describe) {
    (void)describe;
    unpriced_t *u = self;
    size_t un = (size_t)br_rd_count(r, 10000000);
    for (size_t i = 0; i < un && !r->err; i++) {
        char *m = br_rd_strdup(r);
        if (!r->err && u)
            br_strset_add(&u->names, m);
        free(m);
    }
}

static size_t unpriced_memory(const void *self) {
    const unpriced_t *u = self;
    size_t n = u->names.cap * sizeof(char *);
    for (size_t i = 0; i < u->names.cap; i++)
        if (u->names.keys[i])
            n += strlen(u->names.keys[i]) + 1;
    return n;
}

const br_detector_t br_detector_unpriced = {
    .name = "unpriced_model",
    .create = unpriced_create,
    .destroy = unpriced_destroy,
    .on_unpriced = unpriced_on_unpriced,
    .save = unpriced_save,
    .load = unpriced_load,
    .memory = unpriced_memory,
};
