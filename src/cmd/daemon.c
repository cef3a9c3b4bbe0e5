/*
 * `burnrate run`: consume -> pipeline -> produce on one thread. Signal
 * handlers only set a flag; the loop notices it within one poll (100 ms),
 * writes a last snapshot, closes the consumer, flushes the producer and
 * returns.
 *
 * Durability: every state.snapshot_interval the producer is flushed (all
 * alerts and dead letters emitted so far acknowledged), the pipeline state
 * and the next offset of every partition are written as one snapshot, and
 * only then are those offsets committed. On start the newest valid snapshot
 * is restored and each partition resumes from its offset, so a crash at any
 * moment re-reads exactly what came after the snapshot.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "burnrate/daemon.h"
#include "burnrate/httpd.h"
#include "burnrate/kafka.h"
#include "burnrate/log.h"
#include "burnrate/merge.h"
#include "burnrate/metrics_render.h"
#include "burnrate/money.h"
#include "burnrate/pipeline.h"
#include "burnrate/redact.h"
#include "burnrate/reload.h"
#include "burnrate/schemasrc.h"
#include "burnrate/signals.h"
#include "burnrate/snapshot.h"
#include "burnrate/ts.h"

#define POLL_MS 100
#define LOG_BURST 5           /* lines per key ... */
#define LOG_PERIOD_MS 10000   /* ... per this much time */
#define SNAP_FLUSH_MS 1000    /* producer flush before a periodic snapshot,
                                 once delivery has been pending an interval */
#define SNAP_WAIT_MS 100      /* re-check of pending deliveries */
#define SNAP_RETRY_MIN_MS 1000 /* first retry of a failed snapshot ... */
#define SNAP_RETRY_MAX_MS 5000 /* ... doubling up to this: a failing disk is
                                  not hammered, a healed one is used soon */
#define COMMITTED_MS 5000     /* asking the group for its offsets */
#define HOLD_MIN_MS 500       /* a partition waiting for its Avro schema ... */
#define HOLD_MAX_MS 30000     /* ... retries with backoff up to this */
#define MERGE_WAIT_MS 2000    /* an assigned partition with lag (or not
                                 heard from yet) and nothing buffered holds
                                 the others back this long at most: above a
                                 fetch round trip (fetch.wait.max.ms is 500
                                 by default), short enough that a stuck
                                 broker delays the other partitions' records
                                 by seconds, not forever */
#define MERGE_BURST 4096      /* records fed per loop turn, at most: the
                                 loop's other duties (rebalance, snapshots,
                                 /metrics) come in between */

/* A partition paused at a message whose Avro schema could not be fetched. */
typedef struct held {
    char *topic;
    int32_t partition;
    int64_t resume_ms;         /* monotonic */
    int64_t backoff_ms;
    bool paused;
} held_t;

/* An assigned partition as the event-time merge sees it: its own queue
 * (split off the consumer queue) and at most one decoded record waiting
 * for its turn. Its offset is not covered by the state until it is fed. */
typedef struct src {
    char *topic;               /* owned */
    int32_t partition;
    int input;                 /* index into conf->inputs, -1: foreign */
    rd_kafka_queue_t *q;       /* owned */
    int slot;                  /* in daemon_t.merge */
    rd_kafka_message_t *rkm;   /* the head's message (payload, key for a
                                  dead letter), owned; NULL: no head */
    br_record_t *rec;          /* the head, decoded; owned */
    int64_t next;              /* offset after the last message popped,
                                  -1 before the first */
    bool eof;                  /* the end was reached, nothing since */
    bool behind;               /* last told to br_pipeline_note_backlog() */
} src_t;

/* The next offset to read of one partition: what the state covers. */
typedef struct progress {
    char *topic;
    int32_t partition;
    int64_t next;
} progress_t;

typedef struct daemon {
    br_config_t *conf;                    /* owned; a reload replaces it */
    const br_daemon_opts_t *opts;         /* borrowed */
    rd_kafka_t *rk;                       /* consumer, owned */
    br_kafka_out_t *out;                  /* producer, owned */
    br_schemasrc_async_t *fetcher;        /* Avro schema lookups, owned */
    br_pipeline_t *pl;                    /* owned */
    const char **input_names;             /* borrowed from pl */
    const rd_kafka_message_t *cur;        /* message being fed, or NULL */
    rd_kafka_topic_t *last_rkt;           /* topic -> input cache */
    int last_input;
    br_ratelimit_t rl;
    br_outputs_t outs;                    /* where alerts and dead letters go */
    uint64_t dead_by_reason[BR_ERR__CNT]; /* dead letters per reason */
    uint64_t produce_errors;              /* alerts/dead letters refused */
    uint64_t foreign;                     /* messages of unknown topics */
    int fatal;                            /* consumer raised a fatal error */
    br_snapdir_t *sd;                     /* the state directory, owned */
    progress_t *prog;                     /* per partition, owned */
    size_t prog_cnt, prog_cap;
    size_t prog_last;                     /* lookup cache */
    uint64_t next_gen;                    /* generation of the next snapshot */
    uint64_t changes;                     /* messages since the last snapshot */
    int64_t next_snap_ms;                 /* monotonic time of the next one */
    int64_t snap_due_ms;                  /* when the waiting one fell due */
    int64_t last_snap_wall_ms;            /* wall time of the last good one */
    uint64_t snapshots;                   /* written by this process */
    uint64_t snap_failures;               /* failed attempts (consecutive) */
    uint64_t snap_failures_total;
    char snap_error[1024];                /* why the last attempt failed */
    br_buf_t snapbuf;                     /* encoded snapshot, reused */
    br_buf_t corebuf;                     /* pipeline state, reused */
    held_t *held;                         /* partitions waiting, owned */
    size_t held_cnt, held_cap;
    br_merge_t *merge;                    /* event-time order, owned */
    src_t *srcs;                          /* assigned partitions, owned */
    size_t src_cnt, src_cap;
    int wake[2];                          /* pipe: a queue has messages */
    rd_kafka_queue_t *cq;                 /* the consumer queue, a reference */
    /* Metrics and health (http.listen); see the section below. */
    br_httpd_t *http;                     /* owned, NULL when off */
    int64_t start_wall_ms;                /* process start, wall clock */
    bool restored;                        /* the snapshot is loaded */
    bool assigned;                        /* an assignment (maybe empty) is
                                             held, not revoked since */
    bool was_assigned;                    /* one came at least once */
    uint64_t alerts_by[BR_ALERT__CNT][3]; /* alerts out by type, status */
    int64_t last_snap_dur_ms;             /* the last good snapshot took */
    size_t last_snap_bytes;               /* and wrote */
    br_kstats_t kstats;                   /* the consumer's librdkafka
                                             statistics, last emission */
} daemon_t;

/* A rate-limited line for noisy events; key groups them. */
#define LIMITED(d, lvl, key, msg, fmt, ...)                                   \
    do {                                                                      \
        if (br_log_limited(&(d)->rl, key))                                    \
            br_log(lvl, msg, fmt, __VA_ARGS__);                               \
    } while (0)

static void on_alert(void *opaque, const br_alert_t *alert) {
    daemon_t *d = opaque;

    if ((unsigned)alert->type < BR_ALERT__CNT && (unsigned)alert->status < 3)
        d->alerts_by[alert->type][alert->status]++;
    br_outputs_alert(&d->outs, alert, d->input_names, br_log_wall_ms());
}

static void on_dead_letter(void *opaque, const br_origin_t *origin,
                           const void *payload, size_t len, br_err_t reason,
                           const char *detail) {
    daemon_t *d = opaque;
    br_dead_letter_t dl = {
        .origin = origin,
        .input = origin->input >= 0 && (size_t)origin->input < d->conf->input_cnt
                     ? d->conf->inputs[origin->input].name
                     : "",
        .payload = payload,
        .len = len,
        .reason = reason,
        .detail = detail,
    };
    char qbuf[600], qtopic[300];

    if (d->cur && d->cur->partition == origin->partition &&
        d->cur->offset == origin->offset) {
        dl.key = d->cur->key;
        dl.key_len = d->cur->key_len;
    }
    if ((unsigned)reason < BR_ERR__CNT)
        d->dead_by_reason[reason]++;
    LIMITED(d, BR_LOG_WARN, "dead_letter", "dead letter",
            "where=%s[%" PRId32 "]@%" PRId64 " reason=%s detail=%s",
            br_log_quote(qtopic, sizeof qtopic, origin->topic), origin->partition,
            origin->offset, br_err_name(reason),
            br_log_quote(qbuf, sizeof qbuf, detail));
    br_outputs_dead_letter(&d->outs, &dl);
}

/* An alert (alert set) or a dead letter an output refused. */
static void on_output_error(void *opaque, const br_output_t *out,
                            const br_alert_t *alert, const char *why) {
    daemon_t *d = opaque;
    char qbuf[600];

    (void)out;
    d->produce_errors++;
    if (alert)
        LIMITED(d, BR_LOG_ERROR, "produce", "alert not sent", "id=%s error=%s",
                alert->id, br_log_quote(qbuf, sizeof qbuf, why));
    else
        LIMITED(d, BR_LOG_ERROR, "produce", "dead letter not sent", "error=%s",
                br_log_quote(qbuf, sizeof qbuf, why));
}

