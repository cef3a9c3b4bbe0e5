/*
 * avro-c writes datums (alerts, and only those schemas reach it); this file
 * reads datums and object container files itself and adds what avro-c 1.11
 * lacks:
 *
 * - Logical types. avro-c keeps none, so each schema is compiled from
 *   its JSON text into a small node tree that knows decimals, timestamps
 *   and dates; values come out as the exact text a JSON producer sends.
 * - Schema resolution. avro-c's resolved reader (1.11.1) cannot default a
 *   reader field the writer lacks and double-frees trying, so a datum is
 *   read with its writer schema and resolved against the reader's nodes
 *   while it becomes JSON: fields renamed by alias, dropped or defaulted,
 *   ints promoted, union branches matched, enum symbols mapped. The pair is
 *   checked once when the reader is made, so an incompatible writer schema
 *   is refused before any of its messages is read.
 * - Object container files read block by block with their codecs
 *   (burnrate/codec.h), every stated length checked before it is used.
 * - A reader that checks what it reads. avro-c allocates a string of the
 *   length a datum claims before it finds the datum too short (and, in
 *   1.11.1, whatever a negative length plus one makes); a separate bounds
 *   check in front of it disagreed with it once (issue 15). So one reader,
 *   driven by the writer schema, checks every length and count against the
 *   bytes left and makes the JSON in the same pass.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "burnrate/avro.h"
#include "burnrate/codec.h"
#include "burnrate/ts.h"

#define MAX_DEPTH 64

__extension__ typedef unsigned __int128 u128;

typedef enum {
    K_NULL, K_BOOLEAN, K_INT, K_LONG, K_FLOAT, K_DOUBLE, K_BYTES, K_STRING,
    K_RECORD, K_ENUM, K_ARRAY, K_MAP, K_UNION, K_FIXED
} kind_t;

static const char *const kind_names[] = {
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
    "record", "enum", "array", "map", "union", "fixed"};

typedef enum { LT_NONE, LT_DATE, LT_TS_MILLIS, LT_TS_MICROS, LT_DECIMAL } lt_t;

typedef struct node node_t;

typedef struct field {
    const char *name;           /* borrowed from the schema's JSON */
    json_t *aliases;            /* borrowed; array or NULL */
    json_t *deflt;              /* borrowed; NULL when there is none */
    node_t *type;
} field_t;

struct node {
    kind_t kind;
    lt_t logical;
    int scale;                  /* decimal */
    size_t size;                /* fixed */
    char *name;                 /* full name of a named type, owned */
    size_t n;                   /* fields, branches or symbols */
    field_t *fields;            /* record */
    node_t **branches;          /* union */
    node_t *items;              /* array items, map values */
    json_t *symbols;            /* enum, borrowed */
    const char *enum_default;   /* enum, borrowed */
    bool zero;                  /* a value may take no bytes (null, fixed of
                                   0, a record of such fields) */
};

struct br_avro_schema {
    json_t *json;
    node_t *root;
    node_t **nodes;             /* every node, owned */
    size_t node_cnt, node_cap;
};

/* ---- compiling a schema's JSON into nodes ----------------------------- */

typedef struct compiler {
    br_avro_schema_t *s;
    char err[256];
} compiler_t;

static node_t *node_new(compiler_t *c, kind_t kind) {
    br_avro_schema_t *s = c->s;
    if (s->node_cnt == s->node_cap) {
        size_t cap = s->node_cap ? s->node_cap * 2 : 16;
        node_t **nn = realloc(s->nodes, cap * sizeof *nn);
        if (!nn)
            return NULL;
        s->nodes = nn;
        s->node_cap = cap;
    }
    node_t *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    s->nodes[s->node_cnt++] = n;
    return n;
}

static int primitive_kind(const char *t) {
    for (int k = K_NULL; k <= K_STRING; k++)
        if (!strcmp(t, kind_names[k]))
            return k;
    return -1;
}

/* The full name of `name` declared or referenced in namespace ns. */
static char *full_name(const char *name, const char *ns) {
    size_t nl = strlen(name), sl = ns ? strlen(ns) : 0;
    char *out = malloc(nl + sl + 2);
    if (!out)
        return NULL;
    if (strchr(name, '.') || !sl)
        memcpy(out, name, nl + 1);
    else
        snprintf(out, nl + sl + 2, "%s.%s", ns, name);
    return out;
}

static node_t *lookup(compiler_t *c, const char *name, const char *ns) {
    char *full = full_name(name, ns);
    node_t *hit = NULL;
    for (size_t i = 0; full && i < c->s->node_cnt && !hit; i++)
        if (c->s->nodes[i]->name && !strcmp(c->s->nodes[i]->name, full))
            hit = c->s->nodes[i];
    for (size_t i = 0; i < c->s->node_cnt && !hit; i++)
        if (c->s->nodes[i]->name && !strcmp(c->s->nodes[i]->name, name))
            hit = c->s->nodes[i];
    free(full);
    return hit;
}

static node_t *compile(compiler_t *c, json_t *j, const char *ns, int depth);

static node_t *compile_named(compiler_t *c, json_t *j, kind_t kind,
                             const char *ns, int depth) {
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *jns = json_string_value(json_object_get(j, "namespace"));
    node_t *n = node_new(c, kind);
    if (!n || !name)
        return NULL;
    if (jns && !strchr(name, '.'))
        ns = jns;
    n->name = full_name(name, ns);
    if (!n->name)
        return NULL;
    /* A name defined twice is not a schema (and avro-c, which would parse
     * it next, leaks the first definition when it refuses it). */
    for (size_t i = 0; i + 1 < c->s->node_cnt; i++)
        if (c->s->nodes[i]->name && !strcmp(c->s->nodes[i]->name, n->name)) {
            snprintf(c->err, sizeof c->err, "the name \"%s\" is defined twice",
                     n->name);
            return NULL;
        }
    /* Names in a dotted name's scope take its namespace. */
    char *dot = strrchr(n->name, '.');
    char inner[512] = "";
    if (dot)
        snprintf(inner, sizeof inner, "%.*s", (int)(dot - n->name), n->name);
    if (kind == K_FIXED) {
        json_int_t size = json_integer_value(json_object_get(j, "size"));
        n->size = size > 0 ? (size_t)size : 0;
    } else if (kind == K_ENUM) {
        n->symbols = json_object_get(j, "symbols");
        n->n = json_array_size(n->symbols);
        n->enum_default = json_string_value(json_object_get(j, "default"));
    } else {
        json_t *fields = json_object_get(j, "fields");
        n->n = json_array_size(fields);
        n->fields = calloc(n->n + 1, sizeof *n->fields);
        if (!n->fields)
            return NULL;
        for (size_t i = 0; i < n->n; i++) {
            json_t *f = json_array_get(fields, i);
            field_t *fd = &n->fields[i];
            fd->name = json_string_value(json_object_get(f, "name"));
            fd->aliases = json_object_get(f, "aliases");
            fd->deflt = json_object_get(f, "default");
            fd->type = compile(c, json_object_get(f, "type"), inner, depth + 1);
            if (!fd->name || !fd->type)
                return NULL;
        }
    }
    return n;
}

