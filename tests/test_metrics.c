/*
 * The Prometheus text writer against exact expected text (escaping,
 * integers beyond 2^53, special floats), and the librdkafka statistics
 * reader against a trimmed real emission.
 */
#include <stdint.h>

#include "brtest.h"
#include "burnrate/metrics.h"

static void test_family_and_samples(void) {
    br_buf_t b;
    br_buf_init(&b);
    br_metrics_family(&b, "burnrate_events_total", BR_METRIC_COUNTER,
                      "Events taken, by input\nand \\ outcome.");
    const char *l1[] = {"input", "tok", "outcome", "ok", NULL};
    br_metrics_sample_u64(&b, "burnrate_events_total", UINT64_C(18446744073709551615), l1);
    const char *l2[] = {"input", "a\"b\\c\nd", NULL};
    br_metrics_sample_u64(&b, "burnrate_events_total", 0, l2);
    br_metrics_family(&b, "burnrate_x_seconds", BR_METRIC_GAUGE, "x");
    br_metrics_sample(&b, "burnrate_x_seconds", 1.5, NULL);
    br_metrics_sample(&b, "burnrate_x_seconds", 1e300 * 1e300, NULL);
    br_metrics_sample(&b, "burnrate_x_seconds", -2.0, NULL);
    br_metrics_sample(&b, "burnrate_x_seconds", 1700000000.25, NULL);
    br_metrics_sample_i64(&b, "burnrate_x_seconds", INT64_MIN, NULL);
    br_metrics_family(&b, "burnrate_u", BR_METRIC_UNTYPED, "u");
    const char *empty[] = {NULL};
    br_metrics_sample(&b, "burnrate_u", 0.1, empty);
    CHECK_STR(b.data,
              "# HELP burnrate_events_total Events taken, by input\\nand \\\\ outcome.\n"
              "# TYPE burnrate_events_total counter\n"
              "burnrate_events_total{input=\"tok\",outcome=\"ok\"} 18446744073709551615\n"
              "burnrate_events_total{input=\"a\\\"b\\\\c\\nd\"} 0\n"
              "# HELP burnrate_x_seconds x\n"
              "# TYPE burnrate_x_seconds gauge\n"
              "burnrate_x_seconds 1.5\n"
              "burnrate_x_seconds +Inf\n"
              "burnrate_x_seconds -2\n"
              "burnrate_x_seconds 1700000000.25\n"
              "burnrate_x_seconds -9223372036854775808\n"
              "# HELP burnrate_u u\n"
              "# TYPE burnrate_u untyped\n"
              "burnrate_u 0.1\n");
    br_buf_free(&b);
}

static void test_label_value(void) {
    br_buf_t b;
    br_buf_init(&b);
    br_metrics_label_value(&b, "plain");
    br_metrics_label_value(&b, "|\\\\\"\n|");
    CHECK_STR(b.data, "plain|\\\\\\\\\\\"\\n|");
    br_buf_free(&b);
}

static const char kstats[] =
    "{\"name\":\"burnrate#consumer-1\",\"type\":\"consumer\",\"replyq\":3,"
    "\"brokers\":{"
    "\"127.0.0.1:9092/bootstrap\":{\"name\":\"127.0.0.1:9092/bootstrap\","
    "\"nodeid\":-1,\"state\":\"UP\",\"txerrs\":9,\"rtt\":{\"cnt\":0}},"
    "\"GroupCoordinator\":{\"name\":\"GroupCoordinator\",\"nodeid\":1,"
    "\"source\":\"logical\",\"state\":\"UP\"},"
    "\"127.0.0.1:9092/1\":{\"name\":\"127.0.0.1:9092/1\",\"nodeid\":1,"
    "\"source\":\"learned\",\"state\":\"UP\",\"txerrs\":2,\"rxerrs\":1,\"req_timeouts\":4,"
    "\"connects\":3,\"disconnects\":2,"
    "\"rtt\":{\"min\":10,\"max\":900,\"avg\":250,\"p99\":800,\"cnt\":12}},"
    "\"127.0.0.1:9093/2\":{\"name\":\"127.0.0.1:9093/2\",\"nodeid\":2,"
    "\"state\":\"TRY_CONNECT\",\"rtt\":{\"avg\":0,\"cnt\":0}}},"
    "\"cgrp\":{\"state\":\"up\",\"rebalance_cnt\":7}}";

static void test_kstats(void) {
    br_kstats_t st;
    char errstr[256];
    CHECK_INT(br_kstats_parse(kstats, sizeof kstats - 1, &st, errstr, sizeof errstr),
              BR_ERR_OK);
    CHECK_INT(st.valid, 1);
    CHECK_INT(st.replyq, 3);
    CHECK_INT(st.rebalances, 7);
    CHECK_INT(st.broker_cnt, 2);
    /* Brokers come in jansson's iteration order: find them by name. */
    const br_kstats_broker_t *one = NULL, *two = NULL;
    for (size_t i = 0; i < st.broker_cnt; i++) {
        if (strcmp(st.brokers[i].name, "127.0.0.1:9092/1") == 0)
            one = &st.brokers[i];
        if (strcmp(st.brokers[i].name, "127.0.0.1:9093/2") == 0)
            two = &st.brokers[i];
    }
    CHECK(one && two);
    if (one && two) {
        CHECK_INT(one->up, 1);
        CHECK_INT(one->rtt_avg_us, 250);
        CHECK_INT(one->rtt_p99_us, 800);
        CHECK_INT(one->tx_errors, 2);
        CHECK_INT(one->rx_errors, 1);
        CHECK_INT(one->req_timeouts, 4);
        CHECK_INT(one->connects, 3);
        CHECK_INT(one->disconnects, 2);
        CHECK_INT(two->up, 0);
        CHECK_INT(two->rtt_avg_us, -1);
        CHECK_INT(two->tx_errors, 0);
    }
    /* A broken emission leaves the previous figures alone. */
    CHECK_INT(br_kstats_parse("{\"brokers\":", 11, &st, errstr, sizeof errstr),
              BR_ERR_PARSE);
    CHECK_INT(st.rebalances, 7);
    CHECK(strstr(errstr, "librdkafka statistics") != NULL);
    CHECK_INT(br_kstats_parse("[1]", 3, &st, errstr, sizeof errstr), BR_ERR_PARSE);
    CHECK_INT(st.broker_cnt, 2);
}

int main(void) {
    test_family_and_samples();
    test_label_value();
    test_kstats();
    return brt_done();
}