static void on_consumer_error(rd_kafka_t *rk, int err, const char *reason,
                              void *opaque) {
    daemon_t *d = opaque;
    char qbuf[512];

    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        d->fatal = 1;
        br_log(BR_LOG_ERROR, "consumer fatal error", "error=%s",
               br_log_quote(qbuf, sizeof qbuf, reason));
        return;
    }
    LIMITED(d, BR_LOG_WARN, "consumer_error", "consumer error (librdkafka retries)",
            "code=%s error=%s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
            br_log_quote(qbuf, sizeof qbuf, reason));
}

static progress_t *progress_find(daemon_t *d, const char *topic,
                                 int32_t partition, bool create);
static bool take_snapshot(daemon_t *d, const char *why, int flush_ms,
                          bool sync_commit);
static void srcs_assign(daemon_t *d, rd_kafka_t *rk,
                        const rd_kafka_topic_partition_list_t *parts);
static void srcs_revoke(daemon_t *d, const rd_kafka_topic_partition_list_t *parts);

/* Each newly assigned partition resumes where the state left it: the
 * snapshot's (or this run's) next offset; others take the group's. */
static void resume_offsets(daemon_t *d, rd_kafka_t *rk,
                           rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *committed =
        rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t cerr = rd_kafka_committed(rk, committed, COMMITTED_MS);

    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        progress_t *p = progress_find(d, tp->topic, tp->partition, false);
        int64_t group = cerr ? RD_KAFKA_OFFSET_INVALID
                             : committed->elems[i].offset;
        char gtext[32];
        if (group >= 0)
            snprintf(gtext, sizeof gtext, "%" PRId64, group);
        else
            snprintf(gtext, sizeof gtext, "%s", cerr ? "unknown" : "none");
        if (p) {
            tp->offset = p->next;
            if (group != p->next)
                br_log(BR_LOG_INFO, "resuming from the snapshot, not the group",
                       "partition=%s[%" PRId32 "] offset=%" PRId64 " group_offset=%s"
                       " reason=\"%s\"", tp->topic, tp->partition, p->next, gtext,
                       group >= 0 && group > p->next
                           ? "the state covers only up to the snapshot: events "
                             "after it are read again"
                           : "the group lags the snapshot (its last commit was "
                             "lost or not made)");
            else
                br_log(BR_LOG_DEBUG, "resuming", "partition=%s[%" PRId32 "] "
                       "offset=%" PRId64 " source=snapshot", tp->topic,
                       tp->partition, p->next);
        } else {
            br_log(BR_LOG_INFO, "resuming from the group",
                   "partition=%s[%" PRId32 "] group_offset=%s reason=\"%s\"",
                   tp->topic, tp->partition, gtext,
                   "no snapshot covers this partition (auto.offset.reset "
                   "applies without a group offset)");
        }
    }
    rd_kafka_topic_partition_list_destroy(committed);
}

/* Inputs with a partition assigned are live: their silence counts (one
 * paused for its Avro schema is still assigned). Losing every partition
 * of an input stops the count but leaves an open stale alert open. */
