/* Durable state: the snapshot container refuses every truncation, flipped
 * bit and foreign file; the state directory keeps generations, moves bad
 * files aside and reports an unwritable directory or a full disk; a
 * pipeline restored from a snapshot taken after any message reaches exactly
 * the state (same bytes) and the alerts of a run without the restart; a
 * fixture written by an earlier version still loads; duplicates count once;
 * hostile cardinality stays within the caps. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brpipe.h"
#include "brtest.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/snapshot.h"
#include "burnrate/ts.h"
#include "burnrate/wire.h"

#define H INT64_C(3600000)
#define T0 INT64_C(1735689600000) /* 2025-01-01T00:00:00Z */

static const char *CONF =
    "inputs:\n"
    "  - name: usage\n"
    "    topic: usage\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    mapping:\n"
    "      time: ts\n"
    "      cost: cost\n"
    "      id: rid\n"
    "      model: model\n"
    "      input_tokens: in\n"
    "      output_tokens: out\n"
    "      dims:\n"
    "        team: team\n"
    "        key: key\n"
    "scopes:\n"
    "  - name: total\n"
    "    dims: []\n"
    "  - name: team\n"
    "    dims: [team]\n"
    "  - name: team_model\n"
    "    dims: [team, model]\n"
    "  - name: key\n"
    "    dims: [key]\n"
    "    max_series: 20\n"
    "spike:\n"
    "  bucket: 1h\n"
    "  min_impact: 5\n"
    "  warmup: 24\n"
    "  resolve_after: 2\n"
    "budgets:\n"
    "  - name: ml-daily\n"
    "    match:\n"
    "      team: ml\n"
    "    amount: 100\n"
    "    period: day\n"
    "    timezone: Europe/Berlin\n"
    "    thresholds: [50, 100]\n"
    "dedup:\n"
    "  window: 6h\n"
    "  max_ids: MAXIDS\n"
    "prices:\n"
    "  models:\n"
    "    tiny:\n"
    "      input: 1.0\n"
    "      output: 2.0\n";

static br_config_t *load(int max_ids) {
    char yaml[4096];
    const char *at = strstr(CONF, "MAXIDS");
    snprintf(yaml, sizeof yaml, "%.*s%d%s", (int)(at - CONF), CONF, max_ids,
             at + 6);
    return brp_config(yaml, "test.yaml");
}

/* ---- a workload as a list of messages ---------------------------------- */

typedef struct msgs {
    char **m;
    size_t n, cap;
} msgs_t;

static void add(msgs_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(msgs_t *w, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->m = realloc(w->m, w->cap * sizeof *w->m);
    }
    w->m[w->n++] = strdup(buf);
}

static void event(msgs_t *w, int64_t t, const char *team, const char *model,
                  const char *key, const char *cost, const char *rid) {
    char ts[40];
    br_ts_format(t, ts, sizeof ts);
    if (rid)
        add(w, "{\"ts\":\"%s\",\"team\":\"%s\",\"model\":\"%s\",\"key\":\"%s\","
               "\"cost\":%s,\"rid\":\"%s\"}", ts, team, model, key, cost, rid);
    else
        add(w, "{\"ts\":\"%s\",\"team\":\"%s\",\"model\":\"%s\",\"key\":\"%s\","
               "\"cost\":%s}", ts, team, model, key, cost);
}

/* Two days and a half: flat spend, a spike with two models, a budget
 * crossing, new spend, late rows, credits, token events (priced and
 * unknown), retried requests (duplicate ids), keys beyond the cap, bad
 * messages. */
