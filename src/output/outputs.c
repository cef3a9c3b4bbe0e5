/*
 * The list of outputs and the outputs that need nothing but a FILE:
 * readable alert lines, alert JSON lines, dead letter JSON lines.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "burnrate/log.h"
#include "burnrate/outputs.h"

void br_outputs_init(br_outputs_t *l, br_outputs_error_cb *on_error,
                     void *err_opaque) {
    memset(l, 0, sizeof *l);
    br_buf_init(&l->scratch);
    l->on_error = on_error;
    l->err_opaque = err_opaque;
}

void br_outputs_free(br_outputs_t *l) {
    br_buf_free(&l->scratch);
    l->cnt = 0;
}

br_err_t br_outputs_add(br_outputs_t *l, const br_output_t *out) {
    if (l->cnt == BR_OUTPUTS_MAX)
        return BR_ERR_LIMIT;
    l->v[l->cnt++] = *out;
    return BR_ERR_OK;
}

/* Hand an alert (alert set) or a dead letter to every output that takes
 * that kind; a refusal goes to on_error. */
static void fan_out(br_outputs_t *l, const br_alert_t *alert,
                    const char **input_names, int64_t emitted_ms,
                    const br_dead_letter_t *dl) {
    for (size_t i = 0; i < l->cnt; i++) {
        const br_output_t *o = &l->v[i];
        char why[512];
        br_err_t err;
        if (alert ? !o->alert : !o->dead_letter)
            continue;
        br_buf_reset(&l->scratch);
        err = alert ? o->alert(o->opaque, alert, input_names, emitted_ms,
                               &l->scratch, why, sizeof why)
                    : o->dead_letter(o->opaque, dl, &l->scratch, why,
                                     sizeof why);
        if (err != BR_ERR_OK && l->on_error)
            l->on_error(l->err_opaque, o, alert, why);
    }
}

void br_outputs_alert(br_outputs_t *l, const br_alert_t *alert,
                      const char **input_names, int64_t emitted_ms) {
    fan_out(l, alert, input_names, emitted_ms, NULL);
}

void br_outputs_dead_letter(br_outputs_t *l, const br_dead_letter_t *dl) {
    fan_out(l, NULL, NULL, 0, dl);
}

static br_err_t lines_alert(void *opaque, const br_alert_t *alert,
                            const char **input_names, int64_t emitted_ms,
                            br_buf_t *b, char *errstr, size_t errstr_size) {
    FILE *fp = opaque;
    (void)input_names;
    (void)emitted_ms;
    (void)errstr;
    (void)errstr_size;
    br_alert_format_line(alert, b);
    fwrite(b->data, 1, b->len, fp);
    fflush(fp);
    return BR_ERR_OK;
}

br_output_t br_output_lines(FILE *fp) {
    return (br_output_t){"lines", lines_alert, NULL, fp};
}

static br_err_t file_alert(void *opaque, const br_alert_t *alert,
                           const char **input_names, int64_t emitted_ms,
                           br_buf_t *b, char *errstr, size_t errstr_size) {
    (void)errstr;
    (void)errstr_size;
    br_alert_to_json(alert, input_names, emitted_ms, b);
    br_buf_append(b, "\n", 1);
    fwrite(b->data, 1, b->len, opaque);
    return BR_ERR_OK;
}

br_output_t br_output_alert_file(FILE *fp) {
    return (br_output_t){"file", file_alert, NULL, fp};
}

/* Append len bytes as a JSON string: control bytes escaped, invalid UTF-8
 * bytes replaced by U+FFFD, embedded NULs kept as \u0000. */
static void json_bytes(br_buf_t *b, const unsigned char *p, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;

    br_buf_append(b, "\"", 1);
    while (i < len) {
        unsigned char c = p[i];
        size_t need = 0;
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', (char)c};
                br_buf_append(b, e, 2);
            } else if (c == '\n') {
                br_buf_append(b, "\\n", 2);
            } else if (c == '\r') {
                br_buf_append(b, "\\r", 2);
            } else if (c == '\t') {
                br_buf_append(b, "\\t", 2);
            } else if (c < 0x20 || c == 0x7f) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                br_buf_append(b, e, 6);
            } else {
                br_buf_append(b, &p[i], 1);
            }
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3;
        if (need) {
            bool ok = true;
            for (size_t k = 1; ok && k <= need; k++)
                ok = i + k < len && (p[i + k] & 0xc0) == 0x80;
            /* No overlong forms, surrogates or code points past U+10FFFF. */
            if (ok && c == 0xe0 && p[i + 1] < 0xa0) ok = false;
            if (ok && c == 0xed && p[i + 1] > 0x9f) ok = false;
            if (ok && c == 0xf0 && p[i + 1] < 0x90) ok = false;
            if (ok && c == 0xf4 && p[i + 1] > 0x8f) ok = false;
            if (ok) {
                br_buf_append(b, &p[i], need + 1);
                i += need + 1;
                continue;
            }
        }
        br_buf_append(b, "\xef\xbf\xbd", 3);
        i++;
    }
    br_buf_append(b, "\"", 1);
}

static br_err_t file_dead_letter(void *opaque, const br_dead_letter_t *dl,
                                 br_buf_t *b, char *errstr,
                                 size_t errstr_size) {
    const br_origin_t *origin = dl->origin;
    (void)errstr;
    (void)errstr_size;
    br_buf_puts(b, "{\"reason\":");
    br_buf_json_str(b, br_err_name(dl->reason));
    br_buf_puts(b, ",\"detail\":");
    br_buf_json_str(b, dl->detail ? dl->detail : "");
    br_buf_puts(b, ",\"input\":");
    br_buf_json_str(b, dl->input);
    br_buf_puts(b, ",\"topic\":");
    br_buf_json_str(b, origin->topic ? origin->topic : "");
    br_buf_printf(b, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64,
                  origin->partition, origin->offset);
    if (dl->key) {
        br_buf_puts(b, ",\"key\":");
        json_bytes(b, dl->key, dl->key_len);
    }
    br_buf_puts(b, ",\"payload\":");
    json_bytes(b, dl->payload, dl->len);
    br_buf_puts(b, "}\n");
    fwrite(b->data, 1, b->len, opaque);
    return BR_ERR_OK;
}

br_output_t br_output_dead_letter_file(FILE *fp) {
    return (br_output_t){"file", NULL, file_dead_letter, fp};
}
