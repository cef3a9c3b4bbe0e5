#!/usr/bin/env bash
# `burnrate replay` end to end over the fixtures in replay/: the same files
# give byte-identical alerts (but emitted_at), the injected spike fires,
# --from/--to, --output, --dead-letters, bad lines, a missing file, the
# summary, check-config errors, and a --kafka replay of the same events that
# must give the same alerts as the files did.
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
CONF=replay/burnrate.yaml

# strip FILE [fields...]: the alert lines without emitted_at (and any other
# named top-level fields), keys kept in their order.
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

# count FILE EXPR: alerts in FILE for which the python expression on `a` holds.
count() {
    $PY - "$1" "$2" <<'EOF'
import json, sys
print(sum(1 for line in open(sys.argv[1]) if eval(sys.argv[2], {"a": json.loads(line)})))
EOF
}

expect_eq() {
    [[ $1 == "$2" ]] || br_die "$3: got '$1', want '$2'"
}

replay() {
    "$BURNRATE" replay --config "$CONF" "$@"
}

# 1. Two runs over the same files: identical alerts but emitted_at.
replay --output "$T/a1.jsonl" 2>"$T/s1.txt" || br_die "replay 1 failed: $(cat "$T/s1.txt")"
replay --output "$T/a2.jsonl" 2>"$T/s2.txt" || br_die "replay 2 failed"
[[ -s $T/a1.jsonl ]] || br_die "no alerts at all"
grep -q '"emitted_at":"20' "$T/a1.jsonl" || br_die "alerts lack emitted_at"
strip "$T/a1.jsonl" >"$T/a1.s"
strip "$T/a2.jsonl" >"$T/a2.s"
cmp -s "$T/a1.s" "$T/a2.s" || { diff "$T/a1.s" "$T/a2.s" | head >&2; br_die "replays differ"; }
cmp -s "$T/a1.jsonl" "$T/a2.jsonl" &&
    br_log "note: raw outputs identical (emitted_at landed in the same ms)"
alerts=$(wc -l <"$T/a1.jsonl")
br_log "replay: $alerts alerts, identical twice"

# 2. The injected spike (team ml, gpt-4o, 2025-03-03 14:00Z) fires and
# resolves once in the total, whose alert speaks for the team (grouped, it
# sends nothing), naming team ml as the root cause; and once in the
# team+model series: token events alone feed it, while its parent, the
# team, waits for the billing input too (FOCUS Tags can carry a team), so
# it is not grouped under a slower parent and speaks for itself. Nothing
# else spikes; the total's alert keeps one id, its revisions count up from 1.
spike='a["type"]=="cost_spike" and a["window"]["start"]=="2025-03-03T14:00:00Z"'
expect_eq "$(count "$T/a1.jsonl" "$spike and a['status']=='firing'")" 2 "spike firings"
expect_eq "$(count "$T/a1.jsonl" "$spike and a['status']=='resolved'")" 2 "spike resolutions"
expect_eq "$(count "$T/a1.jsonl" "$spike and a['status']=='firing' and a['scope']=='team_model' and a['labels']=={'team': 'ml', 'model': 'gpt-4o'}")" 1 \
    "the token-only series speaks for itself"
expect_eq "$(count "$T/a1.jsonl" "$spike and a['status']=='firing' and a['scope']=='total' and a['rootCauses'][0]['labels']=={'team': 'ml'}")" 1 \
    "the total's alert names team ml"
expect_eq "$(count "$T/a1.jsonl" 'a["type"]=="cost_spike" and a["scope"]=="team"')" 0 \
    "alerts of the grouped team"
expect_eq "$(count "$T/a1.jsonl" 'a["type"]=="cost_spike" and a["window"]["start"]!="2025-03-03T14:00:00Z"')" 0 \
    "cost spikes outside the injected one"
expect_eq "$($PY -c '
import json, sys
revs = {}
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a["type"] == "cost_spike" and a["scope"] == "total":
        revs.setdefault(a["id"], []).append(a["revision"])