static void note_assignment(daemon_t *d, rd_kafka_t *rk) {
    rd_kafka_topic_partition_list_t *own = NULL;
    bool *live;

    if (!d->pl || rd_kafka_assignment(rk, &own) || !own)
        return;
    live = calloc(d->conf->input_cnt + 1, sizeof *live);
    if (live) {
        int64_t now = br_log_wall_ms();
        for (int k = 0; k < own->cnt; k++) {
            int i = br_kafka_topic_input(d->conf, own->elems[k].topic);
            if (i >= 0)
                live[i] = true;
        }
        for (size_t i = 0; i < d->conf->input_cnt; i++)
            br_pipeline_set_live(d->pl, (int)i, live[i], now);
        free(live);
    }
    rd_kafka_topic_partition_list_destroy(own);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    daemon_t *d = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    bool assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;

    br_log(BR_LOG_INFO, assign ? "partitions assigned" : "partitions revoked",
           "count=%d protocol=%s", parts->cnt, cooperative ? "cooperative" : "eager");
    for (int i = 0; i < parts->cnt && br_log_enabled(BR_LOG_DEBUG); i++)
        br_log(BR_LOG_DEBUG, assign ? "assigned" : "revoked", "partition=%s[%" PRId32 "]",
               parts->elems[i].topic, parts->elems[i].partition);
    d->assigned = assign; /* /readyz: ready again at the next assignment */
    d->was_assigned |= assign;
    if (assign) {
        resume_offsets(d, rk, parts);
        /* Before the assignment takes effect: each partition's queue is
         * split off the consumer queue, and it counts from now on. */
        srcs_assign(d, rk, parts);
    } else {
        if (d->pl && !rd_kafka_assignment_lost(rk))
            /* Hand over what the state covers before another member takes
             * these partitions. */
            take_snapshot(d, "revoke", SNAP_FLUSH_MS, true);
        /* A record buffered but not fed is dropped: the state does not
         * cover it, so the next owner reads it again. Only partitions read
         * here hold this watermark back. */
        srcs_revoke(d, parts);
    }
    if (cooperative)
        error = assign ? rd_kafka_incremental_assign(rk, parts)
                       : rd_kafka_incremental_unassign(rk, parts);
    else
        rerr = rd_kafka_assign(rk, assign ? parts : NULL);
    if (error) {
        br_log(BR_LOG_ERROR, "rebalance failed", "error=%s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (rerr) {
        br_log(BR_LOG_ERROR, "rebalance failed", "error=%s", rd_kafka_err2str(rerr));
    }
    note_assignment(d, rk);
}

static const char *group_id(const br_config_t *conf) {
    return conf->kafka.group_id ? conf->kafka.group_id : "burnrate";
}

static progress_t *progress_find(daemon_t *d, const char *topic,
                                 int32_t partition, bool create) {
    if (d->prog_last < d->prog_cnt) {
        progress_t *p = &d->prog[d->prog_last];
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return p;
    }
    for (size_t i = 0; i < d->prog_cnt; i++)
        if (d->prog[i].partition == partition &&
            strcmp(d->prog[i].topic, topic) == 0) {
            d->prog_last = i;
            return &d->prog[i];
        }
    if (!create)
        return NULL;
    if (d->prog_cnt == d->prog_cap) {
        size_t cap = d->prog_cap ? d->prog_cap * 2 : 16;
        progress_t *np = realloc(d->prog, cap * sizeof *np);
        if (!np)
            return NULL;
        d->prog = np;
        d->prog_cap = cap;
    }
    progress_t *p = &d->prog[d->prog_cnt];
    p->topic = strdup(topic);
    if (!p->topic)
        return NULL;
    p->partition = partition;
    p->next = 0;
    d->prog_last = d->prog_cnt++;
    return p;
}

/* The pipeline has taken the message (counted, skipped or dead-lettered):
 * the state now covers it. Nothing is committed here; commit_snapshot()
 * commits what a durable snapshot covers. */
static void note_progress(daemon_t *d, const rd_kafka_message_t *rkm) {
    progress_t *p = progress_find(d, rd_kafka_topic_name(rkm->rkt),
                                  rkm->partition, true);
    if (!p) {
        LIMITED(d, BR_LOG_ERROR, "progress", "out of memory tracking offsets",
                "partition=%" PRId32, rkm->partition);
        return;
    }
    p->next = rkm->offset + 1;
    d->changes++;
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque) {
    daemon_t *d = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    if (err)
        LIMITED(d, BR_LOG_WARN, "commit", "offset commit failed (the next "
                "snapshot commits again)", "error=%s", rd_kafka_err2name(err));
    for (int i = 0; offsets && i < offsets->cnt; i++)
        if (offsets->elems[i].err)
            LIMITED(d, BR_LOG_WARN, "commit", "offset commit failed",
                    "partition=%s[%" PRId32 "] error=%s",
                    offsets->elems[i].topic, offsets->elems[i].partition,
                    rd_kafka_err2name(offsets->elems[i].err));
}

/* Commit the offsets the newest snapshot covers, for the partitions this
 * member owns now. */
static void commit_snapshot(daemon_t *d, bool sync) {
    rd_kafka_topic_partition_list_t *own = NULL, *list;
    rd_kafka_resp_err_t err;

    if (!d->rk || rd_kafka_assignment(d->rk, &own) || !own)
        return;
    list = rd_kafka_topic_partition_list_new(own->cnt > 0 ? own->cnt : 1);
    for (int i = 0; i < own->cnt; i++) {
        progress_t *p = progress_find(d, own->elems[i].topic,
                                      own->elems[i].partition, false);
        if (p)
            rd_kafka_topic_partition_list_add(list, p->topic, p->partition)
                ->offset = p->next;
    }
    rd_kafka_topic_partition_list_destroy(own);
    if (list->cnt > 0) {
        err = rd_kafka_commit(d->rk, list, sync ? 0 : 1);
        if (sync && err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            LIMITED(d, BR_LOG_WARN, "commit", "offset commit failed (the next "
                    "snapshot commits again)", "error=%s", rd_kafka_err2name(err));
    }
    rd_kafka_topic_partition_list_destroy(list);
}

/* Whether enough snapshots in a row have failed (state.unready_after) for
 * /readyz to say so. */
static bool snap_failing(const daemon_t *d) {
    return d->conf->snapshot_unready_after > 0 &&
           d->snap_failures >= (uint64_t)d->conf->snapshot_unready_after;
}

/* When to try again after failures consecutive failed snapshots: 1 s,
 * 2 s, 4 s, then every 5 s, whatever state.snapshot_interval is. */
static int64_t snap_retry_ms(uint64_t failures) {
    int64_t ms = SNAP_RETRY_MIN_MS;
    for (uint64_t i = 1; i < failures && ms < SNAP_RETRY_MAX_MS; i++)
        ms *= 2;
    return ms < SNAP_RETRY_MAX_MS ? ms : SNAP_RETRY_MAX_MS;
}

/*
 * Make the state durable: every alert and dead letter emitted so far
 * acknowledged, then the snapshot written, then its offsets committed. A
 * failure leaves the previous snapshot (and the committed offsets) as they
 * were; it is logged and retried.
 * @returns true when a snapshot was written (or nothing had changed).
 */
static bool take_snapshot(daemon_t *d, const char *why, int flush_ms,
                          bool sync_commit) {
    char errstr[1024], qbuf[1100], qbuf2[1100];
    int64_t t0 = br_log_mono_ms();
    int undelivered;
    br_err_t err;

    if (d->changes == 0)
        return true; /* the newest snapshot on disk covers everything */
    undelivered = br_kafka_out_flush(d->out, flush_ms);
    if (undelivered > 0) {
        snprintf(errstr, sizeof errstr,
                 "%d alert/dead-letter messages not yet acknowledged by the "
                 "broker (retrying)", undelivered);
        err = BR_ERR_KAFKA;
        goto failed;
    }
    br_buf_reset(&d->corebuf);
    br_buf_reset(&d->snapbuf);
    if ((err = br_pipeline_save(d->pl, &d->corebuf))) {
        snprintf(errstr, sizeof errstr, "out of memory saving the state");
        goto failed;
    }
    {
        br_snap_offset_t *offs = calloc(d->prog_cnt + 1, sizeof *offs);
        br_snapshot_t snap = {
            .generation = d->next_gen,
            .written_ms = br_log_wall_ms(),
            .version = (char *)(uintptr_t)BR_VERSION,
            .group = (char *)(uintptr_t)group_id(d->conf),
            .offsets = offs,
            .offset_cnt = d->prog_cnt,
            .core = d->corebuf.data,
            .core_len = d->corebuf.len,
        };
        if (!offs) {
            err = BR_ERR_NOMEM;
            snprintf(errstr, sizeof errstr, "out of memory");
            goto failed;
        }
        for (size_t i = 0; i < d->prog_cnt; i++)
            offs[i] = (br_snap_offset_t){d->prog[i].topic, d->prog[i].partition,
                                         d->prog[i].next};
        err = br_snapshot_encode(&snap, &d->snapbuf);
        free(offs);
        if (err) {
            snprintf(errstr, sizeof errstr, "out of memory encoding the snapshot");
            goto failed;
        }
    }
    if ((err = br_snapdir_write(d->sd, d->next_gen, d->snapbuf.data,
                                d->snapbuf.len, errstr, sizeof errstr)))
        goto failed;
    commit_snapshot(d, sync_commit);
    if (d->snap_failures)
        br_log(BR_LOG_WARN, "snapshot written again after failures",
               "generation=%" PRIu64 " failed_attempts=%" PRIu64
               " was_unready=%s", d->next_gen, d->snap_failures,
               snap_failing(d) ? "true" : "false");
    d->snap_failures = 0;
    d->snapshots++;
    d->changes = 0;
    d->last_snap_wall_ms = br_log_wall_ms();
    d->last_snap_dur_ms = br_log_mono_ms() - t0;
    d->last_snap_bytes = d->snapbuf.len;
    LIMITED(d, BR_LOG_INFO, "snapshot", "snapshot written",
            "generation=%" PRIu64 " bytes=%zu ms=%" PRId64 " partitions=%zu why=%s",
            d->next_gen, d->snapbuf.len, br_log_mono_ms() - t0, d->prog_cnt, why);
    d->next_gen++;
    /* Large states keep their buffers; small ones give memory back. */
    if (d->snapbuf.cap > ((size_t)64 << 20)) {
        br_buf_free(&d->snapbuf);
        br_buf_free(&d->corebuf);
    }
    return true;
failed:
    d->snap_failures++;
    d->snap_failures_total++;
    snprintf(d->snap_error, sizeof d->snap_error, "%s", errstr);
    LIMITED(d, BR_LOG_ERROR, "snapshot_failed",
            "snapshot failed; offsets stay at the previous snapshot",
            "generation=%" PRIu64 " attempt=%" PRIu64 " why=%s error=%s",
            d->next_gen, d->snap_failures, why,
            br_log_quote(qbuf, sizeof qbuf, errstr));
    /* Once, not rate-limited: the moment /readyz turns. */
    if (d->conf->snapshot_unready_after > 0 &&
        d->snap_failures == (uint64_t)d->conf->snapshot_unready_after)
        br_log(BR_LOG_ERROR, "snapshots failing: not ready",
               "consecutive_failures=%" PRIu64 " unready_after=%d state_dir=%s "
               "error=%s", d->snap_failures, d->conf->snapshot_unready_after,
               br_log_quote(qbuf2, sizeof qbuf2, br_snapdir_path(d->sd)),
               br_log_quote(qbuf, sizeof qbuf, errstr));
    return false;
}

/* Load the newest usable snapshot into a fresh pipeline. */
static void on_bad_snapshot(void *opaque, const char *path, const char *reason) {
    int *bad = opaque;
    char qp[600], qr[1100];
    (*bad)++;
    br_log(BR_LOG_ERROR, "snapshot rejected and moved aside", "file=%s reason=%s",
           br_log_quote(qp, sizeof qp, path), br_log_quote(qr, sizeof qr, reason));
}

static br_err_t restore(daemon_t *d, const br_sink_t *sink, char *errstr,
                        size_t errstr_size) {
    br_buf_t bytes;
    br_snapshot_t snap;
    char path[4096], why[1024], qp[4200];
    int bad = 0;
    br_err_t err;

    br_buf_init(&bytes);
    for (;;) {
        err = br_snapdir_load(d->sd, &bytes, &snap, path, sizeof path,
                              on_bad_snapshot, &bad, why, sizeof why);
        if (err == BR_ERR_NOTFOUND) {
            if (bad)
                br_log(BR_LOG_ERROR, "NO VALID SNAPSHOT LEFT: starting with empty "
                       "state; partitions resume from the group's committed "
                       "offsets", "state_dir=%s rejected=%d",
                       br_log_quote(qp, sizeof qp, br_snapdir_path(d->sd)), bad);
            else
                br_log(BR_LOG_INFO, "no snapshot, starting empty", "state_dir=%s",
                       br_log_quote(qp, sizeof qp, br_snapdir_path(d->sd)));
            err = BR_ERR_OK;
            break;
        }
        if (err) {
            br_seterr(errstr, errstr_size, err, "%s", why);
            break;
        }
        if (snap.group && *snap.group &&
            strcmp(snap.group, group_id(d->conf)) != 0) {
            err = br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                            "%s holds the state of consumer group %s, but "
                            "kafka.group_id is %s: point state.dir at another "
                            "directory (or move this one aside) to start that "
                            "group afresh", path, snap.group,
                            group_id(d->conf));
            br_snapshot_clear(&snap);
            break;
        }
        br_restore_info_t info;
        err = br_pipeline_restore(d->pl, snap.core, snap.core_len, &info, why,
                                  sizeof why);
        if (err == BR_ERR_OK) {
            for (size_t i = 0; i < snap.offset_cnt; i++) {
                progress_t *p = progress_find(d, snap.offsets[i].topic,
                                              snap.offsets[i].partition, true);
                if (p)
                    p->next = snap.offsets[i].offset;
            }
            br_log(BR_LOG_INFO, "snapshot restored",
                   "file=%s generation=%" PRIu64 " written_by=%s series=%" PRIu64
                   " partitions=%zu dropped_scopes=%" PRIu64 " dropped_series=%" PRIu64
                   " dropped_budgets=%" PRIu64 " dropped_inputs=%" PRIu64,
                   br_log_quote(qp, sizeof qp, path), snap.generation,
                   snap.version, info.series, snap.offset_cnt, info.dropped_scopes,
                   info.dropped_series, info.dropped_budgets, info.dropped_inputs);
            br_snapshot_clear(&snap);
            break;
        }
        br_snapshot_clear(&snap);
        /* The pipeline holds part of the state: start over with a new one. */
        br_pipeline_destroy(d->pl);
        d->pl = br_pipeline_new(d->conf, sink, errstr, errstr_size);
        if (!d->pl) {
            err = BR_ERR_CONFIG;
            break;
        }
        if (err == BR_ERR_CONFIG) {
            br_seterr(errstr, errstr_size, err, "%s: %s", path, why);
            break;
        }
        br_snapdir_reject(d->sd, path, why, on_bad_snapshot, &bad);
    }
    br_buf_free(&bytes);
    d->next_gen = br_snapdir_next_generation(d->sd);
    return err;
}

static held_t *held_find(daemon_t *d, const char *topic, int32_t partition) {
    for (size_t i = 0; i < d->held_cnt; i++)
        if (d->held[i].partition == partition && !strcmp(d->held[i].topic, topic))
            return &d->held[i];
    return NULL;
}

/* The schema source could not answer for this message: pause its
 * partition, rewind to it, and try again after a backoff. Other partitions
 * go on; nothing of this message is counted or dead-lettered. */
static void hold_partition(daemon_t *d, const rd_kafka_message_t *rkm,
                           const char *why) {
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    held_t *h = held_find(d, topic, rkm->partition);
    char qbuf[600];
    if (!h) {
        if (d->held_cnt == d->held_cap) {
            size_t cap = d->held_cap ? d->held_cap * 2 : 8;
            held_t *nh = realloc(d->held, cap * sizeof *nh);
            if (!nh)
                return;
            d->held = nh;
            d->held_cap = cap;
        }
        h = &d->held[d->held_cnt++];
        memset(h, 0, sizeof *h);
        h->topic = strdup(topic);
        h->partition = rkm->partition;
    }
    /* The first wait of a hold is the shortest; each retry that fails
     * again doubles it. */
    h->backoff_ms = !h->backoff_ms ? HOLD_MIN_MS
                    : h->backoff_ms * 2 > HOLD_MAX_MS ? HOLD_MAX_MS
                                                      : h->backoff_ms * 2;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, rkm->partition)->offset = rkm->offset;
    rd_kafka_pause_partitions(d->rk, l);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(d->rk, l, 1000);
    if (e)
        rd_kafka_error_destroy(e);
    rd_kafka_topic_partition_list_destroy(l);
    h->paused = true;
    h->resume_ms = br_log_mono_ms() + h->backoff_ms;
    LIMITED(d, BR_LOG_WARN, "schema_wait",
            "Avro schema unavailable: partition waits and retries",
            "where=%s[%" PRId32 "]@%" PRId64 " retry_ms=%" PRId64 " error=%s",
            topic, rkm->partition, rkm->offset, h->backoff_ms,
            br_log_quote(qbuf, sizeof qbuf, why));
}

