/*
 * `burnrate replay`: drive the pipeline over files or a bounded range of
 * Kafka partitions, write alerts as JSON lines and a summary to stderr.
 * Reading is bounded: no line or message makes memory grow past
 * max_message_bytes, and an input's files are sorted by event time within
 * --sort-memory (spilling to temporary files beyond it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "burnrate/format.h"
#include "burnrate/kafka.h"
#include "burnrate/log.h"
#include "burnrate/merge.h"
#include "burnrate/money.h"
#include "burnrate/outputs.h"
#include "burnrate/pipeline.h"
#include "burnrate/redact.h"
#include "burnrate/replay.h"
#include "burnrate/schemasrc.h"
#include "burnrate/signals.h"
#include "burnrate/sortrun.h"
#include "burnrate/ts.h"

#define DEFAULT_MAX_MESSAGE_BYTES (1024 * 1024)
#define KAFKA_TIMEOUT_MS 10000
#define KAFKA_STALL_MS 30000   /* no message for this long: give up */

/* Lines that can repeat per message: 5 per key every 10 s (one thread). */
static br_ratelimit_t replay_rl = {.burst = 5, .period_ms = 10000};

/* One partition of a Kafka replay, where it stops, and its head: the next
 * record, decoded, waiting for its turn in the event-time merge. */
typedef struct part {
    const char *topic;          /* borrowed from the config */
    int32_t partition;
    int input;
    uint64_t order;             /* input, topic, partition: merge ties */
    int64_t end;                /* exclusive */
    int64_t next;               /* offset after the last one read */
    bool done;
    rd_kafka_queue_t *q;        /* the partition's own queue, owned */
    int slot;                   /* in the merge */
    rd_kafka_message_t *rkm;    /* the head's message (payload, key), owned;
                                   NULL when there is no head */
    br_record_t *rec;           /* the head, decoded; owned */
} part_t;

typedef struct replay {
    const br_config_t *conf;          /* borrowed */
    const br_replay_opts_t *opts;     /* borrowed */
    br_pipeline_t *pl;                /* owned */
    const char **input_names;         /* borrowed from pl */
    FILE *out;                        /* alerts; owned unless stdout */
    FILE *dead;                       /* dead letters or NULL; owned unless
                                         stdout */
    br_outputs_t outs;                /* alerts and dead letters leave here */
    const void *cur_key;              /* Kafka key of the message being fed */
    size_t cur_key_len;
    size_t line_cap;                  /* longest line read, bytes */
    uint64_t dead_by_reason[BR_ERR__CNT];
    uint64_t rejected;                /* dead-lettered by replay itself */
    uint64_t alerts[BR_ALERT__CNT][3]; /* by type and status */
    size_t inputs_read;
    size_t files_read;
    size_t partitions_read;
    br_merge_stats_t merge;           /* --kafka: the merge at the end */
    size_t merge_peak_bytes;          /* --kafka: heads buffered, at most */
    size_t sort_memory;               /* bytes, per input sorted */
    uint64_t sorted;                  /* records sorted by event time */
    uint64_t disordered;              /* of sorted: earlier than one before
                                         them in their input's files */
    uint64_t beyond_lateness;         /* of disordered: by more than the
                                         lateness (late in file order) */
    uint64_t sort_runs;               /* runs spilled, all inputs */
    bool interrupted;
} replay_t;

/* Every dead letter of a replay comes through here. */
static void dead_letter(replay_t *r, const br_origin_t *origin,
                        const void *payload, size_t len, br_err_t reason,
                        const char *detail) {
    br_dead_letter_t dl = {
        .origin = origin,
        .input = origin->input >= 0 && (size_t)origin->input < r->conf->input_cnt
                     ? r->conf->inputs[origin->input].name
                     : "",
        .key = r->cur_key,
        .key_len = r->cur_key_len,
        .payload = payload,
        .len = len,
        .reason = reason,
        .detail = detail,
    };
    if ((unsigned)reason < BR_ERR__CNT)
        r->dead_by_reason[reason]++;
    br_outputs_dead_letter(&r->outs, &dl);
}

static void on_dead_letter(void *opaque, const br_origin_t *origin,
                           const void *payload, size_t len, br_err_t reason,
                           const char *detail) {
    dead_letter(opaque, origin, payload, len, reason, detail);
}

static void on_alert(void *opaque, const br_alert_t *alert) {
    replay_t *r = opaque;

    if ((unsigned)alert->type < BR_ALERT__CNT && (unsigned)alert->status < 3)
        r->alerts[alert->type][alert->status]++;
    br_outputs_alert(&r->outs, alert, r->input_names, br_log_wall_ms());
}

/* The outputs of a replay, in this order: alerts as JSON lines (--output,
 * default stdout), readable lines on stdout (--print-alerts), dead letters
 * as JSON lines (--dead-letters). */
static void outputs_build(replay_t *r) {
    br_output_t o = br_output_alert_file(r->out);
    br_outputs_add(&r->outs, &o); /* three of BR_OUTPUTS_MAX: no error */
    if (r->opts->print_alerts) {
        o = br_output_lines(stdout);
        br_outputs_add(&r->outs, &o);
    }
    if (r->dead) {
        o = br_output_dead_letter_file(r->dead);
        br_outputs_add(&r->outs, &o);
    }
}

/*
 * One input's files, read one after another and decoded into a sorter
 * (cursor_load()); then its records come out in event-time order, the next
 * one decoded ahead so that inputs can be merged by event time: billing
 * exports and token logs of the same days then interleave as they would
 * live, instead of the second file arriving entirely behind the watermark,
 * and an export grouped by account is not mostly late.
 */
