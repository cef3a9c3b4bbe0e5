/*
 * Logfmt lines on stderr for the daemon layer, a per-key token bucket so bad
 * input cannot flood the log, and the readable alert line. The only module
 * besides daemon/replay/kafka that reads clocks.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "burnrate/log.h"
#include "burnrate/money.h"
#include "burnrate/redact.h"
#include "burnrate/ts.h"

static volatile int log_level = BR_LOG_INFO;
static volatile int log_format = BR_LOG_FORMAT_LOGFMT;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void br_log_set_level(br_log_level_t level) {
    log_level = (int)level;
}

void br_log_set_format(br_log_format_t format) {
    log_format = (int)format;
}

br_log_format_t br_log_get_format(void) {
    return (br_log_format_t)log_format;
}

br_err_t br_log_format_parse(const char *name, br_log_format_t *out) {
    if (strcasecmp(name, "logfmt") == 0)
        *out = BR_LOG_FORMAT_LOGFMT;
    else if (strcasecmp(name, "json") == 0)
        *out = BR_LOG_FORMAT_JSON;
    else
        return BR_ERR_INVAL;
    return BR_ERR_OK;
}

bool br_log_enabled(br_log_level_t level) {
    return (int)level <= log_level;
}

const char *br_log_level_name(br_log_level_t level) {
    return (unsigned)level <= BR_LOG_DEBUG ? level_names[level] : "unknown";
}

br_err_t br_log_level_parse(const char *name, br_log_level_t *out) {
    for (int i = 0; i <= BR_LOG_DEBUG; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (br_log_level_t)i;
            return BR_ERR_OK;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = BR_LOG_WARN;
        return BR_ERR_OK;
    }
    return BR_ERR_INVAL;
}

int64_t br_log_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t br_log_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool needs_quotes(const char *s) {
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return true;
    }
    return false;
}

const char *br_log_quote(char *buf, size_t size, const char *s) {
    size_t n = 0;

    if (!size)
        return buf;
    if (!s)
        s = "";
    if (!needs_quotes(s)) {
        snprintf(buf, size, "%s", s);
        return buf;
    }
#define PUT(c) do { if (n + 1 < size) buf[n++] = (char)(c); } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT(*p);
        } else if (*p == '\n') {
            PUT('\\');
            PUT('n');
        } else if (*p == '\t') {
            PUT('\\');
            PUT('t');
        } else if (*p < 0x20 || *p == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            PUT('\\');
            PUT('x');
            PUT(hex[*p >> 4]);
            PUT(hex[*p & 15]);
        } else {
            PUT(*p);
        }
    }
    /* Keep the closing quote even when the value was cut short. */
    if (n + 1 >= size)
        n = size >= 2 ? size - 2 : 0;
    buf[n++] = '"';
    buf[n] = '\0';
#undef PUT
    return buf;
}

/* Output being built: bytes past the end are dropped, the NUL kept. */
typedef struct out {
    char *buf;
    size_t size, n;
    bool full;                   /* a byte was dropped */
} out_t;

static void put(out_t *o, char c) {
    if (o->n + 1 < o->size)
        o->buf[o->n++] = c;
    else
        o->full = true;
}