static node_t *compile(compiler_t *c, json_t *j, const char *ns, int depth) {
    if (depth > MAX_DEPTH) {
        snprintf(c->err, sizeof c->err, "nested deeper than %d levels",
                 MAX_DEPTH);
        return NULL;
    }
    if (json_is_string(j)) {
        int k = primitive_kind(json_string_value(j));
        if (k >= 0)
            return node_new(c, (kind_t)k);
        node_t *n = lookup(c, json_string_value(j), ns);
        if (!n)
            snprintf(c->err, sizeof c->err, "unknown type \"%s\"",
                     json_string_value(j));
        return n;
    }
    if (json_is_array(j)) {
        node_t *n = node_new(c, K_UNION);
        if (!n)
            return NULL;
        n->n = json_array_size(j);
        n->branches = calloc(n->n + 1, sizeof *n->branches);
        if (!n->branches)
            return NULL;
        for (size_t i = 0; i < n->n; i++)
            if (!(n->branches[i] = compile(c, json_array_get(j, i), ns,
                                           depth + 1)))
                return NULL;
        return n;
    }
    json_t *t = json_object_get(j, "type");
    if (!json_is_string(t))
        return compile(c, t, ns, depth + 1);
    const char *type = json_string_value(t);
    const char *logical = json_string_value(json_object_get(j, "logicalType"));
    node_t *n = NULL;
    if (!strcmp(type, "record") || !strcmp(type, "error"))
        n = compile_named(c, j, K_RECORD, ns, depth);
    else if (!strcmp(type, "enum"))
        n = compile_named(c, j, K_ENUM, ns, depth);
    else if (!strcmp(type, "fixed"))
        n = compile_named(c, j, K_FIXED, ns, depth);
    else if (!strcmp(type, "array") || !strcmp(type, "map")) {
        n = node_new(c, type[0] == 'a' ? K_ARRAY : K_MAP);
        if (n && !(n->items = compile(c, json_object_get(j, type[0] == 'a'
                                                                ? "items"
                                                                : "values"),
                                      ns, depth + 1)))
            return NULL;
    } else if (primitive_kind(type) >= 0) {
        n = node_new(c, (kind_t)primitive_kind(type));
    } else {
        return compile(c, t, ns, depth + 1); /* {"type": "SomeName"} */
    }
    if (!n || !logical)
        return n;
    /* Logical types on the wrong base type are ignored, as the spec says. */
    if (!strcmp(logical, "date") && n->kind == K_INT)
        n->logical = LT_DATE;
    else if ((!strcmp(logical, "timestamp-millis") ||
              !strcmp(logical, "local-timestamp-millis")) &&
             n->kind == K_LONG)
        n->logical = LT_TS_MILLIS;
    else if ((!strcmp(logical, "timestamp-micros") ||
              !strcmp(logical, "local-timestamp-micros")) &&
             n->kind == K_LONG)
        n->logical = LT_TS_MICROS;
    else if (!strcmp(logical, "decimal") &&
             (n->kind == K_BYTES || n->kind == K_FIXED)) {
        json_int_t scale = json_integer_value(json_object_get(j, "scale"));
        if (scale >= 0 && scale <= 38) {
            n->logical = LT_DECIMAL;
            n->scale = (int)scale;
        }
    }
    return n;
}

/* Which nodes may take no bytes: the least fixpoint, so a record that
 * contains itself never does. */
static void mark_zero(br_avro_schema_t *s) {
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < s->node_cnt; i++) {
            node_t *n = s->nodes[i];
            bool z = n->kind == K_NULL || (n->kind == K_FIXED && !n->size);
            if (n->kind == K_RECORD) {
                z = true;
                for (size_t k = 0; k < n->n && z; k++)
                    z = n->fields[k].type->zero;
            }
            if (z && !n->zero) {
                n->zero = true;
                changed = true;
            }
        }
    }
}

br_avro_schema_t *br_avro_schema_parse(const char *json, size_t len,
                                       char *errstr, size_t errstr_size) {
    json_error_t jerr;
    br_avro_schema_t *s = calloc(1, sizeof *s);
    if (!s) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->json = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
    if (!s->json) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                  "schema is not JSON: %s (line %d)", jerr.text, jerr.line);
        goto fail;
    }
    /* Only our own compiler reads a schema that decodes: avro-c sees a
     * schema only when an encoder is made of it (br_avro_encoder_new()),
     * so what a registry or a file header sends never reaches it. */
    compiler_t c = {.s = s};
    s->root = compile(&c, s->json, "", 0);
    if (!s->root && c.err[0]) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE, "Avro schema: %s", c.err);
        goto fail;
    }
    if (!s->root) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE, "Avro schema: %s",
                  "out of memory");
        goto fail;
    }
    mark_zero(s);
    return s;
fail:
    br_avro_schema_free(s);
    return NULL;
}

void br_avro_schema_free(br_avro_schema_t *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->node_cnt; i++) {
        free(s->nodes[i]->name);
        free(s->nodes[i]->fields);
        free(s->nodes[i]->branches);
        free(s->nodes[i]);
    }
    free(s->nodes);
    json_decref(s->json);
    free(s);
}

/* ---- resolution rules ------------------------------------------------- */

static const char *short_name(const char *full) {
    const char *dot = full ? strrchr(full, '.') : NULL;
    return dot ? dot + 1 : full ? full : "";
}

/* Whether a writer value of kind w is readable as kind r (the spec's
 * promotions). */
static bool promotes(kind_t w, kind_t r) {
    if (w == r)
        return true;
    switch (w) {
    case K_INT:
        return r == K_LONG || r == K_FLOAT || r == K_DOUBLE;
    case K_LONG:
        return r == K_FLOAT || r == K_DOUBLE;
    case K_FLOAT:
        return r == K_DOUBLE;
    case K_STRING:
        return r == K_BYTES;
    case K_BYTES:
        return r == K_STRING;
    default:
        return false;
    }
}

/* The reader union's branch for a (non-union) writer type: the same type
 * (same name first, for named types), else the first it promotes to. */
static const node_t *pick_branch(const node_t *w, const node_t *ru) {
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < ru->n; i++) {
            const node_t *b = ru->branches[i];
            if (pass == 0 && b->kind == w->kind &&
                (!w->name || !strcmp(short_name(b->name), short_name(w->name))))
                return b;
            if (pass == 1 && b->kind == w->kind)
                return b;
            if (pass == 2 && promotes(w->kind, b->kind))
                return b;
        }
    return NULL;
}

static bool has_alias(const field_t *rf, const char *name) {
    size_t i;
    json_t *a;
    json_array_foreach(rf->aliases, i, a) if (json_is_string(a) &&
                                              !strcmp(json_string_value(a), name))
        return true;
    return false;
}

/* The writer field the reader's field rf reads (by name, else alias). */
static const field_t *writer_field(const node_t *w, const field_t *rf,
                                   size_t hint) {
    if (hint < w->n && !strcmp(w->fields[hint].name, rf->name))
        return &w->fields[hint];
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->fields[i].name, rf->name))
            return &w->fields[i];
    for (size_t i = 0; i < w->n; i++)
        if (has_alias(rf, w->fields[i].name))
            return &w->fields[i];
    return NULL;
}

