/*
 * ${VAR}, ${env:VAR}, ${file:PATH} and $$ in config values. A value never
 * appears in an error: messages name the reference and, for files, the
 * path and the reason.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "burnrate/expand.h"

/* A growing string; oom sticks. */
typedef struct sb {
    char *s;
    size_t len, cap;
    bool oom;
} sb_t;

static void sb_add(sb_t *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *g = realloc(b->s, cap);
        if (!g) {
            b->oom = true;
            return;
        }
        b->s = g;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static bool valid_var(const char *s, size_t n) {
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* The end of the reference opened at s ("${"): the index of its "}",
 * counting nested ${...}, or 0 when unterminated. */
static size_t ref_end(const char *s) {
    int depth = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '$' && s[i + 1] == '{') {
            depth++;
            i++;
        } else if (s[i] == '}' && --depth == 0) {
            return i;
        }
    }
    return 0;
}

static br_err_t read_file(const char *path, sb_t *val, char *errstr,
                          size_t errstr_size, const char *ref, int ref_len) {
    char buf[4096];
    FILE *fp = fopen(path, "rb");
    size_t n, total = 0;

    if (!fp)
        return br_seterr(errstr, errstr_size, BR_ERR_CONFIG, "%.*s: %s: %s",
                         ref_len, ref, path, strerror(errno));
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
        total += n;
        if (total > BR_EXPAND_FILE_MAX) {
            fclose(fp);
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "%.*s: %s: larger than %u bytes", ref_len, ref,
                             path, BR_EXPAND_FILE_MAX);
        }
        if (memchr(buf, '\0', n)) {
            fclose(fp);
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "%.*s: %s: holds a NUL byte (not text)", ref_len,
                             ref, path);
        }
        sb_add(val, buf, n);
    }
    if (ferror(fp)) {
        int e = errno;
        fclose(fp);
        return br_seterr(errstr, errstr_size, BR_ERR_CONFIG, "%.*s: %s: %s",
                         ref_len, ref, path, strerror(e));
    }
    fclose(fp);
    /* A file written by echo or an editor ends in a newline that is not
     * part of the secret. */
    if (val->len && val->s[val->len - 1] == '\n')
        val->s[--val->len] = '\0';
    if (val->len && val->s[val->len - 1] == '\r')
        val->s[--val->len] = '\0';
    return BR_ERR_OK;
}

static br_err_t expand(const char *s, size_t len, const char *base_dir,
                       bool files, br_expand_value_cb *on_value, void *opaque,
                       sb_t *out, bool *changed, char *errstr,
                       size_t errstr_size);

/* One reference: body is what stands between "${" and "}". */
static br_err_t expand_ref(const char *ref, int ref_len, const char *body,
                           size_t n, const char *base_dir, bool files,
                           br_expand_value_cb *on_value, void *opaque,
                           sb_t *out, char *errstr, size_t errstr_size) {
    sb_t val = {0};
    br_err_t err = BR_ERR_OK;

    if (n >= 5 && strncmp(body, "file:", 5) == 0) {
        sb_t path = {0};
        if (!files) {
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "%.*s: ${file:...} cannot be nested in a file "
                             "path", ref_len, ref);
        }
        err = expand(body + 5, n - 5, base_dir, false, NULL, NULL, &path,
                     NULL, errstr, errstr_size);
        if (!err && (path.oom || path.len == 0))
            err = path.oom ? BR_ERR_NOMEM
                           : br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                                       "%.*s: empty file path", ref_len, ref);
        if (!err) {
            sb_t full = {0};
            if (path.s[0] != '/' && base_dir && *base_dir) {
                sb_add(&full, base_dir, strlen(base_dir));
                if (base_dir[strlen(base_dir) - 1] != '/')
                    sb_add(&full, "/", 1);
            }
            sb_add(&full, path.s, path.len);
            err = full.oom ? BR_ERR_NOMEM
                           : read_file(full.s, &val, errstr, errstr_size, ref,
                                       ref_len);
            free(full.s);
        }
        free(path.s);
    } else {
        const char *name = body;
        size_t nl = n;
        char var[256];
        if (nl >= 4 && strncmp(name, "env:", 4) == 0) {
            name += 4;
            nl -= 4;
        }
        if (!valid_var(name, nl) || nl >= sizeof var) {
            const char *colon = memchr(body, ':', n);
            if (colon && colon > body && !memchr(body, '$', n))
                return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                                 "%.*s: unknown source \"%.*s\" (accepted: "
                                 "env, file; $$ is a literal $)", ref_len,
                                 ref, (int)(colon - body), body);
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "%.*s: not a variable name (letters, digits "
                             "and _, not starting with a digit; $$ is a "
                             "literal $)", ref_len, ref);
        }
        memcpy(var, name, nl);
        var[nl] = '\0';
        const char *v = getenv(var);
        if (!v)
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "%.*s: environment variable %s is not set",
                             ref_len, ref, var);
        sb_add(&val, v, strlen(v));
    }
    if (!err && val.oom)
        err = BR_ERR_NOMEM;
    if (!err) {
        if (val.len) {
            sb_add(out, val.s, val.len);
            if (on_value)
                on_value(opaque, val.s);
        }
    }
    free(val.s);
    if (err == BR_ERR_NOMEM)
        br_seterr(errstr, errstr_size, err, "out of memory");
    return err;
}

static br_err_t expand(const char *s, size_t len, const char *base_dir,
                       bool files, br_expand_value_cb *on_value, void *opaque,
                       sb_t *out, bool *changed, char *errstr,
                       size_t errstr_size) {
    size_t i = 0;
    sb_add(out, "", 0);
    while (i < len) {
        const char *d = memchr(s + i, '$', len - i);
        if (!d) {
            sb_add(out, s + i, len - i);
            break;
        }
        sb_add(out, s + i, (size_t)(d - (s + i)));
        i = (size_t)(d - s);
        if (i + 1 < len && s[i + 1] == '$') {
            sb_add(out, "$", 1);
            i += 2;
            if (changed)
                *changed = true;
            continue;
        }
        if (i + 1 >= len || s[i + 1] != '{') {
            sb_add(out, "$", 1); /* a lone $ is itself */
            i++;
            continue;
        }
        /* The reference ends within s[0..len): nested ones are counted. */
        char *copy = malloc(len - i + 1);
        if (!copy)
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        memcpy(copy, s + i, len - i);
        copy[len - i] = '\0';
        size_t end = ref_end(copy);
        free(copy);
        if (!end) {
            int n = (int)(len - i > 40 ? 40 : len - i);
            return br_seterr(errstr, errstr_size, BR_ERR_CONFIG,
                             "%.*s%s: unterminated ${ (no closing }; $$ is "
                             "a literal $)", n, s + i, len - i > 40 ? "..." : "");
        }
        br_err_t err = expand_ref(s + i, (int)end + 1, s + i + 2, end - 2,
                                  base_dir, files, on_value, opaque, out,
                                  errstr, errstr_size);
        if (err)
            return err;
        if (changed)
            *changed = true;
        i += end + 1;
    }
    if (out->oom)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    return BR_ERR_OK;
}

br_err_t br_expand(const char *s, const char *base_dir,
                   br_expand_value_cb *on_value, void *opaque, char **out,
                   bool *changed, char *errstr, size_t errstr_size) {
    sb_t b = {0};
    if (changed)
        *changed = false;
    br_err_t err = expand(s, strlen(s), base_dir, true, on_value, opaque, &b,
                          changed, errstr, errstr_size);
    if (err) {
        free(b.s);
        return err;
    }
    *out = b.s;
    return BR_ERR_OK;
}
