#!/usr/bin/env bash
# Secrets never reach output or logs: a config with a distinctive value in
# every secret place (SASL password, OAuth client secret, SSL key password,
# registry passwords, user:password@ in registry URLs) goes through
# check-config, `run` in both log formats at debug level (with a schema
# registry that cannot be reached, a dead letter, a refused reload naming a
# secret key, a broken config and a good reload), and a replay; then values
# given as ${file:${CREDENTIALS_DIRECTORY}/...} and ${VAR} through
# check-config, run at debug level and refusals; no byte of any of it holds
# a secret value. Every wait polls against a deadline.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
PY=/usr/bin/python3

SECRETS=(SecSaslPw0101 SecOauth0202 SecSslKey0303 SecRegPw0404 SecRegUrl0505
    SecAlertPw0606 SecAlertUrl0707 SecJaas0808 SecSaslPwNew0909)

br_tmp_init
br_broker_start --topics llm.usage,llm.avro,burnrate.alerts,burnrate.dlq --partitions 1 ||
    br_die "broker did not start"

# A schema registry that takes the alert schema (POST -> id 1) and checks
# nothing else; its port goes to a file.
"$PY" - "$BR_TMP/registry.port" <<'EOF' >"$BR_TMP/registry.log" 2>&1 &
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"id": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_port))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
EOF
br_track $!
br_wait_for "registry port" 10 test -s "$BR_TMP/registry.port" || br_die "registry did not start"
REG_PORT=$(cat "$BR_TMP/registry.port")
# A port nobody listens on: input schema lookups fail and say where.
DEAD_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

CONF=$BR_TMP/burnrate.yaml
# OAUTH: this librdkafka may lack OIDC (no client.secret at run time), so
# only check-config sees the OAuth client secret.
OAUTH=""
write_config() { # SASL_PASSWORD BUDGET_AMOUNT
    cat >"$CONF" <<EOF
inputs:
  - name: usage
    topic: llm.usage
    files: [$BR_TMP/usage.jsonl]
    dialect: custom
    mapping: {time: ts, cost: cost}
  - name: avro
    topic: llm.avro
    format: avro-confluent
    dialect: custom
    mapping: {time: ts, cost: cost}
    avro:
      registry: http://reguser:SecRegUrl0505@127.0.0.1:$DEAD_PORT
      registry_username: reguser
      registry_password: SecRegPw0404
scopes:
  - name: total
budgets:
  - {name: all, amount: $2, period: month}
kafka:
  brokers: $BR_BOOTSTRAP
  group_id: burnrate-it-secrets
  alerts_format: avro-confluent
  alerts_avro:
    registry: http://alertuser:SecAlertUrl0707@127.0.0.1:$REG_PORT
    registry_username: alertuser
    registry_password: SecAlertPw0606
  properties:
    sasl.password: $1
    sasl.username: someone
    debug: conf,security
    sasl.oauthbearer.config: principal=SecJaas0808
$OAUTH
  producer_properties:
    ssl.key.password: SecSslKey0303
  consumer_properties:
    session.timeout.ms: 6000
state:
  dir: $BR_TMP/state
  snapshot_interval: 200ms
EOF
}
printf '{"ts":"2025-03-03T01:00:00Z","cost":1.5}\nnot json\n' >"$BR_TMP/usage.jsonl"
write_config SecSaslPw0101 100

# 1. check-config prints the effective config.
"$BURNRATE" check-config "$CONF" >"$BR_TMP/check.out" 2>"$BR_TMP/check.err" ||
    { cat "$BR_TMP/check.err" >&2; br_die "check-config refused the config"; }
grep -q '\[redacted\]' "$BR_TMP/check.out" || br_die "check-config redacted nothing"
# check-config builds the clients' configurations as run does: a librdkafka
# without OIDC refuses the OAuth client secret there, naming the key only.
OAUTH="    sasl.oauthbearer.client.secret: SecOauth0202"
write_config SecSaslPw0101 100
"$BURNRATE" check-config "$CONF" >>"$BR_TMP/check.out" 2>>"$BR_TMP/check.err" ||
    grep -q 'kafka.properties.sasl.oauthbearer.client.secret: ' "$BR_TMP/check.err" ||
    { cat "$BR_TMP/check.err" >&2; br_die "check-config refused the OAuth config unnamed"; }
OAUTH=""

