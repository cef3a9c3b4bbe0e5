/*
 * External sort of (key, seq, bytes) records: in memory up to a limit, else
 * sorted runs appended to one unlinked temporary file and merged with a
 * heap (in several passes when there are more runs than the fan-in, so the
 * read buffers stay bounded whatever the number of runs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "burnrate/sortrun.h"

#define FANIN 32                     /* runs merged at once */
#define READ_BUF_BYTES (32 * 1024)   /* per run being merged */
#define BLOCK_MAX ((size_t)1 << 20)  /* record bytes are kept in blocks */
#define BLOCK_MIN ((size_t)256)

/* One record held in memory; idx is its insertion number (the last key). */
typedef struct ent {
    int64_t key;
    uint64_t seq;
    uint64_t idx;
    const unsigned char *data;  /* in a block */
    size_t len;                 /* bytes */
} ent_t;

typedef struct block {
    struct block *next;
    size_t cap, used;           /* bytes of data */
    unsigned char data[];
} block_t;

/* A record in a run file: this header, then len bytes. Native layout: the
 * file is read back by the process that wrote it. */
typedef struct rec_hdr {
    int64_t key;
    uint64_t seq;
    uint64_t len;               /* bytes that follow */
} rec_hdr_t;

/* A temporary file of runs, appended to sequentially, read with pread(). */
typedef struct spill {
    int fd;                     /* -1: none */
    FILE *wfp;                  /* writes; owns fd */
    uint64_t wpos;              /* bytes written */
} spill_t;

typedef struct run {
    uint64_t off, end;          /* byte range in the spill file */
} run_t;

/* Reads one run record after record. */
typedef struct reader {
    int fd;                     /* borrowed from a spill */
    uint64_t pos, end;          /* next file byte to fetch; end of run */
    unsigned char *buf;         /* READ_BUF_BYTES */
    size_t buf_len, buf_pos;
    int64_t key;                /* the current record */
    uint64_t seq;
    size_t len;
    unsigned char *rec;         /* its bytes; rec_cap allocated */
    size_t rec_cap;
} reader_t;

typedef struct merge {
    reader_t *rd;               /* one per run, in run order */
    size_t n;
    size_t *heap;               /* indices into rd: a min-heap */
    size_t heap_n;
    bool pending;               /* heap[0] was returned: advance it first */
} merge_t;

struct br_sortrun {
    size_t limit;               /* bytes of records and index in memory */
    char *tmpdir;               /* owned */
    ent_t *ents;                /* records in memory */
    size_t cnt, cap;
    block_t *blocks;            /* newest first */
    size_t block_bytes;         /* allocated for blocks, headers included */
    size_t block_size;          /* bytes of a regular block */
    uint64_t next_idx;
    spill_t spill;
    run_t *runs;
    size_t run_cnt, run_cap;
    bool finished;
    size_t pos;                 /* in-memory iteration */
    bool merging;
    merge_t merge;
    br_sortrun_stats_t st;
};

static size_t mem_used(const br_sortrun_t *sr) {
    return sr->block_bytes + sr->cap * sizeof(ent_t);
}

static void free_blocks(br_sortrun_t *sr) {
    while (sr->blocks) {
        block_t *b = sr->blocks;
        sr->blocks = b->next;
        free(b);
    }
    sr->block_bytes = 0;
}

static void spill_close(spill_t *sp) {
    if (sp->wfp)
        fclose(sp->wfp);
    else if (sp->fd >= 0)
        close(sp->fd);
    sp->wfp = NULL;
    sp->fd = -1;
    sp->wpos = 0;
}

static br_err_t spill_open(br_sortrun_t *sr, spill_t *sp, char *errstr,
                           size_t errstr_size) {
    size_t n = strlen(sr->tmpdir) + sizeof "/burnrate-sort-XXXXXX";
    char *path = malloc(n);
    if (!path)
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    snprintf(path, n, "%s/burnrate-sort-XXXXXX", sr->tmpdir);
    sp->fd = mkstemp(path);
    if (sp->fd < 0) {
        int e = errno;
        free(path);
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "cannot create a temporary file in %s to sort: %s "
                         "(set TMPDIR to a writable directory, or raise the "
                         "sort memory limit)",
                         sr->tmpdir, strerror(e));
    }
    /* Gone from the directory at once: the open descriptor keeps the data
     * until it is closed, by us or by the exit of the process. */
    unlink(path);
    free(path);
    sp->wfp = fdopen(sp->fd, "wb");
    sp->wpos = 0;
    if (!sp->wfp) {
        int e = errno;
        spill_close(sp);
        return br_seterr(errstr, errstr_size, BR_ERR_IO,
                         "temporary file in %s: %s", sr->tmpdir, strerror(e));
    }
    return BR_ERR_OK;
}

