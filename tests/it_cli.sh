#!/usr/bin/env bash
# The command line itself: a usage error is one line plus a pointer to
# --help (exit 2), naming the option or command meant when one is close;
# --help goes to stdout; --dead-letters - puts dead letters, and only them,
# on stdout as JSON lines while the summary stays on stderr (stdout carries
# one kind of line: two asked there is a usage error); --from/--to
# read times relative to now. No broker: replay over tests/replay/.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
BURNRATE=$BR_BIN/burnrate
PY=/usr/bin/python3
[[ -x $BURNRATE ]] || br_die "$BURNRATE not built"
br_tmp_init
T=$BR_TMP
CONF=replay/burnrate.yaml
TRY="Try 'burnrate --help' for more information."

# usage_error WANT ARGS...: burnrate ARGS exits 2, prints nothing on stdout
# and exactly two lines on stderr: WANT (a grep -E pattern, anchored) and TRY.
usage_error() {
    local want=$1 rc=0
    shift
    "$BURNRATE" "$@" >"$T/u.out" 2>"$T/u.err" || rc=$?
    ((rc == 2)) || { cat "$T/u.err" >&2; br_die "burnrate $*: exit $rc, want 2"; }
    [[ ! -s $T/u.out ]] || br_die "burnrate $*: wrote to stdout on a usage error"
    [[ $(wc -l <"$T/u.err") == 2 ]] ||
        { cat "$T/u.err" >&2; br_die "burnrate $*: $(wc -l <"$T/u.err") lines on stderr, want 2"; }
    grep -qE "^$want\$" <(head -n1 "$T/u.err") ||
        br_die "burnrate $*: first line '$(head -n1 "$T/u.err")', want /$want/"
    [[ $(sed -n 2p "$T/u.err") == "$TRY" ]] ||
        br_die "burnrate $*: second line '$(sed -n 2p "$T/u.err")'"
}

# 1. Usage errors, with "did you mean" where something is close.
usage_error 'burnrate: replay: unknown option --frm \(did you mean --from\?\)' \
    replay --config "$CONF" --frm 2025-03-01
usage_error 'burnrate: replay: unknown option --frm \(did you mean --from\?\)' \
    replay --config "$CONF" --frm=2025-03-01
usage_error 'burnrate: replay: unknown option -from \(did you mean --from\?\)' \
    replay --config "$CONF" -from 2025-03-01
usage_error 'burnrate: replay: unknown option --dead \(did you mean --dead-letters\?\)' \
    replay --config "$CONF" --dead x
usage_error 'burnrate: replay: unknown option --frobnicate' replay --config "$CONF" --frobnicate
usage_error 'burnrate: unknown command repaly \(did you mean replay\?\)' repaly --config "$CONF"
usage_error 'burnrate: unknown command chek-config \(did you mean check-config\?\)' chek-config "$CONF"
usage_error 'burnrate: unknown command --verison \(did you mean --version\?\)' --verison
usage_error 'burnrate: unknown command frobnicate' frobnicate
usage_error 'burnrate: --config: options come after the command .*' --config "$CONF" replay
usage_error 'burnrate: missing command .*' 
usage_error 'burnrate: run: unknown option --from \(an option of replay\)' run --config "$CONF" --from now
usage_error 'burnrate: run: unknown option --konfig \(did you mean --config\?\)' run --konfig "$CONF"
usage_error 'burnrate: run: --print-alerts takes no value' run --config "$CONF" --print-alerts=yes
usage_error 'burnrate: replay: --config needs a value' replay --config
usage_error 'burnrate: replay: --config FILE is required' replay
usage_error 'burnrate: check-config: unexpected argument b' check-config a b
usage_error 'burnrate: snapshot: unknown subcommand shwo \(did you mean show\?\)' snapshot shwo x
usage_error 'burnrate: replay: --from yesterdy: not a time; accepted: .*now-24h.*' \
    replay --config "$CONF" --from yesterdy
usage_error 'burnrate: replay: --to -99999999w: outside years 0000-9999; accepted: .*' \
    replay --config "$CONF" --to -99999999w
usage_error 'burnrate: replay: --from \(.*\) must be before --to \(.*T00:00:00Z\)' \
    replay --config "$CONF" --from now --to yesterday

# 2. --help is the help, on stdout, with exit 0.
"$BURNRATE" --help >"$T/help.out" 2>"$T/help.err"
grep -q '^usage: burnrate run' "$T/help.out" || br_die "--help lacks the usage"
[[ ! -s $T/help.err ]] || br_die "--help wrote to stderr"
"$BURNRATE" replay --help | cmp -s - "$T/help.out" || br_die "replay --help differs from --help"