log_has() { grep -q -- "$2" "$BR_TMP/$1.err"; }
n_lines_with() { [[ $(grep -c -- "$2" "$BR_TMP/$1.err" || true) -ge $3 ]]; }

# 2. run, once per log format.
for fmt in logfmt json; do
    write_config SecSaslPw0101 100
    "$BURNRATE" run --config "$CONF" --log-level debug --log-format "$fmt" \
        >"$BR_TMP/run-$fmt.out" 2>"$BR_TMP/run-$fmt.err" &
    pid=$!
    br_track "$pid"
    br_wait_for "$fmt: partitions assigned" 20 log_has "run-$fmt" 'partitions assigned' ||
        { tail -20 "$BR_TMP/run-$fmt.err" >&2; br_die "$fmt: run never joined"; }
    printf '{"ts":"2025-03-03T02:00:00Z","cost":2}\nnot json\n' |
        timeout 60 kcat -b "$BR_BOOTSTRAP" -P -t llm.usage -p 0 ||
        br_die "$fmt: kcat could not produce to llm.usage"
    # Confluent framing, schema id 7: the lookup goes to the dead registry.
    printf '\x00\x00\x00\x00\x07\x02' | timeout 60 kcat -b "$BR_BOOTSTRAP" -P -t llm.avro -p 0 ||
        br_die "$fmt: kcat could not produce to llm.avro"
    br_wait_for "$fmt: a dead letter" 20 log_has "run-$fmt" 'dead letter' ||
        br_die "$fmt: no dead letter logged"
    br_wait_for "$fmt: a schema lookup failure" 20 log_has "run-$fmt" 'Avro schema unavailable' ||
        br_die "$fmt: no schema failure logged"
    # A reload that changes a secret: refused, naming the key only.
    write_config SecSaslPwNew0909 100
    kill -HUP "$pid"
    br_wait_for "$fmt: secret change refused" 10 n_lines_with "run-$fmt" 'reload refused' 1 ||
        br_die "$fmt: secret change not refused"
    grep 'reload refused' "$BR_TMP/run-$fmt.err" | grep -q 'kafka.properties.sasl.password' ||
        br_die "$fmt: the refusal does not name the key"
    # A broken config, then a good one.
    write_config SecSaslPw0101 lots
    kill -HUP "$pid"
    br_wait_for "$fmt: broken config refused" 10 n_lines_with "run-$fmt" 'reload refused' 2 ||
        br_die "$fmt: broken config not refused"
    write_config SecSaslPw0101 200
    kill -HUP "$pid"
    br_wait_for "$fmt: reloaded" 10 log_has "run-$fmt" 'configuration reloaded' ||
        br_die "$fmt: good config not applied"
    kill -TERM "$pid"
    br_exit_within "$pid" 60 "$BR_TMP/run-$fmt.err" || br_die "$fmt: run failed or did not stop"
    rm -rf "$BR_TMP/state"
done
# Each JSON log line is one JSON object with ts, level and msg.
"$PY" - "$BR_TMP/run-json.err" <<'EOF' || br_die "run --log-format json wrote a line that is not a JSON object"
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    assert isinstance(d, dict) and {"ts", "level", "msg"} <= set(d), line
    n += 1
assert n > 10, n
EOF
grep -q 'msg=librdkafka .*facility=CONF' "$BR_TMP/run-logfmt.err" ||
    br_die "no librdkafka debug lines: the test would not see their secrets"
grep -q '"msg":"librdkafka"' "$BR_TMP/run-json.err" ||
    br_die "librdkafka lines are not JSON"

# 3. A replay of the files, and a replay with a config error.
"$BURNRATE" replay --config "$CONF" --log-level debug --dead-letters "$BR_TMP/replay.dlq" \
    >"$BR_TMP/replay.out" 2>"$BR_TMP/replay.err" || true
grep -q '1 dead' "$BR_TMP/replay.err" || grep -qi 'dead' "$BR_TMP/replay.err" ||
    { cat "$BR_TMP/replay.err" >&2; br_die "replay did not run"; }
write_config SecSaslPw0101 lots
"$BURNRATE" check-config "$CONF" >>"$BR_TMP/check.out" 2>>"$BR_TMP/check.err" &&
    br_die "check-config took a broken config"

