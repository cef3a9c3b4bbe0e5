/*
 * External sorter: the same order in memory and spilled (many runs, several
 * merge passes), stability for equal keys, empty input, records larger than
 * the limit, no temporary file left behind, and clear errors when the
 * temporary directory cannot be used.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brtest.h"
#include "burnrate/sortrun.h"

typedef struct item {
    int64_t key;
    uint64_t seq;
    char data[64];
    size_t len;
} item_t;

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int item_cmp(const void *pa, const void *pb) {
    const item_t *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

static size_t dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    if (!d)
        return (size_t)-1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static size_t open_fds(void) {
    return dir_entries("/proc/self/fd");
}

/* Sort items through a sorter with the given limit; check the output is
 * items sorted by (key, seq) with their bytes. */
static void run_sort(const item_t *items, size_t n, size_t limit,
                     const char *tmpdir, br_sortrun_stats_t *st) {
    char errstr[256] = "";
    br_sortrun_t *sr = br_sortrun_new(limit, tmpdir, errstr, sizeof errstr);
    item_t *want = malloc((n ? n : 1) * sizeof *want);
    CHECK(sr != NULL && want != NULL);
    if (!sr || !want)
        return;
    memcpy(want, items, n * sizeof *want);
    qsort(want, n, sizeof *want, item_cmp); /* unique seqs: a total order */
    for (size_t i = 0; i < n; i++)
        CHECK_INT(br_sortrun_add(sr, items[i].key, items[i].seq, items[i].data,
                                 items[i].len, errstr, sizeof errstr),
                  BR_ERR_OK);
    CHECK_INT(br_sortrun_finish(sr, errstr, sizeof errstr), BR_ERR_OK);
    size_t got = 0, bad = 0;
    int64_t key;
    uint64_t seq;
    const void *data;
    size_t len;
    br_err_t err;
    while ((err = br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                                  sizeof errstr)) == BR_ERR_OK) {
        if (got >= n || key != want[got].key || seq != want[got].seq ||
            len != want[got].len || memcmp(data, want[got].data, len) != 0)
            bad++;
        got++;
    }
    CHECK_INT(err, BR_ERR_NOTFOUND);
    CHECK_INT(got, n);
    CHECK_INT(bad, 0);
    /* At the end it stays at the end. */
    CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                              sizeof errstr), BR_ERR_NOTFOUND);
    br_sortrun_stats(sr, st);
    CHECK_INT(st->records, n);
    br_sortrun_destroy(sr);
    free(want);
}

static item_t *make_items(size_t n, int64_t key_range) {
    item_t *items = calloc(n, sizeof *items);
    for (size_t i = 0; items && i < n; i++) {
        items[i].key = (int64_t)(next_rand() % (uint64_t)key_range) - key_range / 2;
        items[i].seq = i;
        items[i].len = (size_t)snprintf(items[i].data, sizeof items[i].data,
                                        "record %zu key %" PRId64, i,
                                        items[i].key) -
                       (i % 3); /* a few lengths, some without the end */
    }
    return items;
}

static void test_memory_and_spilled(void) {
    size_t n = 20000;
    item_t *items = make_items(n, 500); /* many equal keys */
    br_sortrun_stats_t st;
    CHECK(items != NULL);
    if (!items)
        return;
    run_sort(items, n, 64 << 20, NULL, &st);
    CHECK_INT(st.runs, 0);
    CHECK_INT(st.merge_passes, 0);
    /* 1 KiB: a few records per run, thousands of runs, merged in passes. */
    run_sort(items, n, 1024, NULL, &st);
    CHECK(st.runs > 32 * 32);
    CHECK(st.merge_passes >= 2);
    CHECK(st.peak_memory_bytes <= 1024);
    /* 256 KiB: a few runs, one merge. */
    run_sort(items, n, 256 << 10, NULL, &st);
    CHECK(st.runs > 1 && st.runs <= 32);
    CHECK_INT(st.merge_passes, 0);
    free(items);
}

/* Equal keys and equal seqs: the order records were added, whatever the
 * limit. */
static void test_stable(void) {
    size_t limits[] = {1 << 20, 300, 1};
    for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
        char errstr[256];
        br_sortrun_t *sr = br_sortrun_new(limits[l], NULL, errstr, sizeof errstr);
        CHECK(sr != NULL);
        if (!sr)
            return;
        for (uint32_t i = 0; i < 2000; i++) {
            int64_t key = (int64_t)(i % 7 == 0 ? 5 : 3);
            CHECK_INT(br_sortrun_add(sr, key, 0, &i, sizeof i, errstr,
                                     sizeof errstr), BR_ERR_OK);
        }
        CHECK_INT(br_sortrun_finish(sr, errstr, sizeof errstr), BR_ERR_OK);
        int64_t key, prev_key = INT64_MIN;
        uint64_t seq;
        const void *data;
        size_t len, bad = 0, got = 0;
        uint32_t prev = 0;
        while (br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                               sizeof errstr) == BR_ERR_OK) {
            uint32_t v;
            memcpy(&v, data, sizeof v);
            if (len != sizeof v || key < prev_key ||
                (key == prev_key && v <= prev))
                bad++;
            prev_key = key;
            prev = v;
            got++;
        }
        CHECK_INT(got, 2000);
        CHECK_INT(bad, 0);
        br_sortrun_destroy(sr);
    }
}

