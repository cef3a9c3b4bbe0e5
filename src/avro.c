/*
 * avro-c reads the bytes; this file walks the value next to the schema's
 * JSON text (avro-c 1.11 keeps no logical types), so decimals and
 * timestamps come out as the exact text a JSON producer would have sent.
 *
 * Schema resolution happens on that JSON, not in avro-c: its resolved
 * reader (1.11.1) cannot default a reader field the writer lacks and
 * double-frees trying. A datum is read with its writer schema; the reader
 * schema then drops fields it does not know and fills the defaults of those
 * it has and the writer lacks; promotions (int to long, float to double)
 * need nothing in JSON. A type that does not fit is left for the dialect's
 * decoder to refuse, per message.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "burnrate/avro.h"
#include "burnrate/ts.h"

#define MAX_DEPTH 64

struct br_avro_schema {
    avro_schema_t schema;
    json_t *json;              /* the schema's JSON, for logical types */
    json_t *names;             /* full and short names -> definitions */
};

struct br_avro_reader {
    const br_avro_schema_t *writer, *reader;
    avro_value_iface_t *wiface;   /* generic class of the writer schema */
    avro_value_t wvalue;
    avro_reader_t mem;
};

static bool is_primitive(const char *t) {
    static const char *const p[] = {"null", "boolean", "int", "long", "float",
                                    "double", "bytes", "string", NULL};
    for (size_t i = 0; p[i]; i++)
        if (strcmp(t, p[i]) == 0)
            return true;
    return false;
}

/* Index every named type by full and short name. */
static void collect_names(json_t *names, json_t *node, const char *ns,
                          int depth) {
    if (depth > MAX_DEPTH)
        return;
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) collect_names(names, v, ns, depth + 1);
        return;
    }
    if (!json_is_object(node))
        return;
    const char *type = json_string_value(json_object_get(node, "type"));
    const char *name = json_string_value(json_object_get(node, "name"));
    const char *nns = json_string_value(json_object_get(node, "namespace"));
    if (!nns)
        nns = ns;
    if (type && name &&
        (!strcmp(type, "record") || !strcmp(type, "error") ||
         !strcmp(type, "enum") || !strcmp(type, "fixed"))) {
        json_object_set(names, name, node);
        if (!strchr(name, '.') && nns && *nns) {
            char full[512];
            snprintf(full, sizeof full, "%s.%s", nns, name);
            json_object_set(names, full, node);
        } else if (strchr(name, '.')) {
            json_object_set(names, strrchr(name, '.') + 1, node);
            /* A dotted name sets the namespace of what it contains. */
        }
    }
    json_t *fields = json_object_get(node, "fields");
    if (json_is_array(fields)) {
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f)
            collect_names(names, json_object_get(f, "type"), nns, depth + 1);
    }
    json_t *t = json_object_get(node, "type");
    if (json_is_object(t) || json_is_array(t))
        collect_names(names, t, nns, depth + 1);
    collect_names(names, json_object_get(node, "items"), nns, depth + 1);
    collect_names(names, json_object_get(node, "values"), nns, depth + 1);
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
    if (avro_schema_from_json_length(json, len, &s->schema) != 0) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE, "not an Avro schema: %s",
                  avro_strerror());
        s->schema = NULL;
        goto fail;
    }
    s->names = json_object();
    if (!s->names) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    collect_names(s->names, s->json, "", 0);
    return s;
fail:
    br_avro_schema_free(s);
    return NULL;
}

void br_avro_schema_free(br_avro_schema_t *s) {
    if (!s)
        return;
    if (s->schema)
        avro_schema_decref(s->schema);
    json_decref(s->json);
    json_decref(s->names);
    free(s);
}

