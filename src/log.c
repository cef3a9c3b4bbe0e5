/*
 * Logfmt lines on stderr for the daemon layer, a per-key token bucket so bad
 * input cannot flood the log, and the readable alert line. The only module
 * besides daemon/replay/kafka that reads clocks.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "burnrate/log.h"
#include "burnrate/money.h"
#include "burnrate/ts.h"

static volatile int log_level = BR_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void br_log_set_level(br_log_level_t level) {
    log_level = (int)level;
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

void br_log(br_log_level_t level, const char *msg, const char *kvfmt, ...) {
    char line[4096];
    char qmsg[1024];
    char ts[40];
    size_t n;
    int rc;

    if (!br_log_enabled(level))
        return;
    br_ts_format(br_log_wall_ms(), ts, sizeof ts);
    /* Always three decimals, so that lines align and sort. */
    if (strlen(ts) == 20) {
        ts[19] = '\0';
        strcat(ts, ".000Z");
    }
    rc = snprintf(line, sizeof line, "ts=%s level=%s msg=%s", ts,
                  br_log_level_name(level),
                  br_log_quote(qmsg, sizeof qmsg, msg));
    n = rc < 0 ? 0 : (size_t)rc < sizeof line ? (size_t)rc : sizeof line - 1;
    if (kvfmt && *kvfmt && n + 2 < sizeof line) {
        va_list ap;
        line[n++] = ' ';
        va_start(ap, kvfmt);
        rc = vsnprintf(line + n, sizeof line - n, kvfmt, ap);
        va_end(ap);
        if (rc > 0)
            n += (size_t)rc < sizeof line - n ? (size_t)rc : sizeof line - n - 1;
    }
    if (n + 1 >= sizeof line)
        n = sizeof line - 2;
    line[n++] = '\n';
    /* One fwrite: stdio locks the stream, so threads never interleave. */
    fwrite(line, 1, n, stderr);
    fflush(stderr);
}

bool br_log_is_secret(const char *key) {
    static const char *const words[] = {"password", "secret", "token", "key"};
    char lower[256];
    size_t i;

    if (!key)
        return false;
    for (i = 0; key[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)key[i]);
    lower[i] = '\0';
    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strstr(lower, words[i]))
            return true;
    }
    return false;
}

const char *br_log_redact(const char *key, const char *value) {
    return br_log_is_secret(key) ? "[redacted]" : value;
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
static void put_money(br_buf_t *out, int64_t nanos, bool sign) {
    int64_t cents = br_muldiv_round(nanos, 1, 10000000);
    uint64_t mag = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;

    br_buf_printf(out, "%s%" PRIu64 ".%02" PRIu64,
                  cents < 0 ? "-" : sign ? "+" : "", mag / 100, mag % 100);
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
                          (double)alert->observed_nanos / (double)alert->expected_nanos);
        br_buf_puts(out, ")");
        break;
    }
    br_buf_printf(out, "  [%s r%" PRIu32 "]\n", alert->id, alert->revision);
    br_buf_printf(out, "         %s\n", alert->summary);
}
