#!/usr/bin/env bash
# SIGHUP reload of `burnrate run` against the embedded broker: a broken
# config and one that changes kafka.brokers are refused with one error line
# naming FILE:LINE: KEY while the stage runs on unchanged; a good config that
# adds a scope, removes one and changes a budget amount is applied, and a
# snapshot taken after it shows the old series kept their totals, the new
# scope counts only what came after, the removed scope is gone, and every
# message was counted exactly once. Every wait polls against a deadline.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
PY=/usr/bin/python3

br_tmp_init
br_broker_start --topics llm.usage,burnrate.alerts,burnrate.dlq --partitions 1 ||
    br_die "broker did not start"

CONF=$BR_TMP/burnrate.yaml
# write_config SCOPES BUDGET_AMOUNT [EXTRA]: the whole file, rewritten in place.
write_config() {
    cat >"$CONF" <<EOF
inputs:
  - name: usage
    topic: llm.usage
    dialect: custom
    mapping:
      time: ts
      cost: cost
      dims: {team: team, model: model}
scopes:
$1
budgets:
  - name: all
    amount: $2
    period: month
kafka:
  brokers: ${4:-$BR_BOOTSTRAP}
  group_id: burnrate-it-reload
  consumer_properties:
    session.timeout.ms: 6000
    heartbeat.interval.ms: 500
state:
  dir: $BR_TMP/state
  snapshot_interval: 200ms
${3:-}
EOF
}
SCOPES_A='  - name: total
  - {name: team, dims: [team]}
  - {name: model, dims: [model]}'
SCOPES_B='  - name: total
  - {name: team, dims: [team]}
  - {name: team_model, dims: [team, model]}'

produce() { # lines of "team model cost"
    local f=$BR_TMP/events.jsonl team model cost
    : >"$f"
    while read -r team model cost; do
        printf '{"ts":"2025-03-03T%02d:00:00Z","cost":%s,"team":"%s","model":"%s"}\n' \
            $((SENT % 24)) "$cost" "$team" "$model" >>"$f"
        SENT=$((SENT + 1))
    done
    kcat -b "$BR_BOOTSTRAP" -P -t llm.usage -p 0 -l "$f"
}
SENT=0

# q EXPR: evaluate a Python expression over the newest snapshot as `s`
# (series as a {(scope, labels): total} dict `t`), print the result.
q() {
    "$BURNRATE" snapshot show "$BR_TMP/state" 2>/dev/null | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
t = {(x["scope"], json.dumps(x["labels"], sort_keys=True)): x["total"] for x in s["series"]}
print(eval(sys.argv[1]))' "$1" 2>/dev/null
}
snap_ok_is() { [[ $(q 's["stats"]["ok"]') == "$1" ]]; }
log_count() { grep -c -- "$1" "$BR_TMP/run.err" || true; }
log_has() { grep -q -- "$1" "$BR_TMP/run.err"; }
alive() { kill -0 "$RUN_PID" 2>/dev/null; }
n_lines_with() { [[ $(log_count "$1") -ge $2 ]]; }

write_config "$SCOPES_A" 100
"$BURNRATE" run --config "$CONF" --log-level debug >"$BR_TMP/run.out" 2>"$BR_TMP/run.err" &
RUN_PID=$!
br_track "$RUN_PID"
br_wait_for "partitions assigned" 20 log_has 'msg="partitions assigned"' ||
    { cat "$BR_TMP/run.err" >&2; br_die "run never joined the group"; }

# 1. Before any reload: 4 events, 18.50 in all.
produce <<EOF
ml gpt-4o 10
ml claude 5
web gpt-4o 2.5
web claude 1
EOF
br_wait_for "a snapshot covering 4 events" 20 snap_ok_is 4 ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "the 4 events were not snapshotted"; }
BEFORE=$("$BURNRATE" snapshot show "$BR_TMP/state" | "$PY" -c '
import json, sys; s = json.load(sys.stdin); print(json.dumps(s["series"], sort_keys=True))')

# 2. A broken config: refused with file, line and key; the stage goes on.
write_config "$SCOPES_B" lots
kill -HUP "$RUN_PID"
br_wait_for "broken config refused" 10 n_lines_with 'msg="reload refused; the running configuration stays"' 1 ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "the broken config was not refused"; }
grep 'reload refused' "$BR_TMP/run.err" | grep -q "$CONF:15: budgets\[0\].amount: " ||
    { grep 'reload refused' "$BR_TMP/run.err" >&2; br_die "the refusal does not name FILE:LINE: KEY"; }
