#!/usr/bin/env bash
# `burnrate replay` sorts each input's files by event time (issue 14): the
# FOCUS sample, grouped by account, replays with nothing late and the same
# alerts as its rows pre-sorted; a shuffled JSON lines file gives the alerts
# of the same file sorted; spilling to temporary files (a tiny
# --sort-memory) gives byte-identical output to sorting in memory; equal
# times keep file order, across files too; alerts' and dead letters'
# sources name the exact file and line; an unusable TMPDIR is a clear error
# and no temporary file is left behind.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
: "${BR_DATA:?BR_DATA must point at the shared data directory}"
BURNRATE=$BR_BIN/burnrate
PY=/usr/bin/python3
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
br_tmp_init
T=$BR_TMP
FOCUS=$BR_DATA/focus_sample.csv
mkdir -p "$T/tmp"
export TMPDIR=$T/tmp

# strip FILE [fields...]: alert lines without emitted_at and the named
# top-level fields, keys kept in their order.
strip() {
    local f=$1
    shift
    $PY - "$f" "$@" <<'EOF'
import json, sys
drop = {"emitted_at", *sys.argv[2:]}
for line in open(sys.argv[1]):
    obj = json.loads(line)
    print(json.dumps({k: v for k, v in obj.items() if k not in drop},
                     separators=(",", ":")))
EOF
}

same() { # same A B what
    cmp -s "$1" "$2" || { diff "$1" "$2" | head >&2; br_die "$3 differ"; }
}

# The summary's counters that must not depend on row order.
counters() {
    grep -E '^  (messages|priced|money|event time|alerts [0-9])' "$1" |
        sed -e 's/, wall time.*//'
}

# sources KIND FILE...: every alert's (or dead letter's) source names a
# file and a line/row whose event time (or raw text) is the alert's.
check_sources() {
    $PY - "$@" <<'EOF'
import csv, json, sys
from datetime import datetime, timezone
kind, path = sys.argv[1], sys.argv[2]
def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
rows = {}
def rows_of(f):
    if f not in rows:
        if f.endswith(".csv"):
            with open(f, newline="") as fp:
                rows[f] = list(csv.DictReader(fp))
        else:
            rows[f] = open(f).read().split("\n")
    return rows[f]
n = 0
for line in open(path):
    a = json.loads(line)
    if kind == "dead":
        got = rows_of(a["topic"])[a["offset"] - 1]
        assert got == a["payload"], (a, got)
        n += 1
        continue
    src = a["source"]
    if not src["topic"]:
        continue
    row = rows_of(src["topic"])[src["offset"] - 1]
    if src["topic"].endswith(".csv"):
        t = ts(row["ChargePeriodStart"])
    else:
        t = json.loads(row)["ts"]
    assert abs(t - ts(a["event_time"])) < 1e-3, (a, row)
    n += 1
assert n, "nothing checked"
print(n)
EOF
}

# 1. The FOCUS sample alone: rows grouped by account, 997 of them out of
# order, 995 by more than the hour of lateness. Nothing is late, and the
# summary says why it would have been.
cat >"$T/focus.yaml" <<EOF
currency: USD
inputs:
  - {name: billing, format: csv, dialect: focus, files: [given-with-input.csv]}
scopes:
  - {name: total, dims: []}
  - {name: service, dims: [service]}
spike: {bucket: 1h, min_impact: 1, min_ratio: 2, warmup: 24}
EOF
"$BURNRATE" replay --config "$T/focus.yaml" --input "billing=$FOCUS" \
    --output "$T/focus.jsonl" 2>"$T/focus.txt" ||
    { cat "$T/focus.txt" >&2; br_die "FOCUS replay failed"; }
grep -q 'late 0,' "$T/focus.txt" || { cat "$T/focus.txt" >&2; br_die "FOCUS rows late"; }
grep -q 'sorted by event time 1000 rows in memory; 997 were out of order in their files, 995 by more than the lateness' \
    "$T/focus.txt" || { cat "$T/focus.txt" >&2; br_die "FOCUS sort summary"; }
[[ -s $T/focus.jsonl ]] || br_die "FOCUS replay found nothing"

# The same rows sorted beforehand (stably, by ChargePeriodStart): the same
# alerts but their source row, the same counters.
$PY - "$FOCUS" "$T/focus_sorted.csv" <<'EOF'
import csv, sys
from datetime import datetime
with open(sys.argv[1], newline="") as fp:
    r = csv.reader(fp)
    head = next(r)
    rows = list(r)
