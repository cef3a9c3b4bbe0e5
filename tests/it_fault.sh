#!/usr/bin/env bash
# The broker may come and go (issue 3): `burnrate run` against a 3-broker
# embedded cluster while faults are injected in phases as data flows (all
# brokers down, request errors on Fetch / OffsetCommit / group requests /
# FindCoordinator / Produce, the coordinator moving, latency, a leader
# failover, the alert broker down), then caught up and stopped. It must lose
# nothing: its final counts, its snapshot and the alert topic equal those of
# a fault-free reference run of the same input on a second cluster. Prints
# the longest stall per phase. FULL=1 (env or first argument) keeps the
# brokers down for 60 s instead of 20 and makes every phase longer.
# FAULT_PROPS="key: value" adds librdkafka properties for both runs;
# FAULT_INFLIGHT=N runs burnrate's producer with N requests in flight.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
GEN=$BR_BIN/burnrate-gen
[[ -x $GEN ]] || GEN=$BR_BIN/test/burnrate-gen
[[ -x $GEN ]] || br_die "burnrate-gen not built"
FAULTKIT=(/usr/bin/python3 "$PWD/fault/faultkit.py")

FULL=${FULL:-0}
# burnrate's producer: one request in flight (see write_config). FAULT_INFLIGHT
# overrides it to watch the mock's defect; missing alerts still fail.
INFLIGHT=${FAULT_INFLIGHT:-1}
[[ ${1:-} == FULL=1 || ${1:-} == --full ]] && FULL=1
if ((FULL)); then
    DOWN_S=60 PHASE_S=10 RATE=250
else
    DOWN_S=20 PHASE_S=4 RATE=350
fi
# Offsets of the workload (burnrate-gen --seed 42, tokens only) around the
# injected spike: its alerts are emitted between 27080 and 32310.
SPIKE_FROM=26900 SPIKE_MID=29000 SPIKE_TO=32400

br_tmp_init
T0=$(($(date +%s%N) / 1000000))
now_ms() { echo $(($(date +%s%N) / 1000000)); }
say() { printf '[%6.1f s] %s\n' "$(( $(now_ms) - T0 ))e-3" "$*" >&2; }

# --- Clusters: the faulted one (3 brokers) and a clean reference ----------
br_broker_start --brokers 3 --topics fault.in,fault.alerts,fault.dlq --partitions 1 ||
    br_die "broker did not start"
# Input led by broker 1, alerts and dead letters by broker 2: Produce faults
# on broker 2 reach only burnrate's producer.
br_broker_cmd "leader fault.in 0 1" && br_broker_cmd "leader fault.alerts 0 2" &&
    br_broker_cmd "leader fault.dlq 0 2" || br_die "cannot place partition leaders"

REF_DIR=$BR_TMP/refbroker
mkdir -p "$REF_DIR" && mkfifo "$REF_DIR/stdin"
"$BR_BIN/burnrate-broker" --brokers 1 --topics fault.in,fault.alerts,fault.dlq --partitions 1 \
    <"$REF_DIR/stdin" >"$REF_DIR/stdout" 2>"$REF_DIR/stderr" &
REF_BROKER_PID=$!
br_track "$REF_BROKER_PID"
exec {REF_BROKER_FD}>"$REF_DIR/stdin"
ref_ready() { kill -0 "$REF_BROKER_PID" 2>/dev/null || return 3; [[ $(head -n1 "$REF_DIR/stdout") == *:* ]]; }
br_wait_for "reference broker" 10 ref_ready || br_die "reference broker did not start"
REF_BOOTSTRAP=$(head -n1 "$REF_DIR/stdout")

# --- Workload: burnrate-gen's token events plus two late sentinels --------
# The sentinels move the watermark past the last day, so budget periods
# resolve inside the stream (the same in every run) rather than at the end
# of a replay.
mkdir -p "$BR_TMP/gen"
"$GEN" --out "$BR_TMP/gen" --seed 42 --days 3 2>"$BR_TMP/gen.log" || br_die "burnrate-gen failed"
/usr/bin/python3 - "$BR_TMP/gen/tokens.jsonl" "$BR_TMP/input.jsonl" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
last = json.loads(lines[-1])
for i, ts in enumerate(["2025-03-06T23:00:00.000Z", "2025-03-07T06:00:00.000Z"]):
    s = dict(last, timestamp=ts, trace_id="f" * 31 + str(i))
    s["attributes"] = dict(last["attributes"])
    s["attributes"]["gen_ai.response.id"] = "req-sentinel-%d" % i
    lines.append(json.dumps(s, separators=(",", ":")) + "\n")