static void resume_held(daemon_t *d, int64_t now) {
    for (size_t i = 0; i < d->held_cnt; i++) {
        held_t *h = &d->held[i];
        if (!h->paused || now < h->resume_ms)
            continue;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, h->topic, h->partition);
        rd_kafka_resume_partitions(d->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        h->paused = false;
    }
}

/* The input reading topic rkt, or -1 (cached for the last topic seen). */
static int input_of(daemon_t *d, rd_kafka_topic_t *rkt) {
    if (rkt != d->last_rkt) {
        d->last_rkt = rkt;
        d->last_input = br_kafka_topic_input(d->conf, rd_kafka_topic_name(rkt));
    }
    return d->last_input;
}

/* Tell the watermark whether rkm's partition has more waiting: at the end
 * of the partition (eof) no; else when the high watermark librdkafka last
 * saw (no request) is past this message. @returns what it was told. */
static bool note_backlog(daemon_t *d, const rd_kafka_message_t *rkm, bool msg) {
    int64_t lo, hi;
    br_origin_t o;

    if (!rkm->rkt)
        return false;
    memset(&o, 0, sizeof o);
    if ((o.input = input_of(d, rkm->rkt)) < 0)
        return false;
    o.partition = rkm->partition;
    bool behind = msg && rd_kafka_get_watermark_offsets(
                             d->rk, rd_kafka_topic_name(rkm->rkt),
                             rkm->partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                  hi > rkm->offset + 1;
    br_pipeline_note_backlog(d->pl, &o, behind);
    return behind;
}

/* A message the pipeline has taken (counted, skipped or dead-lettered):
 * the input delivers, and the state covers its offset. */
static void note_taken(daemon_t *d, const br_origin_t *origin,
                       const rd_kafka_message_t *rkm) {
    if (d->held_cnt) {
        held_t *h = held_find(d, origin->topic, origin->partition);
        if (h)
            h->backoff_ms = 0; /* flowing again: the next hold starts short */
    }
    br_pipeline_note_arrival(d->pl, origin, br_log_wall_ms());
    note_progress(d, rkm);
}

static void handle_message(daemon_t *d, const rd_kafka_message_t *rkm) {
    br_origin_t origin;
    char qbuf[512];

    if (rkm->err) {
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            note_backlog(d, rkm, false);
            return;
        }
        LIMITED(d, BR_LOG_WARN, "consume_error", "consume error",
                "topic=%s partition=%" PRId32 " code=%s error=%s",
                rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "-", rkm->partition,
                rd_kafka_err2name(rkm->err),
                br_log_quote(qbuf, sizeof qbuf, rd_kafka_message_errstr(rkm)));
        return;
    }
    if ((origin.input = input_of(d, rkm->rkt)) < 0) {
        /* Subscribed topics only; a regex subscription is not offered. */
        d->foreign++;
        note_progress(d, rkm);
        return;
    }
    origin.topic = rd_kafka_topic_name(rkm->rkt);
    origin.partition = rkm->partition;
    origin.offset = rkm->offset;
    origin.timestamp_ms = rd_kafka_message_timestamp(rkm, NULL);
    note_backlog(d, rkm, true);
    d->cur = rkm;
    /* max_future is judged against the clock at consume. */
    br_pipeline_set_now(d->pl, br_log_wall_ms());
    char why[600];
    br_err_t err = br_pipeline_feed_why(d->pl, &origin,
                                        rkm->payload ? rkm->payload : "",
                                        rkm->len, why, sizeof why);
    d->cur = NULL;
    if (err == BR_ERR_IO) {
        hold_partition(d, rkm, why);
        return;
    }
    /* Taken, skipped or dead-lettered alike: the input delivers. */
    note_taken(d, &origin, rkm);
}

/* ---- the event-time merge of assigned partitions --------------------------
 * Each assigned partition is popped from its own queue; at most one decoded
 * record per partition waits (its head) until the merge (merge.h) says it
 * is the oldest and no partition that may still deliver something older
 * is empty. So catching up on history feeds records in event-time order
 * across partitions and inputs, not one partition after another. Below the
 * heads, librdkafka prefetches at most queued.max.messages.kbytes per
 * partition (BR_KAFKA_PREFETCH_KB unless configured). */

/* Ties between equal event times: input, topic within it, partition. */
static uint64_t src_order(const br_config_t *conf, int input, const char *topic,
                          int32_t partition) {
    uint64_t t = 0;
    if (input >= 0)
        for (size_t k = 0; k < conf->inputs[input].topic_cnt; k++)
            if (strcmp(conf->inputs[input].topics[k], topic) == 0)
                t = k;
    return (uint64_t)(input < 0 ? 0xffff : input) << 48 | (t & 0xffff) << 32 |
           (uint32_t)partition;
}

static src_t *src_find(daemon_t *d, const char *topic, int32_t partition) {
    for (size_t i = 0; i < d->src_cnt; i++)
        if (d->srcs[i].partition == partition && strcmp(d->srcs[i].topic, topic) == 0)
            return &d->srcs[i];
    return NULL;
}

static src_t *src_of_slot(daemon_t *d, int slot) {
    for (size_t i = 0; i < d->src_cnt; i++)
        if (d->srcs[i].slot == slot)
            return &d->srcs[i];
    return NULL;
}

/* Whether the partition holds the watermark back (messages waiting, or
 * not known yet). */
static void src_note(daemon_t *d, src_t *sp, bool behind) {
    br_origin_t o = {sp->input, sp->topic, sp->partition, sp->next, 0};
    sp->behind = behind;
    if (sp->input >= 0 && d->pl)
        br_pipeline_note_backlog(d->pl, &o, behind);
}

static void src_free(src_t *sp) {
    if (sp->rkm)
        rd_kafka_message_destroy(sp->rkm);
    if (sp->q)
        rd_kafka_queue_destroy(sp->q);
    free(sp->rec);
    free(sp->topic);
}

static void srcs_assign(daemon_t *d, rd_kafka_t *rk,
                        const rd_kafka_topic_partition_list_t *parts) {
    int64_t now = br_log_mono_ms();

    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (src_find(d, tp->topic, tp->partition))
            continue;
        if (d->src_cnt == d->src_cap) {
            size_t cap = d->src_cap ? d->src_cap * 2 : 16;
            src_t *ns = realloc(d->srcs, cap * sizeof *ns);
            if (!ns)
                goto nomem;
            d->srcs = ns;
            d->src_cap = cap;
        }
        src_t *sp = &d->srcs[d->src_cnt];
        memset(sp, 0, sizeof *sp);
        sp->partition = tp->partition;
        sp->input = br_kafka_topic_input(d->conf, tp->topic);
        sp->next = -1;
        sp->slot = -1;
        if (!(sp->topic = strdup(tp->topic)) || !(sp->rec = malloc(sizeof *sp->rec)) ||
            !(sp->q = br_kafka_partition_queue(rk, tp->topic, tp->partition,
                                               d->wake[1])) ||
            (sp->slot = br_merge_add(d->merge,
                                     src_order(d->conf, sp->input, tp->topic,
                                               tp->partition),
                                     now)) < 0) {
            src_free(sp);
            goto nomem;
        }
        d->src_cnt++;
        src_note(d, sp, true); /* counts from its assignment on */
        continue;
nomem:
        /* Its messages come through the consumer queue, unmerged. */
        LIMITED(d, BR_LOG_ERROR, "merge", "out of memory: partition read "
                "outside the event-time merge", "partition=%s[%" PRId32 "]",
                tp->topic, tp->partition);
    }
}

static void srcs_revoke(daemon_t *d, const rd_kafka_topic_partition_list_t *parts) {
    for (int i = 0; i < parts->cnt; i++) {
        src_t *sp = src_find(d, parts->elems[i].topic, parts->elems[i].partition);
        if (!sp)
            continue;
        src_note(d, sp, false);
        br_merge_remove(d->merge, sp->slot);
        src_free(sp);
        *sp = d->srcs[--d->src_cnt];
    }
}

