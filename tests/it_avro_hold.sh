#!/usr/bin/env bash
# A schema registry that fails, hangs or is gone must hold back only the
# partition whose message needs the missing schema: that partition waits at
# that message and retries with backoff, the other one keeps flowing, and
# once the registry answers again everything is counted once, nothing good
# is dead-lettered. Messages of 5 bytes (header, empty body) and 4 bytes
# are dead letters with their reason, not a crash or a hold.
#
# One `burnrate run` over topic "hold" (2 partitions), avro-confluent with
# the registry test server (tests/avro/registry.py) as its only schema
# source. Phases, each with a new schema id on partition 0 and id 7 (cached
# since phase A) on partition 1:
#   A  id 7 on both partitions: consumed, id 7 looked up once
#   B  registry answers 500: id 8 on p0 waits, p1 flows, retries back off
#      500, 1000, 2000, 4000 ms; after a reset p0 catches up
#   C  registry hangs (past the 5 s client timeout): id 9 on p0 waits (the
#      lookup runs on its own thread), p1 flows; after a reset p0 catches up
#   D  registry process stopped: id 12 on p0 waits, p1 flows; restarted on
#      the same port, p0 catches up
#   E  a 5-byte and a 4-byte message: dead letters with reason PARSE
# Progress per partition is read from the group's committed offsets (they
# follow the 100 ms snapshots), independently of burnrate.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BR_BIN:?set BR_BIN to the build directory}"
# shellcheck source=tests/kafka_util.sh
source "$HERE/kafka_util.sh"
AV=$HERE/avro
HOLD=$AV/hold
PY=/usr/bin/python3
TOPIC=hold
GROUP=burnrate-it-avro-hold

br_tmp_init
br_broker_start --topics "$TOPIC,alerts.hold,dlq.hold" --partitions 2
"$PY" "$HOLD/hold.py" schemas "$BR_TMP/schemas"

REG_PID="" REG_PORT=0 REG_N=0
start_registry() {  # starts the registry test server on REG_PORT (0: any)
    REG_N=$((REG_N + 1))
    local out=$BR_TMP/reg.$REG_N.out
    "$PY" "$AV/registry.py" --dir "$BR_TMP/schemas" --port "$REG_PORT" \
        >"$out" 2>"$BR_TMP/reg.$REG_N.err" &
    REG_PID=$!
    br_track "$REG_PID"
    br_wait_for "registry $REG_N port" 10 test -s "$out" || return 1
    REG_PORT=$(head -n1 "$out")
    REG=http://127.0.0.1:$REG_PORT
}
reg() {  # POST a registry control
    curl -fsS -XPOST "$REG/control/$1" >/dev/null
}
lookups() {  # ID: lookups of that schema id the running registry answered
    "$PY" "$HOLD/hold.py" stat "$REG" "$1"
}
start_registry

sed -e "s|@SCHEMA@|$HERE/../schemas/usage.avsc|" -e "s|@REGISTRY@|$REG|" \
    -e "s|@BR_TMP@|$BR_TMP|" "$HOLD/run.yaml" >"$BR_TMP/run.yaml"
"$BR_BIN/burnrate" check-config "$BR_TMP/run.yaml" >/dev/null 2>"$BR_TMP/check" ||
    br_die "check-config: $(cat "$BR_TMP/check")"

# send PARTITION ID N TAG: N good events with schema id ID; sets FIRST and
# LAST (their offsets) and adds them to the expected count and cost.
WANT_OK=0 WANT_NANOS=0
send() {
    local r
    r=$("$PY" "$HOLD/hold.py" send "$BR_BOOTSTRAP" "$TOPIC" "$@") || br_die "send $*"
    read -r FIRST LAST nanos <<<"$r"
    WANT_OK=$((WANT_OK + $3))
    WANT_NANOS=$((WANT_NANOS + nanos))
}
raw() {  # PARTITION HEX: one message; prints its offset
    "$PY" "$HOLD/hold.py" raw "$BR_BOOTSTRAP" "$TOPIC" "$@" || br_die "raw $*"
}

