/*
 * Schema lookups by id for avro-confluent inputs: local files first, then
 * the registry over HTTP (only the answer's "schema" member is used); and
 * the registration of the alert schema.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "burnrate/schemasrc.h"

static size_t on_body(char *p, size_t size, size_t n, void *opaque) {
    br_buf_t *b = opaque;
    if (b->len + size * n > ((size_t)16 << 20))
        return 0; /* a schema larger than 16 MB: refuse */
    br_buf_append(b, p, size * n);
    return b->oom ? 0 : size * n;
}

static br_err_t from_dir(const char *dir, uint32_t id, br_buf_t *out,
                         char *errstr, size_t errstr_size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%u.avsc", dir, id);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return br_seterr(errstr, errstr_size,
                         errno == ENOENT ? BR_ERR_NOTFOUND : BR_ERR_IO,
                         "%s: %s", path, strerror(errno));
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        br_buf_append(out, chunk, n);
    int bad = ferror(fp);
    fclose(fp);
    if (bad || out->oom)
        return br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: read error",
                         path);
    return BR_ERR_OK;
}

/* One HTTP exchange with the registry at base URL + path: GET, or POST of
 * a JSON body. The answer's status and body come back; BR_ERR_IO when
 * there is no answer (unreachable, too slow). */
static br_err_t http(const br_avro_conf_t *a, const char *path,
                     const char *post, long *status, br_buf_t *body,
                     char *url, size_t url_size, char *errstr,
                     size_t errstr_size) {
    static int curl_ready;
    char cerr[CURL_ERROR_SIZE] = "";
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
    size_t base = strlen(a->registry);
    while (base > 0 && a->registry[base - 1] == '/')
        base--;
    snprintf(url, url_size, "%.*s%s", (int)base, a->registry, path);
    CURL *c = curl_easy_init();
    if (!c)
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "registry: cannot create an HTTP handle");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)BR_SCHEMASRC_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)BR_SCHEMASRC_TOTAL_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "burnrate/" BR_VERSION);
    struct curl_slist *hdrs = curl_slist_append(
        NULL, "Accept: application/vnd.schemaregistry.v1+json, application/json");
    if (post) {
        hdrs = curl_slist_append(
            hdrs, "Content-Type: application/vnd.schemaregistry.v1+json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (a->registry_username) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, a->registry_username);
        curl_easy_setopt(c, CURLOPT_PASSWORD,
                         a->registry_password ? a->registry_password : "");
    }
    if (a->registry_ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, a->registry_ca_file);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
        return br_seterr(errstr, errstr_size, BR_ERR_IO, "registry %s: %s",
                         url, cerr[0] ? cerr : curl_easy_strerror(rc));
    return BR_ERR_OK;
}

/* The registry's own words on an error answer, if it gave any. */
static const char *registry_message(const br_buf_t *body, char *buf,
                                    size_t size) {
    json_error_t jerr;
    json_t *doc = json_loadb(body->data ? body->data : "", body->len, 0, &jerr);
    const char *m = json_string_value(json_object_get(doc, "message"));
    snprintf(buf, size, "%s%s", m ? ": " : "", m ? m : "");
    json_decref(doc);
    return buf;
}

static br_err_t from_registry(const br_avro_conf_t *a, uint32_t id,
                              br_buf_t *out, char *errstr,
                              size_t errstr_size) {
    char url[2048], path[64], msg[256];
    br_buf_t body;
    long status = 0;
    snprintf(path, sizeof path, "/schemas/ids/%u", id);
    br_buf_init(&body);
    br_err_t err = http(a, path, NULL, &status, &body, url, sizeof url, errstr,
                        errstr_size);
    if (err) {
        /* no answer: retry later */
    } else if (status == 404) {
        err = br_seterr(errstr, errstr_size, BR_ERR_NOTFOUND,
                        "registry %s: unknown schema id (HTTP 404)", url);
    } else if (status != 200) {
        err = br_seterr(errstr, errstr_size, BR_ERR_IO,
                        "registry %s: HTTP %ld%s", url, status,
                        registry_message(&body, msg, sizeof msg));
    } else {
        json_error_t jerr;
        json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, &jerr);
        const char *schema = json_string_value(json_object_get(doc, "schema"));
        if (!schema)
            err = br_seterr(errstr, errstr_size, BR_ERR_IO,
                            "registry %s: the answer has no \"schema\" string",
                            url);
        else
            br_buf_puts(out, schema);
        json_decref(doc);
    }
    br_buf_free(&body);
    return err;
}

