/* The event-time merge of partitions: any interleaving of arrivals gives
 * the feed order of a stable global sort when every partition is in order;
 * a partition not heard from yet, or empty with lag, is waited for (up to
 * the bound); one caught up is not; removing a slot drops its head. */
#include <stdint.h>
#include <stdlib.h>

#include "brtest.h"
#include "burnrate/merge.h"

#define MAXP 16
#define MAXR 64

typedef struct rec {
    int64_t t;
    int part;
    int seq;                    /* position within its partition */
} rec_t;

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_rec(const void *a, const void *b) {
    const rec_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1; /* slot order = partition */
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One trial: nparts partitions of sorted records; arrivals come in a
 * random interleaving (a partition's own order kept); the driver keeps one
 * head per partition as a consumer would. @returns true when the feed
 * order equals the global sort. */
static bool trial(int nparts) {
    rec_t recs[MAXP][MAXR], all[MAXP * MAXR], fed[MAXP * MAXR];
    int len[MAXP], arrived[MAXP] = {0}, taken[MAXP] = {0}, slot[MAXP];
    int total = 0, nfed = 0;
    br_merge_t *m = br_merge_new(1000);
    int64_t now = 0;

    for (int p = 0; p < nparts; p++) {
        int64_t t = (int64_t)(next_rand() % 50);
        len[p] = (int)(next_rand() % MAXR);
        for (int k = 0; k < len[p]; k++) {
            t += (int64_t)(next_rand() % 4); /* ties within and across */
            recs[p][k] = (rec_t){t, p, k};
            all[total++] = recs[p][k];
        }
        /* Partitions join in random order; slot numbers differ from the
         * order given. */
    }
    int joined[MAXP];
    for (int p = 0; p < nparts; p++)
        joined[p] = p;
    for (int p = nparts - 1; p > 0; p--) {
        int q = (int)(next_rand() % (uint64_t)(p + 1));
        int tmp = joined[p];
        joined[p] = joined[q];
        joined[q] = tmp;
    }
    for (int k = 0; k < nparts; k++)
        slot[joined[k]] = br_merge_add(m, (uint64_t)joined[k], now);
    qsort(all, (size_t)total, sizeof *all, cmp_rec);

    for (int guard = 0; nfed < total && guard < 100000; guard++) {
        /* Something arrives somewhere (or nothing, this turn). */
        int p = (int)(next_rand() % (uint64_t)(nparts + 1));
        if (p < nparts && arrived[p] < len[p])
            arrived[p]++;
        /* The consumer refreshes every partition's slot. */
        for (int q = 0; q < nparts; q++) {
            if (br_merge_state(m, slot[q]) == BR_MERGE_HEAD)
                continue;
            if (taken[q] < arrived[q])
                br_merge_set_head(m, slot[q], recs[q][taken[q]].t);
            else
                br_merge_set_empty(m, slot[q], taken[q] < len[q], now);
        }
        int s;
        while ((s = br_merge_next(m, now, NULL)) >= 0) {
            int q = 0;
            while (slot[q] != s)
                q++;
            fed[nfed++] = recs[q][taken[q]++];
            if (taken[q] < arrived[q])
                br_merge_set_head(m, s, recs[q][taken[q]].t);
            else
                br_merge_set_empty(m, s, taken[q] < len[q], now);
        }
    }
    br_merge_destroy(m);
    if (nfed != total)
        return false;
    for (int i = 0; i < total; i++)
        if (fed[i].part != all[i].part || fed[i].seq != all[i].seq)
            return false;
    return true;
}

static void test_property(void) {
    int bad = 0;
    for (int n = 0; n < 1000; n++)
        bad += !trial(1 + n % MAXP);
    CHECK_INT(bad, 0);
}

/* Not heard from yet = waited for: nothing is fed until it speaks, or its
 * wait runs out (reported once); then it is passed over until it delivers,
 * and what it delivers (older) goes first. */
static void test_wait_bound(void) {
    br_merge_t *m = br_merge_new(1000);
    int a = br_merge_add(m, 0, 0), b = br_merge_add(m, 1, 0), exp;
    br_merge_stats_t st;

    br_merge_set_head(m, a, 500);
    CHECK_INT(br_merge_next(m, 10, &exp), -1);
    CHECK_INT(exp, -1);
    CHECK_INT(br_merge_wait_until(m), 1000);
    br_merge_stats(m, &st);
    CHECK_INT(st.slots, 2);
    CHECK_INT(st.heads, 1);
    CHECK_INT(st.waiting, 1);
    CHECK_INT(br_merge_next(m, 1000, &exp), a);
    CHECK_INT(exp, b);
    br_merge_set_empty(m, a, true, 1000); /* a now waits, from 1000 */
    CHECK_INT(br_merge_next(m, 1500, &exp), -1);
    CHECK_INT(exp, -1);
    br_merge_set_empty(m, b, true, 1500); /* still expired: not extended */
    br_merge_set_head(m, a, 600);
    CHECK_INT(br_merge_next(m, 1500, &exp), a);
    br_merge_set_head(m, b, 100); /* b delivers: it counts again */
    br_merge_set_head(m, a, 700);
    CHECK_INT(br_merge_next(m, 1600, NULL), b);
    br_merge_set_empty(m, b, true, 1600);
    CHECK_INT(br_merge_next(m, 2599, NULL), -1);
    CHECK_INT(br_merge_next(m, 2600, &exp), a);
    CHECK_INT(exp, b);
    br_merge_stats(m, &st);
    CHECK_INT(st.waits_expired, 2);
    CHECK_INT(st.fed, 4);
    br_merge_destroy(m);
}

/* Caught up = not waited for; a removed slot neither holds nor is fed;
 * ties go by order, not by slot number. */
static void test_idle_remove_ties(void) {
    br_merge_t *m = br_merge_new(1000);
    int a = br_merge_add(m, 5, 0), b = br_merge_add(m, 2, 0);
    int c = br_merge_add(m, 9, 0);

    br_merge_set_empty(m, a, false, 0);
    br_merge_set_head(m, b, 10);
    CHECK_INT(br_merge_next(m, 0, NULL), -1); /* c not heard from */
    br_merge_remove(m, c);
    CHECK_INT(br_merge_next(m, 0, NULL), b);
    br_merge_set_empty(m, b, false, 0);
    CHECK_INT(br_merge_next(m, 0, NULL), -1); /* nothing buffered */
    CHECK_INT(br_merge_wait_until(m), INT64_MAX);
    br_merge_set_head(m, a, 10);
    br_merge_set_head(m, b, 10);
    CHECK_INT(br_merge_next(m, 0, NULL), b); /* order 2 before 5 */
    br_merge_remove(m, b);                   /* its head is dropped */
    CHECK_INT(br_merge_next(m, 0, NULL), a);
    int d = br_merge_add(m, 1, 0); /* reuses a number */
    CHECK(d == b || d == c);
    CHECK_INT(br_merge_state(m, d), BR_MERGE_WAITING);
    br_merge_set_empty(m, a, false, 0);
    br_merge_remove(m, d);
    br_merge_stats_t st;
    br_merge_stats(m, &st);
    CHECK_INT(st.slots, 1);
    br_merge_destroy(m);
    br_merge_destroy(NULL);
}

int main(void) {
    test_property();
    test_wait_bound();
    test_idle_remove_ties();
    return brt_done();
}
