/*
 * Snapshot container and state directory. The container is checked before
 * anything inside it is believed: magic, header checksum, version, exact
 * length, payload checksum; only then are the sections parsed (with the
 * bounded reader, so even a file with a valid checksum cannot overrun).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "burnrate/snapshot.h"
#include "burnrate/wire.h"

static const char MAGIC[8] = {'B', 'R', 'S', 'N', 'A', 'P', '\r', '\n'};

#define TAG(a, b, c, d)                                                       \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |               \
     (uint32_t)(d) << 24)
#define TAG_META TAG('M', 'E', 'T', 'A')
#define TAG_OFFS TAG('O', 'F', 'F', 'S')
#define TAG_CORE TAG('C', 'O', 'R', 'E')

#define BAD_KEEP 10          /* rejected files kept for inspection */
#define PREFIX "snapshot-"
#define SUFFIX ".brs"

/* ---- container --------------------------------------------------------- */

static void put_u32_at(br_buf_t *b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++)
        b->data[at + (size_t)i] = (char)(v >> (8 * i));
}

static void put_u64_at(br_buf_t *b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++)
        b->data[at + (size_t)i] = (char)(v >> (8 * i));
}

static void section(br_buf_t *tmp, br_buf_t *out, uint32_t tag) {
    br_wr_u32le(out, tag);
    br_wr_u64le(out, tmp->len);
    br_buf_append(out, tmp->data, tmp->len);
    br_buf_reset(tmp);
}

br_err_t br_snapshot_encode(const br_snapshot_t *s, br_buf_t *out) {
    br_buf_t tmp;
    size_t base = out->len;

    br_buf_init(&tmp);
    br_buf_append(out, MAGIC, sizeof MAGIC);
    br_wr_u32le(out, BR_SNAPSHOT_FORMAT);
    br_wr_u32le(out, 0);          /* flags */
    br_wr_u64le(out, 0);          /* payload length, patched below */
    br_wr_u32le(out, 0);          /* payload CRC */
    br_wr_u32le(out, 0);          /* header CRC */

    br_wr_uvar(&tmp, s->generation);
    br_wr_ivar(&tmp, s->written_ms);
    br_wr_str(&tmp, s->version ? s->version : "");
    section(&tmp, out, TAG_META);
    br_wr_str(&tmp, s->group ? s->group : "");
    br_wr_uvar(&tmp, s->offset_cnt);
    for (size_t i = 0; i < s->offset_cnt; i++) {
        br_wr_str(&tmp, s->offsets[i].topic);
        br_wr_ivar(&tmp, s->offsets[i].partition);
        br_wr_ivar(&tmp, s->offsets[i].offset);
    }
    section(&tmp, out, TAG_OFFS);
    br_wr_u32le(out, TAG_CORE);
    br_wr_u64le(out, s->core_len);
    br_buf_append(out, s->core, s->core_len);
    br_buf_free(&tmp);
    if (out->oom || tmp.oom)
        return BR_ERR_NOMEM;

    size_t plen = out->len - base - BR_SNAPSHOT_HEADER;
    put_u64_at(out, base + 16, plen);
    put_u32_at(out, base + 24,
               br_crc32c(0, out->data + base + BR_SNAPSHOT_HEADER, plen));
    put_u32_at(out, base + 28, br_crc32c(0, out->data + base, 28));
    return BR_ERR_OK;
}

void br_snapshot_clear(br_snapshot_t *s) {
    for (size_t i = 0; i < s->offset_cnt; i++)
        free(s->offsets[i].topic);
    free(s->offsets);
    free(s->version);
    free(s->group);
    memset(s, 0, sizeof *s);
}

static br_err_t parse_meta(br_rd_t *r, br_snapshot_t *out) {
    out->generation = br_rd_uvar(r);
    out->written_ms = br_rd_ivar(r);
    out->version = br_rd_strdup(r);
    return r->err ? BR_ERR_PARSE : BR_ERR_OK;
}

static br_err_t parse_offsets(br_rd_t *r, br_snapshot_t *out) {
    out->group = br_rd_strdup(r);
    uint64_t n = br_rd_count(r, br_rd_left(r) / 3);
    if (r->err)
        return BR_ERR_PARSE;
    out->offsets = calloc(n ? n : 1, sizeof *out->offsets);
    if (!out->offsets) {
        br_rd_fail(r, "out of memory");
        return BR_ERR_NOMEM;
    }
    for (uint64_t i = 0; i < n && !r->err; i++) {
        br_snap_offset_t *o = &out->offsets[i];
        o->topic = br_rd_strdup(r);
        int64_t p = br_rd_ivar(r);
        o->offset = br_rd_ivar(r);
        if (!r->err && (p < 0 || p > INT32_MAX || o->offset < 0))
            br_rd_fail(r, "offset out of range");
        o->partition = (int32_t)p;
        out->offset_cnt = (size_t)i + 1;
    }
    return r->err ? BR_ERR_PARSE : BR_ERR_OK;
}

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

