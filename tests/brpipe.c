#include "brpipe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brtest.h"

static void labels_str(const br_dim_t *l, size_t n, char *out, size_t size) {
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && off < size; i++)
        off += (size_t)snprintf(out + off, size - off, "%s%s=%s",
                                i ? "," : "", l[i].key, l[i].value);
}

static bool grow(brp_sink_t *c) {
    if ((size_t)c->n < c->cap)
        return true;
    size_t cap = c->cap ? c->cap * 2 : BRP_ALERTS_MIN;
    brp_alert_t *a = realloc(c->a, cap * sizeof *a);
    if (!a)
        return false;
    memset(a + c->cap, 0, (cap - c->cap) * sizeof *a);
    c->a = a;
    c->cap = cap;
    return true;
}

static void on_alert(void *opaque, const br_alert_t *a) {
    brp_sink_t *c = opaque;
    br_buf_t line;
    br_buf_init(&line);
    br_alert_to_json(a, c->input_names, -1, &line);
    br_buf_append(&c->json, line.data, line.len);
    br_buf_puts(&c->json, "\n");
    if (getenv("BR_DUMP"))
        fprintf(stderr, "  %s\n", a->summary);
    /* Per id: r1 firing, then one more per message, never firing again. */
    unsigned prev = 0;
    for (int i = c->n - 1; i >= 0; i--)
        if (strcmp(c->a[i].id, a->id) == 0) {
            prev = c->a[i].rev;
            break;
        }
    if (a->revision != prev + 1 || (prev == 0) != (a->status == BR_STATUS_FIRING))
        c->order_errors++;
    if (!grow(c)) {
        fprintf(stderr, "brpipe: out of memory for alert %d\n", c->n);
        brt_fail++;
        br_buf_free(&line);
        return;
    }
    brp_alert_t *s = &c->a[c->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->type, sizeof s->type, "%s", br_alert_type_name(a->type));
    snprintf(s->status, sizeof s->status, "%s", br_alert_status_name(a->status));
    snprintf(s->severity, sizeof s->severity, "%s", br_severity_name(a->severity));
    memcpy(s->id, a->id, sizeof s->id);
    snprintf(s->parent, sizeof s->parent, "%s", a->parent_id ? a->parent_id : "");
    s->rev = a->revision;
    snprintf(s->scope, sizeof s->scope, "%s", a->scope ? a->scope : "");
    labels_str(a->labels, a->label_cnt, s->labels, sizeof s->labels);
    snprintf(s->detail, sizeof s->detail, "%s", a->detail ? a->detail : "");
    s->impact = a->impact_nanos;
    s->start = a->window_start_ms;
    s->end = a->window_end_ms;
    s->event = a->event_ms;
    s->offset = a->source.offset;
    s->contrib_cnt = a->contrib_cnt;
    for (size_t i = 0; i < a->contrib_cnt && i < BR_ALERT_CONTRIB_MAX; i++) {
        const br_contrib_t *k = &a->contribs[i];
        labels_str(k->labels, k->label_cnt, s->contrib[i], sizeof s->contrib[i]);
        s->c_obs[i] = k->observed_nanos;
        s->c_exp[i] = k->expected_nanos;
        s->c_imp[i] = k->impact_nanos;
        s->c_share[i] = k->share_bp;
    }
    snprintf(s->summary, sizeof s->summary, "%s", a->summary);
    snprintf(s->json, sizeof s->json, "%s", line.len ? line.data : "");
    br_buf_free(&line);
    if (c->also)
        c->also(c->also_opaque, a);
}

static void on_dead(void *opaque, const br_origin_t *o, const void *p,
                    size_t len, br_err_t reason, const char *detail) {
    brp_sink_t *c = opaque;
    (void)p, (void)len;
    brp_dead_t *d = &c->last_dead;
    d->input = o ? o->input : -1;
    d->offset = o ? o->offset : -1;
    d->reason = reason;
    snprintf(d->detail, sizeof d->detail, "%s", detail ? detail : "");
    if (c->dead < BRP_DEAD_MAX)
        c->dl[c->dead] = *d;
    c->dead++;
}

void brp_sink_init(brp_sink_t *c) {
    memset(c, 0, sizeof *c);
    br_buf_init(&c->json);
    if (!grow(c)) {
        fprintf(stderr, "brpipe: out of memory\n");
        brt_fail++;
    }
}