k = head.index("ChargePeriodStart")
rows.sort(key=lambda row: datetime.fromisoformat(row[k].replace("Z", "+00:00")))
with open(sys.argv[2], "w", newline="") as fp:
    w = csv.writer(fp, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(head)
    w.writerows(rows)
EOF
"$BURNRATE" replay --config "$T/focus.yaml" --input "billing=$T/focus_sorted.csv" \
    --output "$T/focus_sorted.jsonl" 2>"$T/focus_sorted.txt"
grep -q 'in memory; 0 were out of order' "$T/focus_sorted.txt" ||
    { cat "$T/focus_sorted.txt" >&2; br_die "pre-sorted FOCUS out of order"; }
strip "$T/focus.jsonl" source >"$T/focus.s"
strip "$T/focus_sorted.jsonl" source >"$T/focus_sorted.s"
same "$T/focus.s" "$T/focus_sorted.s" "alerts of the FOCUS sample and of its rows pre-sorted"
counters "$T/focus.txt" >"$T/focus.c"
counters "$T/focus_sorted.txt" >"$T/focus_sorted.c"
same "$T/focus.c" "$T/focus_sorted.c" "counters of the FOCUS sample and of its rows pre-sorted"
n=$(check_sources alert "$T/focus.jsonl")
br_log "FOCUS sample: 0 late, alerts as pre-sorted; $n alert sources point at their rows"

# 2. JSON lines, shuffled across two files vs the same records sorted in
# one: the same alerts but their source, the same counters.
$PY - "$T" <<'EOF'
import json, random, sys
d = sys.argv[1]
rng = random.Random(14)
lines = []
for h in range(72):
    for team, base in (("red", 2.0), ("blue", 3.0)):
        for k in range(4):
            cost = base * (12 if (team, h) == ("red", 60) else 1) * rng.uniform(0.8, 1.2)
            lines.append(json.dumps({"id": "e%05d" % len(lines),
                                     "ts": 1740787200 + h * 3600 + k * 900 + rng.randrange(600),
                                     "team": team, "cost": "%.4f" % cost}))
lines += ["not json", '{"team": "red", "cost": "1"}']
rng.shuffle(lines)
half = len(lines) // 2
open(f"{d}/shuf_a.jsonl", "w").write("\n".join(lines[:half]) + "\n")
open(f"{d}/shuf_b.jsonl", "w").write("\n".join(lines[half:]) + "\n")
good = [l for l in lines if l.startswith("{") and "ts" in l]
good.sort(key=lambda l: json.loads(l)["ts"])  # stable: file order on ties
open(f"{d}/sorted.jsonl", "w").write("\n".join(good) + "\n")
EOF
cat >"$T/json.yaml" <<EOF
currency: USD
inputs:
  - {name: ev, dialect: custom, lateness: 5m, files: [given-with-input.jsonl],
     mapping: {time: ts, cost: cost, id: id, dims: {team: team}}}
scopes:
  - {name: total, dims: []}
  - {name: team, dims: [team]}
spike: {bucket: 1h, min_impact: 1, min_ratio: 2, warmup: 24}
budgets:
  - {name: red-daily, match: {team: red}, amount: 150, period: day, thresholds: [50, 100]}
EOF
jreplay() { "$BURNRATE" replay --config "$T/json.yaml" "$@"; }
jreplay --input "ev=$T/shuf_a.jsonl" --input "ev=$T/shuf_b.jsonl" \
    --output "$T/shuf.jsonl" --dead-letters "$T/shuf.dead" 2>"$T/shuf.txt" ||
    { cat "$T/shuf.txt" >&2; br_die "shuffled replay failed"; }
jreplay --input "ev=$T/sorted.jsonl" --output "$T/sorted.jsonl.out" 2>"$T/sorted.txt"
grep -q 'late 0,' "$T/shuf.txt" || { cat "$T/shuf.txt" >&2; br_die "shuffled rows late"; }
grep -q 'spike' "$T/shuf.jsonl" || br_die "the injected spike did not fire"
strip "$T/shuf.jsonl" source >"$T/shuf.s"
strip "$T/sorted.jsonl.out" source >"$T/sorted.s"
same "$T/shuf.s" "$T/sorted.s" "alerts of shuffled and sorted JSON lines"
counters "$T/shuf.txt" | grep -v '^  messages' >"$T/shuf.c"
counters "$T/sorted.txt" | grep -v '^  messages' >"$T/sorted.c"
same "$T/shuf.c" "$T/sorted.c" "counters of shuffled and sorted JSON lines"
grep -q 'dead letters 2 (PARSE 1, MISSING 1)' "$T/shuf.txt" || br_die "dead letters of the shuffled files"
check_sources dead "$T/shuf.dead" >/dev/null
n=$(check_sources alert "$T/shuf.jsonl")
br_log "shuffled JSON lines: alerts as sorted; $n alert sources and 2 dead letters point at their lines"

# 3. Spilling: a tiny memory limit, many runs, the same bytes (but
# emitted_at) and the same dead letters; nothing left in TMPDIR.
jreplay --input "ev=$T/shuf_a.jsonl" --input "ev=$T/shuf_b.jsonl" --sort-memory 2K \
    --output "$T/spill.jsonl" --dead-letters "$T/spill.dead" 2>"$T/spill.txt" ||
    { cat "$T/spill.txt" >&2; br_die "spilled replay failed"; }
grep -qE 'spilled in [0-9]+ runs to temporary files \(2 KiB per input\)' "$T/spill.txt" ||
    { cat "$T/spill.txt" >&2; br_die "no spill reported"; }
strip "$T/shuf.jsonl" >"$T/mem.e"
strip "$T/spill.jsonl" >"$T/spill.e"
same "$T/mem.e" "$T/spill.e" "alerts sorted in memory and spilled"
same "$T/shuf.dead" "$T/spill.dead" "dead letters sorted in memory and spilled"
"$BURNRATE" replay --config "$T/focus.yaml" --input "billing=$FOCUS" --sort-memory 1K \
    --output "$T/focus_spill.jsonl" 2>"$T/focus_spill.txt"
strip "$T/focus_spill.jsonl" >"$T/focus_spill.e"
strip "$T/focus.jsonl" >"$T/focus.e"
same "$T/focus.e" "$T/focus_spill.e" "FOCUS alerts sorted in memory and spilled"
[[ -z $(ls -A "$T/tmp") ]] || br_die "temporary files left: $(ls "$T/tmp")"

# 4. Equal event times keep file order, and the earlier file comes first:
# of two records with one id at one time, the first read is counted and
# the second is a duplicate, in memory and spilled alike.
printf '%s\n' '{"id":"a","ts":1740787200,"team":"red","cost":"1"}' \
    '{"id":"b","ts":1740790800,"team":"red","cost":"2"}' \
    '{"id":"a","ts":1740787200,"team":"red","cost":"100"}' >"$T/eq1.jsonl"
printf '%s\n' '{"id":"b","ts":1740790800,"team":"red","cost":"200"}' \
    '{"id":"c","ts":1740787200,"team":"red","cost":"4"}' >"$T/eq2.jsonl"
for mem in 256M 1; do
    jreplay --input "ev=$T/eq1.jsonl" --input "ev=$T/eq2.jsonl" --sort-memory $mem \
        --output /dev/null 2>"$T/eq.txt"
    grep -q 'duplicates 2$' "$T/eq.txt" && grep -q 'money counted 7.00 USD' "$T/eq.txt" ||
        { cat "$T/eq.txt" >&2; br_die "equal times out of file order (--sort-memory $mem)"; }
done

# 5. A temporary directory that cannot be used: a clear error, exit 1.
if TMPDIR=$T/missing jreplay --input "ev=$T/shuf_a.jsonl" --sort-memory 1K \
    --output /dev/null 2>"$T/tmperr.txt"; then
    br_die "replay with a missing TMPDIR succeeded"
fi
grep -q "cannot create a temporary file in $T/missing to sort: No such file or directory" \
    "$T/tmperr.txt" || { cat "$T/tmperr.txt" >&2; br_die "TMPDIR error unclear"; }
# ... unless everything fits in memory.
TMPDIR=$T/missing jreplay --input "ev=$T/shuf_a.jsonl" --output /dev/null 2>/dev/null ||
    br_die "replay in memory needed TMPDIR"
if jreplay --input "ev=$T/shuf_a.jsonl" --sort-memory 12Q 2>"$T/usage.txt"; then
    br_die "--sort-memory 12Q accepted"
fi
grep -q -- '--sort-memory 12Q: expected a size' "$T/usage.txt" || br_die "--sort-memory usage error"

echo "ok: files sorted by event time per input (FOCUS sample 0 late; shuffled = sorted; spilled = in memory; equal times in file order; exact sources; TMPDIR errors)"
