#!/usr/bin/env bash
# `cmake --install` of the build into a temporary prefix puts every file
# where GNUInstallDirs says and nothing dev-only; the installed unit passes
# `systemd-analyze verify` (and a sandboxing threshold), the installed man
# page renders without warnings and names every option of --help, and the
# INSTALLED burnrate, broker, generator and service config run the demo: the
# generator's injected spike comes out as an alert.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BUILD=$BR_BIN
PY=/usr/bin/python3
KT=$PWD/e2e/kafkatool.py
[[ -f $BUILD/burnrate.1.in ]] || br_die "$BUILD/burnrate.1.in not built (target man)"
for tool in systemd-analyze groff man; do
    command -v "$tool" >/dev/null || br_die "$tool missing (scripts/deps installs it)"
done

br_tmp_init
P=$BR_TMP/prefix
cmake --install "$BUILD" --prefix "$P" >"$BR_TMP/install.log" ||
    { cat "$BR_TMP/install.log" >&2; br_die "cmake --install failed"; }

# 1. The layout: these files and no others.
expected=(
    bin/burnrate
    libexec/burnrate/burnrate-broker
    libexec/burnrate/burnrate-gen
    share/man/man1/burnrate.1
    share/doc/burnrate/examples/burnrate.example.yaml
    etc/burnrate/burnrate.yaml
    share/burnrate/litellm_model_prices.json
    share/burnrate/SOURCES.md
    lib/systemd/system/burnrate.service
)
(cd "$P" && find . -type f | sed 's|^\./||' | sort) >"$BR_TMP/files"
printf '%s\n' "${expected[@]}" | sort >"$BR_TMP/files.expected"
diff -u "$BR_TMP/files.expected" "$BR_TMP/files" ||
    br_die "installed files differ from the expected layout"
for f in bin/burnrate libexec/burnrate/burnrate-broker libexec/burnrate/burnrate-gen; do
    [[ -x $P/$f ]] || br_die "$f is not executable"
done
cmp -s "$BR_SRC/scripts/burnrate.example.yaml" "$P/share/doc/burnrate/examples/burnrate.example.yaml" ||
    br_die "the installed example config is not scripts/burnrate.example.yaml"
[[ $("$P/bin/burnrate" --version) == "burnrate "* ]] || br_die "installed burnrate --version"

# 2. The unit names the installed paths, passes systemd's own checks and
# keeps the sandbox; the service config's state.dir is the unit's
# StateDirectory.
UNIT=$P/lib/systemd/system/burnrate.service
grep -qx "ExecStart=$P/bin/burnrate run --config $P/etc/burnrate/burnrate.yaml" "$UNIT" ||
    br_die "ExecStart does not name the installed binary and config: $(grep ExecStart= "$UNIT")"
for line in 'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure DynamicUser=yes \
    StateDirectory=burnrate ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    PrivateDevices=yes NoNewPrivileges=yes CapabilityBoundingSet= \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service \
    MemoryDenyWriteExecute=yes LockPersonality=yes; do
    grep -qxF -- "$line" "$UNIT" || br_die "unit lacks '$line'"
done
# verify also resolves Documentation=man:burnrate(1) through MANPATH.
if ! MANPATH=$P/share/man: systemd-analyze verify "$UNIT" >"$BR_TMP/verify.out" 2>&1 ||
    [[ -s $BR_TMP/verify.out ]]; then
    cat "$BR_TMP/verify.out" >&2
    br_die "systemd-analyze verify rejected the unit"
fi
systemd-analyze security --offline=yes --threshold=20 "$UNIT" >"$BR_TMP/security.out" 2>&1 ||
    { tail -3 "$BR_TMP/security.out" >&2; br_die "systemd-analyze security: exposure above 2.0"; }
exposure=$(sed -n 's/.*Overall exposure level for burnrate.service: \([0-9.]*\).*/\1/p' "$BR_TMP/security.out")
[[ -n $exposure ]] || br_die "no exposure level in systemd-analyze security output"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' ||
    br_die "unit exposure $exposure is above 2.0 (see systemd-analyze security)"