ok = len(revs) == 1 and all(r == list(range(1, len(r) + 1)) for r in revs.values())
print("ok" if ok else revs)
' "$T/a1.jsonl")" ok "revisions of the spike"
# search-daily (8 USD a day, ~8.9 spent) crosses 50% and 100% each of 3 days.
expect_eq "$(count "$T/a1.jsonl" 'a["type"]=="budget_threshold" and a["status"]=="firing"')" 6 \
    "budget firings"

# 3. The summary on stderr.
grep -q '^burnrate replay: 2 inputs, 3 files$' "$T/s1.txt" || { cat "$T/s1.txt" >&2; br_die "summary header"; }
grep -q 'messages 994, ok 992, skipped 0, dead letters 2 (PARSE 1, MISSING 1)' "$T/s1.txt" ||
    { cat "$T/s1.txt" >&2; br_die "summary counts"; }
grep -q "alerts $alerts: cost_spike 2 firing, .*2 resolved; " "$T/s1.txt" || br_die "summary alerts"
grep -q 'money counted [0-9.]* USD' "$T/s1.txt" || br_die "summary money"
grep -q 'event time: latest 2025-03-03T23:46:21Z' "$T/s1.txt" || br_die "summary event time"
grep -q 'events/s' "$T/s1.txt" || br_die "summary rate"
# 3b. Two inputs covering the same two days, each file in time order, are
# merged by event time: no row of the second arrives behind the watermark
# that the first one moved.
$PY - "$T" <<'PYEOF'
import json, sys
for name, team in (("x", "red"), ("y", "blue")):
    with open(f"{sys.argv[1]}/{name}.jsonl", "w") as f:
        for m in range(0, 48 * 60, 7):
            f.write(json.dumps({"ts": 1740787200 + m * 60, "team": team,
                                "cost": "0.25"}) + "\n")
PYEOF
cat >"$T/merge.yaml" <<EOF
inputs:
  - {name: x, dialect: custom, files: [x.jsonl], lateness: 1m,
     mapping: {time: ts, cost: cost, dims: {team: team}}}
  - {name: y, dialect: custom, files: [y.jsonl], lateness: 1m,
     mapping: {time: ts, cost: cost, dims: {team: team}}}
scopes:
  - {name: team, dims: [team]}
EOF
"$BURNRATE" replay --config "$T/merge.yaml" --output /dev/null 2>"$T/merge.txt" ||
    { cat "$T/merge.txt" >&2; br_die "merge replay failed"; }
tr '\n' ' ' <"$T/merge.txt" | grep -q 'messages 824, ok 824, .*late 0,' ||
    { cat "$T/merge.txt" >&2; br_die "inputs not merged by event time"; }

# 4. --output - (stdout) gives the same alerts as --output FILE.
replay --output - >"$T/stdout.jsonl" 2>/dev/null
strip "$T/stdout.jsonl" >"$T/stdout.s"
cmp -s "$T/a1.s" "$T/stdout.s" || br_die "stdout and --output FILE differ"
replay >"$T/default.jsonl" 2>/dev/null
expect_eq "$(wc -l <"$T/default.jsonl")" "$alerts" "alerts on stdout by default"

# 5. --from/--to: event-time filtering. Before the spike's hour nothing
# spikes; from 2025-03-02 there is still enough history for it to fire.
replay --from 2025-03-03T00:00:00Z --to "2025-03-03 12:00:00" --output "$T/early.jsonl" \
    2>"$T/early.txt"
expect_eq "$(count "$T/early.jsonl" 'a["type"]=="cost_spike"')" 0 "spikes before 12:00"
expect_eq "$(count "$T/early.jsonl" 'a["window"]["start"] < "2025-03-03"')" 0 \
    "alerts for windows before --from"
grep -q 'skipped [1-9]' "$T/early.txt" || br_die "--from/--to skipped nothing"
grep -q 'range \[2025-03-03T00:00:00Z, 2025-03-03T12:00:00Z)' "$T/early.txt" ||
    br_die "summary lacks the range"