/* The reader's field for writer field wf, or NULL: the reader drops it. */
static const field_t *reader_field(const node_t *r, const field_t *wf,
                                   size_t hint) {
    if (hint < r->n && !strcmp(r->fields[hint].name, wf->name))
        return &r->fields[hint];
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->fields[i].name, wf->name))
            return &r->fields[i];
    for (size_t i = 0; i < r->n; i++)
        if (has_alias(&r->fields[i], wf->name))
            return &r->fields[i];
    return NULL;
}

/* Put `name` (and a dot) before the field path in why. */
static void prefix(char *why, size_t size, const char *name) {
    size_t nl = strlen(name), wl = strlen(why);
    size_t add = nl + (wl && why[0] != '[' ? 1 : 0);
    if (add + wl + 1 > size)
        return; /* too deep to name: keep the inner part */
    memmove(why + add, why, wl + 1);
    memcpy(why, name, nl);
    if (add > nl)
        why[nl] = '.';
}

/* Whether every datum of w could be read as r; why names the first field
 * that cannot. A writer union passes when one of its branches fits (a
 * datum in another branch is refused when it comes), as do enums whose
 * symbols differ (a symbol the reader lacks is refused per datum). */
static bool compatible(const node_t *w, const node_t *r, int depth, char *why,
                       size_t why_size, char *what, size_t what_size) {
    if (depth > MAX_DEPTH)
        return true; /* a recursive type: checked once round the loop */
    if (w->kind == K_UNION) {
        for (size_t i = 0; i < w->n; i++)
            if (compatible(w->branches[i], r, depth + 1, why, why_size, what,
                           what_size))
                return true;
        return false;
    }
    if (r->kind == K_UNION) {
        const node_t *b = pick_branch(w, r);
        if (!b) {
            snprintf(what, what_size,
                     "the writer's %s fits no branch of the reader's union",
                     kind_names[w->kind]);
            why[0] = '\0';
            return false;
        }
        return compatible(w, b, depth + 1, why, why_size, what, what_size);
    }
    if (!promotes(w->kind, r->kind)) {
        snprintf(what, what_size, "the writer's %s cannot be read as %s",
                 kind_names[w->kind], kind_names[r->kind]);
        why[0] = '\0';
        return false;
    }
    switch (r->kind) {
    case K_RECORD:
        for (size_t i = 0; i < r->n; i++) {
            const field_t *rf = &r->fields[i];
            const field_t *wf = writer_field(w, rf, i);
            if (!wf && !rf->deflt) {
                snprintf(what, what_size,
                         "is not in the writer schema and has no default");
                snprintf(why, why_size, "%s", rf->name);
                return false;
            }
            if (wf && !compatible(wf->type, rf->type, depth + 1, why, why_size,
                                  what, what_size)) {
                prefix(why, why_size, rf->name);
                return false;
            }
        }
        return true;
    case K_ARRAY:
    case K_MAP:
        return compatible(w->items, r->items, depth + 1, why, why_size, what,
                          what_size);
    case K_FIXED:
        if (w->size != r->size) {
            snprintf(what, what_size, "fixed of %zu bytes, reader %zu",
                     w->size, r->size);
            why[0] = '\0';
            return false;
        }
        return true;
    default:
        return true;
    }
}

/* ---- reading datums --------------------------------------------------- */

/*
 * One reader, driven by the writer schema, both checks a datum and turns it
 * into JSON (resolved against the reader's nodes on the way), so nothing can
 * disagree about where a datum's values lie. Every length and block count is
 * checked against the bytes left before anything is made of it: a string is
 * copied out only once its bytes are there, an array or map block claims no
 * more items than the bytes left could hold (one byte each at least), and
 * items that take no bytes at all (an array of nulls) are limited to the
 * datum's length in all, so what a datum makes is bounded by its size.
 */

typedef struct walk {
    const unsigned char *p, *start, *end;
    size_t zero_left;           /* zero-byte items the datum may still hold */
    bool type;                  /* the failure is a value the reader cannot
                                   take (TYPE), not bad encoding (PARSE) */
    char what[256];             /* what is wrong */
    char where[256];            /* field path, built on the way out */
} walk_t;

static bool walk_fail(walk_t *w, const char *what) {
    if (!w->what[0])
        snprintf(w->what, sizeof w->what, "%s at byte %zu", what,
                 (size_t)(w->p - w->start));
    return false;
}

__attribute__((format(printf, 2, 3)))
static bool type_fail(walk_t *w, const char *fmt, ...) {
    if (!w->what[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->what, sizeof w->what, fmt, ap);
        va_end(ap);
        w->type = true;
    }
    return false;
}

/* A zigzag varint of at most max_bytes bytes (5 for int and enum, 10 for
 * long): a longer one, or a tenth byte carrying bits beyond 64, is bad. */
static bool walk_long(walk_t *w, int64_t *out, int max_bytes) {
    uint64_t v = 0;
    for (int shift = 0, i = 0; i < max_bytes; i++, shift += 7) {
        if (w->p >= w->end)
            return walk_fail(w, "truncated");
        unsigned char b = *w->p++;
        if (i == 9 && b > 1)
            return walk_fail(w, "a varint beyond 64 bits");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return true;
        }
    }
    return walk_fail(w, "a varint longer than its type allows");
}

/* The next n bytes, or NULL when fewer are left. */
static const unsigned char *walk_take(walk_t *w, uint64_t n) {
    if ((uint64_t)(w->end - w->p) < n) {
        walk_fail(w, "truncated");
        return NULL;
    }
    const unsigned char *at = w->p;
    w->p += n;
    return at;
}

/* A length-prefixed string or bytes value: its length is checked against
 * the bytes left before it is used. */
static const unsigned char *walk_string(walk_t *w, size_t *len) {
    int64_t v;
    if (!walk_long(w, &v, 10))
        return NULL;
    if (v < 0) {
        walk_fail(w, "a negative length");
        return NULL;
    }
    *len = (size_t)v;
    return walk_take(w, (uint64_t)v);
}

/* Exact decimal text of a big-endian two's complement unscaled integer. */
static json_t *decimal_text(const unsigned char *b, size_t n, int scale) {
    if (n == 0 || n > 16)
        return json_null();
    u128 u = 0;
    bool neg = b[0] & 0x80;
    for (size_t i = 0; i < n; i++)
        u = (u << 8) | b[i];
    if (neg) {
        if (n < 16)
            u |= ~(u128)0 << (8 * n);
        u = ~u + 1;
    }
    char digits[64];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (nd <= scale)
        digits[nd++] = '0';
    char out[80];
    int o = 0;
    if (neg)
        out[o++] = '-';
    for (int i = nd - 1; i >= 0; i--) {
        out[o++] = digits[i];
        if (i == scale && scale > 0)
            out[o++] = '.';
    }
    out[o] = '\0';
    return json_string(out);
}

static json_t *time_text(int64_t ms, bool date) {
    char t[40];
    if (ms < -62135596800000 || ms > 253402300799999)
        return NULL;
    br_ts_format(ms, t, sizeof t);
    if (date)
        t[10] = '\0';
    return json_string(t);
}

