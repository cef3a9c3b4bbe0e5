/*
 * Schema lookups by id for avro-confluent inputs: local files first, then
 * the registry over HTTP. Only the answer's "schema" member is used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static br_err_t from_registry(const br_avro_conf_t *a, uint32_t id,
                              br_buf_t *out, char *errstr,
                              size_t errstr_size) {
    static int curl_ready;
    char url[2048], cerr[CURL_ERROR_SIZE] = "";
    br_buf_t body;
    long status = 0;
    br_err_t err = BR_ERR_OK;

    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
    size_t base = strlen(a->registry);
    while (base > 0 && a->registry[base - 1] == '/')
        base--;
    snprintf(url, sizeof url, "%.*s/schemas/ids/%u", (int)base, a->registry,
             id);
    CURL *c = curl_easy_init();
    if (!c)
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "registry: cannot create an HTTP handle");
    br_buf_init(&body);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)BR_SCHEMASRC_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)BR_SCHEMASRC_TOTAL_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "burnrate/" BR_VERSION);
    struct curl_slist *hdrs =
        curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json, application/json");
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
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        err = br_seterr(errstr, errstr_size, BR_ERR_IO, "registry %s: %s",
                        url, cerr[0] ? cerr : curl_easy_strerror(rc));
    } else if (status == 404) {
        err = br_seterr(errstr, errstr_size, BR_ERR_NOTFOUND,
                        "registry %s: unknown schema id (HTTP 404)", url);
    } else if (status != 200) {
        err = br_seterr(errstr, errstr_size, BR_ERR_IO,
                        "registry %s: HTTP %ld", url, status);
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
