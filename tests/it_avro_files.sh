#!/usr/bin/env bash
# Replaying Avro object container files. The OpenAI usage events of
# replay/tokens_a.jsonl and tokens_b.jsonl, written by python3-avro (codecs
# null, deflate, bzip2, snappy, zstandard; xz by Python's lzma) and
# re-encoded by avro-c's avromod (snappy, lzma),
# replay into the same alerts as the same events as JSON lines: with the
# file's own schema, and through a reader schema (which also gives back the
# logical types avromod drops from the header). A file whose schema does not
# resolve against the reader's, a file that is not Avro and a file cut off
# mid-block stop the replay with the path and the reason; a damaged record
# is a dead letter and the file reads on.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
PY=/usr/bin/python3
AV=avro
br_tmp_init
T=$BR_TMP

n_good=$("$PY" "$AV/produce.py" prepare "$T/in" replay/tokens_a.jsonl replay/tokens_b.jsonl)
((n_good > 800)) || br_die "fixtures: only $n_good events"
"$PY" "$AV/gen.py" ocf --codec null "$T/in/good.jsonl" "$T/null.avro"
"$PY" "$AV/gen.py" ocf --codec deflate "$T/in/good.jsonl" "$T/deflate.avro"
avromod --codec=snappy "$T/null.avro" "$T/snappy.avro"
avromod --codec=lzma "$T/null.avro" "$T/lzma.avro"
# The other codecs of the specification, in blocks of 100 records (python's
# own codecs; xz by Python's lzma over python3-avro's blocks).
for codec in bzip2 snappy zstandard xz; do
    "$PY" "$AV/gen.py" ocf --codec $codec --block-records 100 "$T/in/good.jsonl" "$T/py$codec.avro"
done

# config FORMAT AVRO_SECTION FILE: a replay config of one input.
config() {
    cat <<EOF
currency: USD
inputs:
  - name: tokens
    dialect: openai
    format: $1
    files: [$3]
$2
scopes:
  - name: total
    dims: []
  - name: team
    dims: [team]
  - name: team_model
    dims: [team, model]
spike:
  bucket: 1h
  min_impact: 5
  min_ratio: 2
  warmup: 24
budgets:
  - name: search-daily
    match: {team: search}
    amount: 8
    period: day
    thresholds: [50, 100]
prices:
  models:
    gpt-4o: {input: 2.50, output: 10.00}
    gpt-4o-mini: {input: 0.15, output: 0.60}
EOF
}
READER=$(printf '    avro:\n      schema: %s' "$PWD/../schemas/usage.avsc")

# strip FILE: alert lines without emitted_at and source (paths differ).
strip() {
    "$PY" - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    a.pop("emitted_at", None)
    a.pop("source", None)
    print(json.dumps(a, sort_keys=True))
EOF
}

config json "" "$T/in/good.jsonl" >"$T/json.yaml"
"$BURNRATE" replay --config "$T/json.yaml" --output "$T/json.alerts" 2>"$T/json.err" ||
    br_die "JSON replay failed: $(cat "$T/json.err")"
strip "$T/json.alerts" >"$T/json.want"
n_alerts=$(wc -l <"$T/json.want")
((n_alerts > 5)) || br_die "JSON replay gave only $n_alerts alerts"
grep -q cost_spike "$T/json.want" && grep -q budget_threshold "$T/json.want" ||
    br_die "JSON replay: want a spike and a budget alert"

FAILS=()
for codec in null deflate snappy lzma pybzip2 pysnappy pyzstandard pyxz; do
    for view in own reader; do
        [[ $codec == snappy || $codec == lzma ]] && [[ $view == own ]] && continue
        section=""
        [[ $view == reader ]] && section=$READER
        config avro "$section" "$T/$codec.avro" >"$T/$codec.$view.yaml"
        if ! "$BURNRATE" replay --config "$T/$codec.$view.yaml" --output "$T/$codec.$view.alerts" \
            --dead-letters "$T/$codec.$view.dlq" 2>"$T/$codec.$view.err"; then
            FAILS+=("$codec ($view schema): replay failed: $(tail -3 "$T/$codec.$view.err")")
            continue
        fi
        strip "$T/$codec.$view.alerts" >"$T/$codec.$view.got"
        cmp -s "$T/json.want" "$T/$codec.$view.got" ||
            FAILS+=("$codec ($view schema): alerts differ from JSON: $(diff "$T/json.want" "$T/$codec.$view.got" | head -4)")
        [[ ! -s $T/$codec.$view.dlq ]] ||
            FAILS+=("$codec ($view schema): dead letters: $(head -c 400 "$T/$codec.$view.dlq")")
        grep -q "messages $n_good, ok $n_good, skipped 0, dead letters 0" "$T/$codec.$view.err" ||
            FAILS+=("$codec ($view schema): summary does not count $n_good events: $(cat "$T/$codec.$view.err")")
    done
