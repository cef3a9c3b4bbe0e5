/* Exact money: parsing, rounding, range, double conversion and formatting,
 * each against a known answer. */
#include <math.h>
#include <string.h>

#include "brtest.h"
#include "burnrate/buf.h"
#include "burnrate/money.h"
#include "burnrate/wire.h"

static int64_t parse_ok(const char *s) {
    int64_t v = -12345;
    br_err_t err = br_money_parse(s, strlen(s), &v);
    if (err != BR_ERR_OK) {
        fprintf(stderr, "parse \"%s\": %s\n", s, br_err_name(err));
        brt_fail++;
    }
    return v;
}

static br_err_t parse_err(const char *s) {
    int64_t v = 0;
    return br_money_parse(s, strlen(s), &v);
}

static const char *fmt(br_money_t nanos) {
    static char buf[BR_MONEY_STR_MAX];
    br_money_format(nanos, buf, sizeof(buf));
    return buf;
}

int main(void) {
    /* plain forms */
    CHECK_INT(parse_ok("12"), INT64_C(12000000000));
    CHECK_INT(parse_ok("-0.00000080000"), -800);
    CHECK_INT(parse_ok("1.5e-7"), 150);
    CHECK_INT(parse_ok("+3."), INT64_C(3000000000));
    CHECK_INT(parse_ok(".5"), 500000000);
    CHECK_INT(parse_ok("  0.1 \t"), 100000000);
    CHECK_INT(parse_ok("8e-7"), 800);
    CHECK_INT(parse_ok("8E-07"), 800);
    CHECK_INT(parse_ok("1.5E+3"), INT64_C(1500000000000));
    CHECK_INT(parse_ok("0"), 0);
    CHECK_INT(parse_ok("-0"), 0);
    CHECK_INT(parse_ok("0000000000000000000000000000001"), INT64_C(1000000000));
    CHECK_INT(parse_ok("0e999999999999999999"), 0);
    CHECK_INT(parse_ok("1e-999999999999999"), 0);
    CHECK_INT(parse_ok("123456789.123456789"), INT64_C(123456789123456789));
    CHECK_INT(parse_ok("0.000000001"), 1);
    CHECK_INT(parse_ok("12e3"), INT64_C(12000000000000));
    CHECK_INT(parse_ok("0.0012e2"), 120000000);
    /* rounding half away from zero past 9 decimals */
    CHECK_INT(parse_ok("0.0000000005"), 1);
    CHECK_INT(parse_ok("0.00000000049999999"), 0);
    CHECK_INT(parse_ok("-0.0000000005"), -1);
    CHECK_INT(parse_ok("-0.0000000004"), 0);
    CHECK_INT(parse_ok("1.0000000015"), INT64_C(1000000002));
    CHECK_INT(parse_ok("2.0000000025"), INT64_C(2000000003));
    CHECK_INT(parse_ok("0.00000000150000000000000000000000000001"), 2);
    CHECK_INT(parse_ok("5e-10"), 1);
    CHECK_INT(parse_ok("4.9e-10"), 0);
    /* range: int64 nanos end at 9223372036.854775807 */
    CHECK_INT(parse_ok("9223372036.854775807"), INT64_MAX);
    CHECK_INT(parse_ok("-9223372036.854775807"), -INT64_MAX);
    CHECK_INT(parse_err("9223372036.854775808"), BR_ERR_RANGE);
    CHECK_INT(parse_err("9223372036.8547758075"), BR_ERR_RANGE);
    CHECK_INT(parse_err("1e10"), BR_ERR_RANGE);
    CHECK_INT(parse_err("-1e30"), BR_ERR_RANGE);
    CHECK_INT(parse_err("99999999999999999999999999"), BR_ERR_RANGE);
    CHECK_INT(parse_err("1e999999999999999999999"), BR_ERR_RANGE);
    /* not numbers */
    const char *bad[] = {"", "   ", ".", "+", "-", "e5", "1e", "1e+", "nan",
                         "NaN", "inf", "-Infinity", "0x10", "1.2.3", "1,000",
                         "1 2", "--1", "1e5.5", "$1", "1_000", "١"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_err(bad[i]) != BR_ERR_PARSE)
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
        CHECK_INT(parse_err(bad[i]), BR_ERR_PARSE);
    }
    /* not NUL-terminated: only len bytes count */
    int64_t v = 0;
    CHECK_INT(br_money_parse("1.25xyz", 4, &v), BR_ERR_OK);
    CHECK_INT(v, INT64_C(1250000000));

    /* doubles go through their shortest round-trip text */
    CHECK_INT(br_money_from_double(0.1, &v), BR_ERR_OK);
    CHECK_INT(v, 100000000);
    CHECK_INT(br_money_from_double(0.1 + 0.2, &v), BR_ERR_OK);
    CHECK_INT(v, 300000000); /* 0.30000000000000004 rounds at 9 decimals */
    CHECK_INT(br_money_from_double(8e-7, &v), BR_ERR_OK);
    CHECK_INT(v, 800);
    CHECK_INT(br_money_from_double(-1234.5678, &v), BR_ERR_OK);
    CHECK_INT(v, INT64_C(-1234567800000));
    CHECK_INT(br_money_from_double(1.0000000005, &v), BR_ERR_OK);
    CHECK_INT(v, INT64_C(1000000001));
    CHECK_INT(br_money_from_double(NAN, &v), BR_ERR_PARSE);
    CHECK_INT(br_money_from_double(INFINITY, &v), BR_ERR_PARSE);
    CHECK_INT(br_money_from_double(1e300, &v), BR_ERR_RANGE);
    CHECK_INT(br_money_from_double(9.3e9, &v), BR_ERR_RANGE);

    /* formatting */
    CHECK_STR(fmt(INT64_C(1500000000)), "1.50");
    CHECK_STR(fmt(800), "0.0000008");
    CHECK_STR(fmt(0), "0.00");
    CHECK_STR(fmt(-1), "-0.000000001");
    CHECK_STR(fmt(INT64_C(-12340000000)), "-12.34");
    CHECK_STR(fmt(INT64_MAX), "9223372036.854775807");
    CHECK_STR(fmt(INT64_MIN), "-9223372036.854775808");
    char small[5];
    size_t n = br_money_format(INT64_C(123456000000), small, sizeof(small));
    CHECK_INT(n, 4);
    CHECK_STR(small, "123.");

    /* 128-bit sums: every digit, no wrap (issue 14: two 9e9 records) */
    br_money_t two = (br_money_t)INT64_C(9000000000000000000) * 2;
    CHECK_STR(fmt(two), "18000000000.00");
    CHECK_STR(fmt(-two - 1), "-18000000000.000000001");
    CHECK_STR(fmt((br_money_t)INT64_MAX + 1), "9223372036.854775808");
    br_money_t max = BR_MONEY_MAX;
    CHECK_STR(fmt(max), "170141183460469231731687303715.884105727");
    CHECK_STR(fmt(-max - 1), "-170141183460469231731687303715.884105728");
    CHECK(strlen(fmt(-max - 1)) < BR_MONEY_STR_MAX);
    CHECK(br_money_to_double(two) == 1.8e19);
    CHECK_INT(br_money_clamp64(two), INT64_MAX);
    CHECK_INT(br_money_clamp64(-two), INT64_MIN);
    CHECK_INT(br_money_clamp64(-5), -5);
    CHECK(br_money_from_double_est(1.8e19) == two);
    CHECK(br_money_from_double_est(2.5) == 3);
    CHECK(br_money_from_double_est(-2.5) == -3);
    CHECK(br_money_from_double_est(NAN) == 0);
    CHECK(br_money_from_double_est(1e300) == (br_money_t)1 << 120);
    CHECK(br_money_from_double_est(-INFINITY) == -((br_money_t)1 << 120));
    CHECK(br_money_round_to(two + 4999999, 10000000) == two);
    CHECK(br_money_round_to(two + 5000000, 10000000) == two + 10000000);
    CHECK(br_money_round_to(-two - 5000000, 10000000) == -two - 10000000);
    CHECK_INT(br_money_ratio(two, two * 2, 10000), 5000);
    CHECK_INT(br_money_ratio(1, 3, 10000), 3333);
    CHECK_INT(br_money_ratio(-2, 3, 10000), -6667);
    CHECK_INT(br_money_ratio(5, 0, 10000), 0);
    CHECK_INT(br_money_ratio(max, 1, 10000), INT64_MAX);   /* saturates */
    CHECK_INT(br_money_ratio(max, max, 10000), 10000);     /* long double */
    CHECK_INT(br_money_ratio(-max, max / 2, 10000), -20000);
    /* the per-record bound */
    CHECK(br_money_record_ok(BR_MONEY_RECORD_MAX_NANOS));
    CHECK(br_money_record_ok(-BR_MONEY_RECORD_MAX_NANOS));
    CHECK(!br_money_record_ok(BR_MONEY_RECORD_MAX_NANOS + 1));
    CHECK(!br_money_record_ok(INT64_MIN));
    CHECK_INT(parse_ok("9000000000"), BR_MONEY_RECORD_MAX_NANOS);

    /* 128-bit varints: int64 values keep br_wr_ivar()'s bytes; the rest
     * round-trip; a 20th byte or bits past 128 are refused. */
    {
        const br_money_t vals[] = {0, 1, -1, INT64_MAX, INT64_MIN, two, -two,
                                   max, -max - 1};
        br_buf_t a, b;
        br_buf_init(&a);
        br_buf_init(&b);
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            br_buf_reset(&a);
            br_buf_reset(&b);
            br_wr_money(&a, vals[i]);
            if (vals[i] >= INT64_MIN && vals[i] <= INT64_MAX) {
                br_wr_ivar(&b, (int64_t)vals[i]);
                CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
            }
            CHECK(a.len <= 19);
            br_rd_t r;
            br_rd_init(&r, a.data, a.len);
            CHECK(br_rd_money(&r) == vals[i]);
            CHECK(r.err == NULL && br_rd_left(&r) == 0);
        }
        unsigned char over[19];
        memset(over, 0xff, sizeof over);
        over[18] = 0x04; /* a bit past 128 */
        br_rd_t r;
        br_rd_init(&r, over, sizeof over);
        br_rd_money(&r);
        CHECK(r.err != NULL);
        unsigned char longer[20];
        memset(longer, 0x80, sizeof longer);
        br_rd_init(&r, longer, sizeof longer);
        br_rd_money(&r);
        CHECK(r.err != NULL);
        br_buf_free(&a);
        br_buf_free(&b);
    }

    /* muldiv */
    CHECK_INT(br_muldiv_round(7, 1, 2), 4);
    CHECK_INT(br_muldiv_round(-7, 1, 2), -4);
    CHECK_INT(br_muldiv_round(5, 1, 3), 2);
    CHECK_INT(br_muldiv_round(4, 1, 3), 1);
    CHECK_INT(br_muldiv_round(-4, 1, 3), -1);
    /* 120 tokens at 2.5 USD per 1M tokens = 0.0003 USD */
    CHECK_INT(br_muldiv_round(120, INT64_C(2500000000), 1000000), 300000);
    CHECK_INT(br_muldiv_round(INT64_MAX, INT64_MAX, INT64_MAX), INT64_MAX);
    CHECK_INT(br_muldiv_round(INT64_MAX, 4, 2), INT64_MAX);
    CHECK_INT(br_muldiv_round(INT64_MIN, 4, 2), INT64_MIN);
    CHECK_INT(br_muldiv_round(INT64_C(3000000000000), INT64_C(3000000000000),
                              INT64_C(1000000000000)),
              INT64_C(9000000000000));
    return brt_done();
}
