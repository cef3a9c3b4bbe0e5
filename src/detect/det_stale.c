/*
 * Stale input: wall-clock silence per input. The daemon says when an
 * input's partitions are assigned (on_live), when a message was taken
 * (on_arrival) and what time it is now (on_tick); this decides and emits.
 * One alert per silence episode: its id hashes the input and the silence
 * start, revision 1 fires, revision 2 resolves on the next message. Replay
 * never marks an input live, so nothing here fires there.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "burnrate/detector.h"
#include "burnrate/hash.h"
#include "burnrate/state.h"
#include "burnrate/ts.h"

/* Silence watch of one input, in wall-clock ms from the daemon. */
typedef struct stale_in {
    bool live;                 /* some partition of the input is assigned */
    int64_t live_ms;           /* when it last became live */
    int64_t since_ms;          /* last message taken, or before any, when
                                  the input first became live; INT64_MIN:
                                  neither yet. Names the silence (its id). */
    bool firing;               /* a stale_input alert is open */
} stale_in_t;

typedef struct stale {
    const br_detect_env_t *env;
    stale_in_t *in;            /* per input */
} stale_t;

static void *stale_create(const br_detect_env_t *env) {
    stale_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->env = env;
    st->in = calloc(env->conf->input_cnt + 1, sizeof(*st->in));
    if (!st->in) {
        free(st);
        return NULL;
    }
    for (size_t i = 0; i < env->conf->input_cnt; i++)
        st->in[i].since_ms = INT64_MIN;
    return st;
}

static void stale_destroy(void *self) {
    stale_t *st = self;
    if (!st)
        return;
    free(st->in);
    free(st);
}

/* The silence is timed from the last message, or from when the input
 * became live if that came later (a fresh start or a new assignment). */
static int64_t stale_start(const stale_in_t *si) {
    return si->since_ms > si->live_ms ? si->since_ms : si->live_ms;
}

/* origin: the message that ended the silence, or NULL: the input's first
 * topic stands in. */
static void stale_alert(stale_t *st, size_t input, int64_t now_ms,
                        br_alert_status_t status,
                        const br_origin_t *origin) {
    const br_input_conf_t *in = &st->env->conf->inputs[input];
    const stale_in_t *si = &st->in[input];
    int64_t newest_ms = st->env->input_max[input];
    br_origin_t none = {(int)input, in->topic_cnt ? in->topics[0] : "", -1,
                        -1, 0};
    /* The newest event time the input ever delivered; an input silent from
     * the start has none, and reports its silence start instead. */
    br_emit_ctx_t ec = st->env->emit;
    ec.origin = origin ? origin : &none;
    ec.event_ms = newest_ms != INT64_MIN ? newest_ms : si->since_ms;
    br_alert_t a;
    br_emit_init(&ec, &a, BR_ALERT_STALE_INPUT);
    br_id_stale(a.id, in->name, si->since_ms);
    a.status = status;
    a.revision = status == BR_STATUS_FIRING ? 1 : 2;
    a.severity = BR_SEV_WARNING;
    a.label_cnt = 1;
    a.labels[0].key = "input";
    a.labels[0].value = in->name;
    a.detail = in->name;
    a.window_start_ms = si->since_ms;
    a.window_end_ms = now_ms;
    char since[40], quiet[32], newest[40];
    br_ts_format(si->since_ms, since, sizeof(since));
    br_emit_duration(now_ms - si->since_ms, quiet, sizeof(quiet));
    if (newest_ms != INT64_MIN)
        br_ts_format(newest_ms, newest, sizeof(newest));
    else
        br_emit_text(newest, sizeof(newest), "none");
    if (status == BR_STATUS_FIRING)
        br_emit_text(a.summary, sizeof(a.summary),
                     "Input %s has delivered nothing for %s (silent since "
                     "%s; newest event time %s): its spend is not being "
                     "watched", in->name, quiet, since, newest);
    else
        br_emit_text(a.summary, sizeof(a.summary),
                     "Input %s delivers again after %s of silence (since %s)",
                     in->name, quiet, since);
    br_emit(&ec, &a);
}

static void stale_on_live(void *self, int input, bool live, int64_t now_ms) {
    stale_t *st = self;
    if (input < 0 || (size_t)input >= st->env->conf->input_cnt)
        return;
    stale_in_t *si = &st->in[input];
    if (live && !si->live)
        si->live_ms = now_ms;
    if (live && si->since_ms == INT64_MIN)
        si->since_ms = now_ms;
    si->live = live;
}

static void stale_on_arrival(void *self, const br_origin_t *origin,
                             int64_t now_ms) {
    stale_t *st = self;
    if (origin->input < 0 || (size_t)origin->input >= st->env->conf->input_cnt)
        return;
    stale_in_t *si = &st->in[origin->input];
    if (si->firing) {
        stale_alert(st, (size_t)origin->input, now_ms, BR_STATUS_RESOLVED,
                    origin);
        si->firing = false;
    }
    si->since_ms = now_ms;
}

static void stale_on_tick(void *self, int64_t now_ms) {
    stale_t *st = self;
    const br_config_t *conf = st->env->conf;
    for (size_t i = 0; i < conf->input_cnt; i++) {
        stale_in_t *si = &st->in[i];
        int64_t after = conf->inputs[i].stale_after_ms;
        if (after <= 0 || !si->live || si->firing ||
            now_ms - stale_start(si) < after)
            continue;
        si->firing = true;
        stale_alert(st, i, now_ms, BR_STATUS_FIRING, NULL);
    }
}

/* Layout 2: per input, name, last message (wall ms), alert open. Being
 * live is not saved: after a restart silence counts from the assignment. */
static br_err_t stale_save(const void *self, br_buf_t *b) {
    const stale_t *st = self;
    const br_config_t *conf = st->env->conf;
    br_wr_uvar(b, conf->input_cnt);
    for (size_t i = 0; i < conf->input_cnt; i++) {
        const stale_in_t *si = &st->in[i];
        br_wr_str(b, conf->inputs[i].name);
        br_wr_ivar(b, si->since_ms);
        br_wr_u8(b, si->firing);
    }
    return BR_ERR_OK;
}

static void stale_load(void *self, br_rd_t *r, br_buf_t *d) {
    stale_t *st = self;
    size_t n = (size_t)br_rd_count(r, 100000);
    for (size_t i = 0; i < n && !r->err; i++) {
        char *name = br_rd_strdup(r);
        int64_t since_ms = br_state_rd_time(r);
        bool firing = br_rd_bool(r);
        int k = !r->err && st ? br_config_input_index(st->env->conf, name)
                              : -1;
        if (k >= 0) {
            st->in[k].since_ms = since_ms;
            st->in[k].firing = firing;
        }
        if (!r->err && d) {
            br_buf_puts(d, d->len ? ",\n  {\"input\": " : "\n  {\"input\": ");
            br_buf_json_str(d, name);
            br_buf_puts(d, ", \"since\": ");
            br_state_put_ms(d, since_ms);
            br_buf_printf(d, ", \"alert_open\": %s}",
                          firing ? "true" : "false");
        }
        free(name);
    }
}

const br_detector_t br_detector_stale = {
    .name = "stale_input",
    .create = stale_create,
    .destroy = stale_destroy,
    .on_live = stale_on_live,
    .on_arrival = stale_on_arrival,
    .on_tick = stale_on_tick,
    .save = stale_save,
    .load = stale_load,
};