"$P/bin/burnrate" check-config "$P/etc/burnrate/burnrate.yaml" >"$BR_TMP/effective.yaml" 2>"$BR_TMP/check.err" ||
    { cat "$BR_TMP/check.err" >&2; br_die "the installed service config fails check-config"; }
grep -Eq "^  file: \"?$P/share/burnrate/litellm_model_prices.json\"?\$" "$BR_TMP/effective.yaml" ||
    br_die "the service config's prices.file is not the installed price table"
cmp -s "$BR_SRC/scripts/data/litellm_model_prices.json" "$P/share/burnrate/litellm_model_prices.json" ||
    br_die "the installed price table is not scripts/data/litellm_model_prices.json"
grep -Eq '^  dir: "?/var/lib/burnrate"?$' "$BR_TMP/effective.yaml" ||
    br_die "the service config's state.dir is not /var/lib/burnrate (StateDirectory=burnrate)"

# A staged install (DESTDIR) writes under the stage but names the prefix.
DESTDIR=$BR_TMP/stage cmake --install "$BUILD" --prefix /opt/burnrate >/dev/null
grep -qx "ExecStart=/opt/burnrate/bin/burnrate run --config /opt/burnrate/etc/burnrate/burnrate.yaml" \
    "$BR_TMP/stage/opt/burnrate/lib/systemd/system/burnrate.service" ||
    br_die "a DESTDIR install's unit does not name the prefix"
grep -qx "  file: /opt/burnrate/share/burnrate/litellm_model_prices.json" \
    "$BR_TMP/stage/opt/burnrate/etc/burnrate/burnrate.yaml" ||
    br_die "a DESTDIR install's service config does not name the prefix's price table"

# 3. The man page: renders without a warning, has its sections, and
# mentions every option --help mentions.
MAN=$P/share/man/man1/burnrate.1
groff -man -ww -z "$MAN" 2>"$BR_TMP/groff.err"
[[ ! -s $BR_TMP/groff.err ]] || { cat "$BR_TMP/groff.err" >&2; br_die "groff warns about burnrate.1"; }
LC_ALL=C MANWIDTH=100 man --warnings -l "$MAN" >"$BR_TMP/man.txt" 2>"$BR_TMP/man.err"
[[ ! -s $BR_TMP/man.err ]] || { cat "$BR_TMP/man.err" >&2; br_die "man --warnings complains about burnrate.1"; }
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS 'EXIT STATUS' SIGNALS FILES 'SEE ALSO'; do
    grep -qx "$section" "$BR_TMP/man.txt" || br_die "burnrate(1) has no $section section"
done
grep -q 'SIGHUP' "$BR_TMP/man.txt" || br_die "burnrate(1) does not describe SIGHUP"
for f in "$P/etc/burnrate/burnrate.yaml" "$P/lib/systemd/system/burnrate.service" \
    "$P/libexec/burnrate/burnrate-gen" "$P/share/doc/burnrate/examples/burnrate.example.yaml"; do
    grep -qF "$f" "$BR_TMP/man.txt" || br_die "burnrate(1) does not name the installed $f"
done
! grep -n '@[A-Z_]*@' "$MAN" "$UNIT" || br_die "a placeholder was left in the installed files"
grep -q "^burnrate $("$P/bin/burnrate" --version | cut -d' ' -f2) " "$BR_TMP/man.txt" ||
    br_die "burnrate(1)'s footer does not carry the version"
"$P/bin/burnrate" --help >"$BR_TMP/help.txt"
grep -oE -- '(^|[^[:alnum:]-])--?[[:alpha:]][[:alnum:]-]*' "$BR_TMP/help.txt" |
    sed -E 's/^[^-]*//' | sort -u >"$BR_TMP/options"
[[ $(wc -l <"$BR_TMP/options") -ge 10 ]] || br_die "found too few options in --help"
while read -r opt; do
    grep -qE -- "(^|[^[:alnum:]-])$opt([^[:alnum:]-]|\$)" "$BR_TMP/man.txt" ||
        br_die "burnrate(1) does not mention $opt (from --help)"
done <"$BR_TMP/options"
# Every usage line of --help is a SYNOPSIS entry.
n_usage=$(grep -cE '^(usage:)? +burnrate ' "$BR_TMP/help.txt")
n_syn=$(sed -n '/^SYNOPSIS$/,/^DESCRIPTION$/p' "$BR_TMP/man.txt" | grep -cE '^ +burnrate ')
((n_usage == n_syn)) || br_die "SYNOPSIS has $n_syn entries, --help $n_usage usage lines"

