#!/usr/bin/env bash
# Avro in, produced by independent tools: the same OpenAI usage events go to
# one topic as JSON (kcat), one as plain Avro datums and one in the Confluent
# framing (python3-avro through confluent_kafka), the framed topic mixing
# three compatible writer schemas (ids 7, 8 = an added field, 9 = int counts)
# with bad messages (every truncation of a sample, wrong magic, unknown id,
# garbage, trailing bytes, an incompatible writer schema). One `burnrate run`
# per encoding, each with its own group, state, alert and dead-letter topic:
# json, avro (schema file), cfdir (schema_dir), cfreg (the registry test
# server with basic auth), cfflaky (a registry that answers 500 three times
# and is slow). Every run must emit the same alerts (ignoring emitted_at and
# source), the avro and cfreg runs as Avro in the Confluent framing (an id
# from the config; the schema registered at start) decoded by python3-avro;
# the bad messages, and only they, go to the dead-letter topic with their
# reasons; a flaky registry delays but loses nothing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BR_BIN:?set BR_BIN to the build directory}"
# shellcheck source=tests/kafka_util.sh
source "$HERE/kafka_util.sh"
AV=$HERE/avro
E2E=$HERE/e2e
PY=/usr/bin/python3
RUNS=(json avro cfdir cfreg cfflaky)

br_tmp_init
"$PY" "$AV/schema_doc.py" --check || br_die "schemas/avro.md does not match schemas/*.avsc"

topics=llm.json,llm.avro,llm.avro.cf
for r in "${RUNS[@]}"; do topics+=",alerts.$r,dlq.$r"; done
br_broker_start --topics "$topics" --partitions 1

n_good=$("$PY" "$AV/produce.py" prepare "$BR_TMP/in" "$HERE/replay/tokens_a.jsonl" "$HERE/replay/tokens_b.jsonl")
n_bad=$(wc -l <"$BR_TMP/in/bad_expect.tsv")
((n_good > 800 && n_bad > 50)) || br_die "fixtures: $n_good good, $n_bad bad"

# Registry test servers: a good one with basic auth, and a flaky one.
start_registry() {  # NAME [args...]; sets REG_PORT
    local name=$1
    shift
    "$PY" "$AV/registry.py" --dir "$BR_TMP/in/schemas" "$@" \
        >"$BR_TMP/reg.$name.out" 2>"$BR_TMP/reg.$name.err" &
    br_track $!
    br_wait_for "registry $name port" 10 test -s "$BR_TMP/reg.$name.out" || return 1
    REG_PORT=$(head -n1 "$BR_TMP/reg.$name.out")
}
start_registry good --user alice --password 's3cret'
REG_GOOD=$REG_PORT
start_registry flaky
REG_FLAKY=$REG_PORT
curl -fsS -XPOST "http://127.0.0.1:$REG_FLAKY/control/fail?status=500&count=3" >/dev/null
curl -fsS -XPOST "http://127.0.0.1:$REG_FLAKY/control/delay?ms=300" >/dev/null