static void workload(msgs_t *w) {
    int rid = 0;
    char id[32];
    for (int h = 0; h < 60; h++) {
        int64_t t = T0 + h * H;
        snprintf(id, sizeof id, "r%d", rid++);
        event(w, t + 30 * 60000, "ml", "a", "k1", "1.00", id);
        event(w, t + 31 * 60000, "web", "b", "k2", "1.00", NULL);
        if (h % 5 == 0) /* a producer retry: the same id again */
            event(w, t + 30 * 60000, "ml", "a", "k1", "1.00", id);
        if (h == 48) {
            event(w, t + 10 * 60000, "ml", "a", "k1", "40.00", "s1");
            event(w, t + 12 * 60000, "ml", "c", "k3", "25.00", "s2");
            event(w, t + 13 * 60000, "ml", "c", "k3", "25.00", "s2");
        }
        if (h == 52)
            event(w, t + 5 * 60000, "new", "a", "k4", "20.00", NULL);
        if (h == 53) {
            event(w, T0 + 20 * H, "ml", "a", "k1", "3.00", NULL); /* late */
            event(w, t, "web", "b", "k2", "-0.50", NULL);         /* credit */
        }
        if (h == 40)
            for (int k = 0; k < 40; k++) { /* keys beyond the cap */
                char key[16];
                snprintf(key, sizeof key, "req-%d", k);
                event(w, t + k * 1000, "web", "b", key, "0.000000001", NULL);
            }
        if (h == 30) {
            char ts[40];
            br_ts_format(t, ts, sizeof ts);
            add(w, "{\"ts\":\"%s\",\"team\":\"web\",\"model\":\"tiny\","
                   "\"key\":\"k2\",\"in\":1000000,\"out\":500000}", ts);
            add(w, "{\"ts\":\"%s\",\"team\":\"web\",\"model\":\"mystery\","
                   "\"key\":\"k2\",\"in\":1000,\"out\":10}", ts);
            add(w, "not json");
        }
    }
}

static void msgs_free(msgs_t *w) {
    for (size_t i = 0; i < w->n; i++)
        free(w->m[i]);
    free(w->m);
}

/* ---- a run (tests/brpipe.h): feeding, saving --------------------------- */

static void feed_range(brp_run_t *r, const msgs_t *w, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        brp_feed(r->pl, 0, "usage", (int64_t)i, w->m[i]);
}

static void save(const br_pipeline_t *pl, br_buf_t *b) {
    br_buf_reset(b);
    CHECK_INT(br_pipeline_save(pl, b), BR_ERR_OK);
}

/* ---- tests ------------------------------------------------------------- */

/* Cut the workload after every message: save, restore into a new pipeline,
 * go on. The alerts of both halves must be the uninterrupted run's, and the
 * final state the same bytes. */
static void test_restore_anywhere(void) {
    br_config_t *conf = load(1000);
    CHECK(conf != NULL);
    if (!conf)
        return;
    msgs_t w = {0};
    workload(&w);
    brp_run_t ref;
    brp_run_start(&ref, conf);
    feed_range(&ref, &w, 0, w.n);
    br_pipeline_finish(ref.pl);
    br_buf_t want, got, cut;
    br_buf_init(&want);
    br_buf_init(&got);
    br_buf_init(&cut);
    save(ref.pl, &want);
    br_pipeline_stats_t st;
    br_pipeline_stats(ref.pl, &st);
    CHECK_INT(st.duplicates, 13);     /* 12 retries and s2 again */
    CHECK(st.alerts >= 6);
    CHECK(strstr(ref.got.json.data, "\"type\":\"cost_spike\"") != NULL);
    CHECK(strstr(ref.got.json.data, "\"type\":\"budget_threshold\"") != NULL);
    CHECK(strstr(ref.got.json.data, "\"type\":\"series_cap\"") != NULL);

    int mismatched_alerts = 0, mismatched_state = 0, failed = 0;
    for (size_t k = 0; k <= w.n; k++) {
        brp_run_t a, b;
        brp_run_start(&a, conf);
        feed_range(&a, &w, 0, k);
        save(a.pl, &cut);
        brp_run_start(&b, conf);
        br_restore_info_t info;
        char err[512];
        if (br_pipeline_restore(b.pl, cut.data, cut.len, &info, err,
                                sizeof err) != BR_ERR_OK) {
            if (failed++ == 0)
                fprintf(stderr, "restore after %zu: %s\n", k, err);
            brp_run_free(&a);
            brp_run_free(&b);
            continue;
        }
        feed_range(&b, &w, k, w.n);
        br_pipeline_finish(b.pl);
        save(b.pl, &got);
        br_buf_t all;
        br_buf_init(&all);
        br_buf_append(&all, a.got.json.data, a.got.json.len);
        br_buf_append(&all, b.got.json.data, b.got.json.len);
        if (all.len != ref.got.json.len ||
            memcmp(all.data, ref.got.json.data, all.len) != 0) {
            if (mismatched_alerts++ == 0) {
                fprintf(stderr, "alerts differ after a restore at %zu\n", k);
                size_t p = 0;
                while (p < all.len && p < ref.got.json.len &&
                       all.data[p] == ref.got.json.data[p])
                    p++;
                size_t ls = p;
                while (ls > 0 && ref.got.json.data[ls - 1] != '\n')
                    ls--;
                fprintf(stderr, "  want: %.900s\n  got:  %.900s\n",
                        ref.got.json.data + ls, all.data + ls);
            }
        }
        if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0) {
            if (mismatched_state++ == 0)
                fprintf(stderr, "state differs after a restore at %zu\n", k);
        }
        br_buf_free(&all);
        brp_run_free(&a);
        brp_run_free(&b);
    }
    CHECK_INT(failed, 0);
    CHECK_INT(mismatched_alerts, 0);
    CHECK_INT(mismatched_state, 0);
    brp_run_free(&ref);
    br_buf_free(&want);
    br_buf_free(&got);
    br_buf_free(&cut);
    msgs_free(&w);
    br_config_destroy(conf);
}