LOG=$BR_TMP/run.err
BR_PID=""
alive() {
    kill -0 "$BR_PID" 2>/dev/null
}
# offsets: COMMITTED[p] and HIGH[p] of the group on the topic.
declare -a COMMITTED HIGH
offsets() {
    local p c h
    COMMITTED=() HIGH=()
    while read -r p c h; do
        COMMITTED[p]=$c
        HIGH[p]=$h
    done < <("$PY" "$HOLD/hold.py" offsets "$BR_BOOTSTRAP" "$GROUP" "$TOPIC")
    ((${#HIGH[@]} == 2))
}
at() {  # PARTITION OFFSET: the group has committed exactly OFFSET there
    alive || return 3
    offsets || return 1
    [[ ${COMMITTED[$1]} == "$2" ]]
}
held_at() {  # PARTITION OFFSET: the log says that message waits
    alive || return 3
    grep -q "partition waits and retries.* where=$TOPIC\[$1\]@$2 " "$LOG"
}
at_least() {  # ID N: the registry was asked for ID at least N times
    alive || return 3
    (($(lookups "$1") >= $2))
}
dlq_count() {
    "$PY" "$HERE/e2e/kafkatool.py" count "$BR_BOOTSTRAP" dlq.hold
}
wait_line() {  # PARTITION OFFSET: the waiting line of that message
    grep "partition waits and retries.* where=$TOPIC\[$1\]@$2 " "$LOG" | head -n1
}
FAILS=()
check() {  # DESCRIPTION COMMAND...: record a failure, go on
    local what=$1
    shift
    "$@" || FAILS+=("$what")
}
# hold_phase PARTITION OFFSET: p0 waits at OFFSET while p1 flows to its end.
hold_phase() {
    local p=$1 off=$2
    offsets
    [[ ${COMMITTED[$p]} == "$off" ]] ||
        FAILS+=("partition $p committed ${COMMITTED[$p]}, want $off (the waiting message)")
    [[ ${COMMITTED[1 - p]} == "${HIGH[1 - p]}" ]] ||
        FAILS+=("partition $((1 - p)) committed ${COMMITTED[1 - p]}, want its end ${HIGH[1 - p]}")
    local n
    n=$(dlq_count)
    [[ $n == 0 ]] || FAILS+=("$n dead letters while ${TOPIC}[$p] waits at $off")
}

ms_now() {
    echo $(($(date +%s%N) / 1000000))
}
# flowed PHASE SINCE_MS: partition 1, produced to by SINCE_MS while
# partition 0 waits, reached its end promptly (its own work takes well
# under a second; a stall behind partition 0's schema lookup shows here).
flowed() {
    local took=$(($(ms_now) - $2))
    br_log "$1: partition 1 reached its end $took ms after the send"
    ((took <= FLOW_MS)) ||
        FAILS+=("$1: partition 1 took $took ms to reach its end while partition 0 waits, want <= $FLOW_MS ms (stalled behind the registry lookup)")
}
FLOW_MS=3000
# first_retry PHASE OFFSET: a new wait starts at the shortest backoff.
first_retry() {
    local r
    r=$(wait_line 0 "$2" | grep -o ' retry_ms=[0-9]*' | cut -d= -f2)
    [[ $r == 500 ]] || FAILS+=("$1: first retry of ${TOPIC}[0]@$2 after $r ms, want 500 (a new wait starts at the shortest backoff)")
}

# --- A: id 7 on both partitions ------------------------------------------
send 0 7 20 a0
send 1 7 20 a1
"$BR_BIN/burnrate" run --config "$BR_TMP/run.yaml" --brokers "$BR_BOOTSTRAP" \
    >"$BR_TMP/run.out" 2>"$LOG" &
BR_PID=$!
br_track "$BR_PID"
br_wait_for "A: both partitions consumed" 30 at 0 20 || br_die "A: p0 not consumed: $(tail -5 "$LOG")"
br_wait_for "A: both partitions consumed" 10 at 1 20 || br_die "A: p1 not consumed"
check "A: id 7 looked up $(lookups 7) times, want 1" test "$(lookups 7)" = 1

# --- B: registry answers 500 ---------------------------------------------
reg 'fail?status=500'
t0=$(date +%s%N)
send 0 8 10 b0
B_OFF=$FIRST
send 0 7 5 b0x  # known schema, behind the waiting message: waits too
br_wait_for "B: p0 waits" 10 held_at 0 "$B_OFF" || br_die "B: no waiting line for ${TOPIC}[0]@$B_OFF: $(tail -5 "$LOG")"
send 1 7 20 b1
since=$(ms_now)
br_wait_for "B: p1 flows while p0 waits" 15 at 1 "$((LAST + 1))" || br_die "B: p1 stalled behind p0"
flowed B "$since"
br_wait_for "B: 4 lookups of id 8" 15 at_least 8 4 || br_die "B: id 8 not retried"
t1=$(date +%s%N)
hold_phase 0 "$B_OFF"
n8=$(lookups 8)
# 4 tries need 0.5 + 1 + 2 s of backoff; a 5th comes 4 s after the 4th.
check "B: 4 tries of id 8 within $(((t1 - t0) / 1000000)) ms: no backoff" test $(((t1 - t0) / 1000000)) -ge 3400
check "B: $n8 lookups of id 8 by now, want 4 or 5" test "$n8" -le 5
retries=$(grep "partition waits and retries.* where=$TOPIC\[0\]@$B_OFF " "$LOG" |
    grep -o ' retry_ms=[0-9]*' | head -n4 | cut -d= -f2 | paste -sd' ')
check "B: retry_ms '$retries', want '500 1000 2000 4000'" test "$retries" = "500 1000 2000 4000"
check "B: the waiting line does not name the HTTP 500: $(wait_line 0 "$B_OFF")" \
    grep -q "partition waits and retries.* where=$TOPIC\[0\]@$B_OFF .*HTTP 500" "$LOG"
check "B: p1 was held: $(grep -m1 "where=$TOPIC\[1\]" "$LOG" || true)" \
    bash -c "! grep -q 'where=$TOPIC\[1\]' '$LOG'"
reg reset
br_wait_for "B: p0 catches up" 15 at 0 "$((B_OFF + 15))" || br_die "B: p0 did not catch up after the registry reset"

# --- C: registry hangs ---------------------------------------------------
reg hang
send 0 9 10 c0
C_OFF=$FIRST
send 0 7 3 c0x
br_wait_for "C: the registry is asked for id 9" 10 at_least 9 1 || br_die "C: id 9 never asked for"
send 1 7 20 c1
since=$(ms_now)
br_wait_for "C: p1 flows while p0 waits" 30 at 1 "$((LAST + 1))" || br_die "C: p1 stalled behind p0"
flowed C "$since"
br_wait_for "C: p0 waits" 15 held_at 0 "$C_OFF" || br_die "C: no waiting line for ${TOPIC}[0]@$C_OFF"
hold_phase 0 "$C_OFF"
first_retry C "$C_OFF"
# The lookup runs on its own thread: the first lines say it is still in
# progress; once the client gives up (5 s) they name the timeout.
check "C: the waiting line does not say the lookup is pending or timed out: $(wait_line 0 "$C_OFF")" \
    grep -qiE "partition waits and retries.* where=$TOPIC\[0\]@$C_OFF .*(lookup in progress|timed out)" "$LOG"
reg reset
br_wait_for "C: p0 catches up" 30 at 0 "$((C_OFF + 13))" || br_die "C: p0 did not catch up after the registry reset"
check "C: id 7 looked up $(lookups 7) times in all, want 1 (cached)" test "$(lookups 7)" = 1

# --- D: registry process gone --------------------------------------------
br_stop "$REG_PID"
send 0 12 10 d0
D_OFF=$FIRST
send 0 7 2 d0x
br_wait_for "D: p0 waits" 10 held_at 0 "$D_OFF" || br_die "D: no waiting line for ${TOPIC}[0]@$D_OFF"
send 1 7 20 d1
since=$(ms_now)
br_wait_for "D: p1 flows while p0 waits" 15 at 1 "$((LAST + 1))" || br_die "D: p1 stalled behind p0"
flowed D "$since"
hold_phase 0 "$D_OFF"
first_retry D "$D_OFF"
check "D: the waiting line does not name the refused connection: $(wait_line 0 "$D_OFF")" \
    grep -qi "partition waits and retries.* where=$TOPIC\[0\]@$D_OFF .*connect" "$LOG"
start_registry  # the same port
br_wait_for "D: p0 catches up" 30 at 0 "$((D_OFF + 12))" || br_die "D: p0 did not catch up after the registry came back"
for id in 7 8 9; do
    check "D: the new registry was asked for cached id $id" test "$(lookups $id)" = 0
done
check "D: the new registry was not asked for id 12" test "$(lookups 12)" -ge 1

# --- E: 5 and 4 bytes ----------------------------------------------------
OFF5=$(raw 1 0000000007)
OFF4=$(raw 0 00000000)
send 0 7 5 e0
E0=$((LAST + 1))
send 1 7 5 e1
E1=$((LAST + 1))
br_wait_for "E: p0 consumed past the 4-byte message" 15 at 0 "$E0" || br_die "E: p0 stuck: $(tail -5 "$LOG")"
br_wait_for "E: p1 consumed past the 5-byte message" 15 at 1 "$E1" || br_die "E: p1 stuck: $(tail -5 "$LOG")"

kill -TERM "$BR_PID"
rc=0
wait "$BR_PID" || rc=$?
[[ $rc -eq 0 ]] || br_die "burnrate exited $rc after SIGTERM: $(tail -5 "$LOG")"
"$PY" "$HERE/e2e/kafkatool.py" dump "$BR_BOOTSTRAP" dlq.hold >"$BR_TMP/dlq.jsonl"

# Every good event once, at the known cost; the two short ones dead.
stopped=$(grep -m1 'msg=stopped ' "$LOG") || br_die "no stopped line: $(tail -5 "$LOG")"
field() {
    grep -o " $1=[^ ]*" <<<"$stopped" | head -n1 | cut -d= -f2
}
frac=$(printf '%09d' $((WANT_NANOS % 1000000000)))
while ((${#frac} > 2)) && [[ $frac == *0 ]]; do frac=${frac%0}; done
want_total=$((WANT_NANOS / 1000000000)).$frac
check "ok=$(field ok), want $WANT_OK" test "$(field ok)" = "$WANT_OK"
check "messages=$(field messages), want $((WANT_OK + 2)) (each waiting message taken once)" \
    test "$(field messages)" = $((WANT_OK + 2))
check "duplicates=$(field duplicates), want 0" test "$(field duplicates)" = 0
check "dead_letters=$(field dead_letters), want 2" test "$(field dead_letters)" = 2
check "total=$(field total), want $want_total" test "$(field total)" = "$want_total"

"$PY" - "$BR_TMP/dlq.jsonl" "$TOPIC" "$OFF5" "$OFF4" <<'EOF' || FAILS+=("dead-letter topic not as expected")
import json, re, sys
path, topic, off5, off4 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
want = {(1, off5): ("0000000007", r"empty"),
        (0, off4): ("00000000", r"4 bytes.*shorter than the Confluent header")}
got, bad = {}, 0
for line in open(path):
    m = json.loads(line)
    h = m["headers"]
    key = (int(h.get("burnrate.partition", -1)), int(h.get("burnrate.offset", -1)))
    if key in got:
        print("two dead letters for %s" % (key,))
        bad += 1
    got[key] = (m, h)
for key, (hexv, detail) in sorted(want.items()):
    if key not in got:
        print("%s[%d]@%d (%s): no dead letter" % (topic, key[0], key[1], hexv))
        bad += 1
        continue
    m, h = got[key]
    print("%s[%d]@%d: %s %s" % (topic, key[0], key[1], h.get("burnrate.reason"), h.get("burnrate.detail")))
    if h.get("burnrate.reason") != "PARSE":
        print("  reason %s, want PARSE" % h.get("burnrate.reason"))
        bad += 1
    if not re.search(detail, h.get("burnrate.detail") or "", re.I):
        print("  detail does not match /%s/" % detail)
        bad += 1
    if h.get("burnrate.topic") != topic:
        print("  topic header %s" % h.get("burnrate.topic"))
        bad += 1
    if m["len"] != len(hexv) // 2:
        print("  payload of %d bytes, want the original %d" % (m["len"], len(hexv) // 2))
        bad += 1
for key in sorted(set(got) - set(want)):
    print("good message %s[%d]@%d dead-lettered: %s" % (topic, key[0], key[1], got[key][1]))
    bad += 1
sys.exit(1 if bad else 0)
EOF

if ((${#FAILS[@]})); then
    printf 'FAIL: %s\n' "${FAILS[@]}" >&2
    exit 1
fi
echo "ok: $WANT_OK events over 2 partitions counted once at $want_total; each registry outage (500, hang, stopped) held only partition 0 at its message while partition 1 flowed; 5- and 4-byte messages dead-lettered"