static uint64_t little_endian(const unsigned char *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

/* Hand v to the caller, or drop it when the caller only skips; a NULL v
 * is out of memory (a failure without a what). */
static bool give(json_t **out, json_t *v) {
    if (!out) {
        json_decref(v);
        return true;
    }
    *out = v;
    return v != NULL;
}

static bool read_value(walk_t *w, const node_t *n, const node_t *r, int depth,
                       json_t **out);

static bool read_record(walk_t *w, const node_t *n, const node_t *r,
                        int depth, json_t **out) {
    json_t *obj = out ? json_object() : NULL;
    if (out && !obj)
        return false;
    for (size_t i = 0; i < n->n; i++) {
        const field_t *wf = &n->fields[i];
        const field_t *rf = out && r ? reader_field(r, wf, i) : NULL;
        bool keep = out && (!r || rf);  /* else skipped: the reader drops it */
        json_t *cj = NULL;
        if (!read_value(w, wf->type, rf ? rf->type : NULL, depth + 1,
                        keep ? &cj : NULL)) {
            prefix(w->where, sizeof w->where, rf ? rf->name : wf->name);
            json_decref(obj);
            return false;
        }
        if (keep && json_object_set_new(obj, rf ? rf->name : wf->name, cj)) {
            json_decref(obj);
            return false;
        }
    }
    for (size_t i = 0; obj && r && i < r->n; i++)
        if (!json_object_get(obj, r->fields[i].name)) {
            if (!r->fields[i].deflt) {
                json_decref(obj);
                snprintf(w->where, sizeof w->where, "%s", r->fields[i].name);
                return type_fail(w, "missing, with no default");
            }
            json_object_set_new(obj, r->fields[i].name,
                                json_deep_copy(r->fields[i].deflt));
        }
    if (out)
        *out = obj;
    return true;
}

/* Arrays and maps: blocks of items, each a count (negative: followed by
 * the block's size in bytes, which must be what its items take) until a
 * count of 0. */
static bool read_blocks(walk_t *w, const node_t *n, const node_t *r,
                        int depth, json_t **out) {
    bool map = n->kind == K_MAP;
    json_t *coll = out ? (map ? json_object() : json_array()) : NULL;
    if (out && !coll)
        return false;
    for (;;) {
        int64_t count, size = -1;
        if (!walk_long(w, &count, 10))
            goto fail;
        if (count == 0)
            break;
        if (count < 0) {
            if (!walk_long(w, &size, 10))
                goto fail;
            if (size < 0 || (uint64_t)size > (uint64_t)(w->end - w->p)) {
                walk_fail(w, "a block size larger than the datum");
                goto fail;
            }
            count = count == INT64_MIN ? INT64_MAX : -count;
        }
        /* A map entry takes a byte at least (its key's length), so does
         * an array item but one of zero bytes, counted against the
         * datum's length. */
        uint64_t left = (uint64_t)(w->end - w->p);
        if (map || !n->items->zero ? (uint64_t)count > left
                                   : (uint64_t)count > w->zero_left) {
            walk_fail(w, "a block count larger than the datum");
            goto fail;
        }
        if (!map && n->items->zero)
            w->zero_left -= (uint64_t)count;
        const unsigned char *block = w->p;
        for (int64_t i = 0; i < count; i++) {
            const unsigned char *key = NULL;
            size_t kl = 0;
            json_t *cj = NULL;
            if (map && !(key = walk_string(w, &kl)))
                goto fail;
            if (map && out && kl && memchr(key, '\0', kl)) {
                type_fail(w, "a map key with a NUL byte");
                goto fail;
            }
            if (!read_value(w, n->items, r ? r->items : NULL, depth + 1,
                            out ? &cj : NULL))
                goto fail;
            if (!out)
                continue;
            if (map ? json_object_setn_new(coll, (const char *)key, kl, cj)
                    : json_array_append_new(coll, cj)) {
                if (map)
                    type_fail(w, "a map key that is not UTF-8 text");
                goto fail;
            }
        }
        if (size >= 0 && w->p - block != size) {
            walk_fail(w, "a block size that is not its items' size");
            goto fail;
        }
    }
    if (out)
        *out = coll;
    return true;
fail:
    json_decref(coll);
    return false;
}

/*
 * Read one value of writer node n at w->p; with out, also make it JSON as
 * the reader's node r (NULL: as written) sees it, else only skip it.
 */
static bool read_value(walk_t *w, const node_t *n, const node_t *r, int depth,
                       json_t **out) {
    int64_t v;
    if (depth > MAX_DEPTH)
        return walk_fail(w, "nested too deep");
    if (n->kind == K_UNION) {
        if (!walk_long(w, &v, 10))
            return false;
        if (v < 0 || (uint64_t)v >= n->n)
            return walk_fail(w, "a union branch out of range");
        return read_value(w, n->branches[v], r, depth + 1, out);
    }
    if (!out)
        r = NULL;
    if (r && r->kind == K_UNION) {
        const node_t *b = pick_branch(n, r);
        if (!b)
            return type_fail(w, "the writer's %s fits no branch of the "
                                "reader's union",
                             kind_names[n->kind]);
        r = b;
    }
    if (r && !promotes(n->kind, r->kind))
        return type_fail(w, "the writer's %s cannot be read as %s",
                         kind_names[n->kind], kind_names[r->kind]);
    /* The writer's logical type says what its bytes mean; a reader's can
     * give a plain writer long or int its meaning. */
    lt_t lt = n->logical ? n->logical : r ? r->logical : LT_NONE;
    int scale = n->logical ? n->scale : r ? r->scale : 0;
    bool to_real = r && (r->kind == K_FLOAT || r->kind == K_DOUBLE);
    const unsigned char *b;
    size_t len;

    switch (n->kind) {
    case K_NULL:
        return give(out, json_null());
    case K_BOOLEAN:
        if (w->p >= w->end)
            return walk_fail(w, "truncated");
        if (*w->p > 1)
            return walk_fail(w, "a boolean byte that is not 0 or 1");
        return give(out, json_boolean(*w->p++));
    case K_INT: {
        if (!walk_long(w, &v, 5))
            return false;
        if (v < INT32_MIN || v > INT32_MAX)
            return walk_fail(w, "int out of range");
        if (!out)
            return true;
        json_t *j = to_real ? json_real((double)v)
                    : lt == LT_DATE ? time_text(v * 86400000, true)
                                    : NULL;
        return give(out, j ? j : json_integer(v));
    }
    case K_LONG: {
        if (!walk_long(w, &v, 10))
            return false;
        if (!out)
            return true;
        json_t *j = NULL;
        if (to_real)
            j = json_real((double)v);
        else if (lt == LT_TS_MILLIS)
            j = time_text(v, false);
        else if (lt == LT_TS_MICROS)
            j = time_text(v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1, false);
        return give(out, j ? j : json_integer(v));
    }
    case K_FLOAT: {
        if (!(b = walk_take(w, 4)))
            return false;
        if (!out)
            return true;
        uint32_t u = (uint32_t)little_endian(b, 4);
        float f;
        memcpy(&f, &u, sizeof f);
        json_t *j = json_real((double)f);
        return j ? give(out, j)
                 : type_fail(w, "a float that is not a number");
    }
    case K_DOUBLE: {
        if (!(b = walk_take(w, 8)))
            return false;
        if (!out)
            return true;
        uint64_t u = little_endian(b, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        json_t *j = json_real(d);
        return j ? give(out, j)
                 : type_fail(w, "a double that is not a number");
    }
    case K_STRING:
    case K_BYTES:
    case K_FIXED: {
        if (n->kind == K_FIXED ? !(b = walk_take(w, n->size))
                               : !(b = walk_string(w, &len)))
            return false;
        if (n->kind == K_FIXED)
            len = n->size;
        if (!out)
            return true;
        if (lt == LT_DECIMAL && n->kind != K_STRING) {
            if (len > 16)
                return type_fail(w, "a decimal wider than 16 bytes");
            return give(out, decimal_text(b, len, scale));
        }
        /* A NUL would cut the value short wherever C reads it (a dimension
         * label would read as ""): refused like text that is not UTF-8, as
         * JSON messages refuse \u0000 and CSV rows a NUL byte. */
        if (len && memchr(b, '\0', len))
            return type_fail(w, "%s with a NUL byte",
                             n->kind == K_STRING ? "a string" : "bytes");
        json_t *j = json_stringn(len ? (const char *)b : "", len);
        return j ? give(out, j)
                 : type_fail(w, "%s that is not UTF-8 text",
                             n->kind == K_STRING ? "a string" : "bytes");
    }
    case K_ENUM: {
        if (!walk_long(w, &v, 5))
            return false;
        if (v < 0 || (uint64_t)v >= n->n)
            return walk_fail(w, "an enum index out of range");
        if (!out)
            return true;
        json_t *sym = json_array_get(n->symbols, (size_t)v);
        if (r) {
            size_t k;
            json_t *rs;
            json_array_foreach(r->symbols, k, rs) if (json_equal(rs, sym))
                return give(out, json_incref(sym));
            if (r->enum_default)
                return give(out, json_string(r->enum_default));
            return type_fail(w, "enum symbol %s is not one of the reader's",
                             json_string_value(sym));
        }
        return give(out, json_incref(sym));
    }
    case K_RECORD:
        return read_record(w, n, r, depth, out);
    case K_ARRAY:
    case K_MAP:
        return read_blocks(w, n, r, depth, out);
    case K_UNION:
        break;
    }
    return walk_fail(w, "an unknown type");
}

/* ---- readers ---------------------------------------------------------- */

struct br_avro_reader {
    const br_avro_schema_t *writer, *reader;
};

br_avro_reader_t *br_avro_reader_new(const br_avro_schema_t *writer,
                                     const br_avro_schema_t *reader,
                                     char *errstr, size_t errstr_size) {
    if (reader) {
        char why[512] = "", what[256] = "";
        if (!compatible(writer->root, reader->root, 0, why, sizeof why, what,
                        sizeof what)) {
            br_seterr(errstr, errstr_size, BR_ERR_TYPE,
                      "writer schema does not resolve against the reader "
                      "schema: %s%s%s",
                      why, why[0] ? " " : "", what);
            return NULL;
        }
    }
    br_avro_reader_t *r = calloc(1, sizeof *r);
    if (!r) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->writer = writer;
    /* The same schema needs no resolution. */
    r->reader = reader && !json_equal(reader->json, writer->json) ? reader : NULL;
    return r;
}

void br_avro_reader_free(br_avro_reader_t *r) {
    free(r);
}

/* One datum of exactly len bytes into *out. A failure is told apart by
 * reading the datum again without making anything: bad encoding anywhere
 * in it is PARSE (and named as the writer schema names it), whatever the
 * first read stopped at; a whole datum with a value the reader cannot take
 * is TYPE. */
static br_err_t decode(const br_avro_schema_t *writer,
                       const br_avro_schema_t *reader, const void *buf,
                       size_t len, json_t **out, char *errstr,
                       size_t errstr_size) {
    const unsigned char *p = len ? buf : (const unsigned char *)"";
    walk_t w = {.p = p, .start = p, .end = p + len, .zero_left = len};
    *out = NULL;
    const node_t *rroot = reader ? reader->root : NULL;
    if (read_value(&w, writer->root, rroot, 0, out) && w.p == w.end)
        return BR_ERR_OK;
    json_decref(*out);
    *out = NULL;
    walk_t check = {.p = p, .start = p, .end = p + len, .zero_left = len};
    if (!read_value(&check, writer->root, NULL, 0, NULL))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         len ? "not an Avro datum of the writer schema: %s%s%s"
                             : "empty message: not an Avro datum of the "
                               "writer schema%.0s%.0s%.0s",
                         check.where, check.where[0] ? ": " : "", check.what);
    if (check.p != check.end)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "Avro datum of %zu bytes followed by %zu bytes more",
                         (size_t)(check.p - check.start),
                         (size_t)(check.end - check.p));
    if (!w.what[0])
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    return br_seterr(errstr, errstr_size, w.type ? BR_ERR_TYPE : BR_ERR_PARSE,
                     "Avro datum: %s%s%s", w.where, w.where[0] ? ": " : "",
                     w.what);
}

