/*
 * Event-time merge of partitions (after Kafka Streams' KIP-353/KIP-695):
 * each slot is one partition with at most one decoded record buffered (its
 * head). The next record to feed is the oldest head, and only when no slot
 * that may still deliver something older is empty: a slot with lag (or not
 * known yet) and nothing buffered is waited for, up to a bound in wall
 * clock, after which it is passed over until it delivers again. A slot
 * caught up with nothing buffered is not waited for.
 *
 * Pure: no clocks, no I/O. The caller owns the records and says what each
 * slot holds; the merge only orders. When every partition is itself in
 * event-time order and no wait runs out, the feed order equals a stable
 * sort of all records by (event time, slot order), whatever the arrival
 * interleaving.
 *
 * @locality one thread.
 */
#ifndef BURNRATE_MERGE_H
#define BURNRATE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum br_merge_state {
    BR_MERGE_WAITING, /* nothing buffered and lag, or not known yet */
    BR_MERGE_HEAD,    /* one record buffered */
    BR_MERGE_IDLE,    /* nothing buffered, caught up: not waited for */
} br_merge_state_t;

typedef struct br_merge br_merge_t;

typedef struct br_merge_stats {
    size_t slots;               /* slots in use */
    size_t heads;               /* of them, with a record buffered */
    size_t waiting;             /* of them, waited for now (not expired) */
    uint64_t fed;               /* records picked by br_merge_next() */
    uint64_t waits_expired;     /* waits that ran out (the slot was passed
                                   over until it delivered) */
} br_merge_stats_t;

/**
 * @brief A merge that waits for a lagging slot at most wait_max_ms.
 * @returns a new merge the caller destroys, or NULL out of memory.
 */
br_merge_t *br_merge_new(int64_t wait_max_ms);
void br_merge_destroy(br_merge_t *m);

/**
 * @brief A new slot (a partition assigned or planned), waited for from
 *        now_ms: it counts before it has delivered anything.
 * @param order breaks ties between equal event times (smaller first); give
 *        each partition a stable one (input, topic, partition).
 * @returns the slot, >= 0, or -1 out of memory.
 */
int br_merge_add(br_merge_t *m, uint64_t order, int64_t now_ms);

/** @brief Forget slot (revoked or done); a head it held is dropped. The
 *         number may be given to a later br_merge_add(). */
void br_merge_remove(br_merge_t *m, int slot);

/** @brief Slot holds one record of event time event_ms. */
void br_merge_set_head(br_merge_t *m, int slot, int64_t event_ms);

/**
 * @brief Slot holds nothing (its head was fed, or it had none): lagging
 *        means more is known (or may be) to come, so it is waited for;
 *        otherwise it is idle. A wait runs from the moment the slot last
 *        stopped holding a record or being idle, so calling this again
 *        while it is waiting does not extend it.
 */
void br_merge_set_empty(br_merge_t *m, int slot, bool lagging, int64_t now_ms);

/** @returns what slot holds. */
br_merge_state_t br_merge_state(const br_merge_t *m, int slot);

/**
 * @brief The slot whose head to feed now: the smallest (event time, order)
 *        among heads, provided no slot is waited for. The caller feeds that
 *        head and then calls set_head() or set_empty() for the slot.
 * @param expired when non-NULL, set to a slot whose wait ran out in this
 *        call (once per wait, for a log line), else -1.
 * @returns the slot, or -1: nothing buffered, or a slot must be waited for.
 */
int br_merge_next(br_merge_t *m, int64_t now_ms, int *expired);

/** @returns when the earliest wait runs out (INT64_MAX: none waiting). */
int64_t br_merge_wait_until(const br_merge_t *m);

void br_merge_stats(const br_merge_t *m, br_merge_stats_t *out);

#endif
