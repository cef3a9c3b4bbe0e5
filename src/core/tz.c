/*
 * Time zones without the C library's global TZ state: TZif files (RFC 8536,
 * v1 and v2+) are read into memory, their POSIX TZ footer rules evaluated
 * here, so budgets in many zones can be computed side by side, purely.
 *
 * Calendar periods are local days, ISO weeks (Monday 00:00) and months. A
 * local midnight that happens twice (clocks set back across it) starts the
 * period at its first occurrence; one that does not happen (clocks set
 * forward across it) starts the period at the first instant after the gap,
 * which is also where the previous period ends.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "burnrate/ts.h"
#include "burnrate/tz.h"

#define MS_PER_DAY INT64_C(86400000)
#define SEC_PER_DAY INT64_C(86400)
#define TZ_NAME_MAX 255
#define TZIF_MAX_BYTES (1 << 20)     /* real TZif files are < 10 KiB */
#define T_LIMIT_MS (INT64_C(1) << 53) /* +/- 285,000 years: no overflow */

typedef enum { RULE_JULIAN1, RULE_JULIAN0, RULE_MONTH } rule_kind_t;

/* One end of DST in a POSIX TZ string: "Jn", "n" or "Mm.w.d", "/time". */
typedef struct rule_date {
    rule_kind_t kind;
    int day;                  /* Jn: 1..365; n: 0..365; M: weekday 0..6 */
    int month;                /* M: 1..12 */
    int week;                 /* M: 1..5, 5 = last */
    int32_t time_s;           /* local time of day, -167h..167h */
} rule_date_t;

typedef struct posix_rule {
    int32_t std_off_s;        /* UTC offset east of Greenwich, standard */
    int32_t dst_off_s;        /* same, daylight saving time */
    bool has_dst;
    rule_date_t start, end;   /* DST starts (in std time), ends (in DST) */
} posix_rule_t;

struct br_tz {
    char *name;               /* owned: the name it was loaded with */
    size_t timecnt;
    int64_t *trans_s;         /* owned: transition instants, ascending */
    uint8_t *trans_type;      /* owned: type index per transition */
    size_t typecnt;
    int32_t *utoff_s;         /* owned: UTC offset per type */
    bool has_rule;            /* footer (or fixed offset) rule applies */
    posix_rule_t rule;        /* after the last transition */
};

/* ---- POSIX TZ strings ------------------------------------------------- */

static bool parse_num(const char **pp, int min, int max, int *out) {
    const char *p = *pp;
    int v = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > max)
            return false;
    }
    if (v < min)
        return false;
    *out = v;
    *pp = p;
    return true;
}