typedef struct cursor {
    int input;
    const char **paths;         /* borrowed from config/options */
    size_t path_cnt, path_idx;
    const char *path;           /* file being read, or NULL */
    br_format_file_t *file;     /* read in the input's format */
    br_origin_t origin;
    br_record_t *rec;           /* the pending record, when has */
    const void *raw;            /* the message read, for dead letters;
                                   borrowed from file */
    size_t raw_len;
    bool has;
    br_sortrun_t *sort;         /* the input's records, by event time */
    uint64_t seq;               /* records added to sort */
    int64_t read_max_ms;        /* latest event time read, file order */
    const void *feed_raw;       /* rec's raw message, borrowed from sort */
    size_t feed_raw_len;
    br_buf_t packed;            /* reused by pack() */
} cursor_t;

static br_err_t cursor_open(replay_t *r, cursor_t *c, char *errstr,
                            size_t errstr_size) {
    c->path = c->paths[c->path_idx++];
    c->origin = (br_origin_t){c->input, c->path, 0, 0, 0};
    return br_format_file_open(br_pipeline_format(r->pl, c->input), c->path,
                               r->line_cap, &c->file, errstr, errstr_size);
}

static void cursor_close(replay_t *r, cursor_t *c) {
    if (c->file) {
        br_format_file_close(c->file);
        r->files_read++;
    }
    c->file = NULL;
    c->path = NULL;
}

/* Read and decode the input's next good record, in file order; c->has says
 * if there is one. */
static br_err_t cursor_read(replay_t *r, cursor_t *c, char *errstr,
                            size_t errstr_size) {
    c->has = false;
    while (!br_signals_stop_requested()) {
        if (!c->file) {
            if (c->path_idx == c->path_cnt)
                return BR_ERR_OK;
            br_err_t err = cursor_open(r, c, errstr, errstr_size);
            if (err)
                return err;
        }
        br_format_msg_t m;
        br_err_t err = br_format_file_next(c->file, &m, errstr, errstr_size);
        if (err == BR_ERR_NOTFOUND) {
            cursor_close(r, c);
            continue;
        }
        if (err)
            return err;
        c->origin.offset = m.offset;
        c->raw = m.raw;
        c->raw_len = m.raw_len;
        if (m.reject != BR_ERR_OK) {
            r->rejected++;
            dead_letter(r, &c->origin, c->raw, c->raw_len, m.reject, m.why);
            continue;
        }
        err = br_pipeline_decode(r->pl, &c->origin, c->raw, c->raw_len, m.obj,
                                 c->rec);
        if (err == BR_ERR_OK) {
            c->has = true;
            return BR_ERR_OK;
        }
        /* SKIP or a dead letter, already counted: read on. */
    }
    r->interrupted = true;
    return BR_ERR_OK;
}

/*
 * A decoded record as the sorter keeps it: this header, the offsets of its
 * strings in the arena image (id, then key and value of each dimension),
 * the arena image, then the raw message (a dead letter's payload if
 * feeding it fails). Decoded once: stats and dead letters of decoding are
 * as in file order, and feeding sees exactly what decode produced. Read
 * back by the process that wrote it, so the layout is native.
 */
typedef struct packed {
    int64_t event_ms;
    int64_t cost_nanos;
    int64_t offset;             /* origin: line, row or record number */
    int64_t tokens[BR_TOK__CNT];
    uint32_t file;              /* origin: index into the cursor's paths */
    int32_t partition;
    uint32_t raw_len;           /* bytes */
    uint16_t arena_len;         /* bytes of the arena image */
    uint16_t dim_cnt;
    uint8_t kind;
    uint8_t has_cost;
    uint8_t priced;
    char currency[BR_CURRENCY_MAX];
} packed_t;

#define NO_STRING UINT16_MAX

/* The offset of s in the arena image img (len used): the arena's own
 * strings keep theirs; any other is copied in. NO_STRING when full. */
static uint16_t arena_off(const br_record_t *rec, const char *s, char *img,
                          size_t *len) {
    if (s >= rec->arena && s < rec->arena + rec->arena_used)
        return (uint16_t)(s - rec->arena);
    size_t n = strlen(s) + 1;
    if (n > BR_RECORD_ARENA - *len)
        return NO_STRING;
    memcpy(img + *len, s, n);
    *len += n;
    return (uint16_t)(*len - n);
}

static br_err_t pack(cursor_t *c, const br_record_t *rec, const void *raw,
                     size_t raw_len) {
    char img[BR_RECORD_ARENA];
    uint16_t offs[1 + 2 * BR_DIM_MAX];
    size_t img_len = rec->arena_used <= BR_RECORD_ARENA ? rec->arena_used
                                                        : BR_RECORD_ARENA;
    packed_t h;
    memset(&h, 0, sizeof h); /* no stray padding in the temporary file */
    memcpy(img, rec->arena, img_len);
    offs[0] = rec->id ? arena_off(rec, rec->id, img, &img_len) : NO_STRING;
    if (rec->id && offs[0] == NO_STRING)
        return BR_ERR_LIMIT;
    for (size_t i = 0; i < rec->dim_cnt; i++) {
        offs[1 + 2 * i] = arena_off(rec, rec->dims[i].key, img, &img_len);
        offs[2 + 2 * i] = arena_off(rec, rec->dims[i].value, img, &img_len);
        if (offs[1 + 2 * i] == NO_STRING || offs[2 + 2 * i] == NO_STRING)
            return BR_ERR_LIMIT;
    }
    h.event_ms = rec->event_ms;
    h.cost_nanos = rec->cost_nanos;
    h.offset = rec->origin.offset;
    memcpy(h.tokens, rec->tokens, sizeof h.tokens);
    h.file = (uint32_t)(c->path_idx - 1);
    h.partition = rec->origin.partition;
    h.raw_len = (uint32_t)raw_len;
    h.arena_len = (uint16_t)img_len;
    h.dim_cnt = (uint16_t)rec->dim_cnt;
    h.kind = (uint8_t)rec->kind;
    h.has_cost = rec->has_cost;
    h.priced = rec->priced;
    memcpy(h.currency, rec->currency, sizeof h.currency);
    br_buf_reset(&c->packed);
    br_buf_append(&c->packed, &h, sizeof h);
    br_buf_append(&c->packed, offs, (1 + 2 * rec->dim_cnt) * sizeof *offs);
    br_buf_append(&c->packed, img, img_len);
    br_buf_append(&c->packed, raw, raw_len);
    return c->packed.oom ? BR_ERR_NOMEM : BR_ERR_OK;
}