br_avro_reader_t *br_avro_reader_new(const br_avro_schema_t *writer,
                                     const br_avro_schema_t *reader,
                                     char *errstr, size_t errstr_size) {
    br_avro_reader_t *r = calloc(1, sizeof *r);
    if (!r) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->writer = writer;
    r->reader = reader;
    r->wiface = avro_generic_class_from_schema(writer->schema);
    if (!r->wiface || avro_generic_value_new(r->wiface, &r->wvalue) != 0) {
        br_seterr(errstr, errstr_size, BR_ERR_PARSE, "writer schema: %s",
                  avro_strerror());
        goto fail;
    }
    r->mem = avro_reader_memory("", 0);
    if (!r->mem) {
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    return r;
fail:
    br_avro_reader_free(r);
    return NULL;
}

void br_avro_reader_free(br_avro_reader_t *r) {
    if (!r)
        return;
    if (r->wiface) {
        if (r->wvalue.iface)
            avro_value_decref(&r->wvalue);
        avro_value_iface_decref(r->wiface);
    }
    if (r->mem)
        avro_reader_free(r->mem);
    free(r);
}

/* ---- value -> JSON ---------------------------------------------------- */

typedef struct conv {
    const br_avro_schema_t *s;
    const char *err;
} conv_t;

/* Exact decimal text of a big-endian two's complement unscaled integer. */
static json_t *decimal_text(const unsigned char *b, size_t n, long scale) {
    if (n == 0 || n > 16 || scale < 0 || scale > 38)
        return json_null();
    __extension__ unsigned __int128 u = 0;
    bool neg = b[0] & 0x80;
    for (size_t i = 0; i < n; i++)
        u = (u << 8) | b[i];
    if (neg) {
        if (n < 16)
            u |= ~(__extension__ (unsigned __int128)0) << (8 * n);
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

static json_t *conv_value(conv_t *cx, avro_value_t *v, json_t *sch, int depth);

static json_t *resolve_named(conv_t *cx, json_t *sch) {
    if (json_is_string(sch) && !is_primitive(json_string_value(sch))) {
        json_t *def = json_object_get(cx->s->names, json_string_value(sch));
        return def ? def : sch;
    }
    return sch;
}

static json_t *bytes_json(const void *buf, size_t size) {
    /* Plain bytes: text when it is UTF-8, otherwise left out. */
    json_t *s = json_stringn((const char *)buf, size);
    return s ? s : json_null();
}

static json_t *conv_value(conv_t *cx, avro_value_t *v, json_t *sch, int depth) {
    if (depth > MAX_DEPTH) {
        cx->err = "nested deeper than 64 levels";
        return NULL;
    }
    sch = resolve_named(cx, sch);
    const char *type = NULL, *logical = NULL;
    if (json_is_object(sch)) {
        json_t *t = json_object_get(sch, "type");
        logical = json_string_value(json_object_get(sch, "logicalType"));
        if (json_is_string(t)) {
            type = json_string_value(t);
            if (!is_primitive(type) && strcmp(type, "record") &&
                strcmp(type, "error") && strcmp(type, "enum") &&
                strcmp(type, "fixed") && strcmp(type, "array") &&
                strcmp(type, "map"))
                return conv_value(cx, v, t, depth + 1); /* {"type": "Named"} */
        } else {
            return conv_value(cx, v, t, depth + 1);     /* {"type": [...]} */
        }
    } else if (json_is_string(sch)) {
        type = json_string_value(sch);
    }

    switch (avro_value_get_type(v)) {
    case AVRO_NULL:
        return json_null();
    case AVRO_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(v, &b);
        return json_boolean(b);
    }
    case AVRO_INT32: {
        int32_t i = 0;
        avro_value_get_int(v, &i);
        if (logical && !strcmp(logical, "date")) {
            char t[40];
            br_ts_format((int64_t)i * 86400000, t, sizeof t);
            t[10] = '\0';
            return json_string(t);
        }
        return json_integer(i);
    }
    case AVRO_INT64: {
        int64_t l = 0;
        avro_value_get_long(v, &l);
        if (logical && (!strcmp(logical, "timestamp-millis") ||
                        !strcmp(logical, "timestamp-micros") ||
                        !strcmp(logical, "local-timestamp-millis") ||
                        !strcmp(logical, "local-timestamp-micros"))) {
            int64_t ms = strstr(logical, "micros")
                             ? (l >= 0 ? l / 1000 : -((-l + 999) / 1000))
                             : l;
            char t[40];
            if (ms < -62135596800000 || ms > 253402300799999)
                return json_integer(l);
            br_ts_format(ms, t, sizeof t);
            return json_string(t);
        }
        return json_integer(l);
    }
    case AVRO_FLOAT: {
        float f = 0;
        avro_value_get_float(v, &f);
        json_t *j = json_real((double)f);
        return j ? j : json_null();
    }
    case AVRO_DOUBLE: {
        double d = 0;
        avro_value_get_double(v, &d);
        json_t *j = json_real(d);
        return j ? j : json_null();
    }
    case AVRO_STRING: {
        const char *s = NULL;
        size_t size = 0;
        avro_value_get_string(v, &s, &size);
        json_t *j = json_stringn(s ? s : "", size ? size - 1 : 0);
        return j ? j : json_null();
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const void *buf = NULL;
        size_t size = 0;
        if (avro_value_get_type(v) == AVRO_BYTES)
            avro_value_get_bytes(v, &buf, &size);
        else
            avro_value_get_fixed(v, &buf, &size);
        if (logical && !strcmp(logical, "decimal"))
            return decimal_text(buf, size,
                                (long)json_integer_value(
                                    json_object_get(sch, "scale")));
        return bytes_json(buf, size);
    }
    case AVRO_ENUM: {
        int i = 0;
        avro_value_get_enum(v, &i);
        json_t *sym = json_array_get(json_object_get(sch, "symbols"), (size_t)i);
        return sym ? json_incref(sym) : json_integer(i);
    }
    case AVRO_UNION: {
        int d = 0;
        avro_value_t branch;
        if (avro_value_get_discriminant(v, &d) ||
            avro_value_get_current_branch(v, &branch)) {
            cx->err = "a union without a branch";
            return NULL;
        }
        json_t *bs = json_is_array(sch) ? json_array_get(sch, (size_t)d) : NULL;
        return conv_value(cx, &branch, bs ? bs : json_null(), depth + 1);
    }
    case AVRO_RECORD: {
        size_t n = 0;
        json_t *obj = json_object();
        json_t *fields = json_object_get(sch, "fields");
        avro_value_get_size(v, &n);
        for (size_t i = 0; obj && i < n; i++) {
            avro_value_t child;
            const char *name = NULL;
            if (avro_value_get_by_index(v, i, &child, &name))
                continue;
            json_t *fs = json_object_get(json_array_get(fields, i), "type");
            json_t *cj = conv_value(cx, &child, fs ? fs : json_null(), depth + 1);
            if (!cj) {
                json_decref(obj);
                return NULL;
            }
            json_object_set_new(obj, name, cj);
        }
        return obj;
    }
    case AVRO_MAP:
    case AVRO_ARRAY: {
        bool map = avro_value_get_type(v) == AVRO_MAP;
        size_t n = 0;
        json_t *out = map ? json_object() : json_array();
        json_t *es = json_object_get(sch, map ? "values" : "items");
        avro_value_get_size(v, &n);
        for (size_t i = 0; out && i < n; i++) {
            avro_value_t child;
            const char *key = NULL;
            if (avro_value_get_by_index(v, i, &child, &key))
                continue;
            json_t *cj = conv_value(cx, &child, es ? es : json_null(), depth + 1);
            if (!cj) {
                json_decref(out);
                return NULL;
            }
            if (map)
                json_object_set_new(out, key ? key : "", cj);
            else
                json_array_append_new(out, cj);
        }
        return out;
    }
    default:
        (void)type;
        cx->err = "an Avro type this version does not read";
        return NULL;
    }
}

/* The reader's view of a decoded record: unknown fields dropped, missing
 * ones defaulted (their "default" is already JSON), records within
 * projected alike. */
static void project(const br_avro_schema_t *rs, json_t *v, json_t *sch,
                    int depth) {
    if (depth > MAX_DEPTH || !json_is_object(v))
        return;
    conv_t cx = {.s = rs};
    sch = resolve_named(&cx, sch);
    if (json_is_array(sch)) {
        /* A union: project into its one record branch, if it has one. */
        json_t *rec = NULL, *b;
        size_t i;
        json_array_foreach(sch, i, b) {
            json_t *rb = resolve_named(&cx, b);
            if (json_is_object(rb) &&
                json_is_array(json_object_get(rb, "fields")))
                rec = rec ? json_null() : rb;
        }
        if (rec && json_is_object(rec))
            project(rs, v, rec, depth + 1);
        return;
    }
    if (!json_is_object(sch))
        return;
    json_t *t = json_object_get(sch, "type");
    if (!json_is_string(t) || (strcmp(json_string_value(t), "record") &&
                               strcmp(json_string_value(t), "error"))) {
        if (json_is_object(t) || json_is_array(t) ||
            (json_is_string(t) && !is_primitive(json_string_value(t))))
            project(rs, v, t, depth + 1);
        if (json_is_string(t) && !strcmp(json_string_value(t), "map")) {
            const char *k;
            json_t *mv;
            json_object_foreach(v, k, mv)
                project(rs, mv, json_object_get(sch, "values"), depth + 1);
        }
        return;
    }
    json_t *fields = json_object_get(sch, "fields");
    const char *key;
    json_t *fv, *tmp;
    json_object_foreach_safe(v, tmp, key, fv) {
        bool known = false;
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f)
            known = known || !strcmp(json_string_value(json_object_get(f, "name"))
                                         ? json_string_value(json_object_get(f, "name"))
                                         : "", key);
        if (!known)
            json_object_del(v, key);
    }
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!name)
            continue;
        json_t *have = json_object_get(v, name);
        if (have) {
            project(rs, have, json_object_get(f, "type"), depth + 1);
        } else if (json_object_get(f, "default")) {
            json_object_set_new(v, name,
                                json_deep_copy(json_object_get(f, "default")));
        }
    }
}

br_err_t br_avro_reader_decode(br_avro_reader_t *r, const void *buf,
                               size_t len, json_t **out, char *errstr,
                               size_t errstr_size) {
    size_t used = 0;
    *out = NULL;
    avro_value_reset(&r->wvalue);
    avro_set_error("%s", ""); /* avro-c prefixes onto the last error */
    avro_reader_memory_set_source(r->mem, len ? buf : "", (int64_t)len);
    if (avro_value_read(r->mem, &r->wvalue) != 0)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "not an Avro datum of the writer schema: %s",
                         avro_strerror());
    if (avro_value_sizeof(&r->wvalue, &used) != 0 || used != len)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "Avro datum of %zu bytes followed by %zu bytes more",
                         used, len - used);
    conv_t cx = {.s = r->writer};
    *out = conv_value(&cx, &r->wvalue, cx.s->json, 0);
    if (!*out)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE, "Avro datum: %s",
                         cx.err ? cx.err : "out of memory");
    if (r->reader)
        project(r->reader, *out, r->reader->json, 0);
    return BR_ERR_OK;
}

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