/* A whole file around some state, for the container tests. */
static void small_file(br_buf_t *file) {
    br_config_t *conf = load(1000);
    msgs_t w = {0};
    brp_run_t r;
    br_buf_t core;
    char topic[] = "usage", version[] = "test", group[] = "g1";
    br_snap_offset_t offs[2] = {{topic, 0, 42}, {topic, 1, 7}};
    workload(&w);
    brp_run_start(&r, conf);
    feed_range(&r, &w, 0, 20);
    br_buf_init(&core);
    save(r.pl, &core);
    br_snapshot_t s = {.generation = 5, .written_ms = T0, .version = version,
                       .group = group, .offsets = offs, .offset_cnt = 2, .core = core.data,
                       .core_len = core.len};
    br_buf_reset(file);
    CHECK_INT(br_snapshot_encode(&s, file), BR_ERR_OK);
    br_buf_free(&core);
    brp_run_free(&r);
    msgs_free(&w);
    br_config_destroy(conf);
}

static void test_container(void) {
    br_buf_t file;
    br_snapshot_t s;
    char err[256];
    br_buf_init(&file);
    small_file(&file);
    CHECK_INT(br_snapshot_decode(file.data, file.len, &s, err, sizeof err),
              BR_ERR_OK);
    CHECK(s.generation == 5);
    CHECK_INT(s.offset_cnt, 2);
    if (s.offset_cnt == 2) {
        CHECK_STR(s.offsets[1].topic, "usage");
        CHECK(s.offsets[1].partition == 1 && s.offsets[1].offset == 7);
    }
    CHECK_STR(s.version, "test");
    CHECK_STR(s.group, "g1");
    br_snapshot_clear(&s);

    /* Every truncation is refused. */
    size_t accepted = 0;
    for (size_t n = 0; n < file.len; n++)
        if (br_snapshot_decode(file.data, n, &s, err, sizeof err) ==
            BR_ERR_OK) {
            accepted++;
            br_snapshot_clear(&s);
        }
    CHECK_INT(accepted, 0);
    /* Every flipped bit is refused. */
    accepted = 0;
    for (size_t bit = 0; bit < file.len * 8; bit++) {
        file.data[bit / 8] ^= (char)(1 << (bit % 8));
        if (br_snapshot_decode(file.data, file.len, &s, err, sizeof err) ==
            BR_ERR_OK) {
            accepted++;
            br_snapshot_clear(&s);
        }
        file.data[bit / 8] ^= (char)(1 << (bit % 8));
    }
    CHECK_INT(accepted, 0);
    /* Foreign files, and a newer format. */
    const char *json = "{\"not\": \"a snapshot\"}";
    CHECK_INT(br_snapshot_decode(json, strlen(json), &s, err, sizeof err),
              BR_ERR_PARSE);
    CHECK(strstr(err, "magic") != NULL);
    br_buf_t newer;
    br_buf_init(&newer);
    br_buf_append(&newer, file.data, file.len);
    newer.data[8] = 99; /* format 99, header checksum fixed up: */
    {
        uint32_t c = br_crc32c(0, newer.data, 28);
        for (int i = 0; i < 4; i++)
            newer.data[28 + i] = (char)(c >> (8 * i));
    }
    CHECK_INT(br_snapshot_decode(newer.data, newer.len, &s, err, sizeof err),
              BR_ERR_PARSE);
    CHECK(strstr(err, "format 99") != NULL);
    br_buf_free(&newer);

    /* A core that passes the checksum but lies inside is refused by the
     * pipeline (every truncation of the core itself). */
    br_config_t *conf = load(1000);
    CHECK_INT(br_snapshot_decode(file.data, file.len, &s, err, sizeof err),
              BR_ERR_OK);
    size_t restored = 0;
    for (size_t n = 0; n < s.core_len; n++) {
        brp_run_t r;
        brp_run_start(&r, conf);
        if (br_pipeline_restore(r.pl, s.core, n, NULL, err, sizeof err) ==
            BR_ERR_OK)
            restored++;
        brp_run_free(&r);
    }
    CHECK_INT(restored, 0);
    br_snapshot_clear(&s);
    br_config_destroy(conf);
    br_buf_free(&file);
}

