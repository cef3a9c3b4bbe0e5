/*
 * The price table: LiteLLM's model_prices_and_context_window.json loaded as
 * is, plus config overrides, held as exact femto-units per token in an
 * open-addressing hash table so that pricing a record allocates nothing.
 *
 * Names a model is reachable by:
 *  - every LiteLLM key that carries at least one token price, verbatim;
 *  - a key "<litellm_provider>/<rest>" also as "<rest>", unless "<rest>" is a
 *    key itself; when several keys strip to the same "<rest>" with different
 *    prices (e.g. "deepseek/deepseek-r1" vs "azure_ai/deepseek-r1") that
 *    alias is ambiguous and reaches nothing: the caller must name the
 *    provider;
 *  - a name given to br_prices_set_spec() (it replaces what the file said
 *    for that name, whichever order the two arrive in).
 * Lookup tries: exact name; "<provider>/<model>"; the model without its first
 * "<segment>/"; then the same three case-insensitively, where a name that
 * matches several entries with different prices reaches nothing.
 * File prices are converted from the double jansson hands over through its
 * shortest round-trip decimal text, so 2.5e-06 becomes exactly 2500000000.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "burnrate/price.h"

__extension__ typedef __int128 i128;

#define FEMTO_EXP 15          /* femto-units per currency unit: 10^15 */
#define SPEC_EXP 9            /* per 1M tokens -> per token in femto: 10^9 */
#define FEMTO_PER_NANO 1000000 /* 1e-15 -> 1e-9 */
#define NO_ENTRY UINT32_MAX   /* slot marker: ambiguous alias */

typedef struct entry {
    br_price_t price;
    bool override;            /* set by br_prices_set_spec(); file keeps off */
} entry_t;

typedef struct slot {
    char *key;                /* owned; NULL = empty slot */
    uint32_t hash;            /* case-folded FNV-1a of key */
    uint32_t entry;           /* index into entries, or NO_ENTRY */
    bool alias;               /* reached by a stripped provider prefix */
} slot_t;

struct br_prices {
    slot_t *slots;            /* cap slots, cap a power of two */
    size_t cap;
    size_t used;              /* occupied slots */
    entry_t *entries;         /* entry_cnt models */
    size_t entry_cnt;
    size_t entry_cap;
};

/* A name made of up to three pieces ("provider", "/", "model"), so that a
 * lookup can probe for a composed name without building it. */
typedef struct name {
    const char *p[3];
    size_t n[3];
} name_t;

static unsigned char fold(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static uint32_t name_hash(const name_t *nm) {
    uint32_t h = 2166136261u;
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < nm->n[i]; j++) {
            h ^= fold((unsigned char)nm->p[i][j]);
            h *= 16777619u;
        }
    return h;
}

static size_t name_len(const name_t *nm) {
    return nm->n[0] + nm->n[1] + nm->n[2];
}

/* Compare a stored NUL-terminated key against a piecewise name. */
static bool name_eq(const char *key, const name_t *nm, bool nocase) {
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < nm->n[i]; j++, key++) {
            unsigned char a = (unsigned char)*key;
            unsigned char b = (unsigned char)nm->p[i][j];
            if (a == '\0')
                return false;
            if (nocase ? fold(a) != fold(b) : a != b)
                return false;
        }
    return *key == '\0';
}

static name_t name1(const char *s, size_t len) {
    name_t nm = {{s, "", ""}, {len, 0, 0}};
    return nm;
}

static bool price_eq(const br_price_t *a, const br_price_t *b) {
    for (int t = 0; t < BR_TOK__CNT; t++)
        if (a->has[t] != b->has[t] ||
            (a->has[t] && a->femto_per_token[t] != b->femto_per_token[t]))
            return false;
    return true;
}

br_prices_t *br_prices_new(void) {
    br_prices_t *prices = calloc(1, sizeof(*prices));
    if (!prices)
        return NULL;
    prices->cap = 64;
    prices->slots = calloc(prices->cap, sizeof(*prices->slots));
    if (!prices->slots) {
        free(prices);
        return NULL;
    }
    return prices;
}

void br_prices_destroy(br_prices_t *prices) {
    if (!prices)
        return;
    for (size_t i = 0; i < prices->cap; i++)
        free(prices->slots[i].key);
    free(prices->slots);
    free(prices->entries);
    free(prices);
}