replay --from 2025-03-02 --output "$T/late.jsonl" 2>/dev/null
expect_eq "$(count "$T/late.jsonl" "$spike and a['status']=='firing'")" 2 "spike with --from 2025-03-02"
expect_eq "$(count "$T/late.jsonl" 'a["type"]=="budget_threshold" and a["window"]["start"].startswith("2025-03-01")')" 0 \
    "budget alerts for a day before --from"

# 6. --input replaces an input's files; the whole FOCUS sample goes through.
replay --input "billing=$BR_DATA/focus_sample.csv" --input tokens=replay/tokens_a.jsonl \
    --output "$T/focus.jsonl" 2>"$T/focus.txt"
grep -q '^burnrate replay: 2 inputs, 2 files$' "$T/focus.txt" || { cat "$T/focus.txt" >&2; br_die "--input files"; }
grep -q 'messages 1576, ok 1576' "$T/focus.txt" || { cat "$T/focus.txt" >&2; br_die "--input counts"; }

# 7. Dead letters: written with reason and origin; a line longer than
# limits.max_message_bytes (4096) is one too, and nothing crashes.
replay --dead-letters "$T/dead.jsonl" --output /dev/null 2>"$T/dead.txt"
grep -q "written to $T/dead.jsonl" "$T/dead.txt" || br_die "summary lacks the dead-letter file"
expect_eq "$($PY -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    print(d["reason"], d["input"], d["topic"].rsplit("/", 1)[-1], d["offset"])
' "$T/dead.jsonl" | tr '\n' ';')" "PARSE tokens tokens_b.jsonl 26;MISSING tokens tokens_b.jsonl 28;" \
    "dead letters"
{
    head -n 2 replay/tokens_a.jsonl
    $PY -c 'print("{\"pad\":\"" + "x" * 20000 + "\"}")'
    printf '\xff\xfe not utf-8 \x01\n'
    sed -n 3p replay/tokens_a.jsonl
    printf '{"created":1740787200}' # last line without a newline
} >"$T/odd.jsonl"
replay --input tokens="$T/odd.jsonl" --input billing=replay/focus_excerpt.csv \
    --dead-letters "$T/odd_dead.jsonl" --output /dev/null 2>"$T/odd.txt" ||
    br_die "replay of odd lines failed"
grep -q 'dead letters 3 (PARSE 1, MISSING 1, LIMIT 1)' "$T/odd.txt" ||
    { cat "$T/odd.txt" >&2; br_die "odd lines not dead-lettered"; }
expect_eq "$($PY -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    print(d["reason"], d["offset"], len(d["payload"]))
' "$T/odd_dead.jsonl" | tr '\n' ';')" "LIMIT 3 4096;PARSE 4 14;MISSING 6 22;" "odd dead letters"

# 8. Errors: a missing file (exit 1, named), unknown input, usage errors (2).
rc=0
replay --input tokens=replay/no-such-file.jsonl >/dev/null 2>"$T/err.txt" || rc=$?
expect_eq "$rc" 1 "missing file exit code"
grep -q 'replay/no-such-file.jsonl: No such file or directory' "$T/err.txt" ||
    { cat "$T/err.txt" >&2; br_die "missing file not named"; }
rc=0; replay --input nosuch=x >/dev/null 2>"$T/err.txt" || rc=$?
expect_eq "$rc" 1 "unknown input exit code"
grep -q 'no input named "nosuch"' "$T/err.txt" || br_die "unknown input not named"
rc=0; replay --from yesterdy >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "bad --from exit code"
rc=0; replay --frobnicate >/dev/null 2>"$T/err.txt" || rc=$?
expect_eq "$rc" 2 "unknown option exit code"
# One line and a pointer to --help (it_cli.sh tests these in detail).
grep -qx "Try 'burnrate --help' for more information." "$T/err.txt" ||
    br_die "a usage error does not point at --help"
"$BURNRATE" --help >"$T/help.txt"
for cmd in 'burnrate run --config FILE' 'burnrate replay --config FILE' 'burnrate check-config FILE'; do
    grep -qF "$cmd" "$T/help.txt" || br_die "--help lacks $cmd"
