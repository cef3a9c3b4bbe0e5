/*
 * Timestamps: RFC 3339 and its everyday relatives, epoch numbers of any
 * unit, and times relative to a given now, into int64 ms UTC. Strict field ranges, because a month 13 that
 * silently rolls over would put spend into the wrong budget period.
 */
#include <math.h>
#include <stdio.h>

#include "burnrate/ts.h"

#define MS_PER_DAY INT64_C(86400000)
/* Accepted instants: years 0000 through 9999. */
#define TS_MIN_MS (INT64_C(-719528) * MS_PER_DAY)       /* 0000-01-01 */
#define TS_END_MS (INT64_C(2932897) * MS_PER_DAY)       /* 10000-01-01 */

/* Howard Hinnant's civil-from/to-days algorithms
 * (http://howardhinnant.github.io/date_algorithms.html). */
int64_t br_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? (int64_t)m - 3 : (int64_t)m + 9) + 2) / 5
                  + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void br_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    unsigned dd = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned mm = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (mm <= 2);
    *m = mm;
    *d = dd;
}

static unsigned days_in_month(int64_t y, unsigned m) {
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 29;
    return dim[m - 1];
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Read exactly n digits at *p (bounded by end) into *out. */
static int read_digits(const char **p, const char *end, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !is_digit(**p)) return 0;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 1;
}

/* Epoch integer of unknown unit to ms, flooring sub-ms units. */
static br_err_t epoch_int(int64_t v, int64_t *out_ms) {
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t ms;
    if (mag < UINT64_C(100000000000)) ms = v * 1000;
    else if (mag < UINT64_C(100000000000000)) ms = v;
    else if (mag < UINT64_C(100000000000000000)) ms = br_floordiv(v, 1000);
    else ms = br_floordiv(v, 1000000);
    if (ms < TS_MIN_MS || ms >= TS_END_MS) return BR_ERR_RANGE;
    *out_ms = ms;
    return BR_ERR_OK;
}

br_err_t br_ts_from_epoch(double v, int64_t *out_ms) {
    if (isnan(v) || isinf(v)) return BR_ERR_RANGE;
    double mag = fabs(v);
    /* Integral values take the exact integer path. */
    if (mag < 9.2e18 && v == floor(v)) return epoch_int((int64_t)v, out_ms);
    if (mag >= 9.2e18) return BR_ERR_RANGE;
    /* A fractional number: round to the nearest ms. */
    double ms;
    if (mag < 1e11) ms = v * 1e3;
    else if (mag < 1e14) ms = v;
    else if (mag < 1e17) ms = v / 1e3;
    else ms = v / 1e6;
    ms = floor(ms + 0.5);
    if (ms < (double)TS_MIN_MS || ms >= (double)TS_END_MS) return BR_ERR_RANGE;
    *out_ms = (int64_t)ms;
    return BR_ERR_OK;
}

/* A string of digits, optionally signed and with a fraction: epoch. */
static br_err_t parse_epoch_text(const char *p, const char *end,
                                 int64_t *out_ms) {
    const char *q = p;
    int neg = 0;
    if (q < end && (*q == '-' || *q == '+')) neg = *q++ == '-';
    const char *digits = q;
    uint64_t v = 0;
    int overflow = 0;
    for (; q < end && is_digit(*q); q++) {
        if (v > (UINT64_C(9000000000000000000) - 9) / 10) overflow = 1;
        else v = v * 10 + (uint64_t)(*q - '0');
    }
    if (q == digits) return BR_ERR_PARSE;
    if (q == end) {
        if (overflow) return BR_ERR_RANGE;
        return epoch_int(neg ? -(int64_t)v : (int64_t)v, out_ms);
    }
    /* A fraction ("1726696800.25"): hand the text to the double path. */
    if (*q != '.') return BR_ERR_PARSE;
    q++;
    if (q == end) return BR_ERR_PARSE;
    for (; q < end; q++) {
        if (!is_digit(*q)) return BR_ERR_PARSE;
    }
    char buf[64];
    size_t n = (size_t)(end - p);
    if (n >= sizeof(buf)) return BR_ERR_PARSE;
    for (size_t i = 0; i < n; i++) buf[i] = p[i];
    buf[n] = '\0';
    double d;
    if (sscanf(buf, "%lf", &d) != 1) return BR_ERR_PARSE;
    return br_ts_from_epoch(d, out_ms);
}