size_t br_prices_count(const br_prices_t *prices) {
    return prices ? prices->entry_cnt : 0;
}

/* @returns the slot holding exactly nm, or NULL. */
static slot_t *find_exact(const br_prices_t *prices, const name_t *nm) {
    uint32_t h = name_hash(nm);
    size_t mask = prices->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot_t *s = &prices->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && name_eq(s->key, nm, false))
            return s;
    }
}

/* Case-insensitive match: every key equal to nm up to ASCII case lies on
 * the same probe chain, since the hash folds case.
 * @returns the one price reached, or NULL when none or ambiguous. */
static const br_price_t *find_nocase(const br_prices_t *prices,
                                     const name_t *nm) {
    uint32_t h = name_hash(nm);
    size_t mask = prices->cap - 1;
    const br_price_t *found = NULL;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const slot_t *s = &prices->slots[i];
        if (!s->key)
            return found;
        if (s->hash != h || !name_eq(s->key, nm, true))
            continue;
        if (s->entry == NO_ENTRY)
            return NULL;
        const br_price_t *p = &prices->entries[s->entry].price;
        if (found && !price_eq(found, p))
            return NULL;
        if (!found)
            found = p;
    }
}

static bool grow_slots(br_prices_t *prices) {
    size_t ncap = prices->cap * 2;
    slot_t *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return false;
    for (size_t i = 0; i < prices->cap; i++) {
        slot_t *s = &prices->slots[i];
        if (!s->key)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(prices->slots);
    prices->slots = ns;
    prices->cap = ncap;
    return true;
}

/* Insert a new key (the caller checked it is absent).
 * @returns the slot, or NULL when out of memory. */
static slot_t *insert_key(br_prices_t *prices, const char *key, size_t len,
                          uint32_t entry, bool alias) {
    if ((prices->used + 1) * 2 > prices->cap && !grow_slots(prices))
        return NULL;
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, key, len);
    copy[len] = '\0';
    name_t nm = name1(copy, len);
    uint32_t h = name_hash(&nm);
    size_t mask = prices->cap - 1;
    size_t i = h & mask;
    while (prices->slots[i].key)
        i = (i + 1) & mask;
    slot_t *s = &prices->slots[i];
    s->key = copy;
    s->hash = h;
    s->entry = entry;
    s->alias = alias;
    prices->used++;
    return s;
}

/* @returns the index of a new entry, or NO_ENTRY when out of memory. */
static uint32_t add_entry(br_prices_t *prices, const br_price_t *price,
                          bool override) {
    if (prices->entry_cnt == prices->entry_cap) {
        size_t ncap = prices->entry_cap ? prices->entry_cap * 2 : 256;
        if (ncap >= NO_ENTRY)
            return NO_ENTRY;
        entry_t *ne = realloc(prices->entries, ncap * sizeof(*ne));
        if (!ne)
            return NO_ENTRY;
        prices->entries = ne;
        prices->entry_cap = ncap;
    }
    entry_t *e = &prices->entries[prices->entry_cnt];
    e->price = *price;
    e->override = override;
    return (uint32_t)prices->entry_cnt++;
}

/* Give key its own entry with price: replace the entry an exact key has
 * (unless the file would overwrite an override), or add key. */
static br_err_t put_primary(br_prices_t *prices, const char *key,
                            const br_price_t *price, bool override) {
    name_t nm = name1(key, strlen(key));
    slot_t *s = find_exact(prices, &nm);
    if (s && !s->alias) {
        entry_t *e = &prices->entries[s->entry];
        if (e->override && !override)
            return BR_ERR_OK;
        e->price = *price;
        e->override = override;
        return BR_ERR_OK;
    }
    uint32_t idx = add_entry(prices, price, override);
    if (idx == NO_ENTRY)
        return BR_ERR_NOMEM;
    if (s) {                  /* an alias becomes a name of its own */
        s->entry = idx;
        s->alias = false;
        return BR_ERR_OK;
    }
    return insert_key(prices, key, nm.n[0], idx, false) ? BR_ERR_OK
                                                         : BR_ERR_NOMEM;
}

/* Make alias reach entry idx, unless it is a key of its own; an alias two
 * entries with different prices claim reaches neither. */