br_err_t br_avro_reader_decode(br_avro_reader_t *r, const void *buf,
                               size_t len, json_t **out, char *errstr,
                               size_t errstr_size) {
    return decode(r->writer, r->reader, buf, len, out, errstr, errstr_size);
}

/* ---- object container files ------------------------------------------- */

/*
 * Read here, without avro-c: the header (magic, metadata map, sync marker),
 * then block after block (record count, byte size, the bytes, the sync
 * marker again), each decompressed by burnrate/codec.h and its records
 * read by the same walker as Kafka messages. Every length the file states
 * is checked against a bound before anything is allocated for it, and
 * bytes are allocated as they arrive, so a lying length costs at most what
 * the file really holds.
 */
#define HEADER_MAX (4u << 20)       /* a header's metadata, bytes */
#define BLOCK_MAX (256u << 20)      /* a block, compressed or not */

struct br_avro_file {
    FILE *fp;
    br_avro_schema_t *writer;
    const br_avro_schema_t *reader; /* NULL: read as written */
    br_codec_t codec;
    unsigned char sync[16];
    br_codec_buf_t raw;         /* the block as stored */
    br_codec_buf_t plain;       /* ... decompressed (not for "null") */
    const unsigned char *blk, *p, *end; /* the block's records */
    int64_t left;               /* records of the block not yet read */
    int64_t count;              /* records the block holds */
    uint64_t blocks;            /* blocks read */
    uint64_t at;                /* bytes of the file read */
    const unsigned char *last;  /* the last record's bytes (file_raw) */
    size_t last_len;
};

/* A zigzag long from the file: 1, 0 at a clean end of file (before its
 * first byte), -1 for a bad or cut varint. */