/* [+-]hh[:mm[:ss]] as seconds, hours up to max_h. */
static bool parse_hms(const char **pp, int max_h, int32_t *out) {
    const char *p = *pp;
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!parse_num(&p, 0, max_h, &h))
        return false;
    if (*p == ':') {
        p++;
        if (!parse_num(&p, 0, 59, &m))
            return false;
        if (*p == ':') {
            p++;
            if (!parse_num(&p, 0, 59, &s))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    *pp = p;
    return true;
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, + and -. */
static bool parse_abbr(const char **pp) {
    const char *p = *pp;
    size_t n = 0;
    if (*p == '<') {
        for (p++; *p && *p != '>'; p++, n++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
                return false;
        if (*p != '>' || n < 3)
            return false;
        p++;
    } else {
        for (; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++)
            n++;
        if (n < 3)
            return false;
    }
    *pp = p;
    return true;
}

static bool parse_rule_date(const char **pp, rule_date_t *rd) {
    const char *p = *pp;
    if (*p == 'J') {
        p++;
        rd->kind = RULE_JULIAN1;
        if (!parse_num(&p, 1, 365, &rd->day))
            return false;
    } else if (*p == 'M') {
        p++;
        rd->kind = RULE_MONTH;
        if (!parse_num(&p, 1, 12, &rd->month) || *p++ != '.' ||
            !parse_num(&p, 1, 5, &rd->week) || *p++ != '.' ||
            !parse_num(&p, 0, 6, &rd->day))
            return false;
    } else {
        rd->kind = RULE_JULIAN0;
        if (!parse_num(&p, 0, 365, &rd->day))
            return false;
    }
    rd->time_s = 2 * 3600;
    if (*p == '/') {
        p++;
        /* RFC 8536 3.3.1: hours may range over -167..167. */
        if (!parse_hms(&p, 167, &rd->time_s))
            return false;
    }
    *pp = p;
    return true;
}

/* Parse "std offset [dst [offset] [,start[/time],end[/time]]]". */
static bool parse_posix_tz(const char *s, posix_rule_t *r) {
    const char *p = s;
    int32_t off;
    memset(r, 0, sizeof(*r));
    if (!parse_abbr(&p) || !parse_hms(&p, 24, &off))
        return false;
    r->std_off_s = -off;      /* POSIX counts west of Greenwich */
    if (*p == '\0')
        return true;
    if (!parse_abbr(&p))
        return false;
    r->has_dst = true;
    r->dst_off_s = r->std_off_s + 3600;
    if (*p && *p != ',') {
        if (!parse_hms(&p, 24, &off))
            return false;
        r->dst_off_s = -off;
    }
    if (*p == '\0') {         /* no rule given: the US rule since 2007 */
        r->start = (rule_date_t){RULE_MONTH, 0, 3, 2, 7200};
        r->end = (rule_date_t){RULE_MONTH, 0, 11, 1, 7200};
        return true;
    }
    if (*p++ != ',' || !parse_rule_date(&p, &r->start) || *p++ != ',' ||
        !parse_rule_date(&p, &r->end))
        return false;
    return *p == '\0';
}

static bool is_leap(int64_t y) {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int64_t floormod(int64_t a, int64_t b) {
    return a - br_floordiv(a, b) * b;
}

/* Day number (since 1970-01-01) of a rule date in year y. */
static int64_t rule_day(const rule_date_t *rd, int64_t y) {
    int64_t jan1 = br_days_from_civil(y, 1, 1);
    if (rd->kind == RULE_JULIAN1)
        return jan1 + rd->day - 1 + (is_leap(y) && rd->day >= 60 ? 1 : 0);
    if (rd->kind == RULE_JULIAN0)
        return jan1 + rd->day;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int64_t first = br_days_from_civil(y, (unsigned)rd->month, 1);
    int len = mdays[rd->month - 1] + (rd->month == 2 && is_leap(y) ? 1 : 0);
    int64_t wd_first = floormod(first + 4, 7);   /* 1970-01-01: Thursday */
    int64_t off = floormod(rd->day - wd_first, 7) + (rd->week - 1) * 7;
    while (off >= len)
        off -= 7;
    return first + off;
}

/* UTC offset the rule gives at t_s (seconds since the epoch). */
static int32_t rule_offset(const posix_rule_t *r, int64_t t_s) {
    if (!r->has_dst)
        return r->std_off_s;
    int64_t y;
    unsigned m, d;
    br_civil_from_days(br_floordiv(t_s + r->std_off_s, SEC_PER_DAY), &y, &m,
                       &d);
    /* The latest change at or before t among the years around it; on a tie
     * the later event wins, so "0/0,J365/25" (DST all year) stays DST. */
    bool found = false;
    int64_t best = 0;
    int32_t off = r->std_off_s;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t s = rule_day(&r->start, yy) * SEC_PER_DAY + r->start.time_s -
                    r->std_off_s;
        int64_t e = rule_day(&r->end, yy) * SEC_PER_DAY + r->end.time_s -
                    r->dst_off_s;
        if (s <= t_s && (!found || s >= best)) {
            found = true;
            best = s;
            off = r->dst_off_s;
        }
        if (e <= t_s && (!found || e >= best)) {
            found = true;
            best = e;
            off = r->std_off_s;
        }
    }
    return off;
}

/* ---- TZif files ------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const unsigned char *p) {
    uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
    return (int64_t)v;
}

typedef struct tzif_hdr {
    char version;             /* '\0', '2', '3', '4' */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_hdr_t;

static bool read_hdr(const unsigned char *p, size_t avail, tzif_hdr_t *h) {
    if (avail < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return true;
}

static size_t block_size(const tzif_hdr_t *h, size_t tsize) {
    return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 +
           h->charcnt + (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt +
           h->isutcnt;
}

static br_err_t parse_tzif(br_tz_t *tz, const unsigned char *buf, size_t len,
                           const char *path, char *errstr,
                           size_t errstr_size) {
    tzif_hdr_t h;
    if (!read_hdr(buf, len, &h))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "%s: not a TZif time zone file", path);
    size_t tsize = 4;
    const unsigned char *p = buf + 44;
    size_t v1 = block_size(&h, 4);
    if (h.timecnt > 100000 || h.typecnt > 256 || h.charcnt > 100000 ||
        h.leapcnt > 100000 || h.isstdcnt > 256 || h.isutcnt > 256 ||
        v1 > len - 44)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "%s: truncated or corrupt TZif data", path);
    if (h.version >= '2') {
        p += v1;
        if (!read_hdr(p, len - (size_t)(p - buf), &h))
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "%s: TZif v2+ second header missing", path);
        p += 44;
        tsize = 8;
    }
    size_t blk = block_size(&h, tsize);
    size_t rest = len - (size_t)(p - buf);
    if (h.timecnt > 100000 || h.typecnt > 256 || h.charcnt > 100000 ||
        h.leapcnt > 100000 || h.isstdcnt > 256 || h.isutcnt > 256 ||
        blk > rest || h.typecnt == 0 ||
        (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
        (h.isutcnt != 0 && h.isutcnt != h.typecnt))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "%s: truncated or corrupt TZif data", path);
    if (h.leapcnt)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "%s: zones with leap seconds (\"right/\") are not "
                         "supported", path);
    tz->timecnt = h.timecnt;
    tz->typecnt = h.typecnt;
    tz->trans_s = malloc((h.timecnt ? h.timecnt : 1) * sizeof(int64_t));
    tz->trans_type = malloc(h.timecnt ? h.timecnt : 1);
    tz->utoff_s = malloc(h.typecnt * sizeof(int32_t));
    if (!tz->trans_s || !tz->trans_type || !tz->utoff_s)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < h.timecnt; i++) {
        tz->trans_s[i] = tsize == 8 ? be64(p + i * 8)
                                    : (int64_t)(int32_t)be32(p + i * 4);
        if (i > 0 && tz->trans_s[i] <= tz->trans_s[i - 1])
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "%s: transition times out of order", path);
    }
    p += h.timecnt * tsize;
    for (size_t i = 0; i < h.timecnt; i++) {
        tz->trans_type[i] = p[i];
        if (p[i] >= h.typecnt)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "%s: transition names an unknown type", path);
    }
    p += h.timecnt;
    for (size_t i = 0; i < h.typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -89999 || off > 93599 || p[4] > 1)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "%s: bad local time type", path);
        tz->utoff_s[i] = off;
    }
    p += h.charcnt + (size_t)h.leapcnt * (tsize + 4) + h.isstdcnt + h.isutcnt;
    if (tsize == 8) {
        /* Footer: "\n" POSIX-TZ-string "\n"; an empty string means none. */
        rest = len - (size_t)(p - buf);
        const unsigned char *nl = rest > 1 && p[0] == '\n'
                                      ? memchr(p + 1, '\n', rest - 1)
                                      : NULL;
        if (!nl)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "%s: TZif footer missing", path);
        size_t flen = (size_t)(nl - p - 1);
        if (flen > 0) {
            char footer[128];
            if (flen >= sizeof(footer))
                return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                                 "%s: TZif footer too long", path);
            memcpy(footer, p + 1, flen);
            footer[flen] = '\0';
            if (!parse_posix_tz(footer, &tz->rule))
                return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                                 "%s: bad TZ rule \"%s\" in footer", path,
                                 footer);
            tz->has_rule = true;
        }
    }
    return BR_ERR_OK;
}