static char tmpdir[256];

static void rm_rf(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static int count_files(const char *dir, const char *suffix) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -1 '%s' | grep -c '%s$'", dir, suffix);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static void on_bad(void *opaque, const char *path, const char *reason) {
    int *n = opaque;
    (*n)++;
    fprintf(stderr, "  (expected) moved aside %s: %s\n", path, reason);
}

static ssize_t full_disk(int fd, const void *buf, size_t len) {
    (void)fd, (void)buf, (void)len;
    errno = ENOSPC;
    return -1;
}

static void test_directory(void) {
    char dir[300], err[512], path[512];
    br_buf_t file, bytes;
    br_snapshot_t s;
    int bad = 0;
    snprintf(dir, sizeof dir, "%s/state/sub", tmpdir);
    br_buf_init(&file);
    br_buf_init(&bytes);
    small_file(&file);

    br_snapdir_t *sd = br_snapdir_open(dir, 3, err, sizeof err);
    CHECK(sd != NULL);
    if (!sd)
        return;
    CHECK(br_snapdir_next_generation(sd) == 1);
    CHECK_INT(br_snapdir_load(sd, &bytes, &s, path, sizeof path, on_bad, &bad,
                              err, sizeof err), BR_ERR_NOTFOUND);
    for (uint64_t g = 1; g <= 5; g++)
        CHECK_INT(br_snapdir_write(sd, g, file.data, file.len, err,
                                   sizeof err), BR_ERR_OK);
    CHECK_INT(count_files(dir, ".brs"), 3); /* keep: 3 */
    CHECK(br_snapdir_next_generation(sd) == 6);
    CHECK_INT(br_snapdir_load(sd, &bytes, &s, path, sizeof path, on_bad, &bad,
                              err, sizeof err), BR_ERR_OK);
    CHECK(strstr(path, "00000000000000000005.brs") != NULL);
    br_snapshot_clear(&s);

    /* The newest is truncated, the one before has a flipped bit: both are
     * moved aside and the oldest kept one loads. */
    snprintf(path, sizeof path, "%s/snapshot-00000000000000000005.brs", dir);
    CHECK(truncate(path, (off_t)file.len / 2) == 0);
    snprintf(path, sizeof path, "%s/snapshot-00000000000000000004.brs", dir);
    FILE *fp = fopen(path, "r+b");
    CHECK(fp != NULL);
    if (fp) {
        fseek(fp, (long)file.len - 3, SEEK_SET);
        fputc(0x55 ^ file.data[file.len - 3], fp);
        fclose(fp);
    }
    CHECK_INT(br_snapdir_load(sd, &bytes, &s, path, sizeof path, on_bad, &bad,
                              err, sizeof err), BR_ERR_OK);
    CHECK(strstr(path, "00000000000000000003.brs") != NULL);
    CHECK_INT(bad, 2);
    CHECK_INT(count_files(dir, ".bad"), 2);
    br_snapshot_clear(&s);
    /* The next generation is above the bad ones too. */
    CHECK(br_snapdir_next_generation(sd) == 6);

    /* A full disk: an error naming the cause, the kept generation intact,
     * no temporary file left. */
    br_snapdir_set_write_fn(sd, full_disk);
    CHECK_INT(br_snapdir_write(sd, 6, file.data, file.len, err, sizeof err),
              BR_ERR_IO);
    CHECK(strstr(err, "No space left") != NULL);
    CHECK_INT(count_files(dir, ".tmp"), 0);
    br_snapdir_set_write_fn(sd, NULL);
    CHECK_INT(br_snapdir_load(sd, &bytes, &s, path, sizeof path, on_bad, &bad,
                              err, sizeof err), BR_ERR_OK);
    CHECK(strstr(path, "00000000000000000003.brs") != NULL);
    br_snapshot_clear(&s);

    /* A crash mid-write leaves a .tmp: open removes it. */
    snprintf(path, sizeof path, "%s/snapshot-00000000000000000007.brs.tmp", dir);
    fp = fopen(path, "w");
    if (fp)
        fclose(fp);
    br_snapdir_close(sd);
    sd = br_snapdir_open(dir, 3, err, sizeof err);
    CHECK(sd != NULL);
    CHECK_INT(count_files(dir, ".tmp"), 0);

    /* Nothing valid left: NOTFOUND. */
    snprintf(path, sizeof path, "%s/snapshot-00000000000000000003.brs", dir);
    CHECK(truncate(path, 10) == 0);
    CHECK_INT(br_snapdir_load(sd, &bytes, &s, path, sizeof path, on_bad, &bad,
                              err, sizeof err), BR_ERR_NOTFOUND);
    br_snapdir_close(sd);

    /* Unwritable: a path below a regular file (fails even for root), and a
     * read-only directory (when not root). */
    snprintf(path, sizeof path, "%s/afile", tmpdir);
    fp = fopen(path, "w");
    if (fp)
        fclose(fp);
    snprintf(path, sizeof path, "%s/afile/state", tmpdir);
    CHECK(br_snapdir_open(path, 3, err, sizeof err) == NULL);
    CHECK(strstr(err, "afile/state") != NULL);
    CHECK(strstr(err, "Not a directory") != NULL);
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/ro", tmpdir);
        mkdir(path, 0500);
        CHECK(br_snapdir_open(path, 3, err, sizeof err) == NULL);
        CHECK(strstr(err, "not writable") != NULL);
    }
    br_buf_free(&file);
    br_buf_free(&bytes);
}