static br_err_t write_err(const br_sortrun_t *sr, int e, char *errstr,
                          size_t errstr_size) {
    return br_seterr(errstr, errstr_size, BR_ERR_IO,
                     "writing a sort run to a temporary file in %s: %s",
                     sr->tmpdir, strerror(e ? e : EIO));
}

static br_err_t spill_write(const br_sortrun_t *sr, spill_t *sp, int64_t key,
                            uint64_t seq, const void *data, size_t len,
                            char *errstr, size_t errstr_size) {
    rec_hdr_t h = {key, seq, (uint64_t)len};
    errno = 0;
    if (fwrite(&h, sizeof h, 1, sp->wfp) != 1 ||
        (len && fwrite(data, 1, len, sp->wfp) != len))
        return write_err(sr, errno, errstr, errstr_size);
    sp->wpos += sizeof h + len;
    return BR_ERR_OK;
}

static br_err_t spill_flush(const br_sortrun_t *sr, spill_t *sp, char *errstr,
                            size_t errstr_size) {
    errno = 0;
    if (fflush(sp->wfp) || ferror(sp->wfp))
        return write_err(sr, errno, errstr, errstr_size);
    return BR_ERR_OK;
}

static br_err_t add_run(run_t **runs, size_t *cnt, size_t *cap, uint64_t off,
                        uint64_t end, char *errstr, size_t errstr_size) {
    if (*cnt == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        run_t *nr = realloc(*runs, ncap * sizeof **runs);
        if (!nr)
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        *runs = nr;
        *cap = ncap;
    }
    (*runs)[(*cnt)++] = (run_t){off, end};
    return BR_ERR_OK;
}