static br_err_t put_alias(br_prices_t *prices, const char *alias,
                          uint32_t idx) {
    name_t nm = name1(alias, strlen(alias));
    slot_t *s = find_exact(prices, &nm);
    if (!s)
        return insert_key(prices, alias, nm.n[0], idx, true) ? BR_ERR_OK
                                                              : BR_ERR_NOMEM;
    if (!s->alias || s->entry == NO_ENTRY || s->entry == idx)
        return BR_ERR_OK;
    if (!price_eq(&prices->entries[s->entry].price,
                  &prices->entries[idx].price))
        s->entry = NO_ENTRY;
    return BR_ERR_OK;
}

/**
 * Exact decimal text -> integer value * 10^scale, rounded half away from
 * zero. Accepts [+-]digits[.digits][e[+-]digits] with surrounding blanks.
 * @returns BR_ERR_OK, BR_ERR_PARSE or BR_ERR_RANGE (beyond int64).
 */
static br_err_t decimal_scaled(const char *s, size_t len, int scale,
                               int64_t *out) {
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    /* Significant digits (leading zeros dropped) and the power of ten of
     * the digit after the last one kept: value = digits * 10^exp10. */
    char dig[40];
    size_t nd = 0, seen = 0;
    long exp10 = 0;
    bool point = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.' && !point) {
            point = true;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        seen++;
        if (nd == 0 && c == '0') {
            if (point)
                exp10--;
            continue;
        }
        if (nd < sizeof(dig)) {
            dig[nd++] = c;
            if (point)
                exp10--;
        } else if (!point) {
            exp10++;          /* too many digits: RANGE below anyway */
        }
    }
    if (seen == 0)
        return BR_ERR_PARSE;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i == len)
            return BR_ERR_PARSE;
        long e = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        exp10 += eneg ? -e : e;
    }
    if (i != len)
        return BR_ERR_PARSE;
    /* Keep digits while their power of ten (after scaling) is >= 0. */
    long p = exp10 + scale;   /* power of ten of the last digit kept */
    long keep = (long)nd + (p < 0 ? p : 0);
    uint64_t v = 0;
    const uint64_t lim = (uint64_t)INT64_MAX;
    for (long k = 0; k < keep; k++) {
        unsigned d = (unsigned)(dig[k] - '0');
        if (v > (lim - d) / 10)
            return BR_ERR_RANGE;
        v = v * 10 + d;
    }
    if (nd > 0 && p > 0) {
        for (long k = 0; k < p; k++) {
            if (v > lim / 10)
                return BR_ERR_RANGE;
            v *= 10;
        }
    }
    if (keep >= 0 && keep < (long)nd && dig[keep] >= '5') {
        if (v == lim)
            return BR_ERR_RANGE;
        v++;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return BR_ERR_OK;
}

/* A JSON number as femto-units via its shortest round-trip decimal text. */
static br_err_t json_femto(const json_t *v, int64_t *out) {
    char buf[64];
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
    } else {
        double d = json_real_value(v);
        if (d != d || d - d != 0)
            return BR_ERR_PARSE;
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
            if (strtod(buf, NULL) == d)
                break;
        }
    }
    return decimal_scaled(buf, strlen(buf), FEMTO_EXP, out);
}

static const char *const litellm_keys[BR_TOK__CNT] = {
    [BR_TOK_INPUT] = "input_cost_per_token",
    [BR_TOK_OUTPUT] = "output_cost_per_token",
    [BR_TOK_CACHE_READ] = "cache_read_input_token_cost",
    [BR_TOK_CACHE_WRITE] = "cache_creation_input_token_cost",
    [BR_TOK_REASONING] = "output_cost_per_reasoning_token",
};

/* @returns BR_ERR_OK with *any false when the entry has no token price. */
static br_err_t entry_price(const char *path, const char *key, json_t *obj,
                            br_price_t *price, bool *any, char *errstr,
                            size_t errstr_size) {
    memset(price, 0, sizeof(*price));
    *any = false;
    for (int t = 0; t < BR_TOK__CNT; t++) {
        json_t *v = json_object_get(obj, litellm_keys[t]);
        if (!json_is_number(v))
            continue;         /* absent, null or not a number: no price */
        br_err_t err = json_femto(v, &price->femto_per_token[t]);
        if (err != BR_ERR_OK)
            return br_seterr(errstr, errstr_size, err,
                             "%s: model \"%s\": %s is not a usable price", path, key,
                             litellm_keys[t]);
        if (price->femto_per_token[t] < 0)
            return br_seterr(errstr, errstr_size, BR_ERR_RANGE,
                             "%s: model \"%s\": %s is negative", path, key,
                             litellm_keys[t]);
        price->has[t] = true;
        *any = true;
    }
    return BR_ERR_OK;
}

