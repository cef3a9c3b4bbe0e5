#!/usr/bin/env bash
# Bad input is data: kcat produces the decoder's invalid corpus
# (tests/corpus/invalid: not JSON, wrong types, NaN, huge numbers, missing
# time, deep nesting, invalid UTF-8...) plus a 1 MB payload, an empty and a
# null message, between good OpenAI usage events. Every bad message must land
# in the dead-letter topic with its reason and origin headers, the good ones
# must still produce their budget alerts, and burnrate must still be running
# at the end and exit 0 on SIGTERM.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BR_BIN:?set BR_BIN to the build directory}"
BR_DATA=${BR_DATA:-$HERE/../scripts/data}
# shellcheck source=tests/kafka_util.sh
source "$HERE/kafka_util.sh"
E2E=$HERE/e2e
CORPUS=$HERE/corpus/invalid
PY=/usr/bin/python3

br_tmp_init
br_broker_start --topics llm.openai,llm.usage,billing.focus,llm.anthropic,burnrate.alerts,burnrate.dlq --partitions 2

sed -e "s|@BR_DATA@|$BR_DATA|g" -e "s|@BR_TMP@|$BR_TMP|g" "$E2E/dlq.yaml" >"$BR_TMP/dlq.yaml"
"$BR_BIN/burnrate" run --config "$BR_TMP/dlq.yaml" --brokers "$BR_BOOTSTRAP" \
    >"$BR_TMP/run.out" 2>"$BR_TMP/run.err" &
RUN_PID=$!
br_track "$RUN_PID"

declare -A TOPIC_OF=([openai]=llm.openai [otel]=llm.usage [focus]=billing.focus [anthropic]=llm.anthropic)
declare -A NEXT_OFFSET=()
EXPECT=$BR_TMP/expected_dlq.tsv   # input topic offset reason case
: >"$EXPECT"

# send INPUT FILE [kcat args]: one file = one message, all in partition 0;
# prints nothing, records the offset the message gets.
send() {
    local input=$1 file=$2 topic
    shift 2
    topic=${TOPIC_OF[$input]}
    kcat -b "$BR_BOOTSTRAP" -P -t "$topic" -p 0 "$@" "$file"
    LAST_OFFSET=${NEXT_OFFSET[$topic]:-0}
    NEXT_OFFSET[$topic]=$((LAST_OFFSET + 1))
}

bad() {   # bad INPUT FILE REASON CASE [kcat args]
    local input=$1 file=$2 reason=$3 case=$4
    shift 4
    send "$input" "$file" "$@"
    printf '%s\t%s\t%s\t%s\t%s\n' "$input" "${TOPIC_OF[$input]}" "$LAST_OFFSET" "$reason" "$case" >>"$EXPECT"
}

GOOD=0
good() {  # one $1.00 gpt-4o call of team search at hour GOOD:30
    local f=$BR_TMP/good.$GOOD.json
    printf '{"id":"chatcmpl-it-dlq-%d","object":"chat.completion","created":%d,"model":"gpt-4o","usage":{"prompt_tokens":200000,"completion_tokens":50000,"total_tokens":250000},"metadata":{"team":"search"}}' \
        "$GOOD" $((1740960000 + GOOD * 3600 + 1800)) >"$f"
    send openai "$f"
    GOOD=$((GOOD + 1))
}