br_err_t br_ts_parse(const char *s, size_t len, int64_t *out_ms) {
    const char *p = s, *end = s + len;
    while (p < end && is_blank(*p)) p++;
    while (end > p && is_blank(end[-1])) end--;
    if (p == end) return BR_ERR_PARSE;

    /* Not "YYYY-" : an epoch number. */
    if (end - p < 5 || p[4] != '-') return parse_epoch_text(p, end, out_ms);

    int year, mon, day, hour = 0, min = 0, sec = 0, ms = 0;
    if (!read_digits(&p, end, 4, &year) || p >= end || *p++ != '-')
        return BR_ERR_PARSE;
    if (!read_digits(&p, end, 2, &mon) || p >= end || *p++ != '-')
        return BR_ERR_PARSE;
    if (!read_digits(&p, end, 2, &day)) return BR_ERR_PARSE;
    if (mon < 1 || mon > 12) return BR_ERR_PARSE;
    if (day < 1 || (unsigned)day > days_in_month(year, (unsigned)mon))
        return BR_ERR_PARSE;

    int64_t offset_min = 0;
    if (p < end) {
        if (*p != 'T' && *p != 't' && *p != ' ') return BR_ERR_PARSE;
        p++;
        if (!read_digits(&p, end, 2, &hour) || p >= end || *p++ != ':')
            return BR_ERR_PARSE;
        if (!read_digits(&p, end, 2, &min)) return BR_ERR_PARSE;
        /* Seconds may be left out ("2024-09-18T22:00", ISO 8601). */
        if (p < end && *p == ':') {
            p++;
            if (!read_digits(&p, end, 2, &sec)) return BR_ERR_PARSE;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                if (p >= end || !is_digit(*p)) return BR_ERR_PARSE;
                /* Any number of digits; sub-ms ones are truncated. */
                int scale = 100;
                for (; p < end && is_digit(*p); p++) {
                    ms += (*p - '0') * scale;
                    scale /= 10;
                }
            }
        }
        if (hour > 23 || min > 59 || sec > 60) return BR_ERR_PARSE;
        /* A leap second (:60) becomes the last ms of its minute, so it stays
         * inside the minute, day and budget period it was recorded in. */
        if (sec == 60) {
            sec = 59;
            ms = 999;
        }
        if (p < end) {
            if (*p == 'Z' || *p == 'z') {
                p++;
            } else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
                if (!read_digits(&p, end, 2, &oh)) return BR_ERR_PARSE;
                if (p < end && *p == ':') {
                    p++;
                    if (!read_digits(&p, end, 2, &om)) return BR_ERR_PARSE;
                } else if (p < end && !read_digits(&p, end, 2, &om)) {
                    return BR_ERR_PARSE;
                }
                if (oh > 23 || om > 59) return BR_ERR_PARSE;
                offset_min = sign * (oh * 60 + om);
            } else {
                return BR_ERR_PARSE;
            }
        }
        if (p != end) return BR_ERR_PARSE;
    }
    int64_t days = br_days_from_civil(year, (unsigned)mon, (unsigned)day);
    int64_t t = days * MS_PER_DAY + hour * INT64_C(3600000)
                + min * INT64_C(60000) + sec * INT64_C(1000) + ms
                - offset_min * INT64_C(60000);
    if (t < TS_MIN_MS || t >= TS_END_MS) return BR_ERR_PARSE;
    *out_ms = t;
    return BR_ERR_OK;
}

/* Case-insensitive: does [p, end) start with the lowercase word w, not
 * followed by another letter? */