static br_err_t load_root(br_prices_t *prices, const char *path, json_t *root,
                          json_error_t *jerr, char *errstr,
                          size_t errstr_size);

br_err_t br_prices_load_litellm(br_prices_t *prices, const char *path,
                                char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    return load_root(prices, path, root, &jerr, errstr, errstr_size);
}

br_err_t br_prices_load_litellm_json(br_prices_t *prices, const char *path,
                                     const char *json, size_t len,
                                     char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    return load_root(prices, path, root, &jerr, errstr, errstr_size);
}

/* The table in root (taken; NULL: jerr says why it did not parse). */
static br_err_t load_root(br_prices_t *prices, const char *path, json_t *root,
                          json_error_t *jerr_, char *errstr,
                          size_t errstr_size) {
    br_err_t err = BR_ERR_OK;
    json_error_t jerr = *jerr_;
    const char *key;
    json_t *val;
    if (!root) {
        bool io = json_error_code(&jerr) == json_error_cannot_open_file;
        if (io)
            err = br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: %s", path,
                            jerr.text);
        else
            err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                            "%s:%d:%d: %s", path, jerr.line, jerr.column,
                            jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                        "%s: top level is not a JSON object", path);
        goto out;
    }
    /* Pass 1: every priced key under its own name. */
    json_object_foreach(root, key, val) {
        br_price_t price;
        bool any;
        if (!json_is_object(val) || strcmp(key, "sample_spec") == 0)
            continue;
        err = entry_price(path, key, val, &price, &any, errstr, errstr_size);
        if (err != BR_ERR_OK)
            goto out;
        if (any && (err = put_primary(prices, key, &price, false)) !=
                       BR_ERR_OK) {
            br_seterr(errstr, errstr_size, err, "%s: out of memory", path);
            goto out;
        }
    }
    /* Pass 2: "<provider>/<rest>" keys also as "<rest>", once every key is
     * known, so that a key always wins over an alias. */
    json_object_foreach(root, key, val) {
        const char *prov =
            json_string_value(json_object_get(val, "litellm_provider"));
        size_t plen = prov ? strlen(prov) : 0;
        if (!prov || plen == 0 || strncmp(key, prov, plen) != 0 ||
            key[plen] != '/' || key[plen + 1] == '\0')
            continue;
        name_t nm = name1(key, strlen(key));
        slot_t *s = find_exact(prices, &nm);
        if (!s || s->alias || s->entry == NO_ENTRY ||
            prices->entries[s->entry].override)
            continue;
        if ((err = put_alias(prices, key + plen + 1, s->entry)) != BR_ERR_OK) {
            br_seterr(errstr, errstr_size, err, "%s: out of memory", path);
            goto out;
        }
    }
out:
    json_decref(root);
    return err;
}

/* The token type names of br_tok_name(), as override specs spell them. */
static const char *const spec_keys[BR_TOK__CNT] = {
    [BR_TOK_INPUT] = "input",
    [BR_TOK_OUTPUT] = "output",
    [BR_TOK_CACHE_READ] = "cache_read",
    [BR_TOK_CACHE_WRITE] = "cache_write",
    [BR_TOK_REASONING] = "reasoning",
};