static int ent_cmp(const void *pa, const void *pb) {
    const ent_t *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sort what is in memory and append it to the spill file as one run. */
static br_err_t spill_run(br_sortrun_t *sr, char *errstr, size_t errstr_size) {
    br_err_t err;
    if (sr->spill.fd < 0 &&
        (err = spill_open(sr, &sr->spill, errstr, errstr_size)))
        return err;
    qsort(sr->ents, sr->cnt, sizeof *sr->ents, ent_cmp);
    uint64_t off = sr->spill.wpos;
    for (size_t i = 0; i < sr->cnt; i++) {
        const ent_t *e = &sr->ents[i];
        if ((err = spill_write(sr, &sr->spill, e->key, e->seq, e->data, e->len,
                               errstr, errstr_size)))
            return err;
    }
    /* Flushed per run: a full disk shows up at once, and the run is in
     * the file for pread() whenever the merge starts. */
    if ((err = spill_flush(sr, &sr->spill, errstr, errstr_size)) ||
        (err = add_run(&sr->runs, &sr->run_cnt, &sr->run_cap, off,
                       sr->spill.wpos, errstr, errstr_size)))
        return err;
    sr->st.runs++;
    sr->cnt = 0;
    free_blocks(sr);
    return BR_ERR_OK;
}

/* -- reading runs back --------------------------------------------------- */

static br_err_t read_err(int e, const char *what, char *errstr,
                         size_t errstr_size) {
    return br_seterr(errstr, errstr_size, BR_ERR_IO,
                     "reading a sort run from its temporary file: %s",
                     e ? strerror(e) : what);
}

/* Copy n bytes of the run into dst. */
static br_err_t rd_get(reader_t *rd, void *dst, size_t n, char *errstr,
                       size_t errstr_size) {
    unsigned char *d = dst;
    while (n) {
        if (rd->buf_pos == rd->buf_len) {
            uint64_t left = rd->end - rd->pos;
            size_t want = left < READ_BUF_BYTES ? (size_t)left : READ_BUF_BYTES;
            if (!want)
                return read_err(0, "run truncated", errstr, errstr_size);
            ssize_t got;
            do
                got = pread(rd->fd, rd->buf, want, (off_t)rd->pos);
            while (got < 0 && errno == EINTR);
            if (got <= 0)
                return read_err(got < 0 ? errno : 0, "unexpected end of file",
                                errstr, errstr_size);
            rd->pos += (uint64_t)got;
            rd->buf_len = (size_t)got;
            rd->buf_pos = 0;
        }
        size_t k = rd->buf_len - rd->buf_pos;
        if (k > n)
            k = n;
        memcpy(d, rd->buf + rd->buf_pos, k);
        rd->buf_pos += k;
        d += k;
        n -= k;
    }
    return BR_ERR_OK;
}

/* The run's next record; BR_ERR_NOTFOUND at its end. */
static br_err_t rd_next(reader_t *rd, char *errstr, size_t errstr_size) {
    rec_hdr_t h;
    br_err_t err;
    if (rd->pos == rd->end && rd->buf_pos == rd->buf_len)
        return BR_ERR_NOTFOUND;
    if ((err = rd_get(rd, &h, sizeof h, errstr, errstr_size)))
        return err;
    if (h.len > (rd->end - rd->pos) + (rd->buf_len - rd->buf_pos))
        return read_err(0, "record longer than its run", errstr, errstr_size);
    if (h.len > rd->rec_cap) {
        unsigned char *p = realloc(rd->rec, (size_t)h.len);
        if (!p)
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        rd->rec = p;
        rd->rec_cap = (size_t)h.len;
    }
    if ((err = rd_get(rd, rd->rec, (size_t)h.len, errstr, errstr_size)))
        return err;
    rd->key = h.key;
    rd->seq = h.seq;
    rd->len = (size_t)h.len;
    return BR_ERR_OK;
}

/* Ties on (key, seq) go to the earlier run: runs hold records in the
 * order they were added. */
static bool rd_less(const merge_t *m, size_t a, size_t b) {
    const reader_t *x = &m->rd[a], *y = &m->rd[b];
    if (x->key != y->key)
        return x->key < y->key;
    if (x->seq != y->seq)
        return x->seq < y->seq;
    return a < b;
}

static void sift_down(merge_t *m, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, min = i;
        if (l < m->heap_n && rd_less(m, m->heap[l], m->heap[min]))
            min = l;
        if (r < m->heap_n && rd_less(m, m->heap[r], m->heap[min]))
            min = r;
        if (min == i)
            return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[min];
        m->heap[min] = t;
        i = min;
    }
}

static void merge_free(merge_t *m) {
    for (size_t i = 0; i < m->n; i++) {
        free(m->rd[i].buf);
        free(m->rd[i].rec);
    }
    free(m->rd);
    free(m->heap);
    memset(m, 0, sizeof *m);
}

static br_err_t merge_init(merge_t *m, int fd, const run_t *runs, size_t n,
                           char *errstr, size_t errstr_size) {
    memset(m, 0, sizeof *m);
    m->rd = calloc(n, sizeof *m->rd);
    m->heap = calloc(n, sizeof *m->heap);
    if (!m->rd || !m->heap) {
        merge_free(m);
        return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
    }
    m->n = n;
    for (size_t i = 0; i < n; i++) {
        reader_t *rd = &m->rd[i];
        rd->fd = fd;
        rd->pos = runs[i].off;
        rd->end = runs[i].end;
        if (!(rd->buf = malloc(READ_BUF_BYTES))) {
            merge_free(m);
            return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        }
        br_err_t err = rd_next(rd, errstr, errstr_size);
        if (err == BR_ERR_NOTFOUND)
            continue;
        if (err) {
            merge_free(m);
            return err;
        }
        m->heap[m->heap_n++] = i;
    }
    for (size_t i = m->heap_n / 2; i-- > 0;)
        sift_down(m, i);
    return BR_ERR_OK;
}

