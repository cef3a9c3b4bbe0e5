/* Log rendering: a JSON line keeps every key of the logfmt line with its
 * decoded value, escapes what JSON needs, survives invalid UTF-8 and
 * truncation; secrets and URL credentials are recognised. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "brtest.h"
#include "burnrate/log.h"
#include "burnrate/redact.h"

#define TS "2025-03-03T01:02:03.004Z"

static json_t *render_json(const char *msg, const char *kv, size_t size) {
    char buf[8192];
    json_error_t jerr;
    size_t n = br_log_render(BR_LOG_FORMAT_JSON, TS, BR_LOG_WARN, msg, kv, buf,
                             size < sizeof buf ? size : sizeof buf);
    CHECK(n > 0 && buf[n - 1] == '\n');
    CHECK(memchr(buf, '\n', n - 1) == NULL);    /* one line */
    json_t *doc = json_loadb(buf, n, 0, &jerr);
    if (!doc)
        fprintf(stderr, "not JSON (%s): %s", jerr.text, buf);
    return doc;
}

static const char *get(json_t *doc, const char *key) {
    return json_string_value(json_object_get(doc, key));
}

static void test_json_keys(void) {
    char q1[128], q2[128], q3[64];
    char kv[512];

    /* Built the way callers build it: values through br_log_quote(). */
    snprintf(kv, sizeof kv, "where=%s[%d]@%d reason=%s detail=%s empty=%s n=42",
             br_log_quote(q1, sizeof q1, "llm.usage"), 3, 17, "parse",
             br_log_quote(q2, sizeof q2, "bad \"cost\" \\ here\n\tnext\x01"),
             br_log_quote(q3, sizeof q3, ""));
    json_t *doc = render_json("dead letter \"x\"", kv, 8192);
    CHECK(doc != NULL);
    if (!doc)
        return;
    CHECK_STR(get(doc, "ts"), TS);
    CHECK_STR(get(doc, "level"), "warn");
    CHECK_STR(get(doc, "msg"), "dead letter \"x\"");
    CHECK_STR(get(doc, "where"), "llm.usage[3]@17");
    CHECK_STR(get(doc, "reason"), "parse");
    CHECK_STR(get(doc, "detail"), "bad \"cost\" \\ here\n\tnext\x01");
    CHECK_STR(get(doc, "empty"), "");
    CHECK_STR(get(doc, "n"), "42");
    CHECK_INT(json_object_size(doc), 8);
    /* In the order of the logfmt line. */
    const char *order[] = {"ts", "level", "msg", "where", "reason", "detail",
                           "empty", "n"};
    size_t i = 0;
    for (void *it = json_object_iter(doc); it && i < 8;
         it = json_object_iter_next(doc, it), i++)
        CHECK_STR(json_object_iter_key(it), order[i]);
    json_decref(doc);

    /* The same line as logfmt keeps the text as given. */
    char buf[1024];
    br_log_render(BR_LOG_FORMAT_LOGFMT, TS, BR_LOG_INFO, "stats", "a=1 b=\"x y\"",
                  buf, sizeof buf);
    CHECK_STR(buf, "ts=" TS " level=info msg=stats a=1 b=\"x y\"\n");
}

static void test_json_odd_input(void) {
    /* A key without a value, a stray blank, invalid UTF-8, valid UTF-8. */
    json_t *doc = render_json("m", "flag  k=\xff\xfe v=caf\xc3\xa9 =x", 8192);
    CHECK(doc != NULL);
    if (!doc)
        return;
    CHECK_STR(get(doc, "flag"), "");
    CHECK_STR(get(doc, "k"), "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK_STR(get(doc, "v"), "caf\xc3\xa9");
    CHECK_STR(get(doc, "_"), "x");
    json_decref(doc);

    /* Cut short: still one valid object. */
    char kv[2048];
    memset(kv, 0, sizeof kv);
    strcpy(kv, "long=\"");
    memset(kv + 6, '"', 600);
    doc = render_json("m", kv, 200);
    CHECK(doc != NULL);
    json_decref(doc);
    doc = render_json("m", "a=1 b=2 c=3", 60);
    CHECK(doc != NULL);
    json_decref(doc);
}

static void test_redact(void) {
    char buf[256];
    CHECK(br_redact_is_secret("sasl.password"));
    CHECK(br_redact_is_secret("sasl.oauthbearer.client.secret"));
    CHECK(br_redact_is_secret("ssl.key.password"));
    CHECK(br_redact_is_secret("registry_password"));
    CHECK(br_redact_is_secret("sasl.oauthbearer.config"));
    CHECK(br_redact_is_secret("sasl.jaas.config"));
    CHECK(!br_redact_is_secret("sasl.username"));
    CHECK(!br_redact_is_secret("bootstrap.servers"));
    CHECK_STR(br_redact_urls(buf, sizeof buf,
                             "registry https://bob:s3cr3t@reg:8081/x: HTTP 401 "
                             "and http://h/y@z and ftp://only-user@h"),
              "registry https://[redacted]@reg:8081/x: HTTP 401 and http://h/y@z "
              "and ftp://[redacted]@h");
    CHECK(br_redact_has_userinfo("http://a:b@c"));
    CHECK(!br_redact_has_userinfo("http://c/a@b"));
    CHECK_STR(br_redact_urls(buf, 12, "https://u:p@h"), "https://[re");
}

int main(void) {
    test_json_keys();
    test_json_odd_input();
    test_redact();
    return brt_done();
}
