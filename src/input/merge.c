/*
 * Event-time merge of partitions: which buffered head goes next, and
 * whether an empty partition with lag must be waited for first. A linear
 * scan per pick: partitions per consumer are tens to hundreds, and the
 * scan is a few compares each.
 */
#include <stdlib.h>

#include "burnrate/merge.h"

typedef struct slot {
    bool used;
    br_merge_state_t state;
    uint64_t order;             /* tie-break between equal event times */
    int64_t event_ms;           /* of the head (state HEAD) */
    int64_t since_ms;           /* waiting since (state WAITING) */
    bool expired;               /* the wait ran out: passed over */
} slot_t;

struct br_merge {
    slot_t *slots;
    size_t cnt, cap;            /* slots allocated / slots array size */
    int64_t wait_max_ms;
    uint64_t fed;
    uint64_t waits_expired;
};

br_merge_t *br_merge_new(int64_t wait_max_ms) {
    br_merge_t *m = calloc(1, sizeof *m);
    if (m)
        m->wait_max_ms = wait_max_ms;
    return m;
}

void br_merge_destroy(br_merge_t *m) {
    if (!m)
        return;
    free(m->slots);
    free(m);
}

int br_merge_add(br_merge_t *m, uint64_t order, int64_t now_ms) {
    size_t i;
    for (i = 0; i < m->cnt && m->slots[i].used; i++)
        ;
    if (i == m->cnt) {
        if (m->cnt == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 16;
            slot_t *ns = realloc(m->slots, cap * sizeof *ns);
            if (!ns)
                return -1;
            m->slots = ns;
            m->cap = cap;
        }
        m->cnt++;
    }
    m->slots[i] = (slot_t){.used = true, .state = BR_MERGE_WAITING,
                           .order = order, .since_ms = now_ms};
    return (int)i;
}

static slot_t *slot_of(const br_merge_t *m, int slot) {
    if (slot < 0 || (size_t)slot >= m->cnt || !m->slots[slot].used)
        return NULL;
    return &m->slots[slot];
}

void br_merge_remove(br_merge_t *m, int slot) {
    slot_t *s = slot_of(m, slot);
    if (!s)
        return;
    s->used = false;
    while (m->cnt > 0 && !m->slots[m->cnt - 1].used)
        m->cnt--;
}

void br_merge_set_head(br_merge_t *m, int slot, int64_t event_ms) {
    slot_t *s = slot_of(m, slot);
    if (!s)
        return;
    s->state = BR_MERGE_HEAD;
    s->event_ms = event_ms;
    s->expired = false;
}

void br_merge_set_empty(br_merge_t *m, int slot, bool lagging, int64_t now_ms) {
    slot_t *s = slot_of(m, slot);
    if (!s)
        return;
    if (!lagging) {
        s->state = BR_MERGE_IDLE;
        s->expired = false;
        return;
    }
    if (s->state != BR_MERGE_WAITING) {
        s->state = BR_MERGE_WAITING;
        s->since_ms = now_ms;
        s->expired = false;
    }
}

br_merge_state_t br_merge_state(const br_merge_t *m, int slot) {
    const slot_t *s = slot_of(m, slot);
    return s ? s->state : BR_MERGE_IDLE;
}

int br_merge_next(br_merge_t *m, int64_t now_ms, int *expired) {
    int best = -1;
    bool wait = false;

    if (expired)
        *expired = -1;
    for (size_t i = 0; i < m->cnt; i++) {
        slot_t *s = &m->slots[i];
        if (!s->used)
            continue;
        if (s->state == BR_MERGE_WAITING && !s->expired) {
            if (now_ms - s->since_ms < m->wait_max_ms) {
                wait = true;
                continue;
            }
            s->expired = true;
            m->waits_expired++;
            if (expired && *expired < 0)
                *expired = (int)i;
        }
        if (s->state != BR_MERGE_HEAD)
            continue;
        if (best < 0 || s->event_ms < m->slots[best].event_ms ||
            (s->event_ms == m->slots[best].event_ms &&
             s->order < m->slots[best].order))
            best = (int)i;
    }
    if (wait || best < 0)
        return -1;
    m->fed++;
    return best;
}

int64_t br_merge_wait_until(const br_merge_t *m) {
    int64_t until = INT64_MAX;
    for (size_t i = 0; i < m->cnt; i++) {
        const slot_t *s = &m->slots[i];
        if (s->used && s->state == BR_MERGE_WAITING && !s->expired &&
            s->since_ms + m->wait_max_ms < until)
            until = s->since_ms + m->wait_max_ms;
    }
    return until;
}

void br_merge_stats(const br_merge_t *m, br_merge_stats_t *out) {
    *out = (br_merge_stats_t){.fed = m->fed, .waits_expired = m->waits_expired};
    for (size_t i = 0; i < m->cnt; i++) {
        const slot_t *s = &m->slots[i];
        if (!s->used)
            continue;
        out->slots++;
        out->heads += s->state == BR_MERGE_HEAD;
        out->waiting += s->state == BR_MERGE_WAITING && !s->expired;
    }
}