/* ---- loading ---------------------------------------------------------- */

static bool two_digits(const char *p, int max, int *out) {
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return false;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return *out <= max;
}

/* "UTC", "Z", "+05:30", "-0800", "+05" as seconds east. */
static bool parse_fixed(const char *s, int32_t *off_s) {
    int h, m = 0;
    if (strcmp(s, "UTC") == 0 || strcmp(s, "Z") == 0) {
        *off_s = 0;
        return true;
    }
    if (*s != '+' && *s != '-')
        return false;
    const char *p = s + 1;
    size_t n = strlen(p);
    if (!two_digits(p, 23, &h))
        return false;
    if (n == 5 && p[2] == ':') {
        if (!two_digits(p + 3, 59, &m))
            return false;
    } else if (n == 4) {
        if (!two_digits(p + 2, 59, &m))
            return false;
    } else if (n != 2) {
        return false;
    }
    *off_s = (*s == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

static bool valid_zone_name(const char *name) {
    if (!*name || strlen(name) > TZ_NAME_MAX || name[0] == '/' ||
        strstr(name, "..") != NULL)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' ||
              *p == '-' || *p == '+' || *p == '.'))
            return false;
    return true;
}

/* Read a whole regular file; *buf is new, the caller frees it. */
static br_err_t read_file(const char *path, unsigned char **buf, size_t *len,
                          char *errstr, size_t errstr_size) {
    br_err_t err = BR_ERR_OK;
    unsigned char *data = NULL;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f) {
        int e = errno;
        err = br_seterr(errstr, errstr_size,
                        e == ENOENT ? BR_ERR_NOTFOUND : BR_ERR_IO,
                        "unknown time zone: %s: %s", path, strerror(e));
        goto out;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        err = br_seterr(errstr, errstr_size, BR_ERR_NOTFOUND,
                        "unknown time zone: %s is not a zone file", path);
        goto out;
    }
    if (st.st_size > TZIF_MAX_BYTES) {
        err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                        "%s: too large for a TZif file", path);
        goto out;
    }
    data = malloc((size_t)st.st_size + 1);
    if (!data) {
        err = br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        goto out;
    }
    *len = fread(data, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        err = br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: read error",
                        path);
        goto out;
    }
    *buf = data;
    data = NULL;