/* The smallest record left; borrowed until the next call. */
static br_err_t merge_next(merge_t *m, reader_t **out, char *errstr,
                           size_t errstr_size) {
    if (m->pending) {
        m->pending = false;
        br_err_t err = rd_next(&m->rd[m->heap[0]], errstr, errstr_size);
        if (err == BR_ERR_NOTFOUND)
            m->heap[0] = m->heap[--m->heap_n];
        else if (err)
            return err;
        if (m->heap_n)
            sift_down(m, 0);
    }
    if (!m->heap_n)
        return BR_ERR_NOTFOUND;
    m->pending = true;
    *out = &m->rd[m->heap[0]];
    return BR_ERR_OK;
}

/* Merge runs FANIN at a time into a new spill file until one merge can
 * take them all. */
static br_err_t reduce_runs(br_sortrun_t *sr, char *errstr,
                            size_t errstr_size) {
    while (sr->run_cnt > FANIN) {
        spill_t out = {-1, NULL, 0};
        run_t *runs = NULL;
        size_t cnt = 0, cap = 0;
        merge_t m = {0};
        br_err_t err = spill_open(sr, &out, errstr, errstr_size);
        for (size_t g = 0; !err && g < sr->run_cnt; g += FANIN) {
            size_t n = sr->run_cnt - g < FANIN ? sr->run_cnt - g : FANIN;
            uint64_t off = out.wpos;
            reader_t *rd;
            if ((err = merge_init(&m, sr->spill.fd, &sr->runs[g], n, errstr,
                                  errstr_size)))
                break;
            while ((err = merge_next(&m, &rd, errstr, errstr_size)) == BR_ERR_OK)
                if ((err = spill_write(sr, &out, rd->key, rd->seq, rd->rec,
                                       rd->len, errstr, errstr_size)))
                    break;
            merge_free(&m);
            if (err == BR_ERR_NOTFOUND)
                err = BR_ERR_OK;
            if (!err)
                err = spill_flush(sr, &out, errstr, errstr_size);
            if (!err)
                err = add_run(&runs, &cnt, &cap, off, out.wpos, errstr,
                              errstr_size);
        }
        if (err) {
            spill_close(&out);
            free(runs);
            return err;
        }
        spill_close(&sr->spill);
        sr->spill = out;
        free(sr->runs);
        sr->runs = runs;
        sr->run_cnt = cnt;
        sr->run_cap = cap;
        sr->st.merge_passes++;
    }
    return BR_ERR_OK;
}

/* -- the interface -------------------------------------------------------- */