/* The record packed in data into c->rec, its raw message into feed_raw. */
static br_err_t unpack(cursor_t *c, const void *data, size_t len) {
    const unsigned char *p = data;
    uint16_t offs[1 + 2 * BR_DIM_MAX];
    br_record_t *rec = c->rec;
    packed_t h;
    if (len < sizeof h)
        return BR_ERR_PARSE;
    memcpy(&h, p, sizeof h);
    size_t offs_len = (1 + 2 * (size_t)h.dim_cnt) * sizeof *offs;
    if (h.dim_cnt > BR_DIM_MAX || h.arena_len > BR_RECORD_ARENA ||
        h.file >= c->path_cnt ||
        len != sizeof h + offs_len + h.arena_len + h.raw_len)
        return BR_ERR_PARSE;
    memcpy(offs, p + sizeof h, offs_len);
    br_record_reset(rec);
    rec->kind = (br_kind_t)h.kind;
    rec->event_ms = h.event_ms;
    rec->cost_nanos = h.cost_nanos;
    rec->has_cost = h.has_cost;
    rec->priced = h.priced;
    memcpy(rec->currency, h.currency, sizeof rec->currency);
    memcpy(rec->tokens, h.tokens, sizeof rec->tokens);
    memcpy(rec->arena, p + sizeof h + offs_len, h.arena_len);
    rec->arena_used = h.arena_len;
    for (size_t i = 0; i < 1 + 2 * (size_t)h.dim_cnt; i++)
        if (offs[i] != NO_STRING && offs[i] >= h.arena_len)
            return BR_ERR_PARSE;
    rec->id = offs[0] == NO_STRING ? NULL : rec->arena + offs[0];
    rec->dim_cnt = h.dim_cnt;
    for (size_t i = 0; i < h.dim_cnt; i++) {
        rec->dims[i].key = rec->arena + offs[1 + 2 * i];
        rec->dims[i].value = rec->arena + offs[2 + 2 * i];
    }
    rec->origin = (br_origin_t){c->input, c->paths[h.file], h.partition,
                                h.offset, 0};
    c->feed_raw = p + sizeof h + offs_len + h.arena_len;
    c->feed_raw_len = h.raw_len;
    return BR_ERR_OK;
}

/*
 * Read every file of the input into its sorter, noting how far from event
 * time order the files are: a record earlier than one read before it is
 * out of order, and late had it been fed then if its bucket was already
 * final (the watermark of this input alone: latest event time less the
 * lateness).
 */
static br_err_t cursor_load(replay_t *r, cursor_t *c, char *errstr,
                            size_t errstr_size) {
    const br_input_conf_t *in = &r->conf->inputs[c->input];
    int64_t bucket_ms = r->conf->spike.bucket_ms > 0 ? r->conf->spike.bucket_ms : 1;
    br_err_t err;

    c->read_max_ms = INT64_MIN;
    c->sort = br_sortrun_new(r->sort_memory, NULL, errstr, errstr_size);
    if (!c->sort)
        return BR_ERR_NOMEM;
    for (;;) {
        if ((err = cursor_read(r, c, errstr, errstr_size)))
            return err;
        if (!c->has)
            break;
        const br_record_t *rec = c->rec;
        int64_t ev = rec->event_ms;
        /* Records outside --from/--to are skipped whatever their order. */
        if (ev >= r->opts->from_ms && ev < r->opts->to_ms) {
            if (ev < c->read_max_ms) {
                int64_t wm = c->read_max_ms < INT64_MIN + in->lateness_ms
                                 ? INT64_MIN
                                 : c->read_max_ms - in->lateness_ms;
                r->disordered++;
                if (br_floordiv(ev, bucket_ms) < br_floordiv(wm, bucket_ms))
                    r->beyond_lateness++;
            } else {
                c->read_max_ms = ev;
            }
        }
        if ((err = pack(c, rec, c->raw, c->raw_len))) {
            if (err == BR_ERR_NOMEM)
                return br_seterr(errstr, errstr_size, err, "out of memory");
            /* Strings outside the arena that do not fit it: cannot be
             * today (decode keeps every string in the arena). The message
             * is already counted by the pipeline. */
            dead_letter(r, &rec->origin, c->raw, c->raw_len, err,
                        "decoded record too large to sort");
            continue;
        }
        if ((err = br_sortrun_add(c->sort, ev, c->seq++, c->packed.data,
                                  c->packed.len, errstr, errstr_size)))
            return err;
    }
    if ((err = br_sortrun_finish(c->sort, errstr, errstr_size)))
        return err;
    br_sortrun_stats_t st;
    br_sortrun_stats(c->sort, &st);
    r->sorted += st.records;
    r->sort_runs += st.runs;
    br_buf_free(&c->packed);
    return BR_ERR_OK;
}

/* The input's next record in event-time order; c->has says if there is one. */
static br_err_t cursor_next(replay_t *r, cursor_t *c, char *errstr,
                            size_t errstr_size) {
    int64_t key;
    uint64_t seq;
    const void *data;
    size_t len;
    c->has = false;
    br_err_t err = br_sortrun_next(c->sort, &key, &seq, &data, &len, errstr,
                                   errstr_size);
    if (err == BR_ERR_NOTFOUND)
        return BR_ERR_OK;
    if (err)
        return err;
    if (unpack(c, data, len))
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "input %s: a sorted record came back damaged",
                         r->conf->inputs[c->input].name);
    c->has = true;
    return BR_ERR_OK;
}

