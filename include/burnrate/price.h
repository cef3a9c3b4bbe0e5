/*
 * Prices per model and token type, loaded from a LiteLLM
 * model_prices_and_context_window.json file (as is) plus config overrides.
 * Prices are int64 femto-units (1e-15) per token, so cheap models keep their
 * precision; a record's cost is rounded once to nano-units.
 */
#ifndef BURNRATE_PRICE_H
#define BURNRATE_PRICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burnrate/err.h"
#include "burnrate/record.h"

typedef struct br_price {
    int64_t femto_per_token[BR_TOK__CNT]; /* 1e-15 currency units per token */
    bool has[BR_TOK__CNT];                /* the table gave this type a price */
} br_price_t;

typedef struct br_prices br_prices_t;

/** @returns a new, empty table the caller destroys. */
br_prices_t *br_prices_new(void);
void br_prices_destroy(br_prices_t *prices);

/**
 * @brief Load every entry of a LiteLLM price file into the table (the
 *        "sample_spec" entry and entries without token prices are skipped).
 *        Keys used: input_cost_per_token, output_cost_per_token,
 *        cache_read_input_token_cost, cache_creation_input_token_cost,
 *        output_cost_per_reasoning_token, litellm_provider.
 * @returns BR_ERR_OK, or BR_ERR_IO / BR_ERR_PARSE with errstr naming the file
 *          (and line/column for bad JSON).
 */
br_err_t br_prices_load_litellm(br_prices_t *prices, const char *path,
                                char *errstr, size_t errstr_size);

/**
 * @brief br_prices_load_litellm() of a file already read: json (len bytes,
 *        borrowed) is its content, path only names it in errors. No I/O.
 * @returns BR_ERR_OK, or BR_ERR_PARSE with errstr "PATH:LINE:COL: why".
 */
br_err_t br_prices_load_litellm_json(br_prices_t *prices, const char *path,
                                     const char *json, size_t len,
                                     char *errstr, size_t errstr_size);

/**
 * @brief Add or replace one model's prices from an override spec such as
 *        "input=0.15,output=0.60,cache_read=0.075" in currency units per
 *        million tokens.
 * @returns BR_ERR_OK or BR_ERR_PARSE with errstr naming the bad part.
 */
br_err_t br_prices_set_spec(br_prices_t *prices, const char *model,
                            const char *spec, char *errstr,
                            size_t errstr_size);

/**
 * @brief Find a model's prices: exact name, then "provider/model", then the
 *        name without a "provider/" prefix, then case-insensitively. No fuzzy
 *        guessing beyond that: an unknown model stays unknown.
 * @param provider may be NULL.
 * @returns borrowed pointer valid while the table lives, or NULL.
 */
const br_price_t *br_prices_lookup(const br_prices_t *prices,
                                   const char *provider, const char *model);

/**
 * @brief Cost of the token counts. Cache and reasoning tokens without their
 *        own price fall back to the input (cache) or output (reasoning) price.
 * @returns BR_ERR_OK or BR_ERR_RANGE on overflow.
 */
br_err_t br_price_cost(const br_price_t *price, const int64_t tokens[BR_TOK__CNT],
                       int64_t *cost_nanos);

/** @returns number of models in the table. */
size_t br_prices_count(const br_prices_t *prices);

#endif
