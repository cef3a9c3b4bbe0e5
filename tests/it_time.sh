#!/usr/bin/env bash
# Event time and the clock, through the embedded broker. A message stamped
# 9999-12-31 lands on the dead-letter topic with reason FUTURE and its origin,
# and moves neither the watermark nor the max event time of the state. A raw
# Anthropic Messages response (no time of its own) produced with a known
# Kafka timestamp is counted at that time: the snapshot's max event time and
# the day of its budget period say so.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BR_BIN:?set BR_BIN to the build directory}"
# shellcheck source=tests/kafka_util.sh
source "$HERE/kafka_util.sh"
E2E=$HERE/e2e
PY=/usr/bin/python3
BURNRATE=$BR_BIN/burnrate

br_tmp_init
br_broker_start --topics llm.openai,llm.anthropic,burnrate.alerts,burnrate.dlq --partitions 1

sed -e "s|@BR_TMP@|$BR_TMP|g" "$E2E/time.yaml" >"$BR_TMP/time.yaml"
"$BURNRATE" run --config "$BR_TMP/time.yaml" --brokers "$BR_BOOTSTRAP" \
    >"$BR_TMP/run.out" 2>"$BR_TMP/run.err" &
RUN_PID=$!
br_track "$RUN_PID"

# openai@0: a good call at 2025-03-03T09:30Z; @1: the hostile one.
printf '%s\n' \
    '{"id":"chatcmpl-good","created":1740994200,"model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}' \
    '{"id":"chatcmpl-hostile","created":"9999-12-31T00:00:00Z","model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}' \
    >"$BR_TMP/openai.jsonl"
kcat -b "$BR_BOOTSTRAP" -P -t llm.openai -p 0 -l "$BR_TMP/openai.jsonl"

# anthropic@0: a Messages response as the API returns it, its Kafka
# timestamp 2025-03-03T10:30:00Z (CreateTime, set by the producer).
KTS=1740997800000
"$PY" - "$BR_BOOTSTRAP" "$KTS" <<'PYEOF'
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
p.produce("llm.anthropic", partition=0, timestamp=int(sys.argv[2]), value=(
    '{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant",'
    '"model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hi"}],'
    '"stop_reason":"end_turn","stop_sequence":null,'
    '"usage":{"input_tokens":1000000,"output_tokens":0,'
    '"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}'))
if p.flush(10):
    sys.exit("message not delivered")
PYEOF

caught_up() {
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    $PY "$E2E/kafkatool.py" caught-up "$BR_BOOTSTRAP" burnrate-it-time llm.openai llm.anthropic
}
dlq_one() {
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    (($($PY "$E2E/kafkatool.py" count "$BR_BOOTSTRAP" burnrate.dlq) >= 1))
}
br_wait_for "burnrate to consume everything" 30 caught_up ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "burnrate did not consume the inputs"; }
br_wait_for "the dead letter" 20 dlq_one ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "dead letter missing"; }
kill -TERM "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
[[ $rc -eq 0 ]] || br_die "burnrate run exited $rc after SIGTERM: $(tail -5 "$BR_TMP/run.err")"

$PY "$E2E/kafkatool.py" dump "$BR_BOOTSTRAP" burnrate.dlq >"$BR_TMP/dlq.jsonl"
"$BURNRATE" snapshot show "$BR_TMP/state" >"$BR_TMP/snap.json" ||
    br_die "snapshot show failed"
$PY - "$BR_TMP/dlq.jsonl" "$BR_TMP/snap.json" <<'PYEOF' || br_die "not as expected"
import json, sys
bad = []
dlq = [json.loads(l) for l in open(sys.argv[1])]
if len(dlq) != 1:
    bad.append("%d dead letters, want 1" % len(dlq))
else:
    h = dlq[0]["headers"]
    want = {"burnrate.reason": "FUTURE", "burnrate.input": "openai",
            "burnrate.topic": "llm.openai", "burnrate.partition": "0",
            "burnrate.offset": "1"}
    for k, v in want.items():
        if h.get(k) != v:
            bad.append("dead letter %s is %r, want %r" % (k, h.get(k), v))
    if "9999-12-31T00:00:00Z" not in h.get("burnrate.detail", "") or \
            "ahead of the clock" not in h.get("burnrate.detail", ""):
        bad.append("detail: %r" % h.get("burnrate.detail"))
    if "chatcmpl-hostile" not in dlq[0]["value"]:
        bad.append("payload: %r" % dlq[0]["value"])
s = json.load(open(sys.argv[2]))
st = s["stats"]
if (st["ok"], st["dead_letters"]) != (2, 1):
    bad.append("stats ok %d dead_letters %d, want 2 and 1" % (st["ok"], st["dead_letters"]))
if s["max_event_time"] != "2025-03-03T10:30:00Z":
    bad.append("max_event_time %s: want the Anthropic record's Kafka timestamp" % s["max_event_time"])
if not str(s["watermark"]).startswith("2025-03-03"):
    bad.append("watermark %s" % s["watermark"])
t = {json.dumps(x["labels"], sort_keys=True): x["total"] for x in s["series"]}
if t.get('{"provider": "anthropic"}') not in ("3", "3.00", "3.000000000"):
    bad.append("anthropic total %r, want 3" % t.get('{"provider": "anthropic"}'))
periods = [p["start"] for b in s["budgets"] if b["name"] == "anthropic-daily" for p in b["periods"]]
if periods != ["2025-03-03T00:00:00Z"]:
    bad.append("anthropic-daily periods %s, want the day of the Kafka timestamp" % periods)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PYEOF

echo "ok: a record stamped 9999-12-31 is a FUTURE dead letter; a timeless Anthropic response is counted at its Kafka timestamp"