done
"$BURNRATE" --version | grep -q '^burnrate [0-9]' || br_die "--version"

# 9. check-config: a bad config names file and line, exit 1; a good one
# prints the effective config on stdout and OK on stderr.
rc=0; "$BURNRATE" check-config replay/bad.yaml >"$T/cc.out" 2>"$T/cc.err" || rc=$?
expect_eq "$rc" 1 "check-config exit code on a bad config"
grep -q '^replay/bad.yaml:9: spike.sensitivity: ' "$T/cc.err" || { cat "$T/cc.err" >&2; br_die "check-config error"; }
[[ ! -s $T/cc.out ]] || br_die "check-config printed a config for a bad file"
"$BURNRATE" check-config "$CONF" >"$T/cc.out" 2>"$T/cc.err" || br_die "check-config on a good config"
grep -q "^$CONF: OK$" "$T/cc.err" || br_die "check-config OK line"
grep -q 'search-daily' "$T/cc.out" || br_die "check-config did not print the config"
rc=0; "$BURNRATE" check-config >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "check-config without FILE"

# 10. --kafka: the token events in a topic replay to the same alerts as the
# files (but their source offsets); offsets bound the range.
br_broker_start --topics llm.openai --partitions 1 || br_die "broker did not start"
cat replay/tokens_a.jsonl replay/tokens_b.jsonl | grep -v '^$' |
    kcat -b "$BR_BOOTSTRAP" -P -t llm.openai -p 0
br_wait_for "events in the topic" 20 test "$(br_topic_count llm.openai)" = 874 ||
    br_die "events not produced"
cat >"$T/kafka.yaml" <<EOF
inputs:
  - name: tokens
    dialect: openai
    topic: llm.openai
    files: [$PWD/replay/tokens_a.jsonl, $PWD/replay/tokens_b.jsonl]
$(sed -n '/^scopes:/,$p' "$CONF")
EOF
"$BURNRATE" replay --config "$T/kafka.yaml" --output "$T/files.jsonl" 2>/dev/null
"$BURNRATE" replay --config "$T/kafka.yaml" --kafka --brokers "$BR_BOOTSTRAP" \
    --output "$T/kafka.jsonl" 2>"$T/kafka.txt" || { cat "$T/kafka.txt" >&2; br_die "--kafka replay failed"; }
grep -q '^burnrate replay: 1 inputs, 1 partitions$' "$T/kafka.txt" || { cat "$T/kafka.txt" >&2; br_die "--kafka summary"; }
grep -q 'messages 874, ok 872' "$T/kafka.txt" || { cat "$T/kafka.txt" >&2; br_die "--kafka counts"; }
strip "$T/files.jsonl" source >"$T/files.s"
strip "$T/kafka.jsonl" source >"$T/kafka.s"
[[ -s $T/files.s ]] || br_die "no alerts from the token files"
cmp -s "$T/files.s" "$T/kafka.s" || { diff "$T/files.s" "$T/kafka.s" | head >&2; br_die "--kafka alerts differ from files"; }
grep -q '"source":{"input":"tokens","topic":"llm.openai","partition":0,"offset":' "$T/kafka.jsonl" ||
    br_die "--kafka alerts lack their Kafka origin"
"$BURNRATE" replay --config "$T/kafka.yaml" --kafka --brokers "$BR_BOOTSTRAP" \
    --start-offset 100 --end-offset 300 --output /dev/null 2>"$T/range.txt"
grep -q 'messages 200,' "$T/range.txt" || { cat "$T/range.txt" >&2; br_die "--start/--end-offset"; }
rc=0
"$BURNRATE" replay --config "$T/kafka.yaml" --kafka --brokers "$BR_BOOTSTRAP" \
    --start-offset 900 --output /dev/null 2>"$T/empty.txt" || rc=$?
expect_eq "$rc" 0 "replay of an empty range"
grep -q 'messages 0,' "$T/empty.txt" || br_die "empty range summary"

echo "it_replay: OK"