br_err_t br_snapshot_decode(const void *data, size_t len, br_snapshot_t *out,
                            char *errstr, size_t errstr_size) {
    const unsigned char *p = data;
    memset(out, 0, sizeof *out);
    if (len < sizeof MAGIC || memcmp(p, MAGIC, sizeof MAGIC) != 0)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "not a burnrate snapshot (bad magic)");
    if (len < BR_SNAPSHOT_HEADER)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "truncated header (%zu bytes)", len);
    if (br_crc32c(0, p, 28) != get_u32(p + 28))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "header checksum mismatch");
    uint32_t format = get_u32(p + 8);
    if (format == 0 || format > BR_SNAPSHOT_FORMAT)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "format %" PRIu32 " is not readable by this version "
                         "(it reads 1 to %d)", format, BR_SNAPSHOT_FORMAT);
    uint64_t plen = (uint64_t)get_u32(p + 16) | (uint64_t)get_u32(p + 20) << 32;
    if (plen != len - BR_SNAPSHOT_HEADER)
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "length mismatch: header says %" PRIu64
                         " payload bytes, file has %zu (truncated?)",
                         plen, len - BR_SNAPSHOT_HEADER);
    if (br_crc32c(0, p + BR_SNAPSHOT_HEADER, (size_t)plen) != get_u32(p + 24))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "payload checksum mismatch (corrupted)");
    out->format = format;

    br_rd_t r;
    bool meta = false, offs = false, core = false;
    br_rd_init(&r, p + BR_SNAPSHOT_HEADER, (size_t)plen);
    while (br_rd_left(&r) > 0 && !r.err) {
        uint32_t tag = br_rd_u32le(&r);
        uint64_t slen = br_rd_u64le(&r);
        if (r.err || slen > br_rd_left(&r)) {
            br_rd_fail(&r, "section overruns the file");
            break;
        }
        br_rd_t sr;
        br_rd_init(&sr, r.p, (size_t)slen);
        r.p += slen;
        if (tag == TAG_META && !meta) {
            meta = true;
            parse_meta(&sr, out);
        } else if (tag == TAG_OFFS && !offs) {
            offs = true;
            parse_offsets(&sr, out);
        } else if (tag == TAG_CORE && !core) {
            core = true;
            out->core = sr.p;
            out->core_len = (size_t)slen;
            sr.p = sr.end;
        } else if (tag == TAG_META || tag == TAG_OFFS || tag == TAG_CORE) {
            br_rd_fail(&sr, "section repeated");
        } else {
            sr.p = sr.end; /* a later version's section: skipped */
        }
        if (sr.err)
            br_rd_fail(&r, sr.err);
        else if (br_rd_left(&sr))
            br_rd_fail(&r, "section has trailing bytes");
    }
    if (!r.err && !(meta && offs && core))
        br_rd_fail(&r, "a required section is missing");
    if (r.err) {
        br_snapshot_clear(out);
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE,
                         "bad payload: %s", r.err);
    }
    return BR_ERR_OK;
}

/* ---- files ------------------------------------------------------------- */

static br_err_t read_file(const char *path, br_buf_t *bytes, char *errstr,
                          size_t errstr_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    br_buf_reset(bytes);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: %s", path,
                         strerror(e));
    }
    size_t want = st.st_size > 0 ? (size_t)st.st_size : 0;
    br_buf_append(bytes, "", 0);
    if (want && bytes->cap < want + 1) {
        char *d = realloc(bytes->data, want + 1);
        if (!d) {
            close(fd);
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                             "%s: out of memory for %zu bytes", path, want);
        }
        bytes->data = d;
        bytes->cap = want + 1;
    }
    for (;;) {
        char chunk[65536];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: %s", path,
                             strerror(e));
        }
        br_buf_append(bytes, chunk, (size_t)n);
    }
    close(fd);
    if (bytes->oom)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                         "%s: out of memory", path);
    return BR_ERR_OK;
}

br_err_t br_snapshot_read_file(const char *path, br_buf_t *bytes,
                               br_snapshot_t *out, char *errstr,
                               size_t errstr_size) {
    char why[256];
    br_err_t err = read_file(path, bytes, errstr, errstr_size);
    if (err)
        return err;
    if (br_snapshot_decode(bytes->data, bytes->len, out, why, sizeof why))
        return br_seterr(errstr, errstr_size, BR_ERR_PARSE, "%s: %s", path,
                         why);
    return BR_ERR_OK;
}