SCHEMA=$HERE/../schemas/usage.avsc
avro_section() {  # RUN: the input's avro section
    case $1 in
    json) ;;
    avro) printf '    avro:\n      schema: %s\n' "$SCHEMA" ;;
    cfdir) printf '    avro:\n      schema: %s\n      schema_dir: %s\n' "$SCHEMA" "$BR_TMP/in/schemas" ;;
    cfreg) printf '    avro:\n      schema: %s\n      registry: http://127.0.0.1:%s\n      registry_username: alice\n      registry_password: s3cret\n' "$SCHEMA" "$REG_GOOD" ;;
    cfflaky) printf '    avro:\n      schema: %s\n      registry: http://127.0.0.1:%s\n' "$SCHEMA" "$REG_FLAKY" ;;
    esac
}
# Alerts: JSON from json, cfdir and cfflaky; Avro in the Confluent framing
# from avro (the built-in alert schema under an id given in the config) and
# cfreg (registered in the registry at start, under alerts.cfreg-value).
ALERT_ID=60
cp "$HERE/../schemas/alert.avsc" "$BR_TMP/in/schemas/$ALERT_ID.avsc"
alerts_section() {  # RUN
    case $1 in
    avro) printf '  alerts_format: avro-confluent\n  alerts_avro:\n    schema_id: %s\n' "$ALERT_ID" ;;
    cfreg) printf '  alerts_format: avro-confluent\n  alerts_avro:\n    registry: http://127.0.0.1:%s\n    registry_username: alice\n    registry_password: s3cret\n' "$REG_GOOD" ;;
    esac
}
declare -A TOPIC=([json]=llm.json [avro]=llm.avro [cfdir]=llm.avro.cf [cfreg]=llm.avro.cf [cfflaky]=llm.avro.cf)
declare -A FORMAT=([json]=json [avro]=avro [cfdir]=avro-confluent [cfreg]=avro-confluent [cfflaky]=avro-confluent)
declare -A PID=()
for r in "${RUNS[@]}"; do
    avro_section "$r" >"$BR_TMP/avro.$r"
    alerts_section "$r" >"$BR_TMP/alerts-conf.$r"
    sed -e "s|@NAME@|$r|g" -e "s|@TOPIC@|${TOPIC[$r]}|g" -e "s|@FORMAT@|${FORMAT[$r]}|g" \
        -e "s|@BR_TMP@|$BR_TMP|g" -e "/^@AVRO@$/{r $BR_TMP/avro.$r" -e "d}" \
        -e "/^@ALERTS@$/{r $BR_TMP/alerts-conf.$r" -e "d}" \
        "$AV/run.yaml" >"$BR_TMP/$r.yaml"
    "$BR_BIN/burnrate" check-config "$BR_TMP/$r.yaml" >/dev/null 2>"$BR_TMP/$r.check" ||
        br_die "check-config $r: $(cat "$BR_TMP/$r.check")"
done

# An alert schema of one's own must take every alert: one with a required
# field burnrate does not send stops the start, naming the field, before
# anything is consumed or registered.
"$PY" - "$HERE/../schemas/alert.avsc" "$BR_TMP/bad_alert.avsc" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["fields"].append({"name": "tenant", "type": "string"})
json.dump(s, open(sys.argv[2], "w"))
EOF
sed -e "s|^  alerts_avro:|&\n    schema: $BR_TMP/bad_alert.avsc|" -e "s|state\.avro|state.badalert|" \
    "$BR_TMP/avro.yaml" >"$BR_TMP/badalert.yaml"
grep -q "schema: $BR_TMP/bad_alert.avsc" "$BR_TMP/badalert.yaml" || br_die "badalert.yaml: no alert schema line"
if timeout 30 "$BR_BIN/burnrate" run --config "$BR_TMP/badalert.yaml" --brokers "$BR_BOOTSTRAP" 2>"$BR_TMP/badalert.err"; then
    br_die "a run with an alert schema that does not take the alerts started"
fi
grep -q "kafka.alerts_avro.schema: $BR_TMP/bad_alert.avsc: does not take burnrate's alerts: .*tenant: missing, with no default" "$BR_TMP/badalert.err" ||
    br_die "bad alert schema: $(tail -1 "$BR_TMP/badalert.err")"

# Produce first, then consume: each topic is one ordered stream, so every
# run sees the events in the same order.
kcat -b "$BR_BOOTSTRAP" -P -t llm.json -p 0 -l "$BR_TMP/in/good.jsonl"
"$PY" "$AV/produce.py" send "$BR_BOOTSTRAP" llm.avro "$BR_TMP/in/plain.hex"
"$PY" "$AV/produce.py" send "$BR_BOOTSTRAP" llm.avro.cf "$BR_TMP/in/confluent.hex"

for r in "${RUNS[@]}"; do
    "$BR_BIN/burnrate" run --config "$BR_TMP/$r.yaml" --brokers "$BR_BOOTSTRAP" \
        >"$BR_TMP/$r.out" 2>"$BR_TMP/$r.err" &
    PID[$r]=$!
    br_track "${PID[$r]}"
done