/* The files of input i: --input entries for it when any, else the config's. */
static size_t input_files(const replay_t *r, size_t i, const char **paths,
                          size_t max) {
    size_t n = 0;
    bool overridden = false;

    for (size_t k = 0; k < r->opts->file_cnt; k++) {
        if (strcmp(r->opts->files[k].input, r->conf->inputs[i].name) == 0) {
            overridden = true;
            if (n < max)
                paths[n] = r->opts->files[k].path;
            n++;
        }
    }
    if (overridden)
        return n;
    for (size_t k = 0; k < r->conf->inputs[i].file_cnt; k++) {
        if (n < max)
            paths[n] = r->conf->inputs[i].files[k];
        n++;
    }
    return n;
}

static br_err_t replay_files(replay_t *r, char *errstr, size_t errstr_size) {
    size_t total = 0;
    cursor_t *cursors = NULL;
    const char **paths = NULL;
    size_t paths_cap = 0;
    br_err_t ret = BR_ERR_OK;

    for (size_t k = 0; k < r->opts->file_cnt; k++) {
        if (br_config_input_index(r->conf, r->opts->files[k].input) < 0)
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "--input %s=%s: the config has no input named \"%s\"",
                             r->opts->files[k].input, r->opts->files[k].path,
                             r->opts->files[k].input);
    }
    /* Every file must open before any is read: a typo should not cost a
     * long replay. */
    for (size_t i = 0; i < r->conf->input_cnt; i++) {
        size_t n = input_files(r, i, NULL, 0);
        if (n > paths_cap) {
            const char **np = realloc(paths, n * sizeof *paths);
            if (!np) {
                ret = br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
                goto done;
            }
            paths = np;
            paths_cap = n;
        }
        input_files(r, i, paths, n);
        for (size_t k = 0; k < n; k++) {
            FILE *fp = fopen(paths[k], "rb");
            if (!fp) {
                ret = br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: %s (input %s)",
                                paths[k], strerror(errno), r->conf->inputs[i].name);
                goto done;
            }
            fclose(fp);
        }
        total += n;
    }
    if (!total) {
        ret = br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                        "no files to replay: list them under inputs.NAME.files "
                        "in the config or pass --input NAME=PATH (or --kafka)");
        goto done;
    }
    /* One cursor per input, merged by the event time of their next record
     * (ties go to the input listed first, so the order is deterministic). */
    cursors = calloc(r->conf->input_cnt, sizeof *cursors);
    if (!cursors) {
        ret = br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r->conf->input_cnt; i++) {
        cursor_t *c = &cursors[i];
        c->input = (int)i;
        c->path_cnt = input_files(r, i, NULL, 0);
        if (!c->path_cnt)
            continue;
        r->inputs_read++;
        c->paths = calloc(c->path_cnt, sizeof *c->paths);
        c->rec = malloc(sizeof *c->rec);
        if (!c->paths || !c->rec) {
            ret = br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
            goto done;
        }
        input_files(r, i, c->paths, c->path_cnt);
    }
    /* The memory limit is shared by the inputs being sorted. */
    r->sort_memory = (r->opts->sort_memory_bytes ? r->opts->sort_memory_bytes
                                                 : BR_SORTRUN_DEFAULT_MEMORY) /
                     r->inputs_read;
    for (size_t i = 0; i < r->conf->input_cnt && !r->interrupted; i++) {
        cursor_t *c = &cursors[i];
        if (!c->path_cnt)
            continue;
        if ((ret = cursor_load(r, c, errstr, errstr_size)) ||
            (ret = cursor_next(r, c, errstr, errstr_size)))
            goto done;
    }
    while (!r->interrupted) {
        cursor_t *next = NULL;
        for (size_t i = 0; i < r->conf->input_cnt; i++)
            if (cursors[i].has &&
                (!next || cursors[i].rec->event_ms < next->rec->event_ms))
                next = &cursors[i];
        if (!next)
            break;
        if (br_signals_stop_requested()) {
            r->interrupted = true;
            break;
        }
        br_pipeline_feed_decoded(r->pl, next->rec, next->feed_raw,
                                 next->feed_raw_len);
        if ((ret = cursor_next(r, next, errstr, errstr_size)))
            goto done;
    }
done:
    if (cursors) {
        for (size_t i = 0; i < r->conf->input_cnt; i++) {
            cursor_close(r, &cursors[i]);
            br_sortrun_destroy(cursors[i].sort);
            br_buf_free(&cursors[i].packed);
            free(cursors[i].paths);
            free(cursors[i].rec);
        }
        free(cursors);
    }
    free(paths);
    return ret;
}

