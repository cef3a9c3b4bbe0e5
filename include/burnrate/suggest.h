/*
 * "Did you mean": the nearest of a closed set of names to a word someone
 * typed (a config key, a dialect, a time zone), by edit distance. Pure.
 */
#ifndef BURNRATE_SUGGEST_H
#define BURNRATE_SUGGEST_H

#include <stddef.h>

/** @returns the optimal-string-alignment distance between a and b
 *           (insertions, deletions, substitutions and swaps of two
 *           neighbours each cost 1), ignoring ASCII case; capped at 255. */
size_t br_edit_distance(const char *a, const char *b);

/** @returns true when a candidate at distance d from word is close enough
 *           to suggest: d <= max(1, strlen(word) / 3). */
int br_suggest_close(const char *word, size_t d);

/**
 * @brief The nearest of names[0..cnt) to word (cnt may be SIZE_MAX for a
 *        NULL-terminated list; NULL entries are skipped).
 * @returns a borrowed name, or NULL when none is close (br_suggest_close()).
 *          Ties go to the earlier name.
 */
const char *br_suggest(const char *word, const char *const *names, size_t cnt);

#endif
