/*
 * Exact money: amounts are int64 nano-units (1e-9) of their currency, so sums
 * are exact and independent of order. Finer digits are rounded half away from
 * zero once, when the amount enters the stage.
 *
 * One record's amount is an int64_t within +/-BR_MONEY_RECORD_MAX_NANOS;
 * every sum of amounts (buckets, totals, budget spend, incident figures) is
 * a br_money_t of 128 bits. A sum over at most 2^64 records (every counter
 * of messages is a uint64_t) of at most 9e18 nanos each stays below
 * 1.67e38 < 2^127, so plain + and - on br_money_t cannot wrap.
 */
#ifndef BURNRATE_MONEY_H
#define BURNRATE_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "burnrate/err.h"

#define BR_NANOS_PER_UNIT INT64_C(1000000000)

/** A sum of nano-units (or an amount derived from sums): 128-bit signed. */
__extension__ typedef __int128 br_money_t;
/** 2^127 - 1, the largest br_money_t. */
#define BR_MONEY_MAX \
    ((((br_money_t)1 << 126) - 1) + ((br_money_t)1 << 126))

/** The largest |amount| of one record: 9e9 currency units. Beyond it a
 *  record is a dead letter (BR_ERR_RANGE), parsed or priced from tokens. */
#define BR_MONEY_RECORD_MAX_NANOS INT64_C(9000000000000000000)
#define BR_MONEY_RECORD_MAX_TEXT "9e9"

/** Bytes that hold any br_money_format() text with its NUL. */
#define BR_MONEY_STR_MAX 48

/** @returns true when |nanos| is within the per-record bound. */
static inline int br_money_record_ok(int64_t nanos) {
    return nanos >= -BR_MONEY_RECORD_MAX_NANOS &&
           nanos <= BR_MONEY_RECORD_MAX_NANOS;
}

/**
 * @brief Parse a decimal amount ("12", "-0.00000080000", "1.5e-7", "+3.",
 *        surrounding blanks allowed) exactly into nano-units.
 * @param s borrowed; need not be NUL-terminated.
 * @returns BR_ERR_OK, BR_ERR_PARSE for anything that is not a finite decimal
 *          number (NaN, Inf, hex, empty), BR_ERR_RANGE past +/-9.2e9 units.
 */
br_err_t br_money_parse(const char *s, size_t len, int64_t *out_nanos);

/**
 * @brief Convert a binary double (as a JSON parser hands it over) to
 *        nano-units via its shortest round-trip decimal form, so that a
 *        producer's "0.1" stays exactly 100000000 nanos.
 * @returns BR_ERR_OK, BR_ERR_PARSE for NaN/Inf, BR_ERR_RANGE when too large.
 */
br_err_t br_money_from_double(double v, int64_t *out_nanos);

/**
 * @brief Format nanos as a plain decimal with trailing zeros trimmed but at
 *        least two decimals: 1500000000 -> "1.50", 800 -> "0.0000008";
 *        every digit of a 128-bit sum, exactly.
 * @returns the length written (always NUL-terminated; BR_MONEY_STR_MAX
 *          bytes suffice).
 */
size_t br_money_format(br_money_t nanos, char *buf, size_t size);

/** @returns the double nearest to v (for estimates: baselines, ratios). */
double br_money_to_double(br_money_t v);

/** @returns an estimate (a forecast, a pace x window) as money: v rounded
 *           half away from zero, saturating at +/-2^120; NaN gives 0. */
br_money_t br_money_from_double_est(double v);

/** @returns v rounded half away from zero to a multiple of unit (> 0). */
br_money_t br_money_round_to(br_money_t v, int64_t unit);

/**
 * @returns num * scale / den rounded half away from zero, saturating to
 *          int64; 0 when den <= 0. Exact while |num| * scale fits 127 bits,
 *          else through long double (a ratio of amounts beyond 1e25 units).
 */
int64_t br_money_ratio(br_money_t num, br_money_t den, int64_t scale);

/** @returns v clamped to the int64 range. */
int64_t br_money_clamp64(br_money_t v);

/** @returns a * b / c rounded half away from zero, saturating; c > 0. */
int64_t br_muldiv_round(int64_t a, int64_t b, int64_t c);

#endif