# 4. The demo from the install only: installed broker, generator, binary and
# service config (its state.dir moved to a scratch directory).
BR_BIN=$P/libexec/burnrate
INPUT_TOPICS=(llm.usage llm.openai llm.litellm billing.focus)
br_broker_start --topics "$(IFS=,; echo "${INPUT_TOPICS[*]}"),burnrate.alerts,burnrate.dlq" --partitions 1 ||
    br_die "the installed broker did not start"
sed -e "s|^  dir: /var/lib/burnrate .*|  dir: $BR_TMP/state|" \
    -e 's|^  snapshot_interval: 30s|  snapshot_interval: 500ms|' \
    "$P/etc/burnrate/burnrate.yaml" >"$BR_TMP/demo.yaml"
grep -q "dir: $BR_TMP/state" "$BR_TMP/demo.yaml" || br_die "could not move state.dir"
"$P/bin/burnrate" run --config "$BR_TMP/demo.yaml" --brokers "$BR_BOOTSTRAP" --print-alerts \
    >"$BR_TMP/run.out" 2>"$BR_TMP/run.err" &
RUN_PID=$!
br_track "$RUN_PID"
joined() {
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    grep -q 'partitions assigned' "$BR_TMP/run.err"
}
br_wait_for "the installed burnrate to join its group" 30 joined ||
    { cat "$BR_TMP/run.err" >&2; br_die "burnrate run did not start"; }
"$P/libexec/burnrate/burnrate-gen" --brokers "$BR_BOOTSTRAP" --days 2 --rate 1500 2>"$BR_TMP/gen.err" ||
    { cat "$BR_TMP/gen.err" >&2; br_die "the installed burnrate-gen failed"; }
consumed() {
    kill -0 "$RUN_PID" 2>/dev/null || return 3
    "$PY" "$KT" caught-up "$BR_BOOTSTRAP" burnrate "${INPUT_TOPICS[@]}"
}
br_wait_for "burnrate to consume and commit everything" 60 consumed ||
    { tail -20 "$BR_TMP/run.err" >&2; br_die "burnrate did not catch up"; }
br_stop "$RUN_PID" 15
grep -q 'msg=stopped' "$BR_TMP/run.err" || { tail -20 "$BR_TMP/run.err" >&2; br_die "no clean stop"; }

"$PY" "$KT" dump "$BR_BOOTSTRAP" burnrate.alerts >"$BR_TMP/alerts.jsonl"
# burnrate-gen injects one spike: ml-research on claude-sonnet-4 (its
# eval-harness service) from 15:00Z on the last simulated day, 2025-03-04.
# Grouping (README, "Grouping") lets a parent speak for its child when both
# are unusual, which depends on how the topics interleave: the team's alert
# may stand for the team_model one, the total's for the service's.
"$PY" - "$BR_TMP/alerts.jsonl" <<'EOF' || br_die "the alerts are not the demo's spike"
import json, sys
ml = ("team_model", (("model", "claude-sonnet-4-20250514"), ("team", "ml-research")))
ml_team = ("team", (("team", "ml-research"),))
svc = ("service", (("service", "eval-harness"),))
total = ("total", ())
seen = set()
for line in open(sys.argv[1]):
    a = json.loads(json.loads(line)["value"])
    if a["type"] != "cost_spike":
        continue
    what = (a["scope"], tuple(sorted(a["labels"].items())))
    if what not in (ml, ml_team, svc, total) or a["window"]["start"] != "2025-03-04T15:00:00Z":
        sys.exit("unexpected spike alert: %s %s" % (what, a["window"]))
    if a["status"] == "firing":
        seen.add(what)
if not seen & {ml, ml_team} or not seen & {svc, total}:
    sys.exit("firing spikes %s: want ml-research's (team_model or team) and "
             "eval-harness's (service or total)" % sorted(seen))
EOF
[[ -s $BR_TMP/run.out ]] || br_die "--print-alerts printed nothing"
echo "it_install: OK (installed to $P; unit exposure $exposure)"
