#!/usr/bin/env bash
# A failing state directory at run time is visible: failed snapshots are
# retried with backoff (1 s, 2 s, 4 s, then every 5 s: checked from the log
# timestamps), after state.unready_after failures in a row /readyz answers
# 503 with the reason, burnrate_ready is 0 and burnrate_snapshot_failing 1;
# once the directory is repaired a snapshot succeeds and it is ready again.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"

br_tmp_init
br_broker_start --topics llm.openai,burnrate.alerts,burnrate.dlq --partitions 1 ||
    br_die "broker did not start"
STATE=$BR_TMP/state

cat >"$BR_TMP/run.yaml" <<EOF
inputs:
  - name: tokens
    dialect: openai
    topic: llm.openai
prices:
  models:
    gpt-4o: {input: 2.50, output: 10.00}
kafka:
  brokers: $BR_BOOTSTRAP
  group_id: it-disk
  consumer_properties:
    session.timeout.ms: 6000
    heartbeat.interval.ms: 500
state:
  dir: $STATE
  snapshot_interval: 200ms
  unready_after: 3
http:
  listen: 127.0.0.1:0
EOF

"$BURNRATE" check-config "$BR_TMP/run.yaml" >"$BR_TMP/check.out" 2>&1 ||
    { cat "$BR_TMP/check.out" >&2; br_die "check-config refused the config"; }
"$BURNRATE" run --config "$BR_TMP/run.yaml" --log-level debug \
    >"$BR_TMP/run.out" 2>"$BR_TMP/run.err" &
RUN_PID=$!
br_track "$RUN_PID"

log_has() { grep -q -- "$1" "$BR_TMP/run.err"; }
br_wait_for "http listening line" 20 log_has 'msg="http listening"' ||
    { cat "$BR_TMP/run.err" >&2; br_die "no http listening line"; }
ADDR=$(sed -n 's/.*msg="http listening" address=\([^ ]*\).*/\1/p' "$BR_TMP/run.err" | head -n1)
URL=http://$ADDR
status() { curl -s -o "$BR_TMP/body" -w '%{http_code}' --max-time 5 "$URL$1"; }
status_is() { [[ $(status "$2") == "$1" ]]; }
metric() { # NAME: its value (unlabelled sample)
    curl -s --max-time 5 "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
metric_is() { [[ $(metric "$1") == "$2" ]]; }

N=0
produce() { # COUNT: OpenAI usage events with distinct ids
    local i
    : >"$BR_TMP/batch"
    for ((i = 0; i < $1; i++, N++)); do
        printf '{"id":"req-%d","created":%d,"model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":0}}\n' \
            "$N" $((1740787200 + N * 10)) >>"$BR_TMP/batch"
    done
    kcat -b "$BR_BOOTSTRAP" -P -t llm.openai -p 0 <"$BR_TMP/batch"
}

# 1. Healthy: ready, a snapshot written, nothing failing.
produce 5
br_wait_for "ready" 40 status_is 200 /readyz ||
    { tail "$BR_TMP/run.err" >&2; br_die "/readyz never 200: $(cat "$BR_TMP/body")"; }
br_wait_for "a snapshot" 20 log_has 'msg="snapshot written"' ||
    { tail "$BR_TMP/run.err" >&2; br_die "no snapshot written"; }
metric_is burnrate_snapshot_failing 0 || br_die "burnrate_snapshot_failing $(metric burnrate_snapshot_failing), want 0"
metric_is burnrate_snapshot_consecutive_failures 0 || br_die "consecutive failures not 0"
metric_is burnrate_ready 1 || br_die "burnrate_ready $(metric burnrate_ready), want 1"

# 2. The state directory becomes a regular file: every write fails.
mv "$STATE" "$STATE.away"
touch "$STATE"
produce 5
br_wait_for "/readyz 503" 30 status_is 503 /readyz ||
    { tail "$BR_TMP/run.err" >&2; br_die "/readyz did not turn 503: $(cat "$BR_TMP/body")"; }
grep -q '^not ready: the last 3 snapshots failed (state.unready_after: 3); offsets stay at the last good one: .*state' "$BR_TMP/body" ||
    br_die "/readyz body: $(cat "$BR_TMP/body")"
metric_is burnrate_snapshot_failing 1 || br_die "burnrate_snapshot_failing $(metric burnrate_snapshot_failing), want 1"
metric_is burnrate_ready 0 || br_die "burnrate_ready $(metric burnrate_ready), want 0"
c=$(metric burnrate_snapshot_consecutive_failures)
((c >= 3)) || br_die "burnrate_snapshot_consecutive_failures $c, want >= 3"
grep -q 'level=error msg="snapshots failing: not ready" consecutive_failures=3 unready_after=3 state_dir=' "$BR_TMP/run.err" ||
    br_die "no error line when /readyz turned"
curl -s --max-time 5 "$URL/healthz" | grep -qx ok || br_die "/healthz must stay ok: the loop turns"

# 3. Retry spacing from the log: 1 s, then 2 s, then 4 s at least between
# attempts (wait for the fourth failure; 50 ms of slack for log timing).
failures() { grep -c 'msg="snapshot failed; offsets stay' "$BR_TMP/run.err" || true; }
four() { (($(failures) >= 4)); }
br_wait_for "a fourth failed attempt" 30 four || br_die "no fourth attempt"
grep 'msg="snapshot failed; offsets stay' "$BR_TMP/run.err" |
    sed -n 's/^ts=\([^ ]*\) .* attempt=\([0-9]*\) .*/\1 \2/p' >"$BR_TMP/attempts"
/usr/bin/python3 - "$BR_TMP/attempts" <<'PY' || br_die "retry spacing: $(cat "$BR_TMP/attempts")"
import sys, datetime
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = [datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
     for ts, _ in rows]
att = [int(a) for _, a in rows]
assert att[:4] == [1, 2, 3, 4], att
want = [1.0, 2.0, 4.0]
for i, w in enumerate(want):
    gap = t[i + 1] - t[i]
    # At least the documented wait; no more than a second beyond it.
    assert w - 0.05 <= gap <= w + 1.0, (i + 1, gap, w)
print("retry gaps:", [round(t[i + 1] - t[i], 3) for i in range(3)])
PY

# 4. Repaired: the next retry writes, ready again, the metric back to 0.
rm "$STATE"
mv "$STATE.away" "$STATE"
br_wait_for "/readyz 200 again" 30 status_is 200 /readyz ||
    { tail "$BR_TMP/run.err" >&2; br_die "/readyz not ready after the repair: $(cat "$BR_TMP/body")"; }
log_has 'level=warn msg="snapshot written again after failures" .* was_unready=true' ||
    br_die "no recovery line"
metric_is burnrate_snapshot_failing 0 || br_die "burnrate_snapshot_failing not back to 0"
metric_is burnrate_snapshot_consecutive_failures 0 || br_die "consecutive failures not back to 0"
metric_is burnrate_ready 1 || br_die "burnrate_ready not back to 1"
total=$(metric burnrate_snapshot_failures_total)
((total >= 4)) || br_die "burnrate_snapshot_failures_total $total"

kill -TERM "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
((rc == 0)) || { tail -20 "$BR_TMP/run.err" >&2; br_die "exit code $rc after SIGTERM"; }
grep 'msg=stopped' "$BR_TMP/run.err" | grep -q 'messages=10 ok=10 ' ||
    br_die "counts: $(grep msg=stopped "$BR_TMP/run.err")"
br_log "it_disk: ok"