/* Whether sp may still deliver something now: not at its end, or not
 * known yet. Before its first message the position librdkafka holds
 * stands in for the next offset (the end-of-partition event may not come
 * again for a partition reassigned at the offset where it came). */
static bool src_lagging(daemon_t *d, const src_t *sp) {
    int64_t lo, hi, next = sp->next;
    if (sp->eof)
        return false;
    if (rd_kafka_get_watermark_offsets(d->rk, sp->topic, sp->partition, &lo, &hi) ||
        hi < 0)
        return true;
    if (next < 0) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, sp->topic, sp->partition);
        if (!rd_kafka_position(d->rk, l) && !l->elems[0].err)
            next = l->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(l);
    }
    return next < 0 || next < hi;
}

/* Pop sp's queue until a record is its head, the queue is empty, or the
 * partition is held for an Avro schema. Dead letters and skips are taken
 * at once (they do not move event time). */
static void src_fill(daemon_t *d, src_t *sp, int64_t now) {
    while (!sp->rkm) {
        held_t *h = d->held_cnt ? held_find(d, sp->topic, sp->partition) : NULL;
        bool paused = h && h->paused;
        rd_kafka_message_t *rkm = paused ? NULL : rd_kafka_consume_queue(sp->q, 0);
        br_origin_t origin;
        br_err_t err;

        if (!rkm) {
            bool lagging = paused || src_lagging(d, sp);
            if (!lagging && sp->behind)
                src_note(d, sp, false); /* caught up without an EOF */
            br_merge_set_empty(d->merge, sp->slot, lagging, now);
            return;
        }
        if (rkm->err) {
            if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                sp->eof = true;
                sp->next = rkm->offset;
                src_note(d, sp, false);
            } else {
                handle_message(d, rkm); /* logs it */
            }
            rd_kafka_message_destroy(rkm);
            continue;
        }
        sp->eof = false;
        sp->next = rkm->offset + 1;
        if (sp->input < 0) {
            d->foreign++;
            note_progress(d, rkm);
            rd_kafka_message_destroy(rkm);
            continue;
        }
        origin = (br_origin_t){sp->input, rd_kafka_topic_name(rkm->rkt),
                               rkm->partition, rkm->offset,
                               rd_kafka_message_timestamp(rkm, NULL)};
        d->cur = rkm;
        /* max_future is judged against the clock at consume (decode). */
        br_pipeline_set_now(d->pl, br_log_wall_ms());
        err = br_pipeline_decode(d->pl, &origin, rkm->payload ? rkm->payload : "",
                                 rkm->len, NULL, sp->rec);
        d->cur = NULL;
        if (err == BR_ERR_OK) {
            sp->rkm = rkm;
            br_merge_set_head(d->merge, sp->slot, sp->rec->event_ms);
            return;
        }
        if (err == BR_ERR_IO) {
            /* Not taken: the partition waits at this message, which holds
             * the watermark back (it has not been counted). */
            hold_partition(d, rkm, br_pipeline_last_error(d->pl));
            sp->next = rkm->offset;
            src_note(d, sp, true);
            rd_kafka_message_destroy(rkm);
            br_merge_set_empty(d->merge, sp->slot, true, now);
            return;
        }
        note_taken(d, &origin, rkm);
        rd_kafka_message_destroy(rkm);
    }
}

/* Feed sp's head (its turn), then pop its next. */
static void src_feed(daemon_t *d, src_t *sp, int64_t now) {
    rd_kafka_message_t *rkm = sp->rkm;

    sp->behind = note_backlog(d, rkm, true);
    d->cur = rkm;
    br_pipeline_feed_decoded(d->pl, sp->rec, rkm->payload ? rkm->payload : "",
                             rkm->len);
    d->cur = NULL;
    note_taken(d, &sp->rec->origin, rkm);
    rd_kafka_message_destroy(rkm);
    sp->rkm = NULL;
    src_fill(d, sp, now);
}

/* Feed what the merge allows now, at most MERGE_BURST records.
 * @returns records fed. */
static size_t merge_step(daemon_t *d) {
    int64_t now = br_log_mono_ms();
    size_t fed = 0;

    for (size_t i = 0; i < d->src_cnt; i++)
        if (!d->srcs[i].rkm)
            src_fill(d, &d->srcs[i], now);
    while (fed < MERGE_BURST) {
        int expired, s = br_merge_next(d->merge, now, &expired);
        src_t *sp = expired >= 0 ? src_of_slot(d, expired) : NULL;
        if (sp)
            LIMITED(d, BR_LOG_WARN, "merge_wait", "partition lags but delivers "
                    "nothing: the others go on without it until it does",
                    "partition=%s[%" PRId32 "] waited_ms=%d next_offset=%" PRId64,
                    sp->topic, sp->partition, MERGE_WAIT_MS, sp->next);
        if (s < 0 || !(sp = src_of_slot(d, s)) || !sp->rkm)
            break;
        src_feed(d, sp, now);
        fed++;
    }
    return fed;
}

/* Inputs silent for their stale_after fire; an alert fired is state the
 * next snapshot must keep (so a restart does not fire it again). */
static void check_stale(daemon_t *d) {
    br_pipeline_stats_t before, after;

    br_pipeline_stats(d->pl, &before);
    br_pipeline_check_stale(d->pl, br_log_wall_ms());
    br_pipeline_stats(d->pl, &after);
    if (after.alerts != before.alerts)
        d->changes++;
}

static void log_stats(daemon_t *d, const char *msg, uint64_t *last_messages,
                      int64_t *last_ms) {
    br_pipeline_stats_t st;
    br_kafka_out_stats_t os;
    int64_t now = br_log_mono_ms();
    char wm[40] = "-", money[BR_MONEY_STR_MAX];
    double rate;

    br_pipeline_memory_t mem;

    br_pipeline_stats(d->pl, &st);
    br_pipeline_memory(d->pl, &mem);
    br_kafka_out_stats(d->out, &os);
    if (st.watermark_ms != INT64_MIN)
        br_ts_format(st.watermark_ms, wm, sizeof wm);
    br_money_format(st.total_nanos, money, sizeof money);
    rate = now > *last_ms ? (double)(st.messages - *last_messages) * 1000.0 /
                                (double)(now - *last_ms)
                          : 0.0;
    br_log(BR_LOG_INFO, msg,
           "messages=%" PRIu64 " ok=%" PRIu64 " skipped=%" PRIu64
           " dead_letters=%" PRIu64 " alerts=%" PRIu64 " series=%" PRIu64
           " priced=%" PRIu64 " unpriced=%" PRIu64 " late=%" PRIu64
           " late_behind=%" PRIu64 " restated=%" PRIu64 " dims_ignored=%" PRIu64
           " duplicates=%" PRIu64 " dedup_ids=%" PRIu64 " dedup_evicted=%" PRIu64
           " total=%s currency=%s watermark=%s watermark_lag_ms=%" PRId64
           " rate_per_s=%.0f delivered=%" PRIu64 " delivery_failed=%" PRIu64
           " snapshots=%" PRIu64 " snapshot_failures=%" PRIu64 " snapshot_age_s=%" PRId64
           " mem_series=%zu mem_index=%zu mem_dedup=%zu mem_other=%zu",
           st.messages, st.ok, st.skipped, st.dead_letters, st.alerts, st.series,
           st.priced, st.unpriced, st.late, st.late_behind, st.restated,
           st.dims_ignored,
           st.duplicates, st.dedup_ids,
           st.dedup_evicted, money, d->conf->currency, wm,
           st.watermark_ms != INT64_MIN && st.max_event_ms != INT64_MIN
               ? st.max_event_ms - st.watermark_ms
               : 0,
           rate, os.delivered, os.failed, d->snapshots, d->snap_failures_total,
           d->last_snap_wall_ms ? (br_log_wall_ms() - d->last_snap_wall_ms) / 1000 : -1,
           mem.series + mem.incidents, mem.index, mem.dedup, mem.other);
    *last_messages = st.messages;
    *last_ms = now;
}

/* One line with the dead letters of this run by reason, if there were any. */
static void log_dead_reasons(const daemon_t *d) {
    char line[512];
    size_t n = 0;

    line[0] = '\0';
    for (int i = 0; i < BR_ERR__CNT && n < sizeof line; i++) {
        if (!d->dead_by_reason[i])
            continue;
        int rc = snprintf(line + n, sizeof line - n, "%s%s:%" PRIu64, n ? "," : "",
                          br_err_name((br_err_t)i), d->dead_by_reason[i]);
        if (rc > 0)
            n += (size_t)rc;
    }
    if (line[0])
        br_log(BR_LOG_INFO, "dead letters by reason", "reasons=%s", line);
}

/* ---- metrics and health (http.listen) -------------------------------------
 * Served from the loop (br_httpd_run() each turn): every scrape reads the
 * current d->pl, d->conf and Kafka handles afresh, so nothing here outlives
 * a reload that swaps them. */

#define KSTATS_DEFAULT_MS "15000" /* statistics.interval.ms unless set */

static int on_kafka_stats(rd_kafka_t *rk, char *json, size_t json_len,
                          void *opaque) {
    daemon_t *d = opaque;
    char why[256];

    (void)rk;
    if (br_kstats_parse(json, json_len, &d->kstats, why, sizeof why))
        LIMITED(d, BR_LOG_WARN, "kstats", "librdkafka statistics not read",
                "error=\"%s\"", why);
    return 0; /* librdkafka frees json */
}

