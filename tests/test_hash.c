/* Hashing and ids (hash.h) against fixed answers. Alert ids and dedup keys
 * must never change (routers key on the ids, snapshots hold the keys): the
 * ids below are those of real alerts, from a replay of tests/replay (spike,
 * new spend, budget threshold), of the demo traffic (unpriced model, series
 * cap, stale input) and of scripts/eval workloads (drop, forecast, burn
 * rate); the FNV and dedup figures come from an independent implementation. */
#include <string.h>

#include "brtest.h"
#include "burnrate/hash.h"

int main(void) {
    /* FNV-1a 64 and its helpers. */
    CHECK(br_fnv(BR_FNV_OFFSET, "", 0) == UINT64_C(0xcbf29ce484222325));
    CHECK(br_fnv_str(BR_FNV_OFFSET, "a") == UINT64_C(0x089be207b544f1e4));
    CHECK(br_fnv_str(BR_FNV_OFFSET, "a") == br_fnv(BR_FNV_OFFSET, "a", 2));
    CHECK(br_fnv_i64(BR_FNV_OFFSET, -12) == UINT64_C(0xc0c3f88e2ceba801));
    CHECK(br_fnv_i64(BR_FNV_OFFSET, -12) == br_fnv(BR_FNV_OFFSET, "-12", 4));
    CHECK(br_fnv_i64(BR_FNV_OFFSET, INT64_MIN) ==
          UINT64_C(0xbfd104cdad6cbe9b));
    CHECK(br_mix64(0) == 0);
    CHECK(br_mix64(1) == UINT64_C(0x5692161d100b05e5));
    char out[17];
    br_id_hex(1, out);
    CHECK_STR(out, "0000000000000001");
    br_id_hex(UINT64_C(0xfedcba9876543210), out);
    CHECK_STR(out, "fedcba9876543210");

    /* Dedup keys, as snapshots hold them. */
    uint64_t h1, h2;
    br_hash_dedup_key("usage", "r42", &h1, &h2);
    CHECK(h1 == UINT64_C(0x087af71f2aaf61dc));
    CHECK(h2 == UINT64_C(0xd3eb41b57ca33d70));
    br_hash_dedup_key("focus", "aws|123|2025-03-01", &h1, &h2);
    CHECK(h1 == UINT64_C(0x4fa48304a96ff6bd));
    CHECK(h2 == UINT64_C(0xd2dbf2ac5c39b11a));

    /* The series key: the scope index's bytes, then the labels. */
    const char blob[] = "search\0gpt-4o";
    uint32_t scope = 2;
    CHECK(br_hash_series(2, blob, sizeof blob) ==
          br_fnv(br_fnv(BR_FNV_OFFSET, &scope, sizeof scope), blob,
                 sizeof blob));
    CHECK(br_hash_series(2, blob, sizeof blob) !=
          br_hash_series(1, blob, sizeof blob));

    /* Alert ids. */
    br_id_incident(out, BR_ALERT_SPIKE, "total", "", 0,
                   INT64_C(1741010400000)); /* 2025-03-03T14:00:00Z */
    CHECK_STR(out, "9e3413ef3afd9ba1");
    br_id_incident(out, BR_ALERT_DROP, "team_model", "team01\0model03", 15,
                   INT64_C(1736784000000)); /* 2025-01-13T16:00:00Z */
    CHECK_STR(out, "e2207642326ae7ff");
    br_id_new_spend(out, "team", "search", 7);
    CHECK_STR(out, "bc29f0ec69250baf");
    br_id_budget(out, BR_ALERT_BUDGET_THRESHOLD, "search-daily",
                 INT64_C(1740787200000), 5000); /* 2025-03-01, 50 % */
    CHECK_STR(out, "847ef6ad31829ef9");
    br_id_budget(out, BR_ALERT_BUDGET_FORECAST, "month-total",
                 INT64_C(1735689600000), 8000); /* 2025-01-01, 80 % */
    CHECK_STR(out, "39f481e76f3ce7f6");
    br_id_burn_rate(out, "team00-week", 7200000, 600000, 4.0,
                    INT64_C(1738225860000)); /* 2h/10m x4, 2025-01-30T08:31 */
    CHECK_STR(out, "4c1d00f68725704a");
    br_id_one_off(out, BR_ALERT_UNPRICED_MODEL, NULL, "acme-llm-9000");
    CHECK_STR(out, "8da94954c85715f9");
    br_id_one_off(out, BR_ALERT_SERIES_CAP, "team_model", "team");
    CHECK_STR(out, "ef597bdea66495f5");
    br_id_stale(out, "focus", 38045000);
    CHECK_STR(out, "8b9fb0a8ee083867");

    /* The string set: copies, no duplicates, slots by the keys alone. */
    br_strset_t ss = {0};
    CHECK(br_strset_add(&ss, "gpt-4o"));
    CHECK(ss.cap == 16 && ss.keys[4] && strcmp(ss.keys[4], "gpt-4o") == 0);
    CHECK(br_strset_add(&ss, "a"));
    CHECK(!br_strset_add(&ss, "gpt-4o"));
    CHECK_INT(ss.cnt, 2);
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "m%d", i);
        br_strset_add(&ss, key);
    }
    CHECK_INT(ss.cnt, 102);
    CHECK(ss.cap >= 2 * ss.cnt);
    CHECK(!br_strset_add(&ss, "m57"));
    br_strset_free(&ss);
    CHECK(ss.cnt == 0 && ss.cap == 0 && ss.keys == NULL);
    return brt_done();
}