out:
    free(data);
    if (f)
        fclose(f);
    return err;
}

br_tz_t *br_tz_load(const char *name, char *errstr, size_t errstr_size) {
    br_tz_t *tz = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    int32_t off;
    if (!name) {
        br_seterr(errstr, errstr_size, BR_ERR_INVAL, "no time zone name");
        goto fail;
    }
    tz = calloc(1, sizeof(*tz));
    if (!tz || !(tz->name = strdup(name))) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (parse_fixed(name, &off)) {
        tz->has_rule = true;
        tz->rule.std_off_s = off;
        return tz;
    }
    if (!valid_zone_name(name)) {
        br_seterr(errstr, errstr_size, BR_ERR_INVAL,
                  "invalid time zone \"%s\": expected UTC, an offset such as "
                  "+05:30, or a tz database name such as Europe/Berlin",
                  name);
        goto fail;
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    size_t plen = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(plen);
    if (!path) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    snprintf(path, plen, "%s/%s", dir, name);
    br_err_t err = read_file(path, &buf, &len, errstr, errstr_size);
    if (err == BR_ERR_NOTFOUND) /* the zone's name means more than a path */
        br_seterr(errstr, errstr_size, err, "unknown time zone \"%s\"%s", name,
                  errstr && strstr(errstr, "not a zone file")
                      ? " (not a zone file)" : "");
    if (err == BR_ERR_OK)
        err = parse_tzif(tz, buf, len, path, errstr, errstr_size);
    free(path);
    free(buf);
    if (err != BR_ERR_OK)
        goto fail;
    return tz;
fail:
    br_tz_destroy(tz);
    return NULL;
}

br_tz_t *br_tz_fixed(const char *name) {
    br_tz_t *tz;
    int32_t off;
    if (!name || !parse_fixed(name, &off) || !(tz = calloc(1, sizeof(*tz))))
        return NULL;
    if (!(tz->name = strdup(name))) {
        free(tz);
        return NULL;
    }
    tz->has_rule = true;
    tz->rule.std_off_s = off;
    return tz;
}

void br_tz_destroy(br_tz_t *tz) {
    if (!tz)
        return;
    free(tz->name);
    free(tz->trans_s);
    free(tz->trans_type);
    free(tz->utoff_s);
    free(tz);
}

const char *br_tz_name(const br_tz_t *tz) {
    return tz->name;
}

/* ---- offsets and periods ---------------------------------------------- */

static int64_t clamp_ms(int64_t t_ms) {
    return t_ms < -T_LIMIT_MS ? -T_LIMIT_MS
                              : t_ms > T_LIMIT_MS ? T_LIMIT_MS : t_ms;
}

int64_t br_tz_offset_ms(const br_tz_t *tz, int64_t utc_ms) {
    int64_t t_s = br_floordiv(clamp_ms(utc_ms), 1000);
    size_t n = tz->timecnt;
    int32_t off;
    if (n == 0)
        off = tz->has_rule ? rule_offset(&tz->rule, t_s) : tz->utoff_s[0];
    else if (t_s < tz->trans_s[0])
        off = tz->utoff_s[0];  /* RFC 8536 3.2: type 0 before the first */
    else if (t_s >= tz->trans_s[n - 1] && tz->has_rule)
        off = rule_offset(&tz->rule, t_s);
    else {
        size_t lo = 0, hi = n;          /* last i with trans_s[i] <= t_s */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (tz->trans_s[mid] <= t_s)
                lo = mid;
            else
                hi = mid;
        }
        off = tz->utoff_s[tz->trans_type[lo]];
    }
    return (int64_t)off * 1000;
}

