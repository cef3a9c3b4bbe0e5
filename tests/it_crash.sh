#!/usr/bin/env bash
# The crash test (scripts/crashtest) in its short form for ctest: 30 SIGKILLs
# of burnrate run under a streaming workload, then the final state and the
# alerts must equal a crash-free run's. CRASH_KILLS and CRASH_SEED override.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/crash/crashlib.sh
source "$HERE/crash/crashlib.sh"
args=(--kills "${CRASH_KILLS:-30}")
[[ -n ${CRASH_SEED:-} ]] && args+=(--seed "$CRASH_SEED")
crash_main "${args[@]}"
