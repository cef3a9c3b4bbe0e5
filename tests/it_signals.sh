#!/usr/bin/env bash
# `burnrate run` against the embedded broker: it consumes, dead-letters bad
# messages with their headers, shuts down cleanly (exit 0) on SIGTERM, exits
# at once (130) on a second SIGINT during shutdown, and reports what it could
# not deliver. Every wait polls against a deadline.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"

br_tmp_init
br_broker_start --topics llm.openai,burnrate.alerts,burnrate.dlq --partitions 2 ||
    br_die "broker did not start"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# write_config FILE [producer bootstrap]: a config reading llm.openai.
write_config() {
    cat >"$1" <<EOF
state:
  dir: ${1%.yaml}-state   # one per config: a state belongs to its group
inputs:
  - name: tokens
    dialect: openai
    topic: llm.openai
prices:
  models:
    gpt-4o: {input: 2.50, output: 10.00}
http:
  listen: 127.0.0.1:0   # any free port: tests run side by side
kafka:
  brokers: $BR_BOOTSTRAP
  group_id: it-signals-$RANDOM
  properties:
    topic.metadata.refresh.interval.ms: 1000
  consumer_properties:
    session.timeout.ms: 6000
EOF
    if [[ -n ${2:-} ]]; then
        cat >>"$1" <<EOF
  producer_properties:
    bootstrap.servers: $2
EOF
    fi
}

# start_run NAME CONFIG: start burnrate run in the background, set RUN_PID.
start_run() {
    "$BURNRATE" run --config "$2" --log-level debug \
        >"$BR_TMP/$1.out" 2>"$BR_TMP/$1.err" &
    RUN_PID=$!
    br_track "$RUN_PID"
}

# wait_exit PID TIMEOUT_S: wait for PID to exit; sets EXIT_RC; fails on timeout.
wait_exit() {
    local pid=$1 deadline=$(($(now_ms) + $2 * 1000))
    while kill -0 "$pid" 2>/dev/null; do
        (($(now_ms) < deadline)) || return 1
        sleep 0.05
    done
    EXIT_RC=0
    wait "$pid" || EXIT_RC=$?
}

log_has() { grep -q -- "$2" "$BR_TMP/$1.err"; }
dlq_count_is() { [[ $(br_topic_count burnrate.dlq) == "$1" ]]; }
alive() { kill -0 "$1" 2>/dev/null; }

produce() {
    kcat -b "$BR_BOOTSTRAP" -P -t llm.openai -K '|' -p "$1"
}

# 1. Clean shutdown on SIGTERM after real work.
write_config "$BR_TMP/ok.yaml"
start_run ok "$BR_TMP/ok.yaml"
br_wait_for "partitions assigned" 20 log_has ok 'msg="partitions assigned" count=2' ||
    { cat "$BR_TMP/ok.err" >&2; br_die "run never joined the group"; }
# A clean start warns about nothing: every line up to the assignment (the
# config, the HTTP listener, the snapshot, the group) is info or debug.
if sed '/msg="partitions assigned"/q' "$BR_TMP/ok.err" | grep -E 'level=(warn|error)'; then
    br_die "a clean start logged the warnings or errors above"
fi
printf '%s\n' \
    'k1|{"id":"a1","created":1740787200,"model":"gpt-4o","metadata":{"team":"ml"},"usage":{"prompt_tokens":1000,"completion_tokens":100}}' \
    'bad-key-1|this is not JSON' \
    'k2|{"id":"a2","created":1740787260,"model":"gpt-4o","metadata":{"team":"ml"},"usage":{"prompt_tokens":2000,"completion_tokens":100}}' |
    produce 0
printf '%s\n' 'bad-key-2|{"model":"gpt-4o","usage":{"prompt_tokens":5}}' | produce 1
br_wait_for "two dead letters" 20 dlq_count_is 2 ||
    { cat "$BR_TMP/ok.err" >&2; br_die "dead letters not produced"; }
br_kcat_dump burnrate.dlq "$BR_TMP/dlq.txt" -f '%k %h\n'
grep -q '^bad-key-1 .*burnrate.reason=PARSE' "$BR_TMP/dlq.txt" ||
    { cat "$BR_TMP/dlq.txt" >&2; br_die "dead letter of bad-key-1 lacks key or reason"; }
grep -q '^bad-key-2 .*burnrate.reason=MISSING' "$BR_TMP/dlq.txt" ||
    { cat "$BR_TMP/dlq.txt" >&2; br_die "dead letter of bad-key-2 lacks key or reason"; }