/* ---- the directory ----------------------------------------------------- */

struct br_snapdir {
    char *dir;
    int keep;
    ssize_t (*write_fn)(int fd, const void *buf, size_t len);
};

const char *br_snapdir_path(const br_snapdir_t *sd) {
    return sd->dir;
}

void br_snapdir_set_write_fn(br_snapdir_t *sd,
                             ssize_t (*fn)(int fd, const void *buf,
                                           size_t len)) {
    sd->write_fn = fn ? fn : write;
}

/* Generation of a file name "snapshot-<digits>.brs[.bad]"; 0 if not one.
 * *bad tells which. */
static uint64_t name_gen(const char *name, bool *bad) {
    size_t pl = strlen(PREFIX);
    if (strncmp(name, PREFIX, pl) != 0)
        return 0;
    const char *p = name + pl;
    uint64_t g = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (g > (UINT64_MAX - 9) / 10)
            return 0;
        g = g * 10 + (uint64_t)(*p - '0');
    }
    if (digits == 0)
        return 0;
    if (strcmp(p, SUFFIX) == 0)
        *bad = false;
    else if (strcmp(p, SUFFIX ".bad") == 0)
        *bad = true;
    else
        return 0;
    return g;
}

static int cmp_desc(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Generations of the directory, newest first, good or bad ones. */
static br_err_t list_gens(const br_snapdir_t *sd, bool want_bad,
                          uint64_t **out, size_t *cnt, char *errstr,
                          size_t errstr_size) {
    DIR *d = opendir(sd->dir);
    size_t n = 0, cap = 0;
    uint64_t *v = NULL;
    struct dirent *de;
    *out = NULL;
    *cnt = 0;
    if (!d)
        return br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: %s", sd->dir,
                         strerror(errno));
    while ((de = readdir(d)) != NULL) {
        bool bad;
        uint64_t g = name_gen(de->d_name, &bad);
        if (!g || bad != want_bad)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                closedir(d);
                return br_seterr(errstr, errstr_size, BR_ERR_NOMEM,
                                 "out of memory");
            }
            v = nv;
        }
        v[n++] = g;
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, cmp_desc);
    *out = v;
    *cnt = n;
    return BR_ERR_OK;
}

static void gen_path(const br_snapdir_t *sd, uint64_t g, const char *extra,
                     char *buf, size_t size) {
    snprintf(buf, size, "%s/" PREFIX "%020" PRIu64 SUFFIX "%s", sd->dir, g,
             extra);
}

static int mkdirs(const char *path) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

br_snapdir_t *br_snapdir_open(const char *dir, int keep, char *errstr,
                              size_t errstr_size) {
    char probe[PATH_MAX];
    struct stat st;
    br_snapdir_t *sd;

    if (mkdirs(dir) != 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        br_seterr(errstr, errstr_size, BR_ERR_IO,
                  "state directory %s cannot be created: %s", dir,
                  errno ? strerror(errno) : "not a directory");
        return NULL;
    }
    snprintf(probe, sizeof probe, "%s/.write-probe-%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(probe);
        }
        br_seterr(errstr, errstr_size, BR_ERR_IO,
                  "state directory %s is not writable: %s", dir, strerror(e));
        return NULL;
    }
    close(fd);
    unlink(probe);

    sd = calloc(1, sizeof *sd);
    if (!sd || !(sd->dir = strdup(dir))) {
        free(sd);
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sd->keep = keep > 0 ? keep : 1;
    sd->write_fn = write;

    /* A crash during a write leaves "<name>.tmp": never a snapshot. */
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (strncmp(de->d_name, PREFIX, strlen(PREFIX)) == 0 && n > 4 &&
            strcmp(de->d_name + n - 4, ".tmp") == 0) {
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    }
    if (d)
        closedir(d);
    return sd;
}

void br_snapdir_close(br_snapdir_t *sd) {
    if (!sd)
        return;
    free(sd->dir);
    free(sd);
}

uint64_t br_snapdir_next_generation(const br_snapdir_t *sd) {
    uint64_t best = 0, *v;
    size_t n;
    for (int bad = 0; bad < 2; bad++) {
        if (list_gens(sd, bad, &v, &n, NULL, 0) == BR_ERR_OK && n &&
            v[0] > best)
            best = v[0];
        free(v);
    }
    return best + 1;
}

