/*
 * Error codes shared by every module: one X-macro gives the enum, the names
 * and the human strings, so they can never drift apart.
 */
#ifndef BURNRATE_ERR_H
#define BURNRATE_ERR_H

#define BR_ERRORS(X)                                                    \
        X(OK, "success")                                                \
        X(SKIP, "record filtered out by configuration")                 \
        X(INVAL, "invalid argument")                                    \
        X(PARSE, "malformed input")                                     \
        X(TYPE, "field has the wrong type")                             \
        X(MISSING, "required field missing")                            \
        X(RANGE, "value out of range")                                  \
        X(NOMEM, "out of memory")                                       \
        X(IO, "I/O error")                                              \
        X(LIMIT, "limit reached")                                       \
        X(NOTFOUND, "not found")                                        \
        X(CONFIG, "configuration error")                                \
        X(KAFKA, "Kafka client error")                                  \
        X(FUTURE, "event time too far ahead of the clock")

typedef enum {
#define BR__ERR_ENUM(name, str) BR_ERR_##name,
    BR_ERRORS(BR__ERR_ENUM)
#undef BR__ERR_ENUM
    BR_ERR__CNT
} br_err_t;

/** @returns the constant's name without prefix, e.g. "PARSE"; static. */
const char *br_err_name(br_err_t err);
/** @returns a short human description; static. */
const char *br_err_str(br_err_t err);

/** printf into errstr (if non-NULL) and return err: for one-line error paths. */
br_err_t br_seterr(char *errstr, size_t errstr_size, br_err_t err,
               const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
