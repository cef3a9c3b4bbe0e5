#!/bin/sh
# The TZif fixtures of tests/test_tz.c (see README.md here): compiles
# tzdata.zi into zoneinfo/ with zic. Given a tz database in zic input form
# (the host's is /usr/share/zoneinfo/tzdata.zi), first takes from it the
# zones below and the rules they use into tzdata.zi. Commit both.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
zones="Europe/Berlin America/New_York Asia/Kolkata Etc/UTC America/Sao_Paulo
America/Havana America/Santiago America/Nuuk Asia/Jerusalem Europe/Dublin
Australia/Lord_Howe Pacific/Apia"

if [ $# -gt 0 ]; then
    # Two passes over the source: the zones and the rules they name, then
    # the version line, those rules and those zones, in the source's order.
    awk -v zones="$zones" '
        BEGIN { n = split(zones, z, /[ \n]+/); for (i = 1; i <= n; i++) want[z[i]] = 1 }
        FNR == 1 { pass++ }
        pass == 1 && /^Z / { inzone = ($2 in want) ; if (inzone) { seen[$2] = 1; rule($4) } next }
        pass == 1 && /^[RL#]/ { inzone = 0; next }
        pass == 1 && inzone { rule($2); next }
        pass == 2 && /^# version / { print; print "# The zones tests/test_tz.c reads and their rules, taken from the tz"; print "# database (public domain) by tests/tz/build.sh; zic input form." }
        pass == 2 && /^R / && ($2 in rules) { print; next }
        pass == 2 && /^Z / { keep = ($2 in want); if (keep) print; next }
        pass == 2 && /^[RL#]/ { keep = 0; next }
        pass == 2 && keep { print }
        function rule(r) { if (r != "-" && r !~ /^-?[0-9]/) rules[r] = 1 }
        END { for (k in want) if (!(k in seen)) { print "no zone " k > "/dev/stderr"; exit 1 } }
    ' "$1" "$1" > "$here/tzdata.zi.new"
    mv "$here/tzdata.zi.new" "$here/tzdata.zi"
fi

# fat: every transition through 2037 written out, as Debian's own files.
rm -rf "$here/zoneinfo"
zic -b fat -d "$here/zoneinfo" "$here/tzdata.zi"
