#!/usr/bin/env bash
# scripts/eval's scorer on hand-made labels and alerts with known counts
# (true positives, false positives by cause, misses, delays, revisions of one
# id counted once, other scopes and types left out, downward scored apart),
# the scorer's oracle (alerts exactly on the labels score 1.0), the
# generator's determinism, and scripts/eval --quick end to end.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
PY=/usr/bin/python3
BENCH=../scripts/eval.d/bench.py
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
br_tmp_init
T=$BR_TMP

# field JSON EXPR: a python expression on the score JSON `r`.
field() {
    $PY - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {"r": r}))
EOF
}
expect() { # JSON EXPR WANT
    local got
    got=$(field "$1" "$2")
    [[ $got == "$3" ]] || br_die "$2: got '$got', want '$3'"
}

# 1. Hand-made: three series of 48 hourly buckets (6 series-days) from
# 2025-01-06T00:00Z. Bucket n starts at hour n: bucket 30 = 01-07T06:00.
H=$T/hand
mkdir -p "$H"
cat >"$H/meta.json" <<'EOF'
{"bucket_seconds": 3600, "start": "2025-01-06T00:00:00Z", "buckets": 48,
 "first_anomaly_bucket": 24, "dims": ["team", "model"],
 "series": [{"team": "a", "model": "x", "class": "dense", "credit_buckets": [19]},
            {"team": "b", "model": "y", "class": "dense"},
            {"team": "c", "model": "z", "class": "sparse"}]}
EOF
lab() { # TEAM MODEL KIND START END [CLASS] [anomaly] [direction]
    printf '{"series":{"team":"%s","model":"%s"},"kind":"%s","start":%d,"end":%d,"class":"%s","anomaly":%s,"direction":"%s"}\n' \
        "$1" "$2" "$3" "$4" "$5" "${6:-dense}" "${7:-true}" "${8:-up}"
}
{
    lab a x spike 30 30               # hit by A1 (two revisions), delay 0
    lab a x plateau 40 43             # no alert: a miss
    lab b y ramp 30 35                # hit by B1 starting at bucket 33: delay 3
    lab b y spike 20 20               # hit by B2 (window starts at its end)
    lab b y drop 40 42 dense true down  # hit by the downward D1
    lab c z level_shift 10 20 sparse false
    lab c z spike 40 40 sparse        # missed: C3 starts after it
} >"$H/labels.jsonl"
alert() { # ID REV TYPE SCOPE LABELS START END EVENT_TIME OBSERVED EXPECTED
    printf '{"id":"%s","revision":%d,"type":"%s","scope":"%s","labels":%s,"window":{"start":"%s","end":"%s"},"event_time":"%s","observed":%s,"expected":%s}\n' \
        "$@"
}
AX='{"team":"a","model":"x"}' BY='{"team":"b","model":"y"}' CZ='{"team":"c","model":"z"}'
{
    alert A1 1 cost_spike team_model "$AX" 2025-01-07T06:00:00Z 2025-01-07T07:00:00Z 2025-01-07T06:10:00.5Z 50 10
    alert A1 2 cost_spike team_model "$AX" 2025-01-07T06:00:00Z 2025-01-07T08:00:00Z 2025-01-07T07:10:00Z 90 10
    alert A1 3 cost_spike team_model "$AX" 2025-01-07T06:00:00Z 2025-01-07T08:00:00Z 2025-01-07T10:00:00Z 90 10
    alert A2 1 cost_spike team_model "$AX" 2025-01-06T20:00:00Z 2025-01-06T21:00:00Z 2025-01-06T20:30:00Z 50 10
    alert B0 1 cost_spike team_model "$BY" 2025-01-06T05:00:00Z 2025-01-06T06:00:00Z 2025-01-06T05:10:00Z 50 10
    alert B1 1 cost_spike team_model "$BY" 2025-01-07T09:00:00Z 2025-01-07T10:00:00Z 2025-01-07T09:20:00Z 50 10
    alert B2 1 cost_spike team_model "$BY" 2025-01-06T20:00:00Z 2025-01-06T21:00:00Z 2025-01-06T20:59:59Z 50 10
    alert D1 1 cost_spike team_model "$BY" 2025-01-07T17:00:00Z 2025-01-07T18:00:00Z 2025-01-07T17:30:00Z 1 40
    alert C1 1 cost_spike team_model "$CZ" 2025-01-06T12:00:00Z 2025-01-06T13:00:00Z 2025-01-06T12:05:00Z 50 10
    alert C2 1 cost_spike team_model "$CZ" 2025-01-07T06:00:00Z 2025-01-07T07:00:00Z 2025-01-07T06:05:00Z 50 10
    alert C3 1 cost_spike team_model "$CZ" 2025-01-07T17:00:00Z 2025-01-07T18:00:00Z 2025-01-07T17:05:00Z 50 10
    alert T1 1 cost_spike team '{"team":"a"}' 2025-01-07T06:00:00Z 2025-01-07T07:00:00Z 2025-01-07T06:10:00Z 50 10
    printf '{"id":"BT","revision":1,"type":"budget_threshold","scope":"budget"}\n'
} >"$H/alerts.jsonl"
$PY "$BENCH" score --dir "$H" --alerts "$H/alerts.jsonl" --json "$H/s.json" >"$H/out.txt" ||
    br_die "score failed: $(cat "$H/out.txt")"