static int word_at(const char *p, const char *end, const char *w, size_t *n) {
    size_t i = 0;
    for (; w[i]; i++) {
        if (p + i >= end || (p[i] | 0x20) != w[i]) return 0;
    }
    if (p + i < end && ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z')) return 0;
    *n = i;
    return 1;
}

/* A duration: one or more NUMBER UNIT groups ("90m", "1d12h"). Each group
 * and the sum stay below the span of accepted instants, so nothing
 * overflows. */
static br_err_t parse_duration(const char *p, const char *end,
                               int64_t *out_ms) {
    const int64_t cap = TS_END_MS - TS_MIN_MS;
    int64_t total = 0;
    if (p == end) return BR_ERR_PARSE;
    while (p < end) {
        int64_t v = 0, unit;
        const char *digits = p;
        for (; p < end && is_digit(*p); p++) {
            if (v > cap) return BR_ERR_RANGE;
            v = v * 10 + (*p - '0');
        }
        if (p == digits || p == end) return BR_ERR_PARSE;
        switch (*p++ | 0x20) {
        case 's': unit = 1000; break;
        case 'm': unit = 60000; break;
        case 'h': unit = 3600000; break;
        case 'd': unit = MS_PER_DAY; break;
        case 'w': unit = 7 * MS_PER_DAY; break;
        default: return BR_ERR_PARSE;
        }
        if (v > cap / unit) return BR_ERR_RANGE;
        total += v * unit;
        if (total > cap) return BR_ERR_RANGE;
    }
    *out_ms = total;
    return BR_ERR_OK;
}

br_err_t br_ts_parse_relative(const char *s, size_t len, int64_t now_ms,
                              int64_t *out_ms) {
    static const struct {
        const char *word;
        int64_t day_offset; /* from today's 00:00 UTC; INT64_MIN: now */
    } bases[] = {{"now", INT64_MIN}, {"today", 0}, {"yesterday", -1},
                 {"tomorrow", 1}};
    const char *p = s, *end = s + len;
    int64_t t = 0, d = 0;
    size_t n = 0;
    int base = -1;
    br_err_t err;

    while (p < end && is_blank(*p)) p++;
    while (end > p && is_blank(end[-1])) end--;
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (word_at(p, end, bases[i].word, &n)) {
            base = (int)i;
            break;
        }
    }
    if (base < 0 && (p == end || (*p != '-' && *p != '+')))
        return br_ts_parse(s, len, out_ms);
    if (base < 0 || bases[base].day_offset == INT64_MIN) {
        t = now_ms;
    } else {
        t = (br_floordiv(now_ms, MS_PER_DAY) + bases[base].day_offset)
            * MS_PER_DAY;
    }
    if (base >= 0) p += n;
    while (p < end && is_blank(*p)) p++;
    if (p < end) {
        int neg;
        if (*p != '-' && *p != '+') return BR_ERR_PARSE;
        neg = *p++ == '-';
        while (p < end && is_blank(*p)) p++;
        err = parse_duration(p, end, &d);
        /* "-1", "+5", "-1726696800.5": epoch numbers, not durations. */
        if (err == BR_ERR_PARSE && base < 0)
            return br_ts_parse(s, len, out_ms);
        if (err) return err;
        t += neg ? -d : d;
    }
    if (t < TS_MIN_MS || t >= TS_END_MS) return BR_ERR_RANGE;
    *out_ms = t;
    return BR_ERR_OK;
}

size_t br_ts_format(int64_t ms, char *buf, size_t size) {
    /* Any int64 formats (a hostile snapshot's time describes without
     * overflow): days and the rest from the remainder, never days * a day. */
    int64_t days = ms / MS_PER_DAY;
    int64_t rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    br_civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / 3600000), mi = (int)(rem / 60000 % 60);
    int ss = (int)(rem / 1000 % 60), frac = (int)(rem % 1000);
    int n;
    if (frac)
        n = snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                     (long long)y, m, d, hh, mi, ss, frac);
    else
        n = snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
                     (long long)y, m, d, hh, mi, ss);
    if (n < 0) return 0;
    return (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
}
