/*
 * Exact decimal money: amounts are parsed digit by digit into int64 nanos, so
 * "0.1" is exactly 100000000 and no binary rounding ever reaches a sum.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "burnrate/money.h"

typedef br_money_t i128;
__extension__ typedef unsigned __int128 u128;

/* Largest magnitude accepted; the same bound for both signs keeps negation
 * safe (INT64_MIN itself is never produced). */
#define MAG_MAX ((uint64_t)INT64_MAX)
/* Exponents beyond this are clamped: far past any int64 of nanos, and small
 * enough that position arithmetic on int64 cannot overflow. */
#define EXP_CLAMP INT64_C(1000000000000)

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

br_err_t br_money_parse(const char *s, size_t len, int64_t *out_nanos) {
    size_t i = 0, end = len;
    while (i < end && is_blank(s[i])) i++;
    while (end > i && is_blank(s[end - 1])) end--;
    if (i == end) return BR_ERR_PARSE;

    int neg = 0;
    if (s[i] == '+' || s[i] == '-') {
        neg = s[i] == '-';
        i++;
    }
    /* Mantissa: digits [mant_start, mant_end) with at most one '.'. */
    size_t mant_start = i, int_digits = 0, digit_cnt = 0;
    int seen_point = 0;
    for (; i < end; i++) {
        if (is_digit(s[i])) {
            digit_cnt++;
            if (!seen_point) int_digits++;
        } else if (s[i] == '.' && !seen_point) {
            seen_point = 1;
        } else {
            break;
        }
    }
    size_t mant_end = i;
    if (digit_cnt == 0) return BR_ERR_PARSE;

    int64_t exp = 0;
    if (i < end && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int exp_neg = 0;
        if (i < end && (s[i] == '+' || s[i] == '-')) {
            exp_neg = s[i] == '-';
            i++;
        }
        if (i == end || !is_digit(s[i])) return BR_ERR_PARSE;
        for (; i < end && is_digit(s[i]); i++) {
            if (exp < EXP_CLAMP) exp = exp * 10 + (s[i] - '0');
        }
        if (exp_neg) exp = -exp;
    }
    if (i != end) return BR_ERR_PARSE;

    /* Digit number n (0-based over the digits only) is worth
     * 10^(int_digits - 1 - n + exp + 9) nanos. Accumulate the digits worth
     * at least one nano, then round on the first one worth a tenth. */
    uint64_t acc = 0;
    int64_t last_pow = 0;   /* power of the last accumulated digit */
    int have_acc = 0, round_up = 0;
    int64_t n = 0;
    for (size_t k = mant_start; k < mant_end; k++) {
        if (s[k] == '.') continue;
        int d = s[k] - '0';
        int64_t pow = (int64_t)int_digits - 1 - n + exp + 9;
        n++;
        if (pow >= 0) {
            if (acc > (MAG_MAX - (uint64_t)d) / 10) return BR_ERR_RANGE;
            acc = acc * 10 + (uint64_t)d;
            last_pow = pow;
            have_acc = 1;
        } else {
            if (pow == -1) round_up = d >= 5;
            break;
        }
    }
    if (have_acc) {
        /* Trailing zeros the mantissa did not spell out ("12e3"). */
        for (int64_t p = 0; p < last_pow && acc != 0; p++) {
            if (acc > MAG_MAX / 10) return BR_ERR_RANGE;
            acc *= 10;
        }
    }
    if (round_up) {
        if (acc == MAG_MAX) return BR_ERR_RANGE;
        acc++;
    }
    *out_nanos = neg ? -(int64_t)acc : (int64_t)acc;
    return BR_ERR_OK;
}

br_err_t br_money_from_double(double v, int64_t *out_nanos) {
    char buf[40];
    if (isnan(v) || isinf(v)) return BR_ERR_PARSE;
    /* 9.3e9 units is past the int64 nanos range: no need to format it. */
    if (fabs(v) > 1e10) return BR_ERR_RANGE;
    int n = snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v) n = snprintf(buf, sizeof(buf), "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof(buf)) return BR_ERR_PARSE;
    return br_money_parse(buf, (size_t)n, out_nanos);
}

size_t br_money_format(br_money_t nanos, char *buf, size_t size) {
    u128 mag = nanos < 0 ? (u128)0 - (u128)nanos : (u128)nanos;
    u128 units = mag / (u128)BR_NANOS_PER_UNIT;
    uint64_t frac = (uint64_t)(mag % (u128)BR_NANOS_PER_UNIT);
    /* The integer part: up to 30 digits, written backwards. */
    char ibuf[48];
    size_t ilen = 0;
    do {
        ibuf[sizeof(ibuf) - 1 - ilen++] = (char)('0' + (int)(units % 10));
        units /= 10;
    } while (units);
    char digits[10];
    snprintf(digits, sizeof(digits), "%09llu", (unsigned long long)frac);
    int keep = 9;
    while (keep > 2 && digits[keep - 1] == '0') keep--;
    digits[keep] = '\0';
    int n = snprintf(buf, size, "%s%.*s.%s", nanos < 0 ? "-" : "", (int)ilen,
                     ibuf + sizeof(ibuf) - ilen, digits);
    if (n < 0) return 0;
    return (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
}

double br_money_to_double(br_money_t v) {
    return (double)v;
}

br_money_t br_money_from_double_est(double v) {
    const double lim = 1329227995784915872903807060280344576.0; /* 2^120 */
    if (isnan(v)) return 0;
    if (v >= lim) return (br_money_t)1 << 120;
    if (v <= -lim) return -((br_money_t)1 << 120);
    return (br_money_t)round(v);
}

br_money_t br_money_round_to(br_money_t v, int64_t unit) {
    if (unit <= 1) return v;
    br_money_t q = v / unit, r = v % unit;
    if (r < 0) r = -r;
    if (2 * r >= (br_money_t)unit) q += v < 0 ? -1 : 1;
    return q * unit;
}

int64_t br_money_clamp64(br_money_t v) {
    if (v > (br_money_t)INT64_MAX) return INT64_MAX;
    if (v < (br_money_t)INT64_MIN) return INT64_MIN;
    return (int64_t)v;
}

int64_t br_money_ratio(br_money_t num, br_money_t den, int64_t scale) {
    if (den <= 0) return 0;
    const br_money_t lim = (br_money_t)1 << 126;
    br_money_t mag = num < 0 ? -num : num;
    if (scale >= 0 && (scale == 0 || mag <= lim / scale)) {
        br_money_t p = num * scale;
        br_money_t q = p / den, r = p % den;
        if (r < 0) r = -r;
        /* 2r >= den without overflowing: r >= den - r */
        if (r >= den - r) q += p < 0 ? -1 : 1;
        return br_money_clamp64(q);
    }
    long double x = (long double)num * (long double)scale / (long double)den;
    if (x >= 9.2e18L) return INT64_MAX;
    if (x <= -9.2e18L) return INT64_MIN;
    return (int64_t)roundl(x);
}

int64_t br_muldiv_round(int64_t a, int64_t b, int64_t c) {
    if (c <= 0) return 0;
    i128 p = (i128)a * (i128)b;
    i128 q = p / c, r = p % c;
    if (r < 0) r = -r;
    if (2 * r >= (i128)c) q += p < 0 ? -1 : 1;
    if (q > (i128)INT64_MAX) return INT64_MAX;
    if (q < (i128)INT64_MIN) return INT64_MIN;
    return (int64_t)q;
}
