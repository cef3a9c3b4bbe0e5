/*
 * Series cap: a scope reached scopes[].max_series with a record; one
 * series_cap alert, naming the dimension that runs away (the store counts
 * its distinct values). New values then fold into "(other)" (series.h).
 */
#include "burnrate/detector.h"

static void series_cap_on_series(void *self, const br_emit_ctx_t *ec,
                                 const br_series_event_t *ev) {
    if (ev->kind != BR_SERIES_EV_CAP)
        return;
    const br_detect_env_t *env = self; /* stateless */
    const br_scope_conf_t *sc = br_series_scope(env->store, ev->scope)->conf;
    size_t distinct = 0;
    const char *dim = br_series_runaway_dim(env->store, ev->scope, ev->rec,
                                            &distinct);
    char msg[400];
    if (dim)
        br_emit_text(msg, sizeof(msg),
                     "Scope %s reached its cap of %zu series: dimension %s "
                     "has %zu distinct values (an id used as a tag?); new "
                     "values now fold into \"(other)\"",
                     sc->name, sc->max_series, dim, distinct);
    else
        br_emit_text(msg, sizeof(msg),
                     "Scope %s reached its cap of %zu series: new values "
                     "now fold into \"(other)\"",
                     sc->name, sc->max_series);
    br_emit_one_off(ec, env->conf->spike.bucket_ms, BR_ALERT_SERIES_CAP,
                    sc->name, dim, msg);
}

const br_detector_t br_detector_series_cap = {
    .name = "series_cap",
    .on_series = series_cap_on_series,
};