br_err_t br_schemasrc_register(const br_avro_conf_t *a, const char *subject,
                               const char *schema_json, uint32_t *id,
                               char *errstr, size_t errstr_size) {
    char url[2048], path[1024], msg[256];
    long status = 0;
    br_buf_t body;
    char *escaped = curl_easy_escape(NULL, subject, 0);
    json_t *req = json_pack("{s:s}", "schema", schema_json);
    char *post = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!escaped || !post) {
        curl_free(escaped);
        free(post);
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    }
    snprintf(path, sizeof path, "/subjects/%s/versions", escaped);
    curl_free(escaped);
    br_buf_init(&body);
    br_err_t err = http(a, path, post, &status, &body, url, sizeof url, errstr,
                        errstr_size);
    free(post);
    if (err) {
        /* no answer: retry later */
    } else if (status == 200) {
        json_error_t jerr;
        json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, &jerr);
        json_t *jid = json_object_get(doc, "id");
        if (!json_is_integer(jid) || json_integer_value(jid) < 0 ||
            json_integer_value(jid) > INT32_MAX)
            err = br_seterr(errstr, errstr_size, BR_ERR_IO,
                            "registry %s: the answer has no schema \"id\"",
                            url);
        else
            *id = (uint32_t)json_integer_value(jid);
        json_decref(doc);
    } else if (status >= 500 || status == 408 || status == 429) {
        err = br_seterr(errstr, errstr_size, BR_ERR_IO,
                        "registry %s: HTTP %ld%s", url, status,
                        registry_message(&body, msg, sizeof msg));
    } else {
        /* 401/403 credentials, 409 incompatible with the subject's
         * earlier versions, 422 not a valid schema: no retry helps. */
        err = br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                        "registry %s refused the alert schema: HTTP %ld%s%s",
                        url, status, registry_message(&body, msg, sizeof msg),
                        status == 409 ? " (incompatible with the subject's "
                                        "earlier versions)"
                                      : "");
    }
    br_buf_free(&body);
    return err;
}

br_err_t br_schemasrc_fetch(void *opaque, const br_input_conf_t *in,
                            uint32_t id, br_buf_t *out, char *errstr,
                            size_t errstr_size) {
    const br_avro_conf_t *a = &in->avro;
    (void)opaque;
    if (a->schema_dir) {
        br_err_t err = from_dir(a->schema_dir, id, out, errstr, errstr_size);
        if (err != BR_ERR_NOTFOUND || !a->registry)
            return err;
        br_buf_reset(out);
    }
    if (!a->registry)
        return br_seterr(errstr, errstr_size, BR_ERR_NOTFOUND,
                         "no schema source for id %u", id);
    return from_registry(a, id, out, errstr, errstr_size);
}

/* ---- lookups on a worker thread --------------------------------------- */

/* IDLE: no lookup running (the last one failed, or none yet). */
typedef enum { LK_IDLE, LK_QUEUED, LK_RUNNING, LK_DONE } lk_state_t;

typedef struct lookup {
    const br_input_conf_t *in;  /* borrowed from the config */
    uint32_t id;
    lk_state_t state;
    br_err_t err;
    br_buf_t text;
    char why[512];
    char last_fail[512];        /* why the previous lookup failed, or "" */
} lookup_t;

struct br_schemasrc_async {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t thread;
    lookup_t *lk;
    size_t cnt, cap;
    bool stop;
};