static bool props_have(const br_kv_t *kv, size_t cnt, const char *key) {
    for (size_t i = 0; i < cnt; i++)
        if (strcmp(kv[i].key, key) == 0)
            return true;
    return false;
}

/* The consumer's statistics feed /metrics (served by consumer_poll on this
 * thread): every 15 s unless the config sets statistics.interval.ms. */
static br_err_t metrics_kafka_conf(daemon_t *d, rd_kafka_conf_t *kconf,
                                   char *errstr, size_t errstr_size) {
    const br_kafka_conf_t *kc = &d->conf->kafka;

    if (!d->conf->http.on)
        return BR_ERR_OK;
    rd_kafka_conf_set_stats_cb(kconf, on_kafka_stats);
    if (props_have(kc->props, kc->prop_cnt, "statistics.interval.ms") ||
        props_have(kc->consumer_props, kc->consumer_prop_cnt,
                   "statistics.interval.ms"))
        return BR_ERR_OK;
    return br_kafka_conf_set(kconf, "statistics.interval.ms", KSTATS_DEFAULT_MS,
                             errstr, errstr_size);
}

/* The figures of one /metrics scrape: the daemon's own counters, the
 * pipeline's, the merge's, the producer's and the consumer's (the lag from
 * the high watermark librdkafka last saw in fetch responses, no request,
 * minus the next offset to read). metrics_render.c writes the families.
 * Returns false when out of memory. */
static bool metrics_gather(daemon_t *d, br_buf_t *b) {
    const br_config_t *conf = d->conf;
    rd_kafka_topic_partition_list_t *own = NULL;
    br_metrics_run_t m = {
        .version = BR_VERSION,
        .librdkafka = rd_kafka_version_str(),
        .now_ms = br_log_wall_ms(),
        .start_wall_ms = d->start_wall_ms,
        .ready = d->restored && d->assigned && !snap_failing(d),
        .conf = conf,
        .foreign = d->foreign,
        .alerts_by = (const uint64_t (*)[3])d->alerts_by,
        .snapshots = d->snapshots,
        .snap_failures = d->snap_failures,
        .snap_failures_total = d->snap_failures_total,
        .snap_failing = snap_failing(d),
        .last_snap_wall_ms = d->last_snap_wall_ms,
        .last_snap_dur_ms = d->last_snap_dur_ms,
        .last_snap_bytes = d->last_snap_bytes,
        .producer_queue = rd_kafka_outq_len(br_kafka_out_handle(d->out)),
        .produce_errors = d->produce_errors,
        .kstats = &d->kstats,
    };
    br_pipeline_input_stats_t *inputs = calloc(conf->input_cnt + 1, sizeof *inputs);
    uint64_t *series = calloc(conf->scope_cnt + 1, sizeof *series);
    br_metrics_lag_t *lag = NULL;
    bool ok = false;

    if (!inputs || !series)
        goto out;
    for (size_t i = 0; i <= conf->input_cnt; i++)
        br_pipeline_input_stats(d->pl, (int)i, &inputs[i]);
    m.inputs = inputs;
    for (size_t i = 0; i < conf->scope_cnt; i++)
        series[i] = br_pipeline_scope_series(d->pl, i);
    m.scope_series = series;
    br_pipeline_stats(d->pl, &m.pl);
    br_pipeline_memory(d->pl, &m.mem);
    if (d->merge) {
        m.merge_on = true;
        br_merge_stats(d->merge, &m.merge);
        for (size_t i = 0; i < d->src_cnt; i++) {
            const src_t *sp = &d->srcs[i];
            m.merge_bytes += sizeof *sp->rec + (sp->rkm ? sp->rkm->len : 0);
            m.merge_prefetched += rd_kafka_queue_length(sp->q);
        }
    }
    br_kafka_out_stats(d->out, &m.out);
    if (d->rk && !rd_kafka_assignment(d->rk, &own) && own) {
        rd_kafka_position(d->rk, own);
        if (own->cnt && !(lag = calloc((size_t)own->cnt, sizeof *lag)))
            goto out;
        for (int i = 0; i < own->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &own->elems[i];
            int64_t lo = -1, hi = -1, next = tp->offset;
            if (next < 0) {
                progress_t *p = progress_find(d, tp->topic, tp->partition, false);
                next = p ? p->next : -1;
            }
            if (rd_kafka_get_watermark_offsets(d->rk, tp->topic, tp->partition,
                                               &lo, &hi) ||
                hi < 0 || next < 0)
                continue;
            lag[m.lag_cnt++] = (br_metrics_lag_t){tp->topic, tp->partition,
                                                  hi > next ? hi - next : 0};
        }
        m.lag = lag;
    }
    br_metrics_render_run(&m, b);
    ok = true;
out:
    if (own)
        rd_kafka_topic_partition_list_destroy(own);
    free(lag);
    free(series);
    free(inputs);
    return ok;
}

/* GET /metrics, /healthz, /readyz. The loop serves these, so an answer
 * proves the loop turns; the state is read as it is now. */
static int on_http(void *opaque, const char *path, br_buf_t *body,
                   const char **content_type) {
    daemon_t *d = opaque;

    if (strcmp(path, "/metrics") == 0) {
        if (!d->pl) {
            br_buf_puts(body, "starting\n");
            return 503;
        }
        if (!metrics_gather(d, body)) {
            br_buf_reset(body);
            br_buf_puts(body, "out of memory\n");
            return 503;
        }
        *content_type = "text/plain; version=0.0.4; charset=utf-8";
        return 200;
    }
    if (strcmp(path, "/healthz") == 0) {
        if (d->fatal) {
            br_buf_puts(body, "fatal Kafka error\n");
            return 503;
        }
        br_buf_puts(body, "ok\n");
        return 200;
    }
    if (strcmp(path, "/readyz") == 0) {
        if (!d->restored) {
            br_buf_puts(body, "not ready: restoring the snapshot\n");
            return 503;
        }
        if (snap_failing(d)) {
            br_buf_printf(body, "not ready: the last %" PRIu64 " snapshots "
                          "failed (state.unready_after: %d); offsets stay at "
                          "the last good one: %s\n", d->snap_failures,
                          d->conf->snapshot_unready_after, d->snap_error);
            return 503;
        }
        if (!d->assigned) {
            br_buf_puts(body, d->was_assigned
                                  ? "not ready: partitions revoked by a rebalance, "
                                    "waiting for the new assignment\n"
                                  : "not ready: waiting for the first partition "
                                    "assignment from the consumer group\n");
            return 503;
        }
        br_buf_puts(body, "ready\n");
        return 200;
    }
    br_buf_puts(body, "not found: try /metrics, /healthz or /readyz\n");
    return 404;
}

/* Bind http.listen before the work starts. A listen address the config
 * names must be bound; the default one only warns when taken (a second
 * instance on the same host runs on without its endpoint). */
static br_err_t http_start(daemon_t *d, char *errstr, size_t errstr_size) {
    const br_http_conf_t *hc = &d->conf->http;
    char why[512], qbuf[600];
    bool v6;

    if (!hc->on) {
        br_log(BR_LOG_INFO, "http listener off", "reason=\"http.listen: off\"");
        return BR_ERR_OK;
    }
    d->http = br_httpd_start(hc->host, hc->port, on_http, d, why, sizeof why);
    if (!d->http) {
        if (hc->given)
            return br_seterr(errstr, errstr_size, BR_ERR_IO, "%s:%d: %s",
                             d->conf->path ? d->conf->path : "config", hc->line,
                             why);
        br_log(BR_LOG_WARN, "http listener not started: no /metrics, /healthz, "
               "/readyz", "error=%s hint=\"set http.listen\"",
               br_log_quote(qbuf, sizeof qbuf, why));
        return BR_ERR_OK;
    }
    v6 = strchr(hc->host, ':') != NULL;
    br_log(BR_LOG_INFO, "http listening", "address=%s%s%s:%d paths=/metrics,/healthz,/readyz",
           v6 ? "[" : "", hc->host, v6 ? "]" : "", br_httpd_port(d->http));
    return BR_ERR_OK;
}

static br_err_t subscribe(daemon_t *d, char *errstr, size_t errstr_size) {
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(8);
    rd_kafka_resp_err_t err;

    for (size_t i = 0; i < d->conf->input_cnt; i++) {
        for (size_t t = 0; t < d->conf->inputs[i].topic_cnt; t++)
            rd_kafka_topic_partition_list_add(topics, d->conf->inputs[i].topics[t],
                                              RD_KAFKA_PARTITION_UA);
    }
    err = rd_kafka_subscribe(d->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err)
        return br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "subscribe: %s",
                         rd_kafka_err2str(err));
    return BR_ERR_OK;
}

/* kafka.alerts_format avro-confluent: the alert schema (the built-in one or
 * alerts_avro.schema) under the id given, or registered at start. A
 * registry that does not answer is retried for a minute; one that refuses
 * stops the start. */
