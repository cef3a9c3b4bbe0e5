#!/usr/bin/env bash
# End to end through the embedded broker with independent clients: kcat
# produces FOCUS rows and OTel token events, `burnrate run` turns them into
# alerts, kcat and a python (confluent_kafka) consumer read the alert topic,
# and the alerts must be exactly tests/e2e/expected_alerts.txt (the workload
# is built so that the answer is known: see tests/e2e/make_fixtures.py).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BR_BIN:?set BR_BIN to the build directory}"
BR_DATA=${BR_DATA:-$HERE/../scripts/data}
# shellcheck source=tests/kafka_util.sh
source "$HERE/kafka_util.sh"
E2E=$HERE/e2e
PY=/usr/bin/python3

br_tmp_init
br_broker_start --topics billing.focus,llm.usage,burnrate.alerts,burnrate.dlq --partitions 3

sed -e "s|@BR_DATA@|$BR_DATA|g" -e "s|@BR_TMP@|$BR_TMP|g" "$E2E/e2e.yaml" >"$BR_TMP/e2e.yaml"
"$BR_BIN/burnrate" check-config "$BR_TMP/e2e.yaml" >/dev/null

"$BR_BIN/burnrate" run --config "$BR_TMP/e2e.yaml" --brokers "$BR_BOOTSTRAP" \
    --print-alerts >"$BR_TMP/run.out" 2>"$BR_TMP/run.err" &
RUN_PID=$!
br_track "$RUN_PID"

# produce TOPIC FILE: every line a message, all in partition 0 (so one input
# is one ordered stream), with kcat as the independent producer.
produce() {
    kcat -b "$BR_BOOTSTRAP" -P -t "$1" -p 0 -l "$2"
}

caught_up() {
    kill -0 "$RUN_PID" 2>/dev/null || br_die "burnrate run exited early: $(tail -5 "$BR_TMP/run.err")"
    $PY "$E2E/kafkatool.py" caught-up "$BR_BOOTSTRAP" burnrate-it-e2e billing.focus llm.usage
}

# Phases, each consumed (committed) before the next is produced: see
# make_fixtures.py for why.
for ((phase = 1; ; phase++)); do
    [[ -f $E2E/billing.$phase.jsonl ]] || break
    produce billing.focus "$E2E/billing.$phase.jsonl"
    produce llm.usage "$E2E/tokens.$phase.jsonl"
    br_wait_for "burnrate to consume phase $phase" 30 caught_up ||
        { tail -20 "$BR_TMP/run.err" >&2; exit 1; }
done

# A clean shutdown flushes every alert; exit status 0.
kill -TERM "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
[[ $rc -eq 0 ]] || br_die "burnrate run exited $rc after SIGTERM: $(tail -5 "$BR_TMP/run.err")"

# Reader 1: kcat, with the key of each message.
br_kcat_dump burnrate.alerts "$BR_TMP/alerts.kcat" -f '%k\t%s\n'
cut -f2- "$BR_TMP/alerts.kcat" >"$BR_TMP/alerts.kcat.json"
# Reader 2: python confluent_kafka.
$PY "$E2E/kafkatool.py" dump "$BR_BOOTSTRAP" burnrate.alerts >"$BR_TMP/alerts.py"
$PY -c '
import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line)["value"])' "$BR_TMP/alerts.py" >"$BR_TMP/alerts.py.json"

[[ -s $BR_TMP/alerts.kcat.json ]] || br_die "no alerts on burnrate.alerts"

# Every alert is keyed by its id.
awk -F'\t' '{ split($2, a, "\"id\":\""); split(a[2], b, "\""); if ($1 != b[1]) { print "key " $1 " != id " b[1]; bad = 1 } } END { exit bad }' \
    "$BR_TMP/alerts.kcat" || br_die "an alert is not keyed by its id"

# Both readers saw the same messages.
if ! diff <(LC_ALL=C sort "$BR_TMP/alerts.kcat.json") <(LC_ALL=C sort "$BR_TMP/alerts.py.json") >/dev/null; then
    br_die "kcat and python read different alert messages"
fi

# The exact expected set of (type, status, scope, labels, window, threshold).
$PY "$E2E/kafkatool.py" alert-set "$BR_TMP/alerts.kcat.json" | LC_ALL=C sort >"$BR_TMP/got.txt"
if ! diff -u <(LC_ALL=C sort "$E2E/expected_alerts.txt") "$BR_TMP/got.txt"; then
    br_log "--- alerts (kcat):"
    cat "$BR_TMP/alerts.kcat.json" >&2
    br_die "alerts differ from tests/e2e/expected_alerts.txt"
fi

# Revisions of one id count up from 1 without gaps, in topic order (all
# messages of one id share a partition).
$PY - "$BR_TMP/alerts.py" <<'EOF' || br_die "alert revisions are not 1, 2, 3... per id"
import json, sys
last = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    a = json.loads(m["value"])
    want = last.get(a["id"], 0) + 1
    if a["revision"] != want:
        sys.exit("id %s: revision %d after %d" % (a["id"], a["revision"], want - 1))
    last[a["id"]] = a["revision"]
EOF

# --print-alerts wrote one readable headline per alert message.
n_topic=$(wc -l <"$BR_TMP/alerts.kcat.json")
n_print=$(grep -cE '^(FIRING|UPDATED|RESOLVED) ' "$BR_TMP/run.out" || true)
[[ $n_print -eq $n_topic ]] || br_die "--print-alerts printed $n_print lines for $n_topic alerts"

# No record arrived for a bucket already final, whatever the interleaving
# (the stopped line of the log carries the pipeline's counters).
grep -q 'msg=stopped .* late=0 ' "$BR_TMP/run.err" ||
    br_die "records were late: $(grep 'msg=stopped' "$BR_TMP/run.err")"

# Nothing in the workload is malformed.
n_dlq=$($PY "$E2E/kafkatool.py" count "$BR_BOOTSTRAP" burnrate.dlq)
[[ $n_dlq -eq 0 ]] || br_die "$n_dlq messages went to the dead-letter topic"

echo "ok: $(wc -l <"$BR_TMP/got.txt") distinct alerts ($n_topic messages) as expected"
