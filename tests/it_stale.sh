#!/usr/bin/env bash
# Notice silence: an input that delivers nothing for its stale_after (2s)
# while assigned raises one stale_input alert on the alert topic, and the
# next message resolves it (revision 2, same id). A restart while it fires
# does not fire it again (the snapshot keeps it) and the new process still
# resolves it. Input "other" has no stale_after in the first run (it must
# stay quiet) and 3s in the second, where its alert is the clock that says
# "usage" has been silent longer than its own 2s after the restart.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
PY=/usr/bin/python3
KT=$PWD/e2e/kafkatool.py

br_tmp_init
br_broker_start --topics llm.usage,llm.other,burnrate.alerts,burnrate.dlq --partitions 1 ||
    br_die "broker did not start"

write_config() { # FILE OTHER_STALE_AFTER
    cat >"$1" <<EOF
inputs:
  - name: usage
    topic: llm.usage
    dialect: custom
    stale_after: 2s
    mapping:
      time: ts
      cost: cost
  - name: other
    topic: llm.other
    dialect: custom
    stale_after: $2
    mapping:
      time: ts
      cost: cost
scopes:
  - name: total
kafka:
  brokers: $BR_BOOTSTRAP
  group_id: burnrate-it-stale
  alerts_topic: burnrate.alerts
  dead_letter_topic: burnrate.dlq
  consumer_properties:
    session.timeout.ms: 6000
    heartbeat.interval.ms: 500
state:
  dir: $BR_TMP/state
  snapshot_interval: 200ms
EOF
}

start_run() { # NAME CONFIG
    "$BURNRATE" run --config "$2" --log-level debug \
        >"$BR_TMP/$1.out" 2>"$BR_TMP/$1.err" &
    RUN_PID=$!
    br_track "$RUN_PID"
}

stop_run() { # NAME: SIGTERM, expect exit 0
    local rc=0
    kill -TERM "$RUN_PID"
    wait "$RUN_PID" || rc=$?
    ((rc == 0)) || { tail -20 "$BR_TMP/$1.err" >&2; br_die "$1: exit code $rc after SIGTERM"; }
}

SENT=0
produce() { # N: N usage events of $1.00, one a minute of event time
    local i f=$BR_TMP/events.jsonl
    : >"$f"
    for ((i = 0; i < $1; i++)); do
        printf '{"ts":"2025-03-01T10:%02d:00Z","cost":1.00}\n' $((SENT % 60)) >>"$f"
        SENT=$((SENT + 1))
    done
    kcat -b "$BR_BOOTSTRAP" -P -t llm.usage -p 0 -l "$f"
}

# stale_alerts: the stale_input messages on the alert topic, one line each:
# input status revision id window_start window_end event_time source_offset
stale_alerts() {
    "$PY" "$KT" dump "$BR_BOOTSTRAP" burnrate.alerts | "$PY" -c '
import json, sys
for line in sys.stdin:
    a = json.loads(json.loads(line)["value"])
    if a["type"] != "stale_input":
        continue
    print(a["labels"]["input"], a["status"], a["revision"], a["id"],
          a["window"]["start"], a["window"]["end"], a["event_time"],
          a["source"]["offset"], a["detail"])
'
}

has_alert() { # INPUT STATUS: polled against a deadline
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    stale_alerts >"$BR_TMP/stale.txt"
    grep -q "^$1 $2 " "$BR_TMP/stale.txt"
}

run_log_has() { kill -0 "$RUN_PID" 2>/dev/null || return 3; grep -q -- "$2" "$BR_TMP/$1.err"; }

# ---- run 1: data, silence, firing, data, resolved, silence, firing ------
write_config "$BR_TMP/run1.yaml" 0
start_run run1 "$BR_TMP/run1.yaml"
br_wait_for "partitions assigned" 20 run_log_has run1 'msg="partitions assigned" count=2' ||
    { tail -20 "$BR_TMP/run1.err" >&2; br_die "run1 got no assignment"; }
t_sent=$(date +%s%N)   # before: the last message arrives after this
produce 3
br_wait_for "a stale_input alert for usage" 20 has_alert usage firing ||
    { tail -20 "$BR_TMP/run1.err" >&2; br_die "no stale_input firing"; }