static br_err_t setup_avro_alerts(daemon_t *d, char *errstr,
                                  size_t errstr_size) {
    const br_avro_conf_t *a = &d->conf->kafka.alerts_avro;
    const char *schema = a->schema_json ? a->schema_json : br_alert_avsc;
    char subject[512], why[512], qbuf[512];
    uint32_t id = (uint32_t)a->schema_id;
    br_err_t err;

    /* Checked against burnrate's alerts before anything is registered. */
    if ((err = br_kafka_out_use_avro(d->out, schema, why, sizeof why)))
        return br_seterr(errstr, errstr_size, err,
                         "%s: kafka.alerts_avro.schema: %s: %s",
                         d->conf->path ? d->conf->path : "config",
                         a->schema ? a->schema : "the built-in schema", why);
    if (a->registry) {
        if (a->subject)
            snprintf(subject, sizeof subject, "%s", a->subject);
        else
            snprintf(subject, sizeof subject, "%s-value",
                     d->conf->kafka.alerts_topic);
        int64_t give_up = br_log_wall_ms() + 60000, wait_ms = 500;
        while ((err = br_schemasrc_register(a, subject, schema, &id, why,
                                            sizeof why)) == BR_ERR_IO &&
               br_log_wall_ms() < give_up && !br_signals_stop_requested()) {
            br_log(BR_LOG_WARN, "registering the alert schema failed, retrying",
                   "subject=%s retry_in_ms=%" PRId64 " error=%s", subject,
                   wait_ms, br_log_quote(qbuf, sizeof qbuf, why));
            struct timespec ts = {(time_t)(wait_ms / 1000),
                                  (long)(wait_ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
            wait_ms = wait_ms * 2 > 8000 ? 8000 : wait_ms * 2;
        }
        if (err)
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "kafka.alerts_avro: registering the alert schema "
                             "under subject %s: %s", subject, why);
    }
    br_kafka_out_set_alert_schema_id(d->out, id);
    br_log(BR_LOG_INFO, "alerts as Avro", "schema_id=%" PRIu32 " subject=%s schema=%s",
           id, a->registry ? subject : "-",
           br_log_quote(qbuf, sizeof qbuf, a->schema ? a->schema : "built-in"));
    return BR_ERR_OK;
}

static br_err_t start(daemon_t *d, char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *kconf = NULL;
    br_sink_t sink = {on_alert, on_dead_letter, d};
    br_output_t out;
    char why[512];
    br_err_t err;

    if ((err = br_kafka_check_topics(d->conf, errstr, errstr_size)))
        return err;
    if (!d->opts->brokers && !(d->conf->kafka.brokers && *d->conf->kafka.brokers))
        return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                         "%s: no Kafka brokers: set kafka.brokers or pass --brokers",
                         d->conf->path ? d->conf->path : "config");
    d->pl = br_pipeline_new(d->conf, &sink, errstr, errstr_size);
    if (!d->pl)
        return BR_ERR_CONFIG;
    if (!(d->merge = br_merge_new(MERGE_WAIT_MS)) || br_kafka_wake_new(d->wake))
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                         "out of memory (or descriptors) for the merge");
    d->sd = br_snapdir_open(d->conf->state_dir, d->conf->snapshot_keep, errstr,
                            errstr_size);
    if (!d->sd)
        return BR_ERR_IO;
    if ((err = restore(d, &sink, errstr, errstr_size)))
        return err;
    d->input_names = br_pipeline_input_names(d->pl);
    /* Lookups on their own thread: a hanging registry holds only the
     * partitions that need it. */
    d->fetcher = br_schemasrc_async_new(errstr, errstr_size);
    if (!d->fetcher)
        return BR_ERR_IO;
    br_pipeline_set_schema_fetch(d->pl, br_schemasrc_async_fetch, d->fetcher);
    d->out = br_kafka_out_new(d->conf, d->opts->brokers, &d->rl, errstr, errstr_size);
    if (!d->out)
        return BR_ERR_KAFKA;
    /* Where alerts and dead letters go: the producer's topics, and with
     * --print-alerts readable lines on stdout. */
    out = br_kafka_output(d->out);
    br_outputs_add(&d->outs, &out); /* two of BR_OUTPUTS_MAX: no error */
    if (d->opts->print_alerts) {
        out = br_output_lines(stdout);
        br_outputs_add(&d->outs, &out);
    }
    if (d->conf->kafka.alerts_avro_on &&
        (err = setup_avro_alerts(d, errstr, errstr_size)))
        return err;
    kconf = br_kafka_conf_new(d->conf, BR_KAFKA_CONSUMER, d->opts->brokers, errstr,
                              errstr_size);
    if (!kconf)
        return BR_ERR_CONFIG;
    rd_kafka_conf_set_opaque(kconf, d);
    /* The end of a partition tells the watermark it has caught up
     * (note_backlog()). */
    if ((err = br_kafka_conf_set(kconf, "enable.partition.eof", "true", errstr,
                                 errstr_size)) ||
        (err = metrics_kafka_conf(d, kconf, errstr, errstr_size))) {
        rd_kafka_conf_destroy(kconf);
        return err;
    }
    rd_kafka_conf_set_error_cb(kconf, on_consumer_error);
    rd_kafka_conf_set_rebalance_cb(kconf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(kconf, on_commit);
    d->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, why, sizeof why);
    if (!d->rk) {
        rd_kafka_conf_destroy(kconf);
        return br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "creating consumer: %s",
                         why);
    }
    /* Callbacks come through the consumer queue; each assigned partition's
     * messages through its own (srcs_assign()). Either wakes the loop. */
    rd_kafka_poll_set_consumer(d->rk);
    d->cq = rd_kafka_queue_get_consumer(d->rk);
    if (d->cq)
        rd_kafka_queue_io_event_enable(d->cq, d->wake[1], "c", 1);
    return subscribe(d, errstr, errstr_size);
}

static void log_config(const br_config_t *conf, const br_daemon_opts_t *opts) {
    const br_kafka_conf_t *kc = &conf->kafka;
    char qbuf[512], qval[512];

    br_log(BR_LOG_INFO, "starting", "config=%s brokers=%s group=%s alerts_topic=%s "
           "dead_letter_topic=%s inputs=%zu scopes=%zu budgets=%zu",
           br_log_quote(qbuf, sizeof qbuf, conf->path),
           opts->brokers ? opts->brokers : kc->brokers ? kc->brokers : "-",
           kc->group_id ? kc->group_id : "burnrate", kc->alerts_topic,
           kc->dlq_topic, conf->input_cnt, conf->scope_cnt, conf->budget_cnt);
    for (size_t i = 0; i < kc->prop_cnt; i++)
        br_log(BR_LOG_DEBUG, "kafka property", "key=%s value=%s", kc->props[i].key,
               br_log_quote(qval, sizeof qval,
                            br_log_redact(kc->props[i].key, kc->props[i].value)));
    for (size_t i = 0; i < kc->consumer_prop_cnt; i++)
        br_log(BR_LOG_DEBUG, "kafka consumer property", "key=%s value=%s",
               kc->consumer_props[i].key,
               br_log_quote(qval, sizeof qval,
                            br_log_redact(kc->consumer_props[i].key,
                                          kc->consumer_props[i].value)));
    for (size_t i = 0; i < kc->producer_prop_cnt; i++)
        br_log(BR_LOG_DEBUG, "kafka producer property", "key=%s value=%s",
               kc->producer_props[i].key,
               br_log_quote(qval, sizeof qval,
                            br_log_redact(kc->producer_props[i].key,
                                          kc->producer_props[i].value)));
}

/* Log level and format follow the config unless the command line set them. */
static void apply_log_settings(const daemon_t *d) {
    if (!d->opts->keep_log_level)
        br_log_set_level(d->conf->log_level);
    if (!d->opts->keep_log_format)
        br_log_set_format(d->conf->log_format);
}

/*
 * SIGHUP: read the config file again and, when it is valid and changes
 * nothing that needs a restart (br_reload_check()), move the state into a
 * pipeline built from it and swap. Everything derived from the config
 * follows: input names, the topic -> input cache, the schema fetcher
 * (its lookups point into the old config's inputs), stale-input liveness,
 * snapshot cadence and generations kept, log settings. Otherwise one
 * error line says why and the running config stays.
 */