static int file_long(br_avro_file_t *f, int64_t *out) {
    uint64_t v = 0;
    for (int i = 0, shift = 0; i < 10; i++, shift += 7) {
        int ch = getc(f->fp);
        if (ch == EOF)
            return i == 0 && !ferror(f->fp) ? 0 : -1;
        f->at++;
        if (i == 9 && ch > 1)
            return -1;
        v |= (uint64_t)(ch & 0x7f) << shift;
        if (!(ch & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 1;
        }
    }
    return -1;
}

/* n bytes of the file into b, the buffer grown as they arrive (never to n
 * at once): false when the file ends first. */
static bool file_bytes(br_avro_file_t *f, br_codec_buf_t *b, size_t n,
                       bool *oom) {
    b->len = 0;
    while (b->len < n) {
        if (b->len == b->cap) {
            size_t cap = b->cap ? b->cap * 2 : 64u << 10;
            if (cap > n)
                cap = n;
            unsigned char *d = realloc(b->data, cap);
            if (!d) {
                *oom = true;
                return false;
            }
            b->data = d;
            b->cap = cap;
        }
        size_t want = (n < b->cap ? n : b->cap) - b->len;
        size_t got = fread(b->data + b->len, 1, want, f->fp);
        b->len += got;
        f->at += got;
        if (got < want)
            return false;
    }
    return true;
}

/* The header: magic, metadata (avro.schema, avro.codec), sync marker. */
static br_err_t file_header(br_avro_file_t *f, char **schema, size_t *len,
                            char *errstr, size_t errstr_size) {
    unsigned char magic[4];
    br_codec_buf_t key = {0}, val = {0};
    br_err_t err = BR_ERR_OK;
    bool oom = false;
    size_t budget = HEADER_MAX;
    if (fread(magic, 1, 4, f->fp) != 4 || memcmp(magic, "Obj\x01", 4) != 0)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "not an Avro object container file (no "
                         "\"Obj\\x01\" magic)");
    f->at = 4;
    for (;;) {
        int64_t count, size;
        if (file_long(f, &count) != 1)
            goto cut;
        if (count == 0)
            break;
        if (count < 0) {
            if (count == INT64_MIN || file_long(f, &size) != 1)
                goto cut;
            count = -count;
        }
        for (int64_t i = 0; i < count; i++) {
            int64_t kl, vl;
            if (file_long(f, &kl) != 1 || kl < 0 || (uint64_t)kl > budget)
                goto bad;
            if (!file_bytes(f, &key, (size_t)kl, &oom))
                goto cut;
            budget -= (size_t)kl;
            if (file_long(f, &vl) != 1 || vl < 0 || (uint64_t)vl > budget)
                goto bad;
            if (!file_bytes(f, &val, (size_t)vl, &oom))
                goto cut;
            budget -= (size_t)vl;
            if (kl == 11 && !memcmp(key.data, "avro.schema", 11)) {
                char *s = malloc((size_t)vl + 1);
                if (!s) {
                    oom = true;
                    goto cut;
                }
                if (vl)
                    memcpy(s, val.data, (size_t)vl);
                s[vl] = '\0';
                free(*schema);
                *schema = s;
                *len = (size_t)vl;
            } else if (kl == 10 && !memcmp(key.data, "avro.codec", 10)) {
                int c = br_codec_by_name((const char *)val.data, (size_t)vl);
                if (c < 0) {
                    err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                                    "codec \"%.*s\" is not one this reader "
                                    "knows (null, deflate, snappy, bzip2, "
                                    "xz, zstandard, lzma)",
                                    vl > 64 ? 64 : (int)vl,
                                    vl ? (const char *)val.data : "");
                    goto done;
                }
                f->codec = (br_codec_t)c;
            }
        }
    }
    if (fread(f->sync, 1, 16, f->fp) != 16)
        goto cut;
    f->at += 16;
    if (!*schema)
        err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                        "Avro object container file header without "
                        "avro.schema");
    goto done;
bad:
    err = br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                    "unreadable header: a bad length at byte %" PRIu64
                    " (or metadata beyond %u bytes)",
                    f->at, HEADER_MAX);
    goto done;
cut:
    err = oom ? br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory")
              : br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                          "unreadable header: cut off at byte %" PRIu64,
                          f->at);
done:
    br_codec_buf_free(&key);
    br_codec_buf_free(&val);
    return err;
}

br_avro_file_t *br_avro_file_fopen(FILE *fp, const br_avro_schema_t *reader,
                                   char *errstr, size_t errstr_size) {
    br_avro_file_t *f = calloc(1, sizeof *f);
    char why[512];
    size_t len = 0;
    char *json = NULL;
    if (!f) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    f->fp = fp;
    if (file_header(f, &json, &len, errstr, errstr_size))
        goto fail;
    if (!(f->writer = br_avro_schema_parse(json, len, why, sizeof why))) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE, "the file's schema: %s",
                  why);
        goto fail;
    }
    if (reader) {
        char where[512] = "", what[256] = "";
        if (!compatible(f->writer->root, reader->root, 0, where, sizeof where,
                        what, sizeof what)) {
            br_seterr(errstr, errstr_size, BR_ERR_TYPE,
                      "the file's schema does not resolve against the reader "
                      "schema: %s%s%s",
                      where, where[0] ? " " : "", what);
            goto fail;
        }
    }
    f->reader = reader && !json_equal(reader->json, f->writer->json) ? reader
                                                                      : NULL;
    free(json);
    return f;
fail:
    free(json);
    f->fp = NULL; /* the caller's */
    br_avro_file_close(f);
    return NULL;
}

/* The next block into f->blk..f->end: BR_ERR_OK, BR_ERR_NOTFOUND at the
 * end of the file, BR_ERR_IO for a block that cannot be read (the file is
 * cut or corrupt: nothing after it can be trusted). */
static br_err_t file_block(br_avro_file_t *f, char *errstr,
                           size_t errstr_size) {
    int64_t count, size;
    uint64_t start = f->at;
    uint64_t n = f->blocks + 1;
    bool oom = false;
    int rc = file_long(f, &count);
    if (rc == 0)
        return BR_ERR_NOTFOUND;
    if (rc < 0 || file_long(f, &size) != 1)
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "unreadable block %" PRIu64 " at byte %" PRIu64
                         ": %s",
                         n, start,
                         ferror(f->fp) ? strerror(errno)
                                       : "its record count and size are cut "
                                         "off or not varints");
    if (count < 0 || size < 0 || (uint64_t)size > BLOCK_MAX)
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "unreadable block %" PRIu64 " at byte %" PRIu64
                         ": %" PRId64 " records in %" PRId64
                         " bytes (a block holds at most %u bytes)",
                         n, start, count, size, BLOCK_MAX);
    if (!file_bytes(f, &f->raw, (size_t)size, &oom))
        return oom ? br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                               "out of memory")
                   : br_seterr(errstr, errstr_size, BR_ERR_IO,
                               "unreadable block %" PRIu64 " at byte %" PRIu64
                               ": %" PRId64 " bytes stated, the file ends "
                               "after %zu",
                               n, start, size, f->raw.len);
    unsigned char sync[16];
    size_t got = fread(sync, 1, 16, f->fp);
    f->at += got;
    if (got != 16 || memcmp(sync, f->sync, 16) != 0)
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "unreadable block %" PRIu64 " at byte %" PRIu64
                         ": %s",
                         n, start,
                         got != 16 ? "the file ends before its sync marker"
                                   : "its sync marker is not the header's "
                                     "(a corrupt file)");
    const br_codec_buf_t *data = &f->raw;
    if (f->codec != BR_CODEC_NULL) {
        char why[256];
        br_err_t err = br_codec_decode(f->codec, f->raw.data, f->raw.len,
                                       &f->plain, BLOCK_MAX, why, sizeof why);
        if (err)
            return br_seterr(errstr, errstr_size,
                             err == BR_ERR_NOMEM ? err : BR_ERR_IO,
                             "unreadable block %" PRIu64 " at byte %" PRIu64
                             ": %s",
                             n, start, why);
        data = &f->plain;
    }
    /* A record takes at least one byte unless the schema allows empty
     * ones; either way no more records than bytes plus one are believed. */
    if ((uint64_t)count > data->len + 1)
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "unreadable block %" PRIu64 " at byte %" PRIu64
                         ": %" PRId64 " records stated in %zu bytes",
                         n, start, count, data->len);
    f->blocks = n;
    f->blk = f->p = data->len ? data->data : (const unsigned char *)"";
    f->end = f->blk + data->len;
    f->left = f->count = count;
    return BR_ERR_OK;
}