open(sys.argv[2], "w").writelines(lines)
EOF
N=$(wc -l <"$BR_TMP/input.jsonl")
((N > SPIKE_TO)) || br_die "workload has $N events, expected more than $SPIKE_TO"

# --- burnrate: the same config on both clusters ---------------------------
SNAPSHOTS=0
probe=$("$BURNRATE" snapshot show "$BR_TMP" 2>&1 || true)
if [[ $probe == *"unknown command"* ]]; then
    say "burnrate has no 'snapshot show' yet: comparing stats lines and alerts only"
else
    SNAPSHOTS=1
fi
# write_config FILE BOOTSTRAP GROUP STATE_DIR
write_config() {
    cat >"$1" <<EOF
inputs:
  - name: otel
    topic: fault.in
    dialect: otel
    mapping:
      dims:
        team: attributes.team
scopes:
  - name: total
    dims: []
  - name: team
    dims: [team]
  - name: team_model
    dims: [team, model]
spike:
  bucket: 1h
  sensitivity: 4
  min_impact: 25
  min_ratio: 2
  warmup: 24
  resolve_after: 2
budgets:
  - name: ml-daily
    match: {team: ml-research}
    amount: 40
    period: day
    thresholds: [50, 80, 100]
prices:
  file: $BR_DATA/litellm_model_prices.json
kafka:
  brokers: $2
  group_id: $3
  alerts_topic: fault.alerts
  dead_letter_topic: fault.dlq
  properties:
    topic.metadata.refresh.interval.ms: 1000
$(printf '%s\n' "${FAULT_PROPS:-}" | sed '/^$/d; s/^/    /')
  consumer_properties:
    session.timeout.ms: 6000
    heartbeat.interval.ms: 500
    auto.commit.interval.ms: 200
  # Produce errors are injected below. librdkafka 2.0.2's mock cluster then
  # occasionally loses one acknowledged message of an idempotent producer
  # with more than one request in flight (a mock defect, issue 3): with one
  # in flight it does not, so a missing alert here is burnrate's fault.
  producer_properties:
    max.in.flight.requests.per.connection: $INFLIGHT
state:
  dir: $4
EOF
    # Keys of the durable-state work, added when this burnrate accepts them.
    local extra="  snapshot_interval: 1s"
    cp "$1" "$1.try" && printf '%s\n' "$extra" >>"$1.try"
    if "$BURNRATE" check-config "$1.try" >/dev/null 2>&1; then
        mv "$1.try" "$1"
    else
        rm -f "$1.try"
    fi
}
GROUP=fault-$$
write_config "$BR_TMP/fault.yaml" "$BR_BOOTSTRAP" "$GROUP" "$BR_TMP/state-fault"
write_config "$BR_TMP/ref.yaml" "$REF_BOOTSTRAP" "$GROUP-ref" "$BR_TMP/state-ref"
"$BURNRATE" check-config "$BR_TMP/fault.yaml" >/dev/null 2>"$BR_TMP/check.err" ||
    { cat "$BR_TMP/check.err" >&2; br_die "config refused"; }
grep -q snapshot_interval "$BR_TMP/fault.yaml" && say "state.snapshot_interval: 1s"
br_broker_cmd "coordinator group $GROUP 1" || br_die "cannot place the coordinator"

start_run() {  # NAME CONFIG -> RUN_PID
    "$BURNRATE" run --config "$2" --log-level info >"$BR_TMP/$1.out" 2>"$BR_TMP/$1.err" &
    RUN_PID=$!
    br_track "$RUN_PID"
}
start_run fault "$BR_TMP/fault.yaml"; FAULT_PID=$RUN_PID
start_run ref "$BR_TMP/ref.yaml"; REF_PID=$RUN_PID
assigned() { kill -0 "$2" 2>/dev/null || return 3; grep -q 'msg="partitions assigned" count=1' "$BR_TMP/$1.err"; }
br_wait_for "faulted run joins" 30 assigned fault "$FAULT_PID" ||
    { cat "$BR_TMP/fault.err" >&2; br_die "faulted run never got its partition"; }
br_wait_for "reference run joins" 30 assigned ref "$REF_PID" ||
    { cat "$BR_TMP/ref.err" >&2; br_die "reference run never got its partition"; }