static void test_empty(void) {
    char errstr[256];
    int64_t key;
    uint64_t seq;
    const void *data;
    size_t len;
    br_sortrun_t *sr = br_sortrun_new(1024, NULL, errstr, sizeof errstr);
    CHECK(sr != NULL);
    CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                              sizeof errstr), BR_ERR_INVAL);
    CHECK_INT(br_sortrun_finish(sr, errstr, sizeof errstr), BR_ERR_OK);
    CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                              sizeof errstr), BR_ERR_NOTFOUND);
    CHECK_INT(br_sortrun_add(sr, 1, 1, "x", 1, errstr, sizeof errstr),
              BR_ERR_INVAL);
    br_sortrun_destroy(sr);
    br_sortrun_destroy(NULL);

    /* Empty records sort like the others. */
    sr = br_sortrun_new(1, NULL, errstr, sizeof errstr);
    CHECK_INT(br_sortrun_add(sr, 2, 0, NULL, 0, errstr, sizeof errstr), BR_ERR_OK);
    CHECK_INT(br_sortrun_add(sr, 1, 0, "", 0, errstr, sizeof errstr), BR_ERR_OK);
    CHECK_INT(br_sortrun_finish(sr, errstr, sizeof errstr), BR_ERR_OK);
    CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                              sizeof errstr), BR_ERR_OK);
    CHECK_INT(key, 1);
    CHECK_INT(len, 0);
    CHECK(data != NULL);
    CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                              sizeof errstr), BR_ERR_OK);
    CHECK_INT(key, 2);
    CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                              sizeof errstr), BR_ERR_NOTFOUND);
    br_sortrun_destroy(sr);
}

/* Records far larger than the limit and than a read buffer. */
static void test_huge(void) {
    char errstr[256];
    size_t sizes[] = {10, 3 << 20, 100, 200000, 1, 70000};
    int64_t keys[] = {5, 1, 3, 2, 4, 0};
    size_t n = sizeof sizes / sizeof *sizes;
    br_sortrun_t *sr = br_sortrun_new(1024, NULL, errstr, sizeof errstr);
    CHECK(sr != NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char *buf = malloc(sizes[i]);
        for (size_t k = 0; k < sizes[i]; k++)
            buf[k] = (unsigned char)(k * 31 + i);
        CHECK_INT(br_sortrun_add(sr, keys[i], i, buf, sizes[i], errstr,
                                 sizeof errstr), BR_ERR_OK);
        free(buf);
    }
    CHECK_INT(br_sortrun_finish(sr, errstr, sizeof errstr), BR_ERR_OK);
    int64_t key;
    uint64_t seq;
    const void *data;
    size_t len;
    for (int64_t want = 0; want < (int64_t)n; want++) {
        CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                                  sizeof errstr), BR_ERR_OK);
        CHECK_INT(key, want);
        CHECK_INT(len, sizes[seq]);
        size_t bad = 0;
        for (size_t k = 0; k < len; k++)
            if (((const unsigned char *)data)[k] != (unsigned char)(k * 31 + seq))
                bad++;
        CHECK_INT(bad, 0);
    }
    CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                              sizeof errstr), BR_ERR_NOTFOUND);
    br_sortrun_stats_t st;
    br_sortrun_stats(sr, &st);
    CHECK_INT(st.runs, n);
    br_sortrun_destroy(sr);
}

/* Spill files never show in the directory, and every descriptor is closed. */
static void test_temp_removed(void) {
    char dir[] = "/tmp/br-sortrun-XXXXXX";
    char errstr[256];
    CHECK(mkdtemp(dir) != NULL);
    size_t fds = open_fds();
    br_sortrun_t *sr = br_sortrun_new(512, dir, errstr, sizeof errstr);
    for (uint32_t i = 0; i < 5000; i++)
        CHECK_INT(br_sortrun_add(sr, (int64_t)(5000 - i), i, &i, sizeof i,
                                 errstr, sizeof errstr), BR_ERR_OK);
    CHECK_INT(dir_entries(dir), 0);
    CHECK_INT(br_sortrun_finish(sr, errstr, sizeof errstr), BR_ERR_OK);
    CHECK_INT(dir_entries(dir), 0);
    CHECK(open_fds() > fds); /* the spill file is open, unlinked */
    int64_t key;
    uint64_t seq;
    const void *data;
    size_t len;
    CHECK_INT(br_sortrun_next(sr, &key, &seq, &data, &len, errstr,
                              sizeof errstr), BR_ERR_OK);
    CHECK_INT(key, 1);
    br_sortrun_destroy(sr); /* before the end */
    CHECK_INT(open_fds(), fds);
    CHECK_INT(dir_entries(dir), 0);
    rmdir(dir);
}

