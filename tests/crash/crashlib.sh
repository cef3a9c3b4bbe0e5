# shellcheck shell=bash
# The crash test (issue 3), shared by scripts/crashtest and tests/it_crash.sh:
# burnrate run is SIGKILLed at random moments while a workload with a known
# spike and budget breaches streams in, restarted each time, then allowed to
# finish; its final state and alerts must equal a crash-free run's. Source it
# from bash and call crash_main with the command line.

CRASH_USAGE="usage: crashtest [--kills N] [--seed S] [--keep]

Produces burnrate-gen's two-day OTel token workload (a spike on the second
day, budgets that cross 50/80/100%) into the embedded broker while burnrate
run is SIGKILLed N times at random moments (default 200) and restarted on
the same state directory and consumer group; then a last run finishes and a
crash-free run over the same topic is the reference. Prints runs, kills,
lost and double-counted events and money, missing and extra alert ids,
duplicate alert messages and final-revision mismatches; exits 1 when any
of those that must be 0 is not.

  --kills N   SIGKILLs (default 200)
  --seed S    seed of the workload and of the kill schedule (default: random)
  --keep      keep the scratch directory (logs, state, dumps)

Environment: BR_BIN (directory with burnrate, burnrate-broker, burnrate-gen;
default build/test or build of the checkout), BR_DATA (price table
directory; default scripts/data of the checkout)."

CRASH_PY=/usr/bin/python3
# Share of the workload produced while kills happen; the rest comes after
# the last kill, for the final run to read.
CRASH_SPLIT_PERCENT=85
# Probability (percent) that a kill is aimed before partition assignment.
CRASH_EARLY_PERCENT=20
# After assignment a kill lands uniformly within this many milliseconds.
CRASH_MAX_DELAY_MS=2500
# Probability (percent) that a kill after assignment is aimed inside a
# snapshot write (the moment its temporary file exists), and that one is
# aimed just after a snapshot's rename (before its offsets are committed).
CRASH_IN_WRITE_PERCENT=${CRASH_IN_WRITE_PERCENT:-15}
CRASH_AFTER_RENAME_PERCENT=${CRASH_AFTER_RENAME_PERCENT:-10}

crash_say() {
    printf 'crashtest: %s\n' "$*" >&2
}

