/* The series store (series.h) on its own: attribution creates series per
 * scope and links children to the record's parent series; a full scope
 * folds into "(other)" and says so once; lookup, labels, parents, the
 * input masks, open-bucket rings and adopting a saved series. */
#include <stdlib.h>
#include <string.h>

#include "brtest.h"
#include "burnrate/config.h"
#include "burnrate/decode.h"
#include "burnrate/series.h"

static const char *CONF =
    "inputs:\n"
    "  - name: usage\n"
    "    topic: usage\n"
    "    dialect: custom\n"
    "    mapping: {time: ts, cost: cost, dims: {team: team, user: user}}\n"
    "  - name: bills\n"
    "    topic: bills\n"
    "    dialect: custom\n"
    "    mapping: {time: ts, cost: cost, dims: {team: team}}\n"
    "scopes:\n"
    "  - {name: team_user, dims: [team, user], max_series: 3}\n"
    "  - {name: total, dims: []}\n"
    "  - {name: team, dims: [team]}\n";

static void record(br_record_t *rec, int input, const char *team,
                   const char *user) {
    memset(rec, 0, sizeof *rec);
    br_record_reset(rec);
    rec->origin.input = input;
    if (team)
        br_record_set_dim(rec, "team", team, strlen(team));
    if (user)
        br_record_set_dim(rec, "user", user, strlen(user));
}

/* Attribute rec to every scope, parents first, as the pipeline does. */
static void attribute_all(br_series_store_t *st, size_t scope_cnt,
                          const br_record_t *rec, uint32_t *out,
                          br_attribution_t *last) {
    const uint32_t *order = br_series_scope_order(st);
    for (size_t k = 0; k < scope_cnt; k++)
        out[k] = BR_SERIES_NONE;
    for (size_t k = 0; k < scope_cnt; k++) {
        br_attribution_t r = br_series_attribute(st, order[k], rec, 99, out);
        out[order[k]] = r.idx;
        if (order[k] == 0)
            *last = r;
    }
}

