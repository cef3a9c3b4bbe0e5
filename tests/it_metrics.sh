#!/usr/bin/env bash
# /metrics, /healthz and /readyz of `burnrate run` against the embedded
# broker: readiness is 503 until the group assigns partitions (the broker is
# down at start) and 200 after; a known mix of messages shows up in the
# counters exactly, per input and outcome; alerts and dead letters match
# their topics; every assigned partition has a lag gauge; the whole
# exposition parses with an independent parser (prometheus_client).
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
PY=/usr/bin/python3
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
$PY -c 'import prometheus_client.parser' 2>/dev/null ||
    br_die "python3-prometheus-client missing (scripts/deps installs it)"

br_tmp_init
br_broker_start --topics llm.openai,billing.focus,burnrate.alerts,burnrate.dlq --partitions 2 ||
    br_die "broker did not start"

cat >"$BR_TMP/run.yaml" <<EOF
state:
  dir: $BR_TMP/state
  snapshot_interval: 1s
inputs:
  - name: tokens
    dialect: openai
    topic: llm.openai
    lateness: 0s
  - name: billing
    dialect: focus
    topic: billing.focus
    lateness: 0s
    # Until it delivers, billing is taken to be at the stage's first event
    # time and holds what it can feed, for its idle_timeout of event time:
    # 1h here, so that once tokens reach 03:00 their 00:00 bucket is final.
    idle_timeout: 1h
prices:
  models:
    gpt-4o: {input: 2.50, output: 10.00}
kafka:
  brokers: $BR_BOOTSTRAP
  group_id: it-metrics
  properties:
    topic.metadata.refresh.interval.ms: 1000
  consumer_properties:
    session.timeout.ms: 6000
    statistics.interval.ms: 500
http:
  listen: 127.0.0.1:0
EOF

# The broker refuses connections: no assignment can arrive yet.
br_broker_cmd "down all" || br_die "broker down"
"$BURNRATE" run --config "$BR_TMP/run.yaml" >"$BR_TMP/run.out" 2>"$BR_TMP/run.err" &
RUN_PID=$!
br_track "$RUN_PID"

log_has() { grep -q -- "$1" "$BR_TMP/run.err"; }
br_wait_for "http listening line" 20 log_has 'msg="http listening"' ||
    { cat "$BR_TMP/run.err" >&2; br_die "no http listening line"; }
ADDR=$(sed -n 's/.*msg="http listening" address=\([^ ]*\).*/\1/p' "$BR_TMP/run.err" | head -n1)
[[ $ADDR == 127.0.0.1:* && $ADDR != 127.0.0.1:0 ]] || br_die "bound address '$ADDR'"
URL=http://$ADDR

# status PATH: the HTTP status code; body in $BR_TMP/body.
status() { curl -s -o "$BR_TMP/body" -w '%{http_code}' --max-time 5 "$URL$1"; }
status_is() { [[ $(status "$2") == "$1" ]]; }

br_wait_for "/healthz 200" 10 status_is 200 /healthz || br_die "/healthz not 200"
grep -qx ok "$BR_TMP/body" || br_die "/healthz body: $(cat "$BR_TMP/body")"
code=$(status /readyz)
[[ $code == 503 ]] || br_die "/readyz before any assignment: $code, want 503"
grep -q 'waiting for the first partition assignment' "$BR_TMP/body" ||
    br_die "/readyz reason: $(cat "$BR_TMP/body")"
# Still not ready a little later: the broker is down, nothing can assign.
br_wait_for "a statistics-free turn of the loop" 5 status_is 200 /healthz
[[ $(status /readyz) == 503 ]] || br_die "/readyz turned 200 with the broker down"
[[ $(status /metrics) == 200 ]] || br_die "/metrics before readiness"
grep -qx 'burnrate_ready 0' "$BR_TMP/body" || br_die "burnrate_ready not 0 before readiness"
[[ $(status /nope) == 404 ]] || br_die "unknown path not 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 5 "$URL/metrics")
[[ $code == 405 ]] || br_die "POST /metrics: $code, want 405"
code=$(curl -s -o /dev/null -w '%{http_code}' -I --max-time 5 "$URL/healthz")
[[ $code == 200 ]] || br_die "HEAD /healthz: $code, want 200"

br_broker_cmd "up all" || br_die "broker up"
br_wait_for "/readyz 200 after the assignment" 30 status_is 200 /readyz ||
    { cat "$BR_TMP/run.err" >&2; br_die "never ready"; }
grep -qx ready "$BR_TMP/body" || br_die "/readyz body: $(cat "$BR_TMP/body")"
log_has 'msg="partitions assigned"' || br_die "ready without an assignment logged"

