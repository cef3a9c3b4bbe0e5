/*
 * What the fuzz harnesses share: LLVMFuzzerTestOneInput's prototype, the
 * source tree (schemas and fixtures are read once at start), and the small
 * fixed config the pipeline and snapshot harnesses run. Each harness is one
 * .c file built twice: with libFuzzer (BR_FUZZ, clang) and with
 * replay_main.c, which replays the committed corpora in the ordinary suite.
 */
#ifndef BR_FUZZ_H
#define BR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/money.h"
#include "burnrate/record.h"

#ifndef BR_FUZZ_SRC
#error "BR_FUZZ_SRC (the source tree) must be defined by the build"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a harness made of an input, on stderr when BR_FUZZ_VERBOSE is set
 * (replaying one file to see how far it gets). */
static inline int fuzz_verbose(void) {
    static int v = -1;
    if (v < 0)
        v = getenv("BR_FUZZ_VERBOSE") != NULL;
    return v;
}
#define FUZZ_LOG(...)                                                       \
    do {                                                                    \
        if (fuzz_verbose()) {                                               \
            fprintf(stderr, "  ");                                          \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

/* A literal where the API's struct has a char * it never writes through
 * (config structs): the cast through uintptr_t keeps -Wcast-qual quiet. */
#define FUZZ_STR(s) ((char *)(uintptr_t)(s))

/* Stop the run on a broken invariant: libFuzzer reports abort() as a
 * crash and keeps the input. */
#define FUZZ_ASSERT(cond, ...)                                              \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* A file of the source tree, whole and NUL-terminated (the harness cannot
 * run without it: exits). Returns a new buffer the caller frees. */
static inline char *fuzz_slurp(const char *rel, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", BR_FUZZ_SRC, rel);
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!fp || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0 || !(buf = malloc((size_t)n + 1)) ||
        fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "fuzz: cannot read %s\n", path);
        exit(2);
    }
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

/* What decode promises of a record it returned BR_ERR_OK for
 * (include/burnrate/record.h): counts >= 0, an amount within the record
 * bound, at most BR_DIM_MAX dimensions with non-empty values, strings in
 * the arena. */
static inline void fuzz_check_record(const br_record_t *rec) {
    for (int t = 0; t < BR_TOK__CNT; t++)
        FUZZ_ASSERT(rec->tokens[t] >= 0, "token count %d", t);
    if (rec->has_cost)
        FUZZ_ASSERT(br_money_record_ok(rec->cost_nanos), "cost out of bound");
    FUZZ_ASSERT(rec->dim_cnt <= BR_DIM_MAX, "%zu dims", rec->dim_cnt);
    FUZZ_ASSERT(rec->arena_used <= BR_RECORD_ARENA, "arena overrun");
    FUZZ_ASSERT(memchr(rec->currency, '\0', BR_CURRENCY_MAX), "currency");
    for (size_t i = 0; i < rec->dim_cnt; i++)
        FUZZ_ASSERT(rec->dims[i].key && rec->dims[i].value &&
                        rec->dims[i].value[0], "dimension %zu empty", i);
}

/* What follows the inputs in FUZZ_PIPELINE_CONF and in the pipeline
 * harness's Avro and CSV config: scopes, detectors, budgets, dedup and
 * prices, so records meet the same state whatever framing brought them. */
#define FUZZ_CORE_CONF \
    "scopes:\n" \
    "  - name: total\n" \
    "    dims: []\n" \
    "  - name: team\n" \
    "    dims: [team]\n" \
    "  - name: team_model\n" \
    "    dims: [team, model]\n" \
    "  - name: key\n" \
    "    dims: [key]\n" \
    "    max_series: 20\n" \
    "spike:\n" \
    "  bucket: 1h\n" \
    "  min_impact: 5\n" \
    "  warmup: 24\n" \
    "  resolve_after: 2\n" \
    "budgets:\n" \
    "  - name: ml-daily\n" \
    "    match:\n" \
    "      team: ml\n" \
    "    amount: 100\n" \
    "    period: day\n" \
    "    timezone: Europe/Berlin\n" \
    "    thresholds: [50, 100]\n" \
    "  - name: rolling\n" \
    "    amount: 10\n" \
    "    period: rolling\n" \
    "    window: 6h\n" \
    "    thresholds: [80]\n" \
    "dedup:\n" \
    "  window: 6h\n" \
    "  max_ids: 1000\n" \
    "prices:\n" \
    "  models:\n" \
    "    tiny:\n" \
    "      input: 1.0\n" \
    "      output: 2.0\n" \
    "    gpt-4o:\n" \
    "      input: 2.50\n" \
    "      output: 10.00\n" \
    "    gpt-4o-mini:\n" \
    "      input: 0.15\n" \
    "      output: 0.60\n"

/* The pipeline of the pipeline and snapshot harnesses: the "usage" input
 * and scopes are those tests/test_snapshot.c wrote tests/snapshot/v*.brs
 * with, so those files restore in full; the other inputs give every
 * message the token dialects, both billing dialects (focus replaces
 * restated rows, cur here keeps the first) and a clock limit (max_future)
 * too: every dialect's records meet pricing, dedup and state. The
 * snapshot harness restores its corpus into this config: its inputs stay
 * as they are (the pipeline harness's Avro and CSV inputs have a config
 * of their own, fuzz_pipeline.c). */
static const char *const FUZZ_PIPELINE_CONF =
    "inputs:\n"
    "  - name: usage\n"
    "    topic: usage\n"
    "    dialect: custom\n"
    "    lateness: 0s\n"
    "    mapping:\n"
    "      time: ts\n"
    "      cost: cost\n"
    "      id: rid\n"
    "      model: model\n"
    "      input_tokens: in\n"
    "      output_tokens: out\n"
    "      dims:\n"
    "        team: team\n"
    "        key: key\n"
    "  - name: tokens\n"
    "    topic: tokens\n"
    "    dialect: openai\n"
    "    lateness: 1h\n"
    "    max_future: 1d\n"
    "  - name: billing\n"
    "    topic: billing\n"
    "    dialect: focus\n"
    "  - name: spans\n"
    "    topic: spans\n"
    "    dialect: otel\n"
    "  - name: claude\n"
    "    topic: claude\n"
    "    dialect: anthropic\n"
    "  - name: proxy\n"
    "    topic: proxy\n"
    "    dialect: litellm\n"
    "  - name: bedrock\n"
    "    topic: bedrock\n"
    "    dialect: bedrock\n"
    "  - name: cur\n"
    "    topic: cur\n"
    "    dialect: cur\n"
    "    restatements: duplicate\n"
    FUZZ_CORE_CONF;

#endif