static void prune(br_snapdir_t *sd, bool bad, size_t keep) {
    uint64_t *v;
    size_t n;
    if (list_gens(sd, bad, &v, &n, NULL, 0) != BR_ERR_OK)
        return;
    for (size_t i = keep; i < n; i++) {
        char p[PATH_MAX];
        gen_path(sd, v[i], bad ? ".bad" : "", p, sizeof p);
        unlink(p);
    }
    free(v);
}

br_err_t br_snapdir_write(br_snapdir_t *sd, uint64_t gen, const void *data,
                          size_t len, char *errstr, size_t errstr_size) {
    char tmp[PATH_MAX], final[PATH_MAX];
    const char *p = data;
    const char *what = "open";
    int fd, e = 0;

    gen_path(sd, gen, ".tmp", tmp, sizeof tmp);
    gen_path(sd, gen, "", final, sizeof final);
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        e = errno;
        goto fail;
    }
    what = "write";
    while (len > 0) {
        ssize_t n = sd->write_fn(fd, p, len > (1u << 20) ? (1u << 20) : len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? errno : ENOSPC;
            goto fail;
        }
        p += n;
        len -= (size_t)n;
    }
    what = "fsync";
    if (fsync(fd) != 0) {
        e = errno;
        goto fail;
    }
    what = "close";
    if (close(fd) != 0) {
        fd = -1;
        e = errno;
        goto fail;
    }
    fd = -1;
    what = "rename";
    if (rename(tmp, final) != 0) {
        e = errno;
        goto fail;
    }
    what = "fsync of the directory";
    if (fsync_dir(sd->dir) != 0) {
        /* The file is complete; only its name may not survive a power cut.
         * Report it: the caller must not commit offsets for it. */
        e = errno;
        br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: %s: %s", final, what,
                  strerror(e));
        return BR_ERR_IO;
    }
    prune(sd, false, (size_t)sd->keep);
    prune(sd, true, BAD_KEEP);
    return BR_ERR_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return br_seterr(errstr, errstr_size, BR_ERR_IO, "%s: %s: %s", tmp, what,
                     strerror(e));
}

void br_snapdir_reject(br_snapdir_t *sd, const char *path, const char *reason,
                       br_snap_bad_fn on_bad, void *opaque) {
    char bad[PATH_MAX + 8], why[1024];
    (void)sd;
    snprintf(bad, sizeof bad, "%s.bad", path);
    snprintf(why, sizeof why, "%s", reason);
    if (rename(path, bad) != 0)
        snprintf(why + strlen(why), sizeof why - strlen(why),
                 " (could not move it aside: %s)", strerror(errno));
    if (on_bad)
        on_bad(opaque, path, why);
}

br_err_t br_snapdir_load(br_snapdir_t *sd, br_buf_t *bytes,
                         br_snapshot_t *out, char *path_out, size_t path_size,
                         br_snap_bad_fn on_bad, void *opaque, char *errstr,
                         size_t errstr_size) {
    uint64_t *v;
    size_t n;
    br_err_t err = list_gens(sd, false, &v, &n, errstr, errstr_size);
    if (err)
        return err;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX], why[512];
        gen_path(sd, v[i], "", path, sizeof path);
        err = read_file(path, bytes, why, sizeof why);
        if (err == BR_ERR_OK)
            err = br_snapshot_decode(bytes->data, bytes->len, out, why,
                                     sizeof why);
        if (err == BR_ERR_OK) {
            free(v);
            snprintf(path_out, path_size, "%s", path);
            return BR_ERR_OK;
        }
        br_snapdir_reject(sd, path, why, on_bad, opaque);
    }
    free(v);
    return br_seterr(errstr, errstr_size, BR_ERR_NOTFOUND,
                     "no valid snapshot in %s", sd->dir);
}

br_err_t br_snapshot_read_newest(const char *dir, br_buf_t *bytes,
                                 br_snapshot_t *out, char *path_out,
                                 size_t path_size, char *errstr,
                                 size_t errstr_size) {
    br_snapdir_t sd = {.dir = (char *)(uintptr_t)dir, .keep = 1,
                       .write_fn = write};
    uint64_t *v;
    size_t n;
    br_err_t err = list_gens(&sd, false, &v, &n, errstr, errstr_size);
    if (err)
        return err;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        gen_path(&sd, v[i], "", path, sizeof path);
        if (br_snapshot_read_file(path, bytes, out, NULL, 0) == BR_ERR_OK) {
            free(v);
            snprintf(path_out, path_size, "%s", path);
            return BR_ERR_OK;
        }
    }
    free(v);
    return br_seterr(errstr, errstr_size, BR_ERR_NOTFOUND,
                     "no valid snapshot in %s", dir);
}