/* Plan the partitions of every input topic: metadata, then watermarks. */
static br_err_t plan_partitions(replay_t *r, rd_kafka_t *rk, part_t **out_parts,
                                size_t *out_cnt,
                                rd_kafka_topic_partition_list_t *assignment,
                                char *errstr, size_t errstr_size) {
    part_t *parts = NULL;
    size_t cnt = 0, cap = 0;
    br_err_t ret = BR_ERR_OK;

    for (size_t i = 0; i < r->conf->input_cnt; i++) {
        for (size_t t = 0; t < r->conf->inputs[i].topic_cnt; t++) {
            const char *topic = r->conf->inputs[i].topics[t];
            rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
            const struct rd_kafka_metadata *md = NULL;
            rd_kafka_resp_err_t err;

            if (!rkt) {
                ret = br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "topic %s: %s",
                                topic, rd_kafka_err2str(rd_kafka_last_error()));
                goto done;
            }
            err = rd_kafka_metadata(rk, 0, rkt, &md, KAFKA_TIMEOUT_MS);
            rd_kafka_topic_destroy(rkt);
            if (!err && (md->topic_cnt != 1 || md->topics[0].err))
                err = md->topic_cnt == 1 ? md->topics[0].err
                                         : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
            if (err) {
                if (md)
                    rd_kafka_metadata_destroy(md);
                ret = br_seterr(errstr, errstr_size, BR_ERR_KAFKA,
                                "topic %s (input %s): %s", topic,
                                r->conf->inputs[i].name, rd_kafka_err2str(err));
                goto done;
            }
            for (int p = 0; p < md->topics[0].partition_cnt; p++) {
                int32_t id = md->topics[0].partitions[p].id;
                int64_t lo = 0, hi = 0, start, end;

                err = rd_kafka_query_watermark_offsets(rk, topic, id, &lo, &hi,
                                                       KAFKA_TIMEOUT_MS);
                if (err) {
                    rd_kafka_metadata_destroy(md);
                    ret = br_seterr(errstr, errstr_size, BR_ERR_KAFKA,
                                    "%s[%" PRId32 "]: watermark offsets: %s", topic,
                                    id, rd_kafka_err2str(err));
                    goto done;
                }
                start = r->opts->start_offset == BR_REPLAY_OFFSET_BEGINNING ||
                                r->opts->start_offset < lo
                            ? lo
                            : r->opts->start_offset;
                end = r->opts->end_offset == BR_REPLAY_OFFSET_END ||
                              r->opts->end_offset > hi
                          ? hi
                          : r->opts->end_offset;
                br_log(BR_LOG_DEBUG, "replay partition",
                       "partition=%s[%" PRId32 "] low=%" PRId64 " high=%" PRId64
                       " start=%" PRId64 " end=%" PRId64,
                       topic, id, lo, hi, start, end);
                if (start >= end)
                    continue;
                if (cnt == cap) {
                    size_t ncap = cap ? cap * 2 : 16;
                    part_t *np = realloc(parts, ncap * sizeof *parts);
                    if (!np) {
                        rd_kafka_metadata_destroy(md);
                        ret = br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                                        "out of memory");
                        goto done;
                    }
                    parts = np;
                    cap = ncap;
                }
                parts[cnt] = (part_t){
                    .topic = topic, .partition = id, .input = (int)i,
                    .order = (uint64_t)i << 48 | (uint64_t)t << 32 | (uint32_t)id,
                    .end = end, .next = start, .slot = -1};
                cnt++;
                rd_kafka_topic_partition_list_add(assignment, topic, id)->offset = start;
            }
            rd_kafka_metadata_destroy(md);
        }
    }
done:
    if (ret) {
        free(parts);
        parts = NULL;
        cnt = 0;
    }
    *out_parts = parts;
    *out_cnt = cnt;
    return ret;
}

/* The head of pt is fed, or dropped, or there was none: done when the
 * planned range is read. @returns true when pt is done now. */
static bool part_finish(replay_t *r, br_merge_t *m, part_t *pt) {
    if (pt->rkm || pt->next < pt->end)
        return false;
    br_origin_t origin = {pt->input, pt->topic, pt->partition, pt->next, 0};
    br_pipeline_note_backlog(r->pl, &origin, false);
    br_merge_remove(m, pt->slot);
    pt->done = true;
    return true;
}

/* Decode messages of pt's queue until one is a record to merge (its head),
 * the queue is empty, or the range is read. Dead letters and skips are
 * taken at once: they do not touch the state's event time. An Avro schema
 * the registry cannot give now: replay has time, so it waits (with
 * backoff) rather than skip. @returns true when a message was read. */
static bool part_fill(replay_t *r, br_merge_t *m, part_t *pt, int64_t now) {
    bool read = false;

    while (!pt->done && !pt->rkm) {
        rd_kafka_message_t *rkm = rd_kafka_consume_queue(pt->q, 0);
        if (!rkm) {
            br_merge_set_empty(m, pt->slot, true, now); /* next < end: lag */
            break;
        }
        if (rkm->err) {
            if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                /* EOF carries the next offset: at or past the end, the
                 * range is read (offsets in between may be gaps). */
                if (rkm->offset >= pt->end)
                    pt->next = pt->end;
            } else if (br_log_limited(&replay_rl, "consume_error")) {
                char qerr[600];
                br_log(BR_LOG_WARN, "consume error", "partition=%s[%" PRId32 "] code=%s error=%s",
                       pt->topic, pt->partition, rd_kafka_err2name(rkm->err),
                       br_log_quote(qerr, sizeof qerr, rd_kafka_message_errstr(rkm)));
            }
            rd_kafka_message_destroy(rkm);
            part_finish(r, m, pt);
            continue;
        }
        read = true;
        if (rkm->offset >= pt->end) {
            rd_kafka_message_destroy(rkm);
            pt->next = pt->end;
            part_finish(r, m, pt);
            break;
        }
        pt->next = rkm->offset + 1;
        br_origin_t origin = {pt->input, pt->topic, pt->partition, rkm->offset,
                              rd_kafka_message_timestamp(rkm, NULL)};
        const void *payload = rkm->payload ? rkm->payload : "";
        char swhy[600];
        int64_t backoff = 500;
        br_err_t err;
        r->cur_key = rkm->key;
        r->cur_key_len = rkm->key_len;
        while ((err = br_pipeline_decode(r->pl, &origin, payload, rkm->len, NULL,
                                         pt->rec)) == BR_ERR_IO &&
               !br_signals_stop_requested()) {
            char qwhy[700];
            snprintf(swhy, sizeof swhy, "%s", br_pipeline_last_error(r->pl));
            if (br_log_limited(&replay_rl, "schema_wait"))
                br_log(BR_LOG_WARN, "Avro schema unavailable, retrying",
                       "retry_ms=%" PRId64 " error=%s", backoff,
                       br_log_quote(qwhy, sizeof qwhy, swhy));
            struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000};
            nanosleep(&ts, NULL);
            backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
        }
        r->cur_key = NULL;
        if (err == BR_ERR_OK) {
            pt->rkm = rkm;
            br_merge_set_head(m, pt->slot, pt->rec->event_ms);
        } else {
            rd_kafka_message_destroy(rkm);
            part_finish(r, m, pt);
        }
    }
    return read;
}