caught_up() {  # RUN
    kill -0 "${PID[$1]}" 2>/dev/null || return 3
    "$PY" "$E2E/kafkatool.py" caught-up "$BR_BOOTSTRAP" "burnrate-it-avro-$1" "${TOPIC[$1]}"
}
for r in "${RUNS[@]}"; do
    br_wait_for "run $r to consume ${TOPIC[$r]}" 40 caught_up "$r" ||
        { tail -20 "$BR_TMP/$r.err" >&2; br_die "run $r did not consume its input"; }
done

# Checks below collect their failures, so that one run shows them all.
FAILS=()
for r in "${RUNS[@]}"; do
    kill -TERM "${PID[$r]}"
    rc=0
    wait "${PID[$r]}" || rc=$?
    [[ $rc -eq 0 ]] || br_die "run $r exited $rc after SIGTERM: $(tail -5 "$BR_TMP/$r.err")"
    grep -q "msg=stopped .* ok=$n_good " "$BR_TMP/$r.err" ||
        FAILS+=("run $r: expected ok=$n_good: $(grep -o 'msg=stopped .* late=[0-9]*' "$BR_TMP/$r.err")")
    "$PY" "$E2E/kafkatool.py" dump "$BR_BOOTSTRAP" "alerts.$r" >"$BR_TMP/alerts.$r.jsonl"
    "$PY" "$E2E/kafkatool.py" dump "$BR_BOOTSTRAP" "dlq.$r" >"$BR_TMP/dlq.$r.jsonl"
done

# The same alerts from every encoding: every field but emitted_at and source
# (the topics and offsets differ), as a multiset. Avro alerts are decoded by
# python3-avro with the schema their framing names (from the registry's
# directory), money and times compared by value, absent fields as null.
"$PY" - "$BR_TMP" "$BR_TMP/in/schemas" "${RUNS[@]}" <<'EOF' || FAILS+=("the encodings gave different alerts")
import datetime, decimal, io, json, struct, sys
import avro.io, avro.schema
tmp, schemas, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
def canon(v):
    if isinstance(v, dict):
        return {k: canon(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [canon(x) for x in v]
    if isinstance(v, datetime.datetime):
        return int((v - EPOCH) / datetime.timedelta(milliseconds=1))
    if isinstance(v, str) and len(v) >= 20 and v[4] == "-" and v.endswith("Z"):
        return canon(datetime.datetime.fromisoformat(v[:-1] + "+00:00"))
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float, decimal.Decimal)):
        d = decimal.Decimal(repr(v) if isinstance(v, float) else v).normalize()
        return "0" if d == 0 else str(d)
    return v
formats = {}
def alerts(r):
    out = []
    for line in open("%s/alerts.%s.jsonl" % (tmp, r)):
        m = json.loads(line)
        raw = bytes.fromhex(m["value_hex"])
        if raw[:1] == b"\0":
            sid = struct.unpack(">I", raw[1:5])[0]
            sch = avro.schema.parse(open("%s/%d.avsc" % (schemas, sid)).read())
            a = avro.io.DatumReader(sch).read(avro.io.BinaryDecoder(io.BytesIO(raw[5:])))
            formats[r] = "Avro id %d" % sid
        else:
            a = json.loads(raw, parse_float=decimal.Decimal)
            formats[r] = "JSON"
        if m["key"] != a["id"]:
            sys.exit("run %s: key %s != id %s" % (r, m["key"], a["id"]))
        a.pop("emitted_at", None)
        a.pop("source", None)
        out.append(json.dumps(canon(a), sort_keys=True))
    return sorted(out)
want = alerts(runs[0])
types = {json.loads(a)["type"] for a in want}
if not {"cost_spike", "budget_threshold"} <= types:
    sys.exit("run %s: alert types %s, want a spike and a budget" % (runs[0], sorted(types)))
bad = 0
for r in runs[1:]:
    got = alerts(r)
    if got != want:
        bad += 1
        print("run %s: %d alerts, %s: %d" % (r, len(got), runs[0], len(want)))
        for a in sorted(set(want) - set(got))[:3]:
            print("  only in %s: %s" % (runs[0], a))
        for a in sorted(set(got) - set(want))[:3]:
            print("  only in %s: %s" % (r, a))