/* Each fixture was written from the workload's first 165 messages by the
 * code of its day: v1 by version 0.1.0 (layout 1), v3 by the last code that
 * wrote layout 3 (int64 money). It must keep loading, into the same
 * described state, in every later version. BR_WRITE_FIXTURE=NAME (v4, ...)
 * writes snapshot/NAME.* with today's layout: only for a new layout, old
 * fixtures stay. */
static void test_fixture(const char *name, int layout) {
    br_config_t *conf = load(1000);
    char brs[64], desc[64];
    snprintf(brs, sizeof brs, "snapshot/%s.brs", name);
    snprintf(desc, sizeof desc, "snapshot/%s.describe.json", name);
    const char *write = getenv("BR_WRITE_FIXTURE");
    br_buf_t bytes, json;
    br_snapshot_t s;
    char err[512];
    br_buf_init(&bytes);
    br_buf_init(&json);
    FILE *exists = write && strcmp(write, name) == 0 ? fopen(brs, "rb") : NULL;
    if (exists) {
        /* A fixture is what an older burnrate wrote: never rewritten. */
        fclose(exists);
        fprintf(stderr, "%s exists: a fixture is never overwritten\n", brs);
        brt_fail++;
    } else if (write && strcmp(write, name) == 0) {
        msgs_t w = {0};
        brp_run_t r;
        br_buf_t core;
        workload(&w);
        brp_run_start(&r, conf);
        feed_range(&r, &w, 0, 165);
        br_buf_init(&core);
        save(r.pl, &core);
        char topic[] = "usage", version[] = "0.1.0", group[] = "burnrate";
        br_snap_offset_t off = {topic, 0, 165};
        br_snapshot_t fs = {.generation = 1, .written_ms = T0 + 60 * H,
                            .version = version, .group = group,
                            .offsets = &off,
                            .offset_cnt = 1, .core = core.data,
                            .core_len = core.len};
        br_buf_t file;
        br_buf_init(&file);
        br_snapshot_encode(&fs, &file);
        FILE *fp = fopen(brs, "wb");
        fwrite(file.data, 1, file.len, fp);
        fclose(fp);
        br_buf_reset(&json);
        br_pipeline_describe(core.data, core.len, &json, err, sizeof err);
        fp = fopen(desc, "wb");
        fwrite(json.data, 1, json.len, fp);
        fputc('\n', fp);
        fclose(fp);
        br_buf_free(&file);
        br_buf_free(&core);
        brp_run_free(&r);
        msgs_free(&w);
    }
    CHECK_INT(br_snapshot_read_file(brs, &bytes, &s, err,
                                    sizeof err), BR_ERR_OK);
    CHECK_INT(s.format, 1);
    CHECK_STR(s.version, "0.1.0");
    CHECK_STR(s.group, "burnrate");
    CHECK(s.core_len > 0);
    if (s.core_len > 0) /* the CORE layout, a uvar below 128 */
        CHECK_INT(((const unsigned char *)s.core)[0], layout);
    br_buf_reset(&json);
    CHECK_INT(br_pipeline_describe(s.core, s.core_len, &json, err, sizeof err),
              BR_ERR_OK);
    br_buf_puts(&json, "\n");
    br_buf_t want;
    br_buf_init(&want);
    FILE *fp = fopen(desc, "rb");
    CHECK(fp != NULL);
    if (fp) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
            br_buf_append(&want, chunk, n);
        fclose(fp);
    }
    CHECK(json.len == want.len && memcmp(json.data, want.data, json.len) == 0);
    /* It restores, and the run goes on to the uninterrupted run's end. */
    brp_run_t r, ref;
    msgs_t w = {0};
    workload(&w);
    brp_run_start(&r, conf);
    CHECK_INT(br_pipeline_restore(r.pl, s.core, s.core_len, NULL, err,
                                  sizeof err), BR_ERR_OK);
    feed_range(&r, &w, 165, w.n);
    br_pipeline_finish(r.pl);
    brp_run_start(&ref, conf);
    feed_range(&ref, &w, 0, w.n);
    br_pipeline_finish(ref.pl);
    br_pipeline_stats_t a, b;
    br_pipeline_stats(r.pl, &a);
    br_pipeline_stats(ref.pl, &b);
    CHECK(a.total_nanos == b.total_nanos);
    CHECK(a.ok == b.ok && a.duplicates == b.duplicates);
    brp_run_free(&r);
    brp_run_free(&ref);
    msgs_free(&w);
    br_snapshot_clear(&s);
    br_buf_free(&bytes);
    br_buf_free(&json);
    br_buf_free(&want);
    br_config_destroy(conf);
}