static void reload(daemon_t *d) {
    char errstr[2048], qbuf[2200];
    br_sink_t sink = {on_alert, on_dead_letter, d};
    br_config_t *conf = NULL, *old;
    br_pipeline_t *pl = NULL;
    br_schemasrc_async_t *fetcher = NULL;
    br_snapdir_t *sd = NULL;
    br_reload_info_t info;
    int64_t now;

    br_log(BR_LOG_INFO, "reloading the configuration", "config=%s",
           br_log_quote(qbuf, sizeof qbuf, d->conf->path));
    if ((conf = br_config_load(d->conf->path, errstr, sizeof errstr)))
        br_redact_add_values((const char *const *)conf->secrets,
                             conf->secret_cnt);
    if (!conf || br_reload_check(d->conf, conf, errstr, sizeof errstr) ||
        br_kafka_check_topics(conf, errstr, sizeof errstr) ||
        !(fetcher = br_schemasrc_async_new(errstr, sizeof errstr)))
        goto refused;
    if (conf->snapshot_keep != d->conf->snapshot_keep &&
        !(sd = br_snapdir_open(conf->state_dir, conf->snapshot_keep, errstr,
                               sizeof errstr)))
        goto refused;
    if (!(pl = br_reload_pipeline(d->pl, d->conf, conf, &sink, &info, errstr,
                                  sizeof errstr)))
        goto refused;
    br_pipeline_set_schema_fetch(pl, br_schemasrc_async_fetch, fetcher);

    /* Swap: nothing below can fail. */
    br_pipeline_destroy(d->pl);
    d->pl = pl;
    br_schemasrc_async_free(d->fetcher); /* waits out a lookup in flight */
    d->fetcher = fetcher;
    if (sd) {
        br_snapdir_close(d->sd);
        d->sd = sd;
    }
    old = d->conf;
    d->conf = conf;
    br_kafka_out_set_conf(d->out, conf);
    d->input_names = br_pipeline_input_names(pl);
    d->last_rkt = NULL;
    d->last_input = -1;
    /* The new pipeline knows each partition's event time, not whether it
     * holds the watermark back: tell it again. A head decoded under the
     * old config is fed as it is (at most one record per partition). */
    for (size_t i = 0; i < d->src_cnt; i++) {
        src_t *sp = &d->srcs[i];
        sp->input = br_kafka_topic_input(conf, sp->topic);
        if (sp->rkm)
            sp->rec->origin.input = sp->input;
        src_note(d, sp, sp->behind);
    }
    note_assignment(d, d->rk);
    apply_log_settings(d);
    now = br_log_mono_ms();
    if (d->next_snap_ms > now + conf->snapshot_interval_ms)
        d->next_snap_ms = now + conf->snapshot_interval_ms;
    /* The next snapshot records the new layout (dropped scopes gone). */
    d->changes++;
    br_log(BR_LOG_INFO, "configuration reloaded",
           "config=%s series_kept=%" PRIu64 " series_dropped=%" PRIu64
           " scopes=%zu scopes_added=%" PRIu64 " scopes_removed=%" PRIu64
           " scopes_dropped=%" PRIu64 " budgets=%zu budgets_added=%" PRIu64
           " budgets_removed=%" PRIu64 " budgets_changed=%" PRIu64
           " budgets_restarted=%" PRIu64 " inputs_dropped=%" PRIu64,
           br_log_quote(qbuf, sizeof qbuf, conf->path), info.restore.series,
           info.restore.dropped_series, conf->scope_cnt, info.scopes_added,
           info.scopes_removed, info.restore.dropped_scopes, conf->budget_cnt,
           info.budgets_added, info.budgets_removed, info.budgets_changed,
           info.restore.dropped_budgets > info.budgets_removed
               ? info.restore.dropped_budgets - info.budgets_removed
               : 0,
           info.restore.dropped_inputs);
    br_config_destroy(old);
    return;
refused:
    LIMITED(d, BR_LOG_ERROR, "reload", "reload refused; the running "
            "configuration stays", "error=%s",
            br_log_quote(qbuf, sizeof qbuf, errstr));
    br_snapdir_close(sd);
    br_schemasrc_async_free(fetcher);
    br_config_destroy(conf);
}

int br_daemon_run(br_config_t *conf, const br_daemon_opts_t *opts) {
    daemon_t *d = calloc(1, sizeof *d);
    char errstr[1024], qbuf[1100];
    uint64_t last_messages = 0;
    int64_t last_ms, next_stats_ms, next_stale_ms = 0;
    int undelivered, ret = 1;

    if (!d) {
        br_log(BR_LOG_ERROR, "out of memory", NULL);
        br_config_destroy(conf);
        return 1;
    }
    d->conf = conf;
    d->opts = opts;
    d->last_input = -1;
    d->wake[0] = d->wake[1] = -1;
    br_ratelimit_init(&d->rl, LOG_BURST, LOG_PERIOD_MS);
    br_outputs_init(&d->outs, on_output_error, d);
    br_signals_install_reload();
    log_config(conf, opts);
    d->start_wall_ms = br_log_wall_ms();
    if (http_start(d, errstr, sizeof errstr) || start(d, errstr, sizeof errstr)) {
        br_log(BR_LOG_ERROR, "startup failed", "error=%s",
               br_log_quote(qbuf, sizeof qbuf, errstr));
        goto done;
    }
    d->restored = true;
    br_log(BR_LOG_INFO, "running", "pid=%ld", (long)getpid());
    last_ms = br_log_mono_ms();
    next_stats_ms = last_ms + BR_DAEMON_STATS_MS;
    d->next_snap_ms = last_ms + conf->snapshot_interval_ms;
    conf = NULL; /* d->conf from here on: a reload replaces it */
    while (!br_signals_stop_requested() && !d->fatal) {
        /* Rebalances, errors and statistics; messages only of a partition
         * whose queue could not be split off (out of memory). */
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(d->rk, 0);
        size_t fed;
        int64_t now;

        if (rkm) {
            handle_message(d, rkm);
            rd_kafka_message_destroy(rkm);
        }
        fed = merge_step(d);
        br_kafka_out_poll(d->out, 0);
        br_httpd_run(d->http);
        if (br_kafka_out_fatal(d->out, errstr, sizeof errstr))
            break;
        now = br_log_mono_ms();
        if (br_signals_take_reload())
            reload(d);
        if (d->held_cnt)
            resume_held(d, now);
        if (now >= next_stale_ms) {
            check_stale(d);
            next_stale_ms = now + POLL_MS;
        }
        if (now >= d->next_snap_ms && d->changes &&
            br_kafka_out_flush(d->out, 0) > 0 &&
            (d->snap_due_ms == 0 ||
             now - d->snap_due_ms < d->conf->snapshot_interval_ms)) {
            /* Alerts or dead letters are still on their way: consume on and
             * look again shortly, rather than block; after a whole interval
             * of this, the snapshot waits for them (briefly) and reports. */
            if (d->snap_due_ms == 0)
                d->snap_due_ms = now;
            d->next_snap_ms = now + SNAP_WAIT_MS;
        } else if (now >= d->next_snap_ms) {
            bool ok = take_snapshot(d, "interval", SNAP_FLUSH_MS, false);
            now = br_log_mono_ms();
            d->snap_due_ms = ok ? 0 : d->snap_due_ms;
            d->next_snap_ms = now + (ok ? d->conf->snapshot_interval_ms
                                        : snap_retry_ms(d->snap_failures));
        }
        if (now >= next_stats_ms) {
            log_stats(d, "stats", &last_messages, &last_ms);
            br_ratelimit_flush(&d->rl, now);
            next_stats_ms = now + BR_DAEMON_STATS_MS;
        }
        if (!rkm && fed < MERGE_BURST) {
            /* Sleep until a queue has something, a wait runs out, or the
             * next turn of the duties above. */
            int64_t until = br_merge_wait_until(d->merge) - br_log_mono_ms();
            int timeout = until < POLL_MS ? (until > 0 ? (int)until : 0) : POLL_MS;
            br_kafka_wake_wait(d->wake[0], timeout);
        }
    }
    ret = 0;
    if (d->fatal || br_kafka_out_fatal(d->out, errstr, sizeof errstr)) {
        char fatal[512] = "";
        rd_kafka_fatal_error(d->fatal ? d->rk : br_kafka_out_handle(d->out), fatal,
                             sizeof fatal);
        br_log(BR_LOG_ERROR, "fatal Kafka error, shutting down", "error=%s",
               br_log_quote(qbuf, sizeof qbuf, fatal));
        ret = 1;
    } else {
        br_log(BR_LOG_INFO, "shutting down", "reason=signal");
    }
    /* The last snapshot covers everything taken; then leave the group
     * (nothing is committed on close but what the snapshot covers). */
    bool saved = take_snapshot(d, "shutdown", BR_DAEMON_FLUSH_MS, true);
    if (!saved)
        br_log(BR_LOG_ERROR, "the last snapshot failed: the next start re-reads "
               "what came after the previous one", "messages_since=%" PRIu64,
               d->changes);
    rd_kafka_consumer_close(d->rk);
    /* The snapshot's flush already waited for the producer. */
    undelivered = br_kafka_out_flush(d->out, saved ? BR_DAEMON_FLUSH_MS : 0);
    br_ratelimit_flush(&d->rl, br_log_mono_ms() + LOG_PERIOD_MS);
    log_stats(d, "stopped", &last_messages, &last_ms);
    log_dead_reasons(d);
    if (undelivered > 0) {
        br_log(BR_LOG_ERROR, "messages not delivered before shutdown",
               "undelivered=%d flush_ms=%d", undelivered, BR_DAEMON_FLUSH_MS);
    }
    if (d->produce_errors)
        br_log(BR_LOG_ERROR, "messages refused by the producer", "count=%" PRIu64,
               d->produce_errors);
done:
    br_httpd_stop(d->http);
    /* Messages and queue references go back before the handle. */
    for (size_t i = 0; i < d->src_cnt; i++)
        src_free(&d->srcs[i]);
    free(d->srcs);
    if (d->cq)
        rd_kafka_queue_destroy(d->cq);
    if (d->rk)
        rd_kafka_destroy(d->rk);
    for (int i = 0; i < 2; i++)
        if (d->wake[i] >= 0)
            close(d->wake[i]);
    br_merge_destroy(d->merge);
    br_snapdir_close(d->sd);
    for (size_t i = 0; i < d->prog_cnt; i++)
        free(d->prog[i].topic);
    free(d->prog);
    for (size_t i = 0; i < d->held_cnt; i++)
        free(d->held[i].topic);
    free(d->held);
    br_buf_free(&d->snapbuf);
    br_buf_free(&d->corebuf);
    br_kafka_out_destroy(d->out);
    br_pipeline_destroy(d->pl);
    br_schemasrc_async_free(d->fetcher);
    br_outputs_free(&d->outs);
    br_config_destroy(d->conf);
    free(d);
    return ret;
}
