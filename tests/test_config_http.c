/* http.listen: the default, off, the address forms, and mistakes reported
 * as FILE:LINE: KEY like every other config error; the dump shows it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brtest.h"
#include "burnrate/config.h"

#define INPUTS "inputs:\n  - {name: a, topic: a, dialect: focus}\n"

static br_config_t *load(const char *yaml, char *errstr, size_t size) {
    errstr[0] = '\0';
    return br_config_load_string(yaml, "t.yaml", NULL, errstr, size);
}

static void check_ok(const char *listen, int on, const char *host, int port) {
    char yaml[512], errstr[512];
    snprintf(yaml, sizeof yaml, INPUTS "http:\n  listen: \"%s\"\n", listen);
    br_config_t *conf = load(yaml, errstr, sizeof errstr);
    CHECK(conf != NULL);
    if (!conf) {
        fprintf(stderr, "%s: %s\n", listen, errstr);
        return;
    }
    CHECK_INT(conf->http.on, on);
    CHECK_INT(conf->http.given, 1);
    CHECK_INT(conf->http.line, 4);
    if (on) {
        CHECK_STR(conf->http.host, host);
        CHECK_INT(conf->http.port, port);
    }
    br_config_destroy(conf);
}

static void check_bad(const char *yaml, const char *want) {
    char errstr[512];
    br_config_t *conf = load(yaml, errstr, sizeof errstr);
    CHECK(conf == NULL);
    br_config_destroy(conf);
    const char *at = strstr(errstr, want);
    CHECK(at != NULL);
    if (!at)
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", errstr, want);
}

static void check_dump(const char *yaml, const char *want) {
    char errstr[512], *text = NULL;
    size_t len = 0;
    br_config_t *conf = load(yaml, errstr, sizeof errstr);
    CHECK(conf != NULL);
    if (!conf)
        return;
    FILE *fp = open_memstream(&text, &len);
    br_config_dump(conf, fp);
    fclose(fp);
    const char *at = text ? strstr(text, want) : NULL;
    CHECK(at != NULL);
    if (!at)
        fprintf(stderr, "dump lacks \"%s\":\n%s\n", want, text ? text : "");
    free(text);
    br_config_destroy(conf);
}

int main(void) {
    char errstr[512];
    br_config_t *conf = load(INPUTS, errstr, sizeof errstr);
    CHECK(conf != NULL);
    if (conf) {
        CHECK_INT(conf->http.on, 1);
        CHECK_INT(conf->http.given, 0);
        CHECK_STR(conf->http.host, "127.0.0.1");
        CHECK_INT(conf->http.port, BR_HTTP_DEFAULT_PORT);
        br_config_destroy(conf);
    }
    check_ok("off", 0, NULL, 0);
    check_ok("127.0.0.1:0", 1, "127.0.0.1", 0);
    check_ok("0.0.0.0:9100", 1, "0.0.0.0", 9100);
    check_ok("localhost:65535", 1, "localhost", 65535);
    check_ok("[::1]:8080", 1, "::1", 8080);

    check_bad(INPUTS "http:\n  listen: 127.0.0.1\n", "t.yaml:4: http.listen: \"127.0.0.1\" is not HOST:PORT");
    check_bad(INPUTS "http:\n  listen: \":9000\"\n", "t.yaml:4: http.listen:");
    check_bad(INPUTS "http:\n  listen: \"h:65536\"\n", "t.yaml:4: http.listen:");
    check_bad(INPUTS "http:\n  listen: \"h:-1\"\n", "t.yaml:4: http.listen:");
    check_bad(INPUTS "http:\n  listen: \"h:12x\"\n", "t.yaml:4: http.listen:");
    check_bad(INPUTS "http:\n  listen: \"::1:80\"\n", "t.yaml:4: http.listen:");
    check_bad(INPUTS "http:\n  listen: \"[::1]\"\n", "t.yaml:4: http.listen:");
    check_bad(INPUTS "http:\n  port: 80\n", "t.yaml:4: http.port: unknown key; accepted keys: listen");
    check_bad(INPUTS "http:\n  listen: [a]\n", "t.yaml:4: http.listen: must be a string");

    check_dump(INPUTS, "http:\n  listen: \"127.0.0.1:9477\"\n");
    check_dump(INPUTS "http: {listen: off}\n", "http:\n  listen: \"off\"\n");
    check_dump(INPUTS "http: {listen: \"[::]:0\"}\n", "http:\n  listen: \"[::]:0\"\n");
    return brt_done();
}
