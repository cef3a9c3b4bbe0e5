#!/usr/bin/env bash
# `burnrate run` and its state directory: an unwritable state.dir stops
# start-up with the reason; a snapshot that fails at run time is logged at
# error level, retried, and offsets stay at the last good snapshot until it
# succeeds again; on restart a corrupted newest snapshot is moved aside and
# the previous generation restored (the counts go on from it); with no valid
# snapshot left burnrate starts empty and says so at error level; a state
# directory of another consumer group is refused.
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

write_config() { # FILE STATE_DIR GROUP
    cat >"$1" <<EOF
inputs:
  - name: tokens
    dialect: openai
    topic: llm.openai
prices:
  models:
    gpt-4o: {input: 2.50, output: 10.00}
kafka:
  brokers: $BR_BOOTSTRAP
  group_id: $3
  consumer_properties:
    session.timeout.ms: 6000
    heartbeat.interval.ms: 500
state:
  dir: $2
  snapshot_interval: 200ms
  keep: 3
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

log_has() { grep -q -- "$2" "$BR_TMP/$1.err"; }

N=0
produce() { # COUNT: OpenAI usage events with distinct ids, 1 USD each
    local i
    : >"$BR_TMP/batch"
    for ((i = 0; i < $1; i++, N++)); do
        printf '{"id":"req-%d","created":%d,"model":"gpt-4o","metadata":{"team":"ml"},"usage":{"prompt_tokens":400000,"completion_tokens":0}}\n' \
            "$N" $((1740787200 + N * 10)) >>"$BR_TMP/batch"
    done
    kcat -b "$BR_BOOTSTRAP" -P -t llm.openai -p 0 <"$BR_TMP/batch"
}

committed() { # GROUP: its committed offset of llm.openai[0] (-1: none)
    /usr/bin/python3 - "$BR_BOOTSTRAP" "$1" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
              "enable.auto.commit": False})
tp = c.committed([TopicPartition("llm.openai", 0)], timeout=10)[0]
print(tp.offset if tp.offset >= 0 else -1)
c.close()
PY
}
committed_is() { [[ $(committed "$1") == "$2" ]]; }
stopped_has() { grep 'msg=stopped' "$BR_TMP/$1.err" | grep -q -- "$2"; }

# 1. An unwritable state directory (below a regular file: refused even for
# root) is a start-up error that names it.
touch "$BR_TMP/afile"
write_config "$BR_TMP/bad.yaml" "$BR_TMP/afile/state" g-bad
rc=0
"$BURNRATE" run --config "$BR_TMP/bad.yaml" >"$BR_TMP/bad.out" 2>"$BR_TMP/bad.err" || rc=$?
((rc == 1)) || br_die "unwritable state dir: exit $rc, want 1"
grep -q 'msg="startup failed".*afile/state.*Not a directory' "$BR_TMP/bad.err" ||
    { cat "$BR_TMP/bad.err" >&2; br_die "the start-up error does not name the directory and cause"; }

# 2. Snapshots, then a failing state directory at run time, then recovery.
write_config "$BR_TMP/a.yaml" "$STATE" g-a
produce 20
start_run a "$BR_TMP/a.yaml"
br_wait_for "offsets committed after a snapshot" 40 committed_is g-a 20 ||
    { tail "$BR_TMP/a.err" >&2; br_die "no commit of 20"; }
log_has a 'msg="snapshot written" generation=1 ' || br_die "no snapshot written line"
mv "$STATE" "$STATE.away"
touch "$STATE" # the directory is now a regular file: writes fail
produce 5
br_wait_for "a failed snapshot logged" 20 log_has a 'level=error msg="snapshot failed; offsets stay at the previous snapshot"' ||
    { tail "$BR_TMP/a.err" >&2; br_die "the failing snapshot was not reported"; }
# While it fails (retried after 1 s, 2 s, 4 s, ...), the commit must not move.
failures() { grep -c 'msg="snapshot failed' "$BR_TMP/a.err" || true; }
retried() { (($(failures) >= 3)); }
br_wait_for "retries" 20 retried || br_die "the failing snapshot was not retried"
committed_is g-a 20 || br_die "offsets were committed without a snapshot: $(committed g-a)"
rm "$STATE"
mv "$STATE.away" "$STATE"
br_wait_for "a snapshot after the failures" 20 log_has a 'msg="snapshot written again after failures"' ||
    { tail "$BR_TMP/a.err" >&2; br_die "no recovery"; }
br_wait_for "offsets committed again" 20 committed_is g-a 25 || br_die "no commit of 25"
stop_run a
stopped_has a 'messages=25 ok=25 ' || br_die "first run: wrong counts"
gens=$(ls "$STATE" | grep -c '\.brs$')
((gens >= 2 && gens <= 3)) || br_die "state.keep 3: $gens generations kept"

# 3. Restart with the newest snapshot corrupted: it is moved aside, the
# previous generation is restored and its offsets resumed; nothing is lost
# and nothing counted twice.
newest=$(ls "$STATE"/*.brs | sort | tail -1)
printf 'garbage' | dd of="$newest" bs=1 seek=40 conv=notrunc 2>/dev/null
produce 5
start_run b "$BR_TMP/a.yaml"
br_wait_for "the corrupted snapshot rejected" 20 log_has b 'msg="snapshot rejected and moved aside".*payload checksum mismatch' ||
    { cat "$BR_TMP/b.err" >&2; br_die "corrupted snapshot not rejected"; }
log_has b 'msg="snapshot restored"' || br_die "previous generation not restored"
[[ -f $newest.bad ]] || br_die "the bad snapshot was not moved aside"
br_wait_for "caught up" 40 committed_is g-a 30 || { tail "$BR_TMP/b.err" >&2; br_die "no commit of 30"; }
stop_run b
stopped_has b 'messages=30 ok=30 ' ||
    { grep msg=stopped "$BR_TMP/b.err" >&2; br_die "restart from the previous generation: counts differ"; }
stopped_has b 'duplicates=0 ' || br_die "re-read events counted as duplicates"

# 4. Every snapshot truncated: burnrate starts empty and says so loudly,
# resuming from the group's offsets.
for f in "$STATE"/*.brs; do truncate -s 20 "$f"; done
start_run c "$BR_TMP/a.yaml"
br_wait_for "loud empty start" 20 log_has c 'level=error msg="NO VALID SNAPSHOT LEFT' ||
    { cat "$BR_TMP/c.err" >&2; br_die "no loud line"; }
br_wait_for "resumed from the group" 30 log_has c 'msg="resuming from the group" partition=llm.openai\[0\] group_offset=30' ||
    { cat "$BR_TMP/c.err" >&2; br_die "did not resume from the group's offset"; }
produce 1
br_wait_for "the new event committed" 30 committed_is g-a 31 || br_die "no commit of 31"
stop_run c

# 5. The state belongs to its consumer group: another group_id on the same
# state.dir is refused at start-up rather than resumed from foreign offsets.
write_config "$BR_TMP/other.yaml" "$STATE" g-other
rc=0
"$BURNRATE" run --config "$BR_TMP/other.yaml" >"$BR_TMP/other.out" 2>"$BR_TMP/other.err" || rc=$?
((rc == 1)) || br_die "a snapshot of another group: exit $rc, want 1"
grep -q 'holds the state of consumer group g-a, but kafka.group_id is g-other' "$BR_TMP/other.err" ||
    { cat "$BR_TMP/other.err" >&2; br_die "no clear error for a snapshot of another group"; }
br_log "it_state: ok"
