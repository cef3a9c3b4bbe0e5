#!/usr/bin/env bash
# Catching up on history is processed in event-time order (issue 14): two
# days of the demo's traffic sit in topics of 1, 4 and 16 partitions before
# burnrate starts. The same records replayed from files are the reference;
# `replay --kafka` and `run` with a fresh group catching up must count
# nothing late, count the same money and fire the same alert ids (spikes,
# budgets, new spend, unpriced models).
# (Before the merge, partitions were fed one after another: a third of the
# records came in late and no spike fired.)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BR_BIN:?set BR_BIN to the build directory}"
BR_DATA=${BR_DATA:-$HERE/../scripts/data}
# shellcheck source=tests/kafka_util.sh
source "$HERE/kafka_util.sh"
PY=/usr/bin/python3
BURNRATE=$BR_BIN/burnrate
PARTS=${BR_ORDER_PARTITIONS:-1 4 16}

br_tmp_init
T=$BR_TMP
br_broker_start --partitions 1

# The records, as files (the reference) ...
mkdir -p "$T/files"
"$BR_BIN/burnrate-gen" --out "$T/files" --days 2 --unpriced 2>"$T/gen-files.log" ||
    br_die "burnrate-gen --out: $(cat "$T/gen-files.log")"

# conf P: the demo's config reading topics pP.*, its own group and state.
conf() {
    local p=$1
    sed -e "s|topic: \([a-z.]*\)|topic: p$p.\1|" \
        -e "s|file: data/|file: $BR_DATA/|" \
        -e "s|group_id: .*|group_id: burnrate-it-order-$p|" \
        -e "s|alerts_topic: .*|alerts_topic: p$p.alerts|" \
        -e "s|dead_letter_topic: .*|dead_letter_topic: p$p.dlq|" \
        -e "s|dir: /tmp/burnrate-demo-state.*|dir: $T/state$p|" \
        "$HERE/../scripts/demo.yaml" >"$T/p$p.yaml"
    printf 'http:\n  listen: off\n' >>"$T/p$p.yaml"
    "$BURNRATE" check-config "$T/p$p.yaml" >/dev/null 2>&1 || br_die "check-config p$p.yaml"
}

# firing FILE: the ids of the alerts that fired (every type), sorted, as
# type:id. (Final statuses are not compared: replay resolves what is open at
# the end of its input, run keeps waiting; README "Order".)
firing() {
    $PY - "$1" <<'EOF'
import json, sys
ids = set()
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a["status"] == "firing":
        ids.add(a["type"] + ":" + a["id"])
print(" ".join(sorted(ids)))
EOF
}

# summary FILE KEY: a value from a replay summary ("late 0," -> 0).
summary_late() { sed -n 's/.*, late \([0-9]*\),.*/\1/p' "$1"; }
summary_money() { sed -n 's/.*money counted \([0-9.-]*\) .*/\1/p' "$1"; }

"$BURNRATE" replay --config "$HERE/../scripts/demo.yaml" \
    --input otel="$T/files/tokens.jsonl" --input openai="$T/files/openai.jsonl" \
    --input litellm="$T/files/litellm.jsonl" --input focus="$T/files/billing.jsonl" \
    --output "$T/ref.jsonl" 2>"$T/ref.txt" || br_die "file replay: $(cat "$T/ref.txt")"
ref_ids=$(firing "$T/ref.jsonl")
ref_money=$(summary_money "$T/ref.txt")
[[ $(summary_late "$T/ref.txt") == 0 ]] || br_die "the file replay counted late records"
[[ $ref_ids == *cost_spike:* ]] || br_die "the file replay fired no cost_spike"
[[ $ref_ids == *budget_threshold:* ]] || br_die "the file replay crossed no budget threshold"
br_log "reference (files): money $ref_money, alert ids $ref_ids"