static void puts_(out_t *o, const char *s) {
    while (*s)
        put(o, *s++);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
    size_t len;
    unsigned cp;
    if (*p < 0x80)
        return 1;
    if ((*p & 0xe0) == 0xc0)
        len = 2, cp = *p & 0x1f;
    else if ((*p & 0xf0) == 0xe0)
        len = 3, cp = *p & 0x0f;
    else if ((*p & 0xf8) == 0xf0)
        len = 4, cp = *p & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* s[0..len) as a JSON string: quotes, backslashes and control bytes
 * escaped, invalid UTF-8 as U+FFFD. */
static void put_json_str(out_t *o, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    put(o, '"');
    while (p < end) {
        size_t l;
        if (*p == '"' || *p == '\\') {
            put(o, '\\');
            put(o, (char)*p++);
        } else if (*p == '\n') {
            puts_(o, "\\n"), p++;
        } else if (*p == '\t') {
            puts_(o, "\\t"), p++;
        } else if (*p == '\r') {
            puts_(o, "\\r"), p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            puts_(o, "\\u00");
            put(o, hex[*p >> 4]);
            put(o, hex[*p & 15]);
            p++;
        } else if ((l = utf8_len(p, end)) == 0) {
            puts_(o, "\\ufffd");
            p++;
        } else {
            while (l--)
                put(o, (char)*p++);
        }
    }
    put(o, '"');
}

/* One logfmt value at *pp (bare, or quoted with br_log_quote()'s escapes)
 * decoded into val. */
static size_t take_value(const char **pp, char *val, size_t size) {
    const char *p = *pp;
    size_t n = 0;
#define VPUT(c) do { if (n + 1 < size) val[n++] = (char)(c); } while (0)
    if (*p != '"') {
        while (*p && *p != ' ')
            VPUT(*p++);
    } else {
        for (p++; *p && *p != '"'; p++) {
            if (*p != '\\' || !p[1]) {
                VPUT(*p);
                continue;
            }
            p++;
            if (*p == 'n')
                VPUT('\n');
            else if (*p == 't')
                VPUT('\t');
            else if (*p == 'x' && isxdigit((unsigned char)p[1]) &&
                     isxdigit((unsigned char)p[2])) {
                char h[3] = {p[1], p[2], 0};
                VPUT(strtol(h, NULL, 16));
                p += 2;
            } else
                VPUT(*p);
        }
        if (*p == '"')
            p++;
    }
#undef VPUT
    val[n] = '\0';
    *pp = p;
    return n;
}

size_t br_log_render(br_log_format_t format, const char *ts,
                     br_log_level_t level, const char *msg, const char *kv,
                     char *buf, size_t size) {
    /* Room is kept for the closing "}\n" and the NUL. */
    out_t o = {buf, size > 3 ? size - 2 : 1, 0, false};
    char val[4096];

    if (!size)
        return 0;
    if (format != BR_LOG_FORMAT_JSON) {
        char qmsg[1024];
        int rc = snprintf(buf, size, "ts=%s level=%s msg=%s%s%s", ts,
                          br_log_level_name(level),
                          br_log_quote(qmsg, sizeof qmsg, msg),
                          kv && *kv ? " " : "", kv ? kv : "");
        o.n = rc < 0 ? 0 : (size_t)rc < size ? (size_t)rc : size - 1;
    } else {
        puts_(&o, "{\"ts\":");
        put_json_str(&o, ts, strlen(ts));
        puts_(&o, ",\"level\":");
        put_json_str(&o, br_log_level_name(level), strlen(br_log_level_name(level)));
        puts_(&o, ",\"msg\":");
        size_t mark = o.n, mlen = strlen(msg);
        put_json_str(&o, msg, mlen);
        /* A message too long for the line is cut, its quote kept. */
        while (o.full && mlen > 0) {
            o.n = mark;
            o.full = false;
            mlen = mlen > 64 ? mlen - 64 : 0;
            put_json_str(&o, msg, mlen);
        }
        /* Every key=value of the logfmt tail, in order, as strings. */
        for (const char *p = kv ? kv : ""; *p;) {
            const char *key;
            size_t klen;
            while (*p == ' ')
                p++;
            if (!*p)
                break;
            key = p;
            klen = strcspn(p, "= ");
            p += klen;
            mark = o.n;
            put(&o, ',');
            put_json_str(&o, klen ? key : "_", klen ? klen : 1);
            put(&o, ':');
            if (*p == '=') {
                p++;
                size_t vlen = take_value(&p, val, sizeof val);
                put_json_str(&o, val, vlen);
            } else {
                puts_(&o, "\"\"");
            }
            if (o.full) {
                o.n = mark; /* a member that does not fit is left out whole */
                break;
            }
        }
        buf[o.n++] = '}';
    }
    if (o.n + 1 >= size)
        o.n = size >= 2 ? size - 2 : 0;
    buf[o.n++] = '\n';
    buf[o.n] = '\0';
    return o.n;
}

void br_log(br_log_level_t level, const char *msg, const char *kvfmt, ...) {
    char tail[4096], clean[4200], cmsg[1100], line[8192];
    char vtail[4300], vmsg[1200];
    char ts[40];
    size_t n;

    if (!br_log_enabled(level))
        return;
    br_ts_format(br_log_wall_ms(), ts, sizeof ts);
    /* Always three decimals, so that lines align and sort. */
    if (strlen(ts) == 20) {
        ts[19] = '\0';
        strcat(ts, ".000Z");
    }
    tail[0] = '\0';
    if (kvfmt && *kvfmt) {
        va_list ap;
        va_start(ap, kvfmt);
        vsnprintf(tail, sizeof tail, kvfmt, ap);
        va_end(ap);
    }
    /* Whatever a caller passed (an error echoing a registry URL, a
     * librdkafka line), credentials in URLs never reach the log. */
    /* Nor does any value a ${...} of the config stood for. */
    br_redact_urls(cmsg, sizeof cmsg, msg);
    br_redact_urls(clean, sizeof clean, tail);
    n = br_log_render((br_log_format_t)log_format, ts, level,
                      br_redact_values(vmsg, sizeof vmsg, cmsg),
                      br_redact_values(vtail, sizeof vtail, clean), line,
                      sizeof line);
    /* One fwrite: stdio locks the stream, so threads never interleave. */
    fwrite(line, 1, n, stderr);
    fflush(stderr);
}

bool br_log_is_secret(const char *key) {
    return br_redact_is_secret(key);
}

const char *br_log_redact(const char *key, const char *value) {
    return br_log_is_secret(key) ? BR_REDACTED : value;
}

void br_ratelimit_init(br_ratelimit_t *rl, int burst, int64_t period_ms) {
    memset(rl, 0, sizeof *rl);
    rl->burst = burst > 0 ? burst : 1;
    rl->period_ms = period_ms > 0 ? period_ms : 1;
}

static void refill(br_ratelimit_t *rl, size_t i, int64_t now_ms) {
    int64_t dt = now_ms - rl->slot[i].last_ms;

    if (dt <= 0)
        return;
    rl->slot[i].tokens += (double)dt * rl->burst / (double)rl->period_ms;
    if (rl->slot[i].tokens > rl->burst)
        rl->slot[i].tokens = rl->burst;
    rl->slot[i].last_ms = now_ms;
}

bool br_ratelimit_allow(br_ratelimit_t *rl, const char *key, int64_t now_ms,
                        uint64_t *suppressed_cnt) {
    size_t i;

    *suppressed_cnt = 0;
    for (i = 0; i < rl->slot_cnt; i++) {
        if (strncmp(rl->slot[i].key, key, BR_RATELIMIT_KEY_MAX - 1) == 0)
            break;
    }
    if (i == rl->slot_cnt) {
        if (rl->slot_cnt < BR_RATELIMIT_KEYS) {
            rl->slot_cnt++;
        } else {
            /* Full: reuse the slot that has been quiet longest. */
            i = 0;
            for (size_t j = 1; j < rl->slot_cnt; j++) {
                if (rl->slot[j].last_ms < rl->slot[i].last_ms)
                    i = j;
            }
        }
        snprintf(rl->slot[i].key, sizeof rl->slot[i].key, "%s", key);
        rl->slot[i].tokens = rl->burst;
        rl->slot[i].last_ms = now_ms;
        rl->slot[i].suppressed_cnt = 0;
    }
    refill(rl, i, now_ms);
    if (rl->slot[i].tokens >= 1.0) {
        rl->slot[i].tokens -= 1.0;
        *suppressed_cnt = rl->slot[i].suppressed_cnt;
        rl->slot[i].suppressed_cnt = 0;
        return true;
    }
    rl->slot[i].suppressed_cnt++;
    return false;
}

static void log_suppressed(const char *key, uint64_t cnt) {
    br_log(BR_LOG_WARN, "more lines suppressed by the rate limit",
           "what=%s suppressed=%" PRIu64, key, cnt);
}

bool br_log_limited(br_ratelimit_t *rl, const char *key) {
    uint64_t suppressed;
    bool ok = br_ratelimit_allow(rl, key, br_log_mono_ms(), &suppressed);

    if (ok && suppressed)
        log_suppressed(key, suppressed);
    return ok;
}

void br_ratelimit_flush(br_ratelimit_t *rl, int64_t now_ms) {
    for (size_t i = 0; i < rl->slot_cnt; i++) {
        if (!rl->slot[i].suppressed_cnt)
            continue;
        refill(rl, i, now_ms);
        if (rl->slot[i].tokens < 1.0)
            continue;
        rl->slot[i].tokens -= 1.0;
        log_suppressed(rl->slot[i].key, rl->slot[i].suppressed_cnt);
        rl->slot[i].suppressed_cnt = 0;
    }
}

/* Money rounded to cents for reading; the JSON keeps the exact value. */
static void put_money(br_buf_t *out, br_money_t nanos, bool sign) {
    br_money_t cents = br_money_round_to(nanos, 10000000);
    char tmp[BR_MONEY_STR_MAX];

    br_money_format(cents, tmp, sizeof tmp); /* two decimals exactly */
    br_buf_printf(out, "%s%s", cents >= 0 && sign ? "+" : "", tmp);
}

static void put_window(br_buf_t *out, int64_t start_ms, int64_t end_ms) {
    int64_t y;
    unsigned mo, d;
    int64_t day = br_floordiv(start_ms, 86400000);
    int64_t in_day = start_ms - day * 86400000;
    int64_t len = end_ms - start_ms;

    br_civil_from_days(day, &y, &mo, &d);
    br_buf_printf(out, "%04" PRId64 "-%02u-%02u %02d:%02dZ", y, mo, d,
                  (int)(in_day / 3600000), (int)(in_day / 60000 % 60));
    if (len <= 0)
        return;
    if (len % 86400000 == 0)
        br_buf_printf(out, "+%" PRId64 "d", len / 86400000);
    else if (len % 3600000 == 0)
        br_buf_printf(out, "+%" PRId64 "h", len / 3600000);
    else if (len % 60000 == 0)
        br_buf_printf(out, "+%" PRId64 "m", len / 60000);
    else
        br_buf_printf(out, "+%" PRId64 "s", len / 1000);
}

void br_alert_format_line(const br_alert_t *alert, br_buf_t *out) {
    char status[16];
    size_t mark;

    snprintf(status, sizeof status, "%s", br_alert_status_name(alert->status));
    for (char *p = status; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    br_buf_printf(out, "%-8s %-16s ", status, br_alert_type_name(alert->type));
    mark = out->len;
    if (alert->budget)
        br_buf_printf(out, "budget=%s", alert->budget);
    for (size_t i = 0; i < alert->label_cnt; i++) {
        br_buf_printf(out, "%s%s=%s", out->len > mark ? " " : "",
                      alert->labels[i].key, alert->labels[i].value);
    }
    if (out->len == mark && alert->detail)
        br_buf_printf(out, "model=%s", alert->detail);
    else if (out->len == mark)
        br_buf_puts(out, alert->scope ? alert->scope : "total");
    br_buf_puts(out, "  ");
    put_window(out, alert->window_start_ms, alert->window_end_ms);
    br_buf_puts(out, "  ");
    switch (alert->type) {
    case BR_ALERT_BUDGET_THRESHOLD:
        br_buf_puts(out, "spent ");
        put_money(out, alert->spent_nanos, false);
        br_buf_printf(out, " %s of ", alert->currency);
        put_money(out, alert->budget_nanos, false);
        br_buf_printf(out, " (threshold %d%%", (int)(alert->threshold_bp / 100));
        if (alert->forecast_nanos >= 0) {
            br_buf_puts(out, ", forecast ");
            put_money(out, alert->forecast_nanos, false);
        }
        br_buf_puts(out, ")");
        break;
    case BR_ALERT_UNPRICED_MODEL:
        br_buf_printf(out, "model %s has no price", alert->detail ? alert->detail : "?");
        break;
    case BR_ALERT_SERIES_CAP:
        br_buf_printf(out, "scope %s at its series cap (%s)",
                      alert->scope ? alert->scope : "?",
                      alert->detail ? alert->detail : "?");
        break;
    default:
        br_buf_puts(out, "observed ");
        put_money(out, alert->observed_nanos, false);
        br_buf_printf(out, " %s vs expected ", alert->currency);
        put_money(out, alert->expected_nanos, false);
        br_buf_puts(out, " (");
        put_money(out, alert->impact_nanos, true);
        if (alert->expected_nanos > 0)
            br_buf_printf(out, ", x%.1f",
                          br_money_to_double(alert->observed_nanos) /
                              br_money_to_double(alert->expected_nanos));
        br_buf_puts(out, ")");
        break;
    }
    br_buf_printf(out, "  [%s r%" PRIu32 "]\n", alert->id, alert->revision);
    br_buf_printf(out, "         %s\n", alert->summary);
}
