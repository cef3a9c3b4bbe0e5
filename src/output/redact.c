/*
 * Secret detection and URL credential scrubbing shared by the config dump
 * and the log, so that what one hides the other hides too.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "burnrate/redact.h"

bool br_redact_is_secret(const char *key) {
    static const char *const words[] = {"password", "secret", "token", "key",
                                        "credential", "jaas",
                                        "sasl.oauthbearer.config"};
    size_t len;

    if (!key)
        return false;
    len = strlen(key);
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= len; i++)
            if (strncasecmp(key + i, words[w], wl) == 0)
                return true;
    }
    return false;
}

/* At p (just after "://"): the length of a user-info part ending in '@'
 * before the host, or 0. */
static size_t userinfo_len(const char *p) {
    size_t n = strcspn(p, "@/?# \t\"'\n");
    return p[n] == '@' && n > 0 ? n : 0;
}

static bool scheme_before(const char *s, const char *colon) {
    return colon > s && (isalnum((unsigned char)colon[-1]) || colon[-1] == '+' ||
                         colon[-1] == '-' || colon[-1] == '.');
}

const char *br_redact_urls(char *buf, size_t size, const char *s) {
    size_t n = 0;

    if (!size)
        return buf;
    if (!s)
        s = "";
    for (const char *p = s; *p;) {
        size_t ui;
        if (p[0] == ':' && p[1] == '/' && p[2] == '/' && scheme_before(s, p) &&
            (ui = userinfo_len(p + 3)) > 0) {
            const char *r = "://" BR_REDACTED;
            for (; *r && n + 1 < size; r++)
                buf[n++] = *r;
            p += 3 + ui;
            continue;
        }
        if (n + 1 < size)
            buf[n++] = *p;
        p++;
    }
    buf[n] = '\0';
    return buf;
}

bool br_redact_has_userinfo(const char *s) {
    for (const char *p = s ? strstr(s, "://") : NULL; p; p = strstr(p + 3, "://"))
        if (scheme_before(s, p) && userinfo_len(p + 3))
            return true;
    return false;
}

/* Remembered values: add-only, read by the log from librdkafka's threads. */
static pthread_mutex_t values_mu = PTHREAD_MUTEX_INITIALIZER;
static char **values;
static size_t value_cnt;

void br_redact_add_values(const char *const *v, size_t cnt) {
    pthread_mutex_lock(&values_mu);
    for (size_t i = 0; i < cnt; i++) {
        size_t j;
        if (!v[i] || strlen(v[i]) < BR_REDACT_VALUE_MIN)
            continue;
        for (j = 0; j < value_cnt; j++)
            if (strcmp(values[j], v[i]) == 0)
                break;
        if (j < value_cnt)
            continue;
        char **g = realloc(values, (value_cnt + 1) * sizeof *g);
        char *copy = strdup(v[i]);
        if (g)
            values = g;
        if (!g || !copy) {
            free(copy);
            break;
        }
        values[value_cnt++] = copy;
    }
    pthread_mutex_unlock(&values_mu);
}

const char *br_redact_values(char *buf, size_t size, const char *s) {
    size_t n = 0, rl = strlen(BR_REDACTED);

    if (!size)
        return buf;
    if (!s)
        s = "";
    pthread_mutex_lock(&values_mu);
    for (const char *p = s; *p;) {
        size_t hit = 0;
        for (size_t i = 0; i < value_cnt && !hit; i++) {
            size_t vl = strlen(values[i]);
            if (strncmp(p, values[i], vl) == 0)
                hit = vl;
        }
        if (hit) {
            for (size_t i = 0; i < rl && n + 1 < size; i++)
                buf[n++] = BR_REDACTED[i];
            p += hit;
            continue;
        }
        if (n + 1 < size)
            buf[n++] = *p;
        p++;
    }
    pthread_mutex_unlock(&values_mu);
    buf[n] = '\0';
    return buf;
}