br_err_t br_prices_set_spec(br_prices_t *prices, const char *model,
                            const char *spec, char *errstr,
                            size_t errstr_size) {
    br_price_t price;
    memset(&price, 0, sizeof(price));
    if (!model || !*model)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "price override without a model name");
    bool any = false;
    const char *p = spec ? spec : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "price for \"%s\": \"%.*s\" is not type=amount",
                             model, (int)len, p);
        const char *k = p;
        size_t klen = (size_t)(eq - p);
        while (klen && (*k == ' ' || *k == '\t'))
            k++, klen--;
        while (klen && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
            klen--;
        int tok = -1;
        for (int t = 0; t < BR_TOK__CNT; t++) {
            const char *tn = spec_keys[t];
            if (strlen(tn) == klen && memcmp(tn, k, klen) == 0)
                tok = t;
        }
        if (tok < 0)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "price for \"%s\": unknown token type \"%.*s\" "
                             "(input, output, cache_read, cache_write, "
                             "reasoning)", model, (int)klen, k);
        if (price.has[tok])
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "price for \"%s\": \"%.*s\" given twice", model,
                             (int)klen, k);
        const char *v = eq + 1;
        size_t vlen = len - (size_t)(v - p);
        int64_t femto;
        br_err_t err = decimal_scaled(v, vlen, SPEC_EXP, &femto);
        if (err == BR_ERR_OK && femto < 0)
            err = BR_ERR_RANGE;
        if (err != BR_ERR_OK)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "price for \"%s\": \"%.*s\" is not a price per "
                             "million tokens", model, (int)len, p);
        price.femto_per_token[tok] = femto;
        price.has[tok] = true;
        any = true;
        p = end ? end + 1 : p + len;
        if (end && !*p)
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "price for \"%s\": trailing comma", model);
    }
    if (!any)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "price for \"%s\" is empty", model);
    br_err_t err = put_primary(prices, model, &price, true);
    if (err != BR_ERR_OK)
        return br_seterr(errstr, errstr_size, err, "out of memory");
    return BR_ERR_OK;
}

/* One pass of the lookup rules with exact or case-insensitive matching. */
static const br_price_t *lookup_pass(const br_prices_t *prices,
                                     const char *provider, const char *model,
                                     bool nocase) {
    name_t tries[3];
    size_t n = 0;
    size_t mlen = strlen(model);
    tries[n++] = name1(model, mlen);
    if (provider && *provider) {
        name_t nm = {{provider, "/", model}, {strlen(provider), 1, mlen}};
        tries[n++] = nm;
    }
    const char *slash = strchr(model, '/');
    if (slash && slash[1])
        tries[n++] = name1(slash + 1, mlen - (size_t)(slash + 1 - model));
    for (size_t i = 0; i < n; i++) {
        if (name_len(&tries[i]) == 0)
            continue;
        if (nocase) {
            const br_price_t *p = find_nocase(prices, &tries[i]);
            if (p)
                return p;
        } else {
            const slot_t *s = find_exact(prices, &tries[i]);
            if (s && s->entry != NO_ENTRY)
                return &prices->entries[s->entry].price;
        }
    }
    return NULL;
}

const br_price_t *br_prices_lookup(const br_prices_t *prices,
                                   const char *provider, const char *model) {
    if (!prices || !model || !*model)
        return NULL;
    const br_price_t *p = lookup_pass(prices, provider, model, false);
    return p ? p : lookup_pass(prices, provider, model, true);
}

br_err_t br_price_cost(const br_price_t *price,
                       const int64_t tokens[BR_TOK__CNT], int64_t *cost_nanos) {
    static const int fallback[BR_TOK__CNT] = {
        [BR_TOK_INPUT] = BR_TOK_INPUT,
        [BR_TOK_OUTPUT] = BR_TOK_OUTPUT,
        [BR_TOK_CACHE_READ] = BR_TOK_INPUT,
        [BR_TOK_CACHE_WRITE] = BR_TOK_INPUT,
        [BR_TOK_REASONING] = BR_TOK_OUTPUT,
    };
    /* |product| < 2^126; summing in steps of at most 2^126 against a bound
     * of 2^126 cannot overflow an i128. */
    const i128 bound = (i128)1 << 126;
    i128 total = 0;
    for (int t = 0; t < BR_TOK__CNT; t++) {
        int src = price->has[t] ? t : fallback[t];
        i128 prod = (i128)tokens[t] * price->femto_per_token[src];
        total += prod;
        if (total > bound || total < -bound)
            return BR_ERR_RANGE;
    }
    i128 q = total / FEMTO_PER_NANO, r = total % FEMTO_PER_NANO;
    if (r >= FEMTO_PER_NANO / 2)
        q++;
    else if (r <= -FEMTO_PER_NANO / 2)
        q--;
    if (q > INT64_MAX || q < INT64_MIN)
        return BR_ERR_RANGE;
    *cost_nanos = (int64_t)q;
    return BR_ERR_OK;
}