/* Feed the head of pt (its turn in the merge), then read its next one. */
static void part_feed(replay_t *r, br_merge_t *m, part_t *pt, int64_t now) {
    rd_kafka_message_t *rkm = pt->rkm;

    /* More of this partition to come: it holds the watermark back rather
     * than go idle (br_pipeline_note_backlog()). */
    br_pipeline_note_backlog(r->pl, &pt->rec->origin, pt->next < pt->end);
    r->cur_key = rkm->key;
    r->cur_key_len = rkm->key_len;
    br_pipeline_feed_decoded(r->pl, pt->rec, rkm->payload ? rkm->payload : "",
                             rkm->len);
    r->cur_key = NULL;
    rd_kafka_message_destroy(rkm);
    pt->rkm = NULL;
    if (!part_finish(r, m, pt))
        part_fill(r, m, pt, now);
}

/*
 * Read the planned ranges through the event-time merge (merge.h): each
 * partition from its own queue, at most one decoded record buffered per
 * partition, the oldest fed first; a partition short of its end offset
 * with nothing buffered is waited for, so the records are fed in the order
 * a replay of the same records from files would feed them (ties: input,
 * topic, partition). A partition that delivers nothing for KAFKA_STALL_MS
 * stops the replay with an error, as before.
 */
static br_err_t replay_kafka(replay_t *r, char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *kconf = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(16);
    part_t *parts = NULL;
    br_merge_t *m = NULL;
    size_t part_cnt = 0;
    int wake[2] = {-1, -1};
    char group[96], why[512];
    int64_t last_progress, now;
    br_err_t ret;

    if ((ret = br_kafka_check_topics(r->conf, errstr, errstr_size)))
        goto done;
    kconf = br_kafka_conf_new(r->conf, BR_KAFKA_CONSUMER, r->opts->brokers, errstr,
                              errstr_size);
    if (!kconf) {
        ret = BR_ERR_CONFIG;
        goto done;
    }
    /* Partitions are assigned, never subscribed, and nothing is committed:
     * a replay must not move the live group's offsets. */
    snprintf(group, sizeof group, "burnrate-replay-%ld-%" PRId64, (long)getpid(),
             br_log_wall_ms());
    if ((ret = br_kafka_conf_set(kconf, "group.id", group, errstr, errstr_size)) ||
        (ret = br_kafka_conf_set(kconf, "enable.auto.commit", "false", errstr,
                                 errstr_size)) ||
        (ret = br_kafka_conf_set(kconf, "enable.partition.eof", "true", errstr,
                                 errstr_size)))
        goto done;
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, why, sizeof why);
    if (!rk) {
        ret = br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "creating consumer: %s", why);
        goto done;
    }
    kconf = NULL; /* rd_kafka_new() took it */
    rd_kafka_poll_set_consumer(rk);
    if ((ret = plan_partitions(r, rk, &parts, &part_cnt, assignment, errstr,
                               errstr_size)))
        goto done;
    r->partitions_read = part_cnt;
    for (size_t i = 0; i < r->conf->input_cnt; i++) {
        for (size_t p = 0; p < part_cnt; p++) {
            if (parts[p].input == (int)i) {
                r->inputs_read++;
                break;
            }
        }
    }
    if (!part_cnt)
        goto done; /* nothing in range */
    /* Replay has time: a partition that lags is waited for, whatever the
     * others hold, until nothing at all is read for KAFKA_STALL_MS (then
     * the replay fails rather than feed out of order). */
    if (!(m = br_merge_new(INT64_MAX / 4)) || br_kafka_wake_new(wake)) {
        ret = br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        goto done;
    }
    now = br_log_mono_ms();
    for (size_t p = 0; p < part_cnt; p++) {
        part_t *pt = &parts[p];
        br_origin_t origin = {pt->input, pt->topic, pt->partition, pt->next, 0};
        pt->q = br_kafka_partition_queue(rk, pt->topic, pt->partition, wake[1]);
        pt->rec = malloc(sizeof *pt->rec);
        pt->slot = br_merge_add(m, pt->order, now);
        if (!pt->q || !pt->rec || pt->slot < 0) {
            ret = br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                            "%s[%" PRId32 "]: no partition queue", pt->topic,
                            pt->partition);
            goto done;
        }
        /* Planned = counted: it holds the watermark back from the start,
         * before its first record. */
        br_pipeline_note_backlog(r->pl, &origin, true);
    }
    if (rd_kafka_assign(rk, assignment)) {
        ret = br_seterr(errstr, errstr_size, BR_ERR_KAFKA, "assign failed");
        goto done;
    }
    last_progress = br_log_mono_ms();
    for (;;) {
        size_t remaining = 0, buffered = 0;
        bool read = false;
        int s;

        if (br_signals_stop_requested()) {
            r->interrupted = true;
            break;
        }
        now = br_log_mono_ms();
        for (size_t p = 0; p < part_cnt; p++) {
            if (!parts[p].done && !parts[p].rkm)
                read |= part_fill(r, m, &parts[p], now);
            remaining += !parts[p].done;
            if (parts[p].rkm)
                buffered += sizeof *parts[p].rec + parts[p].rkm->len;
        }
        if (buffered > r->merge_peak_bytes)
            r->merge_peak_bytes = buffered;
        if (read)
            last_progress = now;
        if (!remaining)
            break;
        /* Feed while the merge can: each fed partition reads its next. */
        while ((s = br_merge_next(m, now, NULL)) >= 0 && !r->interrupted) {
            for (size_t p = 0; p < part_cnt; p++)
                if (!parts[p].done && parts[p].slot == s && parts[p].rkm) {
                    part_feed(r, m, &parts[p], now);
                    break;
                }
            last_progress = now;
            if (br_signals_stop_requested())
                r->interrupted = true;
        }
        if (r->interrupted)
            break;
        if (now - last_progress > KAFKA_STALL_MS) {
            ret = br_seterr(errstr, errstr_size, BR_ERR_KAFKA,
                            "no message for %d s with %zu partitions "
                            "unfinished", KAFKA_STALL_MS / 1000, remaining);
            goto done;
        }
        /* Errors and logs come through the consumer queue; records wake
         * the pipe. */
        rd_kafka_consumer_poll(rk, 0);
        br_kafka_wake_wait(wake[0], 100);
    }