int main(void) {
    char err[512];
    br_config_t *conf = br_config_load_string(CONF, "t.yaml", NULL, err,
                                              sizeof err);
    CHECK_STR(conf ? "loaded" : err, "loaded");
    if (!conf)
        return brt_done();
    br_decoder_t *dec[2];
    for (int i = 0; i < 2; i++)
        dec[i] = br_decoder_new(&conf->inputs[i], err, sizeof err);
    br_series_store_t *st = br_series_store_new(conf, dec);
    CHECK(st != NULL);

    /* Parents before children; parents one dimension up. */
    const uint32_t *order = br_series_scope_order(st);
    CHECK_INT(order[0], 1);
    CHECK_INT(order[1], 2);
    CHECK_INT(order[2], 0);
    CHECK_INT(br_series_scope(st, 0)->parent_cnt, 1);
    CHECK_INT(br_series_scope(st, 0)->parents[0], 2);
    CHECK_INT(br_series_scope(st, 2)->parents[0], 1);
    CHECK_INT(br_series_scope(st, 1)->parent_cnt, 0);
    /* Both inputs feed every scope; only usage can carry user. */
    CHECK(br_series_scope(st, 0)->inputs == 3);
    CHECK(br_series_scope(st, 0)->dim_inputs[1] == br_series_input_bit(0));
    CHECK(br_series_input_bit(70) == br_series_input_bit(63));

    br_record_t rec;
    uint32_t ids[3];
    br_attribution_t r;
    record(&rec, 0, "search", "ann");
    attribute_all(st, 3, &rec, ids, &r);
    CHECK(r.created && !r.folded && !r.cap_reached);
    CHECK_INT(br_series_count(st), 3);
    br_series_t *leaf = br_series_at(st, ids[0]);
    CHECK_INT(leaf->last_final, 99);
    CHECK(leaf->fresh);
    CHECK_INT(leaf->ring_cap, BR_SERIES_RING_MIN);
    /* user is set: only usage can feed the leaf; team: both. */
    CHECK(leaf->inputs == br_series_input_bit(0));
    CHECK(br_series_at(st, ids[2])->inputs == 3);
    /* The team series lists the leaf, total lists the team series. */
    CHECK_INT(br_series_at(st, ids[2])->child_cnt, 1);
    CHECK_INT(br_series_at(st, ids[2])->children[0], ids[0]);
    CHECK_INT(br_series_at(st, ids[1])->children[0], ids[2]);

    /* The same labels find the same series. */
    uint32_t again[3];
    attribute_all(st, 3, &rec, again, &r);
    CHECK(!r.created);
    CHECK(memcmp(ids, again, sizeof ids) == 0);
    CHECK_INT(br_series_find(st, 0, "search\0ann", 11), ids[0]);
    CHECK_INT(br_series_find(st, 0, "search\0bob", 11), BR_SERIES_NONE);

    /* Labels in dimension order, borrowed; a missing one reads "(none)". */
    br_dim_t l[4];
    CHECK_INT(br_series_labels(st, leaf, l, 4), 2);
    CHECK_STR(l[0].key, "team");
    CHECK_STR(l[1].value, "ann");
    record(&rec, 1, "search", NULL);
    attribute_all(st, 3, &rec, ids, &r);
    CHECK(r.created);
    leaf = br_series_at(st, ids[0]);
    br_series_labels(st, leaf, l, 4);
    CHECK_STR(l[1].value, BR_SERIES_UNSET);
    CHECK(leaf->inputs == 3); /* a dimension lacked: any input */

    /* Parents: the team series of a leaf, unless an input feeds it that
     * cannot feed the leaf (bills carry no user). */
    CHECK_INT(br_series_parent(st, leaf, 0), ids[2]);
    record(&rec, 0, "ads", "cy");
    attribute_all(st, 3, &rec, ids, &r);
    CHECK_INT(br_series_parent(st, br_series_at(st, ids[0]), 0),
              BR_SERIES_NONE);

    /* The cap (3): the fourth leaf folds into "(other)", the cap is
     * reported once, and later folds go to the same series. */
    CHECK_INT(br_series_scope_size(st, 0), 3);
    record(&rec, 0, "ads", "dee");
    attribute_all(st, 3, &rec, ids, &r);
    CHECK(r.created && r.folded && r.cap_reached);
    CHECK(br_series_at(st, r.idx)->other);
    CHECK_INT(br_series_scope(st, 0)->other, r.idx);
    CHECK(br_series_scope(st, 0)->cap_alerted);
    CHECK_INT(br_series_scope_size(st, 0), 4);
    uint32_t other = r.idx;
    record(&rec, 0, "ads", "eve");
    attribute_all(st, 3, &rec, ids, &r);
    CHECK(!r.created && r.folded && !r.cap_reached);
    CHECK_INT(r.idx, other);
    br_series_labels(st, br_series_at(st, other), l, 4);
    CHECK_STR(l[0].value, BR_SERIES_OTHER);
    /* user runs away: ann, (none), cy and eve (the record at hand). */
    size_t distinct;
    CHECK_STR(br_series_runaway_dim(st, 0, &rec, &distinct), "user");
    CHECK_INT(distinct, 4);

    /* The ring: fit doubles it and keeps the buckets where they were. */
    br_series_t *s = br_series_at(st, other);
    *br_series_slot(s, 100) = 7;
    CHECK(br_series_fit(s, 99 + 20));
    CHECK_INT(s->ring_cap, 32);
    CHECK(*br_series_slot(s, 100) == 7);
    CHECK(!br_series_fit(s, 99 + BR_SERIES_RING_MAX + 1));
    /* A fresh series opens earlier buckets. */
    CHECK(br_series_open_from(s, 90));
    CHECK_INT(s->last_final, 89);
    CHECK(*br_series_slot(s, 100) == 7);

    /* Adopt: a saved series is taken in once; a second time is refused. */
    br_series_t in;
    memset(&in, 0, sizeof in);
    in.blob = malloc(8);
    memcpy(in.blob, "web\0zed", 8);
    in.blob_len = 8;
    in.ring = calloc(BR_SERIES_RING_MIN, sizeof *in.ring);
    in.ring_cap = BR_SERIES_RING_MIN;
    in.last_final = 5;
    in.total = 42;
    uint32_t idx;
    CHECK_INT(br_series_adopt(st, 0, &in, &idx), BR_ERR_OK);
    CHECK(in.blob == NULL && in.ring == NULL);
    CHECK_INT(br_series_find(st, 0, "web\0zed", 8), idx);
    CHECK(br_series_at(st, idx)->total == 42);
    CHECK(br_series_at(st, idx)->inputs == br_series_input_bit(0));
    br_series_t dup;
    memset(&dup, 0, sizeof dup);
    dup.blob = malloc(8);
    memcpy(dup.blob, "web\0zed", 8);
    dup.blob_len = 8;
    CHECK_INT(br_series_adopt(st, 0, &dup, &idx), BR_ERR_PARSE);
    br_series_release(&dup);
    CHECK(dup.blob == NULL);

    size_t bytes, index;
    br_series_memory(st, &bytes, &index);
    CHECK(bytes >= br_series_count(st) * sizeof(br_series_t));
    CHECK_INT(index, 1024 * sizeof(uint32_t));

    br_series_store_destroy(st);
    for (int i = 0; i < 2; i++)
        br_decoder_destroy(dec[i]);
    br_config_destroy(conf);
    return brt_done();
}