# 3. --dead-letters -: dead letters are stdout's only lines, each a JSON
# object with reason and origin; the alerts go to their file, the summary
# to stderr.
"$BURNRATE" replay --config "$CONF" --dead-letters - --output "$T/alerts.jsonl" \
    >"$T/dead.out" 2>"$T/dead.err" || { cat "$T/dead.err" >&2; br_die "--dead-letters - failed"; }
[[ $($PY - "$T/dead.out" <<'PYEOF'
import json, sys
out = []
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert set(d) >= {"reason", "detail", "input", "topic", "partition", "offset", "payload"}, d
    out.append("%s %s %s %d" % (d["reason"], d["input"], d["topic"].rsplit("/", 1)[-1], d["offset"]))
print(";".join(out))
PYEOF
) == "PARSE tokens tokens_b.jsonl 26;MISSING tokens tokens_b.jsonl 28" ]] ||
    { cat "$T/dead.out" >&2; br_die "dead letters on stdout"; }
grep -q 'dead letters 2 (PARSE 1, MISSING 1) written to stdout$' "$T/dead.err" ||
    { cat "$T/dead.err" >&2; br_die "the summary does not say the dead letters went to stdout"; }
grep -q "alerts to $T/alerts.jsonl" "$T/dead.err" || br_die "summary: alerts file"
$PY -c 'import json, sys; [json.loads(l)["type"] for l in open(sys.argv[1])]' "$T/alerts.jsonl" ||
    br_die "the alerts file is not alert JSON lines"
[[ -s $T/alerts.jsonl ]] || br_die "no alerts in the file"
# Dead letters and alerts, or readable lines, never share stdout.
usage_error 'burnrate: replay: --dead-letters - and the alerts \(--output, default -\) would share stdout; .*' \
    replay --config "$CONF" --dead-letters -
usage_error 'burnrate: replay: --dead-letters - and the alerts .*' \
    replay --config "$CONF" --dead-letters - --output -
usage_error 'burnrate: replay: --dead-letters - and --print-alerts would share stdout' \
    replay --config "$CONF" --dead-letters - --output /dev/null --print-alerts
usage_error 'burnrate: replay: --print-alerts and the alerts \(--output, default -\) would share stdout; .*' \
    replay --config "$CONF" --print-alerts
# --print-alerts with the alerts in a file: stdout holds the readable lines only.
"$BURNRATE" replay --config "$CONF" --print-alerts --output "$T/alerts2.jsonl" \
    >"$T/print.out" 2>/dev/null || br_die "--print-alerts --output FILE failed"
# (a headline per alert, and its summary indented below)
[[ $(grep -c '^[A-Z]' "$T/print.out") == $(wc -l <"$T/alerts2.jsonl") ]] ||
    br_die "--print-alerts: $(grep -c '^[A-Z]' "$T/print.out") headlines for $(wc -l <"$T/alerts2.jsonl") alerts"
! grep -q '^{' "$T/print.out" || br_die "--print-alerts: JSON on stdout"

# 4. Relative times resolve against the wall clock: today is 00:00 UTC.
# The fixtures are of March 2025, so every record is out of range.
day0=$(date -u +%F)
"$BURNRATE" replay --config "$CONF" --from today --to tomorrow --output "$T/rel.jsonl" \
    2>"$T/rel.err" || { cat "$T/rel.err" >&2; br_die "--from today --to tomorrow failed"; }
day1=$(date -u +%F)
grep -Eq "range \[($day0|$day1)T00:00:00Z, [0-9-]+T00:00:00Z\)" "$T/rel.err" ||
    { cat "$T/rel.err" >&2; br_die "--from today: range is not today 00:00 UTC"; }
grep -q 'ok 0,' "$T/rel.err" || br_die "records of 2025 counted with --from today"
"$BURNRATE" replay --config "$CONF" --from -7d --to now+1h --output /dev/null 2>"$T/rel.err" ||
    { cat "$T/rel.err" >&2; br_die "--from -7d --to now+1h failed"; }
grep -q 'range \[' "$T/rel.err" || br_die "no range for --from -7d"
# Absolute and relative mix: 2025-03-03 up to yesterday holds the spike.
"$BURNRATE" replay --config "$CONF" --from 2025-03-02 --to yesterday --output "$T/mix.jsonl" \
    2>/dev/null || br_die "--from 2025-03-02 --to yesterday failed"
grep -q '"type":"cost_spike"' "$T/mix.jsonl" || br_die "no spike between 2025-03-02 and yesterday"

echo "it_cli: OK"