br_sortrun_t *br_sortrun_new(size_t memory_bytes, const char *tmpdir,
                             char *errstr, size_t errstr_size) {
    br_sortrun_t *sr = calloc(1, sizeof *sr);
    if (!tmpdir || !*tmpdir)
        tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    if (!sr || !(sr->tmpdir = strdup(tmpdir))) {
        free(sr);
        br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sr->limit = memory_bytes ? memory_bytes : 1;
    sr->block_size = sr->limit / 8;
    if (sr->block_size > BLOCK_MAX)
        sr->block_size = BLOCK_MAX;
    if (sr->block_size < BLOCK_MIN)
        sr->block_size = BLOCK_MIN;
    sr->spill.fd = -1;
    return sr;
}

void br_sortrun_destroy(br_sortrun_t *sr) {
    if (!sr)
        return;
    merge_free(&sr->merge);
    spill_close(&sr->spill);
    free_blocks(sr);
    free(sr->ents);
    free(sr->runs);
    free(sr->tmpdir);
    free(sr);
}

br_err_t br_sortrun_add(br_sortrun_t *sr, int64_t key, uint64_t seq,
                        const void *data, size_t len, char *errstr,
                        size_t errstr_size) {
    if (sr->finished)
        return br_seterr(errstr, errstr_size, BR_ERR_INVAL,
                         "sort: record added after finish");
    for (int pass = 0;; pass++) {
        bool new_block = len && (!sr->blocks ||
                                 sr->blocks->cap - sr->blocks->used < len);
        size_t block_cap = len > sr->block_size ? len : sr->block_size;
        size_t grow = sr->cnt == sr->cap ? (sr->cap ? sr->cap : 16) : 0;
        size_t extra = (new_block ? sizeof(block_t) + block_cap : 0) +
                       grow * sizeof(ent_t);
        /* Over the limit: spill what is held, then take the record (alone
         * if need be: a record larger than the limit is still sorted). */
        if (pass == 0 && sr->cnt && mem_used(sr) + extra > sr->limit) {
            br_err_t err = spill_run(sr, errstr, errstr_size);
            if (err)
                return err;
            continue;
        }
        if (grow) {
            ent_t *ne = realloc(sr->ents, (sr->cap + grow) * sizeof *ne);
            if (!ne)
                return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
            sr->ents = ne;
            sr->cap += grow;
        }
        if (new_block) {
            block_t *b = malloc(sizeof *b + block_cap);
            if (!b)
                return br_seterr(errstr, errstr_size, BR_ERR_NOMEM, "out of memory");
            b->cap = block_cap;
            b->used = 0;
            b->next = sr->blocks;
            sr->blocks = b;
            sr->block_bytes += sizeof *b + block_cap;
        }
        break;
    }
    ent_t *e = &sr->ents[sr->cnt++];
    e->key = key;
    e->seq = seq;
    e->idx = sr->next_idx++;
    e->len = len;
    e->data = NULL;
    if (len) {
        block_t *b = sr->blocks;
        e->data = b->data + b->used;
        memcpy(b->data + b->used, data, len);
        b->used += len;
    }
    sr->st.records++;
    sr->st.bytes += len;
    if (mem_used(sr) > sr->st.peak_memory_bytes)
        sr->st.peak_memory_bytes = mem_used(sr);
    return BR_ERR_OK;
}

br_err_t br_sortrun_finish(br_sortrun_t *sr, char *errstr,
                           size_t errstr_size) {
    br_err_t err;
    if (sr->finished)
        return BR_ERR_OK;
    sr->finished = true;
    if (!sr->run_cnt) {
        if (sr->cnt)
            qsort(sr->ents, sr->cnt, sizeof *sr->ents, ent_cmp);
        return BR_ERR_OK;
    }
    if (sr->cnt && (err = spill_run(sr, errstr, errstr_size)))
        return err;
    free(sr->ents);
    sr->ents = NULL;
    sr->cap = 0;
    if ((err = reduce_runs(sr, errstr, errstr_size)) ||
        (err = merge_init(&sr->merge, sr->spill.fd, sr->runs, sr->run_cnt,
                          errstr, errstr_size)))
        return err;
    sr->merging = true;
    return BR_ERR_OK;
}

br_err_t br_sortrun_next(br_sortrun_t *sr, int64_t *key, uint64_t *seq,
                         const void **data, size_t *len, char *errstr,
                         size_t errstr_size) {
    if (!sr->finished)
        return br_seterr(errstr, errstr_size, BR_ERR_INVAL,
                         "sort: next before finish");
    if (sr->merging) {
        reader_t *rd;
        br_err_t err = merge_next(&sr->merge, &rd, errstr, errstr_size);
        if (err)
            return err;
        *key = rd->key;
        *seq = rd->seq;
        *data = rd->rec ? (const void *)rd->rec : "";
        *len = rd->len;
        return BR_ERR_OK;
    }
    if (sr->pos == sr->cnt)
        return BR_ERR_NOTFOUND;
    const ent_t *e = &sr->ents[sr->pos++];
    *key = e->key;
    *seq = e->seq;
    *data = e->data ? (const void *)e->data : "";
    *len = e->len;
    return BR_ERR_OK;
}

void br_sortrun_stats(const br_sortrun_t *sr, br_sortrun_stats_t *stats) {
    *stats = sr->st;
}

br_err_t br_sortrun_parse_size(const char *s, size_t *out) {
    uint64_t n = 0, mul = 1;
    const char *p = s;
    if (!s || *p < '0' || *p > '9')
        return BR_ERR_INVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (UINT64_MAX - 9) / 10)
            return BR_ERR_INVAL;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    switch (*p) {
    case 'k': case 'K': mul = (uint64_t)1 << 10; p++; break;
    case 'm': case 'M': mul = (uint64_t)1 << 20; p++; break;
    case 'g': case 'G': mul = (uint64_t)1 << 30; p++; break;
    case 't': case 'T': mul = (uint64_t)1 << 40; p++; break;
    default: break;
    }
    if (mul > 1 && *p == 'i')
        p++;
    if (*p == 'B')
        p++;
    if (*p || n == 0 || n > SIZE_MAX / mul)
        return BR_ERR_INVAL;
    *out = (size_t)(n * mul);
    return BR_ERR_OK;
}