# crash_fail MESSAGE: say why, where the evidence is, and exit 1 (the trap
# of kafka_util.sh stops every child and keeps the scratch directory).
crash_fail() {
    trap - ERR
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# crash_rand_ms MAX: a uniform integer in [0, MAX] from the seeded RANDOM.
crash_rand_ms() {
    echo $(((RANDOM * 32768 + RANDOM) % ($1 + 1)))
}

crash_sleep_ms() {
    sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

crash_now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# crash_render OUT GROUP ALERTS STATE INTERVAL: a burnrate config from the
# template.
crash_render() {
    local out=$1 group=$2 alerts=$3 state=$4 interval=$5
    sed -e "s|@TOPIC@|$CRASH_TOPIC|g" -e "s|@BR_DATA@|$BR_DATA|g" \
        -e "s|@GROUP@|$group|g" -e "s|@ALERTS@|$alerts|g" \
        -e "s|@DLQ@|$CRASH_DLQ|g" -e "s|@STATE@|$state|g" \
        -e "s|@SNAPSHOT_INTERVAL@|$interval|g" \
        -e "s|@DAILY_AMOUNT@|$CRASH_DAILY_AMOUNT|g" \
        -e "s|@MONTHLY_AMOUNT@|$CRASH_MONTHLY_AMOUNT|g" \
        "$CRASH_DIR/crash.yaml.in" >"$out"
}

# crash_config OUT GROUP ALERTS STATE INTERVAL: crash_render, without the
# snapshot-only lines when burnrate refuses them, checked.
crash_config() {
    crash_render "$@"
    if ((CRASH_HAVE_SNAPSHOTS == 0)); then
        sed -i '/snapshot-only/d' "$1"
    fi
    "$BR_BIN/burnrate" check-config "$1" >/dev/null 2>"$1.err" ||
        crash_fail "config $1 refused: $(cat "$1.err")"
}

# crash_start CONFIG LOG: start burnrate run in the background; sets RUN_PID.
crash_start() {
    "$BR_BIN/burnrate" run --config "$1" --brokers "$BR_BOOTSTRAP" \
        >/dev/null 2>"$2" &
    RUN_PID=$!
    br_track "$RUN_PID"
}

_crash_assigned() {
    grep -q 'msg="partitions assigned"' "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 3
    return 1
}

_crash_exited() {
    ! kill -0 "$1" 2>/dev/null
}

# crash_finish PID LOG WHAT: SIGTERM, wait for a clean exit (status 0).
crash_finish() {
    local pid=$1 log=$2 what=$3 rc=0 deadline
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null &&
        crash_fail "$what did not exit within 30 s of SIGTERM; log $log"
    wait "$pid" || rc=$?
    ((rc == 0)) || crash_fail "$what exited $rc after SIGTERM: $(tail -3 "$log")"
}

# crash_state STATE_DIR LOG OUT: the final state as JSON, from `burnrate
# snapshot show` when this burnrate has it, else the log's stopped line.
crash_state() {
    if ((CRASH_HAVE_SNAPSHOT_SHOW)); then
        "$BR_BIN/burnrate" snapshot show "$1" >"$3" 2>"$3.err" ||
            crash_fail "burnrate snapshot show $1: $(cat "$3.err")"
    else
        $CRASH_PY "$CRASH_TOOL" stopped-stats "$2" >"$3" ||
            crash_fail "no stats in $2"
    fi
}

crash_main() {
    local kills=200 seed="" keep=0
    while (($#)); do
        case $1 in
        --kills) kills=${2:?--kills needs a value}; shift 2 ;;
        --seed) seed=${2:?--seed needs a value}; shift 2 ;;
        --keep) keep=1; shift ;;
        -h | --help) echo "$CRASH_USAGE"; return 0 ;;
        *) echo "$CRASH_USAGE" >&2; return 2 ;;
        esac
    done
    [[ $kills =~ ^[0-9]+$ ]] || { echo "--kills: not a number: $kills" >&2; return 2; }
    [[ -z $seed ]] && seed=$(((RANDOM << 15 | RANDOM) % 1000000))
    [[ $seed =~ ^[0-9]+$ ]] || { echo "--seed: not a number: $seed" >&2; return 2; }
    RANDOM=$seed

    CRASH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    CRASH_ROOT=$(cd "$CRASH_DIR/../.." && pwd)
    CRASH_TOOL=$CRASH_DIR/crashtool.py
    if [[ -z ${BR_BIN:-} ]]; then
        for BR_BIN in "$CRASH_ROOT/build/test" "$CRASH_ROOT/build" ""; do
            [[ -x $BR_BIN/burnrate ]] && break
        done
        [[ -n $BR_BIN ]] || { echo "no burnrate in build/test or build: build first or set BR_BIN" >&2; return 1; }
    fi
    local b
    for b in burnrate burnrate-broker burnrate-gen; do
        [[ -x $BR_BIN/$b ]] || { echo "$BR_BIN/$b missing: build first" >&2; return 1; }
    done
    BR_DATA=${BR_DATA:-$CRASH_ROOT/scripts/data}
    [[ -f $BR_DATA/litellm_model_prices.json ]] ||
        { echo "no litellm_model_prices.json in $BR_DATA: set BR_DATA" >&2; return 1; }

    # shellcheck source=tests/kafka_util.sh
    source "$CRASH_ROOT/tests/kafka_util.sh"
    ((keep)) && BR_KEEP_TMP=1
    br_tmp_init
    local T=$BR_TMP
    # Nothing fails silently: a command that stops the script says which.
    set -E
    trap 'crash_fail "unexpected failure (status $?) at line $LINENO of crashlib.sh: $BASH_COMMAND"' ERR
    local t_start=$SECONDS

    CRASH_TOPIC=crash.usage
    CRASH_DLQ=crash.dlq
    # Set from a crash-free run of the two-day workload (~$390 in all, ~$105
    # on the first day, ~$280 on the second with the spike, ml-research
    # ~$330): both budgets cross 50, 80 and 100%.
    CRASH_DAILY_AMOUNT=90
    CRASH_MONTHLY_AMOUNT=250
    CRASH_HAVE_SNAPSHOTS=1
    CRASH_HAVE_SNAPSHOT_SHOW=1
    "$BR_BIN/burnrate" --help 2>&1 | grep -q 'snapshot show' || CRASH_HAVE_SNAPSHOT_SHOW=0

    # Does this burnrate know state.snapshot_interval?
    crash_render "$T/probe.yaml" probe probe "$T/probe" 300ms
    if ! "$BR_BIN/burnrate" check-config "$T/probe.yaml" >/dev/null 2>&1; then
        CRASH_HAVE_SNAPSHOTS=0
        crash_say "this burnrate refuses state.snapshot_interval: running without snapshots (expect FAIL)"
    fi
    ((CRASH_HAVE_SNAPSHOT_SHOW)) ||
        crash_say "this burnrate has no 'snapshot show': comparing the last run's stopped line (expect FAIL)"

    # The workload: burnrate-gen's OTel stream only, one ordered stream.
    mkdir -p "$T/gen"
    "$BR_BIN/burnrate-gen" --out "$T/gen" --days 2 --seed "$seed" \
        --openai-topic '' --litellm-topic '' --billing-topic '' 2>"$T/gen.log" ||
        crash_fail "burnrate-gen: $(cat "$T/gen.log")"
    local total split
    total=$(wc -l <"$T/gen/tokens.jsonl")
    split=$((total * CRASH_SPLIT_PERCENT / 100))
    crash_say "seed $seed, $kills kills, workload $total OTel events ($(grep -o 'injected spike.*' "$T/gen.log"))"

    br_broker_start --topics "$CRASH_TOPIC,crash.alerts,crash.alerts.ref,$CRASH_DLQ" --partitions 1 ||
        crash_fail "embedded broker did not start"

    crash_config "$T/crash.yaml" crash crash.alerts "$T/state" 200ms
    crash_config "$T/ref.yaml" crash-ref crash.alerts.ref "$T/state-ref" 1s

    # Production is paced to the kills: the gate file says how many lines
    # may be out; each assignment opens the next share, produced over about
    # 2.5 s (the window the kill lands in) so that most kills land while
    # records stream in.
    local per_kill=$(((split + kills) / (kills > 0 ? kills : 1)))
    local rate=$((per_kill * 2 / 5))
    ((rate < 20)) && rate=20
    echo 0 >"$T/gate"
    $CRASH_PY "$CRASH_TOOL" produce "$BR_BOOTSTRAP" "$CRASH_TOPIC" "$T/gen/tokens.jsonl" \
        0 "$split" --rate "$rate" --gate "$T/gate" 2>"$T/produce1.log" &
    local prod_pid=$!
    br_track "$prod_pid"

    # The kill loop.
    local k early=0 late=0 in_write=0 after_rename=0 runs=0 log rc aim how
    mkdir -p "$T/logs"
    for ((k = 1; k <= kills; k++)); do
        log=$T/logs/run-$k.log
        rc=0
        crash_start "$T/crash.yaml" "$log"
        runs=$((runs + 1))
        if (($(crash_rand_ms 99) < CRASH_EARLY_PERCENT)); then
            # Aimed before assignment: during start-up, snapshot load or
            # the group join.
            crash_sleep_ms "$(crash_rand_ms 3000)"
        else
            br_wait_for "partition assignment in run $k" 60 _crash_assigned "$log" "$RUN_PID" ||
                crash_fail "run $k got no partitions: $(tail -3 "$log")"
            echo $((split * k / kills)) >"$T/gate"
            aim=$(crash_rand_ms 99)
            if ((aim < CRASH_IN_WRITE_PERCENT + CRASH_AFTER_RENAME_PERCENT)); then
                how=kill-in-write
                ((aim < CRASH_IN_WRITE_PERCENT)) || how=kill-after-rename
                crash_sleep_ms "$(crash_rand_ms 1000)"
                # Killed by the tool when it catches a write in progress;
                # reaped at once, inside the group, so that bash's job
                # notice ("Killed") goes nowhere.
                {
                    if $CRASH_PY "$CRASH_TOOL" "$how" "$T/state" "$RUN_PID" 2 \
                        2>>"$T/kill-aimed.err"; then
                        wait "$RUN_PID" || rc=$?
                        [[ $how == kill-after-rename ]] && after_rename=$((after_rename + 1))
                    fi
                } 2>/dev/null
            else
                crash_sleep_ms "$(crash_rand_ms "$CRASH_MAX_DELAY_MS")"
            fi
        fi
        if grep -q 'msg="partitions assigned"' "$log"; then
            late=$((late + 1))
        else
            early=$((early + 1))
        fi
        if ((rc == 0)); then
            # Not reaped yet: SIGKILL it (if it is still there).
            kill -KILL "$RUN_PID" 2>/dev/null || true
            wait "$RUN_PID" 2>/dev/null || rc=$?
        fi
        ((rc == 137)) ||
            crash_fail "run $k ended with status $rc, not by SIGKILL: $(tail -3 "$log")"
        # A kill inside a snapshot write leaves a temporary file, which the
        # next start removes and never loads.
        if compgen -G "$T/state/*.tmp" >/dev/null; then
            in_write=$((in_write + 1))
        fi
        if ((k % 10 == 0)); then
            crash_say "$k kills ($((SECONDS - t_start)) s)"
        fi
    done

    # The rest of the workload, then a last run that finishes.
    echo "$split" >"$T/gate"
    br_wait_for "the producer to finish the first part" 180 _crash_exited "$prod_pid" ||
        crash_fail "the producer did not finish: $(cat "$T/produce1.log")"
    wait "$prod_pid" || crash_fail "producer failed: $(cat "$T/produce1.log")"
    $CRASH_PY "$CRASH_TOOL" produce "$BR_BOOTSTRAP" "$CRASH_TOPIC" "$T/gen/tokens.jsonl" \
        "$split" "$total" 2>"$T/produce2.log" ||
        crash_fail "producer failed: $(cat "$T/produce2.log")"
    local lo_hi
    lo_hi=$($CRASH_PY -c '
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "crash-wm"})
lo, hi = c.get_watermark_offsets(TopicPartition(sys.argv[2], 0), timeout=10)
print(lo, hi)
c.close()' "$BR_BOOTSTRAP" "$CRASH_TOPIC")
    [[ $lo_hi == "0 $total" ]] ||
        crash_fail "input topic holds offsets [${lo_hi/ /, }), not [0, $total): the mock broker dropped records"

    log=$T/logs/run-final.log
    crash_start "$T/crash.yaml" "$log"
    local final_pid=$RUN_PID
    runs=$((runs + 1))
    crash_start "$T/ref.yaml" "$T/logs/ref.log"
    local ref_pid=$RUN_PID
    $CRASH_PY "$CRASH_TOOL" wait-caught-up "$BR_BOOTSTRAP" crash "$CRASH_TOPIC" 120 "--pid" "$final_pid" ||
        crash_fail "the final run did not catch up: $(tail -3 "$log")"
    $CRASH_PY "$CRASH_TOOL" wait-caught-up "$BR_BOOTSTRAP" crash-ref "$CRASH_TOPIC" 120 "--pid" "$ref_pid" ||
        crash_fail "the reference run did not catch up: $(tail -3 "$T/logs/ref.log")"
    crash_finish "$final_pid" "$log" "the final run"
    crash_finish "$ref_pid" "$T/logs/ref.log" "the reference run"

    # Evidence: final states and the two alert topics.
    mkdir -p "$T/cmp/ref" "$T/cmp/crash"
    crash_state "$T/state" "$log" "$T/cmp/crash/state.json"
    crash_state "$T/state-ref" "$T/logs/ref.log" "$T/cmp/ref/state.json"
    $CRASH_PY "$CRASH_TOOL" dump "$BR_BOOTSTRAP" crash.alerts "$T/cmp/crash/alerts.jsonl" ||
        crash_fail "could not read crash.alerts"
    $CRASH_PY "$CRASH_TOOL" dump "$BR_BOOTSTRAP" crash.alerts.ref "$T/cmp/ref/alerts.jsonl" ||
        crash_fail "could not read crash.alerts.ref"

    # The workload must do what it claims: a spike and budget breaches.
    $CRASH_PY "$CRASH_TOOL" workload-check "$T/cmp/ref/alerts.jsonl" 2>"$T/workload-check.err" ||
        crash_fail "the crash-free run shows $(cat "$T/workload-check.err"): the workload does not test what it should (seed $seed)"

    # burnrate replay over the same topic must agree with the run.
    "$BR_BIN/burnrate" replay --kafka --config "$T/ref.yaml" --brokers "$BR_BOOTSTRAP" \
        --output "$T/cmp/ref/replay.jsonl" 2>"$T/logs/replay.log" ||
        crash_fail "burnrate replay --kafka failed: $(tail -3 "$T/logs/replay.log")"

    local snaps
    if ((CRASH_HAVE_SNAPSHOT_SHOW)); then
        snaps=$($CRASH_PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation"])' \
            "$T/cmp/crash/state.json")
    else
        snaps=$(cat "$T"/logs/run-*.log | grep -c 'msg="snapshot written"' || true)
    fi

    # SIGKILL cannot damage a renamed snapshot: none may be rejected.
    local bad
    local bad_files
    bad=$(cat "$T"/logs/run-*.log | grep -c 'snapshot rejected' || true)
    bad_files=$(find "$T/state" -name '*.bad' 2>/dev/null | wc -l || true)
    ((bad_files > bad)) && bad=$bad_files

    # How the restarts resumed (informational; the daemon logs both).
    local restored ahead
    restored=$(cat "$T"/logs/run-*.log | grep -c 'msg="snapshot restored"' || true)
    ahead=$(cat "$T"/logs/run-*.log | grep -c 'msg="resuming from the snapshot, not the group"' || true)

    echo "crash test: seed $seed, $((SECONDS - t_start)) s, scratch $T"
    local rc=0
    $CRASH_PY "$CRASH_TOOL" compare "$T/cmp/ref" "$T/cmp/crash" \
        "runs=$runs" "kills=$kills" "kills_before_assignment=$early" \
        "kills_while_processing=$late" "kills_inside_a_snapshot_write=$in_write" \
        "kills_just_after_a_snapshot_rename=$after_rename" \
        "snapshots_written=$snaps" "!snapshots_rejected=$bad" \
        "starts_from_a_snapshot=$restored" "resumes_from_the_snapshot,_not_the_group=$ahead" || rc=$?
    if ((rc != 0)); then
        crash_fail "the crashed run differs from the crash-free run (seed $seed; logs in $T/logs, states and alerts in $T/cmp)"
    fi
    return 0
}