grep -q 'burnrate.topic=llm.openai,burnrate.partition=0,burnrate.offset=1,burnrate.input=tokens' \
    "$BR_TMP/dlq.txt" || { cat "$BR_TMP/dlq.txt" >&2; br_die "dead letter origin headers"; }
log_has ok 'msg="dead letter" where=llm.openai\[0\]@1 reason=PARSE' ||
    br_die "dead letter not logged with topic[partition]@offset"

t0=$(now_ms)
kill -TERM "$RUN_PID"
wait_exit "$RUN_PID" 15 || br_die "run did not exit within 15 s of SIGTERM"
((EXIT_RC == 0)) || { cat "$BR_TMP/ok.err" >&2; br_die "SIGTERM exit code $EXIT_RC, want 0"; }
br_log "SIGTERM: clean exit after $(($(now_ms) - t0)) ms"
log_has ok 'msg="shutting down" reason=signal' || br_die "no shutdown line"
log_has ok 'msg=stopped messages=4 ok=2 skipped=0 dead_letters=2' ||
    { grep stopped "$BR_TMP/ok.err" >&2; br_die "final stats line wrong"; }
if log_has ok 'level=error'; then
    grep 'level=error' "$BR_TMP/ok.err" >&2
    br_die "errors logged during a clean run"
fi

# 1b. Alerts go out keyed by their id with type/status/revision headers,
# and --print-alerts prints them readably, flushed line by line.
cat >"$BR_TMP/alerts.yaml" <<EOF
inputs:
  - name: tokens
    dialect: openai
    topic: llm.openai
$(sed -n '/^scopes:/,/^kafka:/p' replay/burnrate.yaml | sed '$d')
state:
  dir: $BR_TMP/alerts-state
EOF
"$BURNRATE" run --config "$BR_TMP/alerts.yaml" --brokers "$BR_BOOTSTRAP" --print-alerts \
    >"$BR_TMP/alerts.out" 2>"$BR_TMP/alerts.err" &
RUN_PID=$!
br_track "$RUN_PID"
br_wait_for "partitions assigned" 20 log_has alerts 'msg="partitions assigned"' ||
    { cat "$BR_TMP/alerts.err" >&2; br_die "run never joined the group"; }
cat replay/tokens_a.jsonl replay/tokens_b.jsonl | grep -v '^$' |
    kcat -b "$BR_BOOTSTRAP" -P -t llm.openai -p 0
# The team=ml model=gpt-4o spike moves the total too: the total's alert
# speaks for the group.
spike_printed() { grep -q '^FIRING   cost_spike       total  2025-03-03 14:00Z+1h' "$BR_TMP/alerts.out"; }
br_wait_for "the spike printed" 30 spike_printed ||
    { cat "$BR_TMP/alerts.out" "$BR_TMP/alerts.err" >&2; br_die "spike not printed"; }
grep -q '^         Cost spike on total: .*top contributor team=ml' "$BR_TMP/alerts.out" ||
    br_die "alert summary line not printed"
printed=$(grep -c '^[A-Z]' "$BR_TMP/alerts.out")
alerts_sent() { [[ $(br_topic_count burnrate.alerts) -ge $printed ]]; }
br_wait_for "alerts in the topic" 20 alerts_sent || br_die "alerts not produced"
br_kcat_dump burnrate.alerts "$BR_TMP/alerts.txt" -f '%k\t%h\t%s\n'
/usr/bin/python3 - "$BR_TMP/alerts.txt" "$printed" <<'EOF' || br_die "alert messages"
import json, sys
rows = [l.rstrip("\n").split("\t", 2) for l in open(sys.argv[1]) if l.strip()]
assert len(rows) == int(sys.argv[2]), (len(rows), sys.argv[2])
for key, hdrs, value in rows:
    a = json.loads(value)
    h = dict(kv.split("=", 1) for kv in hdrs.split(","))
    assert key == a["id"], (key, a["id"])
    assert h == {"burnrate.type": a["type"], "burnrate.status": a["status"],
                 "burnrate.revision": str(a["revision"])}, h
    assert a["emitted_at"].startswith("20"), a
assert any(json.loads(r[2])["type"] == "cost_spike" for r in rows)
EOF
kill -TERM "$RUN_PID"
wait_exit "$RUN_PID" 15 || br_die "alerts run did not exit within 15 s of SIGTERM"
((EXIT_RC == 0)) || br_die "alerts run exit code $EXIT_RC"

# 2. A second SIGINT during shutdown exits at once. The producer points at a
# port where nothing listens, so its flush holds shutdown for 10 s.
dead_port=127.0.0.1:1
write_config "$BR_TMP/stuck.yaml" "$dead_port"
start_run stuck "$BR_TMP/stuck.yaml"
br_wait_for "partitions assigned" 20 log_has stuck 'msg="partitions assigned"' ||
    { cat "$BR_TMP/stuck.err" >&2; br_die "run never joined the group"; }