br_sink_t brp_sink(brp_sink_t *c) {
    return (br_sink_t){on_alert, on_dead, c};
}

void brp_sink_free(brp_sink_t *c) {
    if (!c)
        return;
    free(c->a);
    c->a = NULL;
    c->n = 0;
    c->cap = 0;
    br_buf_free(&c->json);
}

int brp_count(const brp_sink_t *c, const char *type, const char *status,
              const char *labels) {
    int n = 0;
    for (int i = 0; i < c->n; i++)
        n += (!type || strcmp(c->a[i].type, type) == 0) &&
             (!status || strcmp(c->a[i].status, status) == 0) &&
             (!labels || strcmp(c->a[i].labels, labels) == 0);
    return n;
}

int brp_occurs(const br_buf_t *b, const char *needle) {
    int n = 0;
    for (const char *p = b->len ? b->data : ""; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

br_config_t *brp_config_at(const char *file, int line, const char *yaml,
                           const char *name, const char *base) {
    char err[1024] = "";
    br_config_t *conf = br_config_load_string(yaml, name, base, err, sizeof err);
    if (conf) {
        brt_pass++;
    } else {
        brt_fail++;
        fprintf(stderr, "%s:%d: config: %s\n", file, line, err);
    }
    return conf;
}

br_pipeline_t *brp_start_at(const char *file, int line,
                            const br_config_t *conf, brp_sink_t *c) {
    br_sink_t sink = {NULL, NULL, NULL};
    if (c) {
        brp_sink_init(c);
        sink = brp_sink(c);
    }
    char err[1024] = "";
    br_pipeline_t *pl = conf ? br_pipeline_new(conf, &sink, err, sizeof err)
                             : NULL;
    if (pl) {
        brt_pass++;
    } else {
        brt_fail++;
        fprintf(stderr, "%s:%d: pipeline: %s\n", file, line,
                conf ? err : "no config");
    }
    return pl;
}

void brp_run_free(brp_run_t *r) {
    br_pipeline_destroy(r->pl);
    r->pl = NULL;
    brp_sink_free(&r->got);
}

br_err_t brp_feed(br_pipeline_t *pl, int input, const char *topic,
                  int64_t offset, const char *msg) {
    br_origin_t o = {.input = input, .topic = topic, .partition = 0,
                     .offset = offset};
    return br_pipeline_feed(pl, &o, msg, strlen(msg));
}

br_err_t brp_feedf(br_pipeline_t *pl, int input, const char *topic,
                   int64_t offset, const char *fmt, ...) {
    char buf[1024], *text = buf;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof buf) {
        text = malloc((size_t)n + 1);
        if (text) {
            va_start(ap, fmt);
            vsnprintf(text, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    if (n < 0 || !text) {
        fprintf(stderr, "brpipe: cannot format a message\n");
        brt_fail++;
        return BR_ERR_NOMEM;
    }
    br_origin_t o = {.input = input, .topic = topic, .partition = 0,
                     .offset = offset};
    br_err_t e = br_pipeline_feed(pl, &o, text, (size_t)n);
    if (text != buf)
        free(text);
    return e;
}

bool brp_describe_text(const br_pipeline_t *pl, br_buf_t *out) {
    br_buf_t state;
    char err[512] = "";
    br_buf_init(&state);
    br_err_t e = br_pipeline_save(pl, &state);
    CHECK_INT(e, BR_ERR_OK);
    if (e == BR_ERR_OK) {
        e = br_pipeline_describe(state.data, state.len, out, err, sizeof err);
        CHECK_INT(e, BR_ERR_OK);
        if (e != BR_ERR_OK)
            fprintf(stderr, "describe: %s\n", err);
    }
    br_buf_free(&state);
    return e == BR_ERR_OK;
}

json_t *brp_describe(const br_pipeline_t *pl) {
    br_buf_t js;
    json_error_t jerr;
    json_t *doc = NULL;
    br_buf_init(&js);
    br_buf_puts(&js, "{");
    if (brp_describe_text(pl, &js)) {
        br_buf_puts(&js, "}");
        doc = json_loadb(js.data, js.len, 0, &jerr);
    }
    br_buf_free(&js);
    return doc;
}