br_err_t br_avro_file_next(br_avro_file_t *f, json_t **out, char *errstr,
                           size_t errstr_size) {
    *out = NULL;
    f->last = NULL;
    f->last_len = 0;
    while (f->left == 0) {
        if (f->p != f->end) {
            size_t extra = (size_t)(f->end - f->p);
            f->p = f->end;
            f->last = f->end - extra;
            f->last_len = extra;
            return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                             "block %" PRIu64 ": %zu bytes after its %" PRId64
                             " records",
                             f->blocks, extra, f->count);
        }
        br_err_t err = file_block(f, errstr, errstr_size);
        if (err)
            return err;
    }
    const unsigned char *start = f->p;
    int64_t k = f->count - f->left + 1;
    walk_t w = {.p = start, .start = start, .end = f->end,
                .zero_left = (size_t)(f->end - start)};
    const node_t *rroot = f->reader ? f->reader->root : NULL;
    if (read_value(&w, f->writer->root, rroot, 0, out)) {
        f->p = w.p;
        f->left--;
        f->last = start;
        f->last_len = (size_t)(w.p - start);
        return BR_ERR_OK;
    }
    json_decref(*out);
    *out = NULL;
    walk_t check = {.p = start, .start = start, .end = f->end,
                    .zero_left = (size_t)(f->end - start)};
    if (!read_value(&check, f->writer->root, NULL, 0, NULL)) {
        /* Where this record ends is unknown, so the block's other records
         * are lost with it: they go out as one dead letter. */
        f->last = start;
        f->last_len = (size_t)(f->end - start);
        int64_t lost = f->left;
        f->p = f->end;
        f->left = 0;
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "block %" PRIu64 ", record %" PRId64 " of %" PRId64
                         ": not a datum of the file's schema: %s%s%s (the "
                         "block's last %" PRId64 " records are lost with it)",
                         f->blocks, k, f->count, check.where,
                         check.where[0] ? ": " : "", check.what, lost);
    }
    f->p = check.p;
    f->left--;
    f->last = start;
    f->last_len = (size_t)(check.p - start);
    if (!w.what[0])
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    return br_seterr(errstr, errstr_size, w.type ? BR_ERR_TYPE : BR_ERR_PARSE,
                     "block %" PRIu64 ", record %" PRId64 ": %s%s%s",
                     f->blocks, k, w.where, w.where[0] ? ": " : "", w.what);
}

const void *br_avro_file_raw(const br_avro_file_t *f, size_t *len) {
    *len = f->last_len;
    return f->last;
}

void br_avro_file_close(br_avro_file_t *f) {
    if (!f)
        return;
    if (f->fp)
        fclose(f->fp);
    br_avro_schema_free(f->writer);
    br_codec_buf_free(&f->raw);
    br_codec_buf_free(&f->plain);
    free(f);
}

/* ---- JSON -> Avro ----------------------------------------------------- */

struct br_avro_encoder {
    const br_avro_schema_t *schema;
    avro_schema_t avro;         /* avro-c's, for its datum writer */
    avro_value_iface_t *iface;
    avro_value_t value;
    char *out;
    size_t out_cap;
};

br_avro_encoder_t *br_avro_encoder_new(const br_avro_schema_t *s,
                                       char *errstr, size_t errstr_size) {
    br_avro_encoder_t *e = calloc(1, sizeof *e);
    if (!e) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->schema = s;
    char *text = json_dumps(s->json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text || avro_schema_from_json_length(text, strlen(text), &e->avro)) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                  "not an Avro schema: %s", text ? avro_strerror() : "?");
        free(text);
        free(e);
        return NULL;
    }
    free(text);
    e->iface = avro_generic_class_from_schema(e->avro);
    if (!e->iface || avro_generic_value_new(e->iface, &e->value) != 0) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE, "schema: %s",
                  avro_strerror());
        if (e->iface)
            avro_value_iface_decref(e->iface);
        avro_schema_decref(e->avro);
        free(e);
        return NULL;
    }
    return e;
}

void br_avro_encoder_free(br_avro_encoder_t *e) {
    if (!e)
        return;
    avro_value_decref(&e->value);
    avro_value_iface_decref(e->iface);
    avro_schema_decref(e->avro);
    free(e->out);
    free(e);
}

/* Unscaled big-endian two's complement bytes of decimal text at `scale`;
 * false when the text is not an exact decimal of at most `scale` places
 * that fits 16 bytes. */
static bool decimal_bytes(const char *s, int scale, unsigned char *out,
                          size_t *n) {
    u128 u = 0, lim = ~(u128)0 >> 1;
    bool neg = *s == '-';
    int places = -1;
    s += neg || *s == '+';
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s == '.' && places < 0) {
            places = 0;
            continue;
        }
        if (*s < '0' || *s > '9')
            return false;
        if (places >= 0 && ++places > scale)
            return false;
        if (u > (lim - 9) / 10)
            return false;
        u = u * 10 + (unsigned)(*s - '0');
    }
    for (int p = places < 0 ? 0 : places; p < scale; p++) {
        if (u > lim / 10)
            return false;
        u *= 10;
    }
    if (neg)
        u = ~u + 1;
    unsigned char be[16];
    for (int i = 15; i >= 0; i--, u >>= 8)
        be[i] = (unsigned char)u;
    /* Minimal: drop leading bytes that only repeat the sign. */
    size_t skip = 0;
    while (skip < 15 && ((be[skip] == 0 && !(be[skip + 1] & 0x80)) ||
                         (be[skip] == 0xff && (be[skip + 1] & 0x80))))
        skip++;
    *n = 16 - skip;
    memcpy(out, be + skip, *n);
    return true;
}

typedef struct enc {
    char what[256];
    char where[256];
} enc_t;

static bool enc_fail(enc_t *cx, const char *what, const node_t *n) {
    if (!cx->what[0])
        snprintf(cx->what, sizeof cx->what, "%s (schema type %s)", what,
                 n->kind <= K_FIXED ? kind_names[n->kind] : "?");
    return false;
}

