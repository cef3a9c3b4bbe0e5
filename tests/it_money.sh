#!/usr/bin/env bash
# Money beyond int64 end to end (issue 14, item 7): two records of
# "cost": "9000000000" (9e18 nanos each) used to wrap the total to
# -446744072.71 USD with exit status 0. Through `burnrate replay` (summary,
# alerts, dead letters) and through `burnrate run` (`snapshot show` of its
# state), the total is exactly 18000000000.00 USD, the budget's spend is
# exact, and a record beyond the 9e9 per-record bound is a RANGE dead letter.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
PY=/usr/bin/python3
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
br_tmp_init
T=$BR_TMP

cat >"$T/money.jsonl" <<'EOF'
{"ts":"2025-03-01T10:00:00Z","team":"ml","cost":"9000000000"}
{"ts":"2025-03-01T10:01:00Z","team":"ml","cost":"9000000000.000000001"}
{"ts":"2025-03-01T10:02:00Z","team":"ml","cost":"9000000000"}
EOF

write_config() { # FILE [kafka lines...]
    local f=$1
    shift
    cat >"$f" <<EOF
currency: USD
inputs:
  - name: usage
    dialect: custom
    topic: usage
    files: [$T/money.jsonl]
    mapping:
      time: ts
      cost: cost
      dims:
        team: team
scopes:
  - name: total
    dims: []
  - name: team
    dims: [team]
budgets:
  - name: big
    match: {team: ml}
    amount: 9000000000
    period: day
    thresholds: [100, 200, 300]
EOF
    printf '%s\n' "$@" >>"$f"
}

# 1. Replay: exit 0, the exact total, one RANGE dead letter naming the bound.
write_config "$T/replay.yaml"
rc=0
"$BURNRATE" replay --config "$T/replay.yaml" --output "$T/alerts.jsonl" \
    --dead-letters "$T/dead.jsonl" 2>"$T/summary.txt" || rc=$?
((rc == 0)) || { cat "$T/summary.txt" >&2; br_die "replay exit status $rc"; }
grep -q '^  money counted 18000000000.00 USD$' "$T/summary.txt" ||
    { cat "$T/summary.txt" >&2; br_die "summary: money counted"; }
grep -q 'messages 3, ok 2, skipped 0, dead letters 1 (RANGE 1)' "$T/summary.txt" ||
    { cat "$T/summary.txt" >&2; br_die "summary: counts"; }
$PY - "$T/dead.jsonl" <<'EOF' || br_die "dead letter"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
assert len(d) == 1, d
assert d[0]["reason"] == "RANGE", d
assert "per-record bound" in d[0]["detail"], d
assert d[0]["offset"] == 2, d  # the second line
EOF
# The budget fired 100 % then 200 % with the spend exact (money is a JSON
# number: read it as a decimal, never a double); 300 % never.
$PY - "$T/alerts.jsonl" <<'EOF' || br_die "budget alerts"
import json, sys
from decimal import Decimal
alerts = [json.loads(l, parse_float=Decimal) for l in open(sys.argv[1])]
b = [a for a in alerts if a["type"] == "budget_threshold" and a["status"] == "firing"]
got = sorted((a["alertThresholdExceeded"], a["costAmount"]) for a in b)
want = [(Decimal("1.0000"), Decimal("9000000000.00")),
        (Decimal("2.0000"), Decimal("18000000000.00"))]
assert got == want, got
EOF

# 2. run: the same records from Kafka; the snapshot keeps every digit.
br_broker_start --topics usage,burnrate.alerts,burnrate.dlq --partitions 1 ||
    br_die "broker did not start"
STATE=$T/state
write_config "$T/run.yaml" \
    "kafka:" \
    "  brokers: $BR_BOOTSTRAP" \
    "  group_id: it-money" \
    "state:" \
    "  dir: $STATE" \
    "  snapshot_interval: 200ms"
kcat -b "$BR_BOOTSTRAP" -P -t usage -p 0 <"$T/money.jsonl"
"$BURNRATE" run --config "$T/run.yaml" >"$T/run.out" 2>"$T/run.err" &
RUN_PID=$!
br_track "$RUN_PID"
covered() { # the newest snapshot has taken all three messages
    "$BURNRATE" snapshot show "$STATE" 2>/dev/null | $PY -c '
import json, sys
sys.exit(0 if json.load(sys.stdin)["stats"]["messages"] == 3 else 1)'
}
br_wait_for "a snapshot covering the three messages" 60 covered ||
    { tail -20 "$T/run.err" >&2; br_die "no snapshot"; }
kill -TERM "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
((rc == 0)) || { tail -20 "$T/run.err" >&2; br_die "run exit status $rc"; }
"$BURNRATE" snapshot show "$STATE" >"$T/show.json" || br_die "snapshot show"
$PY - "$T/show.json" <<'EOF' || { cat "$T/show.json" >&2; br_die "snapshot show money"; }
import json, sys
s = json.load(open(sys.argv[1]))
assert s["stats"]["total"] == "18000000000.00", s["stats"]
assert s["stats"]["dead_letters"] == 1, s["stats"]
tot = {(x["scope"], json.dumps(x["labels"])): x["total"] for x in s["series"]}
assert tot[("total", "{}")] == "18000000000.00", tot
assert tot[("team", '{"team": "ml"}')] == "18000000000.00", tot
spent = [p["spent"] for b in s["budgets"] for p in b["periods"]]
assert spent == ["18000000000.00"], spent
EOF
grep -q 'total=18000000000.00\|18000000000.00 USD' "$T/run.err" ||
    br_log "note: no stats line with the total in the run log"
br_log "ok"