done

# avromod's header has lost the decimal's logicalType: with the file's own
# schema a cost would be raw bytes. The reader schema gives it back; the
# events carry no cost, so the alerts above already prove the rest.
grep -q '"logicalType"' <(head -c 4000 "$T/snappy.avro" | tr -c '[:print:]' ' ') &&
    FAILS+=("avromod kept logical types: this test no longer shows the reader schema restoring them")

# Refusals, each naming the file and the reason.
expect_fail() {  # NAME WANT CONFIG
    if "$BURNRATE" replay --config "$3" --output "$T/$1.alerts" 2>"$T/$1.err"; then
        FAILS+=("$1: replay succeeded")
    elif ! grep -q -- "$2" "$T/$1.err"; then
        FAILS+=("$1: want \"$2\" in: $(tail -2 "$T/$1.err")")
    fi
}
config avro "$(printf '    avro:\n      schema: %s' "$PWD/../schemas/focus.avsc")" "$T/null.avro" >"$T/incompat.yaml"
expect_fail incompat "null.avro: the file's schema does not resolve against the reader schema" "$T/incompat.yaml"
config avro "" "$T/in/good.jsonl" >"$T/notavro.yaml"
expect_fail notavro "good.jsonl: not an Avro object container file" "$T/notavro.yaml"
# Cut in the first block (python writes one) and mid-file (avromod's
# small blocks): no record of a block that cannot be read is guessed at.
size=$(stat -c %s "$T/null.avro")
head -c $((size * 2 / 3)) "$T/null.avro" >"$T/cut1.avro"
config avro "" "$T/cut1.avro" >"$T/cut1.yaml"
expect_fail cut1 "cut1.avro: after record 0: unreadable block 1 at byte [0-9]*: [0-9]* bytes stated, the file ends after" "$T/cut1.yaml"
avromod --block-size=4096 "$T/null.avro" "$T/blocks.avro"
size=$(stat -c %s "$T/blocks.avro")
head -c $((size * 2 / 3)) "$T/blocks.avro" >"$T/cut2.avro"
config avro "$READER" "$T/cut2.avro" >"$T/cut2.yaml"
expect_fail cut2 "cut2.avro: after record [1-9][0-9]*: unreadable block" "$T/cut2.yaml"
# Blocks of 10 records. A record that is not a datum of the file's schema
# (block 2's first length made negative) loses its block's records, whose
# boundaries are gone, as one dead letter with the block's bytes, and the
# file reads on; a sync marker that is not the header's stops the replay.
"$PY" "$AV/gen.py" ocf --block-records 10 "$T/in/good.jsonl" "$T/b10.avro"
"$PY" "$AV/gen.py" damage --block 2 --record "$T/b10.avro" "$T/badrec.avro"
config avro "" "$T/badrec.avro" >"$T/badrec.yaml"
if ! "$BURNRATE" replay --config "$T/badrec.yaml" --output "$T/badrec.alerts" \
    --dead-letters "$T/badrec.dlq" 2>"$T/badrec.err"; then
    FAILS+=("badrec: replay failed: $(tail -2 "$T/badrec.err")")
else
    grep -q "ok $((n_good - 10)), skipped 0, dead letters 1 (PARSE 1)" "$T/badrec.err" ||
        FAILS+=("badrec: want $((n_good - 10)) ok and 1 dead letter: $(grep messages "$T/badrec.err")")
    grep -q '"detail":"block 2, record 1 of 10: not a datum of the file.s schema: id: a negative length.*last 10 records are lost' "$T/badrec.dlq" ||
        FAILS+=("badrec: dead letter: $(head -c 300 "$T/badrec.dlq")")
    grep -q '"offset":11,' "$T/badrec.dlq" || FAILS+=("badrec: the dead letter is not record 11")
fi
"$PY" "$AV/gen.py" damage --block 3 --sync "$T/b10.avro" "$T/badsync.avro"
config avro "" "$T/badsync.avro" >"$T/badsync.yaml"
expect_fail badsync "badsync.avro: after record 20: unreadable block 3 at byte [0-9]*: its sync marker is not the header's" "$T/badsync.yaml"

if ((${#FAILS[@]})); then
    printf 'FAIL: %s\n' "${FAILS[@]}" >&2
    exit 1
fi
echo "ok: $n_good events as Avro object container files (null, deflate, snappy, lzma, bzip2, zstandard, xz; own and reader schema) gave the JSON replay's $n_alerts alerts; incompatible, non-Avro, cut and unsynced files refused with their reasons; a damaged block one dead letter"
