/*
 * Exact money: amounts are int64 nano-units (1e-9) of their currency, so sums
 * are exact and independent of order. Finer digits are rounded half away from
 * zero once, when the amount enters the stage.
 */
#ifndef BURNRATE_MONEY_H
#define BURNRATE_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "burnrate/err.h"

#define BR_NANOS_PER_UNIT INT64_C(1000000000)

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
 *        least two decimals: 1500000000 -> "1.50", 800 -> "0.0000008".
 * @returns the length written (always NUL-terminated; 32 bytes suffice).
 */
size_t br_money_format(int64_t nanos, char *buf, size_t size);

/** @returns a * b / c rounded half away from zero, saturating; c > 0. */
int64_t br_muldiv_round(int64_t a, int64_t b, int64_t c);

#endif