# --- Feeder and progress sampler -----------------------------------------
"${FAULTKIT[@]}" sample --group "$GROUP" --topic fault.in --out "$BR_TMP/samples" \
    --stop "$BR_TMP/stop-sampler" "$BR_BOOTSTRAP" 2>"$BR_TMP/sampler.err" &
SAMPLER_PID=$!
br_track "$SAMPLER_PID"
# The feed holds before the spike until the Produce-error phase begins, so
# the alerts of the spike meet the Produce errors whatever the timing.
"${FAULTKIT[@]}" feed --rate "$RATE" --file "$BR_TMP/input.jsonl" --topic fault.in \
    --status "$BR_TMP/feed.status" --hold "$SPIKE_FROM:$BR_TMP/release-feed" \
    "$BR_BOOTSTRAP" "$REF_BOOTSTRAP" 2>"$BR_TMP/feed.err" &
FEED_PID=$!
br_track "$FEED_PID"
say "feeding $N events at $RATE/s into fault.in on both clusters (faulted: $BR_BOOTSTRAP)"

PHASES=$BR_TMP/phases
phase() { echo "$(now_ms) $1" >>"$PHASES"; say "phase: $1"; }
fed() { sed -n 's/^sent=\([0-9]*\).*/\1/p' "$BR_TMP/feed.status" 2>/dev/null || echo 0; }
# committed / high of the newest answered sample
last_sample() { grep -v ' -' "$BR_TMP/samples" 2>/dev/null | tail -n1; }
alive() {
    kill -0 "$FAULT_PID" 2>/dev/null ||
        { tail -30 "$BR_TMP/fault.err" >&2; br_die "burnrate run exited during the faults"; }
}
fed_at_least() { alive; (($(fed) >= $1)); }
committed_at_least() {
    local s
    alive
    s=$(last_sample)
    [[ -n $s ]] && (($(echo "$s" | cut -d' ' -f2) >= $1))
}
# recover WHAT: wait until burnrate has committed everything handed to the
# feeder before the fault was lifted (a fresh sample), within 60 s.
caught_up_to() {
    local s t c
    alive
    s=$(last_sample)
    [[ -n $s ]] || return 1
    read -r t c _ <<<"$s"
    ((t > $1 && c >= $2))
}
recover() {
    local from
    from=$(now_ms)
    br_wait_for "burnrate to catch up after $1" 60 caught_up_to "$from" "$(fed)" ||
        { last_sample >&2; tail -30 "$BR_TMP/fault.err" >&2; br_die "no recovery after $1"; }
}
# run_for SECONDS: stay in the phase, checking burnrate is alive.
run_for() {
    local end=$(($(now_ms) + $1 * 1000))
    while (($(now_ms) < end)); do alive; sleep 0.2; done
}
# keep_pending SECONDS BROKER "API ERR" ...: for SECONDS keep one error of
# each API queued on BROKER (refilled as requests use them up, the errors
# given in turn); INJECTED counts the errors that requests met.
declare -A INJECTED=() TURN=()
keep_pending() {
    local secs=$1 broker=$2 end spec api err left
    shift 2
    end=$(($(now_ms) + secs * 1000))
    while (($(now_ms) < end)); do
        alive
        for spec in "$@"; do
            read -r api err <<<"$spec"
            br_broker_cmd "pending $broker $api" || br_die "pending"
            left=${BR_BROKER_ANSWER##*: }
            if ((left == 0)); then
                local errs=(${err//,/ }) i=${TURN[$api]:-0}
                br_broker_cmd "broker-errors $broker $api 1 ${errs[i % ${#errs[@]}]}" || br_die "inject"
                TURN[$api]=$((i + 1))
                INJECTED[$api]=$((${INJECTED[$api]:-0} + 1))
            fi
        done
        sleep 0.2
    done
}
# drain BROKER API...: wait (10 s at most) until the errors still queued are
# used up, so they do not leak into the next phase; uncounted if they stay.
drain() {
    local broker=$1 api left
    shift
    for api in "$@"; do
        _left() { br_broker_cmd "pending $1 $2" && left=${BR_BROKER_ANSWER##*: } && ((left == 0)); }
        if ! br_wait_for "$api errors used up" 10 _left "$broker" "$api"; then
            INJECTED[$api]=$((${INJECTED[$api]:-0} - left))
            say "  $left $api error(s) left unused on broker $broker"
        fi
    done
}

# --- Phases ----------------------------------------------------------------
phase "baseline"
br_wait_for "feed under way" 30 fed_at_least 1500 || br_die "feeder stuck: $(cat "$BR_TMP/feed.err")"

phase "all brokers down ${DOWN_S}s"
br_broker_cmd "down all" || br_die "down all"
run_for "$DOWN_S"
br_broker_cmd "up all" || br_die "up all"
phase "recovery after brokers up"
recover "the brokers came back"

phase "Fetch errors"
keep_pending "$PHASE_S" 1 "Fetch NOT_LEADER_FOR_PARTITION,REQUEST_TIMED_OUT,UNKNOWN_TOPIC_OR_PART"
drain 1 Fetch
recover "Fetch errors"

phase "OffsetCommit errors"
keep_pending "$PHASE_S" 1 "OffsetCommit COORDINATOR_NOT_AVAILABLE,REQUEST_TIMED_OUT,COORDINATOR_LOAD_IN_PROGRESS,NOT_COORDINATOR"
drain 1 OffsetCommit
recover "OffsetCommit errors"

phase "group errors (rebalances)"
# Heartbeat errors force rejoins, which meet JoinGroup/SyncGroup errors.
keep_pending $((PHASE_S * 2)) 1 "JoinGroup COORDINATOR_LOAD_IN_PROGRESS,NOT_COORDINATOR" \
    "SyncGroup REBALANCE_IN_PROGRESS" \
    "Heartbeat REBALANCE_IN_PROGRESS,NOT_COORDINATOR,UNKNOWN_MEMBER_ID,ILLEGAL_GENERATION"
drain 1 Heartbeat JoinGroup SyncGroup
recover "group errors"

phase "coordinator moves"
br_broker_cmd "errors FindCoordinator 3 COORDINATOR_NOT_AVAILABLE" || br_die "inject"
br_broker_cmd "coordinator group $GROUP 2" || br_die "move coordinator"
run_for "$PHASE_S"
br_broker_cmd "errors FindCoordinator 3 COORDINATOR_NOT_AVAILABLE" || br_die "inject"
br_broker_cmd "coordinator group $GROUP 3" || br_die "move coordinator"
run_for "$PHASE_S"
br_broker_cmd "clear FindCoordinator" || true
recover "coordinator moves"

phase "latency 400ms"
br_broker_cmd "rtt all 400" || br_die "rtt"
run_for $((PHASE_S + 2))
br_broker_cmd "rtt all 0" || br_die "rtt"
recover "latency"

phase "leader failover"
br_broker_cmd "down 1" && br_broker_cmd "leader fault.in 0 3" || br_die "failover"
run_for "$PHASE_S"
br_broker_cmd "up 1" && br_broker_cmd "leader fault.in 0 1" || br_die "failback"
recover "the leader failover"

phase "quiet"
br_wait_for "burnrate at the spike" 120 committed_at_least "$SPIKE_FROM" || br_die "never reached the spike"

# The spike's first alerts meet Produce errors, later ones are made while
# the alert broker is down. Produce errors are spaced and bounded: offsets follow snapshots, which
# wait for the producer, so errors injected without end would only measure
# how long this script keeps injecting them.
# produce_errors TARGET_OFFSET: until burnrate commits TARGET_OFFSET, inject
# one Produce error on broker 2 at most every second, at most 6 in all.
produce_errors() {
    local n=0 last=0 left errs=(NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT NOT_ENOUGH_REPLICAS)
    while ! committed_at_least "$1"; do
        (($(now_ms) < t_end)) || br_die "burnrate never committed offset $1 (Produce errors)"
        if ((n < 6 && $(now_ms) - last >= 1000)); then
            br_broker_cmd "pending 2 Produce" || br_die "pending"
            left=${BR_BROKER_ANSWER##*: }
            if ((left == 0)); then
                br_broker_cmd "broker-errors 2 Produce 1 ${errs[n % 3]}" || br_die "inject"
                n=$((n + 1)) last=$(now_ms)
                INJECTED[Produce]=$((${INJECTED[Produce]:-0} + 1))
            fi
        fi
        sleep 0.2
    done
}
phase "Produce errors (alert broker)"
touch "$BR_TMP/release-feed"
t_end=$(($(now_ms) + 300000))
produce_errors "$SPIKE_MID"
drain 2 Produce

phase "alert broker down"
br_broker_cmd "down 2" || br_die "down 2"
run_for $((PHASE_S + 1))
br_broker_cmd "up 2" || br_die "up 2"
phase "after alert broker up"
recover "the alert broker came back"

phase "tail"
feed_rc=0
wait "$FEED_PID" || feed_rc=$?
((feed_rc == 0)) || { cat "$BR_TMP/feed.status" "$BR_TMP/feed.err" >&2; br_die "the feeder lost input (see above)"; }
say "feeder done: $(cat "$BR_TMP/feed.status")"
caught() { alive; "${FAULTKIT[@]}" caught-up "$1" "$2" fault.in "$N"; }
br_wait_for "faulted run commits all $N" 90 caught "$BR_BOOTSTRAP" "$GROUP" ||
    { last_sample >&2; tail -30 "$BR_TMP/fault.err" >&2; br_die "faulted run did not catch up"; }
br_wait_for "reference run commits all $N" 60 caught "$REF_BOOTSTRAP" "$GROUP-ref" ||
    br_die "reference run did not catch up"
phase "caught up"
touch "$BR_TMP/stop-sampler"

# --- Stop both, gather, compare -------------------------------------------
stop_run() {  # NAME PID
    local rc=0 end=$(($(now_ms) + 30000))
    kill -TERM "$2"
    while kill -0 "$2" 2>/dev/null; do
        (($(now_ms) < end)) || br_die "$1 run did not exit within 30 s of SIGTERM"
        sleep 0.05
    done
    wait "$2" || rc=$?
    ((rc == 0)) || { tail -20 "$BR_TMP/$1.err" >&2; br_die "$1 run exit code $rc"; }
}
stop_run fault "$FAULT_PID"
stop_run ref "$REF_PID"
wait "$SAMPLER_PID" || true

"${FAULTKIT[@]}" dump "$BR_BOOTSTRAP" fault.alerts "$BR_TMP/fault.alerts" || br_die "dump faulted alerts"
"${FAULTKIT[@]}" dump "$REF_BOOTSTRAP" fault.alerts "$BR_TMP/ref.alerts" ||
    br_die "dump reference alerts"
SNAPS=()
if ((SNAPSHOTS)); then
    "$BURNRATE" snapshot show "$BR_TMP/state-fault" >"$BR_TMP/fault.snap" || br_die "snapshot show (faulted)"
    "$BURNRATE" snapshot show "$BR_TMP/state-ref" >"$BR_TMP/ref.snap" || br_die "snapshot show (reference)"
    SNAPS=("$BR_TMP/fault.snap" "$BR_TMP/ref.snap")
fi

echo "== it_fault: $N events at $RATE/s, brokers down ${DOWN_S}s, phases of ${PHASE_S}s$( ((FULL)) && echo ' (FULL)')"
if ((INFLIGHT == 1)); then
    echo "burnrate's producer ran with max.in.flight.requests.per.connection=1: with more in"
    echo "flight, librdkafka 2.0.2's mock cluster may drop an acknowledged message under"
    echo "injected Produce errors (issue 3), which would show here as a missing alert."
else
    echo "WARNING: burnrate's producer ran with max.in.flight.requests.per.connection=$INFLIGHT:"
    echo "librdkafka 2.0.2's mock cluster may then drop an acknowledged message under injected"
    echo "Produce errors (issue 3); a missing alert below may be that defect, and still fails."
fi
printf 'request errors met by burnrate:'
for api in "${!INJECTED[@]}"; do printf ' %s=%d' "$api" "${INJECTED[$api]}"; done
echo " FindCoordinator=2x3 (cluster-wide)"
"${FAULTKIT[@]}" stalls "$PHASES" "$BR_TMP/samples"
echo "burnrate warnings and errors (faulted run), by message:"
grep -E 'level=(warn|error)' "$BR_TMP/fault.err" | sed -n 's/.*msg=\("[^"]*"\|[^ ]*\).*/\1/p' |
    sort | uniq -c | sort -rn | sed 's/^/  /' || true
rc=0
"${FAULTKIT[@]}" compare "$BR_TMP/fault.err" "$BR_TMP/ref.err" "$BR_TMP/fault.alerts" \
    "$BR_TMP/ref.alerts" "$N" "${SNAPS[@]}" || rc=$?
((${INJECTED[Produce]:-0} > 0)) || { echo "MISMATCH: no Produce error reached burnrate's producer"; rc=1; }
((${INJECTED[Fetch]:-0} > 0)) || { echo "MISMATCH: no Fetch error reached burnrate"; rc=1; }
echo "wall time: $(( ($(now_ms) - T0) / 1000 )) s"
((rc == 0)) || br_die "the faulted run differs from the reference (see above)"
echo "PASS: no loss, no double counting under faults"