static void *worker(void *arg) {
    br_schemasrc_async_t *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        lookup_t *next = NULL;
        for (size_t i = 0; i < a->cnt && !next; i++)
            if (a->lk[i].state == LK_QUEUED)
                next = &a->lk[i];
        if (a->stop)
            break;
        if (!next) {
            pthread_cond_wait(&a->work, &a->mu);
            continue;
        }
        next->state = LK_RUNNING;
        const br_input_conf_t *in = next->in;
        uint32_t id = next->id;
        pthread_mutex_unlock(&a->mu);
        br_buf_t text;
        char why[512] = "";
        br_buf_init(&text);
        br_err_t err = br_schemasrc_fetch(NULL, in, id, &text, why, sizeof why);
        pthread_mutex_lock(&a->mu);
        /* The table may have moved while unlocked: find the entry again. */
        for (size_t i = 0; i < a->cnt; i++)
            if (a->lk[i].in == in && a->lk[i].id == id &&
                a->lk[i].state == LK_RUNNING) {
                lookup_t *l = &a->lk[i];
                l->state = LK_DONE;
                l->err = err;
                l->text = text;
                br_buf_init(&text);
                snprintf(l->why, sizeof l->why, "%s", why);
            }
        br_buf_free(&text);
        pthread_cond_broadcast(&a->done);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

br_schemasrc_async_t *br_schemasrc_async_new(char *errstr, size_t errstr_size) {
    br_schemasrc_async_t *a = calloc(1, sizeof *a);
    if (!a) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->work, NULL);
    pthread_cond_init(&a->done, NULL);
    int rc = pthread_create(&a->thread, NULL, worker, a);
    if (rc != 0) {
        br_seterr(errstr, errstr_size, BR_ERR_IO,
                  "cannot start the schema lookup thread: %s", strerror(rc));
        pthread_cond_destroy(&a->done);
        pthread_cond_destroy(&a->work);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return NULL;
    }
    return a;
}

void br_schemasrc_async_free(br_schemasrc_async_t *a) {
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->work);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    for (size_t i = 0; i < a->cnt; i++)
        br_buf_free(&a->lk[i].text);
    free(a->lk);
    pthread_cond_destroy(&a->done);
    pthread_cond_destroy(&a->work);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static lookup_t *lookup_find(br_schemasrc_async_t *a,
                             const br_input_conf_t *in, uint32_t id) {
    for (size_t i = 0; i < a->cnt; i++)
        if (a->lk[i].in == in && a->lk[i].id == id)
            return &a->lk[i];
    return NULL;
}

br_err_t br_schemasrc_async_fetch(void *opaque, const br_input_conf_t *in,
                                  uint32_t id, br_buf_t *out, char *errstr,
                                  size_t errstr_size) {
    br_schemasrc_async_t *a = opaque;
    br_err_t err;
    pthread_mutex_lock(&a->mu);
    lookup_t *l = lookup_find(a, in, id);
    if (!l) {
        if (a->cnt == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 8;
            lookup_t *nl = realloc(a->lk, cap * sizeof *nl);
            if (!nl) {
                pthread_mutex_unlock(&a->mu);
                return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                                 "out of memory");
            }
            a->lk = nl;
            a->cap = cap;
        }
        l = &a->lk[a->cnt++];
        memset(l, 0, sizeof *l);
        l->in = in;
        l->id = id;
        l->state = LK_IDLE;
        br_buf_init(&l->text);
    }
    if (l->state == LK_DONE && l->err == BR_ERR_IO) {
        /* The last lookup got no answer: this retry asks again. */
        snprintf(l->last_fail, sizeof l->last_fail, "%s", l->why);
        br_buf_reset(&l->text);
        l->state = LK_IDLE;
    }
    if (l->state == LK_IDLE) {
        l->state = LK_QUEUED;
        pthread_cond_signal(&a->work);
        /* A healthy registry answers within the wait. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)BR_SCHEMASRC_WAIT_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while ((l = lookup_find(a, in, id)) && l->state != LK_DONE &&
               pthread_cond_timedwait(&a->done, &a->mu, &until) == 0)
            ;
        l = lookup_find(a, in, id);
    }
    if (!l || l->state != LK_DONE) {
        err = br_seterr(errstr, errstr_size, BR_ERR_IO,
                        "schema id %u: lookup in progress%s%s", id,
                        l && l->last_fail[0] ? "; the last one failed: " : "",
                        l ? l->last_fail : "");
        pthread_mutex_unlock(&a->mu);
        return err;
    }
    err = l->err;
    if (err == BR_ERR_IO) {
        /* Not answered within the wait: the next call asks again. */
        snprintf(l->last_fail, sizeof l->last_fail, "%s", l->why);
        br_buf_reset(&l->text);
        l->state = LK_IDLE;
        br_seterr(errstr, errstr_size, err, "%s", l->why);
        pthread_mutex_unlock(&a->mu);
        return err;
    }
    /* Answered: hand it over and forget it (the pipeline caches answers). */
    if (err == BR_ERR_OK)
        br_buf_append(out, l->text.data ? l->text.data : "", l->text.len);
    else
        br_seterr(errstr, errstr_size, err, "%s", l->why);
    br_buf_free(&l->text);
    *l = a->lk[--a->cnt];
    pthread_mutex_unlock(&a->mu);
    return err;
}
