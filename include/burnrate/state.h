/*
 * The core snapshot (the CORE section of a snapshot file, see
 * schemas/snapshot.md) and what its parts share. src/core/state.c
 * sequences it: br_pipeline_save(), br_pipeline_restore() and
 * br_pipeline_describe() (declared in pipeline.h) write, read and print the
 * parts in the layout's order, each part by the module that owns it:
 *
 *   layout version              state.c
 *   header (bucket, counters,   pipeline.c  br_pipeline_save_head() ...
 *     watermark, finals)
 *   inputs, partitions          pipeline.c  br_pipeline_save_inputs() ...
 *   scopes                      series.c    br_series_save_scopes() ...
 *   series                      series.c    br_series_save() ...
 *     their baselines           baseline.c  br_baseline_save() ...
 *     their incidents           det_incidents.c  br_incidents_save() ...
 *   budgets                     budget.c    br_budget_snap_save() ...
 *   unpriced model names        det_unpriced.c (through pipeline.c's
 *                                           br_pipeline_save_unpriced() ...)
 *   dedup window                pipeline.c  br_pipeline_save_dedup() ...
 *   stale inputs (layout >= 2)  det_stale.c (through pipeline.c's
 *                                           br_pipeline_save_stale() ...)
 *
 * A part saves itself (save), reads itself back from a layout of any
 * version, refusing what is out of bounds, and puts it into a pipeline or
 * hands it to describe (load/read, restore), and prints what it read as JSON
 * (describe). Reads use the sticky-error reader of wire.h: after the first
 * failure every read returns 0, and the sequencer stops at the next part.
 */
#ifndef BURNRATE_STATE_H
#define BURNRATE_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "burnrate/buf.h"
#include "burnrate/money.h"
#include "burnrate/wire.h"

/* Layouts of the CORE section (older ones load). */
#define BR_STATE_LAYOUT 6        /* what br_pipeline_save() writes */
#define BR_STATE_MONEY128 4      /* first layout with 128-bit money */
#define BR_STATE_RINGS 5         /* first layout with sized open-bucket
                                    rings, and late money apart */
#define BR_STATE_DEDUP_AMOUNTS 6 /* first layout whose dedup window is saved
                                    per input with amounts */

/** @returns money of a layout: an int64 varint up to layout 3, 128 bits
 *           since layout 4 (the same bytes for a value within int64). */
br_money_t br_state_rd_money(br_rd_t *r, uint64_t layout);

/** @returns an event time or a period bound: "none" (INT64_MIN or
 *           INT64_MAX) or within about 140,000 years of 1970; beyond that
 *           r fails ("a time out of range"). */
int64_t br_state_rd_time(br_rd_t *r);

/** @returns a bucket index within +/-2^36, or INT64_MIN where none_ok;
 *           beyond that r fails ("bucket index out of range"). */
int64_t br_state_rd_bucket(br_rd_t *r, bool none_ok);

/** @brief Describe helpers: ms as a JSON timestamp string (INT64_MIN:
 *         null); money as a JSON decimal string. */
void br_state_put_ms(br_buf_t *b, int64_t ms);
void br_state_put_money(br_buf_t *b, br_money_t nanos);

#endif