/* The UTC instant of local wall time local_ms: its first occurrence when
 * the clock shows it twice, the end of the gap when it never shows it. */
static int64_t local_to_utc(const br_tz_t *tz, int64_t local_ms) {
    int64_t offs[3] = {br_tz_offset_ms(tz, local_ms - MS_PER_DAY),
                       br_tz_offset_ms(tz, local_ms),
                       br_tz_offset_ms(tz, local_ms + MS_PER_DAY)};
    bool found = false;
    int64_t best = 0, omin = offs[0], omax = offs[0];
    for (int i = 0; i < 3; i++) {
        int64_t u = local_ms - offs[i];
        if (br_tz_offset_ms(tz, u) == offs[i] && (!found || u < best)) {
            found = true;
            best = u;
        }
        omin = offs[i] < omin ? offs[i] : omin;
        omax = offs[i] > omax ? offs[i] : omax;
    }
    if (found)
        return best;
    /* In a gap: the first instant whose wall time is at or past local_ms. */
    int64_t lo = local_ms - omax, hi = local_ms - omin;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (mid + br_tz_offset_ms(tz, mid) >= local_ms)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void br_tz_period_bounds(const br_tz_t *tz, br_period_t period, int64_t t_ms,
                         int64_t *start_ms, int64_t *end_ms) {
    t_ms = clamp_ms(t_ms);
    int64_t day = br_floordiv(t_ms + br_tz_offset_ms(tz, t_ms), MS_PER_DAY);
    int64_t first, next;
    if (period == BR_PERIOD_WEEK) {
        first = day - floormod(day + 3, 7);   /* 1970-01-01 was a Thursday */
        next = first + 7;
    } else if (period == BR_PERIOD_MONTH) {
        int64_t y;
        unsigned m, d;
        br_civil_from_days(day, &y, &m, &d);
        first = br_days_from_civil(y, m, 1);
        next = m == 12 ? br_days_from_civil(y + 1, 1, 1)
                       : br_days_from_civil(y, m + 1, 1);
    } else {
        first = day;
        next = day + 1;
    }
    *start_ms = local_to_utc(tz, first * MS_PER_DAY);
    *end_ms = local_to_utc(tz, next * MS_PER_DAY);
}

int64_t br_tz_local_to_utc(const br_tz_t *tz, int64_t local_ms) {
    return local_to_utc(tz, clamp_ms(local_ms));
}

const char *br_period_name(br_period_t period) {
    switch (period) {
    case BR_PERIOD_DAY:
        return "day";
    case BR_PERIOD_WEEK:
        return "week";
    case BR_PERIOD_MONTH:
        return "month";
    case BR_PERIOD_ROLLING:
        return "rolling";
    case BR_PERIOD_CUSTOM:
        return "custom";
    }
    return "unknown";
}

br_err_t br_period_parse(const char *name, br_period_t *out) {
    static const br_period_t all[] = {BR_PERIOD_DAY, BR_PERIOD_WEEK,
                                      BR_PERIOD_MONTH, BR_PERIOD_ROLLING,
                                      BR_PERIOD_CUSTOM};
    for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(name, br_period_name(all[i])) == 0) {
            *out = all[i];
            return BR_ERR_OK;
        }
    return BR_ERR_INVAL;
}