# 4. Values from ${...}: a SASL password kept as a systemd credential
# (LoadCredential=sasl-password:... puts it in $CREDENTIALS_DIRECTORY), a
# property whose name says nothing secret set from the environment, and a
# bad value from the environment that librdkafka refuses. check-config
# shows the references; run at debug level (which logs every property and
# librdkafka's conf dump) and the refusals never show the values.
mkdir -p "$BR_TMP/creds"
printf 'SecCredPw1010\n' >"$BR_TMP/creds/sasl-password"
chmod 600 "$BR_TMP/creds/sasl-password"
CONF2=$BR_TMP/expand.yaml
cat >"$CONF2" <<EOF
inputs:
  - name: usage
    topic: llm.usage
    dialect: custom
    mapping: {time: ts, cost: cost}
kafka:
  brokers: \${env:BR_IT_BROKERS}
  group_id: burnrate-it-expand
  properties:
    sasl.password: \${file:\${CREDENTIALS_DIRECTORY}/sasl-password}
    sasl.username: someone
    client.rack: \${BR_IT_RACK}
    debug: conf
state:
  dir: $BR_TMP/state-expand
  snapshot_interval: 200ms
EOF
export CREDENTIALS_DIRECTORY=$BR_TMP/creds BR_IT_RACK=SecEnvRack1111
export BR_IT_BROKERS=$BR_BOOTSTRAP
"$BURNRATE" check-config "$CONF2" >"$BR_TMP/expand-check.out" 2>"$BR_TMP/expand-check.err" ||
    { cat "$BR_TMP/expand-check.err" >&2; br_die 'check-config refused ${...} values'; }
grep -qF 'sasl.password: "${file:${CREDENTIALS_DIRECTORY}/sasl-password}"' "$BR_TMP/expand-check.out" ||
    br_die "check-config does not show the credential's reference"
grep -qF 'client.rack: "${BR_IT_RACK}"' "$BR_TMP/expand-check.out" ||
    br_die "check-config does not show the variable's reference"
"$BURNRATE" run --config "$CONF2" --log-level debug \
    >"$BR_TMP/expand-run.out" 2>"$BR_TMP/expand-run.err" &
pid=$!
br_track "$pid"
br_wait_for "expand: partitions assigned" 20 log_has expand-run 'partitions assigned' ||
    { tail -20 "$BR_TMP/expand-run.err" >&2; br_die "expand: run never joined"; }
kill -TERM "$pid"
br_exit_within "$pid" 60 "$BR_TMP/expand-run.err" || br_die "expand: run failed or did not stop"
grep -q 'client.rack' "$BR_TMP/expand-run.err" ||
    br_die "expand: the debug log does not list the properties"
# A value librdkafka refuses names the key, never the value; so does an
# unset variable.
sed 's/client.rack:/socket.timeout.ms:/' "$CONF2" >"$BR_TMP/expand-bad.yaml"
BR_IT_RACK=SecEnvBad1212 "$BURNRATE" check-config "$BR_TMP/expand-bad.yaml" \
    >>"$BR_TMP/expand-check.out" 2>"$BR_TMP/expand-bad.err" &&
    br_die "check-config took a bad property value"
grep -q 'expand-bad.yaml:12: kafka.properties.socket.timeout.ms: ' "$BR_TMP/expand-bad.err" ||
    { cat "$BR_TMP/expand-bad.err" >&2; br_die "the bad value is not reported"; }
env -u BR_IT_RACK "$BURNRATE" check-config "$CONF2" >/dev/null 2>"$BR_TMP/expand-unset.err" &&
    br_die "check-config took an unset variable"
grep -qF 'expand.yaml:12: kafka.properties.client.rack: ${BR_IT_RACK}: environment variable BR_IT_RACK is not set' \
    "$BR_TMP/expand-unset.err" || { cat "$BR_TMP/expand-unset.err" >&2; br_die "unset variable not reported"; }
SECRETS+=(SecCredPw1010 SecEnvRack1111 SecEnvBad1212)

# 5. No secret anywhere.
for s in "${SECRETS[@]}"; do
    if grep -rl -- "$s" "$BR_TMP"/*.out "$BR_TMP"/*.err "$BR_TMP/replay.dlq" 2>/dev/null; then
        br_die "secret $s leaked into the files above"
    fi
done
grep -q 'reguser:\|alertuser:' "$BR_TMP"/*.err "$BR_TMP"/*.out &&
    br_die "a URL's user-info was printed"
echo "it_secrets: OK"