S=$H/s.json
# Upward: 5 anomalies (a/x spike, plateau; b/y ramp, spike; c/z spike),
# 3 detected by A1, B1, B2; FP: A2 (a bucket after a credit), B0 (first
# week), C1 (level shift), C2 (the a/x spike's window on another series:
# noise), C3 (after the c/z spike ended).
expect "$S" 'r["overall"]["anomalies"]' 5
expect "$S" 'r["overall"]["detected"]' 3
expect "$S" 'r["overall"]["missed"]' 2
expect "$S" 'r["overall"]["tp_alerts"]' 3
expect "$S" 'r["overall"]["fp"]' 5
expect "$S" 'round(r["overall"]["precision"], 4)' 0.375
expect "$S" 'round(r["overall"]["recall"], 4)' 0.6
expect "$S" 'round(r["overall"]["f1"], 4)' 0.4615
expect "$S" 'r["overall"]["median_delay"]' 0.0
expect "$S" 'round(r["overall"]["fa100"], 2)' 83.33
expect "$S" '{c["cause"]: c["fp"] for c in r["fp_causes"]}' \
    "{'level_shift': 1, 'after_anomaly': 1, 'after_collapse': 0, 'first_week': 1, 'credit': 1, 'noise': 1}"
expect "$S" '[(x["row"], x["detected"], x["median_delay"]) for x in r["rows"][:3]]' \
    "[('spike', 2, 0.0), ('plateau', 0, None), ('ramp', 1, 3.0)]"
# Class rows: dense a/x and b/y hold 2 FP over 4 series-days, sparse c/z 3 over 2.
expect "$S" '[(x["row"], x["fp"], round(x["fa100"])) for x in r["rows"][3:]]' \
    "[('class dense', 2, 50), ('class sparse', 3, 150)]"
expect "$S" '(r["drop"]["anomalies"], r["drop"]["detected"], r["drop"]["fp"], r["drop"]["watched"])' \
    "(1, 1, 0, True)"
expect "$S" '(r["other_scope"], r["other_types"], r["incidents"])' "(1, {'budget_threshold': 1}, 10)"
grep -Eq '^upward, all +5 +3 +2 +3 +5 +0\.38 +0\.60 +0\.46 +0 +83\.33$' "$H/out.txt" ||
    br_die "printed overall row wrong: $(grep '^upward' "$H/out.txt")"
grep -Eq 'recall \(upward\) +0\.60 +target >= 0\.90 +NOT met' "$H/out.txt" ||
    br_die "target line missing: $(cat "$H/out.txt")"

# Without the downward alert and not watched: drops print as not watched.
grep -v '"D1"' "$H/alerts.jsonl" >"$H/up.jsonl"
$PY "$BENCH" score --dir "$H" --alerts "$H/up.jsonl" >"$H/up.txt"
grep -q 'drop (down) .*not watched yet' "$H/up.txt" || br_die "drops not shown as unwatched"

# A broken alerts file is a real error.
echo 'not json' >"$H/bad.jsonl"
if $PY "$BENCH" score --dir "$H" --alerts "$H/bad.jsonl" >/dev/null 2>&1; then
    br_die "a broken alerts file scored"
fi

# 2. The generator: the same seed gives the same bytes, another seed not.
W=$T/w1
mkdir -p "$W" "$T/w2" "$T/w3"
$PY "$BENCH" gen --out "$W" --seed 7 --teams 2 --models 3 --weeks 2 >"$T/gen1.txt"
$PY "$BENCH" gen --out "$T/w2" --seed 7 --teams 2 --models 3 --weeks 2 >/dev/null
$PY "$BENCH" gen --out "$T/w3" --seed 8 --teams 2 --models 3 --weeks 2 >/dev/null
for f in events.jsonl labels.jsonl meta.json; do
    cmp -s "$W/$f" "$T/w2/$f" || br_die "seed 7 gave two different $f"
done
cmp -s "$W/events.jsonl" "$T/w3/events.jsonl" && br_die "seeds 7 and 8 gave the same events"
grep -q '"cost":-' "$W/events.jsonl" || grep -q 'credit rows' "$T/gen1.txt" || br_die "no workload summary"

# The oracle: one alert per upward anomaly, exactly on its buckets, fired in
# its first bucket, scores precision = recall = 1 and delay 0.
$PY - "$W" >"$W/oracle.jsonl" <<'EOF'
import datetime as dt, json, sys
d = sys.argv[1]
for i, line in enumerate(open(d + "/labels.jsonl")):
    lab = json.loads(line)
    if not lab["anomaly"] or lab["direction"] != "up":
        continue
    print(json.dumps({"id": "o%d" % i, "revision": 1, "type": "cost_spike", "scope": "team_model",
                      "labels": lab["series"], "window": {"start": lab["start_time"], "end": lab["end_time"]},
                      "event_time": lab["start_time"], "observed": 100, "expected": 1}))
EOF
[[ -s $W/oracle.jsonl ]] || br_die "the tiny workload has no upward anomaly"
$PY "$BENCH" score --dir "$W" --alerts "$W/oracle.jsonl" --json "$W/o.json" >/dev/null
expect "$W/o.json" '(r["overall"]["precision"], r["overall"]["recall"], r["overall"]["median_delay"], r["overall"]["fp"])' \
    "(1.0, 1.0, 0.0, 0)"

# 3. scripts/eval --quick end to end with the built binary: it runs, reads
# the defaults from burnrate, and prints the table and the targets.
BURNRATE=$BURNRATE ../scripts/eval --quick --out "$T/quick" >"$T/quick.txt" 2>&1 ||
    br_die "scripts/eval --quick failed: $(tail -20 "$T/quick.txt")"
for want in '^defaults: bucket: 1h' '^upward, all ' '^drop \(down\)' 'planned level shift' \
    'false alerts / 100 series-days' 'eval run time'; do
    grep -Eq "$want" "$T/quick.txt" || br_die "scripts/eval --quick printed no '$want'"
done
[[ -s $T/quick/alerts.jsonl ]] || br_die "scripts/eval --quick kept no alerts"
br_log "it_eval: ok"
