/*
 * An external sorter of (key, seq, bytes) records: replay uses it to put a
 * bounded input (files, or stdin once it ends) in event-time order before
 * feeding it. Records are kept in memory up to a limit; beyond it, sorted
 * runs are spilled to one unlinked temporary file and merged with a heap.
 *
 * Order: by key, then seq, then the order records were added, so equal
 * keys keep their order and the output is the same whatever the limit.
 *
 * @locality one thread per sorter.
 */
#ifndef BURNRATE_SORTRUN_H
#define BURNRATE_SORTRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/err.h"

/** Default memory limit of replay's sort: 256 MiB. */
#define BR_SORTRUN_DEFAULT_MEMORY ((size_t)256 << 20)

typedef struct br_sortrun br_sortrun_t;

typedef struct br_sortrun_stats {
    uint64_t records;           /* added */
    uint64_t bytes;             /* payload bytes added */
    uint64_t runs;              /* sorted runs spilled; 0: all in memory */
    uint64_t merge_passes;      /* passes before the last merge (runs beyond
                                   the merge's fan-in) */
    size_t peak_memory_bytes;   /* records and their index, at most */
} br_sortrun_stats_t;

/**
 * @brief A new, empty sorter.
 * @param memory_bytes records and their index held in memory before a run
 *        is spilled (at least one record is always held, however large);
 *        merging adds a fixed ~1 MiB of read buffers.
 * @param tmpdir where the temporary file goes; NULL: $TMPDIR, else /tmp.
 *        Copied. The file is unlinked as soon as it is created, so nothing
 *        is left behind on exit, error or crash.
 * @returns a sorter the caller destroys, or NULL with errstr set.
 */
br_sortrun_t *br_sortrun_new(size_t memory_bytes, const char *tmpdir,
                             char *errstr, size_t errstr_size);

/** Closes (and so removes) the temporary file. NULL is a no-op. */
void br_sortrun_destroy(br_sortrun_t *sr);

/**
 * @brief Add one record; data is copied.
 * @returns BR_ERR_OK; BR_ERR_IO when a run cannot be spilled (errstr names
 *          the directory and the reason); BR_ERR_NOMEM; BR_ERR_INVAL after
 *          br_sortrun_finish().
 */
br_err_t br_sortrun_add(br_sortrun_t *sr, int64_t key, uint64_t seq,
                        const void *data, size_t len, char *errstr,
                        size_t errstr_size);

/** @brief No more records: sort what is in memory, or spill it and merge
 *         runs down to one pass. @returns BR_ERR_OK, BR_ERR_IO, BR_ERR_NOMEM. */
br_err_t br_sortrun_finish(br_sortrun_t *sr, char *errstr,
                           size_t errstr_size);

/**
 * @brief The next record in order (after br_sortrun_finish()).
 * @param data set to the record's bytes, borrowed until the next call or
 *        br_sortrun_destroy().
 * @returns BR_ERR_OK; BR_ERR_NOTFOUND at the end; BR_ERR_IO (a read error
 *          or a truncated run); BR_ERR_INVAL before finish.
 */
br_err_t br_sortrun_next(br_sortrun_t *sr, int64_t *key, uint64_t *seq,
                         const void **data, size_t *len, char *errstr,
                         size_t errstr_size);

void br_sortrun_stats(const br_sortrun_t *sr, br_sortrun_stats_t *stats);

/**
 * @brief Parse a byte size: digits with an optional K, M, G or T suffix
 *        (powers of 1024; "KiB", "MB", "k" alike), e.g. "256M".
 * @returns BR_ERR_OK, or BR_ERR_INVAL (malformed, zero or overflowing).
 */
br_err_t br_sortrun_parse_size(const char *s, size_t *out);

#endif