# The mix, tokens first, then billing once tokens are all counted (the
# watermark is the least of the inputs': billing must not make tokens late).
# tokens, partition 0 in this order (lateness 0s: once the 03:00 event is
# in, the 00:00 bucket is final):
#   g1..g5 ok, g1 and g2 again (duplicates), g6 at 03:00 ok, g7 at 00:10
#   late, u1 at 03:01 of an unpriced model;
# tokens, partition 1: 3 not JSON (PARSE), 2 without usage (MISSING).
# billing (lateness 0s), at 03:00 and 03:30, after the 02:00 bucket, the
# last final one: 2 Usage rows ok, 1 Tax row (skipped), 1 not JSON (PARSE).
ev() { # id epoch model
    printf '{"id":"%s","created":%s,"model":"%s","metadata":{"team":"ml"},"usage":{"prompt_tokens":1000,"completion_tokens":100}}\n' "$@"
}
T0=1740787200 # 2025-03-01T00:00:00Z
{
    for i in 1 2 3 4 5; do ev "g$i" $((T0 + 60 * i)) gpt-4o; done
    ev g1 $((T0 + 60)) gpt-4o
    ev g2 $((T0 + 120)) gpt-4o
    ev g6 $((T0 + 3 * 3600)) gpt-4o
    ev g7 $((T0 + 600)) gpt-4o
    ev u1 $((T0 + 3 * 3600 + 60)) mystery-model-9
} | kcat -b "$BR_BOOTSTRAP" -P -t llm.openai -p 0
{
    printf '%s\n' 'not json 1' 'not json 2' '{not json 3'
    printf '%s\n' '{"id":"m1","model":"gpt-4o","usage":{"prompt_tokens":5}}' \
        '{"id":"m2","model":"gpt-4o","usage":{"prompt_tokens":6}}'
} | kcat -b "$BR_BOOTSTRAP" -P -t llm.openai -p 1
scrape() { [[ $(status /metrics) == 200 ]] && cp "$BR_TMP/body" "$BR_TMP/metrics.txt"; }
# metric NAME{labels}: its value in the last scrape ("" when absent).
metric() { awk -v k="$1" '$1 == k { print $2 }' "$BR_TMP/metrics.txt"; }
# taken INPUT N: the events of INPUT add up to N.
taken() {
    scrape || return 1
    local n
    n=$(awk -v p="burnrate_events_total{input=\"$1\"," 'index($1, p) == 1 { n += $2 } END { print n + 0 }' "$BR_TMP/metrics.txt")
    ((n == $2))
}
br_wait_for "all 15 token messages counted" 30 taken tokens 15 ||
    { cat "$BR_TMP/metrics.txt" "$BR_TMP/run.err" >&2; br_die "token counters never reached 15"; }
row() { # category start end
    printf '{"BilledCost":1.5,"BillingCurrency":"USD","ChargeCategory":"%s","ChargePeriodStart":"%s","ChargePeriodEnd":"%s","ServiceName":"EC2","Tags":{"team":"platform"}}\n' "$@"
}
{
    row Usage 2025-03-01T03:00:00Z 2025-03-01T04:00:00Z
    row Usage 2025-03-01T03:30:00Z 2025-03-01T04:00:00Z
    row Tax 2025-03-01T03:00:00Z 2025-03-01T04:00:00Z
    echo 'garbage'
} | kcat -b "$BR_BOOTSTRAP" -P -t billing.focus -p 0

br_wait_for "all 4 billing messages counted" 30 taken billing 4 ||
    { cat "$BR_TMP/metrics.txt" "$BR_TMP/run.err" >&2; br_die "billing counters never reached 4"; }

expect() { # 'name{labels}' value
    local got
    got=$(metric "$1")
    [[ $got == "$2" ]] || { grep burnrate_events "$BR_TMP/metrics.txt" >&2; br_die "$1 = '$got', want $2"; }
}
expect 'burnrate_events_total{input="tokens",outcome="ok"}' 6
expect 'burnrate_events_total{input="tokens",outcome="late"}' 1
expect 'burnrate_events_total{input="tokens",outcome="duplicate"}' 2
expect 'burnrate_events_total{input="tokens",outcome="unpriced"}' 1
expect 'burnrate_events_total{input="tokens",outcome="skipped"}' 0
expect 'burnrate_events_total{input="tokens",outcome="dead_letter",reason="PARSE"}' 3
expect 'burnrate_events_total{input="tokens",outcome="dead_letter",reason="MISSING"}' 2
expect 'burnrate_events_total{input="billing",outcome="ok"}' 2
expect 'burnrate_events_total{input="billing",outcome="late"}' 0
expect 'burnrate_events_total{input="billing",outcome="skipped"}' 1
expect 'burnrate_events_total{input="billing",outcome="dead_letter",reason="PARSE"}' 1
total=$(awk '/^burnrate_events_total[{]/ { n += $2 } END { print n }' "$BR_TMP/metrics.txt")
[[ $total == 19 ]] || br_die "events add up to $total, want exactly 19"
expect 'burnrate_series{scope="total"}' 1
expect 'burnrate_build_info{version="'"$("$BURNRATE" --version | awk '{print $NF}')"'",librdkafka="'"$(pkg-config --modversion rdkafka)"'"}' 1
expect 'burnrate_ready' 1