printf '%s\n' 'bad-key-3|still not JSON' | produce 0
br_wait_for "dead letter logged" 20 log_has stuck 'reason=PARSE' ||
    { cat "$BR_TMP/stuck.err" >&2; br_die "message not consumed"; }
kill -INT "$RUN_PID"
br_wait_for "shutdown started" 10 log_has stuck 'msg="shutting down"' ||
    br_die "no shutdown after SIGINT"
alive "$RUN_PID" || br_die "run exited before the second signal: shutdown was not held"
t0=$(now_ms)
kill -INT "$RUN_PID"
wait_exit "$RUN_PID" 3 || br_die "run ignored the second SIGINT"
((EXIT_RC == 130)) || br_die "second SIGINT exit code $EXIT_RC, want 130"
br_log "second SIGINT: exit 130 after $(($(now_ms) - t0)) ms"
log_has stuck 'second signal' || br_die "no word on stderr about the second signal"

# 3. One SIGTERM with the producer stuck: shutdown waits for the flush
# (bounded), reports the undelivered message and still exits 0.
start_run stuck2 "$BR_TMP/stuck.yaml"
br_wait_for "partitions assigned" 20 log_has stuck2 'msg="partitions assigned"' ||
    { cat "$BR_TMP/stuck2.err" >&2; br_die "run never joined the group"; }
printf '%s\n' 'bad-key-4|not JSON either' | produce 1
br_wait_for "dead letter logged" 20 log_has stuck2 'reason=PARSE' ||
    { cat "$BR_TMP/stuck2.err" >&2; br_die "message not consumed"; }
kill -TERM "$RUN_PID"
wait_exit "$RUN_PID" 25 || br_die "run did not finish its bounded flush"
((EXIT_RC == 0)) || br_die "stuck SIGTERM exit code $EXIT_RC, want 0"
# The killed run before it made no snapshot (its producer never delivered),
# so this one re-read everything: several dead letters are undelivered, the
# last snapshot fails for it, and nothing is committed past them.
log_has stuck2 'msg="messages not delivered before shutdown" undelivered=[1-9]' ||
    { tail -5 "$BR_TMP/stuck2.err" >&2; br_die "undelivered count not reported"; }
log_has stuck2 'level=error msg="the last snapshot failed' ||
    { tail -5 "$BR_TMP/stuck2.err" >&2; br_die "the failed last snapshot not reported"; }

# 4. Usage errors exit 2, a missing config 1.
rc=0; "$BURNRATE" run >/dev/null 2>&1 || rc=$?
((rc == 2)) || br_die "run without --config: exit $rc, want 2"
rc=0; "$BURNRATE" run --config "$BR_TMP/ok.yaml" --bogus >/dev/null 2>&1 || rc=$?
((rc == 2)) || br_die "unknown option: exit $rc, want 2"
rc=0; "$BURNRATE" run --config "$BR_TMP/missing.yaml" >/dev/null 2>&1 || rc=$?
((rc == 1)) || br_die "missing config: exit $rc, want 1"

# 5. A property librdkafka refuses is named, and the run stops with exit 1.
write_config "$BR_TMP/badprop.yaml"
sed -i 's/^    topic.metadata.refresh.interval.ms: 1000$/    no.such.property: 1/' "$BR_TMP/badprop.yaml"
rc=0; "$BURNRATE" run --config "$BR_TMP/badprop.yaml" >/dev/null 2>"$BR_TMP/badprop.err" || rc=$?
((rc == 1)) || br_die "bad property: exit $rc, want 1"
grep -q 'kafka.properties.no.such.property: No such configuration property' "$BR_TMP/badprop.err" ||
    { cat "$BR_TMP/badprop.err" >&2; br_die "bad property not named"; }

cat >"$BR_TMP/twice.yaml" <<EOF
inputs:
  - name: a
    dialect: openai
    topic: llm.openai
  - name: b
    dialect: otel
    topics: [llm.usage, llm.openai]
kafka:
  brokers: $BR_BOOTSTRAP
EOF
rc=0; "$BURNRATE" run --config "$BR_TMP/twice.yaml" >/dev/null 2>"$BR_TMP/twice.err" || rc=$?
((rc == 1)) || br_die "topic in two inputs: exit $rc, want 1"
grep -q 'topic "llm.openai" is already read by input "a"' "$BR_TMP/twice.err" ||
    { cat "$BR_TMP/twice.err" >&2; br_die "topic in two inputs not reported"; }

echo "it_signals: OK"
