/*
 * Edit distance for "did you mean": optimal string alignment (Damerau-
 * Levenshtein without repeated edits of one substring), which counts the
 * common typo of two swapped letters as one mistake.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "burnrate/suggest.h"

#define MAX_LEN 254 /* longer words are not typos worth measuring */

size_t br_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    /* Three rows: two back for a swap, one back, this one. */
    unsigned char rows[3][MAX_LEN + 2];
    unsigned char *pp = rows[0], *p = rows[1], *c = rows[2];

    if (la > MAX_LEN || lb > MAX_LEN)
        return 255;
    for (size_t j = 0; j <= lb; j++)
        p[j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = (unsigned char)i;
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]);
            int cb = tolower((unsigned char)b[j - 1]);
            unsigned d = p[j - 1] + (ca != cb);
            if (p[j] + 1u < d)
                d = p[j] + 1u;
            if (c[j - 1] + 1u < d)
                d = c[j - 1] + 1u;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1u < d)
                d = pp[j - 2] + 1u;
            c[j] = (unsigned char)(d > 255 ? 255 : d);
        }
        unsigned char *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}

int br_suggest_close(const char *word, size_t d) {
    size_t limit = strlen(word) / 3;
    return d <= (limit ? limit : 1);
}

const char *br_suggest(const char *word, const char *const *names,
                       size_t cnt) {
    const char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (size_t i = 0; i < cnt; i++) {
        if (cnt == SIZE_MAX && !names[i])
            break;
        if (!names[i])
            continue;
        size_t d = br_edit_distance(word, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best && br_suggest_close(word, best_d) ? best : NULL;
}