/* The v1 fixture's ids carry no amounts: on an input that replaces
 * restated rows, an id of it seen again with another amount is still a
 * duplicate (as it was before amounts were kept), while a new id's
 * restatement replaces. */
static void test_fixture_amounts_unknown(void) {
    char yaml[4096], err[512];
    const char *at = strstr(CONF, "    lateness: 0s\n");
    const char *mx = strstr(CONF, "MAXIDS");
    snprintf(yaml, sizeof yaml, "%.*s    restatements: replace\n%.*s1000%s",
             (int)(at - CONF), CONF, (int)(mx - at), at, mx + 6);
    br_config_t *conf = brp_config(yaml, "test.yaml");
    br_buf_t bytes;
    br_snapshot_t s;
    brp_run_t r;
    br_pipeline_stats_t a, b;
    br_buf_init(&bytes);
    CHECK_INT(br_snapshot_read_file("snapshot/v1.brs", &bytes, &s, err,
                                    sizeof err), BR_ERR_OK);
    brp_run_start(&r, conf);
    CHECK_INT(br_pipeline_restore(r.pl, s.core, s.core_len, NULL, err,
                                  sizeof err), BR_ERR_OK);
    br_pipeline_stats(r.pl, &a);
    msgs_t w = {0};
    /* s1 (40.00 at 48:10) is in the fixture's window. */
    event(&w, T0 + 48 * H + 10 * 60000, "ml", "a", "k1", "45.00", "s1");
    event(&w, T0 + 54 * H, "ml", "a", "k1", "1.00", "n1");
    event(&w, T0 + 54 * H, "ml", "a", "k1", "3.00", "n1"); /* restated */
    feed_range(&r, &w, 0, w.n);
    br_pipeline_stats(r.pl, &b);
    CHECK_INT(b.duplicates - a.duplicates, 1);
    CHECK_INT(b.restated - a.restated, 1);
    CHECK_INT(b.total_nanos - a.total_nanos, INT64_C(3000000000));
    brp_run_free(&r);
    msgs_free(&w);
    br_snapshot_clear(&s);
    br_buf_free(&bytes);
    br_config_destroy(conf);
}

/* Ids count once within the window; beyond max_ids the oldest are
 * forgotten (and counted); the window survives a restore. */