static void test_io_errors(void) {
    char errstr[512];
    br_sortrun_t *sr;
    br_err_t err = BR_ERR_OK;

    /* A directory that does not exist: the first spill fails clearly. */
    sr = br_sortrun_new(256, "/nonexistent/br-sortrun", errstr, sizeof errstr);
    for (uint32_t i = 0; i < 100 && !err; i++)
        err = br_sortrun_add(sr, i, i, &i, sizeof i, errstr, sizeof errstr);
    CHECK_INT(err, BR_ERR_IO);
    CHECK(strstr(errstr, "/nonexistent/br-sortrun") != NULL);
    CHECK(strstr(errstr, "No such file or directory") != NULL);
    CHECK(strstr(errstr, "TMPDIR") != NULL);
    br_sortrun_destroy(sr);

    /* $TMPDIR is where it goes when no directory is given. */
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", "/nonexistent/br-tmpdir", 1);
    sr = br_sortrun_new(256, NULL, errstr, sizeof errstr);
    err = BR_ERR_OK;
    for (uint32_t i = 0; i < 100 && !err; i++)
        err = br_sortrun_add(sr, i, i, &i, sizeof i, errstr, sizeof errstr);
    CHECK_INT(err, BR_ERR_IO);
    CHECK(strstr(errstr, "/nonexistent/br-tmpdir") != NULL);
    br_sortrun_destroy(sr);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);

    /* A directory without write permission (root ignores permissions). */
    if (geteuid() != 0) {
        char dir[] = "/tmp/br-sortrun-ro-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        chmod(dir, 0500);
        sr = br_sortrun_new(256, dir, errstr, sizeof errstr);
        err = BR_ERR_OK;
        for (uint32_t i = 0; i < 100 && !err; i++)
            err = br_sortrun_add(sr, i, i, &i, sizeof i, errstr, sizeof errstr);
        CHECK_INT(err, BR_ERR_IO);
        CHECK(strstr(errstr, "Permission denied") != NULL);
        br_sortrun_destroy(sr);
        rmdir(dir);
    }

    /* A write that fails (file size limit: EFBIG) is an error, not a
     * silently short run. */
    struct rlimit rl, small;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0) {
        void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
        small = rl;
        small.rlim_cur = 4096;
        if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
            char blob[1000];
            memset(blob, 'x', sizeof blob);
            sr = br_sortrun_new(2048, NULL, errstr, sizeof errstr);
            err = BR_ERR_OK;
            for (int i = 0; i < 100 && !err; i++)
                err = br_sortrun_add(sr, i, 0, blob, sizeof blob, errstr,
                                     sizeof errstr);
            if (!err)
                err = br_sortrun_finish(sr, errstr, sizeof errstr);
            CHECK_INT(err, BR_ERR_IO);
            CHECK(strstr(errstr, "writing a sort run") != NULL);
            br_sortrun_destroy(sr);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        signal(SIGXFSZ, prev);
    }
}

static void test_parse_size(void) {
    size_t n = 0;
    CHECK_INT(br_sortrun_parse_size("256M", &n), BR_ERR_OK);
    CHECK_INT(n, (size_t)256 << 20);
    CHECK_INT(br_sortrun_parse_size("1GiB", &n), BR_ERR_OK);
    CHECK_INT(n, (size_t)1 << 30);
    CHECK_INT(br_sortrun_parse_size("64k", &n), BR_ERR_OK);
    CHECK_INT(n, 65536);
    CHECK_INT(br_sortrun_parse_size("1000", &n), BR_ERR_OK);
    CHECK_INT(n, 1000);
    CHECK_INT(br_sortrun_parse_size("12MB", &n), BR_ERR_OK);
    CHECK_INT(n, (size_t)12 << 20);
    CHECK_INT(br_sortrun_parse_size("0", &n), BR_ERR_INVAL);
    CHECK_INT(br_sortrun_parse_size("", &n), BR_ERR_INVAL);
    CHECK_INT(br_sortrun_parse_size("M", &n), BR_ERR_INVAL);
    CHECK_INT(br_sortrun_parse_size("-1M", &n), BR_ERR_INVAL);
    CHECK_INT(br_sortrun_parse_size("12X", &n), BR_ERR_INVAL);
    CHECK_INT(br_sortrun_parse_size("1.5G", &n), BR_ERR_INVAL);
    CHECK_INT(br_sortrun_parse_size("99999999999999999999", &n), BR_ERR_INVAL);
    CHECK_INT(br_sortrun_parse_size("999999999999T", &n), BR_ERR_INVAL);
}

int main(void) {
    test_memory_and_spilled();
    test_stable();
    test_empty();
    test_huge();
    test_temp_removed();
    test_io_errors();
    test_parse_size();
    return brt_done();
}