done:
    if (m)
        br_merge_stats(m, &r->merge);
    for (size_t p = 0; p < part_cnt; p++) {
        if (parts[p].rkm)
            rd_kafka_message_destroy(parts[p].rkm);
        if (parts[p].q)
            rd_kafka_queue_destroy(parts[p].q);
        free(parts[p].rec);
    }
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    if (kconf)
        rd_kafka_conf_destroy(kconf);
    for (int i = 0; i < 2; i++)
        if (wake[i] >= 0)
            close(wake[i]);
    br_merge_destroy(m);
    rd_kafka_topic_partition_list_destroy(assignment);
    free(parts);
    return ret;
}

static void put_time(FILE *fp, int64_t ms) {
    char ts[40];

    if (ms == INT64_MIN || ms == INT64_MAX) {
        fputs("-", fp);
        return;
    }
    br_ts_format(ms, ts, sizeof ts);
    fputs(ts, fp);
}

/* "256 MiB", "1.5 KiB", "100 bytes". */
static void fmt_bytes(char *out, size_t size, size_t n) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, size, "%zu bytes", n);
    else if (v == (double)(uint64_t)v)
        snprintf(out, size, "%.0f %s", v, units[u]);
    else
        snprintf(out, size, "%.1f %s", v, units[u]);
}

static void summary(replay_t *r, double wall_s) {
    br_pipeline_stats_t st;
    uint64_t dead = 0, alerts = 0, messages;
    char money[BR_MONEY_STR_MAX];
    FILE *fp = stderr;
    bool first;

    br_pipeline_stats(r->pl, &st);
    messages = st.messages + r->rejected;
    for (int i = 0; i < BR_ERR__CNT; i++)
        dead += r->dead_by_reason[i];
    fprintf(fp, "burnrate replay%s: ", r->interrupted ? " (interrupted)" : "");
    if (r->opts->kafka)
        fprintf(fp, "%zu inputs, %zu partitions\n", r->inputs_read, r->partitions_read);
    else
        fprintf(fp, "%zu inputs, %zu files\n", r->inputs_read, r->files_read);
    fprintf(fp, "  messages %" PRIu64 ", ok %" PRIu64 ", skipped %" PRIu64
                ", dead letters %" PRIu64,
            messages, st.ok, st.skipped, dead);
    first = true;
    for (int i = 0; i < BR_ERR__CNT; i++) {
        if (!r->dead_by_reason[i])
            continue;
        fprintf(fp, "%s%s %" PRIu64, first ? " (" : ", ", br_err_name((br_err_t)i),
                r->dead_by_reason[i]);
        first = false;
    }
    if (!first)
        fputs(")", fp);
    if (dead && r->dead == stdout)
        fputs(" written to stdout", fp);
    else if (dead && r->opts->dead_letters)
        fprintf(fp, " written to %s", r->opts->dead_letters);
    else if (dead)
        fputs(" counted only (--dead-letters FILE keeps them)", fp);
    fputs("\n", fp);
    fprintf(fp, "  priced %" PRIu64 ", unpriced %" PRIu64 ", late %" PRIu64
                ", series %" PRIu64 ", folded into (other) %" PRIu64
                ", duplicates %" PRIu64 "\n",
            st.priced, st.unpriced, st.late, st.series, st.folded,
            st.duplicates);
    if (st.late) {
        /* Why: per input, beyond its own lateness or behind another input
         * (its series made final by the others while it was idle). */
        char late_money[64];
        br_money_format(st.late_nanos, late_money, sizeof late_money);
        fprintf(fp, "  late %" PRIu64 " (%s %s, in totals and budgets, not in "
                    "buckets):", st.late, late_money, r->conf->currency);
        for (size_t i = 0; i < r->conf->input_cnt; i++) {
            br_pipeline_input_stats_t is;
            br_pipeline_input_stats(r->pl, (int)i, &is);
            if (!is.late)
                continue;
            fprintf(fp, " %s %" PRIu64 " beyond its lateness, %" PRIu64
                        " behind another input;",
                    r->conf->inputs[i].name, is.late - is.late_behind,
                    is.late_behind);
        }
        fputs("\n", fp);
    }
    if (st.dims_ignored) /* tags beyond a record's room, per input */
        for (size_t i = 0; i < r->conf->input_cnt; i++) {
            br_pipeline_input_stats_t is;
            br_pipeline_input_stats(r->pl, (int)i, &is);
            if (is.dims_ignored)
                fprintf(fp, "  %s: %" PRIu64 " tags ignored (more than %d "
                            "dimensions or %d bytes in a record; the "
                            "config's dimensions are kept)\n",
                        r->conf->inputs[i].name, is.dims_ignored, BR_DIM_MAX,
                        BR_RECORD_ARENA);
        }
    if (!r->opts->kafka) {
        char mem[32];
        fprintf(fp, "  sorted by event time %" PRIu64 " rows", r->sorted);
        if (r->sort_runs) {
            fmt_bytes(mem, sizeof mem, r->sort_memory);
            fprintf(fp, ", spilled in %" PRIu64 " runs to temporary files "
                        "(%s per input)", r->sort_runs, mem);
        } else {
            fputs(" in memory", fp);
        }
        /* Why a replay of the same files used to count records late. */
        fprintf(fp, "; %" PRIu64 " were out of order in their files, %" PRIu64
                    " by more than the lateness (fed unsorted, these could be "
                    "late)\n",
                r->disordered, r->beyond_lateness);
    }
    for (int t = 0; t < BR_ALERT__CNT; t++)
        for (int s = 0; s < 3; s++)
            alerts += r->alerts[t][s];
    fprintf(fp, "  alerts %" PRIu64, alerts);
    first = true;
    for (int t = 0; t < BR_ALERT__CNT; t++) {
        bool tfirst = true;
        for (int s = 0; s < 3; s++) {
            if (!r->alerts[t][s])
                continue;
            fprintf(fp, "%s%s%s %" PRIu64 " %s", first ? ": " : "",
                    !first && tfirst ? "; " : "", tfirst ? br_alert_type_name((br_alert_type_t)t) : ",",
                    r->alerts[t][s], br_alert_status_name((br_alert_status_t)s));
            first = tfirst = false;
        }
    }
    fputs("\n", fp);
    br_money_format(st.total_nanos, money, sizeof money);
    fprintf(fp, "  money counted %s %s\n", money, r->conf->currency);
    fputs("  event time: latest ", fp);
    put_time(fp, st.max_event_ms);
    fputs(", watermark ", fp);
    put_time(fp, st.watermark_ms);
    if (r->opts->from_ms != INT64_MIN || r->opts->to_ms != INT64_MAX) {
        fputs(", range [", fp);
        put_time(fp, r->opts->from_ms);
        fputs(", ", fp);
        put_time(fp, r->opts->to_ms);
        fputs(")", fp);
    }
    fputs("\n", fp);
    if (r->opts->kafka && r->partitions_read)
        fprintf(fp, "  merged by event time: %zu partitions, %" PRIu64
                    " records fed in order, at most %zu bytes of decoded "
                    "records buffered\n",
                r->partitions_read, r->merge.fed, r->merge_peak_bytes);
    fprintf(fp, "  alerts to %s; wall time %.3f s, %.0f events/s\n",
            r->opts->output && strcmp(r->opts->output, "-") ? r->opts->output : "stdout",
            wall_s, wall_s > 0 ? (double)messages / wall_s : 0.0);
}