alive || br_die "run died on a broken config"

# 3. A config that changes what needs a restart: refused, naming the key.
write_config "$SCOPES_B" 200 "" "127.0.0.1:1"
kill -HUP "$RUN_PID"
br_wait_for "brokers change refused" 10 n_lines_with 'msg="reload refused; the running configuration stays"' 2 ||
    br_die "the brokers change was not refused"
grep 'reload refused' "$BR_TMP/run.err" | tail -1 | grep -q "$CONF:[0-9]*: kafka.brokers: changed" ||
    { grep 'reload refused' "$BR_TMP/run.err" >&2; br_die "the refusal does not name kafka.brokers"; }
alive || br_die "run died on a refused reload"
log_has 'msg="configuration reloaded"' && br_die "a refused config was applied"

# The state is what it was: one more event still counts under the old scopes.
produce <<EOF
web claude 0.5
EOF
br_wait_for "a snapshot covering 5 events" 20 snap_ok_is 5 ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "the 5th event was not snapshotted"; }
[[ $(q 't[("model", "{\"model\": \"claude\"}")]') == 6.50 ]] ||
    br_die "after refusals the model scope lost data: $(q 't')"

# 4. A good config: team_model added, model removed, the budget doubled.
write_config "$SCOPES_B" 200
kill -HUP "$RUN_PID"
br_wait_for "config reloaded" 10 log_has 'msg="configuration reloaded"' ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "the good config was not applied"; }
LINE=$(grep 'msg="configuration reloaded"' "$BR_TMP/run.err")
for kv in series_kept=3 series_dropped=2 scopes=3 scopes_added=1 scopes_removed=1 \
    budgets_changed=1 budgets_restarted=0; do
    [[ " $LINE " == *" $kv "* ]] || br_die "reload line lacks $kv: $LINE"
done

produce <<EOF
ml gpt-4o 1
web claude 0.25
EOF
br_wait_for "a snapshot covering 7 events" 20 snap_ok_is 7 ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "the events after the reload were not snapshotted"; }

check() { # EXPR WANT
    local got
    got=$(q "$1")
    [[ $got == "$2" ]] || br_die "$1: got $got, want $2"
}
# Sent: 10 + 5 + 2.5 + 1 + 0.5 + 1 + 0.25 = 20.25, each counted once.
check 's["stats"]["messages"]' 7
check 's["stats"]["ok"]' 7
check 't[("total", "{}")]' 20.25
check 't[("team", "{\"team\": \"ml\"}")]' 16.00
check 't[("team", "{\"team\": \"web\"}")]' 4.25
# The new scope holds only what came after the reload.
check 'sorted(v for (sc, l), v in t.items() if sc == "team_model")' "['0.25', '1.00']"
check 't[("team_model", "{\"model\": \"gpt-4o\", \"team\": \"ml\"}")]' 1.00
check 't[("team_model", "{\"model\": \"claude\", \"team\": \"web\"}")]' 0.25
# The removed scope is gone.
check 'len([1 for (sc, l) in t if sc == "model"])' 0
# The budget kept its period and spend under the new amount.
check '[p["spent"] for b in s["budgets"] if b["name"] == "all" for p in b["periods"]][-1]' 20.25
check 'sum(o["offset"] for o in s["offsets"])' 7

kill -TERM "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
((rc == 0)) || { tail -20 "$BR_TMP/run.err" >&2; br_die "exit code $rc after SIGTERM"; }
echo "it_reload: OK ($BEFORE)" | cut -c1-200