static void test_dedup(void) {
    br_config_t *conf = load(3);
    msgs_t w = {0};
    brp_run_t r;
    br_pipeline_stats_t st;
    event(&w, T0, "ml", "a", "k", "1", "x1");
    event(&w, T0 + 1000, "ml", "a", "k", "1", "x1");      /* dup */
    event(&w, T0 + 2000, "ml", "a", "k", "1", "x2");
    event(&w, T0 + 3000, "ml", "a", "k", "1", "x3");
    event(&w, T0 + 4000, "ml", "a", "k", "1", "x2");      /* dup */
    event(&w, T0 + 5000, "ml", "a", "k", "1", "x4");      /* evicts x1 */
    event(&w, T0 + 6000, "ml", "a", "k", "1", "x1");      /* counted again */
    brp_run_start(&r, conf);
    feed_range(&r, &w, 0, w.n);
    br_pipeline_stats(r.pl, &st);
    CHECK_INT(st.duplicates, 2);
    CHECK_INT(st.ok, 5);
    CHECK_INT(st.dedup_ids, 3);
    CHECK_INT(st.dedup_evicted, 2);
    /* Across a restore: x4 and x1 are still known. */
    br_buf_t b;
    br_buf_init(&b);
    save(r.pl, &b);
    brp_run_t r2;
    char err[256];
    brp_run_start(&r2, conf);
    CHECK_INT(br_pipeline_restore(r2.pl, b.data, b.len, NULL, err, sizeof err),
              BR_ERR_OK);
    msgs_t w2 = {0};
    event(&w2, T0 + 7000, "ml", "a", "k", "1", "x4");      /* dup */
    event(&w2, T0 + 7 * H, "ml", "a", "k", "1", "x1");     /* window passed */
    feed_range(&r2, &w2, 0, w2.n);
    br_pipeline_stats(r2.pl, &st);
    CHECK_INT(st.duplicates, 3);
    CHECK_INT(st.ok, 6);
    br_pipeline_memory_t mem;
    br_pipeline_memory(r2.pl, &mem);
    CHECK(mem.dedup > 0 && mem.dedup < 4096);
    br_buf_free(&b);
    brp_run_free(&r);
    brp_run_free(&r2);
    msgs_free(&w);
    msgs_free(&w2);
    br_config_destroy(conf);
}

/* A request id used as a tag: memory stops growing at the cap, one
 * series_cap alert names the dimension. */
static void test_hostile_cardinality(void) {
    br_config_t *conf = load(100);
    brp_run_t r;
    br_pipeline_memory_t m1, m2;
    brp_run_start(&r, conf);
    for (int i = 0; i < 200000; i++) {
        char key[32];
        snprintf(key, sizeof key, "req-%08d", i);
        char ts[40];
        br_ts_format(T0 + (int64_t)i * 10, ts, sizeof ts);
        brp_feedf(r.pl, 0, "usage", i,
                  "{\"ts\":\"%s\",\"team\":\"web\",\"model\":\"m%d\","
                  "\"key\":\"%s\",\"cost\":0.01,\"rid\":\"%s\"}",
                  ts, i % 3, key, key);
        if (i == 20000)
            br_pipeline_memory(r.pl, &m1);
    }
    br_pipeline_memory(r.pl, &m2);
    br_pipeline_stats_t st;
    br_pipeline_stats(r.pl, &st);
    CHECK(st.series <= 1 + 1 + 3 + 21);
    CHECK(m2.series == m1.series);
    CHECK(m2.index == m1.index);
    CHECK(m2.dedup <= (size_t)100 * 64);
    const char *cap = strstr(r.got.json.data, "\"type\":\"series_cap\"");
    CHECK(cap != NULL);
    CHECK(cap && strstr(r.got.json.data, "\"detail\":\"key\"") != NULL);
    CHECK(strstr(cap ? cap + 1 : "", "\"type\":\"series_cap\"") == NULL);
    brp_run_free(&r);
    br_config_destroy(conf);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/br-test-snapshot-%ld", (long)getpid());
    rm_rf(tmpdir);
    mkdir(tmpdir, 0755);
    test_container();
    test_directory();
    test_restore_anywhere();
    test_fixture("v1", 1);
    test_fixture("v3", 3);
    test_fixture("v6", 6); /* per-input dedup with amounts, open-bucket rings,
                              128-bit money */
    test_fixture_amounts_unknown();
    test_dedup();
    test_hostile_cardinality();
    rm_rf(tmpdir);
    return brt_done();
}
