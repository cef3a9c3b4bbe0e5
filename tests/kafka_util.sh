# Shared helpers for the integration tests, the demo and the benchmark:
# start the embedded broker and read its bootstrap, wait for a condition
# against a deadline, and clean every child up on exit. Source it from bash.

# Children to stop on exit, in reverse start order.
BR_CHILD_PIDS=()
# Scratch directory, removed on exit unless BR_KEEP_TMP=1.
BR_TMP=""
# Bootstrap servers of the broker started by br_broker_start.
BR_BOOTSTRAP=""
BR_BROKER_PID=""
# Commands sent to the broker so far (its answer to the Nth is stdout line N+1).
BR_BROKER_CMDS=0
# The answer to the last br_broker_cmd.
BR_BROKER_ANSWER=""

br_log() {
    printf '%s\n' "$*" >&2
}

br_die() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# br_tmp_init: make $BR_TMP and install the cleanup trap.
br_tmp_init() {
    BR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/brtools-$(basename "$0" .sh).XXXXXX")
    trap br_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# br_track PID: stop PID (TERM, then KILL after a grace period) on exit.
br_track() {
    BR_CHILD_PIDS+=("$1")
}

# br_stop PID [grace_seconds]: TERM it, wait up to the grace, then KILL.
br_stop() {
    local pid=$1 grace=${2:-5} deadline
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# br_exit_within PID SECONDS LOG: wait for PID to exit and return its
# status; if it is still running after SECONDS, show the end of LOG (what
# it was doing), kill it and return 124, so that a hang fails with a reason
# instead of running into ctest's timeout.
br_exit_within() {
    local pid=$1 secs=$2 log=$3
    if ! br_wait_for "pid $pid to exit" "$secs" br_gone "$pid"; then
        br_log "the end of $log:"
        tail -30 "$log" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 124
    fi
    wait "$pid"
}

# br_gone PID: the process has exited.
br_gone() {
    ! kill -0 "$1" 2>/dev/null
}

br_cleanup() {
    local rc=$? i
    set +e
    for ((i = ${#BR_CHILD_PIDS[@]} - 1; i >= 0; i--)); do
        br_stop "${BR_CHILD_PIDS[i]}" 3
    done
    if [[ -n ${BR_BROKER_FD:-} ]]; then
        exec {BR_BROKER_FD}>&-
    fi
    if [[ -n $BR_TMP && -d $BR_TMP ]]; then
        if [[ $rc -ne 0 || ${BR_KEEP_TMP:-0} == 1 ]]; then
            br_log "kept $BR_TMP for inspection"
        else
            rm -rf "$BR_TMP"
        fi
    fi
    return $rc
}

# br_wait_for DESCRIPTION TIMEOUT_S COMMAND...: poll COMMAND until it
# succeeds; fail with DESCRIPTION when the deadline passes, or at once when
# COMMAND returns 3 (what is waited for can no longer happen).
br_wait_for() {
    local what=$1 timeout=$2 deadline rc
    shift 2
    deadline=$(($(date +%s%N) / 1000000 + timeout * 1000))
    while true; do
        rc=0
        "$@" || rc=$?
        ((rc == 0)) && return 0
        if ((rc == 3)); then
            br_log "gave up waiting for: $what"
            return 1
        fi
        if (($(date +%s%N) / 1000000 > deadline)); then
            br_log "timed out after ${timeout}s waiting for: $what"
            return 1
        fi
        sleep 0.1
    done
}

# br_broker_start [burnrate-broker args...]: start the embedded broker with
# its stdin on a FIFO this shell holds open (so it dies with us), and set
# BR_BOOTSTRAP. Needs $BR_TMP and $BR_BIN.
br_broker_start() {
    local dir=$BR_TMP/broker
    mkdir -p "$dir"
    mkfifo "$dir/stdin"
    "$BR_BIN/burnrate-broker" "$@" <"$dir/stdin" >"$dir/stdout" 2>"$dir/stderr" &
    BR_BROKER_PID=$!
    br_track "$BR_BROKER_PID"
    # Opening the write end completes the FIFO rendezvous with the child.
    exec {BR_BROKER_FD}>"$dir/stdin"
    br_wait_for "broker bootstrap line" 10 _br_broker_ready "$dir" ||
        { cat "$dir/stderr" >&2; return 1; }
    BR_BOOTSTRAP=$(head -n1 "$dir/stdout")
    BR_BROKER_CMDS=0
}

# br_broker_cmd "COMMAND" [TIMEOUT_S]: send one fault-injection command to
# the broker started by br_broker_start (see burnrate-broker --help) and wait
# for its answer; fails when the answer is "error ..." or does not come. The
# answer is left in BR_BROKER_ANSWER. Commands are answered in order, so the
# answer to the Nth command is line N+1 of the broker's stdout.
br_broker_cmd() {
    local cmd=$1 timeout=${2:-10} want
    [[ -n ${BR_BROKER_FD:-} ]] || { br_log "br_broker_cmd: no broker"; return 1; }
    printf '%s\n' "$cmd" >&"$BR_BROKER_FD" || { br_log "br_broker_cmd: broker stdin closed"; return 1; }
    BR_BROKER_CMDS=$((BR_BROKER_CMDS + 1))
    want=$((BR_BROKER_CMDS + 1))
    br_wait_for "broker answer to '$cmd'" "$timeout" _br_broker_answered "$want" || return 1
    BR_BROKER_ANSWER=$(sed -n "${want}p" "$BR_TMP/broker/stdout")
    if [[ $BR_BROKER_ANSWER != "ok $cmd"* ]]; then
        br_log "broker: $BR_BROKER_ANSWER"
        return 1
    fi
}

_br_broker_answered() {
    kill -0 "$BR_BROKER_PID" 2>/dev/null || return 3
    (($(wc -l <"$BR_TMP/broker/stdout") >= $1))
}

_br_broker_ready() {
    kill -0 "$BR_BROKER_PID" 2>/dev/null || return 3
    [[ -s $1/stdout ]] && [[ $(head -n1 "$1/stdout") == *:* ]]
}

# br_topic_count TOPIC: messages currently in TOPIC (sum of high watermarks
# minus low watermarks), asked with the python client.
br_topic_count() {
    local topic=$1
    /usr/bin/python3 - "$BR_BOOTSTRAP" "$topic" <<'EOF'
import sys
from confluent_kafka import Consumer, TopicPartition
b, t = sys.argv[1], sys.argv[2]
c = Consumer({"bootstrap.servers": b, "group.id": "br-count"})
md = c.list_topics(t, timeout=5)
n = 0
if t in md.topics and md.topics[t].error is None:
    for p in md.topics[t].partitions:
        lo, hi = c.get_watermark_offsets(TopicPartition(t, p), timeout=5)
        n += hi - lo
c.close()
print(n)
EOF
}

# br_kcat_dump TOPIC OUTFILE [kcat args...]: consume TOPIC from the beginning
# to its current end.
br_kcat_dump() {
    local topic=$1 out=$2
    shift 2
    kcat -b "$BR_BOOTSTRAP" -C -t "$topic" -o beginning -e -q "$@" >"$out"
}