/* Files carry no Kafka record timestamp: an input whose event time is
 * nothing else would turn every record into a dead letter. */
static br_err_t files_have_time(const replay_t *r, char *errstr,
                                size_t errstr_size) {
    for (size_t i = 0; i < r->conf->input_cnt; i++) {
        const char *t = r->conf->inputs[i].mapping.time;
        if (t && strcmp(t, BR_KAFKA_TIMESTAMP) == 0 &&
            input_files(r, i, NULL, 0) > 0)
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "input \"%s\": mapping.time is %s, which files "
                             "do not carry; replay its topics with --kafka",
                             r->conf->inputs[i].name, BR_KAFKA_TIMESTAMP);
    }
    return BR_ERR_OK;
}

int br_replay_run(const br_config_t *conf, const br_replay_opts_t *opts) {
    replay_t *r = calloc(1, sizeof *r);
    br_sink_t sink = {on_alert, on_dead_letter, NULL};
    char errstr[1024] = "";
    int64_t t0 = br_log_mono_ms();
    br_err_t err = BR_ERR_OK;
    int ret = 1;

    if (!r) {
        fprintf(stderr, "burnrate replay: out of memory\n");
        return 1;
    }
    r->conf = conf;
    r->opts = opts;
    r->out = stdout;
    br_outputs_init(&r->outs, NULL, NULL);
    sink.opaque = r;
    r->line_cap = conf->max_message_bytes ? conf->max_message_bytes
                                          : DEFAULT_MAX_MESSAGE_BYTES;
    r->pl = br_pipeline_new(conf, &sink, errstr, sizeof errstr);
    if (!r->pl)
        goto done;
    r->input_names = br_pipeline_input_names(r->pl);
    br_pipeline_set_schema_fetch(r->pl, br_schemasrc_fetch, NULL);
    br_pipeline_set_time_range(r->pl, opts->from_ms, opts->to_ms);
    /* History is fine; a record stamped ahead of this machine's clock is
     * the same hostile case as live (max_future: 0 turns it off). */
    br_pipeline_set_now(r->pl, br_log_wall_ms());
    if (!opts->kafka && (err = files_have_time(r, errstr, sizeof errstr)))
        goto done;
    if (opts->output && strcmp(opts->output, "-") != 0) {
        r->out = fopen(opts->output, "w");
        if (!r->out) {
            snprintf(errstr, sizeof errstr, "%s: %s", opts->output, strerror(errno));
            r->out = stdout;
            goto done;
        }
    }
    if (opts->dead_letters && strcmp(opts->dead_letters, "-") == 0) {
        r->dead = stdout;
    } else if (opts->dead_letters) {
        r->dead = fopen(opts->dead_letters, "w");
        if (!r->dead) {
            snprintf(errstr, sizeof errstr, "%s: %s", opts->dead_letters,
                     strerror(errno));
            goto done;
        }
    }
    outputs_build(r);
    err = opts->kafka ? replay_kafka(r, errstr, sizeof errstr)
                      : replay_files(r, errstr, sizeof errstr);
    if (err)
        goto done;
    br_pipeline_finish(r->pl);
    if (fflush(r->out) || ferror(r->out)) {
        snprintf(errstr, sizeof errstr, "writing alerts to %s: %s",
                 r->out == stdout ? "stdout" : opts->output, strerror(errno));
        goto done;
    }
    if (r->dead && (fflush(r->dead) || ferror(r->dead))) {
        snprintf(errstr, sizeof errstr, "writing dead letters to %s: %s",
                 r->dead == stdout ? "stdout" : opts->dead_letters,
                 strerror(errno));
        goto done;
    }
    summary(r, (double)(br_log_mono_ms() - t0) / 1000.0);
    ret = r->interrupted ? 1 : 0;
done:
    if (ret && !r->interrupted) {
        char clean[sizeof errstr + 64];
        fprintf(stderr, "burnrate replay: %s\n",
                errstr[0] ? br_redact_urls(clean, sizeof clean, errstr) : "failed");
    }
    if (r->out && r->out != stdout)
        fclose(r->out);
    if (r->dead && r->dead != stdout)
        fclose(r->dead);
    br_pipeline_destroy(r->pl);
    br_outputs_free(&r->outs);
    free(r);
    return ret;
}
