#!/usr/bin/env bash
# A clone is all it needs: no tracked file may name the directory beside the
# checkout where this project's data once lay, and every data file that the
# demo, the example config and the tests read is in the repository with its
# source written down.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$ROOT"
fail=0
die() { echo "it_standalone: $*" >&2; fail=1; }

# The pattern is built so that this file does not match itself.
outside='\.\./'"shared"
if [[ -e .git ]] && command -v git >/dev/null; then
    hits=$(git grep -nE "$outside" -- . || true)
else
    hits=$(grep -rnE --exclude-dir=build --exclude-dir=.git "$outside" . || true)
fi
[[ -z $hits ]] || die "tracked files read a directory outside the repository:
$hits"

for f in scripts/data/litellm_model_prices.json scripts/data/focus_sample.csv; do
    [[ -s $f ]] || die "$f is missing"
    grep -q "$(basename "$f")" scripts/data/SOURCES.md || die "$f has no source in scripts/data/SOURCES.md"
done
grep -q 'MIT' scripts/data/SOURCES.md || die "SOURCES.md does not state the price table's licence"
grep -q 'CC BY 4.0' scripts/data/SOURCES.md || die "SOURCES.md does not state the FOCUS sample's licence"

# Every prices.file in a shipped config resolves inside the repository.
for conf in scripts/demo.yaml scripts/burnrate.example.yaml; do
    rel=$(sed -n 's/^  file: *\([^ #]*\).*/\1/p' "$conf" | head -n 1)
    [[ -n $rel ]] || { die "$conf has no prices.file"; continue; }
    path=$(cd "$(dirname "$conf")" && realpath -m "$rel")
    [[ $path == "$ROOT"/* ]] || die "$conf: prices.file $rel lies outside the repository"
    [[ -f $path ]] || die "$conf: prices.file $rel does not exist"
done
((fail == 0)) && echo "it_standalone: ok"
exit "$fail"
