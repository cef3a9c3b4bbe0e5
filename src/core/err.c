/* Names and strings for br_err_t, generated from the one X-macro. */
#include <stdarg.h>
#include <stdio.h>

#include "burnrate/err.h"

static const char *const names[] = {
#define X(name, str) #name,
    BR_ERRORS(X)
#undef X
};
static const char *const strs[] = {
#define X(name, str) str,
    BR_ERRORS(X)
#undef X
};

const char *br_err_name(br_err_t err) {
    return (unsigned)err < BR_ERR__CNT ? names[err] : "UNKNOWN";
}

const char *br_err_str(br_err_t err) {
    return (unsigned)err < BR_ERR__CNT ? strs[err] : "unknown error";
}

br_err_t br_seterr(char *errstr, size_t errstr_size, br_err_t err,
               const char *fmt, ...) {
    if (errstr && errstr_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(errstr, errstr_size, fmt, ap);
            va_end(ap);
    }
    return err;
}
