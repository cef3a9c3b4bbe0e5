/*
 * Snapshot figures for scripts/bench: builds a state with N series (one
 * per user, plus team scopes), then times saving it (pipeline state +
 * container), writing it durably into a state directory, and reading it
 * back into a fresh pipeline. Prints one line of figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/pipeline.h"
#include "burnrate/snapshot.h"
#include "burnrate/ts.h"

static const char CONF[] =
    "inputs:\n"
    "  - name: usage\n"
    "    topic: usage\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    mapping:\n"
    "      time: ts\n"
    "      cost: cost\n"
    "      id: rid\n"
    "      dims: {team: team, user: user}\n"
    "scopes:\n"
    "  - {name: total, dims: []}\n"
    "  - {name: team, dims: [team]}\n"
    "  - {name: user, dims: [user], max_series: 100000000}\n";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long series = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    const char *dir = argc > 2 ? argv[2] : "/tmp/burnrate-snapbench";
    char err[1024];
    if (series <= 0 || argc > 3) {
        fprintf(stderr, "usage: burnrate-snapbench [SERIES] [STATE_DIR]\n");
        return 2;
    }
    br_config_t *conf = br_config_load_string(CONF, "snapbench", NULL, err,
                                              sizeof err);
    br_pipeline_t *pl = conf ? br_pipeline_new(conf, NULL, err, sizeof err)
                             : NULL;
    if (!pl) {
        fprintf(stderr, "burnrate-snapbench: %s\n", err);
        return 1;
    }
    /* Three events per user, an hour apart: buckets, baselines, dedup ids. */
    const int64_t t0 = INT64_C(1735689600000);
    long n = 0;
    for (int round = 0; round < 3; round++)
        for (long u = 0; u < series; u++) {
            char msg[256], ts[40];
            br_ts_format(t0 + round * 3600000 + u % 3600000, ts, sizeof ts);
            int len = snprintf(msg, sizeof msg,
                               "{\"ts\":\"%s\",\"team\":\"t%ld\",\"user\":"
                               "\"user-%08ld\",\"cost\":0.0123,\"rid\":\"%ld\"}",
                               ts, u % 50, u, n);
            br_origin_t o = {.input = 0, .topic = "usage", .partition = 0,
                             .offset = n++};
            br_pipeline_feed(pl, &o, msg, (size_t)len);
        }
    br_pipeline_stats_t st;
    br_pipeline_stats(pl, &st);

    br_buf_t core, file, bytes;
    br_buf_init(&core);
    br_buf_init(&file);
    br_buf_init(&bytes);
    double a = now_s();
    br_pipeline_save(pl, &core);
    char topic[] = "usage", version[] = BR_VERSION;
    br_snap_offset_t off = {topic, 0, n};
    br_snapshot_t snap = {.generation = 1, .version = version, .offsets = &off,
                          .offset_cnt = 1, .core = core.data,
                          .core_len = core.len};
    br_snapshot_encode(&snap, &file);
    double b = now_s();
    br_snapdir_t *sd = br_snapdir_open(dir, 1, err, sizeof err);
    if (!sd || br_snapdir_write(sd, br_snapdir_next_generation(sd), file.data,
                                file.len, err, sizeof err)) {
        fprintf(stderr, "burnrate-snapbench: %s\n", err);
        return 1;
    }
    double c = now_s();
    br_snapshot_t back;
    char path[4096];
    br_pipeline_t *pl2 = br_pipeline_new(conf, NULL, err, sizeof err);
    if (br_snapdir_load(sd, &bytes, &back, path, sizeof path, NULL, NULL, err,
                        sizeof err) ||
        br_pipeline_restore(pl2, back.core, back.core_len, NULL, err,
                            sizeof err)) {
        fprintf(stderr, "burnrate-snapbench: %s\n", err);
        return 1;
    }
    double d = now_s();
    br_pipeline_stats_t st2;
    br_pipeline_stats(pl2, &st2);
    printf("series %llu  snapshot %.1f MB  save+encode %.0f ms  write+fsync "
           "%.0f ms  read+restore %.0f ms  restored_series %llu\n",
           (unsigned long long)st.series, (double)file.len / 1e6,
           (b - a) * 1e3, (c - b) * 1e3, (d - c) * 1e3,
           (unsigned long long)st2.series);
    br_snapshot_clear(&back);
    br_snapdir_close(sd);
    br_pipeline_destroy(pl);
    br_pipeline_destroy(pl2);
    br_config_destroy(conf);
    br_buf_free(&core);
    br_buf_free(&file);
    br_buf_free(&bytes);
    return st2.series == st.series ? 0 : 1;
}