for p in $PARTS; do
    for t in llm.usage llm.openai llm.litellm billing.focus alerts dlq; do
        br_broker_cmd "create p$p.$t $p 1"
    done
    conf "$p"
    # ... and the same records (same seed) in Kafka before burnrate starts,
    # keyed, so the producer spreads them over the partitions; compressed,
    # since the embedded broker keeps only ~5 MB per partition.
    "$BR_BIN/burnrate-gen" --brokers "$BR_BOOTSTRAP" --days 2 --unpriced --compression lz4 \
        --token-topic "p$p.llm.usage" --openai-topic "p$p.llm.openai" \
        --litellm-topic "p$p.llm.litellm" --billing-topic "p$p.billing.focus" \
        2>"$T/gen$p.log" || br_die "burnrate-gen --brokers: $(cat "$T/gen$p.log")"

    # replay --kafka
    "$BURNRATE" replay --config "$T/p$p.yaml" --kafka --brokers "$BR_BOOTSTRAP" \
        --output "$T/kafka$p.jsonl" 2>"$T/kafka$p.txt" ||
        br_die "replay --kafka ($p partitions): $(cat "$T/kafka$p.txt")"
    late=$(summary_late "$T/kafka$p.txt")
    money=$(summary_money "$T/kafka$p.txt")
    ids=$(firing "$T/kafka$p.jsonl")
    br_log "replay --kafka, $p partitions: late $late, money $money, alert ids $ids"
    grep -q "messages $(sed -n 's/.* \([0-9]*\) messages (.*/\1/p' "$T/gen$p.log")," "$T/kafka$p.txt" ||
        br_die "replay --kafka ($p partitions) did not read every message: $(sed -n 2p "$T/kafka$p.txt")"
    [[ $late == 0 ]] || br_die "replay --kafka ($p partitions): $late records late"
    [[ $money == "$ref_money" ]] || br_die "replay --kafka ($p partitions): money $money, files $ref_money"
    [[ $ids == "$ref_ids" ]] || br_die "replay --kafka ($p partitions): alert ids '$ids', files '$ref_ids'"

    # run, a fresh group catching up on the history
    "$BURNRATE" run --config "$T/p$p.yaml" --brokers "$BR_BOOTSTRAP" \
        >"$T/run$p.out" 2>"$T/run$p.err" &
    pid=$!
    br_track "$pid"
    caught_up() {
        kill -0 "$pid" 2>/dev/null || { br_log "run exited: $(tail -5 "$T/run$p.err")"; return 3; }
        $PY "$HERE/e2e/kafkatool.py" caught-up "$BR_BOOTSTRAP" "burnrate-it-order-$p" \
            "p$p.llm.usage" "p$p.llm.openai" "p$p.llm.litellm" "p$p.billing.focus"
    }
    br_wait_for "run ($p partitions) to catch up" 120 caught_up ||
        { tail -20 "$T/run$p.err" >&2; exit 1; }
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    [[ $rc == 0 ]] || br_die "run ($p partitions) exited $rc: $(tail -5 "$T/run$p.err")"
    stopped=$(grep 'msg=stopped' "$T/run$p.err" | tail -1)
    late=$(sed -n 's/.* late=\([0-9]*\) .*/\1/p' <<<"$stopped")
    money=$(sed -n 's/.* total=\([0-9.-]*\) .*/\1/p' <<<"$stopped")
    br_kcat_dump "p$p.alerts" "$T/run$p.alerts"
    ids=$(firing "$T/run$p.alerts")
    br_log "run, $p partitions: late $late, money $money, alert ids $ids"
    [[ $late == 0 ]] || br_die "run ($p partitions): $late records late"
    [[ $money == "$ref_money" ]] || br_die "run ($p partitions): money $money, files $ref_money"
    [[ $ids == "$ref_ids" ]] || br_die "run ($p partitions): alert ids '$ids', files '$ref_ids'"
    # Money per series (the last snapshot) is the same whatever the
    # partitioning; it adds up to the files' total.
    "$BURNRATE" snapshot show "$T/state$p" >"$T/snap$p.json"
    $PY - "$T/snap$p.json" "$ref_money" >"$T/series$p.txt" <<'EOF' || br_die "run ($p partitions): snapshot"
import json, sys
from decimal import Decimal
d = json.load(open(sys.argv[1]))
total = [s for s in d["series"] if s["scope"] == "total"]
if len(total) != 1 or Decimal(total[0]["total"]) != Decimal(sys.argv[2]):
    sys.exit("series total: %s, files %s" % (total, sys.argv[2]))
for s in sorted(d["series"], key=lambda s: (s["scope"], sorted(s["labels"].items()))):
    print(s["scope"], json.dumps(s["labels"], sort_keys=True), s["total"])
EOF
    first=${first:-$p}
    cmp -s "$T/series$first.txt" "$T/series$p.txt" ||
        { diff "$T/series$first.txt" "$T/series$p.txt" | head >&2
          br_die "money per series differs between $first and $p partitions"; }
done
echo "ok: 1 file replay, and replay --kafka and run over $PARTS partitions: late 0, the same money and alert ids"
