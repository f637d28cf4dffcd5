#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Names of code that lives microseconds, read while the process runs on: Perl closures made
# and freed at each call (tests/workloads/plchurn.pl) and Python functions compiled by exec()
# in a loop (tests/workloads/pyshapes.py execloop). Each round profiles one run at 999 Hz
# and sorts the frames of that code: named right, named wrong (another object's name or
# file, or bytes that are no name), or unnamed ("[perl sub 0x...]", "[python code 0x...]");
# a run whose profile was not written counts as failed. Compare builds: BUILD=old-build ...
# Usage: [ROUNDS=10] [BUILD=build] bench/runtime/churn_names.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$BUILD/flamed
SECS=${1:-3}
ROUNDS=${ROUNDS:-10}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# counts RUNTIME FILE: "right wrong unnamed" frames of the churned code in a folded FILE.
counts() {
	LC_ALL=C awk -v rt="$1" '{
		n = $NF
		k = split(substr($0, 1, length($0) - length(n) - 1), f, ";")
		for (i = 1; i <= k; i++) {
			if (f[i] ~ /^\[(perl sub|python code) 0x/) {
				unnamed += n
				continue
			}
			if (rt == "perl" && f[i] ~ /__ANON__/)
				if (f[i] == "main::__ANON__ (plchurn.pl)_[l]")
					right += n
				else
					wrong += n
			if (rt == "python" && f[i] ~ /_\[p\]$/ && f[i] ~ /gen[0-9][0-9]/)
				if ((f[i] ~ /^gen[0-9][0-9] \(gen[0-9][0-9]\.py\)_\[p\]$/ &&
				     substr(f[i], 4, 2) == substr(f[i], 11, 2)) ||
				    f[i] ~ /^<module> \(gen[0-9][0-9]\.py\)_\[p\]$/)
					right += n
				else
					wrong += n
		}
	}
	END { printf "%d %d %d\n", right, wrong, unnamed }' "$2"
}

printf "%-7s %-5s %7s %7s %8s\n" runtime round right wrong unnamed
for rt in perl python; do
	failed=0 bad_runs=0 wrong_all=0 right_all=0 unnamed_all=0
	for round in $(seq "$ROUNDS"); do
		case $rt in
		perl) cmd=(perl tests/workloads/plchurn.pl "$SECS") ;;
		python) cmd=(python3 tests/workloads/pyshapes.py execloop "$SECS") ;;
		esac
		rm -f "$T/out.folded"
		if ! "$FLAMED" -F 999 -o "$T/out.folded" -- "${cmd[@]}" 2>"$T/err" ||
			[ ! -s "$T/out.folded" ]; then
			failed=$((failed + 1))
			printf "%-7s %-5s failed: %s\n" "$rt" "$round" "$(tail -c 200 "$T/err" | tail -1)"
			continue
		fi
		read -r right wrong unnamed < <(counts "$rt" "$T/out.folded")
		printf "%-7s %-5s %7d %7d %8d\n" "$rt" "$round" "$right" "$wrong" "$unnamed"
		right_all=$((right_all + right))
		wrong_all=$((wrong_all + wrong))
		unnamed_all=$((unnamed_all + unnamed))
		[ "$wrong" = 0 ] || bad_runs=$((bad_runs + 1))
	done
	echo "$rt: $ROUNDS runs, $failed without a profile, $bad_runs with a wrong name;" \
		"frames right $right_all, wrong $wrong_all, unnamed $unnamed_all"
done