# Dead letters and alerts against their topics (delivered: poll until the
# producer has acknowledged them all).
dlq_is() { [[ $(br_topic_count burnrate.dlq) == "$1" ]]; }
br_wait_for "6 dead letters on the topic" 20 dlq_is 6 || br_die "dead-letter topic count"
alerts_match() {
    scrape || return 1
    local want got
    want=$(awk '/^burnrate_alerts_total[{]/ { n += $2 } END { print n + 0 }' "$BR_TMP/metrics.txt")
    got=$(br_topic_count burnrate.alerts)
    ((want >= 1)) && [[ $got == "$want" ]]
}
br_wait_for "alerts counter = alerts topic" 20 alerts_match ||
    { grep alerts_total "$BR_TMP/metrics.txt" >&2; br_die "alerts: metrics vs topic $(br_topic_count burnrate.alerts)"; }
expect 'burnrate_alerts_total{type="unpriced_model",status="firing"}' 1

# A lag gauge for each of the three assigned partitions, all caught up;
# the rest of the families once librdkafka's statistics and a snapshot
# have come.
lag_and_rest() {
    scrape || return 1
    [[ $(metric 'burnrate_consumer_lag_messages{topic="llm.openai",partition="0"}') == 0 ]] &&
        [[ $(metric 'burnrate_consumer_lag_messages{topic="llm.openai",partition="1"}') == 0 ]] &&
        [[ $(metric 'burnrate_consumer_lag_messages{topic="billing.focus",partition="0"}') == 0 ]] &&
        grep -q '^burnrate_kafka_broker_up{broker=".*"} 1$' "$BR_TMP/metrics.txt" &&
        grep -q '^burnrate_snapshot_size_bytes [1-9]' "$BR_TMP/metrics.txt"
}
br_wait_for "lag per partition, broker stats, a snapshot" 30 lag_and_rest ||
    { cat "$BR_TMP/metrics.txt" >&2; br_die "lag, broker statistics or snapshot metrics missing"; }
[[ $(metric burnrate_watermark_timestamp_seconds) == 1740798060 ]] ||
    br_die "watermark $(metric burnrate_watermark_timestamp_seconds), want 03:01 of 2025-03-01 (1740798060)"

# An independent parser reads the whole exposition: every family typed,
# counters named *_total, each sample once.
$PY - "$BR_TMP/metrics.txt" <<'EOF' || br_die "exposition rejected by prometheus_client"
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
seen, fams = set(), {}
for fam in text_string_to_metric_families(text):
    assert fam.name not in fams, "family twice: " + fam.name
    fams[fam.name] = fam
    assert fam.type in ("counter", "gauge"), (fam.name, fam.type)
    assert fam.documentation, "no HELP: " + fam.name
    for s in fam.samples:
        key = (s.name, tuple(sorted(s.labels.items())))
        assert key not in seen, "sample twice: %r" % (key,)
        seen.add(key)
        if fam.type == "counter":
            assert s.name.endswith("_total"), s.name
            assert s.value >= 0, s
need = ["burnrate_events", "burnrate_alerts", "burnrate_consumer_lag_messages",
        "burnrate_watermark_timestamp_seconds", "burnrate_watermark_delay_seconds",
        "burnrate_series", "burnrate_memory_bytes", "burnrate_snapshot_age_seconds",
        "burnrate_snapshot_duration_seconds", "burnrate_snapshot_size_bytes",
        "burnrate_snapshots", "burnrate_producer_queue_messages",
        "burnrate_producer_delivery_errors", "burnrate_kafka_broker_rtt_seconds",
        "burnrate_build_info", "process_start_time_seconds"]
missing = [n for n in need if n not in fams]
assert not missing, "missing families: %s" % missing
ev = sum(s.value for s in fams["burnrate_events"].samples)
assert ev == 19, ev
print("prometheus_client: %d families, %d samples" % (len(fams), len(seen)))
EOF

kill -TERM "$RUN_PID"
wait "$RUN_PID" && rc=0 || rc=$?
((rc == 0)) || { cat "$BR_TMP/run.err" >&2; br_die "exit code $rc after SIGTERM"; }
# libmicrohttpd's own messages come through its logger as msg=http: the
# start, the scrapes, a POST and a HEAD gave it nothing to say.
if grep 'msg=http ' "$BR_TMP/run.err"; then
    br_die "libmicrohttpd logged the lines above"
fi
# Connection errors while the broker was down are expected; none after.
if sed -n '/msg="partitions assigned"/,$p' "$BR_TMP/run.err" | grep -q 'level=error'; then
    grep 'level=error' "$BR_TMP/run.err" >&2
    br_die "errors logged once the broker was up"
fi
br_log "it_metrics: ok"