# Corpus cases whose dialect is one of our inputs and that need no mapping.
cases=()
for expect in "$CORPUS"/*.expect; do
    grep -q '^conf\.' "$expect" && continue
    dialect=$(sed -n 's/^dialect=//p' "$expect")
    dialect=${dialect:-openai}
    [[ -n ${TOPIC_OF[$dialect]:-} ]] || continue
    cases+=("$expect")
done
((${#cases[@]} >= 20)) || br_die "only ${#cases[@]} usable corpus cases in $CORPUS"

good
i=0
for expect in "${cases[@]}"; do
    name=$(basename "$expect" .expect)
    dialect=$(sed -n 's/^dialect=//p' "$expect")
    reason=$(sed -n 's/^result=//p' "$expect")
    payload=$CORPUS/$name.json
    [[ -f $payload ]] || payload=$CORPUS/$name.bin
    if [[ ! -s $payload ]]; then
        # kcat sends no message for an empty file: "key:" with -K: sends an
        # empty value instead (the empty case is covered below).
        continue
    fi
    bad "${dialect:-openai}" "$payload" "$reason" "$name"
    i=$((i + 1))
    ((i % 5 == 0)) && good
done

# A payload of 1 MB (valid JSON, over limits.max_message_bytes): LIMIT. The
# mock broker takes it; the producer needs its message.max.bytes raised.
$PY -c 'import sys; sys.stdout.write("{\"model\":\"gpt-4o\",\"pad\":\"" + "x" * (1 << 20) + "\"}")' >"$BR_TMP/big.json"
bad openai "$BR_TMP/big.json" LIMIT one_megabyte -X message.max.bytes=2000000
good
# An empty message and a null one (tombstone), with a key.
printf 'k:\n' >"$BR_TMP/empty.kv"
bad openai "$BR_TMP/empty.kv" PARSE empty_message -K: -l
printf 'k:\n' >"$BR_TMP/null.kv"
bad openai "$BR_TMP/null.kv" PARSE null_message -K: -l -Z
good
good
good
n_bad=$(wc -l <"$EXPECT")

caught_up() {
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    $PY "$E2E/kafkatool.py" caught-up "$BR_BOOTSTRAP" burnrate-it-dlq llm.openai llm.usage billing.focus llm.anthropic
}
dlq_full() {
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    (($($PY "$E2E/kafkatool.py" count "$BR_BOOTSTRAP" burnrate.dlq) >= n_bad))
}
br_wait_for "burnrate to consume everything" 30 caught_up ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "burnrate did not consume the inputs"; }
br_wait_for "$n_bad dead letters" 20 dlq_full ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "dead letters missing"; }

# Still running after all of it; then a clean shutdown.
kill -0 "$RUN_PID" 2>/dev/null || br_die "burnrate run died: $(tail -5 "$BR_TMP/run.err")"
kill -TERM "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
[[ $rc -eq 0 ]] || br_die "burnrate run exited $rc after SIGTERM: $(tail -5 "$BR_TMP/run.err")"

# Every bad message, and nothing else, in the dead-letter topic with its
# reason and origin; payloads as sent (the 1 MB one cut, and marked so).
$PY "$E2E/kafkatool.py" dump "$BR_BOOTSTRAP" burnrate.dlq >"$BR_TMP/dlq.jsonl"
$PY - "$EXPECT" "$BR_TMP/dlq.jsonl" "$CORPUS" <<'EOF' || br_die "dead-letter topic is not as expected"
import json, os, sys
expect_path, dlq_path, corpus = sys.argv[1:4]
want = {}
for line in open(expect_path):
    inp, topic, off, reason, case = line.rstrip("\n").split("\t")
    want[(topic, 0, int(off))] = (inp, reason, case)
got = {}
bad = 0
for line in open(dlq_path):
    m = json.loads(line)
    h = m["headers"]
    for k in ("burnrate.reason", "burnrate.detail", "burnrate.topic",
              "burnrate.partition", "burnrate.offset", "burnrate.input"):
        if k not in h:
            print("dead letter %s@%s lacks header %s" % (m["partition"], m["offset"], k))
            bad += 1
    key = (h.get("burnrate.topic"), int(h.get("burnrate.partition", -1)),
           int(h.get("burnrate.offset", -1)))
    if key in got:
        print("two dead letters for %s" % (key,))
        bad += 1
    got[key] = m
for key, (inp, reason, case) in sorted(want.items()):
    m = got.get(key)
    if m is None:
        print("case %s (%s@%d): no dead letter" % (case, key[0], key[2]))
        bad += 1
        continue
    h = m["headers"]
    if h["burnrate.reason"] != reason:
        print("case %s: reason %s, want %s (detail: %s)" % (case, h["burnrate.reason"], reason, h["burnrate.detail"]))
        bad += 1
    if h["burnrate.input"] != inp:
        print("case %s: input %s, want %s" % (case, h["burnrate.input"], inp))
        bad += 1
    if not h["burnrate.detail"]:
        print("case %s: empty burnrate.detail" % case)
        bad += 1
    if case == "one_megabyte":
        if "burnrate.truncated" not in h or m["len"] >= (1 << 20):
            print("case one_megabyte: %d bytes, headers %s" % (m["len"], sorted(h)))
            bad += 1
    elif case not in ("empty_message", "null_message"):
        path = os.path.join(corpus, case + ".json")
        if not os.path.exists(path):
            path = os.path.join(corpus, case + ".bin")
        if m["len"] != os.path.getsize(path):
            print("case %s: payload %d bytes, sent %d" % (case, m["len"], os.path.getsize(path)))
            bad += 1
    elif m["len"] != 0:
        print("case %s: payload of %d bytes" % (case, m["len"]))
        bad += 1
for key in sorted(set(got) - set(want), key=str):
    print("unexpected dead letter for %s: %s" % (key, got[key]["headers"]))
    bad += 1
print("%d dead letters checked, %d problems" % (len(want), bad))
sys.exit(1 if bad else 0)
EOF

# The good messages around them still counted: their budget alerts, exactly.
br_kcat_dump burnrate.alerts "$BR_TMP/alerts.json" -f '%s\n'
$PY "$E2E/kafkatool.py" alert-set "$BR_TMP/alerts.json" | LC_ALL=C sort >"$BR_TMP/got.txt"
diff -u <(LC_ALL=C sort "$E2E/dlq_expected_alerts.txt") "$BR_TMP/got.txt" ||
    br_die "alerts differ from tests/e2e/dlq_expected_alerts.txt"
grep -q "msg=stopped .* ok=$GOOD " "$BR_TMP/run.err" ||
    br_die "expected ok=$GOOD good messages: $(grep 'msg=stopped' "$BR_TMP/run.err")"

echo "ok: $n_bad bad messages dead-lettered with reason and origin, $GOOD good ones counted"