t_seen=$(date +%s%N)
((t_seen - t_sent >= 2000000000)) ||
    br_die "stale_input fired $(((t_seen - t_sent) / 1000000)) ms after the last message, before stale_after (2s)"
read -r _ _ rev id start end event off detail < <(grep "^usage firing " "$BR_TMP/stale.txt")
[[ $rev == 1 && $detail == usage && $off == -1 ]] || br_die "firing alert: $(cat "$BR_TMP/stale.txt")"
[[ $event == 2025-03-01T10:02:00Z ]] || br_die "event_time $event, want the newest event 2025-03-01T10:02:00Z"
"$PY" - "$start" "$end" <<'EOF' || br_die "silence window $start .. $end is not 2s..10s"
import sys
from datetime import datetime
s, e = (datetime.fromisoformat(x.replace("Z", "+00:00")) for x in sys.argv[1:3])
sys.exit(0 if 2.0 <= (e - s).total_seconds() < 10 else 1)
EOF
grep -q "^other " "$BR_TMP/stale.txt" && br_die "input other (stale_after 0) alerted: $(cat "$BR_TMP/stale.txt")"

produce 1    # offset 3 ends the silence
br_wait_for "the stale_input alert resolved" 20 has_alert usage resolved ||
    { tail -20 "$BR_TMP/run1.err" >&2; br_die "no stale_input resolved"; }
read -r _ _ rev2 id2 start2 _ event2 off2 _ < <(grep "^usage resolved " "$BR_TMP/stale.txt")
[[ $rev2 == 2 && $id2 == "$id" && $start2 == "$start" && $off2 == 3 ]] ||
    br_die "resolved alert does not match the firing one: $(cat "$BR_TMP/stale.txt")"
[[ $event2 == 2025-03-01T10:03:00Z ]] || br_die "resolved event_time $event2"
(($(grep -c "^usage firing 1 $id " "$BR_TMP/stale.txt") == 1)) ||
    br_die "the silence fired more than once: $(cat "$BR_TMP/stale.txt")"

# A second silence is a new episode with a new id.
second_firing() {
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    stale_alerts >"$BR_TMP/stale.txt"
    (($(grep -c "^usage firing " "$BR_TMP/stale.txt") >= 2))
}
br_wait_for "a second stale_input episode" 20 second_firing || br_die "no second firing"
id3=$(grep "^usage firing " "$BR_TMP/stale.txt" | tail -n1 | cut -d' ' -f4)
[[ $id3 != "$id" ]] || br_die "the second silence reused the first one's id"
# No message came since the last snapshot: only because the daemon counts
# a firing as a change does the shutdown snapshot keep it.
stop_run run1

# ---- run 2: still silent after a restart, no second firing; then data ---
write_config "$BR_TMP/run2.yaml" 3s
start_run run2 "$BR_TMP/run2.yaml"
br_wait_for "other's stale_input (3s after the restart's assignment)" 30 has_alert other firing ||
    { tail -20 "$BR_TMP/run2.err" >&2; br_die "run2: input other did not fire"; }
(($(grep -c "^usage firing 1 $id3 " "$BR_TMP/stale.txt") == 1)) ||
    br_die "the restart fired the open silence again: $(cat "$BR_TMP/stale.txt")"
(($(grep -c "^usage firing " "$BR_TMP/stale.txt") == 2)) ||
    br_die "the restart fired a new usage silence: $(cat "$BR_TMP/stale.txt")"
produce 1
resolved_again() {
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    stale_alerts >"$BR_TMP/stale.txt"
    grep -q "^usage resolved 2 $id3 " "$BR_TMP/stale.txt"
}
br_wait_for "run2 resolving the silence run1 fired" 20 resolved_again ||
    { tail -20 "$BR_TMP/run2.err" >&2; br_die "run2 did not resolve $id3: $(cat "$BR_TMP/stale.txt")"; }
stop_run run2
echo "ok: stale_input fired after 2s of silence, once, resolved on data, survived a restart"
