#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The suite guards itself (issue 22): patterns that let a check pass without testing anything.
# Prints each hit as FILE:LINE: why; exits 1 if any. Run by `make lint`.
#
# - `|| true`: a failing command made a success; a check built on it cannot fail.
# - need_tool without a NAME and a TOOL: `need_tool curl` checks no tool and always succeeds.
# - a versioned interpreter path (/usr/bin/python3.11): the test then depends on one Debian
#   release and skips, or copies nothing, elsewhere; find it from /usr/bin/python3.
# - `check NAME true` / `check NAME :`: a check of nothing; `[ -n "$x" ] && check ...`: checks
#   that vanish, uncounted, when the condition is false.
# - an if around checks with no else: `if wait_dropped ...; then check ...; fi` lost its checks
#   when the condition failed. An `if` whose body holds a check needs an else (a fail, a skip)
#   unless its line says why not ("# no else: ...").
# - a fixed sleep outside a polling loop must say why on its line or the line before: a verdict
#   waits for its condition (wait_for, wait_until), never for a guessed delay.
set -u
cd "$(dirname "$0")/.."
bad=0
hit() {
	echo "$1: $2"
	bad=1
}
files=(tests/e2e/*.sh tests/system/*.sh)
while IFS= read -r l; do
	hit "${l%%:*}:$(cut -d: -f2 <<<"$l")" "'|| true' hides a failure"
done < <(grep -nE '\|\|[[:space:]]*true\b' "${files[@]}")
while IFS= read -r l; do
	hit "${l%%:*}:$(cut -d: -f2 <<<"$l")" "need_tool takes a NAME and at least one TOOL"
done < <(grep -nE '(^|[;&|(![:space:]])need_tool([[:space:]]+("[^"]*"|[^[:space:];&|)]+))?[[:space:]]*($|[;&|)])' \
	"${files[@]}" | grep -v 'need_tool()')
while IFS= read -r l; do
	hit "${l%%:*}:$(cut -d: -f2 <<<"$l")" "a versioned interpreter path; resolve /usr/bin/python3"
done < <(grep -nE '/usr/bin/python3\.[0-9]+' "${files[@]}")
while IFS= read -r l; do
	hit "${l%%:*}:$(cut -d: -f2 <<<"$l")" "checks behind a condition with no skip when it is false"
done < <(grep -nE '^[[:space:]]*(\[\[?|test)[[:space:]].*&&[[:space:]]*(check|run_[a-z_]+)\b' "${files[@]}")
while IFS= read -r l; do
	hit "${l%%:*}:$(cut -d: -f2 <<<"$l")" "a check of nothing"
done < <(grep -nE '^[[:space:]]*check[[:space:]]+("[^"]*"|[^[:space:]]+)[[:space:]]+(true|:)[[:space:]]*$' \
	"${files[@]}")
# The two awk rules read each file as a whole: nesting of if/else/fi, and the line after a sleep.
for f in "${files[@]}"; do
	awk -v f="$f" '
	/^[[:space:]]*#/ { prev_comment = 1; next }
	{
		line = $0
		sub(/[[:space:]]+#.*$/, "", line)
		# if ... then (a line that opens an if block); elif/else/fi close or switch it.
		if (line ~ /^[[:space:]]*if[[:space:]].*;[[:space:]]*then[[:space:]]*$/) {
			d++; opened[d] = NR; hasck[d] = 0; haselse[d] = 0
			# need_root/need_tool report the skip themselves (a failure under CI=true).
			why[d] = ($0 ~ /# no else:/ || line ~ /^[[:space:]]*if[[:space:]]+!?[[:space:]]*need_(root|tool)[[:space:]]/)
		} else if (d > 0 && line ~ /^[[:space:]]*(else|elif[[:space:]].*)/) {
			haselse[d] = 1
		} else if (d > 0 && line ~ /^[[:space:]]*fi[[:space:]]*$/) {
			if (hasck[d] && !haselse[d] && !why[d])
				printf "%s:%d: checks inside an if with no else vanish when it fails\n", f, opened[d]
			d--
		} else if (d > 0 && line ~ /^[[:space:]]*check[[:space:]]/) {
			hasck[d] = 1
		}
		if (pending) {
			if (line !~ /^[[:space:]]*done([[:space:];)|&>]|$)/)
				printf "%s:%d: a fixed sleep: say why (a comment), or wait for the condition\n", f, pending
			pending = 0
		}
		if (line ~ /^[[:space:]]*sleep[[:space:]]+[0-9."$][^&]*$/ && !prev_comment && $0 !~ /#/)
			pending = NR
		prev_comment = 0
	}' "$f"
done | while IFS= read -r l; do echo "$l"; done >"${TMPDIR:-/tmp}/lint_tests.$$"
if [ -s "${TMPDIR:-/tmp}/lint_tests.$$" ]; then
	cat "${TMPDIR:-/tmp}/lint_tests.$$"
	bad=1
fi
rm -f "${TMPDIR:-/tmp}/lint_tests.$$"
exit $bad