for r in ("avro", "cfreg"):
    if not formats.get(r, "").startswith("Avro"):
        print("run %s: alerts are %s, want Avro" % (r, formats.get(r)))
        bad += 1
print("%d alerts, identical across %s" % (len(want), ", ".join("%s (%s)" % (r, formats.get(r)) for r in runs)) if not bad else "")
sys.exit(1 if bad else 0)
EOF

# Dead letters: none for json and avro; for the framed topic exactly the bad
# messages, each with its reason, a detail and its origin.
for r in json avro; do
    [[ ! -s $BR_TMP/dlq.$r.jsonl ]] || FAILS+=("run $r dead-lettered: $(head -c 600 "$BR_TMP/dlq.$r.jsonl")")
done
for r in cfdir cfreg cfflaky; do
    "$PY" - "$BR_TMP/in/bad_expect.tsv" "$BR_TMP/dlq.$r.jsonl" "$r" <<'EOF' || FAILS+=("run $r: dead-letter topic is not as expected")
import json, sys
want = {}
for line in open(sys.argv[1]):
    off, reason, case = line.rstrip("\n").split("\t")
    want[int(off)] = (reason, case)
got, bad = {}, 0
for line in open(sys.argv[2]):
    m = json.loads(line)
    h = m["headers"]
    off = int(h.get("burnrate.offset", -1))
    if off in got:
        print("two dead letters for offset %d" % off)
        bad += 1
    got[off] = h
for off, (reason, case) in sorted(want.items()):
    h = got.get(off)
    if h is None:
        print("%s (offset %d): no dead letter" % (case, off))
        bad += 1
    elif h.get("burnrate.reason") not in reason.split("|") or not h.get("burnrate.detail"):
        print("%s: reason %s, want %s (detail: %s)" % (case, h.get("burnrate.reason"), reason, h.get("burnrate.detail")))
        bad += 1
for off in sorted(set(got) - set(want)):
    print("good message at offset %d dead-lettered: %s" % (off, got[off]))
    bad += 1
print("run %s: %d dead letters checked, %d problems" % (sys.argv[3], len(want), bad))
sys.exit(1 if bad else 0)
EOF
done

# Registry: schemas cached by id (each known id looked up once), basic auth
# sent; the flaky one was retried through its failures.
"$PY" - "$(curl -fsS "http://127.0.0.1:$REG_GOOD/control/stats")" "$(curl -fsS "http://127.0.0.1:$REG_FLAKY/control/stats")" "$ALERT_ID" <<'EOF' || FAILS+=("registry lookups not as expected")
import json, sys
good, flaky = json.loads(sys.argv[1]), json.loads(sys.argv[2])
bad = 0
# The alert schema is the one already under id ALERT_ID: registering it
# under alerts.cfreg-value answers that id.
if good.get("registered", {}).get("alerts.cfreg-value") != int(sys.argv[3]):
    print("good registry: the alert schema was not registered under alerts.cfreg-value as id %s: %s" % (sys.argv[3], good.get("registered")))
    bad += 1
for sid in ("7", "8", "9"):
    if good["by_id"].get(sid) != 1:
        print("good registry: id %s looked up %s times, want 1 (cached by id)" % (sid, good["by_id"].get(sid)))
        bad += 1
if good["auth_failures"]:
    print("good registry: %d lookups without the basic auth" % good["auth_failures"])
    bad += 1
if flaky["lookups"] < 3 + 3:
    print("flaky registry: %d lookups, want the 3 failures retried" % flaky["lookups"])
    bad += 1
print("registry: good %s, flaky %s" % (good, flaky))
sys.exit(1 if bad else 0)
EOF

if ((${#FAILS[@]})); then
    printf 'FAIL: %s\n' "${FAILS[@]}" >&2
    exit 1
fi
echo "ok: $n_good events as JSON, plain Avro and Confluent Avro (schema_dir, registry, flaky registry) gave the same alerts; $n_bad bad messages dead-lettered"