static bool fill(enc_t *cx, avro_value_t *av, const node_t *n, json_t *j,
                 int depth) {
    if (depth > MAX_DEPTH)
        return enc_fail(cx, "nested too deep", n);
    switch (n->kind) {
    case K_NULL:
        return json_is_null(j) ? avro_value_set_null(av) == 0
                               : enc_fail(cx, "not null", n);
    case K_BOOLEAN:
        return json_is_boolean(j) ? avro_value_set_boolean(av, json_is_true(j)) == 0
                                  : enc_fail(cx, "not a boolean", n);
    case K_INT:
    case K_LONG: {
        int64_t v;
        if (json_is_integer(j)) {
            v = json_integer_value(j);
        } else if (json_is_string(j) && n->logical != LT_NONE &&
                   n->logical != LT_DECIMAL &&
                   br_ts_parse(json_string_value(j), json_string_length(j),
                               &v) == BR_ERR_OK) {
            if (n->logical == LT_DATE)
                v = v >= 0 ? v / 86400000 : -((-(v + 1)) / 86400000) - 1;
            else if (n->logical == LT_TS_MICROS)
                v *= 1000;
        } else {
            return enc_fail(cx, "not an integer or a time", n);
        }
        if (n->kind == K_INT) {
            if (v < INT32_MIN || v > INT32_MAX)
                return enc_fail(cx, "out of int range", n);
            return avro_value_set_int(av, (int32_t)v) == 0;
        }
        return avro_value_set_long(av, v) == 0;
    }
    case K_FLOAT:
    case K_DOUBLE:
        if (!json_is_number(j))
            return enc_fail(cx, "not a number", n);
        return n->kind == K_FLOAT
                   ? avro_value_set_float(av, (float)json_number_value(j)) == 0
                   : avro_value_set_double(av, json_number_value(j)) == 0;
    case K_STRING:
        if (!json_is_string(j))
            return enc_fail(cx, "not a string", n);
        return avro_value_set_string_len(av, json_string_value(j),
                                         json_string_length(j) + 1) == 0;
    case K_BYTES:
    case K_FIXED: {
        unsigned char dec[16];
        const void *p;
        size_t len;
        char num[64];
        if (n->logical == LT_DECIMAL) {
            const char *text = json_string_value(j);
            if (json_is_integer(j)) {
                snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(j));
                text = num;
            }
            if (!text || !decimal_bytes(text, n->scale, dec, &len))
                return enc_fail(cx, "not an exact decimal text of the "
                                    "schema's scale", n);
            p = dec;
            if (n->kind == K_FIXED) {
                /* Sign-extend to the fixed size. */
                unsigned char wide[64];
                if (len > n->size || n->size > sizeof wide)
                    return enc_fail(cx, "decimal too wide for the fixed", n);
                memset(wide, dec[0] & 0x80 ? 0xff : 0, n->size - len);
                memcpy(wide + n->size - len, dec, len);
                return avro_value_set_fixed(av, wide, n->size) == 0;
            }
        } else {
            if (!json_is_string(j))
                return enc_fail(cx, "not a string", n);
            p = json_string_value(j);
            len = json_string_length(j);
            if (n->kind == K_FIXED && len != n->size)
                return enc_fail(cx, "not of the fixed size", n);
            if (n->kind == K_FIXED)
                return avro_value_set_fixed(av, (void *)(uintptr_t)p, len) == 0;
        }
        return avro_value_set_bytes(av, (void *)(uintptr_t)p, len) == 0;
    }
    case K_ENUM: {
        size_t i;
        json_t *sym;
        json_array_foreach(n->symbols, i, sym) if (json_equal(sym, j))
            return avro_value_set_enum(av, (int)i) == 0;
        return enc_fail(cx, "not one of the enum's symbols", n);
    }
    case K_UNION:
        for (size_t i = 0; i < n->n; i++) {
            avro_value_t branch;
            if (json_is_null(j) != (n->branches[i]->kind == K_NULL))
                continue;
            enc_t trial = {.what = ""};
            if (avro_value_set_branch(av, (int)i, &branch) == 0 &&
                fill(&trial, &branch, n->branches[i], j, depth + 1))
                return true;
        }
        return enc_fail(cx, "fits no branch of the union", n);
    case K_RECORD:
        if (!json_is_object(j))
            return enc_fail(cx, "not an object", n);
        for (size_t i = 0; i < n->n; i++) {
            avro_value_t child;
            json_t *fv = json_object_get(j, n->fields[i].name);
            if (!fv)
                fv = n->fields[i].deflt;
            if (!fv) {
                snprintf(cx->where, sizeof cx->where, "%s", n->fields[i].name);
                return enc_fail(cx, "missing, with no default", n->fields[i].type);
            }
            if (avro_value_get_by_index(av, i, &child, NULL) ||
                !fill(cx, &child, n->fields[i].type, fv, depth + 1)) {
                prefix(cx->where, sizeof cx->where, n->fields[i].name);
                return false;
            }
        }
        return true;
    case K_ARRAY: {
        size_t i;
        json_t *item;
        if (!json_is_array(j))
            return enc_fail(cx, "not an array", n);
        json_array_foreach(j, i, item) {
            avro_value_t child;
            if (avro_value_append(av, &child, NULL) ||
                !fill(cx, &child, n->items, item, depth + 1))
                return false;
        }
        return true;
    }
    case K_MAP: {
        const char *k;
        json_t *item;
        if (!json_is_object(j))
            return enc_fail(cx, "not an object", n);
        json_object_foreach(j, k, item) {
            avro_value_t child;
            if (avro_value_add(av, k, &child, NULL, NULL) ||
                !fill(cx, &child, n->items, item, depth + 1))
                return false;
        }
        return true;
    }
    }
    return enc_fail(cx, "an unknown type", n);
}

br_err_t br_avro_encode(br_avro_encoder_t *e, json_t *value, br_buf_t *out,
                        char *errstr, size_t errstr_size) {
    enc_t cx = {.what = "", .where = ""};
    size_t size = 0;
    avro_value_reset(&e->value);
    avro_set_error("%s", "");
    if (!fill(&cx, &e->value, e->schema->root, value, 0))
        return br_seterr(errstr, errstr_size, BR_ERR_TYPE,
                         "value does not fit the Avro schema: %s%s%s",
                         cx.where, cx.where[0] ? ": " : "",
                         cx.what[0] ? cx.what : avro_strerror());
    if (avro_value_sizeof(&e->value, &size) != 0)
        return br_seterr(errstr, errstr_size, BR_ERR_TYPE, "Avro: %s",
                         avro_strerror());
    if (size > e->out_cap) {
        char *nb = realloc(e->out, size);
        if (!nb)
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        e->out = nb;
        e->out_cap = size;
    }
    avro_writer_t w = avro_writer_memory(e->out, (int64_t)size);
    if (!w)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    int rc = avro_value_write(w, &e->value);
    avro_writer_free(w);
    if (rc != 0)
        return br_seterr(errstr, errstr_size, BR_ERR_TYPE, "Avro: %s",
                         avro_strerror());
    br_buf_append(out, e->out, size);
    return out->oom ? br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                                "out of memory")
                    : BR_ERR_OK;
}

/* ---- Confluent framing ------------------------------------------------ */

br_err_t br_avro_confluent_split(const void *msg, size_t len, uint32_t *id,
                                 const void **body, size_t *body_len,
                                 char *errstr, size_t errstr_size) {
    const unsigned char *p = msg;
    if (len < BR_AVRO_CONFLUENT_HEADER)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "message of %zu bytes is shorter than the Confluent "
                         "header (magic byte and 4-byte schema id)", len);
    if (p[0] != 0)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "wrong magic byte 0x%02x (Confluent framing starts "
                         "with 0x00)", p[0]);
    *id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 |
          (uint32_t)p[4];
    *body = p + BR_AVRO_CONFLUENT_HEADER;
    *body_len = len - BR_AVRO_CONFLUENT_HEADER;
    return BR_ERR_OK;
}

void br_avro_confluent_header(uint32_t id, br_buf_t *out) {
    unsigned char h[BR_AVRO_CONFLUENT_HEADER] = {
        0, (unsigned char)(id >> 24), (unsigned char)(id >> 16),
        (unsigned char)(id >> 8), (unsigned char)id};
    br_buf_append(out, h, sizeof h);
}
