/*
 * Snapshot files and the state directory that keeps them. A snapshot is
 * the pipeline's whole state (an opaque blob from br_pipeline_save()) plus
 * the input offsets it corresponds to, in a self-checking container: magic,
 * format version, payload length and CRC-32C, so a truncated, corrupted or
 * foreign file is never loaded. The layout is documented in
 * schemas/snapshot.md.
 *
 * Files are written to a temporary name, fsynced, renamed and the directory
 * fsynced, so a crash at any moment leaves either the old or the new
 * generation, never half of one. The newest `keep` generations are kept.
 */
#ifndef BURNRATE_SNAPSHOT_H
#define BURNRATE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "burnrate/buf.h"
#include "burnrate/err.h"

#define BR_SNAPSHOT_FORMAT 1        /* container version this build writes */
#define BR_SNAPSHOT_HEADER 32       /* bytes before the payload */

/** The next offset to read of one partition. */
typedef struct br_snap_offset {
    char *topic;                    /* owned */
    int32_t partition;
    int64_t offset;
} br_snap_offset_t;

typedef struct br_snapshot {
    uint32_t format;                /* container version it was read with */
    uint64_t generation;            /* increases by one per write */
    int64_t written_ms;             /* wall clock of the write (information) */
    char *version;                  /* burnrate version that wrote it, owned */
    char *group;                    /* consumer group the offsets belong to,
                                       owned ("" for none) */
    br_snap_offset_t *offsets;      /* owned */
    size_t offset_cnt;
    const void *core;               /* br_pipeline_save() bytes; borrowed
                                       from the encoded input on decode */
    size_t core_len;
} br_snapshot_t;

/** @brief Encode s (version, offsets, core) into out as one file's bytes. */
br_err_t br_snapshot_encode(const br_snapshot_t *s, br_buf_t *out);

/**
 * @brief Check and decode one file's bytes.
 * @param out filled on success; core points into data (keep data alive);
 *        release with br_snapshot_clear().
 * @returns BR_ERR_OK, or BR_ERR_PARSE with errstr saying what is wrong
 *          (foreign file, unknown version, truncated, checksum mismatch).
 */
br_err_t br_snapshot_decode(const void *data, size_t len, br_snapshot_t *out,
                            char *errstr, size_t errstr_size);

void br_snapshot_clear(br_snapshot_t *s);

/** A state directory. */
typedef struct br_snapdir br_snapdir_t;

/**
 * @brief Open (creating if needed) dir, prove it writable with a probe
 *        file, and remove temporary files a crash left behind.
 * @returns a handle, or NULL with errstr naming the directory and the
 *          system error.
 */
br_snapdir_t *br_snapdir_open(const char *dir, int keep, char *errstr,
                              size_t errstr_size);
void br_snapdir_close(br_snapdir_t *sd);
const char *br_snapdir_path(const br_snapdir_t *sd);

/** @returns the generation the next write should carry: one more than the
 *           newest file of the directory (good or bad), or 1. */
uint64_t br_snapdir_next_generation(const br_snapdir_t *sd);

/**
 * @brief Write one encoded snapshot as generation gen durably, then delete
 *        generations beyond `keep`.
 * @returns BR_ERR_OK, or BR_ERR_IO with errstr (the previous generations
 *          are untouched).
 */
br_err_t br_snapdir_write(br_snapdir_t *sd, uint64_t gen, const void *data,
                          size_t len, char *errstr, size_t errstr_size);

/** Told about each file that was rejected and moved aside (".bad"). */
typedef void (*br_snap_bad_fn)(void *opaque, const char *path,
                               const char *reason);

/**
 * @brief Load the newest snapshot that decodes: files that fail are renamed
 *        to "<name>.bad" and reported through on_bad, then the previous
 *        generation is tried.
 * @param bytes receives the file contents (out->core points into it).
 * @param path_out receives the loaded file's path.
 * @returns BR_ERR_OK, BR_ERR_NOTFOUND when no valid snapshot is left, or
 *          BR_ERR_IO when the directory cannot be read.
 */
br_err_t br_snapdir_load(br_snapdir_t *sd, br_buf_t *bytes,
                         br_snapshot_t *out, char *path_out, size_t path_size,
                         br_snap_bad_fn on_bad, void *opaque, char *errstr,
                         size_t errstr_size);

/** @brief Move a loaded file aside ("<path>.bad") whose contents turned out
 *         unusable after all (the pipeline refused them); reported through
 *         on_bad like a file that failed its checks. */
void br_snapdir_reject(br_snapdir_t *sd, const char *path, const char *reason,
                       br_snap_bad_fn on_bad, void *opaque);

/**
 * @brief Read and decode one file (no renaming): `burnrate snapshot show`.
 */
br_err_t br_snapshot_read_file(const char *path, br_buf_t *bytes,
                               br_snapshot_t *out, char *errstr,
                               size_t errstr_size);

/**
 * @brief Read-only: the newest snapshot of dir that decodes (bad files are
 *        skipped, not moved). For inspection tools.
 * @returns BR_ERR_OK, BR_ERR_NOTFOUND, or BR_ERR_IO.
 */
br_err_t br_snapshot_read_newest(const char *dir, br_buf_t *bytes,
                                 br_snapshot_t *out, char *path_out,
                                 size_t path_size, char *errstr,
                                 size_t errstr_size);

/** For tests: replace write(2) in br_snapdir_write(), e.g. to simulate a
 *  full disk; NULL restores write(2). */
void br_snapdir_set_write_fn(br_snapdir_t *sd,
                             ssize_t (*fn)(int fd, const void *buf,
                                           size_t len));

#endif
